//! Issue #28: does migfix's advice hold? For every broken fixture and
//! every simulated incident (built as git history: a base commit, branches,
//! merges), the commands `check --format json` prints are run exactly as
//! printed, round after round, until `check` passes; then the framework's
//! own tool must load the whole repository. After every repair the same
//! four things must hold:
//!
//! (a) the framework's own tool loads the whole repository: every Alembic
//!     `alembic.ini` with one head (tests/oracle/alembic_graph.py), Django's
//!     MigrationLoader with no conflict (tests/oracle/django_graph.py), and
//!     every sqitch project read by `sqitch plan` and App::Sqitch
//!     (tests/oracle/sqitch_plan.pl) with each `project:change` it requires
//!     planned by that project;
//! (b) `check` reports no reference to a missing name, in any chain;
//! (c) the git index alone is the work tree (what `git commit` would
//!     commit is what was checked);
//! (d) the repair's exit status is `check`'s exit status afterwards.
//!
//! This file is the harness; the cases are in advice_alembic.rs,
//! advice_sqitch.rs and advice_django.rs, and the repairs with the chain
//! named every way a user names it in advice_repairs.rs. Each case is one
//! test, so that a failing one runs alone:
//! `cargo test --test integration advice_django::django_dangling_near_miss`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::*;

// ---------------------------------------------------------------------------
// Running commands as CI runs them

/// What one command did.
pub struct Ran {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl Ran {
    pub fn show(&self) -> String {
        format!("exit {}\n{}{}", self.code, self.out, self.err)
    }
}

/// Runs `program` in `cwd` as a CI job does: no terminal, nothing on
/// standard input, CI=true, and only PATH from the environment.
fn exec(program: &Path, args: &[String], cwd: &Path) -> Ran {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    Ran {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn migfix_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_migfix"))
}

/// migfix run from `cwd` (no `-C`: the root is the enclosing work tree).
pub fn migfix_in(cwd: &Path, args: &[&str]) -> Ran {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    exec(&migfix_bin(), &args, cwd)
}

/// Splits a printed command line into words as a POSIX shell splits a
/// simple command: blanks separate words, single quotes keep everything,
/// double quotes keep all but `\"`, `\\`, `\$` and `` \` ``, a backslash
/// outside quotes keeps the next character. Operators (`;`, `&&`, `|`,
/// redirections) are refused: the advice must be one command.
pub fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(format!("unterminated ' in {line:?}")),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err(format!("unterminated \" in {line:?}")),
                        },
                        Some(c) => w.push(c),
                        None => return Err(format!("unterminated \" in {line:?}")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err(format!("trailing backslash in {line:?}")),
            },
            ';' | '&' | '|' | '<' | '>' | '`' | '$' | '(' | ')' => {
                return Err(format!(
                    "{line:?} is not one simple command (it has {c:?} outside quotes)"
                ))
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(w) = word {
        words.push(w);
    }
    if words.is_empty() {
        return Err("an empty command".to_string());
    }
    Ok(words)
}

/// Runs one step of advice exactly as printed, from `root`: `migfix ...`
/// is this build of migfix, anything else (`git mv ...`) the program of
/// that name. A migfix command that asks for confirmation (it cannot ask
/// without a terminal, and says to pass `--yes`) is run again with `--yes`
/// when it has none. Returns the words run and what the last run did.
fn run_printed(root: &Path, line: &str) -> Result<(Vec<String>, Ran), String> {
    let mut words = shell_words(line)?;
    let program = if words[0] == "migfix" {
        migfix_bin()
    } else {
        PathBuf::from(&words[0])
    };
    let ran = exec(&program, &words[1..], root);
    let has_yes = words[1..].iter().any(|w| w == "--yes" || w == "-y");
    if words[0] == "migfix" && ran.code != 0 && !has_yes && ran.err.contains("--yes") {
        words.push("--yes".to_string());
        let again = exec(&program, &words[1..], root);
        return Ok((words, again));
    }
    Ok((words, ran))
}

/// Whether a migfix command line writes (a repair whose exit status must
/// agree with `check`'s).
fn is_repair(words: &[String]) -> bool {
    words[0] == "migfix"
        && words.iter().any(|w| {
            matches!(
                w.as_str(),
                "renumber" | "repoint" | "merge-heads" | "rebase" | "recover" | "undo"
            )
        })
        && !words.iter().any(|w| w == "--dry-run")
}

// ---------------------------------------------------------------------------
// (b), (c), (d): what migfix and git say

/// `migfix --format json check` from the root, whole repository: exit
/// status, JSON, and the text output for the record.
pub fn check(root: &Path) -> (i32, Value, String) {
    let json = migfix_in(root, &["--format", "json", "check"]);
    let text = migfix_in(root, &["check"]);
    let value = serde_json::from_str(&json.out)
        .unwrap_or_else(|e| panic!("check JSON: {e}\n{}", json.show()));
    assert_eq!(json.code, text.code, "check exits alike in JSON and text");
    (json.code, value, format!("{}{}", text.out, text.err))
}

fn findings(check: &Value) -> Vec<&Value> {
    check["findings"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// A finding as one line.
fn finding_line(f: &Value) -> String {
    format!(
        "{} {}:{}: {} (command: {}{})",
        f["kind"].as_str().unwrap_or("?"),
        f["path"].as_str().unwrap_or("-"),
        f["line"],
        f["message"].as_str().unwrap_or(""),
        f["command"],
        f.get("then")
            .map(|t| format!(", then: {t}"))
            .unwrap_or_default()
    )
}

/// Findings about a reference to a name that does not exist: an Alembic
/// `down_revision`/`depends_on`, a Django dependency, a sqitch requirement
/// (of this project or of another).
pub fn dangling(check: &Value) -> Vec<String> {
    findings(check)
        .into_iter()
        .filter(|f| {
            let kind = f["kind"].as_str().unwrap_or("");
            let message = f["message"].as_str().unwrap_or("");
            kind.starts_with("dangling")
                || (kind == "sqitch-dependency"
                    && (message.contains("which is not planned") || message.contains("plans no")))
        })
        .map(finding_line)
        .collect()
}

fn git_dir(root: &Path) -> PathBuf {
    PathBuf::from(git(root, &["rev-parse", "--absolute-git-dir"]).trim())
}

/// (c) The tree git's index holds is the work tree: `git write-tree` of the
/// index, and of a copy of the index after `git add -A`.
pub fn index_is_work_tree(root: &Path) -> Result<(), String> {
    let staged = git(root, &["write-tree"]).trim().to_string();
    let copy = tempfile::NamedTempFile::new().unwrap();
    std::fs::copy(git_dir(root).join("index"), copy.path()).unwrap();
    let with_copy = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(root)
            .env("GIT_INDEX_FILE", copy.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    with_copy(&["add", "-A"]);
    let worked = with_copy(&["write-tree"]);
    if staged == worked {
        return Ok(());
    }
    Err(format!(
        "the index is not the work tree (what `git commit` commits is not what was written):\n{}",
        git(root, &["status", "--short"])
    ))
}

// ---------------------------------------------------------------------------
// (a): the frameworks' own tools

/// What the frameworks' own tools are asked about a repository, besides
/// every alembic.ini and sqitch.conf found in it.
#[derive(Clone, Copy, Default)]
pub struct Whole {
    /// The Django project of fixtures/django-shop (apps shop and payments).
    pub django: bool,
    /// sqitch projects (folders of their sqitch.conf) to deploy, in this
    /// order, to one fresh SQLite database (their scripts run on SQLite).
    pub deploy: &'static [&'static str],
}

/// Files called `name` below `root`, outside .git, sorted.
fn files_named(root: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if e.file_name() != ".git" {
                    stack.push(p);
                }
            } else if e.file_name() == name {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap().display().to_string()
}

/// Alembic, as the `alembic` command reads each alembic.ini from its
/// folder: the map builds, with one head and no warning about a revision.
fn alembic_loads(root: &Path, why: &mut Vec<String>) {
    for ini in files_named(root, "alembic.ini") {
        let dir = ini.parent().unwrap();
        let Some(v) = crate::oracle::alembic_graph(&["--ini", ini.to_str().unwrap()], dir) else {
            return;
        };
        let name = rel(root, &ini);
        if let Some(e) = v.get("error") {
            why.push(format!("Alembic cannot load {name}: {e}"));
            continue;
        }
        let heads = v["heads"].as_array().unwrap();
        if heads.len() != 1 {
            why.push(format!("Alembic: {name} has {} heads: {v:#}", heads.len()));
        }
        // Warnings about the graph (a revision present twice, a missing
        // one), not about the configuration (`path_separator`).
        let warnings: Vec<&Value> = v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w.as_str().is_some_and(|w| w.contains("evision")))
            .collect();
        if !warnings.is_empty() {
            why.push(format!("Alembic warns on {name}: {warnings:?}"));
        }
    }
}

/// Django's MigrationLoader: the graph builds, with no conflict.
fn django_loads(root: &Path, why: &mut Vec<String>) {
    let Some(theirs) = crate::django::oracle("graph", root, &crate::django::shop_apps(), &[])
    else {
        return;
    };
    if let Some(e) = theirs.get("error") {
        why.push(format!("Django cannot build the graph: {e}"));
        return;
    }
    let conflicts = crate::django::their_conflicts(&theirs);
    if !conflicts.is_empty() {
        why.push(format!("Django finds conflicts: {conflicts:?}"));
    }
}

/// sqitch: `sqitch plan` reads every project's plan, App::Sqitch parses it
/// and deploy would not stop at a conflict, and every requirement on
/// another project names a change (or tag) that project plans. The
/// projects in `deploy` are deployed and verified.
fn sqitch_loads(root: &Path, deploy: &[&str], why: &mut Vec<String>) {
    let confs = files_named(root, "sqitch.conf");
    if confs.is_empty() || !crate::sqitch_real::sqitch_installed() {
        return;
    }
    // project -> the names and tags it plans
    let mut planned: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    // (the requiring change, App::Sqitch's requirement)
    let mut external: Vec<(String, Value)> = Vec::new();
    for conf in &confs {
        let dir = conf.parent().unwrap();
        let name = rel(root, dir);
        if let Err(e) = crate::sqitch_real::sqitch(dir, None, &["plan", "--no-pager"]) {
            why.push(e);
        }
        let Some(o) = crate::sqitch_oracle::sqitch_oracle_with(dir, &[]) else {
            continue;
        };
        if let Some(e) = o.get("error") {
            why.push(format!("App::Sqitch cannot read {name}: {e}"));
            continue;
        }
        if !o["deploy_error"].is_null() {
            why.push(format!(
                "sqitch deploy refuses {name}: {}",
                o["deploy_error"]
            ));
        }
        let changes = o["changes"].as_array().unwrap();
        let names = changes
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        let tags = o["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect();
        planned.insert(o["project"].as_str().unwrap().to_string(), (names, tags));
        for c in changes {
            for r in c["requires"].as_array().unwrap() {
                let dependency = r["dependency"].as_str().unwrap().to_string();
                if r["external"] == true {
                    external.push((
                        format!("{name}: {}", c["name"].as_str().unwrap()),
                        r.clone(),
                    ));
                } else if let Some(e) = r.get("error") {
                    why.push(format!(
                        "sqitch: {name}: {} requires {dependency}: {e}",
                        c["name"]
                    ));
                }
            }
        }
    }
    for (at, r) in external {
        let dependency = r["dependency"].as_str().unwrap();
        let project = r["project"].as_str().unwrap_or("").to_string();
        let change = r["change"].as_str().map(String::from);
        let tag = r["tag"].as_str().map(String::from);
        let Some((names, tags)) = planned.get(&project) else {
            why.push(format!(
                "sqitch: {at} requires {dependency}: no plan in the repository is project {project}"
            ));
            continue;
        };
        if let Some(c) = change.filter(|c| !c.is_empty()) {
            if !names.contains(&c) {
                why.push(format!(
                    "sqitch: {at} requires {dependency}: project {project} plans no change {c}"
                ));
            }
        }
        if let Some(t) = tag {
            let t = if t.starts_with('@') {
                t
            } else {
                format!("@{t}")
            };
            if !tags.contains(&t) {
                why.push(format!(
                    "sqitch: {at} requires {dependency}: project {project} has no tag {t}"
                ));
            }
        }
    }
    if deploy.is_empty() {
        return;
    }
    let db = tempfile::tempdir().unwrap();
    let target = format!("db:sqlite:{}", db.path().join("deploy.db").display());
    for project in deploy {
        if let Err(e) =
            crate::sqitch_real::sqitch(&root.join(project), None, &["deploy", "--verify", &target])
        {
            why.push(e);
            return;
        }
    }
}

/// (a) Every framework's own tool on the whole repository.
pub fn whole_repo_loads(root: &Path, whole: Whole) -> Result<(), String> {
    let mut why = Vec::new();
    alembic_loads(root, &mut why);
    if whole.django {
        django_loads(root, &mut why);
    }
    sqitch_loads(root, whole.deploy, &mut why);
    if why.is_empty() {
        Ok(())
    } else {
        Err(why.join("\n"))
    }
}

/// (a)–(d) after a repair that exited `repair_code` (`None`: not after a
/// repair, (d) is not asked). Returns what does not hold.
pub fn what_fails(root: &Path, whole: Whole, repair_code: Option<i32>) -> Vec<String> {
    let mut why = Vec::new();
    // Before the oracles, which import the revision files.
    if let Err(e) = index_is_work_tree(root) {
        why.push(format!("(c) {e}"));
    }
    let (code, json, text) = check(root);
    let d = dangling(&json);
    if !d.is_empty() {
        why.push(format!(
            "(b) references to missing names:\n  {}",
            d.join("\n  ")
        ));
    }
    if let Some(rc) = repair_code {
        if rc != code {
            why.push(format!(
                "(d) the repair exited {rc}, check exits {code}:\n{text}"
            ));
        }
    }
    if let Err(e) = whole_repo_loads(root, whole) {
        why.push(format!("(a) {e}"));
    }
    why
}

// ---------------------------------------------------------------------------
// Incidents as git history

/// A repository in a temporary folder, named after what it holds (a
/// chain's name can be its folder's).
pub struct Repo {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
}

impl Repo {
    /// `fixtures/FIXTURE` as the folder `name`, changed by `edit`, then
    /// committed on `main`.
    pub fn new(fixture_path: &str, name: &str, edit: impl FnOnce(&Path)) -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join(name);
        copy_tree(&fixture(fixture_path), &root);
        edit(&root);
        git_init(&root);
        Repo { _tmp: tmp, root }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn write(&self, rel: &str, text: &str) {
        write_tree(&self.root, &[(rel, text)]);
    }

    pub fn commit(&self, message: &str) {
        git(&self.root, &["add", "-A"]);
        git(&self.root, &["commit", "-qm", message]);
    }

    /// A branch off the current commit, made by `work` and committed; back
    /// on the branch it left.
    pub fn branch(&self, name: &str, work: impl FnOnce(&Repo)) {
        let from = git(&self.root, &["rev-parse", "--abbrev-ref", "HEAD"]);
        git(&self.root, &["checkout", "-qb", name]);
        work(self);
        self.commit(name);
        git(&self.root, &["checkout", "-q", from.trim()]);
    }

    /// Merges a branch into the current one, as a pull request is merged.
    pub fn merge(&self, name: &str) {
        git(&self.root, &["merge", "--no-ff", "--no-edit", "-q", name]);
    }
}

/// A file's text, read from `fixtures/`.
pub fn fixture_text(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Removes files from a tree being prepared.
pub fn remove(root: &Path, rels: &[&str]) {
    for r in rels {
        std::fs::remove_file(root.join(r)).unwrap_or_else(|e| panic!("{r}: {e}"));
    }
}

// ---------------------------------------------------------------------------
// Following the advice

/// What the incident must look like to `check` before any advice is
/// followed: the kinds of finding it reports, and what it suggests for a
/// reference to a missing name.
pub struct Premise {
    pub kinds: &'static [&'static str],
    pub hint: Hint,
}

/// The "did you mean" of a reference to a missing name.
pub enum Hint {
    /// Not asked.
    Any,
    /// None: nothing is near.
    No,
    /// This one, the name the reference meant.
    Names(&'static str),
}

/// The steps a finding advises: its `command`, then each of `then`.
fn steps_of(f: &Value) -> Vec<String> {
    let mut steps: Vec<String> = f["command"]
        .as_str()
        .map(String::from)
        .into_iter()
        .collect();
    if let Some(then) = f.get("then").and_then(Value::as_array) {
        steps.extend(then.iter().map(|s| s.as_str().unwrap_or("").to_string()));
    }
    steps
}

/// Follows `check`'s advice on the repository at `root` for up to five
/// rounds: the first finding that has a `command` is acted on, its command
/// run and then each of its `then` steps. Fails with the whole transcript
/// unless check ends passing and (a)–(d) hold after every step.
pub fn follow_advice(root: &Path, whole: Whole, premise: Premise) {
    let mut log = String::new();
    let mut why: Vec<String> = Vec::new();
    let (code, first, _) = check(root);
    if premise.kinds.is_empty() {
        if code != 0 {
            why.push("premise: check passes before any repair".to_string());
        }
    } else if code != 1 {
        why.push(format!("premise: check fails (exit 1), it exits {code}"));
    }
    let kinds: BTreeSet<&str> = findings(&first)
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    for k in premise.kinds {
        if !kinds.contains(k) {
            why.push(format!("premise: check reports {k}; it reports {kinds:?}"));
        }
    }
    let hints: Vec<String> = dangling(&first)
        .iter()
        .filter_map(|m| m.split("did you mean ").nth(1))
        .map(|h| h.split(['?', ' ']).next().unwrap_or("").to_string())
        .collect();
    match premise.hint {
        Hint::Any => {}
        Hint::No if hints.is_empty() => {}
        Hint::Names(name) if hints.iter().any(|h| h == name) => {}
        Hint::No => why.push(format!(
            "premise: nothing is near the missing name, check suggests {hints:?}"
        )),
        Hint::Names(name) => why.push(format!(
            "premise: check suggests {name} for the missing name; it suggests {hints:?}: {:?}",
            dangling(&first)
        )),
    }
    let mut passed = false;
    for round in 1..=5 {
        let (code, json, text) = check(root);
        log.push_str(&format!(
            "--- round {round}\n$ migfix check\n{text}exit {code}\n"
        ));
        if code == 0 {
            passed = true;
            break;
        }
        if code != 1 {
            why.push(format!("round {round}: check exits {code}"));
            break;
        }
        let all = findings(&json);
        let Some(f) = all.iter().find(|f| f["command"].is_string()) else {
            why.push(format!(
                "round {round}: check fails and none of its findings has a command to run:\n  {}",
                all.iter()
                    .map(|f| finding_line(f))
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
            break;
        };
        let steps = steps_of(f);
        let before = tree_bytes(root);
        let mut stuck = false;
        for step in &steps {
            let (words, ran) = match run_printed(root, step) {
                Ok(r) => r,
                Err(e) => {
                    why.push(format!("round {round}: {e}"));
                    stuck = true;
                    break;
                }
            };
            log.push_str(&format!("$ {}\n{}", words.join(" "), ran.show()));
            if is_repair(&words) {
                let (after, _, text) = check(root);
                if after != ran.code {
                    why.push(format!(
                        "round {round}: (d) `{}` exited {}, check exits {after} after it:\n{text}",
                        words.join(" "),
                        ran.code
                    ));
                }
                if let Err(e) = index_is_work_tree(root) {
                    why.push(format!(
                        "round {round}: (c) after `{}`: {e}",
                        words.join(" ")
                    ));
                }
            }
        }
        if stuck {
            break;
        }
        if tree_bytes(root) == before {
            why.push(format!(
                "round {round}: following the advice changed nothing ({})",
                steps.join(" ; ")
            ));
            break;
        }
    }
    if passed {
        why.extend(what_fails(root, whole, None));
        // The reference now names what it meant, not merely something.
        if let Hint::Names(name) = premise.hint {
            let short = name.rsplit('.').next().unwrap();
            for f in findings(&first) {
                let kind = f["kind"].as_str().unwrap_or("");
                let Some(path) = f["path"].as_str().filter(|_| kind.starts_with("dangling")) else {
                    continue;
                };
                let text = std::fs::read_to_string(root.join(path)).unwrap_or_default();
                if !text.contains(&format!("'{short}'")) && !text.contains(&format!("\"{short}\""))
                {
                    why.push(format!(
                        "{path} does not name {name} after the repair:\n{text}"
                    ));
                }
            }
        }
    } else {
        why.push("check does not pass after following its advice".to_string());
    }
    assert!(why.is_empty(), "{}\n\ntranscript:\n{log}", why.join("\n"));
}

// ---------------------------------------------------------------------------
// Stories the cases share

/// The kinds a fork is reported as.
pub const HEADS: &[&str] = &["multiple-heads"];

/// The queue project of fixtures/healthy (its scripts deploy on SQLite
/// too).
pub const QUEUE: &str = "queue/migrations/sqitch";

pub const QUEUE_WHOLE: Whole = Whole {
    django: false,
    deploy: &[QUEUE],
};

/// fixtures/healthy, its queue plan merged with `merge=union` (as sqitch
/// advises).
pub fn healthy_queue() -> Repo {
    Repo::new("healthy", "raxx", |root| {
        std::fs::write(
            root.join(QUEUE).join(".gitattributes"),
            "sqitch.plan merge=union\n",
        )
        .unwrap();
    })
}

/// A change appended to a plan, with scripts (`sql` is one statement on
/// the `table`'s `column`, for SQLite and Postgres alike), as `sqitch add`
/// writes it.
pub fn add_change(
    r: &Repo,
    plan_dir: &str,
    name: &str,
    requires: &str,
    stamp: &str,
    table_column: (&str, &str),
) {
    let plan = r.path(plan_dir).join("sqitch.plan");
    let mut text = std::fs::read_to_string(&plan).unwrap();
    let deps = if requires.is_empty() {
        String::new()
    } else {
        format!("[{requires}] ")
    };
    text.push_str(&format!(
        "{name} {deps}{stamp} dev <dev@raxx.app> # {name}\n"
    ));
    std::fs::write(&plan, text).unwrap();
    let project = plan_dir.rsplit('/').next().unwrap();
    let (table, column) = table_column;
    for (dir, body, end) in [
        (
            "deploy",
            format!("ALTER TABLE {table} ADD COLUMN {column} TEXT;"),
            "COMMIT",
        ),
        (
            "revert",
            format!("ALTER TABLE {table} DROP COLUMN {column};"),
            "COMMIT",
        ),
        (
            "verify",
            format!("SELECT {column} FROM {table} WHERE FALSE;"),
            "ROLLBACK",
        ),
    ] {
        r.write(
            &format!("{plan_dir}/{dir}/{name}.sql"),
            &format!("-- {dir} {project}:{name}\n\nBEGIN;\n\n{body}\n\n{end};\n"),
        );
    }
}

/// chef-server's enterprise_chef project; oss_chef is its `baseline`.
pub const CHEF: &str = "src/oc_erchef/schema";

/// fixtures/sqitch-real/chef-server, both plans merged with `merge=union`.
pub fn chef() -> Repo {
    Repo::new("sqitch-real/chef-server", "chef-server", |root| {
        for d in [CHEF.to_string(), format!("{CHEF}/baseline")] {
            std::fs::write(
                root.join(d).join(".gitattributes"),
                "sqitch.plan merge=union\n",
            )
            .unwrap();
        }
    })
}

/// enterprise_chef gains a change requiring `oss_chef:...`.
pub fn chef_requires(r: &Repo, requires: &str) {
    add_change(
        r,
        CHEF,
        "index_roles_name",
        requires,
        "2026-06-20T09:00:00Z",
        ("roles", "name_index"),
    );
}

/// Django: fixtures/django-shop (apps shop, and payments in the folder
/// billing).
pub const DJANGO: Whole = Whole {
    django: true,
    deploy: &[],
};

/// A migration of no operation.
pub fn django_migration(deps: &[(&str, &str)]) -> String {
    let deps: String = deps
        .iter()
        .map(|(app, name)| format!("        ('{app}', '{name}'),\n"))
        .collect();
    format!("from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n{deps}    ]\n\n    operations = [\n    ]\n")
}

// ---------------------------------------------------------------------------
// The harness itself

#[test]
fn a_findings_steps_are_its_command_then_each_of_then() {
    let f = serde_json::json!({"command": "migfix renumber a.py", "then": ["migfix --chain c merge-heads", "git mv x y"]});
    assert_eq!(
        steps_of(&f),
        [
            "migfix renumber a.py",
            "migfix --chain c merge-heads",
            "git mv x y"
        ]
    );
    assert_eq!(
        steps_of(&serde_json::json!({"command": "migfix renumber a.py"})),
        ["migfix renumber a.py"]
    );
}

#[test]
fn shell_words_split_as_a_shell_does() {
    assert_eq!(
        shell_words("migfix --chain 'a b' renumber \"x\\\"y\" c\\ d").unwrap(),
        ["migfix", "--chain", "a b", "renumber", "x\"y", "c d"]
    );
    assert_eq!(
        shell_words("  git  mv a  b ").unwrap(),
        ["git", "mv", "a", "b"]
    );
    assert!(shell_words("migfix check && rm -rf x").is_err());
    assert!(shell_words("migfix 'open").is_err());
}

/// The checks fail where they must, so that a case passing means something:
/// Alembic with two heads or a missing parent, Django with a conflict,
/// sqitch requiring a change its project does not plan, an index that is
/// not the work tree.
#[test]
fn the_checks_see_what_they_must() {
    let oracles = std::env::var_os("MIGFIX_PYTHON").is_some();
    let r = Repo::new("incident-2026-06-05", "raxx", |_| {});
    if oracles {
        let e = whole_repo_loads(&r.root, Whole::default()).unwrap_err();
        assert!(
            e.contains("Alembic: console/migrations/alembic.ini has 2 heads"),
            "{e}"
        );
    }
    assert_eq!(index_is_work_tree(&r.root), Ok(()));
    let f = "console/migrations/versions/0001_initial_schema.py";
    r.write(f, &format!("{}\n", r.read(f)));
    assert!(index_is_work_tree(&r.root).is_err(), "a change not staged");
    git(&r.root, &["add", f]);
    assert_eq!(index_is_work_tree(&r.root), Ok(()));
    r.write("console/migrations/versions/0149_x.py", "");
    assert!(
        index_is_work_tree(&r.root).is_err(),
        "a new file not staged"
    );

    let r = Repo::new("dangling", "console", |_| {});
    assert!(!dangling(&check(&r.root).1).is_empty());
    if oracles {
        let e = whole_repo_loads(&r.root, Whole::default()).unwrap_err();
        assert!(
            e.contains("Alembic cannot load migrations/alembic.ini"),
            "{e}"
        );
        let r = Repo::new("django-shop", "django-shop", |_| {});
        let e = whole_repo_loads(&r.root, DJANGO).unwrap_err();
        assert!(e.contains("Django finds conflicts"), "{e}");
    }
    if crate::sqitch_real::sqitch_installed() {
        let r = chef();
        chef_requires(&r, "oss_chef:rolse");
        r.commit("rolse");
        assert!(!dangling(&check(&r.root).1).is_empty());
        let e = whole_repo_loads(&r.root, Whole::default()).unwrap_err();
        assert!(
            e.contains("requires oss_chef:rolse: project oss_chef plans no change rolse"),
            "{e}"
        );
        let r = healthy_queue();
        add_change(
            &r,
            QUEUE,
            "08-x",
            "01-job-queu",
            "2026-06-20T09:00:00Z",
            ("jobs", "x"),
        );
        let e = whole_repo_loads(&r.root, Whole::default()).unwrap_err();
        assert!(e.contains("sqitch [\"plan\", \"--no-pager\"]"), "{e}");
    }
}
