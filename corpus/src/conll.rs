//! CoNLL / IOB2 (`token<TAB>tag` per line, a blank line between sentences): one document per
//! sentence, its text the tokens joined by single spaces, its entities from the tags.

use super::{new_uid, pyjson, CorpusError, InvalidAnnotations, OnError};
use medkit_sdk::data::{Annotation, AnySpan, Segment, Span, TextDocument};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Reads every sentence of `path`. Columns may be separated by tabs or spaces; the token is the
/// first column and the tag the last. `-DOCSTART-` lines are skipped. An `I-X` that does not
/// continue an `X` entity starts one (as conlleval does). A line without a tag or with a tag that
/// is not IOB2 is an error naming file:line.
pub fn read(path: &Path) -> Result<Vec<TextDocument>, CorpusError> {
    read_with(path, &InvalidAnnotations::default())
}

/// As [`read`], malformed tag lines handed to `invalid`: an error, or skipped with a warning and
/// a count (the token is kept, tagged `O`; a line without a token is dropped). Bad UTF-8 stays an
/// error.
pub fn read_with(
    path: &Path,
    invalid: &InvalidAnnotations,
) -> Result<Vec<TextDocument>, CorpusError> {
    let file = std::fs::File::open(path).map_err(|e| CorpusError::io(path, e))?;
    let mut docs = Vec::new();
    let mut sent: Vec<(String, String, usize)> = Vec::new();
    let mut buf = Vec::new();
    let mut reader = BufReader::new(file);
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| CorpusError::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = std::str::from_utf8(&buf)
            .map_err(|e| {
                CorpusError::line(
                    path,
                    line_no,
                    format!("invalid UTF-8 at byte {}", e.valid_up_to()),
                )
            })?
            .trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            if !sent.is_empty() {
                docs.push(sentence_doc(path, &std::mem::take(&mut sent))?);
            }
            continue;
        }
        let cols: Vec<&str> = if line.contains('\t') {
            line.split('\t').collect()
        } else {
            line.split_whitespace().collect()
        };
        if cols[0].starts_with("-DOCSTART-") {
            continue;
        }
        let (Some(tok), Some(tag)) = (cols.first(), cols.last()) else {
            continue;
        };
        let tag = tag.trim();
        let why = if cols.len() < 2 || tok.is_empty() {
            Some(format!("expected token<TAB>tag, got {line:?}"))
        } else if !(tag == "O" || tag.starts_with("B-") || tag.starts_with("I-")) || tag.len() == 2
        {
            Some(format!("{tag:?} is not an IOB2 tag (O, B-X, I-X)"))
        } else {
            None
        };
        let Some(why) = why else {
            sent.push((tok.to_string(), tag.to_string(), line_no));
            continue;
        };
        let what = match (invalid.policy(), tok.is_empty()) {
            (OnError::Error, _) => why,
            (OnError::Skip, true) => format!("{why} (line dropped)"),
            (OnError::Skip, false) => format!("{why} (token {tok:?} read as O)"),
        };
        invalid.handle_error(CorpusError::line(path, line_no, what))?;
        if !tok.is_empty() {
            sent.push((tok.to_string(), "O".to_string(), line_no));
        }
    }
    if !sent.is_empty() {
        docs.push(sentence_doc(path, &sent)?);
    }
    Ok(docs)
}

fn sentence_doc(
    path: &Path,
    toks: &[(String, String, usize)],
) -> Result<TextDocument, CorpusError> {
    let mut text = String::new();
    let mut spans = Vec::with_capacity(toks.len());
    let mut pos = 0u64;
    for (i, (tok, _, _)) in toks.iter().enumerate() {
        if i > 0 {
            text.push(' ');
            pos += 1;
        }
        let len = tok.chars().count() as u64;
        spans.push((pos, pos + len));
        text.push_str(tok);
        pos += len;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut anns = Vec::new();
    let mut cur: Option<(String, u64, u64)> = None;
    let close = |cur: &mut Option<(String, u64, u64)>, anns: &mut Vec<Annotation>| {
        if let Some((label, s, e)) = cur.take() {
            anns.push(Annotation::Entity(Segment {
                uid: new_uid().into(),
                label: label.into(),
                spans: vec![AnySpan::Span(Span::new(s, e))].into(),
                text: chars[s as usize..e as usize]
                    .iter()
                    .collect::<String>()
                    .into(),
                attrs: Default::default(),
                metadata: "{}".into(),
            }));
        }
    };
    for ((_, tag, _), (s, e)) in toks.iter().zip(spans) {
        if tag == "O" {
            close(&mut cur, &mut anns);
            continue;
        }
        let (prefix, label) = tag.split_at(2);
        match &mut cur {
            Some((l, _, end)) if prefix == "I-" && l == label => *end = e,
            _ => {
                close(&mut cur, &mut anns);
                cur = Some((label.to_string(), s, e));
            }
        }
    }
    close(&mut cur, &mut anns);
    let metadata = json!({"path_to_conll": path.display().to_string(), "line": toks[0].2});
    Ok(TextDocument {
        uid: new_uid().into(),
        text: text.into(),
        metadata: pyjson::to_string(&metadata).into(),
        anns: anns.into(),
        attrs: Default::default(),
    })
}
