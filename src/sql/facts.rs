//! What the readers find in SQL: the facts of one piece of it (roles,
//! tables, index issues, lookups), with byte offsets into it.

use super::names::{qualify, schema_of};

/// What one piece of SQL does, with byte offsets into it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Facts {
    pub roles_created: Vec<Named>,
    pub role_refs: Vec<RoleRef>,
    pub tables: Vec<TableOp>,
    pub index_issues: Vec<IndexIssue>,
    pub lookups: Vec<Lookup>,
    /// Where unqualified tables go after this SQL: the first schema of the
    /// search_path it set (`None`: the default, `public`). It starts as
    /// given to [`analyze`].
    pub schema: Option<String>,
}

impl Facts {
    pub(super) fn table(&self, written: &str) -> String {
        qualify(written, self.schema.as_deref())
    }

    /// `ALTER TABLE a RENAME TO b`: b stays in a's schema.
    pub(super) fn rename(&self, from: &str, to: &str, offset: usize) -> TableOp {
        let table = self.table(from);
        let to = qualify(to, schema_of(&table));
        TableOp {
            table,
            kind: TableOpKind::RenameTo(to),
            offset,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    pub name: String,
    pub offset: usize,
}

/// A statement that needs a role to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleRef {
    pub role: String,
    pub offset: usize,
    /// `GRANT`, `REVOKE`, `OWNER TO` or `SET ROLE`.
    pub verb: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TableOpKind {
    Create { if_not_exists: bool },
    Drop,
    RenameTo(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableOp {
    pub table: String,
    pub kind: TableOpKind,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndexPart {
    Predicate,
    Expression,
}

/// A function in an index that is not IMMUTABLE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexIssue {
    pub index: Option<String>,
    pub table: Option<String>,
    /// What is not immutable: `now()`, `CURRENT_TIMESTAMP`, `a cast to timestamptz`.
    pub what: String,
    pub part: IndexPart,
    pub offset: usize,
}

/// `SELECT ... FROM table WHERE column = value`: a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lookup {
    pub table: String,
    pub keys: Vec<(String, KeyValue)>,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyValue {
    Literal(String),
    /// A bound parameter, without its `:`.
    Param(String),
}
