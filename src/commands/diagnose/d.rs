//! Class D, a non-IMMUTABLE function in an index: Postgres refuses a
//! partial-index predicate or an index expression that calls `now()`,
//! `CURRENT_TIMESTAMP` and the like, or casts to timestamptz, because the
//! index could not be kept consistent. Read from `op.create_index(...,
//! postgresql_where=...)`, `sa.Index`, and raw `CREATE INDEX`.

use crate::findings::Finding;

use super::Ctx;
use crate::sql::IndexPart;

pub(crate) const FIX: &str =
    "use only IMMUTABLE expressions in the index (literals, columns, IMMUTABLE functions); for \
a time-bounded partial index, compare with a fixed literal timestamp or restructure the index";

/// Postgres's own words for it.
pub(crate) fn postgres_error(part: IndexPart) -> &'static str {
    match part {
        IndexPart::Predicate => "functions in index predicate must be marked IMMUTABLE",
        IndexPart::Expression => "functions in index expression must be marked IMMUTABLE",
    }
}

pub(crate) fn findings(ctx: &Ctx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, facts) in ctx.facts.iter().enumerate() {
        let rev = &ctx.chain.revisions[i];
        for issue in &facts.index_issues {
            let what = match (&issue.index, &issue.table) {
                (Some(ix), Some(t)) => format!("index {ix} on {t}"),
                (Some(ix), None) => format!("index {ix}"),
                (None, Some(t)) => format!("an index on {t}"),
                (None, None) => "an index".to_string(),
            };
            let part = match issue.part {
                IndexPart::Predicate => "predicate",
                IndexPart::Expression => "expression",
            };
            let message = format!(
                "the {part} of {what} uses {}, which is not IMMUTABLE; Postgres refuses it (\"{}\")",
                issue.what,
                postgres_error(issue.part)
            );
            let mut f = Finding::new(
                Some('D'),
                "non-immutable-index",
                Some(ctx.chain.name()),
                message,
                FIX.to_string(),
            );
            f.revision = Some(rev.id.clone());
            f.path = Some(ctx.rel(&facts.file));
            f.line = Some(issue.at.line);
            super::called_from(&mut f, &issue.at);
            f.subject = issue.index.clone().or_else(|| issue.table.clone());
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::ctx_for;
    use super::*;

    fn rev(body: &str) -> String {
        format!("revision = '0001'\ndown_revision = None\ndef upgrade():\n{body}")
    }

    #[test]
    fn predicates_and_expressions_that_are_not_immutable() {
        let (_dir, chain) = ctx_for(&[(
            "0001_a.py",
            &rev("    op.create_index('ix_recent', 'alerts', ['created_at'], postgresql_where=sa.text(\"created_at > now() - interval '7 days'\"))\n    op.execute('CREATE INDEX ix_due ON alerts (id) WHERE muted_until < CURRENT_TIMESTAMP')\n    op.execute('CREATE INDEX ix_ts ON events ((payload_ts::timestamptz))')\n    op.create_index('ix_f', 'alerts', ['id'], postgresql_where=sa.func.clock_timestamp() > sa.column('x'))\n"),
        )]);
        let found = findings(&chain.ctx());
        let got: Vec<(Option<&str>, usize)> = found
            .iter()
            .map(|f| (f.subject.as_deref(), f.line.unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (Some("ix_recent"), 4),
                (Some("ix_due"), 5),
                (Some("ix_ts"), 6),
                (Some("ix_f"), 7)
            ]
        );
        assert!(
            found[0]
                .message
                .contains("predicate of index ix_recent on alerts uses now()"),
            "{}",
            found[0].message
        );
        assert!(found[2]
            .message
            .contains("expression of index ix_ts on events uses a cast to timestamptz"));
    }

    #[test]
    fn immutable_predicates_are_not_findings() {
        let (_dir, chain) = ctx_for(&[(
            "0001_a.py",
            &rev("    op.create_index('ix_open', 'accounts', ['id'], postgresql_where=sa.text(\"status = 'open'\"))\n    op.create_index('ix_lower', 'accounts', [sa.text('lower(email)')])\n    op.execute('CREATE INDEX ix_live ON accounts (email) WHERE deleted_at IS NULL')\n    op.execute(\"CREATE INDEX ix_r ON accounts (id) WHERE created_at > '2026-01-01'::timestamptz\")\n    op.create_table('t', sa.Column('created_at', server_default=sa.text('now()')))\n    op.execute('CREATE TABLE jobs (created_at timestamp DEFAULT CURRENT_TIMESTAMP)')\n"),
        )]);
        assert_eq!(findings(&chain.ctx()), []);
    }
}
