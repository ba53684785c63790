//! Findings: what `check` and `diagnose` report, each with its failure
//! class from the migration-gate runbook, its evidence and its fix.

use serde::Serialize;

use crate::chains::Chain;
use crate::config::rel;
use crate::graph::{Graph, Problem, Via};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Finding {
    /// A–F from the runbook, or `None` for chain problems outside it.
    pub class: Option<char>,
    pub kind: &'static str,
    /// `None` for a log finding that no chain in the tree explains.
    pub chain: Option<String>,
    pub revision: Option<String>,
    pub path: Option<String>,
    pub line: Option<usize>,
    pub message: String,
    pub fix: String,
    /// The command that applies the fix, or its first step.
    pub command: Option<String>,
    /// The steps after `command`, in order, where the fix takes several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub then: Vec<String>,
    /// What the failure is about: a role, a table, an index or a revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// SQL that fixes it, ready to paste into the gate (classes A and B).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// Other places that take part: the earlier `create_table` of class F,
    /// the other migrations that grant to one role.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Place>,
    /// For a finding from a log: the 1-based lines that show it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_lines: Vec<usize>,
    /// For a finding from a log: the error line, as printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a finding from a log: the SQL statement that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// For a finding from a log: the CI step it happened in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// What the framework's own tool accepts anyway: `check` warns.
    #[serde(skip)]
    pub warning: bool,
}

/// One finding of a framework's own lint.
#[derive(Debug)]
pub(crate) struct Lint {
    pub line: usize,
    pub kind: &'static str,
    pub message: String,
    pub fix: String,
    /// The migfix command that applies the fix, without `migfix` and the
    /// chain (`repoint OLD NEW`): the shared layer adds them.
    pub command: Option<String>,
    /// The framework's own tool accepts it.
    pub warning: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Place {
    pub path: String,
    pub line: usize,
}

impl Finding {
    /// A finding with only the required parts; the rest is filled in by
    /// the caller.
    pub fn new(
        class: Option<char>,
        kind: &'static str,
        chain: Option<&str>,
        message: String,
        fix: String,
    ) -> Finding {
        Finding {
            class,
            kind,
            chain: chain.map(str::to_string),
            revision: None,
            path: None,
            line: None,
            message,
            fix,
            command: None,
            then: Vec::new(),
            subject: None,
            sql: None,
            related: Vec::new(),
            log_lines: Vec::new(),
            error: None,
            statement: None,
            step: None,
            warning: false,
        }
    }
}

impl Finding {
    /// The `run:` lines: the command, or its steps numbered.
    pub fn run_lines(&self) -> Vec<String> {
        let Some(first) = &self.command else {
            return Vec::new();
        };
        if self.then.is_empty() {
            return vec![first.clone()];
        }
        std::iter::once(first)
            .chain(&self.then)
            .enumerate()
            .map(|(n, c)| format!("{}. {c}", n + 1))
            .collect()
    }
}

/// Whether a problem concerns the app `--chain LABEL` selected.
fn problem_in_focus(chain: &Chain, graph: &Graph<'_>, p: &Problem) -> bool {
    let revs: Vec<usize> = match p {
        Problem::MultipleHeads { heads, .. } => heads.clone(),
        Problem::DuplicateSequence { revs, .. }
        | Problem::DuplicateId { revs, .. }
        | Problem::Cycle { revs }
        | Problem::LabelClash { revs, .. } => revs.clone(),
        Problem::Dangling { rev, .. }
        | Problem::InvalidId { rev, .. }
        | Problem::FilenameMismatch { rev, .. } => vec![*rev],
        Problem::MultipleBases { bases } => bases.clone(),
        Problem::NoHead => return true,
    };
    revs.iter().any(|&i| chain.in_focus(graph.rev(i)))
}

/// Findings that the frameworks' own tools do not stop at: file names (they
/// never read them), several bases (they upgrade them all), and what a
/// framework's lint marks as accepted (a missing verify script, a reused
/// sequence number). `check` shows them as warnings rather than failing on
/// them.
pub(crate) fn warns_only(f: &Finding) -> bool {
    f.warning
        || matches!(
            f.kind,
            "filename-mismatch" | "duplicate-file-number" | "multiple-bases"
        )
}

/// A finding as a `check` warning, with its fix.
pub(crate) fn as_warning(f: &Finding) -> crate::error::Diag {
    let class = f.class.map(|c| format!("[{c}] ")).unwrap_or_default();
    let run = match f.run_lines() {
        lines if lines.is_empty() => String::new(),
        lines => format!("; run: {}", lines.join(" ")),
    };
    crate::error::Diag::new(
        f.path.clone().unwrap_or_default(),
        f.line,
        format!("{class}{}; fix: {}{run}", f.message, f.fix),
    )
}

fn ids(graph: &Graph<'_>, revs: &[usize]) -> Vec<String> {
    revs.iter().map(|&i| graph.rev(i).id.clone()).collect()
}

pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The same list joined with "or".
pub(crate) fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Of several files, the one merged later, and how that was judged: the
/// last to reach the branch in git history, else the last by name.
pub(crate) fn merged_later(
    root: &std::path::Path,
    paths: &[std::path::PathBuf],
) -> (usize, &'static str) {
    let last = paths.len().saturating_sub(1);
    let Some(depths) = crate::git::Repo::discover(root).and_then(|r| r.arrivals(paths)) else {
        return (
            last,
            "last by name; outside git, which was merged later is unknown",
        );
    };
    let newest = depths.iter().min().copied().unwrap_or_default();
    // Files that arrived together (one merge) are told apart by name.
    let n = depths.iter().rposition(|&d| d == newest).unwrap_or(last);
    if depths.iter().all(|&d| d == newest) {
        return (n, "last by name; both reached the branch in one commit");
    }
    (n, "by git history")
}

/// Where a dangling `down_revision` should point: the revision it most
/// likely meant, else, with nothing near, the one head (of its part) that
/// is not its own, so that it comes last.
fn onto(graph: &Graph<'_>, rev: usize, via: &Via, suggestion: Option<&str>) -> Option<String> {
    if *via != Via::DownRevision {
        return None;
    }
    if let Some(s) = suggestion {
        return Some(s.to_string());
    }
    let own = graph.descendants(rev);
    let part = |i: usize| graph.rev(i).part.as_ref().map(|p| p.label.clone());
    let others: Vec<usize> = graph
        .heads()
        .into_iter()
        .filter(|&h| h != rev && !own.contains(&h) && part(h) == part(rev))
        .collect();
    match others[..] {
        [one] => Some(graph.rev(one).id.clone()),
        _ => None,
    }
}

/// The command that re-points a dangling `down_revision`, keeping the
/// revision's id (see [`onto`]).
pub(crate) fn repoint(
    root: &std::path::Path,
    graph: &Graph<'_>,
    rev: usize,
    via: &Via,
    suggestion: Option<&str>,
) -> Option<String> {
    let r = graph.rev(rev);
    let to = onto(graph, rev, via, suggestion)?;
    // Put last by a guess, a numbered revision whose number is not past
    // the head's would claim a number twice: it takes the next one.
    let number = |id: &str| {
        let name = id.rsplit_once('.').map_or(id, |(_, n)| n);
        crate::chains::scheme::number_prefix(name).and_then(|n| n.parse::<u64>().ok())
    };
    let behind = matches!((number(&r.id), number(&to)), (Some(a), Some(b)) if a <= b);
    Some(if suggestion.is_none() && behind {
        format!("migfix renumber {} --onto {to}", rel(root, &r.path))
    } else {
        format!(
            "migfix renumber {} --to {} --onto {to}",
            rel(root, &r.path),
            r.id
        )
    })
}

/// Where a reference to a missing revision other than the parent (a
/// `depends_on`, a dependency on another part) should point: the revision
/// it most likely meant, else, for a target in a part of the chain, that
/// part's one head.
fn reference_onto(graph: &Graph<'_>, target: &str, suggestion: Option<&str>) -> Option<String> {
    if let Some(s) = suggestion {
        return Some(s.to_string());
    }
    let (part, _) = target.rsplit_once('.')?;
    let heads: Vec<usize> = graph
        .heads()
        .into_iter()
        .filter(|&h| graph.rev(h).part.as_ref().is_some_and(|p| p.label == part))
        .collect();
    match heads[..] {
        [one] => Some(graph.rev(one).id.clone()),
        _ => None,
    }
}

/// The command that mends a reference to a missing revision other than the
/// parent: re-pointed where [`reference_onto`] finds a target, else taken
/// out where the framework can lose one.
fn reference_step(
    chain: &Chain,
    several: bool,
    graph: &Graph<'_>,
    target: &str,
    suggestion: Option<&str>,
) -> Option<String> {
    let to = match reference_onto(graph, target, suggestion) {
        Some(to) => shell_arg(&to),
        None if chain.spec.profile.rules.droppable => "--drop".to_string(),
        None => return None,
    };
    Some(migfix(
        chain.name(),
        several,
        &format!("repoint {} {to}", shell_arg(target)),
    ))
}

/// A migfix command line: `--chain NAME` first where the repository has
/// several chains.
pub(crate) fn migfix(chain: &str, several: bool, rest: &str) -> String {
    if several {
        format!("migfix --chain {} {rest}", shell_arg(chain))
    } else {
        format!("migfix {rest}")
    }
}

/// A word as a POSIX shell reads it back: as it is when plain, else in
/// single quotes.
pub(crate) fn shell_arg(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./@%+=:,-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Where the chain has dangling pointers, which a merge refuses: `Ok`
/// with the commands that re-point them all and whether the heads of
/// `label` stay forked after them, or `Err` with what to do by hand.
fn dangling_first(
    root: &std::path::Path,
    chain: &Chain,
    several: bool,
    graph: &Graph<'_>,
    label: Option<&str>,
) -> Option<Result<(Vec<String>, bool), String>> {
    let dangling: Vec<Problem> = graph
        .problems()
        .into_iter()
        .filter(|p| matches!(p, Problem::Dangling { .. }))
        .collect();
    if dangling.is_empty() {
        return None;
    }
    // The chain as the re-points leave it, to see whether the fork stays.
    let mut steps = Vec::new();
    let mut repointed = chain.clone();
    for p in dangling {
        let Problem::Dangling {
            rev,
            target,
            via,
            suggestion,
        } = p
        else {
            continue;
        };
        if via == Via::DependsOn {
            // Not a parent: re-pointed by name (or taken out), the fork
            // stays as it is.
            let Some(step) = reference_step(chain, several, graph, &target, suggestion.as_deref())
            else {
                return Some(Err(format!(
                    "first point the reference in {} at an existing {} instead of {target} (a merge is refused while it dangles)",
                    rel(root, &graph.rev(rev).path),
                    chain.spec.profile.words.one,
                )));
            };
            let to = reference_onto(graph, &target, suggestion.as_deref());
            if let Some(deps) = repointed.revisions[rev].depends_on.as_mut() {
                match &to {
                    Some(to) => deps
                        .iter_mut()
                        .filter(|d| **d == target)
                        .for_each(|d| d.clone_from(to)),
                    None => deps.retain(|d| *d != target),
                }
            }
            steps.push(step);
            continue;
        }
        let Some(step) = repoint(root, graph, rev, &via, suggestion.as_deref()) else {
            let r = graph.rev(rev);
            return Some(Err(format!(
                "first point the {} in {} at an existing {} instead of {target} (a merge is refused while it dangles)",
                chain.spec.profile.words.parent_field,
                rel(root, &r.path),
                chain.spec.profile.words.one,
            )));
        };
        let to = onto(graph, rev, &via, suggestion.as_deref()).expect("a re-point has a target");
        let down = &mut repointed.revisions[rev].down;
        for d in down.iter_mut().filter(|d| **d == target) {
            d.clone_from(&to);
        }
        steps.push(step);
    }
    let forked = Graph::build(&repointed)
        .forks()
        .iter()
        .any(|(_, l)| l.as_deref() == label);
    Some(Ok((steps, forked)))
}

/// Everything `check` reports for one chain from its graph, then `lint`,
/// its framework's own lint, whose lines are in `lint_file`; `several`
/// when the repository has other chains (a command then names the chain).
pub(crate) fn for_chain(
    root: &std::path::Path,
    chain: &Chain,
    several: bool,
    lint_file: &std::path::Path,
    lint: Vec<Lint>,
) -> Vec<Finding> {
    let graph = Graph::build(chain);
    let at = |i: usize| {
        let r = graph.rev(i);
        (Some(r.id.clone()), Some(rel(root, &r.path)), Some(r.line))
    };
    // Several files claiming one id or number: the later one is renumbered.
    let later_of = |revs: &[usize]| {
        let paths: Vec<std::path::PathBuf> =
            revs.iter().map(|&i| graph.rev(i).path.clone()).collect();
        let (n, basis) = merged_later(root, &paths);
        (revs[n], basis)
    };
    let claimed_twice = |revs: &[usize], kind: &'static str, what: String, fix: &str| {
        let files: Vec<String> = revs
            .iter()
            .map(|&i| rel(root, &graph.rev(i).path))
            .collect();
        let (later, basis) = later_of(revs);
        let file = rel(root, &graph.rev(later).path);
        (
            Some('C'),
            kind,
            at(later),
            format!("{what} {} files: {}", revs.len(), and_list(&files)),
            format!("{fix}: {file} ({basis})"),
            Some(format!("migfix renumber {file}")),
        )
    };
    let name = chain.name().to_string();
    let finding = |class, kind, (revision, path, line), message, fix, command| Finding {
        revision,
        path,
        line,
        command,
        ..Finding::new(class, kind, Some(&name), message, fix)
    };
    let profile = chain.spec.profile;
    let rules = &profile.rules;
    let mut out: Vec<Finding> = graph
        .problems()
        .into_iter()
        .filter(|p| problem_in_focus(chain, &graph, p))
        // For a sqitch plan, the lint below says the same with plan lines.
        .filter(|p| !(rules.own_lint && matches!(p, Problem::DuplicateId { .. } | Problem::Dangling { .. })))
        .map(|p| {
            let (class, kind, (revision, path, line), message, fix, command) = match p {
                Problem::MultipleHeads { heads, label } => {
                    let names = ids(&graph, &heads);
                    let parents: Vec<String> = {
                        let mut ps: Vec<String> = heads.iter().flat_map(|&h| graph.rev(h).down.clone()).collect();
                        ps.sort();
                        ps.dedup();
                        ps
                    };
                    let fork = if parents.len() == 1 && heads.len() > 1 {
                        format!(" (all revise {})", parents[0])
                    } else {
                        String::new()
                    };
                    let (later, _) = later_of(&heads);
                    // A head whose id two files declare is a duplicate, not a fork.
                    let duplicated = names.iter().find_map(|id| {
                        let files: Vec<usize> = (0..chain.revisions.len()).filter(|&i| &graph.rev(i).id == id).collect();
                        (files.len() > 1).then(|| (id.clone(), later_of(&files)))
                    });
                    // Two heads of one id are told apart by their files.
                    let names: Vec<String> = if duplicated.is_some() {
                        heads.iter().map(|&h| format!("{} ({})", graph.rev(h).id, rel(root, &graph.rev(h).path))).collect()
                    } else {
                        names
                    };
                    let on = label.as_ref().map(|l| format!(" on branch {l}")).unwrap_or_default();
                    let branch_flag = label.as_ref().map(|l| format!(" --branch {l}")).unwrap_or_default();
                    let own = (profile.words.fork)(
                        &names,
                        label.as_deref(),
                        (parents.len() == 1).then(|| parents[0].as_str()),
                    );
                    let (fix, command) = if let Some((_, fix, command)) = &own {
                        (fix.clone(), Some(command.clone()))
                    } else if let Some((id, (later_file, basis))) = duplicated {
                        let file = rel(root, &graph.rev(later_file).path);
                        (
                            format!("{id} is declared by two files, a duplicate rather than a fork: renumber the one merged later, {file} ({basis})"),
                            Some(format!("migfix renumber {file}")),
                        )
                    } else {
                        (
                            "add a no-DDL merge revision whose down_revision is the tuple of the heads, \
                             or renumber the later migration onto the other head so the chain is linear"
                                .to_string(),
                            Some(format!("migfix --chain {name} merge-heads{branch_flag}")),
                        )
                    };
                    let message = match own {
                        Some((message, _, _)) => message,
                        None => format!("{} heads{on}: {}{fork}", heads.len(), and_list(&names)),
                    };
                    // A merge is refused while a pointer dangles: re-point first.
                    let (fix, command, then) = match dangling_first(root, chain, several, &graph, label.as_deref()) {
                        None => (fix, command, Vec::new()),
                        Some(Err(first)) => (format!("{first}; then {fix}"), None, Vec::new()),
                        Some(Ok((steps, forked))) if forked => {
                            let then = steps[1..].iter().cloned().chain(command).collect();
                            (format!("re-point the dangling {} first; then {fix}", profile.words.parent_field), Some(steps[0].clone()), then)
                        }
                        Some(Ok((steps, _))) => (
                            format!("re-point the dangling {}: that alone leaves one {}", profile.words.parent_field, profile.words.head),
                            Some(steps[0].clone()),
                            steps[1..].to_vec(),
                        ),
                    };
                    return Finding {
                        then,
                        ..finding(Some('C'), "multiple-heads", at(later), message, fix, command)
                    };
                }
                Problem::DuplicateId { id, revs } => claimed_twice(
                    &revs,
                    "duplicate-id",
                    format!("{} {id} is declared by", profile.words.one),
                    "renumber the one merged later to the next free number",
                ),
                Problem::Dangling { rev, target, via, suggestion } => {
                    let field = match via {
                        Via::DownRevision => profile.words.parent_field,
                        Via::DependsOn => "depends_on",
                    };
                    let hint = suggestion.as_ref().map(|s| format!("; did you mean {s}?")).unwrap_or_default();
                    let own = (profile.words.dangling)(&graph.rev(rev).id, &target, suggestion.as_deref());
                    let fix = match (&own, &suggestion) {
                        (Some((_, fix)), _) => fix.clone(),
                        (None, Some(s)) => format!("point {field} at {s}"),
                        (None, None) if via == Via::DependsOn && profile.rules.droppable && reference_onto(&graph, &target, None).is_none() => format!(
                            "nothing is near {target}: if it is still to come from another branch, merge that first; else take the entry out of {field}"
                        ),
                        (None, None) => match onto(&graph, rev, &via, None) {
                            Some(head) => format!(
                                "point {field} at an existing {}; with none near {target}, onto the {} {head}, to come last",
                                profile.words.one, profile.words.head
                            ),
                            None => format!("point {field} at an existing {} (see `migfix history`)", profile.words.one),
                        },
                    };
                    let repoint = match via {
                        Via::DownRevision => repoint(root, &graph, rev, &via, suggestion.as_deref()),
                        Via::DependsOn => reference_step(chain, several, &graph, &target, suggestion.as_deref()),
                    };
                    (
                        Some('E'),
                        if via == Via::DownRevision { "dangling-down-revision" } else { "dangling-depends-on" },
                        at(rev),
                        match own {
                            Some((message, _)) => message,
                            None => format!("{field} names {target}, which is not a {} in this chain{hint}", profile.words.one),
                        },
                        fix,
                        repoint,
                    )
                }
                Problem::Cycle { revs } => {
                    let names = ids(&graph, &revs);
                    (
                        None,
                        "cycle",
                        at(revs[0]),
                        format!("{} {} form a cycle", profile.words.many, and_list(&names)),
                        format!("break the cycle: one of them must {} an older {}", profile.words.revise, profile.words.one),
                        None,
                    )
                }
                Problem::InvalidId { rev, reason } => (
                    None,
                    "invalid-id",
                    at(rev),
                    format!("revision id {:?}: {reason}", graph.rev(rev).id),
                    "renumber the revision to a valid id".to_string(),
                    Some(format!("migfix renumber {}", rel(root, &graph.rev(rev).path))),
                ),
                Problem::FilenameMismatch { rev, file_id } => {
                    let r = graph.rev(rev);
                    let git_mv = crate::chains::ids::renamed(chain, r, &r.id, None)
                        .map(|to| format!("git mv {} {}", rel(root, &r.path), rel(root, &to)));
                    (
                        Some('C'),
                        "filename-mismatch",
                        at(rev),
                        format!("the filename says {file_id} but the file declares revision {}", r.id),
                        "rename the file to carry its revision id, or renumber the revision so that the two agree".to_string(),
                        git_mv,
                    )
                }
                Problem::DuplicateSequence { number, revs } if rules.bases_per_label => {
                    let ms: Vec<String> = revs.iter().map(|&i| graph.rev(i).id.clone()).collect();
                    let (later, basis) = later_of(&revs);
                    let d = graph.rev(later).part.as_ref().expect("a revision of a part");
                    (
                        Some('C'),
                        "duplicate-file-number",
                        at(later),
                        format!("number {number:04} is used by {} {} of {} {}: {}", ms.len(), profile.words.many, profile.words.branch, d.label, and_list(&ms)),
                        format!("give the migration merged later, {} ({basis}), the next free number", d.name),
                        Some(format!("migfix renumber {} {}", d.label, d.name)),
                    )
                }
                Problem::DuplicateSequence { number, revs } => claimed_twice(
                    &revs,
                    "duplicate-file-number",
                    format!("file number {number} is used by"),
                    "give the file merged later the next free number (and a fresh id)",
                ),
                Problem::MultipleBases { bases } => {
                    let names = ids(&graph, &bases);
                    let words = &profile.words;
                    // Per label, the bases share one.
                    let of = graph
                        .rev(bases[0])
                        .branch_labels
                        .as_ref()
                        .and_then(|l| l.first())
                        .filter(|_| rules.bases_per_label)
                        .map(|l| format!(" of {} {l}", words.branch))
                        .unwrap_or_default();
                    (
                        None,
                        "multiple-bases",
                        at(*bases.last().expect("two bases")),
                        format!("{} {}{of} ({}): {}", bases.len(), words.bases, words.no_parent, and_list(&names)),
                        words.join_bases.to_string(),
                        None,
                    )
                }
                Problem::NoHead => (
                    Some('C'),
                    "no-head",
                    (None, None, None),
                    format!(
                        "no {}: every {} is {} by another",
                        profile.words.head, profile.words.one, profile.words.revised
                    ),
                    "break the cycle (see the cycle finding)".to_string(),
                    None,
                ),
                Problem::LabelClash { label, revs, with_id } => {
                    let names = ids(&graph, &revs);
                    let message = if with_id {
                        format!("branch label {label} (on {}) is also a revision id", and_list(&names))
                    } else {
                        format!("branch label {label} is used by {} revisions: {}", revs.len(), and_list(&names))
                    };
                    (None, "branch-label", at(revs[0]), message, "give each branch label to one revision only".to_string(), None)
                }
            };
            finding(class, kind, (revision, path, line), message, fix, command)
        })
        .collect();
    let lint_path = rel(root, lint_file);
    for l in lint {
        // Script paths as the rest of the output shows paths: from the root.
        let message = l.message.replace(&format!("{}/", root.display()), "");
        let command = l.command.as_deref().map(|c| migfix(&name, several, c));
        let mut f = Finding::new(None, l.kind, Some(&name), message, l.fix);
        f.command = command;
        f.path = Some(lint_path.clone());
        f.line = Some(l.line);
        f.warning = l.warning;
        out.push(f);
    }
    out
}
