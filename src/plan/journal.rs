//! The write-ahead journal that makes an apply all or nothing even when the
//! process is killed: before the first file is replaced, the plan, the
//! original bytes of every file it touches and the git index are on disk,
//! synced. A later run finds the journal and puts the tree back (`undo`)
//! or completes the write (`undo --finish`).
//!
//! The journal is a folder: `<git dir>/migfix-journal`, or `.migfix` at the
//! root outside git. It appears whole (made under another name, then
//! renamed). The folder that holds it is locked (`lock`) for as long as a
//! writer or an undo works on it. It holds `pid` (the writer, for
//! messages), `journal.json` (the plan, by path), `orig.bin` (the original
//! bytes, one after another), `index.orig` (the git index as it was) and
//! marks: `staging` once the index is being written, `done` once the write
//! is complete and only tidying is left, `undoing` once an undo has begun.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::lock::{self, Lock};
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
    /// The index of each submodule that holds a file of the write, the
    /// same way (saved as `index-N.orig`).
    #[serde(default)]
    submodule_indexes: Vec<(String, bool)>,
    /// Folders the apply makes, shallowest first.
    created: Vec<String>,
    changes: Vec<Entry>,
}

/// What is found at a tree's journal location.
#[derive(Debug)]
pub(crate) enum Found {
    None,
    /// A writer is at work now: it holds the lock. Its pid, when its
    /// journal says.
    Running {
        dir: PathBuf,
        pid: Option<u32>,
    },
    /// A write that was killed or crashed while applying; `undoing` when
    /// an undo of it was begun, so that only undo can complete it.
    Interrupted {
        dir: PathBuf,
        command: String,
        undoing: bool,
    },
}

/// Looks for a journal at `root`.
pub(crate) fn find(root: &Path) -> Found {
    match look(root, std::time::Duration::ZERO) {
        Ok((found, _)) => found,
        Err(Busy { dir, pid }) => Found::Running { dir, pid },
    }
}

/// Another process holds the lock.
struct Busy {
    dir: PathBuf,
    pid: Option<u32>,
}

/// Takes the lock, waiting up to `patience`, and looks for a journal:
/// `Err` when another process holds the lock. Holding it, whatever is
/// found is a dead writer's: a journal folder with no
/// `journal.json` (a finished write's removal, or a writer killed while
/// making it) goes; one marked done is a completed write whose last
/// tidying is done here.
fn look(root: &Path, patience: std::time::Duration) -> Result<(Found, Option<Lock>), Busy> {
    let dir = location(root);
    let lock = match dir.parent().map(|p| lock::take(p, patience)) {
        Some(Ok(None)) => {
            let pid = writer_pid(&dir);
            return Err(Busy { dir, pid });
        }
        Some(Ok(Some(lock))) => Some(lock),
        // A folder that cannot be opened cannot be written either: the
        // write fails making its journal.
        _ => None,
    };
    remove_unfinished_folders(&dir);
    if dir.join(DONE).exists() {
        if let Some(plan) = load(&dir).ok().and_then(|(r, _)| record_plan(&r, &[]).ok()) {
            super::stage::remove_emptied(&plan);
        }
        remove(&dir);
    }
    if !dir.join("journal.json").exists() {
        if dir.exists() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return Ok((Found::None, lock));
    }
    let command = match load(&dir) {
        Ok((record, _)) => record.command,
        Err(_) => "an unreadable journal".into(),
    };
    let undoing = dir.join(UNDOING).exists();
    Ok((
        Found::Interrupted {
            dir,
            command,
            undoing,
        },
        lock,
    ))
}

/// The pid of the writer holding the lock: in its journal, or in the name
/// of the folder it is making.
fn writer_pid(dir: &Path) -> Option<u32> {
    if let Some(pid) = std::fs::read_to_string(dir.join("pid"))
        .ok()
        .and_then(|p| p.trim().parse().ok())
    {
        return Some(pid);
    }
    unfinished_folders(dir)
        .into_iter()
        .find_map(|(_, pid)| pid.parse().ok())
}

/// Folders a writer was killed making (`<journal>.new-PID`), before the
/// journal was in place: nothing had been changed. Only called with the
/// lock held, when no writer is at work.
fn remove_unfinished_folders(dir: &Path) {
    for (path, _) in unfinished_folders(dir) {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// `<journal>.new-PID` folders beside the journal, with their PID part.
fn unfinished_folders(dir: &Path) -> Vec<(PathBuf, String)> {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name().and_then(|n| n.to_str()))
    else {
        return Vec::new();
    };
    let prefix = format!("{name}.new-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.strip_prefix(&prefix)?.to_string();
            Some((e.path(), pid))
        })
        .collect()
}

/// "migfix (pid 42)", or without the pid when it is not known.
pub(crate) fn writer(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("migfix (pid {pid})"),
        None => "migfix".to_string(),
    }
}

/// The error a writer gives when it finds a journal.
pub(crate) fn refusal(found: &Found) -> Option<anyhow::Error> {
    match found {
        Found::None => None,
        Found::Running { dir, pid } => Some(anyhow!(
            "another {} is writing this tree; its lock is {}; nothing was written",
            writer(*pid),
            dir.display()
        )),
        Found::Interrupted {
            dir,
            command,
            undoing,
        } => Some(anyhow!(
            "an earlier write ({command}) was interrupted before it finished, and left its journal at {}; nothing was written\n  \
             to put every file back as it was:  migfix undo{}",
            dir.display(),
            if *undoing {
                " (an undo of it was begun and must be completed)"
            } else {
                "\n  to complete that write instead:   migfix undo --finish"
            }
        )),
    }
}

/// A journal being written by this process, and the lock, held until
/// `end`.
pub(super) struct Active {
    dir: PathBuf,
    record: Record,
    orig: Vec<u8>,
    _lock: Option<Lock>,
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
/// the folders the apply will make; `indexes` the git index files the
/// write stages in, the repository's own first, then its submodules'.
pub(super) fn begin(
    root: &Path,
    plan: &Plan,
    created: &[PathBuf],
    indexes: &[PathBuf],
) -> Result<Active> {
    let dir = location(root);
    let (found, lock) = look(root, lock::PATIENCE)
        .unwrap_or_else(|Busy { dir, pid }| (Found::Running { dir, pid }, None));
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
    // later run sees either no journal or all of it.
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
        let mut saved = Vec::with_capacity(indexes.len());
        for (n, p) in indexes.iter().enumerate() {
            let existed = match std::fs::read(p) {
                Ok(bytes) => {
                    std::fs::write(fresh.join(index_orig(n)), bytes)?;
                    true
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => return Err(e),
            };
            saved.push((hex(&absolute(p)), existed));
        }
        let mut saved = saved.into_iter();
        let index = saved.next();
        let submodule_indexes = saved.collect();
        let record = Record {
            version: 1,
            pid: std::process::id(),
            started: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            command: command_line(),
            index,
            submodule_indexes,
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
            _lock: lock,
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
    if let Err(e) = std::fs::rename(&fresh, &dir) {
        let _ = std::fs::remove_dir_all(&fresh);
        return Err(cannot("put in place", e));
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
        mark(&self.dir, "staging");
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

    /// The write is complete: everything is synced, the journal marked
    /// done, then the folders the renames emptied and the journal go.
    pub(super) fn end(self, plan: &Plan) {
        sync(&self.dir);
        committed(&self.dir, plan);
    }
}

/// Marks the journal done, the point after which there is nothing to undo,
/// then tidies: the folders the renames emptied go (as `git mv` removes
/// them), then the journal. A kill in between leaves a journal marked
/// done, and the next run's `look` tidies again.
fn committed(dir: &Path, plan: &Plan) {
    mark(dir, DONE);
    super::stage::remove_emptied(plan);
    remove(dir);
}

/// Marks a journal whose write completed: only tidying is left.
const DONE: &str = "done";
/// Marks a journal being undone: it can no longer be finished.
const UNDOING: &str = "undoing";

/// Removes a journal: `journal.json` first, then the rest.
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

/// Writes `bytes` to `path` through the temp file `tmp` and a rename, so
/// that a kill leaves either the old or the new content. The folder is
/// made again if it is gone.
fn replace(path: &Path, tmp: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let write = || -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        gone(tmp)?;
        std::fs::write(tmp, bytes)?;
        if let Some(mode) = mode {
            set_mode(tmp, mode)?;
        }
        std::fs::rename(tmp, path)
    };
    write().with_context(|| format!("cannot write back {}", path.display()))
}

/// The temp file an original is written back through: named after the
/// journal's writer, not the process that undoes, so that a run after a
/// kill knows it.
fn restore_temp(record: &Record, path: &Path, what: &str) -> PathBuf {
    path.with_file_name(format!(
        "{TEMP_PREFIX}restore-{}-{what}{TEMP_SUFFIX}",
        record.pid
    ))
}

/// Removes a file if it is there. A file that was never made is not
/// touched, so a read-only folder the write never changed stays fine.
fn gone(p: &Path) -> std::io::Result<()> {
    if let Err(e) = p.symlink_metadata() {
        if e.kind() == std::io::ErrorKind::NotFound {
            return Ok(());
        }
    }
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Every file back as the journal says it was, the index too. Idempotent:
/// a kill during it is mended by running it again.
fn restore(dir: &Path, record: &Record, orig: &[u8]) -> Vec<String> {
    let mut failures = Vec::new();
    for (i, e) in record.changes.iter().enumerate() {
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
                    let tmp = restore_temp(record, &from, &i.to_string());
                    if crate::files::read(&from).ok().as_deref() != Some(before) {
                        replace(&from, &tmp, before, e.mode)?;
                    }
                    gone(&tmp)?;
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
    if let Err(err) = restore_index(dir, record) {
        failures.push(format!("the git index: {err:#}"));
    }
    failures
}

/// The saved copy of the `n`th index (the repository's own is 0).
fn index_orig(n: usize) -> String {
    match n {
        0 => "index.orig".to_string(),
        n => format!("index-{n}.orig"),
    }
}

/// Every git index file as it was before the write, if the write had any.
fn restore_index(dir: &Path, record: &Record) -> Result<()> {
    let all = record.index.iter().chain(&record.submodule_indexes);
    for (n, (index, existed)) in all.enumerate() {
        let index = unhex(index)?;
        // git's lock file, left when the kill came while the index was written.
        if dir.join("staging").exists() {
            gone(&index.with_extension("lock"))?;
        }
        let what = match n {
            0 => "index".to_string(),
            n => format!("index-{n}"),
        };
        let tmp = restore_temp(record, &index, &what);
        if *existed {
            let saved = std::fs::read(dir.join(index_orig(n)))?;
            if std::fs::read(&index).ok().as_deref() != Some(&saved[..]) {
                replace(&index, &tmp, &saved, None)?;
            }
        } else {
            gone(&index)?;
        }
        gone(&tmp)?;
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
/// Marked first, so that a kill during it is not taken for a write that
/// can still be finished.
pub(crate) fn undo(root: &Path) -> Result<Option<Undone>> {
    // `left` holds the lock to the end.
    let Some(left) = interrupted(root)? else {
        return Ok(None);
    };
    let (dir, record) = (&left.dir, &left.record);
    mark(dir, UNDOING);
    let failures = restore(dir, record, &left.orig);
    if !failures.is_empty() {
        bail!(
            "could not put back {}; the journal is kept at {}, and `migfix undo` can be run again",
            failures.join(", "),
            dir.display()
        );
    }
    sync(dir);
    remove(dir);
    Ok(Some(undone(dir, record, false)))
}

/// Completes the interrupted write: every new content in place, the
/// renamed sources gone, the index staged. Refused, with nothing changed,
/// when a new content is neither in place nor whole in its temp file, or
/// when an undo of it was begun.
pub(crate) fn finish(root: &Path) -> Result<Option<Undone>> {
    let Some(left) = interrupted(root)? else {
        return Ok(None);
    };
    let (dir, record) = (&left.dir, &left.record);
    if dir.join(UNDOING).exists() {
        bail!(
            "the interrupted write cannot be completed: an undo of it was begun and was interrupted in turn; nothing was changed\n  \
             to finish putting every file back:  migfix undo"
        );
    }
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
    let plan = record_plan(record, &left.orig)?;
    for c in plan.changes.iter().filter(|c| c.is_rename()) {
        if let Some(from) = &c.from {
            gone(from)?;
        }
    }
    if record.index.is_some() {
        // So that a lock file git leaves on a kill here is known as ours.
        mark(dir, "staging");
        restore_index(dir, record)?;
        let git_root = git2::Repository::discover(root)
            .ok()
            .and_then(|r| r.workdir().map(Path::to_path_buf));
        if let Some(git_root) = git_root {
            super::stage::stage_in_index(&plan, &git_root)?;
        }
    }
    sync(dir);
    committed(dir, &plan);
    Ok(Some(undone(dir, record, true)))
}

/// The journal's plan as paths and original bytes (the new contents are
/// not kept): what staging and tidying need.
fn record_plan(record: &Record, orig: &[u8]) -> Result<Plan> {
    let mut plan = Plan::default();
    for e in &record.changes {
        let (at, len) = (e.before.0 as usize, e.before.1 as usize);
        plan.changes.push(super::Change {
            from: e.from.as_deref().map(unhex).transpose()?,
            to: unhex(&e.to)?,
            // The originals, so that staging knows which index entries
            // were clean.
            before: orig.get(at..at + len).unwrap_or_default().to_vec(),
            after: Vec::new(),
        });
    }
    Ok(plan)
}

/// Leaves a mark in the journal, synced.
fn mark(dir: &Path, name: &str) {
    if std::fs::write(dir.join(name), b"").is_ok() {
        sync(dir);
    }
}

fn undone(dir: &Path, record: &Record, finished: bool) -> Undone {
    Undone {
        journal: dir.display().to_string(),
        command: record.command.clone(),
        files: record.changes.iter().map(|e| e.shown.clone()).collect(),
        finished,
    }
}

/// An interrupted journal, read, with the lock held.
struct Left {
    dir: PathBuf,
    record: Record,
    orig: Vec<u8>,
    _lock: Option<Lock>,
}

/// The interrupted journal at `root`, if any; a running writer's is an
/// error.
fn interrupted(root: &Path) -> Result<Option<Left>> {
    match look(root, lock::PATIENCE) {
        Ok((Found::Interrupted { dir, .. }, lock)) => {
            let (record, orig) = load(&dir)?;
            // Whoever else looks now is told who holds the lock.
            let _ = std::fs::write(dir.join("pid"), std::process::id().to_string());
            Ok(Some(Left {
                dir,
                record,
                orig,
                _lock: lock,
            }))
        }
        Ok(_) => Ok(None),
        Err(Busy { dir, pid }) => bail!(
            "{} is writing this tree now; its lock is {}; wait for it to finish",
            writer(pid),
            dir.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::Change;

    /// Every file and folder below `dir`, files with their bytes.
    type Snapshot = BTreeMap<PathBuf, Option<Vec<u8>>>;

    fn snapshot(dir: &Path) -> Snapshot {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p.clone());
                    out.insert(p, None);
                } else {
                    out.insert(p.clone(), Some(std::fs::read(&p).unwrap()));
                }
            }
        }
        out
    }

    /// A nested sqitch change's three scripts, renamed into new folders
    /// (`reporter` becomes `reporting`), and the plan edited.
    fn nested_rename(root: &Path) -> Plan {
        let mut plan = Plan::default();
        for d in ["deploy", "revert", "verify"] {
            let from = root.join(d).join("121-roles/reporter/grants.sql");
            std::fs::create_dir_all(from.parent().unwrap()).unwrap();
            std::fs::write(&from, format!("-- {d} grants\n")).unwrap();
            plan.changes.push(Change {
                from: Some(from),
                to: root.join(d).join("121-roles/reporting/grants.sql"),
                before: format!("-- {d} grants\n").into_bytes(),
                after: format!("-- {d} grants\n").into_bytes(),
            });
        }
        std::fs::write(root.join("sqitch.plan"), "121-roles/reporter/grants\n").unwrap();
        plan.changes.push(Change {
            from: Some(root.join("sqitch.plan")),
            to: root.join("sqitch.plan"),
            before: b"121-roles/reporter/grants\n".to_vec(),
            after: b"121-roles/reporting/grants\n".to_vec(),
        });
        plan
    }

    /// A tree where the nested rename was applied up to the last step,
    /// the journal left in place, as a kill there leaves it; the plan, and
    /// the tree before.
    fn killed_after_the_moves() -> (tempfile::TempDir, Plan, Snapshot) {
        let dir = tempfile::tempdir().unwrap();
        let plan = nested_rename(dir.path());
        let before = snapshot(dir.path());
        applied_but_journal_left(dir.path(), &plan);
        (dir, plan, before)
    }

    fn applied_but_journal_left(root: &Path, plan: &Plan) {
        let created: Vec<PathBuf> = ["deploy", "revert", "verify"]
            .iter()
            .map(|d| root.join(d).join("121-roles/reporting"))
            .collect();
        let active = begin(root, plan, &created, &[]).unwrap();
        for d in &created {
            std::fs::create_dir(d).unwrap();
        }
        for (i, c) in plan.changes.iter().enumerate() {
            std::fs::write(active.temp(i), &c.after).unwrap();
            std::fs::rename(active.temp(i), &c.to).unwrap();
            if c.is_rename() {
                std::fs::remove_file(c.from.as_ref().unwrap()).unwrap();
            }
        }
        // Dropped without `end`: the lock goes with it, the journal stays.
        drop(active);
    }

    /// Each index the write staged in (a submodule's too) is put back.
    #[test]
    fn an_undo_puts_back_every_index_it_saved() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let plan = nested_rename(root);
        let indexes = [
            root.join("top-index"),
            root.join("sub-index"),
            root.join("new-index"),
        ];
        std::fs::write(&indexes[0], b"top before").unwrap();
        std::fs::write(&indexes[1], b"sub before").unwrap();
        let active = begin(root, &plan, &[], &indexes).unwrap();
        mark(&active.dir, "staging");
        std::fs::write(&indexes[0], b"top staged").unwrap();
        std::fs::write(&indexes[1], b"sub staged").unwrap();
        std::fs::write(&indexes[2], b"made by the write").unwrap();
        std::fs::write(indexes[1].with_extension("lock"), b"").unwrap();
        drop(active);
        undo(root).unwrap().expect("a journal to undo");
        assert_eq!(std::fs::read(&indexes[0]).unwrap(), b"top before");
        assert_eq!(std::fs::read(&indexes[1]).unwrap(), b"sub before");
        assert!(!indexes[2].exists(), "an index the write made goes");
        assert!(!indexes[1].with_extension("lock").exists());
    }

    #[test]
    fn an_undo_writes_back_into_the_folders_the_renames_emptied() {
        let (dir, plan, before) = killed_after_the_moves();
        let root = dir.path();
        // As an earlier applier did before its journal was gone.
        super::super::stage::remove_emptied(&plan);
        assert!(!root.join("deploy/121-roles/reporter").exists());

        let undone = undo(root).unwrap().expect("a journal to undo");
        assert!(!undone.finished);
        assert_eq!(snapshot(root), before);
        assert!(!location(root).exists());
    }

    #[test]
    fn the_emptied_folders_go_only_after_the_journal_is_marked_done() {
        let (dir, _, _) = killed_after_the_moves();
        let root = dir.path();
        // Killed before the mark: the emptied folders are still there,
        // and the write is undone.
        assert!(root.join("deploy/121-roles/reporter").is_dir());
        assert!(matches!(find(root), Found::Interrupted { .. }));

        // Killed after the mark: the write is complete, and the next look
        // tidies it as the applier would have.
        mark(&location(root), DONE);
        assert!(matches!(find(root), Found::None));
        assert!(!location(root).exists());
        for d in ["deploy", "revert", "verify"] {
            assert!(!root.join(d).join("121-roles/reporter").exists(), "{d}");
            assert!(root
                .join(d)
                .join("121-roles/reporting/grants.sql")
                .is_file());
        }
    }

    #[test]
    fn the_next_undo_removes_what_a_killed_undo_was_writing() {
        let (dir, _, before) = killed_after_the_moves();
        let root = dir.path();
        // An undo killed while it wrote the plan back: its temp file, half
        // written, beside the plan.
        let (record, _) = load(&location(root)).unwrap();
        let plan_file = root.join("sqitch.plan");
        let half = restore_temp(&record, &plan_file, "3");
        std::fs::write(&half, b"121-roles/rep").unwrap();
        mark(&location(root), UNDOING);

        let err = finish(root).unwrap_err();
        assert!(
            format!("{err:#}").contains("an undo of it was begun"),
            "{err:#}"
        );
        let refused = format!("{:#}", refusal(&find(root)).unwrap());
        assert!(!refused.contains("--finish"), "{refused}");
        undo(root).unwrap().expect("a journal to undo");
        assert_eq!(snapshot(root), before, "no temp file is left");
    }

    #[test]
    fn a_writer_holding_the_lock_is_seen_whatever_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let plan = nested_rename(root);
        let active = begin(root, &plan, &[], &[]).unwrap();
        // Another open of the folder, as another process would make.
        assert!(matches!(
            find(root),
            Found::Running { pid: Some(pid), .. } if pid == std::process::id()
        ));
        let err = begin(root, &plan, &[], &[]).err().unwrap();
        assert!(
            format!("{err:#}").contains("is writing this tree"),
            "{err:#}"
        );
        assert!(undo(root).is_err(), "no undo under a live writer");
        drop(active);
        // Its lock gone, the journal is a dead writer's.
        assert!(matches!(find(root), Found::Interrupted { .. }));
    }
}
