//! Reading chains into [`Revision`] records: one per Alembic revision file
//! or sqitch plan change, in the order the tool itself loads them.

pub(crate) mod naming;
pub(crate) mod scheme;

use std::path::PathBuf;

use anyhow::Result;

use crate::config::{ChainSpec, Config, Source};
use crate::error::{Diag, InputErrors};
use crate::python::ModuleConsts;

pub(crate) use naming::Naming;
pub(crate) use scheme::Scheme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Alembic,
    Sqitch,
    Django,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Alembic => "alembic",
            Kind::Sqitch => "sqitch",
            Kind::Django => "django",
        }
    }
}

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
    /// The parsed constants with their spans (Alembic only).
    pub consts: Option<ModuleConsts>,
    /// sqitch only: the change id sqitch's registry knows it by, and its
    /// deploy, revert and verify scripts.
    pub sqitch: Option<SqitchChange>,
    /// Alembic, read in full: what `upgrade()` does, from the same parse.
    pub steps: Option<Vec<crate::python::calls::Step>>,
    /// Django only: the migration's app, name and references.
    pub django: Option<Box<crate::frameworks::django::read::DjangoMigration>>,
}

#[derive(Debug, Clone)]
pub(crate) struct SqitchChange {
    pub change_id: String,
    pub scripts: [PathBuf; 3],
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
    /// revisions, newest first.
    pub fn new(spec: ChainSpec, revisions: Vec<Revision>, warnings: Vec<Diag>) -> Chain {
        let mut chain = Chain {
            spec,
            revisions,
            warnings,
            scheme: Scheme::Named,
            naming: Naming::default_template(),
            replaced: Vec::new(),
        };
        let (scheme, naming) = chain.framework().conventions(&chain);
        chain.scheme = scheme;
        chain.naming = naming;
        chain
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The chain's framework: everything that differs between Alembic,
    /// sqitch and Django is asked of it.
    pub fn framework(&self) -> &'static dyn crate::frameworks::Framework {
        crate::frameworks::of(&self.spec)
    }

    pub fn kind(&self) -> Kind {
        self.framework().kind()
    }

    /// The folder (or plan) shown as the chain's location.
    pub fn location(&self) -> PathBuf {
        self.framework().location(&self.spec)
    }

    /// Django's `--chain LABEL`: the app the commands show and repair.
    pub fn focus(&self) -> Option<&str> {
        match &self.spec.source {
            Source::Django(d) => d.focus.as_deref(),
            _ => None,
        }
    }

    /// Whether a revision is in view: every one, or with `--chain LABEL` of
    /// a Django project, that app's.
    pub fn in_focus(&self, r: &Revision) -> bool {
        match (self.focus(), &r.django) {
            (Some(app), Some(d)) => d.app == app,
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

/// Reads every configured chain. Any unreadable input fails the whole load
/// with every problem listed (exit 2). Every Alembic file is proven free of
/// syntax errors, as importing it would, so that each command gives one
/// verdict on one file.
pub(crate) fn load(config: &Config) -> Result<Vec<Chain>> {
    let mut chains = Vec::new();
    let mut errors = Vec::new();
    for spec in &config.chains {
        match crate::frameworks::of(spec).read(&config.root, spec) {
            Ok(read) => {
                let mut chain = Chain::new(spec.clone(), read.revisions, read.warnings);
                chain.replaced = read.replaced;
                chains.push(chain)
            }
            Err(mut diags) => errors.append(&mut diags),
        }
    }
    if errors.is_empty() {
        Ok(chains)
    } else {
        Err(InputErrors {
            diags: errors,
            help: None,
        }
        .into())
    }
}
