//! Static reading of a Django migration module: the `Migration` class's
//! `dependencies`, `replaces`, `run_before` and `initial`, each reference
//! with the spans of its two strings for the edit engine. Nothing is
//! executed; the whole file is proven free of syntax errors first, as
//! importing it would.

use tree_sitter::Node;

use super::class::is_swappable_call;
pub(crate) use super::class::{DepItem, ListAttr, MigrationClass, Swap};
use super::quick;
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

/// The module's last top-level `class Migration`, or `None` without one
/// (Django refuses such a module). Syntax errors are errors, as on import.
/// The quick parse reads it where it answers, else the full parse.
pub(crate) fn read(src: &[u8]) -> Result<Option<MigrationClass>, SyntaxError> {
    let decoded = crate::python::source(src)?;
    let found = match crate::python::view_quick(&decoded, &quick::ATTRS) {
        Some(view) => quick::class(&view, &decoded.bytes),
        None => full(&decoded.bytes)?,
    };
    Ok(found.map(|c| in_file(&decoded, c)))
}

/// [`read`] with the quick parse alone: `None` where it declines. For tests.
pub(crate) fn read_quick(src: &[u8]) -> Option<Option<MigrationClass>> {
    let decoded = crate::python::source(src).ok()?;
    let view = crate::python::view_quick(&decoded, &quick::ATTRS)?;
    Some(quick::class(&view, &decoded.bytes).map(|c| in_file(&decoded, c)))
}

/// [`read`] with the full parse alone. For tests.
pub(crate) fn read_full(src: &[u8]) -> Result<Option<MigrationClass>, SyntaxError> {
    let decoded = crate::python::source(src)?;
    Ok(full(&decoded.bytes)?.map(|c| in_file(&decoded, c)))
}

/// The class from tree-sitter's parse of the decoded file, checked as
/// strictly as CPython compiles it.
fn full(src: &[u8]) -> Result<Option<MigrationClass>, SyntaxError> {
    let tree = parse_checked(src)?;
    let base = bom_len(src);
    let body = &src[base..];
    let root = tree.root_node();
    let r = Reader { body, base, root };
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

/// The class with its spans in the file's bytes, should the file have
/// been transcoded.
fn in_file(decoded: &crate::python::Source<'_>, mut class: MigrationClass) -> MigrationClass {
    for list in [
        &mut class.dependencies,
        &mut class.replaces,
        &mut class.run_before,
    ] {
        for item in &mut list.items {
            if let DepItem::Key { app, name } = item {
                decoded.span(&mut app.inner);
                decoded.span(&mut name.inner);
            }
        }
    }
    class
}

struct Reader<'a, 't> {
    body: &'a [u8],
    base: usize,
    /// The module, for the imports that bind a name.
    root: Node<'t>,
}

impl<'a> Reader<'a, '_> {
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
        let line = self.line(value);
        let value = unparen(value);
        if !matches!(value.kind(), "list" | "tuple") && !is_sum(value) {
            return ListAttr::not_literal(&self.short(value), line);
        }
        let mut out = ListAttr {
            line,
            ..ListAttr::default()
        };
        // `[...] + other.X + (...)`: each literal term is read, in order.
        let mut terms = Vec::new();
        sum_terms(value, &mut terms);
        for term in terms {
            if matches!(term.kind(), "list" | "tuple") {
                for item in named_non_comment(term) {
                    out.items.push(self.item(item));
                }
            } else {
                out.unread_terms
                    .push((format!("`{}`", self.short(term)), self.line(term)));
            }
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
                if func.is_some_and(is_swappable_call) {
                    if let [arg] = args.as_slice() {
                        if let Some(of) = self.swap(*arg) {
                            return DepItem::Swappable { of, line };
                        }
                    }
                    return DepItem::unread_swappable(&self.short(node), line);
                }
            }
            _ => {}
        }
        DepItem::not_a_pair(&self.short(node), line)
    }

    /// What `swappable_dependency(arg)` names: `settings.NAME` (Django's
    /// settings object, unless the module imports `settings` from
    /// elsewhere), `object.NAME` of another module, or a model literal.
    fn swap(&self, arg: Node<'_>) -> Option<Swap> {
        let arg = unparen(arg);
        if let Some(s) = self.string(arg) {
            return Some(Swap::Model(s.value));
        }
        if arg.kind() != "attribute" {
            return None;
        }
        let object = arg.child_by_field_name("object")?;
        let attr = self.text(arg.child_by_field_name("attribute")?);
        if object.kind() != "identifier" {
            return None;
        }
        let object = self.text(object);
        Some(Swap::of_attribute(object, attr, self.imported_from(object)))
    }

    /// The module a top-level `from M import name [as alias]` takes `bound`
    /// from (the last such import).
    fn imported_from(&self, bound: &str) -> Option<String> {
        let mut found = None;
        let mut cursor = self.root.walk();
        for stmt in self.root.named_children(&mut cursor) {
            if stmt.kind() != "import_from_statement" {
                continue;
            }
            let Some(module) = stmt.child_by_field_name("module_name") else {
                continue;
            };
            let mut c2 = stmt.walk();
            for name in stmt.children_by_field_name("name", &mut c2) {
                let binds = match name.kind() {
                    "aliased_import" => name.child_by_field_name("alias").map(|a| self.text(a)),
                    _ => Some(self.text(name)),
                };
                if binds == Some(bound) {
                    found = Some(self.text(module).to_string());
                }
            }
        }
        found
    }

    fn short(&self, node: Node<'_>) -> String {
        shortened(self.text(node))
    }

    fn string(&self, node: Node<'_>) -> Option<StrLit> {
        plain_string(self.body, self.base, node)
    }
}

/// A `+` of two operands.
fn is_sum(node: Node<'_>) -> bool {
    node.kind() == "binary_operator"
        && node
            .child_by_field_name("operator")
            .is_some_and(|o| o.kind() == "+")
}

/// The terms of a sum, left to right (brackets removed).
fn sum_terms<'t>(node: Node<'t>, out: &mut Vec<Node<'t>>) {
    let node = unparen(node);
    if is_sum(node) {
        for side in ["left", "right"] {
            if let Some(n) = node.child_by_field_name(side) {
                sum_terms(n, out);
            }
        }
    } else {
        out.push(node);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &ListAttr) -> Vec<String> {
        list.items
            .iter()
            .filter_map(|i| match i {
                DepItem::Key { app, name } => Some(format!("{}.{}", app.value, name.value)),
                _ => None,
            })
            .collect()
    }

    fn class(body: &str) -> MigrationClass {
        let src = format!("from django.db import migrations\nfrom helpdesk import settings as helpdesk_settings\nfrom oauth2_provider.settings import oauth2_settings\n\n\nclass Migration(migrations.Migration):\n{body}");
        read(src.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn the_literal_terms_of_a_sum_are_read() {
        let c = class("    dependencies = [\n        (\"helpdesk\", \"0027_x\"),\n    ] + helpdesk_settings.TEAMS + ((\"a\", \"0001_y\"),) + [(\"b\", \"0002_z\")]\n    replaces = OTHER + [(\"helpdesk\", \"0001_a\")]\n    run_before = [(\"c\", \"0001_b\")]\n");
        assert_eq!(
            keys(&c.dependencies),
            ["helpdesk.0027_x", "a.0001_y", "b.0002_z"]
        );
        assert_eq!(c.dependencies.non_literal, None);
        assert_eq!(
            c.dependencies.unread_terms,
            [("`helpdesk_settings.TEAMS`".to_string(), 9)]
        );
        assert_eq!(keys(&c.replaces), ["helpdesk.0001_a"]);
        assert_eq!(c.replaces.unread_terms, [("`OTHER`".to_string(), 10)]);
        assert!(c.run_before.unread_terms.is_empty());
        // The references keep their spans, for renumber.
        let DepItem::Key { name, .. } = &c.dependencies.items[2] else {
            panic!()
        };
        assert_eq!(name.value, "0002_z");
        // Not a sum: unknown as a whole.
        let c = class("    dependencies = helpdesk_settings.DEPS\n");
        assert!(c.dependencies.items.is_empty());
        assert!(c.dependencies.non_literal.is_some());
    }

    #[test]
    fn what_a_swappable_dependency_names() {
        let c = class("    dependencies = [\n        migrations.swappable_dependency(settings.AUTH_USER_MODEL),\n        migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL),\n        migrations.swappable_dependency(\"users.User\"),\n        migrations.swappable_dependency(USER_MODEL),\n    ]\n");
        let of: Vec<Option<Swap>> = c
            .dependencies
            .items
            .iter()
            .map(|i| match i {
                DepItem::Swappable { of, .. } => Some(of.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            of,
            [
                Some(Swap::Setting("AUTH_USER_MODEL".into())),
                Some(Swap::Attr {
                    module: Some("oauth2_provider.settings".into()),
                    object: "oauth2_settings".into(),
                    attr: "APPLICATION_MODEL".into(),
                }),
                Some(Swap::Model("users.User".into())),
                None,
            ]
        );
        let DepItem::NonLiteral { why, line } = &c.dependencies.items[3] else {
            panic!()
        };
        assert_eq!(*line, 11);
        assert!(
            why.contains("`migrations.swappable_dependency(USER_MODEL)`: its argument is not"),
            "{why}"
        );
        // `settings` taken from another module is that module's object.
        let src = "from myapp import settings\nfrom django.db import migrations\n\nclass Migration(migrations.Migration):\n    dependencies = [migrations.swappable_dependency(settings.X_MODEL)]\n";
        let c = read(src.as_bytes()).unwrap().unwrap();
        assert!(matches!(
            &c.dependencies.items[0],
            DepItem::Swappable { of: Swap::Attr { module: Some(m), .. }, .. } if m == "myapp"
        ));
    }
}
