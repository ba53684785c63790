//! `migfix collisions`: sequence-number collisions and stale parents across
//! branches, from git alone (no `gh`, no token), read from each branch's
//! tree without checking anything out.

use std::collections::BTreeMap;

use anyhow::Result;
use git2::Oid;

use crate::chains::Chain;
use crate::cli::CollisionsArgs;
use crate::config::Config;
use crate::error::ExitStatus;
use crate::error::{Diag, InputErrors};
use crate::findings::Finding;
use crate::git::Repo;
use crate::report;

pub(crate) use crate::outcome::Analysis;

pub(crate) fn run(config: &Config, args: &CollisionsArgs) -> Result<ExitStatus> {
    let repo = Repo::discover(&config.root).ok_or_else(|| {
        InputErrors::one(Diag::new(
            config.rel(&config.root),
            None,
            "not inside a git work tree",
        ))
    })?;
    let (base_name, base) = pick_base(&repo, args.base.as_deref())?;
    let chains = crate::frameworks::load(config)?;
    let branches = repo.branches_matching(&args.refs, &[base_name.as_str()]);
    let analysis = analyse(&repo, &chains, &base_name, base, &branches);
    let findings = findings(&analysis, &chains);
    report::sink::report(config, args.output_file.as_deref(), |c| {
        report::collisions(c, &analysis, &findings)
    })?;
    config.status(if findings.is_empty() {
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
        crate::frameworks::of(&chain.spec).collisions(
            repo,
            chain,
            (base_name, base),
            branches,
            &mut a,
        );
    }
    a
}

/// The analysis as findings: one per collision and per stale parent, in
/// the words of each chain's framework.
pub(crate) fn findings(a: &Analysis, chains: &[Chain]) -> Vec<Finding> {
    let words = |name: &str| {
        chains
            .iter()
            .find(|c| c.name() == name)
            .map_or(&crate::config::profile::Words::COMMON, |c| {
                &c.profile().words
            })
    };
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
        let w = words(&s.chain);
        let mut f = Finding::new(
            Some('C'),
            "stale-parent",
            Some(s.chain.as_str()),
            format!(
                "{} adds {} on {parent}, which is not {}'s {}: merged as is, it adds a {}",
                s.branch, s.revision, a.base, w.head, w.head
            ),
            format!("make it {} {}", w.revise, s.should),
        );
        f.revision = Some(s.revision.clone());
        f.path = Some(s.path.clone());
        f.command = Some(format!("migfix rebase --base {} (on {})", a.base, s.branch));
        out.push(f);
    }
    out
}
