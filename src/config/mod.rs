//! Turns the command line, migfix.toml and the files below the root into a
//! checked [`Config`]: where every chain lives and how to read it.

pub(crate) mod discover;
pub(crate) mod ignore;
pub(crate) mod ini;
pub(crate) mod profile;

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use serde::Deserialize;

use crate::cli::{ColorChoice, Format, Global};
use crate::error::{Diag, ExitStatus, InputErrors};
pub(crate) use profile::Profile;

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub root: PathBuf,
    /// The chains the commands show and repair: every one, or `--chain`'s.
    pub chains: Vec<ChainSpec>,
    /// Every chain of the repository, whichever `--chain` named: what a
    /// repair reads for references, claims and its verification.
    pub every: Vec<ChainSpec>,
    /// What discovery found but could not configure: each a chain whose
    /// configuration is broken, named by file and line. The other chains
    /// are read without them; read-only commands report them after their
    /// output (exit 2), and repairs refuse to run.
    pub broken: Vec<Diag>,
    pub output: Output,
    /// What the configuration was made from, to make it again elsewhere
    /// (a repair reads the repository again as its plan leaves it).
    pub global: Global,
    pub cwd: PathBuf,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    pub format: Format,
    pub color: bool,
    pub quiet: bool,
    pub verbose: u8,
}

#[derive(Debug, Clone)]
pub(crate) struct ChainSpec {
    pub name: String,
    /// The chain's framework, as the shared layers know it.
    pub profile: &'static Profile,
    /// The framework's own account of the chain.
    pub source: Arc<dyn Source>,
    /// `--chain PART` named one part of the chain (an app of a project):
    /// commands show and repair that part, over the whole chain's graph.
    pub focus: Option<String>,
    /// Postgres roles provisioned outside migrations (migfix.toml `roles`).
    pub roles: Vec<String>,
    /// How many heads the chain is meant to have (migfix.toml `heads`, or
    /// the length of `branches`), for branches Alembic tells apart by
    /// labels migfix cannot read statically.
    pub expected_heads: Option<usize>,
    /// The `[chain.gate]` table, for the gate command.
    pub gate: Option<GateSpec>,
    /// What `check` and `diagnose` do not report for this chain:
    /// migfix.toml's `ignore`, then the chain table's.
    pub ignore: Vec<ignore::Ignored>,
}

/// A framework's own account of one chain: where it lives and how it is
/// configured. Only its framework looks inside (through [`Source::as_any`]);
/// the rest asks these questions.
pub(crate) trait Source: std::fmt::Debug + Send + Sync + 'static {
    fn as_any(&self) -> &dyn Any;

    /// The folder or file shown as the chain's location.
    fn location(&self) -> PathBuf;

    /// The configuration file the chain comes from, if any.
    fn config_file(&self) -> Option<PathBuf> {
        None
    }

    /// The folders a repair may write in.
    fn folders(&self, root: &Path) -> Vec<PathBuf>;

    /// The folders the chain occupies, which later frameworks' discovery
    /// leaves alone.
    fn occupies(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    /// The parts `--chain` may name on their own (a project's apps).
    fn parts(&self) -> Vec<String> {
        Vec::new()
    }
}

impl ChainSpec {
    /// A chain of `profile`'s framework, with nothing set beyond it.
    pub fn new(name: String, profile: &'static Profile, source: impl Source) -> ChainSpec {
        ChainSpec {
            name,
            profile,
            source: Arc::new(source),
            focus: None,
            roles: Vec::new(),
            expected_heads: None,
            gate: None,
            ignore: Vec::new(),
        }
    }

    /// The framework's own account, where it is of type `T`.
    pub fn source<T: Source>(&self) -> Option<&T> {
        self.source.as_any().downcast_ref()
    }
}

/// Where the chains are declared, in the order migfix looks.
pub(crate) enum Declared {
    /// `--versions` or `--plan` on the command line.
    Flags,
    /// migfix.toml's `[[chain]]` tables, or pyproject.toml's
    /// `[[tool.migfix.chain]]`: `shown` names the file, `table` the tables.
    Tables {
        tables: Vec<TomlChain>,
        shown: &'static str,
        table: &'static str,
    },
    /// Nowhere: discovery below the root.
    Nowhere,
}

impl Config {
    /// The configuration for `global`, run in `cwd`, with the chains that
    /// `chains` makes of what is declared (given the root and `cwd`), and
    /// the errors of those it could not configure.
    pub fn at(
        global: &Global,
        cwd: &Path,
        chains: impl FnOnce(&Path, &Path, Declared) -> Result<(Vec<ChainSpec>, Vec<Diag>)>,
    ) -> Result<Config> {
        let cwd = cwd.to_path_buf();
        let root = find_root(global.root.as_deref(), &cwd)?;
        let output = Output {
            format: global.format,
            color: use_color(global.color),
            quiet: global.quiet,
            verbose: global.verbose,
        };
        let (declared, ignored) = if !global.versions.is_empty() || !global.plan.is_empty() {
            (Declared::Flags, Vec::new())
        } else if std::fs::metadata(root.join("migfix.toml")).is_ok_and(|m| !m.is_dir()) {
            // Not only a regular file: a FIFO or a device there is refused.
            from_toml(&root)?
        } else if let Some(found) = from_pyproject(&root)? {
            found
        } else {
            (Declared::Nowhere, Vec::new())
        };
        let (mut every, broken) = chains(&root, &cwd, declared)?;
        for spec in &mut every {
            spec.ignore.splice(0..0, ignored.iter().cloned());
        }
        let chains = select(every.clone(), &broken, global.chain.as_deref())?;
        Ok(Config {
            root,
            chains,
            every,
            broken,
            output,
            global: global.clone(),
            cwd,
        })
    }

    /// For a repair: refused (exit 2) while a chain's configuration is
    /// broken, since every chain of the repository must be read to check
    /// what the repair would do.
    pub fn whole(&self, command: &str) -> Result<()> {
        if self.broken.is_empty() {
            return Ok(());
        }
        let mut files: Vec<&str> = Vec::new();
        for d in &self.broken {
            if !files.contains(&d.file.as_str()) {
                files.push(&d.file);
            }
        }
        Err(InputErrors {
            diags: self.broken.clone(),
            help: Some(format!(
                "fix {} first: {command} reads every chain of the repository, and runs only when each can be configured",
                files.join(", ")
            )),
        }
        .into())
    }

    /// A read-only command's status once its output is printed: exit 2,
    /// naming each broken configuration, when there is one.
    pub fn status(&self, status: ExitStatus) -> Result<ExitStatus> {
        if self.broken.is_empty() {
            Ok(status)
        } else {
            Err(InputErrors {
                diags: self.broken.clone(),
                help: None,
            }
            .into())
        }
    }

    /// A path for display: relative to the root, with `/` separators.
    pub fn rel(&self, path: &Path) -> String {
        rel(&self.root, path)
    }
}

/// A path with `.` and `dir/..` removed, without touching the file system
/// (a `top_dir = .` in sqitch.conf should not show as `./deploy`).
pub(crate) fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

pub(crate) fn rel(root: &Path, path: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    let s = shown.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

fn use_color(choice: ColorChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        // no-color.org and bixense.com/clicolors: a set, non-empty NO_COLOR
        // turns colour off; CLICOLOR_FORCE (not "0") turns it on when piped.
        ColorChoice::Auto => {
            let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
            if set("NO_COLOR") {
                false
            } else if set("CLICOLOR_FORCE")
                && std::env::var_os("CLICOLOR_FORCE").is_some_and(|x| x != "0")
            {
                true
            } else {
                std::io::stdout().is_terminal()
            }
        }
    }
}

fn find_root(flag: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    if let Some(dir) = flag {
        let dir = cwd.join(dir);
        return dir.canonicalize().map_err(|e| {
            InputErrors::one(Diag::new(
                dir.display().to_string(),
                None,
                format!("cannot use as the root: {e}"),
            ))
            .into()
        });
    }
    let from_git = git2::Repository::discover(cwd)
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf));
    Ok(from_git
        .unwrap_or_else(|| cwd.to_path_buf())
        .canonicalize()?)
}

/// A path the user typed: relative to the current directory when it exists
/// there, else relative to the root.
pub(crate) fn user_path(root: &Path, cwd: &Path, p: &Path) -> PathBuf {
    let here = cwd.join(p);
    if here.exists() {
        here.canonicalize().unwrap_or(here)
    } else {
        root.join(p)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    chain: Vec<TomlChain>,
    /// Codes no chain reports (see [`ignore`]).
    ignore: Option<Vec<ignore::Code>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TomlChain {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub config: Option<PathBuf>,
    pub section: Option<String>,
    pub versions: Option<OneOrMany>,
    #[serde(default)]
    pub recursive: bool,
    pub plan: Option<PathBuf>,
    /// A project folder, and its parts (apps) by label where discovery
    /// is not enough.
    pub project: Option<PathBuf>,
    pub apps: Option<std::collections::BTreeMap<String, PathBuf>>,
    #[serde(default)]
    pub roles: Vec<String>,
    pub heads: Option<usize>,
    pub branches: Option<Vec<String>>,
    pub gate: Option<GateSpec>,
    /// Codes this chain does not report, besides the file's `ignore`.
    #[serde(default)]
    pub ignore: Vec<ignore::Code>,
    /// The settings the chain's framework reads: a module's dotted name, or
    /// a table of values (which may name the module as `module`).
    pub settings: Option<TomlSettings>,
    /// Where the table and its keys are written, for errors.
    #[serde(skip)]
    pub lines: KeyLines,
}

/// The lines of a chain table and of its keys, 1-based.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyLines {
    /// The table's header (`[[chain]]`), or where an inline table opens.
    pub table: Option<usize>,
    pub keys: std::collections::BTreeMap<String, usize>,
}

impl KeyLines {
    /// The line of `key`, else the table's.
    pub fn of(&self, key: &str) -> Option<usize> {
        self.keys.get(key).copied().or(self.table)
    }

    /// The lines of each table of the array at `path` in `text` (a TOML
    /// document that parsed already), in order; and the line of the last
    /// key of `path` the document has (where to point when the array is
    /// empty or missing).
    fn of_tables(text: &str, path: &[&str]) -> (Vec<KeyLines>, Option<usize>) {
        use toml::de::{DeTable, DeValue};
        let Ok(doc) = DeTable::parse(text) else {
            return (Vec::new(), None);
        };
        let line = |at: usize| crate::python::line_of(text.as_bytes(), at);
        let mut deepest = None;
        let mut value: Option<&DeValue> = None;
        let mut table: &DeTable = doc.get_ref();
        for (n, name) in path.iter().enumerate() {
            let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref() == name) else {
                break;
            };
            deepest = Some(line(k.span().start));
            if n + 1 == path.len() {
                value = Some(v.get_ref());
            } else if let Some(t) = v.get_ref().as_table() {
                table = t;
            } else {
                break;
            }
        }
        let Some(array) = value.and_then(DeValue::as_array) else {
            return (Vec::new(), deepest);
        };
        let tables = array
            .iter()
            .map(|t| KeyLines {
                table: Some(line(t.span().start)),
                keys: t
                    .get_ref()
                    .as_table()
                    .map(|t| {
                        t.iter()
                            .map(|(k, _)| (k.get_ref().to_string(), line(k.span().start)))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        (tables, deepest)
    }
}

/// `settings = "dotted.module"`, or `[chain.settings]` with values.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum TomlSettings {
    Module(String),
    Values(std::collections::BTreeMap<String, String>),
}

impl TomlChain {
    /// The keys set that say where a chain is and how it is read, each
    /// for one framework or another.
    pub fn located_by(&self) -> Vec<&'static str> {
        [
            ("config", self.config.is_some()),
            ("section", self.section.is_some()),
            ("versions", self.versions.is_some()),
            ("recursive", self.recursive),
            ("plan", self.plan.is_some()),
            ("project", self.project.is_some()),
            ("apps", self.apps.is_some()),
            ("settings", self.settings.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect()
    }
}

/// `[chain.gate]`: what the gate does besides the round trip.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GateSpec {
    /// `[[chain.gate.seed]]`: SQL run just before a revision.
    #[serde(default)]
    pub seed: Vec<GateSeed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GateSeed {
    /// The revision the SQL must run before.
    pub before: String,
    pub sql: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

/// pyproject.toml: only `[tool.migfix]` is read here, with the keys of
/// migfix.toml.
#[derive(Debug, Deserialize)]
struct PyProject {
    tool: Option<PyProjectTool>,
}

#[derive(Debug, Deserialize)]
struct PyProjectTool {
    migfix: Option<TomlFile>,
}

/// Parses a TOML file's bytes, an error naming its line; with its text.
fn parse_toml<T: serde::de::DeserializeOwned>(bytes: Vec<u8>, shown: &str) -> Result<(T, String)> {
    let text = crate::error::utf8_text(bytes)
        .map_err(|(line, message)| InputErrors::one(Diag::new(shown, Some(line), message)))?;
    match toml::from_str(&text) {
        Ok(parsed) => Ok((parsed, text)),
        Err(e) => {
            let line = e
                .span()
                .map(|s| crate::python::line_of(text.as_bytes(), s.start));
            Err(InputErrors::one(Diag::new(shown, line, e.message().to_string())).into())
        }
    }
}

/// Sets each chain table's lines, from the array of tables at `path`;
/// with the line of the last key of `path` written.
fn with_lines(mut file: TomlFile, text: &str, path: &[&str]) -> (TomlFile, Option<usize>) {
    let (lines, deepest) = KeyLines::of_tables(text, path);
    for (chain, lines) in file.chain.iter_mut().zip(lines) {
        chain.lines = lines;
    }
    (file, deepest)
}

fn from_toml(root: &Path) -> Result<(Declared, Vec<ignore::Ignored>)> {
    let path = root.join("migfix.toml");
    let bytes = crate::files::read(&path).map_err(|e| {
        InputErrors::one(Diag::new("migfix.toml", None, format!("cannot read: {e}")))
    })?;
    let (file, text): (TomlFile, _) = parse_toml(bytes, "migfix.toml")?;
    tables(
        with_lines(file, &text, &["chain"]),
        "migfix.toml",
        "[[chain]]",
    )
}

/// `[tool.migfix]` in the root's pyproject.toml, read like migfix.toml
/// (which wins when both are present); `None` without one.
fn from_pyproject(root: &Path) -> Result<Option<(Declared, Vec<ignore::Ignored>)>> {
    // Most pyproject.toml files say nothing of migfix: not worth a parse.
    let bytes = match crate::files::read(root.join("pyproject.toml")) {
        Ok(bytes) => bytes,
        // A FIFO or a device in its place is told, not skipped.
        Err(e) if crate::files::is_refusal(&e) => {
            let message = format!("cannot read: {e}");
            return Err(InputErrors::one(Diag::new("pyproject.toml", None, message)).into());
        }
        Err(_) => return Ok(None),
    };
    if !bytes.windows(11).any(|w| w == b"tool.migfix") {
        return Ok(None);
    }
    let (file, text): (PyProject, _) = parse_toml(bytes, "pyproject.toml")?;
    match file.tool.and_then(|t| t.migfix) {
        Some(file) => Ok(Some(tables(
            with_lines(file, &text, &["tool", "migfix", "chain"]),
            "pyproject.toml",
            "[[tool.migfix.chain]]",
        )?)),
        None => Ok(None),
    }
}

/// The chain tables of migfix.toml (or `[tool.migfix]`), and what it
/// ignores; `shown` names the file and `table` the chain tables in
/// messages. `(file, line)`: the line is where the tables would be
/// (`chain = []`, `[tool.migfix]`), when written. A file that only ignores
/// leaves the chains to discovery.
fn tables(
    (file, line): (TomlFile, Option<usize>),
    shown: &'static str,
    table: &'static str,
) -> Result<(Declared, Vec<ignore::Ignored>)> {
    let ignored = ignore::Ignored::all(file.ignore.as_deref().unwrap_or_default(), shown);
    if file.chain.is_empty() && file.ignore.is_some() {
        return Ok((Declared::Nowhere, ignored));
    }
    if file.chain.is_empty() {
        return Err(
            InputErrors::one(Diag::new(shown, line, format!("no {table} tables")))
                .with_help(format!(
                "add a {table} table with `config`, `versions` or `plan`, or {} to use discovery",
                if shown == "migfix.toml" { "delete migfix.toml" } else { "remove [tool.migfix]" }
            ))
                .into(),
        );
    }
    Ok((
        Declared::Tables {
            tables: file.chain,
            shown,
            table,
        },
        ignored,
    ))
}

/// `--chain NAME`: an exact name, else a unique substring. When nothing
/// matches, the broken configurations are named too: the chain may be one.
fn select(chains: Vec<ChainSpec>, broken: &[Diag], wanted: Option<&str>) -> Result<Vec<ChainSpec>> {
    let Some(wanted) = wanted else {
        return Ok(chains);
    };
    if let Some(exact) = chains.iter().position(|c| c.name == wanted) {
        return Ok(vec![chains
            .into_iter()
            .nth(exact)
            .expect("position is in range")]);
    }
    // A part's label (a project's app) selects its chain, focused on it.
    let mut apps: Vec<ChainSpec> = chains
        .iter()
        .filter(|c| c.source.parts().iter().any(|p| p == wanted))
        .map(|c| ChainSpec {
            focus: Some(wanted.to_string()),
            ..c.clone()
        })
        .collect();
    if apps.len() == 1 {
        return Ok(apps.split_off(0));
    }
    let matching: Vec<usize> = chains
        .iter()
        .enumerate()
        .filter(|(_, c)| c.name.contains(wanted))
        .map(|(i, _)| i)
        .collect();
    match matching.as_slice() {
        [one] => Ok(vec![chains
            .into_iter()
            .nth(*one)
            .expect("index is in range")]),
        [] => {
            let names: Vec<&str> = chains.iter().map(|c| c.name.as_str()).collect();
            let mut diags = broken.to_vec();
            diags.push(Diag::new(
                "--chain",
                None,
                format!(
                    "no chain matches `{wanted}`; chains: {}",
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
            Err(InputErrors {
                diags,
                help: Some("migfix chains".into()),
            }
            .into())
        }
        many => {
            let names: Vec<&str> = many.iter().map(|&i| chains[i].name.as_str()).collect();
            Err(InputErrors::one(Diag::new(
                "--chain",
                None,
                format!("`{wanted}` matches several chains: {}", names.join(", ")),
            ))
            .into())
        }
    }
}
