//! The content of a new revision file in the chain's own style: its
//! `script.py.mako` (only the simple `${...}` substitutions, without a Mako
//! engine), else the house style of its newest migration.

/// The values `alembic revision` passes to its templates.
pub(crate) struct NewRevision<'a> {
    pub id: &'a str,
    pub down: &'a [String],
    pub message: &'a str,
    pub now: Utc,
}

/// A UTC timestamp, enough for file names and `Create Date:` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
    pub epoch: i64,
}

impl Utc {
    pub fn now() -> Utc {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Utc::from_epoch(d.as_secs() as i64, d.subsec_micros())
    }

    /// A time to the minute, as a header shows it: `2026-12-05 22:03`.
    pub fn format_minutes(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }

    /// Django's name timestamp (`get_migration_name_timestamp`): `20261205_2203`.
    pub fn format_compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}_{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }

    pub fn from_epoch(epoch: i64, micros: u32) -> Utc {
        let days = epoch.div_euclid(86_400);
        let secs = epoch.rem_euclid(86_400);
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Utc {
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs / 60 % 60) as u32,
            second: (secs % 60) as u32,
            micros,
            epoch,
        }
    }

    /// Python's `str(datetime)`: `2026-06-05 14:02:11.123456`, without the
    /// fraction when it is zero.
    pub fn python_str(&self) -> String {
        let base = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.micros == 0 {
            base
        } else {
            format!("{base}.{:06}", self.micros)
        }
    }
}

/// A slug as Alembic makes one: words joined by `_`, lower case, at most
/// 40 characters, cut at a word boundary.
pub(crate) fn slug(message: &str) -> String {
    let words: Vec<String> = message
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut s = words.join("_");
    if s.len() > 40 {
        let cut = s[..40].rfind('_').unwrap_or(40);
        s.truncate(cut);
        s.push('_');
    }
    s
}

fn python_repr_str(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

fn python_repr_ids(ids: &[String]) -> String {
    match ids {
        [] => "None".into(),
        [one] => python_repr_str(one),
        many => format!(
            "({})",
            many.iter()
                .map(|s| python_repr_str(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Renders a script.py.mako that uses only the substitutions Alembic's own
/// templates use. `None` when it has Mako control lines or other
/// expressions, which only Mako can render.
pub(crate) fn render_mako(template: &str, r: &NewRevision<'_>) -> Option<String> {
    if template
        .lines()
        .any(|l| l.trim_start().starts_with('%') && !l.trim_start().starts_with("%%"))
        || template.contains("<%")
    {
        return None;
    }
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let close = rest[at..].find('}')? + at;
        let expr = rest[at + 2..close].trim();
        let (value, filters) = match expr.split_once('|') {
            Some((v, f)) => (v.trim(), f.trim()),
            None => (expr, ""),
        };
        let text = match value {
            "message" => r.message.to_string(),
            "up_revision" => r.id.to_string(),
            "down_revision" if filters.contains("comma") => r.down.join(", "),
            "down_revision" => python_repr_ids(r.down),
            "create_date" => r.now.python_str(),
            "repr(up_revision)" => python_repr_str(r.id),
            "repr(down_revision)" => python_repr_ids(r.down),
            "repr(branch_labels)" | "repr(depends_on)" | "branch_labels" | "depends_on" => {
                "None".into()
            }
            "imports if imports else \"\"" | "imports if imports else ''" => String::new(),
            "upgrades if upgrades else \"pass\"" | "upgrades if upgrades else 'pass'" => {
                "pass".into()
            }
            "downgrades if downgrades else \"pass\"" | "downgrades if downgrades else 'pass'" => {
                "pass".into()
            }
            _ => return None,
        };
        out.push_str(&text);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// How the newest migration of the chain is written, to copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HouseStyle {
    pub annotated: bool,
    pub quote: char,
    pub doc_header: bool,
    pub typed_functions: bool,
}

impl HouseStyle {
    pub fn of(src: &str) -> HouseStyle {
        let quote = src
            .lines()
            .find(|l| l.starts_with("revision"))
            .and_then(|l| l.split_once('=').map(|(_, v)| v.trim_start()))
            .and_then(|v| v.chars().next())
            .filter(|c| *c == '\'' || *c == '"')
            .unwrap_or('"');
        HouseStyle {
            annotated: src.lines().any(|l| l.starts_with("revision:")),
            quote,
            doc_header: src.contains("Revision ID:"),
            typed_functions: src.contains("def upgrade() -> None"),
        }
    }

    pub fn render(&self, r: &NewRevision<'_>) -> String {
        let q = self.quote;
        let lit = |s: &str| format!("{q}{s}{q}");
        let down = match r.down {
            [] => "None".to_string(),
            [one] => lit(one),
            many => format!(
                "({})",
                many.iter().map(|s| lit(s)).collect::<Vec<_>>().join(", ")
            ),
        };
        let mut s = String::new();
        if self.doc_header {
            s.push_str(&format!(
                "\"\"\"{}\n\nRevision ID: {}\nRevises: {}\nCreate Date: {}\n\n\"\"\"\n",
                r.message,
                r.id,
                r.down.join(", "),
                r.now.python_str()
            ));
        } else {
            s.push_str(&format!("\"\"\"{}\"\"\"\n", r.message));
        }
        if self.annotated {
            s.push_str("from typing import Sequence, Union\n\n");
            s.push_str("# revision identifiers, used by Alembic.\n");
            s.push_str(&format!("revision: str = {}\n", lit(r.id)));
            s.push_str(&format!(
                "down_revision: Union[str, Sequence[str], None] = {down}\n"
            ));
            s.push_str("branch_labels: Union[str, Sequence[str], None] = None\n");
            s.push_str("depends_on: Union[str, Sequence[str], None] = None\n");
        } else {
            s.push('\n');
            s.push_str("# revision identifiers, used by Alembic.\n");
            s.push_str(&format!("revision = {}\n", lit(r.id)));
            s.push_str(&format!("down_revision = {down}\n"));
            s.push_str("branch_labels = None\ndepends_on = None\n");
        }
        let sig = if self.typed_functions { " -> None" } else { "" };
        s.push_str(&format!(
            "\n\ndef upgrade(){sig}:\n    pass\n\n\ndef downgrade(){sig}:\n    pass\n"
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev<'a>(down: &'a [String]) -> NewRevision<'a> {
        NewRevision {
            id: "0151",
            down,
            message: "merge tax heads",
            now: Utc::from_epoch(1_780_668_131, 42),
        }
    }

    #[test]
    fn civil_dates() {
        let t = Utc::from_epoch(1_780_668_131, 42);
        assert_eq!(t.python_str(), "2026-06-05 14:02:11.000042");
        assert_eq!(
            Utc::from_epoch(951_782_400, 0).python_str(),
            "2000-02-29 00:00:00"
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("merge heads 0146 and 0148"),
            "merge_heads_0146_and_0148"
        );
        assert_eq!(slug("Tax §1256: tagger!"), "tax_1256_tagger");
    }

    #[test]
    fn mako_substitutions() {
        let down = vec!["0146".to_string(), "0148".to_string()];
        let t = "\"\"\"${message}\n\nRevision ID: ${up_revision}\nRevises: ${down_revision | comma,n}\n\"\"\"\n${imports if imports else \"\"}\nrevision = ${repr(up_revision)}\ndown_revision = ${repr(down_revision)}\nbranch_labels = ${repr(branch_labels)}\n\ndef upgrade():\n    ${upgrades if upgrades else \"pass\"}\n";
        assert_eq!(
            render_mako(t, &rev(&down)).unwrap(),
            "\"\"\"merge tax heads\n\nRevision ID: 0151\nRevises: 0146, 0148\n\"\"\"\n\nrevision = '0151'\ndown_revision = ('0146', '0148')\nbranch_labels = None\n\ndef upgrade():\n    pass\n"
        );
        assert!(render_mako("% if x:\n${message}\n% endif\n", &rev(&down)).is_none());
        assert!(render_mako("${message.upper()}", &rev(&down)).is_none());
    }
}
