//! Static reading of a Django migration module: the `Migration` class's
//! `dependencies`, `replaces`, `run_before` and `initial`, each reference
//! with the spans of its two strings for the edit engine. Nothing is
//! executed; the whole file is proven free of syntax errors first, as
//! importing it would.

use tree_sitter::Node;

use crate::python::full::{named_non_comment, parse_checked, plain_string, shortened};
use crate::python::{bom_len, line_of, StrLit, SyntaxError};

/// A module Django skips in a migrations package, and why; `None` for
/// one it loads. (Python's module finder never lists a name with a dot.)
pub(crate) fn skipped(stem: &str) -> Option<&'static str> {
    if stem.starts_with(['_', '~']) {
        Some("Django skips modules whose names start with `_` or `~`")
    } else if stem.contains('.') {
        Some("a module name cannot contain `.`: Python's module finder never lists it, so Django never loads it")
    } else {
        None
    }
}

/// One element of `dependencies`, `replaces` or `run_before`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DepItem {
    /// `("app_label", "migration_name")`.
    Key { app: StrLit, name: StrLit },
    /// `migrations.swappable_dependency(settings.AUTH_USER_MODEL)`: an app
    /// a setting names, unknown without the settings.
    Swappable { setting: String, line: usize },
    /// Anything else, with what it is.
    NonLiteral { why: String, line: usize },
}

/// A list attribute of the class: its items, or why it is not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListAttr {
    pub line: usize,
    pub items: Vec<DepItem>,
    /// The value is not a list or tuple literal (a name, a sum, a call).
    pub non_literal: Option<String>,
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

/// The module's last top-level `class Migration`, or `None` without one
/// (Django refuses such a module). Syntax errors are errors, as on import.
pub(crate) fn read(src: &[u8]) -> Result<Option<MigrationClass>, SyntaxError> {
    crate::python::decode(src)?;
    let tree = parse_checked(src)?;
    let base = bom_len(src);
    let body = &src[base..];
    let r = Reader { body, base };
    let root = tree.root_node();
    let mut found = None;
    let mut cursor = root.walk();
    for stmt in root.named_children(&mut cursor) {
        let class = match stmt.kind() {
            "class_definition" => stmt,
            "decorated_definition" => match stmt.child_by_field_name("definition") {
                Some(d) if d.kind() == "class_definition" => d,
                _ => continue,
            },
            _ => continue,
        };
        if class
            .child_by_field_name("name")
            .is_some_and(|n| r.text(n) == "Migration")
        {
            found = Some(r.class(class));
        }
    }
    Ok(found)
}

struct Reader<'a> {
    body: &'a [u8],
    base: usize,
}

impl<'a> Reader<'a> {
    fn text(&self, node: Node<'_>) -> &'a str {
        std::str::from_utf8(&self.body[node.byte_range()]).unwrap_or("")
    }

    fn line(&self, node: Node<'_>) -> usize {
        line_of(self.body, node.start_byte())
    }

    fn class(&self, class: Node<'_>) -> MigrationClass {
        let mut out = MigrationClass {
            line: self.line(class),
            ..MigrationClass::default()
        };
        let Some(block) = class.child_by_field_name("body") else {
            return out;
        };
        let mut cursor = block.walk();
        for stmt in block.named_children(&mut cursor) {
            if stmt.kind() != "expression_statement" {
                continue;
            }
            let mut c2 = stmt.walk();
            for assign in stmt.named_children(&mut c2) {
                if assign.kind() != "assignment" {
                    continue;
                }
                let (Some(left), Some(value)) = (
                    assign.child_by_field_name("left"),
                    assign.child_by_field_name("right"),
                ) else {
                    continue;
                };
                if left.kind() != "identifier" {
                    continue;
                }
                match self.text(left) {
                    "dependencies" => out.dependencies = self.list(value),
                    "replaces" => out.replaces = self.list(value),
                    "run_before" => out.run_before = self.list(value),
                    "initial" => {
                        out.initial = match value.kind() {
                            "true" => Some(true),
                            "false" => Some(false),
                            _ => None,
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    fn list(&self, value: Node<'_>) -> ListAttr {
        let mut out = ListAttr {
            line: self.line(value),
            ..ListAttr::default()
        };
        let value = unparen(value);
        if !matches!(value.kind(), "list" | "tuple") {
            out.non_literal = Some(format!("`{}` is not a list literal", self.short(value)));
            return out;
        }
        for item in named_non_comment(value) {
            out.items.push(self.item(item));
        }
        out
    }

    fn item(&self, node: Node<'_>) -> DepItem {
        let line = self.line(node);
        let node = unparen(node);
        match node.kind() {
            "tuple" => {
                let parts = named_non_comment(node);
                if let [a, n] = parts.as_slice() {
                    if let (Some(app), Some(name)) = (self.string(*a), self.string(*n)) {
                        return DepItem::Key { app, name };
                    }
                }
            }
            "call" => {
                let func = node.child_by_field_name("function").map(|f| self.text(f));
                let args = node
                    .child_by_field_name("arguments")
                    .map(named_non_comment)
                    .unwrap_or_default();
                if func.is_some_and(|f| {
                    f == "swappable_dependency" || f.ends_with(".swappable_dependency")
                }) {
                    if let [arg] = args.as_slice() {
                        let text = self.text(*arg);
                        if let Some(setting) = text.strip_prefix("settings.") {
                            if setting
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                            {
                                return DepItem::Swappable {
                                    setting: setting.to_string(),
                                    line,
                                };
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        DepItem::NonLiteral {
            why: format!(
                "`{}` is not an (app_label, name) pair of string literals",
                self.short(node)
            ),
            line,
        }
    }

    fn short(&self, node: Node<'_>) -> String {
        shortened(self.text(node))
    }

    fn string(&self, node: Node<'_>) -> Option<StrLit> {
        plain_string(self.body, self.base, node)
    }
}

fn unparen(mut node: Node<'_>) -> Node<'_> {
    while node.kind() == "parenthesized_expression" {
        match named_non_comment(node).as_slice() {
            [one] => node = *one,
            _ => break,
        }
    }
    node
}
