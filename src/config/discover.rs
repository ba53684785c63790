//! Finding chains below the root: every alembic.ini (and pyproject.toml with
//! `[tool.alembic]`), every sqitch.plan (and sqitch.conf), read the way
//! Alembic and sqitch read them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::ini::{git_config_get, Ini};
use super::{clean, rel, AlembicSpec, ChainSpec, Source, SqitchSpec};
use crate::error::{Diag, InputErrors};

/// Folders never searched: VCS data, build output, dependencies, virtualenvs.
pub(crate) fn is_skipped_dir(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    matches!(
        name,
        ".git" | ".hg" | ".svn" | "node_modules" | "target" | ".venv" | "venv" | ".tox" | ".nox"
            | "__pycache__" | ".mypy_cache" | ".pytest_cache" | ".ruff_cache" | "site-packages"
    ) || path.join("pyvenv.cfg").is_file()
}

#[derive(Default)]
struct Found {
    inis: Vec<PathBuf>,
    pyprojects: Vec<PathBuf>,
    plans: Vec<PathBuf>,
    sqitch_confs: Vec<PathBuf>,
}

fn walk(root: &Path) -> Found {
    let mut found = Found::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if !is_skipped_dir(&path) {
                    stack.push(path);
                }
                continue;
            }
            match entry.file_name().to_str() {
                Some("alembic.ini") => found.inis.push(path),
                Some("pyproject.toml") => found.pyprojects.push(path),
                Some("sqitch.plan") => found.plans.push(path),
                Some("sqitch.conf") => found.sqitch_confs.push(path),
                _ => {}
            }
        }
    }
    for list in [&mut found.inis, &mut found.pyprojects, &mut found.plans, &mut found.sqitch_confs] {
        list.sort();
    }
    found
}

pub(super) fn discover(root: &Path) -> Result<Vec<ChainSpec>> {
    let found = walk(root);
    let mut chains = Vec::new();
    let mut errors = Vec::new();
    let mut ini_dirs = BTreeSet::new();
    for ini in &found.inis {
        ini_dirs.insert(ini.parent().map(Path::to_path_buf));
        match alembic_sections(root, ini) {
            Ok(specs) => chains.extend(specs),
            Err(mut d) => errors.append(&mut d),
        }
    }
    // A pyproject.toml beside an alembic.ini was merged into it above.
    for pyproject in &found.pyprojects {
        if ini_dirs.contains(&pyproject.parent().map(Path::to_path_buf)) {
            continue;
        }
        match alembic_from_pyproject(root, pyproject) {
            Ok(Some(spec)) => chains.push(spec),
            Ok(None) => {}
            Err(d) => errors.push(d),
        }
    }
    let mut plans: BTreeSet<PathBuf> = found.plans.iter().cloned().collect();
    for conf in &found.sqitch_confs {
        if let Ok(layout) = SqitchLayout::from_conf(conf) {
            if layout.plan.is_file() {
                plans.insert(layout.plan);
            }
        }
    }
    for plan in &plans {
        match sqitch_for_plan(root, plan) {
            Ok(spec) => chains.push(spec),
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(InputErrors { diags: errors, help: None }.into());
    }
    // Two chains in one folder (an alembic.ini beside a sqitch.plan): keep names unique.
    let mut seen = BTreeSet::new();
    for chain in &mut chains {
        if !seen.insert(chain.name.clone()) {
            let kind = if matches!(chain.source, Source::Sqitch(_)) { "sqitch" } else { "alembic" };
            chain.name = format!("{}#{kind}", chain.name);
            seen.insert(chain.name.clone());
        }
    }
    Ok(chains)
}

/// The name of a chain found in `dir`: its path from the root, or the root
/// folder's own name for a chain at the root.
fn chain_name(root: &Path, dir: &Path) -> String {
    if dir == root {
        root.file_name().map_or_else(|| ".".into(), |n| n.to_string_lossy().into_owned())
    } else {
        rel(root, dir)
    }
}

fn read_ini(path: &Path, root: &Path) -> Result<Ini, Diag> {
    let text = std::fs::read_to_string(path).map_err(|e| Diag::new(rel(root, path), None, e.to_string()))?;
    Ini::parse(&text).map_err(|e| Diag::new(rel(root, path), Some(e.line), e.message))
}

/// Every section of an alembic.ini that has a `script_location` is a chain
/// (`[alembic]` is Alembic's default; others are `alembic -n NAME`).
fn alembic_sections(root: &Path, ini_path: &Path) -> Result<Vec<ChainSpec>, Vec<Diag>> {
    let ini = read_ini(ini_path, root).map_err(|d| vec![d])?;
    let mut sections: Vec<&str> =
        ini.sections.iter().filter(|(_, m)| m.contains_key("script_location")).map(|(n, _)| n.as_str()).collect();
    if sections.is_empty() {
        sections.push("alembic");
    }
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    for section in sections {
        match alembic_from_parsed(root, ini_path, &ini, section) {
            Ok(spec) => specs.push(spec),
            Err(d) => errors.push(d),
        }
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(errors)
    }
}

/// One section of an alembic.ini, as a chain.
pub(crate) fn alembic_from_ini(root: &Path, ini_path: &Path, section: &str) -> Result<ChainSpec, Diag> {
    let ini = read_ini(ini_path, root)?;
    alembic_from_parsed(root, ini_path, &ini, section)
}

/// The options Alembic reads, from the ini or, for keys it lacks, a
/// pyproject.toml `[tool.alembic]` beside it.
struct AlembicOptions {
    script_location: Option<(String, Option<usize>)>,
    version_locations: Option<(Vec<String>, Option<usize>)>,
    recursive: bool,
    file_template: Option<String>,
}

fn alembic_from_parsed(root: &Path, ini_path: &Path, ini: &Ini, section: &str) -> Result<ChainSpec, Diag> {
    let shown = rel(root, ini_path);
    let dir = ini_path.parent().unwrap_or(root).to_path_buf();
    let here = dir.to_string_lossy().replace('\\', "/");
    let extra = [("here", here.as_str())];
    let err = |line: Option<usize>, m: String| Diag::new(shown.clone(), line, m);
    let get = |key: &str| ini.get(section, key, &extra).map_err(|e| err(Some(e.line), e.message));

    let toml = pyproject_options(&dir.join("pyproject.toml"))
        .map_err(|m| Diag::new(rel(root, &dir.join("pyproject.toml")), None, m))?;
    let mut opts = AlembicOptions {
        script_location: get("script_location")?.map(|e| (e.value, Some(e.line))),
        version_locations: None,
        recursive: get("recursive_version_locations")?.is_some_and(|e| e.value == "true"),
        file_template: get("file_template")?.map(|e| e.value),
    };
    if let Some(entry) = get("version_locations")? {
        let sep = match get("path_separator")?.or(get("version_path_separator")?) {
            None => None,
            Some(e) => Some(match e.value.as_str() {
                "space" => " ",
                "newline" => "\n",
                "os" | ":" => ":",
                ";" => ";",
                other => {
                    return Err(err(
                        Some(e.line),
                        format!("`{other}` is not a valid path separator; expected space, newline, os, : or ;"),
                    ))
                }
            }),
        };
        let parts: Vec<String> = match sep {
            Some(sep) => entry.value.split(sep).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
            // Alembic's legacy rule: split on commas and spaces.
            None => entry.value.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
        };
        opts.version_locations = Some((parts, Some(entry.line)));
    }
    if let Some(t) = toml {
        opts.script_location = opts.script_location.or(t.script_location);
        opts.version_locations = opts.version_locations.or(t.version_locations);
        opts.recursive = opts.recursive || t.recursive;
        opts.file_template = opts.file_template.or(t.file_template);
    }
    let name = if section == "alembic" { chain_name(root, &dir) } else { format!("{}[{section}]", chain_name(root, &dir)) };
    alembic_spec(root, &dir, Some(ini_path), &shown, name, opts)
}

fn alembic_spec(
    root: &Path,
    dir: &Path,
    config: Option<&Path>,
    shown: &str,
    name: String,
    opts: AlembicOptions,
) -> Result<ChainSpec, Diag> {
    let err = |line: Option<usize>, m: String| Diag::new(shown.to_string(), line, m);
    let Some((location, line)) = opts.script_location else {
        return Err(err(None, "no `script_location`: Alembic cannot find the migrations either".into()));
    };
    let script = resolve_location(root, dir, &location)
        .ok_or_else(|| err(line, format!("script_location `{location}` points to nothing")))?;
    if !script.is_dir() {
        return Err(err(line, format!("script_location `{location}` points to {}, which is not a directory", rel(root, &script))));
    }
    let versions = match opts.version_locations {
        Some((locations, vline)) => {
            let mut dirs = Vec::new();
            for loc in &locations {
                let resolved = resolve_location(root, dir, loc)
                    .filter(|p| p.is_dir())
                    .ok_or_else(|| err(vline, format!("version_locations names `{loc}`, which is not a directory")))?;
                dirs.push(resolved);
            }
            dirs
        }
        None => {
            let v = script.join("versions");
            if !v.is_dir() {
                return Err(err(line, format!("{} has no versions/ directory", rel(root, &script))));
            }
            vec![v]
        }
    };
    Ok(ChainSpec {
        name,
        source: Source::Alembic(AlembicSpec {
            config: config.map(Path::to_path_buf),
            script_location: Some(script),
            versions,
            recursive: opts.recursive,
            file_template: opts.file_template,
        }),
        roles: Vec::new(),
        expected_heads: None,
        gate: None,
    })
}

/// A script or version location: absolute, relative to the config's folder
/// (where Alembic is run from), or `package:path` found below the root.
fn resolve_location(root: &Path, dir: &Path, location: &str) -> Option<PathBuf> {
    let path = Path::new(location);
    if path.is_absolute() {
        return Some(clean(path));
    }
    if let Some((package, sub)) = location.split_once(':') {
        let package_dir: PathBuf = package.split('.').collect();
        return [dir, root, &root.join("src")]
            .iter()
            .map(|base| base.join(&package_dir))
            .find(|p| p.is_dir())
            .map(|p| clean(&p.join(sub)));
    }
    Some(clean(&dir.join(path)))
}

fn pyproject_options(path: &Path) -> Result<Option<AlembicOptions>, String> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(None) };
    if !text.contains("[tool.alembic]") {
        return Ok(None);
    }
    let value: toml::Table = toml::from_str(&text).map_err(|e| e.message().to_string())?;
    let Some(table) = value.get("tool").and_then(|t| t.get("alembic")).and_then(|t| t.as_table()) else {
        return Ok(None);
    };
    let here = path.parent().unwrap_or(Path::new(".")).to_string_lossy().replace('\\', "/");
    let sub = |s: &str| s.replace("%(here)s", &here);
    let version_locations = match table.get("version_locations") {
        Some(toml::Value::Array(items)) => {
            Some((items.iter().filter_map(|v| v.as_str()).map(sub).collect(), None))
        }
        Some(toml::Value::String(s)) => Some((vec![sub(s)], None)),
        _ => None,
    };
    Ok(Some(AlembicOptions {
        script_location: table.get("script_location").and_then(|v| v.as_str()).map(|s| (sub(s), None)),
        version_locations,
        recursive: table.get("recursive_version_locations").and_then(|v| v.as_bool()).unwrap_or(false),
        file_template: table.get("file_template").and_then(|v| v.as_str()).map(String::from),
    }))
}

fn alembic_from_pyproject(root: &Path, path: &Path) -> Result<Option<ChainSpec>, Diag> {
    let shown = rel(root, path);
    let Some(opts) = pyproject_options(path).map_err(|m| Diag::new(shown.clone(), None, m))? else {
        return Ok(None);
    };
    let dir = path.parent().unwrap_or(root);
    alembic_spec(root, dir, Some(path), &shown, chain_name(root, dir), opts).map(Some)
}

/// Where a sqitch project keeps its plan and scripts.
struct SqitchLayout {
    plan: PathBuf,
    deploy: PathBuf,
    revert: PathBuf,
    verify: PathBuf,
    extension: String,
}

impl SqitchLayout {
    fn defaults(top: &Path) -> SqitchLayout {
        SqitchLayout {
            plan: top.join("sqitch.plan"),
            deploy: top.join("deploy"),
            revert: top.join("revert"),
            verify: top.join("verify"),
            extension: "sql".into(),
        }
    }

    /// sqitch.conf `[core]` settings, overridden by `[engine "<engine>"]`.
    fn from_conf(conf: &Path) -> Result<SqitchLayout, Diag> {
        let dir = conf.parent().unwrap_or(Path::new("."));
        let text = std::fs::read_to_string(conf).map_err(|e| Diag::new(conf.display().to_string(), None, e.to_string()))?;
        let ini = Ini::parse_git(&text).map_err(|e| Diag::new(conf.display().to_string(), Some(e.line), e.message))?;
        let engine = git_config_get(&ini, "core", "engine").map(|e| format!("engine.{}", e.value));
        let get = |key: &str| {
            engine
                .as_deref()
                .and_then(|section| git_config_get(&ini, section, key))
                .or_else(|| git_config_get(&ini, "core", key))
                .map(|e| e.value.clone())
        };
        let top = dir.join(get("top_dir").unwrap_or_else(|| ".".into()));
        let mut layout = SqitchLayout::defaults(&top);
        if let Some(p) = get("plan_file") {
            layout.plan = dir.join(p);
        }
        for (key, slot) in [("deploy_dir", &mut layout.deploy), ("revert_dir", &mut layout.revert), ("verify_dir", &mut layout.verify)] {
            if let Some(p) = get(key) {
                *slot = dir.join(p);
            }
        }
        if let Some(ext) = get("extension") {
            layout.extension = ext;
        }
        Ok(layout)
    }
}

/// The chain for one sqitch plan, with the sqitch.conf that names it: in
/// the plan's folder or any folder above it, up to the root.
pub(crate) fn sqitch_for_plan(root: &Path, plan: &Path) -> Result<ChainSpec, Diag> {
    let plan_dir = plan.parent().unwrap_or(root);
    let same = |a: &Path, b: &Path| a.canonicalize().ok() == b.canonicalize().ok();
    let mut conf_found = None;
    let mut layout = SqitchLayout::defaults(plan_dir);
    for dir in plan_dir.ancestors() {
        let conf = dir.join("sqitch.conf");
        if conf.is_file() {
            let from_conf = SqitchLayout::from_conf(&conf).map_err(|mut d| {
                d.file = rel(root, &conf);
                d
            })?;
            if same(&from_conf.plan, plan) {
                layout = from_conf;
                conf_found = Some(conf);
                break;
            }
        }
        if dir == root {
            break;
        }
    }
    layout.plan = plan.to_path_buf();
    Ok(ChainSpec {
        name: chain_name(root, plan_dir),
        source: Source::Sqitch(SqitchSpec {
            plan: clean(&layout.plan),
            conf: conf_found,
            deploy_dir: clean(&layout.deploy),
            revert_dir: clean(&layout.revert),
            verify_dir: clean(&layout.verify),
            extension: layout.extension,
        }),
        roles: Vec::new(),
        expected_heads: None,
        gate: None,
    })
}
