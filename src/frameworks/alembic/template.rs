//! The content of a new Alembic revision file in the chain's own style: its
//! `script.py.mako` (only the simple `${...}` substitutions, without a Mako
//! engine), else the house style of its newest migration.

use crate::utc::Utc;

/// The values `alembic revision` passes to its templates.
pub(crate) struct NewRevision<'a> {
    pub id: &'a str,
    pub down: &'a [String],
    pub message: &'a str,
    pub now: Utc,
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
