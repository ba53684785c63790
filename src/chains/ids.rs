//! Ids, numbers and file names for a repair: the next free number past
//! every claim, a fresh hash, a file renamed with only its id tokens changed.

use std::ffi::{OsStr, OsString};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::chains::scheme::is_number_of;
use crate::chains::{Chain, Revision, Scheme};
use crate::git::Claim;

/// Every number in use: the chain's own ids and every id claimed on
/// another branch. The next free one is above all of them, in the chain's
/// width. `None` for a chain that is not numbered.
pub(crate) fn next_free(chain: &Chain, claims: &[Claim]) -> Option<String> {
    let width = chain.scheme.width()?;
    let numbers = chain
        .revisions
        .iter()
        .map(|r| r.id.as_str())
        .chain(claims.iter().map(|c| c.id.as_str()));
    let max = numbers
        .filter(|id| is_number_of(id, width))
        .filter_map(|id| id.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    Some(format!("{:0width$}", max + 1))
}

/// The id a repair gives when none is named: the next number in a
/// numbered chain, else a fresh 12-hex id, as `alembic revision` makes.
pub(crate) fn default_id(chain: &Chain, claims: &[Claim]) -> String {
    match chain.scheme {
        Scheme::Sequential { .. } | Scheme::Mixed { .. } => {
            next_free(chain, claims).unwrap_or_else(|| fresh_hash(chain, claims))
        }
        Scheme::Hash | Scheme::Named => fresh_hash(chain, claims),
    }
}

/// The next running file number where the chain's names carry one beside
/// the id: above every file of the chain and every file claimed on a branch.
pub(crate) fn next_file_number(chain: &Chain, claims: &[Claim]) -> Option<u64> {
    chain.naming.seq_width()?;
    let ours = chain
        .revisions
        .iter()
        .filter_map(|r| crate::chains::files::file_number(r, chain));
    let theirs = claims.iter().filter_map(|c| {
        chain
            .naming
            .number(Path::new(&c.path).file_stem()?.to_str()?, &c.id)
    });
    Some(ours.chain(theirs).max().unwrap_or(0) + 1)
}

/// A revision file's name once its id is `new_id` (and its running number
/// `number`, where the naming has one): only those tokens change, the id
/// wherever the name carries it. `None` when the name carries neither.
pub(crate) fn renamed(
    chain: &Chain,
    rev: &Revision,
    new_id: &str,
    number: Option<u64>,
) -> Option<PathBuf> {
    let naming = &chain.naming;
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    if let Some(stem) = crate::chains::files::stem_of(rev) {
        let stem = stem.as_ref();
        let (rev_spans, seq_span) = match naming.locate(stem, &rev.id) {
            Some(s) => (s.revs, s.seq.map(|(r, _)| r)),
            // A name that already disagrees with its id (`0037_x.py`
            // declaring 0038): its id token is what the renumber corrects,
            // wherever the naming shows it.
            None => (
                match crate::chains::files::mismatched_token(rev, chain) {
                    Some(_) => naming.rev_spans(stem),
                    None => Vec::new(),
                },
                naming.token(stem).and_then(|(_, seq)| seq).map(|(r, _)| r),
            ),
        };
        for r in rev_spans {
            edits.push((r, new_id.to_string()));
        }
        if let (Some(r), Some(n)) = (seq_span, number) {
            let width = r.len();
            edits.push((r, format!("{n:0width$}")));
        }
    }
    retoken(chain, &rev.path, &rev.id, new_id, edits)
}

/// Another revision file's name once the id `old` that it carries as a
/// token (a merge named after its parents) reads `new`; `None` when it
/// carries none.
pub(crate) fn retokened(chain: &Chain, path: &Path, old: &str, new: &str) -> Option<PathBuf> {
    retoken(chain, path, old, new, Vec::new())
}

/// `path` with `edits` and every whole token `old` outside them replaced.
fn retoken(
    chain: &Chain,
    path: &Path,
    old: &str,
    new: &str,
    mut edits: Vec<(Range<usize>, String)>,
) -> Option<PathBuf> {
    let name = path.file_name()?;
    for r in crate::chains::files::id_tokens(&chain.naming, &name.to_string_lossy(), old) {
        if !edits
            .iter()
            .any(|(e, _)| e.start < r.end && r.start < e.end)
        {
            edits.push((r, new.to_string()));
        }
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let out = spliced(name, edits)?;
    (out != name).then(|| path.with_file_name(out))
}

/// A file name with byte ranges of its lossy text replaced, last first.
/// Those offsets are the name's own only up to its first byte that is not
/// UTF-8, so an edit past that gives `None` (the file keeps its name).
#[cfg(unix)]
fn spliced(name: &OsStr, edits: Vec<(Range<usize>, String)>) -> Option<OsString> {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let mut bytes = name.as_bytes().to_vec();
    let exact = std::str::from_utf8(&bytes).map_or_else(|e| e.valid_up_to(), str::len);
    for (r, text) in edits {
        if r.end > exact {
            return None;
        }
        bytes.splice(r, text.into_bytes());
    }
    Some(OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn spliced(name: &OsStr, edits: Vec<(Range<usize>, String)>) -> Option<OsString> {
    let mut out = name.to_str()?.to_string();
    for (r, text) in edits {
        out.replace_range(r, &text);
    }
    Some(out.into())
}

/// A fresh id like Alembic's own: 12 hex digits.
pub(crate) fn fresh_hash(chain: &Chain, claims: &[Claim]) -> String {
    use std::hash::{BuildHasher, Hasher};
    loop {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(chain.revisions.len());
        let id = format!("{:012x}", h.finish() & 0xffff_ffff_ffff);
        if taken_by(chain, claims, &id).is_none() {
            return id;
        }
    }
}

/// Who already uses `id`: a file of the chain or a branch's file.
pub(crate) fn taken_by(chain: &Chain, claims: &[Claim], id: &str) -> Option<String> {
    if let Some(r) = chain.revisions.iter().find(|r| r.id == id) {
        return Some(format!("{} declares it", r.path.display()));
    }
    claims
        .iter()
        .find(|c| c.id == id)
        .map(|c| format!("branch {} claims it in {}", c.branch, c.path))
}

/// A numeric id padded to the chain's width: `--to 193` in a 4-digit chain
/// is `0193`.
pub(crate) fn in_width(chain: &Chain, id: &str) -> String {
    match chain.scheme.width() {
        Some(w) if !id.is_empty() && id.len() < w && id.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{id:0>w$}")
        }
        _ => id.to_string(),
    }
}

/// A slug as Alembic makes one of a message: words joined by `_`, lower case, at most
/// 40 characters, cut at a word boundary.
pub(crate) fn slug(message: &str) -> String {
    let words: Vec<String> = message
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut s = words.join("_");
    if s.len() > 40 {
        let cut = s[..40].rfind('_').unwrap_or(40);
        s.truncate(cut);
        s.push('_');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs() {
        assert_eq!(
            slug("merge heads 0146 and 0148"),
            "merge_heads_0146_and_0148"
        );
        assert_eq!(slug("Tax §1256: tagger!"), "tax_1256_tagger");
    }
}
