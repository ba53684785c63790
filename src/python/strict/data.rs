//! Rows of literal data, which the parse need not see in full.
//!
//! A data migration holds its data as one large display of rows: a list (or
//! tuple, or set) whose elements are all displays of literals, such as the
//! dicts an `op.bulk_insert` takes. Parsed whole, every key and value of
//! every row is a node; a file of tens of MiB would take gigabytes. So the
//! tokenizer hands each token to [`Data`], which follows every bracket with
//! the grammar of displays and marks a large display of rows to be blanked
//! after its first row and that row's comma: the parse sees `[row,  ...  ]`,
//! a one-row list, at the same offsets. The quick parser is given the same
//! text (`python::read_checked`).
//!
//! Why every reader's answer stays the same:
//!
//! - Python's verdict. The blanked text is checked here instead: strings,
//!   numbers, `True`, `False`, `None`, one sign before a number, nested
//!   displays, commas and colons where Python's grammar puts them, string
//!   concatenation without mixing bytes and text. Everything else (a name,
//!   an f-string, an operator, a call, a comprehension) stops the display
//!   from being blanked. The tokenizer has already checked every token of
//!   the whole file, before blanking. A display of literals compiles in
//!   every place an expression does; where it would be a target (`[1, 2] =
//!   x`, `for`, `del`), it is refused for its literals, and the row kept
//!   holds one. A display is blanked only after `=`, `(`, `[`, `{`, `,`,
//!   `:`, `return` or `in`: never after a name or a closing bracket (a call
//!   or a subscript), nor in a `case` pattern.
//! - What the readers read. `calls` reads strings (as SQL) and dicts (as
//!   parameters), never the rows of a list of displays: a row holds no call
//!   and no name, and a list is neither a string nor a dict. The constants
//!   Alembic reads are never blanked (a line that assigns one is left
//!   whole), nor is anything in a class body (where Django's
//!   `Migration` keeps `dependencies` and `replaces`, lists of tuples).
//! - Lines and spans. Blanking keeps every offset. The tree readers count
//!   lines on the file's own bytes; the quick parser, which counts them
//!   itself, is given the blanked rows' line breaks.

use std::ops::Range;

use crate::python::NAMES;

/// A display this large (from its opening bracket to its closing one) is
/// blanked; smaller ones cost little to parse.
pub(in crate::python) const BLANKED_FROM: usize = 64 << 10;

/// What follows every bracket of one file, token by token.
pub(super) struct Data {
    from: usize,
    stack: Vec<Open>,
    /// Whether a bracket opened now would open a display where one may be
    /// blanked (see the module's notes).
    display_here: bool,
    /// Columns of the class statements whose bodies the current line is in.
    classes: Vec<usize>,
    /// Whether the current logical line must be left whole.
    whole_line: bool,
    /// Where the current physical line starts.
    line_start: usize,
    /// The last token was a `;` between statements.
    after_semicolon: bool,
    /// The ranges to blank, in order, none inside another.
    pub(super) blanked: Vec<Range<usize>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// An element may start, or the bracket close.
    Expect,
    /// A dict's value must start (after its key's `:`).
    ExpectValue,
    /// After a unary sign: a number must follow.
    Sign { in_value: bool },
    /// An element (or a dict's key) has been read.
    Element,
    /// A dict's value has been read.
    Value,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Value {
    Number,
    Constant,
    /// A string; `true` for bytes.
    Str(bool),
    /// A bracket's contents, closed and valid: whether it is a display (not
    /// a value in parentheses), and whether it holds a literal.
    Bracket {
        display: bool,
        literal: bool,
    },
}

impl Value {
    fn literal(self) -> bool {
        match self {
            Value::Bracket { literal, .. } => literal,
            _ => true,
        }
    }
}

/// One open bracket.
struct Open {
    at: usize,
    byte: u8,
    /// False once anything is not literal data in a display's grammar.
    data: bool,
    /// Opened where a display may be blanked, on a line that may be.
    blankable: bool,
    /// For `{`: a dict (`Some(true)`) or a set, once the first element
    /// tells.
    dict: Option<bool>,
    state: State,
    elements: usize,
    comma: bool,
    /// Just after the first element's comma.
    after_first: Option<usize>,
    /// Every element so far is a display.
    rows: bool,
    first_literal: bool,
    literal: bool,
    /// The element being read: a run of strings (bytes or not) that may go
    /// on, whether it is a display, whether it holds a literal.
    run: Option<bool>,
    element_display: bool,
    element_literal: bool,
}

impl Open {
    fn new(byte: u8, at: usize, blankable: bool) -> Open {
        Open {
            at,
            byte,
            data: blankable,
            blankable,
            dict: None,
            state: State::Expect,
            elements: 0,
            comma: false,
            after_first: None,
            rows: true,
            first_literal: false,
            literal: false,
            run: None,
            element_display: false,
            element_literal: false,
        }
    }

    fn value(&mut self, v: Value) {
        let run = match v {
            Value::Str(bytes) => Some(bytes),
            _ => None,
        };
        match self.state {
            State::Expect | State::Sign { in_value: false } => {
                if matches!(self.state, State::Sign { .. }) && v != Value::Number {
                    self.data = false;
                }
                self.state = State::Element;
                self.run = run;
                self.element_display = matches!(v, Value::Bracket { display: true, .. });
                self.element_literal = v.literal();
            }
            State::ExpectValue | State::Sign { in_value: true } => {
                if matches!(self.state, State::Sign { .. }) && v != Value::Number {
                    self.data = false;
                }
                self.state = State::Value;
                self.run = run;
                self.element_literal |= v.literal();
            }
            State::Element | State::Value => {
                // Only adjacent strings of one kind make one value.
                if run.is_none() || self.run != run {
                    self.data = false;
                }
            }
        }
    }

    fn end_element(&mut self) {
        self.elements += 1;
        self.rows &= self.element_display;
        self.literal |= self.element_literal;
        if self.elements == 1 {
            self.first_literal = self.element_literal;
        }
    }

    fn op(&mut self, op: &[u8], end: usize) {
        match (op, self.state) {
            (b",", State::Element | State::Value) => {
                if self.byte == b'{' && self.dict.is_none() {
                    self.dict = Some(false);
                }
                if self.dict == Some(true) && self.state == State::Element {
                    self.data = false;
                }
                self.end_element();
                self.comma = true;
                if self.elements == 1 {
                    self.after_first = Some(end);
                }
                self.state = State::Expect;
            }
            (b":", State::Element) if self.byte == b'{' && self.dict != Some(false) => {
                self.dict = Some(true);
                self.state = State::ExpectValue;
            }
            (b"-" | b"+", State::Expect | State::ExpectValue) => {
                self.state = State::Sign {
                    in_value: self.state == State::ExpectValue,
                };
            }
            _ => self.data = false,
        }
    }

    /// At the closing bracket: whether the contents are valid data, and
    /// the value they make.
    fn close(&mut self) -> Option<Value> {
        match self.state {
            State::Expect => {}
            State::Element | State::Value => {
                if self.byte == b'{' && self.dict.is_none() {
                    self.dict = Some(false);
                }
                if self.dict == Some(true) && self.state == State::Element {
                    return None;
                }
                self.end_element();
            }
            State::ExpectValue | State::Sign { .. } => return None,
        }
        if !self.data {
            return None;
        }
        let display = !(self.byte == b'(' && self.elements == 1 && !self.comma);
        Some(Value::Bracket {
            display,
            literal: self.literal,
        })
    }

    /// Whether, closed valid, it is a display of rows to blank.
    fn rows_to_blank(&self, at: usize, from: usize) -> Option<Range<usize>> {
        let sequence = self.byte != b'{' || self.dict == Some(false);
        let after = self.after_first?;
        (self.blankable
            && sequence
            && self.elements >= 2
            && self.rows
            && self.first_literal
            && at - self.at >= from)
            .then_some(after..at)
    }
}

/// A token, by its text.
enum Tok<'a> {
    Open(u8),
    Close,
    Value(Value),
    /// An f-string, or a name or keyword other than a constant.
    Other(&'a [u8]),
    Op(&'a [u8]),
}

fn classify(text: &[u8]) -> Option<Tok<'_>> {
    let first = *text.first()?;
    Some(match first {
        b' ' | b'\t' | b'\x0c' | b'\n' | b'\r' | b'#' | b'\\' => return None,
        b'(' | b'[' | b'{' => Tok::Open(first),
        b')' | b']' | b'}' => Tok::Close,
        b'0'..=b'9' => Tok::Value(Value::Number),
        b'.' if text.len() > 1 => Tok::Value(Value::Number),
        b'"' | b'\'' => Tok::Value(Value::Str(false)),
        c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
            match text.iter().position(|&b| b == b'"' || b == b'\'') {
                Some(quote) => {
                    let prefix = text[..quote].to_ascii_lowercase();
                    if prefix.contains(&b'f') {
                        Tok::Other(text)
                    } else {
                        Tok::Value(Value::Str(prefix.contains(&b'b')))
                    }
                }
                None if matches!(text, b"True" | b"False" | b"None") => Tok::Value(Value::Constant),
                None => Tok::Other(text),
            }
        }
        _ => Tok::Op(text),
    })
}

impl Data {
    pub(super) fn new(from: usize) -> Data {
        Data {
            from,
            stack: Vec::new(),
            display_here: false,
            classes: Vec::new(),
            whole_line: false,
            line_start: 0,
            after_semicolon: false,
            blanked: Vec::new(),
        }
    }

    /// The token `src[start..end]`; `first` when it starts a logical line.
    pub(super) fn token(&mut self, src: &[u8], start: usize, end: usize, first: bool) {
        let text = &src[start..end];
        let Some(tok) = classify(text) else {
            // A line break, or a continuation: a new physical line.
            if matches!(text.last(), Some(b'\n' | b'\r')) {
                self.line_start = end;
            }
            return;
        };
        if first {
            self.line(start, &tok);
        } else if self.after_semicolon {
            // A statement after `;` assigns one of Alembic's constants too.
            self.whole_line |= matches!(tok, Tok::Other(w) if is_constant(w));
        }
        self.after_semicolon = self.stack.is_empty() && matches!(tok, Tok::Op(b";"));
        let display_next = match tok {
            Tok::Open(_) => true,
            Tok::Op(op) => matches!(op, b"=" | b"," | b":"),
            Tok::Other(word) => matches!(word, b"return" | b"in"),
            _ => false,
        };
        match tok {
            Tok::Open(byte) => {
                let blankable = self.display_here && !self.whole_line;
                if let Some(parent) = self.stack.last_mut() {
                    // A subscript or a call inside a display is not data.
                    if !self.display_here {
                        parent.data = false;
                    }
                }
                self.stack.push(Open::new(byte, start, blankable));
            }
            Tok::Close => {
                let Some(mut open) = self.stack.pop() else {
                    return;
                };
                let value = open.close();
                if value.is_some() {
                    if let Some(range) = open.rows_to_blank(start, self.from) {
                        while self.blanked.last().is_some_and(|r| r.start >= range.start) {
                            self.blanked.pop();
                        }
                        if !range.is_empty() {
                            self.blanked.push(range);
                        }
                    }
                }
                if let Some(parent) = self.stack.last_mut() {
                    match value {
                        Some(v) => parent.value(v),
                        None => parent.data = false,
                    }
                }
            }
            Tok::Value(v) => {
                if let Some(open) = self.stack.last_mut() {
                    open.value(v);
                }
            }
            Tok::Other(_) => {
                if let Some(open) = self.stack.last_mut() {
                    open.data = false;
                }
            }
            Tok::Op(op) => {
                if let Some(open) = self.stack.last_mut() {
                    open.op(op, end);
                }
            }
        }
        self.display_here = display_next;
    }

    /// At the first token of a logical line: whether the line is in a
    /// class body, assigns one of Alembic's constants, or is a `case`
    /// pattern, all of which are left whole. A statement's first bracket
    /// is not blanked: it may be a target.
    fn line(&mut self, start: usize, tok: &Tok<'_>) {
        let column = start - self.line_start;
        while self.classes.last().is_some_and(|&c| c >= column) {
            self.classes.pop();
        }
        let word = match tok {
            Tok::Other(word) => *word,
            _ => b"",
        };
        self.whole_line =
            !self.classes.is_empty() || is_constant(word) || matches!(word, b"class" | b"case");
        if word == b"class" {
            self.classes.push(column);
        }
        self.display_here = false;
    }
}

fn is_constant(word: &[u8]) -> bool {
    NAMES.iter().any(|n| n.as_bytes() == word)
}

#[cfg(test)]
mod tests {
    /// The blanked ranges of `src`, each as the text it blanks.
    fn blanked(src: &str) -> Vec<&str> {
        let mut t = crate::python::strict::tokens::tokens_blanking(src.as_bytes(), 0)
            .expect("valid Python");
        t.sort_by_key(|r| r.start);
        t.into_iter().map(|r| &src[r]).collect()
    }

    #[test]
    fn rows_after_the_first_are_blanked() {
        assert_eq!(
            blanked("x = [{'a': 1}, {'a': -2.5}, {'a': None}]\n"),
            [" {'a': -2.5}, {'a': None}"]
        );
        assert_eq!(
            blanked("op.bulk_insert(t, [\n    (1, b'x' b'y'),  # one\n    (2, 'z'),\n])\n"),
            ["  # one\n    (2, 'z'),\n"]
        );
        assert_eq!(
            blanked("def upgrade():\n    return ({1}, {2: [3, (4,)]}, [])\n"),
            [" {2: [3, (4,)]}, []"]
        );
        // Rows of rows: the first row, kept, is blanked after its own first.
        assert_eq!(
            blanked("x = [[(1,), (2,)], [(3,)]]\n"),
            [" (2,)", " [(3,)]"]
        );
        // Inside a display blanked, nothing more is.
        assert_eq!(blanked("x = [(1,), [(2,), (3,)]]\n"), [" [(2,), (3,)]"]);
    }

    #[test]
    fn anything_but_literal_rows_is_kept() {
        for src in [
            // Not rows: strings, numbers, a dict.
            "x = ['a', 'b', 'c']\n",
            "x = [(1,), 2]\n",
            "x = {'a': (1,), 'b': (2,)}\n",
            // One row, or a first row without a literal.
            "x = [(1,)]\n",
            "x = [(), (1,)]\n",
            // Names, calls, f-strings, operators, comprehensions.
            "x = [(a,), (1,)]\n",
            "x = [(1,), (f(),)]\n",
            "x = [(1,), (f'{a}',)]\n",
            "x = [(1,), (1 + 2,)]\n",
            "x = [(1,), (--1,)]\n",
            "x = [(1,), ('a'[0],)]\n",
            "x = [(1,), (x for x in y)]\n",
            "x = [(1,), (...,)]\n",
            "x = [(1,), (b'a' 'b',)]\n",
            "x = [(1,), {1: 2, 3}]\n",
            "x = [(1,), (y := 2,)]\n",
            // A call or a subscript, not a display.
            "f((1,), (2,))\n",
            "x = y[(1,), (2,)]\n",
            // Alembic's constants, class bodies, case patterns.
            "depends_on = [('a',), ('b',)]\n",
            "class Migration:\n    dependencies = [('a', '1'), ('b', '2')]\n",
            "class M: replaces = [('a', '1'), ('b', '2')]\n",
            "match x:\n    case [(1,), (2,)]:\n        pass\n",
            // After a keyword other than return and in.
            "del [(1,), (2,)]\n",
            // A statement's first bracket, even after a line ending in `,`.
            "x = 1,\n[(1,), (2,)] = y\n",
            // A constant assigned after `;`.
            "x = 1; depends_on = [('a',), ('b',)]\n",
        ] {
            assert_eq!(blanked(src), Vec::<&str>::new(), "{src}");
        }
    }

    #[test]
    fn class_bodies_end_where_their_indentation_does() {
        let src = "class A:\n    x = [(1,), (2,)]\n\n\ndef f():\n    return [(1,), (2,)]\n";
        assert_eq!(blanked(src), [" (2,)"]);
        let src = "depends_on = None\nrows = [(1,), (2,)]\nif x:\n    depends_on = [(1,), (2,)]\n";
        assert_eq!(blanked(src), [" (2,)"]);
        // Continuation lines and strings over lines keep the columns right.
        let src = "class A:\n    s = '''a\nb'''\n    t = \\\n  1\nrows = [(1,), (2,)]\n";
        assert_eq!(blanked(src), [" (2,)"]);
    }
}
