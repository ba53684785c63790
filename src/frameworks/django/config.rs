//! Where Django projects are found: every migrations package with a
//! `Migration` class, grouped by project, each app with its label.

use std::path::{Path, PathBuf};

use super::settings::SettingsConf;
use super::PROFILE;
use crate::config::discover::{chain_name, walk, Found, Markers};
use crate::config::{clean, rel, ChainSpec, Source, TomlChain, TomlSettings};
use crate::error::Diag;

pub(super) const MARKERS: Markers = Markers {
    files: &["manage.py"],
    dirs: &["migrations"],
};

/// The keys of a migfix.toml table of a Django project.
pub(super) const TABLE_KEYS: &[&str] = &["project", "apps", "settings"];

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
    /// What migfix.toml says of the project's settings.
    pub settings: SettingsConf,
}

impl Source for DjangoSpec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn location(&self) -> PathBuf {
        self.project.clone()
    }

    fn config_file(&self) -> Option<PathBuf> {
        Some(self.project.join("manage.py")).filter(|p| p.is_file())
    }

    fn folders(&self, _root: &Path) -> Vec<PathBuf> {
        self.apps.iter().map(|a| a.dir.clone()).collect()
    }

    fn occupies(&self) -> Vec<PathBuf> {
        self.folders(&self.project)
    }

    fn parts(&self) -> Vec<String> {
        self.apps.iter().map(|a| a.label.clone()).collect()
    }
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

/// Django projects: every `migrations` package whose modules define a
/// `Migration` class, grouped by the nearest folder above with a manage.py
/// (else the root), since Django's graph spans a project's apps. Folders
/// that other frameworks' chains occupy (`occupied`) are not Django's.
pub(super) fn discover(root: &Path, found: &Found, occupied: &[PathBuf]) -> Vec<ChainSpec> {
    let mut projects: std::collections::BTreeMap<PathBuf, Vec<DjangoApp>> = Default::default();
    let packages = found
        .named("migrations")
        .iter()
        .filter(|d| d.join("__init__.py").is_file());
    for dir in packages {
        if occupied
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
            .named("manage.py")
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
        .map(|(project, apps, shadowed)| {
            ChainSpec::new(
                chain_name(root, &project),
                &PROFILE,
                DjangoSpec {
                    project,
                    apps,
                    shadowed,
                    settings: SettingsConf::default(),
                },
            )
        })
        .collect()
}

/// The Django apps below `project`, as discovery finds them.
fn apps_below(project: &Path) -> Vec<DjangoApp> {
    let found = walk(project, &[MARKERS]);
    discover(project, &found, &[])
        .iter()
        .filter_map(|c| c.source::<DjangoSpec>())
        .flat_map(|d| d.apps.clone())
        .collect()
}

/// Whether a package holds a Django migration: a module that mentions
/// django and defines a top-level `class Migration(...)`, not only in a
/// string (the template in Django's own `django/db/migrations/writer.py`,
/// which a project that vendors Django has in its tree).
fn has_django_migration(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name.ends_with(".py")
            && !name.starts_with(['_', '~'])
            && crate::files::read(e.path()).is_ok_and(|b| {
                let text = String::from_utf8_lossy(&b);
                text.contains("class Migration(")
                    && text.contains("django")
                    // (A syntax error is the reader's to report.)
                    && !matches!(super::parse::read(&b), Ok(None))
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
    let Ok(text) = crate::files::read_to_string(app_dir.join("apps.py")) else {
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

/// A `kind = "django"` table: `project` (default the root), and `apps`
/// (label = migrations folder) or else the apps discovery finds there.
pub(super) fn from_table(
    root: &Path,
    c: &TomlChain,
    at: &dyn Fn(&str, String) -> Diag,
) -> Result<ChainSpec, Diag> {
    project_from_table(root, c).map_err(|(key, m)| at(key, m))
}

/// The chain of a table, or the key at fault and what is wrong.
fn project_from_table(root: &Path, c: &TomlChain) -> Result<ChainSpec, (&'static str, String)> {
    let project = clean(&root.join(c.project.as_deref().unwrap_or(Path::new("."))));
    if !project.is_dir() {
        return Err((
            "project",
            format!("`project`: {} is not a directory", rel(root, &project)),
        ));
    }
    let apps = match &c.apps {
        Some(apps) => {
            let mut out = Vec::new();
            for (label, dir) in apps {
                let dir = clean(&root.join(dir));
                if !dir.is_dir() {
                    return Err((
                        "apps",
                        format!("`apps.{label}`: {} is not a directory", rel(root, &dir)),
                    ));
                }
                out.push(DjangoApp {
                    label: label.clone(),
                    dir,
                });
            }
            out
        }
        None => apps_below(&project),
    };
    if apps.is_empty() {
        let key = if c.apps.is_some() { "apps" } else { "project" };
        return Err((
            key,
            format!("no Django migrations below {}", rel(root, &project)),
        ));
    }
    let settings =
        settings_conf(root, &project, c.settings.as_ref()).map_err(|m| ("settings", m))?;
    Ok(ChainSpec::new(
        chain_name(root, &project),
        &PROFILE,
        DjangoSpec {
            project,
            apps,
            shadowed: Vec::new(),
            settings,
        },
    ))
}

/// `settings = "proj.settings"`, or `[chain.settings]`: values by name
/// (`AUTH_USER_MODEL = "users.User"`), and the module as `module`.
fn settings_conf(
    root: &Path,
    project: &Path,
    table: Option<&TomlSettings>,
) -> Result<SettingsConf, String> {
    let mut conf = SettingsConf::default();
    match table {
        None => return Ok(conf),
        Some(TomlSettings::Module(m)) => conf.module = Some(m.clone()),
        Some(TomlSettings::Values(values)) => {
            for (name, value) in values {
                if name == "module" {
                    conf.module = Some(value.clone());
                } else if !name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                    || name.starts_with(|c: char| c.is_ascii_digit())
                {
                    return Err(format!(
                        "`settings.{name}`: a setting's name is in capitals (AUTH_USER_MODEL), and `module` names the settings module"
                    ));
                } else if value.split('.').count() != 2 || value.split('.').any(str::is_empty) {
                    return Err(format!(
                        "`settings.{name}`: {value:?} is not a model as Django names one (\"app_label.ModelName\")"
                    ));
                } else {
                    conf.values.insert(name.clone(), value.clone());
                }
            }
        }
    }
    if let Some(m) = &conf.module {
        if super::settings::module_in(root, project, m).is_none() {
            return Err(format!(
                "`settings`: no module {m} in {} (its folder, its src/ or the root)",
                rel(root, project)
            ));
        }
    }
    Ok(conf)
}
