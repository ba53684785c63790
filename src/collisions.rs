//! `migfix collisions`: sequence-number collisions and stale parents across
//! branches, from git alone (no `gh`, no token), read from each branch's
//! tree without checking anything out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Result;
use git2::Oid;

use crate::chains::scheme::sqitch_prefix;
use crate::chains::{self, Chain};
use crate::cli::CollisionsArgs;
use crate::config::Config;
use crate::error::{Diag, InputErrors};
use crate::findings::Finding;
use crate::frameworks::alembic::read as alembic;
use crate::frameworks::sqitch::plan::Plan;
use crate::git::Repo;
use crate::graph::{id_order, Graph};
use crate::report;
use crate::ExitStatus;

pub(crate) use crate::outcome::{Analysis, Claimant, Collision, Stale};

pub(crate) fn run(config: &Config, args: &CollisionsArgs) -> Result<ExitStatus> {
    let repo = Repo::discover(&config.root).ok_or_else(|| {
        InputErrors::one(Diag::new(
            config.rel(&config.root),
            None,
            "not inside a git work tree",
        ))
    })?;
    let (base_name, base) = pick_base(&repo, args.base.as_deref())?;
    let chains = chains::load(config)?;
    let branches = repo.branches_matching(&args.refs, &[base_name.as_str()]);
    let analysis = analyse(&repo, &chains, &base_name, base, &branches);
    let findings = findings(&analysis);
    report::collisions(config, &analysis, &findings)?;
    Ok(if findings.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Problems
    })
}

/// `--base`, else `origin/main`, else `main`.
pub(crate) fn pick_base(repo: &Repo, wanted: Option<&str>) -> Result<(String, Oid)> {
    let candidates: Vec<&str> = match wanted {
        Some(w) => vec![w],
        None => vec!["origin/main", "main", "origin/master", "master"],
    };
    candidates
        .iter()
        .find_map(|c| repo.resolve(c))
        .ok_or_else(|| {
            let what = wanted.map_or("no origin/main or main branch".to_string(), |w| {
                format!("no branch or revision `{w}`")
            });
            InputErrors::one(Diag::new("--base", None, what))
                .with_help("name the base branch: --base REF")
                .into()
        })
}

pub(crate) fn analyse(
    repo: &Repo,
    chains: &[Chain],
    base_name: &str,
    base: Oid,
    branches: &[(String, Oid)],
) -> Analysis {
    let mut a = Analysis {
        base: base_name.to_string(),
        branches: branches.len(),
        collisions: Vec::new(),
        stale: Vec::new(),
        next_free: BTreeMap::new(),
        base_heads: BTreeMap::new(),
    };
    for chain in chains {
        chain
            .framework()
            .collisions(repo, chain, (base_name, base), branches, &mut a);
    }
    a
}

/// The chain as the base has it, read from the base's tree.
pub(crate) fn alembic_at(
    repo: &Repo,
    chain: &Chain,
    versions: &[PathBuf],
    recursive: bool,
    commit: Oid,
) -> Chain {
    let mut at = chain.clone();
    at.warnings.clear();
    at.revisions = repo
        .revision_files_at(commit, versions, recursive)
        .into_iter()
        .filter_map(|(path, oid)| {
            let consts = crate::python::read(&repo.blob(oid)?).ok()?;
            let abs = repo.workdir().join(&path);
            alembic::to_revision(&path.to_string_lossy(), &abs, consts)
                .ok()
                .map(|(r, _)| r)
        })
        .collect();
    at
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn alembic_chain(
    repo: &Repo,
    chain: &Chain,
    versions: &[PathBuf],
    recursive: bool,
    base_name: &str,
    base: Oid,
    branches: &[(String, Oid)],
    a: &mut Analysis,
) {
    let name = chain.name().to_string();
    let at_base = alembic_at(repo, chain, versions, recursive, base);
    let graph = Graph::build(&at_base);
    let mut heads: Vec<String> = graph
        .heads()
        .into_iter()
        .map(|i| graph.rev(i).id.clone())
        .collect();
    heads.sort_by(|x, y| id_order(x, y));
    heads.dedup();
    let claims = repo.claims(versions, recursive, base, branches);
    record_collisions(
        repo,
        &name,
        base_name,
        &at_base.revisions,
        &claims,
        |id| Some(id.to_string()),
        a,
    );
    let should = match heads.as_slice() {
        [one] => one.clone(),
        many => format!(
            "a merge of {} (run `migfix merge-heads` on {base_name} first)",
            many.join(", ")
        ),
    };
    for c in &claims {
        let own: BTreeSet<&str> = claims
            .iter()
            .filter(|o| o.branch == c.branch)
            .map(|o| o.id.as_str())
            .collect();
        let attaches: Vec<&String> = c
            .down
            .iter()
            .filter(|d| !own.contains(d.as_str()))
            .collect();
        if !attaches.is_empty() && (heads.len() != 1 || attaches.iter().any(|d| **d != heads[0])) {
            a.stale.push(Stale {
                chain: name.clone(),
                branch: c.branch.clone(),
                revision: c.id.clone(),
                path: c.path.clone(),
                down_revisions: c.down.clone(),
                should: should.clone(),
            });
        }
    }
    a.base_heads.insert(name.clone(), heads);
    let mut all = at_base.clone();
    all.revisions.extend(chain.revisions.iter().cloned());
    if let Some(next) = crate::repair::next_free(&all, &claims) {
        a.next_free.insert(name, next);
    }
}

/// Who claims each key (an id, or what `key` makes of it): the base's
/// revisions, then each branch's new ones; a key claimed on two branches,
/// one of them not the base, collides.
fn record_collisions<'r>(
    repo: &Repo,
    chain: &str,
    base_name: &str,
    base_revs: impl IntoIterator<Item = &'r crate::chains::Revision>,
    claims: &[crate::git::Claim],
    key: impl Fn(&str) -> Option<String>,
    a: &mut Analysis,
) {
    let mut by_key: BTreeMap<String, Vec<Claimant>> = BTreeMap::new();
    for r in base_revs {
        let Some(k) = key(&r.id) else { continue };
        let path = repo.rel(&r.path).map_or_else(
            || r.path.display().to_string(),
            |p| p.to_string_lossy().replace('\\', "/"),
        );
        by_key.entry(k).or_default().push(Claimant {
            branch: base_name.to_string(),
            path,
        });
    }
    for c in claims {
        let Some(k) = key(&c.id) else { continue };
        by_key.entry(k).or_default().push(Claimant {
            branch: c.branch.clone(),
            path: c.path.clone(),
        });
    }
    for (id, claims) in by_key {
        let branches: BTreeSet<&str> = claims.iter().map(|c| c.branch.as_str()).collect();
        if claims.iter().any(|c| c.branch != base_name) && branches.len() > 1 {
            a.collisions.push(Collision {
                chain: chain.to_string(),
                id,
                claims,
            });
        }
    }
}

/// A Django project as a commit has it, read from its tree.
pub(crate) fn django_at(
    repo: &Repo,
    chain: &Chain,
    spec: &crate::config::DjangoSpec,
    commit: Oid,
) -> Chain {
    let mut classes = Vec::new();
    for app in &spec.apps {
        for (path, oid) in repo.revision_files_at(commit, std::slice::from_ref(&app.dir), false) {
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if crate::frameworks::django::read::skipped(stem).is_some() {
                continue;
            }
            let Some(class) = repo
                .blob(oid)
                .and_then(|b| crate::frameworks::django::parse::read(&b).ok().flatten())
            else {
                continue;
            };
            classes.push((
                (
                    app.label.clone(),
                    stem.to_string(),
                    repo.workdir().join(&path),
                ),
                class,
            ));
        }
    }
    let read = crate::frameworks::django::read::assemble(repo.workdir(), spec, classes);
    let mut at = Chain::new(chain.spec.clone(), read.revisions, Vec::new());
    at.replaced = read.replaced;
    at
}

/// Numbers claimed per app across branches, and branches that add to an
/// app on a migration that is not its leaf on the base.
pub(crate) fn django_chain(
    repo: &Repo,
    chain: &Chain,
    spec: &crate::config::DjangoSpec,
    base_name: &str,
    base: Oid,
    branches: &[(String, Oid)],
    a: &mut Analysis,
) {
    let name = chain.name().to_string();
    let at_base = django_at(repo, chain, spec, base);
    let graph = Graph::build(&at_base);
    let leaves: Vec<String> = graph
        .heads()
        .into_iter()
        .map(|i| graph.rev(i).id.clone())
        .collect();
    let claims = repo.django_claims(&spec.app_dirs(), base, branches);
    // A number of an app, squashes counted as Django counts them.
    let number_key = |id: &str| -> Option<String> {
        let (app, m) = id.split_once('.')?;
        Some(format!(
            "{app}.{:04}",
            crate::frameworks::django::repair::parse_number(m)?
        ))
    };
    let base_revs = at_base.revisions.iter().chain(&at_base.replaced);
    record_collisions(repo, &name, base_name, base_revs, &claims, number_key, a);
    for c in &claims {
        let app = c.id.split('.').next().unwrap_or_default();
        let own: BTreeSet<&str> = claims
            .iter()
            .filter(|o| o.branch == c.branch)
            .map(|o| o.id.as_str())
            .collect();
        let app_leaves: Vec<&String> = leaves
            .iter()
            .filter(|l| l.split('.').next() == Some(app))
            .collect();
        let attaches: Vec<&String> = c
            .down
            .iter()
            .filter(|d| !own.contains(d.as_str()))
            .collect();
        if !attaches.is_empty()
            && (app_leaves.len() != 1 || attaches.iter().any(|d| *d != app_leaves[0]))
        {
            a.stale.push(Stale {
                chain: name.clone(),
                branch: c.branch.clone(),
                revision: c.id.clone(),
                path: c.path.clone(),
                down_revisions: c.down.clone(),
                should: match app_leaves.as_slice() {
                    [one] => one.to_string(),
                    _ => format!("a merge of app {app}'s leaves (run `migfix --chain {app} merge-heads` on {base_name} first)"),
                },
            });
        }
    }
    a.base_heads.insert(name.clone(), leaves);
    let mut apps: Vec<&str> = a
        .collisions
        .iter()
        .filter(|c| c.chain == name)
        .filter_map(|c| c.id.split('.').next())
        .collect();
    apps.dedup();
    if !apps.is_empty() {
        let mut all = at_base;
        all.revisions.extend(chain.revisions.iter().cloned());
        let next: Vec<String> = apps
            .iter()
            .map(|app| {
                format!(
                    "{app}.{:04}",
                    crate::frameworks::django::repair::next_number(&all, app, &claims)
                )
            })
            .collect();
        a.next_free.insert(name, next.join(", "));
    }
}

pub(crate) fn sqitch_chain(
    repo: &Repo,
    chain: &Chain,
    plan_path: &Path,
    base_name: &str,
    base: Oid,
    branches: &[(String, Oid)],
    a: &mut Analysis,
) {
    let name = chain.name().to_string();
    let Some(rel) = repo.rel(plan_path) else {
        return;
    };
    let plan_at = |commit: Oid| -> Vec<String> {
        repo.file_at(commit, &rel)
            .and_then(|b| String::from_utf8(b).ok())
            .map(|t| {
                Plan::parse(&t)
                    .changes()
                    .map(|(_, e)| e.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let shown = rel.to_string_lossy().into_owned();
    let base_names = plan_at(base);
    let key = |n: &str| sqitch_prefix(n).map_or_else(|| n.to_string(), str::to_string);
    let mut by_key: BTreeMap<String, Vec<(Claimant, String)>> = BTreeMap::new();
    for n in &base_names {
        by_key.entry(key(n)).or_default().push((
            Claimant {
                branch: base_name.to_string(),
                path: shown.clone(),
            },
            n.clone(),
        ));
    }
    let mut widest = 2;
    let mut max = base_names
        .iter()
        .filter_map(|n| sqitch_prefix(n))
        .filter_map(|p| p.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    for (branch, commit) in branches {
        let Some(mb) = repo.merge_base(*commit, base) else {
            continue;
        };
        if mb == *commit {
            continue;
        }
        let before: BTreeSet<String> = plan_at(mb).into_iter().collect();
        let added: Vec<String> = plan_at(*commit)
            .into_iter()
            .filter(|n| !before.contains(n) && !base_names.contains(n))
            .collect();
        let base_moved = base_names.iter().any(|n| !before.contains(n));
        for n in &added {
            if let Some(p) = sqitch_prefix(n) {
                widest = widest.max(p.len());
                max = max.max(p.parse().unwrap_or(0));
            }
            by_key.entry(key(n)).or_default().push((
                Claimant {
                    branch: branch.clone(),
                    path: shown.clone(),
                },
                n.clone(),
            ));
        }
        if base_moved {
            if let Some(first) = added.first() {
                a.stale.push(Stale {
                    chain: name.clone(),
                    branch: branch.clone(),
                    revision: first.clone(),
                    path: shown.clone(),
                    down_revisions: Vec::new(),
                    should: format!("after {}", base_names.last().cloned().unwrap_or_default()),
                });
            }
        }
    }
    for (k, claimants) in by_key {
        let branches: BTreeSet<&str> = claimants.iter().map(|(c, _)| c.branch.as_str()).collect();
        let names: BTreeSet<&str> = claimants.iter().map(|(_, n)| n.as_str()).collect();
        if branches.len() > 1
            && (names.len() > 1
                || claimants.len() > branches.len()
                || claimants
                    .iter()
                    .filter(|(c, _)| c.branch != base_name)
                    .count()
                    > 1)
        {
            a.collisions.push(Collision {
                chain: name.clone(),
                id: k,
                claims: claimants
                    .into_iter()
                    .map(|(c, n)| Claimant {
                        path: format!("{} ({n})", c.path),
                        ..c
                    })
                    .collect(),
            });
        }
    }
    let width = chain.scheme.width().unwrap_or(widest);
    a.next_free.insert(name, format!("{:0width$}", max + 1));
}

/// The analysis as findings: one per collision and per stale parent.
pub(crate) fn findings(a: &Analysis) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &a.collisions {
        let who: Vec<String> = c
            .claims
            .iter()
            .map(|cl| format!("{} ({})", cl.branch, cl.path))
            .collect();
        let later = c
            .claims
            .iter()
            .rev()
            .find(|cl| cl.branch != a.base)
            .map_or(a.base.as_str(), |cl| cl.branch.as_str());
        let mut f = Finding::new(
            Some('C'),
            "number-collision",
            Some(c.chain.as_str()),
            format!(
                "{} is claimed {} times: {}",
                c.id,
                c.claims.len(),
                who.join(", ")
            ),
            format!(
                "renumber it on {later} to the next free number ({})",
                a.next_free.get(&c.chain).cloned().unwrap_or_default()
            ),
        );
        f.revision = Some(c.id.clone());
        f.path = c
            .claims
            .iter()
            .rev()
            .find(|cl| cl.branch != a.base)
            .map(|cl| cl.path.clone());
        f.command = Some(format!("migfix rebase --base {} (on {later})", a.base));
        out.push(f);
    }
    for s in &a.stale {
        let parent = if s.down_revisions.is_empty() {
            "its place in the plan".to_string()
        } else {
            s.down_revisions.join(", ")
        };
        let mut f = Finding::new(
            Some('C'),
            "stale-parent",
            Some(s.chain.as_str()),
            format!(
                "{} adds {} on {parent}, which is not {}'s head: merged as is, it adds a head",
                s.branch, s.revision, a.base
            ),
            format!("make it revise {}", s.should),
        );
        f.revision = Some(s.revision.clone());
        f.path = Some(s.path.clone());
        f.command = Some(format!("migfix rebase --base {} (on {})", a.base, s.branch));
        out.push(f);
    }
    out
}
