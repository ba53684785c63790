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

use std::ops::{ControlFlow, Range};

use sqlparser::ast::{
    visit_expressions, AlterRoleOperation, AlterTableOperation, CreateIndex, CreateTable, DataType,
    Expr, FunctionArguments, Grantee, GranteeName, ObjectName, ObjectNamePart, ObjectType, Owner,
    RenameTableNameKind, Set, SetExpr, Spanned, Statement, TableFactor, TimezoneInfo, Value,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use crate::python::calls::UNKNOWN;

/// Deep nesting is refused rather than followed (no stack overflow on any
/// input).
const RECURSION_LIMIT: usize = 64;

/// What one piece of SQL does, with byte offsets into it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Facts {
    pub roles_created: Vec<Named>,
    pub role_refs: Vec<RoleRef>,
    pub tables: Vec<TableOp>,
    pub index_issues: Vec<IndexIssue>,
    pub lookups: Vec<Lookup>,
    /// Where unqualified tables go after this SQL: the first schema of the
    /// search_path it set (`None`: the default, `public`). It starts as
    /// given to [`analyze`].
    pub schema: Option<String>,
}

impl Facts {
    fn table(&self, written: &str) -> String {
        qualify(written, self.schema.as_deref())
    }

    /// `ALTER TABLE a RENAME TO b`: b stays in a's schema.
    fn rename(&self, from: &str, to: &str, offset: usize) -> TableOp {
        let table = self.table(from);
        let to = qualify(to, schema_of(&table));
        TableOp {
            table,
            kind: TableOpKind::RenameTo(to),
            offset,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    pub name: String,
    pub offset: usize,
}

/// A statement that needs a role to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleRef {
    pub role: String,
    pub offset: usize,
    /// `GRANT`, `REVOKE`, `OWNER TO` or `SET ROLE`.
    pub verb: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TableOpKind {
    Create { if_not_exists: bool },
    Drop,
    RenameTo(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableOp {
    pub table: String,
    pub kind: TableOpKind,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndexPart {
    Predicate,
    Expression,
}

/// A function in an index that is not IMMUTABLE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexIssue {
    pub index: Option<String>,
    pub table: Option<String>,
    /// What is not immutable: `now()`, `CURRENT_TIMESTAMP`, `a cast to timestamptz`.
    pub what: String,
    pub part: IndexPart,
    pub offset: usize,
}

/// `SELECT ... FROM table WHERE column = value`: a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lookup {
    pub table: String,
    pub keys: Vec<(String, KeyValue)>,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyValue {
    Literal(String),
    /// A bound parameter, without its `:`.
    Param(String),
}

fn dialect() -> PostgreSqlDialect {
    PostgreSqlDialect {}
}

/// Byte offsets of sqlparser's 1-based (line, column) locations; columns
/// count characters.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    fn offset(&self, loc: Location) -> usize {
        let line = (loc.line as usize).max(1);
        let Some(&start) = self.starts.get(line - 1) else {
            return self.text.len();
        };
        let col = (loc.column as usize).saturating_sub(1);
        let rest = &self.text[start..];
        rest.char_indices()
            .nth(col)
            .map_or(self.text.len(), |(i, _)| start + i)
    }
}

/// Unquoted names fold to lower case, as Postgres folds them.
fn ident_name(value: &str, quoted: bool) -> String {
    if quoted {
        value.to_string()
    } else {
        value.to_lowercase()
    }
}

/// A table name as migfix compares them: folded, without `public.`.
pub(crate) fn table_key(name: &str) -> String {
    name.strip_prefix("public.").unwrap_or(name).to_string()
}

/// The key of a table written `written`, unqualified names going to
/// `schema` (`None`: `public`).
pub(crate) fn qualify(written: &str, schema: Option<&str>) -> String {
    match schema {
        Some(s) if !written.contains('.') => table_key(&format!("{s}.{written}")),
        _ => table_key(written),
    }
}

/// The schema of a table key; `None` for `public`.
pub(crate) fn schema_of(key: &str) -> Option<&str> {
    key.rsplit_once('.').map(|(s, _)| s)
}

/// A name as written, folded, its parts joined by `.`.
fn object_name(name: &ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => ident_name(&i.value, i.quote_style.is_some()),
            ObjectNamePart::Function(f) => f.name.value.to_lowercase(),
        })
        .collect();
    parts.join(".")
}

/// A role name that is not a role (`PUBLIC`, `CURRENT_USER`) or not known.
fn not_a_role(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "public" | "current_user" | "session_user" | "current_role" | "none"
    ) || name.contains(UNKNOWN)
}

/// Functions whose result can change between calls or with settings, so
/// that Postgres refuses them in an index (`... must be marked IMMUTABLE`).
/// `args` is the argument count, for the ones only some forms of which are
/// not immutable.
pub(crate) fn not_immutable(name: &str, args: usize) -> bool {
    match name.to_ascii_lowercase().as_str() {
        "now"
        | "current_timestamp"
        | "current_date"
        | "current_time"
        | "localtime"
        | "localtimestamp"
        | "clock_timestamp"
        | "statement_timestamp"
        | "transaction_timestamp"
        | "timeofday"
        | "random"
        | "nextval"
        | "currval"
        | "lastval"
        | "setval"
        | "gen_random_uuid"
        | "uuid_generate_v1"
        | "uuid_generate_v4"
        | "txid_current"
        | "current_setting" => true,
        "age" => args == 1,
        "to_timestamp" => args == 2,
        _ => false,
    }
}

/// Shown the way it is usually written: `now()`, `CURRENT_TIMESTAMP`.
fn shown(name: &str, parens: bool) -> String {
    if parens {
        format!("{}()", name.to_lowercase())
    } else {
        name.to_uppercase()
    }
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

/// Tokens split into statements at `;`, without whitespace.
fn statements(tokens: &[TokenWithSpan]) -> Vec<Vec<TokenWithSpan>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for t in tokens {
        match &t.token {
            Token::SemiColon => out.push(std::mem::take(&mut current)),
            Token::Whitespace(_) => {}
            _ => current.push(t.clone()),
        }
    }
    out.push(current);
    out.retain(|s| !s.is_empty());
    out
}

fn from_ast(statement: &Statement, at: &dyn Fn(Location) -> usize, facts: &mut Facts) {
    let grantees = |list: &[Grantee], verb: &'static str, facts: &mut Facts| {
        for g in list {
            if let Some(GranteeName::ObjectName(name)) = &g.name {
                let role = object_name(name);
                if !not_a_role(&role) {
                    facts.role_refs.push(RoleRef {
                        role,
                        offset: at(name.span().start),
                        verb,
                    });
                }
            }
        }
    };
    match statement {
        Statement::CreateRole(create) => {
            for name in &create.names {
                facts.roles_created.push(Named {
                    name: object_name(name),
                    offset: at(name.span().start),
                });
            }
        }
        Statement::CreateUser(create) => {
            let name = ident_name(&create.name.value, create.name.quote_style.is_some());
            facts.roles_created.push(Named {
                name,
                offset: at(create.name.span.start),
            });
        }
        // ALTER ROLE|USER a RENAME TO b provisions b.
        Statement::AlterRole {
            operation: AlterRoleOperation::RenameRole { role_name },
            ..
        } => {
            let name = ident_name(&role_name.value, role_name.quote_style.is_some());
            facts.roles_created.push(Named {
                name,
                offset: at(role_name.span.start),
            });
        }
        Statement::Grant(grant) => grantees(&grant.grantees, "GRANT", facts),
        Statement::Revoke(revoke) => grantees(&revoke.grantees, "REVOKE", facts),
        Statement::Set(Set::SetRole {
            role_name: Some(role),
            ..
        }) => {
            let name = ident_name(&role.value, role.quote_style.is_some());
            if !not_a_role(&name) {
                facts.role_refs.push(RoleRef {
                    role: name,
                    offset: at(role.span.start),
                    verb: "SET ROLE",
                });
            }
        }
        Statement::AlterTable(alter) => {
            let table = object_name(&alter.name);
            for op in &alter.operations {
                match op {
                    AlterTableOperation::OwnerTo {
                        new_owner: Owner::Ident(i),
                    } => {
                        let role = ident_name(&i.value, i.quote_style.is_some());
                        if !not_a_role(&role) {
                            facts.role_refs.push(RoleRef {
                                role,
                                offset: at(i.span.start),
                                verb: "OWNER TO",
                            });
                        }
                    }
                    AlterTableOperation::RenameTable {
                        table_name: RenameTableNameKind::To(to) | RenameTableNameKind::As(to),
                    } => {
                        let op =
                            facts.rename(&table, &object_name(to), at(alter.name.span().start));
                        facts.tables.push(op);
                    }
                    _ => {}
                }
            }
        }
        Statement::CreateTable(CreateTable {
            name,
            if_not_exists,
            temporary,
            ..
        }) if !temporary => {
            facts.tables.push(TableOp {
                table: facts.table(&object_name(name)),
                kind: TableOpKind::Create {
                    if_not_exists: *if_not_exists,
                },
                offset: at(name.span().start),
            });
        }
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => {
            for name in names {
                let table = facts.table(&object_name(name));
                facts.tables.push(TableOp {
                    table,
                    kind: TableOpKind::Drop,
                    offset: at(name.span().start),
                });
            }
        }
        Statement::CreateIndex(create) => {
            let index = create.name.as_ref().map(object_name);
            let table = Some(table_key(&object_name(&create.table_name)));
            let mut issue = |(what, offset): (String, usize), part| {
                facts.index_issues.push(IndexIssue {
                    index: index.clone(),
                    table: table.clone(),
                    what,
                    part,
                    offset,
                });
            };
            for col in &create.columns {
                for found in volatile_in(&col.column.expr, at) {
                    issue(found, IndexPart::Expression);
                }
            }
            if let Some(predicate) = &create.predicate {
                for found in volatile_in(predicate, at) {
                    issue(found, IndexPart::Predicate);
                }
            }
        }
        Statement::Query(query) => {
            if let SetExpr::Select(select) = query.body.as_ref() {
                let table = select.from.first().and_then(|t| match &t.relation {
                    TableFactor::Table { name, .. } => Some(table_key(&object_name(name))),
                    _ => None,
                });
                if let Some(table) = table {
                    let mut keys = Vec::new();
                    if let Some(selection) = &select.selection {
                        equalities(selection, &mut keys);
                    }
                    facts.lookups.push(Lookup {
                        table,
                        keys,
                        offset: at(query.span().start),
                    });
                }
            }
        }
        _ => {}
    }
}

/// `column = 'literal'` and `column = :param`, joined by AND.
fn equalities(expr: &Expr, out: &mut Vec<(String, KeyValue)>) {
    use sqlparser::ast::BinaryOperator;
    match expr {
        Expr::Nested(inner) => equalities(inner, out),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            equalities(left, out);
            equalities(right, out);
        }
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            let column = match left.as_ref() {
                Expr::Identifier(i) => Some(ident_name(&i.value, i.quote_style.is_some())),
                Expr::CompoundIdentifier(parts) => parts
                    .last()
                    .map(|i| ident_name(&i.value, i.quote_style.is_some())),
                _ => None,
            };
            let value = match right.as_ref() {
                Expr::Value(v) => match &v.value {
                    Value::SingleQuotedString(s) => Some(KeyValue::Literal(s.clone())),
                    Value::Number(n, _) => Some(KeyValue::Literal(n.clone())),
                    Value::Placeholder(p) => Some(KeyValue::Param(
                        p.trim_start_matches([':', '$', '@', '?']).to_string(),
                    )),
                    _ => None,
                },
                _ => None,
            };
            if let (Some(c), Some(v)) = (column, value) {
                out.push((c, v));
            }
        }
        _ => {}
    }
}

/// The not-immutable functions and casts inside an expression.
fn volatile_in(expr: &Expr, at: &dyn Fn(Location) -> usize) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let _ = visit_expressions(expr, |e| {
        match e {
            Expr::Function(f) => {
                let name = f.name.0.last().map(|p| match p {
                    ObjectNamePart::Identifier(i) => i.value.clone(),
                    ObjectNamePart::Function(f) => f.name.value.clone(),
                });
                let (args, parens) = match &f.args {
                    FunctionArguments::None => (0, false),
                    FunctionArguments::List(l) => (l.args.len(), true),
                    FunctionArguments::Subquery(_) => (1, true),
                };
                if let Some(name) = name.filter(|n| not_immutable(n, args)) {
                    found.push((shown(&name, parens), at(f.name.span().start)));
                }
            }
            // Reading a timestamptz depends on the TimeZone setting; a
            // literal is converted once, when the index is created.
            Expr::Cast {
                expr,
                data_type: DataType::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz),
                ..
            } if !matches!(expr.as_ref(), Expr::Value(_)) => {
                found.push(("a cast to timestamptz".to_string(), at(e.span().start)));
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

/// A token as the fallback matcher sees it: an upper-cased keyword or a
/// name, with its offset.
#[derive(Debug, Clone)]
struct Word {
    /// Upper case for unquoted words; `None` for anything but a word.
    upper: Option<String>,
    /// The name it stands for (folded unless quoted).
    name: Option<String>,
    token: Token,
    offset: usize,
}

fn words(tokens: &[TokenWithSpan], index: &LineIndex<'_>) -> Vec<Word> {
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

fn owner_to(ws: &[Word], facts: &mut Facts) {
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
fn from_tokens(ws: &[Word], facts: &mut Facts) {
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
fn search_path(ws: &[Word]) -> Option<Option<String>> {
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
fn volatile_words(ws: &[Word]) -> Vec<(String, usize)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(f: &Facts) -> Vec<(&str, &str)> {
        f.role_refs
            .iter()
            .map(|r| (r.verb, r.role.as_str()))
            .collect()
    }

    #[test]
    fn grants_owner_and_set_role() {
        let f = analyze(
            "GRANT SELECT, INSERT ON paper_orders TO raptor_app, \"Reporting\";\nGRANT USAGE ON SEQUENCE s TO raptor_app WITH GRANT OPTION;\nALTER TABLE t OWNER TO owner_a;\nALTER SEQUENCE s OWNER TO owner_b;\nALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO reader;\nSET ROLE admin_c;\nGRANT SELECT ON t TO PUBLIC;\nREVOKE ALL ON t FROM old_role;\nSET ROLE NONE",
            None,
        );
        assert_eq!(
            roles(&f),
            [
                ("GRANT", "raptor_app"),
                ("GRANT", "Reporting"),
                ("GRANT", "raptor_app"),
                ("OWNER TO", "owner_a"),
                ("OWNER TO", "owner_b"),
                ("GRANT", "reader"),
                ("SET ROLE", "admin_c"),
                ("REVOKE", "old_role"),
            ]
        );
    }

    #[test]
    fn roles_created_plain_and_in_do_blocks() {
        let sql = "CREATE ROLE app_ro NOLOGIN;\nDO $$ BEGIN\nIF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'raptor_app') THEN\n  CREATE ROLE raptor_app NOLOGIN;\nEND IF;\nEND $$;\nCREATE USER IF NOT EXISTS bob";
        let f = analyze(sql, None);
        let names: Vec<&str> = f.roles_created.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["app_ro", "raptor_app", "bob"]);
        let at = f.roles_created[1].offset;
        assert_eq!(&sql[at..at + 10], "raptor_app");
    }

    #[test]
    fn tables_created_dropped_renamed() {
        let f = analyze(
            "CREATE TABLE public.paper_orders (id bigint);\nCREATE TABLE IF NOT EXISTS x (id int);\nCREATE TEMP TABLE scratch (id int);\nDROP TABLE IF EXISTS a, b;\nALTER TABLE c RENAME TO d;\nCREATE UNLOGGED TABLE e (id int) PARTITION BY RANGE (id) WITH (fillfactor = 70) TABLESPACE ts WEIRD",
            None,
        );
        let t: Vec<(String, TableOpKind)> = f
            .tables
            .iter()
            .map(|t| (t.table.clone(), t.kind.clone()))
            .collect();
        assert_eq!(
            t,
            [
                (
                    "paper_orders".into(),
                    TableOpKind::Create {
                        if_not_exists: false
                    }
                ),
                (
                    "x".into(),
                    TableOpKind::Create {
                        if_not_exists: true
                    }
                ),
                ("a".into(), TableOpKind::Drop),
                ("b".into(), TableOpKind::Drop),
                ("c".into(), TableOpKind::RenameTo("d".into())),
                (
                    "e".into(),
                    TableOpKind::Create {
                        if_not_exists: false
                    }
                ),
            ]
        );
    }

    fn tables(f: &Facts) -> Vec<String> {
        f.tables
            .iter()
            .map(|t| match &t.kind {
                TableOpKind::RenameTo(to) => format!("{} -> {to}", t.table),
                _ => t.table.clone(),
            })
            .collect()
    }

    #[test]
    fn search_path_sets_the_schema_of_bare_tables() {
        let f = analyze(
            "CREATE TABLE a (id int);
            SET LOCAL search_path TO receiving, public; CREATE TABLE b (id int); CREATE TABLE public.c (id int);
            ALTER TABLE b RENAME TO b2; DROP TABLE b2;
            set search_path = \"$user\", \"Warehouse\"; CREATE TABLE \"Receiving\".\"T\" (id int); CREATE TABLE d (id int);
            SET search_path TO DEFAULT; CREATE TABLE e (id int);
            SELECT set_config('search_path', ' \"$user\" , X,public', true); CREATE TABLE f (id int);
            RESET search_path; CREATE TABLE g (id int);
            SET SCHEMA 'h'; CREATE TABLE h (id int);
            DO $$ BEGIN PERFORM set_config('search_path', 'inner', true); CREATE TABLE i (id int); END $$;
            CREATE TABLE j (id int)",
            Some("start".into()),
        );
        assert_eq!(
            tables(&f),
            [
                "start.a",
                "receiving.b",
                "c",
                "receiving.b -> receiving.b2",
                "receiving.b2",
                "Receiving.T",
                "Warehouse.d",
                "e",
                "x.f",
                "g",
                "h.h",
                "inner.i",
                "inner.j",
            ]
        );
        assert_eq!(f.schema.as_deref(), Some("inner"));
    }

    #[test]
    fn role_checks_and_renames() {
        let sql = "DO $$ BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'web') THEN
                GRANT SELECT ON t TO web;
            ELSE
                GRANT SELECT ON t TO web;
            END IF;
            GRANT SELECT ON t TO web;
            ALTER USER a RENAME TO b;
        END $$;
        ALTER ROLE c RENAME TO \"D\"; ALTER GROUP e RENAME TO F";
        let f = analyze(sql, None);
        let lines: Vec<usize> = f
            .role_refs
            .iter()
            .map(|r| sql[..r.offset].lines().count())
            .collect();
        assert_eq!(lines, [5, 7]);
        let created: Vec<&str> = f.roles_created.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(created, ["b", "D", "f"]);
    }

    #[test]
    fn index_predicates_and_expressions() {
        let sql = "CREATE INDEX ix_a ON alerts (id) WHERE muted_until < CURRENT_TIMESTAMP;\nCREATE INDEX ix_b ON events ((payload_ts::timestamptz));\nCREATE INDEX ix_c ON t (id) WHERE status = 'open';\nCREATE INDEX ix_d ON t (id) WHERE created_at > '2026-01-01'::timestamptz;\nCREATE INDEX ix_e ON t (lower(email)) WHERE created_at > now() - interval '1 day'";
        let f = analyze(sql, None);
        let got: Vec<(Option<&str>, &str, IndexPart)> = f
            .index_issues
            .iter()
            .map(|i| (i.index.as_deref(), i.what.as_str(), i.part))
            .collect();
        assert_eq!(
            got,
            [
                (Some("ix_a"), "CURRENT_TIMESTAMP", IndexPart::Predicate),
                (Some("ix_b"), "a cast to timestamptz", IndexPart::Expression),
                (Some("ix_e"), "now()", IndexPart::Predicate),
            ]
        );
        let at = f.index_issues[2].offset;
        assert_eq!(&sql[at..at + 3], "now");
    }

    #[test]
    fn predicates_as_text() {
        assert_eq!(
            expression_issues("created_at > now() - interval '7 days'"),
            [("now()".to_string(), 13)]
        );
        assert!(expression_issues("status = 'open'").is_empty());
        assert_eq!(expression_issues("random() < 0.5").len(), 1);
        assert_eq!(
            expression_issues("age(created_at) < interval '1 day'").len(),
            1
        );
        assert!(expression_issues("age(a, b) < interval '1 day'").is_empty());
        assert_eq!(
            expression_issues("x > clock_timestamp( ) AND ((((").len(),
            1
        );
    }

    #[test]
    fn lookups() {
        let f = analyze(
            "SELECT id FROM admins WHERE email = :email AND kind = 'operator'",
            None,
        );
        assert_eq!(f.lookups.len(), 1);
        assert_eq!(f.lookups[0].table, "admins");
        assert_eq!(
            f.lookups[0].keys,
            [
                ("email".into(), KeyValue::Param("email".into())),
                ("kind".into(), KeyValue::Literal("operator".into()))
            ]
        );
    }

    #[test]
    fn index_name_of_a_statement() {
        assert_eq!(
            index_name(
                "CREATE INDEX ix_alerts_recent ON alerts (created_at) WHERE created_at > now()"
            ),
            Some("ix_alerts_recent".into())
        );
        assert_eq!(index_name("GRANT x TO y"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

        #[test]
        fn random_sql_never_panics(s in "(CREATE |TABLE |INDEX |ON |WHERE |GRANT |TO |OWNER |ROLE |DO |\\$\\$|'|\"|\\(|\\)|;|now\\(\\)|::timestamptz |x |é|\n){0,40}") {
            let f = analyze(&s, None);
            for o in f.role_refs.iter().map(|r| r.offset).chain(f.tables.iter().map(|t| t.offset)) {
                proptest::prop_assert!(o <= s.len());
            }
            let _ = expression_issues(&s);
        }
    }

    #[test]
    fn garbage_does_not_panic() {
        for s in ["", ";;;", "'unterminated", "$$", "DO $x$ unterminated", "CREATE", "GRANT TO", "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((x"] {
            let _ = analyze(s, None);
            let _ = expression_issues(s);
        }
    }
}
