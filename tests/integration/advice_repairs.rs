//! Issue #28, the repairs: `merge-heads` and `renumber` with the chain
//! named every way a user names it (`--chain` with its whole name, with a
//! part of it, with a Django app's label; run from inside the chain's
//! folder; not named at all), in each framework. After each, (a)–(d) of
//! advice.rs must hold, and the repair must succeed.

use std::path::Path;

use crate::advice::{
    add_change, django_migration, migfix_in, what_fails, Repo, Whole, DJANGO, QUEUE, QUEUE_WHOLE,
};

/// How the chain is named.
#[derive(Clone, Copy, Debug)]
enum Naming {
    /// `--chain NAME`, the chain's whole name.
    Exact(&'static str),
    /// `--chain PART`, a unique part of its name.
    Part(&'static str),
    /// `--chain LABEL`, a Django app's label.
    Label(&'static str),
    /// No `--chain`, run from this folder below the root.
    Inside(&'static str),
    /// No `--chain`, run from the root.
    Unnamed,
}

/// Runs `migfix [--chain X] ARGS --yes` named as `naming` says, then asks
/// (a)–(d); fails with what the repair printed.
fn repair(root: &Path, naming: Naming, args: &[&str], whole: Whole) {
    let mut all: Vec<&str> = Vec::new();
    let mut cwd = root.to_path_buf();
    match naming {
        Naming::Exact(c) | Naming::Part(c) | Naming::Label(c) => all.extend(["--chain", c]),
        Naming::Inside(dir) => cwd = root.join(dir),
        Naming::Unnamed => {}
    }
    all.extend_from_slice(args);
    all.push("--yes");
    let ran = migfix_in(&cwd, &all);
    let mut why = Vec::new();
    if ran.code != 0 {
        why.push(format!("the repair exits {}", ran.code));
    }
    why.extend(what_fails(root, whole, Some(ran.code)));
    assert!(
        why.is_empty(),
        "{}\n\n$ (cd {}) migfix {}\n{}",
        why.join("\n"),
        cwd.strip_prefix(root.parent().unwrap()).unwrap().display(),
        all.join(" "),
        ran.show()
    );
}

// ---------------------------------------------------------------------------
// Alembic: the incident's console fork (0146 and 0148 on 0144), in a
// repository with two other chains.

const RAXX: Whole = Whole {
    django: false,
    deploy: &[],
};

fn raxx() -> Repo {
    Repo::new("incident-2026-06-05", "raxx", |_| {})
}

fn alembic_merge_heads(naming: Naming) {
    let r = raxx();
    repair(&r.root, naming, &["merge-heads"], RAXX);
}

fn alembic_renumber(naming: Naming) {
    let r = raxx();
    repair(&r.root, naming, &["renumber", "0148"], RAXX);
}

const CONSOLE: Naming = Naming::Exact("console/migrations");
const CONSOLE_PART: Naming = Naming::Part("console");
const CONSOLE_INSIDE: Naming = Naming::Inside("console/migrations/versions");

#[test]
fn alembic_merge_heads_chain_exact() {
    alembic_merge_heads(CONSOLE);
}

#[test]
fn alembic_merge_heads_chain_part() {
    alembic_merge_heads(CONSOLE_PART);
}

#[test]
fn alembic_merge_heads_inside() {
    alembic_merge_heads(CONSOLE_INSIDE);
}

#[test]
fn alembic_merge_heads_unnamed() {
    alembic_merge_heads(Naming::Unnamed);
}

#[test]
fn alembic_renumber_chain_exact() {
    alembic_renumber(CONSOLE);
}

#[test]
fn alembic_renumber_chain_part() {
    alembic_renumber(CONSOLE_PART);
}

#[test]
fn alembic_renumber_inside() {
    alembic_renumber(CONSOLE_INSIDE);
}

#[test]
fn alembic_renumber_unnamed() {
    alembic_renumber(Naming::Unnamed);
}

// ---------------------------------------------------------------------------
// sqitch: two changes numbered 08 in the queue project (the later one is
// renumbered), and chef-server's oss_chef change that enterprise_chef
// requires (renamed, in both plans).

fn queue_with_two_08s() -> Repo {
    let r = Repo::new("healthy", "raxx", |_| {});
    add_change(
        &r,
        QUEUE,
        "08-job-tags",
        "01-job-queue",
        "2026-06-20T09:00:00Z",
        ("jobs", "tags"),
    );
    add_change(
        &r,
        QUEUE,
        "08-invoice-notes",
        "04-billing-invoices",
        "2026-06-20T10:00:00Z",
        ("billing_invoices", "notes"),
    );
    r.commit("two 08s");
    r
}

fn sqitch_renumber(naming: Naming) {
    let r = queue_with_two_08s();
    repair(
        &r.root,
        naming,
        &["renumber", "08-invoice-notes"],
        QUEUE_WHOLE,
    );
    assert!(
        r.read(&format!("{QUEUE}/sqitch.plan"))
            .contains("\n09-invoice-notes [04-billing-invoices] "),
        "{}",
        r.read(&format!("{QUEUE}/sqitch.plan"))
    );
}

#[test]
fn sqitch_renumber_chain_exact() {
    sqitch_renumber(Naming::Exact(QUEUE));
}

#[test]
fn sqitch_renumber_chain_part() {
    sqitch_renumber(Naming::Part("queue"));
}

#[test]
fn sqitch_renumber_inside() {
    sqitch_renumber(Naming::Inside("queue/migrations/sqitch/deploy"));
}

#[test]
fn sqitch_renumber_unnamed() {
    sqitch_renumber(Naming::Unnamed);
}

const BASELINE: &str = "src/oc_erchef/schema/baseline";

fn sqitch_cross_project_rename(naming: Naming) {
    let r = Repo::new("sqitch-real/chef-server", "chef-server", |_| {});
    repair(
        &r.root,
        naming,
        &[
            "renumber",
            "osc_users",
            "--to",
            "osc_users_table",
            "--force",
        ],
        Whole::default(),
    );
    assert!(
        r.read("src/oc_erchef/schema/sqitch.plan")
            .contains("drop_osc_users [oss_chef:osc_users_table]"),
        "the requirement of the other project follows"
    );
}

#[test]
fn sqitch_cross_project_rename_chain_exact() {
    sqitch_cross_project_rename(Naming::Exact(BASELINE));
}

#[test]
fn sqitch_cross_project_rename_chain_part() {
    sqitch_cross_project_rename(Naming::Part("baseline"));
}

#[test]
fn sqitch_cross_project_rename_inside() {
    sqitch_cross_project_rename(Naming::Inside("src/oc_erchef/schema/baseline/deploy"));
}

#[test]
fn sqitch_cross_project_rename_unnamed() {
    sqitch_cross_project_rename(Naming::Unnamed);
}

// ---------------------------------------------------------------------------
// Django: django-shop's fork in app shop (two 0005s), with a payments
// migration that depends on shop.0005_product_weight.

fn shop() -> Repo {
    let r = Repo::new("django-shop", "django-shop", |_| {});
    r.write(
        "billing/migrations/0004_invoice_weight.py",
        &django_migration(&[
            ("payments", "0003_invoice_currency"),
            ("shop", "0005_product_weight"),
        ]),
    );
    r.commit("payments follows the weight");
    r
}

fn django_merge_heads(naming: Naming) {
    let r = shop();
    repair(&r.root, naming, &["merge-heads"], DJANGO);
}

fn django_renumber(naming: Naming) {
    let r = shop();
    repair(
        &r.root,
        naming,
        &["renumber", "shop", "0005_product_weight"],
        DJANGO,
    );
}

const PROJECT: Naming = Naming::Exact("django-shop");
const PROJECT_PART: Naming = Naming::Part("django");
const APP: Naming = Naming::Label("shop");
const APP_INSIDE: Naming = Naming::Inside("shop/migrations");

#[test]
fn django_merge_heads_chain_exact() {
    django_merge_heads(PROJECT);
}

#[test]
fn django_merge_heads_chain_part() {
    django_merge_heads(PROJECT_PART);
}

#[test]
fn django_merge_heads_app_label() {
    django_merge_heads(APP);
}

#[test]
fn django_merge_heads_inside() {
    django_merge_heads(APP_INSIDE);
}

#[test]
fn django_merge_heads_unnamed() {
    django_merge_heads(Naming::Unnamed);
}

#[test]
fn django_renumber_chain_exact() {
    django_renumber(PROJECT);
}

#[test]
fn django_renumber_chain_part() {
    django_renumber(PROJECT_PART);
}

#[test]
fn django_renumber_app_label() {
    django_renumber(APP);
}

#[test]
fn django_renumber_inside() {
    django_renumber(APP_INSIDE);
}

#[test]
fn django_renumber_unnamed() {
    django_renumber(Naming::Unnamed);
}
