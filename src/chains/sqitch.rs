//! sqitch plans. Every line is kept with its byte span, so that later edits
//! (renames) touch only the bytes they mean to.

use std::ops::Range;
use std::path::Path;

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

/// A change or tag line: `[+|-]name [deps] timestamp planner <email> # note`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub name: String,
    pub name_span: Range<usize>,
    pub deps: Vec<Dep>,
    /// Everything after the name and dependencies, as written.
    pub rest: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dep {
    pub text: String,
    pub span: Range<usize>,
    /// `!name`: a conflict, not a requirement.
    pub conflict: bool,
}

impl Plan {
    pub fn parse(text: &str) -> Plan {
        let mut lines = Vec::new();
        let mut start = 0;
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let body = raw.trim_end_matches(['\n', '\r']);
            let span = start..start + body.len();
            lines.push(Line { number: i + 1, span: span.clone(), kind: classify(body, start) });
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
}

fn classify(body: &str, base: usize) -> LineKind {
    let trimmed = body.trim_start();
    let lead = body.len() - trimmed.len();
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
    let is_tag = trimmed.starts_with('@');
    let mut at = lead;
    if is_tag || trimmed.starts_with(['+', '-']) {
        at += 1;
    }
    let name_len = body[at..].find(|c: char| c.is_whitespace() || c == '[').unwrap_or(body.len() - at);
    let name_span = at..at + name_len;
    let mut rest = name_span.end;
    rest += body[rest..].len() - body[rest..].trim_start().len();
    let mut deps = Vec::new();
    if body[rest..].starts_with('[') {
        let close = body[rest..].find(']').map_or(body.len(), |i| rest + i);
        let inner_start = rest + 1;
        let mut pos = inner_start;
        for word in body[inner_start..close].split_whitespace() {
            let offset = body[pos..close].find(word).map_or(pos, |i| pos + i);
            let conflict = word.starts_with('!');
            let text = word.trim_start_matches('!');
            let dstart = offset + (word.len() - text.len());
            deps.push(Dep { text: text.to_string(), span: base + dstart..base + offset + word.len(), conflict });
            pos = offset + word.len();
        }
        rest = (close + 1).min(body.len());
        rest += body[rest..].len() - body[rest..].trim_start().len();
    }
    let entry = Entry {
        name: body[name_span.clone()].to_string(),
        name_span: base + name_span.start..base + name_span.end,
        deps,
        rest: base + rest..base + body.len(),
    };
    if is_tag {
        LineKind::Tag(entry)
    } else {
        LineKind::Change(entry)
    }
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
    let mut out: Vec<Revision> = Vec::new();
    for line in &plan.lines {
        match &line.kind {
            LineKind::Change(e) => {
                let down = out.last().map(|r| vec![r.id.clone()]).unwrap_or_default();
                let requires = e.deps.iter().filter(|d| !d.conflict).map(|d| d.text.clone()).collect();
                out.push(Revision {
                    id: e.name.clone(),
                    path: path.to_path_buf(),
                    line: line.number,
                    down,
                    depends_on: Some(requires),
                    branch_labels: Some(Vec::new()),
                    consts: None,
                });
            }
            LineKind::Tag(tag) => {
                // Earlier untagged copies of a name reworked later become name@tag.
                for r in out.iter_mut().filter(|r| !r.id.contains('@')) {
                    let reworked = plan.changes().any(|(l, e)| l.number > line.number && e.name == r.id);
                    if reworked {
                        let old = r.id.clone();
                        r.id = format!("{old}@{}", tag.name);
                    }
                }
                // Children that referenced the renamed ids follow them.
                let renamed: Vec<(String, String)> = out
                    .iter()
                    .filter_map(|r| r.id.split_once('@').filter(|(_, t)| *t == tag.name).map(|(n, _)| (n.to_string(), r.id.clone())))
                    .collect();
                for r in &mut out {
                    for d in &mut r.down {
                        if let Some((_, new)) = renamed.iter().find(|(n, _)| n == d) {
                            *d = new.clone();
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "%syntax-version=1.0.0\n%project=queue\n\n01-init 2026-06-17T00:00:00Z bot <ops@x.app> # first\n02-users [01-init] 2026-06-17T00:00:00Z bot <ops@x.app>\n@v1.0 2026-06-17T00:00:00Z bot <ops@x.app> # release\n03-jobs [02-users !legacy q:other] 2026-06-17T00:00:00Z bot <ops@x.app>\n01-init [01-init@v1.0] 2026-06-18T00:00:00Z bot <ops@x.app> # reworked\n";

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
        assert!(matches!(plan.lines[5].kind, LineKind::Tag(ref t) if t.name == "v1.0"));
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
}
