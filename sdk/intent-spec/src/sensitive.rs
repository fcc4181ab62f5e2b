//! Sensitive data recognised by name: card data (PCI DSS), health data
//! (HIPAA) and personal data (GDPR). A name is split into lower-case words
//! (`cardNumber`, `card_number` and `CardNumber` are all `card number`)
//! and matched against word lists, so that `card_id`, `masked_pan`,
//! `email_template` or `listen_address` are not taken for the data itself.
//!
//! One reading for both sides: the agents decide from it which fields they
//! encrypt and which they never store ([`crate::protection`]), and
//! `qlp/compliance` reports from it what a project stores in clear text.

/// A kind of sensitive data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A primary account number (PCI DSS account data).
    Card,
    /// A card verification code (PCI DSS sensitive authentication data).
    Cvv,
    /// Protected health information (HIPAA).
    Health,
    /// Personal data (GDPR).
    Personal,
}

impl Kind {
    /// How a message names the data.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Card => "card number",
            Kind::Cvv => "card verification code",
            Kind::Health => "health data",
            Kind::Personal => "personal data",
        }
    }
}

/// Words that make a name about the data rather than the data: an
/// identifier, a protected form, or a setting (`card_id`, `masked_pan`,
/// `email_template`, `phone_regex`).
const NOT_THE_DATA: &[&str] = &[
    "id",
    "ids",
    "uuid",
    "type",
    "types",
    "kind",
    "brand",
    "count",
    "length",
    "len",
    "max",
    "min",
    "regex",
    "re",
    "pattern",
    "field",
    "fields",
    "column",
    "label",
    "format",
    "valid",
    "validator",
    "validate",
    "enabled",
    "template",
    "masked",
    "mask",
    "hash",
    "hashed",
    "digest",
    "encrypted",
    "encrypt",
    "encryption",
    "cipher",
    "ciphertext",
    "token",
    "tokenized",
    "tokenised",
    "last4",
    "fingerprint",
    "redacted",
    "verified",
    "sent",
    "service",
    "client",
    "server",
    "host",
    "port",
    "url",
    "smtp",
    "sender",
    "from",
    "provider",
    "subject",
    "config",
    "settings",
    "domain",
    "router",
    "routes",
    "handler",
    "repository",
    "store",
    "schema",
    "input",
    "create",
    "update",
    "list",
    "error",
    "errors",
    "message",
    "exists",
];

/// Words before `address` that make it a network or memory address.
const NOT_A_POSTAL_ADDRESS: &[&str] = &[
    "listen",
    "bind",
    "server",
    "host",
    "socket",
    "mac",
    "base",
    "memory",
    "local",
    "proxy",
    "http",
    "web",
    "contract",
    "wallet",
    "email",
    "ip",
    "remote",
    "peer",
    "gateway",
    "broadcast",
];

/// A name split into lower-case words at `_`, `-`, `.`, `::` and camel-case
/// boundaries: `HTTPServerAddr` → `http server addr`.
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether `words` holds `seq` as consecutive words.
fn has_seq(words: &[String], seq: &[&str]) -> bool {
    words
        .windows(seq.len())
        .any(|w| w.iter().zip(seq).all(|(a, b)| a == b))
}

fn has_any(words: &[String], list: &[&str]) -> bool {
    words.iter().any(|w| list.contains(&w.as_str()))
}

/// The sensitive data a name holds, if any. With `loose`, a bare `card` or
/// `patient` (a whole record, as logged) counts too; in a model it would
/// be a reference to the record.
pub fn classify(name: &str, loose: bool) -> Vec<Kind> {
    let words = words(name);
    let mut kinds = Vec::new();
    if words.is_empty() {
        return kinds;
    }
    // Identifiers that name a protected form or a reference are not the
    // data, except government ids, which are the data themselves.
    let government_id = has_seq(&words, &["national", "id"]) || has_seq(&words, &["tax", "id"]);
    if has_any(&words, NOT_THE_DATA) && !government_id {
        return kinds;
    }
    let whole = words.join("_");
    if has_any(&words, &["cvv", "cvc", "cvv2", "cvc2", "cav2", "cvn"])
        || has_seq(&words, &["security", "code"])
        || has_seq(&words, &["card", "verification"])
        || whole == "card_code"
    {
        kinds.push(Kind::Cvv);
    }
    if has_seq(&words, &["card", "number"])
        || has_seq(&words, &["card", "no"])
        || has_seq(&words, &["card", "num"])
        || has_seq(&words, &["credit", "card"])
        || has_seq(&words, &["debit", "card"])
        || has_seq(&words, &["primary", "account", "number"])
        || has_any(&words, &["pan", "ccn", "cardnumber", "creditcard"])
        || (loose && (whole == "card" || whole == "cards"))
    {
        kinds.push(Kind::Card);
    }
    if has_any(
        &words,
        &[
            "diagnosis",
            "diagnoses",
            "ssn",
            "mrn",
            "prescription",
            "prescriptions",
            "medication",
            "medications",
            "allergy",
            "allergies",
            "symptom",
            "symptoms",
            "treatment",
            "treatments",
            "phi",
        ],
    ) || has_seq(&words, &["medical", "record"])
        || has_seq(&words, &["health", "record"])
        || has_seq(&words, &["social", "security"])
        || has_seq(&words, &["blood", "type"])
        || has_seq(&words, &["lab", "result"])
        || has_seq(&words, &["lab", "results"])
        || (words.first().is_some_and(|w| w == "patient") && words.len() > 1)
        || (loose && (whole == "patient" || whole == "patients"))
    {
        kinds.push(Kind::Health);
    }
    let postal = words.iter().enumerate().any(|(i, w)| {
        (w == "address" || w == "addresses")
            && !words[..i]
                .iter()
                .any(|b| NOT_A_POSTAL_ADDRESS.contains(&b.as_str()))
    });
    if postal
        || has_any(
            &words,
            &[
                "email",
                "emails",
                "phone",
                "telephone",
                "dob",
                "birthdate",
                "birthday",
                "passport",
                "surname",
                "ssn",
                "ip",
                "postcode",
            ],
        )
        || has_seq(&words, &["e", "mail"])
        || has_seq(&words, &["date", "of", "birth"])
        || has_seq(&words, &["birth", "date"])
        || has_seq(&words, &["full", "name"])
        || has_seq(&words, &["first", "name"])
        || has_seq(&words, &["last", "name"])
        || has_seq(&words, &["mobile", "number"])
        || has_seq(&words, &["ip", "address"])
        || government_id
    {
        kinds.push(Kind::Personal);
    }
    kinds
}

/// Whether a name is sensitive enough that storing it in clear text is a
/// finding of its own: a card number, a government id or health data.
/// Other personal data (an email address, a phone number) is ordinary in
/// a database; requiring field-level encryption for it would be noise.
pub fn needs_encryption_at_rest(name: &str, kind: Kind) -> bool {
    match kind {
        Kind::Card | Kind::Health => true,
        Kind::Cvv => false,
        Kind::Personal => {
            let words = words(name);
            has_any(&words, &["ssn", "passport"])
                || has_seq(&words, &["national", "id"])
                || has_seq(&words, &["tax", "id"])
                || has_seq(&words, &["social", "security"])
        }
    }
}
