//! Issue #28, Alembic: check's advice followed on the broken Alembic
//! fixtures and on Alembic incidents made as git history (see advice.rs).

use crate::advice::*;
use crate::common::*;

#[test]
fn fixture_incident_2026_06_05() {
    let r = Repo::new("incident-2026-06-05", "raxx", |_| {});
    let whole = Whole {
        deploy: &["queue/migrations/sqitch"],
        ..Whole::default()
    };
    follow_advice(
        &r.root,
        whole,
        Premise {
            kinds: HEADS,
            hint: Hint::Any,
        },
    );
}

#[test]
fn fixture_dup_0038() {
    let r = Repo::new("dup-0038", "console", |_| {});
    follow_advice(
        &r.root,
        Whole::default(),
        Premise {
            kinds: &["duplicate-id"],
            hint: Hint::Any,
        },
    );
}

#[test]
fn fixture_basketball_031() {
    let r = Repo::new("basketball-031", "basketball-api", |_| {});
    follow_advice(
        &r.root,
        Whole::default(),
        Premise {
            kinds: &["duplicate-id"],
            hint: Hint::Any,
        },
    );
}

#[test]
fn fixture_hash_heads() {
    let r = Repo::new("hash-heads", "ledger", |_| {});
    follow_advice(
        &r.root,
        Whole::default(),
        Premise {
            kinds: HEADS,
            hint: Hint::Any,
        },
    );
}

/// The dangling pointer makes a second head, and merge-heads refuses while
/// it dangles: check's first `run:` must re-point it first.
#[test]
fn fixture_dangling() {
    let r = Repo::new("dangling", "console", |_| {});
    follow_advice(
        &r.root,
        Whole::default(),
        Premise {
            kinds: &["dangling-down-revision"],
            hint: Hint::Names("0082"),
        },
    );
}

#[test]
fn fixture_failing_c_heads() {
    let r = Repo::new("failing/c-heads", "c-heads", |_| {});
    follow_advice(
        &r.root,
        Whole::default(),
        Premise {
            kinds: HEADS,
            hint: Hint::Any,
        },
    );
}

/// As fixture_dangling.
#[test]
fn fixture_failing_e_dangling() {
    let r = Repo::new("failing/e-dangling", "e-dangling", |_| {});
    follow_advice(
        &r.root,
        Whole::default(),
        Premise {
            kinds: &["dangling-down-revision"],
            hint: Hint::Names("0001"),
        },
    );
}

// fixtures/failing/d-* and f-duplicate-table fail `check` on SQL inside
// revisions (class D and F), not on the chain: no command repairs them, and
// no chain tool judges them (the gate does, on Postgres). They are not
// cases here.

// ---------------------------------------------------------------------------
// Alembic incidents

const VERSIONS: &str = "console/migrations/versions";
const F0146: &str = "console/migrations/versions/0146_promote_tax_wash_sale_detector.py";
const F0148: &str = "console/migrations/versions/0148_promote_tax_lot_cost_basis_v2.py";

/// The Raxx monorepo (console, backend_v2, the queue sqitch project) with
/// console at 0144.
fn raxx_at_0144() -> Repo {
    Repo::new("incident-2026-06-05", "raxx", |root| {
        remove(root, &[F0146, F0148])
    })
}

/// The sqitch project of these repositories is read, not deployed: the
/// Alembic cases leave it alone.
const RAXX: Whole = Whole {
    django: false,
    deploy: &[],
};

/// Two pull requests cut from 0144, each adding a revision on it, merged
/// one after the other.
#[test]
fn alembic_two_prs_on_one_head() {
    let r = raxx_at_0144();
    r.branch("pr/wash-sale", |r| {
        r.write(
            F0146,
            &fixture_text(&format!("incident-2026-06-05/{F0146}")),
        )
    });
    r.branch("pr/cost-basis", |r| {
        r.write(
            F0148,
            &fixture_text(&format!("incident-2026-06-05/{F0148}")),
        )
    });
    r.merge("pr/wash-sale");
    r.merge("pr/cost-basis");
    follow_advice(
        &r.root,
        RAXX,
        Premise {
            kinds: HEADS,
            hint: Hint::Any,
        },
    );
}

/// Two pull requests both take the next number, 0145, on 0144.
#[test]
fn alembic_same_number_claimed_twice() {
    let r = raxx_at_0144();
    for pr in ["alerts", "exports"] {
        r.branch(&format!("pr/{pr}"), |r| {
            r.write(
                &format!("{VERSIONS}/0145_{pr}.py"),
                &revision_file("0145", Some("0144")),
            )
        });
    }
    r.merge("pr/alerts");
    r.merge("pr/exports");
    follow_advice(
        &r.root,
        RAXX,
        Premise {
            kinds: &["duplicate-id"],
            hint: Hint::Any,
        },
    );
}

/// A branch cut when main's head was 0058 adds 0059; main gains its own
/// 0059 and 0060; the branch is merged later.
#[test]
fn alembic_stale_branch() {
    let main_0059 = "console/migrations/versions/0059_backfill_invoices_currency.py";
    let main_0060 = "console/migrations/versions/0060_promote_saved_views.py";
    let r = Repo::new("healthy", "raxx", |root| {
        remove(root, &[main_0059, main_0060])
    });
    r.branch("feature/audit-retention", |r| {
        r.write(
            &format!("{VERSIONS}/0059_audit_retention.py"),
            &revision_file("0059", Some("0058")),
        )
    });
    for f in [main_0059, main_0060] {
        r.write(f, &fixture_text(&format!("healthy/{f}")));
        r.commit(f);
    }
    r.merge("feature/audit-retention");
    follow_advice(
        &r.root,
        RAXX,
        Premise {
            kinds: &["duplicate-id"],
            hint: Hint::Any,
        },
    );
}

/// A revision whose down_revision names no revision and nothing like one.
/// With no near miss, the one other head is where it goes.
#[test]
fn alembic_dangling_without_near_miss() {
    let r = Repo::new("dangling", "console", |root| {
        let f = root.join("migrations/versions/0083_foo.py");
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.contains("\"0082_add_widgets\""));
        std::fs::write(&f, text.replace("\"0082_add_widgets\"", "\"f3c9e1d7aa20\"")).unwrap();
    });
    follow_advice(
        &r.root,
        Whole::default(),
        Premise {
            kinds: &["dangling-down-revision"],
            hint: Hint::No,
        },
    );
}

/// A pull request adds 0061 with `depends_on`, merged; check's advice
/// followed. Returns the repository.
fn alembic_depends_on(depends_on: &str, hint: Hint) -> Repo {
    let r = Repo::new("healthy", "raxx", |_| {});
    r.branch("pr/reporting", |r| {
        r.write(
            &format!("{VERSIONS}/0061_reporting_views.py"),
            &revision_file("0061", Some("0060"))
                .replace("depends_on = None", &format!("depends_on = {depends_on}")),
        )
    });
    r.merge("pr/reporting");
    follow_advice(
        &r.root,
        RAXX,
        Premise {
            kinds: &["dangling-depends-on"],
            hint,
        },
    );
    r
}

/// The depends_on names 0059 by its file name.
#[test]
fn alembic_dangling_depends_on() {
    alembic_depends_on("\"0059_backfill_invoices_currency\"", Hint::Names("0059"));
}

/// The depends_on names a revision that exists nowhere, with nothing near
/// it: the entry is taken out, the other one stays.
#[test]
fn alembic_dangling_depends_on_without_near_miss() {
    let r = alembic_depends_on(
        "(\n    \"4f1c2d9e8a7b\",  # the audit tables\n    '0059',\n)",
        Hint::No,
    );
    let text =
        std::fs::read_to_string(r.root.join(VERSIONS).join("0061_reporting_views.py")).unwrap();
    assert!(text.contains("depends_on = (\n    '0059',\n)"), "{text}");
}
