//! `migfix diagnose`: failure classes A–F from CI logs and from the tree.

use anyhow::Result;

use crate::cli::DiagnoseArgs;
use crate::config::Config;
use crate::ExitStatus;

pub(crate) fn run(_config: &Config, _args: &DiagnoseArgs) -> Result<ExitStatus> {
    anyhow::bail!("diagnose is not implemented yet")
}
