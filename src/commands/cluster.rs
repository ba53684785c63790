//! A throwaway Postgres server for `migfix gate` without `--database-url`:
//! a new cluster in a temporary folder, on a free loopback port, stopped
//! and deleted when dropped (also after Ctrl-C, which the gate turns into
//! an early return).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

use crate::error::{Diag, InputErrors};

/// Set by Ctrl-C while a throwaway server runs; the gate stops at the next
/// step, so that the server is stopped and its folder deleted.
pub(crate) static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub(crate) struct Cluster {
    bin: PathBuf,
    /// Root runs the server as `postgres`, which initdb requires.
    user: Option<String>,
    folder: Option<tempfile::TempDir>,
    pub port: u16,
    /// The cluster's superuser: `postgres` for root, else the user.
    superuser: String,
    /// `postgres (PostgreSQL) 15.18`, as the server prints it.
    pub version: String,
}

const NEEDED: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

fn has_server(dir: &Path) -> bool {
    NEEDED.iter().all(|b| dir.join(b).is_file())
}

/// The folder holding initdb, pg_ctl and postgres: `--postgres-bin`, else
/// `pg_config --bindir`, else initdb on PATH, else the newest Debian
/// `/usr/lib/postgresql/*/bin`.
pub(crate) fn find_bin(flag: Option<&Path>) -> Result<PathBuf> {
    let none = |what: String| -> anyhow::Error {
        InputErrors::one(Diag::new("--database-url", None, what))
            .with_help(
                "install the Postgres server package (Debian: apt-get install postgresql), or pass --database-url postgresql://USER@HOST:PORT/DB",
            )
            .into()
    };
    if let Some(dir) = flag {
        return if has_server(dir) {
            Ok(dir.to_path_buf())
        } else {
            Err(none(format!(
                "--postgres-bin {}: no {} there",
                dir.display(),
                NEEDED.join(", ")
            )))
        };
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|d| d.join("initdb").is_file());
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    // Newest first: 16 before 15, by number, not by text.
    debian.sort_by_key(|d| {
        let v = d
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u32>().ok());
        std::cmp::Reverse(v.unwrap_or(0))
    });
    from_pg_config.into_iter().chain(on_path).chain(debian).find(|d| has_server(d)).ok_or_else(|| {
        none("no Postgres server binaries (initdb, pg_ctl, postgres) in `pg_config --bindir`, on PATH or in /usr/lib/postgresql/*/bin".into())
    })
}

impl Cluster {
    /// Creates and starts the server; on failure nothing is left behind.
    pub(crate) fn start(bin: &Path) -> Result<Cluster> {
        let version = run_ok(Command::new(bin.join("postgres")).arg("--version"))
            .map_err(|e| fail(format!("{}: {e}", bin.join("postgres").display())))?
            .trim()
            .to_string();
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let user = root.then(|| "postgres".to_string());
        let folder = tempfile::Builder::new()
            .prefix("migfix-pg-")
            .tempdir()
            .map_err(|e| fail(format!("a temporary folder: {e}")))?;
        if let Some(u) = &user {
            let uid = run_ok(Command::new("id").args(["-u", u]))
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
                .ok_or_else(|| {
                    fail(format!(
                        "running as root, the server needs the user `{u}`, which does not exist"
                    ))
                })?;
            std::os::unix::fs::chown(folder.path(), Some(uid), None)
                .map_err(|e| fail(format!("chown {}: {e}", folder.path().display())))?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| fail(format!("a free port on 127.0.0.1: {e}")))?
            .port();
        let superuser = user
            .clone()
            .unwrap_or_else(|| whoami().unwrap_or_else(|| "postgres".into()));
        let mut cluster = Cluster {
            bin: bin.to_path_buf(),
            user,
            folder: Some(folder),
            port,
            superuser,
            version,
        };
        let data = cluster.dir().join("data");
        cluster
            .pg("initdb")
            .arg(format!("--pgdata={}", data.display()))
            .arg(format!("--username={}", cluster.superuser))
            .args(["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"])
            .output()
            .map_err(|e| fail(format!("initdb: {e}")))
            .and_then(|o| {
                if o.status.success() {
                    Ok(())
                } else {
                    let said = String::from_utf8_lossy(&o.stderr);
                    Err(fail(format!(
                        "initdb failed: {}",
                        said.trim().lines().last().unwrap_or("")
                    )))
                }
            })?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        );
        let log = cluster.dir().join("server.log");
        let started = cluster
            .pg("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !started {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let last: Vec<&str> = tail.lines().rev().take(5).collect();
            cluster.stop();
            return Err(fail(format!(
                "the server did not start: {}",
                last.into_iter().rev().collect::<Vec<_>>().join(" / ")
            )));
        }
        // Ctrl-C reaches the tools the gate runs; migfix itself notes it and
        // stops at the next step instead of dying with the server running.
        let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
        Ok(cluster)
    }

    pub(crate) fn url(&self) -> String {
        format!(
            "postgresql://{}@127.0.0.1:{}/postgres",
            self.superuser, self.port
        )
    }

    pub(crate) fn bin(&self) -> &Path {
        &self.bin
    }

    fn dir(&self) -> &Path {
        self.folder
            .as_ref()
            .expect("the folder lives until drop")
            .path()
    }

    /// A server binary, run as the server's user.
    fn pg(&self, name: &str) -> Command {
        let exe = self.bin.join(name);
        match &self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn stop(&mut self) {
        let Some(folder) = self.folder.take() else {
            return;
        };
        let data = folder.path().join("data");
        if data.join("postmaster.pid").exists() {
            let _ = self
                .pg("pg_ctl")
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
        drop(folder);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn fail(message: String) -> anyhow::Error {
    InputErrors::one(Diag::new("throwaway Postgres", None, message)).into()
}

fn run_ok(cmd: &mut Command) -> std::io::Result<String> {
    let o = cmd.output()?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    } else {
        Err(std::io::Error::other(
            String::from_utf8_lossy(&o.stderr).trim().to_string(),
        ))
    }
}

fn whoami() -> Option<String> {
    run_ok(Command::new("id").arg("-un"))
        .ok()
        .map(|s| s.trim().to_string())
}
