//! Commands of Django projects: a renumber (`git mv` and every
//! `("app", "name")` reference in every app's migrations, replaces and
//! run_before included) and a merge migration in Django's own form. Both
//! keep django-linear-migrations' `max_migration.txt` in step.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::chains::Chain;
use crate::cli::{MergeHeadsArgs, RenumberArgs};
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors, Refused};
use crate::frameworks::django::parse::DepItem;
use crate::frameworks::django::read::{self as dj, DjangoMigration};
use crate::git::Claim;
use crate::graph::Graph;
use crate::plan::{Builder, Change, Edit, Plan};
use crate::repair::Preview;

/// Django's `MigrationAutodetector.parse_number`: a squash counts as the
/// number it squashes to.
pub(crate) fn parse_number(name: &str) -> Option<u64> {
    if let Some(at) = name.rfind("_squashed_") {
        let digits: String = name[at + 10..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !digits.is_empty() {
            return digits.parse().ok();
        }
    }
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn migrations_of<'c>(chain: &'c Chain, app: &'c str) -> impl Iterator<Item = &'c DjangoMigration> {
    chain
        .revisions
        .iter()
        .chain(&chain.replaced)
        .filter_map(|r| r.detail::<DjangoMigration>())
        .filter(move |d| d.app == app)
}

/// The next number of an app: past every migration it has, squashed ones
/// included, and every one another branch adds to it.
pub(crate) fn next_number(chain: &Chain, app: &str, claims: &[Claim]) -> u64 {
    let theirs = claims
        .iter()
        .filter_map(|c| c.id.strip_prefix(app)?.strip_prefix('.'))
        .filter_map(parse_number);
    migrations_of(chain, app)
        .filter_map(|d| parse_number(&d.name))
        .chain(theirs)
        .max()
        .unwrap_or(0)
        + 1
}

/// What another branch adds to `app`, for the notes.
fn claimed_note(claims: &[Claim], app: &str) -> Option<String> {
    let mut names: Vec<&str> = claims
        .iter()
        .filter(|c| c.id.starts_with(&format!("{app}.")))
        .map(|c| c.id.as_str())
        .collect();
    names.sort();
    names.dedup();
    (!names.is_empty()).then(|| {
        format!(
            "numbered past the migrations other branches add: {}",
            names.join(", ")
        )
    })
}

fn width(chain: &Chain) -> usize {
    chain.scheme.width().unwrap_or(4).max(4)
}

/// A migration named by `APP NAME`, `APP.NAME`, `NAME` (unique in the
/// project, or in the app `--chain` selected) or a number prefix (`0005`).
pub(crate) fn find(chain: &Chain, target: &str, name: Option<&str>) -> Result<usize> {
    let (app, wanted) = match (name, target.split_once('.')) {
        (Some(n), _) => (Some(target), n),
        (None, Some((a, n)))
            if chain
                .revisions
                .iter()
                .any(|r| r.detail::<DjangoMigration>().is_some_and(|d| d.app == a)) =>
        {
            (Some(a), n)
        }
        _ => (chain.focus(), target),
    };
    let hits: Vec<usize> = chain
        .revisions
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            let Some(d) = r.detail::<DjangoMigration>() else {
                return false;
            };
            app.is_none_or(|a| d.app == a)
                && (d.name == wanted
                    || (wanted.bytes().all(|b| b.is_ascii_digit())
                        && dj_prefix(&d.name) == Some(wanted)))
        })
        .map(|(i, _)| i)
        .collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => Err(InputErrors::one(Diag::new(
            target,
            None,
            format!(
                "no migration {}{wanted} in {}",
                app.map(|a| format!("{a}.")).unwrap_or_default(),
                chain.name()
            ),
        ))
        .with_help("migfix history")
        .into()),
        many => {
            let ids: Vec<&str> = many
                .iter()
                .map(|&i| chain.revisions[i].id.as_str())
                .collect();
            Err(InputErrors::one(Diag::new(
                target,
                None,
                format!("`{wanted}` names several migrations: {}", ids.join(", ")),
            ))
            .with_help(format!(
                "name one: migfix renumber {}",
                ids[0].replacen('.', " ", 1)
            ))
            .into())
        }
    }
}

fn dj_prefix(name: &str) -> Option<&str> {
    crate::chains::scheme::number_prefix(name)
}

pub(crate) fn renumber(
    config: &Config,
    chain: &Chain,
    idx: usize,
    args: &RenumberArgs,
    claims: &[Claim],
) -> Result<(Preview, Plan)> {
    let spec = super::spec_of(&chain.spec);
    let graph = Graph::build(chain);
    let rev = graph.rev(idx);
    let d = rev.detail::<DjangoMigration>().expect("a Django migration");
    let app = d.app.as_str();
    let rest = match dj_prefix(&d.name) {
        Some(p) => &d.name[p.len()..],
        None => "",
    };
    let to = args
        .to
        .as_deref()
        .map(|t| t.strip_prefix(&format!("{app}.")).unwrap_or(t).to_string());
    let new_name = match &to {
        Some(to) if !to.is_empty() && to.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u64 = to
                .parse()
                .map_err(|_| InputErrors::one(Diag::new("--to", None, "not a number")))?;
            format!("{n:0w$}{rest}", w = width(chain))
        }
        Some(to) => to.clone(),
        None => format!(
            "{:0w$}{}",
            next_number(chain, app, claims),
            if rest.is_empty() {
                format!("_{}", d.name)
            } else {
                rest.to_string()
            },
            w = width(chain)
        ),
    };
    if let Some(c) = new_name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(InputErrors::one(Diag::new(
            "--to",
            None,
            format!("{c:?} cannot be in a migration name: it is a Python module name, so only letters, digits and `_` are allowed"),
        ))
        .into());
    }
    let repoint = new_name == d.name && args.onto.is_some();
    if new_name == d.name && !repoint {
        return Err(Refused::new(format!("{} is already {new_name}", rev.id)).into());
    }
    if !repoint && migrations_of(chain, app).any(|m| m.name == new_name) {
        return Err(Refused::new(format!("{app}.{new_name} already exists")).into());
    }
    let new_id = format!("{app}.{new_name}");
    if let Some(c) = claims.iter().find(|c| c.id == new_id).filter(|_| !repoint) {
        return Err(Refused::new(format!(
            "{new_id} is already used: branch {} adds it in {}",
            c.branch, c.path
        ))
        .into());
    }

    // The new parent: --onto, else the other leaf of the app's fork.
    let onto: Option<String> = match &args.onto {
        Some(o) => {
            let o = o.strip_prefix(&format!("{app}.")).unwrap_or(o);
            let j = find(chain, app, Some(o))?;
            if j == idx || graph.descendants(idx).contains(&j) {
                return Err(Refused::new(format!(
                    "{app}.{o} comes after {}: putting it there would make a cycle",
                    rev.id
                ))
                .into());
            }
            Some(
                graph
                    .rev(j)
                    .detail::<DjangoMigration>()
                    .expect("Django")
                    .name
                    .clone(),
            )
        }
        None => graph
            .forks()
            .into_iter()
            .find(|(heads, _)| heads.contains(&idx))
            .and_then(|(heads, _)| {
                match heads
                    .iter()
                    .filter(|&&h| h != idx)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    [other] => graph
                        .rev(**other)
                        .detail::<DjangoMigration>()
                        .map(|o| o.name.clone()),
                    _ => None,
                }
            }),
    };
    let own_parents: Vec<&crate::python::StrLit> = d
        .class
        .dependencies
        .items
        .iter()
        .filter_map(|i| match i {
            DepItem::Key { app: a, name } if a.value == app && name.value != "__first__" => {
                Some(name)
            }
            _ => None,
        })
        .collect();

    let mut builder = Builder::default();
    let mut notes = vec![format!("file: {}", rel(&config.root, &rev.path))];
    let src = std::fs::read(&rev.path)?;
    let mut own_edits = Vec::new();
    match (&onto, own_parents.as_slice()) {
        (Some(o), [parent]) => {
            notes.push(format!("onto {app}.{o} (was {app}.{})", parent.value));
            own_edits.push(Edit::new(parent.inner.clone(), o.clone()));
        }
        (Some(o), _) if args.onto.is_some() => {
            return Err(Refused::new(format!(
                "{} depends on {} migrations of {app}: say by hand which one {o} replaces",
                rev.id,
                own_parents.len()
            ))
            .into())
        }
        _ => notes.push("its dependencies stay".into()),
    }
    if !own_edits.is_empty() {
        builder.edit(&rev.path, &src, own_edits);
    }
    let to_path = rev.path.with_file_name(format!("{new_name}.py"));
    if !repoint {
        builder.rename(&rev.path, &src, to_path.clone());
        // Every reference, in every app's migrations (the replaced ones too).
        let mut followers = Vec::new();
        for other in chain.revisions.iter().chain(&chain.replaced) {
            let Some(od) = other.detail::<DjangoMigration>() else {
                continue;
            };
            let edits: Vec<Edit> = od
                .references()
                .filter(|(a, n)| a.value == app && n.value == d.name)
                .map(|(_, n)| Edit::new(n.inner.clone(), new_name.clone()))
                .collect();
            if edits.is_empty() {
                continue;
            }
            let bytes = if other.path == rev.path {
                src.clone()
            } else {
                std::fs::read(&other.path)?
            };
            builder.edit(&other.path, &bytes, edits);
            followers.push(other.id.clone());
        }
        if !followers.is_empty() {
            notes.push(format!("references updated in: {}", followers.join(", ")));
        }
    }
    let mut plan = builder.build()?;
    crate::repair::confine(config, &[chain], &plan)?;
    notes.extend(claimed_note(claims, app));
    let after = verify(config, chain, spec, &mut plan, &mut notes)?;
    let g = Graph::build(&after);
    let heads_after = g
        .in_view(g.heads())
        .into_iter()
        .map(|i| g.rev(i).id.clone())
        .collect();
    let preview = Preview {
        chain: chain.name().to_string(),
        title: if repoint {
            format!("re-point {} in {}", rev.id, chain.name())
        } else {
            format!(
                "renumber {} -> {app}.{new_name} in {}",
                rev.id,
                chain.name()
            )
        },
        notes,
        heads_after,
    };
    Ok((preview, plan))
}

/// The project once the plan is applied, refused if the plan would break
/// it; `max_migration.txt` files are brought in step in the same plan.
fn verify(
    config: &Config,
    chain: &Chain,
    spec: &super::DjangoSpec,
    plan: &mut Plan,
    notes: &mut Vec<String>,
) -> Result<Chain> {
    let read = dj::read_with(&config.root, spec, &plan.changes).map_err(|d| {
        anyhow::anyhow!(
            "the planned change would not read ({}); nothing was written",
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let mut after = Chain::new(chain.spec.clone(), read.revisions, read.warnings, |c| {
        super::conventions(c)
    });
    after.replaced = read.replaced;
    let problems = crate::repair::new_problems(chain, &after);
    if !problems.is_empty() {
        bail!(
            "the planned change would leave the project broken ({}); nothing was written",
            problems.join("; ")
        );
    }
    notes.extend(max_migration(config, spec, chain, &after, plan));
    Ok(after)
}

/// django-linear-migrations keeps each app's leaf in
/// `migrations/max_migration.txt`: each one whose leaf the plan moves is
/// rewritten.
fn max_migration(
    config: &Config,
    spec: &super::DjangoSpec,
    before: &Chain,
    after: &Chain,
    plan: &mut Plan,
) -> Vec<String> {
    // Each app's leaves, by name.
    let leaves = |chain: &Chain| -> Vec<(String, String)> {
        let g = Graph::build(chain);
        let mut out: Vec<(String, String)> = g
            .heads()
            .into_iter()
            .filter_map(|i| g.rev(i).detail::<DjangoMigration>())
            .map(|d| (d.app.clone(), d.name.clone()))
            .collect();
        out.sort();
        out
    };
    let (old, new) = (leaves(before), leaves(after));
    let of = |all: &[(String, String)], app: &str| -> Vec<String> {
        all.iter()
            .filter(|(a, _)| a == app)
            .map(|(_, n)| n.clone())
            .collect()
    };
    let mut notes = Vec::new();
    for app in &spec.apps {
        let path = app.dir.join("max_migration.txt");
        let now = of(&new, &app.label);
        let [name] = now.as_slice() else { continue };
        if of(&old, &app.label) == now {
            continue;
        }
        let Ok(before) = std::fs::read(&path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&before);
        if text.trim() == name {
            continue;
        }
        notes.push(format!(
            "{} now names {name} (was {})",
            rel(&config.root, &path),
            text.trim()
        ));
        plan.changes.push(Change {
            from: Some(path.clone()),
            to: path,
            before,
            after: format!("{name}\n").into_bytes(),
        });
    }
    notes
}

/// A merge migration as `makemigrations --merge` writes it: number past
/// every migration of the app, `merge_` and the leaves' names (a timestamp
/// when those are too long), dependencies on the leaves, no operations.
pub(crate) fn merge_heads(
    config: &Config,
    chain: &Chain,
    args: &MergeHeadsArgs,
    claims: &[Claim],
) -> Result<(Preview, Plan, Vec<Claim>)> {
    let spec = super::spec_of(&chain.spec);
    if let Some(id) = &args.rev_id {
        return Err(Refused::new(format!(
            "--rev-id {id}: a Django migration is named, not numbered by id"
        ))
        .help("name it with --label WORDS")
        .into());
    }
    let graph = Graph::build(chain);
    let forks = graph.forks();
    let wanted = args.branch.as_deref().or(chain.focus());
    let fork = match (wanted, forks.as_slice()) {
        (Some(app), _) => forks
            .iter()
            .find(|(_, l)| l.as_deref() == Some(app))
            .ok_or_else(|| {
                Refused::new(format!(
                    "app {app} has a single leaf node: nothing to merge"
                ))
            })?,
        (None, [one]) => one,
        (None, []) => {
            return Err(Refused::new(format!(
                "every app of {} has a single leaf node: nothing to merge",
                chain.name()
            ))
            .into())
        }
        (None, many) => {
            let apps: Vec<String> = many.iter().filter_map(|(_, l)| l.clone()).collect();
            return Err(InputErrors::one(Diag::new(
                "merge-heads",
                None,
                format!("several apps have several leaf nodes: {}", apps.join(", ")),
            ))
            .with_help(format!(
                "merge one app at a time: migfix --chain {} merge-heads",
                apps[0]
            ))
            .into());
        }
    };
    let (heads, Some(app)) = fork else {
        unreachable!("a Django fork is an app's")
    };
    for p in graph.problems() {
        if let crate::graph::Problem::Dangling { rev, target, .. } = p {
            return Err(Refused::new(format!(
                "{} depends on {target}, which does not exist: fix that first",
                graph.rev(rev).id
            ))
            .into());
        }
    }
    let mut leaves: Vec<&DjangoMigration> = heads
        .iter()
        .filter_map(|&h| graph.rev(h).detail::<DjangoMigration>())
        .collect();
    leaves.sort_by(|a, b| a.name.cmp(&b.name));
    let number = next_number(chain, app, claims);
    let names: Vec<&str> = leaves.iter().map(|l| l.name.as_str()).collect();
    let joined = names.join("_");
    let now = crate::repair::template::Utc::now();
    let name = match &args.label {
        Some(l) => format!(
            "{number:0w$}_{}",
            crate::repair::template::slug(l).replace(['-', ' '], "_"),
            w = width(chain)
        ),
        None if joined.len() > 47 => format!(
            "{number:0w$}_merge_{}",
            now.format_compact(),
            w = width(chain)
        ),
        None => format!("{number:0w$}_merge_{joined}", w = width(chain)),
    };
    let newest = heads
        .iter()
        .map(|&h| graph.rev(h))
        .max_by(|a, b| a.path.cmp(&b.path))
        .expect("two leaves");
    let style = std::fs::read_to_string(&newest.path).unwrap_or_default();
    let q = if style.contains("(\"") { '"' } else { '\'' };
    let mut text = String::new();
    if let Some(version) = style
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# Generated by Django "))
        .and_then(|l| l.split(" on ").next())
    {
        text.push_str(&format!(
            "# Generated by Django {version} on {}\n\n",
            now.format_minutes()
        ));
    }
    text.push_str("from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n");
    for l in &leaves {
        text.push_str(&format!("        ({q}{app}{q}, {q}{}{q}),\n", l.name));
    }
    text.push_str("    ]\n\n    operations = [\n    ]\n");
    if style.contains("\r\n") {
        text = text.replace('\n', "\r\n");
    }
    let dir = newest
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let path = dir.join(format!("{name}.py"));
    let mut builder = Builder::default();
    builder.add(path.clone(), text.into_bytes());
    let mut plan = builder.build()?;
    crate::repair::confine(config, &[chain], &plan)?;
    let mut notes = vec![
        format!("file: {}", rel(&config.root, &path)),
        format!(
            "dependencies on {}, no operations, as `makemigrations --merge` writes it",
            names.join(" and ")
        ),
    ];
    notes.extend(claimed_note(claims, app));
    let after = verify(config, chain, spec, &mut plan, &mut notes)?;
    let g = Graph::build(&after);
    let app_leaves: BTreeSet<String> = g
        .heads()
        .into_iter()
        .filter_map(|i| {
            g.rev(i)
                .detail::<DjangoMigration>()
                .filter(|d| &d.app == app)
                .map(|d| d.name.clone())
        })
        .collect();
    if app_leaves.len() != 1 || !app_leaves.contains(&name) {
        bail!(
            "the planned merge would leave app {app} with leaves {:?}; nothing was written",
            app_leaves
        );
    }
    let heads_after = g
        .in_view(g.heads())
        .into_iter()
        .map(|i| g.rev(i).id.clone())
        .collect();
    // Branches adding to the app on one of the old leaves will fork it again.
    let own: Vec<Claim> = claims
        .iter()
        .filter(|c| c.id.starts_with(&format!("{app}.")))
        .cloned()
        .collect();
    let stale = crate::repair::merge::stale_branches(chain, &own, &format!("{app}.{name}"));
    Ok((
        Preview {
            chain: chain.name().to_string(),
            title: format!(
                "merge-heads {} -> {app}.{name} in {}",
                names.join(" + "),
                chain.name()
            ),
            notes,
            heads_after,
        },
        plan,
        stale,
    ))
}

/// `rebase` for a Django project: this branch's new migrations, app by
/// app, renumbered in order past every number the base and other branches
/// use, the first re-pointed at the base's leaf, every reference following.
/// Returns a note, the leaves it leaves, and the project as the base has it.
pub(crate) fn rebase(
    repo: &crate::git::Repo,
    chain: &Chain,
    spec: &super::DjangoSpec,
    (base_name, base): (&str, git2::Oid),
    mb: git2::Oid,
    others: &[(String, git2::Oid)],
    builder: &mut Builder,
) -> Result<Option<(String, String, Chain)>> {
    use std::collections::{BTreeMap, HashSet};
    let before: HashSet<PathBuf> = repo
        .files_at(
            mb,
            &spec.apps.iter().map(|a| a.dir.clone()).collect::<Vec<_>>(),
            false,
            &|n| n.ends_with(".py") && !n.starts_with(".#") && !n.starts_with("__init__"),
        )
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let graph = Graph::build(chain);
    // Parents first, only this branch's new files.
    let added: Vec<usize> = graph
        .newest_first()
        .into_iter()
        .rev()
        .filter(|&i| {
            repo.rel(&graph.rev(i).path)
                .is_some_and(|p| !before.contains(&p))
        })
        .collect();
    if added.is_empty() {
        return Ok(None);
    }
    let at_base = super::claims::chain_at(repo, chain, spec, base);
    let bg = Graph::build(&at_base);
    let claims = super::claims::claims_against(repo, &spec.app_dirs(), base, others);
    let mut renames: BTreeMap<(String, String), String> = BTreeMap::new();
    // Dependency names to point at the base's leaf, by file.
    let mut repoints: BTreeMap<PathBuf, Vec<Edit>> = BTreeMap::new();
    let mut notes = Vec::new();
    let mut leaves_after = Vec::new();
    let apps: BTreeSet<&str> = added
        .iter()
        .filter_map(|&i| {
            graph
                .rev(i)
                .detail::<DjangoMigration>()
                .map(|d| d.app.as_str())
        })
        .collect();
    for app in apps {
        let base_leaves: Vec<&DjangoMigration> = bg
            .heads()
            .into_iter()
            .filter_map(|i| bg.rev(i).detail::<DjangoMigration>())
            .filter(|d| d.app == app)
            .collect();
        let base_leaf = match base_leaves.as_slice() {
            [one] => Some(one.name.clone()),
            [] => None,
            many => {
                let names: Vec<&str> = many.iter().map(|d| d.name.as_str()).collect();
                return Err(Refused::new(format!(
                    "app {app} has {} leaf nodes on {base_name} ({}): merge them there first",
                    many.len(),
                    names.join(", ")
                ))
                .help(format!("on {base_name}: migfix --chain {app} merge-heads"))
                .into());
            }
        };
        let mine: Vec<usize> = added
            .iter()
            .copied()
            .filter(|&i| {
                graph
                    .rev(i)
                    .detail::<DjangoMigration>()
                    .is_some_and(|d| d.app == app)
            })
            .collect();
        let mine_names: HashSet<&str> = mine
            .iter()
            .filter_map(|&i| {
                graph
                    .rev(i)
                    .detail::<DjangoMigration>()
                    .map(|d| d.name.as_str())
            })
            .collect();
        let first = next_number(&at_base, app, &claims);
        let mut last = String::new();
        for (next, &i) in (first..).zip(&mine) {
            let d = graph.rev(i).detail::<DjangoMigration>().expect("Django");
            let rest = dj_prefix(&d.name)
                .map_or(format!("_{}", d.name), |p| d.name[p.len()..].to_string());
            let new = format!("{next:0w$}{rest}", w = width(chain));
            if new != d.name {
                renames.insert((app.to_string(), d.name.clone()), new.clone());
            }
            // What the branch built on in its app follows the base's leaf.
            if let Some(leaf) = &base_leaf {
                let edits: Vec<Edit> = d
                    .class
                    .dependencies
                    .items
                    .iter()
                    .filter_map(|it| match it {
                        DepItem::Key { app: a, name }
                            if a.value == app
                                && name.value != "__first__"
                                && name.value != *leaf
                                && !mine_names.contains(name.value.as_str()) =>
                        {
                            Some(Edit::new(name.inner.clone(), leaf.clone()))
                        }
                        _ => None,
                    })
                    .collect();
                if !edits.is_empty() {
                    repoints.insert(graph.rev(i).path.clone(), edits);
                }
            }
            last = new;
        }
        notes.push(format!(
            "{app}: {} migration{} after {}",
            mine.len(),
            if mine.len() == 1 { "" } else { "s" },
            base_leaf
                .as_deref()
                .map_or("its first".to_string(), |l| format!("{app}.{l}"))
        ));
        leaves_after.push(format!("{app}.{last}"));
    }
    if renames.is_empty() && repoints.is_empty() {
        return Ok(None);
    }
    for r in chain.revisions.iter().chain(&chain.replaced) {
        let Some(d) = r.detail::<DjangoMigration>() else {
            continue;
        };
        let mut edits: Vec<Edit> = d
            .references()
            .filter_map(|(a, n)| {
                renames
                    .get(&(a.value.clone(), n.value.clone()))
                    .map(|new| Edit::new(n.inner.clone(), new.clone()))
            })
            .collect();
        edits.extend(repoints.remove(&r.path).unwrap_or_default());
        let rename = renames.get(&(d.app.clone(), d.name.clone()));
        if edits.is_empty() && rename.is_none() {
            continue;
        }
        let src = std::fs::read(&r.path)?;
        if !edits.is_empty() {
            builder.edit(&r.path, &src, edits);
        }
        if let Some(new) = rename {
            builder.rename(&r.path, &src, r.path.with_file_name(format!("{new}.py")));
        }
    }
    Ok(Some((notes.join("; "), leaves_after.join(", "), at_base)))
}

/// The base's project plus this branch's planned files: one leaf per app
/// and nothing dangling, as it will be once the branch is merged.
pub(crate) fn check_against_base(
    config: &Config,
    chain: &Chain,
    spec: &super::DjangoSpec,
    at_base: &Chain,
    plan: &Plan,
) -> Result<()> {
    let mut classes = Vec::new();
    let planned: Vec<(&Change, &crate::frameworks::django::DjangoApp)> = plan
        .changes
        .iter()
        .filter_map(|c| Some((c, spec.app_of(&c.to)?)))
        .collect();
    let gone: Vec<&Path> = planned
        .iter()
        .filter_map(|(c, _)| c.from.as_deref())
        .collect();
    for r in at_base.revisions.iter().chain(&at_base.replaced) {
        if gone.contains(&r.path.as_path()) || planned.iter().any(|(c, _)| c.to == r.path) {
            continue;
        }
        let d = r.detail::<DjangoMigration>().expect("Django");
        classes.push((
            (d.app.clone(), d.name.clone(), r.path.clone()),
            d.class.clone(),
        ));
    }
    for (c, app) in &planned {
        let stem =
            c.to.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
        let class = crate::frameworks::django::parse::read(&c.after)
            .ok()
            .flatten()
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the edited {} would not read; nothing was written",
                    rel(&config.root, &c.to)
                )
            })?;
        classes.push(((app.label.clone(), stem, c.to.clone()), class));
    }
    let read = dj::assemble(&config.root, spec, classes);
    let mut merged = Chain::new(chain.spec.clone(), read.revisions, Vec::new(), |c| {
        super::conventions(c)
    });
    merged.replaced = read.replaced;
    let problems = crate::repair::new_problems(at_base, &merged);
    if !problems.is_empty() {
        bail!(
            "the planned rebase would break {} ({}); nothing was written",
            chain.name(),
            problems.join("; ")
        );
    }
    let forks = Graph::build(&merged).forks();
    if let Some((heads, app)) = forks.first() {
        let g = Graph::build(&merged);
        let ids: Vec<&str> = heads.iter().map(|&h| g.rev(h).id.as_str()).collect();
        bail!(
            "the planned rebase would leave app {} with leaves {}; nothing was written",
            app.clone().unwrap_or_default(),
            ids.join(", ")
        );
    }
    Ok(())
}
