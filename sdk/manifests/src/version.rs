//! Versions and version requirements per ecosystem, reduced to what the
//! checks need: an ordered [`Version`] and the interval of versions a
//! requirement allows ([`Interval`]).
//!
//! | ecosystem | versions | requirements read |
//! |---|---|---|
//! | `npm` | SemVer 2.0 (`1.2.3-beta.1`, a leading `v` or `=` ignored) | exact, `^`, `~`, `x`/`*` wildcards and partial versions (`1.2`), comparators (`>=1 <2`), hyphen ranges (`1.2.3 - 2`), alternatives (`a \|\| b`: the lowest lower bound and the highest upper bound) |
//! | `crates.io` | SemVer 2.0 | a bare version is a caret requirement (`1.2` = `^1.2`); `=`, `^`, `~`, `*`, comparators, separated by commas |
//! | `PyPI` | PEP 440 subset: release numbers, `aN`/`bN`/`rcN` pre-releases, `.postN`, `.devN`, a leading `v`; epochs and local versions are ignored | `==`, `===`, `!=` (ignored for the interval), `<`, `<=`, `>`, `>=`, `~=`, `==1.2.*` |
//! | `Go` | module versions (`v1.2.3`, pseudo-versions `v0.0.0-2023…-abcdef` order as SemVer pre-releases, `+incompatible` ignored) | always exact (minimal version selection) |
//! | `Maven` | dotted numbers then a qualifier: `alpha` < `beta` < `milestone` < `rc`/`cr` < `snapshot` < release (`final`, `ga`, `release`) < `sp` | a soft requirement (`1.2.3`, read as exact) or a range `[1.0,2.0)`, `[1.0,)`, `(,1.0]`, `[1.2]` |

use std::cmp::Ordering;

/// A package ecosystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ecosystem {
    Npm,
    Crates,
    PyPi,
    Go,
    Maven,
}

impl Ecosystem {
    /// The name used in the advisory database and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::Crates => "crates.io",
            Ecosystem::PyPi => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
        }
    }

    pub fn from_name(name: &str) -> Option<Ecosystem> {
        [
            Ecosystem::Npm,
            Ecosystem::Crates,
            Ecosystem::PyPi,
            Ecosystem::Go,
            Ecosystem::Maven,
        ]
        .into_iter()
        .find(|e| e.name() == name)
    }

    /// A package name as the ecosystem compares them: PyPI names are
    /// case-insensitive with `-`, `_` and `.` equivalent (PEP 503); npm
    /// and Maven names are lower-cased; Go paths and crate names are kept.
    pub fn normalize(self, name: &str) -> String {
        match self {
            Ecosystem::PyPi => name.to_ascii_lowercase().replace(['_', '.'], "-"),
            Ecosystem::Npm | Ecosystem::Maven => name.to_ascii_lowercase(),
            Ecosystem::Go => name.to_string(),
            Ecosystem::Crates => name.replace('_', "-"),
        }
    }
}

/// A pre-release (or qualifier) identifier.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ident {
    Num(u64),
    Text(String),
}

/// A version, ordered within its ecosystem; equal when they order equal
/// (`1.0` and `1.0.0`).
#[derive(Clone, Debug)]
pub struct Version {
    /// Release numbers, compared with missing ones as zero.
    pub release: Vec<u64>,
    /// Rank of what follows the release: below [`RELEASE_RANK`] for
    /// pre-releases, above it for post-releases.
    rank: u8,
    /// Identifiers that order versions of the same rank.
    tail: Vec<Ident>,
    /// As written.
    pub text: String,
}

/// The rank of a plain release.
const RELEASE_RANK: u8 = 10;

impl Version {
    /// Parses a version of `ecosystem`; `None` when it is not one.
    pub fn parse(ecosystem: Ecosystem, text: &str) -> Option<Version> {
        let t = text.trim();
        let t = t.strip_prefix('=').unwrap_or(t).trim();
        let t = t
            .strip_prefix('v')
            .or_else(|| t.strip_prefix('V'))
            .unwrap_or(t);
        match ecosystem {
            Ecosystem::PyPi => parse_pep440(t, text),
            Ecosystem::Maven => parse_maven(t, text),
            _ => parse_semver(t, text),
        }
    }
}

fn numbers(s: &str) -> Option<Vec<u64>> {
    s.split('.').map(|p| p.parse::<u64>().ok()).collect()
}

fn idents(s: &str) -> Vec<Ident> {
    s.split(['.', '-'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<u64>()
                .map_or_else(|_| Ident::Text(p.to_ascii_lowercase()), Ident::Num)
        })
        .collect()
}

fn parse_semver(t: &str, text: &str) -> Option<Version> {
    let t = t.split('+').next()?;
    let (release, pre) = match t.split_once('-') {
        Some((r, p)) => (r, Some(p)),
        None => (t, None),
    };
    Some(Version {
        release: numbers(release)?,
        rank: if pre.is_some() { 0 } else { RELEASE_RANK },
        tail: pre.map(idents).unwrap_or_default(),
        text: text.trim().to_string(),
    })
}

fn parse_pep440(t: &str, text: &str) -> Option<Version> {
    let lower = t.to_ascii_lowercase();
    let t = lower.split('+').next()?;
    let t = t.rsplit('!').next()?;
    let end = t
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit()
                || (c == '.' && t[i + 1..].starts_with(|d: char| d.is_ascii_digit())))
        })
        .map_or(t.len(), |(i, _)| i);
    let release = numbers(&t[..end])?;
    let rest = t[end..].trim_start_matches(['.', '-', '_']);
    let number_after = |s: &str| -> u64 {
        s.trim_start_matches(['.', '-', '_'])
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0)
    };
    let (rank, n) = if rest.is_empty() {
        (RELEASE_RANK, 0)
    } else if let Some(r) = rest.strip_prefix("dev") {
        (1, number_after(r))
    } else if let Some(r) = ["alpha", "a"].iter().find_map(|p| rest.strip_prefix(p)) {
        (2, number_after(r))
    } else if let Some(r) = ["beta", "b"].iter().find_map(|p| rest.strip_prefix(p)) {
        (3, number_after(r))
    } else if let Some(r) = ["rc", "c", "preview", "pre"]
        .iter()
        .find_map(|p| rest.strip_prefix(p))
    {
        (4, number_after(r))
    } else if let Some(r) = ["post", "rev", "r"]
        .iter()
        .find_map(|p| rest.strip_prefix(p))
    {
        (RELEASE_RANK + 1, number_after(r))
    } else {
        return None;
    };
    Some(Version {
        release,
        rank,
        // A plain release has no tail, as in the other ecosystems, so that
        // bounds computed from release numbers compare equal to it.
        tail: if rank == RELEASE_RANK {
            Vec::new()
        } else {
            vec![Ident::Num(n)]
        },
        text: text.trim().to_string(),
    })
}

fn parse_maven(t: &str, text: &str) -> Option<Version> {
    let lower = t.to_ascii_lowercase();
    let mut release = Vec::new();
    let mut rest = lower.as_str();
    while let Some(digits) =
        Some(rest.chars().take_while(char::is_ascii_digit).count()).filter(|n| *n > 0)
    {
        release.push(rest[..digits].parse().ok()?);
        rest = &rest[digits..];
        match rest.strip_prefix('.') {
            Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => rest = r,
            _ => break,
        }
    }
    if release.is_empty() {
        return None;
    }
    let qualifier = rest.trim_start_matches(['.', '-']);
    let word: String = qualifier
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect();
    let rank = match word.as_str() {
        "" | "final" | "ga" | "release" => RELEASE_RANK,
        "alpha" | "a" => 2,
        "beta" | "b" => 3,
        "milestone" | "m" => 4,
        "rc" | "cr" => 5,
        "snapshot" => 6,
        "sp" => RELEASE_RANK + 1,
        _ => RELEASE_RANK,
    };
    Some(Version {
        release,
        rank,
        tail: idents(&qualifier[word.len()..]),
        text: text.trim().to_string(),
    })
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.release.len().max(other.release.len());
        for i in 0..len {
            let a = self.release.get(i).copied().unwrap_or(0);
            let b = other.release.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        self.rank
            .cmp(&other.rank)
            .then_with(|| self.tail.cmp(&other.tail))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One end of an interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    pub version: Version,
    pub inclusive: bool,
}

/// The versions between two bounds; `None` is unbounded.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Interval {
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
}

impl Interval {
    /// Exactly one version.
    pub fn exact(v: Version) -> Interval {
        Interval {
            lower: Some(Bound {
                version: v.clone(),
                inclusive: true,
            }),
            upper: Some(Bound {
                version: v,
                inclusive: true,
            }),
        }
    }

    /// The single version it allows, if it allows exactly one.
    pub fn pinned(&self) -> Option<&Version> {
        match (&self.lower, &self.upper) {
            (Some(l), Some(u)) if l.inclusive && u.inclusive && l.version == u.version => {
                Some(&l.version)
            }
            _ => None,
        }
    }

    /// Whether `v` is inside.
    pub fn contains(&self, v: &Version) -> bool {
        let above = self.lower.as_ref().is_none_or(|l| {
            if l.inclusive {
                *v >= l.version
            } else {
                *v > l.version
            }
        });
        let below = self.upper.as_ref().is_none_or(|u| {
            if u.inclusive {
                *v <= u.version
            } else {
                *v < u.version
            }
        });
        above && below
    }

    /// Whether any version is in both.
    pub fn intersects(&self, other: &Interval) -> bool {
        let lower = tighter_lower(self.lower.clone(), other.lower.clone());
        let upper = tighter_upper(self.upper.clone(), other.upper.clone());
        match (lower, upper) {
            (Some(l), Some(u)) => match l.version.cmp(&u.version) {
                Ordering::Less => true,
                Ordering::Equal => l.inclusive && u.inclusive,
                Ordering::Greater => false,
            },
            _ => true,
        }
    }

    /// Narrows this interval by a lower bound.
    fn at_least(&mut self, b: Bound) {
        self.lower = tighter_lower(self.lower.take(), Some(b));
    }

    /// Narrows this interval by an upper bound.
    fn below(&mut self, b: Bound) {
        self.upper = tighter_upper(self.upper.take(), Some(b));
    }
}

fn tighter_lower(a: Option<Bound>, b: Option<Bound>) -> Option<Bound> {
    match (a, b) {
        (Some(a), Some(b)) => Some(match a.version.cmp(&b.version) {
            Ordering::Greater => a,
            Ordering::Less => b,
            Ordering::Equal => Bound {
                inclusive: a.inclusive && b.inclusive,
                version: a.version,
            },
        }),
        (a, b) => a.or(b),
    }
}

fn tighter_upper(a: Option<Bound>, b: Option<Bound>) -> Option<Bound> {
    match (a, b) {
        (Some(a), Some(b)) => Some(match a.version.cmp(&b.version) {
            Ordering::Less => a,
            Ordering::Greater => b,
            Ordering::Equal => Bound {
                inclusive: a.inclusive && b.inclusive,
                version: a.version,
            },
        }),
        (a, b) => a.or(b),
    }
}

fn incl(version: Version) -> Bound {
    Bound {
        version,
        inclusive: true,
    }
}

fn excl(version: Version) -> Bound {
    Bound {
        version,
        inclusive: false,
    }
}

/// A synthetic version from release numbers, for computed bounds
/// (`^1.2.3` → below `2.0.0`). It sorts before every pre-release of that
/// release as SemVer's `<2.0.0-0` does, so `<2.0.0` excludes `2.0.0-rc.1`.
fn synthetic(release: Vec<u64>) -> Version {
    let text = release
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".");
    Version {
        release,
        rank: 0,
        tail: Vec::new(),
        text,
    }
}

/// Parses a requirement of `ecosystem` into the interval it allows.
/// `None` when it cannot be read (a URL, a path, a tag).
pub fn requirement(ecosystem: Ecosystem, spec: &str) -> Option<Interval> {
    let spec = spec.trim();
    match ecosystem {
        Ecosystem::PyPi => pep440_requirement(spec),
        Ecosystem::Npm => {
            // Alternatives: the hull of their intervals.
            let mut hull: Option<Interval> = None;
            for alt in spec.split("||") {
                let i = semver_requirement(alt.trim(), false)?;
                hull = Some(match hull {
                    None => i,
                    Some(h) => Interval {
                        lower: match (h.lower, i.lower) {
                            (Some(a), Some(b)) => Some(if a.version <= b.version { a } else { b }),
                            _ => None,
                        },
                        upper: match (h.upper, i.upper) {
                            (Some(a), Some(b)) => Some(if a.version >= b.version { a } else { b }),
                            _ => None,
                        },
                    },
                });
            }
            hull
        }
        Ecosystem::Crates => semver_requirement(&spec.replace(',', " "), true),
        Ecosystem::Go => Version::parse(Ecosystem::Go, spec).map(Interval::exact),
        Ecosystem::Maven => maven_requirement(spec),
    }
}

/// A partial SemVer version (`1`, `1.2`, `1.2.x`, `*`): the numbers given
/// and the full version, if all three are there.
fn partial(t: &str) -> Option<(Vec<u64>, Option<Version>)> {
    let t = t.trim().trim_start_matches(['v', '=']);
    if matches!(t, "" | "*" | "x" | "X") {
        return Some((vec![], None));
    }
    if let Some(v) = parse_semver(t, t)
        && v.release.len() == 3
    {
        return Some((v.release.clone(), Some(v)));
    }
    let nums: Vec<u64> = t
        .split('.')
        .take_while(|p| !matches!(*p, "x" | "X" | "*"))
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    Some((nums, None))
}

fn bump(nums: &[u64], at: usize) -> Version {
    let mut r: Vec<u64> = nums.iter().copied().take(at + 1).collect();
    r.resize(at + 1, 0);
    r[at] = r[at].saturating_add(1);
    r.resize(3, 0);
    synthetic(r)
}

fn floor(nums: &[u64]) -> Version {
    let mut r = nums.to_vec();
    r.resize(3, 0);
    Version {
        text: r.iter().map(u64::to_string).collect::<Vec<_>>().join("."),
        release: r,
        rank: RELEASE_RANK,
        tail: Vec::new(),
    }
}

/// npm (`bare_is_caret` false) and Cargo (true) requirements.
fn semver_requirement(spec: &str, bare_is_caret: bool) -> Option<Interval> {
    let mut out = Interval::default();
    if let Some((lo, hi)) = spec.split_once(" - ") {
        let (lo_nums, lo_full) = partial(lo)?;
        let (hi_nums, hi_full) = partial(hi)?;
        out.at_least(incl(lo_full.unwrap_or_else(|| floor(&lo_nums))));
        match hi_full {
            Some(v) => out.below(incl(v)),
            None if !hi_nums.is_empty() => out.below(excl(bump(&hi_nums, hi_nums.len() - 1))),
            None => {}
        }
        return Some(out);
    }
    // Join operators to their versions: `>= 1.2` → `>=1.2`.
    let mut parts: Vec<String> = Vec::new();
    for word in spec.split_whitespace() {
        match parts.last_mut() {
            Some(last)
                if matches!(
                    last.as_str(),
                    ">=" | "<=" | ">" | "<" | "=" | "^" | "~" | "~>"
                ) =>
            {
                last.push_str(word)
            }
            _ => parts.push(word.to_string()),
        }
    }
    if parts.is_empty() {
        return Some(out);
    }
    for part in parts {
        let (op, rest) = ["^", "~>", "~", ">=", "<=", ">", "<", "="]
            .iter()
            .find_map(|op| part.strip_prefix(op).map(|r| (*op, r)))
            .unwrap_or(("", part.as_str()));
        let (nums, full) = partial(rest)?;
        let low = || full.clone().unwrap_or_else(|| floor(&nums));
        let op = if op.is_empty() && bare_is_caret {
            "^"
        } else {
            op
        };
        match op {
            "^" if nums.is_empty() => {}
            "^" => {
                out.at_least(incl(low()));
                let first_nonzero = nums.iter().position(|n| *n != 0);
                let at = match first_nonzero {
                    Some(i) => i.min(nums.len() - 1),
                    None => nums.len() - 1,
                };
                out.below(excl(bump(&nums, at)));
            }
            "~" | "~>" => {
                if nums.is_empty() {
                    continue;
                }
                out.at_least(incl(low()));
                let at = if nums.len() >= 2 { 1 } else { 0 };
                out.below(excl(bump(&nums, at)));
            }
            ">=" => out.at_least(incl(low())),
            ">" => match full {
                Some(v) => out.at_least(excl(v)),
                None if !nums.is_empty() => out.at_least(incl(bump(&nums, nums.len() - 1))),
                None => {}
            },
            "<=" => match full {
                Some(v) => out.below(incl(v)),
                None if !nums.is_empty() => out.below(excl(bump(&nums, nums.len() - 1))),
                None => {}
            },
            "<" => {
                if !nums.is_empty() {
                    out.below(excl(full.unwrap_or_else(|| {
                        synthetic({
                            let mut r = nums.clone();
                            r.resize(3, 0);
                            r
                        })
                    })))
                }
            }
            _ => match full {
                // Exact, or a partial version meaning a wildcard (`1.2` = `1.2.x`).
                Some(v) => {
                    out.at_least(incl(v.clone()));
                    out.below(incl(v));
                }
                None if !nums.is_empty() => {
                    out.at_least(incl(floor(&nums)));
                    out.below(excl(bump(&nums, nums.len() - 1)));
                }
                None => {}
            },
        }
    }
    Some(out)
}

fn pep440_requirement(spec: &str) -> Option<Interval> {
    let mut out = Interval::default();
    for clause in spec.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (op, rest) = ["===", "==", "!=", "~=", ">=", "<=", ">", "<"]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|r| (*op, r.trim())))?;
        if op == "!=" {
            continue;
        }
        if let Some(prefix) = rest.strip_suffix(".*") {
            let nums = numbers(prefix)?;
            let low = synthetic(nums.clone());
            let mut high = nums;
            let last = high.last_mut()?;
            *last = last.saturating_add(1);
            out.at_least(incl(low));
            out.below(excl(synthetic(high)));
            continue;
        }
        let v = Version::parse(Ecosystem::PyPi, rest)?;
        match op {
            "==" | "===" => {
                out.at_least(incl(v.clone()));
                out.below(incl(v));
            }
            "~=" => {
                if v.release.len() < 2 {
                    return None;
                }
                let mut high = v.release[..v.release.len() - 1].to_vec();
                let last = high.last_mut()?;
                *last = last.saturating_add(1);
                out.at_least(incl(v));
                out.below(excl(synthetic(high)));
            }
            ">=" => out.at_least(incl(v)),
            ">" => out.at_least(excl(v)),
            "<=" => out.below(incl(v)),
            _ => out.below(excl(v)),
        }
    }
    Some(out)
}

fn maven_requirement(spec: &str) -> Option<Interval> {
    let first = spec.chars().next()?;
    if first != '[' && first != '(' {
        return Version::parse(Ecosystem::Maven, spec).map(Interval::exact);
    }
    let last = spec.chars().last()?;
    if !matches!(last, ']' | ')') || spec.len() < 2 {
        return None;
    }
    let inner = &spec[1..spec.len() - 1];
    let mut out = Interval::default();
    match inner.split_once(',') {
        None => {
            let v = Version::parse(Ecosystem::Maven, inner)?;
            return Some(Interval::exact(v));
        }
        Some((lo, hi)) => {
            if !lo.trim().is_empty() {
                let v = Version::parse(Ecosystem::Maven, lo)?;
                out.at_least(Bound {
                    version: v,
                    inclusive: first == '[',
                });
            }
            if !hi.trim().is_empty() {
                let v = Version::parse(Ecosystem::Maven, hi)?;
                out.below(Bound {
                    version: v,
                    inclusive: last == ']',
                });
            }
        }
    }
    Some(out)
}

/// An affected range of the advisory database: comparator clauses
/// separated by commas (`>=3.2, <3.2.14`), read with the ecosystem's
/// version ordering. `None` when a clause does not parse.
pub fn affected_range(ecosystem: Ecosystem, text: &str) -> Option<Interval> {
    let mut out = Interval::default();
    for clause in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (op, rest) = [">=", "<=", ">", "<", "="]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|r| (*op, r.trim())))?;
        let v = Version::parse(ecosystem, rest)?;
        match op {
            ">=" => out.at_least(incl(v)),
            ">" => out.at_least(excl(v)),
            "<=" => out.below(incl(v)),
            "<" => out.below(excl(v)),
            _ => {
                out.at_least(incl(v.clone()));
                out.below(incl(v));
            }
        }
    }
    Some(out)
}
