//! Credentials in postgres URLs and connection strings, shown as `***`.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::{Captures, Regex};

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
/// A value ends at white space, `&`, `;` or a quote, or is a quoted
/// conninfo value (`password='a b'`).
pub(crate) fn mask_shapes(text: &str) -> String {
    static RX: OnceLock<(Regex, Regex)> = OnceLock::new();
    let (userinfo, param) = RX.get_or_init(|| {
        (
            Regex::new(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/?#@:]*):[^\s/?#@]*@").expect("valid"),
            Regex::new(r#"([\w%]+)=('(?:[^'\\\n]|\\.)*'|[^\s&;'"]*)"#).expect("valid"),
        )
    });
    let text = userinfo.replace_all(text, format!("${{1}}:{MASK}@"));
    param
        .replace_all(&text, |c: &Captures| {
            if is_secret_key(&c[1]) {
                format!("{}={MASK}", &c[1])
            } else {
                c[0].to_string()
            }
        })
        .into_owned()
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
}
