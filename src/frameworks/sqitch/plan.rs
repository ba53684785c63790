//! sqitch plans, lossless: every byte of a change or tag line belongs to one
//! field, so a line renders back exactly and edits touch only the spans
//! they mean to.

use std::ops::Range;

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
    /// The note after `#`, trimmed and unescaped as sqitch reads it.
    pub fn note(&self) -> String {
        let Some((_, note)) = self.tail.split_once('#') else {
            return String::new();
        };
        let mut out = String::new();
        let mut chars = note.trim().chars();
        while let Some(c) = chars.next() {
            match (c, chars.clone().next()) {
                ('\\', Some(n @ ('\\' | 'n' | 'r'))) => {
                    chars.next();
                    out.push(match n {
                        'n' => '\n',
                        'r' => '\r',
                        _ => '\\',
                    });
                }
                _ => out.push(c),
            }
        }
        out
    }

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
            lines.push(Line {
                number: i + 1,
                span,
                kind: classify(body, start),
            });
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
        self.lines
            .iter()
            .filter(|l| l.number > line)
            .find_map(|l| match &l.kind {
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
        return LineKind::Pragma {
            key: key.trim().to_string(),
            value: value.trim().to_string(),
        };
    }
    let (lead, rest) = split_ws(body);
    let is_tag = rest.starts_with('@');
    let marker_len = usize::from(is_tag || rest.starts_with(['+', '-']));
    let (marker, rest) = rest.split_at(marker_len);
    let name_len = rest
        .find(|c: char| c.is_whitespace() || c == '[')
        .unwrap_or(rest.len());
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
            deps.push(Dep {
                text: text.to_string(),
                span: base + start..base + raw_start + offset + word.len(),
                conflict,
            });
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
    // sqitch's `\b` after the last character: it must be a word character
    // as Perl's `\w` has it (letters, marks, decimal digits, `_`), the same
    // class as the regex crate's Unicode `\w`.
    static WORD_END: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let word_end = WORD_END.get_or_init(|| regex::Regex::new(r"\w\z").expect("a valid regex"));
    if !word_end.is_match(name) {
        return Some(format!(
            "ends with `{last}`, which is not a letter, digit or `_`"
        ));
    }
    let digits = name.chars().rev().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < name.len() {
        let before = name[..name.len() - digits]
            .chars()
            .last()
            .expect("non-empty");
        if "~^/=%".contains(before) {
            return Some(format!("ends in `{before}` followed by digits"));
        }
    }
    None
}

/// Whether a change name, which is also a script path below the deploy,
/// revert and verify folders, has a `..` segment: sqitch accepts
/// `a/../../x` and would run `deploy/a/../../x.sql`, outside its folder.
pub(crate) fn climbs(name: &str) -> bool {
    name.split('/').any(|s| s == "..")
}

pub(super) fn is_timestamp(s: &str) -> bool {
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

pub(super) fn is_change_id(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// sqitch's dependency grammar: `[!][project:](id | name[@tag] | @tag)`.
pub(super) fn valid_dep(text: &str) -> bool {
    let (proj, rest) = match text.split_once(':') {
        Some((p, r)) => (Some(p), r),
        None => (None, text),
    };
    if proj.is_some_and(|p| invalid_name(p, false).is_some() || p.is_empty()) {
        return false;
    }
    if is_change_id(rest) {
        return true;
    }
    let (name, tag) = match rest.split_once('@') {
        Some((n, t)) => (n, Some(t)),
        None => (rest, None),
    };
    let name_ok = if name.is_empty() {
        tag.is_some()
    } else {
        invalid_name(name, false).is_none()
    };
    name_ok && tag.is_none_or(|t| !t.is_empty() && invalid_name(t, false).is_none())
}

#[cfg(test)]
mod tests {
    use super::super::lint::{lint, Projects};
    use super::super::planned::*;
    use super::super::SqitchSpec;
    use super::*;
    use std::path::Path;

    const PLAN: &str = "%syntax-version=1.0.0\n%project=queue\n\n01-init 2026-06-17T00:00:00Z bot <ops@x.app> # first\n02-users [01-init] 2026-06-17T00:00:00Z bot <ops@x.app>\n@v1.0 2026-06-17T00:00:00Z bot <ops@x.app> # release\n03-jobs [02-users !legacy:jobs q:other] 2026-06-17T00:00:00Z Ops Bot <ops@x.app>\n01-init [01-init@v1.0] 2026-06-18T00:00:00Z bot <ops@x.app> # reworked\n";

    fn spec(dir: &Path) -> SqitchSpec {
        SqitchSpec::with_defaults(dir.join("sqitch.plan"), dir)
    }

    #[test]
    fn parses_changes_tags_and_deps_with_spans() {
        let plan = Plan::parse(PLAN);
        let changes: Vec<_> = plan.changes().map(|(_, e)| e.name.as_str()).collect();
        assert_eq!(changes, ["01-init", "02-users", "03-jobs", "01-init"]);
        let (_, jobs) = plan.changes().nth(2).unwrap();
        let deps: Vec<_> = jobs
            .deps
            .iter()
            .map(|d| (d.text.as_str(), d.conflict))
            .collect();
        assert_eq!(
            deps,
            [
                ("02-users", false),
                ("legacy:jobs", true),
                ("q:other", false)
            ]
        );
        for d in &jobs.deps {
            assert_eq!(&PLAN[d.span.clone()], d.text);
        }
        assert_eq!(&PLAN[jobs.name_span.clone()], "03-jobs");
        assert_eq!(jobs.planner, "Ops Bot");
        assert_eq!(jobs.email, "<ops@x.app>");
        assert!(
            matches!(plan.lines[5].kind, LineKind::Tag(ref t) if t.name == "v1.0" && t.tail == " # release")
        );
        for line in &plan.lines {
            if let LineKind::Change(e) | LineKind::Tag(e) = &line.kind {
                assert_eq!(e.render(), PLAN[line.span.clone()]);
            }
        }
    }

    #[test]
    fn reworked_change_gets_tag_suffix() {
        let revs = revisions(
            &Plan::parse(PLAN).planned(),
            Path::new("sqitch.plan"),
            "sql",
            |_| false,
        );
        let ids: Vec<_> = revs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["01-init@v1.0", "02-users", "03-jobs", "01-init"]);
        assert_eq!(revs[1].down, ["01-init@v1.0"]);
        assert_eq!(revs[3].down, ["03-jobs"]);
        assert_eq!(
            revs[3].depends_on.as_deref(),
            Some(&["01-init@v1.0".to_string()][..])
        );
    }

    #[test]
    fn names() {
        for ok in [
            "foo",
            "12",
            "foo/bar",
            "v1.2+1",
            "_foo",
            "07-billing-invoice-refund-column",
            // As sqitch 1.3.1 reads them: a last character that is a
            // letter, a mark, a decimal digit or connector punctuation.
            "é",
            "a\u{301}",
            "aⅣ",
            "a٣",
            "a‿",
            // sqitch's grammar allows `..`; `climbs` is migfix's own rule.
            "a/../b",
        ] {
            assert_eq!(invalid_name(ok, false), None, "{ok}");
        }
        for bad in [
            "^foo", "foo^", "foo^6", "%hi", "hi!", "foo@bar", "foo:bar", "foo\\bar", "+foo", "-foo",
        ] {
            assert!(invalid_name(bad, false).is_some(), "{bad}");
        }
        // sqitch 1.3.1 refuses these too: the last character is not `\w`.
        for bad in ["a€", "a²", "a−", "a«"] {
            assert!(invalid_name(bad, false).is_some(), "{bad}");
        }
        assert!(invalid_name("foo/bar", true).is_some());
    }

    fn lint_kinds(plan: &str) -> Vec<(usize, &'static str)> {
        let dir = tempfile::tempdir().unwrap();
        lint(&Plan::parse(plan), &spec(dir.path()), &Projects::new())
            .into_iter()
            .filter(|l| !l.kind.contains("script"))
            .map(|l| (l.line, l.kind))
            .collect()
    }

    #[test]
    fn lint_rules() {
        assert_eq!(lint_kinds(PLAN), []);
        assert_eq!(
            lint_kinds("%syntax-version=1.0.0\n\n01-a 2026-06-17T00:00:00Z b <b@x>\n"),
            [(1, "sqitch-pragma")]
        );
        assert_eq!(
            lint_kinds("%project=q\n01-a 2026-06-17T00:00:00Z b <b@x>\n"),
            [(2, "sqitch-pragma")]
        );
        let bracketed = "%project=q\n\n07-b [2026-06-17T00:00:00Z] raxx-dev-bot <ops@raxx.app>\n";
        let lints = lint(
            &Plan::parse(bracketed),
            &spec(Path::new("/none")),
            &Projects::new(),
        );
        assert!(
            lints
                .iter()
                .any(|l| l.line == 3 && l.message.contains("in brackets")),
            "{lints:?}"
        );
        assert_eq!(
            lint_kinds("%project=q\n\n01-a 2026-6-17 b <b@x>\n"),
            [(3, "sqitch-timestamp")]
        );
        assert_eq!(
            lint_kinds("%project=q\n\n01-a 2026-06-17T00:00:00Z\n"),
            [(3, "sqitch-planner")]
        );
        assert_eq!(
            lint_kinds("%project=q\n\nhi! 2026-06-17T00:00:00Z b <b@x>\n"),
            [(3, "sqitch-name")]
        );
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
        assert_eq!(
            lint_kinds("%project=q\n\n01-a [!legacy] 2026-06-17T00:00:00Z b <b@x>\n"),
            [(3, "sqitch-conflict")],
            "sqitch deploy cannot find the change a conflict names"
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
        let lints = lint(
            &Plan::parse("%project=q\n\n01-a 2026-06-17T00:00:00Z b <b@x>\n"),
            &spec(dir.path()),
            &Projects::new(),
        );
        assert_eq!(lints.len(), 1);
        assert!(
            lints[0].message.contains("verify/01-a.sql") && lints[0].warning,
            "{:?}",
            lints[0]
        );
        assert_eq!(lints[0].kind, "sqitch-verify-script");
        std::fs::remove_file(dir.path().join("deploy/01-a.sql")).unwrap();
        let lints = lint(
            &Plan::parse("%project=q\n\n01-a 2026-06-17T00:00:00Z b <b@x>\n"),
            &spec(dir.path()),
            &Projects::new(),
        );
        let deploy = lints
            .iter()
            .find(|l| l.kind == "sqitch-script")
            .expect("a missing deploy script");
        assert!(!deploy.warning, "sqitch deploy fails without it");
    }

    const T: &str = "2026-06-17T00:00:00Z b <b@x>";

    fn plan_of(lines: &[&str]) -> String {
        let mut text = String::from("%project=q\n\n");
        for l in lines {
            text.push_str(&format!("{l} {T}\n"));
        }
        text
    }

    #[test]
    fn rework_tags_follow_sqitch_newest_change_first_then_own() {
        // a @t1 b @t2 @t3 c a' @t4 a'': the first a is named after the last
        // tag before its rework; the second after the only tag before the next.
        let text = plan_of(&["a", "@t1", "b", "@t2", "@t3", "c", "a", "@t4", "a"]);
        let plan = Plan::parse(&text);
        let planned = plan.planned();
        let tags: Vec<Vec<&str>> = planned.iter().map(|p| p.rework_tags.clone()).collect();
        assert_eq!(
            tags,
            [vec!["t2", "t3", "t1"], vec![], vec![], vec!["t4"], vec![]]
        );
        assert_eq!(
            planned[0].script("sql", |_| false),
            "a@t2.sql",
            "no file yet: the first rework tag"
        );
        assert_eq!(
            planned[0].script("sql", |c| c == "a@t1.sql"),
            "a@t1.sql",
            "the first that exists"
        );
        assert_eq!(
            planned[0].script("sql", |c| c == "a@t3.sql" || c == "a@t1.sql"),
            "a@t3.sql"
        );
        let ids: Vec<String> = revisions(&plan.planned(), Path::new("p"), "sql", |_| false)
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["a@t2", "b", "c", "a@t4", "a"]);
        let nested = Plan::parse(&plan_of(&["roles/web/grants", "@v1", "roles/web/grants"]));
        assert_eq!(
            nested.planned()[0].script("sql", |_| false),
            "roles/web/grants@v1.sql"
        );
        assert_eq!(
            nested.planned()[1].script("sql", |_| false),
            "roles/web/grants.sql"
        );
    }

    #[test]
    fn requirements_mean_an_instance_planned_before() {
        let text = plan_of(&[
            "a",
            "b [a]",
            "@v1",
            "a [a@v1]",
            "c [a]",
            "d [b@v1 q:a other:x 0123456789abcdef0123456789abcdef01234567]",
            "e [@v1]",
        ]);
        let plan = Plan::parse(&text);
        let resolved: Vec<Vec<Option<usize>>> = plan
            .planned()
            .iter()
            .map(|p| p.requires.iter().map(|(_, i)| *i).collect())
            .collect();
        // `c [a]` after the rework means the first `a`, as sqitch's lookup does.
        assert_eq!(
            resolved,
            [
                vec![],
                vec![Some(0)],
                vec![Some(0)],
                vec![Some(0)],
                vec![Some(1), Some(0), None, None],
                vec![Some(1)]
            ]
        );
        let revs = revisions(&plan.planned(), Path::new("p"), "sql", |_| false);
        assert_eq!(
            revs[3].depends_on.as_deref(),
            Some(&["a@v1".to_string()][..])
        );
        assert_eq!(
            revs[2].depends_on.as_deref(),
            Some(&["a@v1".to_string()][..])
        );
        assert_eq!(lint_kinds(&text), []);
    }

    #[test]
    fn dependency_errors_as_sqitch_reports_them() {
        let messages = |lines: &[&str]| -> Vec<String> {
            let dir = tempfile::tempdir().unwrap();
            lint(
                &Plan::parse(&plan_of(lines)),
                &spec(dir.path()),
                &Projects::new(),
            )
            .into_iter()
            .filter(|l| l.kind == "sqitch-dependency")
            .map(|l| format!("{}: {}", l.line, l.message))
            .collect()
        };
        assert_eq!(
            messages(&["a [b]", "b"]),
            ["3: `a` requires `b`, which is planned later (1 change after it)"]
        );
        assert_eq!(
            messages(&["a", "@v1", "b [c]", "@v2", "c"]),
            ["5: `b` requires `c`, which is not planned before it"]
        );
        assert_eq!(messages(&["a [a]"]), ["3: `a` requires itself"]);
        // sqitch checks `name@tag` against the name's latest instance before
        // the current section, so this one is refused by sqitch too.
        assert_eq!(
            messages(&["a", "@v1", "a", "@v2", "b [a@v1]"]),
            ["7: `b` requires `a@v1`, which is not planned before it"]
        );
        assert_eq!(messages(&["a", "@v1", "b [a@v1]"]), Vec::<String>::new());
        assert_eq!(messages(&["a", "b [a a]"]), ["4: `b` lists `a` twice"]);
        assert_eq!(
            messages(&["a", "b [a@]"]),
            ["4: `a@` is not a valid dependency"]
        );
    }

    #[test]
    fn other_projects_changes_are_checked_when_known() {
        let text = plan_of(&["a [oss:users oss:nope elsewhere:x]"]);
        let mut projects = Projects::new();
        projects.insert("oss".into(), vec!["users".into(), "@v1".into()]);
        let dir = tempfile::tempdir().unwrap();
        let lints: Vec<String> = lint(&Plan::parse(&text), &spec(dir.path()), &projects)
            .into_iter()
            .filter(|l| !l.kind.contains("script"))
            .map(|l| l.message)
            .collect();
        assert_eq!(
            lints,
            ["`a` requires `oss:nope`, but project oss plans no `nope`"]
        );
    }

    #[test]
    fn only_what_sqitch_accepts_is_a_warning() {
        let kinds = |text: &str| -> Vec<(usize, &'static str, bool)> {
            let dir = tempfile::tempdir().unwrap();
            lint(&Plan::parse(text), &spec(dir.path()), &Projects::new())
                .into_iter()
                .filter(|l| !l.kind.contains("script"))
                .map(|l| (l.line, l.kind, l.warning))
                .collect()
        };
        assert_eq!(
            kinds(&plan_of(&["07-a", "07-b"])),
            [(4, "sqitch-prefix", true)]
        );
        assert_eq!(
            kinds(&plan_of(&["a", "@v1", "@v1"])),
            [(5, "sqitch-duplicate", false)]
        );
        assert_eq!(kinds(&plan_of(&["HEAD"])), [(3, "sqitch-name", false)]);
        assert_eq!(
            kinds("%project=q\n\n@v1 2026-06-17T00:00:00Z b <b@x>\n"),
            [(3, "sqitch-tag", false)]
        );
        assert_eq!(
            kinds("%project=q\n\na 2026-06-17T00:00:00Z b <b@x>\n%foo=bar\n"),
            [(4, "sqitch-pragma", false)]
        );
        assert_eq!(
            kinds("%project=q\n# a comment\n\na 2026-06-17T00:00:00Z b <b@x>\n"),
            []
        );
        // sqitch reads `a/../../x` (its scripts outside their folders);
        // migfix does not. A `.` or empty segment stays inside.
        assert_eq!(kinds(&plan_of(&["a/../../x"])), [(3, "sqitch-name", false)]);
        assert_eq!(kinds(&plan_of(&["a/./b", "a//c", "x..y"])), []);
    }

    #[test]
    fn uris_as_perl_canonicalises_them() {
        for (uri, canonical) in [
            ("https://seattleflu.org", "https://seattleflu.org/"),
            ("HTTPS://Seattle.ORG:443", "https://seattle.org/"),
            ("http://x.org:80/a", "http://x.org/a"),
            (
                "https://github.com/theory/sqitch-intro/",
                "https://github.com/theory/sqitch-intro/",
            ),
            ("urn:uuid:AB", "urn:uuid:AB"),
            ("ftp://h.org", "ftp://h.org"),
            ("https://h.org?x=1", "https://h.org?x=1"),
            ("https://u@H.org:8080", "https://u@h.org:8080/"),
        ] {
            assert_eq!(canonical_uri(uri), canonical, "{uri}");
        }
    }

    #[test]
    fn change_ids_are_sqitchs() {
        // Ids as `sqitch plan --format '%H'` (App::Sqitch 1.3.1) prints them.
        let text = "%syntax-version=1.0.0\n%project=flipr\n%uri=https://github.com/theory/sqitch-intro/\n\n\
            appschema 2013-12-31T18:26:59Z Marge N. O\u{2019}Vera <marge@example.com> # Add schema for all flipr objects.\n\
            users [appschema] 2013-12-31T18:43:46Z Marge  Vera <marge@example.com> # Creates table to track our users.\n\
            @v1.0.0-dev1 2013-12-31T18:46:08Z Marge N. O\u{2019}Vera <marge@example.com> # Tag v1.0.0-dev1.\n\
            flips [appschema users !x other:y@z] 2014-01-01T00:00:00Z M <m@x>  #   a \\n b \\\\ c   \n\
            @v2 2014-01-01T00:00:00Z M <m@x>\n\
            users [users@v1.0.0-dev1] 2014-01-02T00:00:00Z M <m@x>\n";
        let plan = Plan::parse(text);
        assert_eq!(
            change_ids(&plan, &plan.planned()),
            [
                "7cd59dffdf5d221cb1cae5def29181a367f875a7",
                "9e0f1d9dea3dcaef8e087354be38196c1fca98ae",
                "47fd27afefe7d69384f71171f41382166c98b724",
                "6b507fb22707a507c9e3652895b845a45b82b537",
            ]
        );
    }
}
