//! What the fuzz targets share: how many cases they run, how they mutate
//! a seed, and what "survives" means for the binary. Each target (files
//! named `fuzz_*.rs`) seeds its corpus from the fixtures.
//!
//! The suite runs each target for a few seconds; `MIGFIX_FUZZ_CASES=N`
//! runs every target N cases (see the README's "Fuzzing").

use std::path::Path;
use std::process::{Command, Output, Stdio};

use proptest::prelude::*;

/// The cases a target runs: `MIGFIX_FUZZ_CASES`, else its default.
pub fn cases(default: u32) -> u32 {
    std::env::var("MIGFIX_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// proptest's configuration for a target: [`cases`], no files written.
pub fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One edit of a seed: where, which operation, and which piece or how many.
pub type Edit = (usize, u8, usize);

/// From one to five edits.
pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 1..6)
}

/// Pieces every target may insert: what breaks readers of text.
const COMMON: &[&[u8]] = &[
    b"\r\n",
    b"\r",
    b"\n",
    b"\xef\xbb\xbf",
    b"\0",
    b"\xff",
    b"\xc3",
    "é".as_bytes(),
    "\u{2028}".as_bytes(),
    "🔑".as_bytes(),
    "\u{202e}".as_bytes(),
    b"\t",
    b"(",
    b")",
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b"'",
    b"#",
    b"%",
    b"\\",
    b"=",
    b" ",
];

/// `bytes` with each edit applied: a piece (the target's or a common one)
/// inserted or put in place of a line, bytes deleted, a line or a token
/// duplicated or deleted, a bit flipped, or the rest cut off.
pub fn mutate(mut bytes: Vec<u8>, edits: &[Edit], pieces: &[&[u8]]) -> Vec<u8> {
    for &(at, what, n) in edits {
        let at = at % (bytes.len() + 1);
        let piece = match n % (pieces.len() + COMMON.len()) {
            i if i < pieces.len() => pieces[i],
            i => COMMON[i - pieces.len()],
        };
        let line = line_around(&bytes, at);
        let token = token_around(&bytes, at);
        match what % 8 {
            0 => drop(bytes.splice(at..at, piece.iter().copied())),
            1 => drop(bytes.drain(at..(at + 1 + n % 16).min(bytes.len()))),
            2 => drop(bytes.splice(line, piece.iter().copied())),
            3 => {
                let copy = bytes[line.clone()].to_vec();
                drop(bytes.splice(line.start..line.start, copy));
            }
            4 => {
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 1 << (n % 8);
                }
            }
            5 => bytes.truncate(at),
            6 => drop(bytes.drain(token)),
            _ => {
                let copy = bytes[token.clone()].to_vec();
                drop(bytes.splice(token.start..token.start, copy));
            }
        }
    }
    bytes
}

/// The line holding byte `at`, with its line break.
fn line_around(bytes: &[u8], at: usize) -> std::ops::Range<usize> {
    let start = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| at + i + 1);
    start..end
}

/// The word (letters, digits, `_`) holding byte `at`, else that byte.
fn token_around(bytes: &[u8], at: usize) -> std::ops::Range<usize> {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    if !bytes.get(at).is_some_and(word) {
        return at..(at + 1).min(bytes.len());
    }
    let start = bytes[..at]
        .iter()
        .rposition(|b| !word(b))
        .map_or(0, |i| i + 1);
    let end = bytes[at..]
        .iter()
        .position(|b| !word(b))
        .map_or(bytes.len(), |i| at + i);
    start..end
}

/// The longest a command may take on a fuzzed tree, in seconds: far
/// more than any takes, so that only a hang reaches it.
const HANG: &str = "30";

/// migfix run in `dir` as [`crate::common::migfix`] runs it, under
/// coreutils' `timeout`, which ends a hang with exit 124.
pub fn run_bounded(dir: &Path, args: &[&str]) -> Result<Output, String> {
    Command::new("timeout")
        .args(["--kill-after=5", HANG, env!("CARGO_BIN_EXE_migfix")])
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{args:?}: cannot start: {e}"))
}

/// Each command ends with 0, 1 or 2 in time, never a panic or a signal;
/// an exit 2 names a file. The outputs, for
/// the target's own checks.
pub fn survives(dir: &Path, commands: &[&[&str]]) -> Result<Vec<Output>, String> {
    let mut outputs = Vec::new();
    for args in commands {
        let o = run_bounded(dir, args)?;
        let err = String::from_utf8_lossy(&o.stderr);
        match o.status.code() {
            Some(0 | 1) => {}
            Some(124 | 137) => return Err(format!("{args:?}: still running after {HANG} s")),
            Some(2) => {
                // `error: FILE[:LINE]: ...`. A configured path is named as
                // written, without a dot or with spaces (`config = "a b"`);
                // an option (`--database-url: ...`) is not a file.
                let named = err.lines().any(|l| {
                    l.strip_prefix("error: ")
                        .and_then(|l| l.split_once(": "))
                        .is_some_and(|(file, _)| !file.is_empty() && !file.starts_with('-'))
                });
                if !named {
                    return Err(format!("{args:?}: exit 2 names no file:\n{err}"));
                }
            }
            other => return Err(format!("{args:?}: exit {other:?}:\n{err}")),
        }
        if err.contains("panicked") {
            return Err(format!("{args:?}: {err}"));
        }
        outputs.push(o);
    }
    Ok(outputs)
}

/// [`survives`], and every problem reported in `file`, the mutated file,
/// names its line (`sqitch.plan:12: ...`), but those of the whole file,
/// which begin with one of `whole_file` (and a file that cannot be read).
pub fn survives_naming_lines(
    dir: &Path,
    commands: &[&[&str]],
    file: &str,
    whole_file: &[&str],
) -> Result<(), String> {
    for o in survives(dir, commands)? {
        let out = String::from_utf8_lossy(&o.stdout) + String::from_utf8_lossy(&o.stderr);
        problems_name_a_line(file, &out, whole_file)?;
    }
    Ok(())
}

fn problems_name_a_line(file: &str, out: &str, whole_file: &[&str]) -> Result<(), String> {
    let bare = format!("{file}: ");
    let without_line = out.lines().find(|l| {
        l.split_once(&bare).is_some_and(|(_, problem)| {
            !problem.starts_with("cannot read")
                && !whole_file.iter().any(|w| problem.starts_with(w))
        })
    });
    match without_line {
        Some(l) => Err(format!("a problem in {file} without its line: {l}")),
        None => Ok(()),
    }
}

/// Every file under `dir` (fixtures) whose path ends with one of `ends`,
/// sorted, as bytes.
pub fn seed_files(dir: &Path, ends: &[&str]) -> Vec<Vec<u8>> {
    seed_paths(dir, ends).into_iter().map(|(_, b)| b).collect()
}

/// [`seed_files`], each with its path.
pub fn seed_paths(dir: &Path, ends: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let path = p.to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if ends.iter().any(|end| path.ends_with(end)) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn each_mutation_does_what_it_says() {
    let seed = b"ab cd\nef\n".to_vec();
    let m = |what: u8, at: usize, n: usize| mutate(seed.clone(), &[(at, what, n)], &[b"X"]);
    assert_eq!(m(0, 1, 0), b"aXb cd\nef\n");
    assert_eq!(m(1, 1, 1), b"acd\nef\n");
    assert_eq!(m(2, 7, 0), b"ab cd\nX");
    assert_eq!(m(3, 0, 0), b"ab cd\nab cd\nef\n");
    assert_eq!(m(4, 0, 1), b"cb cd\nef\n");
    assert_eq!(m(5, 3, 0), b"ab ");
    assert_eq!(m(6, 4, 0), b"ab \nef\n");
    assert_eq!(m(7, 0, 0), b"abab cd\nef\n");
    // A common piece after the target's.
    assert_eq!(m(0, 0, 1), b"\r\nab cd\nef\n");
}
