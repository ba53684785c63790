//! `migfix recover` driven on a pseudo-terminal (util-linux `script`), as
//! a keyboard-only user on an 80-column terminal would.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

/// Runs `migfix recover` on a pseudo-terminal, typing `keys`; returns the
/// exit code and the final 80-column screen as text.
fn on_terminal(dir: &Path, keys: &str) -> (i32, String) {
    let cmd = format!(
        "{} -C {} recover --color never",
        env!("CARGO_BIN_EXE_migfix"),
        dir.display()
    );
    let mut child = Command::new("script")
        // No echo: keys typed before migfix reads them must not show on screen.
        .args([
            "--quiet",
            "--echo",
            "never",
            "--return",
            "--command",
            &cmd,
            "/dev/null",
        ])
        .env("COLUMNS", "80")
        .env("LINES", "200")
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux script runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(keys.as_bytes())
        .unwrap();
    // A session waiting for a key it will never get must fail, not hang.
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("recover was still waiting for input after 60 s (keys {keys:?})");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let mut screen = vt100::Parser::new(400, 80, 0);
    screen.process(&out.stdout);
    let text = screen.screen().contents();
    let text: Vec<&str> = text.lines().map(str::trim_end).collect();
    (
        out.status.code().unwrap_or(-1),
        text.join("\n").trim_end().to_string(),
    )
}

fn incident_repo() -> (tempfile::TempDir, git2::Repository) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("incident-2026-06-05"), dir.path());
    let repo = git_init(dir.path());
    (dir, repo)
}

fn stable(screen: &str, dir: &Path) -> String {
    let dated = regex::Regex::new(r"Create Date: [0-9: .-]+")
        .unwrap()
        .replace_all(screen, "Create Date: [DATE]")
        .into_owned();
    let head = regex::Regex::new(r"HEAD was [0-9a-f]{12}")
        .unwrap()
        .replace_all(&dated, "HEAD was [SHA]")
        .into_owned();
    let head = regex::Regex::new(r"in [0-9a-f]{10}\b")
        .unwrap()
        .replace_all(&head, "in [SHA]")
        .into_owned();
    let head = regex::Regex::new(r"git checkout [0-9a-f]{12}")
        .unwrap()
        .replace_all(&head, "git checkout [SHA]")
        .into_owned();
    head.replace(&dir.display().to_string(), "[TMP]")
}

#[test]
fn accepting_every_default_repairs_the_fork() {
    let (dir, _repo) = incident_repo();
    // Enter picks the recommended fix; `y` confirms.
    let (code, screen) = on_terminal(dir.path(), "\ry");
    assert!(screen.contains("How to fix it?"), "{screen}");
    assert!(
        screen.contains("add a merge revision over 0146 and 0148"),
        "{screen}"
    );
    assert!(
        screen.contains("console/migrations: OK (exactly 1 head)"),
        "{screen}"
    );
    assert!(
        screen.contains("to do by hand"),
        "A and B are printed, not applied: {screen}"
    );
    assert_eq!(code, 1, "the A and B findings are left to do");
    // Everything but the diff (whose lines are the files' own) fits 80 columns.
    let mut in_diff = false;
    for line in screen.lines() {
        in_diff = (in_diff || line.starts_with("diff --git")) && !line.starts_with("after:");
        assert!(
            in_diff || line.chars().count() <= 80,
            "too wide for 80 columns: {line:?}"
        );
    }
    snapshot_settings(None)
        .bind(|| insta::assert_snapshot!("recover_accept_defaults", stable(&screen, dir.path())));
    let Some(heads) = alembic(&dir.path().join("console/migrations"), &["heads"]) else {
        return;
    };
    assert_eq!(heads, "0149 (head)\n");
}

#[test]
fn answering_no_leaves_the_tree_byte_identical() {
    let (dir, _repo) = incident_repo();
    let before = tree_bytes(dir.path());
    let (code, screen) = on_terminal(dir.path(), "\rn");
    assert_eq!(code, 1);
    assert!(screen.contains("nothing was written"), "{screen}");
    assert_eq!(tree_bytes(dir.path()), before);
    // `q` at the menu, too.
    let (code, screen) = on_terminal(dir.path(), "q");
    assert_eq!(code, 1);
    assert!(screen.contains("stopped: nothing was written"), "{screen}");
    assert_eq!(tree_bytes(dir.path()), before);
}

#[test]
fn the_second_fix_renumbers_the_later_commit() {
    let (dir, _repo) = incident_repo();
    // Down arrow to the second fix, Enter, y.
    let (code, screen) = on_terminal(dir.path(), "\x1b[B\ry");
    assert!(
        screen.contains("renumber 0148 (added later, in"),
        "{screen}"
    );
    assert!(
        screen.contains("console/migrations: OK (exactly 1 head)"),
        "{screen}"
    );
    assert_eq!(code, 1);
    let Some(heads) = alembic(&dir.path().join("console/migrations"), &["heads"]) else {
        return;
    };
    assert_eq!(heads, "0149 (head)\n");
}

#[test]
fn dangling_pointer_repointed_to_the_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("dangling"), dir.path());
    git_init(dir.path());
    let (code, screen) = on_terminal(dir.path(), "\ry");
    assert!(screen.contains("point 0083 at 0082"), "{screen}");
    assert_eq!(code, 0, "{screen}");
    let o = migfix(dir.path(), &["-C", dir.path().to_str().unwrap(), "check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let Some(heads) = alembic(&dir.path().join("migrations"), &["heads"]) else {
        return;
    };
    assert_eq!(heads, "0084 (head)\n");
}

#[test]
fn without_a_terminal_it_prints_the_commands() {
    let (dir, _repo) = incident_repo();
    let before = tree_bytes(dir.path());
    let o = migfix(dir.path(), &["-C", dir.path().to_str().unwrap(), "recover"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("recommended: migfix --chain console/migrations merge-heads --yes"),
        "{out}"
    );
    assert!(out.contains("or: migfix renumber console/migrations/versions/0148_promote_tax_lot_cost_basis_v2.py --yes"), "{out}");
    assert!(
        out.contains("CREATE ROLE raptor_app NOLOGIN"),
        "the class B step: {out}"
    );
    assert_eq!(tree_bytes(dir.path()), before);
    snapshot_settings(None).bind(|| insta::assert_snapshot!("recover_no_terminal", out));
}

/// A Django project: the menu offers the merge migration and the renumber
/// in Django's words; each choice leaves one leaf node, which Django's
/// own checks are then named to confirm.
#[test]
fn django_fork_is_recovered_either_way() {
    for (keys, file) in [
        (
            "\ry",
            "shop/migrations/0006_merge_0005_product_discount_0005_product_weight.py",
        ),
        ("\x1b[B\ry", "shop/migrations/0006_product_weight.py"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&fixture("django-shop"), dir.path());
        git_init(dir.path());
        let (code, screen) = on_terminal(dir.path(), keys);
        // Lines wrap at 80 columns: compare the words.
        let screen = screen.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            screen.contains("[C] 2 leaf nodes in app shop: shop.0005_product_discount, shop.0005_product_weight, forking at shop.0004_product_stock"),
            "{screen}"
        );
        assert!(screen.contains("add a merge migration over shop.0005_product_discount and shop.0005_product_weight"), "{screen}");
        assert!(
            dir.path().join(file).is_file(),
            "{keys:?}: {file}\n{screen}"
        );
        assert!(
            screen.contains("OK (2 apps, 2 leaf nodes, one per app)"),
            "{screen}"
        );
        assert!(
            screen.contains("python manage.py makemigrations --check --dry-run"),
            "{screen}"
        );
        assert_eq!(code, 0, "{screen}");
    }
}
