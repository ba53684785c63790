//! `migfix gate`: the migration-gate runbook's round trip on a real
//! Postgres, one fresh database per chain: roles and seed rows from
//! migfix.toml, `upgrade head`, a single-head check, `downgrade -1`,
//! `upgrade head` again. A failure is classified like a CI log.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::Result;

use crate::chains::Chain;
use crate::cli::GateArgs;
use crate::config::Config;
use crate::error::ExitStatus;
use crate::error::{Diag, InputErrors};
use crate::frameworks::interface::Trip;
use crate::report;
use crate::secrets::{self, MASK};

pub(crate) use crate::outcome::{ChainRun, GateStep as Step};

/// A postgresql:// URL, split so that the database can be swapped and the
/// credentials never shown.
#[derive(Debug, Clone)]
pub(crate) struct PgUrl {
    scheme: String,
    user: Option<String>,
    password: Option<String>,
    host: String,
    database: String,
    /// Without the `?`.
    query: String,
    /// The URL as given, for the secrets any reader of it may see.
    given: String,
}

/// Values shorter than this are not searched for in free text: masking a
/// one- to three-character password everywhere would turn every `1` or `ab`
/// in a tool's output into `***`. They are still masked where migfix shows
/// the URL, and wherever the text shows them as a credential
/// ([`secrets::mask_shapes`]).
const MIN_MASKED_LEN: usize = 4;

impl PgUrl {
    fn parse(url: &str) -> Option<PgUrl> {
        let (scheme, rest) = url.split_once("://")?;
        if !scheme.starts_with("postgres") {
            return None;
        }
        // The userinfo ends at the last `@` before the host, whatever comes
        // before it: a raw `/`, `?`, `#` or `@` in a password is the
        // password's. A user (the userinfo up to its `:`) cannot hold `/`,
        // `?` or `#`, so that `postgres://ci@h/app?application_name=a@b`
        // keeps its host; and an `@` before the first `?` is preferred, so
        // that `postgres://ci@h?application_name=a@b` (no path) does too.
        // How the URL is shown does not hang on this choice: it is masked
        // under every reading ([`secrets::url_secrets`]).
        let ats: Vec<usize> = rest
            .match_indices('@')
            .map(|(i, _)| i)
            .filter(|&at| {
                let user = rest[..at].split(':').next().unwrap_or_default();
                !user.contains(['/', '?', '#'])
            })
            .collect();
        let first_query = rest.find('?').unwrap_or(rest.len());
        let at = ats
            .iter()
            .rfind(|&&at| at < first_query)
            .or(ats.last())
            .copied();
        let (userinfo, after) = match at {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (before_query, query) = after.split_once('?').unwrap_or((after, ""));
        let (host, path) = before_query.split_once('/').unwrap_or((before_query, ""));
        let (user, password) =
            match userinfo.map(|u| u.split_once(':').map_or((u, None), |(a, b)| (a, Some(b)))) {
                Some((u, p)) => (Some(u.to_string()), p.map(String::from)),
                None => (None, None),
            };
        Some(PgUrl {
            scheme: scheme.to_string(),
            user,
            password,
            host: host.to_string(),
            database: if path.is_empty() {
                "postgres".into()
            } else {
                path.to_string()
            },
            query: query.to_string(),
            given: url.to_string(),
        })
    }

    /// The URL with `database`, as given otherwise.
    fn render(&self, scheme: &str, database: &str) -> String {
        let auth = match (&self.user, &self.password) {
            (Some(u), Some(p)) => format!("{u}:{p}@"),
            (Some(u), None) => format!("{u}@"),
            _ => String::new(),
        };
        let query = if self.query.is_empty() {
            String::new()
        } else {
            format!("?{}", self.query)
        };
        format!("{scheme}://{auth}{}/{database}{query}", self.host)
    }

    /// The secret values to hide in free text, as written in the URL and
    /// percent-decoded (what a tool that parsed the URL may print), under
    /// every reading of the URL ([`secrets::url_secrets`]), longest first
    /// so that no part of a longer one is left after a shorter one.
    fn secrets(&self) -> Vec<String> {
        secrets::url_secrets(&self.given)
            .into_iter()
            .filter(|v| v.chars().count() >= MIN_MASKED_LEN)
            .collect()
    }

    /// The URL as migfix prints it: masked as free text is, and then as a
    /// URL, where white space ends no value. It is the URL as given (but
    /// for a default database), so that how it was split does not matter.
    fn shown(&self) -> String {
        secrets::mask_url(&mask_values(&self.for_database(&self.database), self))
    }

    fn for_database(&self, database: &str) -> String {
        self.render(&self.scheme, database)
    }

    fn db_uri(&self, database: &str) -> String {
        format!("db:{}", self.render("pg", database))
    }
}

/// The captured output of a tool, with the URL's credentials in it masked.
struct Output {
    ok: bool,
    text: String,
}

pub(crate) fn run(config: &Config, args: &GateArgs) -> Result<ExitStatus> {
    // Without a URL, a server of our own, stopped and deleted when dropped.
    let cluster = match &args.database_url {
        Some(_) => None,
        None => {
            let bin = crate::commands::cluster::find_bin(args.postgres_bin.as_deref())?;
            let c = crate::commands::cluster::Cluster::start(&bin)?;
            report::gate::throwaway(config, &c.version, c.bin(), c.port);
            Some(c)
        }
    };
    let given = match (&cluster, &args.database_url) {
        (Some(c), _) => c.url(),
        (None, Some(u)) => u.clone(),
        (None, None) => unreachable!("a cluster was started above"),
    };
    let url = PgUrl::parse(&given).ok_or_else(|| {
        InputErrors::one(Diag::new(
            "--database-url",
            None,
            "expected postgresql://USER@HOST:PORT/DB",
        ))
    })?;
    let mut admin = postgres::Client::connect(&url.for_database(&url.database), postgres::NoTls)
        .map_err(|e| {
            InputErrors::one(Diag::new(
                url.shown(),
                None,
                format!("cannot connect: {}", mask(&e.to_string(), &url)),
            ))
        })?;
    let chains = crate::frameworks::load(config)?;
    let mut tools: Vec<(Vec<String>, String)> = Vec::new();
    for c in &chains {
        match crate::frameworks::of(&c.spec).gate_tool(args) {
            None => {
                return Err(crate::error::Refused::new(format!(
                    "{}: the gate does not run {} chains yet",
                    c.name(),
                    c.kind()
                ))
                .help("select another chain with --chain NAME")
                .into())
            }
            Some(tool) if !tools.contains(&tool) => tools.push(tool),
            Some(_) => {}
        }
    }
    for (cmd, help) in &tools {
        tool_present(cmd, help)?;
    }
    let mut runs = Vec::new();
    for chain in &chains {
        let db = database_name(&url.database, chain.name());
        let mut run = ChainRun {
            name: chain.name().to_string(),
            database: db.clone(),
            passed: false,
            steps: Vec::new(),
            findings: Vec::new(),
        };
        let created = step(config, &mut run, &format!("create database {db}"), || {
            sql(&mut admin, &format!("CREATE DATABASE \"{db}\""), &url)
        });
        if created {
            let tool = crate::frameworks::of(&chain.spec)
                .gate_tool(args)
                .map(|(cmd, _)| cmd)
                .unwrap_or_default();
            run.passed = round_trip(config, chain, &url, &db, tool, &mut admin, &mut run)?;
            if !args.keep {
                step(config, &mut run, "drop database", || {
                    sql(
                        &mut admin,
                        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
                        &url,
                    )
                });
            }
        }
        report::gate::chain_done(config, &run)?;
        runs.push(run);
    }
    if crate::commands::cluster::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(InputErrors::one(Diag::new(
            "gate",
            None,
            "interrupted; the throwaway server was stopped and deleted",
        ))
        .into());
    }
    report::gate::summary(config, &runs)?;
    Ok(if runs.iter().all(|r| r.passed) {
        ExitStatus::Success
    } else {
        ExitStatus::Problems
    })
}

fn tool_present(cmd: &[String], help: &str) -> Result<()> {
    let found = cmd.first().is_some_and(|c| {
        Command::new(c)
            .args(&cmd[1..])
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found {
        Ok(())
    } else {
        Err(InputErrors::one(Diag::new(
            cmd.join(" "),
            None,
            "not found, or it does not run",
        ))
        .with_help(help)
        .into())
    }
}

/// `<db>_migfix_<chain>_<pid>`, lower case, within Postgres's 63 bytes.
fn database_name(base: &str, chain: &str) -> String {
    let clean = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    let mut name = format!(
        "{}_migfix_{}_{}",
        clean(base),
        clean(chain),
        std::process::id()
    );
    if name.len() > 63 {
        name = format!(
            "migfix_{}_{}",
            clean(chain).chars().take(40).collect::<String>(),
            std::process::id()
        );
    }
    name
}

/// Text from a tool or the server with the URL's credentials masked: every
/// secret value of the URL wherever it appears, then by shape. Values come
/// first: a shape may end inside a value (at a raw space), and what is left
/// of the value would not be found after.
fn mask(text: &str, url: &PgUrl) -> String {
    secrets::mask_shapes(&mask_values(text, url))
}

/// Every occurrence of every secret value of the URL, masked at once: where
/// two overlap (a password that holds a query's tail), both go.
fn mask_values(text: &str, url: &PgUrl) -> String {
    let mut hidden = vec![false; text.len()];
    for s in url.secrets() {
        let mut from = 0;
        while let Some(i) = text[from..].find(&s) {
            let at = from + i;
            hidden[at..at + s.len()].iter_mut().for_each(|h| *h = true);
            from = at + text[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        match (hidden[i], i > 0 && hidden[i - 1]) {
            (false, _) => out.push(c),
            (true, false) => out.push_str(MASK),
            (true, true) => {}
        }
    }
    out
}

fn sql(client: &mut postgres::Client, statement: &str, url: &PgUrl) -> Output {
    match client.batch_execute(statement) {
        Ok(()) => Output {
            ok: true,
            text: String::new(),
        },
        Err(e) => {
            let detail = e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| format!("ERROR:  {}", d.message()));
            Output {
                ok: false,
                text: mask(&detail, url),
            }
        }
    }
}

/// Runs one step, prints it as it goes, and records it.
fn step(config: &Config, run: &mut ChainRun, name: &str, f: impl FnOnce() -> Output) -> bool {
    let full = format!("{} — {name}", run.name);
    let _ = report::gate::step_started(config, &full);
    let started = Instant::now();
    let out = if crate::commands::cluster::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
        Output {
            ok: false,
            text: "interrupted".into(),
        }
    } else {
        f()
    };
    let seconds = started.elapsed().as_secs_f64();
    let tail: Vec<String> = out
        .text
        .lines()
        .rev()
        .take(25)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(String::from)
        .collect();
    let status = if out.ok { "ok" } else { "failed" };
    let _ = report::gate::step_done(config, &full, status, seconds);
    run.steps.push(Step {
        name: full,
        status,
        seconds,
        output_tail: tail,
    });
    if !out.ok {
        run.findings
            .extend(crate::commands::diagnose::explain_log_text(
                config, &out.text,
            ));
    }
    out.ok
}

fn command(
    cmd: &[String],
    args: &[&str],
    dir: &Path,
    env: &[(&str, String)],
    url: &PgUrl,
) -> Output {
    let mut c = Command::new(&cmd[0]);
    c.args(&cmd[1..]).args(args).current_dir(dir);
    for (k, v) in env {
        c.env(k, v);
    }
    match c.output() {
        Ok(o) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            Output {
                ok: o.status.success(),
                text: mask(&text, url),
            }
        }
        Err(e) => Output {
            ok: false,
            text: format!("cannot run {}: {e}", cmd.join(" ")),
        },
    }
}

fn round_trip(
    config: &Config,
    chain: &Chain,
    url: &PgUrl,
    db: &str,
    tool: Vec<String>,
    admin: &mut postgres::Client,
    run: &mut ChainRun,
) -> Result<bool> {
    for role in &chain.spec.roles {
        let block = format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{r}') THEN CREATE ROLE \"{r}\" NOLOGIN; END IF; END $$;",
            r = role.replace('\'', "''")
        );
        if !step(config, run, &format!("create role {role}"), || {
            sql(admin, &block, url)
        }) {
            return Ok(false);
        }
    }
    let mut trip = GateTrip {
        config,
        url,
        db,
        tool,
        run,
    };
    crate::frameworks::of(&chain.spec).round_trip(&mut trip, chain)
}

/// One chain's round trip: where it runs and what it reports to.
struct GateTrip<'a> {
    config: &'a Config,
    url: &'a PgUrl,
    db: &'a str,
    tool: Vec<String>,
    run: &'a mut ChainRun,
}

impl Trip for GateTrip<'_> {
    fn root(&self) -> &Path {
        &self.config.root
    }

    fn url(&self) -> String {
        self.url.for_database(self.db)
    }

    fn db_uri(&self) -> String {
        self.url.db_uri(self.db)
    }

    fn tool_step(
        &mut self,
        label: &str,
        args: &[&str],
        dir: &Path,
        env: &[(&str, String)],
    ) -> bool {
        let (tool, url) = (&self.tool, self.url);
        step(self.config, self.run, label, || {
            command(tool, args, dir, env, url)
        })
    }

    fn sql_step(&mut self, label: &str, statement: &str) -> Result<bool> {
        let (url, db) = (self.url, self.db);
        let mut client = postgres::Client::connect(&url.for_database(db), postgres::NoTls)
            .map_err(|e| {
                anyhow::anyhow!("cannot connect to {db}: {}", mask(&e.to_string(), url))
            })?;
        Ok(step(self.config, self.run, label, || {
            sql(&mut client, statement, url)
        }))
    }

    fn check_step(&mut self, label: &str, ok: bool, why: String) -> bool {
        step(self.config, self.run, label, || Output { ok, text: why })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_swap_database_and_hide_passwords() {
        let u = PgUrl::parse("postgresql://ci:s3cret@127.0.0.1:5433/app?sslmode=disable").unwrap();
        assert_eq!(
            u.shown(),
            "postgresql://ci:***@127.0.0.1:5433/app?sslmode=disable"
        );
        assert_eq!(
            u.for_database("x"),
            "postgresql://ci:s3cret@127.0.0.1:5433/x?sslmode=disable"
        );
        assert_eq!(
            u.db_uri("x"),
            "db:pg://ci:s3cret@127.0.0.1:5433/x?sslmode=disable"
        );
        assert_eq!(mask("password s3cret refused", &u), "password *** refused");
        let bare = PgUrl::parse("postgres://localhost").unwrap();
        assert_eq!(bare.for_database("d"), "postgres://localhost/d");
        assert!(PgUrl::parse("mysql://x/y").is_none());
    }

    #[test]
    fn secret_query_parameters_are_masked_where_the_url_is_shown() {
        let u = PgUrl::parse(
            "postgresql://ci:u5erPass@h:5433/app?sslmode=require&password=s3cr3tQ&pass%77ord=s%33cr3tQ&sslpassword=k3yPass&oauth_client_secret=0authSecret&sslkey=/k.pem&passfile=/p",
        )
        .unwrap();
        assert_eq!(
            u.shown(),
            "postgresql://ci:***@h:5433/app?sslmode=require&password=***&pass%77ord=***&sslpassword=***&oauth_client_secret=***&sslkey=/k.pem&passfile=/p"
        );
        // The tools get the URL as given, but for the database.
        assert_eq!(
            u.for_database("x"),
            "postgresql://ci:u5erPass@h:5433/x?sslmode=require&password=s3cr3tQ&pass%77ord=s%33cr3tQ&sslpassword=k3yPass&oauth_client_secret=0authSecret&sslkey=/k.pem&passfile=/p"
        );
        // In a URL a value runs to the next `&`, quotes and `;` included.
        let quoted = PgUrl::parse("postgres://h/app?password=pa;ss'w\"d&sslmode=require").unwrap();
        assert_eq!(
            quoted.shown(),
            "postgres://h/app?password=***&sslmode=require"
        );
        // An empty value is masked too: the URL does not tell what is set.
        let empty = PgUrl::parse("postgres://h/app?password=&sslmode=disable").unwrap();
        assert_eq!(
            empty.shown(),
            "postgres://h/app?password=***&sslmode=disable"
        );
        // Without a path, the query is still the query.
        let bare = PgUrl::parse("postgres://ci@h:5432?password=s3cr3tQ").unwrap();
        assert_eq!(bare.host, "h:5432");
        assert_eq!(bare.shown(), "postgres://ci@h:5432/postgres?password=***");
        assert_eq!(
            bare.for_database("d"),
            "postgres://ci@h:5432/d?password=s3cr3tQ"
        );
        // An `@` in the query without a path: libpq reads userinfo up to it.
        let odd = PgUrl::parse("postgres://h?password=s3cr3tQ&application_name=a@b").unwrap();
        assert!(!odd.shown().contains("s3cr3tQ"), "{}", odd.shown());
    }

    #[test]
    fn captured_output_loses_every_form_of_every_secret() {
        let u = PgUrl::parse(
            "postgresql://ci:u%35erPass@h/app?pass%77ord=s%33cr3tQ&sslpassword=k3yPass",
        )
        .unwrap();
        let out =
            "user u%35erPass u5erPass; raw s%33cr3tQ decoded s3cr3tQ; ssl k3yPass; again s3cr3tQ!";
        assert_eq!(
            mask(out, &u),
            "user *** ***; raw *** decoded ***; ssl ***; again ***!"
        );
        // A tool echoing the URL, whichever way it spells it.
        assert_eq!(
            mask(&u.for_database("x"), &u),
            "postgresql://ci:***@h/x?pass%77ord=***&sslpassword=***"
        );
        // A longer secret that contains a shorter one leaves nothing behind.
        let nested = PgUrl::parse("postgres://u:abcd@h/d?password=abcdefgh").unwrap();
        assert_eq!(mask("abcdefgh abcd", &nested), "*** ***");
    }

    #[test]
    fn short_secrets_are_masked_as_credentials_only() {
        let u = PgUrl::parse("postgres://ci:a@h/app?password=1").unwrap();
        assert_eq!(u.shown(), "postgres://ci:***@h/app?password=***");
        assert!(u.secrets().is_empty());
        // Not every `a` and `1` of a tool's output...
        let text = "applying 1 migration as ci at h";
        assert_eq!(mask(text, &u), text);
        // ...but the URL, when a tool prints it.
        assert_eq!(
            mask(&format!("cannot use {}", u.for_database("x")), &u),
            "cannot use postgres://ci:***@h/x?password=***"
        );
    }

    #[test]
    fn a_raw_slash_in_the_password_stays_in_the_userinfo() {
        // Issue #29: the password was taken for the host and shown whole.
        let u = PgUrl::parse("postgresql://ci:Sl/7Sl@127.0.0.1:1/db").unwrap();
        assert_eq!(u.host, "127.0.0.1:1");
        assert_eq!(u.shown(), "postgresql://ci:***@127.0.0.1:1/db");
        assert_eq!(u.for_database("x"), "postgresql://ci:Sl/7Sl@127.0.0.1:1/x");
        let at = PgUrl::parse("postgresql://ci:p@ss/w?rd@h/db").unwrap();
        assert_eq!(at.shown(), "postgresql://ci:***@h/db");
        // A regression case of the integration test: a query's tail in the
        // password overlapped it, and masking one left the other's rest.
        let overlap = PgUrl::parse("postgresql://ci:p@ss/w?rd#cr3tQ@h:1/db").unwrap();
        assert_eq!(overlap.shown(), "postgresql://ci:***@h:1/db");
        // An `@` in the query after a path leaves the host where it is.
        let q = PgUrl::parse("postgres://ci@h/app?application_name=a@b").unwrap();
        assert_eq!(q.host, "h");
        assert_eq!(q.shown(), "postgres://ci@h/app?application_name=a@b");
    }

    #[test]
    fn a_password_after_a_fragment_is_masked_in_every_reading() {
        // Issue #29: a tool that cuts the value at `#` printed `A`.
        let u = PgUrl::parse("postgresql://ci@127.0.0.1:1/db?password=AAAA#password=BBBB").unwrap();
        assert_eq!(u.shown(), "postgresql://ci@127.0.0.1:1/db?password=***");
        assert_eq!(
            mask(
                "password AAAA refused, then BBBB, then AAAA#password=BBBB",
                &u
            ),
            "password *** refused, then ***, then ***"
        );
        let v = PgUrl::parse("postgresql://ci@h/db?sslmode=disable#password=BBBB").unwrap();
        assert_eq!(
            v.shown(),
            "postgresql://ci@h/db?sslmode=disable#password=***"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// A password planted in a URL, raw or percent-encoded, is neither
        /// where migfix shows the URL nor in what a tool or libpq echoes.
        #[test]
        fn no_planted_password_is_shown_or_echoed(pw in secrets::any_password()) {
            let enc = secrets::percent_encode(&pw);
            let query = pw.replace('%', "%25").replace('&', "%26");
            let urls = [
                (format!("postgresql://ci:{pw}@127.0.0.1:1/db"), &pw),
                (format!("postgresql://ci:{enc}@127.0.0.1:1/db"), &enc),
                (format!("postgresql://ci@127.0.0.1:1/db?sslmode=disable&password={enc}"), &enc),
                (format!("postgresql://ci@127.0.0.1:1/db?sslmode=disable#password={enc}"), &enc),
                // Raw but for `%` and `&`, which no reader takes for a
                // value's.
                (format!("postgresql://ci@127.0.0.1:1?password={query}"), &query),
            ];
            for (given, written) in urls {
                let Some(u) = PgUrl::parse(&given) else { continue };
                let shown = u.shown();
                proptest::prop_assert!(!shown.contains(&pw) && !shown.contains(&enc), "{given:?} shown as {shown:?}");
                let echoed = format!(
                    "connecting to {given}\nconnecting to {}\npassword {pw} refused\ninvalid percent-encoded token: \"{written}\"\nextra key/value separator \"=\" in URI query parameter: \"password={pw}\"\nunexpected character in URI: \"{}\"",
                    u.for_database("x"),
                    u.db_uri("x"),
                );
                let masked = mask(&echoed, &u);
                proptest::prop_assert!(!masked.contains(&pw) && !masked.contains(&enc), "{given:?} echoed as {masked:?}");
            }
        }
    }

    #[test]
    fn database_names_are_safe() {
        let n = database_name("ci", "console/migrations");
        assert!(n.starts_with("ci_migfix_console_migrations_"));
        assert!(database_name(&"x".repeat(60), "chain").len() <= 63);
    }
}
