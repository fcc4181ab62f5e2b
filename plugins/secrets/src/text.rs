//! Text helpers shared by the matchers: byte classes, prefixed-token
//! search, placeholders, Shannon entropy, and the assignment reader that
//! splits `name = "value"` (and its YAML, JSON, Go, PHP and annotated
//! forms) into name and value. The matchers are in [`crate::matchers`].

use crate::{
    ENTROPY_THRESHOLD_BITS, MAX_SECRET_VALUE_CHARS, MIN_ALPHANUMERIC_PERCENT, MIN_CHAR_CLASSES,
    MIN_SECRET_VALUE_CHARS, NAME_LOOKBEHIND_BYTES,
};

/// A byte of a word in the regular-expression sense (`\w`).
pub fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A byte of base64url text.
pub fn is_base64url_byte(b: u8) -> bool {
    is_word_byte(b) || b == b'-'
}

/// Whether a word starts at `at` (nothing word-like right before it).
pub fn word_starts_at(bytes: &[u8], at: usize) -> bool {
    at == 0 || !is_word_byte(bytes[at - 1])
}

/// Whether a word ends right before `at`.
pub fn word_ends_at(bytes: &[u8], at: usize) -> bool {
    bytes.get(at).is_none_or(|b| !is_word_byte(*b))
}

/// Length of the run of bytes satisfying `accept` from `from` on.
pub fn run_len(bytes: &[u8], from: usize, accept: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(from..)
        .map_or(0, |rest| rest.iter().take_while(|b| accept(**b)).count())
}

/// The first token that starts, as a whole word, with one of `prefixes` and
/// continues with a run of `accept` bytes whose length is exactly `exact`
/// (or at least `min` when `exact` is `None`), ending on a word boundary.
/// Obvious placeholders are skipped.
pub fn find_prefixed<'a>(
    line: &'a str,
    prefixes: &[&str],
    accept: impl Fn(u8) -> bool + Copy,
    min: usize,
    exact: Option<usize>,
) -> Option<&'a str> {
    let bytes = line.as_bytes();
    for prefix in prefixes {
        for (start, _) in line.match_indices(prefix) {
            if !word_starts_at(bytes, start) {
                continue;
            }
            let tail_start = start + prefix.len();
            let tail = run_len(bytes, tail_start, accept);
            let end = tail_start + tail;
            let length_ok = match exact {
                Some(n) => tail == n,
                None => tail >= min,
            };
            if length_ok && word_ends_at(bytes, end) && !is_placeholder(&line[tail_start..end]) {
                return Some(&line[start..end]);
            }
        }
    }
    None
}

/// Whether a value is an obvious placeholder or a reference to a secret kept
/// elsewhere rather than a secret.
pub fn is_placeholder(value: &str) -> bool {
    const WORDS: [&str; 20] = [
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "change-this",
        "change_this",
        "example",
        "placeholder",
        "redacted",
        "replace-me",
        "replace_me",
        "xxxx",
        "****",
        "...",
        "os.environ",
        "getenv",
        "process.env",
        "env(",
        "secretsmanager",
        "vault:",
    ];
    const PREFIXES: [&str; 9] = [
        "your-",
        "your_",
        "test-only",
        "test_only",
        "dummy",
        "fake",
        "sample",
        "${",
        "{{",
    ];
    let lower = value.trim().to_ascii_lowercase();
    let mut chars = lower.chars();
    let Some(first) = chars.next() else {
        return true;
    };
    chars.all(|c| c == first)
        || (lower.starts_with('<') && lower.ends_with('>'))
        || lower.starts_with('$')
        || lower.starts_with("%(")
        || WORDS.iter().any(|w| lower.contains(w))
        || PREFIXES.iter().any(|p| lower.starts_with(p))
}

/// Shannon entropy of the characters of `s`, in bits per character.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return 0.0;
    }
    chars.sort_unstable();
    let total = chars.len() as f64;
    chars
        .chunk_by(|a, b| a == b)
        .map(|run| {
            let p = run.len() as f64 / total;
            -p * p.log2()
        })
        .sum()
}

/// How many of lower-case letters, upper-case letters and digits occur.
pub fn char_classes(s: &str) -> usize {
    let lower = s.bytes().any(|b| b.is_ascii_lowercase());
    let upper = s.bytes().any(|b| b.is_ascii_uppercase());
    let digit = s.bytes().any(|b| b.is_ascii_digit());
    usize::from(lower) + usize::from(upper) + usize::from(digit)
}

/// Whether an assigned name sounds like it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    const WORDS: [&str; 7] = [
        "secret",
        "password",
        "passwd",
        "token",
        "apikey",
        "accesskey",
        "privatekey",
    ];
    /// Words that mark a digest, a public value or a key's identifier even
    /// beside a secret word (`token_hash`, `public_key`, `private_key_id`).
    const NOT_SECRET: [&str; 7] = [
        "keyid",
        "hash",
        "digest",
        "checksum",
        "fingerprint",
        "public",
        "nonce",
    ];
    let squashed: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    WORDS.iter().any(|w| squashed.contains(w)) && !NOT_SECRET.iter().any(|w| squashed.contains(w))
}

/// The entropy of a value that looks like a generated secret, or `None` when
/// it does not (too short, not printable ASCII without blanks — generated
/// keys are —, too few character classes, mostly punctuation, a URL, words, a
/// path, a placeholder, or entropy at or under the threshold). A path is a
/// value starting with `./`, `../`, `~/` or `/x/`, or one holding a `/` but
/// no upper-case letter (URL paths such as `api/v1/auth/token`; base64 keys
/// that contain `/` practically always mix cases).
pub fn secret_value_entropy(value: &str) -> Option<f64> {
    let is_path = value.starts_with("./")
        || value.starts_with("../")
        || value.starts_with("~/")
        || (value.starts_with('/') && value[1..].contains('/'))
        || (value.contains('/') && !value.bytes().any(|b| b.is_ascii_uppercase()));
    if value.len() < MIN_SECRET_VALUE_CHARS
        || !value.bytes().all(|b| b.is_ascii_graphic())
        || char_classes(value) < MIN_CHAR_CLASSES
        || value.bytes().filter(u8::is_ascii_alphanumeric).count() * 100
            < value.len() * MIN_ALPHANUMERIC_PERCENT
        || value.contains("://")
        || is_path
        || reads_as_words(value)
        || is_placeholder(value)
    {
        return None;
    }
    let entropy = shannon_entropy(value);
    (entropy > ENTROPY_THRESHOLD_BITS).then_some(entropy)
}

/// Whether a value reads as words or an identifier (`challengePassword`,
/// `_EllipticCurvePrivateKey`, `caching_sha2_password`): split at `_`, `-`,
/// `.` and before each upper-case letter, every piece is a word — at most one
/// capital, then lower-case letters, then maybe digits — or a number. Random
/// strings rarely split like that: their capitals sit side by side and their
/// digits fall between letters.
pub fn reads_as_words(value: &str) -> bool {
    fn is_word(piece: &[u8]) -> bool {
        let rest = match piece.first() {
            Some(b) if b.is_ascii_uppercase() => &piece[1..],
            _ => piece,
        };
        let letters = rest.iter().take_while(|b| b.is_ascii_lowercase()).count();
        let digits_only = rest[letters..].iter().all(u8::is_ascii_digit);
        digits_only && (letters > 0 || (rest.len() == piece.len() && !piece.is_empty()))
    }
    let bytes = value.as_bytes();
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return false;
    }
    let mut start = 0;
    for i in 0..=bytes.len() {
        let boundary = i == bytes.len()
            || matches!(bytes[i], b'_' | b'-' | b'.')
            || (bytes[i].is_ascii_uppercase() && i > start);
        if boundary {
            if i > start && !is_word(&bytes[start..i]) {
                return false;
            }
            start = if i < bytes.len() && !bytes[i].is_ascii_uppercase() {
                i + 1
            } else {
                i
            };
        }
    }
    true
}

/// One `name <separator> value` pair found on a line.
#[derive(Debug, PartialEq)]
pub struct Assignment<'a> {
    pub name: &'a str,
    pub value: &'a str,
    /// Whether the value was a quoted literal.
    pub quoted: bool,
}

/// Every assignment on a line: a name (an identifier, or a quoted key)
/// followed by `=`, `:`, `:=` or `=>` and a value (a quoted literal, or the
/// next whitespace-free word). Comparisons (`==`, `!=`, `<=`, ...), compound
/// assignments and paths (`::`) are not assignments.
pub fn assignments(line: &str) -> Vec<Assignment<'_>> {
    let bytes = line.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let prev = i.checked_sub(1).map(|p| bytes[p]);
        let next = bytes.get(i + 1).copied();
        let value_start = match bytes[i] {
            b'=' => {
                let operator = matches!(
                    prev,
                    Some(
                        b'=' | b'!'
                            | b'<'
                            | b'>'
                            | b'+'
                            | b'-'
                            | b'*'
                            | b'/'
                            | b'%'
                            | b'&'
                            | b'|'
                            | b'^'
                            | b'~'
                            | b':'
                    )
                );
                if operator || next == Some(b'=') {
                    i += 1;
                    continue;
                }
                if next == Some(b'>') { i + 2 } else { i + 1 }
            }
            b':' => {
                if prev == Some(b':') || next == Some(b':') {
                    i += 1;
                    continue;
                }
                if next == Some(b'=') { i + 2 } else { i + 1 }
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let name = name_before(line, i, bytes[i] == b'=');
        let value = value_after(line, value_start);
        i = value_start;
        if let (Some(name), Some((value, quoted, end))) = (name, value) {
            found.push(Assignment {
                name,
                value,
                quoted,
            });
            if quoted {
                i = end;
            }
        }
    }
    found
}

/// A byte of an assigned name: identifiers, dotted paths and dashed keys.
pub fn is_name_byte(b: u8) -> bool {
    is_word_byte(b) || matches!(b, b'.' | b'-' | b'$')
}

pub fn is_quote(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b'`')
}

/// The name assigned to by the separator at `sep`: a quoted key made of
/// name characters (quoted prose is not a key), the
/// identifier right before it or, before `=`, the name of a `name: Type`
/// annotation.
pub fn name_before(line: &str, sep: usize, equals: bool) -> Option<&str> {
    let bytes = line.as_bytes();
    let floor = sep.saturating_sub(NAME_LOOKBEHIND_BYTES);
    let mut end = sep;
    while end > floor && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    let last = *bytes.get(end.checked_sub(1)?)?;
    if is_quote(last) {
        let close = end - 1;
        let open = (floor..close).rev().find(|&p| bytes[p] == last)?;
        let key = &line[open + 1..close];
        return (!key.is_empty() && key.bytes().all(is_name_byte)).then_some(key);
    }
    let mut start = end;
    while start > floor && is_name_byte(bytes[start - 1]) {
        start -= 1;
    }
    if equals && let Some(annotated) = annotated_name(line, start, floor) {
        return Some(annotated);
    }
    (start < end).then(|| &line[start..end])
}

/// For `name: Type = value`, the `name`, given where `Type` starts.
pub fn annotated_name(line: &str, type_start: usize, floor: usize) -> Option<&str> {
    let bytes = line.as_bytes();
    let mut p = type_start;
    while p > floor {
        p -= 1;
        match bytes[p] {
            b':' if p > floor && bytes[p - 1] == b':' => p -= 1,
            b':' => {
                let mut end = p;
                while end > floor && matches!(bytes[end - 1], b' ' | b'\t') {
                    end -= 1;
                }
                let mut start = end;
                while start > floor && is_name_byte(bytes[start - 1]) {
                    start -= 1;
                }
                return (start < end).then(|| &line[start..end]);
            }
            b'=' | b';' | b',' | b'(' | b'{' | b'"' | b'\'' | b'`' => return None,
            _ => {}
        }
    }
    None
}

/// The value starting at `from` (after blanks): a quoted literal of at most
/// [`MAX_SECRET_VALUE_CHARS`] bytes, or the next whitespace-free word without
/// a trailing `,` or `;`. Returns the value, whether it was quoted, and where
/// it ends.
pub fn value_after(line: &str, from: usize) -> Option<(&str, bool, usize)> {
    let bytes = line.as_bytes();
    let mut start = from;
    while start < bytes.len() && matches!(bytes[start], b' ' | b'\t') {
        start += 1;
    }
    let first = *bytes.get(start)?;
    if is_quote(first) {
        let limit = bytes.len().min(start + 1 + MAX_SECRET_VALUE_CHARS);
        let mut j = start + 1;
        while j < limit {
            match bytes[j] {
                b'\\' => j += 2,
                b if b == first => return Some((&line[start + 1..j], true, j + 1)),
                _ => j += 1,
            }
        }
        return None;
    }
    let len = run_len(bytes, start, |b| !b.is_ascii_whitespace());
    let value = line[start..start + len].trim_end_matches([',', ';']);
    (!value.is_empty()).then_some((value, false, start + len))
}
