//! sqitch's targets: every way sqitch reads a project from its
//! sqitch.conf, as `App::Sqitch::Target->all_targets` lists them, each with
//! its engine, and where each key of a target is looked up.

use std::collections::HashSet;

use crate::config::ini::{git_config_get, Entry, Ini};

/// One target of a sqitch.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// What names it: a target's name, or a URI such as `db:sqlite:`.
    pub name: String,
    /// Its engine as sqitch has it (`pg`, `sqlite`): the canonical engine
    /// of its URI. For a target named but not defined in this sqitch.conf
    /// (a user's own configuration may hold it), the engine whose setting
    /// named it.
    pub engine: Option<String>,
}

impl Target {
    /// How a user knows it: a target's name, or for a URI its engine.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            "core".into()
        } else if self.name.contains(':') {
            self.engine.clone().unwrap_or_else(|| self.name.clone())
        } else {
            self.name.clone()
        }
    }

    /// A key as the target reads it: `[target "NAME"]`, then
    /// `[engine "ENGINE"]`, then `[core]`; an empty value counts as unset,
    /// as in sqitch's `_fetch`.
    pub fn fetch(&self, ini: &Ini, key: &str) -> Option<String> {
        let section = (!self.name.is_empty() && !self.name.contains(':'))
            .then(|| format!("target.{}", self.name));
        section
            .and_then(|s| value(ini, &s, key))
            .or_else(|| {
                self.engine
                    .as_ref()
                    .and_then(|e| value(ini, &format!("engine.{e}"), key))
            })
            .or_else(|| value(ini, "core", key))
    }
}

/// A key's value in `section` (`core`, `engine.pg`), unless empty.
pub(crate) fn value(ini: &Ini, section: &str, key: &str) -> Option<String> {
    entry(ini, section, key)
        .map(|e| e.value.clone())
        .filter(|v| !v.is_empty())
}

fn entry<'a>(ini: &'a Ini, section: &str, key: &str) -> Option<&'a Entry> {
    git_config_get(ini, section, key)
}

/// The sections `[KIND "NAME"]` that set at least one key, by name in
/// file order: what sqitch's configuration dump holds of them.
fn named_sections<'a>(
    ini: &'a Ini,
    kind: &str,
) -> Vec<(String, &'a std::collections::BTreeMap<String, Entry>)> {
    ini.sections
        .iter()
        .filter(|(_, keys)| !keys.is_empty())
        .filter_map(|(name, keys)| {
            let (head, sub) = name.split_once(char::is_whitespace)?;
            (head.eq_ignore_ascii_case(kind))
                .then(|| (sub.trim().trim_matches('"').to_string(), keys))
        })
        .collect()
}

/// Every target sqitch knows of in this configuration, in the order of
/// `all_targets`: the default target (`core.target`, else
/// `engine.<core.engine>.target`, else `db:<core.engine>:`), each `[target]`
/// with a URI, each engine's `target`, and `db:ENGINE:` for every engine
/// with settings but no target. Each is listed once.
pub(crate) fn all_targets(ini: &Ini) -> Vec<Target> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out: Vec<Target> = Vec::new();
    let mut add = |name: String, hint: Option<String>, seen: &mut HashSet<String>| {
        seen.insert(name.clone());
        let engine = if name.contains(':') {
            uri_engine(&name)
        } else {
            match value(ini, &format!("target.{name}"), "uri") {
                Some(uri) => uri_engine(&uri),
                None => hint,
            }
        };
        out.push(Target { name, engine });
    };
    let core_engine = value(ini, "core", "engine").map(|e| e.trim_end().to_string());
    let default = value(ini, "core", "target").or_else(|| {
        core_engine.as_ref().map(|e| {
            value(ini, &format!("engine.{e}"), "target").unwrap_or_else(|| format!("db:{e}:"))
        })
    });
    if let Some(name) = default {
        add(name, core_engine.clone(), &mut seen);
    }
    for (name, keys) in named_sections(ini, "target") {
        let has_uri = keys.get("uri").is_some_and(|e| !e.value.is_empty());
        if !name.contains('.') && has_uri && !seen.contains(&name) {
            add(name, None, &mut seen);
        }
    }
    let engines = named_sections(ini, "engine");
    for (engine, keys) in &engines {
        if engine.contains('.') {
            continue;
        }
        let Some(target) = keys.get("target").map(|e| e.value.clone()) else {
            continue;
        };
        if target.is_empty() {
            continue;
        }
        if !seen.contains(&target) {
            add(target, Some(engine.clone()), &mut seen);
        }
        seen.insert(engine.clone());
    }
    for (engine, _) in &engines {
        let engine = engine
            .split('.')
            .next()
            .unwrap_or(engine)
            .trim_end()
            .to_string();
        if !seen.insert(engine.clone()) {
            continue;
        }
        let uri = format!("db:{engine}:");
        if !seen.contains(&uri) {
            add(uri, None, &mut seen);
        }
    }
    out
}

/// The canonical engine of a `db:ENGINE:…` URI, as URI::db names it:
/// `postgres` and `postgresql` are `pg`, `sqlite3` is `sqlite`, and so on.
pub(crate) fn uri_engine(uri: &str) -> Option<String> {
    let scheme = uri
        .strip_prefix("db:")?
        .split(':')
        .next()?
        .to_ascii_lowercase();
    if scheme.is_empty() {
        return None;
    }
    let canonical = match scheme.as_str() {
        "postgres" | "postgresql" | "pgsql" | "pgxc" | "postgresxc" | "redshift" | "yugabyte"
        | "yugabytedb" => "pg",
        "sqlite3" => "sqlite",
        "maria" | "mariadb" => "mysql",
        "cockroachdb" => "cockroach",
        "couch" => "couchdb",
        "max" => "maxdb",
        "monet" => "monetdb",
        "mongo" => "mongodb",
        "sqlserver" => "mssql",
        other => other,
    };
    Some(canonical.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(conf: &str) -> Vec<(String, Option<String>)> {
        all_targets(&Ini::parse_git(conf).unwrap())
            .into_iter()
            .map(|t| (t.name, t.engine))
            .collect()
    }

    fn t(name: &str, engine: &str) -> (String, Option<String>) {
        (name.to_string(), Some(engine.to_string()))
    }

    #[test]
    fn default_then_named_then_engine_targets_then_bare_engines() {
        let conf = "[core]\n\tengine = pg\n[engine \"pg\"]\n\ttarget = db:pg:\n\ttop_dir = pg\n\
                    [engine \"sqlite\"]\n\ttarget = db:sqlite:\n\ttop_dir = sqlite\n\
                    [engine \"mysql\"]\n\tclient = mysql\n[engine \"oracle\"]\n\
                    [target \"ci\"]\n\turi = db:postgres://h/ci\n[target \"nouri\"]\n\ttop_dir = x\n";
        assert_eq!(
            targets(conf),
            [
                t("db:pg:", "pg"),
                t("ci", "pg"),
                t("db:sqlite:", "sqlite"),
                t("db:mysql:", "mysql"),
            ],
            "an engine section with no settings and a target with no URI are nothing"
        );
    }

    #[test]
    fn no_core_engine_means_no_default_target() {
        // genome/tenx's db/sqitch.conf: engines and targets, no [core].
        let conf = "[deploy]\n\tverify = true\n[engine \"sqlite\"]\n\tclient = sqlite3\n\ttop_dir = sqlite\n\
                    [target \"sqlite-test\"]\n\turi = \"db:sqlite:../t/data/test.db\"\n\tengine = sqlite\n\
                    [engine \"mysql\"]\n\ttop_dir = mysql\n[target \"mysql-dev\"]\n\turi = db:mysql://u@h/db\n";
        assert_eq!(
            targets(conf),
            [
                t("sqlite-test", "sqlite"),
                t("mysql-dev", "mysql"),
                t("db:sqlite:", "sqlite"),
                t("db:mysql:", "mysql"),
            ]
        );
    }

    #[test]
    fn a_named_default_target_is_listed_once_and_keys_fall_back() {
        let conf = "[core]\n\tengine = pg\n\ttop_dir = sql\n[engine \"pg\"]\n\ttarget = dev\n\
                    [target \"dev\"]\n\turi = db:pg:///registry\n\tplan_file = dev.plan\n";
        let ini = Ini::parse_git(conf).unwrap();
        let all = all_targets(&ini);
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].fetch(&ini, "plan_file").as_deref(), Some("dev.plan"));
        assert_eq!(all[0].fetch(&ini, "top_dir").as_deref(), Some("sql"));
        assert_eq!(all[0].label(), "dev");
        // A target sqitch.conf names but does not define keeps the engine
        // that named it.
        let ini = Ini::parse_git(
            "[core]\n\tengine = pg\n[engine \"pg\"]\n\ttarget = prod\n\ttop_dir = pg\n",
        )
        .unwrap();
        let all = all_targets(&ini);
        assert_eq!(
            all,
            [Target {
                name: "prod".into(),
                engine: Some("pg".into())
            }]
        );
        assert_eq!(all[0].fetch(&ini, "top_dir").as_deref(), Some("pg"));
    }

    #[test]
    fn engines_are_canonical() {
        for (uri, engine) in [
            ("db:postgresql://h/x", Some("pg")),
            ("db:sqlite3:x.db", Some("sqlite")),
            ("db:mariadb:", Some("mysql")),
            ("db:snowflake://a", Some("snowflake")),
            ("pg://h/x", None),
        ] {
            assert_eq!(uri_engine(uri).as_deref(), engine, "{uri}");
        }
    }
}
