//! sqlparser's tokenizer as both readings use it: the dialect, statements
//! split at `;`, and byte offsets of its (line, column) locations.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan};

pub(super) fn dialect() -> PostgreSqlDialect {
    PostgreSqlDialect {}
}

/// Byte offsets of sqlparser's 1-based (line, column) locations; columns
/// count characters.
pub(super) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(super) fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub(super) fn offset(&self, loc: Location) -> usize {
        let line = (loc.line as usize).max(1);
        let Some(&start) = self.starts.get(line - 1) else {
            return self.text.len();
        };
        let col = (loc.column as usize).saturating_sub(1);
        let rest = &self.text[start..];
        rest.char_indices()
            .nth(col)
            .map_or(self.text.len(), |(i, _)| start + i)
    }
}

/// Tokens split into statements at `;`, without whitespace.
pub(super) fn statements(tokens: &[TokenWithSpan]) -> Vec<Vec<TokenWithSpan>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for t in tokens {
        match &t.token {
            Token::SemiColon => out.push(std::mem::take(&mut current)),
            Token::Whitespace(_) => {}
            _ => current.push(t.clone()),
        }
    }
    out.push(current);
    out.retain(|s| !s.is_empty());
    out
}
