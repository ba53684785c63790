//! When a branch of an `if` runs, as its test reads: on a missing row, on
//! an existing one, or either.

use tree_sitter::Node;

/// When a branch runs, as its test reads: on a missing row (`is None`,
/// `not row`), on an existing one (`is not None`, `if row:`), or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    Missing,
    Present,
    Unknown,
}

impl When {
    pub(crate) fn flip(self) -> When {
        match self {
            When::Missing => When::Present,
            When::Present => When::Missing,
            When::Unknown => When::Unknown,
        }
    }
}

/// When a test is true, as far as its shape tells: `x is None`, `x == None`
/// and `not x` hold on a missing row; `x is not None`, `x != None` and a
/// bare value on an existing one.
pub(crate) fn polarity(src: &[u8], cond: Node<'_>) -> When {
    fn named<'t>(n: Node<'t>) -> Vec<Node<'t>> {
        let mut c = n.walk();
        n.named_children(&mut c)
            .filter(|k| k.kind() != "comment")
            .collect()
    }
    match cond.kind() {
        "parenthesized_expression" => match named(cond)[..] {
            [one] => polarity(src, one),
            _ => When::Unknown,
        },
        "not_operator" => cond
            .child_by_field_name("argument")
            .map_or(When::Unknown, |a| polarity(src, a).flip()),
        "identifier" | "attribute" | "call" | "subscript" => When::Present,
        "comparison_operator" => {
            let operands = named(cond);
            let none = operands.iter().filter(|o| o.kind() == "none").count();
            if operands.len() != 2 || none != 1 {
                return When::Unknown;
            }
            let mut c = cond.walk();
            let ops: Vec<&str> = cond
                .children(&mut c)
                .filter(|k| !k.is_named())
                .map(|k| std::str::from_utf8(&src[k.byte_range()]).unwrap_or(""))
                .collect();
            match ops[..] {
                ["is"] | ["=="] => When::Missing,
                ["is", "not"] | ["is not"] | ["!="] => When::Present,
                _ => When::Unknown,
            }
        }
        _ => When::Unknown,
    }
}
