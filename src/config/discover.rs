//! Walking the tree below the root for what the frameworks' discovery
//! looks for, and what every framework's discovery shares.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{rel, ChainSpec};

/// Folders never searched: VCS data, build output, dependencies, virtualenvs.
pub(crate) fn is_skipped_dir(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    matches!(
        name,
        ".git"
            | ".hg"
            | ".svn"
            | "node_modules"
            | "target"
            | ".venv"
            | "venv"
            | ".tox"
            | ".nox"
            | "__pycache__"
            | ".mypy_cache"
            | ".pytest_cache"
            | ".ruff_cache"
            | "site-packages"
    ) || path.join("pyvenv.cfg").is_file()
}

/// The files and folders below the root with a name some framework looks
/// for, each name's sorted.
#[derive(Default)]
pub(crate) struct Found {
    by_name: BTreeMap<String, Vec<PathBuf>>,
}

impl Found {
    /// Every file or folder called `name`, sorted.
    pub fn named(&self, name: &str) -> &[PathBuf] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
}

/// The names of the files and of the folders a framework's discovery
/// looks for.
pub(crate) struct Markers {
    pub files: &'static [&'static str],
    pub dirs: &'static [&'static str],
}

/// Walks the tree below `root`, skipping what [`is_skipped_dir`] skips,
/// for the files and folders `markers` name.
pub(crate) fn walk(root: &Path, markers: &[Markers]) -> Found {
    let mut found = Found::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && is_skipped_dir(&path) {
                continue;
            }
            let wanted = |n: &&str| {
                markers.iter().any(|m| {
                    if kind.is_dir() {
                        m.dirs.contains(n)
                    } else {
                        m.files.contains(n)
                    }
                })
            };
            if let Some(name) = entry.file_name().to_str().filter(wanted) {
                found
                    .by_name
                    .entry(name.to_string())
                    .or_default()
                    .push(path.clone());
            }
            if kind.is_dir() {
                stack.push(path);
            }
        }
    }
    for list in found.by_name.values_mut() {
        list.sort();
    }
    found
}

/// Two chains in one folder (an ini beside a plan) keep unique names: the
/// later one is suffixed with its framework's name.
pub(crate) fn unique_names(chains: &mut [ChainSpec]) {
    let mut seen = BTreeSet::new();
    for chain in chains {
        if !seen.insert(chain.name.clone()) {
            chain.name = format!("{}#{}", chain.name, chain.profile.name);
            seen.insert(chain.name.clone());
        }
    }
}

/// The name of a chain found in `dir`: its path from the root, or the root
/// folder's own name for a chain at the root.
pub(crate) fn chain_name(root: &Path, dir: &Path) -> String {
    if dir == root {
        root.file_name()
            .map_or_else(|| ".".into(), |n| n.to_string_lossy().into_owned())
    } else {
        rel(root, dir)
    }
}

/// A configuration file's text; the error gives the OS error, or the line
/// of a byte that is not UTF-8.
pub(crate) fn read_text(path: &Path) -> Result<String, (Option<usize>, String)> {
    let bytes = crate::files::read(path).map_err(|e| (None, format!("cannot read: {e}")))?;
    crate::error::utf8_text(bytes).map_err(|(line, m)| (Some(line), m))
}
