//! Sorting the lines of a file into code, comment and blank, by one rule
//! for every language (see the crate documentation): a line is blank when
//! it holds only whitespace, comment when it holds only comment text (and
//! whitespace), code otherwise. A line with code and a trailing comment is
//! code; every line a multi-line string spans is code; a whitespace-only
//! line inside a block comment is blank.

use crate::lex::Token;

/// How the lines of a file divide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineCounts {
    pub code: u32,
    pub comment: u32,
    pub blank: u32,
}

const COMMENT: u8 = 1;
const CODE: u8 = 2;

/// Counts the lines of `source` from its tokens.
pub fn count(source: &str, tokens: &[Token]) -> LineCounts {
    let lines: Vec<&str> = source.split('\n').collect();
    // A final line break does not open a line.
    let total = if source.is_empty() {
        0
    } else if source.ends_with('\n') {
        lines.len() - 1
    } else {
        lines.len()
    };
    let mut kinds = vec![0u8; total];
    for tok in tokens {
        let first = tok.line as usize;
        let last = tok.end_line as usize;
        for line in first..=last {
            let Some(slot) = kinds.get_mut(line.wrapping_sub(1)) else {
                continue;
            };
            if tok.is_comment() {
                let blank = lines.get(line - 1).is_some_and(|l| l.trim().is_empty());
                if !blank {
                    *slot = (*slot).max(COMMENT);
                }
            } else {
                *slot = CODE;
            }
        }
    }
    let code = kinds.iter().filter(|&&k| k == CODE).count();
    let comment = kinds.iter().filter(|&&k| k == COMMENT).count();
    LineCounts {
        code: to_u32(code),
        comment: to_u32(comment),
        blank: to_u32(total - code - comment),
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
