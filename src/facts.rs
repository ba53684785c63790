//! Per revision, what its upgrade does that the failure classes look at,
//! each with its file line and its place in upgrade order: from the Python
//! of an Alembic revision (`python::calls`), or from a sqitch change's
//! deploy script.

use std::path::{Path, PathBuf};

use crate::chains::Chain;
use crate::python::calls::{self, PyExpr, SqlText, StepKind};

use crate::sql::{self, IndexPart, KeyValue, TableOpKind};

/// One fact's position: the file line, and its order within the upgrade
/// (helpers that `upgrade()` calls are read in call order, so lines alone
/// do not give the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct At {
    pub line: usize,
    pub seq: usize,
    /// Where `upgrade()` calls the helper this is in, if it is in one.
    pub site: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleUse {
    pub role: String,
    pub verb: &'static str,
    pub at: At,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableEvent {
    pub table: String,
    pub kind: TableOpKind,
    pub at: At,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexIssue {
    pub index: Option<String>,
    pub table: Option<String>,
    pub what: String,
    pub part: IndexPart,
    pub at: At,
}

/// A lookup whose empty result makes `upgrade()` raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lookup {
    pub table: String,
    /// (column, value when known)
    pub keys: Vec<(String, Option<String>)>,
    pub at: At,
    pub raise_line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RevFacts {
    /// The file the lines refer to: the revision file, or the deploy script.
    pub file: PathBuf,
    pub roles_created: Vec<(String, At)>,
    pub role_uses: Vec<RoleUse>,
    pub tables: Vec<TableEvent>,
    pub index_issues: Vec<IndexIssue>,
    pub lookups: Vec<Lookup>,
}

/// No facts: a framework whose operations are not read.
pub(crate) fn none(chain: &Chain) -> Vec<RevFacts> {
    chain
        .revisions
        .iter()
        .map(|r| RevFacts {
            file: r.path.clone(),
            ..RevFacts::default()
        })
        .collect()
}

/// A running counter for [`At::seq`], and the schema unqualified tables
/// go to. Each revision starts with the default search_path (`public`):
/// sqitch runs each deploy script in a session of its own, and Alembic
/// migrations are written for the default.
#[derive(Default)]
struct Builder {
    facts: RevFacts,
    seq: usize,
    schema: Option<String>,
    site: Option<usize>,
}

impl Builder {
    fn at(&mut self, line: usize) -> At {
        self.seq += 1;
        At {
            line,
            seq: self.seq,
            site: self.site,
        }
    }

    fn table(&mut self, line: usize, table: &str, kind: TableOpKind) {
        let at = self.at(line);
        let table = sql::qualify(table, self.schema.as_deref());
        let kind = match kind {
            TableOpKind::RenameTo(to) => {
                TableOpKind::RenameTo(sql::qualify(&to, sql::schema_of(&table)))
            }
            k => k,
        };
        self.facts.tables.push(TableEvent { table, kind, at });
    }

    /// Everything in one piece of SQL; `raise` and `params` for a lookup.
    fn sql(&mut self, sql: &SqlText, params: &[calls::Param], raise: Option<usize>) {
        let found = sql::analyze(&sql.text, self.schema.take());
        self.schema = found.schema.clone();
        // Facts of one statement list come in statement order; sort by offset
        // across kinds so that `DROP ...; CREATE ...` keeps its order.
        let mut all: Vec<(usize, Fact)> = Vec::new();
        all.extend(
            found
                .roles_created
                .into_iter()
                .map(|n| (n.offset, Fact::Created(n.name))),
        );
        all.extend(
            found
                .role_refs
                .into_iter()
                .map(|r| (r.offset, Fact::Uses(r.role, r.verb))),
        );
        all.extend(
            found
                .tables
                .into_iter()
                .map(|t| (t.offset, Fact::Table(t.table, t.kind))),
        );
        all.extend(
            found
                .index_issues
                .into_iter()
                .map(|i| (i.offset, Fact::Index(i))),
        );
        all.extend(
            found
                .lookups
                .into_iter()
                .map(|l| (l.offset, Fact::Lookup(l))),
        );
        all.sort_by_key(|(o, _)| *o);
        for (offset, fact) in all {
            let at = self.at(sql.line_at(offset));
            match fact {
                Fact::Created(name) => self.facts.roles_created.push((name, at)),
                Fact::Uses(role, verb) => self.facts.role_uses.push(RoleUse { role, verb, at }),
                Fact::Table(table, kind) => self.facts.tables.push(TableEvent { table, kind, at }),
                Fact::Index(i) => self.facts.index_issues.push(IndexIssue {
                    index: i.index,
                    table: i.table,
                    what: i.what,
                    part: i.part,
                    at,
                }),
                Fact::Lookup(l) => {
                    if let Some(raise_line) = raise {
                        let keys = l
                            .keys
                            .into_iter()
                            .map(|(column, value)| {
                                let value = match value {
                                    KeyValue::Literal(v) => Some(v),
                                    KeyValue::Param(p) => params
                                        .iter()
                                        .find(|(k, _)| *k == p)
                                        .and_then(|(_, v)| v.clone()),
                                };
                                (column, value.filter(|v| !v.contains(calls::UNKNOWN)))
                            })
                            .collect();
                        self.facts.lookups.push(Lookup {
                            table: l.table,
                            keys,
                            at,
                            raise_line,
                        });
                    }
                }
            }
        }
    }

    fn index_expr(
        &mut self,
        e: &PyExpr,
        part: IndexPart,
        index: &Option<String>,
        table: &Option<String>,
    ) {
        let mut found: Vec<(String, usize)> = Vec::new();
        for s in &e.sql {
            found.extend(
                sql::expression_issues(&s.text)
                    .into_iter()
                    .map(|(what, off)| (what, s.line_at(off))),
            );
        }
        for (name, line) in &e.funcs {
            if sql::not_immutable(name, usize::MAX) {
                found.push((format!("{}()", name.to_lowercase()), *line));
            }
        }
        for (what, line) in found {
            let at = self.at(line);
            self.facts.index_issues.push(IndexIssue {
                index: index.clone(),
                table: table.clone(),
                what,
                part,
                at,
            });
        }
    }
}

enum Fact {
    Created(String),
    Uses(String, &'static str),
    Table(String, TableOpKind),
    Index(sql::IndexIssue),
    Lookup(sql::Lookup),
}

/// Words without which an upgrade has nothing the classes look at; a file
/// with none of them is not parsed a second time.
const NEEDLES: [&[u8]; 6] = [
    b"execute",
    b"_table",
    b"create_index",
    b"Index",
    b"exec_driver_sql",
    b"text(",
];

pub(crate) fn from_python(path: &Path, src: &[u8]) -> RevFacts {
    if !NEEDLES
        .iter()
        .any(|n| src.windows(n.len()).any(|w| w == *n))
    {
        return RevFacts {
            file: path.to_path_buf(),
            ..RevFacts::default()
        };
    }
    from_steps(path, &calls::upgrade_steps(src))
}

/// The facts of an upgrade() already read.
pub(crate) fn from_steps(path: &Path, steps: &[calls::Step]) -> RevFacts {
    let mut b = Builder {
        facts: RevFacts {
            file: path.to_path_buf(),
            ..RevFacts::default()
        },
        ..Builder::default()
    };
    for step in steps {
        b.site = step.site;
        match &step.what {
            StepKind::Execute {
                sql,
                params,
                raises,
            } => b.sql(sql, params, *raises),
            StepKind::CreateTable { table } => b.table(
                step.line,
                table,
                TableOpKind::Create {
                    if_not_exists: false,
                },
            ),
            StepKind::DropTable { table } => b.table(step.line, table, TableOpKind::Drop),
            StepKind::RenameTable { from, to } => {
                b.table(step.line, from, TableOpKind::RenameTo(to.clone()))
            }
            StepKind::CreateIndex {
                name,
                table,
                predicate,
                exprs,
            } => {
                for e in exprs {
                    b.index_expr(e, IndexPart::Expression, name, table);
                }
                if let Some(p) = predicate {
                    b.index_expr(p, IndexPart::Predicate, name, table);
                }
            }
        }
    }
    b.facts
}

pub(crate) fn from_sql_file(path: &Path, text: &str) -> RevFacts {
    let mut b = Builder {
        facts: RevFacts {
            file: path.to_path_buf(),
            ..RevFacts::default()
        },
        ..Builder::default()
    };
    b.sql(&SqlText::new(text, 1), &[], None);
    b.facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_facts_with_lines_and_order() {
        let src = "EMAIL = 'kris@moosequest.net'\n\ndef upgrade():\n    op.execute('DROP TABLE paper_orders; CREATE TABLE paper_orders (id int)')\n    op.execute(\"GRANT SELECT ON paper_orders TO raptor_app\")\n    op.create_index('ix', 'alerts', ['id'], postgresql_where=sa.text(\"created_at > now()\"))\n    row = bind.execute(sa.text('SELECT id FROM admins WHERE email = :e'), {'e': EMAIL}).first()\n    if not row:\n        raise RuntimeError('x')\n";
        let f = from_python(Path::new("x.py"), src.as_bytes());
        let tables: Vec<(&str, &TableOpKind, usize)> = f
            .tables
            .iter()
            .map(|t| (t.table.as_str(), &t.kind, t.at.line))
            .collect();
        assert_eq!(
            tables,
            [
                ("paper_orders", &TableOpKind::Drop, 4),
                (
                    "paper_orders",
                    &TableOpKind::Create {
                        if_not_exists: false
                    },
                    4
                )
            ]
        );
        assert!(f.tables[0].at.seq < f.tables[1].at.seq);
        assert_eq!(f.role_uses[0].role, "raptor_app");
        assert_eq!(f.role_uses[0].at.line, 5);
        assert_eq!(
            (f.index_issues[0].what.as_str(), f.index_issues[0].at.line),
            ("now()", 6)
        );
        assert_eq!(f.lookups.len(), 1);
        assert_eq!(
            f.lookups[0].keys,
            [("email".to_string(), Some("kris@moosequest.net".to_string()))]
        );
        assert_eq!((f.lookups[0].at.line, f.lookups[0].raise_line), (7, 9));
    }

    #[test]
    fn a_reworked_changes_older_script_from_reworked_dir() {
        let plan = "t 2026-06-17T00:00:00Z bot <b@x.app>\n@v1 2026-06-17T00:00:00Z bot <b@x.app>\nt [t@v1] 2026-06-18T00:00:00Z bot <b@x.app>\n";
        let (_dir, t) = crate::commands::diagnose::tests::plan_ctx_for(
            plan,
            &[
                (
                    "sqitch.conf",
                    "[core]\n\tengine = pg\n\treworked_dir = old\n",
                ),
                ("old/deploy/t@v1.sql", "CREATE TABLE first (id int);\n"),
                ("deploy/t@v1.sql", "CREATE TABLE not_read (id int);\n"),
                ("deploy/t.sql", "CREATE TABLE second (id int);\n"),
            ],
        );
        let ctx = t.ctx();
        let tables: Vec<Vec<&str>> = ctx
            .facts
            .iter()
            .map(|f| f.tables.iter().map(|e| e.table.as_str()).collect())
            .collect();
        assert_eq!(tables, [["first"], ["second"]]);
    }

    #[test]
    fn sql_file_lines() {
        let f = from_sql_file(Path::new("deploy/x.sql"), "BEGIN;\n\nCREATE TABLE jobs (\n  id int\n);\n\nGRANT SELECT ON jobs TO queue_worker;\nCOMMIT;\n");
        assert_eq!(f.tables[0].at.line, 3);
        assert_eq!(f.role_uses[0].at.line, 7);
    }
}
