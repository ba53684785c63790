//! The lock that keeps one writer per tree: an OS advisory lock (`flock`)
//! on the folder that holds the journal, taken before the journal is made
//! and held until it is gone. The OS drops it when the writer dies, however
//! it dies, so a journal found while the lock is free is a killed write's,
//! whatever the writer's program was called; a process id proves nothing.

use std::path::Path;
use std::time::{Duration, Instant};

/// Held until dropped.
#[derive(Debug)]
pub(super) struct Lock {
    _file: std::fs::File,
}

/// How long a writer waits for the lock: a command that only reads holds
/// it for a moment while it looks for a journal, a writer for its whole
/// write.
pub(super) const PATIENCE: Duration = Duration::from_millis(300);

/// Takes the lock on `dir` (a folder), waiting up to `patience`; `Ok(None)`
/// when another process holds it.
pub(super) fn take(dir: &Path, patience: Duration) -> std::io::Result<Option<Lock>> {
    let file = std::fs::File::open(dir)?;
    let since = Instant::now();
    loop {
        if try_lock(&file)? {
            return Ok(Some(Lock { _file: file }));
        }
        if since.elapsed() >= patience {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(unix)]
fn try_lock(file: &std::fs::File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock takes an open descriptor, which `file` holds; the lock
    // goes with the descriptor when `file` is closed.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(err)
    }
}

#[cfg(not(unix))]
fn try_lock(_: &std::fs::File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_free_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = take(dir.path(), Duration::ZERO).unwrap();
        assert!(first.is_some());
        assert!(take(dir.path(), Duration::from_millis(20))
            .unwrap()
            .is_none());
        drop(first);
        assert!(take(dir.path(), Duration::ZERO).unwrap().is_some());
    }
}
