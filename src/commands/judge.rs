//! What `check` judges of one chain, shared by `check` and by a repair's
//! verification, so that a repair calls a chain healthy exactly when `check`
//! would pass it.

use std::path::Path;

use super::diagnose::{self, CiRole};
use crate::chains::Chain;
use crate::findings::{self, Finding};

/// One chain's findings, as `check` sorts them.
pub(crate) struct Judged {
    /// What fails the gate.
    pub failing: Vec<Finding>,
    /// Warnings of the graph and the framework's lint (names, bases).
    pub naming: Vec<Finding>,
    /// Warnings of the static classes (what the gate's database needs).
    pub classes: Vec<Finding>,
}

impl Judged {
    /// Every warning, in the order `check` shows them.
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.naming.iter().chain(&self.classes)
    }
}

/// The graph's and the framework's findings (`chains` are the repository's,
/// for references across them), then the static classes: D and F fail the
/// gate, A and B are warnings; so is what the frameworks' own tools do not
/// stop at (file names, several bases).
pub(crate) fn judge(root: &Path, chain: &Chain, chains: &[Chain], ci: &[CiRole]) -> Judged {
    let (mut failing, naming): (Vec<_>, Vec<_>) = crate::frameworks::findings(root, chain, chains)
        .into_iter()
        .partition(|f| !findings::warns_only(f));
    let mut classes = Vec::new();
    for f in diagnose::static_findings(root, chain, ci) {
        if diagnose::fails_gate(&f) {
            failing.push(f);
        } else {
            classes.push(f);
        }
    }
    Judged {
        failing,
        naming,
        classes,
    }
}
