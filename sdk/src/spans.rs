//! medkit's `span_utils.extract` and `normalize_spans`, so that an annotation found in a segment's
//! text gets the spans medkit would give it (ModifiedSpans kept, cut to the extracted length):
//! document offsets, whatever segment it was found in.

use crate::data::{AnySpan, ModifiedSpan, Span};

/// The first `n` characters of `span`.
fn head(span: &AnySpan, n: u64) -> AnySpan {
    match span {
        AnySpan::Span(s) => AnySpan::Span(Span::new(s.start, s.start + n)),
        AnySpan::Modified(m) => AnySpan::Modified(ModifiedSpan {
            length: n,
            replaced_spans: m.replaced_spans.clone(),
        }),
    }
}

/// The last `n` characters of `span`.
fn tail(span: &AnySpan, n: u64) -> AnySpan {
    match span {
        AnySpan::Span(s) => AnySpan::Span(Span::new(s.end - n, s.end)),
        AnySpan::Modified(m) => AnySpan::Modified(ModifiedSpan {
            length: n,
            replaced_spans: m.replaced_spans.clone(),
        }),
    }
}

/// medkit's `_remove_in_spans` (`_replace_in_spans` with zero replacement lengths).
fn remove_in_spans(spans: &[AnySpan], ranges: &[(u64, u64)]) -> Vec<AnySpan> {
    let mut out = Vec::new();
    if spans.is_empty() {
        return out;
    }
    let mut span_index = 0;
    let mut span = spans[0].clone();
    let (mut span_start, mut span_end) = (0u64, spans[0].length());
    let mut range_index = 0;
    let (mut range_start, mut range_end) = ranges.first().copied().unwrap_or((0, 0));
    while span_index < spans.len() || range_index < ranges.len() {
        if range_index < ranges.len() && range_end <= span_start {
            range_index += 1;
            if let Some(&(s, e)) = ranges.get(range_index) {
                (range_start, range_end) = (s, e);
            }
        }
        if span_end == span_start || range_index == ranges.len() || span_end <= range_start {
            if span_end != span_start {
                out.push(span.clone());
            }
            span_index += 1;
            span_start = span_end;
            if let Some(next) = spans.get(span_index) {
                span = next.clone();
                span_end = span_start + next.length();
            }
            continue;
        }
        let before = range_start.saturating_sub(span_start);
        let after = span_end.saturating_sub(range_end);
        if before > 0 {
            out.push(head(&span, before));
        }
        if after > 0 {
            span = tail(&span, after);
        }
        span_start = span_end - after;
    }
    out
}

/// medkit's `span_utils.extract`: the text of `ranges` (segment character offsets, sorted) and
/// the spans (document coordinates) they map to. As medkit asserts, the spans must cover exactly
/// the text's characters and the ranges must be sorted and inside the text; otherwise an error.
pub fn extract(
    text: &str,
    spans: &[AnySpan],
    ranges: &[(u64, u64)],
) -> Result<(String, Vec<AnySpan>), String> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len() as u64;
    let total = spans
        .iter()
        .try_fold(0u64, |t, s| t.checked_add(s.length()))
        .ok_or("the spans' lengths overflow")?;
    if total != n {
        return Err(format!(
            "the text has {n} characters but its spans cover {total}"
        ));
    }
    let mut prev_end = 0;
    for &(s, e) in ranges {
        if s > e || e > n || s < prev_end {
            return Err(format!(
                "range {s}-{e} is reversed, outside the {n} characters of the text or before the \
                 previous range"
            ));
        }
        prev_end = e;
    }
    if ranges.is_empty() {
        return Ok((String::new(), Vec::new()));
    }
    let piece: String = ranges
        .iter()
        .flat_map(|&(s, e)| chars[s as usize..e as usize].iter())
        .collect();
    let mut to_remove = vec![(0, ranges[0].0)];
    to_remove.extend(ranges.windows(2).map(|w| (w[0].1, w[1].0)));
    to_remove.push((ranges[ranges.len() - 1].1, total));
    Ok((piece, remove_in_spans(spans, &to_remove)))
}

/// medkit's `normalize_spans`: ModifiedSpans replaced by the spans they refer to, sorted,
/// contiguous spans merged.
pub fn normalize_spans(spans: &[AnySpan]) -> Vec<Span> {
    let mut all: Vec<Span> = spans.iter().flat_map(|s| s.original_spans()).collect();
    all.sort_by_key(|s| s.start);
    let mut merged: Vec<Span> = Vec::with_capacity(all.len());
    for s in all {
        match merged.last_mut() {
            Some(prev) if prev.end == s.start => prev.end = s.end,
            _ => merged.push(s),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(s: u64, e: u64) -> AnySpan {
        AnySpan::Span(Span::new(s, e))
    }

    #[test]
    fn extract_through_offset_and_gaps() {
        // Segment text "abcXYZ" made of doc [10,13) and [20,23).
        let spans = vec![sp(10, 13), sp(20, 23)];
        let (t, s) = extract("abcXYZ", &spans, &[(1, 5)]).unwrap();
        assert_eq!(t, "bcXY");
        assert_eq!(s, vec![sp(11, 13), sp(20, 22)]);
        let (t, s) = extract("abcXYZ", &spans, &[(0, 2)]).unwrap();
        assert_eq!((t.as_str(), s), ("ab", vec![sp(10, 12)]));
    }

    #[test]
    fn extract_in_modified_span_keeps_replaced_spans() {
        let m = AnySpan::Modified(ModifiedSpan {
            length: 4,
            replaced_spans: vec![Span::new(5, 7)].into(),
        });
        let spans = vec![sp(0, 2), m];
        let (t, s) = extract("abWXYZ", &spans, &[(1, 4)]).unwrap();
        assert_eq!(t, "bWX");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0], sp(1, 2));
        assert!(matches!(&s[1], AnySpan::Modified(m) if m.length == 2));
        assert_eq!(normalize_spans(&s), vec![Span::new(1, 2), Span::new(5, 7)]);
    }

    #[test]
    fn inconsistent_spans_or_ranges_are_errors() {
        // text longer than its spans (medkit asserts; the removal loop would not end)
        let e = extract("abcdefgh", &[sp(0, 5)], &[(6, 8)]).unwrap_err();
        assert!(e.contains("8 characters but its spans cover 5"), "{e}");
        let huge = AnySpan::Modified(ModifiedSpan {
            length: u64::MAX,
            replaced_spans: vec![].into(),
        });
        assert!(extract("ab", &[huge.clone(), huge], &[(0, 1)]).is_err());
        for r in [(2, 1), (0, 9)] {
            assert!(extract("abc", &[sp(0, 3)], &[r]).is_err(), "{r:?}");
        }
        assert!(extract("abc", &[sp(0, 3)], &[(1, 2), (0, 1)]).is_err());
        assert_eq!(
            extract("abc", &[sp(0, 3)], &[]).unwrap(),
            (String::new(), vec![])
        );
    }

    #[test]
    fn normalize_merges_contiguous() {
        assert_eq!(
            normalize_spans(&[sp(3, 5), sp(0, 3), sp(7, 8)]),
            vec![Span::new(0, 5), Span::new(7, 8)]
        );
    }
}
