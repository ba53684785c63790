//! sqitch's rebase: this branch's new changes moved after the base's
//! last change in the plan.

use std::collections::{BTreeMap, HashSet};

use anyhow::{Context, Result};

use super::plan::{LineKind, Plan};
use super::SqitchSpec;
use crate::chains::scheme::number_prefix;
use crate::chains::Chain;
use crate::git::Repo;
use crate::plan::{Builder, Edit};

/// One sqitch chain: the plan becomes the base's plan followed by this
/// branch's new changes, renumbered after the base's last, with their
/// scripts renamed.
pub(crate) fn rebase(
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
    let ours = crate::files::read_to_string(&spec.plan)
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
        .filter_map(|(_, e)| number_prefix(&e.name))
        .filter_map(|p| p.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    // In plan order, which a map would lose.
    let mut renames: Vec<(String, String)> = Vec::new();
    for line in &tail {
        if let LineKind::Change(e) = &line.kind {
            if let Some(p) = number_prefix(&e.name) {
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
            let bytes = crate::files::read(&script)
                .with_context(|| format!("reading {}", script.display()))?;
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
