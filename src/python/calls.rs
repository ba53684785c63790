//! What a migration's `upgrade()` does, read from the parse tree: the SQL it
//! executes, the tables it creates, drops and renames, the indexes it
//! creates, and which lookups raise when they find nothing. Nothing is
//! executed. Values are followed only through string literals, f-strings,
//! `sa.text(...)` and string constants assigned in the module or the
//! function.
//!
//! Module-level functions that `upgrade()` calls by name are followed, in
//! call order, so that a helper's `drop_table` still comes before the
//! `create_table` after it.

use std::collections::HashMap;

use super::guards::polarity;
pub(crate) use super::guards::When;

use tree_sitter::Node;

use super::{bom_len, unescape};

/// Stands for an f-string interpolation whose value is not a known constant.
/// An identifier, so that the SQL around it still parses.
pub(crate) const UNKNOWN: &str = "__migfix_value__";

/// SQL gathered from Python string literals, with the file line where each
/// piece starts, so that a position in the SQL maps back to the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SqlText {
    pub text: String,
    /// (byte offset in `text`, 1-based file line of that byte)
    pieces: Vec<(usize, usize)>,
}

impl SqlText {
    pub fn new(text: &str, line: usize) -> SqlText {
        SqlText {
            text: text.to_string(),
            pieces: vec![(0, line)],
        }
    }

    /// The file line of a byte offset in the SQL.
    pub fn line_at(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let Some(&(start, line)) = self.pieces.iter().rev().find(|(s, _)| *s <= offset) else {
            return 1;
        };
        let between = self.text.get(start..offset).unwrap_or("");
        line + between.matches('\n').count()
    }

    pub(crate) fn append(&mut self, other: SqlText) {
        let base = self.text.len();
        self.text.push_str(&other.text);
        self.pieces
            .extend(other.pieces.into_iter().map(|(o, l)| (o + base, l)));
    }
}

/// A bound parameter of an `execute()`: its name and, when it is a known
/// string, its value.
pub(crate) type Param = (String, Option<String>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    /// 1-based line of the call.
    pub line: usize,
    /// Where `upgrade()` itself calls the helper this step is in, if any.
    pub site: Option<usize>,
    pub what: StepKind,
}

impl Step {
    /// A step of `upgrade()` itself, not of a helper it calls.
    pub(crate) fn new(line: usize, what: StepKind) -> Step {
        Step {
            line,
            site: None,
            what,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepKind {
    /// SQL passed to `execute()` or `exec_driver_sql()`. `raises` is the line
    /// of a `raise` guarded by a test of the result (the lookup pattern).
    Execute {
        sql: SqlText,
        params: Vec<Param>,
        raises: Option<usize>,
    },
    /// `op.create_table`, with the schema when one is given (`schema.name`).
    CreateTable {
        table: String,
    },
    DropTable {
        table: String,
    },
    RenameTable {
        from: String,
        to: String,
    },
    /// `op.create_index(...)` or `sa.Index(...)`.
    CreateIndex {
        name: Option<String>,
        table: Option<String>,
        predicate: Option<PyExpr>,
        exprs: Vec<PyExpr>,
    },
}

/// A SQLAlchemy expression argument (`postgresql_where=`, an index element).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PyExpr {
    /// SQL text inside it: `sa.text("...")` or a plain string.
    pub sql: Vec<SqlText>,
    /// `sa.func.NAME(...)` calls inside it, with their lines.
    pub funcs: Vec<(String, usize)>,
}

/// The steps of `upgrade()`, in order. A file that is not UTF-8 or has no
/// `upgrade()` has none; syntax errors are reported by the chain reader.
pub(crate) fn upgrade_steps(src: &[u8]) -> Vec<Step> {
    let _alone = super::alone(src.len());
    let body = &src[bom_len(src)..];
    if std::str::from_utf8(body).is_err() {
        return Vec::new();
    }
    let Ok((tree, _)) = super::strict::parse(body) else {
        return Vec::new();
    };
    steps_from_tree(body, &tree)
}

/// [`upgrade_steps`] from a parse already made of `body` (the file after
/// its byte-order mark).
pub(crate) fn steps_from_tree(body: &[u8], tree: &tree_sitter::Tree) -> Vec<Step> {
    let root = tree.root_node();
    let mut module = Module {
        body,
        lines: super::LineIndex::new(body),
        consts: HashMap::new(),
        functions: HashMap::new(),
    };
    let mut cursor = root.walk();
    let top: Vec<Node<'_>> = root.named_children(&mut cursor).collect();
    for stmt in &top {
        match stmt.kind() {
            "function_definition" => module.define(*stmt),
            "decorated_definition" => {
                if let Some(def) = stmt
                    .child_by_field_name("definition")
                    .filter(|d| d.kind() == "function_definition")
                {
                    module.define(def);
                }
            }
            "expression_statement" => {
                let mut c = stmt.walk();
                for assign in stmt
                    .named_children(&mut c)
                    .filter(|n| n.kind() == "assignment")
                {
                    let (Some(left), Some(right)) = (
                        assign.child_by_field_name("left"),
                        assign.child_by_field_name("right"),
                    ) else {
                        continue;
                    };
                    if left.kind() != "identifier" {
                        continue;
                    }
                    let name = module.text(left).to_string();
                    match module.string(right, &Scope::default()) {
                        Some(s) => module.consts.insert(name, s),
                        None => module.consts.remove(&name),
                    };
                }
            }
            _ => {}
        }
    }
    let Some(upgrade) = module.functions.get("upgrade").copied() else {
        return Vec::new();
    };
    let mut walker = Walker {
        m: &module,
        steps: Vec::new(),
        inlining: vec!["upgrade".to_string()],
        site: None,
    };
    walker.function(upgrade);
    walker.steps
}

struct Module<'t> {
    body: &'t [u8],
    /// Lines come from the bytes: the parse sees some line breaks blanked.
    lines: super::LineIndex,
    consts: HashMap<String, SqlText>,
    functions: HashMap<String, Node<'t>>,
}

/// What a function body has bound so far.
#[derive(Default)]
pub(crate) struct Scope {
    pub consts: HashMap<String, SqlText>,
    /// name → the `Execute` steps whose result it holds
    pub results: HashMap<String, Vec<usize>>,
    /// the enclosing `if` tests: names they use, `Execute` steps inside
    /// them, and when the branch being walked runs
    pub guards: Vec<(Vec<String>, Vec<usize>, When)>,
}

impl Scope {
    /// A `raise` at `line`: every lookup a test around it depends on raises
    /// when it finds nothing.
    pub(crate) fn mark_raised(&self, steps: &mut [Step], line: usize) {
        // A raise that runs only when the row exists is no missing row.
        for (names, inside, _) in self.guards.iter().filter(|g| g.2 != When::Present) {
            let results = names
                .iter()
                .flat_map(|n| self.results.get(n).into_iter().flatten());
            for &i in inside.iter().chain(results) {
                if let StepKind::Execute { raises, .. } = &mut steps[i].what {
                    raises.get_or_insert(line);
                }
            }
        }
    }
}

impl<'t> Module<'t> {
    fn define(&mut self, def: Node<'t>) {
        if let Some(name) = def.child_by_field_name("name") {
            let name = self.text(name).to_string();
            self.functions.insert(name, def);
        }
    }

    fn text(&self, node: Node<'_>) -> &'t str {
        std::str::from_utf8(&self.body[node.byte_range()]).unwrap_or("")
    }

    /// The 1-based line (a lone `\r` ends a line, as in Python).
    fn line(&self, node: Node<'_>) -> usize {
        self.lines.line(node.start_byte())
    }

    fn resolve(&self, name: &str, scope: &Scope) -> Option<SqlText> {
        scope
            .consts
            .get(name)
            .or_else(|| self.consts.get(name))
            .cloned()
    }

    /// The string a node evaluates to, when that is knowable statically.
    fn string(&self, node: Node<'_>, scope: &Scope) -> Option<SqlText> {
        match node.kind() {
            "string" => self.literal(node, scope),
            "concatenated_string" => {
                let mut out = SqlText::default();
                let mut c = node.walk();
                for part in node.named_children(&mut c).filter(|n| n.kind() == "string") {
                    out.append(self.literal(part, scope)?);
                }
                Some(out)
            }
            "parenthesized_expression" => {
                let mut c = node.walk();
                let inner: Vec<Node<'_>> = node
                    .named_children(&mut c)
                    .filter(|n| n.kind() != "comment")
                    .collect();
                match inner.as_slice() {
                    [one] => self.string(*one, scope),
                    _ => None,
                }
            }
            "identifier" => self.resolve(self.text(node), scope),
            "binary_operator" => {
                let op = node.child_by_field_name("operator").map(|o| self.text(o));
                if op != Some("+") {
                    return None;
                }
                let mut left = self.string(node.child_by_field_name("left")?, scope)?;
                left.append(self.string(node.child_by_field_name("right")?, scope)?);
                Some(left)
            }
            "call" => {
                // `sa.text("...")`, `text("...")`, `sa.text("...").bindparams(...)`
                let func = node.child_by_field_name("function")?;
                match callee(self, func) {
                    (_, "text") => self.string(positional(node).first().copied()?, scope),
                    (Some(object), "bindparams") => self.string(object, scope),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// One string literal. Bytes and template strings are not SQL; an
    /// f-string's fields become their constant's value, or [`UNKNOWN`].
    fn literal(&self, node: Node<'_>, scope: &Scope) -> Option<SqlText> {
        let count = node.child_count();
        let start = node.child(0).filter(|c| c.kind() == "string_start")?;
        let end = node
            .child(count.checked_sub(1)?)
            .filter(|c| c.kind() == "string_end")?;
        let prefix = self
            .text(start)
            .trim_end_matches(['\'', '"'])
            .to_ascii_lowercase();
        if prefix.contains(['b', 't']) {
            return None;
        }
        let raw = prefix.contains('r');
        let fstring = prefix.contains('f');
        let segment = |bytes: &[u8]| -> String {
            let mut s = String::from_utf8_lossy(bytes).into_owned();
            if fstring {
                s = s.replace("{{", "{").replace("}}", "}");
            }
            if !raw && s.contains('\\') {
                s = unescape(&s).unwrap_or(s);
            }
            s
        };
        let mut text = String::new();
        let mut pos = start.end_byte();
        let mut c = node.walk();
        for field in node
            .named_children(&mut c)
            .filter(|n| n.kind() == "interpolation")
        {
            text.push_str(&segment(&self.body[pos..field.start_byte()]));
            let value = field
                .child_by_field_name("expression")
                .filter(|e| e.kind() == "identifier")
                .and_then(|e| self.resolve(self.text(e), scope));
            match value {
                Some(v) => text.push_str(&v.text),
                None => text.push_str(UNKNOWN),
            }
            pos = field.end_byte();
        }
        text.push_str(&segment(&self.body[pos..end.start_byte()]));
        Some(SqlText::new(&text, self.lines.line(start.end_byte())))
    }

    /// `{"email": OPERATOR_EMAIL}` as parameters.
    fn dict_params(&self, node: Node<'_>, scope: &Scope) -> Vec<Param> {
        if node.kind() != "dictionary" {
            return Vec::new();
        }
        let mut c = node.walk();
        node.named_children(&mut c)
            .filter(|p| p.kind() == "pair")
            .filter_map(|p| {
                let key = self.string(p.child_by_field_name("key")?, scope)?.text;
                let value = p
                    .child_by_field_name("value")
                    .and_then(|v| self.string(v, scope))
                    .map(|s| s.text);
                Some((key, value))
            })
            .collect()
    }

    /// `.bindparams(email=OPERATOR_EMAIL)` anywhere along a `text()` chain.
    fn bind_params(&self, node: Node<'_>, scope: &Scope) -> Vec<Param> {
        let mut out = Vec::new();
        let mut current = Some(node);
        while let Some(n) = current.filter(|n| n.kind() == "call") {
            let Some(func) = n.child_by_field_name("function") else {
                break;
            };
            let (object, name) = callee(self, func);
            if name == "bindparams" {
                out.extend(
                    self.keywords(n)
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), self.string(v, scope).map(|s| s.text))),
                );
            }
            current = object;
        }
        out
    }

    /// A call's keyword arguments, as (name, value).
    fn keywords<'n>(&self, call: Node<'n>) -> Vec<(&'t str, Node<'n>)> {
        let Some(args) = call.child_by_field_name("arguments") else {
            return Vec::new();
        };
        let mut c = args.walk();
        let found: Vec<Node<'n>> = args
            .named_children(&mut c)
            .filter(|a| a.kind() == "keyword_argument")
            .collect();
        found
            .into_iter()
            .filter_map(|kw| {
                Some((
                    self.text(kw.child_by_field_name("name")?),
                    kw.child_by_field_name("value")?,
                ))
            })
            .collect()
    }

    /// The SQL text and the `func.NAME` calls inside an expression argument.
    fn expr(&self, node: Node<'_>, scope: &Scope) -> PyExpr {
        let mut out = PyExpr::default();
        if let Some(s) = self.string(node, scope) {
            out.sql.push(s);
            return out;
        }
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if n.kind() == "call" {
                if let Some(func) = n.child_by_field_name("function") {
                    let (object, name) = callee(self, func);
                    if name == "text" {
                        if let Some(s) = positional(n).first().and_then(|a| self.string(*a, scope))
                        {
                            out.sql.push(s);
                            continue;
                        }
                    }
                    // `sa.func.now()`, `func.now()`: the attribute's object ends in `func`.
                    if object
                        .is_some_and(|o| self.text(o) == "func" || self.text(o).ends_with(".func"))
                    {
                        out.funcs.push((name.to_string(), self.line(n)));
                    }
                }
            }
            let mut c = n.walk();
            let kids: Vec<Node<'_>> = n.named_children(&mut c).collect();
            stack.extend(kids.into_iter().rev());
        }
        out
    }
}

/// A call's callee as (object, name): `op.execute` → (`op`, `execute`),
/// `text` → (None, `text`).
fn callee<'t>(m: &Module<'t>, func: Node<'t>) -> (Option<Node<'t>>, &'t str) {
    match func.kind() {
        "attribute" => (
            func.child_by_field_name("object"),
            func.child_by_field_name("attribute")
                .map_or("", |a| m.text(a)),
        ),
        "identifier" => (None, m.text(func)),
        _ => (None, ""),
    }
}

fn positional(call: Node<'_>) -> Vec<Node<'_>> {
    let Some(args) = call.child_by_field_name("arguments") else {
        return Vec::new();
    };
    let mut c = args.walk();
    args.named_children(&mut c)
        .take_while(|a| {
            !matches!(
                a.kind(),
                "keyword_argument" | "list_splat" | "dictionary_splat"
            )
        })
        .filter(|a| a.kind() != "comment")
        .collect()
}

struct Walker<'m, 't> {
    m: &'m Module<'t>,
    steps: Vec<Step>,
    /// Functions being followed, so that recursion stops.
    inlining: Vec<String>,
    /// The line of `upgrade()`'s call into the helper being followed.
    site: Option<usize>,
}

impl<'t> Walker<'_, 't> {
    fn function(&mut self, def: Node<'t>) {
        let mut scope = Scope::default();
        if let Some(body) = def.child_by_field_name("body") {
            self.walk(body, &mut scope);
        }
    }

    fn children(&mut self, node: Node<'t>, scope: &mut Scope) {
        let mut c = node.walk();
        let kids: Vec<Node<'t>> = node.named_children(&mut c).collect();
        for k in kids {
            self.walk(k, scope);
        }
    }

    fn push(&mut self, step: Step) {
        self.steps.push(Step {
            site: self.site,
            ..step
        });
    }

    fn executes_since(&self, before: usize) -> Vec<usize> {
        (before..self.steps.len())
            .filter(|&i| matches!(self.steps[i].what, StepKind::Execute { .. }))
            .collect()
    }

    fn walk(&mut self, node: Node<'t>, scope: &mut Scope) {
        match node.kind() {
            // A nested definition runs only when called, which is not followed.
            "function_definition" | "class_definition" | "decorated_definition" | "lambda" => {}
            "call" => self.call(node, scope),
            "raise_statement" => {
                self.children(node, scope);
                scope.mark_raised(&mut self.steps, self.m.line(node));
            }
            "if_statement" | "elif_clause" | "while_statement" => {
                let before = self.steps.len();
                let cond = node.child_by_field_name("condition");
                if let Some(c) = cond {
                    self.walk(c, scope);
                }
                let names = cond.map(|c| identifiers(self.m, c)).unwrap_or_default();
                let inside = self.executes_since(before);
                let when = cond.map_or(When::Unknown, |c| polarity(self.m.body, c));
                scope.guards.push((names, inside, when));
                let mut c = node.walk();
                let kids: Vec<Node<'t>> = node
                    .named_children(&mut c)
                    .filter(|k| Some(k.id()) != cond.map(|c| c.id()))
                    .collect();
                for k in kids {
                    // `else` and `elif` run when the test fails.
                    let other = matches!(k.kind(), "else_clause" | "elif_clause");
                    if let Some(g) = scope.guards.last_mut().filter(|_| other) {
                        g.2 = when.flip();
                    }
                    self.walk(k, scope);
                }
                scope.guards.pop();
            }
            "assignment" | "augmented_assignment" => {
                let before = self.steps.len();
                let right = node.child_by_field_name("right");
                if let Some(r) = right {
                    self.walk(r, scope);
                }
                let mut sources = self.executes_since(before);
                if let Some(r) = right {
                    for n in identifiers(self.m, r) {
                        sources.extend(scope.results.get(&n).into_iter().flatten().copied());
                    }
                }
                let Some(left) = node.child_by_field_name("left") else {
                    return;
                };
                let value = right
                    .filter(|_| node.kind() == "assignment")
                    .and_then(|r| self.m.string(r, scope));
                for target in identifiers(self.m, left) {
                    if sources.is_empty() {
                        scope.results.remove(&target);
                    } else {
                        scope.results.insert(target.clone(), sources.clone());
                    }
                    match (&value, left.kind()) {
                        (Some(v), "identifier") => scope.consts.insert(target, v.clone()),
                        _ => scope.consts.remove(&target),
                    };
                }
            }
            _ => self.children(node, scope),
        }
    }

    fn call(&mut self, node: Node<'t>, scope: &mut Scope) {
        let m = self.m;
        let Some(func) = node.child_by_field_name("function") else {
            return self.children(node, scope);
        };
        let (object, name) = callee(m, func);
        let line = m.line(node);
        let args = positional(node);
        let keywords = m.keywords(node);
        let kw = |key: &str| keywords.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let arg = |i: usize, key: &str| args.get(i).copied().or_else(|| kw(key));
        let table = |i: usize, key: &str, scope: &Scope| -> Option<String> {
            let name = m.string(arg(i, key)?, scope)?.text;
            Some(match kw("schema").and_then(|s| m.string(s, scope)) {
                Some(schema) => format!("{}.{name}", schema.text),
                None => name,
            })
        };
        match (object.is_some(), name) {
            (true, "execute" | "exec_driver_sql") => {
                if let Some(sql) = args.first().and_then(|a| m.string(*a, scope)) {
                    if let Some(o) = object {
                        self.walk(o, scope);
                    }
                    let mut params = m.bind_params(args[0], scope);
                    if let Some(second) = args.get(1) {
                        params.extend(m.dict_params(*second, scope));
                    }
                    self.push(Step {
                        site: None,
                        line,
                        what: StepKind::Execute {
                            sql,
                            params,
                            raises: None,
                        },
                    });
                    return;
                }
            }
            (true, "create_table") => {
                if let Some(t) = table(0, "table_name", scope) {
                    self.push(Step {
                        site: None,
                        line,
                        what: StepKind::CreateTable { table: t },
                    });
                }
                // Index(...) arguments inside it
                return self.children(node, scope);
            }
            (true, "drop_table") => {
                if let Some(t) = table(0, "table_name", scope) {
                    self.push(Step {
                        site: None,
                        line,
                        what: StepKind::DropTable { table: t },
                    });
                }
                return;
            }
            (true, "rename_table") => {
                if let (Some(from), Some(to)) = (
                    table(0, "old_table_name", scope),
                    table(1, "new_table_name", scope),
                ) {
                    self.push(Step {
                        site: None,
                        line,
                        what: StepKind::RenameTable { from, to },
                    });
                }
                return;
            }
            (true, "create_index") => {
                let exprs = arg(2, "columns")
                    .map(|cols| self.index_elements(cols, scope))
                    .unwrap_or_default();
                self.push(Step {
                    site: None,
                    line,
                    what: StepKind::CreateIndex {
                        name: arg(0, "index_name")
                            .and_then(|n| m.string(n, scope))
                            .map(|s| s.text),
                        table: table(1, "table_name", scope),
                        predicate: kw("postgresql_where").map(|w| m.expr(w, scope)),
                        exprs,
                    },
                });
                return;
            }
            (_, "Index") => {
                let exprs = args
                    .iter()
                    .skip(1)
                    .map(|e| m.expr(*e, scope))
                    .filter(|e| !is_plain_column(e))
                    .collect();
                self.push(Step {
                    site: None,
                    line,
                    what: StepKind::CreateIndex {
                        name: args
                            .first()
                            .and_then(|n| m.string(*n, scope))
                            .map(|s| s.text),
                        table: None,
                        predicate: kw("postgresql_where").map(|w| m.expr(w, scope)),
                        exprs,
                    },
                });
                return;
            }
            (false, helper)
                if m.functions.contains_key(helper)
                    && !self.inlining.iter().any(|f| f == helper) =>
            {
                self.children(node, scope);
                let def = m.functions[helper];
                if self.inlining.len() == 1 {
                    self.site = Some(line);
                }
                self.inlining.push(helper.to_string());
                self.function(def);
                self.inlining.pop();
                if self.inlining.len() == 1 {
                    self.site = None;
                }
                return;
            }
            _ => {}
        }
        self.children(node, scope);
    }

    /// The elements of `op.create_index`'s column list that are expressions
    /// (`sa.text("lower(email)")`, a string with a parenthesis).
    fn index_elements(&self, cols: Node<'t>, scope: &Scope) -> Vec<PyExpr> {
        if !matches!(cols.kind(), "list" | "tuple") {
            return vec![self.m.expr(cols, scope)]
                .into_iter()
                .filter(|e| !is_plain_column(e))
                .collect();
        }
        let mut c = cols.walk();
        let items: Vec<Node<'t>> = cols
            .named_children(&mut c)
            .filter(|n| n.kind() != "comment")
            .collect();
        items
            .into_iter()
            .map(|e| self.m.expr(e, scope))
            .filter(|e| !is_plain_column(e))
            .collect()
    }
}

/// A column name rather than an expression: no SQL call, no function.
fn is_plain_column(e: &PyExpr) -> bool {
    e.funcs.is_empty()
        && e.sql
            .iter()
            .all(|s| !s.text.contains('(') && !s.text.contains("::"))
}

/// Every identifier in a subtree, in order (attribute names included).
fn identifiers(m: &Module<'_>, node: Node<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind() == "identifier" {
            out.push(m.text(n).to_string());
        }
        let mut c = n.walk();
        let kids: Vec<Node<'_>> = n.named_children(&mut c).collect();
        stack.extend(kids.into_iter().rev());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(src: &str) -> Vec<Step> {
        upgrade_steps(src.as_bytes())
    }

    #[test]
    fn execute_strings_fstrings_and_text() {
        let s = steps(
            "from alembic import op\nimport sqlalchemy as sa\nGROUP = 'owners'\n\ndef upgrade():\n    op.execute(\"GRANT SELECT ON t TO app\")\n    op.execute(f\"INSERT INTO g VALUES ('{GROUP}', {x})\")\n    op.get_bind().execute(sa.text(\"SELECT 1\"))\n\ndef downgrade():\n    op.execute('DROP TABLE t')\n",
        );
        let sql: Vec<(usize, &str)> = s
            .iter()
            .filter_map(|st| match &st.what {
                StepKind::Execute { sql, .. } => Some((st.line, sql.text.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            sql,
            [
                (6, "GRANT SELECT ON t TO app"),
                (7, "INSERT INTO g VALUES ('owners', __migfix_value__)"),
                (8, "SELECT 1")
            ]
        );
    }

    #[test]
    fn lookup_that_raises_is_marked() {
        let src = "import sqlalchemy as sa\nfrom alembic import op\nEMAIL = \"kris@moosequest.net\"\n\ndef upgrade():\n    bind = op.get_bind()\n    admin_id = bind.execute(\n        sa.text(\"SELECT id FROM admins WHERE email = :email\"), {\"email\": EMAIL}\n    ).scalar()\n    if admin_id is None:\n        raise RuntimeError('missing')\n";
        let s = steps(src);
        match &s[0].what {
            StepKind::Execute {
                sql,
                params,
                raises,
            } => {
                assert_eq!(sql.text, "SELECT id FROM admins WHERE email = :email");
                assert_eq!(sql.line_at(0), 8);
                assert_eq!(
                    params,
                    &[("email".to_string(), Some("kris@moosequest.net".to_string()))]
                );
                assert_eq!(*raises, Some(11));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lookup_that_returns_is_not_marked() {
        let src = "def upgrade():\n    row = bind.execute(text('SELECT id FROM a WHERE e = :e')).first()\n    if row is None:\n        return\n    x = 1\n    if x:\n        raise ValueError()\n";
        match &steps(src)[0].what {
            StepKind::Execute { raises, .. } => assert_eq!(*raises, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tables_and_indexes_in_order_through_helpers() {
        let src = "def _drop():\n    op.drop_table('paper_orders')\n\ndef upgrade():\n    _drop()\n    op.create_table('paper_orders', sa.Column('id'), sa.Index('ix_a', 'id', postgresql_where=sa.text('x > now()')))\n    op.rename_table('a', 'b')\n    op.create_index('ix', 'alerts', ['created_at', sa.text('lower(email)')], postgresql_where=sa.func.now() > sa.column('x'))\n";
        let s = steps(src);
        let kinds: Vec<String> = s
            .iter()
            .map(|st| match &st.what {
                StepKind::DropTable { table } => format!("{}:drop {table}", st.line),
                StepKind::CreateTable { table } => format!("{}:create {table}", st.line),
                StepKind::RenameTable { from, to } => format!("{}:rename {from} {to}", st.line),
                StepKind::CreateIndex {
                    name,
                    predicate,
                    exprs,
                    ..
                } => {
                    let p = predicate.as_ref().map(|p| {
                        (
                            p.sql.iter().map(|s| s.text.clone()).collect::<Vec<_>>(),
                            p.funcs.clone(),
                        )
                    });
                    format!("{}:index {name:?} {p:?} {}", st.line, exprs.len())
                }
                StepKind::Execute { .. } => "execute".into(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "2:drop paper_orders",
                "6:create paper_orders",
                "6:index Some(\"ix_a\") Some(([\"x > now()\"], [])) 0",
                "7:rename a b",
                "8:index Some(\"ix\") Some(([], [(\"now\", 8)])) 1",
            ]
        );
    }

    #[test]
    fn schema_and_recursion() {
        let src = "def upgrade():\n    upgrade()\n    op.create_table('t', schema='audit')\n";
        assert!(
            matches!(&steps(src)[0].what, StepKind::CreateTable { table } if table == "audit.t")
        );
    }

    #[test]
    fn line_mapping_across_concatenated_pieces() {
        let src = "def upgrade():\n    op.execute(\n        \"CREATE INDEX ix ON t (a) \"\n        \"WHERE b < now()\"\n    )\n";
        match &steps(src)[0].what {
            StepKind::Execute { sql, .. } => {
                let at = sql.text.find("now").unwrap();
                assert_eq!(sql.line_at(at), 4);
                assert_eq!(sql.line_at(0), 3);
            }
            other => panic!("{other:?}"),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

        #[test]
        fn random_python_never_panics(body in "(op\\.execute\\(|op\\.create_table\\(|sa\\.text\\(|f\"|\"|'|\\{|\\}|\\)|,|if x:\n    |raise E\n|x = |postgresql_where=|\n    |é|\\\\){0,40}") {
            let src = format!("def upgrade():\n    {body}\n");
            let _ = upgrade_steps(src.as_bytes());
        }
    }

    #[test]
    fn no_upgrade_or_garbage_gives_nothing() {
        assert!(steps("x = 1\n").is_empty());
        assert!(upgrade_steps(b"\xff\xfe def upgrade(").is_empty());
        assert!(steps("def upgrade(:\n    op.execute('x'\n").len() <= 1);
    }
}
