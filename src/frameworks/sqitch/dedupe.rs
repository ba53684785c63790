//! sqitch's dedupe: a change declared twice with no tag between (the same
//! change merged from two branches; both lines name one set of scripts)
//! keeps its first declaration, byte for byte: sqitch knows a deployed
//! change by a hash of its line. The later line goes; what it listed that
//! the first does not is named, for the team to judge.

use anyhow::{bail, Result};

use super::lint::{added, projects};
use super::plan::{Entry, Line, LineKind, Plan};
use super::planned::read_plan;
use super::repoint::edited;
use crate::chains::Chain;
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors};
use crate::plan::{Builder, Edit};
use crate::repair::{confine, Preview};

/// Each later declaration of `name` with the one it repeats: pairs within
/// one tag section (a tag between makes a rework, which is sqitch's way).
fn repeats<'p>(plan: &'p Plan, name: &str) -> Vec<(&'p Line, &'p Entry, &'p Line, &'p Entry)> {
    let mut first: Option<(&Line, &Entry)> = None;
    let mut out = Vec::new();
    for line in &plan.lines {
        match &line.kind {
            LineKind::Tag(_) => first = None,
            LineKind::Change(e) if e.name == name => match first {
                Some((l, f)) => out.push((l, f, line, e)),
                None => first = Some((line, e)),
            },
            _ => {}
        }
    }
    out
}

/// A requirement or conflict as written in brackets.
fn written(dep: &super::plan::Dep) -> String {
    if dep.conflict {
        format!("!{}", dep.text)
    } else {
        dep.text.clone()
    }
}

pub(crate) fn dedupe(
    config: &Config,
    chains: &[Chain],
    chain: &Chain,
    name: &str,
) -> Result<Option<(Preview, crate::plan::Plan)>> {
    let spec = super::spec_of(&chain.spec);
    let shown = rel(&config.root, &spec.plan);
    let text = read_plan(&spec.plan)
        .map_err(|(line, m)| InputErrors::one(Diag::new(shown.clone(), line, m)))?;
    let plan = Plan::parse(&text);
    let pairs = repeats(&plan, name);
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut edits = Vec::new();
    let mut notes = vec![format!("file: {shown}")];
    for (first_line, first, line, later) in &pairs {
        if first.marker != later.marker {
            return Err(InputErrors::one(Diag::new(
                shown.clone(),
                Some(line.number),
                format!(
                    "`{name}` is declared `{}{name}` here and `{}{name}` on line {}: migfix cannot tell which one holds",
                    later.marker, first.marker, first_line.number
                ),
            ))
            .with_help("remove the line that does not hold by hand")
            .into());
        }
        // The later line goes whole, with its line ending.
        let rest = &text[line.span.end..];
        let ending = if rest.starts_with("\r\n") {
            2
        } else {
            usize::from(rest.starts_with('\n'))
        };
        edits.push(Edit::new(line.span.start..line.span.end + ending, ""));
        notes.push(format!(
            "line {}, which repeated line {}, removed",
            line.number, first_line.number
        ));
        let have: Vec<String> = first.deps.iter().map(written).collect();
        let mut only_later: Vec<String> = Vec::new();
        for dep in later.deps.iter().map(written) {
            if !have.contains(&dep) && !only_later.contains(&dep) {
                only_later.push(dep);
            }
        }
        if !only_later.is_empty() {
            notes.push(format!(
                "line {} also listed {}; line {} is kept as it is, since sqitch's change id hashes the line",
                line.number,
                only_later
                    .iter()
                    .map(|d| format!("`{d}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                first_line.number
            ));
        }
    }
    let mut builder = Builder::default();
    builder.edit(&spec.plan, text.as_bytes(), edits);
    let built = builder.build()?;
    confine(config, &[chain], &built)?;

    // The plan read back: the repeat gone, and nothing new wrong.
    let after_text = String::from_utf8(built.changes[0].after.clone()).expect("edits keep UTF-8");
    let after = Plan::parse(&after_text);
    let new_lint = added(&plan, &after, spec, &projects(chains));
    if !new_lint.is_empty() {
        bail!(
            "keeping the first declaration of `{name}` would break the plan ({}); nothing was written",
            new_lint.join("; ")
        );
    }
    let preview = edited(
        chain,
        format!("dedupe `{name}` in {}", chain.name()),
        notes,
        &after,
    );
    Ok(Some((preview, built)))
}
