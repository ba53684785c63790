//! Alembic chains: which files count, in Alembic's order, and what each
//! declares.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::chains::framework::{Framework, Read, Rules};
use crate::chains::{Chain, Kind, Naming, Revision, Scheme};
use crate::config::{rel, AlembicSpec, ChainSpec, Source};
use crate::error::Diag;
use crate::git::{Claim, Repo};
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
    files.sort_by(|(a, _), (b, _)| python_order(a, b));
    for (name, link) in files
        .into_iter()
        .filter(|(n, _)| counts(&n.to_string_lossy()))
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

/// Maps `f` over `items` on every core, keeping the order. Threads take
/// small batches as they go, so that one slow thread does not hold the rest.
pub(crate) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const BATCH: usize = 32;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len() / BATCH + 1);
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut batches: Vec<(usize, Vec<R>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                std::thread::Builder::new()
                    .stack_size(crate::READER_STACK)
                    .spawn_scoped(s, || {
                        let mut done = Vec::new();
                        loop {
                            let start = next.fetch_add(BATCH, Ordering::Relaxed);
                            if start >= items.len() {
                                return done;
                            }
                            let end = (start + BATCH).min(items.len());
                            done.push((
                                start,
                                items[start..end].iter().map(&f).collect::<Vec<_>>(),
                            ));
                        }
                    })
                    .expect("a reader thread can be spawned")
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a reader thread panicked"))
            .collect()
    });
    batches.sort_unstable_by_key(|(start, _)| *start);
    batches.into_iter().flat_map(|(_, r)| r).collect()
}

pub(crate) fn read_file(root: &Path, path: &Path) -> Result<(Revision, Vec<Diag>), Diag> {
    let shown = rel(root, path);
    let bytes = python::read_source(path).map_err(|m| Diag::new(shown.clone(), None, m))?;
    let syntax = |e: python::SyntaxError| Diag::new(shown.clone(), Some(e.line), e.message);
    let (consts, steps) = python::read_checked(&bytes).map_err(syntax)?;
    let (mut rev, warnings) = to_revision(&shown, path, consts)?;
    rev.steps = Some(steps);
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
            sqitch: None,
            steps: None,
            django: None,
        },
        warnings,
    ))
}

/// Alembic behind the common interface.
pub(crate) struct Alembic;

fn spec_of(spec: &ChainSpec) -> &AlembicSpec {
    match &spec.source {
        Source::Alembic(a) => a,
        _ => unreachable!("framework::of gives each source its own framework"),
    }
}

impl Framework for Alembic {
    fn kind(&self) -> Kind {
        Kind::Alembic
    }

    fn rules(&self) -> Rules {
        Rules {
            show_labels: true,
            bases_per_label: false,
            alembic_ids: true,
            own_lint: false,
            plan_order: false,
            external: |_| false,
        }
    }

    fn read(&self, root: &Path, spec: &ChainSpec) -> Result<Read, Vec<Diag>> {
        read(root, spec_of(spec)).map(|(revisions, warnings)| Read {
            revisions,
            replaced: Vec::new(),
            warnings,
        })
    }

    /// The scheme of the ids newest first, and the naming `file_template`
    /// sets or the names show.
    fn conventions(&self, chain: &Chain) -> (Scheme, Naming) {
        let order = crate::graph::Graph::build(chain).newest_first();
        let ids: Vec<&str> = order
            .iter()
            .map(|&i| chain.revisions[i].id.as_str())
            .collect();
        let configured = spec_of(&chain.spec)
            .file_template
            .as_deref()
            .and_then(Naming::from_template);
        let naming = configured.unwrap_or_else(|| {
            let stems: Vec<_> = order
                .iter()
                .filter_map(|&i| {
                    let r = &chain.revisions[i];
                    Some((crate::graph::stem_of(r)?, r.id.as_str()))
                })
                .collect();
            Naming::infer(stems.iter().map(|(stem, id)| (stem.as_ref(), *id)))
        });
        (Scheme::detect(&ids), naming)
    }

    fn location(&self, spec: &ChainSpec) -> PathBuf {
        spec_of(spec).versions[0].clone()
    }

    fn config_file(&self, spec: &ChainSpec) -> Option<PathBuf> {
        spec_of(spec).config.clone()
    }

    fn folders(&self, _root: &Path, spec: &ChainSpec) -> Vec<PathBuf> {
        spec_of(spec).versions.clone()
    }

    fn claims(&self, repo: &Repo, spec: &ChainSpec) -> Vec<Claim> {
        let a = spec_of(spec);
        repo.alembic_claims(&a.versions, a.recursive)
    }

    fn verify_commands(&self, root: &Path, chain: &Chain) -> Vec<String> {
        let Some(ini) = &spec_of(&chain.spec).config else {
            return Vec::new();
        };
        let dir = ini
            .parent()
            .map(|d| rel(root, d))
            .unwrap_or_else(|| ".".into());
        vec![
            format!(
                "verify {}: cd {dir} && alembic heads   (expect one line)",
                chain.name()
            ),
            format!(
                "verify {}: cd {dir} && alembic upgrade head --sql > /dev/null",
                chain.name()
            ),
        ]
    }

    /// Relative locations in alembic.ini are resolved from where Alembic
    /// runs, which is the ini's folder.
    fn upgrade_command(&self, root: &Path, spec: &ChainSpec, target: &str) -> String {
        match spec_of(spec)
            .config
            .as_ref()
            .filter(|c| c.extension().is_some_and(|e| e == "ini"))
        {
            Some(ini) => {
                let dir = ini
                    .parent()
                    .filter(|d| *d != root)
                    .map(|d| format!("cd {} && ", rel(root, d)));
                let name = ini
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                let flag = if name == "alembic.ini" {
                    String::new()
                } else {
                    format!("-c {name} ")
                };
                format!("{}alembic {flag}upgrade {target}", dir.unwrap_or_default())
            }
            None => format!("alembic upgrade {target}"),
        }
    }
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
