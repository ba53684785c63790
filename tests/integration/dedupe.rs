//! `migfix dedupe CHANGE`: a sqitch change declared twice with no tag
//! between keeps its first declaration, byte for byte, through the repair
//! write flow.

use crate::common::*;

const PLAN: &str = "queue/migrations/sqitch/sqitch.plan";

/// fixtures/healthy's queue plan, in git, with `lines` appended (CRLF
/// line ends where `crlf`) and scripts for each change they name.
fn queue_with(lines: &[&str], crlf: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("healthy"), dir.path());
    let plan = dir.path().join(PLAN);
    let mut text = std::fs::read_to_string(&plan).unwrap();
    for line in lines {
        text.push_str(line);
        text.push('\n');
        let name = line
            .split([' ', '\t'])
            .next()
            .unwrap()
            .trim_start_matches(['+', '-']);
        for d in ["deploy", "revert", "verify"] {
            write_tree(
                dir.path(),
                &[(
                    &format!("queue/migrations/sqitch/{d}/{name}.sql"),
                    "SELECT 1;\n",
                )],
            );
        }
    }
    if crlf {
        text = text.replace('\n', "\r\n");
    }
    std::fs::write(&plan, text).unwrap();
    git_init(dir.path());
    dir
}

const OWNER_A: &str =
    "08-job-owner [01-job-queue] 2026-06-20T09:00:00Z ann <ann@raxx.app> # job owners";
const OWNER_B: &str =
    "08-job-owner [01-job-queue 03-dead-letter-jobs 02-job-attempts] 2026-06-21T11:30:00Z bo <bo@raxx.app> # job owners";

/// The command `check` prints for the duplicate, as arguments.
fn printed_command(dir: &std::path::Path) -> Vec<String> {
    let (code, out, err) = run(dir, &["--format", "json", "check"]);
    assert_eq!(code, 1, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let found: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "sqitch-duplicate")
        .collect();
    assert_eq!(found.len(), 1, "{out}");
    let command = found[0]["command"].as_str().expect("a command");
    assert_eq!(
        command,
        "migfix --chain queue/migrations/sqitch dedupe 08-job-owner"
    );
    command.split(' ').skip(1).map(String::from).collect()
}

/// The later line goes with its line end; the first stays byte for byte
/// (sqitch knows a deployed change by a hash of its line), and what only
/// the later one listed is named.
#[test]
fn the_later_declaration_goes_and_the_first_stays_as_it_is() {
    for crlf in [false, true] {
        let dir = queue_with(&[OWNER_A, OWNER_B], crlf);
        let plan = dir.path().join(PLAN);
        let before = std::fs::read(&plan).unwrap();
        let mut args = printed_command(dir.path());
        args.push("--yes".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(dir.path(), &args);
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            out.contains("line 13 also listed `03-dead-letter-jobs`, `02-job-attempts`; line 12 is kept as it is"),
            "{out}"
        );
        let eol = if crlf { "\r\n" } else { "\n" };
        let want = String::from_utf8(before)
            .unwrap()
            .replace(&format!("{OWNER_B}{eol}"), "");
        assert_eq!(
            String::from_utf8(std::fs::read(&plan).unwrap()).unwrap(),
            want
        );
        index_holds_everything(dir.path());
        let (code, out, _) = run(dir.path(), &["check"]);
        assert_eq!(code, 0, "{out}");
    }
}

/// A change declared three times keeps one declaration.
#[test]
fn three_declarations_keep_one() {
    let dir = queue_with(&[OWNER_A, OWNER_B, OWNER_A], false);
    let (code, out, err) = run(dir.path(), &["dedupe", "08-job-owner", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(dir.path().join(PLAN)).unwrap();
    assert_eq!(text.matches("08-job-owner").count(), 1, "{text}");
    assert!(text.ends_with(&format!("{OWNER_A}\n")), "{text}");
}

/// A change declared once, and one reworked after a tag, are not
/// duplicates: exit 2, naming where it looked.
#[test]
fn nothing_to_dedupe_is_an_input_error() {
    let dir = queue_with(&[OWNER_A], false);
    let before = tree_bytes(dir.path());
    for name in ["08-job-owner", "01-job-queue", "no-such-change"] {
        let (code, out, err) = run(dir.path(), &["dedupe", name, "--yes"]);
        assert_eq!(code, 2, "{out}{err}");
        assert!(
            err.contains(&format!("no change `{name}` declared twice in")),
            "{err}"
        );
    }
    assert_eq!(tree_bytes(dir.path()), before);
}

/// `+name` and `-name` (deployed, then reverted): which one holds is the
/// team's call, so no command and a refusal naming the line.
#[test]
fn declarations_that_disagree_are_refused() {
    let reverted =
        "-08-job-owner [01-job-queue] 2026-06-21T11:30:00Z bo <bo@raxx.app> # job owners";
    let dir = queue_with(&[OWNER_A, reverted], false);
    let before = tree_bytes(dir.path());
    let (code, out, _) = run(dir.path(), &["--format", "json", "check"]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("dedupe"), "{out}");
    let (code, out, err) = run(dir.path(), &["dedupe", "08-job-owner", "--yes"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("sqitch.plan:13"), "{err}");
    assert_eq!(tree_bytes(dir.path()), before);
}
