//! Mutated sqitch.plan and sqitch.conf, seeded from every plan and
//! configuration of the fixtures, never crash migfix (see [`fuzz`]).

use std::path::Path;

use crate::common::*;
use crate::fuzz;

/// Pieces of plans and configurations a mutation inserts or puts in place
/// of a line (besides the common ones of [`fuzz::mutate`]).
const PIECES: &[&[u8]] = &[
    b"%syntax-version=1.0.0\n",
    b"%project=\n",
    b"%project=flipr\n",
    b"%uri=https://example.com/\n",
    b"%syntax-version=9.9\n",
    b"%",
    b"@v1.0 2024-01-01T00:00:00Z A <a@example.com> # tag\n",
    b"@",
    b"[appuser users]",
    b"[!appuser]",
    b"[flipr:appuser]",
    b"[appuser@v1.0]",
    b"[appuser@HEAD]",
    b"[users^]",
    b"[users~2]",
    b"appuser [users] 2024-01-01T00:00:00Z A <a@example.com> # again\n",
    b"users [users@v1.0] 2024-01-01T00:00:00Z A <a@example.com> # rework\n",
    b"roles/reporter/grants 2024-01-01T00:00:00Z A <a@example.com> # nested\n",
    b"../escape 2024-01-01T00:00:00Z A <a@example.com> # out\n",
    b"2024-13-45T99:99:99Z",
    b"<",
    b">",
    b"[core]\n",
    b"\tengine = pg\n",
    b"\tengine = oracle\n",
    b"\tplan_file = other.plan\n",
    b"\tplan_file = /dev/zero\n",
    b"\ttop_dir = ..\n",
    b"\tdeploy_dir = nowhere\n",
    b"[engine \"pg\"]\n",
    b"\ttarget = db:pg://u:pw@h/db\n",
    b"[target \"x\"]\n",
    b"[include]\n\tpath = other.conf\n",
    b"[deploy]\n\tverify = true\n",
];

/// A copy of the flipr project (plan, configuration and scripts) with
/// `file` holding `bytes`.
fn tree(file: &str, bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("sqitch-real/flipr"), dir.path());
    std::fs::write(dir.path().join(file), bytes).unwrap();
    dir
}

fn seeds() -> [Vec<Vec<u8>>; 2] {
    let all = repo().join("fixtures");
    let small = |files: Vec<Vec<u8>>| files.into_iter().filter(|f| f.len() < 16 << 10).collect();
    [
        small(fuzz::seed_files(&all, &["sqitch.plan"])),
        small(fuzz::seed_files(&all, &["sqitch.conf"])),
    ]
}

proptest::proptest! {
    #![proptest_config(fuzz::config(250))]

    #[test]
    fn mutated_sqitch_plans_and_configurations_never_crash(
        conf in proptest::prelude::any::<bool>(),
        seed in proptest::prelude::any::<usize>(),
        edits in fuzz::edits(),
    ) {
        static SEEDS: std::sync::OnceLock<[Vec<Vec<u8>>; 2]> = std::sync::OnceLock::new();
        let seeds = &SEEDS.get_or_init(seeds)[usize::from(conf)];
        let bytes = fuzz::mutate(seeds[seed % seeds.len()].clone(), &edits, PIECES);
        let file = if conf { "sqitch.conf" } else { "sqitch.plan" };
        let dir = tree(file, &bytes);
        let shown = || format!("{file}:\n{}", String::from_utf8_lossy(&bytes));
        let survived = fuzz::survives_naming_lines(dir.path(), &[&["chains"], &["check"]], file, &[]);
        proptest::prop_assert!(survived.is_ok(), "{:?}\n{}", survived, shown());
    }
}

#[test]
fn the_seeds_are_the_fixtures_plans_and_configurations() {
    // Guards the property test: it mutates real files of both kinds, and
    // the unmutated project passes.
    let [plans, confs] = seeds();
    assert!(
        plans.len() >= 10 && confs.len() >= 8,
        "{} {}",
        plans.len(),
        confs.len()
    );
    let dir = tree(
        "sqitch.plan",
        &std::fs::read(fixture("sqitch-real/flipr/sqitch.plan")).unwrap(),
    );
    let outs = fuzz::survives(dir.path(), &[&["check"]]).unwrap();
    assert_eq!(outs[0].status.code(), Some(0), "{}", stdout(&outs[0]));
    assert!(Path::new(&dir.path().join("deploy")).is_dir());
}
