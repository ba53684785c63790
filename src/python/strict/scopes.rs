//! The rules CPython's symbol table makes: what `nonlocal` and `global`
//! may name, the targets that cannot be assigned (`__debug__`, a call
//! after `with ... as`, a bare starred name), and `return` with a value in
//! an async generator. Filled during the one walk of [`super::grammar`],
//! decided at its end.

use tree_sitter::Node;

use super::tokens::error;
use crate::python::SyntaxError;

/// One function, lambda or class body, or the module.
struct Scope<'a> {
    parent: Option<usize>,
    /// A `def` (a lambda or a class binds no names `nonlocal` can find).
    def: bool,
    class: bool,
    is_async: bool,
    /// Names bound in a `def`'s body (only `def`s are looked up).
    bound: Vec<&'a [u8]>,
    params: Vec<&'a [u8]>,
    globals: Vec<(&'a [u8], usize)>,
    nonlocals: Vec<(&'a [u8], usize)>,
    /// Names used or bound, with their offsets and whether bound, for a
    /// `global` or `nonlocal` that comes after them.
    seen: Vec<(&'a [u8], usize, bool)>,
    /// `global` and `nonlocal` names: name, line, offset, whether nonlocal.
    decls: Vec<(&'a [u8], usize, usize, bool)>,
    yields: bool,
    /// The line of the first `return` with a value.
    value_return: Option<usize>,
}

pub(super) struct Scopes<'a> {
    all: Vec<Scope<'a>>,
    body: &'a [u8],
}

/// What a scope is opened for.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Def { is_async: bool },
    Lambda,
    Class,
}

impl<'a> Scopes<'a> {
    /// The module's scope, numbered 0.
    pub(super) fn new(body: &'a [u8]) -> Scopes<'a> {
        let mut s = Scopes {
            all: Vec::new(),
            body,
        };
        s.all.push(s.scope(None, false, false));
        s.all[0].class = false;
        s
    }

    fn scope(&self, parent: Option<usize>, def: bool, is_async: bool) -> Scope<'a> {
        Scope {
            parent,
            def,
            class: false,
            is_async,
            bound: Vec::new(),
            params: Vec::new(),
            globals: Vec::new(),
            nonlocals: Vec::new(),
            seen: Vec::new(),
            decls: Vec::new(),
            yields: false,
            value_return: None,
        }
    }

    /// Opens a scope inside `parent`; returns its number.
    pub(super) fn open(&mut self, parent: usize, kind: Kind) -> usize {
        let (def, is_async) = match kind {
            Kind::Def { is_async } => (true, is_async),
            Kind::Lambda | Kind::Class => (false, false),
        };
        let mut scope = self.scope(Some(parent), def, is_async);
        scope.class = matches!(kind, Kind::Class);
        self.all.push(scope);
        self.all.len() - 1
    }

    fn text(&self, n: Node<'_>) -> &'a [u8] {
        &self.body[n.byte_range()]
    }

    /// A name bound in `scope`; `__debug__` cannot be.
    pub(super) fn bind(
        &mut self,
        scope: usize,
        name: Node<'_>,
        line: usize,
    ) -> Result<(), SyntaxError> {
        let text = self.text(name);
        if text == b"__debug__" {
            return Err(error(line, "cannot assign to __debug__"));
        }
        let s = &mut self.all[scope];
        s.seen.push((text, name.start_byte(), true));
        if s.def {
            s.bound.push(text);
        }
        Ok(())
    }

    /// A name read (or bound) in `scope`.
    pub(super) fn used(&mut self, scope: usize, name: Node<'_>) {
        let text = self.text(name);
        self.all[scope].seen.push((text, name.start_byte(), false));
    }

    /// A name a `case` pattern may capture (a class or a value named in
    /// the pattern is taken for one too: only `nonlocal` looks them up).
    pub(super) fn capture(&mut self, scope: usize, name: Node<'_>) {
        let text = self.text(name);
        let s = &mut self.all[scope];
        if s.def {
            s.bound.push(text);
        }
    }

    pub(super) fn param(
        &mut self,
        scope: usize,
        name: Node<'_>,
        line: usize,
    ) -> Result<(), SyntaxError> {
        self.bind(scope, name, line)?;
        let text = self.text(name);
        self.all[scope].params.push(text);
        Ok(())
    }

    /// `global` (`nonlocal: false`) or `nonlocal` names.
    pub(super) fn declare(&mut self, scope: usize, stmt: Node<'_>, nonlocal: bool, line: usize) {
        let mut c = stmt.walk();
        for n in stmt
            .named_children(&mut c)
            .filter(|n| n.kind() == "identifier")
        {
            let text = self.text(n);
            let s = &mut self.all[scope];
            s.decls.push((text, line, stmt.start_byte(), nonlocal));
            if nonlocal {
                s.nonlocals.push((text, line));
            } else {
                s.globals.push((text, line));
            }
        }
    }

    pub(super) fn yields(&mut self, scope: usize) {
        self.all[scope].yields = true;
    }

    pub(super) fn value_return(&mut self, scope: usize, line: usize) {
        let s = &mut self.all[scope];
        s.value_return = s.value_return.or(Some(line));
    }

    /// The binding targets of an assignment, `for`, `with ... as` or
    /// comprehension (`scope: None`: binds in a scope of its own).
    pub(super) fn targets(
        &mut self,
        scope: Option<usize>,
        target: Node<'_>,
        line: &impl Fn(Node<'_>) -> usize,
    ) -> Result<(), SyntaxError> {
        match target.kind() {
            "identifier" | "keyword_identifier" => match scope {
                Some(s) => self.bind(s, target, line(target)),
                None if self.text(target) == b"__debug__" => {
                    Err(error(line(target), "cannot assign to __debug__"))
                }
                None => Ok(()),
            },
            "attribute" => {
                let attr = target.child_by_field_name("attribute");
                if attr.is_some_and(|a| self.text(a) == b"__debug__") {
                    return Err(error(line(target), "cannot assign to __debug__"));
                }
                Ok(())
            }
            "pattern_list"
            | "tuple_pattern"
            | "list_pattern"
            | "tuple"
            | "list"
            | "parenthesized_expression"
            | "expression_list"
            | "list_splat_pattern"
            | "list_splat"
            | "as_pattern_target" => {
                let mut c = target.walk();
                let kids: Vec<Node<'_>> = target.named_children(&mut c).collect();
                for k in kids {
                    self.targets(scope, k, line)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The names a node binds in its scope (see [`Scopes`]), and the targets
    /// that cannot be assigned.
    /// `at` is the scope, whether inside a `case` pattern, and whether inside
    /// a comprehension's own scope.
    pub(super) fn bindings<'n>(
        &mut self,
        node: Node<'n>,
        parent: Option<Node<'n>>,
        (scope, in_case, in_comp): (usize, bool, bool),
        line: &impl Fn(Node<'_>) -> usize,
    ) -> Result<(), SyntaxError> {
        let field = |f: &str| node.child_by_field_name(f);
        match node.kind() {
            "identifier" if in_case => self.capture(scope, node),
            // Names read, for a `global` or `nonlocal` after them; not an
            // attribute's or a keyword's name, nor what names itself.
            "identifier"
                if !in_comp
                    && !parent.is_some_and(|p| {
                        matches!(
                            p.kind(),
                            "dotted_name"
                                | "aliased_import"
                                | "global_statement"
                                | "nonlocal_statement"
                                | "function_definition"
                                | "class_definition"
                        ) || (p.kind() == "attribute"
                            && p.child_by_field_name("attribute") == Some(node))
                            || (p.kind() == "keyword_argument"
                                && p.child_by_field_name("name") == Some(node))
                    }) =>
            {
                self.used(scope, node)
            }
            "assignment" | "for_statement" => {
                if let Some(left) = field("left") {
                    self.targets(Some(scope), left, line)?;
                }
            }
            // `x.__debug__ += 1` reads the attribute first: CPython takes it.
            "augmented_assignment" => {
                if let Some(left) = field("left").filter(|l| l.kind() == "identifier") {
                    self.bind(scope, left, line(left))?;
                }
            }
            "for_in_clause" => {
                if let Some(left) = field("left") {
                    self.targets(None, left, line)?;
                }
            }
            "named_expression" => {
                if let Some(name) = field("name") {
                    self.bind(scope, name, line(name))?;
                }
            }
            "except_clause" | "except_group_clause" => {
                if let Some(alias) = field("alias").filter(|a| a.kind() == "identifier") {
                    self.bind(scope, alias, line(alias))?;
                }
            }
            "as_pattern"
                if parent.is_some_and(|p| {
                    matches!(p.kind(), "except_clause" | "except_group_clause")
                }) =>
            {
                if let Some(target) = field("alias").and_then(|a| a.named_child(0)) {
                    self.targets(Some(scope), target, line)?;
                }
            }
            "as_pattern" if parent.is_some_and(|p| p.kind() == "with_item") => {
                if let Some(target) = field("alias").and_then(|a| a.named_child(0)) {
                    assignable(target, true, line(target))?;
                    self.targets(Some(scope), target, line)?;
                }
            }
            "function_definition" | "class_definition" => {
                if let Some(name) = field("name") {
                    self.bind(scope, name, line(name))?;
                }
            }
            "import_statement" | "import_from_statement" => {
                let mut c = node.walk();
                let names: Vec<Node<'_>> = node.children_by_field_name("name", &mut c).collect();
                for n in names {
                    let bound = match n.kind() {
                        "aliased_import" => n.child_by_field_name("alias"),
                        _ => n.named_child(0),
                    };
                    if let Some(b) = bound {
                        self.bind(scope, b, line(b))?;
                    }
                }
            }
            "global_statement" => self.declare(scope, node, false, line(node)),
            "nonlocal_statement" => self.declare(scope, node, true, line(node)),
            "yield" => self.yields(scope),
            "return_statement" => {
                let mut c = node.walk();
                let value = node.named_children(&mut c).any(|n| n.kind() != "comment");
                if value {
                    self.value_return(scope, line(node));
                }
            }
            "keyword_argument" => {
                if let Some(name) = field("name") {
                    self.targets(None, name, line)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The rules decided once the whole file is read.
    pub(super) fn finish(&self) -> Result<(), SyntaxError> {
        let name = |t: &[u8]| String::from_utf8_lossy(t).into_owned();
        for s in &self.all {
            // A parameter's own error comes below.
            for &(n, line, at, nonlocal) in s.decls.iter().filter(|d| !s.params.contains(&d.0)) {
                let before = s.seen.iter().filter(|&&(m, o, _)| m == n && o < at);
                let Some(bound) = before.map(|&(_, _, b)| b).reduce(|a, b| a || b) else {
                    continue;
                };
                let what = if nonlocal { "nonlocal" } else { "global" };
                let how = if bound {
                    "is assigned to before"
                } else {
                    "is used prior to"
                };
                return Err(error(
                    line,
                    format!("name '{}' {how} {what} declaration", name(n)),
                ));
            }
        }
        // A class body's `nonlocal` looks in the functions around it too.
        for s in self.all.iter().filter(|s| s.def || s.class) {
            for &(g, line) in &s.globals {
                if s.params.contains(&g) {
                    return Err(error(
                        line,
                        format!("name '{}' is parameter and global", name(g)),
                    ));
                }
            }
            for &(n, line) in &s.nonlocals {
                if s.params.contains(&n) {
                    return Err(error(
                        line,
                        format!("name '{}' is parameter and nonlocal", name(n)),
                    ));
                }
                if let Some(&(_, global)) = s.globals.iter().find(|&&(g, _)| g == n) {
                    // CPython names the first of the two statements.
                    let first = line.min(global);
                    return Err(error(
                        first,
                        format!("name '{}' is nonlocal and global", name(n)),
                    ));
                }
                if !self.found(s.parent, n) {
                    return Err(error(
                        line,
                        format!("no binding for nonlocal '{}' found", name(n)),
                    ));
                }
            }
            if let (true, true, Some(line)) = (s.is_async, s.yields, s.value_return) {
                return Err(error(line, "'return' with value in async generator"));
            }
        }
        Ok(())
    }

    /// Whether an enclosing `def` binds `name` for a `nonlocal`: classes
    /// pass through, a `global` on the way hides it.
    fn found(&self, mut at: Option<usize>, name: &[u8]) -> bool {
        while let Some(i) = at {
            let s = &self.all[i];
            if s.def {
                if s.globals.iter().any(|&(g, _)| g == name) {
                    return false;
                }
                let declared = s.nonlocals.iter().any(|&(n, _)| n == name);
                if !declared && (s.bound.contains(&name) || s.params.contains(&name)) {
                    return true;
                }
            }
            at = s.parent;
        }
        false
    }
}

/// What `with ... as` can assign: names, attributes, subscripts, and
/// brackets of them, a starred one only inside brackets.
pub(super) fn assignable(target: Node<'_>, top: bool, line: usize) -> Result<(), SyntaxError> {
    let what = match target.kind() {
        "identifier" | "keyword_identifier" | "attribute" | "subscript" | "comment" => {
            return Ok(())
        }
        "list_splat" if top => {
            return Err(error(
                line,
                "starred assignment target must be in a list or tuple",
            ))
        }
        "tuple" | "list" | "parenthesized_expression" | "list_splat" | "expression_list" => {
            let mut c = target.walk();
            let kids: Vec<Node<'_>> = target.named_children(&mut c).collect();
            for k in kids {
                assignable(k, target.kind() == "parenthesized_expression" && top, line)?;
            }
            return Ok(());
        }
        "call" => "function call",
        "string" | "concatenated_string" | "integer" | "float" => "literal",
        "true" => "True",
        "false" => "False",
        "none" => "None",
        "comparison_operator" => "comparison",
        "conditional_expression" => "conditional expression",
        "lambda" => "lambda",
        "await" => "await expression",
        "named_expression" => "named expression",
        "dictionary" => "dict literal",
        "set" => "set display",
        "list_comprehension" => "list comprehension",
        "set_comprehension" => "set comprehension",
        "dictionary_comprehension" => "dict comprehension",
        "generator_expression" => "generator expression",
        _ => "expression",
    };
    Err(error(line, format!("cannot assign to {what}")))
}
