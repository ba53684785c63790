//! What every framework's merge gives the merge-heads command.

use crate::chains::Chain;
use crate::git::Claim;
use crate::outcome::Preview;

/// A merge node, checked, not yet shown or applied; with the open branches
/// that will still revise an older revision.
pub(crate) struct Prepared {
    pub preview: Preview,
    pub plan: crate::plan::Plan,
    pub stale: Vec<Claim>,
}

/// Branches whose new migrations revise a revision of the chain other than
/// the merge node: each would add a head again when merged. (The runbook's
/// "update open PRs to point at the merge revision".)
pub(crate) fn stale_branches(chain: &Chain, claims: &[Claim], merge_id: &str) -> Vec<Claim> {
    let ids: std::collections::HashSet<&str> =
        chain.revisions.iter().map(|r| r.id.as_str()).collect();
    claims
        .iter()
        .filter(|c| {
            c.down
                .iter()
                .any(|d| ids.contains(d.as_str()) && d != merge_id)
        })
        .cloned()
        .collect()
}
