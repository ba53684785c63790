//! Input errors that name a file and line. Everything that stops a command
//! with exit 2 is an `anyhow::Error`; those built from [`Diag`]s print one
//! line per problem.

use std::fmt;

use serde::Serialize;

/// One problem in one file. `file` is shown as given (relative to the root
/// where possible), `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Diag {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

impl Diag {
    pub fn new(file: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Diag {
        Diag {
            file: file.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A file's bytes as text. The first byte that is not UTF-8 is an error
/// with its line and offset, worded as the Python reader words it.
pub(crate) fn utf8_text(bytes: Vec<u8>) -> Result<String, (usize, String)> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        (
            line_of(e.as_bytes(), at),
            format!("not valid UTF-8 (byte {at} of the file)"),
        )
    })
}

/// Unreadable or invalid input: exit 2, nothing written.
#[derive(Debug, thiserror::Error)]
pub(crate) struct InputErrors {
    pub diags: Vec<Diag>,
    /// The next command to type, when there is one.
    pub help: Option<String>,
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diags.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl InputErrors {
    pub fn one(diag: Diag) -> InputErrors {
        InputErrors {
            diags: vec![diag],
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> InputErrors {
        self.help = Some(help.into());
        self
    }
}

/// A change that was refused or not confirmed: exit 1, nothing written.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Refused {
    pub message: String,
    /// The next command to type, when there is one.
    pub help: Option<String>,
}

impl Refused {
    pub fn new(message: impl Into<String>) -> Refused {
        Refused {
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Refused {
        self.help = Some(help.into());
        self
    }
}

/// How a command that ran to the end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing wrong found, or the change was applied.
    Success,
    /// Problems found, or a change refused or not confirmed.
    Problems,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> std::process::ExitCode {
        match status {
            ExitStatus::Success => std::process::ExitCode::SUCCESS,
            ExitStatus::Problems => std::process::ExitCode::from(1),
        }
    }
}

/// The 1-based line of a byte offset. Like Python, a lone `\r` ends a line too.
pub(crate) fn line_of(src: &[u8], offset: usize) -> usize {
    let head = &src[..offset.min(src.len())];
    // Counted in a loop the compiler vectorises; lone `\r`s are rare.
    let newlines: usize = head.iter().map(|&b| usize::from(b == b'\n')).sum();
    let lone_cr = if head.contains(&b'\r') {
        head.iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\r' && src.get(i + 1) != Some(&b'\n'))
            .count()
    } else {
        0
    };
    1 + lone_cr + newlines
}
