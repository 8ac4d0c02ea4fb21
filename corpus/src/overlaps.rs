//! medkit's `filter_overlapping_entities` (medkit.text.postprocessing.overlapping).

use medkit_sdk::data::{Annotation, AnySpan, Segment, TextDocument};
use std::collections::{BTreeMap, HashSet};

pub use medkit_sdk::spans::normalize_spans;

/// `(start, end)` of the whole entity, from its normalized spans; None when it covers nothing.
pub fn extent(spans: &[AnySpan]) -> Option<(u64, u64)> {
    let n = normalize_spans(spans);
    Some((n.first()?.start, n.last()?.end))
}

/// Keeps the longest of overlapping entities, as medkit does; returns how many were dropped.
///
/// medkit sorts by (extent length, start) descending (stable), keeps an entity when neither its
/// start nor its end is a character already taken, then sorts the kept ones by start. Since `end`
/// is exclusive, an entity that merely touches a longer one (end == other's start) is dropped too.
/// Kept entities come first, then the other annotations in their order; relations that pointed to a
/// dropped entity are removed with it.
pub fn filter_overlapping_entities(doc: &mut TextDocument) -> usize {
    let mut entities: Vec<(u64, u64, Segment)> = Vec::new();
    let mut others = Vec::new();
    for a in std::mem::take(&mut doc.anns) {
        match a {
            Annotation::Entity(e) => {
                // medkit would fail on an entity without spans; such an entity is simply dropped
                let (s, t) = extent(&e.spans).unwrap_or((u64::MAX, u64::MAX));
                entities.push((s, t, e));
            }
            other => others.push(other),
        }
    }
    let before = entities.len();
    let mut order: Vec<usize> = (0..entities.len()).collect();
    // reverse=True in Python keeps equal keys in their original order: sort descending, stable
    order.sort_by(|&a, &b| {
        let ka = (entities[a].1.wrapping_sub(entities[a].0), entities[a].0);
        let kb = (entities[b].1.wrapping_sub(entities[b].0), entities[b].0);
        kb.cmp(&ka)
    });
    // taken character ranges, start -> end; kept entities never overlap (a later, shorter one
    // would need its start or end inside an earlier one), so the range before `c` decides
    let mut seen: BTreeMap<u64, u64> = BTreeMap::new();
    let taken = |seen: &BTreeMap<u64, u64>, c: u64| {
        seen.range(..=c).next_back().is_some_and(|(_, &t)| c < t)
    };
    let mut keep = vec![false; entities.len()];
    for i in order {
        let (s, t, _) = &entities[i];
        if *s == u64::MAX {
            continue;
        }
        if !taken(&seen, *s) && !taken(&seen, *t) {
            if s < t {
                seen.insert(*s, *t);
            }
            keep[i] = true;
        }
    }
    let mut kept: Vec<(u64, Segment)> = Vec::new();
    let mut dropped_uids = HashSet::new();
    for (i, (s, _, e)) in entities.into_iter().enumerate() {
        if keep[i] {
            kept.push((s, e));
        } else {
            dropped_uids.insert(e.uid.to_string());
        }
    }
    // medkit sorts by spans[0].start (stable); the normalized start is the same for plain spans
    kept.sort_by_key(|(s, _)| *s);
    let mut anns: Vec<Annotation> = kept
        .into_iter()
        .map(|(_, e)| Annotation::Entity(e))
        .collect();
    anns.extend(others.into_iter().filter(|a| match a {
        Annotation::Relation(r) => {
            !dropped_uids.contains(r.source_id.as_str())
                && !dropped_uids.contains(r.target_id.as_str())
        }
        _ => true,
    }));
    doc.anns = anns.into();
    before - keep.iter().filter(|k| **k).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use medkit_sdk::data::{Relation, Span};

    fn ent(uid: &str, s: u64, e: u64) -> Annotation {
        Annotation::Entity(Segment {
            uid: uid.into(),
            label: "X".into(),
            spans: vec![AnySpan::Span(Span::new(s, e))].into(),
            text: "x".repeat((e - s) as usize).into(),
            attrs: Default::default(),
            metadata: "{}".into(),
        })
    }

    #[test]
    fn keeps_longest_and_drops_touching() {
        let rel = Annotation::Relation(Relation {
            uid: "r".into(),
            label: "R".into(),
            source_id: "b".into(),
            target_id: "c".into(),
            attrs: Default::default(),
            metadata: "{}".into(),
        });
        let mut doc = TextDocument {
            uid: "d".into(),
            text: "x".repeat(40).into(),
            metadata: "{}".into(),
            // a: 10..20 longest; b inside a; c ends where a starts (touching, dropped like medkit);
            // d after a; e same length as d, later start wins the tie
            anns: vec![
                rel,
                ent("b", 12, 15),
                ent("c", 5, 10),
                ent("a", 10, 20),
                ent("d", 25, 28),
                ent("e", 30, 33),
            ]
            .into(),
            attrs: Default::default(),
        };
        assert_eq!(filter_overlapping_entities(&mut doc), 2);
        let kept: Vec<&str> = doc.entities().map(|e| e.uid.as_str()).collect();
        assert_eq!(kept, ["a", "d", "e"]);
        assert_eq!(doc.anns.len(), 3, "relation to dropped entities removed");
    }

    #[test]
    fn normalizes_like_medkit() {
        let spans = [
            AnySpan::Span(Span::new(20, 30)),
            AnySpan::Span(Span::new(0, 10)),
            AnySpan::Modified(medkit_sdk::data::ModifiedSpan {
                length: 8,
                replaced_spans: vec![Span::new(30, 36)].into(),
            }),
        ];
        assert_eq!(
            normalize_spans(&spans),
            vec![Span::new(0, 10), Span::new(20, 36)]
        );
    }
}
