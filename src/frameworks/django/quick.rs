//! The `Migration` class read from the quick parse's view of the module
//! (`python::quick::view`), exactly as `parse` reads it from tree-sitter's
//! tree: the tests prove the two equal wherever the quick parse answers.

use crate::python::full::shortened;
use crate::python::quick::{Kind, Value, View};

use super::class::{is_swappable_call, DepItem, ListAttr, MigrationClass, Swap};

/// The class attributes read.
pub(super) const ATTRS: [&str; 4] = ["dependencies", "replaces", "run_before", "initial"];

/// The module's last top-level `class Migration`, or `None` without one.
/// `bytes` is the decoded file the view's spans point into.
pub(super) fn class(view: &View, bytes: &[u8]) -> Option<MigrationClass> {
    let class = view.classes.iter().rev().find(|c| c.name == "Migration")?;
    let r = Reader { bytes, view };
    let mut out = MigrationClass {
        line: class.line,
        ..MigrationClass::default()
    };
    for (name, value) in &class.assigned {
        match name.as_str() {
            "dependencies" => out.dependencies = r.list(value),
            "replaces" => out.replaces = r.list(value),
            "run_before" => out.run_before = r.list(value),
            "initial" => {
                out.initial = match value.kind {
                    Kind::True => Some(true),
                    Kind::False => Some(false),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    Some(out)
}

struct Reader<'a> {
    bytes: &'a [u8],
    view: &'a View,
}

impl<'a> Reader<'a> {
    fn text(&self, v: &Value) -> &'a str {
        std::str::from_utf8(&self.bytes[v.span.clone()]).unwrap_or("")
    }

    fn short(&self, v: &Value) -> String {
        shortened(self.text(v))
    }

    fn list(&self, value: &Value) -> ListAttr {
        let line = value.line;
        let value = unparen(value);
        if !matches!(value.kind, Kind::List(_) | Kind::Tuple(_) | Kind::Plus(..)) {
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
            match &term.kind {
                Kind::List(items) | Kind::Tuple(items) => {
                    out.items.extend(items.iter().map(|i| self.item(i)));
                }
                _ => out
                    .unread_terms
                    .push((format!("`{}`", self.short(term)), term.line)),
            }
        }
        out
    }

    fn item(&self, value: &Value) -> DepItem {
        let line = value.line;
        let node = unparen(value);
        match &node.kind {
            Kind::Tuple(parts) => {
                if let [a, n] = parts.as_slice() {
                    if let (Kind::Str(app), Kind::Str(name)) = (&a.kind, &n.kind) {
                        return DepItem::Key {
                            app: app.clone(),
                            name: name.clone(),
                        };
                    }
                }
            }
            Kind::Call(func, args) if is_swappable_call(self.text(func)) => {
                if let [arg] = args.as_slice() {
                    if let Some(of) = self.swap(arg) {
                        return DepItem::Swappable { of, line };
                    }
                }
                return DepItem::unread_swappable(&self.short(node), line);
            }
            _ => {}
        }
        DepItem::not_a_pair(&self.short(node), line)
    }

    /// As `parse`'s: `settings.NAME`, `object.NAME` of another module, or
    /// a model literal.
    fn swap(&self, arg: &Value) -> Option<Swap> {
        let arg = unparen(arg);
        let (object, attr) = match &arg.kind {
            Kind::Str(s) => return Some(Swap::Model(s.value.clone())),
            Kind::Attr(object, attr) if matches!(object.kind, Kind::Name) => (object, attr),
            _ => return None,
        };
        let object = self.text(object);
        Some(Swap::of_attribute(object, attr, self.imported_from(object)))
    }

    /// The module the last top-level `from M import` binding `bound` names.
    fn imported_from(&self, bound: &str) -> Option<String> {
        self.view
            .imports
            .iter()
            .rev()
            .find(|(_, b)| b == bound)
            .map(|(m, _)| m.clone())
    }
}

/// The terms of a sum, left to right (brackets removed).
fn sum_terms<'v>(value: &'v Value, out: &mut Vec<&'v Value>) {
    let value = unparen(value);
    match &value.kind {
        Kind::Plus(left, right) => {
            sum_terms(left, out);
            sum_terms(right, out);
        }
        _ => out.push(value),
    }
}

fn unparen(mut value: &Value) -> &Value {
    while let Kind::Paren(inner) = &value.kind {
        value = inner;
    }
    value
}
