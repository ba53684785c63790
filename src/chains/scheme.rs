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
    /// Alembic ids, newest first. The scheme is what most ids follow, or
    /// what the newest ten clearly follow (a chain that changed its habit):
    /// a few hand-named ids do not make a hash chain "named", and an
    /// all-digit id of hash length among hashes is a hash.
    pub fn detect(ids: &[&str]) -> Scheme {
        let kinds: Vec<IdKind> = ids.iter().map(|id| IdKind::of(id)).collect();
        let hex_with_letters = kinds.contains(&IdKind::Hash);
        // Long all-digit ids are hashes where real hashes exist, numbers
        // (timestamps, say) where none do.
        let fold = |k: IdKind| match k {
            IdKind::LongNumber(_) if hex_with_letters => IdKind::Hash,
            IdKind::LongNumber(w) => IdKind::Number(w),
            other => other,
        };
        let kinds: Vec<IdKind> = kinds.into_iter().map(fold).collect();
        let tally = |ks: &[IdKind]| {
            let mut n = [0usize; 3];
            for k in ks {
                n[k.group()] += 1;
            }
            n
        };
        let all = tally(&kinds);
        let newest = &kinds[..kinds.len().min(10)];
        let recent = tally(newest);
        let winner = |n: [usize; 3]| {
            (0..3)
                .max_by_key(|&g| (n[g], std::cmp::Reverse(g)))
                .expect("three groups")
        };
        let group = match (0..3).find(|&g| newest.len() >= 5 && recent[g] * 10 >= newest.len() * 7)
        {
            Some(g) => g,
            None if kinds.is_empty() => return Scheme::Named,
            None => winner(all),
        };
        match group {
            0 => {
                let widths = kinds.iter().filter_map(|k| match k {
                    IdKind::Number(w) => Some(*w),
                    _ => None,
                });
                let width = super::most_common(widths).unwrap_or(4);
                if all[1] > 0 {
                    Scheme::Mixed { width }
                } else {
                    Scheme::Sequential { width }
                }
            }
            1 => Scheme::Hash,
            _ => Scheme::Named,
        }
    }

    /// Names led by a number: the `NN` of `NN-slug`.
    pub fn detect_prefixed<'a>(names: impl Iterator<Item = &'a str>) -> Scheme {
        Self::classify(names.map(|n| (number_prefix(n).map(|p| p.len()), false)))
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
        let width = widths
            .iter()
            .max_by_key(|(w, n)| (**n, **w))
            .map(|(w, _)| *w);
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdKind {
    Number(usize),
    /// All digits, but as long as a hash (8 or more).
    LongNumber(usize),
    Hash,
    Named,
}

impl IdKind {
    fn of(id: &str) -> IdKind {
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            if id.len() >= 8 {
                IdKind::LongNumber(id.len())
            } else {
                IdKind::Number(id.len())
            }
        } else if is_hash(id) {
            IdKind::Hash
        } else {
            IdKind::Named
        }
    }

    fn group(self) -> usize {
        match self {
            IdKind::Number(_) | IdKind::LongNumber(_) => 0,
            IdKind::Hash => 1,
            IdKind::Named => 2,
        }
    }
}

/// A number of the chain's own sequence: all digits, and not a hash-length
/// one unless the chain's numbers are that wide.
pub(crate) fn is_number_of(id: &str, width: usize) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && (id.len() < 8 || id.len() <= width)
}

/// Alembic's generated ids: 12 lower-case hex digits (older versions and
/// hand-made ones vary in length, so accept 8 to 40).
pub(crate) fn is_hash(id: &str) -> bool {
    (8..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The leading digits of a name, followed by `-` or `_`.
pub(crate) fn number_prefix(name: &str) -> Option<&str> {
    let digits = name.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && matches!(name.as_bytes().get(digits), Some(b'-' | b'_')))
        .then(|| &name[..digits])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(ids: &[&str]) -> Scheme {
        Scheme::detect(ids)
    }

    #[test]
    fn widths_hashes_and_mixes() {
        assert_eq!(
            d(&["0146", "0145", "0144"]),
            Scheme::Sequential { width: 4 }
        );
        assert_eq!(d(&["031", "030"]), Scheme::Sequential { width: 3 });
        assert_eq!(
            d(&["007", "e09c9e678004", "005"]),
            Scheme::Mixed { width: 3 }
        );
        assert_eq!(d(&["1a2b3c4d5e6f", "0f9e8d7c6b5a"]), Scheme::Hash);
        assert_eq!(d(&["v1.1.0.b", "v1.0.0.a"]), Scheme::Named);
        assert_eq!(
            Scheme::detect_prefixed(["01-init", "02-users", "07-billing"].into_iter()),
            Scheme::Sequential { width: 2 }
        );
        assert_eq!(
            Scheme::detect_prefixed(["users", "appschema"].into_iter()),
            Scheme::Named
        );
    }

    #[test]
    fn majority_not_all_or_nothing() {
        // Hand-named ids among hashes, and an all-digit hash.
        let mut ids = vec!["initial", "add_users_2", "121699507574"];
        ids.extend(std::iter::repeat_n("a1b2c3d4e5f6", 120));
        assert_eq!(d(&ids), Scheme::Hash);
        // Timestamps as ids, with no hash in sight, are numbers.
        assert_eq!(
            d(&["20240102030405", "20230102030405"]),
            Scheme::Sequential { width: 14 }
        );
        // The newest ten decide when they clearly agree.
        let mut switched = vec!["0012"; 10];
        switched.extend(std::iter::repeat_n("a1b2c3d4e5f6", 40));
        assert_eq!(d(&switched), Scheme::Mixed { width: 4 });
    }
}
