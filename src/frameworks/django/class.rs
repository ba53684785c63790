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

impl DepItem {
    /// A `swappable_dependency(...)` (see [`is_swappable_call`]) whose
    /// argument is none that [`Swap::of_attribute`] or a model literal
    /// reads; `shown` is the call as written, shortened.
    pub fn unread_swappable(shown: &str, line: usize) -> DepItem {
        DepItem::NonLiteral {
            why: format!(
                "`{shown}`: its argument is not `settings.NAME`, `object.NAME` or a string literal, so migfix cannot tell which app's first migration it names"
            ),
            line,
        }
    }

    /// An element that is not a pair of string literals.
    pub fn not_a_pair(shown: &str, line: usize) -> DepItem {
        DepItem::NonLiteral {
            why: format!("`{shown}` is not an (app_label, name) pair of string literals"),
            line,
        }
    }
}

/// Whether a call's function (as written) is Django's
/// `swappable_dependency`, however it was imported.
pub(crate) fn is_swappable_call(function: &str) -> bool {
    function == "swappable_dependency" || function.ends_with(".swappable_dependency")
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
    /// `object.attr` as the argument: `settings.NAME` is Django's setting
    /// unless the module imports `settings` from elsewhere than
    /// `django.conf` (`module`: where a top-level `from M import` takes
    /// `object`).
    pub fn of_attribute(object: &str, attr: &str, module: Option<String>) -> Swap {
        if object == "settings" && module.as_deref().is_none_or(|m| m == "django.conf") {
            return Swap::Setting(attr.to_string());
        }
        Swap::Attr {
            module,
            object: object.to_string(),
            attr: attr.to_string(),
        }
    }

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

impl ListAttr {
    /// A value that is neither a list or tuple literal nor a sum of terms.
    pub fn not_literal(shown: &str, line: usize) -> ListAttr {
        ListAttr {
            line,
            non_literal: Some(format!("`{shown}` is not a list literal")),
            ..ListAttr::default()
        }
    }
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
