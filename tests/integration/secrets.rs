//! Credentials in `--database-url` never reach migfix's output: not in
//! errors, not in a step's captured output, not in JSON. Every secret here
//! ends in `cr3tQ`, so that a leak of any form of it, or of most of it, is
//! caught by one check.

use std::path::Path;

use crate::common::*;

const SECRET_TAIL: &str = "cr3tQ";

fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(name), dir.path());
    dir
}

/// `migfix -C dir gate --database-url url extra...`: exit code, stdout, stderr.
fn gate(dir: &Path, url: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["gate", "--database-url", url];
    args.extend_from_slice(extra);
    run(dir, &args)
}

fn assert_no_secret(what: &str, out: &str, err: &str) {
    for (stream, text) in [("stdout", out), ("stderr", err)] {
        assert!(
            !text.contains(SECRET_TAIL) && !text.contains("u5erPassW"),
            "{what}: a secret on {stream}:\n{text}"
        );
    }
}

#[test]
fn unreachable_urls_show_every_credential_masked() {
    let dir = copy_of("failing/f-duplicate-table");
    // The URL, and how the error shows it.
    let cases = [
        (
            "postgresql://ci@127.0.0.1:1/postgres?password=s3cr3tQ",
            "postgresql://ci@127.0.0.1:1/postgres?password=***: cannot connect",
        ),
        (
            "postgresql://ci@127.0.0.1:1/postgres?sslmode=disable&sslpassword=s3cr3tQ",
            "postgresql://ci@127.0.0.1:1/postgres?sslmode=disable&sslpassword=***: cannot connect",
        ),
        (
            "postgresql://ci@127.0.0.1:1/postgres?pass%77ord=s%33cr3tQ&application_name=gate",
            "postgresql://ci@127.0.0.1:1/postgres?pass%77ord=***&application_name=gate: cannot connect",
        ),
        (
            "postgresql://ci:s%33cr3tQ@127.0.0.1:1/postgres",
            "postgresql://ci:***@127.0.0.1:1/postgres: cannot connect",
        ),
        (
            "postgresql://ci:u5erPassW@127.0.0.1:1?password=s3cr3tQ",
            "postgresql://ci:***@127.0.0.1:1/postgres?password=***: cannot connect",
        ),
        // Issue #29: a raw `/` in the password, and a `#` in the query.
        (
            "postgresql://ci:Sl/7cr3tQ@127.0.0.1:1/postgres",
            "postgresql://ci:***@127.0.0.1:1/postgres: cannot connect",
        ),
        (
            "postgresql://ci@127.0.0.1:1/postgres?password=s3cr3tQ#password=u5erPassW",
            "postgresql://ci@127.0.0.1:1/postgres?password=***: cannot connect",
        ),
        (
            "postgresql://ci@127.0.0.1:1/postgres?sslmode=disable#password=s3cr3tQ",
            "postgresql://ci@127.0.0.1:1/postgres?sslmode=disable#password=***: cannot connect",
        ),
        (
            "postgresql://ci:p@ss/w?rd#cr3tQ@127.0.0.1:1/postgres",
            "postgresql://ci:***@127.0.0.1:1/postgres: cannot connect",
        ),
    ];
    for (url, shown) in cases {
        for extra in [&[][..], &["--format", "json"][..]] {
            let (code, out, err) = gate(dir.path(), url, extra);
            assert_eq!(code, 2, "{url} {extra:?}: {out}{err}");
            assert!(err.contains(shown), "{url} {extra:?}: {err}");
            assert_no_secret(url, &out, &err);
        }
    }
}

#[test]
fn a_key_value_connection_string_is_refused_without_echoing_it() {
    let dir = copy_of("failing/f-duplicate-table");
    let (code, out, err) = gate(
        dir.path(),
        "host=127.0.0.1 port=1 user=ci password=s3cr3tQ",
        &[],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("--database-url: expected postgresql://"),
        "{err}"
    );
    assert_no_secret("key=value", &out, &err);
}

#[test]
fn diagnose_masks_credentials_in_the_lines_it_quotes() {
    let dir = copy_of("failing/f-duplicate-table");
    let log = dir.path().join("deploy.log");
    std::fs::write(
        &log,
        "Running migrations\nsqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not connect to postgresql://ci:s3cr3tQ@db:5432/app?sslpassword=k3ycr3tQ&sslmode=require\n",
    )
    .unwrap();
    for extra in [&[][..], &["--format", "json"][..]] {
        let mut args = vec!["diagnose", "--log", log.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (code, out, err) = run(dir.path(), &args);
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            out.contains("postgresql://ci:***@db:5432/app?sslpassword=***&sslmode=require"),
            "the error line is quoted, masked: {out}"
        );
        assert_no_secret("diagnose", &out, &err);
    }
}

/// The suite's server with a userinfo password and a percent-encoded
/// `password` parameter added; the server trusts its users (tests/run.sh),
/// so it accepts both.
fn with_secrets(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let rest = match rest.split_once('@') {
        Some((user, host)) if !user.contains(':') => format!("{user}:u5erPassW@{host}"),
        _ => rest.to_string(),
    };
    let sep = if rest.contains('?') { '&' } else { '?' };
    format!("{scheme}://{rest}{sep}pass%77ord=s%33cr3tQ")
}

/// Stands in for alembic: says whether it was given the real URL, prints
/// it, and the password raw and decoded, as a tool that echoes its
/// connection might; then fails.
const FAKE_ALEMBIC: &str = r#"
[ "$1" = --version ] && { echo "alembic 0.0"; exit 0; }
case "$DATABASE_URL" in
    *:u5erPassW@*pass%77ord=s%33cr3tQ) echo "given the real URL: yes" ;;
    *) echo "given the real URL: no" ;;
esac
value=${DATABASE_URL##*=}
printf 'connecting to %s\n' "$DATABASE_URL"
printf 'raw %s decoded %b\n' "$value" "${value//%/\\x}"
echo 'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) FATAL: refused' >&2
exit 1
"#;

#[test]
fn a_failing_step_that_prints_the_password_shows_it_masked() {
    let Some(server) = crate::postgres::url() else {
        return;
    };
    let url = with_secrets(&server);
    let dir = copy_of("failing/f-duplicate-table");
    let tool = tempfile::tempdir().unwrap();
    let fake = tool.path().join("alembic");
    std::fs::write(&fake, FAKE_ALEMBIC).unwrap();
    let alembic = format!("bash {}", fake.display());

    let (code, out, err) = gate(dir.path(), &url, &["--alembic", &alembic]);
    assert_eq!(code, 1, "{out}{err}");
    assert_no_secret("text", &out, &err);
    for shown in [
        "given the real URL: yes",
        ":***@127.0.0.1:",
        "?pass%77ord=***",
        "raw *** decoded ***",
    ] {
        assert!(out.contains(shown), "{shown}: {out}");
    }

    let (code, out, err) = gate(
        dir.path(),
        &url,
        &["--alembic", &alembic, "--format", "json"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert_no_secret("json", &out, &err);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let failed = v["chains"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "failed")
        .unwrap_or_else(|| panic!("a failed step: {out}"));
    let tail: Vec<&str> = failed["output_tail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(tail.contains(&"raw *** decoded ***"), "{tail:?}");
    assert!(tail.contains(&"given the real URL: yes"), "{tail:?}");
}

/// `%XX` for every byte that is not unreserved, as a client writes it.
pub(crate) fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

proptest::proptest! {
    #![proptest_config(crate::fuzz::config(30))]

    /// A random password (printable ASCII, `/ @ : ? # % & = '` included,
    /// and beyond), planted raw or percent-encoded in the userinfo, in the
    /// query and after a `#`, with another scheme, an IPv6 host or several
    /// hosts, is printed by `gate` in no form, in text or JSON, when the
    /// server cannot be reached.
    #[test]
    fn no_planted_password_reaches_the_gates_output(pw in "[!-~éß密🔑]{8,16}") {
        static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
        let dir = DIR.get_or_init(|| copy_of("failing/f-duplicate-table"));
        let enc = percent_encode(&pw);
        let query = pw.replace('%', "%25").replace('&', "%26");
        let urls = [
            format!("postgresql://ci:{pw}@127.0.0.1:1/postgres"),
            format!("postgresql://ci:{enc}@127.0.0.1:1/postgres"),
            format!("postgresql://ci@127.0.0.1:1/postgres?sslmode=disable&password={enc}"),
            format!("postgresql://ci@127.0.0.1:1/postgres?application_name=x#password={query}"),
            format!("postgresql://ci@127.0.0.1:1?password={query}"),
            format!("postgres://ci:{pw}@[::1]:1/postgres?connect_timeout=1"),
            format!("postgresql://ci:{enc}@127.0.0.1:1,127.0.0.1:2/postgres"),
            format!("postgresql://ci:{pw}@127.0.0.1:1/postgres?sslpassword={query}#x"),
        ];
        let json = serde_json::to_string(&pw).unwrap();
        let forms = [pw.as_str(), enc.as_str(), query.as_str(), &json[1..json.len() - 1]];
        for url in &urls {
            for extra in [&["--format", "text"][..], &["--format", "json"][..]] {
                let (code, out, err) = gate(dir.path(), url, extra);
                proptest::prop_assert_eq!(code, 2, "{} {:?}: {}{}", url, extra, out, err);
                for form in forms {
                    proptest::prop_assert!(
                        !out.contains(form) && !err.contains(form),
                        "{:?} {:?} shows {:?}:\n{}{}", url, extra, form, out, err
                    );
                }
            }
        }
    }
}

/// Stands in for alembic: reads the URL as a tool that cuts it at `#`
/// would, and prints both passwords it finds; then fails.
const FAKE_ALEMBIC_FRAGMENT: &str = r#"
[ "$1" = --version ] && { echo "alembic 0.0"; exit 0; }
query=${DATABASE_URL#*\?}
first=${query%%#*}
printf 'first %s\n' "${first#password=}"
printf 'second %s\n' "${DATABASE_URL##*#password=}"
exit 1
"#;

#[test]
fn a_password_before_and_after_a_fragment_is_masked_in_captured_output() {
    // Issue #29: a tool that cut the value at `#` printed the first one.
    let Some(server) = crate::postgres::url() else {
        return;
    };
    let url = format!("{server}?password=s3cr3tQ#password=u5erPassW");
    let dir = copy_of("failing/f-duplicate-table");
    let tool = tempfile::tempdir().unwrap();
    let fake = tool.path().join("alembic");
    std::fs::write(&fake, FAKE_ALEMBIC_FRAGMENT).unwrap();
    let alembic = format!("bash {}", fake.display());
    for extra in [&["--format", "text"][..], &["--format", "json"][..]] {
        let mut args = vec!["--alembic", alembic.as_str()];
        args.extend_from_slice(extra);
        let (code, out, err) = gate(dir.path(), &url, &args);
        assert_eq!(code, 1, "{out}{err}");
        assert_no_secret("fragment", &out, &err);
        for shown in ["first ***", "second ***"] {
            assert!(out.contains(shown), "{shown}: {out}");
        }
    }
}
