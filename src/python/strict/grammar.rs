//! The grammar and compiler rules that tree-sitter's grammar is more
//! lenient about, checked on the parse, and the bound on its depth that
//! keeps the recursive readers after it within their stack.

use tree_sitter::Node;

use super::scopes::{Kind, Scopes};
use super::tokens::{error, field_tokens};
use crate::python::SyntaxError;

/// Deeper syntax trees are refused. CPython's compiler gives up near 3,000
/// levels of expression nesting; this leaves a margin above it, and the
/// recursive readers after this check have the stack for it.
pub(crate) const MAX_DEPTH: usize = 3_200;

/// What encloses a node, for the rules that depend on it.
#[derive(Clone, Copy, Default)]
struct Ctx {
    /// Inside a function body (a `def` or a `lambda`), and whether async.
    function: Option<bool>,
    /// Directly inside a `def` (not a lambda or a class) for `return`.
    def: bool,
    in_loop: bool,
    module: bool,
    /// Inside a function that another function encloses.
    outer_function: bool,
    /// The scope (see [`Scopes`]) names are bound in.
    scope: usize,
    /// Where `await` and `async for` may stand: an `async def`, or a
    /// generator expression but for its first iterable.
    asyncable: bool,
    /// Inside a list, set or dict comprehension but for its first iterable.
    comp: bool,
    /// Inside a `case` pattern, where names are captures.
    in_case: bool,
    /// Inside a comprehension's own scope (all but its first iterable).
    in_comp: bool,
}

/// A node to visit: its context, depth, parent and grandparent.
type Visit<'a> = (Node<'a>, Ctx, usize, Option<Node<'a>>, Option<Node<'a>>);

/// The grammar and compiler rules that tree-sitter's grammar does not make,
/// and the depth bound. `root` is a parse without error nodes; `newlines`
/// are where [`tokens`] found logical lines to end.
pub(in crate::python) fn tree(
    root: Node<'_>,
    body: &[u8],
    newlines: &[usize],
) -> Result<(), SyntaxError> {
    let lines = crate::python::LineIndex::new(body);
    let line = |n: Node<'_>| lines.line(n.start_byte());
    future_imports(root, body, &line)?;
    let text = |n: Node<'_>| std::str::from_utf8(&body[n.byte_range()]).unwrap_or("");
    let mut scopes = Scopes::new(body);
    // Each node with its parent and grandparent: asking tree-sitter for a
    // parent walks down from the root, which costs most of a parse.
    let mut stack: Vec<Visit<'_>> = vec![(
        root,
        Ctx {
            module: true,
            ..Ctx::default()
        },
        0usize,
        None,
        None,
    )];
    while let Some((node, ctx, depth, parent, grand)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(SyntaxError {
                line: line(node),
                message: format!(
                    "nested more than {MAX_DEPTH} levels deep; CPython cannot compile it either"
                ),
            });
        }
        let fail = |m: &str| Err(error(line(node), m));
        // Decorators and what they decorate are lines of their own.
        let statement = node.kind() != "decorated_definition"
            && parent
                .is_some_and(|p| matches!(p.kind(), "module" | "block" | "decorated_definition"));
        // A comment's node takes in the `\r` of a CRLF.
        if (statement && node.kind() != "comment") || node.kind().ends_with("_clause") {
            one_logical_line(node, newlines, line)?;
        }
        scopes.bindings(node, parent, (ctx.scope, ctx.in_case, ctx.in_comp), &line)?;
        match node.kind() {
            "print_statement"
                if node.child_by_field_name("argument").is_some()
                    && !has_child(node, "chevron") =>
            {
                return fail("Missing parentheses in call to 'print' (a Python 2 print statement)")
            }
            "concatenated_string" => {
                let bytes = |n: Node<'_>| {
                    text(n)
                        .bytes()
                        .take_while(u8::is_ascii_alphabetic)
                        .any(|b| b.eq_ignore_ascii_case(&b'b'))
                };
                let mut c = node.walk();
                let kinds: Vec<bool> = node
                    .named_children(&mut c)
                    .filter(|n| n.kind() == "string")
                    .map(bytes)
                    .collect();
                if kinds.iter().any(|&b| b) && kinds.iter().any(|&b| !b) {
                    // CPython tells the line where the literals end.
                    let end = lines.line(node.end_byte().saturating_sub(1));
                    return Err(error(end, "cannot mix bytes and nonbytes literals"));
                }
            }
            // tree-sitter reads them as names where no name may stand.
            "identifier" if matches!(text(node), "async" | "await") => {
                return fail("invalid syntax (`async` and `await` are keywords)")
            }
            "exec_statement" => {
                return fail("Missing parentheses in call to 'exec' (a Python 2 exec statement)")
            }
            "except_clause" | "except_group_clause" => {
                let mut c = node.walk();
                if node.children_by_field_name("value", &mut c).count() > 1 {
                    return fail("multiple exception types must be parenthesized (`except X, e` is Python 2; use `except X as e`)");
                }
            }
            "raise_statement" if has_child(node, "expression_list") => {
                return fail("invalid syntax (`raise E, value` is Python 2; use `raise E(value)`)")
            }
            "parameters" | "lambda_parameters" => {
                for name in parameters(node, body, line)? {
                    scopes.param(ctx.scope, name, line(name))?;
                }
            }
            // tree-sitter takes `f(,)` and `{,}`.
            "argument_list" | "dictionary" | "set"
                if node.child(1).is_some_and(|c| c.kind() == ",") =>
            {
                return fail("invalid syntax (a `,` with nothing before it)")
            }
            "argument_list" => arguments(node, body, line)?,
            "return_statement" if !ctx.def => return fail("'return' outside function"),
            "yield" if ctx.function.is_none() => return fail("'yield' outside function"),
            "yield" if ctx.function == Some(true) && text(node).starts_with("yield from") => {
                return fail("'yield from' inside async function")
            }
            "await" if !ctx.asyncable && ctx.comp => {
                return fail("asynchronous comprehension outside of an asynchronous function")
            }
            "await" if !ctx.asyncable && ctx.function.is_none() => {
                return fail("'await' outside function")
            }
            "await" if !ctx.asyncable => return fail("'await' outside async function"),
            "break_statement" if !ctx.in_loop => return fail("'break' outside loop"),
            "continue_statement" if !ctx.in_loop => return fail("'continue' not properly in loop"),
            "import_statement" | "import_from_statement" | "future_import_statement"
                if node
                    .child(node.child_count().saturating_sub(1))
                    .is_some_and(|last| last.kind() == ",")
                    && !has_child(node, "(") =>
            {
                return fail("trailing comma not allowed without surrounding parentheses")
            }
            "future_import_statement" if parent.is_some_and(|p| p.kind() != "module") => {
                return fail("from __future__ imports must occur at the beginning of the file")
            }
            "nonlocal_statement" if ctx.module => {
                return fail("nonlocal declaration not allowed at module level")
            }
            "import_from_statement" if !ctx.module && has_child(node, "wildcard_import") => {
                return fail("import * only allowed at module level")
            }
            // tree-sitter takes `from m import a.b`.
            "import_from_statement" if dotted_import(node) => return fail("invalid syntax"),
            // `*a` alone; `*a,` is a tuple.
            "expression_statement"
                if node
                    .named_child(0)
                    .is_some_and(|c| c.kind() == "list_splat")
                    && !has_child(node, ",") =>
            {
                return fail("can't use starred expression here")
            }
            "try_statement" => {
                let mut c = node.walk();
                let excepts: Vec<Node<'_>> = node
                    .children(&mut c)
                    .filter(|n| n.kind() == "except_clause")
                    .collect();
                if let Some(bare) = excepts
                    .iter()
                    .rev()
                    .skip(1)
                    .find(|e| e.child_by_field_name("value").is_none())
                {
                    return Err(error(line(*bare), "default 'except:' must be last"));
                }
            }
            "delete_statement" => {
                let mut c = node.walk();
                let mut names = Vec::new();
                for target in node.named_children(&mut c) {
                    deletable(target, line, &mut names)?;
                }
                for n in names {
                    if text(n) == "__debug__" {
                        return Err(error(line(n), "cannot delete __debug__"));
                    }
                    scopes.bind(ctx.scope, n, line(n))?;
                }
            }
            "augmented_assignment" => {
                if let Some(left) = node.child_by_field_name("left") {
                    if !matches!(left.kind(), "identifier" | "attribute" | "subscript") {
                        return fail(&format!(
                            "'{}' is an illegal expression for augmented assignment",
                            match left.kind() {
                                "list_splat_pattern" => "starred".into(),
                                other => other.replace("_pattern", ""),
                            }
                        ));
                    }
                }
            }
            "list_splat"
                if parent.is_some_and(|p| {
                    matches!(
                        p.kind(),
                        "list_comprehension" | "set_comprehension" | "generator_expression"
                    )
                }) =>
            {
                return fail("iterable unpacking cannot be used in comprehension")
            }
            "dictionary_splat"
                if parent.is_some_and(|p| p.kind() == "dictionary_comprehension") =>
            {
                return fail("dict unpacking cannot be used in dict comprehension")
            }
            "list_splat"
                if parent.is_some_and(|p| {
                    matches!(
                        p.kind(),
                        "keyword_argument"
                            | "default_parameter"
                            | "typed_default_parameter"
                            | "parenthesized_expression"
                            | "assignment"
                            | "augmented_assignment"
                            | "pair"
                            | "binary_operator"
                            | "comparison_operator"
                            | "boolean_operator"
                            | "unary_operator"
                            | "not_operator"
                            | "conditional_expression"
                            | "attribute"
                            | "lambda"
                            | "await"
                    )
                }) =>
            {
                return fail("can't use starred expression here")
            }
            "as_pattern"
                if !parent.is_some_and(|p| {
                    matches!(
                        p.kind(),
                        "with_item" | "except_clause" | "except_group_clause" | "case_pattern"
                    )
                }) =>
            {
                return fail("invalid syntax (`as` outside `import`, `with`, `except` and `case`)")
            }
            // `x := 1` needs brackets but where Python's grammar takes a
            // named expression.
            "named_expression"
                if !parent.is_some_and(|p| {
                    matches!(
                        p.kind(),
                        "parenthesized_expression"
                            | "argument_list"
                            | "if_statement"
                            | "elif_clause"
                            | "while_statement"
                            | "list"
                            | "set"
                            | "tuple"
                            | "subscript"
                            | "list_comprehension"
                            | "set_comprehension"
                            | "generator_expression"
                    ) || (p.kind() == "if_clause"
                        && grand.is_some_and(|g| g.kind() == "case_clause"))
                        // An index of a subscript in an annotation.
                        || (p.kind() == "type"
                            && grand.is_some_and(|g| g.kind() == "type_parameter"))
                }) =>
            {
                return fail("invalid syntax (an assignment expression `:=` needs brackets here)")
            }
            // `x: A: B`, a type parameter's bound: not Python 3.11's.
            "constrained_type" => return fail("invalid syntax"),
            "assignment" => {
                // `a = b: T` and `a: T = b = c`: the grammar takes them as
                // chains; Python does not.
                let typed = node.child_by_field_name("type").is_some();
                if node.child_by_field_name("right").is_some_and(|r| {
                    r.kind() == "assignment" && (typed || r.child_by_field_name("type").is_some())
                }) {
                    return fail("invalid syntax (an annotated assignment cannot be chained)");
                }
                if let Some(what) = annotated_many(node) {
                    return fail(&format!("only single target (not {what}) can be annotated"));
                }
                if let Some(left) = node.child_by_field_name("left") {
                    if left.kind() == "list_splat_pattern" {
                        return fail(if typed {
                            "invalid syntax"
                        } else {
                            "starred assignment target must be in a list or tuple"
                        });
                    }
                    let mut c = left.walk();
                    if left
                        .named_children(&mut c)
                        .filter(|n| n.kind() == "list_splat_pattern")
                        .count()
                        > 1
                    {
                        return fail("multiple starred expressions in assignment");
                    }
                }
            }
            "for_statement"
                if node
                    .child_by_field_name("left")
                    .is_some_and(|l| l.kind() == "list_splat_pattern") =>
            {
                return fail("starred assignment target must be in a list or tuple")
            }
            "for_in_clause" => {
                let mut c = node.walk();
                if node.children_by_field_name("right", &mut c).count() > 1 {
                    return fail("invalid syntax (a comprehension's iterable with commas must be parenthesized)");
                }
                if !ctx.asyncable
                    && has_child(node, "async")
                    && parent.is_some_and(|p| p.kind() != "generator_expression")
                {
                    return fail("asynchronous comprehension outside of an asynchronous function");
                }
            }
            "interpolation" => {
                if let Some(expr) = node.child_by_field_name("expression") {
                    field_tokens(&body[expr.byte_range()], line(expr))?;
                }
            }
            "type_conversion" if !matches!(text(node), "!r" | "!s" | "!a") => {
                return fail("f-string: invalid conversion character: expected 's', 'r', or 'a'")
            }
            _ => {}
        }
        // The context the children see.
        let enclosed = ctx.function.is_some() || ctx.outer_function;
        let comprehension = matches!(
            node.kind(),
            "list_comprehension"
                | "set_comprehension"
                | "dictionary_comprehension"
                | "generator_expression"
        );
        let inner = match node.kind() {
            "function_definition" => {
                let is_async = node.child(0).is_some_and(|c| c.kind() == "async");
                Ctx {
                    function: Some(is_async),
                    def: true,
                    outer_function: enclosed,
                    scope: scopes.open(ctx.scope, Kind::Def { is_async }),
                    asyncable: is_async,
                    ..Ctx::default()
                }
            }
            "lambda" => Ctx {
                function: Some(false),
                outer_function: enclosed,
                scope: scopes.open(ctx.scope, Kind::Lambda),
                ..Ctx::default()
            },
            "class_definition" => Ctx {
                outer_function: enclosed,
                scope: scopes.open(ctx.scope, Kind::Class),
                ..Ctx::default()
            },
            "generator_expression" => Ctx {
                asyncable: true,
                in_comp: true,
                ..ctx
            },
            "list_comprehension" | "set_comprehension" | "dictionary_comprehension" => Ctx {
                comp: true,
                in_comp: true,
                ..ctx
            },
            "case_pattern" => Ctx {
                in_case: true,
                ..ctx
            },
            _ => ctx,
        };
        let loop_body = matches!(node.kind(), "for_statement" | "while_statement")
            .then(|| node.child_by_field_name("body"))
            .flatten();
        let mut c = node.walk();
        let kids: Vec<Node<'_>> = node.children(&mut c).collect();
        // A comprehension's first iterable is read in the enclosing scope.
        let first_iterable = comprehension
            .then(|| kids.iter().find(|k| k.kind() == "for_in_clause").copied())
            .flatten();
        for kid in kids.into_iter().rev() {
            let mut k = if first_iterable == Some(kid) {
                ctx
            } else {
                inner
            };
            if loop_body == Some(kid) {
                k.in_loop = true;
            }
            // A lambda's default values belong to the enclosing scope; close enough
            // for these rules, as neither holds statements.
            stack.push((kid, k, depth + 1, Some(node), parent));
        }
    }
    scopes.finish()
}

/// A simple statement, or a compound statement's header, is one logical
/// line. The grammar reads on over a line break where a statement cannot
/// end yet (`x +=` then `1` on the next line); CPython does not.
fn one_logical_line(
    node: Node<'_>,
    newlines: &[usize],
    line: impl Fn(Node<'_>) -> usize,
) -> Result<(), SyntaxError> {
    let mut c = node.walk();
    let kids: Vec<Node<'_>> = node.children(&mut c).collect();
    let header_end = match kids.iter().position(|k| k.kind() == "block") {
        Some(0) => return Ok(()),
        // The header ends at its `:`; comments may sit before the block.
        Some(b) => kids[..b]
            .iter()
            .rev()
            .find(|k| k.kind() != "comment")
            .map_or(node.start_byte(), |k| k.end_byte()),
        None if node.kind().ends_with("_clause") => return Ok(()),
        None => node.end_byte(),
    };
    let first = newlines.partition_point(|&at| at < node.start_byte());
    match newlines.get(first) {
        Some(&at) if at < header_end => Err(SyntaxError {
            line: line(node),
            message: "Python syntax error: invalid syntax (the statement does not end at the line break; continue it inside brackets or after a backslash)".into(),
        }),
        _ => Ok(()),
    }
}

/// `from __future__ import x` only before everything but the docstring and
/// other future imports, and only of features CPython knows.
fn future_imports(
    root: Node<'_>,
    body: &[u8],
    line: &impl Fn(Node<'_>) -> usize,
) -> Result<(), SyntaxError> {
    let mut c = root.walk();
    let (mut seen_other, mut first) = (false, true);
    for stmt in root.named_children(&mut c) {
        if stmt.kind() == "comment" {
            continue;
        }
        let docstring = first && is_docstring(stmt);
        first = false;
        match stmt.kind() {
            _ if docstring => {}
            "future_import_statement" => {
                if seen_other {
                    return Err(error(
                        line(stmt),
                        "from __future__ imports must occur at the beginning of the file",
                    ));
                }
                let mut cc = stmt.walk();
                for name in stmt.children_by_field_name("name", &mut cc) {
                    let name = name.child_by_field_name("name").unwrap_or(name);
                    let text = std::str::from_utf8(&body[name.byte_range()]).unwrap_or("");
                    if !crate::python::FUTURE_FEATURES.contains(&text) {
                        return Err(error(
                            line(stmt),
                            format!("future feature {text} is not defined"),
                        ));
                    }
                }
            }
            _ => seen_other = true,
        }
    }
    Ok(())
}

/// Whether a statement is one plain string, as a docstring is.
fn is_docstring(stmt: Node<'_>) -> bool {
    docstring(stmt).is_some()
}

/// The module docstring: a first statement that is one plain string.
pub(in crate::python) fn docstring(stmt: Node<'_>) -> Option<Node<'_>> {
    // `"""doc""",` is a tuple, not a docstring: count every child.
    if stmt.kind() != "expression_statement" || stmt.child_count() != 1 {
        return None;
    }
    let s = stmt.named_child(0)?;
    (s.kind() == "string").then_some(s)
}

fn has_child(node: Node<'_>, kind: &str) -> bool {
    let mut c = node.walk();
    let found = node.children(&mut c).any(|n| n.kind() == kind);
    found
}

/// `def f(a=1, b)`, `def f(**k, a)`, `def f(*)`, `def f((a, b))`, `def f(a, a)`;
/// the names of the parameters.
fn parameters<'a>(
    node: Node<'a>,
    body: &[u8],
    line: impl Fn(Node<'_>) -> usize,
) -> Result<Vec<Node<'a>>, SyntaxError> {
    let fail = |n: Node<'_>, m: &str| Err(error(line(n), m));
    let mut seen_default = false;
    let mut keyword_only = false;
    let mut bare_star: Option<Node<'_>> = None;
    let mut after_kwargs = false;
    let mut names: Vec<&[u8]> = Vec::new();
    let mut nodes = Vec::new();
    let mut c = node.walk();
    for p in node.named_children(&mut c) {
        if after_kwargs {
            return fail(p, "arguments cannot follow var-keyword argument");
        }
        let name = match p.kind() {
            "identifier" => Some(p),
            "typed_parameter" => {
                let mut cc = p.walk();
                let first = p.named_children(&mut cc).next();
                first.and_then(|n| match n.kind() {
                    "identifier" => Some(n),
                    "list_splat_pattern" | "dictionary_splat_pattern" => n.named_child(0),
                    _ => None,
                })
            }
            "default_parameter" | "typed_default_parameter" => p.child_by_field_name("name"),
            "list_splat_pattern" | "dictionary_splat_pattern" => p.named_child(0),
            _ => None,
        };
        match p.kind() {
            "tuple_pattern" | "list_pattern" => {
                return fail(
                    p,
                    "function parameters cannot be parenthesized (Python 2 tuple parameters)",
                )
            }
            "identifier" | "typed_parameter" => {
                let splat = p
                    .named_child(0)
                    .is_some_and(|n| n.kind().ends_with("splat_pattern"));
                if splat {
                    let kw = p
                        .named_child(0)
                        .is_some_and(|n| n.kind() == "dictionary_splat_pattern");
                    after_kwargs |= kw;
                    keyword_only |= !kw;
                    bare_star = None;
                } else {
                    if seen_default && !keyword_only {
                        return fail(p, "non-default argument follows default argument");
                    }
                    bare_star = None;
                }
            }
            "default_parameter" | "typed_default_parameter" => {
                seen_default = true;
                bare_star = None;
            }
            "list_splat_pattern" => {
                keyword_only = true;
                bare_star = None;
            }
            "keyword_separator" => {
                keyword_only = true;
                bare_star = Some(p);
            }
            "dictionary_splat_pattern" => {
                if let Some(star) = bare_star {
                    return fail(star, "named arguments must follow bare *");
                }
                after_kwargs = true;
            }
            _ => {}
        }
        if let Some(n) = name.filter(|n| n.kind() == "identifier") {
            let text = &body[n.byte_range()];
            if names.contains(&text) {
                return fail(
                    n,
                    &format!(
                        "duplicate argument '{}' in function definition",
                        String::from_utf8_lossy(text)
                    ),
                );
            }
            names.push(text);
            nodes.push(n);
        }
    }
    if let Some(star) = bare_star {
        return fail(star, "named arguments must follow bare *");
    }
    Ok(nodes)
}

/// `f(a=1, b)`, `f(**k, a)`, `f(**k, *a)`, `f(a=1, a=2)`.
fn arguments(
    node: Node<'_>,
    body: &[u8],
    line: impl Fn(Node<'_>) -> usize,
) -> Result<(), SyntaxError> {
    let mut keyword = false;
    let mut kwargs = false;
    let mut names: Vec<&[u8]> = Vec::new();
    let mut c = node.walk();
    for a in node.named_children(&mut c) {
        match a.kind() {
            "keyword_argument" => {
                keyword = true;
                if let Some(name) = a.child_by_field_name("name") {
                    let text = &body[name.byte_range()];
                    if names.contains(&text) {
                        return Err(error(
                            line(name),
                            format!(
                                "keyword argument repeated: {}",
                                String::from_utf8_lossy(text)
                            ),
                        ));
                    }
                    names.push(text);
                }
            }
            "dictionary_splat" => kwargs = true,
            "list_splat" if kwargs => {
                return Err(error(
                    line(a),
                    "iterable argument unpacking follows keyword argument unpacking",
                ))
            }
            "list_splat" | "comment" => {}
            _ if kwargs => {
                return Err(error(
                    line(a),
                    "positional argument follows keyword argument unpacking",
                ))
            }
            _ if keyword => {
                return Err(error(
                    line(a),
                    "positional argument follows keyword argument",
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// What `del` can take: names, attributes, subscripts, and brackets of
/// them; the names are added to `names`.
fn deletable<'a>(
    target: Node<'a>,
    line: impl Fn(Node<'_>) -> usize + Copy,
    names: &mut Vec<Node<'a>>,
) -> Result<(), SyntaxError> {
    match target.kind() {
        "identifier" => {
            names.push(target);
            Ok(())
        }
        "attribute" | "subscript" | "comment" => Ok(()),
        "expression_list" | "tuple" | "list" | "parenthesized_expression" => {
            let mut c = target.walk();
            let kids: Vec<_> = target.named_children(&mut c).collect();
            for k in kids {
                deletable(k, line, names)?;
            }
            Ok(())
        }
        other => Err(error(
            line(target),
            format!("cannot delete {}", other.replace('_', " ")),
        )),
    }
}

/// `tuple` or `list` for an annotated assignment to several targets
/// (`a, b: int`, `[a]: int`); `(a): int` is one name in brackets.
fn annotated_many(node: Node<'_>) -> Option<&'static str> {
    node.child_by_field_name("type")?;
    let left = node.child_by_field_name("left")?;
    match left.kind() {
        "pattern_list" => Some("tuple"),
        "tuple_pattern" | "tuple" if has_child(left, ",") => Some("tuple"),
        "list_pattern" | "list" => Some("list"),
        _ => None,
    }
}

/// Whether `from m import ...` imports a dotted name (`a.b`), which only
/// `import` may.
fn dotted_import(node: Node<'_>) -> bool {
    let mut c = node.walk();
    let dotted = node.children_by_field_name("name", &mut c).any(|n| {
        let name = match n.kind() {
            "aliased_import" => n.child_by_field_name("name"),
            _ => Some(n),
        };
        name.is_some_and(|n| n.named_child_count() > 1)
    });
    dotted
}
