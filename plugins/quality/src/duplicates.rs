//! Copied blocks: the same run of at least `min_lines` normalized lines in
//! two places (two files, or two non-overlapping places of one file).
//!
//! A line is normalized by trimming it and collapsing inner whitespace.
//! Blank lines, comment-only lines, imports (`import`, `from … import`,
//! `use`, `package`, `require(`) and lines with fewer than
//! [`MIN_WORD_CHARS`] letters or digits (`}`, `});`, `else:`) are left out
//! of the sequence, so a block is never a run of braces and a shared import
//! list is not a copy. A longer copy is reported once, as one block, at the
//! later place, naming the earlier one.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::layout::Lang;

/// Letters or digits a line needs to count towards a block; closing
/// brackets and keywords alone are structure, not copied logic.
pub const MIN_WORD_CHARS: usize = 4;

/// One source file, as the duplication check reads it.
pub struct Source<'a> {
    pub path: &'a str,
    pub lang: Lang,
    pub text: &'a str,
}

/// A copied block: `lines` of `path` (1-based, inclusive) repeat
/// `first_lines` of `first_path`; `length` normalized lines long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    pub path: String,
    pub lines: (u32, u32),
    pub first_path: String,
    pub first_lines: (u32, u32),
    pub length: usize,
}

/// The normalized lines of a file that take part in blocks, with their
/// 1-based line numbers.
pub fn normalized_lines(lang: Lang, text: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || lang.comment_prefixes().iter().any(|p| line.starts_with(p)) {
            continue;
        }
        let import = ["import ", "from ", "use ", "package ", "#include"]
            .iter()
            .any(|p| line.starts_with(p))
            || line.contains("require(");
        let words = line.chars().filter(|c| c.is_alphanumeric()).count();
        if import || words < MIN_WORD_CHARS {
            continue;
        }
        let normalized = line.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push((normalized, u32::try_from(index + 1).unwrap_or(u32::MAX)));
    }
    out
}

fn hash_of(lines: &[(String, u32)]) -> u64 {
    let mut h = DefaultHasher::new();
    for (line, _) in lines {
        line.hash(&mut h);
    }
    h.finish()
}

/// Every copied block across `sources`, in file order then line order.
pub fn find(sources: &[Source<'_>], min_lines: usize) -> Vec<Duplicate> {
    let min_lines = min_lines.max(1);
    let seqs: Vec<Vec<(String, u32)>> = sources
        .iter()
        .map(|s| normalized_lines(s.lang, s.text))
        .collect();
    // First place of each window, and for each later place the first one
    // it repeats.
    let mut first: HashMap<u64, Vec<(usize, usize)>> = HashMap::new();
    let mut matched: HashMap<(usize, usize), (usize, usize)> = HashMap::new();
    let mut order: Vec<(usize, usize)> = Vec::new();
    for (f, seq) in seqs.iter().enumerate() {
        if seq.len() < min_lines {
            continue;
        }
        for k in 0..=seq.len() - min_lines {
            let window = &seq[k..k + min_lines];
            let repeats = |(f1, k1): (usize, usize)| {
                let same = seqs[f1][k1..k1 + min_lines]
                    .iter()
                    .zip(window)
                    .all(|(a, b)| a.0 == b.0);
                let overlaps = f1 == f && k - k1 < min_lines;
                same && !overlaps
            };
            // Prefer continuing the block the previous window belongs to,
            // so a long copy stays one block.
            let continued = k
                .checked_sub(1)
                .and_then(|prev| matched.get(&(f, prev)))
                .map(|&(f1, k1)| (f1, k1 + 1))
                .filter(|&(f1, k1)| k1 + min_lines <= seqs[f1].len() && repeats((f1, k1)));
            let places = first.entry(hash_of(window)).or_default();
            let earlier = continued.or_else(|| places.iter().copied().find(|&p| repeats(p)));
            match earlier {
                Some(place) => {
                    matched.insert((f, k), place);
                    order.push((f, k));
                }
                None => places.push((f, k)),
            }
        }
    }
    let mut out = Vec::new();
    // Per file, the end (exclusive) of the last block reported, so that a
    // place already reported as a copy of one block is not reported again
    // as a copy of another.
    let mut covered: HashMap<usize, usize> = HashMap::new();
    for &(f, k) in &order {
        let (f1, k1) = matched[&(f, k)];
        // A continuation of the block that starts one window earlier.
        if k > 0 && k1 > 0 && matched.get(&(f, k - 1)) == Some(&(f1, k1 - 1)) {
            continue;
        }
        if covered.get(&f).is_some_and(|&end| k < end) {
            continue;
        }
        let mut extra = 0;
        while matched.get(&(f, k + extra + 1)) == Some(&(f1, k1 + extra + 1)) {
            extra += 1;
        }
        let length = min_lines + extra;
        let last = k + length - 1;
        covered.insert(f, last + 1);
        out.push(Duplicate {
            path: sources[f].path.to_string(),
            lines: (seqs[f][k].1, seqs[f][last].1),
            first_path: sources[f1].path.to_string(),
            first_lines: (seqs[f1][k1].1, seqs[f1][k1 + length - 1].1),
            length,
        });
    }
    out
}
