//! Findings in the formats CI systems read: GitHub workflow annotations
//! (and a job summary), SARIF 2.1.0, JUnit XML and GitLab Code Quality.
//!
//! `check`, `diagnose` and `collisions` hand over the same [`Outcome`]:
//! each chain's failing findings and its warnings.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Value};

use crate::cli::Format;
use crate::config::profile::Words;
use crate::error::Diag;
use crate::findings::Finding;
use crate::suppress::{Suppressed, Suppression};

/// What one command found, for the CI formats.
pub(crate) struct Outcome<'a> {
    /// `check`, `diagnose` or `collisions`.
    pub command: &'static str,
    pub chains: Vec<ChainOutcome<'a>>,
    /// The configurations discovery could not read (the command exits 2):
    /// each an error on its file, and a failing case of its own.
    pub errors: Vec<&'a Diag>,
}

pub(crate) struct ChainOutcome<'a> {
    /// The chain's name; `log` for findings of a log that no chain explains.
    pub name: String,
    /// Its versions directory or plan, for formats that need a file.
    pub location: Option<String>,
    pub failing: Vec<&'a Finding>,
    /// Findings that warn without failing.
    pub warned: Vec<&'a Finding>,
    /// What reading the chain warned of.
    pub notes: Vec<&'a Diag>,
    /// What is not reported: only SARIF lists it, with its suppression;
    /// the others count it.
    pub suppressed: Vec<&'a Suppressed>,
    /// The words of its framework (the common ones for a log's findings).
    pub words: &'static Words,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Error,
    Warning,
}

/// One result, whatever its source.
struct Item<'a> {
    level: Level,
    /// The finding's kind, or `read-warning` for a reader's warning.
    rule: &'a str,
    class: Option<char>,
    chain: &'a str,
    path: Option<&'a str>,
    line: Option<usize>,
    /// `[C] multiple heads`
    title: String,
    /// The message, then the fix and the command that applies it.
    text: String,
    /// The fix alone, as the rule's help where no text is known.
    fix: Option<&'a str>,
    /// What the kind means in the chain's framework's words, if it has its own.
    help: Option<&'static str>,
    /// Why a suppressed finding is not reported.
    suppression: Option<&'a Suppression>,
}

/// The kind of a reader's warning (as the words' `help` is asked it).
const READ_WARNING: &str = "read-warning";
const CONFIGURATION: &str = "configuration-error";

fn items<'a>(outcome: &'a Outcome<'a>) -> Vec<Item<'a>> {
    let mut out = Vec::new();
    for d in &outcome.errors {
        out.push(Item {
            level: Level::Error,
            rule: CONFIGURATION,
            class: None,
            chain: &d.file,
            path: Some(d.file.as_str()).filter(|p| !p.is_empty()),
            line: d.line,
            title: title(None, CONFIGURATION, &Words::COMMON),
            text: d.message.clone(),
            fix: None,
            help: None,
            suppression: None,
        });
    }
    for c in &outcome.chains {
        let findings = c.failing.iter().map(|f| (Level::Error, *f, None));
        let warned = c.warned.iter().map(|f| (Level::Warning, *f, None));
        let suppressed = c.suppressed.iter().map(|x| {
            let level = if x.fails {
                Level::Error
            } else {
                Level::Warning
            };
            (level, &x.finding, Some(&x.suppression))
        });
        for (level, f, suppression) in findings.chain(warned).chain(suppressed) {
            let mut text = f.message.clone();
            if !f.fix.is_empty() {
                text.push_str(&format!("\nfix: {}", f.fix));
            }
            for line in f.run_lines() {
                text.push_str(&format!("\nrun: {line}"));
            }
            out.push(Item {
                level,
                rule: f.kind,
                class: f.class,
                chain: &c.name,
                path: f.path.as_deref().filter(|p| !p.is_empty()),
                line: f.line,
                title: title(f.class, f.kind, c.words),
                text,
                fix: Some(&f.fix),
                help: (c.words.help)(f.kind).map(|h| h.1),
                suppression,
            });
        }
        for d in &c.notes {
            out.push(Item {
                level: Level::Warning,
                rule: READ_WARNING,
                class: None,
                chain: &c.name,
                path: Some(d.file.as_str()).filter(|p| !p.is_empty()),
                line: d.line,
                title: title(None, READ_WARNING, c.words),
                text: d.message.clone(),
                fix: None,
                help: (c.words.help)(READ_WARNING).map(|h| h.1),
                suppression: None,
            });
        }
    }
    out
}

/// `[C] multiple heads`: the class, and the kind in words (the
/// framework's own title, where it has one).
fn title(class: Option<char>, kind: &str, own: &Words) -> String {
    let words = (own.help)(kind).map_or_else(|| kind.replace('-', " "), |h| h.0.to_string());
    match class {
        Some(c) => format!("[{c}] {words}"),
        None => words,
    }
}

/// Prints `outcome` in a CI format (callers check [`Format::is_ci`]; text
/// and JSON are theirs to print).
pub(crate) fn print(format: Format, outcome: &Outcome<'_>) -> io::Result<()> {
    let all = items(outcome);
    // Only SARIF has a place for what is suppressed; the others count it.
    let hushed = all.iter().filter(|i| i.suppression.is_some()).count();
    let items: Vec<&Item<'_>> = all.iter().filter(|i| i.suppression.is_none()).collect();
    let items = &items[..];
    let mut out = super::sink::out();
    match format {
        Format::Text | Format::Json => {}
        Format::Github => {
            github(&mut out, outcome, items, hushed)?;
            // Once a run: a report also written to --output-file is printed twice.
            static SUMMED: std::sync::atomic::AtomicBool =
                std::sync::atomic::AtomicBool::new(false);
            let first = !SUMMED.swap(true, std::sync::atomic::Ordering::Relaxed);
            let summary_file =
                std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| first && !p.is_empty());
            if let Some(path) = summary_file {
                // GitHub shows ten annotations per step; the summary shows all.
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                file.write_all(summary(outcome, items, hushed).as_bytes())?;
            }
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut out, &sarif(&all))?;
            writeln!(out)?;
        }
        Format::Junit => out.write_all(junit(outcome, items).as_bytes())?,
        Format::Gitlab => {
            serde_json::to_writer_pretty(&mut out, &gitlab(outcome, items))?;
            writeln!(out)?;
        }
    }
    out.flush()
}

// ---- GitHub ----

/// Errors that stop a command (exit 2), as annotations: on their file and
/// line where they name a file of the repository.
pub(crate) fn annotate_errors(diags: &[Diag]) -> io::Result<()> {
    let mut out = super::sink::out();
    for d in diags {
        let file = Some(d.file.as_str()).filter(|f| {
            !f.is_empty() && !f.starts_with('-') && std::path::Path::new(f).is_relative()
        });
        let mut props = Vec::new();
        if let Some(f) = file {
            props.push(format!("file={}", gh_property(f)));
            if let Some(l) = d.line {
                props.push(format!("line={l}"));
            }
        }
        props.push(format!("title={}", gh_property("migfix: cannot read")));
        let message = if file.is_some() {
            d.message.clone()
        } else {
            d.to_string()
        };
        writeln!(out, "::error {}::{}", props.join(","), gh_data(&message))?;
    }
    out.flush()
}

/// A workflow command's data: `%`, CR and LF escaped.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property: also `:` and `,`.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github(
    out: &mut impl Write,
    outcome: &Outcome<'_>,
    items: &[&Item<'_>],
    hushed: usize,
) -> io::Result<()> {
    // A configuration error is annotated once, as the command exits 2.
    for i in items.iter().filter(|i| i.rule != CONFIGURATION) {
        let command = match i.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let mut props = Vec::new();
        if let Some(p) = i.path {
            props.push(format!("file={}", gh_property(p)));
            if let Some(l) = i.line {
                props.push(format!("line={l}"));
            }
        }
        props.push(format!("title={}", gh_property(&i.title)));
        writeln!(out, "::{command} {}::{}", props.join(","), gh_data(&i.text))?;
    }
    let errors = items.iter().filter(|i| i.level == Level::Error).count();
    writeln!(
        out,
        "migfix {}: {} in {} chain{}",
        outcome.command,
        counted(errors, items.len() - errors, hushed),
        outcome.chains.len(),
        plural(outcome.chains.len())
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn counted(errors: usize, warnings: usize, hushed: usize) -> String {
    let hushed = match hushed {
        0 => String::new(),
        n => format!(", {n} suppressed"),
    };
    format!(
        "{errors} error{}, {warnings} warning{}{hushed}",
        plural(errors),
        plural(warnings)
    )
}

/// The job summary: every result in one Markdown table.
fn summary(outcome: &Outcome<'_>, items: &[&Item<'_>], hushed: usize) -> String {
    let cell = |s: &str| {
        s.replace('|', "\\|")
            .replace('\r', "")
            .replace('\n', "<br>")
    };
    let errors = items.iter().filter(|i| i.level == Level::Error).count();
    let mut md = format!("## migfix {}\n\n", outcome.command);
    for c in &outcome.chains {
        let state = if c.failing.is_empty() { "OK" } else { "FAILED" };
        md.push_str(&format!("- `{}`: {state}\n", c.name));
    }
    for d in &outcome.errors {
        md.push_str(&format!("- `{}`: NOT READ\n", d.file));
    }
    md.push_str(&format!(
        "\n{}\n\n",
        counted(errors, items.len() - errors, hushed)
    ));
    if !items.is_empty() {
        md.push_str("| | Problem | Where | Details |\n|---|---|---|---|\n");
        for i in items {
            let level = if i.level == Level::Error {
                "error"
            } else {
                "warning"
            };
            let place = match (i.path, i.line) {
                (Some(p), Some(l)) => format!("`{p}:{l}`"),
                (Some(p), None) => format!("`{p}`"),
                _ => format!("`{}`", i.chain),
            };
            md.push_str(&format!(
                "| {level} | {} | {} | {} |\n",
                cell(&i.title),
                cell(&place),
                cell(&i.text)
            ));
        }
    }
    md.push('\n');
    md
}

// ---- SARIF ----

/// What each kind of finding means, for SARIF's rule help; kinds not
/// listed take their first finding's fix.
fn rule_help(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "multiple-heads" => "The chain has more than one head, so `alembic upgrade head` stops with \"Multiple head revisions are present\". Merge the heads with a no-DDL merge revision (`migfix merge-heads`), or renumber one branch after the other (`migfix renumber`).",
        "no-head" => "Every revision has a child, so the chain has a cycle and no head.",
        "duplicate-id" => "Two files claim the same revision id; Alembic keeps only one of them. Renumber one (`migfix renumber`).",
        "dangling-down-revision" | "dangling-depends-on" => "A `down_revision` or `depends_on` names a revision that no file declares, usually after a renumber. Point it at an existing revision or restore the missing file.",
        "cycle" => "Revisions revise each other in a circle, so the chain has no order.",
        "invalid-id" => "A revision id that Alembic refuses: it holds `@ - + :` or is longer than 32 characters.",
        "branch-label" => "A branch label is used twice, or equals a revision id.",
        "multiple-bases" => "More than one revision has no parent. Alembic upgrades them all, but this is usually a mistake.",
        "filename-mismatch" => "The file name does not carry the revision id it declares.",
        "duplicate-file-number" => "Two files carry the same number in their names.",
        "number-collision" => "A branch claims a migration number that another branch or the base also claims. Renumber the branch's migration past every claim (`migfix rebase`).",
        "stale-parent" => "A branch's migrations revise a revision that is no longer the base's head. Rebase them on the head (`migfix rebase`).",
        "missing-role" => "A migration grants to a role that nothing provisions: no earlier migration creates it and the gate does not.",
        "missing-seed-row" => "A migration looks up a row and fails without it, and a fresh database has no such row.",
        "duplicate-table" => "A table is created twice along the chain.",
        "non-immutable-index" => "An index expression or predicate calls a function that is not IMMUTABLE.",
        CONFIGURATION => "A chain's configuration could not be read, so the chain was not checked; every other chain was.",
        READ_WARNING => "A revision file could not be read completely statically (for example a non-literal `depends_on`).",
        _ => return None,
    })
}

fn sarif(items: &[Item<'_>]) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for i in items {
        if index.contains_key(i.rule) {
            continue;
        }
        index.insert(i.rule, rules.len());
        let help = i
            .help
            .or_else(|| rule_help(i.rule))
            .map(str::to_string)
            .or_else(|| i.fix.map(str::to_string))
            .unwrap_or_else(|| i.title.clone());
        let mut properties = json!({});
        if let Some(c) = i.class {
            properties["class"] = json!(c.to_string());
        }
        rules.push(json!({
            "id": i.rule,
            "name": i.rule,
            "shortDescription": { "text": i.title },
            "help": { "text": help },
            "defaultConfiguration": { "level": if i.level == Level::Error { "error" } else { "warning" } },
            "properties": properties,
        }));
    }
    let results: Vec<Value> = items
        .iter()
        .map(|i| {
            let mut r = json!({
                "ruleId": i.rule,
                "ruleIndex": index[i.rule],
                "level": if i.level == Level::Error { "error" } else { "warning" },
                "message": { "text": i.text },
                "properties": { "chain": i.chain },
            });
            if let Some(s) = i.suppression {
                r["suppressions"] = json!([{ "kind": s.kind, "justification": s.justification }]);
            }
            if let Some(p) = i.path {
                let mut location = json!({
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(p), "uriBaseId": "%SRCROOT%" },
                    }
                });
                if let Some(l) = i.line {
                    location["physicalLocation"]["region"] = json!({ "startLine": l.max(1) });
                }
                r["locations"] = json!([location]);
            }
            r
        })
        .collect();
    let mut driver = json!({
        "name": "migfix",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    // Only a page that exists: Cargo.toml's `homepage`, once it has one.
    if !env!("CARGO_PKG_HOMEPAGE").is_empty() {
        driver["informationUri"] = json!(env!("CARGO_PKG_HOMEPAGE"));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The repository's root (migfix -C)." } } },
            "results": results,
        }],
    })
}

/// A relative path as a URI reference: `/` separators, and the characters
/// a URI cannot hold percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---- JUnit ----

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("&#13;"),
            // Other control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One test case per chain: it fails with every failing finding; warnings
/// go to its `system-out`.
fn junit(outcome: &Outcome<'_>, items: &[&Item<'_>]) -> String {
    // Each broken configuration is a failing case of its own, named by its
    // file.
    let mut broken: Vec<&str> = Vec::new();
    for d in &outcome.errors {
        if !broken.contains(&d.file.as_str()) {
            broken.push(&d.file);
        }
    }
    let failures = outcome
        .chains
        .iter()
        .filter(|c| !c.failing.is_empty())
        .count()
        + broken.len();
    let tests = outcome.chains.len() + broken.len();
    let suite = format!("migfix {}", outcome.command);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"{suite}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">\n"
    ));
    x.push_str(&format!(
        "  <testsuite name=\"{suite}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n"
    ));
    let cases = broken
        .iter()
        .map(|file| (file.to_string(), Some(file.to_string()), true))
        .chain(
            outcome
                .chains
                .iter()
                .map(|c| (c.name.clone(), c.location.clone(), false)),
        );
    for (name, location, config) in cases {
        let mine: Vec<&Item<'_>> = items
            .iter()
            .copied()
            .filter(|i| i.chain == name && (i.rule == CONFIGURATION) == config)
            .collect();
        let describe = |i: &Item<'_>| {
            let place = match (i.path, i.line) {
                (Some(p), Some(l)) => format!("{p}:{l}: "),
                (Some(p), None) => format!("{p}: "),
                _ => String::new(),
            };
            format!("{place}{}: {}", i.title, i.text)
        };
        let file = location
            .as_deref()
            .map(|l| format!(" file=\"{}\"", xml(l)))
            .unwrap_or_default();
        x.push_str(&format!(
            "    <testcase classname=\"migfix.{}\" name=\"{}\"{file}>\n",
            outcome.command,
            xml(&name)
        ));
        let (errors, warnings): (Vec<&&Item<'_>>, Vec<&&Item<'_>>) =
            mine.iter().partition(|i| i.level == Level::Error);
        if let Some(first) = errors.first() {
            let message = if errors.len() == 1 {
                first.title.clone()
            } else {
                format!("{} problems, the first: {}", errors.len(), first.title)
            };
            let text: Vec<String> = errors.iter().map(|i| describe(i)).collect();
            x.push_str(&format!(
                "      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                xml(first.rule),
                xml(&message),
                xml(&text.join("\n\n"))
            ));
        }
        let warnings: Vec<String> = warnings
            .iter()
            .map(|i| format!("warning: {}", describe(i)))
            .collect();
        if !warnings.is_empty() {
            x.push_str(&format!(
                "      <system-out>{}</system-out>\n",
                xml(&warnings.join("\n"))
            ));
        }
        x.push_str("    </testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

// ---- GitLab ----

/// GitLab Code Quality: every result needs a file, so one without takes
/// its chain's location.
fn gitlab(outcome: &Outcome<'_>, items: &[&Item<'_>]) -> Value {
    use sha1::Digest;
    let location = |chain: &str| {
        outcome
            .chains
            .iter()
            .find(|c| c.name == chain)
            .and_then(|c| c.location.clone())
            .unwrap_or_else(|| ".".into())
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let issues: Vec<Value> = items
        .iter()
        .map(|i| {
            let path = i.path.map_or_else(|| location(i.chain), str::to_string);
            let line = i.line.unwrap_or(1).max(1);
            // Stable across runs; a counter tells apart identical results.
            let key = format!("{}\0{}\0{}\0{}\0{}", i.rule, i.chain, path, line, i.text);
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            let mut hasher = sha1::Sha1::new();
            hasher.update(format!("{key}\0{n}").as_bytes());
            let fingerprint: String = hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            json!({
                "description": format!("{}: {}", i.title, i.text),
                "check_name": i.rule,
                "fingerprint": fingerprint,
                "severity": if i.level == Level::Error { "major" } else { "minor" },
                "location": { "path": path, "lines": { "begin": line } },
            })
        })
        .collect();
    Value::Array(issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escapes_data_and_properties() {
        assert_eq!(gh_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(gh_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn xml_escapes_markup_and_control_characters() {
        assert_eq!(
            xml("<a href=\"x\">&'\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}"
        );
    }

    #[test]
    fn uri_keeps_paths_and_encodes_the_rest() {
        assert_eq!(
            uri("db/versions/0001 init é.py"),
            "db/versions/0001%20init%20%C3%A9.py"
        );
        assert_eq!(uri("a\\b.py"), "a/b.py");
    }
}
