//! Class F, DuplicateTable: a table created by two migrations on one path
//! of the graph with no drop of it in between, so that on a fresh database
//! (the gate's) the second `CREATE TABLE` fails. `op.create_table` and raw
//! `CREATE TABLE` count; `CREATE TABLE IF NOT EXISTS` does not. Tables are
//! told apart by schema (see `sql`): `a.t` and `b.t` are two tables.

use std::collections::{BTreeMap, BTreeSet};

use crate::findings::{Finding, Place};

use super::Ctx;
use crate::facts::At;
use crate::sql::TableOpKind;

const FIX: &str = "the later migration must replace the table explicitly: if it changes the schema, drop the \
earlier table (op.drop_index + op.drop_table) at the top of its upgrade(), before op.create_table, and re-create the \
earlier schema in its downgrade(); if the schema is the same, delete the duplicate create_table";

const PLAN_FIX: &str = "the later change must not create the table again: if it replaces the table, DROP TABLE it \
at the top of that change's deploy script and re-create the earlier table in its revert script; if the schema is the \
same, delete the second CREATE TABLE (or make it CREATE TABLE IF NOT EXISTS); to change the earlier change's table \
instead, use `sqitch rework` on that change";

/// The runbook's fix, in the chain's framework's terms.
pub(crate) fn fix(plan_order: bool) -> &'static str {
    if plan_order {
        PLAN_FIX
    } else {
        FIX
    }
}

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
                    ends.entry(to.as_str())
                        .or_default()
                        .insert(i, End::Exists(e.at));
                    (e.table.as_str(), End::Gone)
                }
            };
            ends.entry(table).or_default().insert(i, end);
        }
    }
    // Deploy order: each pair is reported once, the earlier creation first,
    // even where a cycle makes each seem to come before the other.
    let mut rank: Vec<usize> = (0..ctx.facts.len()).collect();
    if !ctx.chain.profile().rules.plan_order {
        for (n, i) in ctx.graph.newest_first().into_iter().rev().enumerate() {
            rank[i] = n;
        }
    }
    let mut pairs = BTreeSet::new();
    let mut out = Vec::new();
    for table in strict {
        let touched = &ends[table];
        for (&i, _) in touched.iter() {
            let facts = &ctx.facts[i];
            // Walk this revision's own events: a create while the table exists fails.
            let mut state: Option<End> = None; // None: as the ancestors left it
            for e in facts.tables.iter() {
                let names_it =
                    e.table == table || matches!(&e.kind, TableOpKind::RenameTo(t) if t == table);
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
                            let mut pair = [earlier, (i, e.at)];
                            pair.sort_by_key(|(r, at)| (rank[*r], at.seq));
                            if pairs.insert((table, pair.map(|(r, at)| (r, at.seq)))) {
                                let [_, (later, at)] = pair;
                                out.push((
                                    (rank[later], at.seq),
                                    finding(ctx, table, pair[0], pair[1]),
                                ));
                            }
                        }
                        state = Some(End::Exists(e.at));
                    }
                    TableOpKind::RenameTo(to) if to == table => state = Some(End::Exists(e.at)),
                    _ => state = Some(End::Gone),
                }
            }
        }
    }
    // In deploy order of the later creation.
    out.sort_by_key(|(order, _)| *order);
    out.into_iter().map(|(_, f)| f).collect()
}

/// The revisions that run before `i` (`before`) or after it on a fresh
/// database. Sqitch deploys its plan in order (`requires` only checks);
/// Alembic follows the graph.
fn runs(ctx: &Ctx<'_>, i: usize, before: bool) -> BTreeSet<usize> {
    match (ctx.chain.profile().rules.plan_order, before) {
        (true, true) => (0..i).collect(),
        (true, false) => (i + 1..ctx.facts.len()).collect(),
        (false, true) => ctx.graph.ancestors(i),
        (false, false) => ctx.graph.descendants(i),
    }
}

/// Whether the table exists when revision `i` starts: the latest
/// revisions before it that touch it decide. Returns the revision and
/// place that created it.
fn inherited(ctx: &Ctx<'_>, touched: &BTreeMap<usize, End>, i: usize) -> Option<(usize, At)> {
    // Nothing else touches the table: no need to walk the graph.
    if touched.keys().all(|&a| a == i) {
        return None;
    }
    let ancestors = runs(ctx, i, true);
    let candidates: Vec<usize> = touched
        .keys()
        .copied()
        .filter(|a| ancestors.contains(a))
        .collect();
    // The latest: no other candidate comes after it.
    let latest = candidates.iter().copied().filter(|&a| {
        let after = runs(ctx, a, false);
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
    let earlier = Place {
        path: ctx.rel(&ctx.facts[ei].file),
        line: eat.line,
    };
    let later = Place {
        path: ctx.rel(&ctx.facts[li].file),
        line: lat.line,
    };
    let plan_order = ctx.chain.profile().rules.plan_order;
    let how = if ei == li {
        format!(
            "created twice in {} (lines {} and {})",
            later.path, earlier.line, later.line
        )
    } else {
        let drop = if plan_order {
            "DROP TABLE"
        } else {
            "drop_table"
        };
        format!(
            "created by {}:{} and again by {}:{}, with no {drop} in between",
            earlier.path, earlier.line, later.path, later.line
        )
    };
    let message = format!("table {table} is {how}; on a fresh database the second CREATE TABLE fails (DuplicateTable)");
    let mut f = Finding::new(
        Some('F'),
        "duplicate-table",
        Some(ctx.chain.name()),
        message,
        fix(plan_order).to_string(),
    );
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
            (
                "0001_a.py",
                &rev(
                    "0001",
                    None,
                    "    op.create_table('paper_orders')\n    op.create_table('paper_fills')\n",
                ),
            ),
            (
                "0002_b.py",
                &rev(
                    "0002",
                    Some("0001"),
                    "    op.create_index('ix', 'x', ['a'])\n",
                ),
            ),
            (
                "0003_c.py",
                &rev(
                    "0003",
                    Some("0002"),
                    "    op.create_table('paper_orders', sa.Column('id'))\n",
                ),
            ),
            (
                "0004_d.py",
                &rev(
                    "0004",
                    Some("0003"),
                    "    op.execute('CREATE TABLE public.paper_fills (id int)')\n",
                ),
            ),
            (
                "0005_e.py",
                &rev(
                    "0005",
                    Some("0004"),
                    "    op.execute('CREATE TABLE IF NOT EXISTS paper_orders (id int)')\n",
                ),
            ),
        ]);
        let found = findings(&chain.ctx());
        let got: Vec<(&str, &str, usize)> = found
            .iter()
            .map(|f| {
                (
                    f.subject.as_deref().unwrap(),
                    f.revision.as_deref().unwrap(),
                    f.related[0].line,
                )
            })
            .collect();
        assert_eq!(
            got,
            [("paper_orders", "0003", 4), ("paper_fills", "0004", 5)]
        );
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
            (
                "0001_a.py",
                &rev("0001", None, "    op.create_table('t')\n"),
            ),
            (
                "0002_b.py",
                &rev("0002", Some("0001"), "    op.drop_table('t')\n"),
            ),
            (
                "0003_c.py",
                &rev("0003", Some("0002"), "    op.create_table('t')\n"),
            ),
            // a sibling of 0002/0003: not on their path, but after 0001
            (
                "0004_d.py",
                &rev("0004", Some("0001"), "    op.create_table('t')\n"),
            ),
        ]);
        let found = findings(&chain.ctx());
        let got: Vec<&str> = found
            .iter()
            .map(|f| f.revision.as_deref().unwrap())
            .collect();
        assert_eq!(got, ["0004"]);
    }

    #[test]
    fn twice_in_one_file() {
        let (_dir, chain) = ctx_for(&[(
            "0001_a.py",
            &rev(
                "0001",
                None,
                "    op.create_table('t')\n    op.execute('CREATE TABLE t (id int)')\n",
            ),
        )]);
        let found = findings(&chain.ctx());
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("created twice in migrations/versions/0001_a.py (lines 4 and 5)"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_cycle_reports_a_pair_once() {
        let (_dir, chain) = ctx_for(&[
            (
                "0001_a.py",
                &rev("0001", Some("0002"), "    op.create_table('t')\n"),
            ),
            (
                "0002_b.py",
                &rev("0002", Some("0001"), "    op.create_table('t')\n"),
            ),
        ]);
        assert_eq!(findings(&chain.ctx()).len(), 1);
    }

    fn plan(names: &[&str]) -> String {
        names
            .iter()
            .map(|n| format!("{n} 2026-06-17T00:00:00Z bot <b@x.app>\n"))
            .collect()
    }

    #[test]
    fn search_path_picks_the_schema_of_a_bare_table() {
        let create = "CREATE TABLE consensus_genome (id int);\n";
        let (_dir, t) = super::super::tests::plan_ctx_for(
            &plan(&["a", "b", "c", "d", "e", "f", "g", "h"]),
            &[
                ("deploy/a.sql", &format!("BEGIN;\nSET LOCAL search_path TO receiving;\n{create}COMMIT;\n")),
                ("deploy/b.sql", &format!("SET search_path TO warehouse;\n{create}")),
                ("deploy/c.sql", &format!("set search_path = a, public;\n{create}")),
                ("deploy/d.sql", &format!("SELECT set_config('search_path', 'x', true);\n{create}")),
                ("deploy/e.sql", &format!("SET SESSION search_path TO \"$user\", \"Y\";\n{create}")),
                // each script starts with the default search_path: public
                ("deploy/f.sql", create),
                ("deploy/g.sql", &format!("CREATE SCHEMA z;\nCREATE TABLE z.consensus_genome (id int);\n{create}")),
                ("deploy/h.sql", "CREATE TABLE \"Receiving\".consensus_genome (id int);\nCREATE TABLE receiving.consensus_genome (id int);\n"),
            ],
        );
        let found = findings(&t.ctx());
        let got: Vec<(&str, &str, usize, &str)> = found
            .iter()
            .map(|f| {
                (
                    f.subject.as_deref().unwrap(),
                    f.path.as_deref().unwrap(),
                    f.line.unwrap(),
                    f.related[0].path.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("consensus_genome", "deploy/g.sql", 3, "deploy/f.sql"),
                (
                    "receiving.consensus_genome",
                    "deploy/h.sql",
                    2,
                    "deploy/a.sql"
                ),
            ]
        );
    }

    #[test]
    fn qualified_names_keep_their_schema() {
        let (_dir, chain) = ctx_for(&[
            ("0001_a.py", &rev("0001", None, "    op.execute('CREATE SCHEMA x; CREATE TABLE x.t (id int)')\n    op.create_table('u', schema='audit')\n    op.execute('SET search_path TO audit')\n    op.create_table('v')\n")),
            ("0002_b.py", &rev("0002", Some("0001"), "    op.execute('CREATE TABLE y.t (id int)')\n    op.create_table('t')\n    op.create_table('v')\n")),
            ("0003_c.py", &rev("0003", Some("0002"), "    op.execute('CREATE TABLE audit.u (id int)')\n    op.create_table('v', schema='audit')\n    op.execute('CREATE TABLE public.t (id int)')\n")),
        ]);
        let found = findings(&chain.ctx());
        let got: Vec<(&str, &str, usize)> = found
            .iter()
            .map(|f| {
                (
                    f.subject.as_deref().unwrap(),
                    f.revision.as_deref().unwrap(),
                    f.line.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("audit.u", "0003", 4),
                ("audit.v", "0003", 5),
                ("t", "0003", 6)
            ]
        );
    }

    #[test]
    fn plan_pair_reported_once_with_a_plan_fix() {
        // 02-users requires 03-jobs, planned after it: a cycle in the graph,
        // but sqitch deploys in plan order.
        let plan = "01-init 2026-06-17T00:00:00Z bot <b@x.app>\n02-users [03-jobs] 2026-06-17T00:00:00Z bot <b@x.app>\n@v1.0 2026-06-17T00:00:00Z bot <b@x.app>\n03-jobs 2026-06-17T00:00:00Z bot <b@x.app>\n01-init [01-init@v1.0] 2026-06-18T00:00:00Z bot <b@x.app>\n";
        let (_dir, t) = super::super::tests::plan_ctx_for(
            plan,
            &[
                ("deploy/01-init@v1.0.sql", "SELECT 1;\n"),
                ("deploy/01-init.sql", "SELECT 1;\n"),
                ("deploy/02-users.sql", "CREATE TABLE users (id int);\n"),
                (
                    "deploy/03-jobs.sql",
                    "BEGIN;\nCREATE TABLE users (id int);\nCOMMIT;\n",
                ),
            ],
        );
        let found = findings(&t.ctx());
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(
            (f.path.as_deref(), f.line),
            (Some("deploy/03-jobs.sql"), Some(2))
        );
        assert_eq!(
            f.related,
            [Place {
                path: "deploy/02-users.sql".into(),
                line: 1
            }]
        );
        assert!(
            f.message.contains("with no DROP TABLE in between"),
            "{}",
            f.message
        );
        assert!(
            f.fix.contains("sqitch rework") && !f.fix.contains("op."),
            "{}",
            f.fix
        );
    }
}
