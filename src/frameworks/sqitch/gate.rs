//! The gate's round trip for sqitch: deploy, verify, revert one, deploy.

use std::path::Path;

use anyhow::Result;

use super::SqitchSpec;
use crate::frameworks::interface::Trip;

/// sqitch's round trip: deploy --verify, revert the last change, deploy.
/// A plan that only other engines read (SQLite's, MySQL's) is not for the
/// gate's Postgres: it passes with a step that says so.
pub(crate) fn round_trip(trip: &mut dyn Trip, spec: &SqitchSpec) -> Result<bool> {
    if !spec.engines.is_empty() && !spec.engines.iter().any(|e| e == "pg") {
        return Ok(trip.check_step(
            &format!(
                "not deployed: sqitch reads this plan for {}, not Postgres",
                spec.engines.join(", ")
            ),
            true,
            String::new(),
        ));
    }
    let dir = spec
        .conf
        .as_deref()
        .and_then(Path::parent)
        .or_else(|| spec.plan.parent())
        .unwrap_or(trip.root())
        .to_path_buf();
    let target = trip.db_uri();
    let plan = spec.plan.to_string_lossy().into_owned();
    let mut sqitch_step = |label: &str, args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&["--plan-file", &plan, &target]);
        trip.tool_step(label, &all, &dir, &[])
    };
    Ok(
        sqitch_step("sqitch deploy --verify", &["deploy", "--verify"])
            && sqitch_step(
                "sqitch revert --to @HEAD^",
                &["revert", "-y", "--to", "@HEAD^"],
            )
            && sqitch_step("sqitch deploy --verify", &["deploy", "--verify"]),
    )
}
