//! Where sqitch plans are found and how sqitch.conf is read: targets,
//! engines and `[core]`, resolved as sqitch resolves them.

use std::path::{Path, PathBuf};

use super::targets::{all_targets, Target};
use super::PROFILE;
use crate::cli::Global;
use crate::config::discover::{chain_name, read_text, Found, Markers};
use crate::config::ini::Ini;
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
    /// The targets that read the plan with these folders, as a user knows
    /// them (a target's name, or an engine's), sqitch's default first.
    pub readers: Vec<String>,
    /// Their engines (`pg`, `sqlite`), where known.
    pub engines: Vec<String>,
    /// Other `sqitch.plan` files under this project's sqitch.conf that no
    /// target or engine of it reads, with the plans its targets do read.
    pub unread_plans: Vec<PathBuf>,
    pub conf_plans: Vec<PathBuf>,
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

/// sqitch reads the plans its sqitch.conf's targets and engines name: each
/// plan with its script folders is a chain. A plan elsewhere below a
/// sqitch.conf that names others is left over, not read; a plan with no
/// sqitch.conf above it is read with sqitch's defaults.
pub(super) fn discover(root: &Path, found: &Found) -> (Vec<ChainSpec>, Vec<Diag>) {
    let mut errors = Vec::new();
    let confs = found.named("sqitch.conf");
    let mut specs: Vec<SqitchSpec> = Vec::new();
    for conf in confs {
        match sqitch_layouts(conf) {
            Ok(layouts) => {
                for layout in layouts.into_iter().filter(|l| l.plan.is_file()) {
                    if !specs.iter().any(|s| s.same_layout(&layout)) {
                        specs.push(layout);
                    }
                }
            }
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
    let read: Vec<(Option<PathBuf>, PathBuf)> = specs
        .iter()
        .map(|s| (s.conf.clone(), s.plan.clone()))
        .collect();
    for spec in specs.iter_mut().filter(|s| !s.unread_plans.is_empty()) {
        for (conf, plan) in &read {
            if *conf == spec.conf && !spec.conf_plans.contains(plan) {
                spec.conf_plans.push(plan.clone());
            }
        }
    }
    specs.sort_by(|a, b| a.plan.cmp(&b.plan));
    let names = chain_names(root, &specs);
    let chains = specs
        .into_iter()
        .zip(names)
        .map(|(s, name)| ChainSpec::new(name, &PROFILE, s))
        .collect();
    (chains, errors)
}

/// A chain's name: the folder of its plan, as for the other frameworks;
/// the plan's path where one folder holds several chains; and that path
/// with the target or engine that reads it (`db/sqitch.plan#sqlite`) where
/// targets read one plan with different script folders.
fn chain_names(root: &Path, specs: &[SqitchSpec]) -> Vec<String> {
    let folder = |s: &SqitchSpec| chain_name(root, s.plan.parent().unwrap_or(root));
    specs
        .iter()
        .map(|s| {
            if specs.iter().filter(|o| folder(o) == folder(s)).count() == 1 {
                return folder(s);
            }
            let path = rel(root, &s.plan);
            if specs.iter().filter(|o| o.plan == s.plan).count() == 1 {
                return path;
            }
            format!(
                "{path}#{}",
                s.readers.first().map_or("core", String::as_str)
            )
        })
        .collect()
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
    at: &dyn Fn(&str, String) -> Diag,
) -> Result<ChainSpec, Diag> {
    let Some(plan) = &t.plan else {
        return Err(at("", "a sqitch chain needs `plan`".into()));
    };
    let plan = root.join(plan);
    if plan.is_file() {
        sqitch_for_plan(root, &plan)
    } else {
        Err(at(
            "plan",
            format!("`plan`: {} is not a file", rel(root, &plan)),
        ))
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
            readers: Vec::new(),
            engines: Vec::new(),
            unread_plans: Vec::new(),
            conf_plans: Vec::new(),
        }
    }

    /// Whether two targets read the same plan with the same scripts.
    pub fn same_layout(&self, other: &SqitchSpec) -> bool {
        self.plan == other.plan
            && self.script_dirs(false) == other.script_dirs(false)
            && self.script_dirs(true) == other.script_dirs(true)
            && self.extension == other.extension
    }

    /// Another target that reads the plan with these folders.
    fn add_reader(&mut self, target: &Target) {
        let label = target.label();
        if !self.readers.contains(&label) {
            self.readers.push(label);
        }
        if let Some(engine) = &target.engine {
            if !self.engines.contains(engine) {
                self.engines.push(engine.clone());
            }
        }
    }

    /// The plan's path as sqitch names it in its messages: from the folder
    /// it runs in, the one holding sqitch.conf.
    pub fn plan_as_sqitch_shows_it(&self) -> String {
        match self.conf.as_deref().and_then(Path::parent) {
            Some(dir) => rel(dir, &self.plan),
            None => self.plan.file_name().map_or_else(
                || "sqitch.plan".into(),
                |n| n.to_string_lossy().into_owned(),
            ),
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
/// folders and the targets that read it so, resolved as sqitch's `Target`
/// does for every target `all_targets` lists: every key is looked up in
/// `[target "NAME"]`, then `[engine "ENGINE"]` (the engine of the target's
/// URI), then `[core]`, and paths are relative to the folder sqitch runs
/// in, the one holding sqitch.conf. The default target's comes first.
pub(crate) fn sqitch_layouts(conf: &Path) -> Result<Vec<SqitchSpec>, Diag> {
    let dir = conf.parent().unwrap_or(Path::new("."));
    let text =
        read_text(conf).map_err(|(line, m)| Diag::new(conf.display().to_string(), line, m))?;
    let ini = Ini::parse_git(&text)
        .map_err(|e| Diag::new(conf.display().to_string(), Some(e.line), e.message))?;
    let mut targets = all_targets(&ini);
    if targets.is_empty() {
        // No engine anywhere: `sqitch deploy db:ENGINE:…` still reads [core].
        targets.push(Target {
            name: String::new(),
            engine: None,
        });
    }
    let mut out: Vec<SqitchSpec> = Vec::new();
    for target in &targets {
        let mut spec = layout(dir, &ini, target);
        spec.conf = Some(conf.to_path_buf());
        match out.iter_mut().find(|o| o.same_layout(&spec)) {
            Some(known) => known.add_reader(target),
            None => {
                spec.add_reader(target);
                out.push(spec);
            }
        }
    }
    Ok(out)
}

/// Where one target finds its plan and scripts.
fn layout(dir: &Path, ini: &Ini, target: &Target) -> SqitchSpec {
    let fetch = |key: &str| target.fetch(ini, key);
    let top = clean(&dir.join(fetch("top_dir").unwrap_or_else(|| ".".into())));
    let plan = fetch("plan_file").map_or_else(|| top.join("sqitch.plan"), |p| dir.join(p));
    let mut spec = SqitchSpec::with_defaults(clean(&plan), &top);
    for (key, slot) in [
        ("deploy_dir", &mut spec.deploy_dir),
        ("revert_dir", &mut spec.revert_dir),
        ("verify_dir", &mut spec.verify_dir),
    ] {
        if let Some(p) = fetch(key) {
            *slot = clean(&dir.join(p));
        }
    }
    let reworked_top = fetch("reworked_dir").map_or_else(|| top.clone(), |p| clean(&dir.join(p)));
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
        *slot = fetch(key).map_or_else(|| reworked_top.join(script), |p| clean(&dir.join(p)));
    }
    if let Some(ext) = fetch("extension") {
        spec.extension = ext;
    }
    spec
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
                (
                    d("sql/sqitch.plan"),
                    d("sql/dep"),
                    d("sql/revert"),
                    d("sql/deploy")
                ),
            ],
            "the default target first; a target with no keys of its own reads its engine's and core's"
        );
        let readers: Vec<_> = specs.iter().map(|s| s.readers.clone()).collect();
        assert_eq!(readers, [["prod"], ["ci"], ["other"]]);
    }

    #[test]
    fn targets_that_read_one_plan_alike_are_one_layout() {
        // hackworthltd/primer's sqitch.conf: an engine per folder.
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("sqitch.conf");
        std::fs::write(
            &conf,
            "[core]\n\tengine = pg\n# [engine \"pg\"]\n\t# target = db:pg:\n[engine \"pg\"]\n\ttarget = db:pg:\n\ttop_dir = pg\n\
             [engine \"sqlite\"]\n\ttarget = db:sqlite:\n\ttop_dir = sqlite\n\
             [target \"ci\"]\n\turi = db:sqlite:ci.db\n",
        )
        .unwrap();
        let specs = sqitch_layouts(&conf).unwrap();
        let got: Vec<_> = specs
            .iter()
            .map(|s| {
                (
                    s.plan.clone(),
                    s.deploy_dir.clone(),
                    s.readers.clone(),
                    s.engines.clone(),
                )
            })
            .collect();
        let d = |p: &str| dir.path().join(p);
        assert_eq!(
            got,
            [
                (
                    d("pg/sqitch.plan"),
                    d("pg/deploy"),
                    vec!["pg".to_string()],
                    vec!["pg".to_string()]
                ),
                (
                    d("sqlite/sqitch.plan"),
                    d("sqlite/deploy"),
                    vec!["ci".to_string(), "sqlite".to_string()],
                    vec!["sqlite".to_string()]
                ),
            ]
        );
    }
}
