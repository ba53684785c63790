//! Classifying failures in a CI or deploy log: plain output, GitHub
//! Actions output (timestamp prefixes, `##[group]`, `##[error]`), ANSI
//! colour; psycopg2, psycopg 3 and asyncpg errors, bare or wrapped by
//! SQLAlchemy; Alembic's own messages; the runbook's wordings.
//!
//! The log is cut into episodes: everything between two points where a
//! new failure can start (a CI step, an Alembic run, a migration, a Python
//! traceback that is not chained to the one before). Every signal of a
//! class in one episode is one failure; an episode with error lines but no
//! signal is one unclassified failure, so nothing that failed is dropped.

use std::sync::OnceLock;

use regex::Regex;

use crate::sql::IndexPart;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Upgrade,
    Downgrade,
}

/// The migration that was running: from Alembic's `Running upgrade X -> Y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Running {
    pub direction: Direction,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub line: usize,
}

impl Running {
    /// The revision whose code ran: the target of an upgrade, the source
    /// of a downgrade.
    pub fn revision(&self) -> Option<&str> {
        let ids = match self.direction {
            Direction::Upgrade => &self.to,
            Direction::Downgrade => &self.from,
        };
        match ids.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// A traceback frame: `File "...", line N, in upgrade`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub path: String,
    pub line: usize,
    pub function: String,
}

/// Why an unclassified failure failed, when that much is clear; picks the
/// runbook's branch of the decision tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// The database could not be reached.
    Connection,
    /// An error from Postgres or its driver.
    Database,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogFinding {
    pub class: Option<char>,
    pub subject: Option<String>,
    /// Every line that shows it, 1-based, sorted.
    pub lines: Vec<usize>,
    /// The error line, as printed (after removing colour and CI prefixes).
    pub error: String,
    pub statement: Option<String>,
    pub step: Option<String>,
    pub running: Option<Running>,
    /// Frames of the episode's tracebacks, innermost last.
    pub frames: Vec<Frame>,
    /// Class A: the quoted key in the error (`'kris@moosequest.net'`).
    pub key: Option<String>,
    /// Class C: heads named in the log.
    pub heads: Vec<String>,
    /// Class C: a revision id that two files declare.
    pub duplicate: bool,
    /// Class D: predicate or expression.
    pub part: Option<IndexPart>,
    /// Class E: the revision whose pointer names the missing one.
    pub referenced_from: Option<String>,
    pub hint: Hint,
}

struct Rx {
    ansi: Regex,
    timestamp: Regex,
    gh_command: Regex,
    gh_workflow_command: Regex,
    running: Regex,
    frame: Regex,
    head_line: Regex,
    error_line: Regex,
    exception: Regex,
    weak_error: Regex,
    /// An error that does not start its line (wrapped, or after a prefix
    /// that is not removed).
    error_inside: Regex,
    /// Prefixes of other tools' output: docker compose's `web-1  | `,
    /// BuildKit's `#12 3.456 `, `kubectl logs --prefix`'s `[pod/x/y] `.
    tool_prefix: Regex,
    key: Regex,
    rules: Vec<(char, Regex)>,
    key_error: Regex,
    connection: Regex,
    database: Regex,
}

fn rx() -> &'static Rx {
    static RX: OnceLock<Rx> = OnceLock::new();
    RX.get_or_init(|| {
        let r = |s: &str| Regex::new(s).expect("a valid regex");
        Rx {
            // CSI sequences (colours, cursor), OSC sequences (titles, links), two-byte escapes
            ansi: r(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?"),
            timestamp: r(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z ?"),
            gh_command: r(r"^##\[(group|endgroup|error|warning|notice|debug|command|section)\](.*)$"),
            gh_workflow_command: r(r"^::(error|warning|notice|group|endgroup)(?: [^:]*)?::(.*)$"),
            running: r(r"\[alembic\.runtime\.migration\] Running (upgrade|downgrade) (.*?) -> ([^,]*?)(?:, .*)?$"),
            frame: r(r#"^\s+File "(.+)", line (\d+), in (.+)$"#),
            head_line: r(r"^([0-9A-Za-z_][\w.-]{0,63})(?: \([^)]*\))* \(head\)(?: \([^)]*\))*(?:, .*)?$"),
            error_line: r(concat!(
                r"^(?:",
                r"(?:psycopg2?|asyncpg|sqlalchemy|alembic)(?:\.\w+)+:|",
                r"(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Failure|Exit|Interrupt)\b:?|",
                r"FAILED:|ERROR(?::|\s+\[)|FATAL:|PANIC:|fatal:|psql(?::[^:]*)*: error:",
                r")"
            )),
            exception: r(r"^[A-Za-z_][\w.]*(?::|$)"),
            weak_error: r(r"^(?:Error: |Process completed with exit code [1-9]|(?:Deploy|Revert|Verify) failed$)|\bexited with code [1-9]\d*$"),
            error_inside: r(concat!(
                r"\b(?:psycopg2?|asyncpg|sqlalchemy|alembic|django|pymysql|MySQLdb)(?:\.\w+)+:\s|",
                r"\b[A-Z]\w*(?:Error|Exception|DoesNotExist)\b:\s|",
                r"^Error running migrations:|^ERROR \d{4} \(\w{5}\)|\bSQLSTATE\[\w{5}\]|",
                r"\((?:psycopg2?|asyncpg|pymysql|MySQLdb)(?:\.\w+)+\) |",
                r"\bpsql:[^:]*:\d+: ERROR:|",
                // The kernel's OOM killer, as the shell reports it.
                r"^Killed$|\bKilled\s{2,}\S"
            )),
            tool_prefix: r(r"^(?:[A-Za-z0-9][\w.-]*\s+\| ?|#\d+ \d+\.\d+ |\[pod/[^\]]+\] )"),
            key: r(r#"'([^']+)'|"([^"]+)""#),
            rules: vec![
                ('A', r(r#"not found in (?:the )?[`"']?([A-Za-z_][\w.]*)[`"']? table"#)),
                ('C', r(r"Multiple head(?:s| revisions) (?:are|is) present")),
                ('C', r(r"(?i)\bhead count:? *(\d+)")),
                ('C', r(r"\bhas (\d+) heads\b")),
                ('C', r(r"Revision (\S+) is present more than once")),
                ('C', r(r"Requested revision (\S+) overlaps with other requested revisions")),
                // Django's migrate and makemigrations.
                // Every version's wording: `; multiple leaf nodes in the
                // migration graph: (…)` and the older `(0015_merge, … in app)`.
                ('C', r(r"Conflicting migrations detected\b")),
                ('D', r(r"(?i)cannot use a non-immutable function in index (predicate|expression)")),
                ('E', r(r"Can't locate revision identified by '([^']+)'")),
                ('E', r(r"Can't locate revision\b(?: identified by '|$| \.\.\.)")),
                ('E', r(r"Revision (\S+) referenced from (.+?) is not present")),
                ('E', r(r"No such revision or branch '([^']+)'")),
                // sqitch: a deployed change that the plan no longer has.
                ('E', r(r"Cannot find (?:change )?([0-9a-f]{40}|\S+) (?:\(([^)]*)\) )?in (?:the plan|\S*sqitch\.plan|/)")),
                // Django's NodeNotFoundError: the referencing migration, then the missing node.
                ('E', r(r"Migration (\S+) dependencies reference nonexistent parent node \('([^']+)', '([^']+)'\)")),
            ],
            key_error: r(r"^KeyError: '([^']+)'"),
            connection: r(
                r"(?i)could not connect|connection refused|could not translate host name|password authentication failed|the database system is (?:starting up|shutting down)|Connection reset|server closed the connection|timeout expired|no pg_hba\.conf entry",
            ),
            database: r(r"(?:psycopg2?|asyncpg)\.|\bERROR:|sqlalchemy\.exc\.(?:ProgrammingError|IntegrityError|DataError|InternalError|NotSupportedError|DBAPIError)"),
        }
    })
}

/// A signal: one line that shows a class.
#[derive(Debug, Clone)]
struct Signal {
    class: char,
    subject: Option<String>,
    line: usize,
    text: String,
    key: Option<String>,
    part: Option<IndexPart>,
    referenced_from: Option<String>,
    duplicate: bool,
}

#[derive(Debug, Default)]
struct Episode {
    signals: Vec<Signal>,
    /// (line, text, strong)
    errors: Vec<(usize, String, bool)>,
    frames: Vec<Frame>,
    statement: Option<String>,
    running: Option<Running>,
    step: Option<String>,
}

#[derive(Default)]
struct State {
    step: Option<String>,
    running: Option<Running>,
    /// Inside a traceback, before its exception line.
    traceback: bool,
    /// The last line closed a traceback's chain (`The above exception ...`).
    chained: bool,
    /// `[SQL: ...` still open.
    sql: Option<String>,
    /// `X (head)` lines of this step, with their line numbers.
    heads: Vec<(String, usize)>,
    episode: Episode,
    out: Vec<LogFinding>,
}

/// One log line after removing colour, a BOM, GitHub's timestamp and its
/// workflow commands. `group` is a `##[group]` title; `annotation` marks
/// `##[error]` lines.
struct Clean {
    text: String,
    group: Option<String>,
    annotation: bool,
}

fn clean(raw: &str) -> Clean {
    let rx = rx();
    // A carriage return redraws the line: what is left is what showed last.
    let raw = raw.trim_end_matches('\r');
    let raw = raw.rsplit('\r').next().unwrap_or(raw);
    let mut text = rx.ansi.replace_all(raw, "").into_owned();
    text = text.trim_start_matches('\u{feff}').to_string();
    if let Some(m) = rx.timestamp.find(&text) {
        text = text[m.end()..].to_string();
    }
    // colour codes may also follow the timestamp
    text = rx.ansi.replace_all(&text, "").into_owned();
    if let Some(m) = rx.tool_prefix.find(&text) {
        text = text[m.end()..].to_string();
    }
    let mut group = None;
    let mut annotation = false;
    let command = rx
        .gh_command
        .captures(&text)
        .or_else(|| rx.gh_workflow_command.captures(&text));
    if let Some(c) = command {
        let body = c.get(2).map_or("", |m| m.as_str()).to_string();
        match c.get(1).map_or("", |m| m.as_str()) {
            "group" => {
                let title = body.trim();
                group = Some(title.strip_prefix("Run ").unwrap_or(title).to_string());
                text = String::new();
            }
            "endgroup" => text = String::new(),
            "error" => {
                annotation = true;
                text = body;
            }
            _ => text = body,
        }
    }
    Clean {
        text,
        group,
        annotation,
    }
}

/// Classifies every failure in `log`, in the order they appear.
/// Credentials the log shows (`postgresql://ci:PASSWORD@`, `password=...`)
/// are masked first: findings quote its error lines and statements.
pub(crate) fn classify(log: &str) -> Vec<LogFinding> {
    let mut c = Classifier::default();
    for raw in log.split('\n') {
        c.line(raw);
    }
    c.finish()
}

/// [`classify`] a line at a time, so that a log of any length is read in
/// the memory of its longest line.
#[derive(Default)]
pub(crate) struct Classifier {
    st: State,
    lines: usize,
}

impl Classifier {
    /// The next line, without its `\n`.
    pub fn line(&mut self, raw: &str) {
        self.lines += 1;
        // The shapes masked never span lines.
        let raw = crate::secrets::mask_shapes(raw);
        let line = clean(&raw);
        let st = &mut self.st;
        if let Some(title) = line.group {
            st.close();
            st.step = Some(title);
            st.running = None;
            st.heads.clear();
            return;
        }
        st.line(self.lines, &line.text, line.annotation);
    }

    pub fn finish(mut self) -> Vec<LogFinding> {
        self.st.close();
        self.st.out
    }
}

impl State {
    fn line(&mut self, n: usize, text: &str, annotation: bool) {
        let rx = rx();
        let trimmed = text.trim_end();
        if let Some(sql) = &mut self.sql {
            // `[SQL: ...]` spans lines until one ends with `]`.
            if let Some(body) = trimmed.strip_suffix(']') {
                sql.push('\n');
                sql.push_str(body);
                let done = self.sql.take().unwrap_or_default();
                self.episode
                    .statement
                    .get_or_insert(done.trim().to_string());
            } else {
                sql.push('\n');
                sql.push_str(trimmed);
            }
            return;
        }
        if trimmed.is_empty() {
            return;
        }
        // A shell's trace (`+ cmd`, `set -x`) or prompt starts another command.
        if trimmed.starts_with("+ ") || trimmed.starts_with("$ ") {
            self.close();
            self.running = None;
            // sqitch's progress lines start so too, and may end in psql's error.
            if !rx.error_inside.is_match(trimmed) && !super::signs::severity(trimmed) {
                return;
            }
        }
        if trimmed.contains("[alembic.runtime.migration] Context impl") {
            self.close();
            self.running = None;
            return;
        }
        if let Some(c) = rx.running.captures(trimmed) {
            self.close();
            let ids = |s: &str| {
                s.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            self.running = Some(Running {
                direction: if &c[1] == "upgrade" {
                    Direction::Upgrade
                } else {
                    Direction::Downgrade
                },
                from: ids(&c[2]),
                to: ids(&c[3]),
                line: n,
            });
            return;
        }
        if trimmed.starts_with("Traceback (most recent call last)") {
            if !self.chained {
                self.close();
            }
            self.traceback = true;
            self.chained = false;
            return;
        }
        if trimmed.starts_with("The above exception was the direct cause")
            || trimmed.starts_with("During handling of the above exception")
        {
            self.chained = true;
            return;
        }
        self.chained = false;
        if self.traceback {
            if let Some(c) = rx.frame.captures(trimmed) {
                self.episode.frames.push(Frame {
                    path: c[1].to_string(),
                    line: c[2].parse().unwrap_or(0),
                    function: c[3].to_string(),
                });
                return;
            }
            if text.starts_with([' ', '\t']) {
                // source lines and carets of a frame: code, not messages
                return;
            }
            self.traceback = false;
            if rx.exception.is_match(trimmed) {
                self.error(n, trimmed, true);
            }
        } else if rx.error_line.is_match(trimmed)
            || rx.error_inside.is_match(trimmed)
            || super::signs::severity(trimmed)
        {
            self.error(n, trimmed, true);
        } else if annotation || rx.weak_error.is_match(trimmed) {
            self.error(n, trimmed, false);
        }
        if let Some(rest) = trimmed.strip_prefix("[SQL: ") {
            match rest.strip_suffix(']') {
                Some(body) => {
                    self.episode
                        .statement
                        .get_or_insert(body.trim().to_string());
                }
                None => self.sql = Some(rest.to_string()),
            }
            return;
        }
        for prefix in ["STATEMENT:", "LINE 1:"] {
            if let Some(rest) = trimmed.strip_prefix(prefix) {
                self.episode
                    .statement
                    .get_or_insert(rest.trim().to_string());
            }
        }
        if let Some(c) = rx.head_line.captures(trimmed) {
            let id = c[1].to_string();
            if !self.heads.iter().any(|(h, _)| *h == id) {
                self.heads.push((id, n));
            }
            // `alembic heads` listing a second head is the failure itself.
            if self.heads.len() == 2 {
                let first_line = self.heads[0].1;
                self.episode
                    .signals
                    .push(signal('C', None, first_line, trimmed));
            }
            if self.heads.len() >= 2 {
                self.episode.signals.push(signal('C', None, n, trimmed));
            }
        }
        self.signals(n, trimmed);
    }

    fn error(&mut self, n: usize, text: &str, strong: bool) {
        if self.episode.errors.is_empty() && self.episode.signals.is_empty() {
            self.episode.running = self.running.clone();
            self.episode.step = self.step.clone();
        }
        self.episode.errors.push((n, text.to_string(), strong));
    }

    fn signals(&mut self, n: usize, text: &str) {
        let rx = rx();
        for (class, re) in &rx.rules {
            let Some(c) = re.captures(text) else { continue };
            let first = c.get(1).map(|m| m.as_str().to_string());
            let mut s = signal(*class, None, n, text);
            match class {
                'A' => {
                    s.subject = first;
                    let before = c.get(0).map_or(text, |m| &text[..m.start()]);
                    s.key = rx
                        .key
                        .captures_iter(before)
                        .last()
                        .and_then(|k| k.get(1).or(k.get(2)))
                        .map(|m| m.as_str().to_string());
                }
                'C' => match first.as_deref().map(str::parse::<usize>) {
                    Some(Ok(count)) if count < 2 => continue,
                    Some(Ok(_)) | None => {}
                    Some(Err(_)) => {
                        s.subject = first;
                        s.duplicate = true;
                    }
                },
                'D' => {
                    s.part = Some(if c.get(1).is_some_and(|m| m.as_str() == "predicate") {
                        IndexPart::Predicate
                    } else {
                        IndexPart::Expression
                    });
                }
                'E' if c.len() == 4 => {
                    s.subject = Some(format!("{}.{}", &c[2], &c[3]));
                    s.referenced_from = first;
                }
                'E' => {
                    s.subject = first;
                    // `... referenced from 0082_add_widgets -> 0083 (head), promote foo is not present`
                    s.referenced_from = c.get(2).and_then(|m| {
                        let r = m.as_str();
                        let after = r.rsplit_once("->").map_or(r, |(_, b)| b).trim();
                        after
                            .split([' ', ','])
                            .next()
                            .filter(|x| !x.is_empty())
                            .map(str::to_string)
                    });
                }
                _ => s.subject = first,
            }
            self.episode.signals.push(s);
        }
        for shown in super::signs::shown(text) {
            let mut s = signal(shown.class, shown.subject, n, text);
            s.part = shown.part;
            self.episode.signals.push(s);
        }
        // KeyError after "Revision x referenced from y is not present": the same failure.
        if let Some(c) = rx.key_error.captures(text) {
            let id = c[1].to_string();
            let seen = self
                .episode
                .signals
                .iter()
                .any(|s| s.class == 'E' && s.subject.as_deref() == Some(id.as_str()))
                || self
                    .out
                    .iter()
                    .any(|f| f.class == Some('E') && f.subject.as_deref() == Some(id.as_str()));
            if seen {
                let mut s = signal('E', Some(id), n, text);
                s.referenced_from = None;
                self.episode.signals.push(s);
            }
        }
        if self.episode.running.is_none()
            && !self.episode.signals.is_empty()
            && self.episode.errors.is_empty()
        {
            self.episode.running = self.running.clone();
            self.episode.step = self.step.clone();
        }
    }

    /// Ends the episode: its signals become findings, or its errors one
    /// unclassified finding.
    fn close(&mut self) {
        if let Some(sql) = self.sql.take() {
            self.episode.statement.get_or_insert(sql.trim().to_string());
        }
        self.traceback = false;
        let mut ep = std::mem::take(&mut self.episode);
        if ep.signals.is_empty() && ep.errors.is_empty() {
            return;
        }
        let running = ep.running.clone().or_else(|| self.running.clone());
        let step = ep.step.clone().or_else(|| self.step.clone());
        let strongest = ep
            .errors
            .iter()
            .find(|e| e.2)
            .or(ep.errors.first())
            .cloned();
        let error_lines: Vec<usize> = ep.errors.iter().map(|e| e.0).collect();
        let hint = {
            let all: String = ep
                .errors
                .iter()
                .map(|e| e.1.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            if rx().connection.is_match(&all) {
                Hint::Connection
            } else if rx().database.is_match(&all) {
                Hint::Database
            } else {
                Hint::Other
            }
        };
        // A bare `KeyError: 'id'` raised in Alembic's revision map: a
        // pointer to a revision that is not there.
        if ep.signals.is_empty() && ep.frames.iter().any(|f| f.path.contains("alembic")) {
            let key = ep
                .errors
                .iter()
                .find_map(|(n, text, _)| Some((*n, rx().key_error.captures(text)?[1].to_string())));
            if let Some((n, id)) = key {
                let text = ep
                    .errors
                    .iter()
                    .find(|e| e.0 == n)
                    .map_or("", |e| e.1.as_str());
                ep.signals.push(signal('E', Some(id), n, text));
            }
        }
        let mut classes: Vec<char> = ep.signals.iter().map(|s| s.class).collect();
        classes.dedup();
        classes.sort_unstable();
        classes.dedup();
        if classes.is_empty() {
            let Some((line, text, _)) = strongest else {
                return;
            };
            let mut lines = error_lines;
            lines.push(line);
            self.push(LogFinding {
                class: None,
                subject: None,
                lines,
                error: text,
                statement: ep.statement,
                step,
                running,
                frames: ep.frames,
                key: None,
                heads: Vec::new(),
                duplicate: false,
                part: None,
                referenced_from: None,
                hint,
            });
            return;
        }
        let single = classes.len() == 1;
        for class in classes {
            let sigs: Vec<&Signal> = ep.signals.iter().filter(|s| s.class == class).collect();
            let mut lines: Vec<usize> = sigs.iter().map(|s| s.line).collect();
            // the error lines of the same failure (the wrapped exception,
            // `##[error]`), unless the episode mixes classes
            if single {
                lines.extend(error_lines.iter().copied());
            }
            let main = sigs
                .iter()
                .find(|s| ep.errors.iter().any(|e| e.0 == s.line && e.2))
                .or(sigs.first())
                .expect("one signal at least");
            let heads: Vec<String> = if class == 'C' {
                self.heads.iter().map(|(h, _)| h.clone()).collect()
            } else {
                Vec::new()
            };
            self.push(LogFinding {
                class: Some(class),
                subject: sigs
                    .iter()
                    .find_map(|s| s.subject.clone().filter(|_| class != 'C' || s.duplicate)),
                lines,
                error: main.text.clone(),
                statement: ep.statement.clone(),
                step: step.clone(),
                running: running.clone(),
                frames: ep.frames.clone(),
                key: sigs.iter().find_map(|s| s.key.clone()),
                heads,
                duplicate: sigs.iter().any(|s| s.duplicate),
                part: sigs.iter().find_map(|s| s.part),
                referenced_from: sigs.iter().find_map(|s| s.referenced_from.clone()),
                hint,
            });
        }
    }

    /// Adds a finding, merging it into an earlier one for the same failure
    /// (a log that shows one failure twice, as a retried step does).
    fn push(&mut self, mut f: LogFinding) {
        f.lines.sort_unstable();
        f.lines.dedup();
        let same = self.out.iter_mut().find(|o| {
            o.class == f.class
                && o.subject == f.subject
                && o.step == f.step
                && o.running.as_ref().map(|r| (&r.from, &r.to))
                    == f.running.as_ref().map(|r| (&r.from, &r.to))
                && (o.class.is_some() || o.error == f.error)
        });
        match same {
            Some(o) => {
                o.lines.extend(f.lines);
                o.lines.sort_unstable();
                o.lines.dedup();
            }
            None => self.out.push(f),
        }
    }
}

fn signal(class: char, subject: Option<String>, line: usize, text: &str) -> Signal {
    Signal {
        class,
        subject,
        line,
        text: text.to_string(),
        key: None,
        part: None,
        referenced_from: None,
        duplicate: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(log: &str) -> LogFinding {
        let found = classify(log);
        assert_eq!(found.len(), 1, "{found:#?}");
        found.into_iter().next().unwrap()
    }

    const PSYCOPG2_ROLE: &str = "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.
INFO  [alembic.runtime.migration] Will assume transactional DDL.
INFO  [alembic.runtime.migration] Running upgrade  -> 0001, accounts
INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, paper orders
Traceback (most recent call last):
  File \"/venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py\", line 1977, in _exec_single_context
    self.dialect.do_execute(
psycopg2.errors.UndefinedObject: role \"raptor_app\" does not exist


The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File \"/repo/backend_v2/alembic/versions/0002_paper_orders.py\", line 35, in upgrade
    op.execute(\"GRANT SELECT, INSERT, UPDATE, DELETE ON paper_orders TO raptor_app\")
  File \"/venv/lib/python3.11/site-packages/sqlalchemy/engine/default.py\", line 1192, in do_execute
    cursor.execute(statement, parameters)
sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedObject) role \"raptor_app\" does not exist

[SQL: GRANT SELECT, INSERT, UPDATE, DELETE ON paper_orders TO raptor_app]
(Background on this error at: https://sqlalche.me/e/21/f405)
";

    #[test]
    fn sqlalchemy_wrapped_psycopg2_role() {
        let f = one(PSYCOPG2_ROLE);
        assert_eq!(
            (f.class, f.subject.as_deref()),
            (Some('B'), Some("raptor_app"))
        );
        assert_eq!(f.lines, [8, 18]);
        assert_eq!(
            f.error,
            "psycopg2.errors.UndefinedObject: role \"raptor_app\" does not exist"
        );
        assert_eq!(
            f.statement.as_deref(),
            Some("GRANT SELECT, INSERT, UPDATE, DELETE ON paper_orders TO raptor_app")
        );
        let r = f.running.unwrap();
        assert_eq!((r.revision(), r.line), (Some("0002"), 4));
        assert_eq!(
            f.frames.iter().map(|f| f.line).collect::<Vec<_>>(),
            [1977, 35, 1192]
        );
    }

    #[test]
    fn github_actions_timestamps_groups_and_colour() {
        let gh: String = PSYCOPG2_ROLE
            .lines()
            .map(|l| format!("2026-05-11T10:22:33.1234567Z \x1b[36;1m{l}\x1b[0m\n"))
            .collect();
        let log = format!(
            "\u{feff}2026-05-11T10:22:30.0000000Z ##[group]Run alembic upgrade head\n2026-05-11T10:22:30.0000000Z alembic upgrade head\n2026-05-11T10:22:30.0000000Z ##[endgroup]\n{gh}2026-05-11T10:22:36.0000000Z ##[error]Process completed with exit code 1.\n"
        );
        let f = one(&log);
        assert_eq!(
            (f.class, f.subject.as_deref()),
            (Some('B'), Some("raptor_app"))
        );
        assert_eq!(f.step.as_deref(), Some("alembic upgrade head"));
        assert_eq!(f.lines, [11, 21, 25]);
        assert_eq!(f.running.unwrap().revision(), Some("0002"));
    }

    #[test]
    fn runbook_wordings() {
        let a = one("RuntimeError: 0016 migration: operator 'kris@moosequest.net' not found in the admins table.");
        assert_eq!(
            (a.class, a.subject.as_deref(), a.key.as_deref()),
            (Some('A'), Some("admins"), Some("kris@moosequest.net"))
        );
        let b = one("psycopg2.errors.UndefinedObject: role \"raptor_app\" does not exist\nLINE 1: GRANT SELECT, INSERT, UPDATE, DELETE ON <table> TO raptor_app");
        assert_eq!(
            (b.class, b.statement.as_deref()),
            (
                Some('B'),
                Some("GRANT SELECT, INSERT, UPDATE, DELETE ON <table> TO raptor_app")
            )
        );
        let c =
            one("Console head count: 2\nERROR: Console alembic has 2 heads — expected exactly 1.");
        assert_eq!((c.class, c.lines.clone()), (Some('C'), vec![1, 2]));
        assert_eq!(
            one("DETAIL: Multiple heads are present; please specify the target revision.").class,
            Some('C')
        );
        let d = one("sqlalchemy.exc.ProgrammingError: (psycopg2.errors.InvalidColumnDefinition)\nERROR: cannot use a non-immutable function in index expression");
        assert_eq!((d.class, d.part), (Some('D'), Some(IndexPart::Expression)));
        let e = one(
            "alembic.util.exc.CommandError: Can't locate revision identified by '3f2a9c1b7d4e'",
        );
        assert_eq!(
            (e.class, e.subject.as_deref()),
            (Some('E'), Some("3f2a9c1b7d4e"))
        );
        let f = one("sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateTable)\nERROR: relation 'paper_orders' already exists");
        assert_eq!(
            (f.class, f.subject.as_deref()),
            (Some('F'), Some("paper_orders"))
        );
    }

    #[test]
    fn dangling_pointer_then_key_error_is_one_finding() {
        let log = "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n/venv/alembic/script/revision.py:236: UserWarning: Revision 0082_add_widgets referenced from 0082_add_widgets -> 0083 (head), promote foo widget layout is not present\n  util.warn(\nTraceback (most recent call last):\n  File \"/venv/bin/alembic\", line 8, in <module>\n    sys.exit(main())\nKeyError: '0082_add_widgets'\n";
        let f = one(log);
        assert_eq!(
            (f.class, f.subject.as_deref(), f.referenced_from.as_deref()),
            (Some('E'), Some("0082_add_widgets"), Some("0083"))
        );
        assert_eq!(f.lines, [2, 7]);
    }

    #[test]
    fn a_key_error_alone_is_unclassified() {
        let f = one("Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nKeyError: 'nope'\n");
        assert_eq!((f.class, f.error.as_str()), (None, "KeyError: 'nope'"));
    }

    #[test]
    fn unknown_failures_are_kept() {
        let log = "INFO  [alembic.runtime.migration] Running upgrade 0041 -> 0042, add column\nTraceback (most recent call last):\n  File \"/repo/versions/0042_x.py\", line 20, in upgrade\n    op.execute('ALTER TABLE x ADD COLUMN y int')\npsycopg.errors.UndefinedTable: relation \"x\" does not exist\n##[error]Process completed with exit code 1.\n";
        let f = one(log);
        assert_eq!(f.class, None);
        assert_eq!(
            f.error,
            "psycopg.errors.UndefinedTable: relation \"x\" does not exist"
        );
        assert_eq!(f.lines, [5, 6]);
        assert_eq!(f.hint, Hint::Database);
        assert_eq!(f.running.unwrap().revision(), Some("0042"));
        let f = one("##[group]Run alembic upgrade head\nbash: alembic: command not found\n##[error]Process completed with exit code 127.\n");
        assert_eq!(
            (f.class, f.error.as_str(), f.hint),
            (None, "Process completed with exit code 127.", Hint::Other)
        );
        let f = one("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at \"localhost\" (127.0.0.1), port 5432 failed: Connection refused");
        assert_eq!(f.hint, Hint::Connection);
    }

    #[test]
    fn asyncpg_and_psycopg3_wordings() {
        let f = one("sqlalchemy.exc.ProgrammingError: (sqlalchemy.dialects.postgresql.asyncpg.ProgrammingError) <class 'asyncpg.exceptions.UndefinedObjectError'>: role \"raptor_app\" does not exist");
        assert_eq!(
            (f.class, f.subject.as_deref()),
            (Some('B'), Some("raptor_app"))
        );
        let f =
            one("asyncpg.exceptions.DuplicateTableError: relation \"paper_orders\" already exists");
        assert_eq!(
            (f.class, f.subject.as_deref()),
            (Some('F'), Some("paper_orders"))
        );
        let f = one("psycopg.errors.InvalidObjectDefinition: functions in index predicate must be marked IMMUTABLE");
        assert_eq!((f.class, f.part), (Some('D'), Some(IndexPart::Predicate)));
    }

    #[test]
    fn heads_listed_by_the_tool() {
        let f = one("##[group]Run alembic heads\n0146 (head)\n0148 (head)\n##[error]Process completed with exit code 1.\n");
        assert_eq!(
            (f.class, f.heads.clone(), f.lines.clone()),
            (
                Some('C'),
                vec!["0146".to_string(), "0148".to_string()],
                vec![2, 3, 4]
            )
        );
        assert!(classify("0146 (head)\n").is_empty());
    }

    #[test]
    fn downgrade_names_the_revision_it_undoes() {
        let f = one("INFO  [alembic.runtime.migration] Running downgrade 0016 -> 0015, owners\nTraceback (most recent call last):\n  File \"/r/versions/0016_x.py\", line 50, in downgrade\n    op.drop_table('x')\nsqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable) table \"x\" does not exist\n");
        let r = f.running.unwrap();
        assert_eq!(
            (r.direction, r.revision()),
            (Direction::Downgrade, Some("0016"))
        );
    }

    #[test]
    fn two_independent_failures() {
        let log = "##[group]Run console upgrade\nRuntimeError: 0016 migration: operator 'k@x' not found in the admins table.\n##[error]Process completed with exit code 1.\n##[group]Run raptor upgrade\npsycopg2.errors.UndefinedObject: role \"raptor_app\" does not exist\n##[error]Process completed with exit code 1.\n";
        let found = classify(log);
        let got: Vec<(Option<char>, Option<&str>)> =
            found.iter().map(|f| (f.class, f.step.as_deref())).collect();
        assert_eq!(
            got,
            [
                (Some('A'), Some("console upgrade")),
                (Some('B'), Some("raptor upgrade"))
            ]
        );
    }

    /// Pieces of real logs, for the property tests to shuffle.
    const PIECES: &[&str] = &[
        "Traceback (most recent call last):",
        "  File \"/r/versions/0002_x.py\", line 26, in upgrade",
        "    op.execute(\"GRANT x TO y\")",
        "The above exception was the direct cause of the following exception:",
        "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.",
        "INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, x",
        "INFO  [alembic.runtime.migration] Running downgrade 0002, 0003 -> , y",
        "psycopg2.errors.UndefinedObject: role \"raptor_app\" does not exist",
        "sqlalchemy.exc.ProgrammingError: (psycopg.errors.DuplicateTable) relation \"t\" already exists",
        "[SQL: CREATE INDEX ix ON t (a) WHERE b < now()",
        "]",
        "KeyError: '0001'",
        "UserWarning: Revision 0001 referenced from 0001 -> 0002 (head), x is not present",
        "RuntimeError: 'k' not found in the admins table.",
        "Console head count: 2",
        "0146 (head)",
        "##[group]Run alembic upgrade head",
        "##[endgroup]",
        "##[error]Process completed with exit code 1.",
        "2026-05-11T10:22:33.1234567Z ",
        "\x1b[31m",
        "\x1b]8;;http://x\x07",
        "\u{feff}",
        "+ alembic heads",
        "functions in index expression must be marked IMMUTABLE",
        "Can't locate revision identified by '",
        "é\r",
        "",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, failure_persistence: None, ..Default::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            let found = classify(&String::from_utf8_lossy(&bytes));
            for f in found {
                proptest::prop_assert!(!f.lines.is_empty());
            }
        }

        #[test]
        fn shuffled_log_pieces_never_panic(
            picks in proptest::collection::vec((0..PIECES.len(), proptest::prelude::any::<String>()), 0..60)
        ) {
            let mut log = String::new();
            for (i, noise) in picks {
                log.push_str(PIECES[i]);
                if noise.len() % 3 == 0 {
                    log.push_str(&noise);
                }
                log.push('\n');
            }
            let lines = log.split('\n').count();
            for f in classify(&log) {
                proptest::prop_assert!(f.lines.iter().all(|&n| n >= 1 && n <= lines));
            }
        }
    }

    #[test]
    fn quiet_logs_have_nothing() {
        assert!(classify("").is_empty());
        assert!(classify(
            "INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, x\nall good\n"
        )
        .is_empty());
    }
}
