//! Class A, a missing seed row: `upgrade()` looks up rows that a fresh
//! database does not have (an operator's admins row) and raises when the
//! lookup comes back empty. Prod has the row; the gate's ephemeral database
//! does not, unless the gate seeds it between two upgrade phases.

use crate::findings::Finding;

use super::Ctx;

pub(crate) const FIX: &str = "seed the row in the gate before this migration runs (two-phase upgrade): upgrade to the \
revision before it, insert the row with ON CONFLICT DO NOTHING (SQL below), then upgrade to head; the seed step ships \
in the same PR as the migration";

pub(crate) fn findings(ctx: &Ctx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, facts) in ctx.facts.iter().enumerate() {
        let rev = &ctx.chain.revisions[i];
        for lookup in &facts.lookups {
            let keys: Vec<String> = lookup
                .keys
                .iter()
                .map(|(c, v)| match v {
                    Some(v) => format!("{c} = '{v}'"),
                    None => format!("{c} = ?"),
                })
                .collect();
            let key = if keys.is_empty() {
                String::new()
            } else {
                format!(" ({})", keys.join(", "))
            };
            let before = before(&rev.down);
            let message = format!(
                "upgrade() looks up {}{key} and raises at line {} when the row is missing; a fresh database has no such row",
                lookup.table, lookup.raise_line
            );
            let fix = format!(
                "seed the row in the gate before {} runs: {}, insert the row (SQL below), then {}; the seed step ships in \
                 the same PR as the migration",
                rev.id,
                match &before {
                    Some(prev) => format!("`{}` first", ctx.upgrade_to(prev)),
                    None => "create its table first".to_string(),
                },
                format_args!("`{}`", ctx.upgrade_to("head")),
            );
            let mut f = Finding::new(
                Some('A'),
                "missing-seed-row",
                Some(ctx.chain.name()),
                message,
                fix,
            );
            f.revision = Some(rev.id.clone());
            f.path = Some(ctx.rel(&facts.file));
            f.line = Some(lookup.at.line);
            super::called_from(&mut f, &lookup.at);
            f.subject = Some(lookup.table.clone());
            f.sql = Some(seed_sql(&lookup.table, &lookup.keys));
            out.push(f);
        }
    }
    out
}

/// The revision to upgrade to before the seed: the parent(s).
fn before(down: &[String]) -> Option<String> {
    (!down.is_empty()).then(|| down.join(" "))
}

fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `INSERT ... ON CONFLICT DO NOTHING` for the looked-up key, so that the
/// gate's round trip (downgrade, upgrade again) can run it twice.
pub(crate) fn seed_sql(table: &str, keys: &[(String, Option<String>)]) -> String {
    let columns: Vec<&str> = keys.iter().map(|(c, _)| c.as_str()).collect();
    let values: Vec<String> = keys
        .iter()
        .map(|(c, v)| v.as_deref().map_or_else(|| format!("'<{c}>'"), quote))
        .collect();
    let (columns, values) = if keys.is_empty() {
        ("<columns>".to_string(), "<values>".to_string())
    } else {
        (columns.join(", "), values.join(", "))
    };
    format!(
        "-- add the other NOT NULL columns of {table} that have no default\n\
         INSERT INTO {table} ({columns})\nVALUES ({values})\nON CONFLICT DO NOTHING;"
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::ctx_for;
    use super::*;

    const LOOKUP: &str = "import sqlalchemy as sa\nfrom alembic import op\nrevision = '0016'\ndown_revision = '0015'\n_OPERATOR_EMAIL = 'kris@moosequest.net'\n\ndef upgrade():\n    bind = op.get_bind()\n    admin_id = bind.execute(\n        sa.text('SELECT id FROM admins WHERE email = :email'), {'email': _OPERATOR_EMAIL}\n    ).scalar()\n    if admin_id is None:\n        raise RuntimeError(f\"0016 migration: operator '{_OPERATOR_EMAIL}' not found in the admins table.\")\n";

    #[test]
    fn lookup_that_raises_is_class_a() {
        let (_dir, chain) = ctx_for(&[
            ("0015_admins.py", "revision = '0015'\ndown_revision = None\ndef upgrade():\n    op.create_table('admins')\n"),
            ("0016_owners.py", LOOKUP),
        ]);
        let ctx = chain.ctx();
        let found = findings(&ctx);
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!(
            (f.class, f.subject.as_deref(), f.revision.as_deref(), f.line),
            (Some('A'), Some("admins"), Some("0016"), Some(10))
        );
        assert!(
            f.message.contains("admins (email = 'kris@moosequest.net')"),
            "{}",
            f.message
        );
        assert!(f.fix.contains("`alembic upgrade 0015` first"), "{}", f.fix);
        assert!(f.sql.as_deref().unwrap().contains(
            "INSERT INTO admins (email)\nVALUES ('kris@moosequest.net')\nON CONFLICT DO NOTHING;"
        ));
    }

    /// The test around the raise says when it runs: on a missing row is
    /// class A; on an existing one (mlflow's "already exists") is not.
    #[test]
    fn the_test_decides_which_row_raises() {
        let lookup = "revision = '0016'\ndown_revision = None\ndef upgrade():\n    row = bind.execute(sa.text('SELECT id FROM admins WHERE email = :e'), {'e': 'k'}).first()\n";
        for (test, class_a) in [
            ("    if row is None:\n        raise RuntimeError('x')\n", true),
            ("    if not row:\n        raise RuntimeError('x')\n", true),
            ("    if (row == None):\n        raise RuntimeError('x')\n", true),
            ("    if row:\n        pass\n    else:\n        raise RuntimeError('x')\n", true),
            ("    if row is not None:\n        return\n    elif True:\n        raise RuntimeError('x')\n", true),
            ("    if row:\n        raise RuntimeError('already exists')\n", false),
            ("    if row is not None:\n        raise RuntimeError('already exists')\n", false),
            ("    if row is None:\n        return\n    else:\n        raise RuntimeError('already exists')\n", false),
            ("    if not (row is None):\n        raise RuntimeError('already exists')\n", false),
        ] {
            let text = format!("{lookup}{test}");
            let (_dir, chain) = ctx_for(&[("0016_owners.py", &text)]);
            assert_eq!(!findings(&chain.ctx()).is_empty(), class_a, "{test}");
        }
    }

    /// A helper called three times is one finding, its calls listed.
    #[test]
    fn one_finding_per_place_with_its_calls() {
        let text = "revision = '0016'\ndown_revision = None\ndef owner(e):\n    row = bind.execute(sa.text('SELECT id FROM admins WHERE email = :e'), {'e': e}).first()\n    if row is None:\n        raise RuntimeError('missing')\n\ndef upgrade():\n    owner('a')\n    owner('b')\n    owner('c')\n";
        let (_dir, chain) = ctx_for(&[("0016_owners.py", text)]);
        let found = super::super::static_findings(&chain.dir, &chain.chain, &[]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].line, Some(4));
        let calls: Vec<usize> = found[0].related.iter().map(|p| p.line).collect();
        assert_eq!(calls, [9, 10, 11]);
    }

    #[test]
    fn lookup_without_raise_or_insert_select_is_not() {
        let (_dir, chain) = ctx_for(&[(
            "0016_owners.py",
            "revision = '0016'\ndown_revision = None\ndef upgrade():\n    op.execute(\"INSERT INTO g SELECT id, 'x' FROM admins WHERE email = 'k'\")\n    row = bind.execute(sa.text('SELECT id FROM admins WHERE email = :e')).first()\n    if row is None:\n        return\n",
        )]);
        assert!(findings(&chain.ctx()).is_empty());
    }
}
