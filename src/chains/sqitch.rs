//! sqitch plans, lossless: every byte of a change or tag line belongs to one
//! field, so a line renders back exactly and edits touch only the spans
//! they mean to.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::chains::scheme::sqitch_prefix;
use crate::chains::Revision;
use crate::config::{rel, SqitchSpec};
use crate::error::Diag;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// 1-based line number.
    pub number: usize,
    /// The line's bytes without its line ending.
    pub span: Range<usize>,
    pub kind: LineKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LineKind {
    Blank,
    Comment,
    Pragma { key: String, value: String },
    Change(Entry),
    Tag(Entry),
}

/// `[+|-]name [deps] timestamp planner <email> # note`, or a tag line
/// `@name timestamp planner <email> # note`. Concatenating the fields in
/// order gives the line back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub lead: String,
    /// `+`, `-`, `@` or nothing.
    pub marker: String,
    pub name: String,
    pub name_span: Range<usize>,
    pub gap1: String,
    /// `[a b]` as written, brackets included.
    pub deps_raw: Option<String>,
    pub deps: Vec<Dep>,
    pub gap2: String,
    pub timestamp: String,
    pub gap3: String,
    pub planner: String,
    pub gap4: String,
    /// `<email>` as written.
    pub email: String,
    /// What follows the email: spaces and `# note`, or anything unparsed.
    pub tail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dep {
    /// As written, without a leading `!`.
    pub text: String,
    pub span: Range<usize>,
    /// `!name`: a conflict, not a requirement.
    pub conflict: bool,
}

impl Dep {
    /// The change a dependency names: `name`, `name@tag` and `project:name`
    /// all name `name` (the project is checked by the caller).
    pub fn parts(&self) -> (Option<&str>, &str, Option<&str>) {
        let (project, rest) = match self.text.split_once(':') {
            Some((p, r)) => (Some(p), r),
            None => (None, self.text.as_str()),
        };
        match rest.split_once('@') {
            Some((name, tag)) => (project, name, Some(tag)),
            None => (project, rest, None),
        }
    }
}

impl Entry {
    pub fn render(&self) -> String {
        [
            self.lead.as_str(),
            &self.marker,
            &self.name,
            &self.gap1,
            self.deps_raw.as_deref().unwrap_or(""),
            &self.gap2,
            &self.timestamp,
            &self.gap3,
            &self.planner,
            &self.gap4,
            &self.email,
            &self.tail,
        ]
        .concat()
    }
}

impl Plan {
    pub fn parse(text: &str) -> Plan {
        let mut lines = Vec::new();
        let mut start = 0;
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let body = raw.trim_end_matches(['\n', '\r']);
            let span = start..start + body.len();
            lines.push(Line { number: i + 1, span, kind: classify(body, start) });
            start += raw.len();
        }
        Plan { lines }
    }

    pub fn changes(&self) -> impl Iterator<Item = (&Line, &Entry)> {
        self.lines.iter().filter_map(|l| match &l.kind {
            LineKind::Change(e) => Some((l, e)),
            _ => None,
        })
    }

    pub fn pragma(&self, key: &str) -> Option<&str> {
        self.lines.iter().find_map(|l| match &l.kind {
            LineKind::Pragma { key: k, value } if k == key => Some(value.as_str()),
            _ => None,
        })
    }

    /// The first tag planned after `line`, if any: the change is then
    /// probably deployed somewhere.
    pub fn tag_after(&self, line: usize) -> Option<(&Line, &Entry)> {
        self.lines.iter().filter(|l| l.number > line).find_map(|l| match &l.kind {
            LineKind::Tag(t) => Some((l, t)),
            _ => None,
        })
    }
}

fn split_ws(s: &str) -> (&str, &str) {
    let n = s.len() - s.trim_start().len();
    s.split_at(n)
}

fn classify(body: &str, base: usize) -> LineKind {
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return LineKind::Blank;
    }
    if trimmed.starts_with('#') {
        return LineKind::Comment;
    }
    if let Some(p) = trimmed.strip_prefix('%') {
        let (key, value) = p.split_once('=').unwrap_or((p, ""));
        return LineKind::Pragma { key: key.trim().to_string(), value: value.trim().to_string() };
    }
    let (lead, rest) = split_ws(body);
    let is_tag = rest.starts_with('@');
    let marker_len = usize::from(is_tag || rest.starts_with(['+', '-']));
    let (marker, rest) = rest.split_at(marker_len);
    let name_len = rest.find(|c: char| c.is_whitespace() || c == '[').unwrap_or(rest.len());
    let (name, rest) = rest.split_at(name_len);
    let name_start = lead.len() + marker.len();
    let (gap1, rest) = split_ws(rest);
    let mut deps = Vec::new();
    let (deps_raw, rest) = if rest.starts_with('[') {
        let close = rest.find(']').map_or(rest.len(), |i| i + 1);
        let raw = &rest[..close];
        let raw_start = body.len() - rest.len();
        let inner = raw.trim_start_matches('[').trim_end_matches(']');
        let mut pos = 1;
        for word in inner.split_whitespace() {
            let offset = raw[pos..].find(word).map_or(pos, |i| pos + i);
            let conflict = word.starts_with('!');
            let text = word.trim_start_matches('!');
            let start = raw_start + offset + (word.len() - text.len());
            deps.push(Dep { text: text.to_string(), span: base + start..base + raw_start + offset + word.len(), conflict });
            pos = offset + word.len();
        }
        (Some(raw.to_string()), &rest[close..])
    } else {
        (None, rest)
    };
    let (gap2, rest) = split_ws(rest);
    let ts_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (timestamp, rest) = rest.split_at(ts_len);
    let (gap3, rest) = split_ws(rest);
    let (planner_and_gap, rest) = match rest.find('<') {
        Some(i) => rest.split_at(i),
        None => {
            let end = rest.find(" #").unwrap_or(rest.len());
            rest.split_at(end)
        }
    };
    let planner = planner_and_gap.trim_end();
    let gap4 = &planner_and_gap[planner.len()..];
    let (email, tail) = if rest.starts_with('<') {
        rest.split_at(rest.find('>').map_or(rest.len(), |i| i + 1))
    } else {
        ("", rest)
    };
    let entry = Entry {
        lead: lead.to_string(),
        marker: marker.to_string(),
        name: name.to_string(),
        name_span: base + name_start..base + name_start + name.len(),
        gap1: gap1.to_string(),
        deps_raw,
        deps,
        gap2: gap2.to_string(),
        timestamp: timestamp.to_string(),
        gap3: gap3.to_string(),
        planner: planner.to_string(),
        gap4: gap4.to_string(),
        email: email.to_string(),
        tail: tail.to_string(),
    };
    if is_tag {
        LineKind::Tag(entry)
    } else {
        LineKind::Change(entry)
    }
}

/// sqitch's rules for change and tag names.
pub(crate) fn invalid_name(name: &str, tag: bool) -> Option<String> {
    let punct = |c: char| c.is_ascii_punctuation() && c != '_';
    let first = name.chars().next()?;
    let last = name.chars().last()?;
    if name.chars().any(char::is_whitespace) {
        return Some("contains white space".into());
    }
    if let Some(c) = name.chars().find(|c| ":@#\\".contains(*c)) {
        return Some(format!("contains `{c}`"));
    }
    if tag && name.contains('/') {
        return Some("a tag name cannot contain `/`".into());
    }
    if punct(first) {
        return Some(format!("starts with punctuation `{first}`"));
    }
    if punct(last) {
        return Some(format!("ends with punctuation `{last}`"));
    }
    let digits = name.chars().rev().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < name.len() {
        let before = name[..name.len() - digits].chars().last().expect("non-empty");
        if "~^/=%".contains(before) {
            return Some(format!("ends in `{before}` followed by digits"));
        }
    }
    None
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// One plan lint problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lint {
    pub line: usize,
    pub kind: &'static str,
    pub message: String,
    pub fix: String,
}

/// The runbook's `validate-sqitch-plan.sh`, and more: each problem names its line.
pub(crate) fn lint(plan: &Plan, spec: &SqitchSpec) -> Vec<Lint> {
    let mut out = Vec::new();
    let mut push = |line: usize, kind: &'static str, message: String, fix: &str| {
        out.push(Lint { line, kind, message, fix: fix.to_string() });
    };
    if plan.pragma("project").is_none() {
        push(1, "sqitch-pragma", "no %project pragma".into(), "add `%project=NAME` at the top of the plan");
    }
    let last_pragma = plan.lines.iter().take_while(|l| matches!(l.kind, LineKind::Pragma { .. } | LineKind::Comment)).last();
    if let Some(p) = last_pragma.filter(|p| matches!(p.kind, LineKind::Pragma { .. })) {
        if let Some(next) = plan.lines.get(p.number) {
            if !matches!(next.kind, LineKind::Blank) {
                push(next.number, "sqitch-pragma", "no blank line after the pragmas".into(), "insert an empty line after the last % line");
            }
        }
    }
    let project = plan.pragma("project").unwrap_or("");
    // Changes and tags seen so far: name → index in `seen`.
    let mut seen: Vec<(&str, usize)> = Vec::new();
    let mut tags: Vec<&str> = Vec::new();
    let mut since_tag: Vec<&str> = Vec::new();
    let mut prefixes: Vec<(&str, &str, usize)> = Vec::new();
    for line in &plan.lines {
        let (entry, is_tag) = match &line.kind {
            LineKind::Change(e) => (e, false),
            LineKind::Tag(e) => (e, true),
            _ => continue,
        };
        let n = line.number;
        let what = if is_tag { "tag" } else { "change" };
        if let Some(why) = invalid_name(&entry.name, is_tag) {
            push(n, "sqitch-name", format!("invalid {what} name `{}{}`: {why}", entry.marker, entry.name), "rename it following sqitch's rules for names");
        } else if entry.name.is_empty() {
            push(n, "sqitch-name", format!("a {what} line without a name"), "give it a name");
        }
        if !is_timestamp(&entry.timestamp) {
            let bracketed = is_timestamp(entry.timestamp.trim_matches(['[', ']']))
                || entry.deps.iter().any(|d| is_timestamp(d.text.trim_matches(['[', ']'])));
            let message = if bracketed {
                "the timestamp is in brackets: sqitch reads it as a dependency".to_string()
            } else if entry.timestamp.is_empty() {
                "no timestamp".to_string()
            } else {
                format!("malformed timestamp `{}`", entry.timestamp)
            };
            push(n, "sqitch-timestamp", message, "write the planned time as YYYY-MM-DDTHH:MM:SSZ, without brackets");
        } else if entry.planner.trim().is_empty() || !entry.email.starts_with('<') || !entry.email.ends_with('>') {
            push(n, "sqitch-planner", format!("{what} `{}` has no planner `Name <email>`", entry.name), "add the planner's name and <email> after the timestamp");
        }
        if is_tag {
            tags.push(&entry.name);
            since_tag.clear();
            continue;
        }
        if since_tag.contains(&entry.name.as_str()) {
            push(n, "sqitch-duplicate", format!("change `{}` is planned twice without a tag between", entry.name), "tag the plan before reworking a change, or rename one of them");
        }
        for dep in entry.deps.iter().filter(|d| !d.conflict) {
            let (proj, name, tag) = dep.parts();
            if proj.is_some_and(|p| p != project) || (dep.text.len() == 40 && dep.text.bytes().all(|b| b.is_ascii_hexdigit())) {
                continue;
            }
            if is_timestamp(name) {
                continue;
            }
            let earlier = seen.iter().any(|(s, _)| *s == name);
            let later = plan.changes().any(|(l, e)| l.number > n && e.name == name);
            if !earlier {
                let message = if later {
                    format!("`{}` requires `{}`, which is planned later", entry.name, dep.text)
                } else {
                    format!("`{}` requires `{}`, which is not in the plan", entry.name, dep.text)
                };
                push(n, "sqitch-dependency", message, "plan the dependency first, or fix its name");
            } else if let Some(tag) = tag {
                if !tags.contains(&tag) && !tag.starts_with("HEAD") && !tag.starts_with("ROOT") {
                    push(n, "sqitch-dependency", format!("`{}` requires `{}`, but no tag @{tag} comes before it", entry.name, dep.text), "tag the plan first, or fix the tag name");
                }
            }
        }
        if let Some(prefix) = sqitch_prefix(&entry.name) {
            if let Some((other, _, other_line)) = prefixes.iter().find(|(p, name, _)| *p == prefix && *name != entry.name) {
                push(n, "sqitch-prefix", format!("`{}` reuses sequence number {prefix} of `{other}` (line {other_line})", entry.name), "renumber the later change: migfix renumber NAME");
            }
            prefixes.push((prefix, &entry.name, n));
        }
        since_tag.push(&entry.name);
        seen.push((&entry.name, n));
    }
    for (line, path) in missing_scripts(plan, spec) {
        push(line, "sqitch-script", format!("missing script {}", path.display()), "add the script, or remove the change from the plan");
    }
    out.sort_by_key(|l| l.line);
    out
}

/// The deploy, revert and verify scripts of every change, reworked ones
/// as `name@tag.ext`, that do not exist.
fn missing_scripts(plan: &Plan, spec: &SqitchSpec) -> Vec<(usize, PathBuf)> {
    let mut out = Vec::new();
    let changes: Vec<(&Line, &Entry)> = plan.changes().collect();
    for (i, (line, entry)) in changes.iter().enumerate() {
        if entry.marker == "-" {
            continue;
        }
        let reworked_later = changes[i + 1..].iter().any(|(_, e)| e.name == entry.name);
        let file = if reworked_later {
            match plan.tag_after(line.number) {
                Some((_, tag)) => format!("{}@{}.{}", entry.name, tag.name, spec.extension),
                None => continue,
            }
        } else {
            format!("{}.{}", entry.name, spec.extension)
        };
        for dir in [&spec.deploy_dir, &spec.revert_dir, &spec.verify_dir] {
            let path = dir.join(&file);
            if !path.is_file() {
                out.push((line.number, path));
            }
        }
    }
    out
}

/// The script files of a change name: `name.ext` and reworked
/// `name@tag.ext`, in each script folder, that exist.
pub(crate) fn scripts_of(spec: &SqitchSpec, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [&spec.deploy_dir, &spec.revert_dir, &spec.verify_dir] {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let Some(f) = p.file_name().and_then(|f| f.to_str()) else { return false };
                let Some(stem) = f.strip_suffix(&format!(".{}", spec.extension)) else { return false };
                stem == name || stem.strip_prefix(name).is_some_and(|r| r.starts_with('@'))
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// The plan's changes as revisions: each revises the one before it, and
/// depends on its bracketed requirements. A name planned again after a tag
/// (a rework) keeps the name; its earlier version is `name@tag`.
pub(crate) fn read(root: &Path, spec: &SqitchSpec) -> Result<(Vec<Revision>, Vec<Diag>), Vec<Diag>> {
    let shown = rel(root, &spec.plan);
    let text = std::fs::read(&spec.plan)
        .map_err(|e| vec![Diag::new(shown.clone(), None, format!("cannot read: {e}"))])
        .and_then(|b| {
            String::from_utf8(b).map_err(|e| {
                let line = crate::python::line_of(e.as_bytes(), e.utf8_error().valid_up_to());
                vec![Diag::new(shown.clone(), Some(line), "not valid UTF-8")]
            })
        })?;
    let plan = Plan::parse(&text);
    Ok((revisions(&plan, &spec.plan), Vec::new()))
}

pub(crate) fn revisions(plan: &Plan, path: &Path) -> Vec<Revision> {
    let changes: Vec<(&Line, &Entry)> = plan.changes().collect();
    let mut out: Vec<Revision> = Vec::new();
    for (i, (line, e)) in changes.iter().enumerate() {
        let reworked_later = changes[i + 1..].iter().any(|(_, later)| later.name == e.name);
        let id = match plan.tag_after(line.number).filter(|_| reworked_later) {
            Some((_, tag)) => format!("{}@{}", e.name, tag.name),
            None => e.name.clone(),
        };
        let down = out.last().map(|r| vec![r.id.clone()]).unwrap_or_default();
        let requires = e.deps.iter().filter(|d| !d.conflict).map(|d| d.text.clone()).collect();
        out.push(Revision {
            id,
            path: path.to_path_buf(),
            line: line.number,
            down,
            depends_on: Some(requires),
            branch_labels: Some(Vec::new()),
            consts: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "%syntax-version=1.0.0\n%project=queue\n\n01-init 2026-06-17T00:00:00Z bot <ops@x.app> # first\n02-users [01-init] 2026-06-17T00:00:00Z bot <ops@x.app>\n@v1.0 2026-06-17T00:00:00Z bot <ops@x.app> # release\n03-jobs [02-users !legacy q:other] 2026-06-17T00:00:00Z Ops Bot <ops@x.app>\n01-init [01-init@v1.0] 2026-06-18T00:00:00Z bot <ops@x.app> # reworked\n";

    fn spec(dir: &Path) -> SqitchSpec {
        SqitchSpec {
            plan: dir.join("sqitch.plan"),
            conf: None,
            deploy_dir: dir.join("deploy"),
            revert_dir: dir.join("revert"),
            verify_dir: dir.join("verify"),
            extension: "sql".into(),
        }
    }

    #[test]
    fn parses_changes_tags_and_deps_with_spans() {
        let plan = Plan::parse(PLAN);
        let changes: Vec<_> = plan.changes().map(|(_, e)| e.name.as_str()).collect();
        assert_eq!(changes, ["01-init", "02-users", "03-jobs", "01-init"]);
        let (_, jobs) = plan.changes().nth(2).unwrap();
        let deps: Vec<_> = jobs.deps.iter().map(|d| (d.text.as_str(), d.conflict)).collect();
        assert_eq!(deps, [("02-users", false), ("legacy", true), ("q:other", false)]);
        for d in &jobs.deps {
            assert_eq!(&PLAN[d.span.clone()], d.text);
        }
        assert_eq!(&PLAN[jobs.name_span.clone()], "03-jobs");
        assert_eq!(jobs.planner, "Ops Bot");
        assert_eq!(jobs.email, "<ops@x.app>");
        assert!(matches!(plan.lines[5].kind, LineKind::Tag(ref t) if t.name == "v1.0" && t.tail == " # release"));
        for line in &plan.lines {
            if let LineKind::Change(e) | LineKind::Tag(e) = &line.kind {
                assert_eq!(e.render(), PLAN[line.span.clone()]);
            }
        }
    }

    #[test]
    fn reworked_change_gets_tag_suffix() {
        let revs = revisions(&Plan::parse(PLAN), Path::new("sqitch.plan"));
        let ids: Vec<_> = revs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["01-init@v1.0", "02-users", "03-jobs", "01-init"]);
        assert_eq!(revs[1].down, ["01-init@v1.0"]);
        assert_eq!(revs[3].down, ["03-jobs"]);
        assert_eq!(revs[3].depends_on.as_deref(), Some(&["01-init@v1.0".to_string()][..]));
    }

    #[test]
    fn names() {
        for ok in ["foo", "12", "foo/bar", "v1.2+1", "_foo", "07-billing-invoice-refund-column"] {
            assert_eq!(invalid_name(ok, false), None, "{ok}");
        }
        for bad in ["^foo", "foo^", "foo^6", "%hi", "hi!", "foo@bar", "foo:bar", "foo\\bar", "+foo", "-foo"] {
            assert!(invalid_name(bad, false).is_some(), "{bad}");
        }
        assert!(invalid_name("foo/bar", true).is_some());
    }

    fn lint_kinds(plan: &str) -> Vec<(usize, &'static str)> {
        let dir = tempfile::tempdir().unwrap();
        lint(&Plan::parse(plan), &spec(dir.path())).into_iter().filter(|l| l.kind != "sqitch-script").map(|l| (l.line, l.kind)).collect()
    }

    #[test]
    fn lint_rules() {
        assert_eq!(lint_kinds(PLAN), []);
        assert_eq!(lint_kinds("%syntax-version=1.0.0\n\n01-a 2026-06-17T00:00:00Z b <b@x>\n"), [(1, "sqitch-pragma")]);
        assert_eq!(lint_kinds("%project=q\n01-a 2026-06-17T00:00:00Z b <b@x>\n"), [(2, "sqitch-pragma")]);
        let bracketed = "%project=q\n\n07-b [2026-06-17T00:00:00Z] raxx-dev-bot <ops@raxx.app>\n";
        let lints = lint(&Plan::parse(bracketed), &spec(Path::new("/none")));
        assert!(lints.iter().any(|l| l.line == 3 && l.message.contains("in brackets")), "{lints:?}");
        assert_eq!(lint_kinds("%project=q\n\n01-a 2026-6-17 b <b@x>\n"), [(3, "sqitch-timestamp")]);
        assert_eq!(lint_kinds("%project=q\n\n01-a 2026-06-17T00:00:00Z\n"), [(3, "sqitch-planner")]);
        assert_eq!(lint_kinds("%project=q\n\nhi! 2026-06-17T00:00:00Z b <b@x>\n"), [(3, "sqitch-name")]);
        assert_eq!(
            lint_kinds("%project=q\n\n01-a 2026-06-17T00:00:00Z b <b@x>\n01-a 2026-06-17T00:00:00Z b <b@x>\n"),
            [(4, "sqitch-duplicate")]
        );
        assert_eq!(
            lint_kinds("%project=q\n\n01-a [02-b] 2026-06-17T00:00:00Z b <b@x>\n02-b [nope] 2026-06-17T00:00:00Z b <b@x>\n"),
            [(3, "sqitch-dependency"), (4, "sqitch-dependency")]
        );
        assert_eq!(
            lint_kinds("%project=q\n\n07-a 2026-06-17T00:00:00Z b <b@x>\n07-b 2026-06-17T00:00:00Z b <b@x>\n"),
            [(4, "sqitch-prefix")]
        );
    }

    #[test]
    fn missing_scripts_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["deploy", "revert", "verify"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
            std::fs::write(dir.path().join(d).join("01-a.sql"), "").unwrap();
        }
        std::fs::remove_file(dir.path().join("verify/01-a.sql")).unwrap();
        let lints = lint(&Plan::parse("%project=q\n\n01-a 2026-06-17T00:00:00Z b <b@x>\n"), &spec(dir.path()));
        assert_eq!(lints.len(), 1);
        assert!(lints[0].message.ends_with("verify/01-a.sql"), "{:?}", lints[0]);
    }
}
