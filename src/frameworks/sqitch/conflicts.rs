//! A change's conflicts (`[!name]`), checked as sqitch checks them. Reading
//! the plan ignores them; `sqitch deploy` resolves each one against the
//! whole plan (`App::Sqitch::Plan::Depend->id`, `ChangeList->find`) and
//! refuses a change whose conflict is deployed before it, or names a
//! change or tag the plan does not have. Another project's changes are
//! looked up in the database's registry, where a fresh database has none.

use std::collections::HashMap;

use super::plan::{is_change_id, is_timestamp, valid_dep, Dep, Plan};
use super::planned::change_ids;

/// What sqitch makes of one conflict.
enum Verdict {
    /// The change it names, by index in plan order.
    Planned(usize),
    /// `name`, `name@tag` or `@tag` is in no way in the plan.
    Missing(String),
    /// `name@tag` with a tag the plan does not have.
    UnknownTag(String),
    /// Another project's change, or an id the plan does not have.
    External,
}

/// The conflicts `sqitch deploy` refuses, by plan line: each message ends
/// with sqitch's own words, `plan_file` as sqitch shows the plan's path.
pub(super) fn refused(plan: &Plan, plan_file: &str) -> Vec<(usize, String, &'static str)> {
    let planned = plan.planned();
    let Some(last) = planned.len().checked_sub(1) else {
        return Vec::new();
    };
    let project = plan.pragma("project").unwrap_or("");
    let mut names: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut tags: HashMap<&str, usize> = HashMap::new();
    for (i, p) in planned.iter().enumerate() {
        names.entry(p.entry.name.as_str()).or_default().push(i);
        for t in &p.tags {
            tags.insert(t, i);
        }
    }
    let ids: HashMap<String, usize> = change_ids(plan, &planned)
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id, i))
        .collect();
    // sqitch's symbolic names: HEAD the last change, ROOT the first.
    let symbolic = |s: &str| match s {
        "HEAD" => Some(last),
        "ROOT" => Some(0),
        _ => None,
    };
    let tag_at = |t: &str| symbolic(t).or_else(|| tags.get(t).copied());
    let verdict = |dep: &Dep| -> Verdict {
        let (proj, name, tag) = dep.parts();
        if proj.is_some_and(|p| p != project) {
            return Verdict::External;
        }
        let key = match tag {
            Some(t) => format!("{name}@{t}"),
            None => name.to_string(),
        };
        let found = match tag {
            None if is_change_id(name) => match ids.get(name) {
                Some(&i) => Some(i),
                None if proj.is_none() => return Verdict::External,
                None => None,
            },
            None => symbolic(name).or_else(|| names.get(name).map(|v| v[0])),
            Some(t) if name.is_empty() => tag_at(t),
            Some(t) => {
                let Some(at) = tag_at(t) else {
                    return Verdict::UnknownTag(format!("@{t}"));
                };
                names
                    .get(name)
                    .and_then(|v| v.iter().rev().find(|&&i| i <= at).copied())
            }
        };
        found.map_or(Verdict::Missing(key), Verdict::Planned)
    };
    let mut out = Vec::new();
    for (i, p) in planned.iter().enumerate() {
        let change = &p.entry.name;
        if !is_timestamp(&p.entry.timestamp) {
            // sqitch stops at the timestamp before it reads the brackets.
            continue;
        }
        for dep in p
            .entry
            .deps
            .iter()
            .filter(|d| d.conflict && valid_dep(&d.text))
        {
            let written = match dep.parts() {
                (Some(_), name, tag) => {
                    tag.map_or_else(|| name.to_string(), |t| format!("{name}@{t}"))
                }
                _ => dep.text.clone(),
            };
            match verdict(dep) {
                Verdict::Planned(j) if j < i => out.push((
                    p.line.number,
                    format!(
                        "`{change}` conflicts with `{written}`, which is deployed before it (line {}): sqitch deploy stops with \"Conflicts with previously deployed change: {written}\"",
                        planned[j].line.number
                    ),
                    "drop the conflict, or plan this change before the one it conflicts with",
                )),
                Verdict::Missing(key) => out.push((
                    p.line.number,
                    format!(
                        "`{change}` conflicts with `{key}`, which the plan does not have: sqitch deploy stops with \"Unable to find change \"{key}\" in plan {plan_file}\""
                    ),
                    "fix the name, or drop the conflict",
                )),
                Verdict::UnknownTag(tag) => out.push((
                    p.line.number,
                    format!(
                        "`{change}` conflicts with `{written}`, whose tag the plan does not have: sqitch deploy stops with \"Unknown tag \"{tag}\"\""
                    ),
                    "fix the tag, or drop the conflict",
                )),
                Verdict::Planned(_) | Verdict::External => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "2026-06-17T00:00:00Z b <b@x>";

    fn refused_in(lines: &[&str]) -> Vec<String> {
        let mut text = String::from("%project=q\n\n");
        for l in lines {
            text.push_str(&format!("{l} {T}\n"));
        }
        refused(&Plan::parse(&text), "sqitch.plan")
            .into_iter()
            .map(|(line, m, _)| format!("{line}: {m}"))
            .collect()
    }

    #[test]
    fn a_conflict_deployed_before_is_refused_one_after_is_not() {
        assert_eq!(
            refused_in(&["a", "b [!a]"]),
            ["4: `b` conflicts with `a`, which is deployed before it (line 3): sqitch deploy stops with \"Conflicts with previously deployed change: a\""]
        );
        assert!(refused_in(&["a [!b]", "b"]).is_empty());
        assert!(
            refused_in(&["a [!a]"]).is_empty(),
            "not deployed before itself"
        );
        // This project's name is this plan; another project's is the registry's.
        assert_eq!(refused_in(&["a", "b [!q:a !other:a !other:nope]"]).len(), 1);
        assert!(refused_in(&["a", "b [!0123456789abcdef0123456789abcdef01234567]"]).is_empty());
    }

    #[test]
    fn conflicts_resolve_as_sqitch_finds_changes() {
        // `@tag` is the tagged change; `name@tag` its instance as of the tag.
        assert_eq!(refused_in(&["a", "@v1", "b [!@v1]"]).len(), 1);
        assert_eq!(refused_in(&["a", "@v1", "b [!a@v1]"]).len(), 1);
        assert!(refused_in(&["a [!@v1]", "@v1", "b"]).is_empty());
        assert_eq!(refused_in(&["a", "b [!ROOT]"]).len(), 1);
        assert!(refused_in(&["a", "b [!HEAD]"]).is_empty());
        // A plain name is its first instance, even after a rework.
        assert_eq!(
            refused_in(&["a", "@v1", "b", "a [a@v1]", "@v2", "c [!a]"]).len(),
            1
        );
    }

    #[test]
    fn a_conflict_the_plan_does_not_have_is_refused() {
        assert_eq!(
            refused_in(&["a", "b [!nope !q:zz]"]),
            [
                "4: `b` conflicts with `nope`, which the plan does not have: sqitch deploy stops with \"Unable to find change \"nope\" in plan sqitch.plan\"",
                "4: `b` conflicts with `zz`, which the plan does not have: sqitch deploy stops with \"Unable to find change \"zz\" in plan sqitch.plan\"",
            ]
        );
        assert_eq!(
            refused_in(&["a", "@v1", "b [!@v9 !b@v1]"]),
            [
                "5: `b` conflicts with `@v9`, which the plan does not have: sqitch deploy stops with \"Unable to find change \"@v9\" in plan sqitch.plan\"",
                "5: `b` conflicts with `b@v1`, which the plan does not have: sqitch deploy stops with \"Unable to find change \"b@v1\" in plan sqitch.plan\"",
            ]
        );
        assert_eq!(
            refused_in(&["a", "@v1", "b [!a@v9]"]),
            ["5: `b` conflicts with `a@v9`, whose tag the plan does not have: sqitch deploy stops with \"Unknown tag \"@v9\"\""]
        );
    }
}
