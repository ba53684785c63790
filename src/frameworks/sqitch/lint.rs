//! The plan lint: what sqitch refuses in a plan, in the order it checks,
//! and what it only warns about.

use std::collections::HashMap;

use super::plan::{
    climbs, invalid_name, is_change_id, is_timestamp, valid_dep, Entry, Line, LineKind, Plan,
};
use super::planned::read_plan;
use super::SqitchSpec;
use crate::chains::scheme::number_prefix;
pub(crate) use crate::findings::Lint;

/// The revisions of each project of the repository by project name
/// (`%project`), for references from one chain into another.
pub(crate) type Projects = std::collections::HashMap<String, Vec<String>>;

/// The lint kinds sqitch itself accepts.
pub(crate) const WARNING_KINDS: &[&str] = &[
    "sqitch-prefix",
    "sqitch-revert-script",
    "sqitch-verify-script",
    "sqitch-unread-plan",
];

/// The sqitch projects among `chains`, read from their plans: project name
/// → its change and tag names, for `project:change` requirements.
pub(crate) fn projects(chains: &[crate::chains::Chain]) -> Projects {
    let mut out = Projects::new();
    for chain in chains {
        let Some(spec) = chain.spec.source::<super::SqitchSpec>() else {
            continue;
        };
        let Ok(text) = read_plan(&spec.plan) else {
            continue;
        };
        let plan = Plan::parse(&text);
        let Some(project) = plan.pragma("project") else {
            continue;
        };
        let names = out.entry(project.to_string()).or_default();
        for line in &plan.lines {
            match &line.kind {
                LineKind::Change(e) => names.push(e.name.clone()),
                LineKind::Tag(t) => names.push(format!("@{}", t.name)),
                _ => {}
            }
        }
    }
    out
}

/// What `sqitch plan` and `sqitch deploy --verify` refuse, line by line,
/// in the order sqitch checks it (its `App::Sqitch::Plan` parser, its
/// dependency check, and the conflicts deploy checks), plus what sqitch
/// only warns about and migfix's naming conventions, as warnings.
pub(crate) fn lint(plan: &Plan, spec: &SqitchSpec, projects: &Projects) -> Vec<Lint> {
    let mut out = Vec::new();
    let mut push = |line: usize, kind: &'static str, message: String, fix: &str| {
        out.push(Lint {
            line,
            kind,
            message,
            fix: fix.to_string(),
            command: None,
            warning: WARNING_KINDS.contains(&kind),
        });
    };
    // The findings migfix has a command for (a requirement on a name that
    // is not planned, a change declared twice): line, message and the
    // command, set once every lint is pushed.
    let mut commands: Vec<(usize, String, String)> = Vec::new();
    // The header runs to the first blank line (a comment line does not end
    // it); every line in it must be a pragma.
    let header_end = plan
        .lines
        .iter()
        .find(|l| matches!(l.kind, LineKind::Blank))
        .map_or(usize::MAX, |l| l.number);
    for line in &plan.lines {
        let in_header = line.number < header_end;
        match &line.kind {
            LineKind::Pragma { .. } if !in_header => {
                push(
                    line.number,
                    "sqitch-pragma",
                    "a pragma after the first blank line: sqitch reads it as a change".into(),
                    "move it to the header at the top of the plan",
                );
            }
            LineKind::Change(_) | LineKind::Tag(_) if in_header => {
                push(
                    line.number,
                    "sqitch-pragma",
                    "no blank line after the pragmas".into(),
                    "insert an empty line after the last % line",
                );
            }
            _ => {}
        }
    }
    let project = plan.pragma("project").unwrap_or("");
    match plan.pragma("project") {
        None => push(
            1,
            "sqitch-pragma",
            "no %project pragma".into(),
            "add `%project=NAME` at the top of the plan",
        ),
        Some(p) => {
            if let Some(why) =
                invalid_name(p, false).or_else(|| p.is_empty().then(|| "is empty".to_string()))
            {
                let line = plan
                    .lines
                    .iter()
                    .find(|l| matches!(&l.kind, LineKind::Pragma { key, .. } if key == "project"))
                    .map_or(1, |l| l.number);
                push(
                    line,
                    "sqitch-pragma",
                    format!("invalid project name `{p}`: {why}"),
                    "name the project following sqitch's rules for names",
                );
            }
        }
    }

    // sqitch's dependency check runs per tag section: `seen` holds what
    // earlier sections planned (changes and `@tags`, by line), `position`
    // the current section's changes.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut section: Vec<(&Line, &Entry)> = Vec::new();
    let mut since_tag: HashMap<&str, usize> = HashMap::new();
    let mut tags: HashMap<&str, usize> = HashMap::new();
    let mut any_change = false;
    let mut prefixes: Vec<(&str, &str, usize)> = Vec::new();
    let mut dep_errors: Vec<(usize, String, Option<String>)> = Vec::new();
    let flush = |section: &mut Vec<(&Line, &Entry)>,
                 seen: &mut HashMap<String, usize>,
                 errors: &mut Vec<(usize, String, Option<String>)>| {
        errors.extend(check_section(section, project, seen));
        for (l, e) in section.drain(..) {
            seen.insert(e.name.clone(), l.number);
        }
    };
    for line in &plan.lines {
        let (entry, is_tag) = match &line.kind {
            LineKind::Change(e) => (e, false),
            LineKind::Tag(e) => (e, true),
            _ => continue,
        };
        let n = line.number;
        let what = if is_tag { "tag" } else { "change" };
        if entry.name.is_empty() {
            push(
                n,
                "sqitch-name",
                format!("a {what} line without a name"),
                "give it a name",
            );
        } else if let Some(why) = invalid_name(&entry.name, is_tag) {
            push(
                n,
                "sqitch-name",
                format!(
                    "invalid {what} name `{}{}`: {why}",
                    entry.marker, entry.name
                ),
                "rename it following sqitch's rules for names",
            );
        } else if climbs(&entry.name) {
            push(
                n,
                "sqitch-name",
                format!(
                    "change name `{}` has a `..` segment: its scripts would be read from outside the deploy, revert and verify folders (sqitch allows it; migfix does not)",
                    entry.name
                ),
                "rename it without `..`, and move its scripts to match",
            );
        } else if entry.name == "HEAD" || entry.name == "ROOT" {
            push(
                n,
                "sqitch-name",
                format!("`{}` is a name sqitch reserves", entry.name),
                "rename it",
            );
        } else if entry.name.len() >= 40
            && entry
                .name
                .bytes()
                .take(40)
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            push(
                n,
                "sqitch-name",
                format!("`{}` could be confused with a change id", entry.name),
                "rename it",
            );
        }
        if !is_timestamp(&entry.timestamp) {
            let bracketed = is_timestamp(entry.timestamp.trim_matches(['[', ']']))
                || entry
                    .deps
                    .iter()
                    .any(|d| is_timestamp(d.text.trim_matches(['[', ']'])));
            let message = if bracketed {
                "the timestamp is in brackets: sqitch reads it as a dependency".to_string()
            } else if entry.timestamp.is_empty() {
                "no timestamp".to_string()
            } else {
                format!("malformed timestamp `{}`", entry.timestamp)
            };
            push(
                n,
                "sqitch-timestamp",
                message,
                "write the planned time as YYYY-MM-DDTHH:MM:SSZ, without brackets",
            );
        } else if entry.planner.trim().is_empty()
            || !entry.email.starts_with('<')
            || !entry.email.ends_with('>')
            || entry.email.len() < 3
        {
            push(
                n,
                "sqitch-planner",
                format!("{what} `{}` has no planner `Name <email>`", entry.name),
                "add the planner's name and <email> after the timestamp",
            );
        }
        if is_tag {
            if !any_change {
                push(
                    n,
                    "sqitch-tag",
                    format!("tag @{} comes before any change", entry.name),
                    "plan a change before the first tag",
                );
            }
            if let Some(first) = tags.get(entry.name.as_str()) {
                push(
                    n,
                    "sqitch-duplicate",
                    format!(
                        "tag @{} is declared again (first on line {first})",
                        entry.name
                    ),
                    "give the later tag another name",
                );
            }
            if entry.deps_raw.is_some() {
                push(
                    n,
                    "sqitch-tag",
                    format!(
                        "tag @{} lists dependencies: tags cannot have any",
                        entry.name
                    ),
                    "remove the brackets from the tag line",
                );
            }
            flush(&mut section, &mut seen, &mut dep_errors);
            seen.insert(format!("@{}", entry.name), n);
            tags.entry(&entry.name).or_insert(n);
            since_tag.clear();
            continue;
        }
        any_change = true;
        if let Some(first) = since_tag.get(entry.name.as_str()) {
            let message = format!(
                "change `{}` duplicates its declaration on line {first}, with no tag between them",
                entry.name
            );
            // Both lines name one set of scripts: the same change, merged
            // twice. Keeping the first is the fix, where the markers agree.
            let agree = section
                .iter()
                .any(|(l, e)| l.number == *first && e.marker == entry.marker);
            if agree {
                commands.push((
                    n,
                    message.clone(),
                    format!("dedupe {}", crate::findings::shell_arg(&entry.name)),
                ));
            }
            push(
                n,
                "sqitch-duplicate",
                message,
                "keep the first declaration (the scripts are one), or tag the plan before reworking a change",
            );
        }
        let mut listed: Vec<String> = Vec::new();
        // sqitch stops at a missing timestamp before reading the brackets.
        let deps = if is_timestamp(&entry.timestamp) {
            &entry.deps[..]
        } else {
            &[]
        };
        for dep in deps {
            let written = if dep.conflict {
                format!("!{}", dep.text)
            } else {
                dep.text.clone()
            };
            if !valid_dep(&dep.text) {
                push(
                    n,
                    "sqitch-dependency",
                    format!("`{written}` is not a valid dependency"),
                    "write it as NAME, NAME@TAG, @TAG or PROJECT:NAME",
                );
            } else if listed.contains(&written) {
                push(
                    n,
                    "sqitch-dependency",
                    format!("`{}` lists `{written}` twice", entry.name),
                    "list each dependency once",
                );
            }
            listed.push(written);
            let (proj, name, tag) = dep.parts();
            if let (Some(p), false) = (proj, dep.conflict) {
                if p != project {
                    if let Some(names) = projects.get(p) {
                        let wanted = if name.is_empty() {
                            format!("@{}", tag.unwrap_or_default())
                        } else {
                            name.to_string()
                        };
                        if !names.contains(&wanted) {
                            let changes: Vec<&str> = names
                                .iter()
                                .map(String::as_str)
                                .filter(|c| !c.starts_with('@'))
                                .collect();
                            let near = suggest(&wanted, &changes);
                            let hint = near
                                .map(|s| format!("; did you mean {p}:{s}?"))
                                .unwrap_or_default();
                            let message = format!(
                                "`{}` requires `{}`, but project {p} plans no `{wanted}`{hint}",
                                entry.name, dep.text
                            );
                            // With nothing near, onto the project's last change.
                            if let (false, Some(to)) =
                                (wanted.starts_with('@'), near.or(changes.last().copied()))
                            {
                                commands.push((
                                    n,
                                    message.clone(),
                                    repoint_command(&format!("{p}:{wanted}"), &format!("{p}:{to}")),
                                ));
                            }
                            push(
                                n,
                                "sqitch-dependency",
                                message,
                                "fix the name, or plan the change in that project",
                            );
                        }
                    }
                }
            }
        }
        if let Some(prefix) = number_prefix(&entry.name) {
            if let Some((other, _, other_line)) = prefixes
                .iter()
                .find(|(p, name, _)| *p == prefix && *name != entry.name)
            {
                push(
                    n,
                    "sqitch-prefix",
                    format!(
                        "`{}` reuses sequence number {prefix} of `{other}` (line {other_line})",
                        entry.name
                    ),
                    "renumber the later change: migfix renumber NAME",
                );
            }
            prefixes.push((prefix, &entry.name, n));
        }
        since_tag.insert(&entry.name, n);
        section.push((line, entry));
    }
    flush(&mut section, &mut seen, &mut dep_errors);
    // The changes planned before a line.
    let before = |line: usize| -> Vec<&str> {
        plan.changes()
            .take_while(|(l, _)| l.number < line)
            .map(|(_, e)| e.name.as_str())
            .filter(|name| !name.is_empty())
            .collect()
    };
    for (line, message, missing) in dep_errors {
        // A name planned nowhere before it: the one it most likely meant,
        // else the change planned just before it. In `name@tag` with the
        // tag planned, the name is re-pointed among the changes before the
        // tag; a missing tag has no such fix.
        let (missing, tag, candidates) = match missing.as_deref().map(|m| m.split_once('@')) {
            None | Some(None) => (missing.clone(), None, before(line)),
            Some(Some((name, tag))) => {
                let tag_line = plan
                    .lines
                    .iter()
                    .find(|l| matches!(&l.kind, LineKind::Tag(e) if e.name == tag))
                    .map(|l| l.number)
                    .filter(|&t| t < line && !name.is_empty());
                match tag_line {
                    Some(t) => (Some(name.to_string()), Some(tag), before(t)),
                    None => (None, None, Vec::new()),
                }
            }
        };
        let missing = missing.filter(|m| plan.changes().all(|(_, e)| e.name != *m));
        let near = missing.as_deref().and_then(|m| suggest(m, &candidates));
        let message = match (near, tag) {
            (Some(s), Some(t)) => format!("{message}; did you mean {s}@{t}?"),
            (Some(s), None) => format!("{message}; did you mean {s}?"),
            (None, _) => message,
        };
        if let (Some(m), Some(to)) = (&missing, near.or(candidates.last().copied())) {
            commands.push((line, message.clone(), repoint_command(m, to)));
        }
        push(
            line,
            "sqitch-dependency",
            message,
            "plan the dependency first, or fix its name",
        );
    }
    for (line, message, fix) in super::conflicts::refused(plan, &spec.plan_as_sqitch_shows_it()) {
        push(line, "sqitch-conflict", message, fix);
    }
    for p in plan.planned() {
        if p.entry.marker == "-" {
            continue;
        }
        let [deploy, revert, verify] = p.scripts(spec);
        for (path, kind, what) in [
            (deploy, "sqitch-script", "sqitch deploy fails"),
            (revert, "sqitch-revert-script", "sqitch revert fails"),
            (
                verify,
                "sqitch-verify-script",
                "sqitch deploy --verify only warns",
            ),
        ] {
            if !path.is_file() {
                push(
                    p.line.number,
                    kind,
                    format!("missing script {} ({what})", path.display()),
                    "add the script, or remove the change from the plan",
                );
            }
        }
    }
    for (line, message, command) in commands {
        if let Some(l) = out
            .iter_mut()
            .find(|l| l.line == line && l.message == message)
        {
            l.command = Some(command);
        }
    }
    out.sort_by_key(|l| l.line);
    out
}

/// `repoint OLD NEW`, each quoted for a shell where it must be.
fn repoint_command(old: &str, new: &str) -> String {
    format!(
        "repoint {} {}",
        crate::findings::shell_arg(old),
        crate::findings::shell_arg(new)
    )
}

/// Of `names`, the one a requirement on `missing` most likely meant: the
/// one with its sequence number, else one a letter or two off, else the
/// one that has it as a whole word (`roles` renamed `chef_roles`).
fn suggest<'n>(missing: &str, names: &[&'n str]) -> Option<&'n str> {
    let one = |found: Vec<&'n str>| match found[..] {
        [one] => Some(one),
        _ => None,
    };
    if let Some(prefix) = number_prefix(missing) {
        let same: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| number_prefix(n) == Some(prefix))
            .collect();
        if let Some(s) = one(same) {
            return Some(s);
        }
    }
    if let Some((_, s)) = names
        .iter()
        .map(|n| (strsim::osa_distance(missing, n), *n))
        .filter(|(d, n)| *d <= (n.len().max(missing.len()) / 3).max(1))
        .min()
    {
        return Some(s);
    }
    let word = |n: &str| {
        n.split(|c: char| !c.is_ascii_alphanumeric())
            .collect::<Vec<_>>()
            .windows(missing.split(|c: char| !c.is_ascii_alphanumeric()).count())
            .any(|w| w.join("_") == missing.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
    };
    one(names.iter().copied().filter(|n| word(n)).collect())
}

/// sqitch's `check_changes` for one tag section: each requirement on this
/// project must name a change of an earlier section, or one planned
/// earlier in this section; `name@tag` a change planned before that tag.
fn check_section(
    section: &[(&Line, &Entry)],
    project: &str,
    seen: &HashMap<String, usize>,
) -> Vec<(usize, String, Option<String>)> {
    let mut position: HashMap<&str, usize> = HashMap::new();
    let mut bad: Vec<(usize, &str, Vec<String>)> = Vec::new();
    for (i, (line, entry)) in section.iter().enumerate() {
        let mut missing = Vec::new();
        for dep in entry
            .deps
            .iter()
            .filter(|d| !d.conflict && valid_dep(&d.text))
        {
            let (proj, name, tag) = dep.parts();
            if proj.is_some_and(|p| p != project)
                || (proj.is_none() && is_change_id(name) && tag.is_none())
            {
                continue;
            }
            let key = match tag {
                Some(t) => format!("{name}@{t}"),
                None => name.to_string(),
            };
            let ok = match tag {
                Some(t) if !name.is_empty() => {
                    matches!((seen.get(&format!("@{t}")), seen.get(name)), (Some(tag_at), Some(change_at)) if change_at < tag_at)
                }
                _ => seen.contains_key(&key) || position.contains_key(key.as_str()),
            };
            if !ok {
                missing.push(key);
            }
        }
        position.insert(&entry.name, i + 1);
        if !missing.is_empty() {
            bad.push((line.number, &entry.name, missing));
        }
    }
    let mut out = Vec::new();
    for (line, change, deps) in bad {
        for dep in deps {
            let (message, missing) = if dep == change {
                (format!("`{change}` requires itself"), None)
            } else if let Some(pos) = position.get(dep.as_str()) {
                let delta = pos - position[change];
                (format!("`{change}` requires `{dep}`, which is planned later ({delta} change{} after it)", if delta == 1 { "" } else { "s" }), None)
            } else {
                (
                    format!("`{change}` requires `{dep}`, which is not planned before it"),
                    Some(dep),
                )
            };
            out.push((line, message, missing));
        }
    }
    out
}

/// What the plan `after` is told that `before` was not (scripts aside: a
/// repair of the plan's text moves none), for a repair to refuse.
pub(super) fn added(
    before: &Plan,
    after: &Plan,
    spec: &SqitchSpec,
    known: &Projects,
) -> Vec<String> {
    let describe = |p: &Plan| -> Vec<String> {
        lint(p, spec, known)
            .into_iter()
            .filter(|l| !l.kind.contains("script"))
            .map(|l| l.message)
            .collect()
    };
    let was = describe(before);
    describe(after)
        .into_iter()
        .filter(|m| !was.contains(m))
        .collect()
}
