//! Architecture rules over the crate's own source, read as text:
//! 1. Alembic, sqitch and Django are named (in identifiers) only under
//!    `src/frameworks/` and in `src/cli.rs`, so a framework lives in one place.
//! 2. No circle of `crate::` / `super::` / `self::` imports between files of
//!    non-test code, so every file can be read from the ones below it.
//! 3. No file has more than 800 lines of non-test code.
//!
//! The checks take `(path, text)` pairs: the self-tests at the bottom feed
//! them synthetic sources, the three rule tests the real `src/`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

const FRAMEWORKS: [&str; 3] = ["alembic", "sqitch", "django"];
const MAX_LINES: usize = 800;

/// A token and the line it starts on. Literals are kept, but with empty
/// text, so nothing inside them can look like a name or a bracket.
#[derive(Clone, Debug)]
struct Tok {
    text: String,
    line: usize,
}

/// Rust tokens minus comments. `::` is one token, other punctuation one
/// character each; lifetimes and labels keep their `'`.
fn lex(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    let word = |k: usize| at(k).is_alphanumeric() || at(k) == '_';
    let newlines = |s: &[char]| s.iter().filter(|&&ch| ch == '\n').count();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    while i < c.len() {
        let (from, mut text) = (i, None); // text: the token from..i, if any
        if at(i) == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if at(i) == '/' && at(i + 1) == '*' {
            let mut depth = 0; // block comments nest
            while i < c.len() {
                match (c[i], at(i + 1)) {
                    ('/', '*') => (depth, i) = (depth + 1, i + 2),
                    ('*', '/') => (depth, i) = (depth - 1, i + 2),
                    _ => i += 1,
                }
                if depth == 0 {
                    break;
                }
            }
        } else if let Some(end) = literal_end(&c, i) {
            (i, text) = (end, Some(String::new()));
        } else if at(i) == ':' && at(i + 1) == ':' {
            (i, text) = (i + 2, Some("::".into()));
        } else if at(i) == '\'' || word(i) {
            // A name, a raw name `r#x`, a number with its suffix, a lifetime.
            i += 1 + usize::from(at(i) == 'r' && at(i + 1) == '#');
            while word(i) {
                i += 1;
            }
            let number = at(from).is_ascii_digit();
            text = Some(if number {
                String::new()
            } else {
                c[from..i].iter().collect()
            });
        } else {
            i += 1;
            text = Some(c[from].to_string()).filter(|_| !c[from].is_whitespace());
        }
        if let Some(text) = text {
            out.push(Tok { text, line });
        }
        line += newlines(&c[from..i.min(c.len())]);
    }
    out
}

/// Where the string (plain, byte, C, raw with any `#`s) or char literal
/// starting at `i` ends; `None` if none starts there (a lifetime, a name).
fn literal_end(c: &[char], i: usize) -> Option<usize> {
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    let j = i + usize::from(matches!(at(i), 'b' | 'c'));
    if at(j) == 'r' {
        let hashes = (j + 1..).take_while(|&k| at(k) == '#').count();
        let body = j + 1 + hashes;
        if at(body) != '"' {
            return None;
        }
        let closes = |k: usize| at(k) == '"' && (1..=hashes).all(|h| at(k + h) == '#');
        let close = (body + 1..c.len()).find(|&k| closes(k));
        return Some(close.map_or(c.len(), |k| k + 1 + hashes));
    }
    // `'a'`, `'\n'`, `'\u{41}'` and `b'a'` are chars; `'a` is a lifetime.
    let quote = at(j);
    let char_like =
        quote == '\'' && (j == i || at(i) == 'b') && (at(j + 1) == '\\' || at(j + 2) == '\'');
    if quote != '"' && !char_like {
        return None;
    }
    let mut k = j + 1;
    while k < c.len() && c[k] != quote {
        k += if c[k] == '\\' { 2 } else { 1 };
    }
    Some((k + 1).min(c.len()))
}

fn text(toks: &[Tok], k: usize) -> &str {
    toks.get(k).map_or("", |t| t.text.as_str())
}

/// Index of the bracket closing the one at `open`.
fn matching(toks: &[Tok], open: usize) -> usize {
    let mut depth = 0;
    for k in open..toks.len() {
        match text(toks, k) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return k;
        }
    }
    toks.len() - 1
}

/// Drops every `#[cfg(test)]` item (a module, an impl, a function...).
/// Returns the rest, the number of lines the dropped items span, and the
/// names of `#[cfg(test)] mod x;` declarations (child files of test code).
fn strip_tests(toks: &[Tok]) -> (Vec<Tok>, usize, Vec<String>) {
    let (mut keep, mut lines, mut children, mut i) = (Vec::new(), 0, Vec::new(), 0);
    while i < toks.len() {
        let attr: Vec<&str> = (i..i + 7).map(|k| text(toks, k)).collect();
        if attr != ["#", "[", "cfg", "(", "test", ")", "]"] {
            keep.push(toks[i].clone());
            i += 1;
            continue;
        }
        let mut j = i + 7;
        while text(toks, j) == "#" && text(toks, j + 1) == "[" {
            j = matching(toks, j + 1) + 1; // further attributes
        }
        let mut k = j; // past any `pub`, `pub(crate)`...
        while matches!(text(toks, k), "pub" | "(" | "crate" | "super" | "in" | ")") {
            k += 1;
        }
        if text(toks, k) == "mod" && text(toks, k + 2) == ";" {
            children.push(text(toks, k + 1).to_string());
        }
        // The item ends at its first `;` or at the `}` closing its body.
        let mut depth = 0;
        while j + 1 < toks.len() {
            match text(toks, j) {
                "(" | "[" => depth += 1,
                ")" | "]" => depth -= 1,
                "{" if depth == 0 => break,
                ";" if depth == 0 => break,
                _ => {}
            }
            j += 1;
        }
        if text(toks, j) == "{" {
            j = matching(toks, j);
        }
        let j = j.min(toks.len() - 1);
        lines += toks[j].line - toks[i].line + 1;
        i = j + 1;
    }
    (keep, lines, children)
}

/// `src/lib.rs` is the root, `src/a/mod.rs` is `a`, `src/a/b.rs` is `a::b`;
/// `src/main.rs` is another crate (the binary) and has none.
fn module_of(path: &str) -> Option<Vec<String>> {
    let rel = path.strip_prefix("src/")?.strip_suffix(".rs")?;
    let mut segs: Vec<String> = rel.split('/').map(String::from).collect();
    match rel {
        "main" => return None,
        "lib" => segs.clear(),
        _ if rel.ends_with("/mod") => drop(segs.pop()),
        _ => {}
    }
    Some(segs)
}

struct Parsed<'a> {
    path: &'a str,
    module: Option<Vec<String>>,
    all: Vec<Tok>,
    /// Without `#[cfg(test)]` items.
    code: Vec<Tok>,
    code_lines: usize,
    /// Declared `#[cfg(test)] mod x;` by its parent: test code only.
    test_file: bool,
}

fn parse(files: &[(String, String)]) -> Vec<Parsed<'_>> {
    let mut test_modules = BTreeSet::new();
    let mut out: Vec<Parsed> = files
        .iter()
        .map(|(path, src)| {
            let all = lex(src);
            let (code, test_lines, children) = strip_tests(&all);
            let module = module_of(path);
            for child in children.into_iter().filter(|_| module.is_some()) {
                test_modules.insert([module.clone().unwrap(), vec![child]].concat());
            }
            let code_lines = src.lines().count().saturating_sub(test_lines);
            let path = path.as_str();
            Parsed {
                path,
                module,
                all,
                code,
                code_lines,
                test_file: false,
            }
        })
        .collect();
    for p in &mut out {
        p.test_file = p.module.as_ref().is_some_and(|m| test_modules.contains(m));
    }
    out
}

/// Rule 1: `file:line: name` for each framework named outside its place.
/// Test code counts too: it is still code a framework change would touch.
fn framework_names(files: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for p in parse(files) {
        if p.path.starts_with("src/frameworks/") || p.path == "src/cli.rs" {
            continue;
        }
        for t in &p.all {
            let lower = t.text.to_lowercase();
            if FRAMEWORKS.iter().any(|f| lower.contains(f)) {
                found.push(format!("{}:{}: {}", p.path, t.line, t.text));
            }
        }
    }
    found.dedup();
    found
}

/// Rule 3: each file over `max` lines of non-test code.
fn long_files(files: &[(String, String)], max: usize) -> Vec<String> {
    parse(files)
        .iter()
        .filter(|p| !p.test_file && p.code_lines > max)
        .map(|p| format!("{}: {} lines of non-test code", p.path, p.code_lines))
        .collect()
}

type Found = Vec<(Vec<String>, usize)>;

/// The paths of one `use` tree or inline path starting at `i`, brace groups
/// expanded, each with the line of its last segment. Returns the index after.
fn use_tree(toks: &[Tok], mut i: usize, mut segs: Vec<String>, out: &mut Found) -> usize {
    while let Some(t) = toks.get(i) {
        if t.text == "{" {
            i += 1;
            while i < toks.len() && text(toks, i) != "}" {
                let next = use_tree(toks, i, segs.clone(), out).max(i + 1);
                i = next + usize::from(text(toks, next) == ",");
            }
            return i + 1;
        }
        if t.text.starts_with(char::is_alphabetic) || t.text.starts_with('_') {
            segs.push(t.text.clone());
        } else if t.text != "*" {
            break;
        }
        i += 1;
        if text(toks, i) != "::" {
            break;
        }
        i += 1;
    }
    if text(toks, i) == "as" {
        i += 2;
    }
    out.push((segs, toks[i.min(toks.len()) - 1].line));
    i
}

/// Every path starting `crate::`, `super::` or `self::`, made absolute from
/// `module` and from the inline `mod name { .. }` blocks it sits in.
fn paths(toks: &[Tok], module: &[String]) -> Found {
    let (mut out, mut inline, mut depth, mut i) = (Vec::new(), Vec::new(), 0, 0);
    while i < toks.len() {
        match text(toks, i) {
            "mod" if text(toks, i + 2) == "{" => inline.push((text(toks, i + 1), depth + 1)),
            "{" => depth += 1,
            "}" => {
                if inline.last().is_some_and(|m| m.1 == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            "crate" | "super" | "self"
                if text(toks, i + 1) == "::" && (i == 0 || text(toks, i - 1) != "::") =>
            {
                let mut raw = Vec::new();
                i = use_tree(toks, i, Vec::new(), &mut raw);
                for (segs, line) in raw {
                    let mut abs = module.to_vec();
                    abs.extend(inline.iter().map(|m| m.0.to_string()));
                    for s in segs {
                        match s.as_str() {
                            "crate" => abs.clear(),
                            "super" => drop(abs.pop()),
                            "self" => {}
                            _ => abs.push(s),
                        }
                    }
                    out.push((abs, line));
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

type Edges = BTreeMap<(String, String), usize>;

/// Rule 2's graph: (importing file, imported file) → line of the first such
/// import. A path goes to the file of its longest module prefix.
fn import_edges(files: &[(String, String)]) -> Edges {
    let parsed = parse(files);
    let modules: BTreeMap<&[String], &str> = parsed
        .iter()
        .filter_map(|p| Some((p.module.as_deref()?, p.path)))
        .collect();
    let mut edges = Edges::new();
    for p in parsed.iter().filter(|p| !p.test_file) {
        let Some(module) = &p.module else { continue };
        for (abs, line) in paths(&p.code, module) {
            let to = (0..=abs.len()).rev().find_map(|n| modules.get(&abs[..n]));
            if let Some(&to) = to.filter(|&&to| to != p.path) {
                edges.entry((p.path.into(), to.into())).or_insert(line);
            }
        }
    }
    edges
}

type Adj<'a> = BTreeMap<&'a str, Vec<&'a str>>;

/// Tarjan's strongly connected components.
fn components<'a>(adj: &Adj<'a>) -> Vec<Vec<&'a str>> {
    #[derive(Default)]
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        out: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(v: &'a str, adj: &Adj<'a>, s: &mut State<'a>) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for &w in adj.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, adj, s);
                s.low.insert(v, s.low[v].min(s.low[w]));
            } else if s.stack.contains(&w) {
                s.low.insert(v, s.low[v].min(s.index[w]));
            }
        }
        if s.low[v] == s.index[v] {
            let at = s.stack.iter().rposition(|&x| x == v).unwrap();
            let comp = s.stack.split_off(at);
            s.out.push(comp);
        }
    }
    let mut s = State::default();
    for &v in adj.keys() {
        if !s.index.contains_key(v) {
            visit(v, adj, &mut s);
        }
    }
    s.out
}

/// The shortest cycle from `comp[0]` back to itself inside `comp`.
fn shortest_cycle<'a>(adj: &Adj<'a>, comp: &[&'a str]) -> Vec<&'a str> {
    let start = comp[0];
    let (mut prev, mut queue) = (BTreeMap::new(), VecDeque::from([start]));
    while let Some(v) = queue.pop_front() {
        for &w in adj[v].iter().filter(|w| comp.contains(*w)) {
            if w == start {
                let mut back = vec![start, v];
                while let Some(&p) = prev.get(back[back.len() - 1]) {
                    back.push(p);
                }
                back.reverse();
                return back;
            }
            if !prev.contains_key(w) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    unreachable!("a strongly connected component of two or more files has a cycle")
}

/// Rule 2: each circle of files importing each other, with one cycle in it.
fn circles(files: &[(String, String)]) -> Vec<String> {
    let edges = import_edges(files);
    let mut adj = Adj::new();
    for (from, to) in edges.keys() {
        adj.entry(from.as_str()).or_default().push(to.as_str());
    }
    let mut comps = components(&adj);
    comps.retain(|c| c.len() > 1);
    comps.iter_mut().for_each(|c| c.sort());
    comps.sort();
    comps
        .iter()
        .map(|comp| {
            let mut report = format!("{} files: {}\n  e.g.", comp.len(), comp.join(", "));
            for w in shortest_cycle(&adj, comp).windows(2) {
                let line = edges[&(w[0].to_string(), w[1].to_string())];
                report += &format!("\n    {}:{line} imports {}", w[0], w[1]);
            }
            report
        })
        .collect()
}

/// The layers of the README's architecture picture, bottom first: a file
/// is in the layer of its longest matching prefix, and may import from its
/// own layer and the ones below.
const LAYERS: &[&[&str]] = &[
    &[
        "src/error.rs",
        "src/files.rs",
        "src/secrets.rs",
        "src/parallel.rs",
        "src/utc.rs",
        "src/cli.rs",
        "src/git.rs",
        "src/config/ignore.rs",
    ],
    &[
        "src/python/",
        "src/sql/",
        "src/config/ini.rs",
        "src/config/profile.rs",
    ],
    &["src/config/"],
    &["src/chains/"],
    &["src/graph.rs"],
    &["src/plan/", "src/diff.rs"],
    &["src/facts.rs", "src/findings.rs"],
    &["src/outcome.rs", "src/suppress.rs"],
    &["src/report/"],
    &["src/repair/"],
    &["src/frameworks/interface.rs"],
    &["src/frameworks/*/"],
    &["src/frameworks/"],
    &["src/commands/", "src/complete.rs"],
    &["src/lib.rs"],
];

/// The layer of a file, and the framework folder it is in, if any.
fn layer_of(path: &str) -> Option<(usize, Option<&str>)> {
    let folder = path
        .strip_prefix("src/frameworks/")
        .and_then(|rest| rest.split_once('/'))
        .map(|(name, _)| name);
    let matches = |prefix: &str| match prefix.strip_prefix("src/frameworks/*/") {
        Some("") => folder.is_some(),
        _ => path.starts_with(prefix),
    };
    LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.iter().map(move |p| (i, *p)))
        .filter(|(_, p)| matches(p))
        .max_by_key(|(_, p)| p.len())
        .map(|(i, _)| (i, folder))
}

/// Rule 4: imports that point up the layers, or from one framework's
/// folder into another's; files in no layer.
fn upward_imports(files: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = files
        .iter()
        .filter(|(p, _)| p != "src/main.rs" && layer_of(p).is_none())
        .map(|(p, _)| format!("{p}: in no layer of the architecture"))
        .collect();
    for ((from, to), line) in import_edges(files) {
        let (Some((a, fa)), Some((b, fb))) = (layer_of(&from), layer_of(&to)) else {
            continue;
        };
        if b > a {
            out.push(format!("{from}:{line} imports {to}, a layer above it"));
        } else if fa.is_some() && fb.is_some() && fa != fb {
            out.push(format!("{from}:{line} imports {to}, another framework's"));
        }
    }
    out
}

/// Every `.rs` file under `src/`, as (`src/...` path, text).
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut dirs, mut out) = (vec![root.join("src")], Vec::new());
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy();
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((rel.replace('\\', "/"), text));
            }
        }
    }
    out.sort();
    assert!(out.iter().any(|(p, _)| p == "src/lib.rs"), "no src/lib.rs");
    out
}

fn fail_if_any(found: &[String], what: &str) {
    let list = found.join("\n");
    assert!(found.is_empty(), "{} {what}:\n{list}\n", found.len());
}

#[test]
fn frameworks_are_named_only_in_their_folder() {
    let what = "names of a framework outside src/frameworks/ and src/cli.rs";
    fail_if_any(&framework_names(&sources()), what);
}

#[test]
fn no_import_circles_between_files() {
    let what = "import circles between files (non-test code; cut one import in each)";
    fail_if_any(&circles(&sources()), what);
}

#[test]
fn imports_point_down_the_layers() {
    let what = "imports that do not point down the layers";
    fail_if_any(&upward_imports(&sources()), what);
}

#[test]
fn no_file_over_800_lines() {
    fail_if_any(&long_files(&sources(), MAX_LINES), "files over 800 lines");
}

// Self-tests: the checks on synthetic sources.

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect()
}

fn names_in(src: &str) -> String {
    framework_names(&files(&[("src/x.rs", src)])).join("\n")
}

fn edges_of(list: &[(&str, &str)]) -> String {
    let edges = import_edges(&files(list));
    let lines: Vec<_> = edges
        .iter()
        .map(|((a, b), n)| format!("{a}:{n} -> {b}"))
        .collect();
    lines.join("\n")
}

#[test]
fn lexer_skips_comments_and_literals() {
    let src = r#"// alembic
/// sqitch
//! django
/* a /* nested */ alembic */
let s = "alembic \" sqitch"; let b = b"django"; let n = 0x1f_u8;
let c = '\u{41}'; let d = '\''; let e = b'x';
fn sqitch_real() {}"#;
    assert_eq!(names_in(src), "src/x.rs:7: sqitch_real");
}

#[test]
fn lexer_tells_lifetimes_from_chars() {
    // Read as a char literal, `'a>(alembic: &'` would hide `alembic`.
    assert_eq!(
        names_in("fn f<'a>(alembic: &'a str) {}"),
        "src/x.rs:1: alembic"
    );
    // And `'"'` must not open a string that swallows `Sqitch`.
    assert_eq!(
        names_in("let q = '\"'; let Sqitch = 1;"),
        "src/x.rs:1: Sqitch"
    );
    let labels = "src/x.rs:1: 'django\nsrc/x.rs:2: 'django";
    assert_eq!(names_in("'django: loop {\n break 'django; }"), labels);
}

#[test]
fn lexer_skips_raw_strings_with_hashes() {
    let src = "let a = r#\"x \"django\" y\"#;\nlet b = br##\"\"# alembic\"##;\nlet r#sqitch = 1;";
    assert_eq!(names_in(src), "src/x.rs:3: r#sqitch");
}

#[test]
fn framework_rule_exempts_only_frameworks_and_cli() {
    let f = files(&[
        ("src/frameworks/alembic/mod.rs", "struct Alembic;"),
        ("src/cli.rs", "enum Kind { Django }"),
        (
            "src/graph.rs",
            "fn f() {}\n#[cfg(test)]\nmod tests { fn sqitch() {} }",
        ),
    ]);
    assert_eq!(framework_names(&f), ["src/graph.rs:3: sqitch"]);
}

#[test]
fn brace_groups_and_inline_paths_resolve_to_files() {
    let x = "use crate::a::{b::C, d,\n  e::{f::F, g}};\nfn h() { crate::a::b::build(\"crate::a::e\"); }\n\
             // crate::a::e::f\n#[cfg(test)]\nmod tests { use crate::a::e; }";
    let got = edges_of(&[
        ("src/lib.rs", "mod a; mod x; pub struct Root;"),
        ("src/a/mod.rs", "mod b; mod e; pub fn d() {}"),
        ("src/a/b.rs", "use super::e::f::F;"),
        ("src/a/e/mod.rs", "mod f; fn g() { super::b::run() }"),
        ("src/a/e/f.rs", "pub struct F(crate::Root);"),
        ("src/x.rs", x),
    ]);
    let want = "src/a/b.rs:1 -> src/a/e/f.rs
src/a/e/f.rs:1 -> src/lib.rs
src/a/e/mod.rs:1 -> src/a/b.rs
src/x.rs:1 -> src/a/b.rs
src/x.rs:2 -> src/a/e/f.rs
src/x.rs:2 -> src/a/e/mod.rs
src/x.rs:1 -> src/a/mod.rs";
    assert_eq!(got, want);
}

#[test]
fn super_and_self_count_from_the_right_module() {
    let got = edges_of(&[
        ("src/lib.rs", "mod p; use self::p::Q;"),
        ("src/p/mod.rs", "mod q; pub mod inner { use super::q::Q; }"),
        ("src/p/q.rs", "use super::super::Root; use self::Local;"),
    ]);
    let want =
        "src/lib.rs:1 -> src/p/mod.rs\nsrc/p/mod.rs:1 -> src/p/q.rs\nsrc/p/q.rs:1 -> src/lib.rs";
    assert_eq!(got, want);
}

#[test]
fn a_two_file_cycle_is_found_but_not_through_test_code() {
    let q = ("src/q.rs", "pub struct Q;\nfn f() { crate::p::g() }");
    let cyclic = files(&[
        ("src/lib.rs", "mod p; mod q;"),
        ("src/p.rs", "use crate::q::Q;"),
        q,
    ]);
    let want = "2 files: src/p.rs, src/q.rs
  e.g.
    src/p.rs:1 imports src/q.rs
    src/q.rs:2 imports src/p.rs";
    assert_eq!(circles(&cyclic), [want]);
    // The sibling test file and the inline test module add no edge.
    let p = "#[cfg(test)]\nmod tests;\n#[cfg(test)]\nmod more { use crate::q::Q; }";
    let p_tests = ("src/p/tests.rs", "use crate::q::Q;");
    let test_only = [("src/lib.rs", "mod p; mod q;"), ("src/p.rs", p), p_tests, q];
    assert_eq!(edges_of(&test_only), "src/q.rs:2 -> src/p.rs");
    assert!(circles(&files(&test_only)).is_empty());
}

#[test]
fn only_non_test_lines_count_and_test_files_are_skipped() {
    let long = "fn f() {}\n".repeat(801);
    let body = "fn f() {}\n".repeat(790);
    let mixed = format!("{body}#[cfg(test)]\nmod tests {{\n{}}}\n", "\n".repeat(50));
    let f = files(&[
        ("src/lib.rs", "#[cfg(test)]\nmod tests;"),
        ("src/long.rs", &long),
        ("src/mixed.rs", &mixed),
        ("src/tests.rs", &long),
    ]);
    assert_eq!(
        long_files(&f, MAX_LINES),
        ["src/long.rs: 801 lines of non-test code"]
    );
}

#[test]
fn layers_order_imports_and_keep_frameworks_apart() {
    let list = [
        ("src/lib.rs", "mod chains; mod commands; mod frameworks;"),
        ("src/chains/mod.rs", "fn f() { crate::commands::run() }"),
        ("src/commands/mod.rs", "pub fn run() { crate::chains::g() }"),
        ("src/frameworks/mod.rs", "mod a; mod b;"),
        (
            "src/frameworks/a/mod.rs",
            "fn f() { crate::frameworks::b::g() }",
        ),
        (
            "src/frameworks/b/mod.rs",
            "pub fn g() { crate::frameworks::interface::h() }",
        ),
        ("src/frameworks/interface.rs", "pub fn h() {}"),
        ("src/stray.rs", "fn f() {}"),
    ];
    let found = upward_imports(&files(&list)).join("\n");
    assert!(
        found.contains("src/chains/mod.rs:1 imports src/commands/mod.rs, a layer above it"),
        "{found}"
    );
    assert!(
        found.contains(
            "src/frameworks/a/mod.rs:1 imports src/frameworks/b/mod.rs, another framework's"
        ),
        "{found}"
    );
    assert!(found.contains("src/stray.rs: in no layer"), "{found}");
    assert!(
        !found.contains("src/commands/mod.rs:1"),
        "down is allowed: {found}"
    );
    assert!(
        !found.contains("src/frameworks/b/mod.rs:1"),
        "the interface is below: {found}"
    );
}
