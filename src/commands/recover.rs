//! `migfix recover`: the runbooks as one guided session. Diagnose, offer
//! the fixes that apply (recommended first), show the diff, ask, apply,
//! check again, then list what is left to do by hand.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Result;

use super::{merge_heads, renumber};
use crate::chains::Chain;
use crate::cli::{MergeHeadsArgs, RecoverArgs, RenumberArgs, WriteArgs};
use crate::commands::diagnose;
use crate::config::{rel, Config};
use crate::error::ExitStatus;
use crate::error::Refused;
use crate::findings::Finding;
use crate::git::Repo;
use crate::graph::{id_order, Graph, Problem, Via};
use crate::plan::Plan;
use crate::repair::Preview;
use crate::report;

pub(crate) use crate::outcome::{Action, Fix, Offer};

pub(crate) fn run(config: &Config, args: &RecoverArgs) -> Result<ExitStatus> {
    let from_stdin = args.log.as_deref().is_some_and(|p| p == Path::new("-"));
    let interactive =
        !from_stdin && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    // A write that was killed comes first: offer to undo or finish it.
    match crate::plan::journal::find(&config.root) {
        crate::plan::journal::Found::None => {}
        found @ crate::plan::journal::Found::Running { .. } => {
            return Err(crate::plan::journal::refusal(&found).expect("a journal was found"))
        }
        found @ crate::plan::journal::Found::Interrupted { .. } => {
            if !interactive {
                return Err(crate::plan::journal::refusal(&found).expect("a journal was found"));
            }
            report::journal_left(&found);
            let choices = [
                "Put every file back as it was (migfix undo)".to_string(),
                "Complete the interrupted write (migfix undo --finish)".to_string(),
                "Leave it and stop".to_string(),
            ];
            match report::choose("An earlier write was interrupted", &choices)? {
                Some(0) => crate::commands::undo(config, false)?,
                Some(1) => crate::commands::undo(config, true)?,
                _ => return left_as_is(config, false),
            };
        }
    }
    let repo = Repo::discover(&config.root);
    let log = match &args.log {
        Some(path) => diagnose::log_findings(config, path)?,
        None => Vec::new(),
    };
    let chains = crate::frameworks::load(config)?;
    let ci = diagnose::ci_roles(&config.root);
    let found: Vec<(String, Vec<Finding>)> = chains
        .iter()
        .map(|c| {
            (
                c.name().to_string(),
                diagnose::tree_findings(&config.root, c, &ci),
            )
        })
        .collect();
    report::recover::diagnosis(config, &found, &log)?;
    if found.iter().all(|(_, f)| f.is_empty()) && log.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let offers: Vec<Offer> = chains
        .iter()
        .filter_map(|c| offer(config, c, repo.as_ref()))
        .collect();
    if !interactive {
        report::recover::commands(config, &offers, &manual(&found, &log))?;
        return Ok(ExitStatus::Problems);
    }

    let mut applied = false;
    for name in offers.iter().map(|o| o.chain.clone()).collect::<Vec<_>>() {
        loop {
            let chains = crate::frameworks::load(config)?;
            let Some(chain) = chains.iter().find(|c| c.name() == name) else {
                break;
            };
            let Some(offer) = offer(config, chain, repo.as_ref()) else {
                break;
            };
            let mut labels: Vec<String> = offer
                .fixes
                .iter()
                .map(|f| report::recover::menu_item(&f.label))
                .collect();
            labels.push("leave it for now".to_string());
            report::recover::problem(config, &offer)?;
            let Some(choice) = report::choose("How to fix it?", &labels)? else {
                return left_as_is(config, applied);
            };
            let Some(fix) = offer.fixes.get(choice) else {
                break;
            };
            let Some((preview, plan)) = prepare(config, chain, fix, repo.as_ref())? else {
                return left_as_is(config, applied);
            };
            // Changes this session made itself are not the user's uncommitted work.
            let write = WriteArgs {
                dry_run: false,
                yes: false,
                allow_dirty: applied,
                force: false,
            };
            match super::write::finish(
                config,
                &preview,
                &plan,
                &write,
                repo.as_ref(),
                super::write::Check::Tree,
            ) {
                Ok(_) => applied = true,
                Err(e) if e.is::<Refused>() => {
                    let refused = e.downcast::<Refused>().expect("checked above");
                    report::note(
                        config,
                        &format!("not applied ({}): nothing was written", refused.message),
                    )?;
                    return Ok(ExitStatus::Problems);
                }
                Err(e) => return Err(e),
            }
            let chains = crate::frameworks::load(config)?;
            if let Some(c) = chains.iter().find(|c| c.name() == name) {
                report::check(
                    config,
                    &[(c, crate::frameworks::findings(&config.root, c, &[]))],
                    &[Vec::new()],
                    &[Vec::new()],
                )?;
            }
        }
    }

    let chains = crate::frameworks::load(config)?;
    let left: Vec<(String, Vec<Finding>)> = chains
        .iter()
        .map(|c| {
            (
                c.name().to_string(),
                diagnose::tree_findings(&config.root, c, &ci),
            )
        })
        .collect();
    let by_hand = manual(&left, &log);
    report::recover::manual(config, &by_hand)?;
    let worked_on: Vec<&Chain> = chains
        .iter()
        .filter(|c| offers.iter().any(|o| o.chain == c.name()))
        .collect();
    report::recover::follow_ups(config, &follow_ups(config, &worked_on, repo.as_ref()))?;
    // Exit 0 only when nothing is left, by hand or otherwise.
    let anything_left = left.iter().any(|(_, f)| !f.is_empty()) || !log.is_empty();
    Ok(if anything_left {
        ExitStatus::Problems
    } else {
        ExitStatus::Success
    })
}

fn left_as_is(config: &Config, applied: bool) -> Result<ExitStatus> {
    let message = if applied {
        "stopped: what was applied stays; nothing else was written"
    } else {
        "stopped: nothing was written"
    };
    report::note(config, message)?;
    Ok(ExitStatus::Problems)
}

/// Findings that are not chain edits (A, B, D, F and unclassified log
/// failures): their runbook fixes are printed, not applied.
fn manual(found: &[(String, Vec<Finding>)], log: &[Finding]) -> Vec<Finding> {
    found
        .iter()
        .flat_map(|(_, f)| f)
        .chain(log)
        .filter(|f| {
            matches!(f.class, Some('A' | 'B' | 'D' | 'F'))
                || (f.class.is_none() && !f.log_lines.is_empty())
        })
        .cloned()
        .collect()
}

/// The commit that added a revision's file: short id, summary, time.
type Added = Option<(String, String, i64)>;

/// Revisions oldest first by when their files reached the branch (then
/// by id), for "the one merged later", with the commit that added each.
fn by_age(g: &Graph<'_>, repo: Option<&Repo>, revs: &[usize]) -> Vec<(usize, Added)> {
    let paths: Vec<std::path::PathBuf> = revs.iter().map(|&i| g.rev(i).path.clone()).collect();
    let arrived = repo.and_then(|r| r.arrivals(&paths));
    let mut out: Vec<(usize, usize, Added)> = revs
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let depth = arrived.as_ref().map_or(0, |d| d[n]);
            (i, depth, repo.and_then(|r| r.added_in(&g.rev(i).path)))
        })
        .collect();
    // Deeper in history is older.
    out.sort_by(|(a, da, _), (b, db, _)| {
        db.cmp(da)
            .then_with(|| id_order(&g.rev(*a).id, &g.rev(*b).id))
    });
    out.into_iter().map(|(i, _, added)| (i, added)).collect()
}

/// The most urgent chain problem with an automatic fix, and its fixes,
/// recommended first. A dangling pointer comes first: it can make heads.
pub(crate) fn offer(config: &Config, chain: &Chain, repo: Option<&Repo>) -> Option<Offer> {
    let g = Graph::build(chain);
    let problems = g.problems();
    let shown = |i: usize| rel(&config.root, &g.rev(i).path);
    let name = chain.name().to_string();
    let target = |i: usize| shown(i);
    let words = &chain.profile().words;
    for p in &problems {
        if let Problem::Dangling {
            rev,
            target: missing,
            via: Via::DownRevision,
            suggestion,
        } = p
        {
            let r = g.rev(*rev);
            let mut fixes = Vec::new();
            if let Some(s) = suggestion {
                fixes.push(Fix {
                    label: format!("point {} at {s}", r.id),
                    why: format!("{missing} is not an id; {s} is the {} it names", words.one),
                    command: Some(format!(
                        "migfix renumber {} --to {} --onto {s} --yes",
                        target(*rev),
                        r.id
                    )),
                    action: Action::Renumber {
                        target: target(*rev),
                        to: Some(r.id.clone()),
                        onto: Some(s.clone()),
                    },
                });
            }
            fixes.push(Fix {
                label: format!("point {} at another {}", r.id, words.one),
                why: "you type the id".into(),
                command: None,
                action: Action::AskParent {
                    target: target(*rev),
                    id: r.id.clone(),
                },
            });
            return Some(Offer {
                chain: name,
                problem: format!(
                    "[E] {} ({}) {} {missing}, which does not exist",
                    r.id,
                    shown(*rev),
                    words.revises
                ),
                fixes,
            });
        }
    }
    for p in &problems {
        if let Problem::DuplicateId { id, revs } = p {
            let fixes = by_age(&g, repo, revs)
                .iter()
                .rev()
                .enumerate()
                .map(|(n, (i, when))| {
                    let origin = when.as_ref().map(|(sha, _, _)| format!(" (added in {sha})")).unwrap_or_default();
                    Fix {
                        label: format!("renumber {}{origin}", shown(*i)),
                        why: if n == 0 {
                            format!("the file merged later gives up {id}; the other keeps it and its children")
                        } else {
                            format!("this file gives up {id} instead")
                        },
                        command: Some(format!("migfix renumber {} --yes", target(*i))),
                        action: Action::Renumber { target: target(*i), to: None, onto: None },
                    }
                })
                .collect();
            return Some(Offer {
                chain: name,
                problem: format!("[C] {} {id} is declared by {} files", words.one, revs.len()),
                fixes,
            });
        }
    }
    for p in &problems {
        if let Problem::MultipleHeads { heads, label } = p {
            let ids: Vec<String> = heads.iter().map(|&i| g.rev(i).id.clone()).collect();
            let per_label = chain.profile().rules.bases_per_label;
            let mut fixes = vec![Fix {
                label: format!("add a merge {} over {}", words.one, ids.join(" and ")),
                why: "the runbook's fix: no DDL, numbered past every claim; open branches then rebase onto it".into(),
                command: Some(match (per_label, label) {
                    (true, Some(l)) => format!("migfix --chain {l} merge-heads --yes"),
                    _ => format!("migfix --chain {} merge-heads --yes", chain.name()),
                }),
                action: Action::MergeHeads { branch: label.clone() },
            }];
            if heads.len() == 2 {
                let ordered = by_age(&g, repo, heads);
                let (later, when) = ordered.last().cloned().expect("two heads");
                let other = ordered[0].0;
                let origin = when
                    .as_ref()
                    .map(|(sha, _, _)| format!(" (added later, in {sha})"))
                    .unwrap_or_default();
                let summary = when
                    .map(|(_, summary, _)| format!("it came with \"{summary}\"; "))
                    .unwrap_or_default();
                fixes.push(Fix {
                    label: format!(
                        "renumber {}{origin} onto {}",
                        g.rev(later).id,
                        g.rev(other).id
                    ),
                    why: format!("{summary}one linear chain, but its author must pull the rename"),
                    command: Some(format!("migfix renumber {} --yes", target(later))),
                    action: Action::Renumber {
                        target: target(later),
                        to: None,
                        onto: None,
                    },
                });
            }
            let parents: std::collections::BTreeSet<&String> =
                heads.iter().flat_map(|&i| &g.rev(i).down).collect();
            let fork = if parents.len() == 1 {
                format!(", forking at {}", parents.into_iter().next().expect("one"))
            } else {
                String::new()
            };
            let problem = match (per_label, label) {
                (true, Some(l)) => format!(
                    "[C] {} in {} {l}: {}{fork}",
                    words.heads_n(heads.len()),
                    words.branch,
                    ids.join(", ")
                ),
                _ => format!(
                    "[C] {}: {}{fork}",
                    words.heads_n(heads.len()),
                    ids.join(", ")
                ),
            };
            return Some(Offer {
                chain: name,
                problem,
                fixes,
            });
        }
    }
    None
}

/// The plan for a chosen fix; `None` when the user gave up at a prompt.
fn prepare(
    config: &Config,
    chain: &Chain,
    fix: &Fix,
    repo: Option<&Repo>,
) -> Result<Option<(Preview, Plan)>> {
    let one = std::slice::from_ref(chain);
    let renumber_args = |target: &str, to: Option<String>, onto: Option<String>| RenumberArgs {
        name: None,
        target: target.to_string(),
        to,
        onto,
        write: WriteArgs::default(),
    };
    Ok(Some(match &fix.action {
        Action::MergeHeads { branch } => {
            let args = MergeHeadsArgs {
                label: None,
                rev_id: None,
                branch: branch.clone(),
                write: WriteArgs::default(),
            };
            let p = merge_heads::prepare(config, one, &args, repo)?;
            (p.preview, p.plan)
        }
        Action::Renumber { target, to, onto } => renumber::prepare(
            config,
            one,
            &every(config, one)?,
            &renumber_args(target, to.clone(), onto.clone()),
            repo,
        )?,
        Action::AskParent { target, id } => {
            let g = Graph::build(chain);
            let valid = |s: &str| g.resolve(s.trim()).is_some();
            let noun = chain.profile().words.one;
            let question = format!("New parent (a {noun} id)");
            let wrong = format!("no such {noun} in this chain");
            let Some(parent) = report::ask(&question, &valid, &wrong)? else {
                return Ok(None);
            };
            renumber::prepare(
                config,
                one,
                &every(config, one)?,
                &renumber_args(target, Some(id.clone()), Some(parent.trim().to_string())),
                repo,
            )?
        }
    }))
}

/// What to do after the chain is whole: branches to rebase, and the
/// runbook's verification commands.
pub(crate) fn follow_ups(config: &Config, chains: &[&Chain], repo: Option<&Repo>) -> Vec<String> {
    let mut out = Vec::new();
    for chain in chains {
        let g = Graph::build(chain);
        let heads = g.heads();
        let claims = crate::frameworks::claims(repo, chain);
        let framework = crate::frameworks::of(&chain.spec);
        // Each head with the claims built on its branch: the one head, or
        // where heads count per label (Django's apps), each label's.
        let groups: Vec<(usize, Vec<crate::git::Claim>)> = if chain.profile().rules.bases_per_label
        {
            heads
                .iter()
                .map(|&h| {
                    let label = g.rev(h).branch_labels.as_ref().and_then(|l| l.first());
                    let own = claims
                        .iter()
                        .filter(|c| {
                            c.down.iter().any(|d| {
                                g.resolve(d)
                                    .and_then(|i| g.rev(i).branch_labels.as_ref())
                                    .is_some_and(|l| l.first() == label)
                            })
                        })
                        .cloned()
                        .collect();
                    (h, own)
                })
                .collect()
        } else if let [head] = heads.as_slice() {
            vec![(*head, claims)]
        } else {
            Vec::new()
        };
        for (head, own) in groups {
            for c in crate::repair::merge::stale_branches(chain, &own, &g.rev(head).id) {
                out.push(format!(
                    "rebase {} ({} {} {}): on it, run migfix rebase",
                    c.branch,
                    c.id,
                    chain.profile().words.revises,
                    c.down.join(", ")
                ));
            }
        }
        out.extend(framework.verify_commands(&config.root, chain));
    }
    out
}

/// Every chain of the repository, for the references a renumber follows;
/// just `one` where that is all there is.
fn every(config: &Config, one: &[Chain]) -> Result<Vec<Chain>> {
    if config.every.len() == one.len() {
        return Ok(one.to_vec());
    }
    Ok(crate::frameworks::load_every(config)?.1)
}
