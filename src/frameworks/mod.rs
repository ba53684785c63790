//! The frameworks migfix reads, one folder each behind one interface
//! ([`interface::Framework`]). Adding a framework is a folder here and one
//! line in [`FRAMEWORKS`]. This module is where the commands meet them:
//! configuration, discovery, reading and the findings of a chain.

pub(crate) mod alembic;
pub(crate) mod django;
pub(crate) mod interface;
pub(crate) mod sqitch;
#[doc(hidden)]
pub(crate) mod testing;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::chains::Chain;
use crate::cli::Global;
use crate::config::discover::{unique_names, walk};
use crate::config::{ChainSpec, Config, Declared, TomlChain};
use crate::error::{Diag, InputErrors};
use crate::findings::Finding;
use crate::git::{Claim, Repo};
pub(crate) use interface::Framework;

/// Every framework migfix reads, in the order discovery asks them.
pub(crate) static FRAMEWORKS: [&dyn Framework; 3] =
    [&alembic::Alembic, &sqitch::Sqitch, &django::Django];

/// The framework of a chain.
pub(crate) fn of(spec: &ChainSpec) -> &'static dyn Framework {
    FRAMEWORKS
        .iter()
        .copied()
        .find(|f| std::ptr::eq(f.profile(), spec.profile))
        .expect("every chain's framework is registered")
}

/// The configuration the command line asks for, with every chain. What
/// the command line or migfix.toml declares must be sound (an error stops
/// the command); a chain that discovery finds but cannot configure is set
/// aside as broken, and the others are still read.
pub(crate) fn configure(global: &Global) -> Result<Config> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    configure_at(global, &cwd)
}

/// The same, as if run in `cwd`.
pub(crate) fn configure_at(global: &Global, cwd: &Path) -> Result<Config> {
    Config::at(global, cwd, |root, cwd, declared| {
        let (chains, errors) = match declared {
            Declared::Flags => collect(FRAMEWORKS.iter().map(|f| f.flag_specs(root, cwd, global))),
            Declared::Tables {
                tables,
                shown,
                table,
            } => from_tables(root, tables, shown, table),
            Declared::Nowhere => return Ok(discover(root)),
        };
        if errors.is_empty() {
            Ok((chains, Vec::new()))
        } else {
            Err(InputErrors {
                diags: errors,
                help: None,
            }
            .into())
        }
    })
}

fn collect(
    parts: impl Iterator<Item = (Vec<ChainSpec>, Vec<Diag>)>,
) -> (Vec<ChainSpec>, Vec<Diag>) {
    let (mut chains, mut errors) = (Vec::new(), Vec::new());
    for (mut c, mut e) in parts {
        chains.append(&mut c);
        errors.append(&mut e);
    }
    (chains, errors)
}

/// Every framework's chains below the root, each framework leaving alone
/// the folders of the chains found before it.
fn discover(root: &Path) -> (Vec<ChainSpec>, Vec<Diag>) {
    let markers: Vec<_> = FRAMEWORKS.iter().map(|f| f.markers()).collect();
    let found = walk(root, &markers);
    let (mut chains, mut errors) = (Vec::new(), Vec::new());
    for f in FRAMEWORKS {
        let occupied: Vec<PathBuf> = chains
            .iter()
            .flat_map(|c: &ChainSpec| c.source.occupies())
            .collect();
        let (mut c, mut e) = f.discover(root, &found, &occupied);
        chains.append(&mut c);
        errors.append(&mut e);
    }
    unique_names(&mut chains);
    (chains, errors)
}

/// The chains that migfix.toml (or `[tool.migfix]`) lists; `shown` names
/// the file and `table` the chain tables in messages. A table's framework
/// is its `kind`, else the one whose keys it sets, else the first.
fn from_tables(
    root: &Path,
    tables: Vec<TomlChain>,
    shown: &str,
    table: &str,
) -> (Vec<ChainSpec>, Vec<Diag>) {
    let (mut chains, mut errors) = (Vec::new(), Vec::new());
    for (i, t) in tables.into_iter().enumerate() {
        let lines = t.lines.clone();
        let at = |key: &str, m: String| {
            Diag::new(shown, lines.of(key), format!("{table} #{}: {m}", i + 1))
        };
        let keys = t.located_by();
        let owner = |k: &str| FRAMEWORKS.iter().find(|f| f.table_keys().contains(&k));
        let framework = match &t.kind {
            Some(kind) => match FRAMEWORKS.iter().find(|f| f.profile().name == kind) {
                Some(f) => *f,
                None => {
                    let names: Vec<String> = FRAMEWORKS
                        .iter()
                        .map(|f| format!("\"{}\"", f.profile().name))
                        .collect();
                    errors.push(at(
                        "kind",
                        format!(
                            "unknown kind `{kind}` (expected {})",
                            crate::findings::or_list(&names)
                        ),
                    ));
                    continue;
                }
            },
            None => keys
                .iter()
                .find_map(|k| owner(k).filter(|f| !std::ptr::eq(**f, FRAMEWORKS[0])))
                .copied()
                .unwrap_or(FRAMEWORKS[0]),
        };
        let name = framework.profile().name;
        let foreign: Vec<String> = keys
            .iter()
            .filter(|k| !framework.table_keys().contains(k))
            .map(|k| format!("`{k}`"))
            .collect();
        if let Some((key, other)) = keys
            .iter()
            .find(|k| !framework.table_keys().contains(k))
            .and_then(|k| Some((*k, owner(k)?)))
        {
            errors.push(at(
                key,
                format!(
                    "{} {} for {} {} chain, not {name}",
                    crate::findings::and_list(&foreign),
                    if foreign.len() == 1 { "is" } else { "are" },
                    if other.profile().name.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    },
                    other.profile().name
                ),
            ));
            continue;
        }
        match framework.table_spec(root, &t, &at) {
            Ok(mut spec) => {
                if let Some(name) = t.name {
                    spec.name = name;
                }
                spec.roles = t.roles;
                spec.expected_heads = t.heads.or(t.branches.as_ref().map(Vec::len));
                spec.gate = t.gate;
                let by = format!("{table} #{} of {shown}", i + 1);
                spec.ignore = crate::config::ignore::Ignored::all(&t.ignore, &by);
                chains.push(spec);
            }
            Err(d) => errors.push(d),
        }
    }
    (chains, errors)
}

/// Reads every configured chain. Any unreadable input fails the whole load
/// with every problem listed (exit 2), the broken configurations first.
/// Every revision file is proven free of syntax errors, as importing it
/// would, so that each command gives one verdict on one file. No chain at
/// all, broken or not, is an error too, saying where migfix looked and how
/// to declare one.
pub(crate) fn load(config: &Config) -> Result<Vec<Chain>> {
    if config.chains.is_empty() && config.broken.is_empty() {
        return Err(nothing_found(config).into());
    }
    let mut chains = Vec::new();
    let mut errors = config.broken.clone();
    for spec in &config.chains {
        match read(&config.root, spec) {
            Ok(chain) => chains.push(chain),
            Err(mut diags) => errors.append(&mut diags),
        }
    }
    if errors.len() == config.broken.len() {
        Ok(chains)
    } else {
        Err(InputErrors {
            diags: errors,
            help: None,
        }
        .into())
    }
}

/// Every chain of the repository, and among them (as `--chain` focused
/// them) the ones the command is about: each read once.
pub(crate) fn load_every(config: &Config) -> Result<(Vec<Chain>, Vec<Chain>)> {
    let mut every = Vec::new();
    let mut errors = Vec::new();
    for spec in &config.every {
        match read(&config.root, spec) {
            Ok(chain) => every.push(chain),
            Err(mut diags) => errors.append(&mut diags),
        }
    }
    if !errors.is_empty() {
        return Err(InputErrors {
            diags: errors,
            help: None,
        }
        .into());
    }
    let selected = config
        .chains
        .iter()
        .filter_map(|spec| {
            let mut chain = every.iter().find(|c| c.name() == spec.name)?.clone();
            chain.spec = spec.clone();
            Some(chain)
        })
        .collect();
    Ok((selected, every))
}

/// Where discovery looked for a chain, and how to declare one.
fn nothing_found(config: &Config) -> InputErrors {
    let looked: Vec<String> = FRAMEWORKS
        .iter()
        .flat_map(|f| f.looks_for())
        .map(|w| w.to_string())
        .collect();
    InputErrors::one(Diag::new(
        config.root.display().to_string(),
        None,
        format!(
            "no migration chain below this folder (migfix looked for {}, skipping .git, node_modules, target and virtualenvs)",
            crate::findings::and_list(&looked)
        ),
    ))
    .with_help(
        "name a chain with --versions DIR (an Alembic versions folder) or --plan FILE (a sqitch plan), or declare it in migfix.toml as a [[chain]] table",
    )
}

/// One chain, read by its framework, with its conventions judged.
pub(crate) fn read(root: &Path, spec: &ChainSpec) -> Result<Chain, Vec<Diag>> {
    let framework = of(spec);
    let read = framework.read(root, spec)?;
    let mut chain = Chain::new(spec.clone(), read.revisions, read.warnings, |c| {
        framework.conventions(c)
    });
    chain.replaced = read.replaced;
    Ok(chain)
}

/// Every finding of a chain: the graph's, then its framework's own lint;
/// `chains` are the repository's, for references from one to another.
pub(crate) fn findings(root: &Path, chain: &Chain, chains: &[Chain]) -> Vec<Finding> {
    let framework = of(&chain.spec);
    let lint = framework.lint(chain, chains);
    crate::findings::for_chain(
        root,
        chain,
        chains.len() > 1,
        &framework.lint_file(&chain.spec),
        lint,
    )
}

/// What other branches add to the chain, against HEAD; nothing outside git.
pub(crate) fn claims(repo: Option<&Repo>, chain: &Chain) -> Vec<Claim> {
    repo.map(|r| of(&chain.spec).claims(r, &chain.spec))
        .unwrap_or_default()
}
