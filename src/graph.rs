//! The revision DAG of one chain, with Alembic's own semantics: an id
//! declared twice resolves to the file loaded last, and the shadowed file
//! stays a head; heads ignore `depends_on`; bases have no `down_revision`.

use crate::chains::files::{file_number, filename_mismatch};
use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::chains::{Chain, Revision};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edge {
    Down,
    Depends,
}

/// Node `i` is `chain.revisions[i]`; edges run parent → child.
pub(crate) struct Graph<'c> {
    pub chain: &'c Chain,
    g: DiGraph<usize, Edge>,
    /// id → the revision Alembic keeps for it (the last loaded).
    winners: HashMap<&'c str, usize>,
    labels: HashMap<&'c str, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Via {
    DownRevision,
    DependsOn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Heads that no branch label tells apart: a fork. `label` is the
    /// branch they share, if any.
    MultipleHeads {
        heads: Vec<usize>,
        label: Option<String>,
    },
    /// Two files with one file number where the names carry a running
    /// number beside the id (`0124_3_3_0_a.py`, `0124_3_3_0_b.py`).
    DuplicateSequence {
        number: u64,
        revs: Vec<usize>,
    },
    DuplicateId {
        id: String,
        revs: Vec<usize>,
    },
    Dangling {
        rev: usize,
        target: String,
        via: Via,
        suggestion: Option<String>,
    },
    Cycle {
        revs: Vec<usize>,
    },
    InvalidId {
        rev: usize,
        reason: String,
    },
    FilenameMismatch {
        rev: usize,
        file_id: String,
    },
    MultipleBases {
        bases: Vec<usize>,
    },
    NoHead,
    LabelClash {
        label: String,
        revs: Vec<usize>,
        with_id: bool,
    },
}

impl<'c> Graph<'c> {
    pub fn build(chain: &'c Chain) -> Graph<'c> {
        let revs = &chain.revisions;
        let mut g = DiGraph::with_capacity(revs.len(), revs.len());
        for i in 0..revs.len() {
            g.add_node(i);
        }
        let mut winners = HashMap::with_capacity(revs.len());
        let mut labels: HashMap<&str, usize> = HashMap::new();
        for (i, r) in revs.iter().enumerate() {
            winners.insert(r.id.as_str(), i);
            for label in r.branch_labels.iter().flatten() {
                labels.entry(label.as_str()).or_insert(i);
            }
        }
        let mut graph = Graph {
            chain,
            g,
            winners,
            labels,
        };
        for (i, r) in revs.iter().enumerate() {
            for d in &r.down {
                if let Some(p) = graph.resolve(d) {
                    graph
                        .g
                        .add_edge(NodeIndex::new(p), NodeIndex::new(i), Edge::Down);
                }
            }
            for d in r.depends_on.iter().flatten() {
                if let Some(p) = graph.resolve(d) {
                    graph
                        .g
                        .add_edge(NodeIndex::new(p), NodeIndex::new(i), Edge::Depends);
                }
            }
        }
        graph
    }

    pub fn rev(&self, i: usize) -> &'c Revision {
        &self.chain.revisions[i]
    }

    /// The revision an id (or branch label) names, as Alembic resolves it.
    pub fn resolve(&self, id: &str) -> Option<usize> {
        self.winners
            .get(id)
            .or_else(|| self.labels.get(id))
            .copied()
    }

    fn neighbours(&self, i: usize, dir: Direction, kind: Edge) -> impl Iterator<Item = usize> + '_ {
        self.g
            .edges_directed(NodeIndex::new(i), dir)
            .filter(move |e| *e.weight() == kind)
            .map(move |e| match dir {
                Direction::Outgoing => e.target().index(),
                Direction::Incoming => e.source().index(),
            })
    }

    /// Revisions whose `down_revision` names `i`.
    pub fn children(&self, i: usize) -> Vec<usize> {
        let mut c: Vec<usize> = self
            .neighbours(i, Direction::Outgoing, Edge::Down)
            .collect();
        c.sort_unstable();
        c.dedup();
        c
    }

    /// Alembic's heads: no other revision's `down_revision` resolves here.
    pub fn heads(&self) -> Vec<usize> {
        let mut heads: Vec<usize> = (0..self.chain.revisions.len())
            .filter(|&i| {
                self.neighbours(i, Direction::Outgoing, Edge::Down)
                    .next()
                    .is_none()
            })
            .collect();
        // In load order, as Alembic lists them.
        heads.sort_unstable();
        heads
    }

    /// The revisions of `list` in view: all, or those of the Django app
    /// that `--chain LABEL` selected.
    pub fn in_view(&self, list: Vec<usize>) -> Vec<usize> {
        list.into_iter()
            .filter(|&i| self.chain.in_focus(self.rev(i)))
            .collect()
    }

    pub fn bases(&self) -> Vec<usize> {
        (0..self.chain.revisions.len())
            .filter(|&i| self.rev(i).down.is_empty())
            .collect()
    }

    pub fn is_branch_point(&self, i: usize) -> bool {
        self.children(i).len() > 1
    }

    pub fn is_merge_point(&self, i: usize) -> bool {
        self.rev(i).down.len() > 1
    }

    /// Every revision reachable by following parents (down_revision and
    /// depends_on), not including `i`.
    pub fn ancestors(&self, i: usize) -> BTreeSet<usize> {
        self.reach(i, Direction::Incoming)
    }

    pub fn descendants(&self, i: usize) -> BTreeSet<usize> {
        self.reach(i, Direction::Outgoing)
    }

    fn reach(&self, i: usize, dir: Direction) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![i];
        while let Some(n) = stack.pop() {
            for m in self.g.neighbors_directed(NodeIndex::new(n), dir) {
                if seen.insert(m.index()) {
                    stack.push(m.index());
                }
            }
        }
        seen.remove(&i);
        seen
    }

    /// Revisions newest first: a revision comes after all of its children.
    /// Among those ready, the higher id goes first. Revisions in a cycle
    /// come last, in load order.
    pub fn newest_first(&self) -> Vec<usize> {
        let n = self.chain.revisions.len();
        let mut pending: Vec<usize> = (0..n)
            .map(|i| {
                self.g
                    .edges_directed(NodeIndex::new(i), Direction::Outgoing)
                    .count()
            })
            .collect();
        let mut ready: BinaryHeap<Ready<'_>> = (0..n)
            .filter(|&i| pending[i] == 0)
            .map(|i| Ready(&self.rev(i).id, i))
            .collect();
        let mut out = Vec::with_capacity(n);
        let mut done = vec![false; n];
        while let Some(Ready(_, i)) = ready.pop() {
            out.push(i);
            done[i] = true;
            for e in self
                .g
                .edges_directed(NodeIndex::new(i), Direction::Incoming)
            {
                let p = e.source().index();
                pending[p] -= 1;
                if pending[p] == 0 {
                    ready.push(Ready(&self.rev(p).id, p));
                }
            }
        }
        out.extend((0..n).filter(|&i| !done[i]));
        out
    }

    pub fn cycles(&self) -> Vec<Vec<usize>> {
        let mut cycles: Vec<Vec<usize>> = tarjan_scc(&self.g)
            .into_iter()
            .map(|c| c.into_iter().map(|n| n.index()).collect::<Vec<_>>())
            .filter(|c: &Vec<usize>| {
                c.len() > 1
                    || self
                        .g
                        .contains_edge(NodeIndex::new(c[0]), NodeIndex::new(c[0]))
            })
            .collect();
        // Alembic refuses `down_revision` naming the revision itself, even
        // when the id is shadowed.
        for (i, r) in self.chain.revisions.iter().enumerate() {
            if r.down.contains(&r.id) && !cycles.iter().any(|c| c.contains(&i)) {
                cycles.push(vec![i]);
            }
        }
        for c in &mut cycles {
            c.sort_unstable();
        }
        cycles.sort();
        cycles
    }

    /// Everything `migfix check` reports for this chain, most urgent first.
    pub fn problems(&self) -> Vec<Problem> {
        let revs = &self.chain.revisions;
        let rules = &self.chain.spec.profile.rules;
        let mut out = Vec::new();
        let heads = self.heads();
        for (group, label) in self.forks() {
            out.push(Problem::MultipleHeads {
                heads: group,
                label,
            });
        }
        let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, r) in revs.iter().enumerate() {
            by_id.entry(r.id.as_str()).or_default().push(i);
        }
        let mut dups: Vec<(&str, Vec<usize>)> =
            by_id.into_iter().filter(|(_, v)| v.len() > 1).collect();
        dups.sort_by_key(|(_, v)| v[0]);
        for (id, revs) in dups {
            out.push(Problem::DuplicateId {
                id: id.to_string(),
                revs,
            });
        }
        for (i, r) in revs.iter().enumerate() {
            for d in &r.down {
                if self.resolve(d).is_none() {
                    out.push(Problem::Dangling {
                        rev: i,
                        target: d.clone(),
                        via: Via::DownRevision,
                        suggestion: self.suggest(d),
                    });
                }
            }
            for d in r.depends_on.iter().flatten() {
                if self.resolve(d).is_none() && !(rules.external)(d) {
                    out.push(Problem::Dangling {
                        rev: i,
                        target: d.clone(),
                        via: Via::DependsOn,
                        suggestion: self.suggest(d),
                    });
                }
            }
        }
        for revs in self.cycles() {
            out.push(Problem::Cycle { revs });
        }
        if heads.is_empty() && !revs.is_empty() {
            out.push(Problem::NoHead);
        }
        if rules.id_files {
            for (i, r) in revs.iter().enumerate() {
                if let Some(reason) = invalid_id(&r.id) {
                    out.push(Problem::InvalidId { rev: i, reason });
                }
                if let Some(file_id) = filename_mismatch(r, self.chain) {
                    out.push(Problem::FilenameMismatch { rev: i, file_id });
                }
            }
            out.extend(self.sequence_clashes());
            out.extend(self.label_clashes());
        }
        if rules.bases_per_label {
            // Each label (Django's app) has a first revision of its own.
            let mut by_label: std::collections::BTreeMap<Option<&String>, Vec<usize>> =
                Default::default();
            for i in self.bases() {
                let label = self.rev(i).branch_labels.as_ref().and_then(|l| l.first());
                by_label.entry(label).or_default().push(i);
            }
            out.extend(
                by_label
                    .into_values()
                    .filter(|b| b.len() > 1)
                    .map(|bases| Problem::MultipleBases { bases }),
            );
            // A number shared in history is Django's habit and harmless (a
            // migration's name is its identity once applied, so renaming an
            // old one would do harm). A leaf that shares its number with an
            // ancestor was rebased without a new number: that is worth a
            // word. Two leaves that share one are a fork, reported once.
            out.extend(self.part_number_clashes().into_iter().filter(|p| match p {
                Problem::DuplicateSequence { revs, .. } => revs.iter().any(|&r| {
                    heads.contains(&r) && {
                        let up = self.ancestors(r);
                        revs.iter().any(|o| up.contains(o))
                    }
                }),
                _ => true,
            }));
        } else {
            let bases = self.bases();
            if bases.len() > 1 {
                out.push(Problem::MultipleBases { bases });
            }
        }
        out
    }

    /// The branch labels a revision carries, as Alembic spreads them: its
    /// own and those of every revision below it on its `down_revision`
    /// line. A label that is not a literal counts as a label of its own.
    pub fn labels_of(&self, i: usize) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for j in self.reach_down(i).into_iter().chain([i]) {
            let r = self.rev(j);
            match &r.branch_labels {
                Some(labels) => out.extend(labels.iter().cloned()),
                None => {
                    out.insert(format!("<labels of {}>", r.id));
                }
            }
        }
        out
    }

    /// Ancestors through `down_revision` only, as Alembic spreads labels.
    fn reach_down(&self, i: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![i];
        while let Some(n) = stack.pop() {
            for m in self.neighbours(n, Direction::Incoming, Edge::Down) {
                if seen.insert(m) {
                    stack.push(m);
                }
            }
        }
        seen.remove(&i);
        seen
    }

    /// The literal labels of a head, for display (`alembic heads` shows
    /// them as `id (label) (head)`).
    pub fn shown_labels(&self, i: usize) -> Vec<String> {
        if !&self.chain.spec.profile.rules.show_labels {
            return Vec::new();
        }
        self.labels_of(i)
            .into_iter()
            .filter(|l| !l.starts_with('<'))
            .collect()
    }

    /// `id (label, ...)`, or the bare id of a revision on no labelled branch.
    pub fn with_labels(&self, i: usize) -> String {
        let labels = self.shown_labels(i);
        if labels.is_empty() {
            self.rev(i).id.clone()
        } else {
            format!("{} ({})", self.rev(i).id, labels.join(", "))
        }
    }

    /// Heads that are one branch forked: heads that share a branch label,
    /// and any head on no labelled branch with every other head. Heads that
    /// each sit on a labelled branch of their own are intended
    /// (`alembic upgrade heads`), and so is a head count that migfix.toml
    /// declares. Each group comes with the label it shares, if any.
    pub fn forks(&self) -> Vec<(Vec<usize>, Option<String>)> {
        let heads = self.heads();
        if heads.len() < 2
            || self
                .chain
                .spec
                .expected_heads
                .is_some_and(|n| heads.len() <= n)
        {
            return Vec::new();
        }
        let labels: Vec<BTreeSet<String>> = heads.iter().map(|&h| self.labels_of(h)).collect();
        // Union the heads that share a label; the unlabelled ones are one group.
        let mut group: Vec<usize> = (0..heads.len()).collect();
        fn find(g: &mut [usize], x: usize) -> usize {
            let mut r = x;
            while g[r] != r {
                r = g[r];
            }
            g[x] = r;
            r
        }
        for a in 0..heads.len() {
            for b in a + 1..heads.len() {
                // A head on no labelled branch forks with any other head.
                let related = labels[a].is_empty()
                    || labels[b].is_empty()
                    || !labels[a].is_disjoint(&labels[b]);
                if related {
                    let (ra, rb) = (find(&mut group, a), find(&mut group, b));
                    group[rb] = ra;
                }
            }
        }
        let mut out: Vec<(Vec<usize>, Option<String>)> = Vec::new();
        for root in 0..heads.len() {
            let members: Vec<usize> = (0..heads.len())
                .filter(|&m| find(&mut group, m) == root)
                .collect();
            if members.len() < 2 {
                continue;
            }
            let mut shared: Option<BTreeSet<String>> = None;
            for &m in &members {
                shared = Some(match shared {
                    None => labels[m].clone(),
                    Some(s) => s.intersection(&labels[m]).cloned().collect(),
                });
            }
            let label = shared.and_then(|s| s.into_iter().find(|l| !l.starts_with('<')));
            out.push((members.into_iter().map(|m| heads[m]).collect(), label));
        }
        out
    }

    /// Revisions of one part (an app's migrations) that share a number
    /// (`0005_a`, `0005_b`): what two branches leave behind, even once
    /// merged.
    fn part_number_clashes(&self) -> Vec<Problem> {
        let mut by: std::collections::BTreeMap<(&str, u64), Vec<usize>> = Default::default();
        for (i, r) in self.chain.revisions.iter().enumerate() {
            let Some(d) = &r.part else { continue };
            if let Some(n) =
                crate::chains::scheme::number_prefix(&d.name).and_then(|p| p.parse().ok())
            {
                by.entry((d.label.as_str(), n)).or_default().push(i);
            }
        }
        by.into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|((_, number), revs)| Problem::DuplicateSequence { number, revs })
            .collect()
    }

    /// Files that share a file number, where the names carry one beside
    /// the id.
    fn sequence_clashes(&self) -> Vec<Problem> {
        if self.chain.naming.seq_width().is_none() {
            return Vec::new();
        }
        let mut by_number: std::collections::BTreeMap<u64, Vec<usize>> =
            std::collections::BTreeMap::new();
        for (i, r) in self.chain.revisions.iter().enumerate() {
            if let Some(n) = file_number(r, self.chain) {
                by_number.entry(n).or_default().push(i);
            }
        }
        let shared = by_number.values().filter(|v| v.len() > 1).count();
        // Where many numbers are shared (one per database dialect, say),
        // sharing is the convention, not a collision.
        if shared * 10 > by_number.len() {
            return Vec::new();
        }
        by_number
            .into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(number, revs)| Problem::DuplicateSequence { number, revs })
            .collect()
    }

    fn label_clashes(&self) -> Vec<Problem> {
        let mut by_label: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, r) in self.chain.revisions.iter().enumerate() {
            for l in r.branch_labels.iter().flatten() {
                by_label.entry(l.as_str()).or_default().push(i);
            }
        }
        let mut out: Vec<Problem> = by_label
            .into_iter()
            .filter_map(|(label, revs)| {
                let with_id = self.winners.contains_key(label);
                (revs.len() > 1 || with_id).then(|| Problem::LabelClash {
                    label: label.to_string(),
                    revs,
                    with_id,
                })
            })
            .collect();
        out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        out
    }

    /// The existing id a dangling reference most likely meant: one whose id
    /// starts a filename or slug that was used instead, else the closest.
    pub fn suggest(&self, target: &str) -> Option<String> {
        let revs = &self.chain.revisions;
        // `0082_add_widgets` or `0082_add_widgets.py`: a filename or slug.
        let stem = target.strip_suffix(".py").unwrap_or(target);
        if let Some(r) = revs
            .iter()
            .find(|r| r.path.file_stem().is_some_and(|s| s == stem))
        {
            return Some(r.id.clone());
        }
        if let Some(r) = revs
            .iter()
            .filter(|r| {
                stem.starts_with(&format!("{}_", r.id)) || stem.starts_with(&format!("{}-", r.id))
            })
            .max_by_key(|r| r.id.len())
        {
            return Some(r.id.clone());
        }
        // `shop.0005_product_weight` renumbered to `shop.0006_product_weight`:
        // the one revision of the same app with the same name after the number.
        let slug = |id: &str| {
            let (app, name) = id.rsplit_once('.').unwrap_or(("", id));
            let n = crate::chains::scheme::number_prefix(name)?;
            let rest = name[n.len()..].trim_start_matches(['_', '-']);
            (!rest.is_empty()).then(|| (app.to_string(), rest.to_string()))
        };
        if let Some(key) = slug(target) {
            let same: Vec<&Revision> = revs
                .iter()
                .filter(|r| slug(&r.id).as_ref() == Some(&key))
                .collect();
            if let [one] = same.as_slice() {
                return Some(one.id.clone());
            }
        }
        // `shop.0004_stock` for `shop.0004_product_stock`: the one revision
        // of the same app (or none) with the same number.
        let number = |id: &str| {
            let (app, name) = id.rsplit_once('.').unwrap_or(("", id));
            crate::chains::scheme::number_prefix(name).map(|n| (app.to_string(), n.to_string()))
        };
        if let Some(key) = number(target) {
            let same: Vec<&Revision> = revs
                .iter()
                .filter(|r| number(&r.id).as_ref() == Some(&key))
                .collect();
            if let [one] = same.as_slice() {
                return Some(one.id.clone());
            }
        }
        revs.iter()
            .map(|r| (strsim::levenshtein(target, &r.id), &r.id))
            .filter(|(d, id)| *d <= (id.len().max(target.len()) / 3).max(1))
            .min()
            .map(|(_, id)| id.clone())
    }
}

/// Heap order for `newest_first`: higher ids first, then later files.
struct Ready<'a>(&'a str, usize);

impl PartialEq for Ready<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ready<'_> {}
impl PartialOrd for Ready<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ready<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        id_order(self.0, other.0).then(self.1.cmp(&other.1))
    }
}

/// Numeric ids compare as numbers, others as text.
pub(crate) fn id_order(a: &str, b: &str) -> Ordering {
    let num = |s: &str| {
        (!s.is_empty() && s.len() < 20 && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then(a.len().cmp(&b.len())),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Alembic refuses `@ - + :` in ids; the alembic_version column holds 32.
pub(crate) fn invalid_id(id: &str) -> Option<String> {
    let bad: Vec<char> = id.chars().filter(|c| "@-+:".contains(*c)).collect();
    if id.is_empty() {
        Some("the id is empty".into())
    } else if !bad.is_empty() {
        let list: Vec<String> = bad.iter().map(|c| format!("`{c}`")).collect();
        Some(format!(
            "Alembic does not allow {} in a revision id",
            list.join(", ")
        ))
    } else if id.len() > 32 {
        Some(format!(
            "{} characters: the alembic_version column holds 32",
            id.len()
        ))
    } else {
        None
    }
}

/// What is wrong with an id migfix is asked to write (`--to`, `--rev-id`):
/// Alembic's rules, and, since the id lands in a file name and a Python
/// string, only letters, digits, `_` and `.` (not first).
pub(crate) fn invalid_new_id(id: &str) -> Option<String> {
    if let Some(reason) = invalid_id(id) {
        return Some(reason);
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
    {
        return Some(format!(
            "{c:?} cannot be in a new id: migfix writes it into a file name and a Python string, so only letters, digits, `_` and `.` are allowed"
        ));
    }
    if id.starts_with('.') {
        return Some("a new id cannot start with `.`".into());
    }
    None
}
