//! What `check` judges of one chain, shared by `check` and by a repair's
//! verification, so that a repair calls a chain healthy exactly when `check`
//! would pass it.

use std::path::Path;

use super::diagnose::{self, CiRole};
use crate::chains::Chain;
use crate::findings::{self, Finding};
use crate::suppress::{Choice, Sifter, Suppressed};

/// One chain's findings, as `check` sorts them.
pub(crate) struct Judged {
    /// What fails the gate.
    pub failing: Vec<Finding>,
    /// Warnings of the graph and the framework's lint (names, bases), and
    /// of suppression comments that suppress nothing.
    pub naming: Vec<Finding>,
    /// Warnings of the static classes (what the gate's database needs).
    pub classes: Vec<Finding>,
    /// What a comment, a configuration or `--ignore` silences.
    pub suppressed: Vec<Suppressed>,
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
/// stop at (file names, several bases). What is suppressed (`cli` adds the
/// command line's choice to the configuration's) is set apart.
pub(crate) fn judge(
    root: &Path,
    chain: &Chain,
    chains: &[Chain],
    ci: &[CiRole],
    cli: &Choice,
) -> Judged {
    let mut sifter = Sifter::new(root, chain, cli);
    let (mut failing, mut naming): (Vec<_>, Vec<_>) = sifter
        .sift(crate::frameworks::findings(root, chain, chains), |f| {
            !findings::warns_only(f)
        })
        .into_iter()
        .partition(|f| !findings::warns_only(f));
    let mut classes = Vec::new();
    let statics = diagnose::static_findings(root, chain, ci);
    for f in sifter.sift(statics, diagnose::fails_gate) {
        if diagnose::fails_gate(&f) {
            failing.push(f);
        } else {
            classes.push(f);
        }
    }
    naming.extend(sifter.unused());
    Judged {
        failing,
        naming,
        classes,
        suppressed: sifter.suppressed,
    }
}
