//! Turns the command line, migfix.toml and the files below the root into a
//! checked [`Config`]: where every chain lives and how to read it.

mod discover;
pub(crate) mod ini;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::cli::{ColorChoice, Format, Global};
use crate::error::{Diag, InputErrors};

#[derive(Debug)]
pub(crate) struct Config {
    pub root: PathBuf,
    pub chains: Vec<ChainSpec>,
    pub output: Output,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    pub format: Format,
    pub color: bool,
    pub quiet: bool,
    pub verbose: u8,
}

#[derive(Debug, Clone)]
pub(crate) struct ChainSpec {
    pub name: String,
    pub source: Source,
    /// Postgres roles provisioned outside migrations (migfix.toml `roles`).
    pub roles: Vec<String>,
    /// How many heads the chain is meant to have (migfix.toml `heads`, or
    /// the length of `branches`), for branches Alembic tells apart by
    /// labels migfix cannot read statically.
    pub expected_heads: Option<usize>,
    /// The `[chain.gate]` table, for the gate command.
    pub gate: Option<GateSpec>,
}

#[derive(Debug, Clone)]
pub(crate) enum Source {
    Alembic(AlembicSpec),
    Sqitch(SqitchSpec),
    Django(DjangoSpec),
}

/// A Django project: every app's migrations package below one folder,
/// read as one graph, since Django's dependencies span apps.
#[derive(Debug, Clone)]
pub(crate) struct DjangoSpec {
    /// The project folder (the one with manage.py, else the root).
    pub project: PathBuf,
    pub apps: Vec<DjangoApp>,
    /// Apps discovery found with a label an earlier app has: Django
    /// installs one app per label, so they are left out, with a warning.
    pub shadowed: Vec<DjangoApp>,
    /// `--chain LABEL` named one app: commands show and repair that app,
    /// over the whole project's graph.
    pub focus: Option<String>,
}

impl DjangoSpec {
    /// The app whose migrations folder holds `path`.
    pub fn app_of(&self, path: &Path) -> Option<&DjangoApp> {
        self.apps
            .iter()
            .find(|a| path.parent() == Some(a.dir.as_path()))
    }

    /// Each app's label and migrations folder.
    pub fn app_dirs(&self) -> Vec<(String, PathBuf)> {
        self.apps
            .iter()
            .map(|a| (a.label.clone(), a.dir.clone()))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DjangoApp {
    /// The app label: `AppConfig.label`, else the app folder's name.
    pub label: String,
    /// The migrations package, absolute.
    pub dir: PathBuf,
}

#[derive(Debug, Clone)]
pub(crate) struct AlembicSpec {
    /// The alembic.ini (or pyproject.toml) the chain came from, if any.
    pub config: Option<PathBuf>,
    pub script_location: Option<PathBuf>,
    /// Version directories in Alembic's load order, absolute.
    pub versions: Vec<PathBuf>,
    pub recursive: bool,
    /// `file_template` as configured; `None` when the chain's files show
    /// the convention (see `chains::naming`).
    pub file_template: Option<String>,
}

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

impl Config {
    pub fn from_cli(global: &Global) -> Result<Config> {
        let cwd = std::env::current_dir().context("reading the current directory")?;
        let root = find_root(global.root.as_deref(), &cwd)?;
        let output = Output {
            format: global.format,
            color: use_color(global.color),
            quiet: global.quiet,
            verbose: global.verbose,
        };
        let chains = if !global.versions.is_empty() || !global.plan.is_empty() {
            from_flags(&root, &cwd, global)?
        } else if root.join("migfix.toml").is_file() {
            from_toml(&root)?
        } else if let Some(chains) = from_pyproject(&root)? {
            chains
        } else {
            discover::discover(&root)?
        };
        let chains = select(chains, global.chain.as_deref())?;
        Ok(Config {
            root,
            chains,
            output,
        })
    }

    /// A path for display: relative to the root, with `/` separators.
    pub fn rel(&self, path: &Path) -> String {
        rel(&self.root, path)
    }
}

/// A path with `.` and `dir/..` removed, without touching the file system
/// (a `top_dir = .` in sqitch.conf should not show as `./deploy`).
pub(crate) fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

pub(crate) fn rel(root: &Path, path: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    let s = shown.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

fn use_color(choice: ColorChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        // no-color.org and bixense.com/clicolors: a set, non-empty NO_COLOR
        // turns colour off; CLICOLOR_FORCE (not "0") turns it on when piped.
        ColorChoice::Auto => {
            let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
            if set("NO_COLOR") {
                false
            } else if set("CLICOLOR_FORCE")
                && std::env::var_os("CLICOLOR_FORCE").is_some_and(|x| x != "0")
            {
                true
            } else {
                std::io::stdout().is_terminal()
            }
        }
    }
}

fn find_root(flag: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    if let Some(dir) = flag {
        let dir = cwd.join(dir);
        return dir.canonicalize().map_err(|e| {
            InputErrors::one(Diag::new(
                dir.display().to_string(),
                None,
                format!("cannot use as the root: {e}"),
            ))
            .into()
        });
    }
    let from_git = git2::Repository::discover(cwd)
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf));
    Ok(from_git
        .unwrap_or_else(|| cwd.to_path_buf())
        .canonicalize()?)
}

/// A path the user typed: relative to the current directory when it exists
/// there, else relative to the root.
fn user_path(root: &Path, cwd: &Path, p: &Path) -> PathBuf {
    let here = cwd.join(p);
    if here.exists() {
        here.canonicalize().unwrap_or(here)
    } else {
        root.join(p)
    }
}

fn from_flags(root: &Path, cwd: &Path, global: &Global) -> Result<Vec<ChainSpec>> {
    let mut chains = Vec::new();
    let mut errors = Vec::new();
    for dir in &global.versions {
        let abs = user_path(root, cwd, dir);
        if !abs.is_dir() {
            errors.push(Diag::new(
                dir.display().to_string(),
                None,
                "--versions: no such directory",
            ));
            continue;
        }
        chains.push(ChainSpec {
            name: rel(root, &abs),
            source: Source::Alembic(AlembicSpec {
                config: None,
                script_location: None,
                versions: vec![abs],
                recursive: false,
                file_template: None,
            }),
            roles: Vec::new(),
            expected_heads: None,
            gate: None,
        });
    }
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
        match discover::sqitch_for_plan(root, &abs) {
            Ok(spec) => chains.push(spec),
            Err(d) => errors.push(d),
        }
    }
    if errors.is_empty() {
        Ok(chains)
    } else {
        Err(InputErrors {
            diags: errors,
            help: None,
        }
        .into())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    chain: Vec<TomlChain>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlChain {
    name: Option<String>,
    kind: Option<String>,
    config: Option<PathBuf>,
    section: Option<String>,
    versions: Option<OneOrMany>,
    #[serde(default)]
    recursive: bool,
    plan: Option<PathBuf>,
    /// Django: the project folder, and its apps by label where discovery
    /// (apps.py labels, folder names) is not enough.
    project: Option<PathBuf>,
    apps: Option<std::collections::BTreeMap<String, PathBuf>>,
    #[serde(default)]
    roles: Vec<String>,
    heads: Option<usize>,
    branches: Option<Vec<String>>,
    gate: Option<GateSpec>,
}

/// `[chain.gate]`: what the gate does besides the round trip.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GateSpec {
    /// `[[chain.gate.seed]]`: SQL run just before a revision.
    #[serde(default)]
    pub seed: Vec<GateSeed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GateSeed {
    /// The revision the SQL must run before.
    pub before: String,
    pub sql: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

/// pyproject.toml: only `[tool.migfix]` is read here, with the keys of
/// migfix.toml.
#[derive(Debug, Deserialize)]
struct PyProject {
    tool: Option<PyProjectTool>,
}

#[derive(Debug, Deserialize)]
struct PyProjectTool {
    migfix: Option<TomlFile>,
}

/// Parses a TOML file's bytes, an error naming its line.
fn parse_toml<T: serde::de::DeserializeOwned>(bytes: Vec<u8>, shown: &str) -> Result<T> {
    let text = crate::error::utf8_text(bytes)
        .map_err(|(line, message)| InputErrors::one(Diag::new(shown, Some(line), message)))?;
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| crate::python::line_of(text.as_bytes(), s.start));
        InputErrors::one(Diag::new(shown, line, e.message().to_string())).into()
    })
}

fn from_toml(root: &Path) -> Result<Vec<ChainSpec>> {
    let path = root.join("migfix.toml");
    let bytes = std::fs::read(&path).map_err(|e| {
        InputErrors::one(Diag::new("migfix.toml", None, format!("cannot read: {e}")))
    })?;
    let file: TomlFile = parse_toml(bytes, "migfix.toml")?;
    from_tables(root, file, "migfix.toml", "[[chain]]")
}

/// `[tool.migfix]` in the root's pyproject.toml, read like migfix.toml
/// (which wins when both are present); `None` without one.
fn from_pyproject(root: &Path) -> Result<Option<Vec<ChainSpec>>> {
    // Most pyproject.toml files say nothing of migfix: not worth a parse.
    let Ok(bytes) = std::fs::read(root.join("pyproject.toml")) else {
        return Ok(None);
    };
    if !bytes.windows(11).any(|w| w == b"tool.migfix") {
        return Ok(None);
    }
    let file: PyProject = parse_toml(bytes, "pyproject.toml")?;
    match file.tool.and_then(|t| t.migfix) {
        Some(tables) => Ok(Some(from_tables(
            root,
            tables,
            "pyproject.toml",
            "[[tool.migfix.chain]]",
        )?)),
        None => Ok(None),
    }
}

/// The chains that migfix.toml (or `[tool.migfix]`) lists; `shown` names
/// the file and `table` the chain tables in messages.
fn from_tables(root: &Path, file: TomlFile, shown: &str, table: &str) -> Result<Vec<ChainSpec>> {
    if file.chain.is_empty() {
        return Err(
            InputErrors::one(Diag::new(shown, None, format!("no {table} tables")))
                .with_help(format!(
                "add a {table} table with `config`, `versions` or `plan`, or {} to use discovery",
                if shown == "migfix.toml" { "delete migfix.toml" } else { "remove [tool.migfix]" }
            ))
                .into(),
        );
    }
    let mut chains = Vec::new();
    let mut errors = Vec::new();
    for (i, c) in file.chain.into_iter().enumerate() {
        let at = |m: String| Diag::new(shown, None, format!("{table} #{}: {m}", i + 1));
        let kind = c.kind.clone().unwrap_or_else(|| {
            if c.plan.is_some() {
                "sqitch".into()
            } else if c.project.is_some() || c.apps.is_some() {
                "django".into()
            } else {
                "alembic".into()
            }
        });
        let located = [c.config.is_some(), c.versions.is_some(), c.plan.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if kind == "django" {
            match django_from_table(root, &c) {
                Ok(mut spec) => {
                    if let Some(name) = c.name {
                        spec.name = name;
                    }
                    spec.roles = c.roles;
                    spec.gate = c.gate;
                    chains.push(spec);
                }
                Err(m) => errors.push(at(m)),
            }
            continue;
        }
        if c.project.is_some() || c.apps.is_some() {
            errors.push(at(format!(
                "`project` and `apps` are for a django chain, not {kind}"
            )));
            continue;
        }
        if located != 1 {
            errors.push(at(
                "set exactly one of `config`, `versions` or `plan`".into()
            ));
            continue;
        }
        let spec = match (kind.as_str(), &c) {
            (
                "alembic",
                TomlChain {
                    config: Some(ini), ..
                },
            ) => {
                let ini = root.join(ini);
                let section = c.section.as_deref().unwrap_or("alembic");
                discover::alembic_from_ini(root, &ini, section)
            }
            (
                "alembic",
                TomlChain {
                    versions: Some(v), ..
                },
            ) => {
                let dirs = match v {
                    OneOrMany::One(p) => vec![root.join(p)],
                    OneOrMany::Many(ps) => ps.iter().map(|p| root.join(p)).collect(),
                };
                match dirs.iter().find(|d| !d.is_dir()) {
                    Some(missing) => Err(at(format!(
                        "`versions`: {} is not a directory",
                        rel(root, missing)
                    ))),
                    None => Ok(ChainSpec {
                        name: rel(root, &dirs[0]),
                        source: Source::Alembic(AlembicSpec {
                            config: None,
                            script_location: None,
                            versions: dirs,
                            recursive: c.recursive,
                            file_template: None,
                        }),
                        roles: Vec::new(),
                        expected_heads: None,
                        gate: None,
                    }),
                }
            }
            (
                "sqitch",
                TomlChain {
                    plan: Some(plan), ..
                },
            ) => {
                let plan = root.join(plan);
                if plan.is_file() {
                    discover::sqitch_for_plan(root, &plan)
                } else {
                    Err(at(format!("`plan`: {} is not a file", rel(root, &plan))))
                }
            }
            ("alembic" | "sqitch", _) => Err(at(format!(
                "a {kind} chain needs {}",
                if kind == "sqitch" {
                    "`plan`"
                } else {
                    "`config` or `versions`"
                }
            ))),
            (other, _) => Err(at(format!(
                "unknown kind `{other}` (expected \"alembic\", \"sqitch\" or \"django\")"
            ))),
        };
        match spec {
            Ok(mut spec) => {
                if let Some(name) = c.name {
                    spec.name = name;
                }
                spec.roles = c.roles;
                spec.expected_heads = c.heads.or(c.branches.as_ref().map(Vec::len));
                spec.gate = c.gate;
                chains.push(spec);
            }
            Err(d) => errors.push(d),
        }
    }
    if errors.is_empty() {
        Ok(chains)
    } else {
        Err(InputErrors {
            diags: errors,
            help: None,
        }
        .into())
    }
}

/// A `kind = "django"` table: `project` (default the root), and `apps`
/// (label = migrations folder) or else the apps discovery finds there.
fn django_from_table(root: &Path, c: &TomlChain) -> std::result::Result<ChainSpec, String> {
    if c.config.is_some() || c.versions.is_some() || c.plan.is_some() {
        return Err(
            "a django chain takes `project` and `apps`, not `config`, `versions` or `plan`".into(),
        );
    }
    let project = clean(&root.join(c.project.as_deref().unwrap_or(Path::new("."))));
    if !project.is_dir() {
        return Err(format!(
            "`project`: {} is not a directory",
            rel(root, &project)
        ));
    }
    let apps = match &c.apps {
        Some(apps) => {
            let mut out = Vec::new();
            for (label, dir) in apps {
                let dir = clean(&root.join(dir));
                if !dir.is_dir() {
                    return Err(format!(
                        "`apps.{label}`: {} is not a directory",
                        rel(root, &dir)
                    ));
                }
                out.push(DjangoApp {
                    label: label.clone(),
                    dir,
                });
            }
            out
        }
        None => discover::django_apps(&project),
    };
    if apps.is_empty() {
        return Err(format!(
            "no Django migrations below {}",
            rel(root, &project)
        ));
    }
    Ok(ChainSpec {
        name: discover::chain_name(root, &project),
        source: Source::Django(DjangoSpec {
            project,
            apps,
            shadowed: Vec::new(),
            focus: None,
        }),
        roles: Vec::new(),
        expected_heads: None,
        gate: None,
    })
}

/// `--chain NAME`: an exact name, else a unique substring.
fn select(chains: Vec<ChainSpec>, wanted: Option<&str>) -> Result<Vec<ChainSpec>> {
    let Some(wanted) = wanted else {
        return Ok(chains);
    };
    if let Some(exact) = chains.iter().position(|c| c.name == wanted) {
        return Ok(vec![chains
            .into_iter()
            .nth(exact)
            .expect("position is in range")]);
    }
    // A Django app label selects its project's chain, focused on the app.
    let mut apps: Vec<ChainSpec> = chains
        .iter()
        .filter_map(|c| match &c.source {
            Source::Django(d) if d.apps.iter().any(|a| a.label == wanted) => {
                let mut c = c.clone();
                if let Source::Django(d) = &mut c.source {
                    d.focus = Some(wanted.to_string());
                }
                Some(c)
            }
            _ => None,
        })
        .collect();
    if apps.len() == 1 {
        return Ok(apps.split_off(0));
    }
    let matching: Vec<usize> = chains
        .iter()
        .enumerate()
        .filter(|(_, c)| c.name.contains(wanted))
        .map(|(i, _)| i)
        .collect();
    match matching.as_slice() {
        [one] => Ok(vec![chains
            .into_iter()
            .nth(*one)
            .expect("index is in range")]),
        [] => {
            let names: Vec<&str> = chains.iter().map(|c| c.name.as_str()).collect();
            Err(InputErrors::one(Diag::new(
                "--chain",
                None,
                format!(
                    "no chain matches `{wanted}`; chains: {}",
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                ),
            ))
            .with_help("migfix chains")
            .into())
        }
        many => {
            let names: Vec<&str> = many.iter().map(|&i| chains[i].name.as_str()).collect();
            Err(InputErrors::one(Diag::new(
                "--chain",
                None,
                format!("`{wanted}` matches several chains: {}", names.join(", ")),
            ))
            .into())
        }
    }
}
