//! `chains`, `heads` and `history` as text, JSON and Graphviz.

use crate::chains::{Chain, Revision};
use crate::cli::Format;
use crate::config::Config;
use crate::graph::Graph;
use serde::Serialize;
use std::io::{self, Write};

use super::{json, style, warn, warnings};

// ---- chains ----

#[derive(Serialize)]
struct ChainRow<'a> {
    name: &'a str,
    kind: &'static str,
    location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<String>,
    count: usize,
    scheme: crate::chains::Scheme,
    /// How the files are named (Alembic).
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<FilesJson>,
    heads: Vec<&'a str>,
    last: Option<&'a str>,
}

#[derive(Serialize)]
struct FilesJson {
    /// Alembic's notation; a running file number shows as `NNNN`.
    template: String,
    /// `config` (file_template), `inferred` (from the names) or `default`.
    origin: crate::chains::naming::Origin,
    id_in_name: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    number_width: Option<usize>,
}

fn chain_row<'a>(config: &Config, chain: &'a Chain) -> ChainRow<'a> {
    let graph = Graph::build(chain);
    let rules = &chain.profile().rules;
    let conf = chain.spec.source.config_file().map(|p| config.rel(&p));
    ChainRow {
        name: chain.name(),
        kind: chain.kind(),
        location: config.rel(&chain.location()),
        config: conf,
        count: chain.revisions.len(),
        scheme: chain.scheme,
        files: rules.id_files.then(|| FilesJson {
            template: chain.naming.template(),
            origin: chain.naming.origin,
            id_in_name: chain.naming.has_rev(),
            number_width: chain.naming.seq_width(),
        }),
        heads: graph
            .heads()
            .into_iter()
            .map(|i| graph.rev(i).id.as_str())
            .collect(),
        last: if rules.plan_order {
            chain.revisions.last().map(|r| r.id.as_str())
        } else {
            None
        },
    }
}

pub(crate) fn chains(config: &Config, chains: &[Chain]) -> io::Result<()> {
    warn(config, chains);
    let rows: Vec<ChainRow<'_>> = chains.iter().map(|c| chain_row(config, c)).collect();
    if config.output.format == Format::Json {
        return json(
            &serde_json::json!({ "chains": rows, "warnings": warnings(chains), "errors": config.broken }),
        );
    }
    let s = style(config);
    let mut out = super::sink::out();
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for (r, chain) in rows.iter().zip(chains) {
        let words = &chain.profile().words;
        let noun = if r.count == 1 { words.one } else { words.many };
        let tail = match r.last {
            Some(last) => format!("last {last}"),
            None if r.heads.len() == 1 => format!("{} {}", words.head, r.heads[0]),
            None => s.yellow(&format!("{} {}", words.heads, r.heads.join(", "))),
        };
        let files = if chain.profile().rules.id_files {
            format!("{}, ", chain.naming)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{:<width$}  {:<7}  {} {noun}, {}, {files}{tail}  {}",
            s.bold(r.name),
            r.kind,
            r.count,
            r.scheme,
            s.dim(&r.location),
            width = width + if s.on { 8 } else { 0 },
        )?;
    }
    out.flush()
}

// ---- heads and history ----

#[derive(Serialize)]
struct RevisionJson<'a> {
    id: &'a str,
    path: String,
    line: usize,
    down_revisions: &'a [String],
    depends_on: Option<&'a [String]>,
    branch_labels: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    head: Option<bool>,
    /// For a head: the branch labels it carries, as Alembic spreads them.
    #[serde(skip_serializing_if = "Option::is_none")]
    branches: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    branch_point: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merge_point: Option<bool>,
    /// A planned change: the id the tool's registry knows it by.
    #[serde(skip_serializing_if = "Option::is_none")]
    change_id: Option<&'a str>,
    /// A planned change: its deploy, revert and verify scripts, whether or
    /// not they exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    scripts: Option<Vec<String>>,
    /// What the revision's framework adds of its own (a migration's app,
    /// name, and what the graph leaves to the framework).
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    detail: Option<Fields>,
}

/// Fields in their order, serialized beside a struct's own.
struct Fields(Vec<(&'static str, serde_json::Value)>);

impl Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct ChainJson<'a> {
    name: &'a str,
    kind: &'static str,
    root: String,
    heads: Vec<&'a str>,
    revisions: Vec<RevisionJson<'a>>,
}

/// The contract's chain object: the chain, its heads, and `revisions`.
fn chain_json<'a>(
    config: &Config,
    c: &'a Chain,
    g: &Graph<'a>,
    revisions: Vec<RevisionJson<'a>>,
) -> ChainJson<'a> {
    ChainJson {
        name: c.name(),
        kind: c.kind(),
        root: config.rel(&c.location()),
        heads: g
            .in_view(g.heads())
            .into_iter()
            .map(|i| g.rev(i).id.as_str())
            .collect(),
        revisions,
    }
}

fn revision_json<'a>(config: &Config, r: &'a Revision) -> RevisionJson<'a> {
    RevisionJson {
        id: &r.id,
        path: config.rel(&r.path),
        line: r.line,
        down_revisions: &r.down,
        depends_on: r.depends_on.as_deref(),
        branch_labels: r.branch_labels.as_deref(),
        head: None,
        branches: None,
        branch_point: None,
        merge_point: None,
        change_id: r.scripts.as_ref().map(|s| s.change_id.as_str()),
        detail: r.detail.as_ref().map(|d| Fields(d.0.json_fields())),
        scripts: r
            .scripts
            .as_ref()
            .map(|s| s.paths.iter().map(|p| config.rel(p)).collect()),
    }
}

pub(crate) fn heads(config: &Config, chains: &[Chain]) -> io::Result<()> {
    warn(config, chains);
    if config.output.format == Format::Json {
        let out: Vec<ChainJson<'_>> = chains
            .iter()
            .map(|c| {
                let g = Graph::build(c);
                let revisions = g
                    .in_view(g.heads())
                    .into_iter()
                    .map(|i| RevisionJson {
                        branches: Some(g.shown_labels(i)),
                        ..revision_json(config, g.rev(i))
                    })
                    .collect();
                chain_json(config, c, &g, revisions)
            })
            .collect();
        return json(
            &serde_json::json!({ "chains": out, "warnings": warnings(chains), "errors": config.broken }),
        );
    }
    let mut out = super::sink::out();
    let grouped = chains.len() > 1;
    for (n, c) in chains.iter().enumerate() {
        if grouped {
            if n > 0 {
                writeln!(out)?;
            }
            writeln!(out, "{}:", c.name())?;
        }
        let g = Graph::build(c);
        // `(head)`, or the framework's word (a leaf node).
        let head = c.profile().words.head;
        for i in g.in_view(g.heads()) {
            let r = g.rev(i);
            // As `alembic heads` prints it: `id (label, ...) (head)`.
            if config.output.verbose > 0 {
                writeln!(
                    out,
                    "{} ({head})  {}",
                    g.with_labels(i),
                    config.rel(&r.path)
                )?;
            } else {
                writeln!(out, "{} ({head})", g.with_labels(i))?;
            }
        }
    }
    out.flush()
}

pub(crate) fn history(config: &Config, chains: &[Chain], dot: bool) -> io::Result<()> {
    warn(config, chains);
    if dot {
        return history_dot(chains);
    }
    if config.output.format == Format::Json {
        let out: Vec<ChainJson<'_>> = chains
            .iter()
            .map(|c| {
                let g = Graph::build(c);
                let heads = g.heads();
                let revisions = g
                    .in_view(g.newest_first())
                    .into_iter()
                    .map(|i| RevisionJson {
                        head: Some(heads.contains(&i)),
                        branches: heads.contains(&i).then(|| g.shown_labels(i)),
                        branch_point: Some(g.is_branch_point(i)),
                        merge_point: Some(g.is_merge_point(i)),
                        ..revision_json(config, g.rev(i))
                    })
                    .collect();
                chain_json(config, c, &g, revisions)
            })
            .collect();
        return json(
            &serde_json::json!({ "chains": out, "warnings": warnings(chains), "errors": config.broken }),
        );
    }
    let s = style(config);
    let mut out = super::sink::out();
    for (n, c) in chains.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}",
            s.bold(&format!(
                "{} ({}, {})",
                c.name(),
                c.kind(),
                config.rel(&c.location())
            ))
        )?;
        let g = Graph::build(c);
        let rules = &c.profile().rules;
        let heads = g.heads();
        let order = g.in_view(g.newest_first());
        let width = order
            .iter()
            .map(|&i| g.rev(i).down.join(", ").len().max(6))
            .max()
            .unwrap_or(6);
        for i in order {
            let r = g.rev(i);
            let down = if r.down.is_empty() {
                "<base>".to_string()
            } else {
                r.down.join(", ")
            };
            let mut marks = Vec::new();
            if heads.contains(&i) {
                let labels = g.shown_labels(i);
                if !labels.is_empty() {
                    marks.push(format!("({})", labels.join(", ")));
                }
                marks.push(s.green(&format!("({})", c.profile().words.head)));
            }
            if g.is_branch_point(i) {
                marks.push(s.yellow("(branchpoint)"));
            }
            if g.is_merge_point(i) {
                marks.push(s.yellow("(mergepoint)"));
            }
            let deps = match &r.depends_on {
                Some(d) if !d.is_empty() && !rules.plan_order => {
                    format!(" (depends on {})", d.join(", "))
                }
                None => " (depends on: unknown)".to_string(),
                _ => String::new(),
            };
            let labels = match &r.branch_labels {
                // A Django migration's label is its app, already in its id.
                Some(l) if !l.is_empty() && rules.show_labels => format!(" [{}]", l.join(", ")),
                _ => String::new(),
            };
            let file = if rules.plan_order {
                format!("line {}", r.line)
            } else {
                r.path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            };
            let marks = if marks.is_empty() {
                String::new()
            } else {
                format!(" {}", marks.join(" "))
            };
            writeln!(
                out,
                "{down:>width$} -> {}{marks}{labels}{deps}  {}",
                s.bold(&r.id),
                s.dim(&file)
            )?;
        }
    }
    out.flush()
}

fn dot_id(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn history_dot(chains: &[Chain]) -> io::Result<()> {
    let mut out = super::sink::out();
    writeln!(out, "digraph migfix {{")?;
    writeln!(out, "  rankdir=BT;")?;
    writeln!(out, "  node [shape=box, fontname=\"monospace\"];")?;
    for (n, c) in chains.iter().enumerate() {
        let g = Graph::build(c);
        let heads = g.heads();
        let node = |i: usize| dot_id(&format!("{}:{}", c.name(), g.rev(i).id));
        writeln!(out, "  subgraph cluster_{n} {{")?;
        writeln!(out, "    label={};", dot_id(c.name()))?;
        for i in 0..c.revisions.len() {
            let r = g.rev(i);
            let style = if heads.contains(&i) {
                ", style=bold, color=darkgreen"
            } else {
                ""
            };
            writeln!(out, "    {} [label={}{style}];", node(i), dot_id(&r.id))?;
        }
        for i in 0..c.revisions.len() {
            let r = g.rev(i);
            for d in &r.down {
                match g.resolve(d) {
                    Some(p) => writeln!(out, "    {} -> {};", node(i), node(p))?,
                    None => writeln!(
                        out,
                        "    {} -> {} [color=red, label=\"missing\"];",
                        node(i),
                        dot_id(&format!("{}:{d}", c.name()))
                    )?,
                }
            }
            if !c.profile().rules.plan_order {
                for d in r.depends_on.iter().flatten() {
                    if let Some(p) = g.resolve(d) {
                        writeln!(out, "    {} -> {} [style=dashed];", node(i), node(p))?;
                    }
                }
            }
        }
        writeln!(out, "  }}")?;
    }
    writeln!(out, "}}")?;
    out.flush()
}
