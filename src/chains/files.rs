//! What a revision file's name says: its stem, the id token and the running
//! number a chain's naming reads there.

use std::borrow::Cow;

use super::{Chain, Revision};

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
