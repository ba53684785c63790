//! Where sqitch plans are found and how sqitch.conf is read: targets,
//! engines and `[core]`, resolved as sqitch resolves them.

use std::path::{Path, PathBuf};

use super::PROFILE;
use crate::cli::Global;
use crate::config::discover::{chain_name, read_text, Found, Markers};
use crate::config::ini::{git_config_get, Ini};
use crate::config::{clean, rel, user_path, ChainSpec, Source, TomlChain};
use crate::error::Diag;

pub(super) const MARKERS: Markers = Markers {
    files: &["sqitch.plan", "sqitch.conf"],
    dirs: &[],
};

/// The keys of a migfix.toml table of a sqitch chain.
pub(super) const TABLE_KEYS: &[&str] = &["plan"];

#[derive(Debug, Clone)]
pub(crate) struct SqitchSpec {
    pub plan: PathBuf,
    pub conf: Option<PathBuf>,
    pub deploy_dir: PathBuf,
    pub revert_dir: PathBuf,
    pub verify_dir: PathBuf,
    /// Where the scripts of a reworked change's older versions live
    /// (`reworked_dir`); the script folders themselves unless configured.
    pub reworked_deploy_dir: PathBuf,
    pub reworked_revert_dir: PathBuf,
    pub reworked_verify_dir: PathBuf,
    pub extension: String,
    /// Other `sqitch.plan` files under this project's sqitch.conf that
    /// sqitch does not read (it reads `plan` only).
    pub unread_plans: Vec<PathBuf>,
}

impl Source for SqitchSpec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn location(&self) -> PathBuf {
        self.plan.clone()
    }

    fn config_file(&self) -> Option<PathBuf> {
        self.conf.clone()
    }

    /// Scripts may live anywhere the configuration puts them.
    fn folders(&self, root: &Path) -> Vec<PathBuf> {
        vec![root.to_path_buf()]
    }
}

/// sqitch reads the plans its sqitch.conf names. A plan elsewhere below a
/// sqitch.conf that names another plan is left over, not read; a plan with
/// no sqitch.conf above it is read with sqitch's defaults.
pub(super) fn discover(root: &Path, found: &Found) -> (Vec<ChainSpec>, Vec<Diag>) {
    let mut errors = Vec::new();
    let confs = found.named("sqitch.conf");
    let mut specs: Vec<SqitchSpec> = Vec::new();
    for conf in confs {
        match sqitch_layouts(conf) {
            Ok(layouts) => specs.extend(layouts.into_iter().filter(|l| l.plan.is_file())),
            Err(mut d) => {
                d.file = rel(root, conf);
                errors.push(d);
            }
        }
    }
    for plan in found.named("sqitch.plan") {
        if specs.iter().any(|s| s.plan == *plan) {
            continue;
        }
        let plan_dir = plan.parent().unwrap_or(root);
        let governing = confs
            .iter()
            .filter(|c| c.parent().is_some_and(|d| plan_dir.starts_with(d)))
            .max_by_key(|c| c.as_os_str().len());
        match governing.and_then(|c| specs.iter_mut().find(|s| s.conf.as_ref() == Some(c))) {
            Some(owner) => owner.unread_plans.push(plan.clone()),
            None => specs.push(SqitchSpec::with_defaults(plan.clone(), plan_dir)),
        }
    }
    specs.sort_by(|a, b| a.plan.cmp(&b.plan));
    let chains = specs
        .into_iter()
        .map(|s| sqitch_chain_spec(root, s))
        .collect();
    (chains, errors)
}

/// `--plan FILE`: each plan a chain.
pub(super) fn from_flags(root: &Path, cwd: &Path, global: &Global) -> (Vec<ChainSpec>, Vec<Diag>) {
    let (mut chains, mut errors) = (Vec::new(), Vec::new());
    for plan in &global.plan {
        let abs = user_path(root, cwd, plan);
        if !abs.is_file() {
            errors.push(Diag::new(
                plan.display().to_string(),
                None,
                "--plan: no such file",
            ));
            continue;
        }
        match sqitch_for_plan(root, &abs) {
            Ok(spec) => chains.push(spec),
            Err(d) => errors.push(d),
        }
    }
    (chains, errors)
}

/// A `[[chain]]` table: its `plan`.
pub(super) fn from_table(
    root: &Path,
    t: &TomlChain,
    at: &dyn Fn(String) -> Diag,
) -> Result<ChainSpec, Diag> {
    let Some(plan) = &t.plan else {
        return Err(at("a sqitch chain needs `plan`".into()));
    };
    let plan = root.join(plan);
    if plan.is_file() {
        sqitch_for_plan(root, &plan)
    } else {
        Err(at(format!("`plan`: {} is not a file", rel(root, &plan))))
    }
}

impl SqitchSpec {
    /// A project laid out by sqitch's defaults below `top`.
    pub fn with_defaults(plan: PathBuf, top: &Path) -> SqitchSpec {
        SqitchSpec {
            plan,
            conf: None,
            deploy_dir: top.join("deploy"),
            revert_dir: top.join("revert"),
            verify_dir: top.join("verify"),
            reworked_deploy_dir: top.join("deploy"),
            reworked_revert_dir: top.join("revert"),
            reworked_verify_dir: top.join("verify"),
            extension: "sql".into(),
            unread_plans: Vec::new(),
        }
    }

    /// The deploy, revert and verify folders, for a reworked change's
    /// older version or for the others.
    pub fn script_dirs(&self, reworked: bool) -> [&Path; 3] {
        if reworked {
            [
                &self.reworked_deploy_dir,
                &self.reworked_revert_dir,
                &self.reworked_verify_dir,
            ]
        } else {
            [&self.deploy_dir, &self.revert_dir, &self.verify_dir]
        }
    }
}

/// The plans a sqitch.conf makes sqitch read, each with its script
/// folders, resolved as sqitch's `Target` does: every key is looked up in
/// `[target "NAME"]`, then `[engine "ENGINE"]`, then `[core]`, and paths are
/// relative to the folder sqitch runs in, the one holding sqitch.conf. The
/// default target comes first; other `[target]` sections follow where they
/// name a plan or folders of their own.
pub(crate) fn sqitch_layouts(conf: &Path) -> Result<Vec<SqitchSpec>, Diag> {
    let dir = conf.parent().unwrap_or(Path::new("."));
    let text =
        read_text(conf).map_err(|(line, m)| Diag::new(conf.display().to_string(), line, m))?;
    let ini = Ini::parse_git(&text)
        .map_err(|e| Diag::new(conf.display().to_string(), Some(e.line), e.message))?;
    let get = |section: &str, key: &str| {
        git_config_get(&ini, section, key)
            .map(|e| e.value.clone())
            .filter(|v| !v.is_empty())
    };
    let core_engine = get("core", "engine");
    let default_target = get("core", "target").or_else(|| {
        core_engine
            .as_ref()
            .and_then(|e| get(&format!("engine.{e}"), "target"))
    });
    let mut targets: Vec<Option<String>> = vec![default_target.filter(|t| !t.contains(':'))];
    for (section, _) in &ini.sections {
        if let Some(name) = section
            .strip_prefix("target")
            .filter(|r| r.starts_with(char::is_whitespace))
        {
            let name = name.trim().trim_matches('"').to_string();
            if !targets.contains(&Some(name.clone())) {
                targets.push(Some(name));
            }
        }
    }
    let mut out: Vec<SqitchSpec> = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let t_section = target.as_ref().map(|t| format!("target.{t}"));
        // The engine: core.engine, or the scheme of the target's URI (`db:pg:…`).
        let engine = core_engine.clone().or_else(|| {
            let uri = t_section.as_ref().and_then(|s| get(s, "uri"))?;
            uri.strip_prefix("db:")?
                .split(':')
                .next()
                .map(str::to_string)
        });
        let fetch = |key: &str| {
            t_section
                .as_ref()
                .and_then(|s| get(s, key))
                .or_else(|| {
                    engine
                        .as_ref()
                        .and_then(|e| get(&format!("engine.{e}"), key))
                })
                .or_else(|| get("core", key))
        };
        // A non-default target counts only where it changes where things are.
        let own = |key: &str| t_section.as_ref().and_then(|s| get(s, key)).is_some();
        if i > 0
            && ![
                "plan_file",
                "top_dir",
                "deploy_dir",
                "revert_dir",
                "verify_dir",
            ]
            .iter()
            .any(|k| own(k))
        {
            continue;
        }
        let top = clean(&dir.join(fetch("top_dir").unwrap_or_else(|| ".".into())));
        let plan = fetch("plan_file").map_or_else(|| top.join("sqitch.plan"), |p| dir.join(p));
        let mut spec = SqitchSpec::with_defaults(clean(&plan), &top);
        spec.conf = Some(conf.to_path_buf());
        for (key, slot) in [
            ("deploy_dir", &mut spec.deploy_dir),
            ("revert_dir", &mut spec.revert_dir),
            ("verify_dir", &mut spec.verify_dir),
        ] {
            if let Some(p) = fetch(key) {
                *slot = clean(&dir.join(p));
            }
        }
        let reworked_top = fetch("reworked_dir").map(|p| clean(&dir.join(p)));
        for (key, script, slot) in [
            (
                "reworked_deploy_dir",
                "deploy",
                &mut spec.reworked_deploy_dir,
            ),
            (
                "reworked_revert_dir",
                "revert",
                &mut spec.reworked_revert_dir,
            ),
            (
                "reworked_verify_dir",
                "verify",
                &mut spec.reworked_verify_dir,
            ),
        ] {
            *slot = match (fetch(key), &reworked_top) {
                (Some(p), _) => clean(&dir.join(p)),
                (None, Some(top)) => top.join(script),
                (None, None) => top.join(script),
            };
        }
        if let Some(ext) = fetch("extension") {
            spec.extension = ext;
        }
        if !out.iter().any(|o| o.plan == spec.plan) {
            out.push(spec);
        }
    }
    Ok(out)
}

/// The chain for one sqitch plan, with the sqitch.conf that names it: in
/// the plan's folder or any folder above it, up to the root.
pub(crate) fn sqitch_for_plan(root: &Path, plan: &Path) -> Result<ChainSpec, Diag> {
    let plan_dir = plan.parent().unwrap_or(root);
    let same = |a: &Path, b: &Path| a.canonicalize().ok() == b.canonicalize().ok();
    let mut found = None;
    for dir in plan_dir.ancestors() {
        let conf = dir.join("sqitch.conf");
        if conf.is_file() {
            let layouts = sqitch_layouts(&conf).map_err(|mut d| {
                d.file = rel(root, &conf);
                d
            })?;
            if let Some(spec) = layouts.into_iter().find(|l| same(&l.plan, plan)) {
                found = Some(spec);
                break;
            }
        }
        if dir == root {
            break;
        }
    }
    let mut spec = found.unwrap_or_else(|| SqitchSpec::with_defaults(plan.to_path_buf(), plan_dir));
    spec.plan = clean(plan);
    Ok(sqitch_chain_spec(root, spec))
}

fn sqitch_chain_spec(root: &Path, spec: SqitchSpec) -> ChainSpec {
    let plan_dir = spec.plan.parent().unwrap_or(root).to_path_buf();
    ChainSpec::new(chain_name(root, &plan_dir), &PROFILE, spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqitch_layouts_resolve_target_then_engine_then_core() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("sqitch.conf");
        std::fs::write(
            &conf,
            "[core]\n\tengine = pg\n\ttop_dir = sql\n[engine \"pg\"]\n\ttarget = prod\n\tdeploy_dir = sql/dep\n\
             [target \"prod\"]\n\turi = db:pg://x/prod\n\tplan_file = sql/prod.plan\n\
             [target \"ci\"]\n\turi = db:pg://x/ci\n\ttop_dir = ci\n\treworked_dir = ci/old\n\
             [target \"other\"]\n\turi = db:pg://x/other\n",
        )
        .unwrap();
        let specs = sqitch_layouts(&conf).unwrap();
        let d = |p: &str| dir.path().join(p);
        let got: Vec<_> = specs
            .iter()
            .map(|s| {
                (
                    s.plan.clone(),
                    s.deploy_dir.clone(),
                    s.revert_dir.clone(),
                    s.reworked_deploy_dir.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    d("sql/prod.plan"),
                    d("sql/dep"),
                    d("sql/revert"),
                    d("sql/deploy")
                ),
                (
                    d("ci/sqitch.plan"),
                    d("sql/dep"),
                    d("ci/revert"),
                    d("ci/old/deploy")
                ),
            ],
            "the default target first; a target with no folders of its own adds nothing"
        );
    }
}
