//! Commands that change the tree. Each builds a [`Plan`] in memory; this
//! module checks it, shows it, asks, and hands it to the applier.

pub(crate) mod merge;
pub(crate) mod merge_heads;
pub(crate) mod rebase;
pub(crate) mod renumber;
pub(crate) mod template;

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::chains::scheme::is_number_of;
use crate::chains::{Chain, Revision, Scheme};
use crate::cli::WriteArgs;
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors, Refused};
use crate::git::{Claim, Repo};
use crate::graph::{Graph, Problem};
use crate::plan::{apply, Plan};
use crate::report;
use crate::ExitStatus;

pub(crate) use crate::outcome::Preview;

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
        .filter_map(|r| crate::graph::file_number(r, chain));
    let theirs = claims.iter().filter_map(|c| {
        chain
            .naming
            .number(Path::new(&c.path).file_stem()?.to_str()?, &c.id)
    });
    Some(ours.chain(theirs).max().unwrap_or(0) + 1)
}

/// A revision file's name once its id is `new_id` (and its running number
/// `number`, where the naming has one): only those tokens change. `None`
/// when the name carries neither.
pub(crate) fn renamed(
    chain: &Chain,
    rev: &Revision,
    new_id: &str,
    number: Option<u64>,
) -> Option<PathBuf> {
    let stem = crate::graph::stem_of(rev)?;
    let stem = stem.as_ref();
    let naming = &chain.naming;
    let (rev_span, seq_span) = match naming.locate(stem, &rev.id) {
        Some(s) => (s.rev, s.seq.map(|(r, _)| r)),
        // A name that already disagrees with its id (`0037_x.py` declaring
        // 0038): its id token is what the renumber corrects.
        None => {
            let seq = naming.token(stem)?.1;
            (
                crate::graph::mismatched_token(rev, chain).map(|(_, r)| r),
                seq.map(|(r, _)| r),
            )
        }
    };
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    if let Some(r) = rev_span {
        edits.push((r, new_id.to_string()));
    }
    if let (Some(r), Some(n)) = (seq_span, number) {
        let width = r.len();
        edits.push((r, format!("{n:0width$}")));
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let name = rev.path.file_name()?;
    let out = spliced(name, edits)?;
    (out != name).then(|| rev.path.with_file_name(out))
}

/// A file name with byte ranges of its lossy text replaced, last first.
/// Those offsets are the name's own only up to its first byte that is not
/// UTF-8, so an edit past that gives `None` (the file keeps its name).
#[cfg(unix)]
fn spliced(name: &OsStr, edits: Vec<(std::ops::Range<usize>, String)>) -> Option<OsString> {
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
fn spliced(name: &OsStr, edits: Vec<(std::ops::Range<usize>, String)>) -> Option<OsString> {
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

/// Problems the plan would add: dangling pointers, cycles, duplicates or
/// heads that were not there before. Any of them means a bug in the plan.
pub(crate) fn new_problems(before: &Chain, after: &Chain) -> Vec<String> {
    let describe = |c: &Chain| -> BTreeSet<String> {
        let g = Graph::build(c);
        g.problems()
            .into_iter()
            .filter_map(|p| match p {
                Problem::Dangling { rev, target, .. } => {
                    Some(format!("{} points at missing {target}", g.rev(rev).id))
                }
                Problem::Cycle { revs } => Some(format!(
                    "cycle through {}",
                    revs.iter()
                        .map(|&i| g.rev(i).id.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Problem::DuplicateId { id, .. } => Some(format!("{id} declared twice")),
                _ => None,
            })
            .collect()
    };
    let old = describe(before);
    describe(after)
        .into_iter()
        .filter(|p| !old.contains(p))
        .collect()
}

/// Shows the plan, then applies it if `--yes`, or if the user says so on a
/// terminal. Refuses without a terminal and without `--yes`.
pub(crate) fn finish(
    config: &Config,
    preview: &Preview,
    plan: &Plan,
    write: &WriteArgs,
    repo: Option<&Repo>,
) -> Result<ExitStatus> {
    report::preview(config, preview, plan)?;
    if write.dry_run {
        report::done(config, preview, plan, false, None, &[])?;
        return Ok(ExitStatus::Success);
    }
    if let Some(repo) = repo {
        if !write.allow_dirty {
            let sources: Vec<_> = plan.changes.iter().filter_map(|c| c.from.clone()).collect();
            let dirty = repo.uncommitted(&sources);
            if !dirty.is_empty() {
                let list: Vec<String> = dirty.iter().map(|p| rel(&config.root, p)).collect();
                return Err(
                    Refused::new(format!("uncommitted changes in {}", list.join(", ")))
                        .help("commit or stash them first, or pass --allow-dirty")
                        .into(),
                );
            }
        }
    }
    if !write.yes {
        let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
        if !interactive {
            return Err(Refused::new("no terminal to confirm on")
                .help("review the diff above, then run again with --yes")
                .into());
        }
        if !report::confirm("Apply?")? {
            return Err(Refused::new("not confirmed").into());
        }
    }
    let undo = undo_note(config, plan, repo);
    report::undo(config, &undo)?;
    let git_root = repo.map(|r| r.workdir().to_path_buf());
    let applied = apply::apply(plan, &config.root, git_root.as_deref())?;
    let after = crate::frameworks::load(config)?;
    let heads: Vec<String> = after
        .iter()
        .filter(|c| c.name() == preview.chain)
        .flat_map(|c| {
            let g = Graph::build(c);
            g.heads()
                .into_iter()
                .map(|i| g.rev(i).id.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    report::done(config, preview, plan, true, Some(&applied), &heads)?;
    Ok(ExitStatus::Success)
}

/// How to put things back: the commands, with HEAD as it was before.
fn undo_note(config: &Config, plan: &Plan, repo: Option<&Repo>) -> Vec<String> {
    let shown = |p: &Path| shell_word(p.strip_prefix(&config.root).unwrap_or(p));
    let mut lines = Vec::new();
    match repo.and_then(|r| r.head()) {
        Some(head) => {
            let short = &head.sha[..head.sha.len().min(12)];
            lines.push(format!(
                "HEAD was {short}{}",
                head.branch.map(|b| format!(" on {b}")).unwrap_or_default()
            ));
            for c in plan.changes.iter().filter(|c| c.is_new()) {
                lines.push(format!("git rm -f {}", shown(&c.to)));
            }
            for c in plan.changes.iter().filter(|c| c.is_rename()) {
                lines.push(format!(
                    "git mv {} {}",
                    shown(&c.to),
                    shown(c.from.as_deref().expect("a rename has a source"))
                ));
            }
            let restored: Vec<String> = plan
                .changes
                .iter()
                .filter_map(|c| c.from.as_deref().map(shown))
                .collect();
            if !restored.is_empty() {
                lines.push(format!("git checkout {short} -- {}", restored.join(" ")));
            }
        }
        None => {
            for c in plan.changes.iter().filter(|c| c.is_rename()) {
                lines.push(format!(
                    "mv {} {} (then undo the edits shown above)",
                    shown(&c.to),
                    shown(c.from.as_deref().expect("a rename has a source"))
                ));
            }
        }
    }
    lines
}

/// A path as a shell word, so that the undo commands can be pasted: as it
/// is when plain, else quoted; a name that is not UTF-8 in bash's `$'...'`
/// with its bytes escaped, since a lossy name would name another file.
fn shell_word(p: &Path) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"_./@%+=:,-".contains(&b);
    match p.to_str() {
        Some(s) if !s.is_empty() && s.bytes().all(plain) => s.to_string(),
        Some(s) => format!("'{}'", s.replace('\'', r"'\''")),
        None => {
            let mut out = String::from("$'");
            for &b in path_bytes(p).iter() {
                match b {
                    b'\'' | b'\\' => out.extend(['\\', char::from(b)]),
                    0x20..=0x7e => out.push(char::from(b)),
                    _ => out.push_str(&format!("\\x{b:02x}")),
                }
            }
            out.push('\'');
            out
        }
    }
}

#[cfg(unix)]
fn path_bytes(p: &Path) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().into()
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> std::borrow::Cow<'_, [u8]> {
    p.to_string_lossy().into_owned().into_bytes().into()
}

/// Refuses a plan that would touch a file outside the repository, or, for
/// an Alembic chain, outside its versions folders (symlinks resolved): a
/// hostile id, `file_template` or symlinked folder must not write elsewhere.
pub(crate) fn confine(config: &Config, chains: &[&Chain], plan: &Plan) -> Result<()> {
    let folders: Vec<PathBuf> = chains
        .iter()
        .flat_map(|chain| chain.spec.source.folders(&config.root))
        .collect();
    // A folder that resolves outside the repository admits nothing.
    let root = crate::plan::resolved(&config.root);
    let inside: Vec<PathBuf> = folders
        .iter()
        .filter_map(|f| crate::plan::resolved(f))
        .filter(|f| root.as_ref().is_some_and(|r| f.starts_with(r)))
        .collect();
    match crate::plan::outside_of(plan, &inside) {
        None => Ok(()),
        Some(p) => {
            Err(InputErrors::one(Diag::new(
                p.display().to_string(),
                None,
                format!(
                "outside {}: migfix writes only inside the chain's own folders, in the repository",
                folders.iter().map(|f| rel(&config.root, f)).collect::<Vec<_>>().join(", ")
            ),
            ))
            .into())
        }
    }
}
