//! How a chain numbers its revisions: `0145` (sequential, 4 digits), `031`
//! (3 digits), Alembic's 12-hex ids, or a mix of both (seed 004's
//! `030 → 031` beside `e09c9e678004`).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum Scheme {
    Sequential { width: usize },
    Hash,
    Mixed { width: usize },
    Named,
}

impl Scheme {
    pub fn detect<'a>(ids: impl Iterator<Item = &'a str>) -> Scheme {
        Self::classify(ids.map(|id| (sequence_number(id), is_hash(id))))
    }

    /// sqitch changes: the `NN` of the seeds' `NN-slug` names.
    pub fn detect_sqitch<'a>(names: impl Iterator<Item = &'a str>) -> Scheme {
        Self::classify(names.map(|n| (sqitch_prefix(n).map(|p| p.len()), false)))
    }

    fn classify(items: impl Iterator<Item = (Option<usize>, bool)>) -> Scheme {
        let (mut total, mut hashes) = (0, 0);
        let mut widths: BTreeMap<usize, usize> = BTreeMap::new();
        for (width, hash) in items {
            total += 1;
            match width {
                Some(w) => *widths.entry(w).or_default() += 1,
                None if hash => hashes += 1,
                None => {}
            }
        }
        let numbered: usize = widths.values().sum();
        // The most common width; ties go to the wider.
        let width = widths.iter().max_by_key(|(w, n)| (**n, **w)).map(|(w, _)| *w);
        match width {
            Some(width) if numbered == total => Scheme::Sequential { width },
            Some(width) if numbered + hashes == total => Scheme::Mixed { width },
            None if total > 0 && hashes == total => Scheme::Hash,
            _ => Scheme::Named,
        }
    }

    pub fn width(self) -> Option<usize> {
        match self {
            Scheme::Sequential { width } | Scheme::Mixed { width } => Some(width),
            _ => None,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scheme::Sequential { width } => write!(f, "sequential, {width} digits"),
            Scheme::Mixed { width } => write!(f, "mixed: sequential ({width} digits) and hash ids"),
            Scheme::Hash => write!(f, "hash ids"),
            Scheme::Named => write!(f, "named"),
        }
    }
}

/// The width of an all-digit id.
fn sequence_number(id: &str) -> Option<usize> {
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then_some(id.len())
}

/// Alembic's generated ids: 12 lower-case hex digits (older versions and
/// hand-made ones vary in length, so accept 8 to 40).
fn is_hash(id: &str) -> bool {
    (8..=40).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The leading digits of a sqitch change name followed by `-` or `_`.
pub(crate) fn sqitch_prefix(name: &str) -> Option<&str> {
    let digits = name.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && matches!(name.as_bytes().get(digits), Some(b'-' | b'_'))).then(|| &name[..digits])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_hashes_and_mixes() {
        assert_eq!(Scheme::detect(["0144", "0145", "0146"].into_iter()), Scheme::Sequential { width: 4 });
        assert_eq!(Scheme::detect(["030", "031"].into_iter()), Scheme::Sequential { width: 3 });
        assert_eq!(Scheme::detect(["005", "e09c9e678004", "007"].into_iter()), Scheme::Mixed { width: 3 });
        assert_eq!(Scheme::detect(["1a2b3c4d5e6f", "0f9e8d7c6b5a"].into_iter()), Scheme::Hash);
        assert_eq!(Scheme::detect(["v1.0.0.a", "v1.1.0.b"].into_iter()), Scheme::Named);
        assert_eq!(
            Scheme::detect_sqitch(["01-init", "02-users", "07-billing"].into_iter()),
            Scheme::Sequential { width: 2 }
        );
        assert_eq!(Scheme::detect_sqitch(["users", "appschema"].into_iter()), Scheme::Named);
    }
}
