//! What diagnose reads of sqitch changes: each deploy script.

use crate::chains::Chain;
use crate::facts::{from_sql_file, RevFacts};
use crate::parallel::parallel_map;

/// sqitch's: what each deploy script does.
pub(crate) fn facts(chain: &Chain, spec: &super::SqitchSpec) -> Vec<RevFacts> {
    parallel_map(&chain.revisions, |r| {
        // The reader knows where a reworked change's older script lives.
        let script = r.scripts.as_ref().map_or_else(
            || spec.deploy_dir.join(format!("{}.{}", r.id, spec.extension)),
            |s| s.paths[0].clone(),
        );
        match crate::files::read(&script) {
            Ok(bytes) => from_sql_file(&script, &String::from_utf8_lossy(&bytes)),
            Err(_) => RevFacts {
                file: script,
                ..RevFacts::default()
            },
        }
    })
}
