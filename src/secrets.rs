//! Credentials in postgres URLs and connection strings, shown as `***`.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

pub(crate) const MASK: &str = "***";

/// The connection parameters that carry a secret: those libpq marks as
/// password fields (`dispchar` "*": `password`, `sslpassword`), and
/// libpq 18's `oauth_client_secret`. `passfile`, `sslkey`, `sslcert` and
/// `sslrootcert` name files; they stay shown.
const SECRET_PARAMS: [&str; 3] = ["password", "sslpassword", "oauth_client_secret"];

/// Whether a URL query or conninfo key carries a secret. The key is
/// matched as libpq reads it, after percent-decoding (`pass%77ord`), and
/// regardless of case, to err on the side of hiding.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let key = decode(key);
    SECRET_PARAMS.iter().any(|s| key.eq_ignore_ascii_case(s))
}

/// Percent-decoding, as libpq and the `postgres` crate do it for URLs;
/// bytes that are not UTF-8 become U+FFFD, as in the tools' lossy output.
pub(crate) fn decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Masks what text shows in the shape of a credential, whatever its value:
/// the password of `scheme://user:PASSWORD@` and the value of a secret
/// `key=VALUE` (URL query, conninfo string, DBI DSN). This catches a URL a
/// tool echoes even when its password is too short to be masked by value.
///
/// Where parsers disagree, the widest reading is masked: a URL's password
/// runs from the first `:` after `://` to the last `@` before white space,
/// whatever lies between (`/`, `?`, `#`, `@`: SQLAlchemy, WHATWG and
/// `tokio-postgres` each end it elsewhere), and every `key=` is looked at,
/// also after a `#` or inside another parameter's value.
pub(crate) fn mask_shapes(text: &str) -> String {
    mask_params_in(&mask_userinfo_in(text, false), false)
}

/// One URL, known to be whole, masked by shape: as [`mask_shapes`], but
/// white space ends neither its password nor a query value.
pub(crate) fn mask_url(url: &str) -> String {
    mask_params_in(&mask_userinfo_in(url, true), true)
}

/// Every substring of `url` that some reader of it may take for a secret:
/// the userinfo password ending at each `@` after its `:` (the first for
/// `tokio-postgres` and SQLAlchemy, the last for WHATWG and ours), and the
/// value of every secret query parameter, with and without what follows a
/// `#`; each as written and percent-decoded, longest first.
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let mut raw: Vec<&str> = Vec::new();
    if let Some(colon) = rest.find(':') {
        raw.extend(
            rest.match_indices('@')
                .filter(|&(at, _)| at > colon)
                .map(|(at, _)| &rest[colon + 1..at]),
        );
    }
    // The query starts at the first `?` after the host, which may be any:
    // a raw `?` in a password or in a value is theirs. A value runs on
    // over pieces that are no parameter (no `=`: a raw `&` in it), which
    // libpq quotes one by one when it refuses them.
    for (q, _) in rest.match_indices('?') {
        let query = &rest[q + 1..];
        for seps in [&['&'][..], &['&', '#'][..]] {
            let pieces: Vec<&str> = query.split(seps).collect();
            for (i, piece) in pieces.iter().enumerate() {
                let Some((k, v)) = piece.split_once('=') else {
                    continue;
                };
                if !is_secret_key(k.trim()) {
                    continue;
                }
                raw.push(v);
                let tail = pieces[i + 1..].iter().take_while(|p| !p.contains('='));
                let mut end = v.as_ptr() as usize - query.as_ptr() as usize + v.len();
                for p in tail {
                    raw.push(p);
                    end = p.as_ptr() as usize - query.as_ptr() as usize + p.len();
                }
                let start = v.as_ptr() as usize - query.as_ptr() as usize;
                raw.push(&query[start..end]);
            }
        }
    }
    let mut out: Vec<String> = raw
        .into_iter()
        .flat_map(|v| [v.to_string(), decode(v).into_owned()])
        .filter(|v| !v.is_empty())
        .collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

/// `scheme://user:PASSWORD@host`: the password runs to the last `@` before
/// white space. No `/`, `?` or `#` ends it, as none does for the parsers
/// that split at the first `@`.
fn mask_userinfo_in(text: &str, whole: bool) -> String {
    static RX: OnceLock<Regex> = OnceLock::new();
    let rx = RX.get_or_init(|| Regex::new(r"(?i)\b[a-z][a-z0-9+.-]*://").expect("valid"));
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for m in rx.find_iter(text) {
        if m.start() < done {
            continue;
        }
        let start = m.end();
        let end = match whole {
            true => text.len(),
            false => text[start..]
                .find(char::is_whitespace)
                .map_or(text.len(), |i| start + i),
        };
        let token = &text[start..end];
        if let (Some(colon), Some(at)) = (token.find(':'), token.rfind('@')) {
            if colon < at {
                out.push_str(&text[done..=start + colon]);
                out.push_str(MASK);
                done = start + at;
            }
        }
    }
    out.push_str(&text[done..]);
    out
}

/// Where a `key=value` stands, which tells where its value ends.
#[derive(Clone, Copy)]
enum Context {
    /// After `?`, `&` or `#`: a URL query; the value ends at `&`.
    Query,
    /// After `;` or `:`: a DBI DSN (`dbi:Pg:dbname=app;password=pw`).
    Dsn,
    /// Anything else: a libpq conninfo string, where a value is quoted
    /// (`'a b\' c'`) or runs to unescaped white space (`a\ b`).
    Conninfo,
}

fn is_shown_secret_key(key: &str) -> bool {
    is_secret_key(key) || key.eq_ignore_ascii_case("pgpassword")
}

/// Every secret `key=value`, wherever it starts: also after a `#`, and
/// inside the value of a key that is not secret (`sslmode=x#password=y`).
fn mask_params_in(text: &str, whole: bool) -> String {
    static RX: OnceLock<Regex> = OnceLock::new();
    let rx = RX.get_or_init(|| Regex::new(r"([\w%]+)[ \t]*=[ \t]*").expect("valid"));
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for c in rx.captures_iter(text) {
        let (m, key) = (c.get(0).expect("whole match"), &c[1]);
        if m.start() < done || !is_shown_secret_key(key) {
            continue;
        }
        let context = match text[..m.start()].chars().next_back() {
            Some('?' | '&' | '#') => Context::Query,
            Some(';' | ':') => Context::Dsn,
            _ => Context::Conninfo,
        };
        let mut len = value_len(&text[m.end()..], context, whole);
        // A URL or DSN in quotes (`'postgresql://h/app?password=x' refused`)
        // ends at the last quote before white space, as it opened.
        let token = text[..m.start()].rfind(char::is_whitespace).map_or(0, |i| {
            i + text[i..].chars().next().map_or(1, char::len_utf8)
        });
        let quote = text[token..]
            .chars()
            .next()
            .filter(|c| matches!(c, '\'' | '"'));
        if let (Context::Query | Context::Dsn, Some(q)) = (context, quote) {
            len = text[m.end()..m.end() + len].rfind(q).unwrap_or(len);
        }
        out.push_str(&text[done..m.end()]);
        out.push_str(MASK);
        done = m.end() + len;
    }
    out.push_str(&text[done..]);
    out
}

/// The length of the value at the start of `rest`; in a `whole` URL, white
/// space does not end a query value.
fn value_len(rest: &str, context: Context, whole: bool) -> usize {
    let until = |stop: fn(char) -> bool| rest.find(stop).unwrap_or(rest.len());
    match context {
        // A piece with no `=` after an `&` is no parameter (libpq refuses
        // it, quoting it): a raw `&` in the value, the value goes on.
        Context::Query => {
            let mut end = 0;
            let ends = |c: char| c == '&' || (!whole && c.is_whitespace());
            loop {
                let rest = &rest[end..];
                let stop = rest.find(ends).unwrap_or(rest.len());
                let piece = rest[stop..]
                    .strip_prefix('&')
                    .map(|p| &p[..p.find(ends).unwrap_or(p.len())]);
                match piece {
                    Some(p) if !p.contains('=') => end += stop + 1,
                    _ => return end + stop,
                }
            }
        }
        Context::Dsn => until(|c| c == ';' || c.is_whitespace()),
        Context::Conninfo => {
            let quote = rest.chars().next().filter(|c| matches!(c, '\'' | '"'));
            let mut chars = rest.char_indices().skip(usize::from(quote.is_some()));
            while let Some((i, c)) = chars.next() {
                match (c, quote) {
                    ('\\', _) => {
                        chars.next();
                    }
                    ('\n', _) => return i,
                    (c, Some(q)) if c == q => return i + c.len_utf8(),
                    (c, None) if c.is_whitespace() => return i,
                    _ => {}
                }
            }
            rest.len()
        }
    }
}

/// Any password for the properties: printable ASCII (space, `/ @ : ? # %
/// & = '` included) and beyond.
#[cfg(test)]
pub(crate) fn any_password() -> impl proptest::strategy::Strategy<Value = String> {
    "[ -~éß密🔑]{8,16}"
}

/// `%XX` for every byte that is not unreserved, as a client writes it.
#[cfg(test)]
pub(crate) fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_matched_after_decoding() {
        for k in [
            "password",
            "sslpassword",
            "pass%77ord",
            "%73slpassword",
            "PASSWORD",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "passfile",
            "sslkey",
            "sslcert",
            "user",
            "pgpassword",
            "pass%",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
        assert_eq!(decode("s%33cr%2Ft%zz%4"), "s3cr/t%zz%4");
        assert_eq!(decode("%+1"), "%+1", "only two hex digits are decoded");
        assert_eq!(decode("%ff"), "\u{fffd}");
    }

    #[test]
    fn shapes_are_masked_whatever_the_value() {
        let cases = [
            (
                "connecting to postgresql://ci:x@db:5432/app?sslmode=disable",
                "connecting to postgresql://ci:***@db:5432/app?sslmode=disable",
            ),
            (
                "target db:pg://ci:s3cr3tQ@h/app?password=ab&sslpassword=k%33y&application_name=x",
                "target db:pg://ci:***@h/app?password=***&sslpassword=***&application_name=x",
            ),
            (
                "url 'postgresql://h/app?pass%77ord=s%33cret' refused",
                "url 'postgresql://h/app?pass%77ord=***' refused",
            ),
            (
                "host=h password='a b\\' c' sslpassword=z dbname=app",
                "host=h password=*** sslpassword=*** dbname=app",
            ),
            (
                "dbi:Pg:dbname=app;password=pw;host=h",
                "dbi:Pg:dbname=app;password=***;host=h",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(mask_shapes(text), want, "{text}");
        }
        // Nothing credential-shaped: unchanged.
        for text in [
            "password authentication failed for user \"ci\"",
            "see https://example.com/a:b/c and passfile=/home/ci/.pgpass",
            "FATAL:  database \"app\" does not exist",
        ] {
            assert_eq!(mask_shapes(text), text);
        }
    }

    #[test]
    fn a_userinfo_password_runs_to_the_last_at_whatever_it_holds() {
        let cases = [
            // Issue #29: a raw `/` does not end the userinfo.
            (
                "postgresql://ci:Sl/7Sl@127.0.0.1:1/db: cannot connect",
                "postgresql://ci:***@127.0.0.1:1/db: cannot connect",
            ),
            ("postgresql://ci:p@ss?w#rd@h/db", "postgresql://ci:***@h/db"),
            (
                "postgres://ci%40corp:s%2F3cr%3At@h:5432/app",
                "postgres://ci%40corp:***@h:5432/app",
            ),
            // A user with an `@`, as Azure spells it, and a `:` after it.
            (
                "postgresql://ci@corp:pw@corp.example.com/db",
                "postgresql://ci@corp:***@corp.example.com/db",
            ),
            // libpq quotes the URI it refuses.
            (
                "invalid URI: \"postgresql://ci:a b@h\"",
                "invalid URI: \"postgresql://ci:a b@h\"",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(mask_shapes(text), want, "{text}");
        }
    }

    #[test]
    fn every_secret_parameter_is_masked_also_after_a_fragment() {
        let cases = [
            // Issue #29: the value of the first runs to the next `&`.
            (
                "postgresql://ci@h:1/db?password=A#password=B",
                "postgresql://ci@h:1/db?password=***",
            ),
            // After a parameter that is not secret, the next key is found.
            (
                "postgresql://ci@h:1/db?sslmode=disable#password=B&x=1",
                "postgresql://ci@h:1/db?sslmode=disable#password=***&x=1",
            ),
            (
                "postgresql://ci@h/db?password=a&password=b&sslpassword=c",
                "postgresql://ci@h/db?password=***&password=***&sslpassword=***",
            ),
            // A raw `&` before a piece that is no parameter.
            (
                "postgresql://h/db?password=a&b&c&sslmode=x",
                "postgresql://h/db?password=***&sslmode=x",
            ),
            (
                "'postgresql://h/db?password=x&application_name=a' and \"postgresql://h/db?sslpassword=y\": both",
                "'postgresql://h/db?password=***&application_name=a' and \"postgresql://h/db?sslpassword=***\": both",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(mask_shapes(text), want, "{text}");
        }
        assert_eq!(
            mask_url("postgres://h?password=A B#password=C"),
            "postgres://h?password=***"
        );
        assert_eq!(
            mask_url("postgres://h?password=&sslmode=x"),
            "postgres://h?password=***&sslmode=x"
        );
        assert_eq!(mask_url("postgres://ci:a b@h"), "postgres://ci:***@h");
    }

    #[test]
    fn conninfo_values_run_as_libpq_reads_them() {
        let cases = [
            // Unquoted, a value runs to unescaped white space, `&`, `;`
            // and quotes included.
            (
                "host=h password=ab&cd;e'f\"g port=1",
                "host=h password=*** port=1",
            ),
            (
                "host=h password=a\\ b\\\\ port=1",
                "host=h password=*** port=1",
            ),
            // Quoted, with escapes; unterminated, to the end of the line.
            ("password='a\\'b c' port=1", "password=*** port=1"),
            ("password='a b\nport=1", "password=***\nport=1"),
            // White space around `=`, as libpq allows.
            (
                "host=h password = s3cret port=1",
                "host=h password = *** port=1",
            ),
            ("PGPASSWORD=s3cret psql -h h", "PGPASSWORD=*** psql -h h"),
        ];
        for (text, want) in cases {
            assert_eq!(mask_shapes(text), want, "{text}");
        }
    }

    #[test]
    fn url_secrets_hold_every_reading() {
        let s = url_secrets("postgresql://ci:a@b/c@h/db?password=A%41#password=B&sslmode=x");
        for want in [
            "a",
            "a@b/c",
            "A%41",
            "AA",
            "A%41#password=B",
            "AA#password=B",
            "B",
        ] {
            assert!(s.contains(&want.to_string()), "{want}: {s:?}");
        }
        assert!(s.windows(2).all(|w| w[0].len() >= w[1].len()), "{s:?}");
        // Found by the property: a raw `?` in a query value is the value's.
        let s = url_secrets("postgresql://ci@h:1?password=?=x y");
        assert!(s.contains(&"?=x y".to_string()), "{s:?}");
    }

    /// The shapes a password is written in: in a URL's userinfo or query,
    /// raw (where it has no white space: in text a URL ends there) or
    /// percent-encoded, after a fragment, and in a conninfo string quoted
    /// or escaped; each as written, for the check that it is gone.
    fn planted(pw: &str) -> Vec<(String, String)> {
        let enc = percent_encode(pw);
        let quoted: String = pw
            .chars()
            .flat_map(|c| match c {
                '\\' | '\'' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let escaped: String = pw
            .chars()
            .flat_map(|c| match c {
                '\\' | '\'' | '"' => vec!['\\', c],
                c if c.is_whitespace() => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let mut out = vec![
            (format!("postgresql://ci:{enc}@127.0.0.1:1/db"), enc.clone()),
            (
                format!("postgresql://ci@127.0.0.1:1/db?password={enc}"),
                enc.clone(),
            ),
            (
                format!("postgresql://ci@127.0.0.1:1/db?sslmode=disable#sslpassword={enc}&x=1"),
                enc.clone(),
            ),
            (
                format!("host=127.0.0.1 port=1 password='{quoted}' dbname=db"),
                quoted,
            ),
            (format!("host=127.0.0.1 password={escaped} port=1"), escaped),
        ];
        if !pw.contains(char::is_whitespace) {
            out.push((
                format!("postgresql://ci:{pw}@127.0.0.1:1/db"),
                pw.to_string(),
            ));
            out.push((
                format!("could not connect to \"postgresql://u:{pw}@h/db?sslmode=x\": refused"),
                pw.to_string(),
            ));
            if !pw.contains('&') {
                out.push((
                    format!("postgresql://ci@h/db?a=1#password={pw}"),
                    pw.to_string(),
                ));
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn no_planted_password_survives(pw in any_password()) {
            for (text, written) in planted(&pw) {
                let shown = mask_shapes(&text);
                proptest::prop_assert!(
                    !shown.contains(&written) && !shown.contains(&pw),
                    "{text:?} shown as {shown:?}"
                );
            }
        }
    }
}
