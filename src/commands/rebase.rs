//! `migfix rebase`: moves the migrations this branch adds after the base
//! branch's head, renumbered past every claim (seed 001's failure mode B,
//! "update the PR's down_revision to the current single head").

use anyhow::Result;

use super::write::{finish, Check};
use crate::chains::Chain;
use crate::cli::RebaseArgs;
use crate::commands::collisions::pick_base;
use crate::config::Config;
use crate::error::ExitStatus;
use crate::error::{Diag, InputErrors};
use crate::git::Repo;
use crate::plan::Builder;
use crate::repair::Preview;

pub(crate) fn run(config: &Config, args: &RebaseArgs) -> Result<ExitStatus> {
    let repo = Repo::discover(&config.root).ok_or_else(|| {
        InputErrors::one(Diag::new(
            config.rel(&config.root),
            None,
            "not inside a git work tree",
        ))
    })?;
    let (base_name, base) = pick_base(&repo, args.base.as_deref())?;
    let head = repo.head_commit().ok_or_else(|| {
        InputErrors::one(Diag::new("HEAD", None, "the repository has no commits"))
    })?;
    let mb = repo.merge_base(head, base).ok_or_else(|| {
        InputErrors::one(Diag::new(
            &base_name,
            None,
            "no history in common with this branch",
        ))
    })?;
    let current = repo.head().and_then(|h| h.branch);
    let mut except = vec![base_name.as_str()];
    if let Some(c) = current.as_deref() {
        except.push(c);
    }
    let others = repo.branches_matching(&[], &except);
    let chains = crate::frameworks::load(config)?;

    let mut builder = Builder::default();
    let mut notes = Vec::new();
    let mut heads_after = Vec::new();
    let mut touched = Vec::new();
    let mut verify = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    let onto = crate::frameworks::interface::Onto {
        repo: &repo,
        base_name: &base_name,
        base,
        merge_base: mb,
        others: &others,
    };
    for chain in &chains {
        let Some(moved) = crate::frameworks::of(&chain.spec).rebase(&onto, chain, &mut builder)?
        else {
            continue;
        };
        if let Some(at_base) = moved.at_base {
            verify.push((chain, at_base));
        }
        hints.extend(moved.merge_hint);
        notes.push(format!("{}: {}", chain.name(), moved.note));
        heads_after.push(moved.head);
        touched.push(chain.name().to_string());
    }
    if touched.is_empty() {
        crate::report::note(config, &format!("nothing to rebase: this branch adds no migrations that {base_name} does not already follow"))?;
        return Ok(ExitStatus::Success);
    }
    let plan = builder.build()?;
    let moved: Vec<&Chain> = chains
        .iter()
        .filter(|c| touched.iter().any(|t| t == c.name()))
        .collect();
    crate::repair::confine(config, &moved, &plan)?;
    let mut parts_after = Vec::new();
    for (chain, at_base) in &verify {
        let parts =
            crate::frameworks::of(&chain.spec).check_against_base(config, chain, at_base, &plan)?;
        // Per part only when the project is the one chain moved: the line
        // then speaks of it alone.
        if touched.len() == 1 {
            parts_after = parts;
        }
    }
    let preview = Preview {
        chain: touched.join(", "),
        title: format!(
            "rebase {} onto {base_name}",
            current.unwrap_or_else(|| "HEAD".into())
        ),
        notes,
        heads_after,
        parts_after,
    };
    let status = finish(
        config,
        &preview,
        &plan,
        &args.write,
        Some(&repo),
        Check::Done,
    )?;
    if !args.write.dry_run {
        crate::report::note(
            config,
            &format!("next: merge {base_name} into this branch (git merge {base_name}); the chain then ends at {}", preview.heads_after.join(", ")),
        )?;
        for hint in &hints {
            crate::report::note(config, hint)?;
        }
    }
    Ok(status)
}
