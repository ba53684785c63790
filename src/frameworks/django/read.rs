//! Django projects: every app's migrations read into one graph, with the
//! semantics of Django's `MigrationLoader` (no database): `__first__` and
//! `__latest__` resolved, `run_before` turned round, squashed migrations in
//! place of the ones they replace, dependencies on apps outside the
//! project left to Django.
//!
//! In the common model a migration is the revision `app.name`; its parents
//! in its own app are its `down`, those in other apps its `depends_on`, and
//! its app is its branch label, so that a head is what Django calls a leaf
//! node and two leaves in one app are one fork.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::DjangoSpec;
use crate::chains::{Detail, Part, Revision, RevisionDetail};
use crate::config::rel;
use crate::error::Diag;
use crate::frameworks::django::parse::{DepItem, ListAttr, MigrationClass};
use crate::frameworks::django::swappable::Swapped;
pub(crate) use crate::frameworks::interface::Read;
use crate::python::{self, StrLit};

/// What Django reads of one migration besides its place in the graph.
#[derive(Debug, Clone)]
pub(crate) struct DjangoMigration {
    pub app: String,
    pub name: String,
    pub class: MigrationClass,
    /// Dependencies on apps outside the project, as written.
    pub external: Vec<(String, String)>,
    /// Settings named by `swappable_dependency` (`AUTH_USER_MODEL`).
    pub swappable: Vec<String>,
    /// What each of them is, as the project's settings say.
    pub swapped: Vec<Swapped>,
}

impl RevisionDetail for DjangoMigration {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    /// The migration's app, name, and what the graph leaves to Django.
    fn json_fields(&self) -> Vec<(&'static str, serde_json::Value)> {
        use serde_json::json;
        let replaces: Vec<String> = self
            .class
            .replaces
            .items
            .iter()
            .filter_map(|i| match i {
                DepItem::Key { app, name } => Some(format!("{}.{}", app.value, name.value)),
                _ => None,
            })
            .collect();
        let external: Vec<String> = self
            .external
            .iter()
            .map(|(a, n)| format!("{a}.{n}"))
            .collect();
        vec![
            ("app", json!(self.app)),
            ("name", json!(self.name)),
            // The migrations a squash replaces, as `app.name`.
            ("replaces", json!(replaces)),
            ("initial", json!(self.class.initial)),
            // Dependencies on apps outside the project, as `app.name`.
            ("external_dependencies", json!(external)),
            // Settings a `swappable_dependency` names (`AUTH_USER_MODEL`).
            ("swappable_dependencies", json!(self.swappable)),
            // Their values, as the project's settings say.
            ("swappable_settings", json!(self.swapped)),
        ]
    }
}

impl DjangoMigration {
    /// Every `(app, name)` reference the file writes, with the spans of its
    /// two strings: dependencies, replaces and run_before.
    pub fn references(&self) -> impl Iterator<Item = (&StrLit, &StrLit)> {
        [
            &self.class.dependencies,
            &self.class.replaces,
            &self.class.run_before,
        ]
        .into_iter()
        .flat_map(|l| l.items.iter())
        .filter_map(|i| match i {
            DepItem::Key { app, name } => Some((app, name)),
            _ => None,
        })
    }
}

pub(crate) type Key = (String, String);

/// The id a migration has in the common model.
pub(crate) fn id_of(app: &str, name: &str) -> String {
    format!("{app}.{name}")
}

pub(crate) use crate::frameworks::django::parse::skipped;

/// A package's modules Django loads (name and file), and the files it skips.
pub(crate) type Listed = (Vec<(String, PathBuf)>, Vec<PathBuf>);

/// The modules Django loads from a migrations package, sorted by name, and
/// the `.py` files it skips (for `check` to name). Sub-packages are skipped.
pub(crate) fn list_files(root: &Path, dir: &Path) -> Result<Listed, Diag> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Diag::new(rel(root, dir), None, format!("cannot read directory: {e}")))?;
    let mut loaded = Vec::new();
    let mut skipped_files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if !std::fs::metadata(&path).is_ok_and(|m| !m.is_dir()) {
            continue;
        }
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            skipped_files.push(path);
            continue;
        };
        let Some(stem) = name.strip_suffix(".py") else {
            continue;
        };
        if stem == "__init__" {
            continue;
        }
        if skipped(stem).is_some() {
            if !stem.starts_with(['_', '~']) {
                skipped_files.push(path);
            }
            continue;
        }
        loaded.push((stem.to_string(), path));
    }
    loaded.sort();
    skipped_files.sort();
    Ok((loaded, skipped_files))
}

pub(crate) fn read(root: &Path, spec: &DjangoSpec) -> Result<Read, Vec<Diag>> {
    read_with(root, spec, &[])
}

/// The project as it will be once `changes` are applied: each change's
/// file is read from its planned bytes, at its planned name.
pub(crate) fn read_with(
    root: &Path,
    spec: &DjangoSpec,
    changes: &[crate::plan::Change],
) -> Result<Read, Vec<Diag>> {
    let mut files: Vec<(String, String, PathBuf)> = Vec::new();
    let mut errors = Vec::new();
    let mut warnings: Vec<Diag> = spec
        .shadowed
        .iter()
        .map(|s| {
            let first = spec.apps.iter().find(|a| a.label == s.label).map(|a| rel(root, &a.dir)).unwrap_or_default();
            Diag::new(
                rel(root, &s.dir),
                None,
                format!(
                    "left out: its app has the label {} of {first}, and Django installs one app per label; name the project's apps in migfix.toml ([chain.apps])",
                    s.label
                ),
            )
        })
        .collect();
    for app in &spec.apps {
        match list_files(root, &app.dir) {
            Ok((loaded, skipped_files)) => {
                for (stem, path) in loaded {
                    files.push((app.label.clone(), stem, path));
                }
                for path in skipped_files {
                    let stem = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let why = skipped(&stem).unwrap_or("its name is not valid UTF-8");
                    warnings.push(Diag::new(
                        rel(root, &path),
                        None,
                        format!("not a migration Django loads: {why}; rename it or delete it"),
                    ));
                }
            }
            Err(d) => errors.push(d),
        }
    }
    for c in changes {
        files.retain(|(_, _, p)| Some(p) != c.from.as_ref());
        let app = spec.app_of(&c.to);
        let stem =
            c.to.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".py"));
        if let (Some(app), Some(stem)) = (app, stem) {
            if stem != "__init__" && skipped(stem).is_none() {
                files.push((app.label.clone(), stem.to_string(), c.to.clone()));
            }
        }
    }
    let parsed = crate::parallel::parallel_map(&files, |(_, _, path)| {
        match changes.iter().find(|c| &c.to == path) {
            Some(c) => class_of(root, path, &c.after),
            None => read_class(root, path),
        }
    });
    let mut classes = Vec::with_capacity(files.len());
    // Suppression's comments, from the bytes each class was read from.
    let mut marks = HashMap::with_capacity(files.len());
    for (f, r) in files.into_iter().zip(parsed) {
        match r {
            Ok((c, m)) => {
                marks.insert(f.2.clone(), m);
                classes.push((f, c));
            }
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut read = assemble(root, spec, classes);
    for r in read.revisions.iter_mut().chain(&mut read.replaced) {
        r.marks = marks.remove(&r.path);
    }
    warnings.append(&mut read.warnings);
    read.warnings = warnings;
    Ok(read)
}

/// A migration file's app, name and path.
pub(crate) type File = (String, String, PathBuf);

/// Django's graph over read Migration classes (of files on disk, planned
/// files, or blobs of a git tree), in load order: apps in turn, names
/// sorted. Its warnings are for what is not read.
pub(crate) fn assemble(
    root: &Path,
    spec: &DjangoSpec,
    mut classes: Vec<(File, MigrationClass)>,
) -> Read {
    let order = |label: &str| spec.apps.iter().position(|a| a.label == label);
    classes.sort_by(|((a, x, _), _), ((b, y, _), _)| (order(a), x).cmp(&(order(b), y)));
    let mut warnings = Vec::new();
    let apps: BTreeSet<&str> = spec.apps.iter().map(|a| a.label.as_str()).collect();
    let nodes: Vec<Key> = classes
        .iter()
        .map(|((app, name, _), _)| (app.clone(), name.clone()))
        .collect();
    let index: HashMap<&Key, usize> = nodes.iter().enumerate().map(|(i, k)| (k, i)).collect();

    // Parents of each node, as keys (a missing one stays: it dangles).
    let mut parents: Vec<Vec<Key>> = vec![Vec::new(); nodes.len()];
    let mut external: Vec<Vec<Key>> = vec![Vec::new(); nodes.len()];
    // Each swappable dependency, as the project's settings resolve it.
    let (mut swapped, mut swap_warnings) = {
        let refs: Vec<(&Path, &MigrationClass)> = classes
            .iter()
            .map(|((_, _, p), c)| (p.as_path(), c))
            .collect();
        super::swappable::resolve(root, spec, &refs)
    };
    warnings.append(&mut swap_warnings);
    let push = |list: &mut Vec<Key>, k: Key| {
        if !list.contains(&k) {
            list.push(k);
        }
    };
    // Django adds every app's internal dependencies first; `__first__` of
    // the migration's own app is ignored.
    for (i, (_, class)) in classes.iter().enumerate() {
        let app = &nodes[i].0;
        for item in &class.dependencies.items {
            if let DepItem::Key { app: a, name: n } = item {
                if &a.value == app && n.value != "__first__" {
                    push(&mut parents[i], (a.value.clone(), n.value.clone()));
                }
            }
        }
    }
    // Each app's first root and first leaf in name order, over the
    // internal edges, for other apps' `__first__` and `__latest__`.
    let has_child: BTreeSet<&Key> = parents.iter().flatten().collect();
    let mut first_root: HashMap<&str, &Key> = HashMap::new();
    let mut first_leaf: HashMap<&str, &Key> = HashMap::new();
    fn keep_least<'k>(map: &mut HashMap<&'k str, &'k Key>, k: &'k Key) {
        let e = map.entry(k.0.as_str()).or_insert(k);
        *e = (*e).min(k);
    }
    for (j, k) in nodes.iter().enumerate() {
        if parents[j].iter().all(|p| p.0 != k.0) {
            keep_least(&mut first_root, k);
        }
        if !has_child.contains(k) {
            keep_least(&mut first_leaf, k);
        }
    }
    let owned = |m: HashMap<&str, &Key>| -> HashMap<String, Key> {
        m.into_iter()
            .map(|(a, k)| (a.to_string(), k.clone()))
            .collect()
    };
    let (first_root, first_leaf) = (owned(first_root), owned(first_leaf));
    // Django's check_key: a reference to another app, resolved; `None`
    // where Django ignores it or it lies outside the project.
    enum Target {
        Node(Key),
        Ignored,
        External,
    }
    let check_key = |a: &str, n: &str, current: &str| -> Target {
        let key = (a.to_string(), n.to_string());
        if (n != "__first__" && n != "__latest__") || index.contains_key(&key) {
            return if apps.contains(a) {
                Target::Node(key)
            } else {
                Target::External
            };
        }
        if a == current {
            return Target::Ignored;
        }
        if !apps.contains(a) {
            return Target::External;
        }
        let firsts = if n == "__latest__" {
            &first_leaf
        } else {
            &first_root
        };
        match firsts.get(a) {
            Some(k) => Target::Node(k.clone()),
            None => Target::Ignored,
        }
    };
    for (i, (_, class)) in classes.iter().enumerate() {
        let app = nodes[i].0.clone();
        for item in &class.dependencies.items {
            match item {
                DepItem::Key { app: a, name: n } if a.value != app => {
                    match check_key(&a.value, &n.value, &app) {
                        Target::Node(k) => push(&mut parents[i], k),
                        Target::External => external[i].push((a.value.clone(), n.value.clone())),
                        Target::Ignored => {}
                    }
                }
                _ => {}
            }
        }
        // `swappable_dependency(value)` is `(value's app, "__first__")`,
        // read with the others in Django's order: ignored in its own app.
        for (_, label) in &swapped[i] {
            if let Some(label) = label.as_deref().filter(|l| *l != app) {
                if let Target::Node(k) = check_key(label, "__first__", &app) {
                    push(&mut parents[i], k);
                }
            }
        }
        for item in &class.run_before.items {
            if let DepItem::Key { app: a, name: n } = item {
                if let Target::Node(k) = check_key(&a.value, &n.value, &app) {
                    if let Some(&c) = index.get(&k) {
                        push(&mut parents[c], nodes[i].clone());
                    }
                }
            }
        }
    }
    for ((_, _, path), class) in &classes {
        for (attr, list) in [
            ("dependencies", &class.dependencies),
            ("replaces", &class.replaces),
            ("run_before", &class.run_before),
        ] {
            warn_unread(root, path, attr, list, &mut warnings);
        }
    }

    // Squashes take the place of what they replace, as Django does with no
    // database to say which are applied: each replaced node's children and
    // parents become the squash's.
    let mut replaced_by: BTreeMap<Key, Key> = BTreeMap::new();
    for (i, (_, class)) in classes.iter().enumerate() {
        for item in &class.replaces.items {
            if let DepItem::Key { app: a, name: n } = item {
                replaced_by.insert((a.value.clone(), n.value.clone()), nodes[i].clone());
            }
        }
    }
    let final_key = |k: &Key| -> Key {
        let mut k = k.clone();
        // Bounded: a squash replacing a squash is followed, a loop is not.
        for _ in 0..16 {
            match replaced_by.get(&k) {
                Some(r) => k = r.clone(),
                None => break,
            }
        }
        k
    };
    let in_graph: Vec<bool> = nodes.iter().map(|k| !replaced_by.contains_key(k)).collect();
    let mut final_parents: Vec<Vec<Key>> = vec![Vec::new(); nodes.len()];
    for i in 0..nodes.len() {
        let me = final_key(&nodes[i]);
        let Some(&to) = index.get(&me) else { continue };
        for p in &parents[i] {
            let p = final_key(p);
            if p != me {
                push(&mut final_parents[to], p);
            }
        }
    }

    let mut revisions = Vec::new();
    let mut replaced = Vec::new();
    for (i, ((app, name, path), class)) in classes.into_iter().enumerate() {
        let external = std::mem::take(&mut external[i]);
        let swapped: Vec<Swapped> = std::mem::take(&mut swapped[i])
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        let swappable = swapped.iter().map(|s| s.swappable.clone()).collect();
        let (down, cross): (Vec<Key>, Vec<Key>) =
            final_parents[i].iter().cloned().partition(|p| p.0 == app);
        let rev = Revision {
            id: id_of(&app, &name),
            path: path.clone(),
            line: class.line,
            down: down.iter().map(|k| id_of(&k.0, &k.1)).collect(),
            depends_on: Some(cross.iter().map(|k| id_of(&k.0, &k.1)).collect()),
            branch_labels: Some(vec![app.clone()]),
            consts: None,
            scripts: None,
            steps: None,
            part: Some(Part {
                label: app.clone(),
                name: name.clone(),
            }),
            detail: Some(Detail(std::sync::Arc::new(DjangoMigration {
                app: app.clone(),
                name: name.clone(),
                class,
                external,
                swappable,
                swapped,
            }))),
            marks: None,
        };
        if in_graph[i] {
            revisions.push(rev);
        } else {
            replaced.push(rev);
        }
    }
    Read {
        revisions,
        replaced,
        warnings,
    }
}

/// A migration's class, and its `migfix:` comments (line, text).
type Class = (MigrationClass, Vec<(usize, String)>);

fn read_class(root: &Path, path: &Path) -> Result<Class, Diag> {
    let bytes = python::read_source(path).map_err(|m| Diag::new(rel(root, path), None, m))?;
    class_of(root, path, &bytes)
}

fn class_of(root: &Path, path: &Path, bytes: &[u8]) -> Result<Class, Diag> {
    // The relative path only for a message: working it out for every file
    // cost as much as a tenth of reading the class.
    let shown = || rel(root, path);
    match crate::frameworks::django::parse::read(bytes) {
        Ok(Some(class)) => Ok((class, crate::suppress::python_marks(bytes))),
        Ok(None) => Err(Diag::new(
            shown(),
            None,
            "no `class Migration`: Django refuses a module in migrations/ without one (BadMigrationError); move helpers out of the package or name them with a leading `_`",
        )),
        Err(e) => Err(Diag::new(shown(), Some(e.line), e.message)),
    }
}

fn warn_unread(root: &Path, path: &Path, attr: &str, list: &ListAttr, out: &mut Vec<Diag>) {
    if let Some(why) = &list.non_literal {
        out.push(Diag::new(
            rel(root, path),
            Some(list.line),
            format!(
                "`{attr}` is not a literal ({why}); migfix reads it statically, so it is unknown"
            ),
        ));
    }
    for (term, line) in &list.unread_terms {
        out.push(Diag::new(
            rel(root, path),
            Some(*line),
            format!(
                "`{attr}` is a sum with {term}, which is not a literal: the literal part is read, and what that term adds is left out of the graph"
            ),
        ));
    }
    for item in &list.items {
        if let DepItem::NonLiteral { why, line } = item {
            out.push(Diag::new(
                rel(root, path),
                Some(*line),
                format!("an element of `{attr}` is not read: {why}; it is left out of the graph"),
            ));
        }
    }
}
