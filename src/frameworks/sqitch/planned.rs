//! The plan as sqitch deploys it: each change with its tags, its change id
//! and its requirements resolved, and as the common model's revisions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::plan::{Dep, Entry, Line, LineKind, Plan};
use super::SqitchSpec;
use crate::chains::Revision;
use crate::config::rel;
use crate::error::Diag;

/// One planned change as sqitch reads it.
#[derive(Debug, Clone)]
pub(crate) struct Planned<'a> {
    pub line: &'a Line,
    pub entry: &'a Entry,
    /// The tags declared after it, before the next change.
    pub tags: Vec<&'a str>,
    /// Set when the name is planned again later (sqitch's rework tags):
    /// the tags of every change between this one and the next instance,
    /// newest change first, then this one's own. Its scripts are named
    /// `name@TAG` after the first of these whose deploy script exists, or
    /// after the first (the tag `sqitch rework` names it after).
    pub rework_tags: Vec<&'a str>,
    /// Each requirement with the change it means in this plan, as an
    /// index into the list, always one planned before it: a plain name
    /// means its first instance, `name@tag` the instance as of that tag.
    /// `None` for another project's change, a change id, or a name not
    /// planned before.
    pub requires: Vec<(&'a Dep, Option<usize>)>,
}

impl Planned<'_> {
    pub fn is_reworked(&self) -> bool {
        !self.rework_tags.is_empty()
    }

    /// The script's path below the deploy, revert or verify folder, as
    /// sqitch's `path_segments` gives it; `exists` is asked about candidate
    /// deploy scripts of a reworked change.
    pub fn script(&self, extension: &str, exists: impl Fn(&str) -> bool) -> String {
        let name = &self.entry.name;
        if self.rework_tags.is_empty() {
            return format!("{name}.{extension}");
        }
        let candidates: Vec<String> = self
            .rework_tags
            .iter()
            .map(|t| format!("{name}@{t}.{extension}"))
            .collect();
        candidates
            .iter()
            .find(|c| exists(c))
            .unwrap_or(&candidates[0])
            .clone()
    }

    /// The id migfix gives it: the name, or for an older version of a
    /// reworked change `name@TAG` with the tag its scripts are named after,
    /// which sqitch also reads as this version.
    pub fn id(&self, extension: &str, exists: impl Fn(&str) -> bool) -> String {
        if self.rework_tags.is_empty() {
            return self.entry.name.clone();
        }
        let script = self.script(extension, exists);
        script
            .strip_suffix(&format!(".{extension}"))
            .unwrap_or(&script)
            .to_string()
    }

    /// The deploy, revert and verify scripts.
    pub fn scripts(&self, spec: &SqitchSpec) -> [PathBuf; 3] {
        let dirs = spec.script_dirs(self.is_reworked());
        let file = self.script(&spec.extension, |c| dirs[0].join(c).is_file());
        dirs.map(|d| d.join(&file))
    }
}

impl Plan {
    /// The changes in plan order, with their tags, rework tags and
    /// resolved requirements.
    pub fn planned(&self) -> Vec<Planned<'_>> {
        let project = self.pragma("project").unwrap_or("");
        let mut out: Vec<Planned<'_>> = Vec::new();
        // A tag's name → the index of the change it tags.
        let mut tagged: HashMap<&str, usize> = HashMap::new();
        for line in &self.lines {
            match &line.kind {
                LineKind::Tag(t) => {
                    if let Some(last) = out.len().checked_sub(1) {
                        out[last].tags.push(&t.name);
                        tagged.entry(&t.name).or_insert(last);
                    }
                }
                LineKind::Change(e) => {
                    let requires = e
                        .deps
                        .iter()
                        .filter(|d| !d.conflict)
                        .map(|d| (d, resolve(&out, &tagged, project, d)))
                        .collect();
                    if let Some(prev) = out.iter().rposition(|p| p.entry.name == e.name) {
                        let mut tags: Vec<&str> = out[prev + 1..]
                            .iter()
                            .rev()
                            .flat_map(|p| p.tags.iter().copied())
                            .collect();
                        tags.extend(out[prev].tags.iter().copied());
                        out[prev].rework_tags = tags;
                    }
                    out.push(Planned {
                        line,
                        entry: e,
                        tags: Vec::new(),
                        rework_tags: Vec::new(),
                        requires,
                    });
                }
                _ => {}
            }
        }
        out
    }
}

/// sqitch's change ids (`sqitch plan --format %H`), in plan order: the
/// SHA-1 of the change's project, URI, name, parent's id, planner, date,
/// requirements, conflicts and note, as `App::Sqitch::Plan::Change` hashes
/// them. A database's registry knows its deployed changes by these.
pub(crate) fn change_ids(plan: &Plan, planned: &[Planned<'_>]) -> Vec<String> {
    use sha1::Digest;
    let project = plan.pragma("project").unwrap_or("");
    let as_string = |d: &Dep| {
        let (proj, _, _) = d.parts();
        match proj {
            Some(p) if p == project => d.text[p.len() + 1..].to_string(),
            _ => d.text.clone(),
        }
    };
    let mut ids: Vec<String> = Vec::with_capacity(planned.len());
    for p in planned {
        let e = p.entry;
        let mut info = vec![format!("project {project}")];
        if let Some(uri) = plan.pragma("uri") {
            info.push(format!("uri {}", canonical_uri(uri)));
        }
        info.push(format!("change {}", e.name));
        if let Some(parent) = ids.last() {
            info.push(format!("parent {parent}"));
        }
        // sqitch's planner pattern leaves one blank before `<email>`.
        let gap = e
            .gap4
            .char_indices()
            .last()
            .map_or("", |(i, _)| &e.gap4[..i]);
        info.push(format!("planner {}{gap} {}", e.planner, e.email));
        info.push(format!("date {}", e.timestamp));
        let requires: Vec<String> = e
            .deps
            .iter()
            .filter(|d| !d.conflict)
            .map(as_string)
            .collect();
        if !requires.is_empty() {
            info.push(format!("requires\n  + {}", requires.join("\n  + ")));
        }
        let conflicts: Vec<String> = e
            .deps
            .iter()
            .filter(|d| d.conflict)
            .map(as_string)
            .collect();
        if !conflicts.is_empty() {
            info.push(format!("conflicts\n  - {}", conflicts.join("\n  - ")));
        }
        let note = e.note();
        if !note.is_empty() {
            info.push(String::new());
            info.push(note);
        }
        let content = info.join("\n");
        let mut hasher = sha1::Sha1::new();
        hasher.update(format!("change {}\0", content.len()).as_bytes());
        hasher.update(content.as_bytes());
        ids.push(
            hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        );
    }
    ids
}

/// A `%uri` as Perl's `URI->canonical` writes it, for the web URIs plans
/// use: scheme and host in lower case, no default port, `/` for no path.
pub(super) fn canonical_uri(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_string();
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return uri.to_string();
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let mut host = host.to_ascii_lowercase();
    let default_port = if scheme == "http" { ":80" } else { ":443" };
    if let Some(h) = host
        .strip_suffix(default_port)
        .or_else(|| host.strip_suffix(':'))
    {
        host = h.to_string();
    }
    let tail = if tail.is_empty() { "/" } else { tail };
    format!("{scheme}://{user}{host}{tail}")
}

/// The change a requirement means among those planned before it.
fn resolve(
    before: &[Planned<'_>],
    tagged: &HashMap<&str, usize>,
    project: &str,
    dep: &Dep,
) -> Option<usize> {
    let (proj, name, tag) = dep.parts();
    if proj.is_some_and(|p| p != project) {
        return None;
    }
    let upto = match tag {
        None | Some("HEAD") => before.len(),
        Some(t) => tagged.get(t)? + 1,
    };
    if name.is_empty() {
        // `@tag` alone requires the change the tag is on.
        return tag.and_then(|t| tagged.get(t).copied());
    }
    if tag.is_none() {
        // sqitch looks a plain name up with `first_index_of`: its first
        // instance, even after a rework (and the registry check agrees).
        return before.iter().position(|p| p.entry.name == name);
    }
    before[..upto].iter().rposition(|p| p.entry.name == name)
}

/// The plan's changes as revisions: each revises the one before it, and
/// depends on its requirements as sqitch resolves them. The older versions
/// of a reworked change are `name@TAG`.
pub(crate) fn read(
    root: &Path,
    spec: &SqitchSpec,
) -> Result<(Vec<Revision>, Vec<Diag>), Vec<Diag>> {
    let shown = rel(root, &spec.plan);
    let text = read_plan(&spec.plan)
        .map_err(|(line, message)| vec![Diag::new(shown.clone(), line, message)])?;
    let plan = Plan::parse(&text);
    let read_plans: Vec<String> = spec.conf_plans.iter().map(|p| rel(root, p)).collect();
    let warnings = spec
        .unread_plans
        .iter()
        .map(|p| {
            let conf = spec.conf.as_deref().map(|c| rel(root, c)).unwrap_or_default();
            Diag::new(
                rel(root, p),
                None,
                format!(
                    "sqitch does not read this plan: no target or engine of {conf} reads it (they read {}); delete it or point sqitch.conf at it",
                    crate::findings::and_list(&read_plans)
                ),
            )
        })
        .collect();
    let dir = spec.reworked_deploy_dir.clone();
    let planned = plan.planned();
    let mut revs = revisions(&planned, &spec.plan, &spec.extension, |c| {
        dir.join(c).is_file()
    });
    for ((r, p), change_id) in revs
        .iter_mut()
        .zip(&planned)
        .zip(change_ids(&plan, &planned))
    {
        r.scripts = Some(crate::chains::Scripts {
            change_id,
            paths: p.scripts(spec),
        });
    }
    Ok((revs, warnings))
}

/// A plan's text; the error names the line of a byte that is not UTF-8.
pub(crate) fn read_plan(path: &Path) -> Result<String, (Option<usize>, String)> {
    let bytes = crate::files::read(path).map_err(|e| (None, format!("cannot read: {e}")))?;
    crate::error::utf8_text(bytes).map_err(|(line, message)| (Some(line), message))
}

/// The revisions of a plan; `exists` tells whether a reworked change's
/// candidate deploy script exists (see [`Planned::script`]).
pub(crate) fn revisions(
    planned: &[Planned<'_>],
    path: &Path,
    extension: &str,
    exists: impl Fn(&str) -> bool,
) -> Vec<Revision> {
    let mut ids: Vec<String> = planned.iter().map(|p| p.id(extension, &exists)).collect();
    // A change planned again with no tag between (which sqitch refuses, and
    // the lint reports) would share its id with the first: the later ones
    // are told apart by their line, so that the graph sees no cycle.
    for i in 0..ids.len() {
        if ids[..i].contains(&ids[i]) {
            ids[i] = format!("{} (line {})", ids[i], planned[i].line.number);
        }
    }
    planned
        .iter()
        .enumerate()
        .map(|(i, p)| Revision {
            id: ids[i].clone(),
            path: path.to_path_buf(),
            line: p.line.number,
            down: i
                .checked_sub(1)
                .map(|j| vec![ids[j].clone()])
                .unwrap_or_default(),
            depends_on: Some(
                p.requires
                    .iter()
                    .map(|(d, to)| to.map_or_else(|| d.text.clone(), |j| ids[j].clone()))
                    .collect(),
            ),
            branch_labels: Some(Vec::new()),
            consts: None,
            scripts: None,
            steps: None,
            part: None,
            detail: None,
            marks: None,
        })
        .collect()
}
