//! A one-byte code for each operator and keyword, shared by the tokenizer
//! (which assigns them) and the parser (which compares them).

/// Declares [`CODES`] and [`code`] from one list, so that the tokenizer's
/// `match` and the parser's table cannot drift apart.
macro_rules! codes {
    ($($text:literal => $code:literal,)*) => {
        /// A number for each operator and keyword, so that the parser
        /// compares one byte per token rather than text.
        const CODES: &[(&[u8], u8)] = &[$(($text, $code)),*];

        /// The code of a token's text, for the tokenizer; 0 for anything
        /// else (plain names, strings, numbers).
        pub(super) fn code(s: &[u8]) -> u8 {
            match s {
                $($text => $code,)*
                _ => 0,
            }
        }
    };
}

codes! {
    b"(" => 1,
    b")" => 2,
    b"[" => 3,
    b"]" => 4,
    b"{" => 5,
    b"}" => 6,
    b"," => 7,
    b":" => 8,
    b"." => 9,
    b";" => 10,
    b"=" => 11,
    b"->" => 12,
    b"**" => 13,
    b"*" => 14,
    b"/" => 15,
    b"//" => 16,
    b"%" => 17,
    b"@" => 18,
    b"+" => 19,
    b"-" => 20,
    b"~" => 21,
    b"<" => 22,
    b">" => 23,
    b"<<" => 24,
    b">>" => 25,
    b"&" => 26,
    b"|" => 27,
    b"^" => 28,
    b"==" => 29,
    b"!=" => 30,
    b"<=" => 31,
    b">=" => 32,
    b"..." => 33,
    b"+=" => 34,
    b"-=" => 35,
    b"*=" => 36,
    b"/=" => 37,
    b"//=" => 38,
    b"%=" => 39,
    b"**=" => 40,
    b">>=" => 41,
    b"<<=" => 42,
    b"&=" => 43,
    b"|=" => 44,
    b"^=" => 45,
    b"@=" => 46,
    b"False" => 100,
    b"None" => 101,
    b"True" => 102,
    b"and" => 103,
    b"as" => 104,
    b"assert" => 105,
    b"async" => 106,
    b"await" => 107,
    b"break" => 108,
    b"class" => 109,
    b"continue" => 110,
    b"def" => 111,
    b"del" => 112,
    b"elif" => 113,
    b"else" => 114,
    b"except" => 115,
    b"finally" => 116,
    b"for" => 117,
    b"from" => 118,
    b"global" => 119,
    b"if" => 120,
    b"import" => 121,
    b"in" => 122,
    b"is" => 123,
    b"lambda" => 124,
    b"nonlocal" => 125,
    b"not" => 126,
    b"or" => 127,
    b"pass" => 128,
    b"raise" => 129,
    b"return" => 130,
    b"try" => 131,
    b"while" => 132,
    b"with" => 133,
    b"yield" => 134,
}

/// The code of an operator or keyword written in the parser, found at
/// compile time.
pub(super) const fn code_of(s: &str) -> u8 {
    let mut i = 0;
    while i < CODES.len() {
        if eq(CODES[i].0, s.as_bytes()) {
            return CODES[i].1;
        }
        i += 1;
    }
    panic!("neither an operator nor a keyword")
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

macro_rules! c {
    ($s:literal) => {{
        const C: u8 = code_of($s);
        C
    }};
}
// By path for the parser's files, which also import `code_of`, what it expands to.
pub(super) use c;

/// Codes from here on are keywords.
pub(super) const FIRST_KEYWORD: u8 = 100;
pub(super) const NONE_TRUE_FALSE: [u8; 3] = [c!("False"), c!("None"), c!("True")];

/// Python's keywords, which are never names.
pub(super) fn is_keyword(s: &str) -> bool {
    code(s.as_bytes()) >= FIRST_KEYWORD
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokenizer_codes_match_the_parser_codes() {
        for &(text, c) in CODES {
            let name = std::str::from_utf8(text).unwrap();
            assert_eq!(code(text), c, "{name}");
            assert_eq!(code_of(name), c, "{name}");
        }
        let mut codes: Vec<u8> = CODES.iter().map(|(_, c)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), CODES.len(), "codes are unique");
        assert!(codes.iter().all(|&c| c != 0));
        assert_eq!(code(b"match"), 0);
        assert_eq!(code(b"sa"), 0);
        for &(text, c) in CODES {
            assert_eq!(
                c >= FIRST_KEYWORD,
                text[0].is_ascii_alphabetic(),
                "{text:?}"
            );
        }
    }
}
