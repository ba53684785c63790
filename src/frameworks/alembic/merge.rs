//! Alembic's merge revision over a fork, numbered past every claim and
//! written in the chain's own style.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Result};

use super::planned::checked;
use super::template::{self, HouseStyle, NewRevision};
use crate::chains::ids::slug;
use crate::chains::{Chain, Naming};
use crate::cli::MergeHeadsArgs;
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors, Refused};
use crate::git::Claim;
use crate::graph::id_order;
use crate::graph::{Graph, Problem};
use crate::outcome::Preview;
use crate::plan::Builder;
use crate::repair::merge::{stale_branches, Prepared};
use crate::repair::{default_id, in_width, next_file_number, taken_by};
use crate::utc::Utc;

/// Alembic's merge revision, in the chain's own style.
pub(crate) fn merge_heads(
    config: &Config,
    chain: &Chain,
    args: &MergeHeadsArgs,
    claims: &[Claim],
) -> Result<Prepared> {
    let graph = Graph::build(chain);
    refuse_broken(config, chain, &graph)?;
    let (heads, branch) = fork_to_merge(chain, &graph, args.branch.as_deref())?;
    let mut head_ids: Vec<String> = heads.iter().map(|&i| graph.rev(i).id.clone()).collect();
    head_ids.sort_by(|a, b| id_order(a, b));

    let id = match &args.rev_id {
        Some(id) => {
            let id = in_width(chain, id);
            if let Some(reason) = crate::graph::invalid_new_id(&id) {
                return Err(InputErrors::one(Diag::new("--rev-id", None, reason)).into());
            }
            if let Some(who) = taken_by(chain, claims, &id) {
                return Err(Refused::new(format!("{id} is already used: {who}")).into());
            }
            id
        }
        None => default_id(chain, claims),
    };

    let label = args.label.clone().unwrap_or_else(|| head_ids.join("_and_"));
    let label_slug = slug(&label);
    let message = match &args.label {
        Some(l) => format!("merge {l}"),
        None => format!("merge heads {}", join_and(&head_ids)),
    };
    let slug = slug(&format!("merge {label_slug}"));
    let new = NewRevision {
        id: &id,
        down: &head_ids,
        message: &message,
        now: Utc::now(),
    };
    let spec = super::spec_of(&chain.spec);
    if let Some(t) = spec
        .file_template
        .as_deref()
        .filter(|t| Naming::from_template(t).is_none())
    {
        return Err(InputErrors::one(Diag::new(
            chain.name(),
            None,
            format!("cannot use the file_template `{t}`"),
        ))
        .into());
    }
    let name = chain
        .naming
        .render(&id, &slug, next_file_number(chain, claims), &new.now);
    let path = merge_dir(spec, &graph, &heads).join(&name);
    let (contents, style_note) = contents(chain, &graph, &new);

    let mut builder = Builder::default();
    builder.add(path.clone(), contents);
    let mut plan = builder.build()?;
    let (_, heads_after, tracked) = checked(config, chain, &mut plan, "the planned merge")?;
    // The merged heads give way to the merge node; other branches keep theirs.
    let expected: BTreeSet<&str> = graph
        .heads()
        .into_iter()
        .filter(|h| !heads.contains(h))
        .map(|i| graph.rev(i).id.as_str())
        .chain([id.as_str()])
        .collect();
    if heads_after
        .iter()
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        != expected
    {
        bail!(
            "the planned merge would leave heads {}; nothing was written",
            heads_after.join(", ")
        );
    }

    let mut notes = vec![
        format!("file: {}", rel(&config.root, &path)),
        format!(
            "down_revision = ({}), no DDL: upgrade() and downgrade() only pass",
            head_ids.join(", ")
        ),
        style_note,
    ];
    if let Some(b) = &branch {
        notes.push(format!(
            "merges branch {b} only; the other branches keep their heads"
        ));
    }
    notes.extend(tracked);
    if !claims.is_empty() {
        let mut claimed: Vec<&str> = claims.iter().map(|c| c.id.as_str()).collect();
        claimed.sort_by(|a, b| id_order(a, b));
        claimed.dedup();
        notes.push(format!(
            "numbered past the ids claimed on other branches: {}",
            claimed.join(", ")
        ));
    }
    let preview = Preview {
        chain: chain.name().to_string(),
        title: format!(
            "merge-heads {} -> {id} in {}",
            head_ids.join(" + "),
            chain.name()
        ),
        notes,
        heads_after,
        parts_after: Vec::new(),
    };
    let stale = stale_branches(chain, claims, &id);
    Ok(Prepared {
        preview,
        plan,
        stale,
    })
}

fn join_and(ids: &[String]) -> String {
    match ids {
        [init @ .., last] if !init.is_empty() => format!("{} and {last}", init.join(", ")),
        _ => ids.join(""),
    }
}

/// Where the merge file goes: the versions folder, or in a tree of
/// folders the one of the newest head it merges.
fn merge_dir(spec: &super::AlembicSpec, graph: &Graph<'_>, heads: &[usize]) -> std::path::PathBuf {
    let first = spec
        .versions
        .first()
        .expect("a chain has a versions directory")
        .clone();
    if !spec.recursive && spec.versions.len() == 1 {
        return first;
    }
    let newest = graph.newest_first().into_iter().find(|i| heads.contains(i));
    newest
        .and_then(|i| graph.rev(i).path.parent().map(Path::to_path_buf))
        .unwrap_or(first)
}

/// The heads to merge: the one fork of the chain, or that of `--branch`.
/// Heads on distinct labelled branches are meant to be there; merging them
/// would join branches that Alembic upgrades side by side.
fn fork_to_merge(
    chain: &Chain,
    graph: &Graph<'_>,
    branch: Option<&str>,
) -> Result<(Vec<usize>, Option<String>)> {
    let forks = graph.forks();
    let describe = |h: usize| graph.with_labels(h);
    if let Some(b) = branch {
        return match forks.iter().find(|(_, l)| l.as_deref() == Some(b)) {
            Some((heads, label)) => Ok((heads.clone(), label.clone())),
            None => {
                let on: Vec<String> = graph
                    .heads()
                    .into_iter()
                    .filter(|&h| graph.labels_of(h).contains(b))
                    .map(describe)
                    .collect();
                Err(Refused::new(format!(
                    "branch {b} of {} has {}: nothing to merge there",
                    chain.name(),
                    if on.is_empty() {
                        "no head".to_string()
                    } else {
                        format!("one head, {}", on.join(", "))
                    }
                ))
                .into())
            }
        };
    }
    match forks.as_slice() {
        [(heads, label)] => Ok((heads.clone(), label.clone())),
        [] => {
            let heads: Vec<String> = graph.heads().into_iter().map(describe).collect();
            Err(Refused::new(format!(
                "{}'s heads {} are on distinct labelled branches, as intended: Alembic upgrades them together with `alembic upgrade heads`; nothing to merge",
                chain.name(),
                heads.join(", ")
            ))
            .help("to join branches anyway, merge by hand: alembic merge -m MESSAGE HEAD1 HEAD2")
            .into())
        }
        many => {
            let labels: Vec<String> = many
                .iter()
                .map(|(_, l)| l.clone().unwrap_or_else(|| "(unlabelled)".into()))
                .collect();
            Err(InputErrors::one(Diag::new(
                "merge-heads",
                None,
                format!(
                    "{} has forked on several branches: {}",
                    chain.name(),
                    labels.join(", ")
                ),
            ))
            .with_help(format!(
                "merge one at a time: migfix --chain {} merge-heads --branch {}",
                chain.name(),
                labels[0]
            ))
            .into())
        }
    }
}

/// A merge node only joins real forks. A duplicate id, a dangling pointer
/// or a cycle must be fixed first, each by its own command.
fn refuse_broken(config: &Config, chain: &Chain, graph: &Graph<'_>) -> Result<()> {
    for p in graph.problems() {
        match p {
            Problem::DuplicateId { id, revs } => {
                let files: Vec<String> = revs
                    .iter()
                    .map(|&i| rel(&config.root, &graph.rev(i).path))
                    .collect();
                return Err(Refused::new(format!(
                    "revision {id} is declared by {} files ({}): a duplicate, not a fork; a merge node cannot join them",
                    files.len(),
                    files.join(", ")
                ))
                .help({
                    let paths: Vec<_> = revs.iter().map(|&i| graph.rev(i).path.clone()).collect();
                    format!("migfix renumber {}", files[crate::findings::merged_later(&config.root, &paths).0])
                })
                .into());
            }
            Problem::Dangling {
                rev,
                target,
                via,
                suggestion,
            } => {
                let help =
                    crate::findings::repoint(&config.root, graph, rev, &via, suggestion.as_deref())
                        .unwrap_or_else(|| format!("migfix --chain {} check", chain.name()));
                return Err(Refused::new(format!(
                    "{} ({}) points at {target}, which does not exist: fix that first",
                    graph.rev(rev).id,
                    rel(&config.root, &graph.rev(rev).path)
                ))
                .help(help)
                .into());
            }
            Problem::Cycle { revs } => {
                let ids: Vec<&str> = revs.iter().map(|&i| graph.rev(i).id.as_str()).collect();
                return Err(Refused::new(format!(
                    "revisions {} form a cycle: fix that first",
                    ids.join(", ")
                ))
                .into());
            }
            _ => {}
        }
    }
    Ok(())
}

/// The new file's text, and a note saying which style it follows.
fn contents(chain: &Chain, graph: &Graph<'_>, new: &NewRevision<'_>) -> (Vec<u8>, String) {
    let spec = super::spec_of(&chain.spec);
    let newest = graph
        .heads()
        .into_iter()
        .max_by(|&a, &b| id_order(&graph.rev(a).id, &graph.rev(b).id));
    let newest_text = newest
        .and_then(|i| crate::files::read_to_string(&graph.rev(i).path).ok())
        .unwrap_or_default();
    let crlf = newest_text.contains("\r\n");
    let mako = spec
        .script_location
        .as_deref()
        .map(|d| d.join("script.py.mako"));
    let rendered = mako
        .as_deref()
        .and_then(|p| crate::files::read_to_string(p).ok().map(|t| (p, t)));
    let (text, note) = match rendered
        .and_then(|(p, t)| template::render_mako(&t.replace("\r\n", "\n"), new).map(|r| (p, r)))
    {
        Some((p, text)) => (text, format!("content from {}", file_label(p))),
        None => {
            let style = HouseStyle::of(&newest_text);
            let from = newest
                .map(|i| file_label(&graph.rev(i).path))
                .unwrap_or_default();
            (style.render(new), format!("content in the style of {from}"))
        }
    };
    let text = if crlf {
        text.replace('\n', "\r\n")
    } else {
        text
    };
    (text.into_bytes(), note)
}

fn file_label(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
