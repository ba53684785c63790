//! Just enough of Python's `configparser` to read alembic.ini the way Alembic
//! does: sections, `key = value` or `key: value`, lower-cased keys,
//! indented continuation lines, full-line `#`/`;` comments, a `[DEFAULT]`
//! section, and `%(name)s` interpolation with `%%` for a literal percent.
//! Also reads git-config style files (sqitch.conf): `[engine "pg"]` headers.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub value: String,
    /// 1-based line of the key, for error messages.
    pub line: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Ini {
    /// Section order as in the file; `DEFAULT` is kept apart.
    pub sections: Vec<(String, BTreeMap<String, Entry>)>,
    defaults: BTreeMap<String, Entry>,
    /// The line of each section's first header.
    headers: BTreeMap<String, usize>,
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub(crate) struct IniError {
    pub line: usize,
    pub message: String,
}

impl Ini {
    /// Python configparser rules (alembic.ini).
    pub fn parse(text: &str) -> Result<Ini, IniError> {
        Self::parse_with(text, false)
    }

    /// git-config rules (sqitch.conf): indentation means nothing, values may
    /// be quoted and may carry a trailing `#` or `;` comment.
    pub fn parse_git(text: &str) -> Result<Ini, IniError> {
        Self::parse_with(text, true)
    }

    fn parse_with(text: &str, git: bool) -> Result<Ini, IniError> {
        let mut ini = Ini::default();
        // (section index or None for DEFAULT, key) of the option being continued.
        let mut current: Option<Option<usize>> = None;
        let mut last_key: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let stripped = raw.trim();
            if stripped.is_empty() {
                continue;
            }
            let indented = raw.starts_with([' ', '\t']);
            if stripped.starts_with(['#', ';']) {
                continue;
            }
            if indented && !git {
                if let (Some(section), Some(key)) = (current, last_key.as_ref()) {
                    let map = ini.map_mut(section);
                    if let Some(entry) = map.get_mut(key) {
                        entry.value.push('\n');
                        entry.value.push_str(stripped);
                        continue;
                    }
                }
            }
            if stripped.starts_with('[') {
                let Some(name) = stripped.strip_prefix('[').and_then(|s| s.strip_suffix(']'))
                else {
                    return Err(IniError {
                        line,
                        message: format!("malformed section header `{stripped}`"),
                    });
                };
                let name = name.trim().to_string();
                ini.headers.entry(name.clone()).or_insert(line);
                current = Some(if name == "DEFAULT" {
                    None
                } else {
                    match ini.sections.iter().position(|(n, _)| *n == name) {
                        Some(at) => Some(at),
                        None => {
                            ini.sections.push((name, BTreeMap::new()));
                            Some(ini.sections.len() - 1)
                        }
                    }
                });
                last_key = None;
                continue;
            }
            let Some(section) = current else {
                return Err(IniError {
                    line,
                    message: "an option before any [section] header".into(),
                });
            };
            let split = stripped.find(['=', ':']);
            let (key, value) = match split {
                Some(at) => (stripped[..at].trim(), stripped[at + 1..].trim()),
                None => (stripped, ""),
            };
            let key = key.to_lowercase();
            let value = if git {
                git_value(value)
            } else {
                value.to_string()
            };
            ini.map_mut(section)
                .insert(key.clone(), Entry { value, line });
            last_key = Some(key);
        }
        Ok(ini)
    }

    fn map_mut(&mut self, section: Option<usize>) -> &mut BTreeMap<String, Entry> {
        match section {
            None => &mut self.defaults,
            Some(i) => &mut self.sections[i].1,
        }
    }

    pub fn section(&self, name: &str) -> Option<&BTreeMap<String, Entry>> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m)
    }

    /// The line of the section's header, where the file has one.
    pub fn header_line(&self, section: &str) -> Option<usize> {
        self.headers.get(section).copied()
    }

    /// The raw (uninterpolated) entry, falling back to `[DEFAULT]`.
    pub fn raw(&self, section: &str, key: &str) -> Option<&Entry> {
        self.section(section)
            .and_then(|m| m.get(key))
            .or_else(|| self.defaults.get(key))
    }

    /// The value with `%(name)s` interpolated from the section, `[DEFAULT]`
    /// and `extra` (Alembic passes `here`), as configparser does.
    pub fn get(
        &self,
        section: &str,
        key: &str,
        extra: &[(&str, &str)],
    ) -> Result<Option<Entry>, IniError> {
        let Some(entry) = self.raw(section, key) else {
            return Ok(None);
        };
        let value = self.interpolate(section, &entry.value, extra, entry.line, 0)?;
        Ok(Some(Entry {
            value,
            line: entry.line,
        }))
    }

    fn interpolate(
        &self,
        section: &str,
        value: &str,
        extra: &[(&str, &str)],
        line: usize,
        depth: usize,
    ) -> Result<String, IniError> {
        if depth > 10 {
            return Err(IniError {
                line,
                message: "interpolation nested too deeply".into(),
            });
        }
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            if let Some(after) = rest.strip_prefix("%%") {
                out.push('%');
                rest = after;
            } else if let Some(after) = rest.strip_prefix("%(") {
                let Some(close) = after.find(")s") else {
                    return Err(IniError {
                        line,
                        message: format!("bad interpolation syntax in `{value}`"),
                    });
                };
                let name = after[..close].to_lowercase();
                let replacement = if let Some(entry) = self.raw(section, &name) {
                    self.interpolate(section, &entry.value, extra, line, depth + 1)?
                } else if let Some((_, v)) = extra.iter().find(|(k, _)| *k == name) {
                    v.to_string()
                } else {
                    return Err(IniError {
                        line,
                        message: format!("`%({name})s` refers to an option that is not set"),
                    });
                };
                out.push_str(&replacement);
                rest = &after[close + 2..];
            } else {
                return Err(IniError {
                    line,
                    message: format!("`%` must be followed by `%` or `(`: `{value}` (write `%%` for a percent sign)"),
                });
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// git-config style lookup for sqitch.conf: `[core]` `top_dir = x`, and
/// `[engine "pg"]` sections. Values are taken as written, quotes removed.
pub(crate) fn git_config_get<'a>(ini: &'a Ini, section: &str, key: &str) -> Option<&'a Entry> {
    ini.sections
        .iter()
        .find(|(name, _)| normalize_git_section(name) == section)
        .and_then(|(_, m)| m.get(key))
}

fn normalize_git_section(name: &str) -> String {
    // `engine "pg"` → `engine.pg`
    match name.split_once(char::is_whitespace) {
        Some((head, sub)) => format!("{}.{}", head.to_lowercase(), sub.trim().trim_matches('"')),
        None => name.to_lowercase(),
    }
}

/// A git-config value: a trailing comment dropped (outside quotes), quotes removed.
fn git_value(value: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            '#' | ';' if !quoted => break,
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn here_interpolation_and_percent_escape() {
        let ini = Ini::parse(
            "[alembic]\nscript_location = %(here)s/migrations\nfile_template = %%(rev)s_%%(slug)s\n",
        )
        .unwrap();
        let get = |k| {
            ini.get("alembic", k, &[("here", "/repo")])
                .unwrap()
                .unwrap()
        };
        assert_eq!(get("script_location").value, "/repo/migrations");
        assert_eq!(get("script_location").line, 2);
        assert_eq!(get("file_template").value, "%(rev)s_%(slug)s");
    }

    #[test]
    fn continuation_defaults_comments_and_case() {
        let ini = Ini::parse(
            "# top comment\n[DEFAULT]\nbase = /b\n\n[alembic]\n; comment\nVersion_Locations = %(base)s/one\n    %(base)s/two\nx: y # kept\n",
        )
        .unwrap();
        let v = ini
            .get("alembic", "version_locations", &[])
            .unwrap()
            .unwrap();
        assert_eq!(v.value, "/b/one\n/b/two");
        assert_eq!(
            ini.get("alembic", "x", &[]).unwrap().unwrap().value,
            "y # kept"
        );
        assert_eq!(
            ini.get("alembic", "base", &[]).unwrap().unwrap().value,
            "/b"
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = Ini::parse("[alembic]\nscript_location = %(nope)s\n")
            .unwrap()
            .get("alembic", "script_location", &[])
            .unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("nope"));
        assert_eq!(Ini::parse("key = v\n").unwrap_err().line, 1);
        assert_eq!(Ini::parse("[ok]\n[broken\n").unwrap_err().line, 2);
        let ini = Ini::parse("# top\n[alembic]\n\n[loggers]\nkeys = root\n").unwrap();
        assert_eq!(ini.header_line("alembic"), Some(2));
        assert_eq!(ini.header_line("loggers"), Some(4));
        assert_eq!(ini.header_line("nope"), None);
    }

    #[test]
    fn git_config_sections() {
        let ini =
            Ini::parse_git("[core]\n\tengine = pg # the engine\n\ttop_dir = \"db\"\n[engine \"pg\"]\n\tplan_file = db/x.plan\n")
                .unwrap();
        assert_eq!(
            git_config_get(&ini, "core", "top_dir").map(|e| e.value.as_str()),
            Some("db")
        );
        assert_eq!(
            git_config_get(&ini, "core", "engine").map(|e| e.value.as_str()),
            Some("pg")
        );
        assert_eq!(
            git_config_get(&ini, "engine.pg", "plan_file").map(|e| e.value.as_str()),
            Some("db/x.plan")
        );
    }
}
