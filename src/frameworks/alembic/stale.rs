//! Ids a repair took away that an Alembic chain's files would still carry:
//! in a revision file's name, its `Revision ID:` or `Revises:` header, or a
//! head-tracking file. Alembic reads none of them, people and tools do.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::planned::head_files;
use super::renumber::tokens;
use crate::chains::files::id_tokens;
use crate::chains::ids::retokened;
use crate::chains::Chain;

/// Each file of `chain` still carrying an id of `gone` (old id → the id
/// that replaced it), with what it says and what to do about it.
pub(crate) fn leftovers(chain: &Chain, gone: &BTreeMap<String, String>) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for r in &chain.revisions {
        let name = r
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (old, new) in gone {
            if id_tokens(&chain.naming, &name, old).is_empty() {
                continue;
            }
            let to = retokened(chain, &r.path, old, new)
                .and_then(|p| Some(p.file_name()?.to_string_lossy().into_owned()));
            out.push((
                r.path.clone(),
                format!(
                    "its name still carries {old}, now {new}: rename it{}",
                    to.map_or_else(|| format!(" to carry {new}"), |t| format!(" to {t}"))
                ),
            ));
        }
        let Some(consts) = &r.consts else { continue };
        let Ok(src) = crate::files::read(&r.path) else {
            continue;
        };
        let header = crate::python::header_spans(&src, consts);
        if let Some(span) = header.revision_id {
            let said = String::from_utf8_lossy(&src[span]).into_owned();
            if gone.contains_key(&said) {
                out.push((
                    r.path.clone(),
                    format!(
                        "its Revision ID: line still says {said}: change it to {}",
                        r.id
                    ),
                ));
            }
        }
        if let Some(span) = header.revises {
            for (old, new) in gone {
                if !tokens(&src[span.clone()], old).is_empty() {
                    out.push((
                        r.path.clone(),
                        format!("its Revises: line still names {old}: change it to {new}"),
                    ));
                }
            }
        }
    }
    for (path, _, token) in head_files(chain) {
        if let Some(new) = gone.get(&token) {
            out.push((
                path,
                format!("it still names {token}, now {new}: update it to the head it tracks"),
            ));
        }
    }
    out
}
