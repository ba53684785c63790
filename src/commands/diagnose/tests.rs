//! Unit tests of diagnose's static classes on small trees.

use super::*;

/// A chain of revision files in a temp dir, for the class tests.
pub(crate) struct TestChain {
    pub dir: std::path::PathBuf,
    pub chain: Chain,
    pub ci: Vec<CiRole>,
}

impl TestChain {
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx::new(&self.dir, &self.chain, &self.ci)
    }
}

pub(crate) fn ctx_for(files: &[(&str, &str)]) -> (tempfile::TempDir, TestChain) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    let versions = dir.join("migrations").join("versions");
    std::fs::create_dir_all(&versions).unwrap();
    for (name, text) in files {
        std::fs::write(versions.join(name), text).unwrap();
    }
    let global = crate::cli::Global {
        root: Some(dir.clone()),
        versions: vec![versions],
        ..Default::default()
    };
    let config = crate::frameworks::configure(&global).unwrap();
    let chain = crate::frameworks::load(&config).unwrap().remove(0);
    (
        tmp,
        TestChain {
            dir,
            chain,
            ci: Vec::new(),
        },
    )
}

/// A sqitch project (`sqitch.conf`, `sqitch.plan` and `files`, such as
/// `deploy/x.sql`) in a temp dir, found as `migfix` finds it.
pub(crate) fn plan_ctx_for(plan: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, TestChain) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    std::fs::write(dir.join("sqitch.conf"), "[core]\n\tengine = pg\n").unwrap();
    std::fs::write(
        dir.join("sqitch.plan"),
        format!("%syntax-version=1.0.0\n%project=q\n\n{plan}"),
    )
    .unwrap();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let global = crate::cli::Global {
        root: Some(dir.clone()),
        ..Default::default()
    };
    let config = crate::frameworks::configure(&global).unwrap();
    let mut chains = crate::frameworks::load(&config).unwrap();
    assert_eq!(chains.len(), 1);
    (
        tmp,
        TestChain {
            dir,
            chain: chains.remove(0),
            ci: Vec::new(),
        },
    )
}

#[test]
fn static_findings_of_every_class() {
    let (_dir, t) = ctx_for(&[
        ("0001_a.py", "revision = '0001'\ndown_revision = None\ndef upgrade():\n    op.create_table('t')\n    op.execute('GRANT SELECT ON t TO app')\n"),
        ("0002_b.py", "revision = '0002'\ndown_revision = '0001'\ndef upgrade():\n    op.create_table('t')\n    op.execute('CREATE INDEX ix ON t (id) WHERE c < now()')\n    r = bind.execute(sa.text('SELECT id FROM admins WHERE email = :e'), {'e': 'x@y'}).first()\n    if not r:\n        raise RuntimeError('x')\n"),
    ]);
    let found = static_findings(&t.dir, &t.chain, &[]);
    let classes: Vec<char> = found.iter().filter_map(|f| f.class).collect();
    assert_eq!(classes, ['A', 'B', 'D', 'F']);
    let gate: Vec<bool> = found.iter().map(fails_gate).collect();
    assert_eq!(gate, [false, false, true, true]);
    assert!(as_warning(&found[1])
        .to_string()
        .starts_with("migrations/versions/0001_a.py:5: [B] GRANT needs role app"));
}
