//! Printing for `migfix gate`: each step as it starts and ends, in the
//! runbook's step names, then what failed and how to fix it.

use std::io::{self, Write};

use super::{style, Format};
use crate::config::Config;
use crate::outcome::ChainRun;

/// Which server the gate started, on stderr so that JSON stays one document.
pub(crate) fn throwaway(config: &Config, version: &str, bin: &std::path::Path, port: u16) {
    if config.output.quiet {
        return;
    }
    let _ = writeln!(
        io::stderr().lock(),
        "throwaway server: {version} from {}, on 127.0.0.1:{port}; stopped and deleted at the end",
        bin.display()
    );
}

pub(crate) fn step_started(config: &Config, name: &str) -> io::Result<()> {
    if config.output.format == Format::Json || config.output.quiet {
        return Ok(());
    }
    let mut out = super::sink::out();
    write!(out, "{name} ... ")?;
    out.flush()
}

pub(crate) fn step_done(
    config: &Config,
    _name: &str,
    status: &str,
    seconds: f64,
) -> io::Result<()> {
    if config.output.format == Format::Json || config.output.quiet {
        return Ok(());
    }
    let s = style(config);
    let mut out = super::sink::out();
    let shown = if status == "ok" {
        s.green("ok")
    } else {
        s.red("FAILED")
    };
    writeln!(out, "{shown} ({seconds:.1} s)")?;
    out.flush()
}

pub(crate) fn chain_done(config: &Config, run: &ChainRun) -> io::Result<()> {
    if config.output.format == Format::Json {
        return Ok(());
    }
    let s = style(config);
    let mut out = super::sink::out();
    let total: f64 = run.steps.iter().map(|st| st.seconds).sum();
    if run.passed {
        writeln!(
            out,
            "{}: {} ({} steps, {total:.1} s)",
            run.name,
            s.green("PASSED"),
            run.steps.len()
        )?;
        writeln!(out)?;
        return out.flush();
    }
    writeln!(out, "{}: {}", run.name, s.red("FAILED"))?;
    if let Some(failed) = run.steps.iter().find(|st| st.status != "ok") {
        writeln!(out, "  {} printed:", failed.name)?;
        for line in &failed.output_tail {
            writeln!(out, "    {line}")?;
        }
    }
    for f in &run.findings {
        let class = f
            .class
            .map_or_else(|| "[?] ".to_string(), |c| format!("[{c}] "));
        writeln!(out, "  {class}{}", f.message)?;
        if let Some(r) = &f.revision {
            writeln!(
                out,
                "    migration: {r}{}",
                f.path
                    .as_ref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            )?;
        }
        writeln!(out, "    fix: {}", f.fix)?;
        if let (Some('B'), Some(role)) = (f.class, &f.subject) {
            writeln!(
                out,
                "    or, in migfix.toml for this chain: roles = [\"{role}\"]"
            )?;
        }
        if let Some(sql) = &f.sql {
            for line in sql.lines() {
                writeln!(out, "      {line}")?;
            }
        }
        super::write_run(&mut out, "    ", f)?;
    }
    writeln!(out)?;
    out.flush()
}

pub(crate) fn summary(config: &Config, runs: &[ChainRun]) -> io::Result<()> {
    if config.output.format == Format::Json {
        return super::json(
            &serde_json::json!({ "chains": runs, "passed": runs.iter().all(|r| r.passed) }),
        );
    }
    let failed: Vec<&str> = runs
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.name.as_str())
        .collect();
    let mut out = super::sink::out();
    if failed.is_empty() {
        writeln!(
            out,
            "gate passed: {} chain{}",
            runs.len(),
            if runs.len() == 1 { "" } else { "s" }
        )?;
    } else {
        writeln!(out, "gate failed: {}", failed.join(", "))?;
    }
    out.flush()
}
