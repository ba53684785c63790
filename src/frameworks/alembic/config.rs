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
    /// Where the chain's relative locations resolve, and so where its tool
    /// is run from.
    pub run: Run,
    /// What reading the configuration warned of, shown with the chain's
    /// warnings.
    pub notes: Vec<Diag>,
}

/// Where a chain's tool runs, as its configuration tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Run {
    /// `alembic` in the ini's folder, where its relative paths resolve
    /// (and for a chain with no ini, wherever it is).
    IniFolder,
    /// `alembic -c INI` from the repository root, where a relative path
    /// that is not below the ini's folder resolves (as mlflow's).
    Root,
    /// Flask-Migrate's `flask db`, in the folder above its migrations
    /// directory: the ini sets no `script_location`, which Flask-Migrate
    /// sets to that directory itself.
    Flask,
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
            run: Run::IniFolder,
            notes: Vec::new(),
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
    at: &dyn Fn(&str, String) -> Diag,
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
                Some(missing) => Err(at(
                    "versions",
                    format!("`versions`: {} is not a directory", rel(root, missing)),
                )),
                None if dirs.is_empty() => Err(at("versions", "`versions` names no folder".into())),
                None => Ok(bare(root, dirs, t.recursive)),
            }
        }
        (Some(_), Some(_)) => Err(at(
            "versions",
            "set exactly one of `config` or `versions`".into(),
        )),
        (None, None) => Err(at(
            "",
            "an alembic chain needs `config` or `versions`".into(),
        )),
    }
}

fn read_ini(path: &Path, root: &Path) -> Result<Ini, Diag> {
    let text = read_text(path).map_err(|(line, m)| Diag::new(rel(root, path), line, m))?;
    Ini::parse(&text).map_err(|e| Diag::new(rel(root, path), Some(e.line), e.message))
}

/// Every section of an alembic.ini that has a `script_location` is a chain
/// (`[alembic]` is Alembic's default; others are `alembic -n NAME`). With
/// none, `[alembic]` is the chain: Flask-Migrate's, where its folder holds
/// env.py, or an error; or no chain at all where that folder has env.py but
/// no versions/ to read (a template, as zou ships for its plugins).
fn alembic_sections(root: &Path, ini_path: &Path) -> Result<Vec<ChainSpec>, Vec<Diag>> {
    let ini = read_ini(ini_path, root).map_err(|d| vec![d])?;
    let mut sections: Vec<&str> = ini
        .sections
        .iter()
        .filter(|(_, m)| m.contains_key("script_location"))
        .map(|(n, _)| n.as_str())
        .collect();
    if sections.is_empty() {
        let dir = ini_path.parent().unwrap_or(root);
        let template = dir.join("env.py").is_file()
            && !dir.join("versions").is_dir()
            && ini.raw("alembic", "version_locations").is_none()
            && ini.raw("alembic", "script_location").is_none();
        if template && !has_pyproject_location(dir) {
            return Ok(Vec::new());
        }
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

/// Whether a pyproject.toml beside the ini gives a location of its own.
fn has_pyproject_location(dir: &Path) -> bool {
    pyproject_options(&dir.join("pyproject.toml"))
        .ok()
        .flatten()
        .is_some_and(|o| o.script_location.is_some() || o.version_locations.is_some())
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
    let at = Place {
        shown: &shown,
        section: ini.header_line(section),
    };
    alembic_spec(root, &dir, Some(ini_path), at, name, opts)
}

/// The configuration file as shown, and the line of its section header.
struct Place<'a> {
    shown: &'a str,
    section: Option<usize>,
}

fn alembic_spec(
    root: &Path,
    dir: &Path,
    config: Option<&Path>,
    at: Place<'_>,
    name: String,
    opts: AlembicOptions,
) -> Result<ChainSpec, Diag> {
    let err = |line: Option<usize>, m: String| Diag::new(at.shown.to_string(), line, m);
    let mut notes = Vec::new();
    let mut run = Run::IniFolder;
    let script = match opts.script_location {
        Some((location, line)) => {
            let found = locate(root, dir, &location, script_dir)
                .ok_or_else(|| err(line, format!("script_location `{location}` points to nothing")))?;
            if !found.path.is_dir() {
                return Err(err(line, not_a_directory(root, "script_location", &location, &found)));
            }
            found.note(root, "script_location", &location, &err, line, &mut notes);
            if found.from_root {
                run = Run::Root;
            }
            found.path
        }
        // Flask-Migrate's layout: it sets `script_location` to the folder
        // of its alembic.ini, which holds env.py.
        None if config.is_some_and(|c| c.extension().is_some_and(|e| e == "ini"))
            && dir.join("env.py").is_file() =>
        {
            run = Run::Flask;
            dir.to_path_buf()
        }
        None => {
            return Err(err(
                at.section,
                "no `script_location`, and no env.py beside it (where Flask-Migrate keeps its migrations): Alembic cannot find the migrations either".into(),
            ))
        }
    };
    let versions = match opts.version_locations {
        Some((locations, vline)) => {
            let mut dirs = Vec::new();
            for loc in &locations {
                let found = locate(root, dir, loc, Path::is_dir)
                    .filter(|f| f.path.is_dir())
                    .ok_or_else(|| {
                        err(
                            vline,
                            format!("version_locations names `{loc}`, which is not a directory"),
                        )
                    })?;
                found.note(root, "version_locations", loc, &err, vline, &mut notes);
                if found.from_root && run == Run::IniFolder {
                    run = Run::Root;
                }
                dirs.push(found.path);
            }
            dirs
        }
        None => {
            let v = script.join("versions");
            if !v.is_dir() {
                let line = if run == Run::Flask { at.section } else { None };
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
            run,
            notes,
        },
    ))
}

/// Where a location from a configuration file points.
struct Located {
    path: PathBuf,
    /// Resolved from the repository root, not from the ini's folder.
    from_root: bool,
    /// The root's reading, where it is a directory too and another one.
    also: Option<PathBuf>,
    /// The ini folder's reading, where it was tried and is no directory.
    tried: Option<PathBuf>,
}

impl Located {
    /// A warning when the location reads two ways.
    fn note(
        &self,
        root: &Path,
        key: &str,
        location: &str,
        err: &dyn Fn(Option<usize>, String) -> Diag,
        line: Option<usize>,
        notes: &mut Vec<Diag>,
    ) {
        if let Some(also) = &self.also {
            notes.push(err(
                line,
                format!(
                    "{key} `{location}` names a directory both from the ini's folder ({}) and from the repository root ({}); migfix reads {}, as `alembic` run in the ini's folder does (write `%(here)s/{location}` to make it plain)",
                    rel(root, &self.path),
                    rel(root, also),
                    rel(root, &self.path)
                ),
            ));
        }
    }
}

/// The error for a location that is no directory, naming where it was
/// looked for.
fn not_a_directory(root: &Path, key: &str, location: &str, found: &Located) -> String {
    match &found.tried {
        Some(ini_side) => format!(
            "{key} `{location}` is not a directory from the ini's folder ({}) nor from the repository root ({})",
            rel(root, ini_side),
            rel(root, &found.path)
        ),
        None => format!(
            "{key} `{location}` points to {}, which is not a directory",
            rel(root, &found.path)
        ),
    }
}

/// A script or version location: absolute; `package:path` found below the
/// root; or relative, from the config's folder (where `alembic` is run) when
/// it `fits` there, else from the root (where a project such as mlflow runs
/// it) when it fits there, else where it is at least a directory. `None`
/// for a package found nowhere.
fn locate(root: &Path, dir: &Path, location: &str, fits: fn(&Path) -> bool) -> Option<Located> {
    let plain = |path: PathBuf| Located {
        path,
        from_root: false,
        also: None,
        tried: None,
    };
    let path = Path::new(location);
    if path.is_absolute() {
        return Some(plain(clean(path)));
    }
    if let Some((package, sub)) = location.split_once(':') {
        let package_dir: PathBuf = package.split('.').collect();
        return [dir, root, &root.join("src")]
            .iter()
            .map(|base| base.join(&package_dir))
            .find(|p| p.is_dir())
            .map(|p| plain(clean(&p.join(sub))));
    }
    let beside = clean(&dir.join(path));
    let from_root = clean(&root.join(path));
    if beside == from_root {
        return Some(plain(beside));
    }
    let at_root = || Located {
        from_root: true,
        ..plain(from_root.clone())
    };
    Some(if fits(&beside) {
        Located {
            also: fits(&from_root).then(|| from_root.clone()),
            ..plain(beside)
        }
    } else if fits(&from_root) || (!beside.is_dir() && from_root.is_dir()) {
        at_root()
    } else if beside.is_dir() {
        plain(beside)
    } else {
        Located {
            tried: Some(beside),
            ..plain(from_root.clone())
        }
    })
}

/// A script directory: a folder with env.py or versions/.
fn script_dir(path: &Path) -> bool {
    path.join("env.py").is_file() || path.join("versions").is_dir()
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
    let at = Place {
        shown: &shown,
        section: None,
    };
    alembic_spec(root, dir, Some(path), at, chain_name(root, dir), opts).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        dir
    }

    #[test]
    fn a_relative_location_is_read_beside_the_ini_first_then_from_the_root() {
        let dir = tree(&[
            "app/migrations/env.py",
            "migrations/versions/x.py",
            "svc/x.py",
            "db/store/plain.txt",
        ]);
        let (root, app) = (dir.path(), dir.path().join("app"));
        // Both fit: the ini's folder, and the root's reading noted.
        let found = locate(root, &app, "migrations", script_dir).unwrap();
        assert_eq!(found.path, app.join("migrations"));
        assert!(!found.from_root);
        assert_eq!(found.also, Some(root.join("migrations")));
        // Only the root's: read from the root.
        let found = locate(root, &root.join("svc"), "migrations", script_dir).unwrap();
        assert_eq!(found.path, root.join("migrations"));
        assert!(found.from_root);
        assert_eq!(found.also, None);
        // The root is a folder but no script directory: `.` beside the ini.
        let found = locate(root, &app.join("migrations"), ".", script_dir).unwrap();
        assert_eq!(found.path, app.join("migrations"));
        assert_eq!((found.from_root, found.also), (false, None));
        // Neither fits, but one is a folder: that one (it errors later,
        // naming what it lacks).
        let found = locate(root, &root.join("db"), "store", script_dir).unwrap();
        assert_eq!(
            (found.path, found.from_root),
            (root.join("db/store"), false)
        );
        // A script directory from the root wins over a plain folder beside.
        std::fs::create_dir_all(root.join("db/migrations")).unwrap();
        let found = locate(root, &root.join("db"), "migrations", script_dir).unwrap();
        assert_eq!(
            (found.path, found.from_root),
            (root.join("migrations"), true)
        );
        // Nothing: both readings are named.
        let found = locate(root, &app, "gone", script_dir).unwrap();
        assert_eq!(found.tried, Some(app.join("gone")));
        assert_eq!(
            not_a_directory(root, "script_location", "gone", &found),
            "script_location `gone` is not a directory from the ini's folder (app/gone) nor from the repository root (gone)"
        );
        // Where both readings are one path, nothing is ambiguous.
        let found = locate(root, root, "migrations", script_dir).unwrap();
        assert_eq!((found.from_root, found.also), (false, None));
        // Version locations only need to be folders.
        let found = locate(root, &app, "svc", Path::is_dir).unwrap();
        assert_eq!((found.path, found.from_root), (root.join("svc"), true));
    }

    #[test]
    fn an_ini_without_script_location_beside_env_py_is_flask_migrate_s() {
        let dir = tree(&[
            "migrations/env.py",
            "migrations/versions/a.py",
            "template/env.py",
            "bare/versions/a.py",
        ]);
        let root = dir.path();
        for d in ["migrations", "template", "bare"] {
            std::fs::write(root.join(d).join("alembic.ini"), "[alembic]\n").unwrap();
        }
        let specs = alembic_sections(root, &root.join("migrations/alembic.ini")).unwrap();
        assert_eq!(specs.len(), 1);
        let spec = specs[0].source::<AlembicSpec>().unwrap();
        assert_eq!(spec.run, Run::Flask);
        assert_eq!(spec.script_location, Some(root.join("migrations")));
        assert_eq!(spec.versions, [root.join("migrations/versions")]);
        // env.py and no versions/: a template, not a chain.
        let specs = alembic_sections(root, &root.join("template/alembic.ini")).unwrap();
        assert!(specs.is_empty());
        // versions/ and no env.py: nothing says where Alembic would look.
        let err = alembic_sections(root, &root.join("bare/alembic.ini")).unwrap_err();
        assert_eq!(err[0].file, "bare/alembic.ini");
        assert_eq!(err[0].line, Some(1));
        assert!(
            err[0].message.starts_with("no `script_location`"),
            "{err:?}"
        );
    }
}
