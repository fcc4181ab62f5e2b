//! Text that comes from a plugin, made safe to print: control characters
//! removed, lengths bounded and granted secrets masked.

/// Removes control characters (ANSI escapes included) and cuts the text to
/// `max` bytes on a character boundary, so a plugin cannot forge log lines
/// or colour the operator's terminal.
pub fn sanitize(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > max {
            out.push('…');
            break;
        }
        out.push(c);
    }
    out
}

/// `text` with every secret of `secrets` replaced by `***`, longest
/// first, so that a secret containing another is masked whole.
pub fn mask(text: &str, secrets: &[String]) -> String {
    if secrets.is_empty() {
        return text.to_owned();
    }
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    sorted.into_iter().fold(text.to_owned(), |t, secret| {
        t.replace(secret.as_str(), "***")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_escapes_and_newlines() {
        assert_eq!(sanitize("a\x1b[31mred\nline", 100), "a [31mred line");
    }

    #[test]
    fn sanitize_cuts_on_a_char_boundary() {
        assert_eq!(sanitize("ééé", 4), "éé…");
    }

    #[test]
    fn secrets_are_masked_whole_wherever_they_appear() {
        let secrets = vec!["abc".to_owned(), "abcdef".to_owned(), String::new()];
        assert_eq!(
            mask("token=abcdef, key=abc, again abcdef", &secrets),
            "token=***, key=***, again ***"
        );
        assert_eq!(mask("nothing here", &secrets), "nothing here");
        assert_eq!(mask("abc", &[]), "abc");
    }
}
