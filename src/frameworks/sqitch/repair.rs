//! Renaming a sqitch change: the plan entry, every dependency naming it (in
//! this plan and in the other plans of the repository that require it), and
//! its deploy, revert and verify scripts, as one unit. sqitch has no rename
//! command of its own.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::config::sqitch_layouts;
use super::lint::{lint, projects};
use super::plan::{invalid_name, Plan};
use super::planned::read_plan;
use super::SqitchSpec;
use crate::chains::scheme::number_prefix;
use crate::chains::Chain;
use crate::cli::RenumberArgs;
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors, Refused};
use crate::plan::{Builder, Edit};
use crate::repair::Preview;
use crate::report;

/// Each existing script of change `old`, every version of it, with the path
/// sqitch will look for once it is named `new`: nested names move into
/// sub-folders, a reworked version keeps its `@TAG`.
pub(crate) fn script_moves(
    plan: &Plan,
    spec: &SqitchSpec,
    old: &str,
    new: &str,
) -> Vec<(PathBuf, PathBuf)> {
    let mut out: Vec<(PathBuf, PathBuf)> = Vec::new();
    for p in plan.planned().iter().filter(|p| p.entry.name == old) {
        let dirs = spec.script_dirs(p.is_reworked());
        let file = p.script(&spec.extension, |c| dirs[0].join(c).is_file());
        let renamed = format!("{new}{}", &file[old.len()..]);
        for dir in dirs {
            let from = dir.join(&file);
            if from.is_file() && !out.iter().any(|(f, _)| *f == from) {
                out.push((from, dir.join(&renamed)));
            }
        }
    }
    out
}

pub(crate) fn renumber(
    config: &Config,
    chains: &[Chain],
    chain: &Chain,
    idx: usize,
    args: &RenumberArgs,
) -> Result<(Preview, crate::plan::Plan)> {
    let spec = super::spec_of(&chain.spec);
    let text = read_plan(&spec.plan)
        .map_err(|(line, m)| InputErrors::one(Diag::new(rel(&config.root, &spec.plan), line, m)))?;
    let plan = Plan::parse(&text);
    let project = plan.pragma("project").unwrap_or("").to_string();
    let old = chain.revisions[idx]
        .id
        .split(['@', ' '])
        .next()
        .unwrap_or_default()
        .to_string();
    let planned = plan.planned();
    let first = planned
        .iter()
        .position(|p| p.entry.name == old)
        .expect("the change is in its plan");

    if let Some((tag_line, tag)) = plan.tag_after(planned[first].line.number) {
        let what = format!(
            "`{old}` is followed by tag @{} (line {}): it is released, so probably deployed",
            tag.name, tag_line.number
        );
        if !args.write.force {
            return Err(Refused::new(format!("{what}; sqitch tracks deployed changes by name"))
                .help("rename it only if no database has it deployed: migfix renumber ... --force")
                .into());
        }
        report::warning(&format!(
            "{what}. Every database where `{old}` is deployed still records the old name: its sqitch registry must be repaired by hand, or sqitch will revert and redeploy it"
        ));
    }

    let width = chain.scheme.width().unwrap_or(2);
    let rest = number_prefix(&old).map(|p| &old[p.len()..]);
    let new = match (&args.to, rest) {
        (Some(to), Some(rest)) if to.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{to:0>width$}{rest}")
        }
        (Some(to), _) => to.clone(),
        (None, Some(rest)) => {
            let max = plan
                .changes()
                .filter_map(|(_, e)| number_prefix(&e.name))
                .filter_map(|p| p.parse::<u64>().ok())
                .max()
                .unwrap_or(0);
            format!("{:0width$}{rest}", max + 1)
        }
        (None, None) => {
            return Err(InputErrors::one(Diag::new(
                &old,
                None,
                "the change has no sequence number to advance",
            ))
            .with_help(format!(
                "name the new change: migfix renumber {old} --to NAME"
            ))
            .into())
        }
    };
    if new == old {
        return Err(Refused::new(format!("`{old}` is already named so")).into());
    }
    if let Some(why) = invalid_name(&new, false).or_else(|| bad_path(&new)) {
        return Err(InputErrors::one(Diag::new(
            "--to",
            None,
            format!("`{new}` is not a valid sqitch change name: {why}"),
        ))
        .into());
    }
    if let Some((line, _)) = plan.changes().find(|(_, e)| e.name == new) {
        return Err(
            Refused::new(format!("`{new}` is already planned (line {})", line.number)).into(),
        );
    }
    if let Some(prefix) = number_prefix(&new) {
        if let Some((line, e)) = plan
            .changes()
            .find(|(_, e)| e.name != old && number_prefix(&e.name) == Some(prefix))
        {
            return Err(Refused::new(format!(
                "sequence number {prefix} is used by `{}` (line {})",
                e.name, line.number
            ))
            .into());
        }
    }

    let mut builder = Builder::default();
    let (edits, dependents) =
        rename_in(&plan, &old, &new, |proj| proj.is_none_or(|p| p == project));
    builder.edit(&spec.plan, text.as_bytes(), edits);
    // Other plans of the repository that require it as `project:old`.
    let mut other_plans = Vec::new();
    for other in chains.iter().filter(|c| c.spec.name != chain.spec.name) {
        let Some(other_spec) = other.spec.source::<super::SqitchSpec>() else {
            continue;
        };
        if other_spec.plan == spec.plan {
            continue;
        }
        let Ok(other_text) = read_plan(&other_spec.plan) else {
            continue;
        };
        let other_plan = Plan::parse(&other_text);
        if other_plan.pragma("project") == Some(project.as_str()) {
            // Another engine's plan of this project: `project:name` there
            // names its own change.
            continue;
        }
        let (edits, who) = rename_in(&other_plan, &old, &new, |proj| {
            proj == Some(project.as_str())
        });
        if !edits.is_empty() {
            other_plans.push(format!(
                "{} ({})",
                rel(&config.root, &other_spec.plan),
                who.join(", ")
            ));
            builder.edit(&other_spec.plan, other_text.as_bytes(), edits);
        }
    }
    // The same plan read by other engines or targets, with scripts of
    // their own (whether or not `--chain` selected their chains).
    let same_plan: Vec<SqitchSpec> = spec
        .conf
        .as_deref()
        .and_then(|c| sqitch_layouts(c).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|l| l.plan == spec.plan && !l.same_layout(spec))
        .collect();
    let mut moves = script_moves(&plan, spec, &old, &new);
    for other in &same_plan {
        for (from, to) in script_moves(&plan, other, &old, &new) {
            if !moves.iter().any(|(f, _)| *f == from) {
                moves.push((from, to));
            }
        }
    }
    for (from, to) in &moves {
        let bytes =
            crate::files::read(from).with_context(|| format!("reading {}", from.display()))?;
        builder.rename(from, &bytes, to.clone());
    }
    let built = builder.build()?;
    crate::repair::confine(config, &[chain], &built)?;

    // The renamed plan must read back with the new name, no new lint, and
    // find each moved script where sqitch will look for it.
    let after_text = String::from_utf8(built.changes[0].after.clone()).expect("edits keep UTF-8");
    let after = Plan::parse(&after_text);
    if after.changes().any(|(_, e)| e.name == old) || !after.changes().any(|(_, e)| e.name == new) {
        bail!("the planned rename would not replace `{old}` with `{new}`; nothing was written");
    }
    let targets: Vec<&PathBuf> = moves.iter().map(|(_, to)| to).collect();
    let exists_after = |p: &Path| {
        targets.iter().any(|t| *t == p) || (p.is_file() && !moves.iter().any(|(f, _)| f == p))
    };
    for p in after.planned().iter().filter(|p| p.entry.name == new) {
        let dirs = spec.script_dirs(p.is_reworked());
        let file = p.script(&spec.extension, |c| exists_after(&dirs[0].join(c)));
        let before = planned
            .iter()
            .find(|b| b.line.number == p.line.number)
            .expect("same lines");
        let had = before.scripts(spec).map(|s| s.is_file());
        for (dir, had) in dirs.iter().zip(had) {
            if had && !exists_after(&dir.join(&file)) {
                bail!("after the rename sqitch would look for {} and not find it; nothing was written", dir.join(&file).display());
            }
        }
    }
    let known = projects(chains);
    let describe = |p: &Plan| -> Vec<String> {
        lint(p, spec, &known)
            .into_iter()
            .filter(|l| !l.kind.contains("script"))
            .map(|l| l.message)
            .collect()
    };
    let before_lint = describe(&plan);
    let new_lint: Vec<String> = describe(&after)
        .into_iter()
        .filter(|m| !before_lint.contains(m))
        .collect();
    if !new_lint.is_empty() {
        bail!(
            "the planned rename would break the plan ({}); nothing was written",
            new_lint.join("; ")
        );
    }

    let mut notes = vec![
        format!("file: {}", rel(&config.root, &spec.plan)),
        format!(
            "{} script{} renamed with it",
            moves.len(),
            if moves.len() == 1 { "" } else { "s" }
        ),
    ];
    if !dependents.is_empty() {
        notes.push(format!(
            "dependencies follow it in: {}",
            dependents.join(", ")
        ));
    }
    if !other_plans.is_empty() {
        notes.push(format!(
            "required by other plans, edited too: {}",
            other_plans.join("; ")
        ));
    }
    // sqitch knows a deployed change by name; a database that has the old
    // name cannot revert or redeploy it once the plan no longer has it.
    let previous = first.checked_sub(1).map(|i| planned[i].entry.name.clone());
    let revert_to = previous.map_or_else(|| "@ROOT".to_string(), |p| p.to_string());
    notes.push(format!(
        "a database that has `{old}` deployed must revert it before this rename reaches it: `sqitch revert --to {revert_to}`, then `sqitch deploy` after the rename (or `sqitch rebase --onto {revert_to}` before it)"
    ));
    let heads_after = after
        .changes()
        .last()
        .map(|(_, e)| vec![e.name.clone()])
        .unwrap_or_default();
    let preview = Preview {
        chain: chain.name().to_string(),
        title: format!("renumber {old} -> {new} in {}", chain.name()),
        notes,
        heads_after,
        parts_after: Vec::new(),
    };
    Ok((preview, built))
}

/// The edits that rename `old` in one plan: its entries (in its own plan)
/// and each dependency naming it whose project `ours` accepts; with the
/// changes whose dependencies follow.
pub(super) fn rename_in(
    plan: &Plan,
    old: &str,
    new: &str,
    ours: impl Fn(Option<&str>) -> bool,
) -> (Vec<Edit>, Vec<String>) {
    let own_plan = ours(None);
    let mut edits = Vec::new();
    let mut dependents: Vec<String> = Vec::new();
    for (_, entry) in plan.changes() {
        if own_plan && entry.name == old {
            edits.push(Edit::new(entry.name_span.clone(), new));
        }
        for dep in &entry.deps {
            let (proj, name, _) = dep.parts();
            if name == old && ours(proj) {
                let at = dep.span.start + proj.map_or(0, |p| p.len() + 1);
                edits.push(Edit::new(at..at + old.len(), new));
                if !dependents.contains(&entry.name) {
                    dependents.push(entry.name.clone());
                }
            }
        }
    }
    (edits, dependents)
}

/// A change name is also a path below the script folders: it must stay
/// below them.
fn bad_path(name: &str) -> Option<String> {
    name.split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
        .then(|| "a path segment is empty, `.` or `..`".to_string())
}
