//! Alembic chains: which files count, in Alembic's order, and what each
//! declares.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::AlembicSpec;
use crate::chains::Revision;
use crate::config::rel;
use crate::error::Diag;
use crate::parallel::parallel_map;
use crate::python::{self, Assigned, ModuleConsts, PyValue};

/// The files Alembic loads, in its order: each version location in turn,
/// files sorted by name, sub-folders (sorted, depth first) only when
/// recursive; `*.py` except `__init__*` and `.#*`; a file reached twice
/// through two locations counts once. A folder that cannot be listed is an
/// error naming it.
pub(crate) fn list_files(root: &Path, spec: &AlembicSpec) -> Result<Vec<PathBuf>, Vec<Diag>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut errors = Vec::new();
    for location in &spec.versions {
        let mut listed = Vec::new();
        if let Err(d) = list_dir(root, location, spec.recursive, &mut listed) {
            errors.push(d);
        }
        for (path, real) in listed {
            // Real paths are canonical, so their bytes compare as well as
            // their components, and hash far faster.
            if seen.insert(real.into_os_string()) {
                out.push(path);
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Files of one folder, sorted, each with its real path (to count a file
/// reached twice once); then, when recursive, its sub-folders (sorted,
/// depth first). Names stay `OsString`s: Alembic loads a file whose name is
/// not UTF-8, so the path must reach the file as its bytes are.
fn list_dir(
    root: &Path,
    dir: &Path,
    recursive: bool,
    out: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<(), Diag> {
    if dir.to_string_lossy().ends_with("__pycache__") {
        return Ok(());
    }
    let cannot =
        |e: std::io::Error| Diag::new(rel(root, dir), None, format!("cannot read directory: {e}"));
    let entries = std::fs::read_dir(dir).map_err(cannot)?;
    // Resolving costs a readlink per path component: once per folder, and
    // per file only for symlinks.
    let real_dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(cannot)?;
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        if kind.is_dir() {
            dirs.push(name);
        } else if kind.is_symlink() {
            // Like os.walk: a symlinked folder is a folder, but is not descended into.
            if !entry.path().is_dir() {
                files.push((name, true));
            }
        } else {
            files.push((name, false));
        }
    }
    // Each name is checked for UTF-8 once, not at every comparison.
    let mut files: Vec<_> = files
        .into_iter()
        .map(|(name, link)| {
            let utf8 = name.to_str().is_some();
            (name, link, utf8)
        })
        .collect();
    files.sort_by(|(a, _, a8), (b, _, b8)| {
        if *a8 && *b8 {
            // UTF-8's bytes sort as its code points.
            a.as_encoded_bytes().cmp(b.as_encoded_bytes())
        } else {
            python_order(a, b)
        }
    });
    for (name, link, _) in files
        .into_iter()
        .filter(|(n, _, _)| counts(&n.to_string_lossy()))
    {
        let path = dir.join(&name);
        let real = if link {
            path.canonicalize().unwrap_or_else(|_| path.clone())
        } else {
            real_dir.join(&name)
        };
        out.push((path, real));
    }
    if recursive {
        dirs.sort_by(|a, b| python_order(a, b));
        for d in dirs {
            list_dir(root, &dir.join(d), true, out)?;
        }
    }
    Ok(())
}

/// Python's order of the names `os.listdir` gives: by code point, a byte
/// that is not UTF-8 read as the lone surrogate U+DC80..U+DCFF that
/// `surrogateescape` makes of it.
fn python_order(a: &OsStr, b: &OsStr) -> Ordering {
    match (a.to_str(), b.to_str()) {
        (Some(a), Some(b)) => a.cmp(b),
        _ => code_points(a).cmp(code_points(b)),
    }
}

#[cfg(unix)]
fn code_points(name: &OsStr) -> impl Iterator<Item = u32> + '_ {
    use std::os::unix::ffi::OsStrExt;
    name.as_bytes().utf8_chunks().flat_map(|chunk| {
        let bad = chunk.invalid().iter().map(|&b| 0xDC00 + u32::from(b));
        chunk.valid().chars().map(u32::from).chain(bad)
    })
}

#[cfg(not(unix))]
fn code_points(name: &OsStr) -> impl Iterator<Item = u32> + '_ {
    use std::os::windows::ffi::OsStrExt;
    name.encode_wide().map(u32::from)
}

/// Alembic's `(?!\.\#|__init__)(.*\.py)$`.
pub(crate) fn counts(name: &str) -> bool {
    name.ends_with(".py") && !name.starts_with(".#") && !name.starts_with("__init__")
}

/// Reads every file of the chain, in parallel, keeping Alembic's order.
pub(crate) fn read(
    root: &Path,
    spec: &AlembicSpec,
) -> Result<(Vec<Revision>, Vec<Diag>), Vec<Diag>> {
    let files = list_files(root, spec)?;
    if files.is_empty() {
        let dirs: Vec<String> = spec.versions.iter().map(|d| rel(root, d)).collect();
        return Err(vec![Diag::new(
            dirs.join(", "),
            None,
            "no revision files (*.py) in the versions directory",
        )]);
    }
    let results = parallel_map(&files, |path| read_file(root, path));
    let mut revisions = Vec::with_capacity(files.len());
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok((rev, mut w)) => {
                revisions.push(rev);
                warnings.append(&mut w);
            }
            Err(d) => errors.push(d),
        }
    }
    if errors.is_empty() {
        Ok((revisions, warnings))
    } else {
        Err(errors)
    }
}

pub(crate) fn read_file(root: &Path, path: &Path) -> Result<(Revision, Vec<Diag>), Diag> {
    let shown = rel(root, path);
    let bytes = python::read_source(path).map_err(|m| Diag::new(shown.clone(), None, m))?;
    let syntax = |e: python::SyntaxError| Diag::new(shown.clone(), Some(e.line), e.message);
    let (consts, steps) = python::read_checked(&bytes).map_err(syntax)?;
    let (mut rev, warnings) = to_revision(&shown, path, consts)?;
    rev.steps = Some(steps);
    // Suppression's comments, from these bytes: the file is not read twice.
    rev.marks = Some(crate::suppress::python_marks(&bytes));
    Ok((rev, warnings))
}

/// Applies Alembic's rules to the constants of one file.
pub(crate) fn to_revision(
    shown: &str,
    path: &Path,
    consts: ModuleConsts,
) -> Result<(Revision, Vec<Diag>), Diag> {
    let err = |line: Option<usize>, m: String| Diag::new(shown.to_string(), line, m);
    let (id, line) = match &consts.revision {
        Some(Assigned {
            value: PyValue::Str(s),
            line,
            ..
        }) => (s.value.clone(), *line),
        Some(Assigned {
            value: PyValue::NonLiteral { why },
            line,
            ..
        }) => {
            return Err(err(
                Some(*line),
                format!("`revision` is not a literal ({why}); migfix reads ids statically"),
            ))
        }
        Some(Assigned { line, .. }) => {
            return Err(err(Some(*line), "`revision` must be a string".into()))
        }
        None => {
            // Alembic's legacy rule: a file named `<hex>.py` is its own id.
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            match name.strip_suffix(".py").filter(|s| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            }) {
                Some(stem) => (stem.to_string(), 1),
                None => return Err(err(None, "no module-level `revision` assignment".into())),
            }
        }
    };
    let down = match &consts.down_revision {
        Some(Assigned {
            value: PyValue::NonLiteral { why },
            line,
            ..
        }) => {
            return Err(err(
                Some(*line),
                format!("`down_revision` is not a literal ({why}); migfix reads ids statically"),
            ))
        }
        Some(a) => a.value.ids().unwrap_or_default(),
        None => {
            return Err(err(
                Some(line),
                "no module-level `down_revision` (a first revision says `down_revision = None`)"
                    .into(),
            ))
        }
    };
    let mut warnings = Vec::new();
    let mut optional = |name: &str, slot: &Option<Assigned>| -> Option<Vec<String>> {
        match slot {
            None => Some(Vec::new()),
            Some(a) => {
                let ids = a.value.ids();
                if let PyValue::NonLiteral { why } = &a.value {
                    warnings.push(err(
                        Some(a.line),
                        format!("`{name}` is not a literal ({why}); its value is unknown"),
                    ));
                }
                ids
            }
        }
    };
    let depends_on = optional("depends_on", &consts.depends_on);
    let branch_labels = optional("branch_labels", &consts.branch_labels);
    Ok((
        Revision {
            id,
            path: path.to_path_buf(),
            line,
            down,
            depends_on,
            branch_labels,
            consts: Some(consts),
            scripts: None,
            steps: None,
            part: None,
            detail: None,
            marks: None,
        },
        warnings,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn names_sort_as_python_sorts_them() {
        use std::os::unix::ffi::OsStrExt;
        let name = |b: &[u8]| OsStr::from_bytes(b).to_os_string();
        // Python reads the byte 0x80 as U+DC80, after `é` (U+00E9) and
        // before U+E000; by bytes it would come first.
        let mut names = vec![
            name("0002_\u{e000}.py".as_bytes()),
            name(b"0002_\x80.py"),
            name("0002_é.py".as_bytes()),
            name(b"0002_a.py"),
        ];
        names.sort_by(|a, b| python_order(a, b));
        assert_eq!(
            names,
            [
                name(b"0002_a.py"),
                name("0002_é.py".as_bytes()),
                name(b"0002_\x80.py"),
                name("0002_\u{e000}.py".as_bytes()),
            ]
        );
    }
}
