//! A repair's `after:` line: the heads its chain is left with, on one line.

use crate::config::profile::Words;
use crate::outcome::{PartAfter, Preview};

/// `1 head, 0042` for a chain that is one line. Where heads count per part
/// (a project's apps), one head per part is the healthy state, and listing
/// them all reads as alarming: the line counts the parts, names each part
/// that has not exactly one head (the problem), then the heads of the parts
/// the repair touched, e.g. `14 apps, one leaf node each; shop:
/// 0006_product_weight`.
pub(super) fn line(words: &Words, preview: &Preview) -> String {
    let parts = &preview.parts_after;
    if parts.is_empty() {
        return format!(
            "{}, {}",
            words.heads_n(preview.heads_after.len()),
            preview.heads_after.join(", ")
        );
    }
    let (single, other): (Vec<&PartAfter>, Vec<&PartAfter>) =
        parts.iter().partition(|p| p.names.len() == 1);
    let counted = words.branches_n(parts.len());
    let mut out = vec![match (parts.len(), single.len(), other.len()) {
        (1, _, 0) => format!("{counted}, one {}", words.head),
        (_, _, 0) => format!("{counted}, one {} each", words.head),
        (1, _, _) => counted,
        (_, 0, _) => format!("{counted}, none with one {}", words.head),
        (_, n, _) => format!("{counted}, {n} with one {}", words.head),
    }];
    for p in other {
        out.push(match p.names.len() {
            0 => format!("{} has no {}", p.part, words.head),
            n => format!(
                "{} has {n} {} ({})",
                p.part,
                words.heads,
                p.names.join(", ")
            ),
        });
    }
    for p in single.iter().filter(|p| p.touched) {
        out.push(format!("{}: {}", p.part, p.names[0]));
    }
    out.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: Words = Words {
        head: "leaf node",
        heads: "leaf nodes",
        branch: "app",
        branches: "apps",
        ..Words::COMMON
    };

    fn part(label: &str, names: &[&str], touched: bool) -> PartAfter {
        PartAfter {
            part: label.into(),
            heads: names.iter().map(|n| format!("{label}.{n}")).collect(),
            names: names.iter().map(|n| n.to_string()).collect(),
            touched,
        }
    }

    fn preview(heads: &[&str], parts: Vec<PartAfter>) -> Preview {
        Preview {
            chain: "site".into(),
            title: String::new(),
            notes: Vec::new(),
            heads_after: heads.iter().map(|h| h.to_string()).collect(),
            parts_after: parts,
        }
    }

    #[test]
    fn one_line_chain_lists_its_heads() {
        let p = preview(&["abc123"], Vec::new());
        assert_eq!(line(&Words::COMMON, &p), "1 head, abc123");
        let p = preview(&["a1", "b2"], Vec::new());
        assert_eq!(line(&Words::COMMON, &p), "2 heads, a1, b2");
    }

    #[test]
    fn parts_are_counted_and_only_the_touched_named() {
        let mut parts: Vec<PartAfter> = (0..13)
            .map(|i| part(&format!("app{i:02}"), &["0001_initial"], false))
            .collect();
        parts.push(part("shop", &["0006_product_weight"], true));
        let p = preview(&["shop.0006_product_weight"], parts);
        assert_eq!(
            line(&WORDS, &p),
            "14 apps, one leaf node each; shop: 0006_product_weight"
        );
        let p = preview(&[], vec![part("shop", &["0002_a"], true)]);
        assert_eq!(line(&WORDS, &p), "1 app, one leaf node; shop: 0002_a");
    }

    #[test]
    fn parts_without_one_head_are_named_first() {
        let parts = vec![
            part("blog", &[], false),
            part("cart", &["0002_a", "0002_b"], false),
            part("pay", &["0003_x"], false),
            part("shop", &["0006_y"], true),
        ];
        let p = preview(&[], parts);
        assert_eq!(
            line(&WORDS, &p),
            "4 apps, 2 with one leaf node; blog has no leaf node; cart has 2 leaf nodes (0002_a, 0002_b); shop: 0006_y"
        );
        let p = preview(&[], vec![part("cart", &["0002_a", "0002_b"], true)]);
        assert_eq!(
            line(&WORDS, &p),
            "1 app; cart has 2 leaf nodes (0002_a, 0002_b)"
        );
        let p = preview(&[], vec![part("a", &[], true), part("b", &[], false)]);
        assert_eq!(
            line(&WORDS, &p),
            "2 apps, none with one leaf node; a has no leaf node; b has no leaf node"
        );
    }
}
