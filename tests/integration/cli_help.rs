//! The help texts, snapshotted: `migfix --help` and `migfix -h`, and for
//! every command `migfix help COMMAND` (its long help) and `migfix COMMAND
//! -h`. The commands are taken from the CLI, so a new one cannot be missed.

use clap::CommandFactory;

use crate::common::*;

/// migfix with `args`, its help wrapped at 100 columns (no terminal).
fn help(args: &[&str]) -> String {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_migfix"))
        .args(args)
        .env_clear()
        .env("COLUMNS", "100")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("migfix runs");
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

#[test]
fn help_texts() {
    let settings = snapshot_settings(None);
    let _bound = settings.bind_to_scope();
    insta::assert_snapshot!("help_migfix", help(&["--help"]));
    insta::assert_snapshot!("help_migfix_short", help(&["-h"]));
    for cmd in migfix::cli::Cli::command().get_subcommands() {
        let name = cmd.get_name();
        let long = help(&["help", name]);
        assert_eq!(long, help(&[name, "--help"]), "{name}: help and --help");
        let short = help(&[name, "-h"]);
        assert!(long.len() > short.len(), "{name}: --help says more than -h");
        let key = name.replace('-', "_");
        insta::assert_snapshot!(format!("help_{key}"), long);
        insta::assert_snapshot!(format!("help_{key}_short"), short);
    }
}

/// Each command's long help has its exit status and examples; the finding
/// commands say how warnings differ from errors.
#[test]
fn long_help_has_exit_status_and_examples() {
    for cmd in migfix::cli::Cli::command().get_subcommands() {
        let name = cmd.get_name();
        let long = help(&["help", name]);
        for section in ["\nExit status:\n", "\nExamples:\n"] {
            assert!(long.contains(section), "{name}: no {section:?}");
        }
        if ["check", "diagnose", "collisions"].contains(&name) {
            assert!(
                long.contains("\nWarnings and errors:\n"),
                "{name}: warnings versus errors"
            );
        }
    }
}
