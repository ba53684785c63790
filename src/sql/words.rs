//! The fallback for a statement the parser rejects (and a `DO` block's
//! body): its tokens as words, matched against the few fixed phrases.

use std::ops::Range;

use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::facts::{Facts, IndexIssue, IndexPart, Named, RoleRef, TableOp, TableOpKind};
use super::names::{not_a_role, not_immutable, shown, table_key};
use super::tokens::{dialect, statements, LineIndex};

/// A token as the fallback matcher sees it: an upper-cased keyword or a
/// name, with its offset.
#[derive(Debug, Clone)]
pub(super) struct Word {
    /// Upper case for unquoted words; `None` for anything but a word.
    upper: Option<String>,
    /// The name it stands for (folded unless quoted).
    name: Option<String>,
    token: Token,
    offset: usize,
}

pub(super) fn words(tokens: &[TokenWithSpan], index: &LineIndex<'_>) -> Vec<Word> {
    tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .map(|t| {
            let (upper, name) = match &t.token {
                Token::Word(w) if w.quote_style.is_none() => (
                    Some(w.value.to_ascii_uppercase()),
                    Some(w.value.to_lowercase()),
                ),
                Token::Word(w) => (None, Some(w.value.clone())),
                _ => (None, None),
            };
            Word {
                upper,
                name,
                token: t.token.clone(),
                offset: index.offset(t.span.start),
            }
        })
        .collect()
}

fn is(w: Option<&Word>, kw: &str) -> bool {
    w.and_then(|w| w.upper.as_deref()) == Some(kw)
}

/// A possibly qualified name starting at `i`: (name, offset, next index).
fn name_at(ws: &[Word], mut i: usize) -> Option<(String, usize, usize)> {
    let offset = ws.get(i)?.offset;
    let mut parts = vec![ws.get(i)?.name.clone()?];
    while matches!(ws.get(i + 1).map(|w| &w.token), Some(Token::Period)) {
        parts.push(ws.get(i + 2)?.name.clone()?);
        i += 2;
    }
    Some((parts.join("."), offset, i + 1))
}

pub(super) fn owner_to(ws: &[Word], facts: &mut Facts) {
    for i in 0..ws.len() {
        if is(ws.get(i), "OWNER") && is(ws.get(i + 1), "TO") {
            if let Some((role, offset, _)) = name_at(ws, i + 2).filter(|(r, ..)| !not_a_role(r)) {
                facts.role_refs.push(RoleRef {
                    role,
                    offset,
                    verb: "OWNER TO",
                });
            }
        }
    }
}

/// Names in a comma-separated list starting at `i`, stopping at anything else.
fn name_list(ws: &[Word], mut i: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    while let Some((name, offset, next)) = name_at(ws, i) {
        if ws[i]
            .upper
            .as_deref()
            .is_some_and(|u| matches!(u, "WITH" | "GRANTED" | "CASCADE" | "RESTRICT"))
        {
            break;
        }
        out.push((name, offset));
        if !matches!(ws.get(next).map(|w| &w.token), Some(Token::Comma)) {
            break;
        }
        i = next + 1;
        if is(ws.get(i), "GROUP") || is(ws.get(i), "ROLE") {
            i += 1;
        }
    }
    out
}

/// The fallback for a statement the parser rejects.
pub(super) fn from_tokens(ws: &[Word], facts: &mut Facts) {
    scan_words(ws, facts);
    // `DO $$ ... $$`: the body is PL/pgSQL, read with the same phrases.
    if is(ws.first(), "DO") {
        for w in ws {
            if let Token::DollarQuotedString(body) = &w.token {
                let skip = body.tag.as_ref().map_or(2, |t| t.len() + 2);
                if let Ok(tokens) = Tokenizer::new(&dialect(), &body.value).tokenize_with_location()
                {
                    let inner = LineIndex::new(&body.value);
                    let mut nested = Facts {
                        schema: facts.schema.clone(),
                        ..Facts::default()
                    };
                    for part in statements(&tokens) {
                        let ws = words(&part, &inner);
                        scan_words(&ws, &mut nested);
                        if let Some(schema) = search_path(&ws) {
                            nested.schema = schema;
                        }
                    }
                    // A use the block checks the role for first needs nothing.
                    let guards = role_guards(&words(&tokens, &inner));
                    nested.role_refs.retain(|r| {
                        !guards
                            .iter()
                            .any(|(role, span)| *role == r.role && span.contains(&r.offset))
                    });
                    facts.schema = nested.schema.take();
                    shift(&mut nested, w.offset + skip);
                    merge(facts, nested);
                }
            }
        }
    }
}

fn shift(facts: &mut Facts, by: usize) {
    facts.roles_created.iter_mut().for_each(|n| n.offset += by);
    facts.role_refs.iter_mut().for_each(|r| r.offset += by);
    facts.tables.iter_mut().for_each(|t| t.offset += by);
    facts.index_issues.iter_mut().for_each(|t| t.offset += by);
    facts.lookups.iter_mut().for_each(|t| t.offset += by);
}

fn merge(into: &mut Facts, from: Facts) {
    into.roles_created.extend(from.roles_created);
    into.role_refs.extend(from.role_refs);
    into.tables.extend(from.tables);
    into.index_issues.extend(from.index_issues);
    into.lookups.extend(from.lookups);
}

/// The fixed phrases, anywhere in a statement.
fn scan_words(ws: &[Word], facts: &mut Facts) {
    owner_to(ws, facts);
    for i in 0..ws.len() {
        let at = |k: usize| ws.get(i + k).and_then(|w| w.upper.as_deref());
        match at(0) {
            Some("CREATE") => {
                // CREATE ROLE|USER|GROUP [IF NOT EXISTS] name
                if matches!(at(1), Some("ROLE" | "USER" | "GROUP")) && at(2) != Some("MAPPING") {
                    let mut j = i + 2;
                    if at(2) == Some("IF") {
                        j += 3;
                    }
                    if let Some((name, offset, _)) = name_at(ws, j) {
                        facts.roles_created.push(Named { name, offset });
                    }
                }
                // CREATE [OR REPLACE] [GLOBAL|LOCAL] [TEMP|TEMPORARY|UNLOGGED] TABLE [IF NOT EXISTS] name
                let mut j = i + 1;
                let mut temporary = false;
                while let Some(w) = ws.get(j).and_then(|w| w.upper.as_deref()) {
                    match w {
                        "OR" | "REPLACE" | "GLOBAL" | "LOCAL" | "UNLOGGED" => j += 1,
                        "TEMP" | "TEMPORARY" => {
                            temporary = true;
                            j += 1;
                        }
                        _ => break,
                    }
                }
                if is(ws.get(j), "TABLE") && !temporary {
                    let if_not_exists = is(ws.get(j + 1), "IF")
                        && is(ws.get(j + 2), "NOT")
                        && is(ws.get(j + 3), "EXISTS");
                    let k = if if_not_exists { j + 4 } else { j + 1 };
                    if let Some((table, offset, _)) = name_at(ws, k) {
                        facts.tables.push(TableOp {
                            table: facts.table(&table),
                            kind: TableOpKind::Create { if_not_exists },
                            offset,
                        });
                    }
                }
                // CREATE [UNIQUE] INDEX ...: any not-immutable function in it
                let k = if is(ws.get(i + 1), "UNIQUE") {
                    i + 2
                } else {
                    i + 1
                };
                if is(ws.get(k), "INDEX") {
                    let on = (k..ws.len()).find(|&n| is(ws.get(n), "ON"));
                    let index = name_at(ws, k + 1)
                        .map(|(n, ..)| n)
                        .filter(|n| !matches!(n.as_str(), "concurrently" | "if" | "on"));
                    let table = on
                        .and_then(|n| name_at(ws, n + 1 + usize::from(is(ws.get(n + 1), "ONLY"))))
                        .map(|(t, ..)| table_key(&t));
                    let where_at = (k..ws.len())
                        .find(|&n| is(ws.get(n), "WHERE"))
                        .unwrap_or(ws.len());
                    for (what, offset) in volatile_words(&ws[on.unwrap_or(k)..]) {
                        let part = if offset >= ws.get(where_at).map_or(usize::MAX, |w| w.offset) {
                            IndexPart::Predicate
                        } else {
                            IndexPart::Expression
                        };
                        facts.index_issues.push(IndexIssue {
                            index: index.clone(),
                            table: table.clone(),
                            what,
                            part,
                            offset,
                        });
                    }
                }
            }
            Some("DROP") if is(ws.get(i + 1), "TABLE") => {
                let mut j = i + 2;
                if is(ws.get(j), "IF") && is(ws.get(j + 1), "EXISTS") {
                    j += 2;
                }
                for (table, offset) in name_list(ws, j) {
                    facts.tables.push(TableOp {
                        table: facts.table(&table),
                        kind: TableOpKind::Drop,
                        offset,
                    });
                }
            }
            // ALTER ROLE|USER|GROUP a RENAME TO b: b is provisioned.
            Some("ALTER") if matches!(at(1), Some("ROLE" | "USER" | "GROUP")) => {
                if let Some((_, _, next)) = name_at(ws, i + 2) {
                    if is(ws.get(next), "RENAME") && is(ws.get(next + 1), "TO") {
                        if let Some((name, offset, _)) = name_at(ws, next + 2) {
                            facts.roles_created.push(Named { name, offset });
                        }
                    }
                }
            }
            Some("ALTER") if is(ws.get(i + 1), "TABLE") => {
                let mut j = i + 2;
                if is(ws.get(j), "IF") && is(ws.get(j + 1), "EXISTS") {
                    j += 2;
                }
                if is(ws.get(j), "ONLY") {
                    j += 1;
                }
                if let Some((table, offset, next)) = name_at(ws, j) {
                    if is(ws.get(next), "RENAME") && is(ws.get(next + 1), "TO") {
                        if let Some((to, ..)) = name_at(ws, next + 2) {
                            facts.tables.push(facts.rename(&table, &to, offset));
                        }
                    }
                }
            }
            Some("GRANT") | Some("REVOKE") => {
                let (verb, joiner) = if at(0) == Some("GRANT") {
                    ("GRANT", "TO")
                } else {
                    ("REVOKE", "FROM")
                };
                let mut depth = 0i32;
                let mut j = i + 1;
                while let Some(w) = ws.get(j) {
                    match &w.token {
                        Token::LParen => depth += 1,
                        Token::RParen => depth -= 1,
                        _ if depth == 0 && w.upper.as_deref() == Some(joiner) => {
                            let start = j
                                + 1
                                + usize::from(
                                    is(ws.get(j + 1), "GROUP") || is(ws.get(j + 1), "ROLE"),
                                );
                            for (role, offset) in name_list(ws, start) {
                                if !not_a_role(&role) {
                                    facts.role_refs.push(RoleRef { role, offset, verb });
                                }
                            }
                            break;
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
            Some("SET") => {
                let mut j = i + 1;
                if matches!(at(1), Some("SESSION" | "LOCAL")) {
                    j += 1;
                }
                if is(ws.get(j), "ROLE") {
                    if let Some((role, offset, _)) =
                        name_at(ws, j + 1).filter(|(r, ..)| !not_a_role(r))
                    {
                        facts.role_refs.push(RoleRef {
                            role,
                            offset,
                            verb: "SET ROLE",
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

/// How a statement changes where unqualified tables go: `SET [SESSION|LOCAL]
/// search_path TO|= a, b`, `SET SCHEMA 'a'`, `set_config('search_path', 'a,
/// b', ...)` give the first schema listed, `$user` aside (its schema rarely
/// exists); `RESET` and `DEFAULT` give `Some(None)`, the default. `SET
/// LOCAL` is taken to last to the end, as scripts are one transaction.
pub(super) fn search_path(ws: &[Word]) -> Option<Option<String>> {
    let first = |entries: Vec<String>| entries.into_iter().find(|e| !e.is_empty() && e != "$user");
    if is(ws.first(), "RESET") {
        return (is(ws.get(1), "SEARCH_PATH") || is(ws.get(1), "ALL")).then_some(None);
    }
    if is(ws.first(), "SET") {
        let i = 1 + usize::from(is(ws.get(1), "SESSION") || is(ws.get(1), "LOCAL"));
        let items = if is(ws.get(i), "SCHEMA") {
            i + 1
        } else if is(ws.get(i), "SEARCH_PATH")
            && (is(ws.get(i + 1), "TO")
                || matches!(ws.get(i + 1).map(|w| &w.token), Some(Token::Eq)))
        {
            i + 2
        } else {
            return None;
        };
        if is(ws.get(items), "DEFAULT") {
            return Some(None);
        }
        let entries = ws[items.min(ws.len())..]
            .iter()
            .filter_map(|w| match &w.token {
                Token::SingleQuotedString(s) | Token::Placeholder(s) => Some(s.clone()),
                _ => w.name.clone(),
            })
            .collect();
        return Some(first(entries));
    }
    // set_config('search_path', 'a, b', is_local): the value is a list,
    // each entry folded unless double-quoted.
    ws.windows(5).find_map(|w| {
        match (
            &w[0].name,
            &w[1].token,
            &w[2].token,
            &w[3].token,
            &w[4].token,
        ) {
            (
                Some(f),
                Token::LParen,
                Token::SingleQuotedString(k),
                Token::Comma,
                Token::SingleQuotedString(v),
            ) if f == "set_config" && k.eq_ignore_ascii_case("search_path") => {
                let entries = v
                    .split(',')
                    .map(|e| {
                        let e = e.trim();
                        match e.strip_prefix('"').and_then(|e| e.strip_suffix('"')) {
                            Some(quoted) => quoted.replace("\"\"", "\""),
                            None => e.to_lowercase(),
                        }
                    })
                    .collect();
                Some(first(entries))
            }
            _ => None,
        }
    })
}

/// The spans of PL/pgSQL `IF EXISTS (SELECT FROM pg_roles WHERE rolname =
/// 'x') THEN ... END IF` (or `pg_user`, `pg_authid`), within which role x
/// is known to exist.
fn role_guards(ws: &[Word]) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    // one entry per open IF, innermost last: (role it checks, where its THEN ends)
    let mut open: Vec<(Option<String>, usize)> = Vec::new();
    let close =
        |entry: (Option<String>, usize), end: usize, out: &mut Vec<(String, Range<usize>)>| {
            if let (Some(role), start) = entry {
                out.push((role, start..end));
            }
        };
    let mut i = 0;
    while i < ws.len() {
        let w = &ws[i];
        match w.upper.as_deref() {
            Some("END") if is(ws.get(i + 1), "IF") => {
                if let Some(entry) = open.pop() {
                    close(entry, w.offset, &mut out);
                }
                i += 1;
            }
            Some("ELSE" | "ELSIF") => {
                if let Some(top) = open.last_mut() {
                    let entry = (top.0.take(), top.1);
                    close(entry, w.offset, &mut out);
                }
            }
            Some("IF") => {
                // A PL/pgSQL IF has a THEN before its statement ends;
                // `DROP TABLE IF EXISTS` has none.
                let then = ws[i + 1..]
                    .iter()
                    .position(|w| is(Some(w), "THEN") || matches!(w.token, Token::SemiColon))
                    .map(|p| i + 1 + p)
                    .filter(|&j| is(ws.get(j), "THEN"));
                if let Some(j) = then {
                    open.push((exists_role(&ws[i + 1..j]), ws[j].offset));
                    i = j;
                }
            }
            _ => {}
        }
        i += 1;
    }
    for entry in open {
        close(entry, usize::MAX, &mut out);
    }
    out
}

/// The role an `EXISTS (SELECT ... FROM pg_roles WHERE rolname = 'x' ...)`
/// condition checks for.
fn exists_role(cond: &[Word]) -> Option<String> {
    let catalog = |w: &Word| {
        matches!(
            w.name.as_deref(),
            Some("pg_roles" | "pg_user" | "pg_authid" | "pg_shadow")
        )
    };
    if !is(cond.first(), "EXISTS") || !cond.iter().any(catalog) {
        return None;
    }
    cond.windows(3)
        .find_map(|w| match (w[0].name.as_deref(), &w[1].token, &w[2].token) {
            (Some("rolname" | "usename"), Token::Eq, Token::SingleQuotedString(role)) => {
                Some(role.clone())
            }
            _ => None,
        })
}

/// Not-immutable function names among words: `now (`, `CURRENT_TIMESTAMP`.
pub(super) fn volatile_words(ws: &[Word]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (i, w) in ws.iter().enumerate() {
        let Some(upper) = &w.upper else { continue };
        let parens = matches!(ws.get(i + 1).map(|w| &w.token), Some(Token::LParen));
        let bare = matches!(
            upper.as_str(),
            "CURRENT_TIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME" | "LOCALTIME" | "LOCALTIMESTAMP"
        );
        // The argument count is unknown here: only names that are never immutable.
        if (parens || bare)
            && not_immutable(upper, 0)
            && !matches!(upper.as_str(), "AGE" | "TO_TIMESTAMP")
        {
            out.push((shown(upper, parens), w.offset));
        }
    }
    out
}
