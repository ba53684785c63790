//! What a revision file's name says: its stem, the id token and the running
//! number a chain's naming reads there.

use std::borrow::Cow;

use super::{Chain, Naming, Revision};

/// The id a revision's file name carries where the chain's naming puts one,
/// when it is not the declared id and looks like an id of the chain's
/// scheme. Names that do not follow the naming at all say nothing.
pub(crate) fn filename_mismatch(r: &Revision, chain: &Chain) -> Option<String> {
    mismatched_token(r, chain).map(|(token, _)| token)
}

/// The same, with the token's span in the file name.
pub(crate) fn mismatched_token(
    r: &Revision,
    chain: &Chain,
) -> Option<(String, std::ops::Range<usize>)> {
    let naming = &chain.naming;
    if !naming.has_rev() {
        return None;
    }
    let stem = stem_of(r)?;
    if naming.locate(&stem, &r.id).is_some() {
        return None;
    }
    let (token, span) = naming.token(&stem)?.0?;
    let hexish = token.len() >= 8 && token.bytes().all(|b| b.is_ascii_hexdigit());
    let looks_like_id = match chain.scheme {
        crate::chains::Scheme::Sequential { .. } | crate::chains::Scheme::Mixed { .. } => {
            token.bytes().all(|b| b.is_ascii_digit()) || hexish
        }
        crate::chains::Scheme::Hash => hexish,
        crate::chains::Scheme::Named => false,
    };
    (looks_like_id && token != r.id).then_some((token, span))
}

/// The running file number in a revision's name, where the naming has one.
pub(crate) fn file_number(r: &Revision, chain: &Chain) -> Option<u64> {
    chain.naming.number(&stem_of(r)?, &r.id)
}

/// A revision file's name without `.py`, lossily where it is not UTF-8:
/// the tokens a naming reads there (ids, numbers) are kept either way.
pub(crate) fn stem_of(r: &Revision) -> Option<Cow<'_, str>> {
    match r.path.file_name()?.to_string_lossy() {
        Cow::Borrowed(name) => name.strip_suffix(".py").map(Cow::Borrowed),
        Cow::Owned(name) => name.strip_suffix(".py").map(|s| Cow::Owned(s.to_string())),
    }
}

/// Where `id` stands as a whole token in a revision file's `name` (bounded
/// by the name's ends, `_`, `-` or `.`), whatever the naming says: older
/// files keep older conventions (`6f5e4d3c2b1a_x.py` beside dated names), a
/// merge may be named after its parents. Never inside the date and number
/// fields the naming reads there, and never for an id of one or two
/// characters, which is as likely a word of the slug (`add_2_columns`).
pub(crate) fn id_tokens(naming: &Naming, name: &str, id: &str) -> Vec<std::ops::Range<usize>> {
    if id.len() < 3 {
        return Vec::new();
    }
    let fixed = naming.fixed_spans(name.strip_suffix(".py").unwrap_or(name));
    let sep = |at: Option<&u8>| at.is_none_or(|b| matches!(b, b'_' | b'-' | b'.'));
    let bytes = name.as_bytes();
    name.match_indices(id)
        .map(|(i, _)| i..i + id.len())
        .filter(|r| sep(r.start.checked_sub(1).map(|j| &bytes[j])) && sep(bytes.get(r.end)))
        .filter(|r| !fixed.iter().any(|f| f.start < r.end && r.start < f.end))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_tokens_are_whole_and_outside_date_fields() {
        let dated = Naming::from_template(
            "%(year)d-%(month).2d-%(day).2d_%(hour).2d-%(minute).2d_%(rev)s_%(slug)s",
        )
        .unwrap();
        // An older name than the template, the id at its start.
        let old = "6f5e4d3c2b1a_pr_b_gadgets.py";
        assert_eq!(id_tokens(&dated, old, "6f5e4d3c2b1a"), vec![0..12]);
        assert_eq!(
            id_tokens(&dated, "6f5e4d3c2b1a.py", "6f5e4d3c2b1a"),
            vec![0..12]
        );
        // Part of a longer word is no token.
        assert!(id_tokens(&dated, "6f5e4d3c2b1ab_x.py", "6f5e4d3c2b1a").is_empty());
        assert!(id_tokens(&dated, "x6f5e4d3c2b1a_x.py", "6f5e4d3c2b1a").is_empty());
        // A merge named after its parents: both of them.
        let merge = "0cf47cfa673f_merge_55e910a1b2c3_and_65b2eeaabbcc.py";
        assert_eq!(id_tokens(&dated, merge, "55e910a1b2c3"), vec![19..31]);
        // The minute field of a dated name is not the id 0910.
        let numbered = Naming::from_template(
            "%(year)d%(month).2d%(day).2d_%(hour).2d%(minute).2d_%(rev)s_%(slug)s",
        )
        .unwrap();
        let name = "20180101_0910_0007_fix_0910-import.py";
        assert_eq!(id_tokens(&numbered, name, "0910"), vec![23..27]);
        assert_eq!(id_tokens(&numbered, name, "0007"), vec![14..18]);
        // Too short to tell from a word of the slug.
        assert!(id_tokens(&numbered, "20180101_0910_12_add_2_columns.py", "12").is_empty());
    }
}
