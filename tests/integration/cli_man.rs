//! The man pages: `man/migfix.1` and `man/migfix-COMMAND.1` for every
//! command, rendered by clap_mangen from the CLI. EXIT STATUS, ENVIRONMENT,
//! FILES, EXAMPLES and the other sections come from each command's long help
//! (`after_long_help`), so `--help` and the pages say the same. The renderer
//! lives here, in the tests, so the binary carries none of it; regenerate with
//! `MIGFIX_UPDATE_MAN=1 cargo test --test integration man_page`.

use std::collections::BTreeSet;

use clap::CommandFactory;

use crate::common::repo;

/// What `roff` puts at the start of every rendering: kept once per page.
const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// Every page, as (file name, roff).
fn pages() -> Vec<(String, String)> {
    let mut top = migfix::cli::Cli::command();
    // Built, so that each command carries the global options, its display
    // name (`migfix-check`) and its usage name (`migfix check`).
    top.build();
    let mut out = vec![("migfix.1".to_string(), page(&top, true))];
    for sub in commands(&top) {
        out.push((format!("migfix-{}.1", sub.get_name()), page(sub, false)));
    }
    out
}

/// The commands that get a page: all but clap's `help`.
fn commands(top: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    top.get_subcommands().filter(|s| s.get_name() != "help")
}

fn page(cmd: &clap::Command, top: bool) -> String {
    let version = migfix::cli::Cli::command()
        .get_version()
        .unwrap_or_default()
        .to_string();
    let man = clap_mangen::Man::new(cmd.clone()).source(format!("migfix {version}"));
    let render = |f: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut buf = Vec::new();
        f(&mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        text.strip_prefix(PREAMBLE).unwrap_or(&text).to_string()
    };
    let mut s = String::from(PREAMBLE);
    s += &render(&|w| man.render_title(w));
    s += &render(&|w| man.render_name_section(w));
    s += &render(&|w| man.render_synopsis_section(w));
    s += &render(&|w| man.render_description_section(w));
    s += &render(&|w| man.render_options_section(w));
    if top {
        s += ".SH COMMANDS\n";
        for sub in commands(cmd) {
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            s += &format!(
                ".TP\n\\fBmigfix\\-{}\\fR(1)\n{}\n",
                escape(sub.get_name()),
                escape(&about)
            );
        }
        s += ".TP\n\\fBmigfix help\\fR [\\fICOMMAND\\fR]\n";
        s +=
            "Print the help of migfix, or the long help of a command (as its \\fB\\-\\-help\\fR)\n";
    }
    if let Some(help) = cmd.get_after_long_help() {
        s += &sections(&help.to_string());
    }
    if top {
        s += &render(&|w| man.render_version_section(w));
    }
    s += ".SH \"SEE ALSO\"\n";
    let refs: Vec<String> = if top {
        commands(cmd)
            .map(|c| format!("\\fBmigfix\\-{}\\fR(1)", escape(c.get_name())))
            .collect()
    } else {
        vec!["\\fBmigfix\\fR(1)".to_string()]
    };
    s += &refs.join(",\n");
    s += "\n";
    ascii(&s)
}

/// Non-ASCII characters as groff's escapes, which every formatter reads
/// whatever its input encoding (the en dash of "A–F" is `\[u2013]`).
fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                format!("\\[u{:04X}]", u32::from(c))
            }
        })
        .collect()
}

/// The long help's sections as roff. A line that ends in `:` and is not
/// indented is a heading. Under `Examples:` the indented lines are shown as
/// they are. Elsewhere, a line indented by two spaces and followed by lines
/// indented by six is a term and its text; other indented lines are prose,
/// one paragraph to a line.
fn sections(help: &str) -> String {
    let lines: Vec<&str> = help.lines().collect();
    let mut s = String::new();
    let mut examples = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let heading = line.trim_end_matches(':').to_uppercase();
            examples = heading == "EXAMPLES";
            s += &format!(".SH \"{heading}\"\n");
            continue;
        }
        if examples {
            s += ".PP\n.RS 4\n.nf\n";
            s += &format!("{}\n", escape(line.trim()));
            while i < lines.len() && lines[i].starts_with("  ") {
                s += &format!("{}\n", escape(lines[i].trim()));
                i += 1;
            }
            s += ".fi\n.RE\n";
        } else if lines.get(i).is_some_and(|l| l.starts_with("      ")) {
            s += &format!(".TP\n\\fB{}\\fR\n", escape(line.trim()));
            while i < lines.len() && lines[i].starts_with("      ") {
                s += &format!("{}\n", escape(lines[i].trim()));
                i += 1;
            }
        } else {
            s += &format!(".PP\n{}\n", escape(line.trim()));
        }
    }
    s
}

/// Text for a roff line: nothing in it read as a request or an escape.
fn escape(text: &str) -> String {
    let s = text
        .replace('\\', "\\e")
        .replace('-', "\\-")
        .replace('\'', "\\*(Aq")
        .replace('`', "\\(ga");
    if s.starts_with('.') {
        format!("\\&{s}")
    } else {
        s
    }
}

#[test]
fn man_pages_are_fresh() {
    let dir = repo().join("man");
    let pages = pages();
    let names: BTreeSet<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    let on_disk = || -> BTreeSet<String> {
        std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    if std::env::var_os("MIGFIX_UPDATE_MAN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &pages {
            std::fs::write(dir.join(name), text).unwrap();
        }
        for gone in on_disk().iter().filter(|n| !names.contains(n.as_str())) {
            std::fs::remove_file(dir.join(gone)).unwrap();
        }
    }
    let mut wrong: Vec<String> = pages
        .iter()
        .filter(|(name, text)| std::fs::read_to_string(dir.join(name)).ok().as_ref() != Some(text))
        .map(|(name, _)| format!("man/{name} is missing or stale"))
        .collect();
    wrong.extend(
        on_disk()
            .iter()
            .filter(|n| !names.contains(n.as_str()))
            .map(|n| format!("man/{n} is the page of no command")),
    );
    assert!(
        wrong.is_empty(),
        "{}\nrun `MIGFIX_UPDATE_MAN=1 cargo test --test integration man_page` and commit man/",
        wrong.join("\n")
    );
}

/// Every page that a page refers to, `migfix-check(1)` say, is generated.
#[test]
fn man_page_references_resolve() {
    let pages = pages();
    let names: BTreeSet<String> = pages.iter().map(|(n, _)| n.clone()).collect();
    let re = regex::Regex::new(r"(migfix(?:\\-[a-z\\-]+)?)(?:\\fR)?\(1\)").unwrap();
    for (name, text) in &pages {
        for m in re.captures_iter(text) {
            let target = format!("{}.1", m[1].replace("\\-", "-"));
            assert!(names.contains(&target), "{name} refers to {target}");
        }
    }
    assert!(pages.len() > 10, "a page for each command");
}

/// The sections the top page must have, and those of each command's page.
#[test]
fn man_pages_have_their_sections() {
    for (name, text) in pages() {
        let mut want = vec![
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "\"EXIT STATUS\"",
            "\"EXAMPLES\"",
            "\"SEE ALSO\"",
        ];
        if name == "migfix.1" {
            want.extend(["COMMANDS", "\"ENVIRONMENT\"", "\"FILES\""]);
        }
        for section in want {
            assert!(
                text.contains(&format!("\n.SH {section}\n")),
                "{name} has no {section} section"
            );
        }
    }
}
