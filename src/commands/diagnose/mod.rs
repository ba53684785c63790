//! `migfix diagnose`: failure classes A–F from CI logs and from the tree.
//!
//! From the tree, statically: A, B, D and F here (one file per class),
//! C and E from the graph (`findings::for_chain`). From a log: `logs`
//! classifies each failure, and the tree, when it can be read, adds where
//! it is and what fixes it.

mod a;
mod b;
mod catalog;
mod d;
mod f;
mod logs;
mod signs;

use std::io::BufRead;
use std::path::Path;

use anyhow::Result;

use crate::chains::Chain;
use crate::cli::DiagnoseArgs;
use crate::config::Config;
use crate::error::ExitStatus;
use crate::error::{Diag, InputErrors};
use crate::findings::{self, Finding};
use crate::graph::Graph;
use crate::report;
use crate::suppress::{Choice, Sifter, Suppressed};

pub(crate) use b::{ci_roles, CiRole};

use crate::facts::RevFacts;
use crate::sql::{self, IndexPart};
use logs::{Direction, Hint, LogFinding};

/// One chain with what the class checks need.
pub(crate) struct Ctx<'a> {
    pub root: &'a Path,
    pub chain: &'a Chain,
    pub graph: Graph<'a>,
    pub facts: Vec<RevFacts>,
    pub ci_roles: &'a [CiRole],
}

impl<'a> Ctx<'a> {
    pub fn new(root: &'a Path, chain: &'a Chain, ci_roles: &'a [CiRole]) -> Ctx<'a> {
        Ctx {
            root,
            chain,
            graph: Graph::build(chain),
            facts: collect(chain),
            ci_roles,
        }
    }

    fn rel(&self, path: &Path) -> String {
        crate::config::rel(self.root, path)
    }

    /// The command that upgrades this chain to `target`, as the gate runs it.
    fn upgrade_to(&self, target: &str) -> String {
        upgrade_command(self.root, self.chain, target)
    }
}

fn upgrade_command(root: &Path, chain: &Chain, target: &str) -> String {
    crate::frameworks::of(&chain.spec).upgrade_command(root, &chain.spec, target)
}

/// Classes A, B, D and F for one chain, read statically.
pub(crate) fn static_findings(root: &Path, chain: &Chain, ci_roles: &[CiRole]) -> Vec<Finding> {
    let ctx = Ctx::new(root, chain, ci_roles);
    let mut out = a::findings(&ctx);
    out.extend(b::findings(&ctx));
    out.extend(d::findings(&ctx));
    out.extend(f::findings(&ctx));
    one_per_place(out)
}

/// Where `upgrade()` calls the helper a finding is in: a related place.
fn called_from(f: &mut Finding, at: &crate::facts::At) {
    if let (Some(site), Some(path)) = (at.site, &f.path) {
        f.related.push(findings::Place {
            path: path.clone(),
            line: site,
        });
    }
}

/// One finding per file, line and class, however often a helper that holds
/// it is called: the calls are its related places, each named once.
fn one_per_place(found: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in found {
        let same = out.iter_mut().find(|o| {
            o.class == f.class && o.kind == f.kind && o.path == f.path && o.line == f.line
        });
        match same {
            Some(o) => o.related.extend(f.related),
            None => out.push(f),
        }
    }
    for f in &mut out {
        let mut seen = Vec::new();
        f.related.retain(|p| {
            !seen.contains(&(p.path.clone(), p.line)) && {
                seen.push((p.path.clone(), p.line));
                true
            }
        });
    }
    out
}

/// Whether a static finding fails `check`. A and B are prerequisites of the
/// gate's fresh database (a seed row, a role) that production has: the
/// migration is right, the gate must supply them. D and F fail on every
/// fresh database.
pub(crate) fn fails_gate(f: &Finding) -> bool {
    !matches!(f.class, Some('A' | 'B'))
}

/// A static finding as a `check` warning.
pub(crate) fn as_warning(f: &Finding) -> Diag {
    let class = f.class.map(|c| format!("[{c}] ")).unwrap_or_default();
    Diag::new(
        f.path.clone().unwrap_or_default(),
        f.line,
        format!(
            "{class}{} (`migfix diagnose` prints the gate step that provides it)",
            f.message
        ),
    )
}

pub(crate) fn run(config: &Config, args: &DiagnoseArgs) -> Result<ExitStatus> {
    let found = match &args.log {
        None => {
            let mut chains = crate::frameworks::load(config)?;
            let ci = ci_roles(&config.root);
            let choice = Choice::of(&args.choice);
            let (mut found, mut suppressed) = (Vec::new(), Vec::new());
            for c in &mut chains {
                let (kept, hushed, unused) = tree_sorted(&config.root, c, &ci, &choice);
                c.warnings.extend(unused.iter().map(findings::as_warning));
                found.push(kept);
                suppressed.push(hushed);
            }
            let per_chain: Vec<(&Chain, Vec<Finding>)> = chains.iter().zip(found).collect();
            report::sink::report(config, args.output_file.as_deref(), |c| {
                report::diagnose::tree(c, &per_chain, &suppressed)
            })?;
            per_chain.iter().any(|(_, f)| !f.is_empty())
        }
        Some(path) => {
            let (shown, found, lines) = read_log(path)?;
            let tree = Tree::load(config);
            let findings: Vec<Finding> = found.into_iter().map(|lf| tree.explain(lf)).collect();
            report::sink::report(config, args.output_file.as_deref(), |c| {
                report::diagnose::log(
                    c,
                    &shown,
                    lines,
                    &findings,
                    &tree.chains,
                    tree.error.as_ref(),
                )
            })?;
            // The log's verdict, whatever of the tree could be read.
            return Ok(if findings.is_empty() {
                ExitStatus::Success
            } else {
                ExitStatus::Problems
            });
        }
    };
    config.status(if found {
        ExitStatus::Problems
    } else {
        ExitStatus::Success
    })
}

/// The facts of every revision of `chain`, indexed like `chain.revisions`:
/// each framework reads its own (see `Framework::facts`).
fn collect(chain: &Chain) -> Vec<RevFacts> {
    crate::frameworks::of(&chain.spec).facts(chain)
}

/// Everything wrong with one chain: its graph (C, E and the rest) and the
/// static classes, but what the configuration suppresses.
pub(crate) fn tree_findings(root: &Path, chain: &Chain, ci: &[CiRole]) -> Vec<Finding> {
    tree_sorted(root, chain, ci, &Choice::default()).0
}

fn all_findings(root: &Path, chain: &Chain, ci: &[CiRole]) -> Vec<Finding> {
    let mut out = crate::frameworks::findings(root, chain, &[]);
    out.extend(static_findings(root, chain, ci));
    out
}

/// The same, as `choice` sorts it: what is reported, what is suppressed,
/// and the warnings of comments that suppress nothing.
fn tree_sorted(
    root: &Path,
    chain: &Chain,
    ci: &[CiRole],
    choice: &Choice,
) -> (Vec<Finding>, Vec<Suppressed>, Vec<Finding>) {
    let mut sifter = Sifter::new(root, chain, choice);
    // In diagnose every finding counts.
    let kept = sifter.sift(all_findings(root, chain, ci), |_| true);
    let unused = sifter.unused();
    (kept, sifter.suppressed, unused)
}

/// The failures a log shows, each explained by the tree where it can be.
pub(crate) fn log_findings(config: &Config, path: &Path) -> Result<Vec<Finding>> {
    let (_, found, _) = read_log(path)?;
    let tree = Tree::load(config);
    Ok(found.into_iter().map(|lf| tree.explain(lf)).collect())
}

/// The failures in a captured output (the gate's), placed in the tree.
pub(crate) fn explain_log_text(config: &Config, text: &str) -> Vec<Finding> {
    let tree = Tree::load(config);
    logs::classify(text)
        .into_iter()
        .map(|lf| tree.explain(lf))
        .collect()
}

/// The log's findings and its number of lines, read a line at a time
/// (a CI log can be hundreds of megabytes). Bytes that are not UTF-8 are
/// replaced, not refused: a CI log is evidence, whatever its encoding.
fn read_log(path: &Path) -> Result<(String, Vec<logs::LogFinding>, usize)> {
    let stdin = path.as_os_str() == "-";
    let shown = if stdin {
        "-".to_string()
    } else {
        path.display().to_string()
    };
    let failed = |e: std::io::Error| {
        InputErrors::one(Diag::new(
            shown.clone(),
            None,
            format!("cannot read the log: {e}"),
        ))
        .with_help("migfix diagnose --log FILE (or --log - to read standard input)")
    };
    let mut reader: Box<dyn BufRead> = if stdin {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).map_err(failed)?,
        ))
    };
    let mut classifier = logs::Classifier::default();
    let (mut line, mut lines) = (Vec::new(), 0);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(failed)? == 0 {
            break;
        }
        lines += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        classifier.line(&String::from_utf8_lossy(text));
    }
    Ok((shown, classifier.finish(), lines))
}

/// The tree, when it can be read, to say where a logged failure is.
struct Tree<'a> {
    root: &'a Path,
    chains: Vec<Chain>,
    findings: Vec<Vec<Finding>>,
    facts: Vec<Vec<RevFacts>>,
    ci: Vec<CiRole>,
    /// Why the tree could not be read: the log is classified all the same.
    error: Option<String>,
}

impl<'a> Tree<'a> {
    fn load(config: &'a Config) -> Tree<'a> {
        let ci = ci_roles(&config.root);
        let (chains, error) = match crate::frameworks::load(config) {
            Ok(c) => (c, None),
            Err(e) => (Vec::new(), Some(e.to_string().replace('\n', "; "))),
        };
        let findings = chains
            .iter()
            // A log's failure is explained by the tree, suppressed or not.
            .map(|c| all_findings(&config.root, c, &ci))
            .collect();
        let facts = chains.iter().map(collect).collect();
        Tree {
            root: &config.root,
            chains,
            findings,
            facts,
            ci,
            error,
        }
    }

    fn rel(&self, p: &Path) -> String {
        crate::config::rel(self.root, p)
    }

    /// The (chain, revision) a traceback frame's file is, matched on the
    /// longest common tail of path components.
    fn by_frame(&self, path: &str) -> Option<(usize, usize)> {
        let parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
        let mut best: Option<(usize, (usize, usize))> = None;
        let mut tie = false;
        for (c, chain) in self.chains.iter().enumerate() {
            // Traceback frames are Python files.
            if chain.profile().rules.plan_order {
                continue;
            }
            for (r, rev) in chain.revisions.iter().enumerate() {
                let rel = self.rel(&rev.path);
                let mine: Vec<&str> = rel.split('/').collect();
                let common = parts
                    .iter()
                    .rev()
                    .zip(mine.iter().rev())
                    .take_while(|(a, b)| a == b)
                    .count();
                if common == 0 {
                    continue;
                }
                match best {
                    Some((n, _)) if n > common => {}
                    Some((n, _)) if n == common => tie = true,
                    _ => {
                        best = Some((common, (c, r)));
                        tie = false;
                    }
                }
            }
        }
        best.filter(|_| !tie).map(|(_, at)| at)
    }

    /// The chains that have revision `id`; with several, the one the step's
    /// name or command mentions.
    fn by_id(&self, id: &str, step: Option<&str>) -> Option<(usize, usize)> {
        let hits: Vec<(usize, usize)> = self
            .chains
            .iter()
            .enumerate()
            .filter_map(|(c, chain)| {
                chain
                    .revisions
                    .iter()
                    .rposition(|r| r.id == id)
                    .map(|r| (c, r))
            })
            .collect();
        match hits.as_slice() {
            [one] => Some(*one),
            [] => None,
            many => {
                let step = step?;
                let named: Vec<&(usize, usize)> = many
                    .iter()
                    .filter(|(c, _)| {
                        let chain = &self.chains[*c];
                        let loc = self.rel(&chain.location());
                        step.contains(chain.name())
                            || loc.split('/').next().is_some_and(|top| step.contains(top))
                    })
                    .collect();
                match named.as_slice() {
                    [one] => Some(**one),
                    _ => None,
                }
            }
        }
    }

    /// The chain of a finding about the whole graph (C, E): the located
    /// chain, else the only chain with such a finding.
    fn graph_finding(
        &self,
        chain: Option<usize>,
        pick: impl Fn(&Finding) -> bool,
    ) -> Option<&Finding> {
        if let Some(c) = chain {
            return self.findings[c].iter().find(|f| pick(f));
        }
        let all: Vec<&Finding> = self.findings.iter().flatten().filter(|f| pick(f)).collect();
        match all.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// A logged failure as a finding: its class's fix, and where it is in
    /// the tree when the tree says.
    fn explain(&self, lf: LogFinding) -> Finding {
        // Where: the innermost frame that is a revision file, else the
        // revision Alembic said it was running.
        let frame_hit = lf
            .frames
            .iter()
            .rev()
            .find_map(|fr| self.by_frame(&fr.path).map(|at| (at, fr.line)));
        let running_id = lf
            .running
            .as_ref()
            .and_then(|r| r.revision())
            .map(str::to_string);
        // A migration file in the traceback that this tree lacks: the log
        // is from another checkout, where the same id may be another file.
        let foreign = frame_hit.is_none()
            && lf
                .frames
                .iter()
                .any(|fr| fr.path.contains("versions") && fr.path.ends_with(".py"));
        let located: Option<(usize, usize)> = frame_hit.map(|(at, _)| at).or_else(|| {
            running_id
                .as_deref()
                .filter(|_| !foreign)
                .and_then(|id| self.by_id(id, lf.step.as_deref()))
        });
        let chain_idx = located.map(|(c, _)| c);
        let chain = chain_idx.map(|c| &self.chains[c]);
        // The chain whose words describe it: the failing one's, else the
        // one of the revision the error names as referring (Django's).
        let described = chain.or_else(|| {
            lf.referenced_from
                .as_deref()
                .and_then(|id| self.by_id(id, lf.step.as_deref()))
                .map(|(c, _)| &self.chains[c])
        });
        let (kind, message, fix) = self.describe(&lf, described);
        let mut f = Finding::new(lf.class, kind, chain.map(Chain::name), message, fix);
        f.subject = lf.subject.clone();
        f.log_lines = lf.lines.clone();
        f.error = Some(lf.error.clone());
        f.statement = lf.statement.clone();
        f.step = lf.step.clone();
        f.revision = running_id.clone();
        if let Some((c, r)) = located {
            let rev = &self.chains[c].revisions[r];
            f.revision = Some(rev.id.clone());
            f.path = Some(self.rel(&self.facts[c][r].file));
            f.line = frame_hit.map(|(_, line)| line).or(Some(rev.line));
        } else if let Some(fr) = lf
            .frames
            .iter()
            .rev()
            .find(|fr| fr.path.contains("versions"))
        {
            // not in this tree: the file as the log names it
            f.path = Some(fr.path.clone());
            f.line = Some(fr.line);
        }
        let head = chain.map_or_else(
            || "alembic upgrade head".to_string(),
            |c| upgrade_command(self.root, c, "head"),
        );
        match lf.class {
            Some('A') => {
                let table = lf.subject.clone().unwrap_or_else(|| "<table>".into());
                let lookup = located
                    .and_then(|(c, r)| self.facts[c][r].lookups.iter().find(|l| l.table == table));
                let keys: Vec<(String, Option<String>)> = match (lookup, &lf.key) {
                    (Some(l), key) => l
                        .keys
                        .iter()
                        .map(|(col, v)| {
                            (
                                col.clone(),
                                v.clone()
                                    .or_else(|| key.clone().filter(|_| l.keys.len() == 1)),
                            )
                        })
                        .collect(),
                    (None, Some(key)) => vec![("<column>".to_string(), Some(key.clone()))],
                    (None, None) => Vec::new(),
                };
                if let Some(l) = lookup {
                    f.line = Some(l.at.line);
                }
                f.sql = Some(a::seed_sql(&table, &keys));
                let before = lf
                    .running
                    .as_ref()
                    .filter(|r| r.direction == Direction::Upgrade && !r.from.is_empty())
                    .map(|r| r.from.join(" "))
                    .or_else(|| {
                        located
                            .map(|(c, r)| self.chains[c].revisions[r].down.join(" "))
                            .filter(|d| !d.is_empty())
                    });
                let upgrade = |t: &str| {
                    chain.map_or_else(
                        || format!("alembic upgrade {t}"),
                        |c| upgrade_command(self.root, c, t),
                    )
                };
                f.fix = format!(
                    "the gate must seed the row before {} runs (two-phase upgrade): {}, insert the row (SQL below, ON CONFLICT \
                     DO NOTHING so that the round trip can run it twice), then `{}`; the seed step ships in the same PR as the \
                     migration",
                    f.revision.as_deref().unwrap_or("the migration"),
                    before.map_or_else(|| "upgrade to the revision before it".to_string(), |b| format!("`{}`", upgrade(&b))),
                    upgrade("head"),
                );
            }
            Some('B') => {
                let role = lf.subject.clone().unwrap_or_default();
                if let Some((c, r)) = located {
                    if let Some(u) = self.facts[c][r].role_uses.iter().find(|u| u.role == role) {
                        if frame_hit.is_none() {
                            f.line = Some(u.at.line);
                        }
                    }
                }
                f.sql = Some(b::role_sql(&role));
                f.fix = b::fix(&head);
                let provided = chain
                    .and_then(|c| c.spec.roles.iter().find(|r| **r == role))
                    .map(|_| "migfix.toml lists it under `roles`".to_string())
                    .or_else(|| {
                        self.ci
                            .iter()
                            .find(|r| r.name == role)
                            .map(|r| format!("{}:{} creates it", r.path, r.line))
                    });
                if let Some(p) = provided {
                    f.fix = format!("{p}, but this run did not have it: make sure that step runs, on this database's server, before `{head}`");
                }
            }
            Some('C') => {
                if let Some(t) = self.graph_finding(chain_idx, |g| {
                    matches!(g.kind, "multiple-heads" | "duplicate-id")
                }) {
                    f.chain = t.chain.clone();
                    f.revision = t.revision.clone();
                    f.path = t.path.clone();
                    f.line = t.line;
                    f.fix = t.fix.clone();
                    f.command = t.command.clone();
                    f.message = t.message.clone();
                }
            }
            Some('D') => {
                let index = lf.statement.as_deref().and_then(sql::index_name);
                if index.is_some() {
                    f.subject = index.clone();
                }
                if let Some((c, r)) = located {
                    let issues = &self.facts[c][r].index_issues;
                    let hit = issues
                        .iter()
                        .find(|i| index.is_some() && i.index == index)
                        .or(issues.first());
                    if let Some(i) = hit {
                        f.subject = f.subject.clone().or_else(|| i.index.clone());
                        f.line = Some(i.at.line);
                        let part = if i.part == IndexPart::Predicate {
                            "predicate"
                        } else {
                            "expression"
                        };
                        let index = f
                            .subject
                            .as_deref()
                            .map_or_else(|| "an index".to_string(), |x| format!("index {x}"));
                        f.message = format!(
                            "{index}: its {part} uses {}, which is not IMMUTABLE",
                            i.what
                        );
                    }
                }
            }
            Some('E') => {
                let target = lf.subject.clone().unwrap_or_default();
                let dangling = self.graph_finding(chain_idx, |g| {
                    g.class == Some('E')
                        && g.message
                            .starts_with(&format!("down_revision names {target},"))
                        || g.message
                            .starts_with(&format!("depends_on names {target},"))
                        // A log that names the referencing revision too (Django's).
                        || (g.kind.starts_with("dangling")
                            && lf.referenced_from.is_some()
                            && g.revision == lf.referenced_from)
                });
                match dangling {
                    Some(t) => {
                        f.chain = t.chain.clone();
                        f.revision = t.revision.clone();
                        f.path = t.path.clone();
                        f.line = t.line;
                        f.fix = t.fix.clone();
                        f.command = t.command.clone();
                    }
                    None => {
                        let declared = self
                            .chains
                            .iter()
                            .any(|c| c.revisions.iter().any(|r| r.id == target));
                        if self.error.is_none()
                            && !declared
                            && lf.referenced_from.is_none()
                            && !target.is_empty()
                        {
                            f.fix = format!(
                                "no file and no down_revision in this tree names {target}, so either the database's \
                                 alembic_version holds it (it was deployed, then its file was deleted or renumbered: restore \
                                 the file, or stamp the database with the revision that replaced it once the schema is known \
                                 to match) or the command asked for it (check the revision argument)"
                            );
                        }
                        if let Some((c, r)) = lf
                            .referenced_from
                            .as_deref()
                            .and_then(|id| self.by_id(id, lf.step.as_deref()))
                        {
                            let rev = &self.chains[c].revisions[r];
                            f.chain = Some(self.chains[c].name().to_string());
                            f.revision = Some(rev.id.clone());
                            f.path = Some(self.rel(&rev.path));
                            f.line = Some(rev.line);
                        }
                    }
                }
            }
            Some('F') => {
                // Postgres names the relation without its schema.
                let table = sql::table_key(&lf.subject.clone().unwrap_or_default());
                let pick = |g: &&Finding| {
                    g.class == Some('F')
                        && g.subject.as_deref().is_some_and(|s| {
                            s == table || s.rsplit_once('.').is_some_and(|(_, t)| t == table)
                        })
                };
                let hit = match chain_idx {
                    Some(c) => self.findings[c].iter().find(pick),
                    None => {
                        let all: Vec<&Finding> =
                            self.findings.iter().flatten().filter(pick).collect();
                        if all.len() == 1 {
                            Some(all[0])
                        } else {
                            None
                        }
                    }
                };
                if let Some(t) = hit {
                    f.chain = t.chain.clone();
                    f.revision = t.revision.clone();
                    f.path = t.path.clone();
                    f.line = t.line;
                    f.related = t.related.clone();
                    f.message = t.message.clone();
                }
            }
            _ => {}
        }
        f
    }

    /// The kind, the one-line message and the runbook's fix of a logged failure.
    fn describe(&self, lf: &LogFinding, chain: Option<&Chain>) -> (&'static str, String, String) {
        let subject = lf.subject.clone().unwrap_or_default();
        // Upgrades are the usual case; a failing downgrade is worth saying.
        let during = lf
            .running
            .as_ref()
            .filter(|r| r.direction == Direction::Downgrade)
            .map(|r| {
                format!(
                    " during downgrade {} -> {}",
                    r.from.join(", "),
                    r.to.join(", ")
                )
            })
            .unwrap_or_default();
        let head = chain.map_or_else(
            || "alembic upgrade head".to_string(),
            |c| upgrade_command(self.root, c, "head"),
        );
        let words = chain.map_or(&crate::config::profile::Words::COMMON, |c| {
            &c.profile().words
        });
        match lf.class {
            Some('A') => (
                "missing-seed-row",
                match &lf.key {
                    Some(k) => {
                        format!("seed row '{k}' is missing from the {subject} table{during}")
                    }
                    None => format!("a seed row is missing from the {subject} table{during}"),
                },
                a::FIX.to_string(),
            ),
            Some('B') => (
                "missing-role",
                format!("role {subject} does not exist{during}"),
                b::fix(&head),
            ),
            Some('C') => {
                let what = if lf.duplicate && !subject.is_empty() {
                    format!("{} {subject} is declared by more than one file", words.one)
                } else if lf.heads.len() > 1 {
                    format!(
                        "{}: {}",
                        words.heads_n(lf.heads.len()),
                        findings::and_list(&lf.heads)
                    )
                } else {
                    format!("more than one {}", words.head)
                };
                (
                    if lf.duplicate { "duplicate-id" } else { "multiple-heads" },
                    what,
                    format!(
                        "two migrations claim the same parent: renumber the later one onto the other {}, or add a no-DDL \
                         merge {} (`migfix heads` lists them)",
                        words.head, words.one
                    ),
                )
            }
            Some('D') => {
                let part = match lf.part {
                    Some(IndexPart::Expression) => "expression",
                    _ => "predicate",
                };
                let index = if subject.is_empty() {
                    "an index".to_string()
                } else {
                    format!("index {subject}")
                };
                (
                    "non-immutable-index",
                    format!("{index}: its {part} uses a function that is not IMMUTABLE{during}"),
                    d::FIX.to_string(),
                )
            }
            Some('E') => {
                let from = lf
                    .referenced_from
                    .as_deref()
                    .map(|r| format!(", referenced from {r}"))
                    .unwrap_or_default();
                let subject = if subject.is_empty() {
                    format!("a {}", words.one)
                } else {
                    format!("{} {subject}", words.one)
                };
                let field = words.parent_field;
                (
                    "unknown-revision",
                    format!("{subject} is not in the chain{from}"),
                    format!(
                        "a {field} (or the database's {}) names {subject}, which no file declares: point the \
                         orphaned migration's {field} at the correct predecessor (`migfix history` shows the chain); if \
                         the file was deleted or renumbered after it was deployed, restore it",
                        words.history_table
                    ),
                )
            }
            Some('F') => (
                "duplicate-table",
                format!("relation {subject} already exists{during}"),
                f::fix(chain.is_some_and(|c| c.profile().rules.plan_order)).to_string(),
            ),
            _ => {
                let fix = match (lf.hint, lf.running.as_ref().map(|r| r.direction)) {
                    (Hint::Connection, _) => {
                        "the database could not be reached: check the Postgres service container; re-run the job once, and \
                         file a type:reliability issue if it fails again"
                    }
                    (_, Some(Direction::Downgrade)) => {
                        "the migration's downgrade() has a bug: its author fixes the downgrade() path (every migration must \
                         be reversible)"
                    }
                    (Hint::Database, _) => {
                        "a migration-specific Postgres incompatibility: the author of the failing migration fixes it"
                    }
                    _ => "not one of the runbook's classes A–F: read the error; the owner of the failing migration or step fixes it",
                };
                let error: String = lf.error.chars().take(160).collect();
                (
                    "unclassified",
                    format!("failure not recognised{during}: {error}"),
                    fix.to_string(),
                )
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
