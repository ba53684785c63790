//! What shows a class in one log line, in the order that holds across
//! languages and drivers: SQLSTATE codes, then the exception class names
//! of the drivers and frameworks, then Postgres's own messages in English
//! and in its translations ([`super::catalog`]). Each framework's own
//! wordings (Alembic's, Django's, sqitch's) are in `logs`.

use std::sync::OnceLock;

use regex::Regex;

use super::catalog::MESSAGES;
use crate::sql::IndexPart;

/// A class a line shows, with the name it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Shown {
    pub class: char,
    pub subject: Option<String>,
    pub part: Option<IndexPart>,
}

struct Signs {
    /// Every sign below as one set: most lines show none, and one pass
    /// over them says so.
    any: regex::RegexSet,
    /// (class, part for class D, regex with the name as group 1 if any)
    messages: Vec<(char, Option<IndexPart>, Regex)>,
    /// A column or constraint that already exists: not a table created
    /// twice, though its message names a relation that "already exists".
    not_table: Regex,
    not_table_messages: Vec<Regex>,
    /// A relation named as indexes and constraints are (`ix_`, `_uniq`,
    /// Django's `_like` and hash suffixes): Postgres says "relation already
    /// exists" for them too, but no table was created twice.
    index_name: Regex,
    /// A role missing when connecting: a login failure, not a GRANT's.
    at_connect: Regex,
    fatal: Regex,
    /// SQLSTATE codes, however the driver or tool prints them.
    sqlstate: Regex,
    /// Class names of exceptions that are a class in themselves.
    exceptions: Vec<(char, Regex)>,
    /// Any line that reports an error, in any language the server speaks.
    severity: Regex,
}

/// A catalog message as a regex: each value a lazy group, white space as
/// any run of it, straight double quotes as any quote, and a message
/// printed over two lines matched by its first.
fn message(text: &str) -> Regex {
    let first = text.split('\n').next().unwrap_or(text);
    let escaped = regex::escape(first);
    let value = Regex::new(r"%(?:\d+\\\$)?s").expect("a valid regex");
    let spaced = Regex::new(r"\s+").expect("a valid regex");
    let body = value.replace_all(&escaped, "(.+?)");
    let body = spaced.replace_all(&body, r"\s+");
    // A translation's own quotes (« », » «, „ “) sent in a client
    // encoding other than UTF-8 reach the log as bytes that are not
    // UTF-8, read as U+FFFD: each such quote may be one.
    let mut body = body.into_owned();
    for quote in ['«', '»', '‹', '›', '„', '“', '”', '「', '」'] {
        body = body.replace(quote, &format!(r"[{quote}\u{{FFFD}}]"));
    }
    // Quoted as the server quotes, or as people retype it.
    let body = body.replace('"', r#"["'“”]"#);
    Regex::new(&body).expect("a catalog message makes a valid regex")
}

fn signs() -> &'static Signs {
    static SIGNS: OnceLock<Signs> = OnceLock::new();
    SIGNS.get_or_init(|| {
        let r = |s: &str| Regex::new(s).expect("a valid regex");
        let of = |key: &'static str| MESSAGES.iter().filter(move |(_, k, _)| *k == key);
        let mut messages = Vec::new();
        for (key, class, part) in [
            ("duplicate-table", 'F', None),
            ("missing-role", 'B', None),
            ("immutable-predicate", 'D', Some(IndexPart::Predicate)),
            ("immutable-expression", 'D', Some(IndexPart::Expression)),
        ] {
            messages.extend(of(key).map(|(_, _, text)| (class, part, message(text))));
        }
        let not_table_messages = of("duplicate-column")
            .chain(of("duplicate-constraint"))
            .map(|(_, _, text)| message(text))
            .collect();
        let words = |key: &'static str| {
            of(key)
                .map(|(_, _, w)| regex::escape(w))
                .collect::<Vec<_>>()
                .join("|")
        };
        let sqlstate = r(r"(?i)\b(?:sqlstate|pgcode)\b\W{0,3}([0-9A-Z]{5})\b");
        let exceptions = vec![
            ('F', r(r"\bDuplicateTable(?:Error)?\b")),
            // Django's and SQLAlchemy's failed lookups.
            ('A', r(r"\b(\w+) matching query does not exist\b")),
            ('A', r(r"\b(?:RelatedObject|Object)?DoesNotExist\b")),
            ('A', r(r"\bNoResultFound\b|\bNo row was found when one was required\b")),
            // MySQL's and MariaDB's table created twice (1050).
            ('F', r(r"\bTable '([^']+)' already exists\b")),
        ];
        let any = regex::RegexSet::new(
            messages
                .iter()
                .map(|(_, _, re)| re.as_str())
                .chain(exceptions.iter().map(|(_, re)| re.as_str()))
                .chain([sqlstate.as_str()]),
        )
        .expect("valid regexes make a valid set");
        Signs {
            any,
            messages,
            not_table: r(r"\bDuplicate(?:Column|Object)(?:Error)?\b|(?i:\b(?:sqlstate|pgcode|code)\b\W{0,3}(?:42701|42710)\b)"),
            not_table_messages,
            index_name: r(r"(?i)^(?:ix|idx|ux|uq|unique|pk|fk)[-_]|[-_](?:idx|index|ix|uniq|unique|key|pkey|fkey|like|[0-9a-f]{8})$"),
            at_connect: r(r"(?i)OperationalError|InvalidAuthorizationSpecification|connection to server|could not connect|\bconnect(?:ing|ion)? failed"),
            fatal: r(&format!(r"\b(?:{}):", words("fatal"))),
            sqlstate,
            exceptions,
            severity: r(&format!(
                r"(?:^|\s|:)(?:{}|{}|{}):\s",
                words("error"),
                words("fatal"),
                words("panic")
            )),
        }
    })
}

/// The classes `text` shows, with the names they are about.
pub(super) fn shown(text: &str) -> Vec<Shown> {
    let s = signs();
    if !s.any.is_match(text) {
        return Vec::new();
    }
    let index_named = s.messages.iter().any(|(class, _, re)| {
        *class == 'F'
            && re
                .captures(text)
                .and_then(|c| c.get(1))
                .is_some_and(|m| s.index_name.is_match(m.as_str()))
    });
    let not_table = index_named
        || s.not_table.is_match(text)
        || s.not_table_messages.iter().any(|m| m.is_match(text));
    let at_connect = s.at_connect.is_match(text) || s.fatal.is_match(text);
    let mut out: Vec<Shown> = Vec::new();
    let mut add = |class: char, subject: Option<String>, part: Option<IndexPart>| {
        if (class == 'F' && not_table) || (class == 'B' && at_connect) {
            return;
        }
        if let Some(o) = out.iter_mut().find(|o| o.class == class) {
            if o.subject.is_none() {
                o.subject = subject;
            }
            return;
        }
        out.push(Shown {
            class,
            subject,
            part,
        });
    };
    if let Some(c) = s.sqlstate.captures(text) {
        // Postgres's duplicate_table, and the SQL standard's base table
        // that already exists (MySQL).
        if matches!(&c[1], "42P07" | "42S01") {
            add('F', None, None);
        }
    }
    for (class, re) in &s.exceptions {
        if let Some(c) = re.captures(text) {
            add(*class, c.get(1).map(|m| m.as_str().to_string()), None);
        }
    }
    for (class, part, re) in &s.messages {
        if let Some(c) = re.captures(text) {
            add(*class, c.get(1).map(|m| m.as_str().to_string()), *part);
        }
    }
    out
}

/// Whether `text` carries a server error's severity (`ERROR:`, `FEHLER:`,
/// `ОШИБКА:`, …) anywhere, as prefixed lines and wrapped errors do.
pub(super) fn severity(text: &str) -> bool {
    signs().severity.is_match(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(text: &str) -> Vec<(char, Option<String>)> {
        shown(text)
            .into_iter()
            .map(|s| (s.class, s.subject))
            .collect()
    }

    #[test]
    fn a_column_or_constraint_that_exists_is_no_table_created_twice() {
        for line in [
            r#"psycopg2.errors.DuplicateColumn: column "uuid" of relation "chat" already exists"#,
            r#"ERROR:  constraint "fk_owner" for relation "jobs" already exists"#,
            r#"asyncpg.exceptions.DuplicateObjectError: constraint "x" for relation "y" already exists"#,
            "FEHLER:  Spalte »uuid« von Relation »chat« existiert bereits",
        ] {
            assert_eq!(classes(line), [], "{line}");
        }
        assert_eq!(
            classes(r#"psycopg2.errors.DuplicateTable: relation "chat" already exists"#),
            [('F', Some("chat".to_string()))]
        );
        for name in [
            "ix_jobs_owner",
            "helpdesk_queue_slug_3b3429c3_like",
            "hitcount_hit_ip_a52a62aa",
            "ux_user_permission",
            "fias_actstat_actstatid_d17fd411_uniq",
        ] {
            let line =
                format!("psycopg2.errors.DuplicateTable: relation \"{name}\" already exists");
            assert_eq!(classes(&line), [], "{line}");
        }
        assert_eq!(
            classes("ERROR:  la relación «chat» ya existe"),
            [('F', Some("chat".to_string()))]
        );
    }

    #[test]
    fn translated_quotes_read_as_replacement_characters_still_match() {
        // « » sent in LATIN1 and read back as U+FFFD.
        assert_eq!(
            classes("ERROR:  no existe el rol \u{FFFD}netdot\u{FFFD}"),
            [('B', Some("netdot".to_string()))]
        );
        assert_eq!(
            classes("FEHLER:  Relation \u{FFFD}chat\u{FFFD} existiert bereits"),
            [('F', Some("chat".to_string()))]
        );
        // The straight quotes of other languages are ASCII: no such reading.
        assert_eq!(classes("ERROR:  role \u{FFFD}x\u{FFFD} does not exist"), []);
    }

    #[test]
    fn a_role_missing_at_connect_is_a_login_failure() {
        for line in [
            r#"psycopg2.OperationalError: connection to server at "localhost" (::1), port 5432 failed: FATAL:  role "xyz" does not exist"#,
            r#"FATAL:  role "xyz" does not exist"#,
            r#"asyncpg.exceptions.InvalidAuthorizationSpecificationError: role "xyz" does not exist"#,
        ] {
            assert_eq!(classes(line), [], "{line}");
        }
        assert_eq!(
            classes(r#"psycopg.errors.UndefinedObject: role "raptor_app" does not exist"#),
            [('B', Some("raptor_app".to_string()))]
        );
        assert_eq!(
            classes("ОШИБКА:  роль \"raptor_app\" не существует"),
            [('B', Some("raptor_app".to_string()))]
        );
    }

    #[test]
    fn translated_index_messages_are_class_d() {
        let found = shown(
            "ERROR:  las funciones utilizadas en expresiones de índice deben estar marcadas IMMUTABLE",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].class, found[0].part),
            ('D', Some(IndexPart::Expression))
        );
    }

    #[test]
    fn lookups_and_codes() {
        assert_eq!(
            classes("shop.models.Currency.DoesNotExist: Currency matching query does not exist."),
            [('A', Some("Currency".to_string()))]
        );
        assert_eq!(
            classes("sqlalchemy.exc.NoResultFound: No row was found when one was required"),
            [('A', None)]
        );
        assert_eq!(
            classes("pq: relation already there (SQLSTATE 42P07)"),
            [('F', None)]
        );
        assert!(severity("web-1  | ERREUR:  la relation « x » existe déjà"));
        assert!(!severity("INFO  [alembic] no errors here"));
    }
}
