//! What the commands found or will do, as the printer (`report`) shows it:
//! plain data, below both, so that `report` imports no command module.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::findings::Finding;
use crate::git::Repo;

/// What a repair will do, in words, shown above its diff.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Preview {
    pub chain: String,
    pub title: String,
    pub notes: Vec<String>,
    /// The chain's heads once the plan is applied, as checked before writing.
    pub heads_after: Vec<String>,
    /// Where heads count per part (a project's apps): every part's heads
    /// once the plan is applied. Empty for a chain that is one line.
    pub parts_after: Vec<PartAfter>,
}

/// A part's heads once a repair's plan is applied.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct PartAfter {
    /// The part's label.
    pub part: String,
    /// Its heads' ids.
    pub heads: Vec<String>,
    /// The same heads by their names in the part, as the text shows them.
    #[serde(skip)]
    pub names: Vec<String>,
    /// The plan adds, renames or edits one of its revisions.
    pub touched: bool,
}

/// What a repair's verification found: the whole repository read again as
/// the plan leaves it, and compared with before.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Verdict {
    /// How many chains were read again.
    pub read_again: usize,
    /// Chains with fewer failing findings than before.
    pub healed: Vec<String>,
    /// What would be new and wrong, chain by chain.
    pub worse: Vec<String>,
    /// The repaired chain passes `check` afterwards.
    pub target_healthy: bool,
    /// What still fails in the repaired chain.
    pub still: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct GateStep {
    pub name: String,
    pub status: &'static str,
    pub seconds: f64,
    /// The last lines of what the step printed.
    pub output_tail: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ChainRun {
    pub name: String,
    pub database: String,
    pub passed: bool,
    pub steps: Vec<GateStep>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Claimant {
    /// A branch name, or the base ref.
    pub branch: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Collision {
    pub chain: String,
    /// The revision id, or a sqitch sequence number.
    pub id: String,
    pub claims: Vec<Claimant>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Stale {
    pub chain: String,
    pub branch: String,
    pub revision: String,
    pub path: String,
    pub down_revisions: Vec<String>,
    /// What it should revise instead.
    pub should: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Analysis {
    pub base: String,
    pub branches: usize,
    pub collisions: Vec<Collision>,
    pub stale: Vec<Stale>,
    pub next_free: BTreeMap<String, String>,
    /// Per chain, the base's heads.
    pub base_heads: BTreeMap<String, Vec<String>>,
}

/// One way to fix a problem: what it does, why, and the command that does
/// the same without prompts.
#[derive(Debug, Clone)]
pub(crate) struct Fix {
    pub label: String,
    pub why: String,
    pub command: Option<String>,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// Merge the fork on this branch (a Django app, an Alembic label).
    MergeHeads { branch: Option<String> },
    Renumber {
        target: String,
        to: Option<String>,
        onto: Option<String>,
    },
    /// Re-point a revision at an id the user types.
    AskParent { target: String, id: String },
}

/// The chain problem recover works on next, and its fixes.
pub(crate) struct Offer {
    pub chain: String,
    pub problem: String,
    pub fixes: Vec<Fix>,
}

/// Who claims each key (an id, or what `key` makes of it): the base's
/// revisions, then each branch's new ones; a key claimed on two branches,
/// one of them not the base, collides.
pub(crate) fn record_collisions<'r>(
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
