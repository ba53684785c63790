//! migfix's reading of sqitch plans against sqitch's own: random plans with
//! reworks, tags, dependencies and conflicts, compared change by change with
//! what App::Sqitch computes (`tests/oracle/sqitch_plan.pl`): whether the
//! plan parses at all and deploys past its conflicts, change ids, script
//! paths and what each requirement means.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use serde_json::Value;

use crate::common::*;

/// App::Sqitch's view of the project in `dir`, or `None` without sqitch.
pub fn sqitch_oracle(dir: &Path) -> Option<Value> {
    sqitch_oracle_with(dir, &[])
}

/// The same with more arguments: a target (`TARGET`), or `--targets` for
/// every target of the configuration.
pub fn sqitch_oracle_with(dir: &Path, args: &[&str]) -> Option<Value> {
    let script = repo().join("tests/oracle/sqitch_plan.pl");
    let out = Command::new("perl")
        .arg(&script)
        .args(["-C", dir.to_str().unwrap(), "--compact"])
        .args(args)
        .env("SQITCH_USER_CONFIG", "/dev/null")
        .env("SQITCH_SYSTEM_CONFIG", "/dev/null")
        .output();
    let out = match out {
        Ok(o)
            if o.status.code() != Some(127)
                && !String::from_utf8_lossy(&o.stderr).contains("Can't locate App/Sqitch") =>
        {
            o
        }
        _ => {
            if std::env::var("MIGFIX_REQUIRE_ORACLES").is_ok_and(|v| v == "1") {
                panic!("App::Sqitch is not installed; run the tests through tests/run.sh");
            }
            return None;
        }
    };
    Some(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "oracle output: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    }))
}

/// migfix's JSON for `args` in `dir`.
fn json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = run(dir, &all);
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}")),
    )
}

/// A plan built from random steps: a new change, a rework of an earlier
/// name, or a tag; requirements on earlier names, plain or `name@tag`,
/// valid or not. Script files exist for the newest instances and, at
/// random, for older ones under any tag.
#[derive(Debug, Clone)]
struct Case {
    plan: String,
    scripts: Vec<String>,
}

const NAMES: &[&str] = &["users", "roles/web/grants", "flips", "app_schema"];

fn case_strategy() -> impl Strategy<Value = Case> {
    let step = (0u8..6, 0usize..8, 0usize..8, any::<bool>());
    (
        prop::collection::vec(step, 2..16),
        prop::collection::vec(any::<bool>(), 64),
    )
        .prop_map(|(steps, files)| {
            let ts = |i: usize| format!("2026-06-{:02}T00:00:{:02}Z", 1 + i / 60, i % 60);
            let mut plan = String::from("%syntax-version=1.0.0\n%project=flipr\n\n");
            let mut planned: Vec<&str> = Vec::new();
            let mut since_tag: Vec<&str> = Vec::new();
            let mut tags: Vec<String> = Vec::new();
            for (i, (op, a, b, note)) in steps.into_iter().enumerate() {
                let note = if note {
                    format!(" # step {i}")
                } else {
                    String::new()
                };
                if op == 5 && !since_tag.is_empty() {
                    let tag = format!("v1.{}", tags.len());
                    plan.push_str(&format!(
                        "@{tag} {} Marge <marge@example.com>{note}\n",
                        ts(i)
                    ));
                    tags.push(tag);
                    since_tag.clear();
                    continue;
                }
                let name = NAMES[a % NAMES.len()];
                if since_tag.contains(&name) {
                    continue;
                }
                let dep = match (
                    op,
                    planned.get(b % planned.len().max(1)),
                    tags.get(b % tags.len().max(1)),
                ) {
                    (1 | 2, Some(d), _) => format!(" [{d}]"),
                    (3, Some(d), Some(t)) => format!(" [{d}@{t}]"),
                    (4, Some(d), _) => format!(" [flipr:{d} !{}]", NAMES[(b + 1) % NAMES.len()]),
                    _ => String::new(),
                };
                plan.push_str(&format!(
                    "{name}{dep} {} Marge N. O\u{2019}Vera <marge@example.com>{note}\n",
                    ts(i)
                ));
                planned.push(name);
                since_tag.push(name);
            }
            let mut scripts: Vec<String> = NAMES.iter().map(|n| format!("{n}.sql")).collect();
            let mut k = 0;
            for n in NAMES {
                for t in &tags {
                    if files[k % files.len()] {
                        scripts.push(format!("{n}@{t}.sql"));
                    }
                    k += 1;
                }
            }
            Case { plan, scripts }
        })
}

fn write_case(dir: &Path, case: &Case) {
    std::fs::write(dir.join("sqitch.conf"), "[core]\n\tengine = sqlite\n").unwrap();
    std::fs::write(dir.join("sqitch.plan"), &case.plan).unwrap();
    for d in ["deploy", "revert", "verify"] {
        for s in &case.scripts {
            let p = dir.join(d).join(s);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "SELECT 1;\n").unwrap();
        }
    }
}

/// Compares migfix's reading of chain `chain` of the repository at `root`
/// with sqitch's, run in `oracle_dir`; `Err` says how they differ.
pub fn agrees(root: &Path, chain: &str, oracle_dir: &Path) -> Result<(), String> {
    agrees_for(root, chain, oracle_dir, None)
}

/// The same for one target of the configuration (sqitch's default without
/// one): the chain must be the plan that target reads, with its scripts.
pub fn agrees_for(
    root: &Path,
    chain: &str,
    oracle_dir: &Path,
    target: Option<&str>,
) -> Result<(), String> {
    let Some(oracle) = sqitch_oracle_with(oracle_dir, target.as_slice()) else {
        return Ok(());
    };
    let json = |args: &[&str]| {
        let mut all = vec!["--chain", chain];
        all.extend_from_slice(args);
        json(root, &all)
    };
    let (code, check) = json(&["check"]);
    let plan_errors: Vec<&Value> = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["kind"]
                .as_str()
                .is_some_and(|k| k.starts_with("sqitch-") && !k.contains("script"))
        })
        .collect();
    if let Some(err) = oracle.get("error") {
        return if plan_errors.is_empty() {
            Err(format!(
                "sqitch refuses the plan ({err}), migfix check does not"
            ))
        } else {
            Ok(())
        };
    }
    // A plan sqitch reads may still be refused by deploy, for its conflicts
    // only: then migfix must say so, and nothing else.
    if let Some(err) = oracle.get("deploy_error").filter(|e| !e.is_null()) {
        let conflicts = plan_errors
            .iter()
            .filter(|f| f["kind"] == "sqitch-conflict")
            .count();
        return if conflicts == 0 || conflicts != plan_errors.len() {
            Err(format!(
                "sqitch deploy refuses the plan ({err}), migfix check says: {check}"
            ))
        } else {
            Ok(())
        };
    }
    if !plan_errors.is_empty() {
        return Err(format!(
            "sqitch reads and deploys the plan, migfix check fails it: {check}"
        ));
    }
    // Whether check fails is then a matter of missing deploy scripts only.
    let deploy_missing = oracle["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["deploy_exists"] == false);
    if (code != 0) != deploy_missing {
        return Err(format!(
            "check exits {code}, sqitch misses a deploy script: {deploy_missing}: {check}"
        ));
    }
    let (_, history) = json(&["history"]);
    // The oracle's paths are relative to where it ran, migfix's to the root.
    let prefix = oracle_dir
        .strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let from_root = |p: &str| {
        if prefix.is_empty() {
            p.to_string()
        } else {
            format!("{prefix}/{p}")
        }
    };
    let plan_file = from_root(oracle["plan_file"].as_str().unwrap());
    if history["chains"][0]["root"] != plan_file.as_str() {
        return Err(format!(
            "sqitch reads {plan_file}, chain {chain} is {}",
            history["chains"][0]["root"]
        ));
    }
    let mut revs: Vec<&Value> = history["chains"][0]["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    revs.sort_by_key(|r| r["line"].as_u64());
    let changes = oracle["changes"].as_array().unwrap();
    if revs.len() != changes.len() {
        return Err(format!(
            "{} changes in migfix, {} in sqitch",
            revs.len(),
            changes.len()
        ));
    }
    for (r, c) in revs.iter().zip(changes) {
        let scripts: Vec<&str> = r["scripts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let want = [&c["deploy_file"], &c["revert_file"], &c["verify_file"]]
            .map(|v| from_root(v.as_str().unwrap()));
        if r["change_id"] != c["id"] || scripts != want {
            return Err(format!(
                "{}: migfix {} {scripts:?}, sqitch {} {want:?}",
                c["name"], r["change_id"], c["id"]
            ));
        }
        let id = r["id"].as_str().unwrap();
        let dir = if c["is_reworked"] == true {
            &oracle["reworked_deploy_dir"]
        } else {
            &oracle["deploy_dir"]
        };
        let file = c["deploy_file"].as_str().unwrap();
        let expected_id = file
            .strip_prefix(&format!("{}/", dir.as_str().unwrap()))
            .and_then(|f| f.strip_suffix(&format!(".{}", oracle["extension"].as_str().unwrap())))
            .unwrap_or_else(|| panic!("{file} in {dir}"));
        if id != expected_id {
            return Err(format!(
                "migfix names the change {id}, its scripts are {expected_id}"
            ));
        }
        // Each requirement on this plan points at the change sqitch means.
        let deps: Vec<&str> = r["depends_on"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        for (dep, req) in deps.iter().zip(c["requires"].as_array().unwrap()) {
            if let Some(to) = req["resolves_to"].as_u64() {
                let target = revs[to as usize]["id"].as_str().unwrap();
                if dep != &target {
                    return Err(format!(
                        "{id} requires {}: migfix means {dep}, sqitch {target}",
                        req["dependency"]
                    ));
                }
            }
        }
        if deps.len() != c["requires"].as_array().unwrap().len() {
            return Err(format!(
                "{id}: requirements differ: {deps:?} vs {}",
                c["requires"]
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_plans_read_as_sqitch_reads_them(case in case_strategy()) {
        let dir = tempfile::tempdir().unwrap();
        write_case(dir.path(), &case);
        let name = dir.path().file_name().unwrap().to_string_lossy().into_owned();
        if let Err(why) = agrees(dir.path(), &name, dir.path()) {
            prop_assert!(false, "{why}\nplan:\n{}\nscripts: {:?}", case.plan, case.scripts);
        }
    }
}
