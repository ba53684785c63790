//! Findings a team has judged, not reported again: a `# migfix: ignore[F]`
//! comment on the finding's line (`-- migfix: ignore[F]` in SQL, a bare
//! `ignore` for every finding there), `ignore = [...]` in migfix.toml or a
//! chain's table, and `--ignore`/`--select` on the command line. A
//! suppressed finding is still counted, and SARIF lists it with its
//! suppression; a comment that suppresses nothing is a warning.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

use crate::chains::Chain;
use crate::config::ignore::{Code, Ignored};
use crate::config::rel;
use crate::findings::Finding;

/// The kind of the warning about a comment that suppresses nothing.
pub(crate) const UNUSED: &str = "unused-suppression";

/// What the command line chose: `--ignore` and `--select`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Choice {
    pub ignore: Vec<Code>,
    /// Only these, when not empty.
    pub select: Vec<Code>,
}

impl Choice {
    pub fn of(args: &crate::cli::ChoiceArgs) -> Choice {
        // clap has checked each code already.
        let codes = |v: &[String]| v.iter().filter_map(|c| c.parse().ok()).collect();
        Choice {
            ignore: codes(&args.ignore),
            select: codes(&args.select),
        }
    }
}

/// A finding not reported, and why.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    pub suppression: Suppression,
    /// Whether it would fail `check` (else it would warn).
    #[serde(skip)]
    pub fails: bool,
}

/// As SARIF says it: `inSource` for a comment, `external` for a
/// configuration or the command line.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Suppression {
    pub kind: &'static str,
    pub justification: String,
}

/// One `migfix: ignore` comment.
#[derive(Debug)]
struct Directive {
    path: String,
    line: usize,
    /// The comment as written, from `migfix:`.
    text: String,
    /// `None` for a bare `ignore`: every finding on the line.
    codes: Option<Vec<Code>>,
    /// What the brackets held that is no code.
    bad: Vec<String>,
    used: Vec<bool>,
    used_bare: bool,
}

/// Sorts one chain's findings into what is reported and what is not.
pub(crate) struct Sifter<'a> {
    chain: &'a Chain,
    cli: &'a Choice,
    ignored: Vec<Ignored>,
    directives: Vec<Directive>,
    pub suppressed: Vec<Suppressed>,
}

impl<'a> Sifter<'a> {
    pub fn new(root: &Path, chain: &'a Chain, cli: &'a Choice) -> Sifter<'a> {
        let mut ignored = chain.spec.ignore.clone();
        ignored.extend(Ignored::all(&cli.ignore, "--ignore"));
        Sifter {
            chain,
            cli,
            ignored,
            directives: directives(root, chain),
            suppressed: Vec::new(),
        }
    }

    fn selected(&self, f: &Finding) -> bool {
        self.cli.select.is_empty() || self.cli.select.iter().any(|c| c.matches(f.class, f.kind))
    }

    /// What of `found` is reported; the rest is kept as suppressed (with
    /// whether `fails` says it would fail `check`), or dropped when
    /// `--select` leaves it out.
    pub fn sift(&mut self, found: Vec<Finding>, fails: fn(&Finding) -> bool) -> Vec<Finding> {
        let mut kept = Vec::new();
        for f in found {
            // A comment is used by what it would suppress, selected or not.
            let inline = self.comment_for(&f);
            if !self.selected(&f) {
                continue;
            }
            let external = || {
                self.ignored
                    .iter()
                    .find(|i| i.code.matches(f.class, f.kind))
                    .map(|i| Suppression {
                        kind: "external",
                        justification: i.justification(),
                    })
            };
            let by = inline
                .map(|text| Suppression {
                    kind: "inSource",
                    justification: text,
                })
                .or_else(external);
            match by {
                Some(suppression) => self.suppressed.push(Suppressed {
                    fails: fails(&f),
                    finding: f,
                    suppression,
                }),
                None => kept.push(f),
            }
        }
        kept
    }

    /// The comment on `f`'s line that suppresses it, marked used.
    fn comment_for(&mut self, f: &Finding) -> Option<String> {
        let (path, line) = (f.path.as_deref()?, f.line?);
        let d = self
            .directives
            .iter_mut()
            .find(|d| d.line == line && d.path == path)?;
        match &d.codes {
            None => d.used_bare = true,
            Some(codes) => {
                let mut any = false;
                for (code, used) in codes.iter().zip(&mut d.used) {
                    if code.matches(f.class, f.kind) {
                        *used = true;
                        any = true;
                    }
                }
                if !any {
                    return None;
                }
            }
        }
        Some(d.text.clone())
    }

    /// The warnings of comments that suppress nothing, themselves sifted
    /// (`ignore = ["unused-suppression"]` silences them).
    pub fn unused(&mut self) -> Vec<Finding> {
        let name = self.chain.name().to_string();
        let mut out = Vec::new();
        for d in &self.directives {
            let why = match &d.codes {
                None if !d.used_bare => "no finding is on this line".to_string(),
                None => continue,
                Some(codes) => {
                    let idle: Vec<String> = codes
                        .iter()
                        .zip(&d.used)
                        .filter(|(_, used)| !**used)
                        .map(|(c, _)| format!("`{c}`"))
                        .collect();
                    let mut why = Vec::new();
                    if !idle.is_empty() {
                        let idle = crate::findings::or_list(&idle);
                        why.push(format!("no finding of {idle} is on this line"));
                    }
                    why.extend(d.bad.iter().map(|b| {
                        format!("`{b}` is neither a class (A to F) nor a finding's kind")
                    }));
                    if why.is_empty() {
                        continue;
                    }
                    why.join("; ")
                }
            };
            let mut f = Finding::new(
                None,
                UNUSED,
                Some(&name),
                format!("`{}` suppresses nothing: {why}", d.text),
                "remove it, or move it to the line of the finding it is meant for".to_string(),
            );
            f.path = Some(d.path.clone());
            f.line = Some(d.line);
            f.warning = true;
            out.push(f);
        }
        self.sift(out, |_| false)
    }
}

fn directive_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"migfix:[ \t]*ignore(?:\[([^\]]*)(\])?)?").expect("the pattern is valid")
    })
}

/// Every `migfix: ignore` comment in the chain's migration sources: Python
/// `#` comments and SQL `--` comments. (A sqitch plan's `#` is a change's
/// note, part of its identity, so none is read there.) A file whose reader
/// kept its comments is not read again.
fn directives(root: &Path, chain: &Chain) -> Vec<Directive> {
    let mut kept: Vec<(&PathBuf, &[(usize, String)])> = Vec::new();
    let mut files: Vec<&PathBuf> = Vec::new();
    for r in &chain.revisions {
        match r.marks.as_deref() {
            Some(marks) => kept.push((&r.path, marks)),
            None => files.push(&r.path),
        }
        files.extend(r.scripts.iter().flat_map(|s| s.paths.iter()));
    }
    files.retain(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("py" | "sql")));
    files.sort();
    files.dedup();
    kept.retain(|(p, _)| p.extension().is_some_and(|e| e == "py"));
    kept.sort_by_key(|(p, _)| *p);
    kept.dedup_by_key(|(p, _)| *p);
    kept.retain(|(p, _)| files.binary_search(p).is_err());
    let mut found: Vec<(&PathBuf, Vec<Directive>)> = kept
        .into_iter()
        .map(|(p, marks)| (p, parse(root, p, "#", marks.to_vec())))
        .collect();
    let read = crate::parallel::parallel_map(&files, |p| in_file(root, p));
    found.extend(files.into_iter().zip(read));
    // In the order of the files' paths, as when every file was read here.
    found.sort_by_key(|(p, _)| *p);
    found.into_iter().flat_map(|(_, d)| d).collect()
}

/// Whether the bytes may hold a `migfix:` comment: most files hold none,
/// and are not worth reading the comments of.
fn marked(bytes: &[u8]) -> bool {
    static MARK: OnceLock<regex::bytes::Regex> = OnceLock::new();
    let mark = MARK.get_or_init(|| regex::bytes::Regex::new("migfix:").expect("a literal"));
    mark.is_match(bytes)
}

/// The comments of a Python file that may be `migfix:` directives, with
/// their lines: what a reader keeps (`Revision::marks`) so that the
/// file is not read again here.
pub(crate) fn python_marks(bytes: &[u8]) -> Vec<(usize, String)> {
    if !marked(bytes) {
        return Vec::new();
    }
    let bom = crate::python::bom_len(bytes);
    crate::python::comments(&bytes[bom..])
        .into_iter()
        .filter_map(|r| {
            let text = &bytes[bom + r.start..bom + r.end];
            marked(text).then(|| {
                let line = crate::python::line_of(bytes, bom + r.start);
                (line, String::from_utf8_lossy(text).into_owned())
            })
        })
        .collect()
}

fn in_file(root: &Path, path: &Path) -> Vec<Directive> {
    let Ok(bytes) = crate::files::read(path) else {
        return Vec::new();
    };
    if !marked(&bytes) {
        return Vec::new();
    }
    let sql = path.extension().is_some_and(|e| e == "sql");
    let comments: Vec<(usize, String)> = if sql {
        crate::sql::comments(&String::from_utf8_lossy(&bytes))
    } else {
        python_marks(&bytes)
    };
    parse(root, path, if sql { "--" } else { "#" }, comments)
}

/// The directives among one file's comments (line, text).
fn parse(root: &Path, path: &Path, marker: &str, comments: Vec<(usize, String)>) -> Vec<Directive> {
    let shown = rel(root, path);
    comments
        .into_iter()
        .filter_map(|(line, comment)| {
            let m = directive_re().captures(&comment)?;
            let text = format!("{marker} {}", m.get(0)?.as_str().trim_end());
            let (mut codes, mut bad) = (Vec::new(), Vec::new());
            let listed = m.get(1).map(|l| {
                if m.get(2).is_none() {
                    bad.push(format!("[{}", l.as_str().trim_end()));
                    return;
                }
                for part in l.as_str().split(',').map(str::trim) {
                    match part.parse::<Code>() {
                        Ok(c) => codes.push(c),
                        Err(_) if part.is_empty() => {}
                        Err(_) => bad.push(part.to_string()),
                    }
                }
                if codes.is_empty() && bad.is_empty() {
                    bad.push("[]".to_string());
                }
            });
            Some(Directive {
                path: shown.clone(),
                line,
                text,
                used: vec![false; codes.len()],
                codes: listed.map(|()| codes),
                bad,
                used_bare: false,
            })
        })
        .collect()
}
