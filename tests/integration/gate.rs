//! `migfix gate` on the real Postgres that tests/run.sh starts: the round
//! trip passes on healthy chains, fails with the right class, and passes
//! again once migfix.toml supplies what was missing.

use std::path::Path;

use crate::common::*;

fn gate(dir: &Path, extra: &[&str]) -> Option<(i32, String)> {
    let url = crate::postgres::url()?;
    let mut args = vec![
        "-C",
        dir.to_str().unwrap(),
        "gate",
        "--database-url",
        url.as_str(),
    ];
    if let Some(alembic) = crate::oracle::alembic_bin() {
        let alembic = Box::leak(alembic.to_string_lossy().into_owned().into_boxed_str());
        args.extend_from_slice(&["--alembic", alembic]);
    }
    args.extend_from_slice(extra);
    let o = migfix(dir, &args);
    Some((
        o.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&o), stderr(&o)),
    ))
}

fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(name), dir.path());
    dir
}

#[test]
fn healthy_chains_pass_the_round_trip_alembic_and_sqitch() {
    let dir = copy_of("healthy");
    std::fs::write(
        dir.path().join("migfix.toml"),
        "[[chain]]\nname = \"raptor\"\nconfig = \"backend_v2/alembic.ini\"\nroles = [\"raptor_app\"]\n\n[[chain]]\nname = \"queue\"\nplan = \"queue/migrations/sqitch/sqitch.plan\"\n",
    )
    .unwrap();
    let Some((code, out)) = gate(dir.path(), &[]) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    for step in [
        "raptor — create role raptor_app ... ok",
        "raptor — alembic upgrade head ... ok",
        "raptor — assert single head ... ok",
        "raptor — alembic downgrade -1 (reversibility check) ... ok",
        "queue — sqitch deploy --verify ... ok",
        "queue — sqitch revert --to @HEAD^ ... ok",
        "gate passed: 2 chains",
    ] {
        assert!(out.contains(step), "{step}: {out}");
    }
    let ini = std::fs::read_to_string(dir.path().join("backend_v2/alembic.ini")).unwrap();
    assert!(!ini.contains("migfix"), "the user's ini is never edited");
}

#[test]
fn a_missing_role_fails_as_b_then_passes_with_roles() {
    let dir = copy_of("failing/b-role");
    // A role of this run only, so that no other test's role hides it.
    let role = format!("gate_role_{}", std::process::id());
    let v = dir.path().join("migrations/versions/0002_paper_orders.py");
    std::fs::write(
        &v,
        std::fs::read_to_string(&v)
            .unwrap()
            .replace("raptor_app", &role),
    )
    .unwrap();
    let Some((code, out)) = gate(dir.path(), &["--format", "json"]) else {
        return;
    };
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(
        out.lines()
            .skip_while(|l| !l.starts_with('{'))
            .collect::<Vec<_>>()
            .join("\n")
            .as_str(),
    )
    .unwrap();
    let run = &v["chains"][0];
    assert_eq!(run["passed"], false);
    let failed: Vec<&str> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].ends_with("alembic upgrade head"), "{failed:?}");
    let classes: Vec<&str> = run["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["class"].as_str())
        .collect();
    assert!(classes.contains(&"B"), "{out}");
    let (_, text) = gate(dir.path(), &[]).unwrap();
    assert!(
        text.contains(&format!("roles = [\"{role}\"]")),
        "the migfix.toml line to add: {text}"
    );
    std::fs::write(
        dir.path().join("migfix.toml"),
        format!("[[chain]]\nconfig = \"alembic.ini\"\nroles = [\"{role}\"]\n"),
    )
    .unwrap();
    let (code, out) = gate(dir.path(), &[]).unwrap();
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_missing_seed_row_fails_as_a_then_passes_with_a_seed() {
    let dir = copy_of("failing/a-seed-row");
    // The fixture stops at the missing row; give the rest of 0002 its table.
    let base = dir.path().join("migrations/versions/0001_admins.py");
    let text = std::fs::read_to_string(&base).unwrap().replace(
        "def downgrade() -> None:\n",
        "    op.execute(\"CREATE TABLE rbac_members (admin_id integer, grp text)\")\n\n\ndef downgrade() -> None:\n    op.execute(\"DROP TABLE rbac_members\")\n",
    );
    std::fs::write(&base, text).unwrap();
    let Some((code, out)) = gate(dir.path(), &[]) else {
        return;
    };
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[A]"), "{out}");
    std::fs::write(
        dir.path().join("migfix.toml"),
        "[[chain]]\nconfig = \"alembic.ini\"\n\n[[chain.gate.seed]]\nbefore = \"0002\"\nsql = \"INSERT INTO admins (email, display_name) VALUES ('kris@moosequest.net', 'CI seed') ON CONFLICT DO NOTHING\"\n",
    )
    .unwrap();
    let (code, out) = gate(dir.path(), &[]).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("alembic upgrade 0001 (pre-seed) ... ok")
            && out.contains("seed (required by 0002) ... ok"),
        "{out}"
    );
}

#[test]
fn a_duplicate_table_fails_as_f() {
    let dir = copy_of("failing/f-duplicate-table");
    let Some((code, out)) = gate(dir.path(), &[]) else {
        return;
    };
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[F]"), "{out}");
}

#[test]
fn connection_problems_and_passwords() {
    let dir = copy_of("healthy");
    let o = migfix(
        dir.path(),
        &[
            "-C",
            dir.path().to_str().unwrap(),
            "gate",
            "--database-url",
            "postgresql://ci:hunter2@127.0.0.1:1/postgres",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("cannot connect") && err.contains("ci:***@127.0.0.1:1"),
        "{err}"
    );
    assert!(
        !err.contains("hunter2") && !stdout(&o).contains("hunter2"),
        "the password is never printed"
    );
    let o = migfix(
        dir.path(),
        &[
            "-C",
            dir.path().to_str().unwrap(),
            "gate",
            "--database-url",
            "mysql://x/y",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
}

/// `migfix gate` with no `--database-url`, temp folders in `tmp`.
fn throwaway_gate(dir: &Path, tmp: &Path, extra: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_migfix"));
    c.args(["-C", dir.to_str().unwrap(), "gate"]);
    if let Some(alembic) = crate::oracle::alembic_bin() {
        c.arg("--alembic").arg(alembic);
    }
    c.args(extra)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TMPDIR", tmp);
    c
}

/// A folder the server's user can enter (root runs it as `postgres`).
fn open_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    t
}

fn port_of(stderr: &str) -> u16 {
    let at = stderr
        .find("127.0.0.1:")
        .unwrap_or_else(|| panic!("{stderr}"))
        + "127.0.0.1:".len();
    stderr[at..].split(';').next().unwrap().parse().unwrap()
}

#[test]
fn without_a_url_a_throwaway_server_is_started_and_deleted() {
    // Needs the server binaries tests/run.sh installs.
    if crate::postgres::url().is_none() {
        return;
    }
    let dir = copy_of("healthy");
    std::fs::write(
        dir.path().join("migfix.toml"),
        "[[chain]]\nname = \"raptor\"\nconfig = \"backend_v2/alembic.ini\"\nroles = [\"raptor_app\"]\n\n[[chain]]\nname = \"queue\"\nplan = \"queue/migrations/sqitch/sqitch.plan\"\n",
    )
    .unwrap();
    let tmp = open_tempdir();
    let o = throwaway_gate(dir.path(), tmp.path(), &[])
        .output()
        .unwrap();
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        err.contains("throwaway server: postgres (PostgreSQL) "),
        "the version is printed: {err}"
    );
    assert!(out.contains("gate passed: 2 chains"), "{out}");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "the server's folder is deleted"
    );
    let port = port_of(&err);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the server is stopped"
    );
}

#[test]
fn ctrl_c_stops_and_deletes_the_throwaway_server() {
    use std::io::{BufRead, BufReader};
    if crate::postgres::url().is_none() {
        return;
    }
    let dir = copy_of("healthy");
    let tmp = open_tempdir();
    let mut child = throwaway_gate(dir.path(), tmp.path(), &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.starts_with("throwaway server:"), "{first}");
    // The server runs and the handler is set once that line is out.
    let port = port_of(&first);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "{rest}");
    assert!(
        rest.contains("interrupted; the throwaway server was stopped and deleted"),
        "{rest}"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "the server's folder is deleted"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the server is stopped"
    );
}

#[test]
fn without_server_binaries_both_ways_are_named() {
    let dir = copy_of("healthy");
    let tmp = open_tempdir();
    let empty = tempfile::tempdir().unwrap();
    let o = throwaway_gate(
        dir.path(),
        tmp.path(),
        &["--postgres-bin", empty.path().to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("no initdb, pg_ctl, postgres there"), "{err}");
    assert!(err.contains("install the Postgres server package"), "{err}");
    assert!(err.contains("--database-url"), "{err}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
