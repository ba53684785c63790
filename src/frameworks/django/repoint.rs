//! Django's re-point: every `(app, name)` reference to a migration that no
//! file is (in `dependencies`, `replaces` or `run_before`, in every app)
//! made to name an existing one, with `max_migration.txt` kept in step.

use anyhow::Result;

use crate::chains::Chain;
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors};
use crate::frameworks::django::read::DjangoMigration;
use crate::graph::Graph;
use crate::plan::{Builder, Edit, Plan};
use crate::repair::{confine, drop_refused, missing_new, nearest, Preview};

/// `APP.NAME` as its app and name; a bare NAME takes `app`.
fn split<'a>(id: &'a str, app: Option<&'a str>) -> Option<(&'a str, &'a str)> {
    match id.split_once('.') {
        Some((a, n)) => Some((a, n)),
        None => app.map(|a| (a, id)),
    }
}

pub(crate) fn repoint(
    config: &Config,
    chain: &Chain,
    old: &str,
    new: Option<&str>,
) -> Result<Option<(Preview, Plan)>> {
    let Some((old_app, old_name)) = split(old, None) else {
        return Ok(None);
    };
    let migrations = || {
        chain
            .revisions
            .iter()
            .chain(&chain.replaced)
            .filter_map(|r| Some((r, r.detail::<DjangoMigration>()?)))
    };
    let naming: Vec<_> = migrations()
        .filter(|(_, d)| {
            d.references()
                .any(|(a, n)| a.value == old_app && n.value == old_name)
        })
        .collect();
    if naming.is_empty() {
        return Ok(None);
    }
    if let Some(r) = chain.revisions.iter().find(|r| r.id == old) {
        return Err(InputErrors::one(Diag::new(
            old,
            None,
            format!(
                "{old} is a migration of {} ({}): its references do not dangle",
                chain.name(),
                rel(&config.root, &r.path)
            ),
        ))
        .with_help(format!(
            "to give it another name: migfix renumber {old_app} {old_name}"
        ))
        .into());
    }
    let Some(new) = new else {
        return Err(drop_refused(old, "a Django dependency").into());
    };
    let (new_app, new_name) = split(new, Some(old_app)).expect("an app");
    let new_id = format!("{new_app}.{new_name}");
    if !chain.revisions.iter().any(|r| r.id == new_id) {
        // The same app's migrations first.
        let of_app: Vec<&str> = chain
            .revisions
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| id.starts_with(&format!("{new_app}.")))
            .collect();
        let near = if of_app.is_empty() {
            nearest(&new_id, chain.revisions.iter().map(|r| r.id.as_str()))
        } else {
            nearest(&new_id, of_app.into_iter())
        };
        return Err(missing_new(&new_id, "migration", chain.name(), &near).into());
    }
    let mut builder = Builder::default();
    let mut who = Vec::new();
    for (r, d) in naming {
        let mut edits = Vec::new();
        for (a, n) in d.references() {
            if a.value == old_app && n.value == old_name {
                if new_app != old_app {
                    edits.push(Edit::new(a.inner.clone(), new_app));
                }
                edits.push(Edit::new(n.inner.clone(), new_name));
            }
        }
        let src = crate::files::read(&r.path)?;
        builder.edit(&r.path, &src, edits);
        who.push(format!("{} ({})", r.id, rel(&config.root, &r.path)));
    }
    let mut plan = builder.build()?;
    confine(config, &[chain], &plan)?;
    let mut notes = vec![format!(
        "references to {old} now name {new_id} in: {}",
        who.join(", ")
    )];
    let spec = super::spec_of(&chain.spec);
    let after = super::renumber::verify(config, chain, spec, &mut plan, &mut notes)?;
    let g = Graph::build(&after);
    let heads_after = g
        .in_view(g.heads())
        .into_iter()
        .map(|i| g.rev(i).id.clone())
        .collect();
    let preview = Preview {
        chain: chain.name().to_string(),
        title: format!("re-point {old} -> {new_id} in {}", chain.name()),
        notes,
        heads_after,
        parts_after: crate::repair::parts_after(&after, &plan),
    };
    Ok(Some((preview, plan)))
}
