//! Where a report goes: standard output, or, while `--output-file` has a
//! report written in its format, that file. Every report writes through
//! [`out`], so any of them can be sent to the file.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::cli::Format;
use crate::config::Config;
use crate::error::{Diag, InputErrors};

static FILE: Mutex<Option<BufWriter<tempfile::NamedTempFile>>> = Mutex::new(None);

type Held = MutexGuard<'static, Option<BufWriter<tempfile::NamedTempFile>>>;

/// The report's output: the file being written, else standard output.
pub(crate) enum Out {
    Stdout(io::StdoutLock<'static>),
    File(Held),
}

pub(crate) fn out() -> Out {
    let held = FILE.lock().unwrap_or_else(PoisonError::into_inner);
    if held.is_some() {
        Out::File(held)
    } else {
        drop(held);
        Out::Stdout(io::stdout().lock())
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::Stdout(s) => s.write(buf),
            Out::File(f) => f.as_mut().expect("held while set").write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::Stdout(s) => s.flush(),
            Out::File(f) => f.as_mut().expect("held while set").flush(),
        }
    }
}

/// What standard output shows when the chosen format goes to a file: the
/// text report, or, in a GitHub Actions job, its annotations (so that one
/// run gives both the annotations and, say, SARIF to upload).
pub(crate) fn stdout_format() -> Format {
    if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
        Format::Github
    } else {
        Format::Text
    }
}

/// Prints a finding command's report: with `file`, once in the chosen
/// format to the file (written whole, then moved into place) and once to
/// standard output as [`stdout_format`] says; else as usual.
pub(crate) fn report(
    config: &Config,
    file: Option<&Path>,
    print: impl Fn(&Config) -> io::Result<()>,
) -> anyhow::Result<()> {
    let Some(path) = file else {
        return Ok(print(config)?);
    };
    let failed = |e: io::Error| -> anyhow::Error {
        // Not the temp file's name: the path asked for is the one named.
        let e = e.to_string();
        let e = e.split(" at path ").next().unwrap_or(&e);
        InputErrors::one(Diag::new(
            path.display().to_string(),
            None,
            format!("cannot write the report: {e}"),
        ))
        .into()
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".migfix-report");
    // Made as the shell would make it (0666 less the umask), not 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let temp = builder.tempfile_in(dir).map_err(failed)?;
    *FILE.lock().unwrap_or_else(PoisonError::into_inner) = Some(BufWriter::new(temp));
    let mut to_file = config.clone();
    // Plain bytes in the file; the reading warnings are said once, below.
    to_file.output.color = false;
    to_file.output.quiet = true;
    let printed = print(&to_file);
    let held = FILE.lock().unwrap_or_else(PoisonError::into_inner).take();
    printed?;
    let temp = held
        .expect("set above")
        .into_inner()
        .map_err(|e| failed(e.into_error()))?;
    temp.persist(path).map_err(|e| failed(e.error))?;
    let mut on_stdout = config.clone();
    on_stdout.output.format = stdout_format();
    Ok(print(&on_stdout)?)
}
