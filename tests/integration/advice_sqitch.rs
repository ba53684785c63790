//! Issue #28, sqitch: check's advice followed on sqitch incidents made as
//! git history (see advice.rs): the queue project of fixtures/healthy (its
//! scripts deploy on SQLite too), and chef-server's two projects. Plans are
//! merged with `merge=union`, as sqitch's documentation advises.

use crate::advice::*;
use crate::common::*;

/// Two pull requests cut from 07 each append a change, both numbered 08:
/// sqitch deploys it (a warning, not a failure).
#[test]
fn sqitch_two_prs_on_one_head() {
    let r = healthy_queue();
    r.branch("pr/job-tags", |r| {
        add_change(
            r,
            QUEUE,
            "08-job-tags",
            "01-job-queue",
            "2026-06-20T09:00:00Z",
            ("jobs", "tags"),
        )
    });
    r.branch("pr/invoice-notes", |r| {
        add_change(
            r,
            QUEUE,
            "08-invoice-notes",
            "04-billing-invoices",
            "2026-06-20T10:00:00Z",
            ("billing_invoices", "notes"),
        )
    });
    r.merge("pr/job-tags");
    r.merge("pr/invoice-notes");
    follow_advice(
        &r.root,
        QUEUE_WHOLE,
        Premise {
            kinds: &[],
            hint: Hint::Any,
        },
    );
}

/// The same change (same name, same scripts) added on two branches by two
/// people: the merged plan declares it twice.
///
/// `dedupe` keeps the first declaration.
#[test]
fn sqitch_same_change_claimed_twice() {
    let r = healthy_queue();
    for (pr, stamp) in [("a", "2026-06-20T09:00:00Z"), ("b", "2026-06-21T11:30:00Z")] {
        r.branch(&format!("pr/{pr}"), |r| {
            add_change(
                r,
                QUEUE,
                "08-job-owner",
                "01-job-queue",
                stamp,
                ("jobs", "owner"),
            )
        });
    }
    r.merge("pr/a");
    r.merge("pr/b");
    follow_advice(
        &r.root,
        QUEUE_WHOLE,
        Premise {
            kinds: &["sqitch-duplicate"],
            hint: Hint::Any,
        },
    );
}

/// A branch cut at 07 adds a change requiring 06-job-priority-column;
/// meanwhile main renames that change to 06-job-priorities and adds 08;
/// the branch is merged later.
#[test]
fn sqitch_stale_branch() {
    let r = healthy_queue();
    r.branch("feature/priority-index", |r| {
        add_change(
            r,
            QUEUE,
            "08-job-priority-note",
            "06-job-priority-column",
            "2026-06-20T09:00:00Z",
            ("jobs", "priority_note"),
        )
    });
    let plan = format!("{QUEUE}/sqitch.plan");
    r.write(
        &plan,
        &r.read(&plan)
            .replace("06-job-priority-column", "06-job-priorities"),
    );
    for d in ["deploy", "revert", "verify"] {
        git(
            &r.root,
            &[
                "mv",
                &format!("{QUEUE}/{d}/06-job-priority-column.sql"),
                &format!("{QUEUE}/{d}/06-job-priorities.sql"),
            ],
        );
    }
    r.commit("rename 06");
    add_change(
        &r,
        QUEUE,
        "08-invoice-notes",
        "04-billing-invoices",
        "2026-06-21T09:00:00Z",
        ("billing_invoices", "notes"),
    );
    r.commit("add 08");
    r.merge("feature/priority-index");
    follow_advice(
        &r.root,
        QUEUE_WHOLE,
        Premise {
            kinds: &["sqitch-dependency"],
            hint: Hint::Any,
        },
    );
}

fn sqitch_dangling(requires: &str) {
    let r = healthy_queue();
    r.branch("pr/retries", |r| {
        add_change(
            r,
            QUEUE,
            "08-job-retries",
            requires,
            "2026-06-20T09:00:00Z",
            ("jobs", "retries"),
        )
    });
    r.merge("pr/retries");
    follow_advice(
        &r.root,
        QUEUE_WHOLE,
        Premise {
            kinds: &["sqitch-dependency"],
            hint: Hint::Any,
        },
    );
}

/// A requirement one letter off a planned change.
#[test]
fn sqitch_dangling_near_miss() {
    sqitch_dangling("01-job-queu");
}

/// With nothing near, onto the change planned just before it.
#[test]
fn sqitch_dangling_without_near_miss() {
    sqitch_dangling("payment-ledger");
}

/// A requirement on a change as of a tag, one letter off the change.
#[test]
fn sqitch_dangling_near_miss_at_a_tag() {
    sqitch_dangling("05-billing-invoice-line@v1.0");
}

/// With nothing near, onto the change planned just before the tag.
#[test]
fn sqitch_dangling_at_a_tag_without_near_miss() {
    sqitch_dangling("payment-ledger@v1.0");
}

fn chef_cross_project(requires: &str) {
    let r = chef();
    r.branch("pr/roles-index", |r| chef_requires(r, requires));
    r.merge("pr/roles-index");
    follow_advice(
        &r.root,
        Whole::default(),
        Premise {
            kinds: &["sqitch-dependency"],
            hint: Hint::Any,
        },
    );
}

/// `oss_chef:rolse` for `oss_chef:roles`.
#[test]
fn sqitch_cross_project_near_miss() {
    chef_cross_project("oss_chef:rolse");
}

/// With nothing near, onto the project's last change.
#[test]
fn sqitch_cross_project_without_near_miss() {
    chef_cross_project("oss_chef:billing_ledgers");
}

/// A branch requires `oss_chef:roles`; meanwhile main renames oss_chef's
/// `roles` (with migfix, which edits the other plan's requirements too);
/// the branch is merged later.
#[test]
fn sqitch_cross_project_stale_branch() {
    let r = chef();
    r.branch("pr/roles-index", |r| chef_requires(r, "oss_chef:roles"));
    let ran = migfix_in(
        &r.root,
        &[
            "renumber",
            "roles",
            "--to",
            "chef_roles",
            "--force",
            "--yes",
        ],
    );
    assert_eq!(ran.code, 0, "{}", ran.show());
    r.commit("rename oss_chef roles");
    r.merge("pr/roles-index");
    follow_advice(
        &r.root,
        Whole::default(),
        Premise {
            kinds: &["sqitch-dependency"],
            hint: Hint::Any,
        },
    );
}
