//! The write-ahead journal that makes an apply all or nothing even when the
//! process is killed: before the first file is replaced, the plan, the
//! original bytes of every file it touches and the git index are on disk,
//! synced. A later run finds the journal and puts the tree back (`undo`)
//! or completes the write (`undo --finish`).
//!
//! The journal is a folder: `<git dir>/migfix-journal`, or `.migfix` at the
//! root outside git. It appears whole (made under another name, then
//! renamed), so its existence is also the lock that keeps a second writer
//! out. It holds `pid` (the writer), `journal.json` (the plan, by path),
//! `orig.bin` (the original bytes, one after another), `index.orig` (the
//! git index as it was) and, once the index is being written, `staging`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::Plan;
use crate::config::rel;

/// The prefix and suffix of a new content's temp file beside its target.
pub(crate) const TEMP_PREFIX: &str = ".migfix-";
pub(crate) const TEMP_SUFFIX: &str = ".tmp";

/// Whether a file name is one of the applier's temp files.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// Where the journal of the tree at `root` lives.
pub(crate) fn location(root: &Path) -> PathBuf {
    match git2::Repository::discover(root) {
        Ok(repo) if !repo.is_bare() => repo.path().join("migfix-journal"),
        _ => root.join(".migfix"),
    }
}

/// One file of the plan, as the journal keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    /// Paths as hex of their bytes (a name need not be UTF-8), absolute.
    from: Option<String>,
    to: String,
    temp: String,
    /// Shown in messages.
    shown: String,
    /// The original bytes: where they are in `orig.bin`.
    before: (u64, u64),
    /// The original's permissions (unix mode), to restore them.
    mode: Option<u32>,
    /// SHA-1 of the new content, to know a finished file or temp file.
    after_sha1: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    version: u32,
    pid: u32,
    started: u64,
    command: String,
    /// The git index file and whether it existed.
    index: Option<(String, bool)>,
    /// Folders the apply makes, shallowest first.
    created: Vec<String>,
    changes: Vec<Entry>,
}

/// What is found at a tree's journal location.
#[derive(Debug)]
pub(crate) enum Found {
    None,
    /// A writer is at work now.
    Running {
        dir: PathBuf,
        pid: u32,
    },
    /// A write that was killed or crashed while applying.
    Interrupted {
        dir: PathBuf,
        command: String,
    },
}

/// Looks for a journal at `root`. The folder appears whole, so one with
/// no `journal.json` is what is left of a finished write's removal (or of
/// a writer killed while it made the folder): nothing to undo; it goes.
pub(crate) fn find(root: &Path) -> Found {
    let dir = location(root);
    remove_unfinished_folders(&dir);
    if !dir.join("journal.json").exists() {
        if dir.exists() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return Found::None;
    }
    let pid: u32 = std::fs::read_to_string(dir.join("pid"))
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0);
    if pid != std::process::id() && alive(pid) {
        return Found::Running { dir, pid };
    }
    match load(&dir) {
        Ok((record, _)) => Found::Interrupted {
            dir,
            command: record.command,
        },
        Err(_) => Found::Interrupted {
            dir,
            command: "an unreadable journal".into(),
        },
    }
}

/// Folders a writer was killed making (`<journal>.new-PID`), before the
/// journal was in place: nothing had been changed.
fn remove_unfinished_folders(dir: &Path) {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name().and_then(|n| n.to_str()))
    else {
        return;
    };
    let prefix = format!("{name}.new-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(pid) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let pid: u32 = pid.parse().unwrap_or(0);
        if pid != std::process::id() && !alive(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Whether `pid` is a live migfix process.
fn alive(pid: u32) -> bool {
    if pid == 0 {
        return false;
    }
    #[cfg(unix)]
    {
        let Ok(pid_t) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: kill with signal 0 only checks that the process exists.
        let exists = unsafe { libc::kill(pid_t, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !exists {
            return false;
        }
        // A reused pid: where /proc says, it must be migfix.
        match std::fs::read(format!("/proc/{pid}/cmdline")) {
            Ok(cmd) => String::from_utf8_lossy(&cmd).contains("migfix"),
            Err(_) => true,
        }
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// The error a writer gives when it finds a journal.
pub(crate) fn refusal(found: &Found) -> Option<anyhow::Error> {
    match found {
        Found::None => None,
        Found::Running { dir, pid } => Some(anyhow!(
            "another migfix (pid {pid}) is writing this tree; its lock is {}; nothing was written",
            dir.display()
        )),
        Found::Interrupted { dir, command, .. } => Some(anyhow!(
            "an earlier write ({command}) was interrupted before it finished, and left its journal at {}; nothing was written\n  \
             to put every file back as it was:  migfix undo\n  \
             to complete that write instead:   migfix undo --finish",
            dir.display()
        )),
    }
}

/// A journal being written by this process: the lock, held until `end`.
pub(super) struct Active {
    dir: PathBuf,
    record: Record,
    orig: Vec<u8>,
}

fn hex(p: &Path) -> String {
    use std::fmt::Write;
    let bytes = path_bytes(p);
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(s: &str) -> Result<PathBuf> {
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| anyhow!("the journal holds a malformed path"))?;
    Ok(bytes_path(bytes))
}

#[cfg(unix)]
fn path_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
fn bytes_path(b: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(b))
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
fn bytes_path(b: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&b).into_owned())
}

fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest;
    let digest = sha1::Sha1::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
fn mode_of(p: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn mode_of(_: &Path) -> Option<u32> {
    None
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// Makes everything written so far durable: the file system holding `dir`
/// is synced whole, which covers every file and folder the apply touched
/// (they are all in one repository).
pub(super) fn sync(dir: &Path) {
    #[cfg(target_os = "linux")]
    if let Ok(f) = std::fs::File::open(dir) {
        use std::os::unix::io::AsRawFd;
        // SAFETY: syncfs takes an open descriptor, which `f` holds.
        unsafe { libc::syncfs(f.as_raw_fd()) };
        return;
    }
    #[cfg(unix)]
    // SAFETY: sync has no preconditions.
    unsafe {
        libc::sync()
    };
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The temp file for change `i`: a name the readers never take for a
/// migration, and that the journal knows before it exists.
fn temp_for(to: &Path, i: usize) -> PathBuf {
    let dir = to.parent().unwrap_or(Path::new("."));
    dir.join(format!(
        "{TEMP_PREFIX}{}-{i}{TEMP_SUFFIX}",
        std::process::id()
    ))
}

/// Takes the lock and writes the journal of `plan`, synced. `created` are
/// the folders the apply will make; `index` the git index file, if any.
pub(super) fn begin(
    root: &Path,
    plan: &Plan,
    created: &[PathBuf],
    index: Option<&Path>,
) -> Result<Active> {
    let dir = location(root);
    let found = find(root);
    if let Some(err) = refusal(&found) {
        return Err(err);
    }
    let parent = dir.parent().unwrap_or(Path::new("."));
    let cannot = |what: &str, e: std::io::Error| {
        anyhow!(
            "cannot {what} {} (the write's journal): {e}; nothing was written",
            rel(root, &dir)
        )
    };
    // Made under another name and renamed, so that it appears whole: a
    // second writer sees either no journal or one with a pid.
    let fresh = parent.join(format!(
        "{}.new-{}",
        dir.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("journal"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&fresh);
    std::fs::create_dir(&fresh).map_err(|e| cannot("write", e))?;
    let write_all = || -> std::io::Result<Active> {
        std::fs::write(fresh.join("pid"), std::process::id().to_string())?;
        let mut orig = Vec::new();
        let mut changes = Vec::with_capacity(plan.changes.len());
        for (i, c) in plan.changes.iter().enumerate() {
            let at = orig.len() as u64;
            orig.extend_from_slice(&c.before);
            changes.push(Entry {
                from: c.from.as_deref().map(|f| hex(&absolute(f))),
                to: hex(&absolute(&c.to)),
                temp: hex(&absolute(&temp_for(&c.to, i))),
                shown: rel(root, &c.to),
                before: (at, c.before.len() as u64),
                mode: c.from.as_deref().and_then(mode_of),
                after_sha1: sha1_hex(&c.after),
            });
        }
        let index = match index {
            Some(p) => {
                let existed = match std::fs::read(p) {
                    Ok(bytes) => {
                        std::fs::write(fresh.join("index.orig"), bytes)?;
                        true
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                    Err(e) => return Err(e),
                };
                Some((hex(&absolute(p)), existed))
            }
            None => None,
        };
        let record = Record {
            version: 1,
            pid: std::process::id(),
            started: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            command: command_line(),
            index,
            created: created.iter().map(|d| hex(&absolute(d))).collect(),
            changes,
        };
        std::fs::write(fresh.join("orig.bin"), &orig)?;
        let json = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
        let mut f = std::fs::File::create(fresh.join("journal.json"))?;
        f.write_all(&json)?;
        f.sync_all()?;
        Ok(Active {
            dir: dir.clone(),
            record,
            orig,
        })
    };
    let active = match write_all() {
        Ok(a) => a,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&fresh);
            return Err(cannot("write", e));
        }
    };
    sync(&fresh);
    if std::fs::rename(&fresh, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&fresh);
        // Another writer's journal appeared since the look above.
        return Err(refusal(&find(root)).unwrap_or_else(|| {
            anyhow!(
                "cannot take the lock {}; nothing was written",
                dir.display()
            )
        }));
    }
    sync(parent);
    Ok(active)
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("migfix {}", args.join(" "))
}

impl Active {
    /// The temp file that change `i`'s new content is written to.
    pub(super) fn temp(&self, i: usize) -> PathBuf {
        unhex(&self.record.changes[i].temp).expect("written by this process")
    }

    /// Notes that the git index is about to be written, so that a lock
    /// file git leaves on a kill is known to be this write's.
    pub(super) fn staging(&self) {
        if std::fs::write(self.dir.join("staging"), b"").is_ok() {
            sync(&self.dir);
        }
    }

    /// Puts the tree back from the journal, then removes it. For a failure
    /// inside the apply; `Err` lists what could not be restored.
    pub(super) fn roll_back(self) -> Result<(), Vec<String>> {
        let failures = restore(&self.dir, &self.record, &self.orig);
        if failures.is_empty() {
            remove(&self.dir);
            Ok(())
        } else {
            Err(failures)
        }
    }

    /// The write is complete: everything is synced, then the journal goes.
    pub(super) fn end(self) {
        sync(&self.dir);
        remove(&self.dir);
    }
}

/// Removes a journal: `journal.json` first, the point after which there is
/// nothing to undo, then the rest.
fn remove(dir: &Path) {
    if std::fs::remove_file(dir.join("journal.json")).is_ok() {
        sync(dir);
    }
    let _ = std::fs::remove_dir_all(dir);
    if let Some(parent) = dir.parent() {
        sync(parent);
    }
}

fn load(dir: &Path) -> Result<(Record, Vec<u8>)> {
    let json = std::fs::read(dir.join("journal.json"))
        .with_context(|| format!("reading {}", dir.join("journal.json").display()))?;
    let record: Record = serde_json::from_slice(&json)
        .with_context(|| format!("{} is not a journal migfix can read", dir.display()))?;
    if record.version != 1 {
        bail!("{} is a journal of another migfix version", dir.display());
    }
    let orig = std::fs::read(dir.join("orig.bin"))
        .with_context(|| format!("reading {}", dir.join("orig.bin").display()))?;
    Ok((record, orig))
}

/// Writes `bytes` to `path` through a temp file and a rename, so that a
/// kill leaves either the old or the new content.
fn replace(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    let tmp = path.with_file_name(format!(
        "{TEMP_PREFIX}restore-{}{TEMP_SUFFIX}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    std::fs::write(&tmp, bytes)?;
    if let Some(mode) = mode {
        set_mode(&tmp, mode)?;
    }
    std::fs::rename(&tmp, path)
}

fn gone(p: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Every file back as the journal says it was, the index too. Idempotent:
/// a kill during it is mended by running it again.
fn restore(dir: &Path, record: &Record, orig: &[u8]) -> Vec<String> {
    let mut failures = Vec::new();
    for e in &record.changes {
        let step = || -> Result<()> {
            let to = unhex(&e.to)?;
            gone(&unhex(&e.temp)?)?;
            let (at, len) = (e.before.0 as usize, e.before.1 as usize);
            let before = orig
                .get(at..at + len)
                .ok_or_else(|| anyhow!("the journal's original bytes are cut short"))?;
            match e.from.as_deref().map(unhex).transpose()? {
                None => gone(&to)?,
                Some(from) => {
                    if crate::files::read(&from).ok().as_deref() != Some(before) {
                        replace(&from, before, e.mode)?;
                    }
                    if from != to {
                        gone(&to)?;
                    }
                }
            }
            Ok(())
        };
        if let Err(err) = step() {
            failures.push(format!("{}: {err:#}", e.shown));
        }
    }
    for d in record.created.iter().rev() {
        if let Ok(d) = unhex(d) {
            let _ = std::fs::remove_dir(d);
        }
    }
    if let Some((index, existed)) = &record.index {
        if let Err(err) = restore_index(dir, index, *existed) {
            failures.push(format!("the git index: {err:#}"));
        }
    }
    failures
}

fn restore_index(dir: &Path, index: &str, existed: bool) -> Result<()> {
    let index = unhex(index)?;
    // git's lock file, left when the kill came while the index was written.
    if dir.join("staging").exists() {
        gone(&index.with_extension("lock"))?;
    }
    if existed {
        let saved = std::fs::read(dir.join("index.orig"))?;
        if std::fs::read(&index).ok().as_deref() != Some(&saved[..]) {
            replace(&index, &saved, None)?;
        }
    } else {
        gone(&index)?;
    }
    Ok(())
}

/// What `undo` did.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Undone {
    pub journal: String,
    pub command: String,
    pub files: Vec<String>,
    pub finished: bool,
}

/// Puts the tree at `root` back as it was before the interrupted write.
pub(crate) fn undo(root: &Path) -> Result<Option<Undone>> {
    let (dir, record, orig) = match interrupted(root)? {
        Some(x) => x,
        None => return Ok(None),
    };
    let failures = restore(&dir, &record, &orig);
    if !failures.is_empty() {
        bail!(
            "could not put back {}; the journal is kept at {}, and `migfix undo` can be run again",
            failures.join(", "),
            dir.display()
        );
    }
    Ok(Some(close(&dir, record, false)))
}

/// Completes the interrupted write: every new content in place, the
/// renamed sources gone, the index staged. Refused, with nothing changed,
/// when a new content is neither in place nor whole in its temp file.
pub(crate) fn finish(root: &Path) -> Result<Option<Undone>> {
    let (dir, record, _) = match interrupted(root)? {
        Some(x) => x,
        None => return Ok(None),
    };
    let mut moves = Vec::new();
    for e in &record.changes {
        let to = unhex(&e.to)?;
        let temp = unhex(&e.temp)?;
        let done = crate::files::read(&to).is_ok_and(|b| sha1_hex(&b) == e.after_sha1);
        if done {
            continue;
        }
        if crate::files::read(&temp).is_ok_and(|b| sha1_hex(&b) == e.after_sha1) {
            moves.push((temp, to));
        } else {
            bail!(
                "the interrupted write cannot be completed: the new content of {} was not written whole before it stopped; nothing was changed\n  \
                 to put every file back as it was:  migfix undo",
                e.shown
            );
        }
    }
    for (temp, to) in moves {
        std::fs::rename(&temp, &to)
            .with_context(|| format!("moving {} into place", to.display()))?;
    }
    // The originals, so that staging knows which index entries were clean.
    let orig = std::fs::read(dir.join("orig.bin")).unwrap_or_default();
    let mut plan = Plan::default();
    for e in &record.changes {
        let from = e.from.as_deref().map(unhex).transpose()?;
        let to = unhex(&e.to)?;
        if let Some(from) = from.as_ref().filter(|f| **f != to) {
            gone(from)?;
        }
        let (at, len) = (e.before.0 as usize, e.before.1 as usize);
        plan.changes.push(super::Change {
            from,
            to,
            before: orig.get(at..at + len).unwrap_or_default().to_vec(),
            after: Vec::new(),
        });
    }
    if let Some((index, existed)) = &record.index {
        restore_index(&dir, index, *existed)?;
        let git_root = git2::Repository::discover(root)
            .ok()
            .and_then(|r| r.workdir().map(Path::to_path_buf));
        if let Some(git_root) = git_root {
            super::stage::stage_in_index(&plan, &git_root)?;
        }
    }
    super::stage::remove_emptied(&plan);
    Ok(Some(close(&dir, record, true)))
}

/// Everything the journal mended is made durable, then the journal goes.
fn close(dir: &Path, record: Record, finished: bool) -> Undone {
    sync(dir);
    remove(dir);
    Undone {
        journal: dir.display().to_string(),
        command: record.command,
        files: record.changes.iter().map(|e| e.shown.clone()).collect(),
        finished,
    }
}

/// The interrupted journal at `root`, if any; a running writer's is an
/// error.
fn interrupted(root: &Path) -> Result<Option<(PathBuf, Record, Vec<u8>)>> {
    match find(root) {
        Found::None => Ok(None),
        Found::Running { dir, pid } => bail!(
            "migfix (pid {pid}) is writing this tree now; its lock is {}; wait for it to finish",
            dir.display()
        ),
        Found::Interrupted { dir, .. } => {
            let (record, orig) = load(&dir)?;
            Ok(Some((dir, record, orig)))
        }
    }
}
