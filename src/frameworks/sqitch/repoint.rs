//! sqitch's re-point: every requirement naming a change its project does
//! not plan (`name`, `name@tag`, or `project:name` of another plan of the
//! repository) made to name a planned one, in the plan's text only.

use anyhow::{bail, Result};

use super::lint::{added, projects};
use super::plan::Plan;
use super::planned::read_plan;
use super::repair::rename_in;
use crate::chains::Chain;
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors};
use crate::plan::Builder;
use crate::repair::{confine, drop_refused, missing_new, nearest, Preview};

/// `project:name` as its project and name.
fn split(dep: &str) -> (Option<&str>, &str) {
    match dep.split_once(':') {
        Some((p, n)) => (Some(p), n),
        None => (None, dep),
    }
}

pub(crate) fn repoint(
    config: &Config,
    chains: &[Chain],
    chain: &Chain,
    old: &str,
    new: Option<&str>,
) -> Result<Option<(Preview, crate::plan::Plan)>> {
    let spec = super::spec_of(&chain.spec);
    let text = read_plan(&spec.plan)
        .map_err(|(line, m)| InputErrors::one(Diag::new(rel(&config.root, &spec.plan), line, m)))?;
    let plan = Plan::parse(&text);
    let project = plan.pragma("project").unwrap_or("").to_string();
    // A requirement on this project written `project:name` is its own.
    let (old_project, old_name) = match split(old) {
        (Some(p), n) if p == project => (None, n),
        other => other,
    };
    let ours = |p: Option<&str>| match old_project {
        None => p.is_none_or(|p| p == project),
        Some(o) => p == Some(o),
    };
    // Renamed to itself: only to find the requirements that name it.
    let (edits, dependents) = rename_in(&plan, old_name, old_name, ours);
    if edits.is_empty() {
        return Ok(None);
    }
    let Some(new) = new else {
        return Err(drop_refused(old, "a sqitch requirement").into());
    };
    let (new_project, new_name) = split(new);
    let new_project = new_project.filter(|p| *p != project);
    if new_project.is_some() && new_project != old_project {
        return Err(InputErrors::one(Diag::new(
            new,
            None,
            format!("{new} is in another project than {old}: a re-point keeps the project"),
        ))
        .into());
    }
    let known = projects(chains);
    let (planned, what): (Vec<String>, String) = match old_project {
        None => {
            if let Some((line, _)) = plan.changes().find(|(_, e)| e.name == old_name) {
                return Err(InputErrors::one(Diag::new(
                    old,
                    None,
                    format!(
                        "`{old_name}` is planned ({}, line {}): its requirements do not dangle",
                        rel(&config.root, &spec.plan),
                        line.number
                    ),
                ))
                .with_help(format!("to rename it: migfix renumber {old_name} --to NAME"))
                .into());
            }
            (
                plan.changes().map(|(_, e)| e.name.clone()).collect(),
                format!("project {project}"),
            )
        }
        Some(p) => match known.get(p) {
            Some(names) => {
                if names.iter().any(|n| n == old_name) {
                    return Err(InputErrors::one(Diag::new(
                        old,
                        None,
                        format!("project {p} plans `{old_name}`: its requirements do not dangle"),
                    ))
                    .into());
                }
                (
                    names.iter().filter(|n| !n.starts_with('@')).cloned().collect(),
                    format!("project {p}"),
                )
            }
            None => {
                return Err(InputErrors::one(Diag::new(
                    old,
                    None,
                    format!("project {p} is not a plan of this repository: migfix cannot tell what it plans"),
                ))
                .into())
            }
        },
    };
    if !planned.iter().any(|n| n == new_name) {
        let near = nearest(new_name, planned.iter().map(String::as_str));
        return Err(missing_new(new, "change", &what, &near).into());
    }
    let (edits, _) = rename_in(&plan, old_name, new_name, ours);
    let mut builder = Builder::default();
    builder.edit(&spec.plan, text.as_bytes(), edits);
    let built = builder.build()?;
    confine(config, &[chain], &built)?;

    // No new lint in the plan read back.
    let after_text = String::from_utf8(built.changes[0].after.clone()).expect("edits keep UTF-8");
    let new_lint = added(&plan, &Plan::parse(&after_text), spec, &known);
    if !new_lint.is_empty() {
        bail!(
            "re-pointing {old} at {new} would break the plan ({}); nothing was written",
            new_lint.join("; ")
        );
    }
    let shown_new = match old_project {
        Some(p) => format!("{p}:{new_name}"),
        None => new_name.to_string(),
    };
    let preview = edited(
        chain,
        format!("re-point {old} -> {shown_new} in {}", chain.name()),
        vec![
            format!("file: {}", rel(&config.root, &spec.plan)),
            format!(
                "requirements of {} now name {shown_new}",
                dependents
                    .iter()
                    .map(|d| format!("`{d}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ],
        &Plan::parse(&after_text),
    );
    Ok(Some((preview, built)))
}

/// The preview of an edit of the plan's text: its one head is the last
/// change planned.
pub(super) fn edited(chain: &Chain, title: String, notes: Vec<String>, after: &Plan) -> Preview {
    Preview {
        chain: chain.name().to_string(),
        title,
        notes,
        heads_after: after
            .changes()
            .last()
            .map(|(_, e)| vec![e.name.clone()])
            .unwrap_or_default(),
        parts_after: Vec::new(),
    }
}
