//! What a Django migration module's `Migration` class says: its
//! `dependencies`, `replaces`, `run_before` and `initial`, as both readers
//! of the module (`parse` and `quick`) give it.

use crate::python::StrLit;

/// One element of `dependencies`, `replaces` or `run_before`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DepItem {
    /// `("app_label", "migration_name")`.
    Key { app: StrLit, name: StrLit },
    /// `migrations.swappable_dependency(settings.AUTH_USER_MODEL)`: the
    /// first migration of the app a model setting names, which the
    /// project's settings say.
    Swappable { of: Swap, line: usize },
    /// Anything else, with what it is.
    NonLiteral { why: String, line: usize },
}

/// What a `swappable_dependency` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Swap {
    /// `settings.NAME`: a Django setting.
    Setting(String),
    /// `object.NAME` of an object a module defines from the settings
    /// (`oauth2_settings.APPLICATION_MODEL`), with the module the migration
    /// imports it from (`oauth2_provider.settings`; relative dots kept).
    Attr {
        module: Option<String>,
        object: String,
        attr: String,
    },
    /// A string literal: the model itself (`"users.User"`).
    Model(String),
}

impl Swap {
    /// What it names: the setting's name, `object.NAME`, or the model.
    pub fn shown(&self) -> String {
        match self {
            Swap::Setting(name) => name.clone(),
            Swap::Attr { object, attr, .. } => format!("{object}.{attr}"),
            Swap::Model(model) => model.clone(),
        }
    }

    /// The argument as the migration writes it.
    pub fn written(&self) -> String {
        match self {
            Swap::Setting(name) => format!("settings.{name}"),
            Swap::Attr { object, attr, .. } => format!("{object}.{attr}"),
            Swap::Model(model) => format!("{model:?}"),
        }
    }
}

/// A list attribute of the class: its items, or why it is not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListAttr {
    pub line: usize,
    pub items: Vec<DepItem>,
    /// The value is not a list or tuple literal (a name, a call).
    pub non_literal: Option<String>,
    /// The terms of a `+` that are not literals (`[...] + app_settings.X`),
    /// with their lines: the literal terms' items are read, these are not.
    pub unread_terms: Vec<(String, usize)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MigrationClass {
    /// Line of `class Migration`.
    pub line: usize,
    pub dependencies: ListAttr,
    pub replaces: ListAttr,
    pub run_before: ListAttr,
    /// `initial = True/False`; `None` when not set or not a literal.
    pub initial: Option<bool>,
}
