//! Git's pkt-line framing and the two messages of a protocol v0 push that
//! come back from the server: the ref advertisement of
//! `GET info/refs?service=git-receive-pack` and the `report-status` answer
//! to `POST git-receive-pack`. Pure functions over bytes; [`crate::push`]
//! does the HTTP.
//!
//! A pkt-line is four hex digits giving the length of the line including
//! those four, then the payload; `0000` is a flush. See git's
//! `Documentation/gitprotocol-common.txt` and `gitprotocol-http.txt`.

use std::collections::BTreeMap;

use crate::object::ObjectId;

/// Largest pkt-line git allows, length prefix included.
pub const MAX_PKT_LEN: usize = 65520;

/// One pkt-line: a flush or a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pkt<'a> {
    Flush,
    Data(&'a [u8]),
}

/// Appends `payload` as one pkt-line.
pub fn write_line(out: &mut Vec<u8>, payload: &[u8]) {
    assert!(payload.len() + 4 <= MAX_PKT_LEN, "pkt-line too long");
    out.extend_from_slice(format!("{:04x}", payload.len() + 4).as_bytes());
    out.extend_from_slice(payload);
}

/// Appends a flush-pkt.
pub fn write_flush(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0000");
}

/// Splits `data` into pkt-lines until it ends. Fails on a malformed length
/// or a line cut short; `0001` (delim) and `0002` (response end) of
/// protocol v2 count as flushes.
pub fn read_lines(mut data: &[u8]) -> Result<Vec<Pkt<'_>>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < 4 {
            return Err("a pkt-line is cut short".into());
        }
        let len = std::str::from_utf8(&data[..4])
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .ok_or("a pkt-line has no hex length")?;
        match len {
            0..=2 => {
                out.push(Pkt::Flush);
                data = &data[4..];
            }
            3 => return Err("a pkt-line has the invalid length 3".into()),
            _ => {
                if len > data.len() {
                    return Err("a pkt-line is cut short".into());
                }
                out.push(Pkt::Data(&data[4..len]));
                data = &data[len..];
            }
        }
    }
    Ok(out)
}

/// What a receive-pack server advertises: its refs and capabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advertisement {
    /// Ref name to the id it points at (`.have` and `capabilities^{}`
    /// entries are not refs and are left out).
    pub refs: BTreeMap<String, ObjectId>,
    /// Capability words, `key=value` ones as written.
    pub capabilities: Vec<String>,
}

impl Advertisement {
    /// Whether the server advertised capability `name` (or `name=…`).
    pub fn has(&self, name: &str) -> bool {
        self.capabilities.iter().any(|c| {
            c == name
                || c.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('='))
        })
    }

    /// The value of a `name=value` capability.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.capabilities
            .iter()
            .find_map(|c| c.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
    }
}

/// Parses the body of `GET info/refs?service=git-receive-pack`: an optional
/// `# service=git-receive-pack` line and flush (smart HTTP), then one line
/// per ref, the first carrying the capabilities after a NUL, then a flush.
pub fn parse_advertisement(body: &[u8]) -> Result<Advertisement, String> {
    let lines = read_lines(body)?;
    let mut lines = lines.into_iter().peekable();
    if let Some(Pkt::Data(first)) = lines.peek()
        && first.starts_with(b"# service=")
    {
        let service = trim_newline(&first[b"# service=".len()..]);
        if service != b"git-receive-pack" {
            return Err(format!(
                "the server offers service {:?}, not git-receive-pack",
                String::from_utf8_lossy(service)
            ));
        }
        lines.next();
        if lines.next() != Some(Pkt::Flush) {
            return Err("no flush after the service line".into());
        }
    }
    let mut advertisement = Advertisement::default();
    let mut first = true;
    let mut flushed = false;
    for pkt in lines {
        let line = match pkt {
            Pkt::Flush => {
                flushed = true;
                break;
            }
            Pkt::Data(line) => trim_newline(line),
        };
        let line = if first {
            first = false;
            match line.iter().position(|b| *b == 0) {
                Some(nul) => {
                    let caps = String::from_utf8_lossy(&line[nul + 1..]);
                    advertisement.capabilities = caps
                        .split(' ')
                        .filter(|c| !c.is_empty())
                        .map(String::from)
                        .collect();
                    &line[..nul]
                }
                None => line,
            }
        } else {
            line
        };
        let text = std::str::from_utf8(line).map_err(|_| "a ref line is not UTF-8")?;
        if text.starts_with("shallow ") {
            continue;
        }
        let (id, name) = text
            .split_once(' ')
            .ok_or_else(|| format!("malformed ref line {text:?}"))?;
        let id = ObjectId::from_hex(id).ok_or_else(|| format!("malformed ref line {text:?}"))?;
        if name == "capabilities^{}" || name == ".have" {
            continue;
        }
        advertisement.refs.insert(name.to_string(), id);
    }
    if !flushed {
        return Err("the ref advertisement does not end with a flush".into());
    }
    Ok(advertisement)
}

/// What the server said about one pushed ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefStatus {
    Ok,
    /// `ng <ref> <reason>`: the reason as given.
    Rejected(String),
}

/// The `report-status` answer to a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `None` for `unpack ok`, else the server's error.
    pub unpack_error: Option<String>,
    pub refs: BTreeMap<String, RefStatus>,
}

/// Parses a `report-status` answer: `unpack ok` or `unpack <error>`, one
/// `ok <ref>` or `ng <ref> <reason>` per command, then a flush.
pub fn parse_report(body: &[u8]) -> Result<Report, String> {
    let lines = read_lines(body)?;
    let mut lines = lines.into_iter();
    let unpack = match lines.next() {
        Some(Pkt::Data(line)) => String::from_utf8_lossy(trim_newline(line)).into_owned(),
        _ => return Err("the push status has no unpack line".into()),
    };
    let unpack = unpack
        .strip_prefix("unpack ")
        .ok_or_else(|| format!("the push status starts with {unpack:?}, not `unpack`"))?;
    let unpack_error = (unpack != "ok").then(|| unpack.to_string());
    let mut refs = BTreeMap::new();
    for pkt in lines {
        let Pkt::Data(line) = pkt else { break };
        let line = String::from_utf8_lossy(trim_newline(line)).into_owned();
        if let Some(name) = line.strip_prefix("ok ") {
            refs.insert(name.to_string(), RefStatus::Ok);
        } else if let Some(rest) = line.strip_prefix("ng ") {
            let (name, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            refs.insert(name.to_string(), RefStatus::Rejected(reason.to_string()));
        } else {
            return Err(format!("unexpected push status line {line:?}"));
        }
    }
    Ok(Report { unpack_error, refs })
}

fn trim_newline(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write_line(&mut out, text.as_bytes());
        out
    }

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    #[test]
    fn lines_are_framed_with_their_hex_length() {
        let mut out = Vec::new();
        write_line(&mut out, b"hello\n");
        write_flush(&mut out);
        assert_eq!(out, b"000ahello\n0000");
        assert_eq!(
            read_lines(&out).unwrap(),
            [Pkt::Data(b"hello\n"), Pkt::Flush]
        );
    }

    #[test]
    fn malformed_framing_is_an_error() {
        assert!(read_lines(b"00").is_err());
        assert!(read_lines(b"zzzzhello").is_err());
        assert!(read_lines(b"0010short").is_err());
        assert!(read_lines(b"0003").is_err());
    }

    #[test]
    fn an_advertisement_gives_refs_and_capabilities() {
        let mut body = pkt("# service=git-receive-pack\n");
        write_flush(&mut body);
        body.extend(pkt(&format!(
            "{A} refs/heads/main\0report-status delete-refs atomic object-format=sha1 agent=git/2.47\n"
        )));
        body.extend(pkt(&format!("{B} refs/qlp/deliveries/abc\n")));
        body.extend(pkt(&format!("{B} .have\n")));
        write_flush(&mut body);
        let ad = parse_advertisement(&body).unwrap();
        assert_eq!(ad.refs.len(), 2);
        assert_eq!(ad.refs["refs/heads/main"].hex(), A);
        assert_eq!(ad.refs["refs/qlp/deliveries/abc"].hex(), B);
        assert!(ad.has("atomic"));
        assert!(ad.has("report-status"));
        assert!(!ad.has("report"));
        assert!(ad.has("object-format"));
        assert_eq!(ad.value("object-format"), Some("sha1"));
    }

    #[test]
    fn an_empty_repository_advertises_only_capabilities() {
        let mut body = pkt("# service=git-receive-pack\n");
        write_flush(&mut body);
        body.extend(pkt(&format!(
            "{} capabilities^{{}}\0report-status atomic\n",
            ObjectId::ZERO
        )));
        write_flush(&mut body);
        let ad = parse_advertisement(&body).unwrap();
        assert!(ad.refs.is_empty());
        assert_eq!(ad.capabilities, ["report-status", "atomic"]);
    }

    #[test]
    fn an_advertisement_for_another_service_or_unterminated_is_refused() {
        let mut body = pkt("# service=git-upload-pack\n");
        write_flush(&mut body);
        assert!(parse_advertisement(&body).is_err());
        let unterminated = pkt(&format!("{A} refs/heads/main\0atomic\n"));
        assert!(parse_advertisement(&unterminated).is_err());
        let mut garbage = pkt("not a ref line\n");
        write_flush(&mut garbage);
        assert!(parse_advertisement(&garbage).is_err());
        assert!(parse_advertisement(b"<html>").is_err());
    }

    #[test]
    fn a_report_gives_the_unpack_result_and_each_refs_fate() {
        let mut body = pkt("unpack ok\n");
        body.extend(pkt("ok refs/heads/main\n"));
        body.extend(pkt("ng refs/qlp/deliveries/x failed to update ref\n"));
        write_flush(&mut body);
        let report = parse_report(&body).unwrap();
        assert_eq!(report.unpack_error, None);
        assert_eq!(report.refs["refs/heads/main"], RefStatus::Ok);
        assert_eq!(
            report.refs["refs/qlp/deliveries/x"],
            RefStatus::Rejected("failed to update ref".into())
        );

        let mut body = pkt("unpack index-pack abnormal exit\n");
        body.extend(pkt("ng refs/heads/main unpacker error\n"));
        write_flush(&mut body);
        let report = parse_report(&body).unwrap();
        assert_eq!(
            report.unpack_error.as_deref(),
            Some("index-pack abnormal exit")
        );
        assert!(parse_report(b"").is_err());
        assert!(parse_report(&pkt("hello\n")).is_err());
    }
}
