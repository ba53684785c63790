//! The gate's round trip for Alembic: upgrade, one head, downgrade -1,
//! upgrade, with a temporary ini pointing at the fresh database.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::AlembicSpec;
use crate::chains::Chain;
use crate::error::{Diag, InputErrors};
use crate::frameworks::interface::Trip;
use crate::graph::Graph;

/// Alembic's round trip: seeds, upgrade head, one head, downgrade -1,
/// upgrade head.
pub(crate) fn round_trip(trip: &mut dyn Trip, chain: &Chain, spec: &AlembicSpec) -> Result<bool> {
    let ini = spec
        .config
        .clone()
        .filter(|c| c.extension().is_some_and(|e| e == "ini"));
    let (tmp, ini_path, mut cwd) =
        temp_ini(ini.as_deref(), spec.script_location.as_deref(), &trip.url())?;
    // Version locations written from the root resolve there.
    if spec.run == super::Run::Root {
        cwd = trip.root().to_path_buf();
    }
    let env = [("DATABASE_URL", trip.url())];
    let ini_arg = ini_path.to_string_lossy().into_owned();
    let alembic_step = |trip: &mut dyn Trip, label: &str, args: &[&str]| {
        let mut all = vec!["-c", ini_arg.as_str()];
        all.extend_from_slice(args);
        trip.tool_step(label, &all, &cwd, &env)
    };
    let graph = Graph::build(chain);
    let seeds = chain.spec.gate.iter().flat_map(|g| &g.seed);
    for (before, seed_sql) in seeds.map(|s| (s.before.as_str(), s.sql.as_str())) {
        let Some(target) = graph.resolve(before).map(|i| graph.rev(i).down.clone()) else {
            return Err(InputErrors::one(Diag::new(
                "migfix.toml",
                None,
                format!(
                    "[chain.gate.seed] before = \"{before}\": no such revision in {}",
                    chain.name()
                ),
            ))
            .into());
        };
        let to = if target.is_empty() {
            "base".to_string()
        } else {
            target.join(",")
        };
        if !alembic_step(
            trip,
            &format!("alembic upgrade {to} (pre-seed)"),
            &["upgrade", &to],
        ) {
            return Ok(false);
        }
        if !trip.sql_step(&format!("seed (required by {before})"), seed_sql)? {
            return Ok(false);
        }
    }
    if !alembic_step(trip, "alembic upgrade head", &["upgrade", "head"]) {
        return Ok(false);
    }
    let heads: Vec<String> = graph
        .heads()
        .into_iter()
        .map(|i| graph.rev(i).id.clone())
        .collect();
    let single = heads.len() == 1;
    let why = if single {
        String::new()
    } else {
        format!(
            "Multiple head revisions are present: head count: {}",
            heads.len()
        )
    };
    if !trip.check_step("assert single head", single, why) {
        return Ok(false);
    }
    if !alembic_step(
        trip,
        "alembic downgrade -1 (reversibility check)",
        &["downgrade", "-1"],
    ) {
        return Ok(false);
    }
    let ok = alembic_step(trip, "alembic upgrade head", &["upgrade", "head"]);
    drop(tmp);
    Ok(ok)
}

/// A copy of the chain's alembic.ini pointing at the ephemeral database,
/// with `script_location` absolute; the user's ini is never edited. Alembic
/// runs from the ini's folder, as it would for the user.
fn temp_ini(
    ini: Option<&Path>,
    script_location: Option<&Path>,
    db_url: &str,
) -> Result<(tempfile::TempDir, PathBuf, PathBuf)> {
    let tmp = tempfile::tempdir().context("creating a temporary folder")?;
    let (text, cwd) = match ini {
        Some(ini) => {
            let dir = ini.parent().unwrap_or(Path::new(".")).to_path_buf();
            let text = crate::files::read_to_string(ini)
                .with_context(|| format!("reading {}", ini.display()))?;
            (text.replace("%(here)s", &dir.to_string_lossy()), dir)
        }
        None => ("[alembic]\n".to_string(), std::env::current_dir()?),
    };
    let escaped = db_url.replace('%', "%%");
    let mut out = String::new();
    let mut in_main = false;
    let mut seen = (false, false);
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if in_main {
                finish_section(&mut out, &mut seen, script_location, &escaped);
            }
            in_main = trimmed.starts_with("[alembic]");
        }
        let key = trimmed
            .split(['=', ':'])
            .next()
            .unwrap_or("")
            .trim()
            .to_lowercase();
        if in_main && key == "sqlalchemy.url" {
            out.push_str(&format!("sqlalchemy.url = {escaped}\n"));
            seen.0 = true;
        } else if in_main && key == "script_location" && script_location.is_some() {
            out.push_str(&format!(
                "script_location = {}\n",
                script_location
                    .expect("checked")
                    .to_string_lossy()
                    .replace('%', "%%")
            ));
            seen.1 = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if in_main {
        finish_section(&mut out, &mut seen, script_location, &escaped);
    }
    let path = tmp.path().join("alembic.ini");
    std::fs::write(&path, out).context("writing the temporary alembic.ini")?;
    Ok((tmp, path, cwd))
}

fn finish_section(
    out: &mut String,
    seen: &mut (bool, bool),
    script_location: Option<&Path>,
    url: &str,
) {
    if !seen.0 {
        out.push_str(&format!("sqlalchemy.url = {url}\n"));
        seen.0 = true;
    }
    if let (false, Some(loc)) = (seen.1, script_location) {
        out.push_str(&format!(
            "script_location = {}\n",
            loc.to_string_lossy().replace('%', "%%")
        ));
        seen.1 = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_ini_points_at_the_ephemeral_database() {
        let dir = tempfile::tempdir().unwrap();
        let ini = dir.path().join("alembic.ini");
        std::fs::write(&ini, "[alembic]\nscript_location = %(here)s/migrations\nsqlalchemy.url = postgresql://prod/db\n\n[loggers]\nkeys = root\n").unwrap();
        let (_tmp, path, cwd) = temp_ini(
            Some(&ini),
            Some(&dir.path().join("migrations")),
            "postgresql://u@h/e%x",
        )
        .unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.contains("sqlalchemy.url = postgresql://u@h/e%%x\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "script_location = {}/migrations\n",
                dir.path().display()
            )),
            "{text}"
        );
        assert!(!text.contains("prod"));
        assert!(text.contains("[loggers]\nkeys = root"));
        assert_eq!(cwd, dir.path());
        assert!(
            std::fs::read_to_string(&ini).unwrap().contains("prod"),
            "the user's ini is untouched"
        );
    }
}
