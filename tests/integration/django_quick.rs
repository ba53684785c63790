//! The quick parse of a Django migration's `Migration` class must give the
//! full parse's answer wherever it answers (every span, line and text of
//! it), accept only what CPython compiles, and answer for the migrations
//! projects have: makemigrations' own, the benchmark's and real ones.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::common::*;

/// Every module of a `migrations` package under `dir`.
fn migration_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            migration_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "py")
            && p.file_name().is_some_and(|n| n != "__init__.py")
            && p.components().any(|c| c.as_os_str() == "migrations")
        {
            out.push(p);
        }
    }
}

/// Where the quick parse answers, its class equals the full parse's; where
/// the full parse refuses a file the quick one accepts, CPython decides.
fn assert_agree(src: &[u8], shown: &dyn Fn() -> String) -> bool {
    let (quick, full) = migfix::testing::django_quick_and_full(src);
    let Some(quick) = quick else {
        return false;
    };
    match full {
        Ok(full) => assert_eq!(quick, full, "quick and full parses disagree on {}", shown()),
        // tree-sitter is wrong now and then; CPython decides.
        Err(e) => assert!(
            crate::readers::cpython_verdicts(&[src.to_vec()])[0],
            "quick accepts, tree-sitter says {e} and CPython agrees: {}",
            shown()
        ),
    }
    true
}

/// Returns (files, files the quick parse answered).
fn agree_on(dir: &Path) -> (usize, usize) {
    let mut files = Vec::new();
    migration_files(dir, &mut files);
    let mut answered = 0;
    for f in &files {
        let src = std::fs::read(f).unwrap();
        answered += usize::from(assert_agree(&src, &|| f.display().to_string()));
    }
    (files.len(), answered)
}

#[test]
fn quick_class_agrees_on_every_django_fixture() {
    let (files, quick) = agree_on(&repo().join("fixtures"));
    eprintln!("django fixtures: quick parse answered {quick} of {files} files");
    assert!(
        files > 300,
        "expected the fixture trees, found {files} files"
    );
    // Many fixtures are broken on purpose; most are not.
    assert!(
        quick * 100 >= files * 90,
        "quick parse answered only {quick} of {files}"
    );
}

#[test]
fn quick_class_agrees_on_every_django_corpus() {
    let Some(dir) = std::env::var_os("MIGFIX_DJANGO_CORPORA")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
    else {
        assert!(
            !crate::oracle::required(),
            "MIGFIX_DJANGO_CORPORA is not set"
        );
        eprintln!("skipping: MIGFIX_DJANGO_CORPORA is not set");
        return;
    };
    let (files, quick) = agree_on(&dir);
    eprintln!("django corpora: quick parse answered {quick} of {files} files");
    assert!(files > 1000, "expected the corpora, found {files} files");
    // The quick parse must carry the load, or the benchmark lies.
    assert!(
        quick * 100 >= files * 90,
        "quick parse answered only {quick} of {files}"
    );
}

/// A migration with what the reader tells apart (swappable dependencies of
/// each kind, a sum, non-literal items, `initial`, `replaces`,
/// `run_before`) and what real migrations hold around it (a coding line,
/// a docstring, a future import, helpers, a data migration's functions).
const PATTERNS: &str = "# -*- coding: utf-8 -*-\n\"\"\"Squash of the shop's first steps.\"\"\"\nfrom __future__ import unicode_literals, annotations\n\nimport django.db.models.deletion\nfrom django.conf import settings\nfrom django.db import migrations, models\nfrom oauth2_provider.settings import oauth2_settings\nfrom shop import settings as shop_settings\n\nEXTRA = [('extra', '0001_initial')]\n\n\ndef forwards(apps, schema_editor):\n    Product = apps.get_model('shop', 'Product')\n    for p in Product.objects.filter(stock__lt=0):\n        p.stock = 0\n        p.save(update_fields=['stock'])\n\n\nclass Helper:\n    pass\n\n\nclass Migration(migrations.Migration):\n    \"\"\"The first migration.\"\"\"\n\n    initial = True\n    atomic: bool = False\n\n    replaces = [('shop', '0001_initial'), (u'shop', r'0002_product_stock')]\n\n    dependencies = [\n        ('auth', '0012_alter_user_first_name_max_length'),  # a comment\n        migrations.swappable_dependency(settings.AUTH_USER_MODEL),\n        migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL),\n        migrations.swappable_dependency('users.User'),\n        (('contenttypes'), \"0002_remove_content_type_name\",),\n        swappable_dependency(USER),\n        ('a', 'b', 'c'),\n    ] + shop_settings.DEPS + EXTRA + ((\"x\", \"0003_\\\\y\"),)\n\n    run_before = (\n        [('orders', '0001_initial')]\n    )\n\n    operations = [\n        migrations.CreateModel(\n            name='Product',\n            fields=[\n                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),\n                ('name', models.CharField(max_length=200, verbose_name='Größe')),\n                ('price', models.DecimalField(decimal_places=2, default=0.0, max_digits=10)),\n                ('owner', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),\n            ],\n            options={'ordering': ['-id'], 'abstract': False},\n            bases=(models.Model,),\n        ),\n        migrations.AddIndex(model_name='product', index=models.Index(fields=['name'], name='shop_name_idx')),\n        migrations.RunPython(forwards, migrations.RunPython.noop),\n    ]\n\n    def describe(self):\n        return f'{self}'\n";

#[test]
fn the_patterns_take_the_quick_path() {
    // Guards the property tests below: unmutated, the quick parse answers
    // and reads every kind of item.
    let (quick, full) = migfix::testing::django_quick_and_full(PATTERNS.as_bytes());
    let quick = quick.expect("the quick parse answers");
    assert_eq!(Ok(quick.clone()), full);
    for seen in [
        "initial: Some(true)",
        "Setting(\"AUTH_USER_MODEL\")",
        "module: Some(\"oauth2_provider.settings\")",
        "Model(\"users.User\")",
        "`(('contenttypes'), \\\"0002_remove_content_type_name\\\",)` is not",
        "value: \"0003_\\\\y\"",
        "value: \"0002_product_stock\"",
        "`swappable_dependency(USER)`: its argument",
        "`('a', 'b', 'c')` is not an (app_label",
        "(\"`shop_settings.DEPS`\", 41)",
        "(\"`EXTRA`\", 41)",
        "value: \"orders\"",
    ] {
        assert!(quick.contains(seen), "{seen}: {quick}");
    }
}

/// Pieces a mutation inserts or writes over: quotes, brackets, line ends,
/// indentation, and statements the quick parse must refuse where Python
/// does (a `return` or `import *` in a class, a future import late).
const PIECES: &[&[u8]] = &[
    b"\"",
    b"'",
    b"(",
    b")",
    b"[",
    b"]",
    b",",
    b"\n",
    b"\r\n",
    b"\\",
    b"=",
    b":",
    b" ",
    b"    ",
    b"\t",
    b"u",
    b"r",
    b"f",
    b"b",
    b"+",
    b"class ",
    b"def ",
    b"if x:\n",
    b"return\n",
    b"from x import *\n",
    b"from __future__ import division\n",
    b"from __future__ import braces\n",
    b"from settings import settings\n",
    b"@d\n",
    b"True",
    b"\\x4",
    b"\\N{DASH}",
    b"\xff",
];

fn mutate(src: &str, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    crate::readers::edited(src.as_bytes().to_vec(), edits, PIECES)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    /// On every mutation of the patterns, the quick parse declines or gives
    /// the full parse's class; a file it accepts the full parse accepts.
    #[test]
    fn quick_class_agrees_on_mutated_patterns(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..5)) {
        let src = mutate(PATTERNS, &edits);
        assert_agree(&src, &|| format!("{:?}", String::from_utf8_lossy(&src)));
    }
}

/// The quick parse never accepts what CPython rejects: thousands of
/// mutations, seeded (MIGFIX_SEED changes it), judged by one interpreter.
#[test]
fn quick_class_accepts_only_what_cpython_compiles() {
    let mut seed: u64 = std::env::var("MIGFIX_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_d1a9);
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut accepted = Vec::new();
    let mut tried = 0;
    while accepted.len() < 1500 && tried < 40_000 {
        tried += 1;
        let edits: Vec<(usize, u8, u8)> = (0..1 + next() % 3)
            .map(|_| (next() as usize, next() as u8, next() as u8))
            .collect();
        let src = mutate(PATTERNS, &edits);
        if migfix::testing::django_quick_and_full(&src).0.is_some() {
            accepted.push(src);
        }
    }
    let verdicts = crate::readers::cpython_verdicts(&accepted);
    let refused: Vec<String> = accepted
        .iter()
        .zip(verdicts)
        .filter(|(_, compiles)| !compiles)
        .map(|(src, _)| format!("{:?}", String::from_utf8_lossy(src)))
        .take(3)
        .collect();
    assert!(
        refused.is_empty(),
        "quick accepts, CPython does not:\n{}",
        refused.join("\n\n")
    );
    assert!(
        accepted.len() >= 500,
        "only {} accepted of {tried}",
        accepted.len()
    );
}

fn python() -> Option<String> {
    match std::env::var("MIGFIX_PYTHON") {
        Ok(p) => Some(p),
        Err(_) => {
            assert!(!crate::oracle::required(), "MIGFIX_PYTHON is not set");
            eprintln!("skipping: MIGFIX_PYTHON is not set");
            None
        }
    }
}

/// Every migration of `dir` takes the quick path and reads as in the full
/// parse.
fn assert_all_quick(dir: &Path, at_least: usize) {
    let mut files = Vec::new();
    migration_files(dir, &mut files);
    assert!(
        files.len() >= at_least,
        "{} files in {}",
        files.len(),
        dir.display()
    );
    for f in &files {
        let src = std::fs::read(f).unwrap();
        assert!(
            assert_agree(&src, &|| f.display().to_string()),
            "the quick parse declines {}:\n{}",
            f.display(),
            String::from_utf8_lossy(&src)
        );
    }
}

/// The benchmark's migrations (tests/bench/gen_django.py) take the quick
/// path: a benchmark of the full parse would measure the wrong thing.
#[test]
fn the_benchmark_migrations_take_the_quick_path() {
    let Some(python) = python() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(python)
        .arg(repo().join("tests/bench/gen_django.py"))
        .arg(tmp.path())
        .arg("4")
        .status()
        .unwrap();
    assert!(status.success());
    assert_all_quick(tmp.path(), 4);
}

/// Django's own writer: `makemigrations` (a model with a foreign key to the
/// user model, then a field and an index more), `makemigrations --empty`
/// and `squashmigrations`; each file takes the quick path.
#[test]
fn makemigrations_files_take_the_quick_path() {
    let Some(python) = python() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let write = |path: &str, text: &str| {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("proj/__init__.py", "");
    write("proj/settings.py", "SECRET_KEY = 'x'\nINSTALLED_APPS = ['django.contrib.auth', 'django.contrib.contenttypes', 'shop']\nDATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}}\nUSE_TZ = True\n");
    write("shop/__init__.py", "");
    let model = "from django.conf import settings\nfrom django.db import models\n\n\nclass Product(models.Model):\n    name = models.CharField(max_length=200, verbose_name='Größe', help_text=\"it's \\\"quoted\\\"\\n\")\n    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)\n    kind = models.CharField(max_length=1, choices=[('a', 'A'), ('b', 'B')], default='a')\n    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE)\n\n    class Meta:\n        ordering = ['-name']\n        unique_together = [('name', 'owner')]\n";
    write("shop/models.py", model);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&python)
            .args(["-m", "django"])
            .args(args)
            .current_dir(root)
            .env("DJANGO_SETTINGS_MODULE", "proj.settings")
            .env("PYTHONPATH", root)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["makemigrations", "shop"]);
    write(
        "shop/models.py",
        &format!("{model}        indexes = [models.Index(fields=['price'], name='shop_price_idx')]\n\n    stock = models.IntegerField(null=True, db_comment='On hand.')\n"),
    );
    run(&["makemigrations", "shop"]);
    run(&["makemigrations", "shop", "--empty", "--name", "data"]);
    run(&["squashmigrations", "shop", "0003", "--noinput"]);
    assert_all_quick(&root.join("shop/migrations"), 4);
}
