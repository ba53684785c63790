//! Finding chains below the root: every alembic.ini (and pyproject.toml with
//! `[tool.alembic]`), every sqitch.plan (and sqitch.conf), read the way
//! Alembic and sqitch read them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::ini::{git_config_get, Ini};
use super::{clean, rel, AlembicSpec, ChainSpec, DjangoApp, DjangoSpec, Source, SqitchSpec};
use crate::error::{Diag, InputErrors};

/// Folders never searched: VCS data, build output, dependencies, virtualenvs.
pub(crate) fn is_skipped_dir(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    matches!(
        name,
        ".git"
            | ".hg"
            | ".svn"
            | "node_modules"
            | "target"
            | ".venv"
            | "venv"
            | ".tox"
            | ".nox"
            | "__pycache__"
            | ".mypy_cache"
            | ".pytest_cache"
            | ".ruff_cache"
            | "site-packages"
    ) || path.join("pyvenv.cfg").is_file()
}

#[derive(Default)]
struct Found {
    inis: Vec<PathBuf>,
    pyprojects: Vec<PathBuf>,
    plans: Vec<PathBuf>,
    sqitch_confs: Vec<PathBuf>,
    /// `migrations` packages (a folder with `__init__.py`), Django's or not.
    migration_packages: Vec<PathBuf>,
    manage_pys: Vec<PathBuf>,
}

fn walk(root: &Path) -> Found {
    let mut found = Found::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !is_skipped_dir(&path) {
                    if entry.file_name() == "migrations" && path.join("__init__.py").is_file() {
                        found.migration_packages.push(path.clone());
                    }
                    stack.push(path);
                }
                continue;
            }
            match entry.file_name().to_str() {
                Some("alembic.ini") => found.inis.push(path),
                Some("pyproject.toml") => found.pyprojects.push(path),
                Some("sqitch.plan") => found.plans.push(path),
                Some("sqitch.conf") => found.sqitch_confs.push(path),
                Some("manage.py") => found.manage_pys.push(path),
                _ => {}
            }
        }
    }
    for list in [
        &mut found.inis,
        &mut found.pyprojects,
        &mut found.plans,
        &mut found.sqitch_confs,
        &mut found.migration_packages,
        &mut found.manage_pys,
    ] {
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
    // sqitch reads the plans its sqitch.conf names. A plan elsewhere below
    // a sqitch.conf that names another plan is left over, not read; a plan
    // with no sqitch.conf above it is read with sqitch's defaults.
    let mut specs: Vec<SqitchSpec> = Vec::new();
    for conf in &found.sqitch_confs {
        match sqitch_layouts(conf) {
            Ok(layouts) => specs.extend(layouts.into_iter().filter(|l| l.plan.is_file())),
            Err(mut d) => {
                d.file = rel(root, conf);
                errors.push(d);
            }
        }
    }
    for plan in &found.plans {
        if specs.iter().any(|s| s.plan == *plan) {
            continue;
        }
        let plan_dir = plan.parent().unwrap_or(root);
        let governing = found
            .sqitch_confs
            .iter()
            .filter(|c| c.parent().is_some_and(|d| plan_dir.starts_with(d)))
            .max_by_key(|c| c.as_os_str().len());
        match governing.and_then(|c| specs.iter_mut().find(|s| s.conf.as_ref() == Some(c))) {
            Some(owner) => owner.unread_plans.push(plan.clone()),
            None => specs.push(SqitchSpec::with_defaults(plan.clone(), plan_dir)),
        }
    }
    specs.sort_by(|a, b| a.plan.cmp(&b.plan));
    chains.extend(specs.into_iter().map(|s| sqitch_chain_spec(root, s)));
    let alembic_dirs: Vec<PathBuf> = chains
        .iter()
        .filter_map(|c| match &c.source {
            Source::Alembic(a) => Some(a.versions.iter().cloned().chain(a.script_location.clone())),
            _ => None,
        })
        .flatten()
        .collect();
    chains.extend(django_projects(root, &found, &alembic_dirs));
    if !errors.is_empty() {
        return Err(InputErrors {
            diags: errors,
            help: None,
        }
        .into());
    }
    // Two chains in one folder (an alembic.ini beside a sqitch.plan): keep names unique.
    let mut seen = BTreeSet::new();
    for chain in &mut chains {
        if !seen.insert(chain.name.clone()) {
            let kind = match chain.source {
                Source::Alembic(_) => "alembic",
                Source::Sqitch(_) => "sqitch",
                Source::Django(_) => "django",
            };
            chain.name = format!("{}#{kind}", chain.name);
            seen.insert(chain.name.clone());
        }
    }
    Ok(chains)
}

/// Django projects: every `migrations` package whose modules define a
/// `Migration` class, grouped by the nearest folder above with a manage.py
/// (else the root), since Django's graph spans a project's apps. Folders
/// that Alembic uses are not Django's.
fn django_projects(root: &Path, found: &Found, alembic_dirs: &[PathBuf]) -> Vec<ChainSpec> {
    let mut projects: std::collections::BTreeMap<PathBuf, Vec<DjangoApp>> = Default::default();
    for dir in &found.migration_packages {
        if alembic_dirs
            .iter()
            .any(|a| a.starts_with(dir) || dir.starts_with(a))
            || dir.join("env.py").is_file()
            || !has_django_migration(dir)
        {
            continue;
        }
        let app_dir = dir.parent().unwrap_or(root);
        let label = app_label(app_dir);
        let project = found
            .manage_pys
            .iter()
            .filter_map(|m| m.parent())
            .filter(|p| app_dir.starts_with(p))
            .max_by_key(|p| p.as_os_str().len())
            .unwrap_or(root)
            .to_path_buf();
        projects.entry(project).or_default().push(DjangoApp {
            label,
            dir: dir.clone(),
        });
    }
    projects
        .into_iter()
        .map(|(project, found)| {
            let (mut apps, mut shadowed) = (Vec::new(), Vec::new());
            for app in found {
                if apps.iter().any(|a: &DjangoApp| a.label == app.label) {
                    shadowed.push(app);
                } else {
                    apps.push(app);
                }
            }
            (project, apps, shadowed)
        })
        .map(|(project, apps, shadowed)| ChainSpec {
            name: chain_name(root, &project),
            source: Source::Django(DjangoSpec {
                project,
                apps,
                shadowed,
                focus: None,
            }),
            roles: Vec::new(),
            expected_heads: None,
            gate: None,
        })
        .collect()
}

/// The Django apps below `project`, as discovery finds them.
pub(super) fn django_apps(project: &Path) -> Vec<DjangoApp> {
    let found = walk(project);
    django_projects(project, &found, &[])
        .into_iter()
        .flat_map(|c| match c.source {
            Source::Django(d) => d.apps,
            _ => Vec::new(),
        })
        .collect()
}

/// Whether a package holds a Django migration: a module that subclasses
/// `migrations.Migration` (or imports Migration from django.db).
fn has_django_migration(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name.ends_with(".py")
            && !name.starts_with(['_', '~'])
            && std::fs::read(e.path()).is_ok_and(|b| {
                let text = String::from_utf8_lossy(&b);
                text.contains("class Migration(") && text.contains("django")
            })
    })
}

/// An app's label: a literal `label = "..."` in its apps.py (an AppConfig's),
/// else the folder's name, as Django's default label is the last part of
/// the app's module path.
pub(crate) fn app_label(app_dir: &Path) -> String {
    let folder = app_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Ok(text) = std::fs::read_to_string(app_dir.join("apps.py")) else {
        return folder;
    };
    let configs = text.matches("AppConfig").count();
    let labels: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let t = l.trim_start();
            (l.len() > t.len()).then_some(t)?;
            let rest = t.strip_prefix("label")?.trim_start();
            let rest = rest.strip_prefix('=')?.trim();
            let rest = rest.split('#').next()?.trim();
            let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let inner = rest.strip_prefix(q)?.strip_suffix(q)?;
            (!inner.contains(q)).then(|| inner.to_string())
        })
        .collect();
    // One config, one label: several configs may label the app otherwise
    // than the one INSTALLED_APPS names, which migfix.toml can say.
    match labels.as_slice() {
        [one] if configs >= 1 => one.clone(),
        _ => folder,
    }
}

/// The name of a chain found in `dir`: its path from the root, or the root
/// folder's own name for a chain at the root.
pub(super) fn chain_name(root: &Path, dir: &Path) -> String {
    if dir == root {
        root.file_name()
            .map_or_else(|| ".".into(), |n| n.to_string_lossy().into_owned())
    } else {
        rel(root, dir)
    }
}

fn read_ini(path: &Path, root: &Path) -> Result<Ini, Diag> {
    let text = read_text(path).map_err(|(line, m)| Diag::new(rel(root, path), line, m))?;
    Ini::parse(&text).map_err(|e| Diag::new(rel(root, path), Some(e.line), e.message))
}

/// A configuration file's text; the error gives the OS error, or the line
/// of a byte that is not UTF-8.
fn read_text(path: &Path) -> Result<String, (Option<usize>, String)> {
    let bytes = std::fs::read(path).map_err(|e| (None, format!("cannot read: {e}")))?;
    crate::error::utf8_text(bytes).map_err(|(line, m)| (Some(line), m))
}

/// Every section of an alembic.ini that has a `script_location` is a chain
/// (`[alembic]` is Alembic's default; others are `alembic -n NAME`).
fn alembic_sections(root: &Path, ini_path: &Path) -> Result<Vec<ChainSpec>, Vec<Diag>> {
    let ini = read_ini(ini_path, root).map_err(|d| vec![d])?;
    let mut sections: Vec<&str> = ini
        .sections
        .iter()
        .filter(|(_, m)| m.contains_key("script_location"))
        .map(|(n, _)| n.as_str())
        .collect();
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
pub(crate) fn alembic_from_ini(
    root: &Path,
    ini_path: &Path,
    section: &str,
) -> Result<ChainSpec, Diag> {
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

fn alembic_from_parsed(
    root: &Path,
    ini_path: &Path,
    ini: &Ini,
    section: &str,
) -> Result<ChainSpec, Diag> {
    let shown = rel(root, ini_path);
    let dir = ini_path.parent().unwrap_or(root).to_path_buf();
    let here = dir.to_string_lossy().replace('\\', "/");
    let extra = [("here", here.as_str())];
    let err = |line: Option<usize>, m: String| Diag::new(shown.clone(), line, m);
    let get = |key: &str| {
        ini.get(section, key, &extra)
            .map_err(|e| err(Some(e.line), e.message))
    };

    let toml = pyproject_options(&dir.join("pyproject.toml"))
        .map_err(|(line, m)| Diag::new(rel(root, &dir.join("pyproject.toml")), line, m))?;
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
            Some(sep) => entry
                .value
                .split(sep)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            // Alembic's legacy rule: split on commas and spaces.
            None => entry
                .value
                .split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        };
        opts.version_locations = Some((parts, Some(entry.line)));
    }
    if let Some(t) = toml {
        opts.script_location = opts.script_location.or(t.script_location);
        opts.version_locations = opts.version_locations.or(t.version_locations);
        opts.recursive = opts.recursive || t.recursive;
        opts.file_template = opts.file_template.or(t.file_template);
    }
    let name = if section == "alembic" {
        chain_name(root, &dir)
    } else {
        format!("{}[{section}]", chain_name(root, &dir))
    };
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
        return Err(err(
            None,
            "no `script_location`: Alembic cannot find the migrations either".into(),
        ));
    };
    let script = resolve_location(root, dir, &location).ok_or_else(|| {
        err(
            line,
            format!("script_location `{location}` points to nothing"),
        )
    })?;
    if !script.is_dir() {
        return Err(err(
            line,
            format!(
                "script_location `{location}` points to {}, which is not a directory",
                rel(root, &script)
            ),
        ));
    }
    let versions = match opts.version_locations {
        Some((locations, vline)) => {
            let mut dirs = Vec::new();
            for loc in &locations {
                let resolved = resolve_location(root, dir, loc)
                    .filter(|p| p.is_dir())
                    .ok_or_else(|| {
                        err(
                            vline,
                            format!("version_locations names `{loc}`, which is not a directory"),
                        )
                    })?;
                dirs.push(resolved);
            }
            dirs
        }
        None => {
            let v = script.join("versions");
            if !v.is_dir() {
                return Err(err(
                    line,
                    format!("{} has no versions/ directory", rel(root, &script)),
                ));
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

/// `[tool.alembic]` of a pyproject.toml; `None` without one. The error has
/// the line where there is one.
fn pyproject_options(path: &Path) -> Result<Option<AlembicOptions>, (Option<usize>, String)> {
    // Only a file that configures Alembic is read as text, and must parse.
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(None);
    };
    if !bytes.windows(14).any(|w| w == b"[tool.alembic]") {
        return Ok(None);
    }
    let text = crate::error::utf8_text(bytes).map_err(|(line, m)| (Some(line), m))?;
    let value: toml::Table = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| crate::python::line_of(text.as_bytes(), s.start));
        (line, e.message().to_string())
    })?;
    let Some(table) = value
        .get("tool")
        .and_then(|t| t.get("alembic"))
        .and_then(|t| t.as_table())
    else {
        return Ok(None);
    };
    let here = path
        .parent()
        .unwrap_or(Path::new("."))
        .to_string_lossy()
        .replace('\\', "/");
    let sub = |s: &str| s.replace("%(here)s", &here);
    let version_locations = match table.get("version_locations") {
        Some(toml::Value::Array(items)) => Some((
            items.iter().filter_map(|v| v.as_str()).map(sub).collect(),
            None,
        )),
        Some(toml::Value::String(s)) => Some((vec![sub(s)], None)),
        _ => None,
    };
    Ok(Some(AlembicOptions {
        script_location: table
            .get("script_location")
            .and_then(|v| v.as_str())
            .map(|s| (sub(s), None)),
        version_locations,
        recursive: table
            .get("recursive_version_locations")
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        file_template: table
            .get("file_template")
            .and_then(|v| v.as_str())
            .map(String::from),
    }))
}

fn alembic_from_pyproject(root: &Path, path: &Path) -> Result<Option<ChainSpec>, Diag> {
    let shown = rel(root, path);
    let Some(opts) =
        pyproject_options(path).map_err(|(line, m)| Diag::new(shown.clone(), line, m))?
    else {
        return Ok(None);
    };
    let dir = path.parent().unwrap_or(root);
    alembic_spec(root, dir, Some(path), &shown, chain_name(root, dir), opts).map(Some)
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
    ChainSpec {
        name: chain_name(root, &plan_dir),
        source: Source::Sqitch(spec),
        roles: Vec::new(),
        expected_heads: None,
        gate: None,
    }
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
