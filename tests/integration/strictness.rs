//! migfix refuses exactly what CPython 3.11's `compile()` refuses: each
//! rule of its compiler and tokenizer on a file of its own, with CPython's
//! words and line; and statements built from a small grammar of them.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

use crate::readers::cpython_verdicts;

/// CPython's verdict on each source: `None` where it compiles, else the
/// line and message of its `SyntaxError` (compiled, never run).
fn cpython_errors(srcs: &[&[u8]]) -> Vec<Option<(usize, String)>> {
    let script = "import sys, struct, json\n\
        data = sys.stdin.buffer.read()\n\
        i, out = 0, []\n\
        while i < len(data):\n\
        \x20   (n,) = struct.unpack('<I', data[i:i + 4]); i += 4\n\
        \x20   try:\n\
        \x20       compile(data[i:i + n], 'x.py', 'exec'); out.append(None)\n\
        \x20   except SyntaxError as e:\n\
        \x20       out.append([e.lineno or 0, e.msg])\n\
        \x20   except ValueError as e:\n\
        \x20       out.append([0, str(e)])\n\
        \x20   i += n\n\
        print(json.dumps(out))\n";
    let out = crate::common::python_over(script, srcs);
    let all: serde_json::Value = serde_json::from_slice(&out).expect("python's verdicts");
    all.as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v.as_array().map(|e| {
                (
                    e[0].as_u64().unwrap() as usize,
                    e[1].as_str().unwrap().to_string(),
                )
            })
        })
        .collect()
}

/// Each case: its source, and whether migfix says it in CPython's words.
const CASES: &[(&[u8], bool)] = &[
    (b"f(a=1, a=2)\n", true),
    (b"f(a=1, *b, a=2)\n", true),
    (b"class C(a=1, a=2): pass\n", true),
    (b"f(**{'a': 1}, a=2)\n", true),
    (b"__debug__ = 1\n", true),
    (b"x = __debug__\n", true),
    (b"def f(__debug__): pass\n", true),
    (b"def f(*, __debug__): pass\n", true),
    (b"def f(*__debug__): pass\n", true),
    (b"lambda __debug__: 1\n", true),
    (b"f(__debug__=1)\n", true),
    (b"x.__debug__ = 1\n", true),
    (b"x.__debug__ += 1\n", true),
    (b"__debug__.x = 1\n", true),
    (b"x[__debug__] = 1\n", true),
    (b"for __debug__ in x: pass\n", true),
    (b"[1 for __debug__ in x]\n", true),
    (b"import __debug__\n", true),
    (b"import x.__debug__\n", true),
    (b"import x as __debug__\n", true),
    (b"from x import __debug__\n", true),
    (b"def __debug__(): pass\n", true),
    (b"class __debug__: pass\n", true),
    (b"try:\n    pass\nexcept E as __debug__:\n    pass\n", true),
    (b"with a as __debug__: pass\n", true),
    (b"(__debug__ := 1)\n", true),
    (b"__debug__ += 1\n", true),
    (b"__debug__: int\n", true),
    (b"del __debug__\n", true),
    (b"del x.__debug__\n", true),
    (b"def f():\n    global __debug__\n", true),
    (b"from x import *\n", true),
    (b"def f():\n    from x import *\n", true),
    (b"class C:\n    from x import *\n", true),
    (b"if x:\n    from x import *\n", true),
    (b"try:\n    pass\nexcept:\n    pass\nexcept E:\n    pass\n", true),
    (b"try:\n    pass\nexcept E:\n    pass\nexcept:\n    pass\n", true),
    (b"def g():\n    def f():\n        nonlocal x\n", true),
    (b"def f():\n    nonlocal x\n", true),
    (b"def g():\n    x = 1\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    x = 1\n    class C:\n        nonlocal x\n", true),
    (b"def g():\n    x = 1\n    class C:\n        def f(self):\n            nonlocal x\n", true),
    (b"def g():\n    global x\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    [x for x in y]\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    [(x := 1) for _ in y]\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    def f():\n        nonlocal x\n    x = 1\n", true),
    (b"def h():\n    x = 1\n    def g():\n        def f():\n            nonlocal x\n", true),
    (b"def h():\n    x = 1\n    def g():\n        nonlocal x\n        def f():\n            nonlocal x\n", true),
    (b"def h():\n    x = 1\n    def g():\n        global x\n        def f():\n            nonlocal x\n", true),
    (b"def g(x):\n    def f():\n        nonlocal x\n", true),
    (b"def g(*, x):\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    import x\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    from y import z as x\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    del x\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    x: int\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    for (a, [x, *b]) in y:\n        pass\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    with y as (a, x):\n        pass\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    def x(): pass\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    match y:\n        case [1, x]:\n            pass\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    h = lambda x: 1\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    try:\n        pass\n    except E as x:\n        pass\n    def f():\n        nonlocal x\n", true),
    (b"def g():\n    x = 1\n    def f():\n        global x\n        nonlocal x\n", true),
    (b"def f(a):\n    global a\n", true),
    (b"def f(a):\n    global b\n", true),
    (b"def g():\n    a = 1\n    def f(a):\n        nonlocal a\n", true),
    (b"*a = c\n", true),
    (b"*a, = c\n", true),
    (b"x = *a = c\n", true),
    (b"for *a in b: pass\n", true),
    (b"with a as *b: pass\n", true),
    (b"with a as (*b, c): pass\n", true),
    (b"*a += 1\n", true),
    (b"[*a for a in b]\n", true),
    (b"{*a for a in b}\n", true),
    (b"(*a for a in b)\n", true),
    (b"[(*a,) for a in b]\n", true),
    (b"[x async for x in y]\n", true),
    (b"(x async for x in y)\n", true),
    (b"def f():\n    [x async for x in y]\n", true),
    (b"def f():\n    {x: 1 async for x in y}\n", true),
    (b"def f():\n    (x async for x in y)\n", true),
    (b"def f():\n    [await x for x in y]\n", true),
    (b"def f():\n    (await x for x in y)\n", true),
    (b"def f():\n    (x for x in await y)\n", true),
    (b"def f():\n    ([x async for x in y] for z in w)\n", true),
    (b"async def f():\n    [x async for x in y]\n", true),
    (b"async def f():\n    [[x async for x in y] for z in w]\n", true),
    (b"async def f():\n    lambda: [x async for x in y]\n", true),
    (b"(await x for x in y)\n", true),
    (b"with a as f(): pass\n", true),
    (b"with a as f.x: pass\n", true),
    (b"with a as f[0]: pass\n", true),
    (b"with a as (b, c): pass\n", true),
    (b"with a as (b, c()): pass\n", true),
    (b"with a as 1: pass\n", true),
    (b"with a as b + c: pass\n", true),
    (b"with a as b, c as d(): pass\n", true),
    (b"async def f():\n    yield 1\n    return 2\n", true),
    (b"async def f():\n    return 1\n    yield\n", true),
    (b"async def f():\n    yield 1\n    return\n", true),
    (b"async def f():\n    g = lambda: (yield)\n    return 1\n", true),
    (b"async def f():\n    def g():\n        yield\n    return 1\n", true),
    (b"def f():\n    yield 1\n    return 2\n", true),
    (b"x = f'a' b'b'\n", true),
    (b"x = b'a' f'b'\n", true),
    (b"x = (f'a'\n     b'b')\n", true),
    (b"x = f'a' 'b'\n", true),
    (b"\xef\xbb\xbf# -*- coding: latin-1 -*-\nx = 1\n", true),
    (b"\xef\xbb\xbf#!python\n# vim: set fileencoding=cp1252 :\nx = 1\n", true),
    (b"\xef\xbb\xbf# coding: utf8\nx = 1\n", true),
    (b"\xef\xbb\xbf# coding: UTF_8\nx = 1\n", true),
    (b"\xef\xbb\xbf# coding: utf-8-sig\nx = 1\n", true),
    (b"\xef\xbb\xbfx = 1  # coding: latin-1\n", true),
    (b"\xef\xbb\xbfx = 1\n# coding: latin-1\n", true),
    (b"\xef\xbb\xbf# coding: cp1252\nx = 1\n", true),
    (b"\xef\xbb\xbf# coding: klingon\nx = 1\n", true),
    // Coding cookies: the name, where it may stand, and the bytes it reads.
    (b"# -*- coding: klingon -*-\nx = 1\n", true),
    (b"# coding: klingon coding: latin-1\nx = '\xe9'\n", true),
    (b"# coding: klingon\n# coding: latin-1\nx = '\xe9'\n", true),
    (b"# coding: utf8-sig\nx = 1\n", true),
    (b"# coding: rot13\nx = 1\n", true),
    (b"# coding: hex\nx = 1\n", true),
    (b"# coding: latin-1\n# coding: klingon\nx = '\xe9'\n", true),
    (b"# -*- coding: latin-1 -*-\nx = \"caf\xe9\"\n", true),
    (b"# -*- coding: latin-1 -*-\ncaf\xe9 = 1\n", true),
    (b"# -*- coding: latin-1 -*-\nx\xd7 = 1\n", false),
    (b"# coding: latin-1\n# \xff\x85\x80\nx = 1\n", true),
    (b"# coding: latin-1\nx = \"\xc3\xa9\"\n", true),
    (b"# coding: latin-1\r\nx = '\xe9'\r\n", true),
    (b"# coding: latin-1\rx = '\xe9'\n", true),
    (b"#!/usr/bin/env python\n# coding: latin-1\nx = '\xe9'\n", true),
    (b"\n# coding: latin-1\nx = '\xe9'\n", true),
    (b"\x0c\n# coding: latin-1\nx = '\xe9'\n", true),
    (b"# \xe9\n# coding: latin-1\nx = '\xe9'\n", true),
    (b"x = 1\n# coding: latin-1\nx = '\xe9'\n", false),
    (b"#\n#\n# coding: latin-1\nx = '\xe9'\n", false),
    (b"\\\n# coding: latin-1\nx = '\xe9'\n", false),
    (b"# Coding: latin-1\nx = '\xe9'\n", false),
    (b"# vim: set fileencoding=latin-1 :\nx = '\xe9'\n", true),
    (b"# coding: iso-8859-1-foo\nx = '\xe9'\n", true),
    (b"# coding: Latin_1\nx = '\xe9'\n", true),
    (b"# coding: l1\nx = '\xe9'\n", true),
    (b"# coding: cp819\nx = '\xe9'\n", true),
    (b"# coding: iso.8859.1\nx = '\xe9'\n", true),
    (b"# coding: latin-1\nx = 1\x00\n", false),
    (b"# coding: cp1252\nx = \"\x80 \x93q\x94\"\n", true),
    (b"# coding: windows-1252\n\x8a = 1\n", true),
    (b"# coding: cp1252\nx = '\x81'\n", false),
    (b"# coding: cp1252\n# \x9d\nx = 1\n", false),
    (b"# coding: ascii\nx = 1\n", true),
    (b"# coding: US-ASCII\nx = '\xe9'\n", false),
    (b"# coding: ascii\n# \xe9\n", false),
    (b"# coding: utf-8-foo\n# \xe9\nx = 1\n", true),
    (b"# coding: UTF_8\n# \xe9\nx = 1\n", true),
    (b"# coding: utf8\n# \xe9\nx = 1\n", false),
    (b"# coding: u8\nx = 1\n", true),
    // Invalid UTF-8: skipped in a comment, refused anywhere else.
    (b"x = 1  # caf\xe9\n", true),
    (b"# caf\xe9\nx = 1\n", true),
    (b"x = 1\ny = 2\n# \xe9", true),
    (b"x = (1,  # \xe9\n     2)\n", true),
    (b"# \x80\x80 \xed\xa0\x80 \xc0\xaf \xf5\x80\x80\x80 \xe2\x82\n", true),
    (b"x = '#'  # \xe9\ny = \"\"\"#\n\"\"\"  # \xe9\n", true),
    (b"\xef\xbb\xbf# \xe9\nx = 1\n", true),
    (b"x = \"caf\xe9\"\n", false),
    (b"# \xe9\nx = '\xe9'\n", false),
    (b"caf\xe9 = 1\n", false),
    (b"x = 1 \xe9\n", false),
    (b"x = f\"{1}\xe9\"\n", false),
    (b"x = \"\"\"a\n\xe9  # b\n\"\"\"\n", false),
    (b"x = '# \xe9'\n", false),
    (b"x = b'\xe9'\n", false),
    // Found by fuzzing: tree-sitter reads the keywords as names.
    (b"await\n", false),
    (b"async\n", false),
    (b"x = (async    )\n", false),
    (b"def f():\n    await\n", false),
    (b"f(await=1)\n", false),
    (b"x.async = 1\n", false),
    (b"import async\n", false),
    (b"async def f():\n    await x\n    async with a: pass\n", true),
    // Found by fuzzing: a leading comma, a tuple annotated, `:=` in an
    // annotation's subscript.
    (b"f(\n,    )\n", false),
    (b"class C(,): pass\n", false),
    (b"x = {,}\n", false),
    (b"f(a, b,)\n", true),
    (b"branch_,abels: Union[str, None] = None\n", true),
    (b"(a, b): int = 1\n", true),
    (b"[a]: int = 1\n", true),
    (b"a.b, c: int\n", true),
    (b"(a): int = 1\n", true),
    (b"x: T[a:=1] = 1\n", true),
    (b"x: a := 1\n", false),
    (b"x: T = Noney: U = None\n", false),
    (b"x: T[a] = b := 1\n", false),
    (b"x[y:=1]\n", true),
    // Found by fuzzing: a dotted name after `from ... import`, a bare
    // starred expression.
    (b"from typing import Seque.nce, Union\n", false),
    (b"from a import (b.c as d)\n", false),
    (b"from a import b as c, d\n", true),
    (b"*j\n", true),
    (b"*a,\n", true),
    (b"*a, b\n", true),
];

/// Files CPython reads in a codec migfix does not: refused with the
/// codec's name, never as a syntax error.
const UNSUPPORTED: &[&[u8]] = &[
    b"# coding: euc-jp\nx = '\xa4\xa2'\n",
    b"# coding: cp1251\nx = '\xc0'\n",
    b"# -*- coding: koi8-r -*-\nx = 1\n",
];

#[test]
fn a_codec_migfix_does_not_read_is_named_not_called_a_syntax_error() {
    for (src, cpython) in UNSUPPORTED.iter().zip(cpython_errors(UNSUPPORTED)) {
        assert_eq!(cpython, None, "CPython compiles {src:?}");
        let e = migfix::testing::verdict(src).expect_err("refused");
        assert!(
            e.starts_with("line 1: coding ") && e.contains("is not supported by migfix"),
            "{e}"
        );
    }
}

#[test]
fn each_compiler_rule_is_cpythons() {
    let srcs: Vec<&[u8]> = CASES.iter().map(|c| c.0).collect();
    let cpython = cpython_errors(&srcs);
    let mut wrong = Vec::new();
    for ((src, words), cpython) in CASES.iter().zip(cpython) {
        let ours = migfix::testing::verdict(src);
        let shown = String::from_utf8_lossy(src);
        match (&ours, &cpython) {
            (Ok(()), None) => {}
            (Err(e), Some((line, msg))) => {
                let same_line = *line == 0 || e.starts_with(&format!("line {line}: "));
                if *words && !(same_line && e.contains(msg.as_str())) {
                    wrong.push(format!(
                        "{shown:?}: migfix says {e:?}, CPython line {line}: {msg}"
                    ));
                }
            }
            _ => wrong.push(format!(
                "{shown:?}: migfix says {ours:?}, CPython {cpython:?}"
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {}:\n{}",
        wrong.len(),
        CASES.len(),
        wrong.join("\n")
    );
}

/// A statement of the generator's small grammar.
#[derive(Clone, Debug)]
enum Stmt {
    Simple(&'static str),
    /// A compound statement's header and its body.
    Block(&'static str, Vec<Stmt>),
    /// `try:` with its body, and its `except` clauses: bare or not.
    Try(Vec<Stmt>, Vec<bool>),
}

const SIMPLE: &[&str] = &[
    "pass",
    "x = 1",
    "a = 1",
    "*a = c",
    "a, *b = c",
    "[a, *x] = c",
    "__debug__ = 1",
    "x.__debug__ = 1",
    "f(a=1, a=2)",
    "f(a=1, b=2)",
    "f(__debug__=1)",
    "f(x, *a, x=1)",
    "from m import *",
    "import m as __debug__",
    "import m as x",
    "from m import a",
    "nonlocal x",
    "nonlocal a",
    "global x",
    "global a",
    "x += 1",
    "return",
    "return 1",
    "yield 1",
    "await y",
    "[*a for a in b]",
    "[x async for x in y]",
    "(x async for x in y)",
    "[await x for x in y]",
    "(await x for x in y)",
    "{x: 1 async for x in y}",
    "with a as f(): pass",
    "with a as (b, x): pass",
    "with a as *b: pass",
    "x = f'a' b'b'",
    "x = b'a' b'b'",
    "x = f'a' 'b'",
    "del x",
    "del __debug__",
    "(x := 1)",
    "[x for x in y]",
    "h = lambda x: (yield)",
    "for *a in b: pass",
    "break",
];

const HEADERS: &[&str] = &[
    "def f(x):",
    "def g(a, *, x):",
    "def k():",
    "async def h(x):",
    "async def m():",
    "def n(__debug__):",
    "class C:",
    "if x:",
    "for x in y:",
    "while a:",
    "with a as x:",
];

fn stmt() -> impl Strategy<Value = Stmt> {
    let leaf = prop::sample::select(SIMPLE).prop_map(Stmt::Simple);
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (
                prop::sample::select(HEADERS),
                prop::collection::vec(inner.clone(), 1..4)
            )
                .prop_map(|(h, body)| Stmt::Block(h, body)),
            (
                prop::collection::vec(inner, 1..3),
                prop::collection::vec(any::<bool>(), 1..3)
            )
                .prop_map(|(body, bare)| Stmt::Try(body, bare)),
        ]
    })
}

fn render(stmts: &[Stmt], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for s in stmts {
        match s {
            Stmt::Simple(text) => out.push_str(&format!("{pad}{text}\n")),
            Stmt::Block(header, body) => {
                out.push_str(&format!("{pad}{header}\n"));
                render(body, indent + 4, out);
            }
            Stmt::Try(body, bare) => {
                out.push_str(&format!("{pad}try:\n"));
                render(body, indent + 4, out);
                for &b in bare {
                    out.push_str(&format!(
                        "{pad}{}:\n{pad}    pass\n",
                        if b { "except" } else { "except E" }
                    ));
                }
            }
        }
    }
}

/// Programs built from the statements of [`SIMPLE`] in the blocks of
/// [`HEADERS`]: migfix's verdict on each is CPython's, all compiled by one
/// interpreter. Seeded, so that a failure repeats.
#[test]
fn generated_statements_get_cpythons_verdict() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let program = prop::collection::vec(stmt(), 1..4);
    let srcs: Vec<Vec<u8>> = (0..800)
        .map(|_| {
            let stmts = program.new_tree(&mut runner).expect("a program").current();
            let mut src = String::new();
            render(&stmts, 0, &mut src);
            src.into_bytes()
        })
        .collect();
    let cpython = cpython_verdicts(&srcs);
    let mut wrong = Vec::new();
    for (src, compiles) in srcs.iter().zip(&cpython) {
        let ours = migfix::testing::verdict(src);
        if ours.is_ok() != *compiles {
            wrong.push(format!(
                "{}migfix says {ours:?}, CPython compiles: {compiles}\n",
                String::from_utf8_lossy(src)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {}:\n{}",
        wrong.len(),
        srcs.len(),
        wrong[..wrong.len().min(12)].join("\n")
    );
    let compiled = cpython.iter().filter(|&&c| c).count();
    assert!(
        compiled > 40 && compiled < srcs.len() - 40,
        "{compiled} of {} compile",
        srcs.len()
    );
}
