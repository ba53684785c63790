//! SQL read with sqlparser's PostgreSQL dialect: the facts the failure
//! classes need from one piece of SQL (a string passed to `execute()`, an
//! index predicate, a sqitch deploy script).
//!
//! Statements are split with sqlparser's tokenizer and parsed one at a time,
//! so that one statement the parser does not know (`DO $$ ... $$`,
//! `ALTER SEQUENCE ... OWNER TO`) does not hide the others. Those fall back
//! to the same tokenizer's tokens, matched against the few fixed phrases
//! that matter here (`CREATE ROLE x`, `GRANT ... TO x`, `OWNER TO x`,
//! `CREATE TABLE x`); a `DO` block's body is read that way too.
//!
//! Table names are keyed by schema: an unqualified name is in the first
//! schema of the search_path that the SQL set before it (`public` unless
//! set), so `public.t` and `t` are one table and `a.t` another.

mod ast;
mod facts;
mod names;
mod tokens;
mod words;

use sqlparser::ast::{CreateIndex, Statement};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location, Tokenizer};

use ast::{from_ast, volatile_in};
pub(crate) use facts::{Facts, IndexIssue, IndexPart, KeyValue, Lookup, TableOpKind};
use names::object_name;
pub(crate) use names::{not_immutable, qualify, schema_of, table_key};
use tokens::{dialect, statements, LineIndex};
use words::{from_tokens, owner_to, search_path, volatile_words, words};

/// Deep nesting is refused rather than followed (no stack overflow on any
/// input).
const RECURSION_LIMIT: usize = 64;

/// The `--` comments of a script, each with its 1-based line (strings,
/// quoted names and dollar-quoted bodies skipped, as Postgres reads them).
/// A script the tokenizer refuses has none.
pub(crate) fn comments(sql: &str) -> Vec<(usize, String)> {
    use sqlparser::tokenizer::{Token, Whitespace};
    let Ok(tokens) = Tokenizer::new(&dialect(), sql).tokenize_with_location() else {
        return Vec::new();
    };
    tokens
        .into_iter()
        .filter_map(|t| match t.token {
            Token::Whitespace(Whitespace::SingleLineComment { comment, prefix }) => {
                Some((t.span.start.line as usize, format!("{prefix}{comment}")))
            }
            _ => None,
        })
        .collect()
}

/// Every fact in `sql`, run with `schema` first in its search_path.
pub(crate) fn analyze(sql: &str, schema: Option<String>) -> Facts {
    let mut facts = Facts {
        schema,
        ..Facts::default()
    };
    let Ok(tokens) = Tokenizer::new(&dialect(), sql).tokenize_with_location() else {
        return facts;
    };
    let index = LineIndex::new(sql);
    for stmt in statements(&tokens) {
        let (Some(first), Some(last)) = (stmt.first(), stmt.last()) else {
            continue;
        };
        let start = index.offset(first.span.start);
        let end = index.offset(last.span.end).max(start);
        let text = &sql[start..end];
        let parsed = Parser::new(&dialect())
            .with_recursion_limit(RECURSION_LIMIT)
            .try_with_sql(text)
            .and_then(|mut p| p.parse_statement());
        let ws = words(&stmt, &index);
        match parsed {
            Ok(statement) => {
                let local = LineIndex::new(text);
                let at = |loc: Location| start + local.offset(loc);
                from_ast(&statement, &at, &mut facts);
                if !matches!(statement, Statement::AlterTable(_)) {
                    // `OWNER TO` in the ALTER forms handled only as a whole
                    owner_to(&ws, &mut facts);
                }
            }
            Err(_) => from_tokens(&ws, &mut facts),
        }
        // From the tokens, parsed or not: `SET SCHEMA` and `set_config()`
        // are not statements the parser sees as setting it.
        if let Some(schema) = search_path(&ws) {
            facts.schema = schema;
        }
    }
    facts
}

/// The not-immutable functions in one SQL expression (an index predicate
/// or element given as text), with their offsets.
pub(crate) fn expression_issues(sql: &str) -> Vec<(String, usize)> {
    let index = LineIndex::new(sql);
    let parsed = Parser::new(&dialect())
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr());
    match parsed {
        Ok(expr) => volatile_in(&expr, &|loc| index.offset(loc)),
        Err(_) => match Tokenizer::new(&dialect(), sql).tokenize_with_location() {
            Ok(tokens) => volatile_words(&words(&tokens, &index)),
            Err(_) => Vec::new(),
        },
    }
}

/// The index name of a `CREATE INDEX` statement (for a statement quoted in
/// a log).
pub(crate) fn index_name(sql: &str) -> Option<String> {
    let parsed = Parser::new(&dialect())
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statement());
    match parsed {
        Ok(Statement::CreateIndex(CreateIndex { name, .. })) => name.as_ref().map(object_name),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
