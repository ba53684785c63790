//! Names as Postgres compares them (folded, table keys by schema), and the
//! functions an index cannot hold; both the parsed and the fallback reading
//! use them.

use sqlparser::ast::{ObjectName, ObjectNamePart};

use crate::python::calls::UNKNOWN;

/// Unquoted names fold to lower case, as Postgres folds them.
pub(super) fn ident_name(value: &str, quoted: bool) -> String {
    if quoted {
        value.to_string()
    } else {
        value.to_lowercase()
    }
}

/// A table name as migfix compares them: folded, without `public.`.
pub(crate) fn table_key(name: &str) -> String {
    name.strip_prefix("public.").unwrap_or(name).to_string()
}

/// The key of a table written `written`, unqualified names going to
/// `schema` (`None`: `public`).
pub(crate) fn qualify(written: &str, schema: Option<&str>) -> String {
    match schema {
        Some(s) if !written.contains('.') => table_key(&format!("{s}.{written}")),
        _ => table_key(written),
    }
}

/// The schema of a table key; `None` for `public`.
pub(crate) fn schema_of(key: &str) -> Option<&str> {
    key.rsplit_once('.').map(|(s, _)| s)
}

/// A name as written, folded, its parts joined by `.`.
pub(super) fn object_name(name: &ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => ident_name(&i.value, i.quote_style.is_some()),
            ObjectNamePart::Function(f) => f.name.value.to_lowercase(),
        })
        .collect();
    parts.join(".")
}

/// A role name that is not a role (`PUBLIC`, `CURRENT_USER`) or not known.
pub(super) fn not_a_role(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "public" | "current_user" | "session_user" | "current_role" | "none"
    ) || name.contains(UNKNOWN)
}

/// Functions whose result can change between calls or with settings, so
/// that Postgres refuses them in an index (`... must be marked IMMUTABLE`).
/// `args` is the argument count, for the ones only some forms of which are
/// not immutable.
pub(crate) fn not_immutable(name: &str, args: usize) -> bool {
    match name.to_ascii_lowercase().as_str() {
        "now"
        | "current_timestamp"
        | "current_date"
        | "current_time"
        | "localtime"
        | "localtimestamp"
        | "clock_timestamp"
        | "statement_timestamp"
        | "transaction_timestamp"
        | "timeofday"
        | "random"
        | "nextval"
        | "currval"
        | "lastval"
        | "setval"
        | "gen_random_uuid"
        | "uuid_generate_v1"
        | "uuid_generate_v4"
        | "txid_current"
        | "current_setting" => true,
        "age" => args == 1,
        "to_timestamp" => args == 2,
        _ => false,
    }
}

/// Shown the way it is usually written: `now()`, `CURRENT_TIMESTAMP`.
pub(super) fn shown(name: &str, parens: bool) -> String {
    if parens {
        format!("{}()", name.to_lowercase())
    } else {
        name.to_uppercase()
    }
}
