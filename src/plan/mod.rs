//! A change to the tree as pure data: files renamed, edited and added, with
//! their contents before and after. Built in memory, shown as a diff, then
//! handed whole to `apply`, the only code that writes to disk.

pub(crate) mod apply;
pub(crate) mod journal;
mod lock;
pub(crate) mod stage;

use std::ops::Range;
use std::path::{Path, PathBuf};

/// One replacement of a byte range. Offsets are bytes, as tree-sitter gives
/// them, never chars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub range: Range<usize>,
    pub replacement: String,
}

impl Edit {
    pub fn new(range: Range<usize>, replacement: impl Into<String>) -> Edit {
        Edit {
            range,
            replacement: replacement.into(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum EditError {
    #[error("edits overlap at bytes {0:?} and {1:?}")]
    Overlap(Range<usize>, Range<usize>),
    #[error("edit {0:?} lies outside the {1}-byte file")]
    OutOfBounds(Range<usize>, usize),
}

/// Applies edits in one forward pass, copying the bytes between them.
/// Overlapping edits are a bug in the caller, reported, never skipped.
pub(crate) fn apply_edits(src: &[u8], edits: &[Edit]) -> Result<Vec<u8>, EditError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    sorted.dedup_by(|a, b| a == b);
    let mut out = Vec::with_capacity(src.len() + 64);
    let mut at = 0;
    let mut last: Option<&Range<usize>> = None;
    for e in sorted {
        if e.range.end > src.len() || e.range.start > e.range.end {
            return Err(EditError::OutOfBounds(e.range.clone(), src.len()));
        }
        if e.range.start < at {
            return Err(EditError::Overlap(
                last.cloned().unwrap_or(0..0),
                e.range.clone(),
            ));
        }
        out.extend_from_slice(&src[at..e.range.start]);
        out.extend_from_slice(e.replacement.as_bytes());
        at = e.range.end;
        last = Some(&e.range);
    }
    out.extend_from_slice(&src[at..]);
    Ok(out)
}

/// One file's part in a plan. `from` is `None` for a new file; `from` and
/// `to` differ for a rename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub from: Option<PathBuf>,
    pub to: PathBuf,
    pub before: Vec<u8>,
    pub after: Vec<u8>,
}

impl Change {
    pub fn is_rename(&self) -> bool {
        self.from.as_ref().is_some_and(|f| *f != self.to)
    }

    pub fn is_new(&self) -> bool {
        self.from.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn renames(&self) -> usize {
        self.changes.iter().filter(|c| c.is_rename()).count()
    }

    pub fn edited(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| !c.is_new() && c.before != c.after)
            .count()
    }

    pub fn added(&self) -> usize {
        self.changes.iter().filter(|c| c.is_new()).count()
    }
}

/// Collects every edit and rename per file, then applies each file's
/// edits once, against its original bytes.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    files: Vec<Pending>,
    added: Vec<(PathBuf, Vec<u8>)>,
}

#[derive(Debug)]
struct Pending {
    from: PathBuf,
    to: PathBuf,
    before: Vec<u8>,
    edits: Vec<Edit>,
}

impl Builder {
    fn pending(&mut self, path: &Path, before: &[u8]) -> &mut Pending {
        match self.files.iter().position(|p| p.from == path) {
            Some(i) => &mut self.files[i],
            None => {
                self.files.push(Pending {
                    from: path.to_path_buf(),
                    to: path.to_path_buf(),
                    before: before.to_vec(),
                    edits: Vec::new(),
                });
                self.files.last_mut().expect("just pushed")
            }
        }
    }

    pub fn edit(&mut self, path: &Path, before: &[u8], edits: impl IntoIterator<Item = Edit>) {
        self.pending(path, before).edits.extend(edits);
    }

    pub fn rename(&mut self, path: &Path, before: &[u8], to: PathBuf) {
        self.pending(path, before).to = to;
    }

    pub fn add(&mut self, to: PathBuf, contents: Vec<u8>) {
        self.added.push((to, contents));
    }

    pub fn build(self) -> Result<Plan, EditError> {
        let mut changes = Vec::new();
        for p in self.files {
            let after = apply_edits(&p.before, &p.edits)?;
            // A file visited but left as it is is not part of the plan.
            if after == p.before && p.from == p.to {
                continue;
            }
            changes.push(Change {
                from: Some(p.from),
                to: p.to,
                before: p.before,
                after,
            });
        }
        for (to, after) in self.added {
            changes.push(Change {
                from: None,
                to,
                before: Vec::new(),
                after,
            });
        }
        Ok(Plan { changes })
    }
}

/// A path with symlinks resolved as far as it exists, and its missing tail
/// appended as written; `None` when that tail climbs (`..`) or is not a
/// plain name, which is never a place a plan may write.
pub(crate) fn resolved(path: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut existing = path.to_path_buf();
    let mut tail = Vec::new();
    while existing.symlink_metadata().is_err() {
        let name = existing.file_name()?.to_os_string();
        tail.push(name);
        existing = existing.parent()?.to_path_buf();
    }
    let mut out = existing.canonicalize().ok()?;
    for name in tail.into_iter().rev() {
        let p = PathBuf::from(&name);
        match p.components().next() {
            Some(Component::Normal(_)) if p.components().count() == 1 => out.push(name),
            _ => return None,
        }
    }
    Some(out)
}

/// The first file the plan touches (renames' sources included) that does
/// not lie inside one of `dirs`, symlinks resolved.
pub(crate) fn outside_of(plan: &Plan, dirs: &[PathBuf]) -> Option<PathBuf> {
    let dirs: Vec<PathBuf> = dirs.iter().filter_map(|d| resolved(d)).collect();
    plan.changes
        .iter()
        .flat_map(|c| c.from.iter().chain(std::iter::once(&c.to)))
        .find(|p| !resolved(p).is_some_and(|r| dirs.iter().any(|d| r.starts_with(d) && r != *d)))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_keeps_the_bytes_between() {
        let src = "revision = \"0148\"\r\ndown_revision = \"0144\"  # naïve\r\n".as_bytes();
        let at = |needle: &str| {
            let i = std::str::from_utf8(src).unwrap().find(needle).unwrap();
            i..i + needle.len()
        };
        let out = apply_edits(
            src,
            &[Edit::new(at("0144"), "0146"), Edit::new(at("0148"), "0151")],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "revision = \"0151\"\r\ndown_revision = \"0146\"  # naïve\r\n"
        );
    }

    #[test]
    fn a_file_left_as_it_is_is_not_in_the_plan() {
        let mut b = Builder::default();
        b.edit(Path::new("a.py"), b"x = 1\n", []);
        b.edit(Path::new("b.py"), b"x = 1\n", [Edit::new(4..5, "1")]);
        b.edit(Path::new("c.py"), b"x = 1\n", [Edit::new(4..5, "2")]);
        let plan = b.build().unwrap();
        let touched: Vec<&Path> = plan.changes.iter().map(|c| c.to.as_path()).collect();
        assert_eq!(touched, [Path::new("c.py")]);
    }

    #[test]
    fn overlap_is_an_error() {
        let err =
            apply_edits(b"abcdef", &[Edit::new(1..4, "x"), Edit::new(3..5, "y")]).unwrap_err();
        assert_eq!(err, EditError::Overlap(1..4, 3..5));
        assert!(matches!(
            apply_edits(b"abc", &[Edit::new(2..9, "x")]),
            Err(EditError::OutOfBounds(..))
        ));
        // The same edit twice is one edit.
        assert_eq!(
            apply_edits(b"abc", &[Edit::new(0..1, "x"), Edit::new(0..1, "x")]).unwrap(),
            b"xbc"
        );
    }
}
