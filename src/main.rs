use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = migfix::cli::Cli::parse();
    let format = cli.global.format;
    match migfix::run(cli) {
        Ok(status) => status.into(),
        Err(err) => migfix::report::error(&err, format),
    }
}
