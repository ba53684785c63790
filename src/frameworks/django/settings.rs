//! A project's settings, read statically: the values of the model settings
//! a `swappable_dependency` names (`AUTH_USER_MODEL = "users.User"`), so
//! that the graph has Django's edge to the first migration of that app.
//!
//! Nothing is executed. A settings module is read for string literals
//! assigned at its top level (`A = B = "app.Model"` too), and `from M
//! import *` of a module in the tree is followed, relative or not. An
//! assignment in a block Python may skip (`if`, `for`, `except`) or of
//! anything but a string literal makes the value unknown, with a warning.
//!
//! Which module: the one migfix.toml names (`settings = "proj.settings"`),
//! else the `DJANGO_SETTINGS_MODULE` that manage.py sets, else the one
//! every `wsgi.py`/`asgi.py` that names one agrees on; where none of them
//! is in the tree, every settings file of the project (`settings.py`,
//! `settings_*.py`, `*_settings.py`, the modules of a `settings/` or
//! `conf/` package), which must agree. Values in migfix.toml win.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use tree_sitter::Node;

use crate::config::discover::is_skipped_dir;
use crate::config::rel;
use crate::error::Diag;
use crate::python::full::{named_non_comment, parse_checked, plain_string, shortened};
use crate::python::{bom_len, line_of};

/// Django's own default of a model setting (`global_settings`).
pub(crate) fn django_default(name: &str) -> Option<&'static str> {
    (name == "AUTH_USER_MODEL").then_some("auth.User")
}

/// What migfix.toml says of a project's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SettingsConf {
    /// `settings = "proj.settings.prod"`: the settings module.
    pub module: Option<String>,
    /// `[chain.settings] NAME = "app.Model"`: values that win.
    pub values: BTreeMap<String, String>,
}

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// migfix.toml's `[chain.settings]`.
    Toml,
    /// A literal assignment in a settings file.
    File { path: PathBuf, line: usize },
    /// Django's default (`auth.User`), or the default a library's settings
    /// module gives (`getattr(settings, NAME, "default")`, at its line).
    Default { at: Option<(PathBuf, usize)> },
}

impl Origin {
    /// As `json` and messages show it, paths from the root.
    pub fn shown(&self, root: &Path) -> String {
        match self {
            Origin::Toml => "migfix.toml".into(),
            Origin::File { path, line } => format!("{}:{line}", rel(root, path)),
            Origin::Default { at: None } => "Django's default".into(),
            Origin::Default {
                at: Some((path, line)),
            } => format!("the default in {}:{line}", rel(root, path)),
        }
    }
}

/// A setting's value, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Known {
    pub value: String,
    pub origin: Origin,
}

/// The settings a project's migrations ask for: each name's value, `None`
/// where it is unknown (and a warning says why).
#[derive(Debug, Default)]
pub(crate) struct Settings {
    pub values: BTreeMap<String, Option<Known>>,
    pub warnings: Vec<Diag>,
}

/// A name asked for: a Django setting, with the default a library gives it
/// where it reads the setting through an object of its own.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Asked {
    pub name: String,
    pub default: Option<(String, PathBuf, usize)>,
}

/// An assignment in effect at the end of a module.
#[derive(Debug, Clone)]
enum Assigned {
    Literal {
        value: String,
        path: PathBuf,
        line: usize,
    },
    /// Not a string literal, or set where Python may not run it.
    Unknown {
        why: String,
        path: PathBuf,
        line: usize,
    },
}

impl Assigned {
    fn at(&self, root: &Path) -> String {
        let (Assigned::Literal { path, line, .. } | Assigned::Unknown { path, line, .. }) = self;
        format!("{}:{line}", rel(root, path))
    }
}

type Env = BTreeMap<String, Assigned>;

type Memo = HashMap<(PathBuf, Vec<Asked>), Arc<Settings>>;

/// The settings of the project in folder `project` (with what migfix.toml
/// says of them) for the names asked, read once per project and names (a
/// repair and every branch's graph ask again).
pub(crate) fn resolve(
    root: &Path,
    project: &Path,
    conf: &SettingsConf,
    asked: &BTreeSet<Asked>,
) -> Arc<Settings> {
    static MEMO: OnceLock<Mutex<Memo>> = OnceLock::new();
    let key = (
        project.to_path_buf(),
        asked.iter().cloned().collect::<Vec<_>>(),
    );
    let memo = MEMO.get_or_init(Default::default);
    if let Some(s) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return s;
    }
    let s = Arc::new(read(root, project, conf, asked));
    if let Ok(mut m) = memo.lock() {
        m.insert(key, s.clone());
    }
    s
}

fn read(root: &Path, project: &Path, conf: &SettingsConf, asked: &BTreeSet<Asked>) -> Settings {
    let mut out = Settings::default();
    if asked.is_empty() {
        return out;
    }
    let names: BTreeSet<String> = asked.iter().map(|a| a.name.clone()).collect();
    let mut reader = Reader {
        root,
        names: &names,
        warnings: Vec::new(),
    };
    // The settings module: migfix.toml's, manage.py's, else the one the
    // servers agree on; else every settings file (the walk only then).
    let named = conf
        .module
        .as_ref()
        .and_then(|m| module_in(root, project, m))
        .or_else(|| named_by(&project.join("manage.py")));
    let mut walked = None;
    let named = named.or_else(|| {
        let (_, servers) = walked.insert(candidates(project));
        let by: BTreeSet<PathBuf> = servers.iter().filter_map(|s| named_by(s)).collect();
        (by.len() == 1).then(|| by.into_iter().next()).flatten()
    });
    let files = match named {
        Some(file) => vec![file],
        None => walked.map(|(files, _)| files).unwrap_or_default(),
    };
    let envs: Vec<Env> = files
        .iter()
        .map(|f| reader.module(f, 0, &mut Vec::new()))
        .collect();
    out.warnings = reader.warnings;
    for a in asked {
        let name = &a.name;
        let from_files: Vec<&Assigned> = envs.iter().filter_map(|e| e.get(name)).collect();
        let mut literal: BTreeMap<&str, &Assigned> = BTreeMap::new();
        let mut unknown = Vec::new();
        for v in &from_files {
            match v {
                Assigned::Literal { value, .. } => {
                    literal.entry(value.as_str()).or_insert(v);
                }
                Assigned::Unknown { .. } => {
                    if !unknown.iter().any(|u: &&Assigned| u.at(root) == v.at(root)) {
                        unknown.push(*v);
                    }
                }
            }
        }
        let read_value: Option<Known> = match literal.len() {
            1 => literal.values().next().map(|v| match v {
                Assigned::Literal { value, path, line } => Known {
                    value: value.clone(),
                    origin: Origin::File {
                        path: path.clone(),
                        line: *line,
                    },
                },
                Assigned::Unknown { .. } => unreachable!("a literal"),
            }),
            _ => None,
        };
        let toml = conf.values.get(name);
        let warn = |out: &mut Settings, at: &Assigned, message: String| {
            let (Assigned::Literal { path, line, .. } | Assigned::Unknown { path, line, .. }) = at;
            out.warnings
                .push(Diag::new(rel(root, path), Some(*line), message));
        };
        let fix = format!(
            "give its value in migfix.toml ([chain.settings] {name} = \"app_label.Model\"), or name the settings module (settings = \"project.settings\")"
        );
        if let Some(value) = toml {
            for v in &from_files {
                match v {
                    Assigned::Literal { value: other, .. } if other != value => warn(
                        &mut out,
                        v,
                        format!("{name} = {other:?} here, but migfix.toml says {value:?}: migfix.toml wins"),
                    ),
                    _ => {}
                }
            }
            out.values.insert(
                name.clone(),
                Some(Known {
                    value: value.clone(),
                    origin: Origin::Toml,
                }),
            );
            continue;
        }
        if literal.len() > 1 {
            let said: Vec<String> = literal
                .iter()
                .map(|(value, at)| format!("{value:?} in {}", at.at(root)))
                .collect();
            let first = *literal.values().next().expect("two values");
            warn(
                &mut out,
                first,
                format!(
                    "the settings files disagree on {name}: {}; migfix cannot tell which one Django uses, so the dependencies on it are left out of the graph; {fix}",
                    crate::findings::and_list(&said)
                ),
            );
            out.values.insert(name.clone(), None);
            continue;
        }
        for v in &unknown {
            if let Assigned::Unknown { why, .. } = v {
                let then = match &read_value {
                    Some(k) => format!("migfix takes {:?} from {}", k.value, k.origin.shown(root)),
                    None => "the dependencies on it are left out of the graph".to_string(),
                };
                warn(
                    &mut out,
                    v,
                    format!("{name} is not read: {why}; {then}; {fix}"),
                );
            }
        }
        let value = match read_value {
            Some(k) => Some(k),
            None if !unknown.is_empty() => None,
            None => match (&a.default, django_default(name)) {
                (Some((value, path, line)), _) => Some(Known {
                    value: value.clone(),
                    origin: Origin::Default {
                        at: Some((path.clone(), *line)),
                    },
                }),
                (None, Some(value)) => Some(Known {
                    value: value.to_string(),
                    origin: Origin::Default { at: None },
                }),
                (None, None) => None,
            },
        };
        out.values.insert(name.clone(), value);
    }
    out
}

/// The settings files below the project (by name) and the `wsgi.py` and
/// `asgi.py` files, sorted; migrations packages are not searched.
fn candidates(project: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut files, mut servers) = (Vec::new(), Vec::new());
    let mut stack = vec![project.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let in_package = dir
            .file_name()
            .is_some_and(|n| n == "settings" || n == "conf");
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if kind.is_dir() {
                if !is_skipped_dir(&path) && name != "migrations" {
                    stack.push(path);
                }
                continue;
            }
            let Some(stem) = name.strip_suffix(".py") else {
                continue;
            };
            if stem == "wsgi" || stem == "asgi" {
                servers.push(path);
            } else if stem == "settings"
                || stem.starts_with("settings_")
                || stem.ends_with("_settings")
                || in_package
            {
                files.push(path);
            }
        }
    }
    files.sort();
    servers.sort();
    (files, servers)
}

/// The module a file sets as `DJANGO_SETTINGS_MODULE` (manage.py's
/// `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")`, on
/// one line or several), found from the file's folder or one above it.
fn named_by(file: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(file).ok()?;
    let module = named_in(&text)?;
    file.ancestors()
        .skip(1)
        .find_map(|base| module_file(base, &module))
}

/// The string a text gives `DJANGO_SETTINGS_MODULE` (not in a comment).
fn named_in(text: &str) -> Option<String> {
    const KEY: &str = "DJANGO_SETTINGS_MODULE";
    text.match_indices(KEY).find_map(|(at, _)| {
        let line = &text[text[..at].rfind('\n').map_or(0, |n| n + 1)..at];
        if line.contains('#') {
            return None;
        }
        let rest = text[at + KEY.len()..]
            .trim_start_matches(['"', '\'', ']'])
            .trim_start();
        let rest = rest.strip_prefix([',', '='])?.trim_start();
        let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = &rest[1..];
        let end = inner.find(q)?;
        Some(inner[..end].to_string())
    })
}

/// The file of the settings module migfix.toml names: from the project's
/// folder, its `src/`, or the root.
pub(crate) fn module_in(root: &Path, project: &Path, dotted: &str) -> Option<PathBuf> {
    [
        project.to_path_buf(),
        project.join("src"),
        root.to_path_buf(),
    ]
    .iter()
    .find_map(|b| module_file(b, dotted))
}

/// The file of module `dotted` below `base`: `a/b.py` or `a/b/__init__.py`.
fn module_file(base: &Path, dotted: &str) -> Option<PathBuf> {
    if dotted.is_empty()
        || !dotted
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        return None;
    }
    let path = dotted
        .split('.')
        .fold(base.to_path_buf(), |p, part| p.join(part));
    let file = path.with_extension("py");
    if file.is_file() {
        return Some(file);
    }
    let init = path.join("__init__.py");
    init.is_file().then_some(init)
}

/// The file of the module `from M import ...` names in `from`: relative
/// to its package, or absolute from a folder above it.
pub(crate) fn imported_file(from: &Path, module: &str) -> Option<PathBuf> {
    let dots = module.bytes().take_while(|b| *b == b'.').count();
    let rest = &module[dots..];
    if dots > 0 {
        let base = from.ancestors().nth(dots)?;
        if rest.is_empty() {
            let init = base.join("__init__.py");
            return init.is_file().then_some(init);
        }
        return module_file(base, rest);
    }
    from.ancestors()
        .skip(1)
        .find_map(|base| module_file(base, rest))
}

struct Reader<'a> {
    root: &'a Path,
    names: &'a BTreeSet<String>,
    warnings: Vec<Diag>,
}

/// How deep `from M import *` is followed.
const MAX_DEPTH: usize = 12;

impl Reader<'_> {
    /// The names' assignments in effect at the end of module `path`.
    fn module(&mut self, path: &Path, depth: usize, stack: &mut Vec<PathBuf>) -> Env {
        let mut env = Env::new();
        if depth > MAX_DEPTH || stack.iter().any(|p| p == path) {
            return env;
        }
        let Ok(src) = crate::python::read_source(path) else {
            return env;
        };
        // Most files never mention the names: not worth a parse.
        let text = String::from_utf8_lossy(&src);
        if !text.contains("import *") && !self.names.iter().any(|n| text.contains(n.as_str())) {
            return env;
        }
        let tree = match parse_checked(&src) {
            Ok(t) => t,
            Err(e) => {
                if self.names.iter().any(|n| text.contains(n.as_str())) {
                    self.warnings.push(Diag::new(
                        rel(self.root, path),
                        Some(e.line),
                        format!("settings file not read: {}", e.message),
                    ));
                }
                return env;
            }
        };
        let body = &src[bom_len(&src)..];
        stack.push(path.to_path_buf());
        let mut m = Module {
            path,
            body,
            base: bom_len(&src),
            depth,
        };
        self.block(&mut m, tree.root_node(), None, &mut env, stack);
        stack.pop();
        env
    }

    /// A block's statements in order; `cond` says why Python may skip it.
    fn block(
        &mut self,
        m: &mut Module<'_>,
        block: Node<'_>,
        cond: Option<&str>,
        env: &mut Env,
        stack: &mut Vec<PathBuf>,
    ) {
        for stmt in named_non_comment(block) {
            match stmt.kind() {
                "expression_statement" => {
                    for a in named_non_comment(stmt) {
                        if a.kind() == "assignment" {
                            self.assignment(m, a, cond, env);
                        }
                    }
                }
                "import_from_statement" => self.star_import(m, stmt, cond, env, stack),
                "if_statement" | "for_statement" | "while_statement" | "match_statement" => {
                    let why = match stmt.kind() {
                        "if_statement" => "set inside an `if`, which migfix does not evaluate",
                        "match_statement" => "set inside a `match`, which migfix does not evaluate",
                        _ => "set inside a loop, which migfix does not run",
                    };
                    for part in named_non_comment(stmt) {
                        self.nested(m, part, Some(cond.unwrap_or(why)), env, stack);
                    }
                }
                "try_statement" => {
                    for part in named_non_comment(stmt) {
                        let c = match part.kind() {
                            "block" | "finally_clause" => cond,
                            _ => Some(cond.unwrap_or(
                                "set in an `except` or `else` of a `try`, which migfix does not evaluate",
                            )),
                        };
                        self.nested(m, part, c, env, stack);
                    }
                }
                "with_statement" => {
                    if let Some(b) = stmt.child_by_field_name("body") {
                        self.block(m, b, cond, env, stack);
                    }
                }
                _ => {}
            }
        }
    }

    /// The blocks inside a compound statement's part.
    fn nested(
        &mut self,
        m: &mut Module<'_>,
        part: Node<'_>,
        cond: Option<&str>,
        env: &mut Env,
        stack: &mut Vec<PathBuf>,
    ) {
        match part.kind() {
            "block" => self.block(m, part, cond, env, stack),
            "elif_clause"
            | "else_clause"
            | "except_clause"
            | "finally_clause"
            | "case_clause"
            | "except_group_clause" => {
                for p in named_non_comment(part) {
                    if p.kind() == "block" {
                        self.block(m, p, cond, env, stack);
                    }
                }
            }
            _ => {}
        }
    }

    /// `A = B = value` (annotated or not) for the names asked.
    fn assignment(&mut self, m: &Module<'_>, node: Node<'_>, cond: Option<&str>, env: &mut Env) {
        let mut targets = Vec::new();
        let mut at = node;
        let value = loop {
            if let Some(left) = at.child_by_field_name("left") {
                if left.kind() == "identifier" {
                    targets.push(m.text(left));
                }
            }
            match at.child_by_field_name("right") {
                Some(r) if r.kind() == "assignment" => at = r,
                other => break other,
            }
        };
        for t in targets {
            if !self.names.contains(t) {
                continue;
            }
            let line = line_of(m.body, node.start_byte());
            let path = m.path.to_path_buf();
            let assigned = match (cond, value.and_then(|v| plain_string(m.body, m.base, v))) {
                (None, Some(s)) => Assigned::Literal {
                    value: s.value,
                    path,
                    line,
                },
                (Some(why), _) => Assigned::Unknown {
                    why: why.to_string(),
                    path,
                    line,
                },
                (None, None) => Assigned::Unknown {
                    why: format!(
                        "`{}` is not a string literal",
                        value.map_or_else(String::new, |v| shortened(m.text(v)))
                    ),
                    path,
                    line,
                },
            };
            env.insert(t.to_string(), assigned);
        }
    }

    /// `from M import *` of a module in the tree: its assignments, in turn.
    fn star_import(
        &mut self,
        m: &Module<'_>,
        stmt: Node<'_>,
        cond: Option<&str>,
        env: &mut Env,
        stack: &mut Vec<PathBuf>,
    ) {
        let mut cursor = stmt.walk();
        if !stmt
            .named_children(&mut cursor)
            .any(|c| c.kind() == "wildcard_import")
        {
            return;
        }
        let Some(module) = stmt.child_by_field_name("module_name") else {
            return;
        };
        let Some(file) = imported_file(m.path, m.text(module)) else {
            return;
        };
        let line = line_of(m.body, stmt.start_byte());
        for (name, assigned) in self.module(&file, m.depth + 1, stack) {
            let assigned = match cond {
                None => assigned,
                Some(why) => Assigned::Unknown {
                    why: format!(
                        "imported from {} by `import *` at {}:{line}, {why}",
                        assigned.at(self.root),
                        rel(self.root, m.path),
                    ),
                    path: m.path.to_path_buf(),
                    line,
                },
            };
            env.insert(name, assigned);
        }
    }
}

struct Module<'a> {
    path: &'a Path,
    body: &'a [u8],
    base: usize,
    depth: usize,
}

impl Module<'_> {
    fn text(&self, node: Node<'_>) -> &str {
        std::str::from_utf8(&self.body[node.byte_range()]).unwrap_or("")
    }
}

/// What a library's settings module gives for `object.ATTR`: the Django
/// setting it reads and its default, from a top-level `ATTR =
/// getattr(settings, "NAME", "default")` (django-oauth-toolkit's
/// `APPLICATION_MODEL`), with the file and line.
pub(crate) fn library_setting(file: &Path, attr: &str) -> Option<(String, Option<String>, usize)> {
    let src = crate::python::read_source(file).ok()?;
    if !String::from_utf8_lossy(&src).contains(attr) {
        return None;
    }
    let tree = parse_checked(&src).ok()?;
    let base = bom_len(&src);
    let body = &src[base..];
    let text = |n: Node<'_>| std::str::from_utf8(&body[n.byte_range()]).unwrap_or("");
    let mut found = None;
    for stmt in named_non_comment(tree.root_node()) {
        if stmt.kind() != "expression_statement" {
            continue;
        }
        for a in named_non_comment(stmt) {
            let (Some(left), Some(right)) = (
                a.child_by_field_name("left"),
                a.child_by_field_name("right"),
            ) else {
                continue;
            };
            if a.kind() != "assignment" || text(left) != attr || right.kind() != "call" {
                continue;
            }
            let func = right.child_by_field_name("function").map(text);
            let args = right
                .child_by_field_name("arguments")
                .map(named_non_comment)
                .unwrap_or_default();
            if func != Some("getattr") {
                continue;
            }
            match args.as_slice() {
                [obj, name, rest @ ..] if text(*obj) == "settings" && rest.len() <= 1 => {
                    let Some(name) = plain_string(body, base, *name) else {
                        continue;
                    };
                    let default = rest
                        .first()
                        .and_then(|d| plain_string(body, base, *d))
                        .map(|s| s.value);
                    found = Some((name.value, default, line_of(body, a.start_byte())));
                }
                _ => {}
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(names: &[&str]) -> BTreeSet<Asked> {
        names
            .iter()
            .map(|n| Asked {
                name: n.to_string(),
                default: None,
            })
            .collect()
    }

    fn write(root: &Path, files: &[(&str, &str)]) {
        for (p, text) in files {
            let p = root.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }

    fn value(s: &Settings, name: &str) -> Option<String> {
        s.values[name].as_ref().map(|k| k.value.clone())
    }

    #[test]
    fn manage_py_names_the_module_and_star_imports_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            &[
                (
                    "manage.py",
                    "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings.prod')\n",
                ),
                ("proj/__init__.py", ""),
                ("proj/settings/__init__.py", ""),
                (
                    "proj/settings/base.py",
                    "SOCIAL_AUTH_USER_MODEL = AUTH_USER_MODEL = \"users.User\"\n",
                ),
                ("proj/settings/prod.py", "from .base import *  # noqa\nDEBUG = False\n"),
                // Another file that disagrees, not the one manage.py names.
                ("proj/settings/test.py", "AUTH_USER_MODEL = 'tests.User'\n"),
            ],
        );
        let s = read(
            root,
            root,
            &SettingsConf::default(),
            &asked(&["AUTH_USER_MODEL"]),
        );
        assert_eq!(value(&s, "AUTH_USER_MODEL").as_deref(), Some("users.User"));
        assert_eq!(
            s.values["AUTH_USER_MODEL"]
                .as_ref()
                .unwrap()
                .origin
                .shown(root),
            "proj/settings/base.py:1"
        );
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn files_that_disagree_leave_the_value_unknown_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            &[
                ("a/settings.py", "AUTH_USER_MODEL = 'users.User'\n"),
                ("b/settings_dev.py", "AUTH_USER_MODEL = 'accounts.User'\n"),
                ("c/conf/server.py", "X = 1\n"),
            ],
        );
        let s = read(
            root,
            root,
            &SettingsConf::default(),
            &asked(&["AUTH_USER_MODEL"]),
        );
        assert_eq!(value(&s, "AUTH_USER_MODEL"), None);
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        let w = &s.warnings[0];
        assert!(
            w.message.contains(
                "\"accounts.User\" in b/settings_dev.py:1 and \"users.User\" in a/settings.py:1"
            ),
            "{}",
            w.message
        );
        // migfix.toml settles it, and says where a file disagrees.
        let conf = SettingsConf {
            module: None,
            values: [("AUTH_USER_MODEL".to_string(), "users.User".to_string())].into(),
        };
        let s = read(root, root, &conf, &asked(&["AUTH_USER_MODEL"]));
        assert_eq!(value(&s, "AUTH_USER_MODEL").as_deref(), Some("users.User"));
        assert_eq!(
            s.values["AUTH_USER_MODEL"].as_ref().unwrap().origin,
            Origin::Toml
        );
        assert_eq!(s.warnings.len(), 1);
        assert_eq!(s.warnings[0].file, "b/settings_dev.py");
        assert!(
            s.warnings[0].message.contains("migfix.toml wins"),
            "{:?}",
            s.warnings
        );
        // migfix.toml's module.
        let conf = SettingsConf {
            module: Some("b.settings_dev".into()),
            values: BTreeMap::new(),
        };
        let s = read(root, root, &conf, &asked(&["AUTH_USER_MODEL"]));
        assert_eq!(
            value(&s, "AUTH_USER_MODEL").as_deref(),
            Some("accounts.User")
        );
    }

    #[test]
    fn non_literals_and_conditionals_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            &[(
                "settings.py",
                "import os\nAUTH_USER_MODEL = 'users.User'\nif os.environ.get('T'):\n    AUTH_USER_MODEL = 'tests.User'\nOTHER_MODEL = os.environ['X']\n",
            )],
        );
        let s = read(
            root,
            root,
            &SettingsConf::default(),
            &asked(&["AUTH_USER_MODEL", "OTHER_MODEL", "UNSET_MODEL"]),
        );
        assert_eq!(value(&s, "AUTH_USER_MODEL"), None);
        assert_eq!(value(&s, "OTHER_MODEL"), None);
        // Never set: no default of Django's.
        assert_eq!(value(&s, "UNSET_MODEL"), None);
        let lines: Vec<(Option<usize>, &str)> = s
            .warnings
            .iter()
            .map(|w| (w.line, w.message.as_str()))
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0].0, Some(4));
        assert!(lines[0].1.contains("inside an `if`"), "{lines:?}");
        assert_eq!(lines[1].0, Some(5));
        assert!(
            lines[1]
                .1
                .contains("`os.environ['X']` is not a string literal"),
            "{lines:?}"
        );
    }

    #[test]
    fn the_module_a_file_names() {
        for (text, want) in [
            (
                "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'a.settings')\n",
                Some("a.settings"),
            ),
            (
                "os.environ.setdefault(\n    \"DJANGO_SETTINGS_MODULE\",\n    \"a.b.base\"\n)\n",
                Some("a.b.base"),
            ),
            (
                "os.environ[\"DJANGO_SETTINGS_MODULE\"] = \"c.settings\"\n",
                Some("c.settings"),
            ),
            (
                "# os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"old.settings\")\nx = 1\n",
                None,
            ),
            (
                "os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", name)\n",
                None,
            ),
        ] {
            assert_eq!(named_in(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn no_settings_is_djangos_default() {
        let dir = tempfile::tempdir().unwrap();
        let s = read(
            dir.path(),
            dir.path(),
            &SettingsConf::default(),
            &asked(&["AUTH_USER_MODEL"]),
        );
        assert_eq!(value(&s, "AUTH_USER_MODEL").as_deref(), Some("auth.User"));
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn a_library_reads_a_setting_with_a_default() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("settings.py");
        std::fs::write(
            &f,
            "from django.conf import settings\n\nAPPLICATION_MODEL = getattr(settings, \"OAUTH2_PROVIDER_APPLICATION_MODEL\", \"oauth2_provider.Application\")\n",
        )
        .unwrap();
        assert_eq!(
            library_setting(&f, "APPLICATION_MODEL"),
            Some((
                "OAUTH2_PROVIDER_APPLICATION_MODEL".into(),
                Some("oauth2_provider.Application".into()),
                3
            ))
        );
        assert_eq!(library_setting(&f, "GRANT_MODEL"), None);
    }
}
