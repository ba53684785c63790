//! What an Alembic repair checks before it is shown: the chain as the plan
//! leaves it, and the head-tracking files beside the versions.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::spec_of;
use crate::chains::Chain;
use crate::config::{rel, Config};
use crate::graph::Graph;
use crate::plan::{apply_edits, Change, Edit, Plan};

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
        let (rev, _) = super::read::to_revision(&shown, &change.to, consts)
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
    let a = spec_of(&chain.spec);
    let order = |p: &Path| {
        a.versions
            .iter()
            .position(|v| p.starts_with(v))
            .unwrap_or(usize::MAX)
    };
    next.revisions
        .sort_by(|x, y| (order(&x.path), &x.path).cmp(&(order(&y.path), &y.path)));
    Ok(next)
}

/// Files beside the versions that track a head (`EXPAND_HEAD`,
/// `CONTRACT_HEAD`, `head.txt`): a small file named for a head whose text
/// is one token; each with its bytes and that token.
pub(crate) fn head_files(chain: &Chain) -> Vec<(PathBuf, Vec<u8>, String)> {
    let spec = spec_of(&chain.spec);
    let mut dirs: Vec<PathBuf> = spec.versions.clone();
    dirs.extend(spec.script_location.clone());
    let mut out = Vec::new();
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
            let Ok(bytes) = crate::files::read(&path) else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            let token = text.trim();
            if bytes.len() > 256 || token.is_empty() || token.contains(char::is_whitespace) {
                continue;
            }
            let token = token.to_string();
            out.push((path, bytes, token));
        }
    }
    out
}

/// The plan checked as every Alembic repair checks it: inside the chain's
/// folders, each revision file read again from its planned bytes, and no
/// problem the chain does not have now (`what` names the repair in the
/// refusal); the head files it moves are kept in step. The chain as the
/// plan leaves it, its heads, and the notes on the head files.
pub(crate) fn checked(
    config: &Config,
    chain: &Chain,
    plan: &mut Plan,
    what: &str,
) -> Result<(Chain, Vec<String>, Vec<String>)> {
    crate::repair::confine(config, &[chain], plan)?;
    let after = planned_chain(config, chain, plan)?;
    let tracked = track_heads(config, chain, &after, plan);
    let problems = crate::repair::new_problems(chain, &after);
    if !problems.is_empty() {
        anyhow::bail!(
            "{what} would leave the chain broken ({}); nothing was written",
            problems.join("; ")
        );
    }
    let g = Graph::build(&after);
    let heads = g.heads().into_iter().map(|i| g.rev(i).id.clone()).collect();
    Ok((after, heads, tracked))
}

/// Each head file whose head the plan moves or renames is given the head
/// that now follows it, in the same plan.
pub(crate) fn track_heads(
    config: &Config,
    before: &Chain,
    after: &Chain,
    plan: &mut Plan,
) -> Vec<String> {
    let ids: std::collections::HashMap<&str, usize> = before
        .revisions
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let g_after = Graph::build(after);
    let heads_after: BTreeSet<usize> = g_after.heads().into_iter().collect();
    let mut notes = Vec::new();
    for (path, bytes, token) in head_files(before) {
        let token = token.as_str();
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
        // No one head follows it (a fork below): it keeps its revision,
        // under that revision's new id.
        let new_id = match reached.as_slice() {
            [k] => &g_after.rev(*k).id,
            _ => &after.revisions[j].id,
        };
        if new_id == token {
            continue;
        }
        let start = String::from_utf8_lossy(&bytes)
            .find(token)
            .expect("the token is in the text");
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
    notes
}
