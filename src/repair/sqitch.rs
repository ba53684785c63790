//! Renaming a sqitch change: the plan entry, every dependency naming it,
//! and its deploy, revert and verify scripts, as one unit. sqitch has no
//! rename command of its own.

use anyhow::{bail, Context, Result};

use super::Preview;
use crate::chains::scheme::sqitch_prefix;
use crate::chains::sqitch::{invalid_name, lint, scripts_of, LineKind, Plan};
use crate::chains::Chain;
use crate::cli::RenumberArgs;
use crate::config::{rel, Config, Source};
use crate::error::{Diag, InputErrors, Refused};
use crate::plan::{Builder, Edit};
use crate::report;

pub(crate) fn renumber(config: &Config, chain: &Chain, idx: usize, args: &RenumberArgs) -> Result<(Preview, crate::plan::Plan)> {
    let Source::Sqitch(spec) = &chain.spec.source else { unreachable!("sqitch chains only") };
    let text = std::fs::read_to_string(&spec.plan).with_context(|| format!("reading {}", spec.plan.display()))?;
    let plan = Plan::parse(&text);
    let old = chain.revisions[idx].id.split('@').next().unwrap_or_default().to_string();
    let first_line = plan.changes().find(|(_, e)| e.name == old).map(|(l, _)| l.number).unwrap_or(0);

    if let Some((tag_line, tag)) = plan.tag_after(first_line) {
        let what = format!("`{old}` is followed by tag @{} (line {}): it is released, so probably deployed", tag.name, tag_line.number);
        if !args.force {
            return Err(Refused::new(format!("{what}; sqitch tracks deployed changes by name"))
                .help("rename it only if no database has it deployed: migfix renumber ... --force")
                .into());
        }
        report::warning(&format!(
            "{what}. Every database where `{old}` is deployed still records the old name: its sqitch registry must be repaired by hand, or sqitch will revert and redeploy it"
        ));
    }

    let width = chain.scheme.width().unwrap_or(2);
    let rest = sqitch_prefix(&old).map(|p| &old[p.len()..]);
    let new = match (&args.to, rest) {
        (Some(to), Some(rest)) if to.bytes().all(|b| b.is_ascii_digit()) => format!("{to:0>width$}{rest}"),
        (Some(to), _) => to.clone(),
        (None, Some(rest)) => {
            let max = plan.changes().filter_map(|(_, e)| sqitch_prefix(&e.name)).filter_map(|p| p.parse::<u64>().ok()).max().unwrap_or(0);
            format!("{:0width$}{rest}", max + 1)
        }
        (None, None) => {
            return Err(InputErrors::one(Diag::new(&old, None, "the change has no sequence number to advance"))
                .with_help(format!("name the new change: migfix renumber {old} --to NAME"))
                .into())
        }
    };
    if new == old {
        return Err(Refused::new(format!("`{old}` is already named so")).into());
    }
    if let Some(why) = invalid_name(&new, false) {
        return Err(InputErrors::one(Diag::new("--to", None, format!("`{new}` is not a valid sqitch change name: {why}"))).into());
    }
    if let Some((line, _)) = plan.changes().find(|(_, e)| e.name == new) {
        return Err(Refused::new(format!("`{new}` is already planned (line {})", line.number)).into());
    }
    if let Some(prefix) = sqitch_prefix(&new) {
        if let Some((line, e)) = plan.changes().find(|(_, e)| e.name != old && sqitch_prefix(&e.name) == Some(prefix)) {
            return Err(Refused::new(format!("sequence number {prefix} is used by `{}` (line {})", e.name, line.number)).into());
        }
    }

    let project = plan.pragma("project").unwrap_or("");
    let mut edits = Vec::new();
    let mut dependents = Vec::new();
    for line in &plan.lines {
        let entry = match &line.kind {
            LineKind::Change(e) => e,
            _ => continue,
        };
        if entry.name == old {
            edits.push(Edit::new(entry.name_span.clone(), new.clone()));
        }
        for dep in &entry.deps {
            let (proj, name, _) = dep.parts();
            if name == old && proj.is_none_or(|p| p == project) {
                let at = dep.span.start + proj.map_or(0, |p| p.len() + 1);
                edits.push(Edit::new(at..at + old.len(), new.clone()));
                dependents.push(entry.name.clone());
            }
        }
    }
    let mut builder = Builder::default();
    builder.edit(&spec.plan, text.as_bytes(), edits);
    let scripts = scripts_of(spec, &old);
    for script in &scripts {
        let file = script.file_name().and_then(|f| f.to_str()).expect("script names are UTF-8");
        let renamed = format!("{new}{}", &file[old.len()..]);
        let bytes = std::fs::read(script).with_context(|| format!("reading {}", script.display()))?;
        builder.rename(script, &bytes, script.with_file_name(renamed));
    }
    let built = builder.build()?;

    // The renamed plan must read back with the new name and no new lint.
    let after_text = String::from_utf8(built.changes[0].after.clone()).expect("edits keep UTF-8");
    let after = Plan::parse(&after_text);
    if after.changes().any(|(_, e)| e.name == old) || !after.changes().any(|(_, e)| e.name == new) {
        bail!("the planned rename would not replace `{old}` with `{new}`; nothing was written");
    }
    let describe = |p: &Plan| -> Vec<String> { lint(p, spec).into_iter().filter(|l| l.kind != "sqitch-script").map(|l| l.message).collect() };
    let before_lint = describe(&plan);
    let new_lint: Vec<String> = describe(&after).into_iter().filter(|m| !before_lint.contains(m)).collect();
    if !new_lint.is_empty() {
        bail!("the planned rename would break the plan ({}); nothing was written", new_lint.join("; "));
    }

    let mut notes = vec![
        format!("file: {}", rel(&config.root, &spec.plan)),
        format!("{} script{} renamed with it", scripts.len(), if scripts.len() == 1 { "" } else { "s" }),
    ];
    if !dependents.is_empty() {
        dependents.dedup();
        notes.push(format!("dependencies follow it in: {}", dependents.join(", ")));
    }
    let heads_after = after.changes().last().map(|(_, e)| vec![e.name.clone()]).unwrap_or_default();
    let preview = Preview {
        chain: chain.name().to_string(),
        title: format!("renumber {old} -> {new} in {}", chain.name()),
        notes,
        heads_after,
    };
    Ok((preview, built))
}
