//! Migrations inside a git submodule, repaired from the superproject: the
//! submodule's own index holds the repair, and the printed undo lines put
//! every byte and the index back.

use std::path::Path;

use crate::common::*;

/// A superproject holding fixture `name` as the submodule `services/api`.
fn superproject(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("api-origin");
    copy_tree(&fixture(name), &origin);
    git_init(&origin);
    let top = dir.path().join("top");
    superproject_of(&origin, &top);
    (dir, top)
}

/// The undo commands a write printed.
fn undo_commands(out: &str) -> Vec<String> {
    out.lines()
        .skip_while(|l| *l != "undo:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(str::trim)
        .filter(|l| l.starts_with("git "))
        .map(String::from)
        .collect()
}

fn porcelain(dir: &Path) -> Vec<String> {
    git(dir, &["status", "--porcelain", "--untracked-files=all"])
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn a_renumber_in_a_submodule_is_staged_there_and_undone_by_its_lines() {
    let (_dir, top) = superproject("incident-2026-06-05");
    let api = top.join("services/api");
    let before = tree_bytes(&api);
    let index_before = git(&api, &["ls-files", "-s"]);
    let (code, out, err) = run(&top, &["renumber", "0148", "--to", "0151", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    // The submodule's index holds the whole repair: nothing unstaged.
    let status = porcelain(&api);
    assert!(
        status
            .iter()
            .any(|l| l.starts_with("R  ") && l.contains("0151_promote_tax_lot_cost_basis_v2.py")),
        "{status:?}\n{out}"
    );
    assert!(
        status
            .iter()
            .all(|l| l.starts_with("R  ") || l.starts_with("M  ")),
        "{status:?}"
    );
    assert!(out.contains("staged: services/api/"), "{out}");
    // The superproject sees only its submodule changed.
    assert_eq!(porcelain(&top), vec![" M services/api".to_string()]);
    // Every printed undo line runs, and gives back the bytes and the index.
    let undo = undo_commands(&out);
    assert!(!undo.is_empty(), "{out}");
    for line in &undo {
        let ran = std::process::Command::new("sh")
            .args(["-c", line])
            .current_dir(&top)
            .output()
            .unwrap();
        assert!(
            ran.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&ran.stderr)
        );
    }
    assert_eq!(tree_bytes(&api), before, "{undo:?}");
    assert_eq!(git(&api, &["ls-files", "-s"]), index_before, "{undo:?}");
    assert_eq!(porcelain(&api), Vec::<String>::new());
}

/// A file in the submodule with changes of the user's own stops the write
/// unless --allow-dirty, as in the superproject itself.
#[test]
fn uncommitted_changes_in_a_submodule_stop_the_write() {
    let (_dir, top) = superproject("incident-2026-06-05");
    let api = top.join("services/api");
    let file = api.join("console/migrations/versions/0148_promote_tax_lot_cost_basis_v2.py");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("# a note of the user's own\n");
    std::fs::write(&file, &text).unwrap();
    let before = tree_bytes(&api);
    let (code, out, err) = run(&top, &["renumber", "0148", "--to", "0151", "--yes"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("uncommitted changes in services/api/console/migrations/versions/0148_promote_tax_lot_cost_basis_v2.py"), "{err}");
    assert_eq!(tree_bytes(&api), before);
}
