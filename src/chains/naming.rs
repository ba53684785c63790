//! How a chain names its revision files: Alembic's `file_template` when the
//! configuration gives one, else the convention its files follow, inferred
//! from the names (date and time prefixes, a sequence prefix, the id).
//!
//! The naming says where the id sits in a file name (so a renumber changes
//! that token and only it, and a mismatch is reported only where the name
//! is meant to carry the id), and how to name a new file.

use std::fmt;
use std::ops::Range;

use regex::Regex;
use serde::Serialize;

use crate::utc::Utc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DateField {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Epoch,
}

impl DateField {
    fn name(self) -> &'static str {
        match self {
            DateField::Year => "year",
            DateField::Month => "month",
            DateField::Day => "day",
            DateField::Hour => "hour",
            DateField::Minute => "minute",
            DateField::Second => "second",
            DateField::Epoch => "epoch",
        }
    }

    fn from_name(name: &str) -> Option<DateField> {
        Some(match name {
            "year" => DateField::Year,
            "month" => DateField::Month,
            "day" => DateField::Day,
            "hour" => DateField::Hour,
            "minute" => DateField::Minute,
            "second" => DateField::Second,
            "epoch" => DateField::Epoch,
            _ => return None,
        })
    }

    fn value(self, t: &Utc) -> i64 {
        match self {
            DateField::Year => t.year,
            DateField::Month => i64::from(t.month),
            DateField::Day => i64::from(t.day),
            DateField::Hour => i64::from(t.hour),
            DateField::Minute => i64::from(t.minute),
            DateField::Second => i64::from(t.second),
            DateField::Epoch => t.epoch,
        }
    }
}

/// One piece of a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(String),
    /// A date or time field, zero-padded to `width` (0: not padded).
    Date {
        field: DateField,
        width: usize,
    },
    /// A running file number that is not the id (`0124_3_3_0_x.py` beside
    /// `revision = "5f2621c13b39"`); zero-padded to `width`.
    Seq {
        width: usize,
    },
    Rev,
    Slug,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Origin {
    /// `file_template` from alembic.ini or pyproject.toml.
    Config,
    /// Read from the names of the files.
    Inferred,
    /// Neither: Alembic's default, `%(rev)s_%(slug)s`.
    Default,
}

/// The id token and the file number a name shows, each with its span.
pub(crate) type Token = (Option<(String, Range<usize>)>, Option<(Range<usize>, u64)>);

/// Where the id and the sequence number sit in one file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spans {
    /// Each place the id shows (none where the naming has no id).
    pub revs: Vec<Range<usize>>,
    pub seq: Option<(Range<usize>, u64)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Naming {
    pub toks: Vec<Tok>,
    pub origin: Origin,
    /// The pieces before and after the id, as anchored patterns; the whole
    /// name with a generic id token. Built once per chain.
    before: Regex,
    after: Regex,
    whole: Regex,
}

impl PartialEq for Naming {
    fn eq(&self, other: &Self) -> bool {
        self.toks == other.toks && self.origin == other.origin
    }
}

impl Naming {
    /// `None` when the pieces make no pattern the regex crate builds (a
    /// field padded to a width beyond its limits).
    fn new(toks: Vec<Tok>, origin: Origin) -> Option<Naming> {
        let at = toks
            .iter()
            .position(|t| *t == Tok::Rev)
            .unwrap_or(toks.len());
        let before = pattern(&toks[..at]);
        let after = pattern(toks.get(at + 1..).unwrap_or(&[]));
        let whole = pattern(&toks);
        let anchored = |p: String| Regex::new(&format!("^{p}$")).ok();
        Some(Naming {
            before: anchored(before)?,
            after: anchored(after)?,
            whole: anchored(whole)?,
            toks,
            origin,
        })
    }

    pub fn default_template() -> Naming {
        Naming::new(
            vec![Tok::Rev, Tok::Lit("_".into()), Tok::Slug],
            Origin::Default,
        )
        .expect("the default pattern builds")
    }

    /// Alembic's `file_template` (Python %-formatting); `None` when it uses
    /// something Alembic would not fill in.
    pub fn from_template(template: &str) -> Option<Naming> {
        let mut toks = Vec::new();
        let mut lit = String::new();
        let mut rest = template;
        while let Some(at) = rest.find('%') {
            lit.push_str(&rest[..at]);
            rest = &rest[at + 1..];
            if let Some(after) = rest.strip_prefix('%') {
                lit.push('%');
                rest = after;
                continue;
            }
            let name_end = rest.strip_prefix('(')?.find(')')? + 1;
            let name = &rest[1..name_end];
            rest = &rest[name_end + 1..];
            let conv = rest.find(|c: char| c.is_ascii_alphabetic())?;
            let spec = &rest[..conv];
            let kind = rest.as_bytes()[conv];
            rest = &rest[conv + 1..];
            if !lit.is_empty() {
                toks.push(Tok::Lit(std::mem::take(&mut lit)));
            }
            toks.push(match (name, kind) {
                ("rev", b's') => Tok::Rev,
                ("slug", b's') => Tok::Slug,
                (other, b'd' | b's') => {
                    let field = DateField::from_name(other)?;
                    Tok::Date {
                        field,
                        width: spec.trim_start_matches(['.', '0']).parse().unwrap_or(0),
                    }
                }
                _ => return None,
            });
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        Naming::new(toks, Origin::Config)
    }

    /// The convention most of the files follow, the newest breaking ties.
    /// `files` holds (file stem, declared id), newest first.
    pub fn infer<'a>(files: impl Iterator<Item = (&'a str, &'a str)>) -> Naming {
        super::most_common(files.filter_map(|(stem, id)| shape(stem, id)))
            .and_then(|toks| Naming::new(toks, Origin::Inferred))
            .unwrap_or_else(Naming::default_template)
    }

    pub fn has_rev(&self) -> bool {
        self.toks.contains(&Tok::Rev)
    }

    pub fn seq_width(&self) -> Option<usize> {
        self.toks.iter().find_map(|t| match t {
            Tok::Seq { width } => Some(*width),
            _ => None,
        })
    }

    /// Where `id` and the sequence number sit in `stem`, when the name
    /// follows this naming with that id.
    pub fn locate(&self, stem: &str, id: &str) -> Option<Spans> {
        if !self.has_rev() {
            let caps = self.whole.captures(stem)?;
            return Some(Spans {
                revs: Vec::new(),
                seq: seq_of(&caps),
            });
        }
        let mut from = 0;
        while let Some(i) = stem[from..].find(id).map(|i| from + i) {
            let end = i + id.len();
            if let (Some(b), Some(a)) = (
                self.before.captures(&stem[..i]),
                self.after.captures(&stem[end..]),
            ) {
                // The id again wherever the naming repeats it.
                let again = revs(&self.after, &a);
                if again.iter().all(|m| m.as_str() == id) {
                    let seq = seq_of(&b)
                        .or_else(|| seq_of(&a).map(|(r, n)| (r.start + end..r.end + end, n)));
                    let spans = std::iter::once(i..end)
                        .chain(again.iter().map(|m| m.start() + end..m.end() + end))
                        .collect();
                    return Some(Spans { revs: spans, seq });
                }
            }
            from = i + 1;
        }
        None
    }

    /// The running file number of a name declaring `id`, whether or not the
    /// name carries that id.
    pub fn number(&self, stem: &str, id: &str) -> Option<u64> {
        self.seq_width()?;
        match self.locate(stem, id) {
            Some(spans) => spans.seq.map(|(_, n)| n),
            None => self.token(stem)?.1.map(|(_, n)| n),
        }
    }

    /// The id token of a name that follows this naming with some other id,
    /// with its span; the sequence number too.
    pub fn token(&self, stem: &str) -> Option<Token> {
        let caps = self.captures(stem)?;
        let rev = caps
            .name("rev")
            .map(|m| (m.as_str().to_string(), m.range()));
        Some((rev, seq_of(&caps)))
    }

    /// Every span of the id token in a name that follows this naming (one
    /// for each time the naming shows the id).
    pub fn rev_spans(&self, stem: &str) -> Vec<Range<usize>> {
        self.captures(stem)
            .map(|caps| revs(&self.whole, &caps).iter().map(|m| m.range()).collect())
            .unwrap_or_default()
    }

    /// The whole name's groups, where it follows this naming: the same id
    /// wherever the naming repeats it.
    fn captures<'h>(&self, stem: &'h str) -> Option<regex::Captures<'h>> {
        let caps = self.whole.captures(stem)?;
        let revs = revs(&self.whole, &caps);
        revs.iter()
            .all(|m| m.as_str() == revs[0].as_str())
            .then_some(caps)
    }

    /// The date and number fields of `stem`, where it follows this naming:
    /// digits there are never an id, whatever they spell.
    pub fn fixed_spans(&self, stem: &str) -> Vec<Range<usize>> {
        let Some(caps) = self.captures(stem) else {
            return Vec::new();
        };
        // Date fields are the unnamed groups.
        self.whole
            .capture_names()
            .enumerate()
            .skip(1)
            .filter(|(_, name)| name.is_none_or(|n| group_is(n, "seq")))
            .filter_map(|(i, _)| caps.get(i).map(|m| m.range()))
            .collect()
    }

    /// The name of a new file: the current time in the date fields.
    pub fn render(&self, id: &str, slug: &str, seq: Option<u64>, now: &Utc) -> String {
        let mut out = String::new();
        for t in &self.toks {
            match t {
                Tok::Lit(s) => out.push_str(s),
                Tok::Date { field, width } => {
                    out.push_str(&format!("{:0width$}", field.value(now)))
                }
                Tok::Seq { width } => out.push_str(&format!("{:0width$}", seq.unwrap_or(1))),
                Tok::Rev => out.push_str(id),
                Tok::Slug => out.push_str(slug),
            }
        }
        format!("{out}.py")
    }

    /// Alembic's notation, with the sequence number shown as `NNNN`.
    pub fn template(&self) -> String {
        let mut out = String::new();
        for t in &self.toks {
            match t {
                Tok::Lit(s) => out.push_str(&s.replace('%', "%%")),
                Tok::Date { field, width: 0 } => out.push_str(&format!("%({})d", field.name())),
                Tok::Date { field, width } => {
                    out.push_str(&format!("%({}).{width}d", field.name()))
                }
                Tok::Seq { width } => out.push_str(&"N".repeat((*width).max(1))),
                Tok::Rev => out.push_str("%(rev)s"),
                Tok::Slug => out.push_str("%(slug)s"),
            }
        }
        out
    }
}

impl fmt::Display for Naming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let from = match self.origin {
            Origin::Config => "file_template",
            Origin::Inferred => "inferred",
            Origin::Default => "default",
        };
        write!(f, "files {} ({from})", self.template())
    }
}

/// Whether a group is one of `kind`'s: a naming that shows a field twice
/// names the later groups `kind_1`, `kind_2`, ...
fn group_is(name: &str, kind: &str) -> bool {
    name.strip_prefix(kind)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
}

/// The id's groups that matched, in order.
fn revs<'h>(re: &Regex, caps: &regex::Captures<'h>) -> Vec<regex::Match<'h>> {
    re.capture_names()
        .enumerate()
        .filter(|(_, name)| name.is_some_and(|n| group_is(n, "rev")))
        .filter_map(|(i, _)| caps.get(i))
        .collect()
}

fn seq_of(caps: &regex::Captures<'_>) -> Option<(Range<usize>, u64)> {
    caps.name("seq")
        .and_then(|m| m.as_str().parse().ok().map(|n| (m.range(), n)))
}

/// The regex of `toks`. A field shown more than once gets a group per
/// showing, the later ones numbered (`rev`, `rev_1`): the regex crate has
/// no backreferences, so callers compare them.
fn pattern(toks: &[Tok]) -> String {
    let mut p = String::new();
    let mut shown = [0usize; 3];
    let mut group = |kind: usize, name: &str| {
        let n = shown[kind];
        shown[kind] += 1;
        if n == 0 {
            name.to_string()
        } else {
            format!("{name}_{n}")
        }
    };
    for t in toks {
        match t {
            Tok::Lit(s) => p.push_str(&regex::escape(s)),
            Tok::Date {
                field: DateField::Year,
                ..
            } => p.push_str(r"(\d{4})"),
            Tok::Date {
                field: DateField::Epoch,
                ..
            }
            | Tok::Date { width: 0, .. } => p.push_str(r"(\d+)"),
            Tok::Date { width, .. } => p.push_str(&format!(r"(\d{{{width}}})")),
            Tok::Seq { .. } => p.push_str(&format!(r"(?P<{}>\d+)", group(0, "seq"))),
            Tok::Rev => p.push_str(&format!("(?P<{}>[0-9A-Za-z]+)", group(1, "rev"))),
            Tok::Slug => p.push_str(&format!("(?P<{}>.*)", group(2, "slug"))),
        }
    }
    p
}

/// The naming one file follows: where its id is (a token between `_` or
/// `-`), what comes before it (date fields, a sequence number), and whether
/// a slug follows. `None` for a name that shows no convention.
fn shape(stem: &str, id: &str) -> Option<Vec<Tok>> {
    let bounded = |i: usize, end: usize| {
        (i == 0 || matches!(stem.as_bytes()[i - 1], b'_' | b'-'))
            && (end == stem.len() || matches!(stem.as_bytes()[end], b'_' | b'-'))
    };
    let at = (!id.is_empty())
        .then(|| {
            stem.match_indices(id)
                .map(|(i, _)| i)
                .find(|&i| bounded(i, i + id.len()))
        })
        .flatten();
    let mut toks = Vec::new();
    let rest = match at {
        Some(i) => {
            toks.extend(prefix(&stem[..i])?);
            toks.push(Tok::Rev);
            &stem[i + id.len()..]
        }
        None => {
            // No id in the name: a leading file number, or nothing to go by.
            let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
            let sep = *stem.as_bytes().get(digits)?;
            if digits == 0 || !matches!(sep, b'_' | b'-') || date(&[&stem[..digits]]).is_some() {
                return None;
            }
            toks.push(Tok::Seq { width: digits });
            &stem[digits..]
        }
    };
    match rest.as_bytes().first() {
        None => {}
        Some(sep @ (b'_' | b'-')) => {
            toks.push(Tok::Lit((*sep as char).to_string()));
            toks.push(Tok::Slug);
        }
        Some(_) => return None,
    }
    Some(toks)
}

/// What comes before the id: nothing, date and time fields, or a file
/// number; always ending in a separator.
fn prefix(p: &str) -> Option<Vec<Tok>> {
    if p.is_empty() {
        return Some(Vec::new());
    }
    // Digit runs and the separators between them.
    let mut runs = Vec::new();
    let mut seps = Vec::new();
    let mut rest = p;
    while !rest.is_empty() {
        let d = rest.bytes().take_while(u8::is_ascii_digit).count();
        let s = rest[d..]
            .bytes()
            .take_while(|b| matches!(b, b'_' | b'-' | b'.'))
            .count();
        if d == 0 || s == 0 {
            return None;
        }
        runs.push(&rest[..d]);
        seps.push(&rest[d..d + s]);
        rest = &rest[d + s..];
    }
    let fields = match date(&runs) {
        Some(fields) => fields,
        None if runs.len() == 1 => vec![vec![Tok::Seq {
            width: runs[0].len(),
        }]],
        None => return None,
    };
    let mut toks = Vec::new();
    for (f, s) in fields.into_iter().zip(seps) {
        toks.extend(f);
        toks.push(Tok::Lit(s.to_string()));
    }
    Some(toks)
}

/// Reads digit runs as date and time fields in order (year, month, day,
/// hour, minute, second), each run ending on a field boundary; or a run of
/// ten digits as seconds since 1970. Values must be plausible.
fn date(runs: &[&str]) -> Option<Vec<Vec<Tok>>> {
    if let [one] = runs {
        if one.len() == 10 && one.starts_with('1') {
            return Some(vec![vec![Tok::Date {
                field: DateField::Epoch,
                width: 0,
            }]]);
        }
    }
    use DateField::*;
    let order = [
        (Year, 4, 1970, 2200),
        (Month, 2, 1, 12),
        (Day, 2, 1, 31),
        (Hour, 2, 0, 23),
        (Minute, 2, 0, 59),
        (Second, 2, 0, 60),
    ];
    let mut next = 0;
    let mut out = Vec::new();
    for run in runs {
        let mut toks = Vec::new();
        let mut at = 0;
        while at < run.len() {
            let (field, width, lo, hi) = *order.get(next)?;
            let digits = run.get(at..at + width)?;
            let v: u32 = digits.parse().ok()?;
            if !(lo..=hi).contains(&v) {
                return None;
            }
            toks.push(Tok::Date {
                field,
                width: if field == Year { 0 } else { width },
            });
            at += width;
            next += 1;
        }
        out.push(toks);
    }
    // At least a whole date: year, month and day.
    (next >= 3).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Naming {
        Naming::from_template(s).unwrap()
    }

    #[test]
    fn templates_round_trip() {
        for s in [
            "%(rev)s_%(slug)s",
            "%(year)d%(month).2d%(day).2d_%(hour).2d%(minute).2d_%(rev)s_%(slug)s",
            "%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d-%(rev)s_%(slug)s",
            "%(epoch)d_%(rev)s",
        ] {
            assert_eq!(t(s).template(), s);
        }
        assert!(Naming::from_template("%(nope)d").is_none());
    }

    #[test]
    fn renders_new_names() {
        let now = Utc::from_epoch(1_780_668_131, 42);
        assert_eq!(
            t("%(rev)s_%(slug)s").render("0151", "merge", None, &now),
            "0151_merge.py"
        );
        assert_eq!(
            t("%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d-%(rev)s_%(slug)s")
                .render("0151", "m", None, &now),
            "2026_06_05_1402-0151_m.py"
        );
        assert_eq!(
            t("%(epoch)s_%(rev)s").render("ab", "", None, &now),
            "1780668131_ab.py"
        );
    }

    #[test]
    fn infers_date_prefixes() {
        let files = [
            (
                "20170905_1445_f1eee7b4880a_add_event_roles_table",
                "f1eee7b4880a",
            ),
            ("20180101_0000_121699507574_x", "121699507574"),
            ("20190304_1720_aa11bb22cc33_y", "aa11bb22cc33"),
        ];
        let n = Naming::infer(files.iter().copied());
        assert_eq!(
            n.template(),
            "%(year)d%(month).2d%(day).2d_%(hour).2d%(minute).2d_%(rev)s_%(slug)s"
        );
        assert_eq!(n.origin, Origin::Inferred);
        let spans = n.locate(files[1].0, "121699507574").unwrap();
        assert_eq!(spans.revs, vec![14..26]);
        assert!(n.locate(files[1].0, "20180101").is_none());
        assert_eq!(
            n.fixed_spans(files[1].0),
            vec![0..4, 4..6, 6..8, 9..11, 11..13]
        );
        assert!(n.fixed_spans("121699507574_x").is_empty());

        let prefect = Naming::infer(
            [(
                "2021_01_20_115236_9725c1cbee35_initial_migration",
                "9725c1cbee35",
            )]
            .into_iter(),
        );
        assert_eq!(
            prefect.template(),
            "%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d%(second).2d_%(rev)s_%(slug)s"
        );
        let superset =
            Naming::infer([("2015-09-21_17-30_4e6a06bad7a8_init", "4e6a06bad7a8")].into_iter());
        assert_eq!(
            superset.template(),
            "%(year)d-%(month).2d-%(day).2d_%(hour).2d-%(minute).2d_%(rev)s_%(slug)s"
        );
    }

    #[test]
    fn infers_sequence_prefixes() {
        let airflow = [
            ("0001_1_5_0_current_schema", "e3a246e0dc1"),
            ("0002_1_5_0_create_is_encrypted", "1507a7289a2f"),
        ];
        let n = Naming::infer(airflow.iter().copied());
        assert_eq!(n.template(), "NNNN_%(slug)s");
        assert!(!n.has_rev());
        assert_eq!(n.fixed_spans("0124_3_3_0_a"), vec![0..4]);
        assert_eq!(
            n.locate("0124_3_3_0_a", "5f2621c13b39").unwrap().seq,
            Some((0..4, 124))
        );

        let ckan = [
            ("001_103676e0a497_create_existing_tables", "103676e0a497"),
            ("002_86fdd8c54775_add_author", "86fdd8c54775"),
        ];
        let n = Naming::infer(ckan.iter().copied());
        assert_eq!(n.template(), "NNN_%(rev)s_%(slug)s");
        let s = n.locate(ckan[1].0, ckan[1].1).unwrap();
        assert_eq!(s.revs, vec![4..16]);
        assert_eq!(s.seq, Some((0..3, 2)));
    }

    #[test]
    fn majority_and_newest() {
        // A stray name does not change the convention.
        let files = [
            ("0038_b", "0038"),
            ("0037_a", "0038"),
            ("0036_x", "0036"),
            ("0001_y", "0001"),
        ];
        let n = Naming::infer(files.iter().copied());
        assert_eq!(n.template(), "%(rev)s_%(slug)s");
        assert!(n.locate("0037_a", "0038").is_none());
        assert_eq!(n.token("0037_a").unwrap().0, Some(("0037".into(), 0..4)));
        // A tie: the newest file's convention.
        let tie = [
            ("20200101_0000_aaaaaaaaaaaa_x", "aaaaaaaaaaaa"),
            ("bbbbbbbbbbbb_y", "bbbbbbbbbbbb"),
        ];
        assert_eq!(
            Naming::infer(tie.iter().copied()).template(),
            "%(year)d%(month).2d%(day).2d_%(hour).2d%(minute).2d_%(rev)s_%(slug)s"
        );
        assert_eq!(
            Naming::infer(tie.iter().rev().copied()).template(),
            "%(rev)s_%(slug)s"
        );
        // Underscores inside an id.
        let aiida = Naming::infer([("main_0001_initial", "main_0001")].into_iter());
        assert_eq!(
            aiida.locate("main_0001_initial", "main_0001").unwrap().revs,
            vec![0..9]
        );
    }

    #[test]
    fn repeated_fields() {
        let n = t("%(rev)s_%(slug)s_%(rev)s");
        assert_eq!(n.template(), "%(rev)s_%(slug)s_%(rev)s");
        let s = n.locate("0001_add_x_0001", "0001").unwrap();
        assert_eq!(s.revs, vec![0..4, 11..15]);
        assert!(n.locate("0001_add_x_0002", "0001").is_none());
        assert_eq!(
            n.token("0037_a_0037").unwrap().0,
            Some(("0037".into(), 0..4))
        );
        assert_eq!(n.rev_spans("0037_a_0037"), vec![0..4, 7..11]);
        assert!(n.token("0037_a_0038").is_none());
        let now = Utc::from_epoch(1_780_668_131, 42);
        assert_eq!(n.render("0002", "b", None, &now), "0002_b_0002.py");
        let twice = t("%(slug)s-%(year)d-%(slug)s-%(year)d-%(rev)s");
        assert_eq!(
            twice.locate("a-2020-a-2020-ff", "ff").unwrap().revs,
            vec![14..16]
        );
        assert_eq!(twice.fixed_spans("a-2020-a-2020-ff"), vec![2..6, 9..13]);
        // A width no pattern can hold is no naming, not a panic.
        assert!(Naming::from_template("%(rev)s_%(month).999999999d").is_none());
    }
}
