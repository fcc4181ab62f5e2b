//! Path globs of a rule's `paths: { include, exclude }`, as Semgrep reads
//! them: `*` and `?` within one path segment, `**` for any number of
//! segments, `[abc]`/`[a-z]`/`[!a]` classes and `{a,b}` alternatives. A
//! glob without `/` matches any single segment of the path (`tests`
//! excludes every `tests` directory); one with `/` matches the whole path
//! or a leading directory of it (`src` and `src/**` both cover
//! `src/app.py`).

/// Alternatives one glob may expand to through `{…}`; more is a mistake,
/// not a rule.
pub const MAX_GLOB_ALTERNATIVES: usize = 64;

/// A compiled glob.
#[derive(Clone, Debug)]
pub struct Glob {
    text: String,
    /// Each `{…}` alternative, split into segments.
    alternatives: Vec<Vec<Segment>>,
    anywhere: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// `**`.
    Any,
    Parts(Vec<Part>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Lit(char),
    /// `?`.
    One,
    /// `*`.
    Star,
    /// `[…]`: negated, then ranges.
    Class(bool, Vec<(char, char)>),
}

impl Glob {
    /// Compiles a glob, or says why it is invalid.
    pub fn new(text: &str) -> Result<Glob, String> {
        let trimmed = text.trim_start_matches("./").trim_start_matches('/');
        if trimmed.is_empty() {
            return Err("empty glob".into());
        }
        let expanded = expand_braces(trimmed)?;
        let mut alternatives = Vec::with_capacity(expanded.len());
        for alt in &expanded {
            let mut segments = Vec::new();
            for seg in alt.split('/').filter(|s| !s.is_empty()) {
                if seg == "**" {
                    segments.push(Segment::Any);
                } else if seg.contains("**") {
                    return Err(format!("`**` must be a whole path segment in `{seg}`"));
                } else {
                    segments.push(Segment::Parts(parse_segment(seg)?));
                }
            }
            alternatives.push(segments);
        }
        Ok(Glob {
            text: text.into(),
            alternatives,
            anywhere: !trimmed.trim_end_matches('/').contains('/'),
        })
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `path` (with `/` separators) matches.
    pub fn matches(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./").trim_start_matches('/');
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.alternatives.iter().any(|alt| {
            if self.anywhere && alt.len() == 1 {
                segs.iter()
                    .any(|s| match_segment(alt, std::slice::from_ref(s)))
            } else {
                (1..=segs.len()).any(|n| match_segment(alt, &segs[..n]))
            }
        })
    }
}

/// `{a,b}c` → `ac`, `bc` (nesting allowed), bounded.
fn expand_braces(text: &str) -> Result<Vec<String>, String> {
    let Some(open) = text.find('{') else {
        if text.contains('}') {
            return Err("unbalanced `}`".into());
        }
        return Ok(vec![text.to_string()]);
    };
    let mut depth = 0usize;
    let mut close = None;
    let mut commas = Vec::new();
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(open + i),
            _ => {}
        }
    }
    let close = close.ok_or("unclosed `{`")?;
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let choice = &text[w[0] + 1..w[1]];
        let joined = format!("{}{choice}{}", &text[..open], &text[close + 1..]);
        for e in expand_braces(&joined)? {
            out.push(e);
            if out.len() > MAX_GLOB_ALTERNATIVES {
                return Err(format!(
                    "more than {MAX_GLOB_ALTERNATIVES} `{{…}}` alternatives"
                ));
            }
        }
    }
    Ok(out)
}

fn parse_segment(seg: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut chars = seg.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => parts.push(Part::Star),
            '?' => parts.push(Part::One),
            '\\' => parts.push(Part::Lit(chars.next().ok_or("trailing `\\`")?)),
            '[' => {
                let negated = matches!(chars.peek(), Some('!' | '^'));
                if negated {
                    chars.next();
                }
                let mut ranges = Vec::new();
                let mut closed = false;
                let mut first = true;
                while let Some(c) = chars.next() {
                    if c == ']' && !first {
                        closed = true;
                        break;
                    }
                    first = false;
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        match chars.next() {
                            Some(']') => {
                                ranges.push((c, c));
                                ranges.push(('-', '-'));
                                closed = true;
                                break;
                            }
                            Some(hi) if hi >= c => ranges.push((c, hi)),
                            Some(hi) => return Err(format!("invalid range `{c}-{hi}`")),
                            None => break,
                        }
                    } else {
                        ranges.push((c, c));
                    }
                }
                if !closed {
                    return Err("unclosed `[`".into());
                }
                parts.push(Part::Class(negated, ranges));
            }
            c => parts.push(Part::Lit(c)),
        }
    }
    Ok(parts)
}

/// Whether path segments `segs` match glob segments `glob` entirely.
fn match_segment(glob: &[Segment], segs: &[&str]) -> bool {
    wildcard(
        glob,
        segs,
        |g| *g == Segment::Any,
        |g, s| match g {
            Segment::Parts(parts) => {
                let chars: Vec<char> = s.chars().collect();
                wildcard(parts, &chars, |p| *p == Part::Star, match_char)
            }
            Segment::Any => true,
        },
    )
}

fn match_char(part: &Part, c: &char) -> bool {
    match part {
        Part::Lit(l) => l == c,
        Part::One | Part::Star => true,
        Part::Class(neg, ranges) => ranges.iter().any(|(lo, hi)| (lo..=hi).contains(&c)) != *neg,
    }
}

/// Wildcard matching with one backtracking point (the last star), in
/// O(pattern × text): a glob of many stars cannot blow up.
fn wildcard<P, T>(
    pat: &[P],
    text: &[T],
    is_star: impl Fn(&P) -> bool,
    one: impl Fn(&P, &T) -> bool,
) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < text.len() {
        if p < pat.len() && is_star(&pat[p]) {
            star = Some((p, i));
            p += 1;
        } else if p < pat.len() && one(&pat[p], &text[i]) {
            p += 1;
            i += 1;
        } else if let Some((sp, si)) = star {
            p = sp + 1;
            i = si + 1;
            star = Some((sp, si + 1));
        } else {
            return false;
        }
    }
    while p < pat.len() && is_star(&pat[p]) {
        p += 1;
    }
    p == pat.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(glob: &str, path: &str) -> bool {
        Glob::new(glob).unwrap().matches(path)
    }

    #[test]
    fn stars_and_double_stars() {
        assert!(m("src/**", "src/a/b.py"));
        assert!(m("src/**/*.py", "src/b.py"));
        assert!(m("src/**/*.py", "src/x/y/b.py"));
        assert!(!m("src/**/*.py", "lib/b.py"));
        assert!(m("**/tests/**", "a/tests/t.py"));
        assert!(m("**/tests/**", "tests/t.py"));
        assert!(!m("src/*.py", "src/a/b.py"));
    }

    #[test]
    fn slashless_globs_match_any_segment_and_prefixes_cover_directories() {
        assert!(m("tests", "pkg/tests/test_a.py"));
        assert!(m("*.go", "cmd/main.go"));
        assert!(!m("tests", "pkg/testsuite.py"));
        assert!(m("src", "src/app.py"));
        assert!(m("./src/api", "src/api/x.ts"));
    }

    #[test]
    fn classes_and_alternatives() {
        assert!(m("*.{ts,tsx}", "a/b.tsx"));
        assert!(m("file[0-9].txt", "file7.txt"));
        assert!(!m("file[!0-9].txt", "file7.txt"));
        assert!(m("?.py", "a.py"));
    }

    #[test]
    fn invalid_globs_say_why() {
        assert_eq!(Glob::new("src/[abc").unwrap_err(), "unclosed `[`");
        assert_eq!(Glob::new("{a,b").unwrap_err(), "unclosed `{`");
        assert_eq!(Glob::new("a}").unwrap_err(), "unbalanced `}`");
        assert!(
            Glob::new("a**b/c")
                .unwrap_err()
                .contains("whole path segment")
        );
        assert!(Glob::new("").is_err());
        assert!(
            Glob::new(&"{a,b}".repeat(8))
                .unwrap_err()
                .contains("alternatives")
        );
    }

    #[test]
    fn many_stars_stay_linear() {
        let glob = Glob::new(&format!("{}b", "*a".repeat(500))).unwrap();
        assert!(!glob.matches(&"a".repeat(250)));
        let glob = Glob::new(&format!("{}x", "**/".repeat(300))).unwrap();
        assert!(!glob.matches(&"d/".repeat(100)));
    }
}
