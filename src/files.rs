//! Reading a file of the tree, the one way migfix does: revision files,
//! migrations, plans, scripts and configuration files all come through
//! [`read`].
//!
//! Only a regular file is read. Its type is checked after following any
//! symlink and before it is opened, so that a FIFO or a device (a committed
//! symlink to `/dev/zero`, say) is refused with what it is, never opened
//! for a read that would block or never end; the file opened is checked
//! again, in case it was swapped in between. The bytes are read into a
//! growing buffer until the end of the file, never sized from the length
//! the file system reports, and never past [`MAX_READ`].

use std::fmt;
use std::fs::{File, FileType, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// The most migfix reads of one file: 256 MiB. The largest real migration
/// its tests know of is camcops-server's 3.4 MiB data migration; no
/// revision, plan or configuration file comes near this, and a file that
/// grows past it while being read is refused rather than followed.
pub(crate) const MAX_READ: u64 = 256 << 20;

/// The first read's buffer: a typical migration fits in one read.
const FIRST_BUFFER: usize = 16 << 10;

/// Why a file was not read, besides the operating system's errors: its
/// text is what the user is told, after the file's name.
#[derive(Debug)]
enum Refused {
    /// Not a regular file: what it is.
    NotRegular(String),
    /// Over the cap: its size when known, else `None` (it grew).
    TooBig { size: Option<u64>, cap: u64 },
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::NotRegular(what) => write!(
                f,
                "{what}, not a regular file; migfix reads only regular files"
            ),
            Refused::TooBig { size, cap } => {
                let cap = if cap % (1 << 20) == 0 {
                    format!("{} MiB", cap >> 20)
                } else {
                    format!("{cap} bytes")
                };
                match size {
                    Some(size) => {
                        write!(f, "{}, over the {cap} migfix reads of one file", mib(*size))
                    }
                    None => write!(
                        f,
                        "over the {cap} migfix reads of one file (it grew while read)"
                    ),
                }
            }
        }
    }
}

impl std::error::Error for Refused {}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

/// The bytes of a regular file (a symlink is followed), up to [`MAX_READ`].
/// A FIFO, a device, a socket or a directory is an error saying what it
/// is, as is a file over the cap; other errors are the operating system's.
pub(crate) fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    read_capped(path.as_ref(), MAX_READ)
}

/// [`read`], as UTF-8 text (an error otherwise, as `fs::read_to_string`).
pub(crate) fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Whether an error from [`read`] is a refusal of migfix's (not a regular
/// file, over the cap) rather than the operating system's: callers that
/// skip a file they cannot read must still report these.
pub(crate) fn is_refusal(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Refused>())
}

fn refused(why: Refused) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why)
}

fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    // `metadata` follows symlinks: the type is the target's.
    let meta = std::fs::metadata(path)?;
    regular(path, &meta)?;
    if meta.len() > cap {
        return Err(refused(Refused::TooBig {
            size: Some(meta.len()),
            cap,
        }));
    }
    let file = open(path)?;
    regular(path, &file.metadata()?)?;
    read_to_end(file, cap)
}

/// Everything `from` gives up to `cap` bytes, into a buffer that grows as
/// bytes arrive: what the file system said of the length plays no part.
fn read_to_end(from: impl Read, cap: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(FIRST_BUFFER);
    // One byte more than the cap tells a file at the cap from one past it.
    from.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(refused(Refused::TooBig { size: None, cap }));
    }
    Ok(bytes)
}

/// Opens for reading without waiting: should a FIFO take the checked
/// file's place, opening it does not block until a writer comes.
#[cfg(unix)]
fn open(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> io::Result<File> {
    File::open(path)
}

fn regular(path: &Path, meta: &Metadata) -> io::Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    let what = kind(&meta.file_type());
    let linked = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    Err(refused(Refused::NotRegular(if linked {
        match std::fs::read_link(path) {
            Ok(target) => format!("a symlink to {}, {what}", target.display()),
            Err(_) => format!("a symlink to {what}"),
        }
    } else {
        what.to_string()
    })))
}

fn kind(t: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: io::Result<Vec<u8>>) -> String {
        let e = r.expect_err("refused");
        assert!(is_refusal(&e), "{e}");
        e.to_string()
    }

    #[test]
    fn a_regular_file_and_a_symlink_to_one_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.py");
        let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&file, &body).unwrap();
        assert_eq!(read(&file).unwrap(), body);
        let link = dir.path().join("b.py");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read(&link).unwrap(), body);
        std::fs::write(&file, b"").unwrap();
        assert_eq!(read(&link).unwrap(), b"");
        assert_eq!(read_to_string(&link).unwrap(), "");
    }

    #[test]
    fn a_device_a_fifo_and_a_directory_are_refused_saying_what_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("0002_x.py");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert_eq!(
            message(read(&link)),
            "a symlink to /dev/zero, a character device, not a regular file; migfix reads only regular files"
        );
        assert_eq!(
            message(read(Path::new("/dev/null"))),
            "a character device, not a regular file; migfix reads only regular files"
        );
        let fifo = dir.path().join("0003_y.py");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer: a blocking open would hang here.
        assert!(message(read(&fifo)).starts_with("a FIFO (named pipe), not a regular file"));
        assert!(message(read(dir.path())).starts_with("a directory, not a regular file"));
        let missing = read(dir.path().join("none")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert!(!is_refusal(&missing));
    }

    #[test]
    fn reads_stop_at_the_bytes_read_and_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.py");
        std::fs::write(&file, vec![b'#'; 1000]).unwrap();
        assert_eq!(read_capped(&file, 1000).unwrap().len(), 1000);
        assert_eq!(
            message(read_capped(&file, 999)),
            "0.0 MiB, over the 999 bytes migfix reads of one file"
        );
        // A file that says it is empty and is not: all of it is read.
        let status = read(Path::new("/proc/self/status")).unwrap();
        assert_eq!(std::fs::metadata("/proc/self/status").unwrap().len(), 0);
        assert!(String::from_utf8(status).unwrap().contains("VmHWM"));
        // A file that grows while read, without end: the read stops one
        // byte past the cap.
        assert_eq!(
            message(read_to_end(io::repeat(b'x'), 4096)),
            "over the 4096 bytes migfix reads of one file (it grew while read)"
        );
        assert_eq!(
            read_to_end(io::repeat(b'x').take(4096), 4096)
                .unwrap()
                .len(),
            4096
        );
    }

    #[test]
    fn a_sparse_file_over_the_cap_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("0002_x.py");
        File::create(&file)
            .unwrap()
            .set_len(MAX_READ + (1 << 20))
            .unwrap();
        assert_eq!(
            message(read(&file)),
            "257.0 MiB, over the 256 MiB migfix reads of one file"
        );
    }
}
