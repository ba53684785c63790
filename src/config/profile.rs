//! What the shared layers know of a chain's framework, as data: its name,
//! its words and how the common graph reads it. Each framework has one
//! static [`Profile`]; every [`super::ChainSpec`] points at its own.

/// A fork in the framework's own words, from the heads' ids, the label
/// they share and the one revision they all revise: message, fix and
/// command; `None` for the common words.
pub(crate) type ForkWords =
    fn(&[String], Option<&str>, Option<&str>) -> Option<(String, String, String)>;

/// A kind of finding's title and what it means, for CI reports, in the
/// framework's own words; `None` for the common ones.
pub(crate) type HelpWords = fn(&str) -> Option<(&'static str, &'static str)>;

/// A reference to nothing in the framework's own words, from the revision,
/// its target and the revision it most likely meant: message and fix;
/// `None` for the common words.
pub(crate) type DanglingWords = fn(&str, &str, Option<&str>) -> Option<(String, String)>;

pub(crate) struct Profile {
    /// The framework's name, as `chains` and JSON show it.
    pub name: &'static str,
    pub words: Words,
    pub rules: Rules,
}

/// How a framework speaks of its revisions.
pub(crate) struct Words {
    pub one: &'static str,
    pub many: &'static str,
    /// What a revision does to its parent (it revises; they revise), and
    /// what is done to the parent.
    pub revises: &'static str,
    pub revise: &'static str,
    pub revised: &'static str,
    /// A revision nothing follows (one, many), and what a branch label
    /// stands for (one, many).
    pub head: &'static str,
    pub heads: &'static str,
    pub branch: &'static str,
    pub branches: &'static str,
    /// Revisions with no parent, and what they lack.
    pub bases: &'static str,
    pub no_parent: &'static str,
    /// Where a revision names its parent, and the table where a database
    /// records what it has applied.
    pub parent_field: &'static str,
    pub history_table: &'static str,
    /// The fix for several bases.
    pub join_bases: &'static str,
    pub fork: ForkWords,
    pub dangling: DanglingWords,
    pub help: HelpWords,
}

impl Words {
    /// The common words.
    pub const COMMON: Words = Words {
        one: "revision",
        many: "revisions",
        revises: "revises",
        revise: "revise",
        revised: "revised",
        head: "head",
        heads: "heads",
        branch: "branch",
        branches: "branches",
        bases: "bases",
        no_parent: "no down_revision",
        parent_field: "down_revision",
        history_table: "alembic_version",
        join_bases: "point the later base's down_revision at its predecessor, unless the chain is deliberately multi-root",
        fork: |_, _, _| None,
        dangling: |_, _, _| None,
        help: |_| None,
    };

    /// `n` heads, in the singular or the plural.
    pub fn heads_n(&self, n: usize) -> String {
        format!("{n} {}", if n == 1 { self.head } else { self.heads })
    }

    /// `n` branches (apps, where a label stands for an app).
    pub fn branches_n(&self, n: usize) -> String {
        format!("{n} {}", if n == 1 { self.branch } else { self.branches })
    }
}

/// How the common graph reads a framework's revisions.
pub(crate) struct Rules {
    /// Branch labels are shown beside ids (labels of a chain's own; a
    /// part's label is already in the id).
    pub show_labels: bool,
    /// Heads, bases and numbers count per branch label (per part, where a
    /// head is a leaf node and two leaves are a fork).
    pub bases_per_label: bool,
    /// The chain is a plan, deployed in its order: revisions are shown by
    /// plan line, and what runs before one is what precedes it.
    pub plan_order: bool,
    /// Each revision is a file that declares its id, and ids, file names
    /// and labels follow the rules of revision files.
    pub id_files: bool,
    /// Duplicate ids and dangling pointers are reported by the framework's
    /// own lint, with its own lines (a plan's).
    pub own_lint: bool,
    /// A reference left to another project or tool (`project:change`),
    /// never dangling.
    pub external: fn(&str) -> bool,
    /// A dependency on a revision that exists nowhere can be taken out
    /// (`repoint OLD --drop`): it orders nothing that exists.
    pub droppable: bool,
}

impl Rules {
    /// The common rules.
    pub const COMMON: Rules = Rules {
        show_labels: false,
        bases_per_label: false,
        plan_order: false,
        id_files: false,
        own_lint: false,
        external: |_| false,
        droppable: false,
    };
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}
