use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // `COMPLETE=bash migfix`: the shell asks for completions, and that is all.
    migfix::answer_completion();
    let cli = migfix::cli::Cli::parse();
    let format = migfix::stdout_format(&cli);
    // The readers recurse as deep as a file nests (up to the bound that
    // `check` enforces), so the work runs on a thread with room for it.
    let work = std::thread::Builder::new()
        .stack_size(migfix::READER_STACK)
        .spawn(move || match migfix::run(cli) {
            Ok(status) => status.into(),
            Err(err) => migfix::report::error(&err, format),
        })
        .expect("the main thread can be spawned");
    work.join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
