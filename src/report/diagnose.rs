//! Printing for `migfix diagnose`: findings from the tree (per chain, like
//! `check`) or from a log (in log order), as text or JSON.

use std::io::{self, Write};

use crate::chains::Chain;
use crate::cli::Format;
use crate::config::Config;
use crate::error::Diag;
use crate::findings::Finding;
use crate::suppress::Suppressed;

use super::{ci, json, style, warn, warnings, Style};

/// Related places shown before "and N more".
const RELATED_SHOWN: usize = 3;

/// Static findings, grouped by chain.
pub(crate) fn tree(
    config: &Config,
    per_chain: &[(&Chain, Vec<Finding>)],
    suppressed: &[Vec<Suppressed>],
) -> io::Result<()> {
    if config.output.format.is_ci() {
        let outcome = ci::Outcome {
            command: "diagnose",
            errors: config.broken.iter().collect(),
            chains: per_chain
                .iter()
                .zip(suppressed)
                .map(|((c, f), x)| super::ci_chain(config, c, f, &[], &c.warnings, x))
                .collect(),
        };
        return ci::print(config.output.format, &outcome);
    }
    let chains: Vec<Chain> = per_chain.iter().map(|(c, _)| (*c).clone()).collect();
    warn(config, &chains);
    if config.output.format == Format::Json {
        let findings: Vec<&Finding> = per_chain.iter().flat_map(|(_, f)| f).collect();
        let suppressed: Vec<&Suppressed> = suppressed.iter().flatten().collect();
        return json(
            &serde_json::json!({ "findings": findings, "warnings": warnings(&chains), "errors": config.broken, "suppressed": suppressed }),
        );
    }
    let s = style(config);
    let mut out = super::sink::out();
    for ((chain, findings), suppressed) in per_chain.iter().zip(suppressed) {
        let hushed = match suppressed.len() {
            0 => String::new(),
            n => format!("; {n} suppressed"),
        };
        if findings.is_empty() {
            writeln!(
                out,
                "{}: {} (no failure of classes A–F found{hushed})",
                chain.name(),
                s.green("OK")
            )?;
            super::list_suppressed(config, &mut out, suppressed)?;
            continue;
        }
        let n = findings.len();
        writeln!(
            out,
            "{}: {} ({n} finding{}{hushed})",
            chain.name(),
            s.red("FAILED"),
            if n == 1 { "" } else { "s" }
        )?;
        for f in findings {
            let place = match (&f.path, f.line) {
                (Some(p), Some(l)) => format!("{p}:{l}: "),
                (Some(p), None) => format!("{p}: "),
                _ => String::new(),
            };
            writeln!(out, "  {place}{}{}", s.bold(&class_tag(f)), f.message)?;
            details(&mut out, &s, f, "    ")?;
        }
        super::list_suppressed(config, &mut out, suppressed)?;
    }
    out.flush()
}

/// Findings from a log, in the order the log shows them.
pub(crate) fn log(
    config: &Config,
    shown: &str,
    lines: usize,
    findings: &[Finding],
    chains: &[Chain],
    tree_error: Option<&String>,
) -> io::Result<()> {
    let mut notes: Vec<Diag> = warnings(chains).into_iter().cloned().collect();
    if let Some(e) = tree_error {
        notes.push(Diag::new(
            config.rel(&config.root),
            None,
            format!("the tree could not be read, so findings do not point into it: {e}"),
        ));
    }
    if config.output.format == Format::Json {
        return json(
            &serde_json::json!({ "log": shown, "lines": lines, "findings": findings, "warnings": notes, "errors": config.broken }),
        );
    }
    // Parts of the tree that could not be read do not change the log's
    // verdict: they are said, as warnings.
    notes.extend(config.broken.iter().cloned());
    if config.output.format.is_ci() {
        // The log is one case, holding what no chain explains; each chain
        // that a finding points into is another.
        let mut by_chain: Vec<(String, Vec<&Finding>)> = vec![(shown.to_string(), Vec::new())];
        for f in findings {
            let name = f.chain.clone().unwrap_or_else(|| shown.to_string());
            match by_chain.iter_mut().find(|(n, _)| *n == name) {
                Some((_, list)) => list.push(f),
                None => by_chain.push((name, vec![f])),
            }
        }
        let outcome = ci::Outcome {
            command: "diagnose",
            errors: config.broken.iter().collect(),
            chains: by_chain
                .into_iter()
                .enumerate()
                .map(|(i, (name, failing))| ci::ChainOutcome {
                    suppressed: Vec::new(),
                    words: chains
                        .iter()
                        .find(|c| c.name() == name)
                        .map_or(&crate::config::profile::Words::COMMON, |c| {
                            &c.profile().words
                        }),
                    location: Some(if i == 0 {
                        shown.to_string()
                    } else {
                        chains
                            .iter()
                            .find(|c| c.name() == name)
                            .map_or_else(|| name.clone(), |c| config.rel(&c.location()))
                    }),
                    name,
                    failing,
                    warned: Vec::new(),
                    notes: if i == 0 {
                        notes.iter().collect()
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
        };
        return ci::print(config.output.format, &outcome);
    }
    if !config.output.quiet {
        let mut err = io::stderr().lock();
        for d in &notes {
            let _ = writeln!(err, "warning: {d}");
        }
    }
    let s = style(config);
    let mut out = super::sink::out();
    let n = findings.len();
    if n == 0 {
        writeln!(
            out,
            "{shown}: {} ({lines} lines, no failure found)",
            s.green("OK")
        )?;
        return out.flush();
    }
    writeln!(
        out,
        "{shown}: {} failure{} found",
        n,
        if n == 1 { "" } else { "s" }
    )?;
    for f in findings {
        writeln!(out)?;
        writeln!(out, "{}{}", s.bold(&class_tag(f)), s.bold(&f.message))?;
        if let Some(e) = &f.error {
            let at = f
                .log_lines
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(out, "  error: {e}")?;
            writeln!(out, "  log lines: {at}")?;
        }
        if let Some(step) = &f.step {
            writeln!(out, "  step: {step}")?;
        }
        let migration = match (&f.revision, &f.path, f.line) {
            (Some(r), Some(p), Some(l)) => Some(format!("{r} ({p}:{l})")),
            (Some(r), Some(p), None) => Some(format!("{r} ({p})")),
            (Some(r), None, _) => Some(r.clone()),
            (None, Some(p), Some(l)) => Some(format!("{p}:{l}")),
            (None, Some(p), None) => Some(p.clone()),
            (None, None, _) => None,
        };
        if let Some(m) = migration {
            let chain = f
                .chain
                .as_deref()
                .map(|c| format!(" in {c}"))
                .unwrap_or_default();
            writeln!(out, "  migration: {m}{chain}")?;
        }
        if let Some(st) = &f.statement {
            let one_line = st.split_whitespace().collect::<Vec<_>>().join(" ");
            writeln!(out, "  statement: {one_line}")?;
        }
        details(&mut out, &s, f, "  ")?;
    }
    out.flush()
}

fn class_tag(f: &Finding) -> String {
    match f.class {
        Some(c) => format!("[{c}] "),
        None if f.kind == "unclassified" => "[?] ".to_string(),
        None => String::new(),
    }
}

/// Related places, the fix, its SQL and the command.
fn details(out: &mut impl Write, s: &Style, f: &Finding, indent: &str) -> io::Result<()> {
    if !f.related.is_empty() {
        let shown: Vec<String> = f
            .related
            .iter()
            .take(RELATED_SHOWN)
            .map(|p| format!("{}:{}", p.path, p.line))
            .collect();
        let more = f.related.len().saturating_sub(RELATED_SHOWN);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        writeln!(out, "{indent}also: {}{more}", shown.join(", "))?;
    }
    writeln!(out, "{indent}fix: {}", f.fix)?;
    if let Some(sql) = &f.sql {
        for line in sql.lines() {
            writeln!(out, "{indent}  {}", s.dim(line))?;
        }
    }
    super::write_run(out, indent, f)?;
    Ok(())
}
