//! `migfix rebase`: moves the migrations this branch adds after the base
//! branch's head, renumbered past every claim (seed 001's failure mode B,
//! "update the PR's down_revision to the current single head").

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use super::{finish, Preview};
use crate::chains::scheme::{is_number_of, sqitch_prefix};
use crate::chains::{self, Chain, Scheme};
use crate::cli::RebaseArgs;
use crate::collisions::{alembic_at, pick_base};
use crate::config::{Config, Source, SqitchSpec};
use crate::error::{Diag, InputErrors, Refused};
use crate::frameworks::sqitch::plan::{LineKind, Plan};
use crate::git::Repo;
use crate::graph::Graph;
use crate::plan::{Builder, Edit};
use crate::python::{ModuleConsts, PyValue};
use crate::ExitStatus;

pub(crate) fn run(config: &Config, args: &RebaseArgs) -> Result<ExitStatus> {
    let repo = Repo::discover(&config.root).ok_or_else(|| {
        InputErrors::one(Diag::new(
            config.rel(&config.root),
            None,
            "not inside a git work tree",
        ))
    })?;
    let (base_name, base) = pick_base(&repo, args.base.as_deref())?;
    let head = repo.head_commit().ok_or_else(|| {
        InputErrors::one(Diag::new("HEAD", None, "the repository has no commits"))
    })?;
    let mb = repo.merge_base(head, base).ok_or_else(|| {
        InputErrors::one(Diag::new(
            &base_name,
            None,
            "no history in common with this branch",
        ))
    })?;
    let current = repo.head().and_then(|h| h.branch);
    let mut except = vec![base_name.as_str()];
    if let Some(c) = current.as_deref() {
        except.push(c);
    }
    let others = repo.branches_matching(&[], &except);
    let chains = chains::load(config)?;

    let mut builder = Builder::default();
    let mut notes = Vec::new();
    let mut heads_after = Vec::new();
    let mut touched = Vec::new();
    let mut verify = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    let onto = crate::frameworks::interface::Onto {
        repo: &repo,
        base_name: &base_name,
        base,
        merge_base: mb,
        others: &others,
    };
    for chain in &chains {
        let Some(moved) = chain.framework().rebase(&onto, chain, &mut builder)? else {
            continue;
        };
        if let Some(at_base) = moved.at_base {
            verify.push((chain, at_base));
        }
        hints.extend(moved.merge_hint);
        notes.push(format!("{}: {}", chain.name(), moved.note));
        heads_after.push(moved.head);
        touched.push(chain.name().to_string());
    }
    if touched.is_empty() {
        crate::report::note(config, &format!("nothing to rebase: this branch adds no migrations that {base_name} does not already follow"))?;
        return Ok(ExitStatus::Success);
    }
    let plan = builder.build()?;
    let moved: Vec<&Chain> = chains
        .iter()
        .filter(|c| touched.iter().any(|t| t == c.name()))
        .collect();
    super::confine(config, &moved, &plan)?;
    for (chain, at_base) in &verify {
        chain
            .framework()
            .check_against_base(config, chain, at_base, &plan)?;
    }
    let preview = Preview {
        chain: touched.join(", "),
        title: format!(
            "rebase {} onto {base_name}",
            current.unwrap_or_else(|| "HEAD".into())
        ),
        notes,
        heads_after,
    };
    let status = finish(config, &preview, &plan, &args.write, Some(&repo))?;
    if !args.write.dry_run {
        crate::report::note(
            config,
            &format!("next: merge {base_name} into this branch (git merge {base_name}); the chain then ends at {}", preview.heads_after.join(", ")),
        )?;
        for hint in &hints {
            crate::report::note(config, hint)?;
        }
    }
    Ok(status)
}

/// The base's chain plus this branch's planned files must have one head and
/// nothing dangling: what the chain will be once the branch is merged.
pub(crate) fn alembic_check_against_base(
    config: &Config,
    chain: &Chain,
    at_base: &Chain,
    plan: &crate::plan::Plan,
) -> Result<()> {
    let Source::Alembic(spec) = &chain.spec.source else {
        unreachable!("an Alembic chain")
    };
    let mut merged = at_base.clone();
    for change in plan
        .changes
        .iter()
        .filter(|c| spec.versions.iter().any(|v| c.to.starts_with(v)))
    {
        let consts = crate::python::read_full(&change.after).map_err(|e| {
            anyhow::anyhow!(
                "the edited {} would not parse ({e}); nothing was written",
                change.to.display()
            )
        })?;
        let shown = crate::config::rel(&config.root, &change.to);
        let (rev, _) = crate::frameworks::alembic::read::to_revision(&shown, &change.to, consts)
            .map_err(|d| anyhow::anyhow!("{d}"))?;
        merged.revisions.push(rev);
    }
    let problems = super::new_problems(at_base, &merged);
    if !problems.is_empty() {
        bail!(
            "the planned rebase would break {} ({}); nothing was written",
            chain.name(),
            problems.join("; ")
        );
    }
    let g = Graph::build(&merged);
    if !g.forks().is_empty() || g.heads().len() != Graph::build(at_base).heads().len() {
        let heads: Vec<&str> = g
            .heads()
            .into_iter()
            .map(|i| g.rev(i).id.as_str())
            .collect();
        bail!(
            "the planned rebase would leave {} with heads {}; nothing was written",
            chain.name(),
            heads.join(", ")
        );
    }
    Ok(())
}

/// One Alembic chain: the branch's new revisions, renumbered in order past
/// every claim, the first pointing at the base's head. Returns a note, the
/// head it leaves, and the base's chain (to check the plan against).
#[allow(clippy::too_many_arguments)]
pub(crate) fn alembic_chain(
    repo: &Repo,
    chain: &Chain,
    versions: &[PathBuf],
    recursive: bool,
    (base_name, base): (&str, git2::Oid),
    mb: git2::Oid,
    others: &[(String, git2::Oid)],
    builder: &mut Builder,
) -> Result<Option<(String, String, Chain)>> {
    let before: HashSet<PathBuf> = repo
        .revision_files_at(mb, versions, recursive)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let graph = Graph::build(chain);
    // Parents first.
    let mut added: Vec<usize> = graph
        .newest_first()
        .into_iter()
        .rev()
        .filter(|&i| {
            repo.rel(&graph.rev(i).path)
                .is_some_and(|p| !before.contains(&p))
        })
        .collect();
    if added.is_empty() {
        return Ok(None);
    }
    added.dedup();
    let at_base = alembic_at(repo, chain, versions, recursive, base);
    let base_graph = Graph::build(&at_base);
    let base_heads: Vec<String> = base_graph
        .heads()
        .into_iter()
        .map(|i| base_graph.rev(i).id.clone())
        .collect();
    let added_ids: HashSet<&str> = added.iter().map(|&i| graph.rev(i).id.as_str()).collect();
    let base_head = match base_heads.as_slice() {
        [one] => one.clone(),
        [] => bail!(InputErrors::one(Diag::new(
            base_name,
            None,
            format!("{} has no revisions on {base_name}", chain.name())
        ))),
        many => {
            // Heads on labelled branches of their own: the one that follows
            // what this branch built on.
            let built_on: Vec<usize> = added
                .iter()
                .flat_map(|&i| graph.rev(i).down.iter())
                .filter(|d| !added_ids.contains(d.as_str()))
                .filter_map(|d| base_graph.resolve(d))
                .collect();
            let following: Vec<String> = base_graph
                .heads()
                .into_iter()
                .filter(|&h| {
                    built_on
                        .iter()
                        .any(|&p| p == h || base_graph.descendants(p).contains(&h))
                })
                .map(|h| base_graph.rev(h).id.clone())
                .collect();
            match following.as_slice() {
                [one] if base_graph.forks().is_empty() => one.clone(),
                _ => {
                    return Err(Refused::new(format!(
                        "{base_name} has {} heads in {} ({}): merge them there first",
                        many.len(),
                        chain.name(),
                        many.join(", ")
                    ))
                    .help(format!(
                        "on {base_name}: migfix --chain {} merge-heads",
                        chain.name()
                    ))
                    .into())
                }
            }
        }
    };
    if added.iter().all(|&i| {
        graph
            .rev(i)
            .down
            .iter()
            .all(|d| added_ids.contains(d.as_str()) || *d == base_head)
    }) {
        return Ok(None);
    }

    // Numbers in use: the base's, every other branch's new ones, and ours
    // that stay.
    let claims = repo.claims(versions, recursive, base, others);
    let mut taken = at_base.clone();
    taken.revisions.extend(
        chain
            .revisions
            .iter()
            .enumerate()
            .filter(|(i, _)| !added.contains(i))
            .map(|(_, r)| r.clone()),
    );
    // Only numbers are renumbered: a hash id is unique wherever it goes.
    let numbered = |id: &str| match chain.scheme {
        Scheme::Sequential { width } | Scheme::Mixed { width } => is_number_of(id, width),
        Scheme::Hash | Scheme::Named => false,
    };
    let mut mapping: BTreeMap<String, String> = BTreeMap::new();
    let mut new_paths: BTreeMap<String, PathBuf> = BTreeMap::new();
    for &i in &added {
        let rev = graph.rev(i);
        let old = rev.id.clone();
        let new = if numbered(&old) {
            super::next_free(&taken, &claims).unwrap_or_else(|| old.clone())
        } else {
            old.clone()
        };
        let number = super::next_file_number(&taken, &claims);
        let mut r = rev.clone();
        if let Some(path) = super::renamed(chain, rev, &new, number) {
            r.path = path.clone();
            new_paths.insert(old.clone(), path);
        }
        r.id = new.clone();
        taken.revisions.push(r);
        mapping.insert(old, new);
    }
    let point = |d: &String| mapping.get(d).cloned().unwrap_or_else(|| base_head.clone());
    for &i in &added {
        let rev = graph.rev(i);
        let src =
            std::fs::read(&rev.path).with_context(|| format!("reading {}", rev.path.display()))?;
        let consts = rev
            .consts
            .as_ref()
            .expect("Alembic revisions carry their constants");
        let new_id = &mapping[&rev.id];
        let mut down: Vec<String> = rev.down.iter().map(point).collect();
        down.dedup();
        builder.edit(
            &rev.path,
            &src,
            edits(&src, consts, &rev.id, new_id, &rev.down, &down, &mapping),
        );
        if let Some(path) = new_paths.get(&rev.id) {
            builder.rename(&rev.path, &src, path.clone());
        }
    }
    let moved: Vec<String> = added
        .iter()
        .map(|&i| {
            let old = &graph.rev(i).id;
            if mapping[old] == *old {
                old.clone()
            } else {
                format!("{old} -> {}", mapping[old])
            }
        })
        .collect();
    let last = mapping[&graph.rev(*added.last().expect("non-empty")).id].clone();
    Ok(Some((
        format!("{} onto {base_head}", moved.join(", ")),
        last,
        at_base,
    )))
}

/// Edits in one of the branch's files: its id, its parents (mapped, or the
/// base head), its docstring header and `depends_on` among the moved ones.
fn edits(
    src: &[u8],
    consts: &ModuleConsts,
    old: &str,
    new: &str,
    old_down: &[String],
    new_down: &[String],
    mapping: &BTreeMap<String, String>,
) -> Vec<Edit> {
    let mut out = Vec::new();
    let header = crate::python::header_spans(src, consts);
    if old != new {
        if let Some(lit) = consts
            .revision
            .as_ref()
            .and_then(|a| a.value.literals().first())
        {
            out.push(Edit::new(lit.inner.clone(), new));
        }
        if let Some(span) = &header.revision_id {
            if &src[span.clone()] == old.as_bytes() {
                out.push(Edit::new(span.clone(), new));
            }
        }
    }
    if old_down != new_down {
        if let Some(down) = &consts.down_revision {
            let lits = down.value.literals();
            if lits.len() == new_down.len() && !lits.is_empty() {
                for (lit, d) in lits.iter().zip(new_down) {
                    if lit.value != *d {
                        out.push(Edit::new(lit.inner.clone(), d.clone()));
                    }
                }
            } else {
                let q = lits
                    .first()
                    .and_then(|l| l.inner.start.checked_sub(1))
                    .map_or('"', |at| src[at] as char);
                let text = match new_down {
                    [one] => format!("{q}{one}{q}"),
                    many => format!(
                        "({})",
                        many.iter()
                            .map(|d| format!("{q}{d}{q}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                out.push(Edit::new(down.value_span.clone(), text));
            }
        }
        if let Some(span) = &header.revises {
            if src[span.clone()] == *old_down.join(", ").as_bytes() {
                out.push(Edit::new(span.clone(), new_down.join(", ")));
            }
        }
    }
    if let Some(dep) = &consts.depends_on {
        if let PyValue::Str(_) | PyValue::Seq { .. } = dep.value {
            for lit in dep.value.literals() {
                if let Some(n) = mapping.get(&lit.value).filter(|n| **n != lit.value) {
                    out.push(Edit::new(lit.inner.clone(), n.clone()));
                }
            }
        }
    }
    out
}

/// One sqitch chain: the plan becomes the base's plan followed by this
/// branch's new changes, renumbered after the base's last, with their
/// scripts renamed.
pub(crate) fn sqitch_chain(
    repo: &Repo,
    chain: &Chain,
    spec: &SqitchSpec,
    (base_name, base): (&str, git2::Oid),
    mb: git2::Oid,
    builder: &mut Builder,
) -> Result<Option<(String, String)>> {
    let Some(rel_plan) = repo.rel(&spec.plan) else {
        return Ok(None);
    };
    let text_at = |c| {
        repo.file_at(c, &rel_plan)
            .and_then(|b| String::from_utf8(b).ok())
    };
    let (Some(base_text), Some(mb_text)) = (text_at(base), text_at(mb)) else {
        return Ok(None);
    };
    if base_text == mb_text {
        return Ok(None);
    }
    let ours = std::fs::read_to_string(&spec.plan)
        .with_context(|| format!("reading {}", spec.plan.display()))?;
    let plan = Plan::parse(&ours);
    let known: HashSet<String> = Plan::parse(&mb_text)
        .changes()
        .map(|(_, e)| e.name.clone())
        .collect();
    // The lines after the last change the branch shares with the merge-base.
    let last_shared = plan
        .changes()
        .filter(|(_, e)| known.contains(&e.name))
        .map(|(l, _)| l.number)
        .max()
        .unwrap_or(0);
    let tail: Vec<_> = plan
        .lines
        .iter()
        .filter(|l| l.number > last_shared)
        .collect();
    if !tail.iter().any(|l| matches!(l.kind, LineKind::Change(_))) {
        return Ok(None);
    }
    let base_plan = Plan::parse(&base_text);
    let width = chain.scheme.width().unwrap_or(2);
    let mut next = base_plan
        .changes()
        .filter_map(|(_, e)| sqitch_prefix(&e.name))
        .filter_map(|p| p.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    // In plan order, which a map would lose.
    let mut renames: Vec<(String, String)> = Vec::new();
    for line in &tail {
        if let LineKind::Change(e) = &line.kind {
            if let Some(p) = sqitch_prefix(&e.name) {
                next += 1;
                renames.push((
                    e.name.clone(),
                    format!("{next:0width$}{}", &e.name[p.len()..]),
                ));
            }
        }
    }
    let mapping: BTreeMap<String, String> = renames.iter().cloned().collect();
    let nl = if ours.contains("\r\n") { "\r\n" } else { "\n" };
    let mut text = base_text.clone();
    if !text.ends_with('\n') {
        text.push_str(nl);
    }
    for line in &tail {
        let mut body = ours[line.span.clone()].to_string();
        if let LineKind::Change(e) = &line.kind {
            // Rename from the end so earlier offsets stay valid.
            let mut spans: Vec<(std::ops::Range<usize>, String)> = Vec::new();
            if let Some(n) = mapping.get(&e.name) {
                spans.push((e.name_span.clone(), n.clone()));
            }
            for d in &e.deps {
                let (proj, name, _) = d.parts();
                if let Some(n) = mapping.get(name) {
                    let at = d.span.start + proj.map_or(0, |p| p.len() + 1);
                    spans.push((at..at + name.len(), n.clone()));
                }
            }
            spans.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
            for (r, n) in spans {
                body.replace_range(r.start - line.span.start..r.end - line.span.start, &n);
            }
        }
        text.push_str(&body);
        text.push_str(nl);
    }
    builder.edit(
        &spec.plan,
        ours.as_bytes(),
        [Edit::new(0..ours.len(), text)],
    );
    for (old, new) in &renames {
        for (script, to) in crate::frameworks::sqitch::repair::script_moves(&plan, spec, old, new) {
            let bytes =
                std::fs::read(&script).with_context(|| format!("reading {}", script.display()))?;
            builder.rename(&script, &bytes, to);
        }
    }
    let moved: Vec<String> = renames.iter().map(|(o, n)| format!("{o} -> {n}")).collect();
    let last_base = base_plan
        .changes()
        .last()
        .map(|(_, e)| e.name.clone())
        .unwrap_or_default();
    let head = renames.last().map(|(_, n)| n.clone()).unwrap_or_default();
    Ok(Some((
        format!("{} after {base_name}'s {last_base}", moved.join(", ")),
        head,
    )))
}
