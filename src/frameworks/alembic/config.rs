//! Where Alembic chains are found and how their configuration is read:
//! alembic.ini sections and `[tool.alembic]`, resolved as Alembic resolves them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::PROFILE;
use crate::cli::Global;
use crate::config::discover::{chain_name, read_text, Found, Markers};
use crate::config::ini::Ini;
use crate::config::{clean, rel, user_path, ChainSpec, OneOrMany, Source, TomlChain};
use crate::error::Diag;

pub(super) const MARKERS: Markers = Markers {
    files: &["alembic.ini", "pyproject.toml"],
    dirs: &[],
};

/// The keys of a migfix.toml table of an Alembic chain.
pub(super) const TABLE_KEYS: &[&str] = &["config", "section", "versions", "recursive"];

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

impl Source for AlembicSpec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn location(&self) -> PathBuf {
        self.versions[0].clone()
    }

    fn config_file(&self) -> Option<PathBuf> {
        self.config.clone()
    }

    fn folders(&self, _root: &Path) -> Vec<PathBuf> {
        self.versions.clone()
    }

    fn occupies(&self) -> Vec<PathBuf> {
        self.versions
            .iter()
            .cloned()
            .chain(self.script_location.clone())
            .collect()
    }
}

/// Every alembic.ini below the root, and every pyproject.toml with
/// `[tool.alembic]` that has no alembic.ini beside it (one beside an ini is
/// merged into it).
pub(super) fn discover(root: &Path, found: &Found) -> (Vec<ChainSpec>, Vec<Diag>) {
    let (mut chains, mut errors) = (Vec::new(), Vec::new());
    let mut ini_dirs = BTreeSet::new();
    for ini in found.named("alembic.ini") {
        ini_dirs.insert(ini.parent().map(Path::to_path_buf));
        match alembic_sections(root, ini) {
            Ok(specs) => chains.extend(specs),
            Err(mut d) => errors.append(&mut d),
        }
    }
    for pyproject in found.named("pyproject.toml") {
        if ini_dirs.contains(&pyproject.parent().map(Path::to_path_buf)) {
            continue;
        }
        match alembic_from_pyproject(root, pyproject) {
            Ok(Some(spec)) => chains.push(spec),
            Ok(None) => {}
            Err(d) => errors.push(d),
        }
    }
    (chains, errors)
}

/// A chain of only versions folders, with no configuration.
fn bare(root: &Path, versions: Vec<PathBuf>, recursive: bool) -> ChainSpec {
    ChainSpec::new(
        rel(root, &versions[0]),
        &PROFILE,
        AlembicSpec {
            config: None,
            script_location: None,
            versions,
            recursive,
            file_template: None,
        },
    )
}

/// `--versions DIR`: each folder a chain.
pub(super) fn from_flags(root: &Path, cwd: &Path, global: &Global) -> (Vec<ChainSpec>, Vec<Diag>) {
    let (mut chains, mut errors) = (Vec::new(), Vec::new());
    for dir in &global.versions {
        let abs = user_path(root, cwd, dir);
        if abs.is_dir() {
            chains.push(bare(root, vec![abs], false));
        } else {
            errors.push(Diag::new(
                dir.display().to_string(),
                None,
                "--versions: no such directory",
            ));
        }
    }
    (chains, errors)
}

/// A `[[chain]]` table: `config` (an ini, with `section`) or `versions`.
pub(super) fn from_table(
    root: &Path,
    t: &TomlChain,
    at: &dyn Fn(String) -> Diag,
) -> Result<ChainSpec, Diag> {
    match (&t.config, &t.versions) {
        (Some(ini), None) => {
            let ini = root.join(ini);
            alembic_from_ini(root, &ini, t.section.as_deref().unwrap_or("alembic"))
        }
        (None, Some(v)) => {
            let dirs = match v {
                OneOrMany::One(p) => vec![root.join(p)],
                OneOrMany::Many(ps) => ps.iter().map(|p| root.join(p)).collect(),
            };
            match dirs.iter().find(|d| !d.is_dir()) {
                Some(missing) => Err(at(format!(
                    "`versions`: {} is not a directory",
                    rel(root, missing)
                ))),
                None if dirs.is_empty() => Err(at("`versions` names no folder".into())),
                None => Ok(bare(root, dirs, t.recursive)),
            }
        }
        (Some(_), Some(_)) => Err(at("set exactly one of `config` or `versions`".into())),
        (None, None) => Err(at("an alembic chain needs `config` or `versions`".into())),
    }
}

fn read_ini(path: &Path, root: &Path) -> Result<Ini, Diag> {
    let text = read_text(path).map_err(|(line, m)| Diag::new(rel(root, path), line, m))?;
    Ini::parse(&text).map_err(|e| Diag::new(rel(root, path), Some(e.line), e.message))
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
    Ok(ChainSpec::new(
        name,
        &PROFILE,
        AlembicSpec {
            config: config.map(Path::to_path_buf),
            script_location: Some(script),
            versions,
            recursive: opts.recursive,
            file_template: opts.file_template,
        },
    ))
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
    let Ok(bytes) = crate::files::read(path) else {
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
