//! What diagnose reads of sqitch changes: each deploy script.

use std::path::PathBuf;

use crate::chains::Chain;
use crate::facts::{from_sql_file, RevFacts};
use crate::parallel::parallel_map;

/// sqitch's: what each deploy script does. A change planned twice with no
/// tag between (which the lint reports, and sqitch refuses) runs its one
/// script once.
pub(crate) fn facts(chain: &Chain, spec: &super::SqitchSpec) -> Vec<RevFacts> {
    // The reader knows where a reworked change's older script lives.
    let scripts: Vec<PathBuf> = chain
        .revisions
        .iter()
        .map(|r| {
            r.scripts.as_ref().map_or_else(
                || spec.deploy_dir.join(format!("{}.{}", r.id, spec.extension)),
                |s| s.paths[0].clone(),
            )
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    let first: Vec<(bool, &PathBuf)> = scripts.iter().map(|s| (seen.insert(s), s)).collect();
    parallel_map(&first, |&(first, script)| {
        if !first {
            return RevFacts {
                file: script.clone(),
                ..RevFacts::default()
            };
        }
        match crate::files::read(script) {
            Ok(bytes) => from_sql_file(script, &String::from_utf8_lossy(&bytes)),
            Err(_) => RevFacts {
                file: script.clone(),
                ..RevFacts::default()
            },
        }
    })
}
