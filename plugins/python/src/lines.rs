//! Line bookkeeping for the Python analyzer: maps byte offsets to 1-based
//! line numbers and sorts every line of a file into code, comment-only or
//! blank from the tokens the lexer saw on it.

use rustpython_parser::Tok;
use rustpython_parser::text_size::TextRange;

/// The start offset of every line of a source text. Line breaks are `\n`,
/// `\r\n` and a lone `\r`, as for the Python lexer.
pub struct LineIndex {
    starts: Vec<u32>,
    /// Number of lines of the text; a final line break does not open a line.
    total: u32,
}

impl LineIndex {
    /// Indexes `source`, whose length the caller has already capped well
    /// below `u32::MAX`.
    pub fn new(source: &str) -> Self {
        let bytes = source.as_bytes();
        let mut starts = vec![0u32];
        let mut i = 0;
        while i < bytes.len() {
            let brk = match bytes[i] {
                b'\n' => 1,
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => 2,
                b'\r' => 1,
                _ => 0,
            };
            if brk > 0 {
                i += brk;
                starts.push(to_u32(i));
            } else {
                i += 1;
            }
        }
        let mut total = to_u32(starts.len());
        if starts.last().copied() == Some(to_u32(bytes.len())) {
            // Either the empty text or a text ending in a line break: the
            // last "line" has nothing on it.
            total -= 1;
        }
        Self { starts, total }
    }

    /// Number of lines of the text.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// The 1-based line holding the byte at `offset`.
    pub fn line_of(&self, offset: u32) -> u32 {
        to_u32(self.starts.partition_point(|&start| start <= offset)).max(1)
    }
}

/// How the lines of a file divide into code, comment-only and blank lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCounts {
    pub code: u32,
    pub comment: u32,
    pub blank: u32,
}

/// Accumulates, token by token, which lines hold code and which a comment.
pub struct LineTally {
    /// Per line (index 0 is line 1): 0 nothing seen, 1 comment, 2 code.
    kinds: Vec<u8>,
}

const SEEN_COMMENT: u8 = 1;
const SEEN_CODE: u8 = 2;

impl LineTally {
    pub fn new(lines: &LineIndex) -> Self {
        Self {
            kinds: vec![0; lines.total() as usize],
        }
    }

    /// Records one token. A token spanning several lines (a triple-quoted
    /// string, docstrings included) makes every one of them a code line.
    pub fn record(&mut self, lines: &LineIndex, tok: &Tok, range: TextRange) {
        let kind = match tok {
            Tok::Comment(_) => SEEN_COMMENT,
            Tok::NonLogicalNewline
            | Tok::Newline
            | Tok::Indent
            | Tok::Dedent
            | Tok::EndOfFile
            | Tok::StartModule
            | Tok::StartInteractive
            | Tok::StartExpression => return,
            _ => SEEN_CODE,
        };
        let start = u32::from(range.start());
        let end = u32::from(range.end()).max(start + 1) - 1;
        let first = lines.line_of(start);
        let last = if kind == SEEN_CODE {
            lines.line_of(end)
        } else {
            first
        };
        for line in first..=last {
            if let Some(slot) = self.kinds.get_mut(line as usize - 1) {
                *slot = (*slot).max(kind);
            }
        }
    }

    pub fn counts(&self) -> LineCounts {
        let code = to_u32(self.kinds.iter().filter(|&&k| k == SEEN_CODE).count());
        let comment = to_u32(self.kinds.iter().filter(|&&k| k == SEEN_COMMENT).count());
        LineCounts {
            code,
            comment,
            blank: to_u32(self.kinds.len()) - code - comment,
        }
    }
}

/// A byte offset or count as `u32`; the input cap keeps every one in range.
pub fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_of_every_style_open_lines() {
        let index = LineIndex::new("a\nb\r\nc\rd");
        assert_eq!(index.total(), 4);
        assert_eq!(index.line_of(0), 1);
        assert_eq!(index.line_of(2), 2);
        assert_eq!(index.line_of(5), 3);
        assert_eq!(index.line_of(7), 4);
    }

    #[test]
    fn a_final_line_break_does_not_count_as_a_line() {
        assert_eq!(LineIndex::new("").total(), 0);
        assert_eq!(LineIndex::new("x = 1\n").total(), 1);
        assert_eq!(LineIndex::new("x = 1\n\n").total(), 2);
        assert_eq!(LineIndex::new("x = 1").total(), 1);
    }
}
