//! The throwaway Postgres server that tests/run.sh starts (MIGFIX_PG_URL, a
//! superuser with trust auth on 127.0.0.1): a fresh database per use,
//! dropped afterwards. With MIGFIX_REQUIRE_ORACLES=1 a missing server fails
//! the test instead of skipping it.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The server's URL (`postgresql://USER@127.0.0.1:PORT/postgres`).
pub fn url() -> Option<String> {
    match std::env::var("MIGFIX_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(u) => Some(u),
        None if crate::oracle::required() => {
            panic!("MIGFIX_PG_URL is not set; run the tests through tests/run.sh, which starts a throwaway Postgres")
        }
        None => {
            eprintln!("skipping: MIGFIX_PG_URL is not set (run the tests through tests/run.sh)");
            None
        }
    }
}

fn psql() -> PathBuf {
    std::env::var_os("MIGFIX_PG_BIN")
        .map(|b| PathBuf::from(b).join("psql"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("psql"))
}

/// Runs one SQL command on the database at `url`; panics with psql's
/// message when it fails.
pub fn sql(url: &str, command: &str) {
    let out = Command::new(psql())
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            command,
        ])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql -c {command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A database of its own, dropped when this goes out of scope.
pub struct Database {
    server: String,
    pub name: String,
}

impl Database {
    /// A new, empty database; `None` when there is no server (and it is not
    /// required).
    pub fn create(tag: &str) -> Option<Database> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let server = url()?;
        let tag: String = tag
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let name = format!(
            "migfix_{tag}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        sql(&server, &format!("CREATE DATABASE {name}"));
        Some(Database { server, name })
    }

    /// The database's URL for SQLAlchemy with `driver` (`psycopg2`,
    /// `psycopg`). SQLAlchemy 2.1 reads a bare `postgresql://` as psycopg 3.
    pub fn sqlalchemy_url(&self, driver: &str) -> String {
        let rest = self
            .server
            .strip_prefix("postgresql://")
            .expect("MIGFIX_PG_URL starts with postgresql://");
        let (authority, _) = rest.split_once('/').unwrap_or((rest, ""));
        format!("postgresql+{driver}://{authority}/{}", self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // Best effort: a failure to clean up must not hide the test's own result.
        let _ = Command::new(psql())
            .args([
                "-X",
                "-q",
                "-d",
                &self.server,
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}
