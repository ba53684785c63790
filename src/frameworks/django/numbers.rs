//! Django's numbers and names: an app's next number past every claim, and
//! a migration found by how a user names it.

use anyhow::Result;

use crate::chains::Chain;
use crate::error::{Diag, InputErrors};
use crate::frameworks::django::read::DjangoMigration;
use crate::git::Claim;

/// Django's `MigrationAutodetector.parse_number`: a squash counts as the
/// number it squashes to.
pub(crate) fn parse_number(name: &str) -> Option<u64> {
    if let Some(at) = name.rfind("_squashed_") {
        let digits: String = name[at + 10..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !digits.is_empty() {
            return digits.parse().ok();
        }
    }
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

pub(super) fn migrations_of<'c>(
    chain: &'c Chain,
    app: &'c str,
) -> impl Iterator<Item = &'c DjangoMigration> {
    chain
        .revisions
        .iter()
        .chain(&chain.replaced)
        .filter_map(|r| r.detail::<DjangoMigration>())
        .filter(move |d| d.app == app)
}

/// The next number of an app: past every migration it has, squashed ones
/// included, and every one another branch adds to it.
pub(crate) fn next_number(chain: &Chain, app: &str, claims: &[Claim]) -> u64 {
    let theirs = claims
        .iter()
        .filter_map(|c| c.id.strip_prefix(app)?.strip_prefix('.'))
        .filter_map(parse_number);
    migrations_of(chain, app)
        .filter_map(|d| parse_number(&d.name))
        .chain(theirs)
        .max()
        .unwrap_or(0)
        + 1
}

/// What another branch adds to `app`, for the notes.
pub(super) fn claimed_note(claims: &[Claim], app: &str) -> Option<String> {
    let mut names: Vec<&str> = claims
        .iter()
        .filter(|c| c.id.starts_with(&format!("{app}.")))
        .map(|c| c.id.as_str())
        .collect();
    names.sort();
    names.dedup();
    (!names.is_empty()).then(|| {
        format!(
            "numbered past the migrations other branches add: {}",
            names.join(", ")
        )
    })
}

pub(super) fn width(chain: &Chain) -> usize {
    chain.scheme.width().unwrap_or(4).max(4)
}

/// A migration named by `APP NAME`, `APP.NAME`, `NAME` (unique in the
/// project, or in the app `--chain` selected) or a number prefix (`0005`).
pub(crate) fn find(chain: &Chain, target: &str, name: Option<&str>) -> Result<usize> {
    let (app, wanted) = match (name, target.split_once('.')) {
        (Some(n), _) => (Some(target), n),
        (None, Some((a, n)))
            if chain
                .revisions
                .iter()
                .any(|r| r.detail::<DjangoMigration>().is_some_and(|d| d.app == a)) =>
        {
            (Some(a), n)
        }
        _ => (chain.focus(), target),
    };
    let hits: Vec<usize> = chain
        .revisions
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            let Some(d) = r.detail::<DjangoMigration>() else {
                return false;
            };
            app.is_none_or(|a| d.app == a)
                && (d.name == wanted
                    || (wanted.bytes().all(|b| b.is_ascii_digit())
                        && dj_prefix(&d.name) == Some(wanted)))
        })
        .map(|(i, _)| i)
        .collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => Err(InputErrors::one(Diag::new(
            target,
            None,
            format!(
                "no migration {}{wanted} in {}",
                app.map(|a| format!("{a}.")).unwrap_or_default(),
                chain.name()
            ),
        ))
        .with_help("migfix history")
        .into()),
        many => {
            let ids: Vec<&str> = many
                .iter()
                .map(|&i| chain.revisions[i].id.as_str())
                .collect();
            Err(InputErrors::one(Diag::new(
                target,
                None,
                format!("`{wanted}` names several migrations: {}", ids.join(", ")),
            ))
            .with_help(format!(
                "name one: migfix renumber {}",
                ids[0].replacen('.', " ", 1)
            ))
            .into())
        }
    }
}

pub(super) fn dj_prefix(name: &str) -> Option<&str> {
    crate::chains::scheme::number_prefix(name)
}
