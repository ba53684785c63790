//! The facts of a statement sqlparser parsed, read from its syntax tree.

use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions, AlterRoleOperation, AlterTableOperation, CreateTable, DataType, Expr,
    FunctionArguments, Grantee, GranteeName, ObjectNamePart, ObjectType, Owner,
    RenameTableNameKind, Set, SetExpr, Spanned, Statement, TableFactor, TimezoneInfo, Value,
};
use sqlparser::tokenizer::Location;

use super::facts::{
    Facts, IndexIssue, IndexPart, KeyValue, Lookup, Named, RoleRef, TableOp, TableOpKind,
};
use super::names::{ident_name, not_a_role, not_immutable, object_name, shown, table_key};

pub(super) fn from_ast(statement: &Statement, at: &dyn Fn(Location) -> usize, facts: &mut Facts) {
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
pub(super) fn volatile_in(expr: &Expr, at: &dyn Fn(Location) -> usize) -> Vec<(String, usize)> {
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
