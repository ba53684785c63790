//! Printing for `migfix recover`. Plain lines that fit 80 columns; colour
//! only adds to them.

use std::io::{self, Write};

use super::{style, Format};
use crate::config::Config;
use crate::findings::Finding;
use crate::outcome::Offer;

/// Words wrapped to fit 80 columns after `indent` spaces; continuation
/// lines get two more.
fn wrap(indent: usize, text: &str) -> String {
    let width = 80usize.saturating_sub(indent).max(20);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let limit = if lines.is_empty() { width } else { width - 2 };
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > limit {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    let pad = " ".repeat(indent);
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{pad}{l}")
            } else {
                format!("{pad}  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn place(f: &Finding) -> String {
    match (&f.path, f.line) {
        (Some(p), Some(l)) => format!("{p}:{l}"),
        (Some(p), None) => p.clone(),
        _ => String::new(),
    }
}

/// What is wrong, per chain, then what the log shows.
pub(crate) fn diagnosis(
    config: &Config,
    found: &[(String, Vec<Finding>)],
    log: &[Finding],
) -> io::Result<()> {
    if config.output.format == Format::Json {
        return super::json(&serde_json::json!({
            "chains": found.iter().map(|(name, f)| serde_json::json!({"name": name, "findings": f})).collect::<Vec<_>>(),
            "log": log,
        }));
    }
    let s = style(config);
    let mut out = super::sink::out();
    if found.iter().all(|(_, f)| f.is_empty()) && log.is_empty() {
        writeln!(out, "nothing to recover: every chain checks clean")?;
        return out.flush();
    }
    for (name, findings) in found {
        if findings.is_empty() {
            writeln!(out, "{name}: {}", s.green("OK"))?;
            continue;
        }
        writeln!(out, "{}:", s.bold(name))?;
        for f in findings {
            let class = f.class.map(|c| format!("[{c}] ")).unwrap_or_default();
            writeln!(out, "{}", wrap(2, &format!("{class}{}", f.message)))?;
            let at = place(f);
            if !at.is_empty() {
                writeln!(out, "      {at}")?;
            }
        }
    }
    if !log.is_empty() {
        writeln!(out, "{}:", s.bold("from the log"))?;
        for f in log {
            let class = f
                .class
                .map_or_else(|| "[?] ".to_string(), |c| format!("[{c}] "));
            let lines = f
                .log_lines
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(
                out,
                "{}",
                wrap(2, &format!("{class}{} (log line {lines})", f.message))
            )?;
        }
    }
    writeln!(out)?;
    out.flush()
}

/// The problem being fixed now, and each fix with why, before the menu
/// (whose items stay short enough for 80 columns).
pub(crate) fn problem(config: &Config, offer: &Offer) -> io::Result<()> {
    let s = style(config);
    let mut out = super::sink::out();
    writeln!(
        out,
        "{}",
        s.bold(&wrap(0, &format!("{}: {}", offer.chain, offer.problem)))
    )?;
    for (n, fix) in offer.fixes.iter().enumerate() {
        writeln!(out, "{}", wrap(2, &format!("{}. {}", n + 1, fix.label)))?;
        writeln!(out, "{}", wrap(5, &fix.why))?;
    }
    out.flush()
}

/// A fix as a menu item: its label, cut to fit 80 columns.
pub(crate) fn menu_item(label: &str) -> String {
    if label.chars().count() <= 74 {
        label.to_string()
    } else {
        format!("{}…", label.chars().take(73).collect::<String>())
    }
}

/// Without a terminal: the commands that would do what the session offers.
pub(crate) fn commands(
    config: &Config,
    offers: &[Offer],
    manual_fixes: &[Finding],
) -> io::Result<()> {
    if config.output.format == Format::Json {
        return Ok(());
    }
    let mut out = super::sink::out();
    writeln!(
        out,
        "no terminal to ask on, so nothing was changed. To fix it without prompts:"
    )?;
    for offer in offers {
        writeln!(
            out,
            "{}",
            wrap(2, &format!("{}: {}", offer.chain, offer.problem))
        )?;
        for (n, fix) in offer.fixes.iter().enumerate() {
            let tag = if n == 0 { "recommended" } else { "or" };
            match &fix.command {
                Some(cmd) => writeln!(out, "    {tag}: {cmd}")?,
                None => writeln!(
                    out,
                    "{}",
                    wrap(4, &format!("{tag}: {} (by hand)", fix.label))
                )?,
            }
        }
    }
    drop(out);
    manual(config, manual_fixes)
}

/// The runbook fixes that are not chain edits: the SQL or CI step to add.
pub(crate) fn manual(config: &Config, findings: &[Finding]) -> io::Result<()> {
    if findings.is_empty() || config.output.format == Format::Json {
        return Ok(());
    }
    let s = style(config);
    let mut out = super::sink::out();
    writeln!(out)?;
    writeln!(out, "{}", s.bold("to do by hand (not chain edits):"))?;
    for f in findings {
        let class = f
            .class
            .map_or_else(|| "[?] ".to_string(), |c| format!("[{c}] "));
        writeln!(out, "{}", wrap(2, &format!("{class}{}", f.message)))?;
        writeln!(out, "{}", wrap(4, &format!("fix: {}", f.fix)))?;
        if let Some(sql) = &f.sql {
            for line in sql.lines() {
                writeln!(out, "      {line}")?;
            }
        }
        super::write_run(&mut out, "    ", f)?;
    }
    out.flush()
}

pub(crate) fn follow_ups(config: &Config, lines: &[String]) -> io::Result<()> {
    if lines.is_empty() || config.output.format == Format::Json {
        return Ok(());
    }
    let s = style(config);
    let mut out = super::sink::out();
    writeln!(out)?;
    writeln!(out, "{}", s.bold("next:"))?;
    for l in lines {
        writeln!(out, "{}", wrap(2, l))?;
    }
    out.flush()
}
