//! Class B, a missing Postgres role: `GRANT ... TO role`, `ALTER ... OWNER
//! TO role` or `SET ROLE role` for a role that nothing provisions. A role
//! is provisioned when an earlier migration (or an earlier statement of the
//! same one) creates it, when migfix.toml lists it under `roles`, or when a
//! CI workflow creates it (`.github/workflows/*.yml` with `CREATE ROLE`).

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;

use crate::findings::{Finding, Place};

use super::Ctx;

/// A role that a CI workflow creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CiRole {
    pub name: String,
    pub path: String,
    pub line: usize,
}

/// Roles created in `.github/workflows/*.yml` (and `.yaml`) below `root`:
/// `CREATE ROLE|USER|GROUP name` in any step, or `createuser name`.
pub(crate) fn ci_roles(root: &Path) -> Vec<CiRole> {
    let dir = root.join(".github").join("workflows");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    let create = Regex::new(
        r#"(?i)\bcreate\s+(?:role|user|group)\s+(?:if\s+not\s+exists\s+)?(\\?"(?:[^"\\]|"")+\\?"|[a-z_][a-z0-9_$]*)"#,
    )
    .expect("a valid regex");
    let createuser =
        Regex::new(r"\bcreateuser((?:\s+-{1,2}[A-Za-z-]+)*)\s+([A-Za-z_][A-Za-z0-9_$]*)")
            .expect("a valid regex");
    let mut out = Vec::new();
    for file in files {
        let Ok(text) = crate::files::read_to_string(&file) else {
            continue;
        };
        let shown = crate::config::rel(root, &file);
        for (n, line) in text.lines().enumerate() {
            for c in create.captures_iter(line) {
                let raw = &c[1];
                let name = if raw.contains('"') {
                    raw.trim_matches(['"', '\\']).replace("\"\"", "\"")
                } else {
                    raw.to_lowercase()
                };
                out.push(CiRole {
                    name,
                    path: shown.clone(),
                    line: n + 1,
                });
            }
            for c in createuser.captures_iter(line) {
                out.push(CiRole {
                    name: c[2].to_string(),
                    path: shown.clone(),
                    line: n + 1,
                });
            }
        }
    }
    out
}

/// An identifier as it must be written in SQL: bare when Postgres would
/// fold it to itself, else double-quoted.
fn ident(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if bare {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// The runbook's idempotent role-creation step.
pub(crate) fn role_sql(role: &str) -> String {
    format!(
        "DO $$ BEGIN\nIF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{}') THEN\n    CREATE ROLE {} NOLOGIN;\nEND IF;\nEND $$;",
        role.replace('\'', "''"),
        ident(role)
    )
}

pub(crate) fn fix(upgrade_head: &str) -> String {
    format!(
        "add a role-creation step to the gate before `{upgrade_head}` (SQL below), in the same PR as the migration; \
         if production provisions the role outside migrations, also list it under `roles` in migfix.toml"
    )
}

pub(crate) fn findings(ctx: &Ctx<'_>) -> Vec<Finding> {
    let chain = ctx.chain;
    let provisioned = |role: &str| {
        chain.spec.roles.iter().any(|r| r == role) || ctx.ci_roles.iter().any(|c| c.name == role)
    };
    // role -> every (revision, use) that needs it, oldest revision first
    let mut needed: BTreeMap<&str, Vec<(usize, &crate::facts::RoleUse)>> = BTreeMap::new();
    let order: Vec<usize> = ctx.graph.newest_first().into_iter().rev().collect();
    for &i in &order {
        let facts = &ctx.facts[i];
        for u in &facts.role_uses {
            if provisioned(&u.role) {
                continue;
            }
            let here = facts
                .roles_created
                .iter()
                .any(|(r, at)| *r == u.role && at.seq < u.at.seq);
            let earlier = || {
                ctx.graph
                    .ancestors(i)
                    .into_iter()
                    .any(|a| ctx.facts[a].roles_created.iter().any(|(r, _)| *r == u.role))
            };
            if !here && !earlier() {
                needed.entry(&u.role).or_default().push((i, u));
            }
        }
    }
    let mut out = Vec::new();
    for (role, uses) in needed {
        let (first, u) = uses[0];
        let rev = &chain.revisions[first];
        let mut revs: Vec<usize> = uses.iter().map(|(i, _)| *i).collect();
        revs.dedup();
        let others = match revs.len() {
            1 => String::new(),
            n => format!(" ({n} migrations need it, the first is {})", rev.id),
        };
        let message = format!(
            "{} needs role {role}, which nothing provisions: no earlier migration creates it, it is not under `roles` \
             in migfix.toml and no CI workflow creates it{others}",
            u.verb
        );
        let mut f = Finding::new(
            Some('B'),
            "missing-role",
            Some(chain.name()),
            message,
            fix(&ctx.upgrade_to("head")),
        );
        f.revision = Some(rev.id.clone());
        f.path = Some(ctx.rel(&ctx.facts[first].file));
        f.line = Some(u.at.line);
        f.subject = Some(role.to_string());
        f.sql = Some(role_sql(role));
        f.related = uses[1..]
            .iter()
            .map(|(i, u)| Place {
                path: ctx.rel(&ctx.facts[*i].file),
                line: u.at.line,
            })
            .collect();
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::ctx_for;
    use super::*;

    const GRANT: &str = "revision = '0002'\ndown_revision = '0001'\ndef upgrade():\n    op.execute('GRANT SELECT ON paper_orders TO raptor_app')\n    op.execute('GRANT SELECT ON t TO PUBLIC')\n";

    #[test]
    fn grant_to_unprovisioned_role() {
        let (_dir, chain) = ctx_for(&[
            ("0001_a.py", "revision = '0001'\ndown_revision = None\ndef upgrade():\n    pass\n"),
            ("0002_b.py", GRANT),
            ("0003_c.py", "revision = '0003'\ndown_revision = '0002'\ndef upgrade():\n    op.execute('ALTER TABLE t OWNER TO raptor_app; SET ROLE raptor_app')\n"),
        ]);
        let found = findings(&chain.ctx());
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!(
            (f.subject.as_deref(), f.revision.as_deref(), f.line),
            (Some("raptor_app"), Some("0002"), Some(4))
        );
        assert_eq!(f.related.len(), 2);
        assert!(f.message.contains("2 migrations need it"), "{}", f.message);
        assert!(f
            .sql
            .as_deref()
            .unwrap()
            .contains("WHERE rolname = 'raptor_app') THEN\n    CREATE ROLE raptor_app NOLOGIN;"));
    }

    #[test]
    fn provisioned_roles_are_not_findings() {
        // created by an earlier migration, in a DO block
        let (_dir, chain) = ctx_for(&[
            ("0001_a.py", "revision = '0001'\ndown_revision = None\ndef upgrade():\n    op.execute(\"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'raptor_app') THEN CREATE ROLE raptor_app NOLOGIN; END IF; END $$;\")\n"),
            ("0002_b.py", GRANT),
        ]);
        assert!(findings(&chain.ctx()).is_empty());
        // listed under roles
        let (_dir, mut chain) = ctx_for(&[("0002_b.py", &GRANT.replace("'0001'", "None"))]);
        chain.chain.spec.roles = vec!["raptor_app".into()];
        assert!(findings(&chain.ctx()).is_empty());
        // created by CI
        let (_dir, mut chain) = ctx_for(&[("0002_b.py", &GRANT.replace("'0001'", "None"))]);
        chain.ci = vec![CiRole {
            name: "raptor_app".into(),
            path: "ci.yml".into(),
            line: 1,
        }];
        assert!(findings(&chain.ctx()).is_empty());
    }

    #[test]
    fn created_later_or_on_another_branch_does_not_count() {
        let (_dir, chain) = ctx_for(&[
            ("0001_a.py", "revision = '0001'\ndown_revision = None\ndef upgrade():\n    op.execute('GRANT SELECT ON t TO app_rw; CREATE ROLE app_rw')\n"),
        ]);
        assert_eq!(findings(&chain.ctx()).len(), 1);
    }

    fn one_rev(sql: &str) -> String {
        format!("revision = '0001'\ndown_revision = None\ndef upgrade():\n    op.execute(\"\"\"{sql}\"\"\")\n")
    }

    fn missing(sql: &str) -> Vec<String> {
        let (_dir, chain) = ctx_for(&[("0001_a.py", &one_rev(sql))]);
        findings(&chain.ctx())
            .into_iter()
            .filter_map(|f| f.subject)
            .collect()
    }

    #[test]
    fn grants_guarded_by_a_role_check() {
        let sql = "DO $$ BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'web') THEN
                GRANT SELECT ON t TO web;
                GRANT USAGE ON SCHEMA s TO web;
            END IF;
            IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname='reader') THEN GRANT SELECT ON t TO reader; END IF;
            IF EXISTS (SELECT FROM pg_user WHERE usename = 'u2') AND true THEN
                DROP TABLE IF EXISTS x;
                GRANT SELECT ON t TO u2;
            ELSE
                GRANT SELECT ON t TO u3;
            END IF;
            IF EXISTS (SELECT 1 FROM pg_authid WHERE rolname = 'u4') THEN GRANT SELECT ON t TO u4; END IF;
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'u5') THEN CREATE ROLE u5; END IF;
            GRANT SELECT ON t TO u5;
            GRANT SELECT ON t TO web_unchecked;
        END $$;";
        assert_eq!(missing(sql), ["u3", "web_unchecked"]);
    }

    #[test]
    fn a_renamed_role_is_provisioned() {
        let sql = "CREATE ROLE a; ALTER ROLE a RENAME TO \"b\"; GRANT SELECT ON t TO b;
            CREATE USER c; ALTER USER c RENAME TO D; GRANT SELECT ON t TO d; GRANT SELECT ON t TO \"D\";
            DO $$ BEGIN ALTER GROUP g RENAME TO h; END $$; GRANT SELECT ON t TO h;";
        assert_eq!(missing(sql), ["D"]);
    }

    #[test]
    fn workflow_roles() {
        let dir = tempfile::tempdir().unwrap();
        let wf = dir.path().join(".github/workflows");
        std::fs::create_dir_all(&wf).unwrap();
        std::fs::write(
            wf.join("ci-pr.yml"),
            "steps:\n  - run: |\n      psql -c \"DO \\$\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'raptor_app') THEN CREATE ROLE raptor_app NOLOGIN; END IF; END \\$\\$;\"\n  - run: psql -c 'create user Reporting'\n  - run: createuser --no-login ci_reader\n",
        )
        .unwrap();
        std::fs::write(wf.join("notes.txt"), "CREATE ROLE ignored").unwrap();
        let names: Vec<(String, usize)> = ci_roles(dir.path())
            .into_iter()
            .map(|r| (r.name, r.line))
            .collect();
        assert_eq!(
            names,
            [
                ("raptor_app".to_string(), 3),
                ("reporting".to_string(), 4),
                ("ci_reader".to_string(), 5)
            ]
        );
    }

    #[test]
    fn quoting_in_the_sql() {
        assert!(role_sql("Odd'Name")
            .contains("rolname = 'Odd''Name') THEN\n    CREATE ROLE \"Odd'Name\" NOLOGIN;"));
    }
}
