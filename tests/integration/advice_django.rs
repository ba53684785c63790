//! Issue #28, Django: check's advice followed on fixtures/django-shop
//! (apps shop, and payments in the folder billing) and on Django incidents
//! made as git history (see advice.rs).

use crate::advice::*;

#[test]
fn fixture_django_shop() {
    let r = Repo::new("django-shop", "django-shop", |_| {});
    follow_advice(
        &r.root,
        Whole {
            django: true,
            ..Whole::default()
        },
        Premise {
            kinds: HEADS,
            hint: Hint::Any,
        },
    );
}

const SHOP: &str = "shop/migrations";
const DISCOUNT: &str = "shop/migrations/0005_product_discount.py";
const WEIGHT: &str = "shop/migrations/0005_product_weight.py";

fn shop_text(rel: &str) -> String {
    fixture_text(&format!("django-shop/{rel}"))
}

#[test]
fn django_two_prs_on_one_head() {
    let r = Repo::new("django-shop", "django-shop", |root| {
        remove(root, &[DISCOUNT, WEIGHT])
    });
    r.branch("pr/discount", |r| r.write(DISCOUNT, &shop_text(DISCOUNT)));
    r.branch("pr/weight", |r| r.write(WEIGHT, &shop_text(WEIGHT)));
    r.merge("pr/discount");
    r.merge("pr/weight");
    follow_advice(
        &r.root,
        DJANGO,
        Premise {
            kinds: HEADS,
            hint: Hint::Any,
        },
    );
}

/// Two PRs both number their migration 0005, the second made after the
/// first was merged: a reused number, no fork. Django accepts it.
#[test]
fn django_same_number_claimed_twice() {
    let r = Repo::new("django-shop", "django-shop", |root| remove(root, &[WEIGHT]));
    r.branch("pr/weight", |r| {
        r.write(
            WEIGHT,
            &shop_text(WEIGHT).replace("'0004_product_stock'", "'0005_product_discount'"),
        )
    });
    r.merge("pr/weight");
    follow_advice(
        &r.root,
        DJANGO,
        Premise {
            kinds: &[],
            hint: Hint::Any,
        },
    );
}

/// A branch cut at 0004 adds 0005_product_weight; main gains
/// 0005_product_discount and 0006; the branch is merged later.
#[test]
fn django_stale_branch() {
    let r = Repo::new("django-shop", "django-shop", |root| {
        remove(root, &[DISCOUNT, WEIGHT])
    });
    r.branch("feature/weight", |r| r.write(WEIGHT, &shop_text(WEIGHT)));
    r.write(DISCOUNT, &shop_text(DISCOUNT));
    r.commit("discount");
    r.write(
        &format!("{SHOP}/0006_release_marker.py"),
        &django_migration(&[("shop", "0005_product_discount")]),
    );
    r.commit("marker");
    r.merge("feature/weight");
    follow_advice(
        &r.root,
        DJANGO,
        Premise {
            kinds: HEADS,
            hint: Hint::Any,
        },
    );
}

/// A PR adds 0005_product_weight depending on `dependency` (of shop).
fn django_dangling(dependency: &str, hint: Hint) {
    let r = Repo::new("django-shop", "django-shop", |root| remove(root, &[WEIGHT]));
    r.branch("pr/weight", |r| {
        r.write(
            WEIGHT,
            &shop_text(WEIGHT).replace("'0004_product_stock'", &format!("'{dependency}'")),
        )
    });
    r.merge("pr/weight");
    follow_advice(
        &r.root,
        DJANGO,
        Premise {
            kinds: &["dangling-down-revision"],
            hint,
        },
    );
}

/// The dependency of django-missing-parent.txt: `0004_stock`.
///
/// merge-heads refuses while the dependency dangles: check's first `run:`
/// must re-point it first.
#[test]
fn django_dangling_near_miss() {
    django_dangling("0004_stock", Hint::Names("shop.0004_product_stock"));
}

/// As django_dangling_near_miss, with no near miss: onto the app's other leaf.
#[test]
fn django_dangling_without_near_miss() {
    django_dangling("0042_warehouse_bins", Hint::No);
}

/// shop is linear up to 0005_product_weight; a PR adds a payments
/// migration that depends on shop's `dependency` too.
fn django_cross_app(dependency: &str, hint: Hint) {
    let r = Repo::new("django-shop", "django-shop", |root| {
        remove(root, &[DISCOUNT])
    });
    r.branch("pr/invoice-weight", |r| {
        r.write(
            "billing/migrations/0004_invoice_weight.py",
            &django_migration(&[("payments", "0003_invoice_currency"), ("shop", dependency)]),
        )
    });
    r.merge("pr/invoice-weight");
    follow_advice(
        &r.root,
        DJANGO,
        Premise {
            kinds: &["dangling-depends-on"],
            hint,
        },
    );
}

#[test]
fn django_cross_app_near_miss() {
    django_cross_app(
        "0005_product_wieght",
        Hint::Names("shop.0005_product_weight"),
    );
}

/// With no near miss: onto the other app's leaf.
#[test]
fn django_cross_app_without_near_miss() {
    django_cross_app("0011_fulfilment", Hint::No);
}

/// A payments branch depends on shop.0005_product_weight; meanwhile main
/// gains 0005_product_discount and renumbers its own weight migration to
/// 0006 (with migfix); the branch is merged later.
///
/// "Did you mean" must name the renamed shop.0006_product_weight, not
/// shop.0005_product_discount (the same number).
#[test]
fn django_cross_app_stale_branch() {
    let r = Repo::new("django-shop", "django-shop", |root| {
        remove(root, &[DISCOUNT])
    });
    r.branch("pr/invoice-weight", |r| {
        r.write(
            "billing/migrations/0004_invoice_weight.py",
            &django_migration(&[
                ("payments", "0003_invoice_currency"),
                ("shop", "0005_product_weight"),
            ]),
        )
    });
    r.write(DISCOUNT, &shop_text(DISCOUNT));
    r.commit("discount");
    let ran = migfix_in(
        &r.root,
        &["renumber", "shop", "0005_product_weight", "--yes"],
    );
    assert_eq!(ran.code, 0, "{}", ran.show());
    r.commit("renumber weight");
    r.merge("pr/invoice-weight");
    follow_advice(
        &r.root,
        DJANGO,
        Premise {
            kinds: &["dangling-depends-on"],
            hint: Hint::Names("shop.0006_product_weight"),
        },
    );
}
