//! The full reader: a tree-sitter parse of the whole file.

use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::strict::{docstring, parse, parse_blanking, BLANKED_FROM};
use super::{
    bom_len, doc_header, line_of, unescape, Assigned, DocHeader, ModuleConsts, PyValue, SeqKind,
    StrLit, SyntaxError, NAMES,
};

fn first_error(root: Node<'_>, body: &[u8]) -> Result<(), SyntaxError> {
    if !root.has_error() {
        return Ok(());
    }
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let at = node.start_byte();
            let message = if node.is_missing() {
                format!("Python syntax error: missing `{}`", node.kind())
            } else {
                let snippet = snippet(&body[at..node.end_byte().min(at + 40)]);
                format!("Python syntax error near `{snippet}`")
            };
            return Err(SyntaxError {
                line: line_of(body, at),
                message,
            });
        }
        if node.has_error() {
            // Visit children in source order: push them reversed.
            let mut cursor = node.walk();
            let kids: Vec<_> = node.children(&mut cursor).collect();
            stack.extend(kids.into_iter().rev());
        }
    }
    Err(SyntaxError {
        line: 1,
        message: "Python syntax error".into(),
    })
}

fn snippet(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let first = s.lines().next().unwrap_or("").trim();
    first.chars().take(40).collect()
}

/// A whole file parsed and proven free of what CPython refuses; for the
/// readers of other frameworks' files (Django's).
pub(crate) fn parse_checked(src: &[u8]) -> Result<Checked, SyntaxError> {
    let alone = super::alone(src.len());
    let body = &src[bom_len(src)..];
    let (tree, newlines) = parse(body)?;
    first_error(tree.root_node(), body)?;
    super::strict::tree(tree.root_node(), body, &newlines)?;
    Ok(Checked {
        tree,
        _alone: alone,
    })
}

/// The tree of [`parse_checked`], which keeps a large file's turn to be
/// parsed alone (see [`super::PARSED_ALONE`]) until it is dropped.
pub(crate) struct Checked {
    tree: Tree,
    _alone: super::Alone,
}

impl std::ops::Deref for Checked {
    type Target = Tree;

    fn deref(&self) -> &Tree {
        &self.tree
    }
}

pub(super) fn read(src: &[u8]) -> Result<ModuleConsts, SyntaxError> {
    let body = &src[bom_len(src)..];
    let (tree, newlines) = parse(body)?;
    read_tree(src, &tree, &newlines)
}

/// The constants and what `upgrade()` does, from one parse.
pub(super) fn read_with_steps(
    src: &[u8],
) -> Result<(ModuleConsts, Vec<super::calls::Step>), SyntaxError> {
    read_with_steps_blanking(src, BLANKED_FROM)
}

/// [`read_with_steps`], blanking displays of rows of `from` bytes or more.
pub(super) fn read_with_steps_blanking(
    src: &[u8],
    from: usize,
) -> Result<(ModuleConsts, Vec<super::calls::Step>), SyntaxError> {
    let body = &src[bom_len(src)..];
    let (tree, newlines) = parse_blanking(body, from)?;
    let consts = read_tree(src, &tree, &newlines)?;
    Ok((consts, super::calls::steps_from_tree(body, &tree)))
}

fn read_tree(src: &[u8], tree: &Tree, newlines: &[usize]) -> Result<ModuleConsts, SyntaxError> {
    let base = bom_len(src);
    let body = &src[base..];
    let root = tree.root_node();
    first_error(root, body)?;
    super::strict::tree(root, body, newlines)?;
    let mut r = Reader {
        body,
        base,
        consts: ModuleConsts::default(),
    };
    let mut cursor = root.walk();
    let statements: Vec<Node<'_>> = root.named_children(&mut cursor).collect();
    if let Some(doc) = statements
        .iter()
        .find(|n| n.kind() != "comment")
        .and_then(|n| docstring(*n))
    {
        r.consts.doc = r.doc(doc);
    }
    for stmt in statements {
        r.statement(stmt, false)?;
    }
    Ok(r.consts)
}

struct Reader<'a> {
    body: &'a [u8],
    base: usize,
    consts: ModuleConsts,
}

impl<'a> Reader<'a> {
    fn text(&self, node: Node<'_>) -> &'a str {
        std::str::from_utf8(&self.body[node.byte_range()]).unwrap_or("")
    }

    fn span(&self, r: Range<usize>) -> Range<usize> {
        r.start + self.base..r.end + self.base
    }

    fn line(&self, node: Node<'_>) -> usize {
        line_of(self.body, node.start_byte())
    }

    fn doc(&self, string: Node<'_>) -> DocHeader {
        match string_parts(self.body, string) {
            Some((prefix, inner)) if !prefix.contains(['f', 'F', 'b', 'B', 't', 'T']) => {
                doc_header(&self.body[inner.clone()], inner.start + self.base)
            }
            _ => DocHeader::default(),
        }
    }

    /// One statement. `nested` is true inside a module-level compound
    /// statement (`if`, `try`, ...), where an assignment is conditional.
    fn statement(&mut self, node: Node<'_>, nested: bool) -> Result<(), SyntaxError> {
        match node.kind() {
            "expression_statement" => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    match child.kind() {
                        "assignment" => self.assignment(child, nested)?,
                        "augmented_assignment" => {
                            if let Some(name) = child
                                .child_by_field_name("left")
                                .and_then(|l| self.target(l))
                            {
                                self.non_literal(name, child, "changed by an augmented assignment");
                            }
                        }
                        _ => {}
                    }
                }
            }
            "import_statement" | "import_from_statement" | "future_import_statement" => {
                let mut cursor = node.walk();
                for name in node.children_by_field_name("name", &mut cursor) {
                    let bound = match name.kind() {
                        "aliased_import" => name.child_by_field_name("alias").map(|a| self.text(a)),
                        "dotted_name" if node.kind() == "import_statement" => {
                            self.text(name).split('.').next()
                        }
                        _ => Some(self.text(name)),
                    };
                    if let Some(bound) = bound.and_then(known_name) {
                        self.non_literal(bound, node, "bound by an import");
                    }
                }
            }
            "function_definition" | "class_definition" => {
                if let Some(name) = node
                    .child_by_field_name("name")
                    .and_then(|n| known_name(self.text(n)))
                {
                    self.non_literal(name, node, "defined by a `def` or `class`");
                }
            }
            "decorated_definition" => {
                if let Some(def) = node.child_by_field_name("definition") {
                    self.statement(def, nested)?;
                }
            }
            "delete_statement" => {
                let text = self.text(node);
                for name in NAMES {
                    if text
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|w| w == name)
                    {
                        *self.consts.slot(name) = None;
                    }
                }
            }
            "if_statement"
            | "for_statement"
            | "while_statement"
            | "try_statement"
            | "with_statement"
            | "match_statement"
            | "block"
            | "else_clause"
            | "elif_clause"
            | "except_clause"
            | "finally_clause"
            | "case_clause"
            | "except_group_clause" => {
                if node.kind() == "for_statement" {
                    if let Some(name) = node
                        .child_by_field_name("left")
                        .and_then(|l| self.target(l))
                    {
                        self.non_literal(name, node, "bound by a `for` loop");
                    }
                }
                let mut cursor = node.walk();
                let kids: Vec<_> = node.named_children(&mut cursor).collect();
                for child in kids {
                    self.statement(child, true)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The known name an assignment target binds, if any.
    fn target(&self, node: Node<'_>) -> Option<&'static str> {
        (node.kind() == "identifier")
            .then(|| known_name(self.text(node)))
            .flatten()
    }

    fn non_literal(&mut self, name: &'static str, node: Node<'_>, why: &str) {
        let line = self.line(node);
        let span = self.span(node.byte_range());
        *self.consts.slot(name) = Some(Assigned {
            line,
            value: PyValue::NonLiteral {
                why: why.to_string(),
            },
            value_span: span,
        });
    }

    fn assignment(&mut self, node: Node<'_>, nested: bool) -> Result<(), SyntaxError> {
        // `a = b = "x"` nests: collect every target, then the innermost value.
        let mut targets = Vec::new();
        let mut current = node;
        let value = loop {
            if let Some(left) = current.child_by_field_name("left") {
                targets.push(left);
            }
            match current.child_by_field_name("right") {
                Some(right) if right.kind() == "assignment" => current = right,
                other => break other,
            }
        };
        // An annotation without a value binds nothing.
        let Some(value) = value else { return Ok(()) };
        for target in targets {
            match target.kind() {
                "identifier" => {
                    let Some(name) = known_name(self.text(target)) else {
                        continue;
                    };
                    let assigned = if nested {
                        Assigned {
                            line: self.line(target),
                            value: PyValue::NonLiteral {
                                why: "assigned inside a module-level block (if/try/for/with)"
                                    .into(),
                            },
                            value_span: self.span(value.byte_range()),
                        }
                    } else {
                        Assigned {
                            line: self.line(target),
                            value: self.literal(value, name)?,
                            value_span: self.span(value.byte_range()),
                        }
                    };
                    *self.consts.slot(name) = Some(assigned);
                }
                "pattern_list" | "tuple_pattern" | "list_pattern" | "list_splat_pattern" => {
                    let mut cursor = target.walk();
                    let names: Vec<_> = target
                        .named_children(&mut cursor)
                        .filter_map(|n| self.target(n))
                        .collect();
                    for name in names {
                        self.non_literal(name, target, "unpacked from a sequence");
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn literal(&self, node: Node<'_>, name: &str) -> Result<PyValue, SyntaxError> {
        Ok(match node.kind() {
            "none" => PyValue::None,
            "string" => match self.string(node) {
                Some(s) => PyValue::Str(s),
                None => PyValue::NonLiteral {
                    why: format!("`{}` is not a plain string literal", self.short(node)),
                },
            },
            "concatenated_string" => return Err(self.concatenated(node, name)),
            "parenthesized_expression" => {
                let inner: Vec<_> = named_non_comment(node);
                match inner.as_slice() {
                    [one] => self.literal(*one, name)?,
                    _ => PyValue::NonLiteral {
                        why: format!("`{}`", self.short(node)),
                    },
                }
            }
            "tuple" | "list" | "expression_list" => {
                let kind = if node.kind() == "list" {
                    SeqKind::List
                } else {
                    SeqKind::Tuple
                };
                let mut items = Vec::new();
                for item in named_non_comment(node) {
                    match item.kind() {
                        "string" => match self.string(item) {
                            Some(s) => items.push(s),
                            None => {
                                return Ok(PyValue::NonLiteral {
                                    why: format!(
                                        "`{}` is not a plain string literal",
                                        self.short(item)
                                    ),
                                })
                            }
                        },
                        "concatenated_string" => return Err(self.concatenated(item, name)),
                        _ => {
                            return Ok(PyValue::NonLiteral {
                                why: format!(
                                    "element `{}` is not a string literal",
                                    self.short(item)
                                ),
                            })
                        }
                    }
                }
                PyValue::Seq {
                    kind,
                    items,
                    span: self.span(node.byte_range()),
                }
            }
            "call" => PyValue::NonLiteral {
                why: format!("a call: `{}`", self.short(node)),
            },
            "identifier" | "attribute" => PyValue::NonLiteral {
                why: format!("a name: `{}`", self.short(node)),
            },
            _ => PyValue::NonLiteral {
                why: format!("`{}`", self.short(node)),
            },
        })
    }

    fn concatenated(&self, node: Node<'_>, name: &str) -> SyntaxError {
        SyntaxError {
            line: self.line(node),
            message: format!(
                "`{name}` uses implicit string concatenation (`{}`); write it as one string literal",
                self.short(node)
            ),
        }
    }

    fn short(&self, node: Node<'_>) -> String {
        shortened(self.text(node))
    }

    fn string(&self, node: Node<'_>) -> Option<StrLit> {
        plain_string(self.body, self.base, node)
    }
}

/// Source text for a message: on one line, at most 60 characters.
pub(crate) fn shortened(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text
    }
}

/// A plain str literal: prefix among `u`, `r` (either case), no
/// interpolation. Escapes are decoded as Python would; the span is in the
/// file, `base` bytes (a byte-order mark) after the parsed body's start.
pub(crate) fn plain_string(body: &[u8], base: usize, node: Node<'_>) -> Option<StrLit> {
    let (prefix, inner) = string_parts(body, node)?;
    let lower = prefix.to_ascii_lowercase();
    if !matches!(lower.as_str(), "" | "u" | "r") {
        return None;
    }
    let mut cursor = node.walk();
    if node
        .named_children(&mut cursor)
        .any(|c| c.kind() == "interpolation")
    {
        return None;
    }
    let raw = std::str::from_utf8(&body[inner.clone()]).ok()?;
    let value = if lower == "r" || !raw.contains('\\') {
        raw.to_string()
    } else {
        unescape(raw)?
    };
    Some(StrLit {
        value,
        inner: inner.start + base..inner.end + base,
        line: line_of(body, node.start_byte()),
    })
}

/// The prefix letters and the byte range between the quotes of a `string`.
pub(super) fn string_parts<'a>(body: &'a [u8], node: Node<'_>) -> Option<(&'a str, Range<usize>)> {
    let start = node.child(0).filter(|c| c.kind() == "string_start")?;
    let end = node
        .child(node.child_count().checked_sub(1)?)
        .filter(|c| c.kind() == "string_end")?;
    let opener = std::str::from_utf8(&body[start.byte_range()]).ok()?;
    Some((
        opener.trim_end_matches(['\'', '"']),
        start.end_byte()..end.start_byte(),
    ))
}

pub(crate) fn named_non_comment(node: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|c| !matches!(c.kind(), "comment" | "line_continuation"))
        .collect()
}

fn known_name(text: &str) -> Option<&'static str> {
    NAMES.iter().copied().find(|n| *n == text)
}
