//! Reading the fields of a resource from the intent's sentences and named
//! constraints.
//!
//! A field list starts after a trigger and runs to the end of the sentence:
//!
//! - a list noun ("fields", "attributes", "properties", "columns"), as in
//!   "fields: sku, quantity and price", anywhere in a sentence;
//! - a verb of having ("has", "have", "with", "contains", "includes",
//!   "stores", "holds", "records", "tracks") right after a noun phrase that
//!   names a resource or starts with "each" or "every", as in "each
//!   inventory item has a SKU, a quantity and a bin location", "products
//!   with name and price", "every record must have ..." (modal words before
//!   the verb are allowed).
//!
//! The list is split at commas and at "and", "or", "plus". Each part loses
//! its articles and qualifiers ("a unique SKU" → `sku`), may carry a type
//! ("quantity int", "weight:float") and the words "required" or "optional";
//! what remains, one to [`MAX_FIELD_WORDS`] words, is the field
//! (`warehouse_location`). A part that reads as prose (too many words, a
//! technical word such as "JWT" or "PostgreSQL") ends the list, and so does
//! a connector ("that", "which", "in", "using"...) after the field's words:
//! "a status that defaults to open" gives `status` and ends there.
//!
//! A field belongs to the nearest resource named before its trigger in the
//! same sentence; without one, to the first resource. A named constraint
//! whose name contains a list noun (`("fields", "sku, quantity:int")`,
//! `("product fields", "...")`) is read as a list too.
//!
//! Types come from a hint, or a last word "flag" ("a paid flag" is the
//! flag `paid`), or else from the last word of the name (see
//! [`FieldKind::infer`]). Fields are required unless marked optional or
//! boolean (a missing flag is `false`).

use crate::words;

/// Most words in one field name. Longer parts are prose ("a link to the
/// supplier's page") rather than a field, and would make long identifiers.
pub const MAX_FIELD_WORDS: usize = 3;

/// Most characters of a field name in `snake_case`, so that identifiers
/// derived from it stay readable in every language.
pub const MAX_FIELD_NAME_LEN: usize = 40;

/// The type of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text; a required text field must not be empty.
    Text,
    /// A whole number.
    Integer,
    /// A decimal number.
    Number,
    /// `true` or `false`.
    Boolean,
}

/// Last words that make a field a whole number.
const INTEGER_WORDS: &[&str] = &[
    "age", "capacity", "count", "floor", "pages", "priority", "qty", "quantity", "rank", "rating",
    "seats", "stock", "year",
];

/// Last words that make a field a decimal number.
const NUMBER_WORDS: &[&str] = &[
    "amount",
    "balance",
    "budget",
    "cost",
    "discount",
    "fee",
    "height",
    "latitude",
    "length",
    "longitude",
    "percentage",
    "price",
    "rate",
    "salary",
    "score",
    "tax",
    "temperature",
    "total",
    "weight",
    "width",
];

/// Decimal fields that may be negative; every other number must be zero
/// or more.
const SIGNED_WORDS: &[&str] = &["balance", "latitude", "longitude", "temperature"];

/// Single words that make a field a flag; so does a first word "is" or
/// "has" (`is_active`).
const BOOLEAN_WORDS: &[&str] = &[
    "active",
    "archived",
    "available",
    "completed",
    "done",
    "enabled",
    "paid",
    "published",
    "verified",
];

/// Last words that make the words before them a flag: "a paid flag".
const FLAG_WORDS: &[&str] = &["flag", "flags"];

/// Type hints a part may end with, and the kind each gives.
const TYPE_HINTS: &[(&str, FieldKind)] = &[
    ("bool", FieldKind::Boolean),
    ("boolean", FieldKind::Boolean),
    ("decimal", FieldKind::Number),
    ("double", FieldKind::Number),
    ("float", FieldKind::Number),
    ("int", FieldKind::Integer),
    ("integer", FieldKind::Integer),
    ("str", FieldKind::Text),
    ("string", FieldKind::Text),
    ("text", FieldKind::Text),
];

/// Nouns that start a field list wherever they appear.
const LIST_NOUNS: &[&str] = &["attributes", "columns", "fields", "properties"];

/// Verbs that start a field list right after a resource word.
const HAVING_VERBS: &[&str] = &[
    "contain", "contains", "has", "have", "hold", "holds", "include", "includes", "record",
    "records", "store", "stores", "track", "tracks", "with",
];

/// Words allowed between a resource word and its verb: "every order must
/// have".
const MODAL_WORDS: &[&str] = &["also", "always", "must", "shall", "should", "will"];

/// Words skipped right after a trigger: "fields such as", "has fields like".
const LEAD_WORDS: &[&str] = &[
    "are",
    "as",
    "following",
    "including",
    "is",
    "like",
    "namely",
    "of",
    "such",
    "the",
];

/// Words dropped from a part: articles and qualifiers.
const PART_FILLERS: &[&str] = &[
    "a", "an", "each", "its", "own", "short", "some", "the", "their", "unique",
];

/// Words after a field's name that end it, and the list: "a status that
/// defaults to open", "a price in euros".
const CONNECTORS: &[&str] = &[
    "as", "at", "backed", "between", "by", "for", "from", "if", "in", "many", "multiple", "on",
    "per", "several", "so", "stored", "that", "to", "under", "unless", "using", "via", "when",
    "where", "which", "who", "whose",
];

/// Words that separate the parts of a list.
const LIST_SEPARATORS: &[&str] = &["and", "or", "plus"];

/// Field names never taken: the server assigns `id`, and a plain password
/// must not be stored as a field.
const RESERVED_FIELDS: &[&str] = &["id", "password", "passwords"];

impl FieldKind {
    /// The kind of a field by the words of its name: a first word "is" or
    /// "has", or a known flag, is [`Boolean`](Self::Boolean); a last word
    /// that counts ("quantity", "stock", "count") is
    /// [`Integer`](Self::Integer); one that measures ("price", "weight",
    /// "total") is [`Number`](Self::Number); anything else is
    /// [`Text`](Self::Text).
    pub fn infer(parts: &[&str]) -> Self {
        let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
            return Self::Text;
        };
        if (parts.len() > 1 && matches!(*first, "is" | "has"))
            || (parts.len() == 1 && BOOLEAN_WORDS.contains(last))
        {
            Self::Boolean
        } else if INTEGER_WORDS.contains(last) || last.ends_with("count") {
            Self::Integer
        } else if NUMBER_WORDS.contains(last) {
            Self::Number
        } else {
            Self::Text
        }
    }
}

/// One field of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The name in `snake_case`; the JSON key in every generated project.
    pub name: String,
    /// The type of its value.
    pub kind: FieldKind,
    /// Whether a create or replace request must carry it.
    pub required: bool,
    /// For numbers: whether negative values are refused.
    pub non_negative: bool,
}

impl Field {
    /// A field from its name's words and kind, required unless it is a flag.
    pub fn new(parts: &[&str], kind: FieldKind) -> Self {
        let last = parts.last().copied().unwrap_or_default();
        Self {
            name: parts.join("_"),
            kind,
            required: kind != FieldKind::Boolean,
            non_negative: matches!(kind, FieldKind::Integer | FieldKind::Number)
                && !SIGNED_WORDS.contains(&last),
        }
    }

    /// The name in words, for prose: `unit price`.
    pub fn spaced(&self) -> String {
        words::spaced(&self.name)
    }

    /// A valid sample value as source text, for generated tests and
    /// examples: "example unit price" for text, written with `quote` (the
    /// target language's string literal), 3, 9.5 or true otherwise. With
    /// `changed`, a different valid value ("changed unit price", 7, 12.25,
    /// false), for an update.
    pub fn example_value(&self, changed: bool, quote: impl Fn(&str) -> String) -> String {
        match (self.kind, changed) {
            (FieldKind::Text, false) => quote(&format!("example {}", self.spaced())),
            (FieldKind::Text, true) => quote(&format!("changed {}", self.spaced())),
            (FieldKind::Integer, false) => "3".into(),
            (FieldKind::Integer, true) => "7".into(),
            (FieldKind::Number, false) => "9.5".into(),
            (FieldKind::Number, true) => "12.25".into(),
            (FieldKind::Boolean, false) => "true".into(),
            (FieldKind::Boolean, true) => "false".into(),
        }
    }
}

/// What a text field holds as far as its name tells: how a form asks for
/// it. Every format is still text in JSON; a service may check it or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// A line of text.
    Plain,
    /// Prose, edited in a multi-line box: `description`, `notes`, `message`.
    Long,
    /// An email address: a name with the word `email`.
    Email,
    /// A web address: `website`, `homepage`, `url`, `link`.
    Url,
    /// A phone number: `phone`, `mobile`, `telephone`.
    Phone,
    /// A calendar date: a name ending in `date`, `birthday`, `deadline`.
    Date,
}

/// Last words of text fields that hold prose.
const LONG_TEXT_WORDS: &[&str] = &[
    "bio",
    "biography",
    "body",
    "comment",
    "comments",
    "content",
    "description",
    "details",
    "enquiry",
    "inquiry",
    "instructions",
    "message",
    "notes",
    "summary",
];

/// Words of text fields that hold a web address.
const URL_WORDS: &[&str] = &["homepage", "link", "url", "website"];

/// Words of text fields that hold a phone number.
const PHONE_WORDS: &[&str] = &["mobile", "phone", "telephone"];

/// Last words of text fields that hold a calendar date.
const DATE_WORDS: &[&str] = &["birthday", "date", "deadline", "dob"];

/// Words of a field name spelled in capitals in a label.
const ACRONYMS: &[&str] = &[
    "api", "ean", "iban", "id", "ip", "isbn", "sku", "upc", "url", "vat",
];

impl Field {
    /// For a text field, what it holds by its name (an `email` is
    /// [`TextFormat::Email`], `notes` [`TextFormat::Long`]); `None` for
    /// numbers and flags.
    pub fn text_format(&self) -> Option<TextFormat> {
        if self.kind != FieldKind::Text {
            return None;
        }
        let parts: Vec<&str> = self.name.split('_').collect();
        let last = parts.last().copied().unwrap_or_default();
        let has = |list: &[&str]| parts.iter().any(|p| list.contains(p));
        Some(if parts.contains(&"email") {
            TextFormat::Email
        } else if has(URL_WORDS) {
            TextFormat::Url
        } else if has(PHONE_WORDS) {
            TextFormat::Phone
        } else if DATE_WORDS.contains(&last) {
            TextFormat::Date
        } else if LONG_TEXT_WORDS.contains(&last) {
            TextFormat::Long
        } else {
            TextFormat::Plain
        })
    }

    /// The name as a label: words, the first capitalized, acronyms in
    /// capitals (`Unit price`, `SKU`, `Website URL`).
    pub fn label(&self) -> String {
        let parts: Vec<String> = self
            .name
            .split('_')
            .map(|part| {
                if ACRONYMS.contains(&part) {
                    part.to_ascii_uppercase()
                } else {
                    part.to_string()
                }
            })
            .collect();
        words::capitalize(&parts.join(" "))
    }
}

/// A field read from text, with the index of the resource word named
/// before its trigger, if any (an index into the `resource_words` given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// Index of the resource the sentence attaches it to, if it names one.
    pub resource: Option<usize>,
    /// The field.
    pub field: Field,
}

/// A token of a sentence: a lower-case word or a list comma.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Comma,
}

/// Splits text into sentences (at `.`, `;`, `!`, `?` and line breaks) of
/// words and commas (`,`, `&` and `/` separate list parts too).
fn sentences(text: &str) -> Vec<Vec<Token>> {
    let mut result = vec![Vec::new()];
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
            continue;
        }
        let current = result.last_mut().expect("never empty");
        if !word.is_empty() {
            current.push(Token::Word(std::mem::take(&mut word)));
        }
        match c {
            ',' | '&' | '/' => current.push(Token::Comma),
            '.' | ';' | '!' | '?' | '\n' => result.push(Vec::new()),
            _ => {}
        }
    }
    result.retain(|sentence| !sentence.is_empty());
    result
}

/// The index in `resource_words` of the resource a word names.
fn resource_of(word: &str, resource_words: &[(String, String)]) -> Option<usize> {
    resource_words
        .iter()
        .position(|(singular, plural)| word == singular || word == plural)
}

/// The fields a free-text sentence or paragraph names. `resource_words`
/// holds each resource's (singular, plural).
pub fn from_text(text: &str, resource_words: &[(String, String)]) -> Vec<Mention> {
    let mut mentions = Vec::new();
    for sentence in sentences(text) {
        let mut index = 0;
        let mut last_resource = None;
        while index < sentence.len() {
            let Token::Word(word) = &sentence[index] else {
                index += 1;
                continue;
            };
            if let Some(resource) = resource_of(word, resource_words) {
                last_resource = Some(resource);
            }
            let starts_list = LIST_NOUNS.contains(&word.as_str())
                || (HAVING_VERBS.contains(&word.as_str())
                    && follows_resource(&sentence[..index], resource_words));
            if !starts_list {
                index += 1;
                continue;
            }
            let optional_list = matches!(
                index.checked_sub(1).map(|i| &sentence[i]),
                Some(Token::Word(before)) if before == "optional"
            );
            let (fields, end) = read_list(&sentence, index + 1, optional_list);
            mentions.extend(fields.into_iter().map(|field| Mention {
                resource: last_resource,
                field,
            }));
            index = end.max(index + 1);
        }
    }
    mentions
}

/// The fields of a named constraint, if its name says it lists fields:
/// `("fields", "sku, quantity:int")`, `("product fields", "name, price")`.
pub fn from_constraint(
    name: &str,
    value: &str,
    resource_words: &[(String, String)],
) -> Option<Vec<Mention>> {
    let name_words = words::tokenize(name);
    if !name_words
        .iter()
        .any(|w| LIST_NOUNS.contains(&w.as_str()) || w == "field")
    {
        return None;
    }
    let resource = name_words
        .iter()
        .find_map(|w| resource_of(w, resource_words));
    let optional = name_words.iter().any(|w| w == "optional");
    let mut mentions = Vec::new();
    for sentence in sentences(value) {
        let (fields, _) = read_list(&sentence, 0, optional);
        mentions.extend(fields.into_iter().map(|field| Mention { resource, field }));
    }
    Some(mentions)
}

/// Whether the words before a verb name a thing that has fields: a noun
/// phrase, past modal words, that contains a resource word ("each
/// inventory item has", "products with") or starts with "each" or "every"
/// ("every record must have"). Grammar or a technical word before the verb
/// ("a service with") is no such phrase.
fn follows_resource(before: &[Token], resource_words: &[(String, String)]) -> bool {
    let mut nouns = 0;
    for token in before.iter().rev() {
        let Token::Word(word) = token else {
            return false;
        };
        if nouns == 0 && MODAL_WORDS.contains(&word.as_str()) {
            continue;
        }
        if resource_of(word, resource_words).is_some() {
            return true;
        }
        if matches!(word.as_str(), "each" | "every") {
            return nouns > 0;
        }
        if words::is_prose_word(word) || nouns == MAX_FIELD_WORDS {
            return false;
        }
        nouns += 1;
    }
    false
}

/// Reads the list that starts at `start`; returns its fields and the index
/// where reading stopped.
fn read_list(sentence: &[Token], start: usize, optional_list: bool) -> (Vec<Field>, usize) {
    let mut index = start;
    // "has fields like", "fields such as the following".
    while let Some(Token::Word(word)) = sentence.get(index) {
        if LEAD_WORDS.contains(&word.as_str()) || LIST_NOUNS.contains(&word.as_str()) {
            index += 1;
        } else {
            break;
        }
    }

    let mut fields = Vec::new();
    let mut part: Vec<&str> = Vec::new();
    while index <= sentence.len() {
        let token = sentence.get(index);
        let separates = match token {
            None | Some(Token::Comma) => true,
            Some(Token::Word(word)) => LIST_SEPARATORS.contains(&word.as_str()),
        };
        if !separates {
            if let Some(Token::Word(word)) = token {
                part.push(word);
            }
            index += 1;
            continue;
        }
        match read_part(&part, optional_list) {
            Part::Field(field) => fields.push(field),
            Part::Empty => {}
            Part::Last(field) => {
                fields.push(field);
                return (fields, index);
            }
            Part::Prose => return (fields, index),
        }
        part.clear();
        index += 1;
    }
    (fields, index)
}

/// What one comma- or "and"-separated part of a list reads as.
enum Part {
    /// A field; the list goes on.
    Field(Field),
    /// Only fillers; the list goes on.
    Empty,
    /// A field followed by a connector: the list ends after it.
    Last(Field),
    /// Not a field: the list ends before it.
    Prose,
}

fn read_part(words_of_part: &[&str], optional_list: bool) -> Part {
    let mut required = None;
    let mut hint = None;
    let mut name: Vec<&str> = Vec::new();
    let mut connected = false;
    for &word in words_of_part {
        match word {
            "required" | "mandatory" => required = Some(true),
            "optional" => required = Some(false),
            _ if PART_FILLERS.contains(&word) && name.is_empty() => {}
            _ if !name.is_empty() && TYPE_HINTS.iter().any(|(w, _)| *w == word) => {
                hint = TYPE_HINTS
                    .iter()
                    .find(|(w, _)| *w == word)
                    .map(|(_, kind)| *kind);
            }
            _ if CONNECTORS.contains(&word) => {
                connected = true;
                break;
            }
            _ if hint.is_some() => {}
            _ => name.push(word),
        }
    }
    if name.is_empty() {
        return if connected { Part::Prose } else { Part::Empty };
    }
    // A verb of asking that qualifies a noun after it is part of a name
    // ("tracking number", "update time", "store name"), not prose.
    let readable = name.len() <= MAX_FIELD_WORDS
        && name.iter().enumerate().all(|(i, word)| {
            word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && (!words::is_prose_word(word)
                    || *word == "is"
                    || (words::is_asking_word(word) && i + 1 < name.len()))
        })
        && name.join("_").len() <= MAX_FIELD_NAME_LEN;
    if !readable {
        return Part::Prose;
    }
    if name.len() == 1 && RESERVED_FIELDS.contains(&name[0]) {
        return if connected { Part::Prose } else { Part::Empty };
    }
    // "a resolved flag" is the flag `resolved`.
    let flagged = name.len() > 1 && FLAG_WORDS.contains(name.last().expect("not empty"));
    if flagged {
        name.pop();
    }
    let kind = match hint {
        Some(kind) => kind,
        None if flagged => FieldKind::Boolean,
        None => FieldKind::infer(&name),
    };
    let mut field = Field::new(&name, kind);
    if let Some(required) = required {
        field.required = required;
    } else if optional_list {
        field.required = false;
    }
    if connected {
        Part::Last(field)
    } else {
        Part::Field(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_fields_name_gives_its_format_and_label() {
        let format = |name: &str| Field::new(&[name], FieldKind::Text).text_format();
        assert_eq!(format("email"), Some(TextFormat::Email));
        assert_eq!(format("website"), Some(TextFormat::Url));
        assert_eq!(format("phone"), Some(TextFormat::Phone));
        assert_eq!(format("message"), Some(TextFormat::Long));
        assert_eq!(format("title"), Some(TextFormat::Plain));
        let due = Field::new(&["due", "date"], FieldKind::Text);
        assert_eq!(due.text_format(), Some(TextFormat::Date));
        assert_eq!(due.label(), "Due date");
        let price = Field::new(&["unit", "price"], FieldKind::Number);
        assert_eq!(price.text_format(), None);
        assert_eq!(price.label(), "Unit price");
        assert_eq!(Field::new(&["sku"], FieldKind::Text).label(), "SKU");
    }

    fn resources(plurals: &[&str]) -> Vec<(String, String)> {
        plurals
            .iter()
            .map(|p| (words::singularize(p), (*p).to_string()))
            .collect()
    }

    fn names(mentions: &[Mention]) -> Vec<&str> {
        mentions.iter().map(|m| m.field.name.as_str()).collect()
    }

    #[test]
    fn a_having_sentence_lists_the_fields_of_its_resource() {
        let found = from_text(
            "Each item has a SKU, a name, a quantity and a warehouse location.",
            &resources(&["items"]),
        );
        assert_eq!(
            names(&found),
            ["sku", "name", "quantity", "warehouse_location"]
        );
        assert!(found.iter().all(|m| m.resource == Some(0)));
        assert_eq!(found[2].field.kind, FieldKind::Integer);
        assert!(found[2].field.non_negative);
        assert_eq!(found[3].field.kind, FieldKind::Text);
        assert!(found.iter().all(|m| m.field.required));
    }

    #[test]
    fn a_verb_qualifying_a_noun_is_part_of_the_field_name() {
        let found = from_text(
            "Each shipment has a tracking number, a weight and a destination",
            &resources(&["shipments"]),
        );
        assert_eq!(names(&found), ["tracking_number", "weight", "destination"]);
        // Alone, the verb is still prose and ends the list.
        let found = from_text(
            "Each shipment has a weight and tracking",
            &resources(&["shipments"]),
        );
        assert_eq!(names(&found), ["weight"]);
    }

    #[test]
    fn a_list_noun_starts_a_list_anywhere() {
        let found = from_text(
            "Store records with fields: title, unit price and is_active",
            &resources(&["books"]),
        );
        assert_eq!(names(&found), ["title", "unit_price", "is_active"]);
        assert_eq!(found[0].resource, None);
        assert_eq!(found[1].field.kind, FieldKind::Number);
        assert_eq!(found[2].field.kind, FieldKind::Boolean);
        assert!(!found[2].field.required, "a flag defaults to false");
    }

    #[test]
    fn a_connector_or_prose_ends_the_list() {
        let found = from_text(
            "Every order must have a customer name, a total in euros and a note that is shown",
            &resources(&["orders"]),
        );
        assert_eq!(names(&found), ["customer_name", "total"]);
        let found = from_text(
            "Products with name and price and JWT auth on every route",
            &resources(&["products"]),
        );
        assert_eq!(names(&found), ["name", "price"]);
    }

    #[test]
    fn a_having_verb_after_anything_but_a_resource_is_not_a_trigger() {
        assert!(
            from_text(
                "A service with PostgreSQL and tests",
                &resources(&["items"])
            )
            .is_empty()
        );
        assert!(
            from_text(
                "Create a Go API for notes with JWT auth",
                &resources(&["notes"])
            )
            .is_empty()
        );
    }

    #[test]
    fn fields_attach_to_the_nearest_resource_named_before_them() {
        let found = from_text(
            "Books have a title and an isbn; authors have a full name and a birth year",
            &resources(&["books", "authors"]),
        );
        let by_resource: Vec<(Option<usize>, &str)> = found
            .iter()
            .map(|m| (m.resource, m.field.name.as_str()))
            .collect();
        assert_eq!(
            by_resource,
            [
                (Some(0), "title"),
                (Some(0), "isbn"),
                (Some(1), "full_name"),
                (Some(1), "birth_year")
            ]
        );
        assert_eq!(found[3].field.kind, FieldKind::Integer);
    }

    #[test]
    fn required_optional_and_type_hints_are_read() {
        let found = from_text(
            "Tasks have a title (required), optional notes, a weight float and a priority",
            &resources(&["tasks"]),
        );
        assert_eq!(names(&found), ["title", "notes", "weight", "priority"]);
        assert!(found[0].field.required);
        assert!(!found[1].field.required);
        assert_eq!(found[2].field.kind, FieldKind::Number);
        assert_eq!(found[3].field.kind, FieldKind::Integer);
    }

    #[test]
    fn a_word_followed_by_flag_is_a_boolean() {
        let found = from_text(
            "Each ticket has a title and a resolved flag",
            &resources(&["tickets"]),
        );
        assert_eq!(names(&found), ["title", "resolved"]);
        assert_eq!(found[1].field.kind, FieldKind::Boolean);
    }

    #[test]
    fn id_and_password_are_never_fields() {
        let found = from_text(
            "Users have an id, an email and a password",
            &resources(&["users"]),
        );
        assert_eq!(names(&found), ["email"]);
    }

    #[test]
    fn a_fields_constraint_is_a_list_with_type_hints() {
        let all = resources(&["products", "orders"]);
        let found =
            from_constraint("order fields", "reference, quantity:int, paid", &all).expect("a list");
        assert_eq!(names(&found), ["reference", "quantity", "paid"]);
        assert!(found.iter().all(|m| m.resource == Some(1)));
        assert_eq!(found[2].field.kind, FieldKind::Boolean);
        assert!(from_constraint("database", "PostgreSQL", &all).is_none());
        let optional = from_constraint("optional fields", "notes, tags", &all).expect("a list");
        assert!(optional.iter().all(|m| !m.field.required));
    }

    #[test]
    fn example_values_are_quoted_text_or_literals_and_change_for_updates() {
        let quote = |text: &str| format!("'{text}'");
        let price = Field::new(&["unit", "price"], FieldKind::Text);
        assert_eq!(price.example_value(false, quote), "'example unit price'");
        assert_eq!(price.example_value(true, quote), "'changed unit price'");
        let count = Field::new(&["count"], FieldKind::Integer);
        assert_eq!(
            (
                count.example_value(false, quote),
                count.example_value(true, quote)
            ),
            ("3".to_string(), "7".to_string())
        );
    }

    #[test]
    fn signed_measures_may_be_negative() {
        let found = from_text(
            "Sites have a latitude, a longitude and a height",
            &resources(&["sites"]),
        );
        let signed: Vec<bool> = found.iter().map(|m| m.field.non_negative).collect();
        assert_eq!(signed, [false, false, true]);
    }
}
