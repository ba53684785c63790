//! The common model of a chain: its revisions, one per revision file or
//! plan change, in the order its framework loads them.

pub(crate) mod files;
pub(crate) mod ids;
pub(crate) mod naming;
pub(crate) mod scheme;

use std::path::PathBuf;

use crate::config::ChainSpec;
use crate::error::Diag;
use crate::python::ModuleConsts;

pub(crate) use naming::Naming;
pub(crate) use scheme::Scheme;

#[derive(Debug, Clone)]
pub(crate) struct Revision {
    pub id: String,
    /// The file that declares it (absolute): a revision file, or the plan.
    pub path: PathBuf,
    /// 1-based line of the `revision` assignment or the plan entry.
    pub line: usize,
    pub down: Vec<String>,
    /// `None` when the value is not a literal and so unknown.
    pub depends_on: Option<Vec<String>>,
    pub branch_labels: Option<Vec<String>>,
    /// The parsed constants with their spans, for a revision that is a
    /// Python module of constants.
    pub consts: Option<ModuleConsts>,
    /// For a revision that is a planned change with scripts: the id the
    /// tool's registry knows it by, and its deploy, revert and verify
    /// scripts.
    pub scripts: Option<Scripts>,
    /// Read in full: what `upgrade()` does, from the same parse.
    pub steps: Option<Vec<crate::python::calls::Step>>,
    /// Where a chain is made of parts that each have a line of their own
    /// (an app of a project): the part, and the revision's name in it.
    pub part: Option<Part>,
    /// What only the revision's framework reads of it.
    pub detail: Option<Detail>,
    /// The `migfix:` comments (line, text) of the file that declares it,
    /// where its reader kept them as it read the file, so that suppression
    /// need not read it again; `None` where no reader did.
    pub marks: Option<Vec<(usize, String)>>,
}

impl Revision {
    /// The framework's own record of the revision, if it keeps one of
    /// type `T`.
    pub fn detail<T: std::any::Any>(&self) -> Option<&T> {
        self.detail.as_ref()?.0.as_any().downcast_ref()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Scripts {
    pub change_id: String,
    pub paths: [PathBuf; 3],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub label: String,
    pub name: String,
}

/// A framework's own record of a revision, opaque to the rest.
#[derive(Clone)]
pub(crate) struct Detail(pub std::sync::Arc<dyn RevisionDetail>);

/// What the rest may ask of a framework's own record of a revision.
pub(crate) trait RevisionDetail: std::any::Any + Send + Sync {
    fn as_any(&self) -> &dyn std::any::Any;

    /// Its fields as the JSON output shows them beside the revision's own,
    /// in order.
    fn json_fields(&self) -> Vec<(&'static str, serde_json::Value)>;
}

impl std::fmt::Debug for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Detail")
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Chain {
    pub spec: ChainSpec,
    pub revisions: Vec<Revision>,
    pub warnings: Vec<Diag>,
    pub scheme: Scheme,
    /// How its files are named (Alembic; sqitch names no files by id).
    pub naming: Naming,
    /// Django: migrations a squash replaces, out of the graph but still
    /// files whose references a renumber keeps in step.
    pub replaced: Vec<Revision>,
}

impl Chain {
    /// A chain with its id scheme and file naming judged from its
    /// revisions by `conventions` (its framework's judgement).
    pub fn new(
        spec: ChainSpec,
        revisions: Vec<Revision>,
        warnings: Vec<Diag>,
        conventions: impl FnOnce(&Chain) -> (Scheme, Naming),
    ) -> Chain {
        let mut chain = Chain {
            spec,
            revisions,
            warnings,
            scheme: Scheme::Named,
            naming: Naming::default_template(),
            replaced: Vec::new(),
        };
        let (scheme, naming) = conventions(&chain);
        chain.scheme = scheme;
        chain.naming = naming;
        chain
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The chain's framework's name.
    pub fn kind(&self) -> &'static str {
        self.spec.profile.name
    }

    /// How the chain's framework speaks and how the graph reads it.
    pub fn profile(&self) -> &'static crate::config::Profile {
        self.spec.profile
    }

    /// The folder (or plan) shown as the chain's location.
    pub fn location(&self) -> PathBuf {
        self.spec.source.location()
    }

    /// `--chain PART`: the part (a project's app) the commands show and
    /// repair.
    pub fn focus(&self) -> Option<&str> {
        self.spec.focus.as_deref()
    }

    /// Whether a revision is in view: every one, or with `--chain PART`,
    /// that part's.
    pub fn in_focus(&self, r: &Revision) -> bool {
        match (self.focus(), &r.part) {
            (Some(part), Some(p)) => p.label == part,
            _ => true,
        }
    }
}

/// The value seen most often in `items` (newest first); the newest of the
/// tied ones wins.
pub(crate) fn most_common<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Option<T> {
    let mut votes: Vec<(T, usize)> = Vec::new();
    for item in items {
        match votes.iter_mut().find(|(t, _)| *t == item) {
            Some((_, n)) => *n += 1,
            None => votes.push((item, 1)),
        }
    }
    // max_by_key keeps the last maximum: reverse so the newest wins ties.
    votes
        .into_iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map(|(t, _)| t)
}
