//! What each `swappable_dependency` of a project depends on, as Django's
//! `swappable_dependency(value)` makes it: `(value.split(".")[0],
//! "__first__")`, the first migration of the app the model setting names.
//! The values come from the project's settings, read statically.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::config::DjangoSpec;
use super::parse::{DepItem, MigrationClass, Swap};
use super::settings::{self, Asked, Settings};
use crate::config::rel;
use crate::error::Diag;

/// A `swappable_dependency` as the project's settings resolve it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Swapped {
    /// As the migration writes it (`AUTH_USER_MODEL`,
    /// `oauth2_settings.APPLICATION_MODEL`).
    pub swappable: String,
    /// The Django setting it reads, where known.
    pub setting: Option<String>,
    /// The model (`users.User`); `None` when unknown.
    pub model: Option<String>,
    /// Where the value comes from: `path:line`, `migfix.toml`, a default.
    pub from: Option<String>,
}

/// One class's swappable dependencies, each with the app label it names.
pub(crate) type ClassSwaps = Vec<(Swapped, Option<String>)>;

/// A swappable as shown, as written, and what it asks (or why not).
type Asking = (String, String, Result<Ask, String>);

/// Each class's swappable dependencies in the order it writes them, with
/// the app label each one names (`None` where unknown), and warnings for
/// those left unknown: one per setting, at its first migration.
pub(crate) fn resolve(
    root: &Path,
    spec: &DjangoSpec,
    classes: &[(&Path, &MigrationClass)],
) -> (Vec<ClassSwaps>, Vec<Diag>) {
    // What each one asks: a setting, with a library's default; a model.
    let asks: Vec<Vec<Asking>> = classes
        .iter()
        .map(|(path, class)| {
            class
                .dependencies
                .items
                .iter()
                .filter_map(|i| match i {
                    DepItem::Swappable { of, .. } => {
                        Some((of.shown(), of.written(), ask(path, of)))
                    }
                    _ => None,
                })
                .collect()
        })
        .collect();
    let asked: BTreeSet<Asked> = asks
        .iter()
        .flatten()
        .filter_map(|(_, _, a)| match a {
            Ok(Ask::Setting(a)) => Some(a.clone()),
            _ => None,
        })
        .collect();
    let found = settings::resolve(root, &spec.project, &spec.settings, &asked);
    let mut warnings = found.warnings.clone();
    let mut unknown: Vec<(String, PathBuf, usize, String, usize)> = Vec::new();
    let mut out = Vec::with_capacity(classes.len());
    for ((path, class), asks) in classes.iter().zip(asks) {
        let lines = class.dependencies.items.iter().filter_map(|i| match i {
            DepItem::Swappable { line, .. } => Some(*line),
            _ => None,
        });
        let mut mine = Vec::new();
        for ((shown, written, ask), line) in asks.into_iter().zip(lines) {
            let (setting, known, why) = match ask {
                Ok(Ask::Model(model)) => (None, Some((model, None)), None),
                Ok(Ask::Setting(a)) => {
                    let known = value_of(&found, &a.name)
                        .map(|k| (k.value.clone(), Some(k.origin.shown(root))));
                    let why = known.is_none().then(|| unknown_why(&found, &a.name));
                    (Some(a.name), known, why)
                }
                Err(why) => (None, None, Some(why)),
            };
            if let Some(why) = why {
                match unknown.iter_mut().find(|u| u.0 == written) {
                    Some(u) => u.4 += 1,
                    None => unknown.push((written, path.to_path_buf(), line, why, 0)),
                }
            }
            let label = known
                .as_ref()
                .map(|(model, _)| model.split('.').next().unwrap_or_default().to_string());
            mine.push((
                Swapped {
                    swappable: shown,
                    setting,
                    model: known.as_ref().map(|k| k.0.clone()),
                    from: known.and_then(|k| k.1),
                },
                label,
            ));
        }
        out.push(mine);
    }
    for (shown, path, line, why, more) in unknown {
        let more = match more {
            0 => String::new(),
            1 => " (and 1 more migration)".to_string(),
            n => format!(" (and {n} more migrations)"),
        };
        warnings.push(Diag::new(
            rel(root, &path),
            Some(line),
            format!(
                "`swappable_dependency({shown})` is not resolved: {why}; where it names a model of one of the project's apps, Django depends on that app's first migration, which is left out of the graph here{more}"
            ),
        ));
    }
    (out, warnings)
}

fn value_of<'s>(found: &'s Settings, name: &str) -> Option<&'s settings::Known> {
    found.values.get(name).and_then(Option::as_ref)
}

fn unknown_why(found: &Settings, name: &str) -> String {
    match found.values.get(name) {
        Some(None) if !found.warnings.iter().any(|w| w.message.contains(name)) => format!(
            "no settings file of the project sets {name} (give its value in migfix.toml: [chain.settings] {name} = \"app_label.Model\")"
        ),
        _ => format!("the value of {name} is unknown (see the warning on the settings file)"),
    }
}

/// What a swappable asks for.
enum Ask {
    /// A Django setting, with the default of the library object that
    /// reads it.
    Setting(Asked),
    /// A model written as a literal.
    Model(String),
}

/// What a swappable asks for; the error says why it cannot be told.
fn ask(path: &Path, of: &Swap) -> Result<Ask, String> {
    match of {
        Swap::Setting(name) => Ok(Ask::Setting(Asked {
            name: name.clone(),
            default: None,
        })),
        Swap::Model(model) => Ok(Ask::Model(model.clone())),
        Swap::Attr {
            module,
            object,
            attr,
        } => {
            let module = module.as_ref().ok_or_else(|| {
                format!("the migration does not import `{object}` with `from ... import`")
            })?;
            let file = settings::imported_file(path, module).ok_or_else(|| {
                format!("`{object}` comes from {module}, which is not in the tree")
            })?;
            let (name, default, line) = settings::library_setting(&file, attr).ok_or_else(|| {
                format!(
                    "{module} does not set {attr} as `getattr(settings, \"NAME\", \"default\")`, so migfix cannot tell which setting it reads"
                )
            })?;
            Ok(Ask::Setting(Asked {
                name,
                default: default.map(|d| (d, file, line)),
            }))
        }
    }
}
