//! What a team has judged and chosen not to be told again: codes in
//! `ignore = [...]` (migfix.toml, `[tool.migfix]`, a chain's table), in
//! `--ignore`/`--select`, and in `# migfix: ignore[...]` comments.

use std::fmt;
use std::str::FromStr;

/// A runbook class (`F`), or a finding's kind as JSON and SARIF name it
/// (`multiple-bases`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Code {
    Class(char),
    Kind(String),
}

impl Code {
    /// Whether a finding of `class` and `kind` is meant.
    pub fn matches(&self, class: Option<char>, kind: &str) -> bool {
        match self {
            Code::Class(c) => class == Some(*c),
            Code::Kind(k) => k == kind,
        }
    }
}

impl FromStr for Code {
    type Err = String;

    fn from_str(s: &str) -> Result<Code, String> {
        let t = s.trim();
        let mut chars = t.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            let up = c.to_ascii_uppercase();
            if ('A'..='F').contains(&up) {
                return Ok(Code::Class(up));
            }
        }
        let kind = t.split('-').all(|w| {
            w.starts_with(|c: char| c.is_ascii_lowercase())
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
        if kind && t.len() > 1 {
            return Ok(Code::Kind(t.to_string()));
        }
        Err(format!(
            "`{s}` is neither a class (A to F) nor a finding's kind (such as `multiple-bases`, as JSON's `kind` says)"
        ))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Code::Class(c) => write!(f, "{c}"),
            Code::Kind(k) => f.write_str(k),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One code a configuration ignores, with where it says so (SARIF's
/// justification of the suppression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ignored {
    pub code: Code,
    /// `migfix.toml`, `[[chain]] "api" of migfix.toml`, `--ignore`.
    pub by: String,
}

impl Ignored {
    /// Why it is suppressed, as SARIF's justification says it:
    /// `ignore F in migfix.toml`, `--ignore F`.
    pub fn justification(&self) -> String {
        if self.by.starts_with("--") {
            format!("{} {}", self.by, self.code)
        } else {
            format!("ignore {} in {}", self.code, self.by)
        }
    }

    pub fn all(codes: &[Code], by: &str) -> Vec<Ignored> {
        codes
            .iter()
            .map(|code| Ignored {
                code: code.clone(),
                by: by.to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classes_or_kinds() {
        assert_eq!("F".parse(), Ok(Code::Class('F')));
        assert_eq!(" b ".parse(), Ok(Code::Class('B')));
        assert_eq!(
            "multiple-bases".parse(),
            Ok(Code::Kind("multiple-bases".into()))
        );
        assert_eq!("cycle".parse(), Ok(Code::Kind("cycle".into())));
        assert_eq!(
            "sqitch-verify-script".parse(),
            Ok(Code::Kind("sqitch-verify-script".into()))
        );
        for bad in ["G", "", "FF", "g", "Multiple-Heads", "-x", "a--b", "F,B"] {
            assert!(bad.parse::<Code>().is_err(), "{bad}");
        }
        assert!(Code::Class('F').matches(Some('F'), "duplicate-table"));
        assert!(!Code::Class('F').matches(None, "duplicate-table"));
        assert!(Code::Kind("duplicate-table".into()).matches(Some('F'), "duplicate-table"));
    }
}
