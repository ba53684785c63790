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
        index_name("CREATE INDEX ix_alerts_recent ON alerts (created_at) WHERE created_at > now()"),
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
