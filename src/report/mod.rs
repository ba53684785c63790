//! The one place that prints. Text for people, JSON for scripts.

mod after;
pub(crate) mod ci;
pub(crate) mod diagnose;
pub(crate) mod gate;
mod listing;
pub(crate) mod recover;
pub(crate) mod sink;

pub(crate) use listing::{chains, heads, history};

use std::io::{self, Write};
use std::process::ExitCode;

use serde::Serialize;

use crate::chains::Chain;
use crate::cli::Format;
use crate::config::profile::Words;
use crate::config::Config;
use crate::diff::PlanDiff;
use crate::error::{Diag, InputErrors, Refused};
use crate::findings::Finding;
use crate::graph::Graph;
use crate::outcome::{Preview, Verdict};
use crate::plan::apply::Applied;
use crate::plan::Plan;
use crate::suppress::Suppressed;

/// Renders an error for `main`: exit 2, 1 for a refused change, or 0 for a
/// closed pipe. With `--format github`, an input error that names a file
/// (a syntax error in a migration, say) is also an annotation on it.
pub fn error(err: &anyhow::Error, format: Format) -> ExitCode {
    if err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    let mut stderr = io::stderr().lock();
    if let Some(refused) = err.downcast_ref::<Refused>() {
        let _ = writeln!(stderr, "refused: {}", refused.message);
        if let Some(help) = &refused.help {
            let _ = writeln!(stderr, "help: {help}");
        }
        let _ = writeln!(stderr, "nothing was written");
        return ExitCode::from(1);
    }
    if let Some(input) = err.downcast_ref::<InputErrors>() {
        if format == Format::Github {
            let _ = ci::annotate_errors(&input.diags);
        }
        for d in &input.diags {
            let _ = writeln!(stderr, "error: {d}");
        }
        if let Some(help) = &input.help {
            let _ = writeln!(stderr, "help: {help}");
        }
    } else {
        let _ = writeln!(stderr, "error: {err}");
        for cause in err.chain().skip(1) {
            let _ = writeln!(stderr, "  cause: {cause}");
        }
    }
    ExitCode::from(2)
}

pub(crate) fn raw(bytes: &[u8]) -> io::Result<()> {
    let mut out = sink::out();
    out.write_all(bytes)?;
    out.flush()
}

fn json(value: &impl Serialize) -> io::Result<()> {
    let mut out = sink::out();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
}

fn style(config: &Config) -> Style {
    Style {
        on: config.output.color,
    }
}

/// Warnings go to stderr in text mode (unless `-q`); JSON carries them.
fn warn<'a>(config: &Config, chains: impl IntoIterator<Item = &'a Chain>) {
    // JSON and the CI formats carry the warnings themselves.
    if config.output.quiet || config.output.format != Format::Text {
        return;
    }
    let mut err = io::stderr().lock();
    for d in chains.into_iter().flat_map(|c| &c.warnings) {
        let _ = writeln!(err, "warning: {d}");
    }
}

fn warnings<'a>(chains: impl IntoIterator<Item = &'a Chain>) -> Vec<&'a Diag> {
    chains.into_iter().flat_map(|c| &c.warnings).collect()
}

// ---- check ----

/// `warned[i]`: chain `i`'s findings that only warn; they are also the last
/// of its `warnings`, as text. `suppressed[i]`: what is not reported of it.
pub(crate) fn check(
    config: &Config,
    per_chain: &[(&Chain, Vec<Finding>)],
    warned: &[Vec<Finding>],
    suppressed: &[Vec<Suppressed>],
) -> io::Result<()> {
    let chains = || per_chain.iter().map(|(c, _)| *c);
    if config.output.format.is_ci() {
        let outcome = ci::Outcome {
            command: "check",
            errors: config.broken.iter().collect(),
            chains: per_chain
                .iter()
                .zip(warned)
                .zip(suppressed)
                .map(|(((c, failing), warned), suppressed)| {
                    let read = c.warnings.len().saturating_sub(warned.len());
                    ci_chain(config, c, failing, warned, &c.warnings[..read], suppressed)
                })
                .collect(),
        };
        return ci::print(config.output.format, &outcome);
    }
    warn(config, chains());
    if config.output.format == Format::Json {
        let findings: Vec<&Finding> = per_chain.iter().flat_map(|(_, f)| f).collect();
        let suppressed: Vec<&Suppressed> = suppressed.iter().flatten().collect();
        return json(
            &serde_json::json!({ "findings": findings, "warnings": warnings(chains()), "errors": config.broken, "suppressed": suppressed }),
        );
    }
    let s = style(config);
    let mut out = sink::out();
    for ((chain, findings), suppressed) in per_chain.iter().zip(suppressed) {
        let hushed = match suppressed.len() {
            0 => String::new(),
            n => format!("; {n} suppressed"),
        };
        if findings.is_empty() {
            let rules = &chain.profile().rules;
            let what = if rules.plan_order {
                let (n, words) = (chain.revisions.len(), &chain.profile().words);
                format!("{n} {}", if n == 1 { words.one } else { words.many })
            } else if rules.bases_per_label {
                let g = Graph::build(chain);
                let apps = chain
                    .revisions
                    .iter()
                    .filter_map(|r| r.branch_labels.as_ref()?.first())
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                let leaves = g
                    .heads()
                    .into_iter()
                    .filter(|&h| chain.in_focus(g.rev(h)))
                    .count();
                match chain.focus() {
                    Some(app) => format!("app {app}: exactly 1 leaf node"),
                    None if apps == 1 => "1 app, exactly 1 leaf node".to_string(),
                    None => format!("{apps} apps, {leaves} leaf nodes, one per app"),
                }
            } else {
                {
                    let g = Graph::build(chain);
                    let heads = g.heads();
                    if heads.len() <= 1 {
                        "exactly 1 head".to_string()
                    } else {
                        let shown: Vec<String> = heads.iter().map(|&h| g.with_labels(h)).collect();
                        format!(
                            "{} heads, one per branch: {}",
                            heads.len(),
                            shown.join(", ")
                        )
                    }
                }
            };
            writeln!(out, "{}: {} ({what}{hushed})", chain.name(), s.green("OK"))?;
            list_suppressed(config, &mut out, suppressed)?;
            continue;
        }
        let n = findings.len();
        writeln!(
            out,
            "{}: {} ({n} problem{}{hushed})",
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
            let class = f.class.map(|c| format!("[{c}] ")).unwrap_or_default();
            writeln!(out, "  {place}{}{}", s.bold(&class), f.message)?;
            writeln!(out, "    fix: {}", f.fix)?;
            write_run(&mut out, "    ", f)?;
        }
        list_suppressed(config, &mut out, suppressed)?;
    }
    out.flush()
}

/// With `-v`, what was suppressed, each with what suppressed it.
fn list_suppressed(config: &Config, out: &mut impl Write, found: &[Suppressed]) -> io::Result<()> {
    if config.output.verbose == 0 {
        return Ok(());
    }
    for x in found {
        let f = &x.finding;
        let place = match (&f.path, f.line) {
            (Some(p), Some(l)) => format!("{p}:{l}: "),
            (Some(p), None) => format!("{p}: "),
            _ => String::new(),
        };
        let class = f.class.map(|c| format!("[{c}] ")).unwrap_or_default();
        let by = &x.suppression.justification;
        writeln!(out, "  suppressed: {place}{class}{} ({by})", f.message)?;
    }
    Ok(())
}

/// A chain's part of a CI report.
fn ci_chain<'a>(
    config: &Config,
    chain: &Chain,
    failing: &'a [Finding],
    warned: &'a [Finding],
    notes: &'a [Diag],
    suppressed: &'a [Suppressed],
) -> ci::ChainOutcome<'a> {
    ci::ChainOutcome {
        name: chain.name().to_string(),
        location: Some(config.rel(&chain.location())),
        failing: failing.iter().collect(),
        warned: warned.iter().collect(),
        notes: notes.iter().collect(),
        suppressed: suppressed.iter().collect(),
        words: &chain.profile().words,
    }
}

// ---- repairs ----

/// The plan in words and as a diff. In JSON mode everything is printed once,
/// by `done`.
pub(crate) fn preview(config: &Config, preview: &Preview, plan: &Plan) -> io::Result<()> {
    if config.output.format == Format::Json {
        return Ok(());
    }
    let s = style(config);
    let mut out = sink::out();
    writeln!(out, "{}", s.bold(&preview.title))?;
    for note in &preview.notes {
        writeln!(out, "  {note}")?;
    }
    let files = format!(
        "  {} renamed, {} edited, {} added",
        plan.renames(),
        plan.edited(),
        plan.added()
    );
    writeln!(out, "{files}")?;
    writeln!(out)?;
    let diff = PlanDiff {
        plan,
        root: &config.root,
    }
    .to_string();
    for line in diff.lines() {
        let painted = match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++") => s.green(line),
            Some(b'-') if !line.starts_with("---") => s.red(line),
            Some(b'@') => s.paint("36", line),
            _ => line.to_string(),
        };
        writeln!(out, "{painted}")?;
    }
    writeln!(out)?;
    let words = words_of(config, &preview.chain);
    writeln!(out, "after: {}", after::line(words, preview))?;
    out.flush()
}

/// The words of the chain named `name` (the common ones for several).
fn words_of(config: &Config, name: &str) -> &'static Words {
    config
        .chains
        .iter()
        .find(|c| c.name == name)
        .map_or(&Words::COMMON, |c| &c.profile.words)
}

/// A line on a terminal's stderr while long work runs, erased when done.
/// Only for work on more than a thousand revisions, and never with `-q`,
/// JSON, or a stderr that is not a terminal.
pub(crate) struct Progress {
    shown: bool,
}

impl Progress {
    pub fn start(config: &Config, revisions: usize, what: &str) -> Progress {
        use std::io::IsTerminal;
        let shown = revisions > 1000
            && !config.output.quiet
            && config.output.format == Format::Text
            && io::stderr().is_terminal()
            // CI logs keep every byte: no line rewritten in place there.
            && std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false");
        if shown {
            let mut err = io::stderr().lock();
            let _ = write!(err, "{what} ({revisions} revisions)...");
            let _ = err.flush();
        }
        Progress { shown }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.shown {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

/// A one-line remark for people (nothing in JSON mode).
pub(crate) fn note(config: &Config, message: &str) -> io::Result<()> {
    if config.output.format == Format::Json {
        return json(&serde_json::json!({ "note": message }));
    }
    let mut out = sink::out();
    writeln!(out, "{message}")?;
    out.flush()
}

/// On stderr, for a command that only reads: a journal of a write that
/// is under way, or that was interrupted.
pub(crate) fn journal_left(found: &crate::plan::journal::Found) {
    use crate::plan::journal::Found;
    match found {
        Found::None => {}
        Found::Running { dir, pid } => warning(&format!(
            "{} is writing this tree now (its lock is {}); what is read may be half-written",
            crate::plan::journal::writer(*pid),
            dir.display()
        )),
        Found::Interrupted {
            dir,
            command,
            undoing,
        } => warning(&format!(
            "an earlier write ({command}) was interrupted and left its journal at {}; the tree may be half-written: `migfix undo` puts every file back{}",
            dir.display(),
            if *undoing {
                " (an undo of it was begun and must be completed)"
            } else {
                ", `migfix undo --finish` completes the write"
            }
        )),
    }
}

/// What `migfix undo` did.
pub(crate) fn undone(
    config: &Config,
    undone: Option<&crate::plan::journal::Undone>,
) -> io::Result<()> {
    if config.output.format == Format::Json {
        return json(&serde_json::json!({ "undone": undone }));
    }
    let mut out = sink::out();
    match undone {
        None => writeln!(out, "nothing to undo: no interrupted write")?,
        Some(u) => {
            let what = if u.finished { "completed" } else { "undid" };
            writeln!(out, "{what} the interrupted write: {}", u.command)?;
            if !config.output.quiet {
                for f in &u.files {
                    writeln!(out, "  {f}")?;
                }
            }
        }
    }
    out.flush()
}

/// A warning that must not be missed, on stderr even with `-q`.
pub(crate) fn warning(message: &str) {
    let _ = writeln!(io::stderr().lock(), "WARNING: {message}");
}

/// A menu on the terminal, the first item preselected; `None` for Ctrl-C
/// or Escape. Arrow keys or j/k move, Enter picks.
pub(crate) fn choose(prompt: &str, items: &[String]) -> io::Result<Option<usize>> {
    match dialoguer::Select::new()
        .with_prompt(prompt)
        .items(items)
        .default(0)
        .interact_opt()
    {
        Ok(choice) => Ok(choice),
        Err(dialoguer::Error::IO(e)) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
        Err(dialoguer::Error::IO(e)) => Err(e),
    }
}

/// A line of text, asked again until `valid` (saying `wrong` when it is
/// not); `None` for Ctrl-C or an empty answer.
pub(crate) fn ask(
    prompt: &str,
    valid: &dyn Fn(&str) -> bool,
    wrong: &str,
) -> io::Result<Option<String>> {
    let answer = dialoguer::Input::<String>::new()
        .with_prompt(prompt)
        .allow_empty(true)
        .validate_with(|s: &String| {
            if s.trim().is_empty() || valid(s) {
                Ok(())
            } else {
                Err(wrong.to_string())
            }
        })
        .interact_text();
    match answer {
        Ok(s) if s.trim().is_empty() => Ok(None),
        Ok(s) => Ok(Some(s)),
        Err(dialoguer::Error::IO(e)) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
        Err(dialoguer::Error::IO(e)) => Err(e),
    }
}

/// Asks on the terminal; Ctrl-C or Escape is a no.
pub(crate) fn confirm(prompt: &str) -> io::Result<bool> {
    match dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact_opt()
    {
        Ok(answer) => Ok(answer.unwrap_or(false)),
        Err(dialoguer::Error::IO(e)) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
        Err(dialoguer::Error::IO(e)) => Err(e),
    }
}

pub(crate) fn undo(config: &Config, lines: &[String]) -> io::Result<()> {
    if config.output.format == Format::Json || config.output.quiet || lines.is_empty() {
        return Ok(());
    }
    let mut out = sink::out();
    writeln!(out, "undo:")?;
    for l in lines {
        writeln!(out, "  {l}")?;
    }
    out.flush()
}

/// A repair's verification, before anything is written: `verified: 4
/// chains read again, 1 healed, none worse`, and what still fails in the
/// repaired chain. (JSON carries it in `done`.)
pub(crate) fn verified(config: &Config, chain: &str, v: &Verdict) -> io::Result<()> {
    if config.output.format == Format::Json || config.output.quiet {
        return Ok(());
    }
    let s = style(config);
    let mut out = sink::out();
    let worse = match v.worse.len() {
        0 => "none worse".to_string(),
        n => s.red(&format!("{n} worse")),
    };
    writeln!(
        out,
        "verified: {} chain{} read again, {} healed, {worse}",
        v.read_again,
        if v.read_again == 1 { "" } else { "s" },
        v.healed.len()
    )?;
    for w in &v.worse {
        writeln!(out, "  {} {w}", s.red("worse:"))?;
    }
    if v.worse.is_empty() && !v.target_healthy {
        writeln!(
            out,
            "{}: {chain} still fails check: {}",
            s.yellow("not yet healthy"),
            v.still.join("; ")
        )?;
    }
    out.flush()
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn done(
    config: &Config,
    preview: &Preview,
    plan: &Plan,
    applied: bool,
    result: Option<&Applied>,
    heads: &[String],
    verdict: Option<&Verdict>,
) -> io::Result<()> {
    if config.output.format == Format::Json {
        let changes: Vec<serde_json::Value> = plan
            .changes
            .iter()
            .map(|c| {
                serde_json::json!({
                    "from": c.from.as_ref().map(|p| config.rel(p)),
                    "to": config.rel(&c.to),
                })
            })
            .collect();
        let mut value = serde_json::json!({
            "chain": preview.chain,
            "title": preview.title,
            "notes": preview.notes,
            "changes": changes,
            "diff": PlanDiff { plan, root: &config.root }.to_string(),
            "heads_after": preview.heads_after,
            "applied": applied,
            "heads": if applied { Some(heads) } else { None },
        });
        // Per part (app), where heads count per part; absent otherwise.
        if !preview.parts_after.is_empty() {
            value["parts_after"] = serde_json::json!(preview.parts_after);
        }
        if let Some(v) = verdict {
            value["verified"] = serde_json::json!(v);
        }
        // What the git index holds of the change, once written in a repository.
        if let Some(r) = result {
            let rel = |ps: &[std::path::PathBuf]| -> Vec<String> {
                ps.iter().map(|p| config.rel(p)).collect()
            };
            value["staged"] = serde_json::json!(rel(&r.staged));
            value["not_staged"] = serde_json::json!(rel(&r.left));
        }
        return json(&value);
    }
    if !applied {
        return Ok(());
    }
    let s = style(config);
    let mut out = sink::out();
    let staged = result.map_or(0, |r| r.staged.len());
    writeln!(
        out,
        "{}: {} renamed, {} edited, {} added{}",
        s.green("applied"),
        plan.renames(),
        plan.edited(),
        plan.added(),
        if staged > 0 {
            format!("; {staged} staged in the git index")
        } else {
            String::new()
        }
    )?;
    if let Some(r) = result.filter(|r| !r.staged.is_empty()) {
        let shown: Vec<String> = r.staged.iter().map(|p| config.rel(p)).collect();
        writeln!(out, "staged: {}", shown.join(" "))?;
    }
    if let Some(r) = result.filter(|r| !r.left.is_empty()) {
        let shown: Vec<String> = r.left.iter().map(|p| config.rel(p)).collect();
        writeln!(
            out,
            "{}: {} (they had changes of yours; review them, then git add them)",
            s.yellow("not staged"),
            shown.join(" ")
        )?;
    }
    writeln!(out, "{}:", preview.chain)?;
    let words = words_of(config, &preview.chain);
    // Per part, the heads of the parts the repair touched and of any not
    // at one head; the others, each at its one head, are counted.
    let quiet: Vec<&crate::outcome::PartAfter> = preview
        .parts_after
        .iter()
        .filter(|p| !p.touched && p.heads.len() == 1)
        .collect();
    let hidden: std::collections::HashSet<&String> = quiet.iter().flat_map(|p| &p.heads).collect();
    for h in heads.iter().filter(|h| !hidden.contains(h)) {
        writeln!(out, "{h} ({})", words.head)?;
    }
    if !quiet.is_empty() {
        let n = quiet.len();
        let what = if n == 1 { words.branch } else { words.branches };
        writeln!(out, "({n} more {what}, one {} each)", words.head)?;
    }
    out.flush()
}

/// After a merge node: the open branches whose migrations would add a head
/// again, and what to do on each, in the words of the chain `chain`.
pub(crate) fn follow_ups(
    config: &Config,
    chain: &str,
    stale: &[crate::git::Claim],
    base: &str,
) -> io::Result<()> {
    if stale.is_empty() || config.output.format == Format::Json {
        return Ok(());
    }
    let w = words_of(config, chain);
    let s = style(config);
    let mut out = sink::out();
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        s.yellow(&format!(
            "open branches that still {} an older {} (each adds a {} when merged):",
            w.revise, w.one, w.head
        ))
    )?;
    for c in stale {
        writeln!(
            out,
            "  {}: {} ({}) {} {}",
            c.branch,
            c.id,
            c.path,
            w.revises,
            c.down.join(", ")
        )?;
    }
    writeln!(out, "on each branch, run: migfix rebase --base {base}")?;
    out.flush()
}

// ---- collisions ----

pub(crate) fn collisions(
    config: &Config,
    a: &crate::outcome::Analysis,
    findings: &[Finding],
) -> io::Result<()> {
    if config.output.format.is_ci() {
        // One case per chain the base or a branch holds.
        let mut names: Vec<&String> = a.base_heads.keys().collect();
        names.extend(
            a.next_free
                .keys()
                .filter(|c| !a.base_heads.contains_key(*c)),
        );
        let outcome = ci::Outcome {
            command: "collisions",
            errors: config.broken.iter().collect(),
            chains: names
                .into_iter()
                .map(|name| ci::ChainOutcome {
                    name: name.clone(),
                    location: None,
                    failing: findings
                        .iter()
                        .filter(|f| f.chain.as_ref() == Some(name))
                        .collect(),
                    warned: Vec::new(),
                    notes: Vec::new(),
                    suppressed: Vec::new(),
                    words: words_of(config, name),
                })
                .collect(),
        };
        return ci::print(config.output.format, &outcome);
    }
    if config.output.format == Format::Json {
        return json(&serde_json::json!({
            "findings": findings,
            "errors": config.broken,
            "collisions": a.collisions,
            "stale": a.stale,
            "next_free": a.next_free,
            "base": a.base,
            "base_heads": a.base_heads,
        }));
    }
    let s = style(config);
    let mut out = sink::out();
    writeln!(
        out,
        "base {}, {} other branch{}",
        a.base,
        a.branches,
        if a.branches == 1 { "" } else { "es" }
    )?;
    for (chain, heads) in &a.base_heads {
        let w = words_of(config, chain);
        writeln!(
            out,
            "{} (base {} {}; next free {})",
            s.bold(chain),
            if heads.len() == 1 { w.head } else { w.heads },
            heads.join(", "),
            a.next_free.get(chain).map_or("-", String::as_str)
        )?;
        print_chain_findings(&mut out, &s, findings, chain)?;
    }
    for chain in a
        .next_free
        .keys()
        .filter(|c| !a.base_heads.contains_key(*c))
    {
        writeln!(out, "{} (next free {})", s.bold(chain), a.next_free[chain])?;
        print_chain_findings(&mut out, &s, findings, chain)?;
    }
    out.flush()
}

fn print_chain_findings(
    out: &mut impl Write,
    s: &Style,
    findings: &[Finding],
    chain: &str,
) -> io::Result<()> {
    let mine: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.chain.as_deref() == Some(chain))
        .collect();
    if mine.is_empty() {
        return writeln!(out, "  {}", s.green("no collisions, nothing stale"));
    }
    for f in mine {
        let label = if f.kind == "number-collision" {
            s.red("collision")
        } else {
            s.yellow("stale")
        };
        writeln!(out, "  {label}: {}", f.message)?;
        writeln!(out, "    fix: {}", f.fix)?;
        write_run(out, "    ", f)?;
    }
    Ok(())
}

/// A finding's `run:` lines at `indent`: one command, or numbered steps
/// aligned under the first.
pub(crate) fn write_run(out: &mut impl Write, indent: &str, f: &Finding) -> io::Result<()> {
    for (n, line) in f.run_lines().iter().enumerate() {
        let tag = if n == 0 { "run: " } else { "     " };
        writeln!(out, "{indent}{tag}{line}")?;
    }
    Ok(())
}
