//! A Django renumber: `git mv` and every `(app, name)` reference in every
//! app, with `max_migration.txt` kept in step.

use anyhow::{bail, Result};

use crate::chains::Chain;
use crate::cli::RenumberArgs;
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors, Refused};
use crate::frameworks::django::parse::DepItem;
use crate::frameworks::django::read::{self as dj, DjangoMigration};
use crate::git::Claim;
use crate::graph::Graph;
use crate::plan::{Builder, Change, Edit, Plan};
use crate::repair::Preview;

use super::numbers::{claimed_note, dj_prefix, find, migrations_of, next_number, width};

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
    let src = crate::files::read(&rev.path)?;
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
                crate::files::read(&other.path)?
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
        parts_after: crate::repair::parts_after(&after, &plan),
    };
    Ok((preview, plan))
}

/// The project once the plan is applied, refused if the plan would break
/// it; `max_migration.txt` files are brought in step in the same plan.
pub(super) fn verify(
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
pub(super) fn max_migration(
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
        let Ok(before) = crate::files::read(&path) else {
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
