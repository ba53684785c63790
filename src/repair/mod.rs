//! Commands that change the tree. Each builds a [`Plan`] in memory; this
//! module checks it, shows it, asks, and hands it to the applier.

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
use crate::config::{rel, Config, Source};
use crate::error::{Diag, InputErrors, Refused};
use crate::git::{Claim, Repo};
use crate::graph::{Graph, Problem};
use crate::plan::{apply, apply_edits, Change, Edit, Plan};
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

/// Files beside the versions that track a head (`EXPAND_HEAD`,
/// `CONTRACT_HEAD`, `head.txt`): a small file named for a head whose text
/// is one revision id. Each one whose head the plan moves is given the head
/// that now follows it, in the same plan.
pub(crate) fn track_heads(
    config: &Config,
    before: &Chain,
    after: &Chain,
    plan: &mut Plan,
) -> Vec<String> {
    let Source::Alembic(spec) = &before.spec.source else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = spec.versions.clone();
    dirs.extend(spec.script_location.clone());
    let ids: std::collections::HashMap<&str, usize> = before
        .revisions
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let g_after = Graph::build(after);
    let heads_after: BTreeSet<usize> = g_after.heads().into_iter().collect();
    let mut notes = Vec::new();
    let mut seen = BTreeSet::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for path in files {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if !name.contains("head")
                || name.ends_with(".py")
                || !path.is_file()
                || !seen.insert(path.clone())
            {
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            let token = text.trim();
            if bytes.len() > 256 || token.is_empty() || token.contains(char::is_whitespace) {
                continue;
            }
            let Some(&i) = ids.get(token) else { continue };
            // Where that revision is once the plan is applied.
            let moved_to = plan
                .changes
                .iter()
                .find(|c| c.from.as_deref() == Some(before.revisions[i].path.as_path()))
                .map(|c| c.to.clone());
            let at = moved_to.unwrap_or_else(|| before.revisions[i].path.clone());
            let Some(j) = after.revisions.iter().position(|r| r.path == at) else {
                continue;
            };
            let mut reached: Vec<usize> = g_after
                .descendants(j)
                .into_iter()
                .chain([j])
                .filter(|k| heads_after.contains(k))
                .collect();
            reached.sort_unstable();
            let [k] = reached.as_slice() else { continue };
            let new_id = &g_after.rev(*k).id;
            if new_id == token {
                continue;
            }
            let start = text.find(token).expect("the token is in the text");
            let after_bytes = apply_edits(
                &bytes,
                &[Edit::new(start..start + token.len(), new_id.clone())],
            )
            .expect("in bounds");
            notes.push(format!(
                "{} now names {new_id} (was {token})",
                rel(&config.root, &path)
            ));
            plan.changes.push(Change {
                from: Some(path.clone()),
                to: path,
                before: bytes,
                after: after_bytes,
            });
        }
    }
    notes
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

pub(crate) fn claims_for(repo: Option<&Repo>, chain: &Chain) -> Vec<Claim> {
    repo.map(|r| chain.framework().claims(r, &chain.spec))
        .unwrap_or_default()
}

/// The chain as it will be once the plan is applied: every revision file
/// the plan touches is read again from its planned bytes.
pub(crate) fn planned_chain(config: &Config, chain: &Chain, plan: &Plan) -> Result<Chain> {
    let mut next = chain.clone();
    for change in &plan.changes {
        if change.to.extension().is_none_or(|e| e != "py") {
            continue;
        }
        // The full parse refuses any syntax error, so it is also the check
        // that the edit left valid Python.
        let consts = crate::python::read_full(&change.after).map_err(|e| {
            anyhow::anyhow!(
                "the edited {} would not parse ({e}); nothing was written",
                rel(&config.root, &change.to)
            )
        })?;
        let shown = rel(&config.root, &change.to);
        let (rev, _) = crate::frameworks::alembic::read::to_revision(&shown, &change.to, consts)
            .map_err(|d| anyhow::anyhow!("{d}"))?;
        match change
            .from
            .as_ref()
            .and_then(|f| next.revisions.iter().position(|r| &r.path == f))
        {
            Some(i) => next.revisions[i] = rev,
            None => next.revisions.push(rev),
        }
    }
    // Alembic loads files in name order within each folder.
    if let Source::Alembic(a) = &chain.spec.source {
        let order = |p: &Path| {
            a.versions
                .iter()
                .position(|v| p.starts_with(v))
                .unwrap_or(usize::MAX)
        };
        next.revisions
            .sort_by(|x, y| (order(&x.path), &x.path).cmp(&(order(&y.path), &y.path)));
    }
    Ok(next)
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
    let after = crate::chains::load(config)?;
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
        .flat_map(|chain| chain.framework().folders(&config.root, &chain.spec))
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
