//! Class F, DuplicateTable: a table created by two migrations on one path
//! of the graph with no drop of it in between, so that on a fresh database
//! (the gate's) the second `CREATE TABLE` fails. `op.create_table` and raw
//! `CREATE TABLE` count; `CREATE TABLE IF NOT EXISTS` does not.

use std::collections::{BTreeMap, BTreeSet};

use crate::findings::{Finding, Place};

use super::facts::At;
use super::sql::TableOpKind;
use super::Ctx;

pub(crate) const FIX: &str = "the later migration must replace the table explicitly: if it changes the schema, drop the \
earlier table (op.drop_index + op.drop_table) at the top of its upgrade(), before op.create_table, and re-create the \
earlier schema in its downgrade(); if the schema is the same, delete the duplicate create_table";

/// After a revision's upgrade, whether it left the table existing or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Exists(At),
    Gone,
}

pub(crate) fn findings(ctx: &Ctx<'_>) -> Vec<Finding> {
    // table -> revision -> how that revision left it; only tables that some
    // revision creates without IF NOT EXISTS can fail.
    let mut ends: BTreeMap<&str, BTreeMap<usize, End>> = BTreeMap::new();
    let mut strict: BTreeSet<&str> = BTreeSet::new();
    for (i, facts) in ctx.facts.iter().enumerate() {
        for e in &facts.tables {
            let (table, end) = match &e.kind {
                TableOpKind::Create { if_not_exists } => {
                    if !if_not_exists {
                        strict.insert(&e.table);
                    }
                    (e.table.as_str(), End::Exists(e.at))
                }
                TableOpKind::Drop => (e.table.as_str(), End::Gone),
                TableOpKind::RenameTo(to) => {
                    ends.entry(to.as_str()).or_default().insert(i, End::Exists(e.at));
                    (e.table.as_str(), End::Gone)
                }
            };
            ends.entry(table).or_default().insert(i, end);
        }
    }
    let mut out = Vec::new();
    for table in strict {
        let touched = &ends[table];
        for (&i, _) in touched.iter() {
            let facts = &ctx.facts[i];
            // Walk this revision's own events: a create while the table exists fails.
            let mut state: Option<End> = None; // None: as the ancestors left it
            for e in facts.tables.iter() {
                let names_it = e.table == table || matches!(&e.kind, TableOpKind::RenameTo(t) if t == table);
                if !names_it {
                    continue;
                }
                match &e.kind {
                    TableOpKind::Create { if_not_exists } if e.table == table => {
                        let existing = match state {
                            Some(End::Exists(at)) => Some((i, at)),
                            Some(End::Gone) => None,
                            None => inherited(ctx, touched, i),
                        };
                        if let (Some(earlier), false) = (existing, *if_not_exists) {
                            out.push(finding(ctx, table, earlier, (i, e.at)));
                        }
                        state = Some(End::Exists(e.at));
                    }
                    TableOpKind::RenameTo(to) if to == table => state = Some(End::Exists(e.at)),
                    _ => state = Some(End::Gone),
                }
            }
        }
    }
    out.sort_by_key(|f| (f.path.clone(), f.line));
    out
}

/// Whether the table exists when revision `i` starts: the latest
/// ancestors that touch it decide. Returns the revision and place that
/// created it.
fn inherited(ctx: &Ctx<'_>, touched: &BTreeMap<usize, End>, i: usize) -> Option<(usize, At)> {
    let ancestors = ctx.graph.ancestors(i);
    let candidates: Vec<usize> = touched.keys().copied().filter(|a| ancestors.contains(a)).collect();
    // The latest: no other candidate comes after it.
    let latest = candidates.iter().copied().filter(|&a| {
        let after = ctx.graph.descendants(a);
        !candidates.iter().any(|c| after.contains(c))
    });
    let ends: Vec<(usize, End)> = latest.map(|a| (a, touched[&a])).collect();
    // When branches disagree, a later merge runs both; any create survives
    // unless a drop runs after it, which the graph does not order: report
    // only when no latest branch dropped it.
    if ends.iter().any(|(_, e)| *e == End::Gone) {
        return None;
    }
    ends.into_iter().find_map(|(a, e)| match e {
        End::Exists(at) => Some((a, at)),
        End::Gone => None,
    })
}

fn finding(ctx: &Ctx<'_>, table: &str, (ei, eat): (usize, At), (li, lat): (usize, At)) -> Finding {
    let earlier = Place { path: ctx.rel(&ctx.facts[ei].file), line: eat.line };
    let later = Place { path: ctx.rel(&ctx.facts[li].file), line: lat.line };
    let how = if ei == li {
        format!("created twice in {} (lines {} and {})", later.path, earlier.line, later.line)
    } else {
        format!(
            "created by {}:{} and again by {}:{}, with no drop_table in between",
            earlier.path, earlier.line, later.path, later.line
        )
    };
    let message = format!("table {table} is {how}; on a fresh database the second CREATE TABLE fails (DuplicateTable)");
    let mut f = Finding::new(Some('F'), "duplicate-table", Some(ctx.chain.name()), message, FIX.to_string());
    f.revision = Some(ctx.chain.revisions[li].id.clone());
    f.path = Some(later.path);
    f.line = Some(later.line);
    f.subject = Some(table.to_string());
    f.related = vec![earlier];
    f
}

#[cfg(test)]
mod tests {
    use super::super::tests::ctx_for;
    use super::*;

    fn rev(id: &str, down: Option<&str>, body: &str) -> String {
        let down = down.map_or("None".to_string(), |d| format!("'{d}'"));
        format!("revision = '{id}'\ndown_revision = {down}\ndef upgrade():\n{body}")
    }

    #[test]
    fn created_twice_on_one_path() {
        let (_dir, chain) = ctx_for(&[
            ("0001_a.py", &rev("0001", None, "    op.create_table('paper_orders')\n    op.create_table('paper_fills')\n")),
            ("0002_b.py", &rev("0002", Some("0001"), "    op.create_index('ix', 'x', ['a'])\n")),
            ("0003_c.py", &rev("0003", Some("0002"), "    op.create_table('paper_orders', sa.Column('id'))\n")),
            ("0004_d.py", &rev("0004", Some("0003"), "    op.execute('CREATE TABLE public.paper_fills (id int)')\n")),
            ("0005_e.py", &rev("0005", Some("0004"), "    op.execute('CREATE TABLE IF NOT EXISTS paper_orders (id int)')\n")),
        ]);
        let found = findings(&chain.ctx());
        let got: Vec<(&str, &str, usize)> =
            found.iter().map(|f| (f.subject.as_deref().unwrap(), f.revision.as_deref().unwrap(), f.related[0].line)).collect();
        assert_eq!(got, [("paper_orders", "0003", 4), ("paper_fills", "0004", 5)]);
        assert!(found[0].message.contains("created by migrations/versions/0001_a.py:4 and again by migrations/versions/0003_c.py:4"), "{}", found[0].message);
    }

    #[test]
    fn rebuilt_after_a_drop_is_not() {
        let (_dir, chain) = ctx_for(&[
            ("0001_a.py", &rev("0001", None, "    op.create_table('paper_orders')\n    op.create_table('paper_fills')\n    op.create_table('old')\n")),
            ("0002_b.py", &rev("0002", Some("0001"), "    op.drop_index('ix', table_name='paper_orders')\n    op.drop_table('paper_orders')\n    op.create_table('paper_orders')\n")),
            ("0003_c.py", &rev("0003", Some("0002"), "    op.execute('DROP TABLE IF EXISTS paper_fills; CREATE TABLE paper_fills (id int)')\n    op.rename_table('old', 'older')\n")),
            ("0004_d.py", &rev("0004", Some("0003"), "    op.create_table('old')\n")),
        ]);
        assert_eq!(findings(&chain.ctx()), []);
    }

    #[test]
    fn dropped_in_between_or_on_another_branch() {
        let (_dir, chain) = ctx_for(&[
            ("0001_a.py", &rev("0001", None, "    op.create_table('t')\n")),
            ("0002_b.py", &rev("0002", Some("0001"), "    op.drop_table('t')\n")),
            ("0003_c.py", &rev("0003", Some("0002"), "    op.create_table('t')\n")),
            // a sibling of 0002/0003: not on their path, but after 0001
            ("0004_d.py", &rev("0004", Some("0001"), "    op.create_table('t')\n")),
        ]);
        let found = findings(&chain.ctx());
        let got: Vec<&str> = found.iter().map(|f| f.revision.as_deref().unwrap()).collect();
        assert_eq!(got, ["0004"]);
    }

    #[test]
    fn twice_in_one_file() {
        let (_dir, chain) = ctx_for(&[("0001_a.py", &rev("0001", None, "    op.create_table('t')\n    op.execute('CREATE TABLE t (id int)')\n"))]);
        let found = findings(&chain.ctx());
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("created twice in migrations/versions/0001_a.py (lines 4 and 5)"), "{}", found[0].message);
    }
}
