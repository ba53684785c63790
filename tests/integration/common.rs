use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    repo().join("fixtures").join(name)
}

/// Runs migfix with a clean environment from `cwd`.
pub fn migfix(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migfix"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("migfix runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// insta settings: snapshots in the top-level snapshots/ folder, temp
/// paths shown as [TMP].
pub fn snapshot_settings(tmp: Option<&Path>) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(repo().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    if let Some(tmp) = tmp {
        let shown = regex::escape(&tmp.display().to_string());
        s.add_filter(&shown, "[TMP]");
    }
    s
}

/// Writes `files` (path, contents) below `dir`.
pub fn write_tree(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// A small linear Alembic revision file in the house style.
pub fn revision_file(id: &str, down: Option<&str>) -> String {
    let down_lit = down.map_or("None".to_string(), |d| format!("\"{d}\""));
    format!(
        "\"\"\"step {id}\n\nRevision ID: {id}\nRevises: {}\n\"\"\"\nfrom alembic import op\n\nrevision: str = \"{id}\"\ndown_revision = {down_lit}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n",
        down.unwrap_or("")
    )
}
