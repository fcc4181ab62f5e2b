//! Reading an intent into the [`Site`] of a landing page: its title, the
//! sections it has, the text each section opens with, and the fields of
//! its contact form.
//!
//! - The title is the value of a `name`, `site`, `business`, `company`,
//!   `brand` or `project` constraint as written; else the words after the
//!   first "for" in the description ("a landing page for Sunny Side
//!   Bakery" gives "Sunny Side Bakery"), up to a word that starts a new
//!   phrase ("with", "and", "that"...); else [`FALLBACK_TITLE`].
//! - Sections come from a vocabulary of what landing pages have (about,
//!   services, menu, pricing, opening hours...), matched as whole words in
//!   the description and requirements, and from the intent's other
//!   resources ("classes", "teachers"), in the order they first appear.
//!   "About" is always first and "Contact" always last; at most
//!   [`MAX_SECTIONS`].
//! - A section opens with the requirements that mention it, else a short
//!   default sentence that says what to write there.
//! - The contact form's fields are those the text names for a form or a
//!   contact ("a contact form with name, email and message"), or a
//!   `contact fields`/`form fields`/`fields` constraint; else name, email
//!   and message. At most [`MAX_CONTACT_FIELDS`].
//!
//! Reading is deterministic: the same intent always gives the same site.

use qlp_intent_spec::fields::{self, Mention};
use qlp_intent_spec::spec::FALLBACK_RESOURCE;
use qlp_intent_spec::words::{self, WEAK_RESOURCES};
use qlp_intent_spec::{Field, FieldKind, IntentSpec};
use qlp_sdk::Intent;

/// Most sections besides the hero. A landing page is one screenful per
/// section; more is a multi-page site, which this agent does not make.
pub const MAX_SECTIONS: usize = 8;

/// Most fields of the contact form. Every extra field loses visitors, and
/// longer lists are usually prose read as a list.
pub const MAX_CONTACT_FIELDS: usize = 8;

/// Most words of a title read from the description; more is a sentence.
pub const MAX_TITLE_WORDS: usize = 4;

/// The title when the intent gives none.
pub const FALLBACK_TITLE: &str = "Welcome";

/// Constraint names whose value is the site's title.
const TITLE_CONSTRAINTS: &[&str] = &[
    "brand", "business", "company", "name", "project", "site", "title",
];

/// Words that end a title read after "for".
const TITLE_STOPS: &[&str] = &[
    "and",
    "featuring",
    "for",
    "in",
    "including",
    "on",
    "showing",
    "that",
    "to",
    "using",
    "where",
    "which",
    "who",
    "with",
];

/// Words skipped at the start of a title: "for a small bakery".
const TITLE_FILLERS: &[&str] = &[
    "a", "an", "my", "new", "our", "simple", "single", "small", "static", "the", "their", "your",
];

/// Words that describe the page rather than name what it is for.
const PAGE_WORDS: &[&str] = &[
    "css",
    "html",
    "javascript",
    "js",
    "landing",
    "page",
    "site",
    "static",
    "web",
    "webpage",
    "website",
];

/// A kind of section landing pages have: its id, heading, the words that
/// ask for it, and the sentence it opens with when no requirement says
/// more (`{title}` is the site's title).
struct SectionKind {
    id: &'static str,
    heading: &'static str,
    words: &'static [&'static str],
    default_text: &'static str,
}

/// The sections the agent knows, besides the intent's own resources.
const SECTION_KINDS: &[SectionKind] = &[
    SectionKind {
        id: "about",
        heading: "About",
        words: &["about", "story", "mission", "history"],
        default_text: "Who {title} is, what it does and for whom.",
    },
    SectionKind {
        id: "services",
        heading: "Services",
        words: &["service", "services", "offerings"],
        default_text: "What {title} offers, one short paragraph per service.",
    },
    SectionKind {
        id: "menu",
        heading: "Menu",
        words: &["menu", "menus", "dishes"],
        default_text: "The dishes and drinks on offer, with their prices.",
    },
    SectionKind {
        id: "products",
        heading: "Products",
        words: &["product", "products", "shop", "catalog", "catalogue"],
        default_text: "The products {title} sells, with what makes each one worth it.",
    },
    SectionKind {
        id: "features",
        heading: "Features",
        words: &["feature", "features", "benefits"],
        default_text: "What sets {title} apart, one line per feature.",
    },
    SectionKind {
        id: "pricing",
        heading: "Pricing",
        words: &["pricing", "prices", "plans", "packages", "rates"],
        default_text: "The plans and what each costs.",
    },
    SectionKind {
        id: "portfolio",
        heading: "Portfolio",
        words: &["portfolio", "projects", "work", "case"],
        default_text: "A selection of work, with what each project achieved.",
    },
    SectionKind {
        id: "gallery",
        heading: "Gallery",
        words: &["gallery", "photos", "pictures", "images"],
        default_text: "Photos of {title}, each with a description.",
    },
    SectionKind {
        id: "team",
        heading: "Team",
        words: &["team", "staff", "people", "founders"],
        default_text: "The people behind {title}.",
    },
    SectionKind {
        id: "testimonials",
        heading: "Testimonials",
        words: &["testimonials", "reviews", "testimonial", "quotes"],
        default_text: "What customers say about {title}.",
    },
    SectionKind {
        id: "events",
        heading: "Events",
        words: &["events", "event", "schedule", "calendar"],
        default_text: "What is coming up, with dates and places.",
    },
    SectionKind {
        id: "news",
        heading: "News",
        words: &["news", "blog", "updates", "announcements"],
        default_text: "The latest from {title}.",
    },
    SectionKind {
        id: "faq",
        heading: "Frequently asked questions",
        words: &["faq", "faqs", "questions"],
        default_text: "Answers to the questions visitors ask most.",
    },
    SectionKind {
        id: "hours",
        heading: "Opening hours",
        words: &["hours", "opening", "open"],
        default_text: "When {title} is open, day by day.",
    },
    SectionKind {
        id: "location",
        heading: "Location",
        words: &["location", "address", "directions", "map", "visit"],
        default_text: "Where to find {title} and how to get there.",
    },
];

/// The contact section, always last.
const CONTACT: SectionKind = SectionKind {
    id: "contact",
    heading: "Contact",
    words: &["contact", "enquiry", "enquiries", "inquiry", "inquiries"],
    default_text: "Write to {title} with the form below; every field marked required must be filled in.",
};

/// Words that name the contact form for the field reading, as
/// (singular, plural) resource words.
const FORM_WORDS: &[(&str, &str)] = &[("form", "forms"), ("contact", "contacts")];

/// One section of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The element id and the link target: `about`, `opening-hours`.
    pub id: String,
    /// The `h2` heading.
    pub heading: String,
    /// The paragraphs it opens with.
    pub paragraphs: Vec<String>,
}

/// What the landing page contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The site's name: the `h1`, the `<title>` and the brand link.
    pub title: String,
    /// The project's name: lower-case letters, digits and `-`.
    pub name: String,
    /// The intent's description, trimmed: the page's lead paragraph.
    pub description: String,
    /// The sections after the hero, "About" first and "Contact" last.
    pub sections: Vec<Section>,
    /// The contact form's fields, at least one required.
    pub contact_fields: Vec<Field>,
    /// The intent's requirements, for the README.
    pub requirements: Vec<String>,
}

/// Reads the site of an intent whose spec is `spec`.
pub fn read_site(intent: &Intent, spec: &IntentSpec) -> Site {
    let title = title(intent, spec);
    let texts: Vec<&str> = std::iter::once(spec.description.as_str())
        .chain(spec.requirements.iter().map(String::as_str))
        .collect();
    let sections = sections(spec, &texts, &title);
    Site {
        name: name(intent, spec, &title),
        title,
        description: spec.description.clone(),
        sections,
        contact_fields: contact_fields(intent, &texts),
        requirements: spec.requirements.clone(),
    }
}

/// A constraint's value if its name is all title words.
fn named_title(intent: &Intent) -> Option<String> {
    intent.constraints.iter().find_map(|(name, value)| {
        let name_words = words::tokenize(name);
        let is_title = !name_words.is_empty()
            && name_words
                .iter()
                .all(|w| TITLE_CONSTRAINTS.contains(&w.as_str()));
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        (is_title && !value.is_empty()).then_some(value)
    })
}

fn title(intent: &Intent, spec: &IntentSpec) -> String {
    if let Some(named) = named_title(intent) {
        return named;
    }
    let tokens = words::tokenize(&spec.description);
    let Some(start) = tokens.iter().position(|t| t == "for") else {
        return FALLBACK_TITLE.into();
    };
    let title_words: Vec<String> = tokens[start + 1..]
        .iter()
        .skip_while(|t| TITLE_FILLERS.contains(&t.as_str()))
        .take_while(|t| !TITLE_STOPS.contains(&t.as_str()) && !PAGE_WORDS.contains(&t.as_str()))
        .take(MAX_TITLE_WORDS)
        .map(|t| words::capitalize(t))
        .collect();
    if title_words.is_empty() {
        FALLBACK_TITLE.into()
    } else {
        title_words.join(" ")
    }
}

/// The project's name: the spec's when a constraint names the project
/// (`("project name", "...")`, read as `qlp-intent-spec` reads it), else
/// the title's words with `-site`.
fn name(intent: &Intent, spec: &IntentSpec, title: &str) -> String {
    let named = intent.constraints.iter().any(|(name, _)| {
        let name_words = words::tokenize(name);
        !name_words.is_empty()
            && name_words.iter().all(|w| {
                matches!(
                    w.as_str(),
                    "module" | "name" | "package" | "project" | "service"
                )
            })
    });
    if named && !spec.name.is_empty() {
        return spec.name.clone();
    }
    let mut slug = words::tokenize(title);
    slug.push("site".into());
    let mut name: String = slug
        .join("-")
        .trim_start_matches(|c: char| !c.is_ascii_lowercase())
        .chars()
        .take(qlp_intent_spec::spec::MAX_NAME_LEN)
        .collect();
    while name.ends_with('-') {
        name.pop();
    }
    name
}

/// The index of the first token that is one of `wanted`.
fn first_position(tokens: &[String], wanted: &[&str]) -> Option<usize> {
    tokens.iter().position(|t| wanted.contains(&t.as_str()))
}

fn sections(spec: &IntentSpec, texts: &[&str], title: &str) -> Vec<Section> {
    let tokens: Vec<String> = texts.iter().flat_map(|t| words::tokenize(t)).collect();
    // (position of first mention, id, heading, words, default text)
    let mut found: Vec<(usize, String, String, Vec<String>, String)> = Vec::new();
    for kind in SECTION_KINDS {
        if let Some(position) = first_position(&tokens, kind.words) {
            found.push((
                position,
                kind.id.to_string(),
                kind.heading.to_string(),
                kind.words.iter().map(|w| w.to_string()).collect(),
                kind.default_text.replace("{title}", title),
            ));
        }
    }
    let known: Vec<&str> = SECTION_KINDS
        .iter()
        .chain(std::iter::once(&CONTACT))
        .flat_map(|k| k.words.iter().copied())
        .collect();
    let title_words = words::tokenize(title);
    for resource in &spec.resources {
        let plural = resource.plural.as_str();
        let skip = plural == FALLBACK_RESOURCE
            || WEAK_RESOURCES.contains(&plural)
            || known.contains(&plural)
            || known.contains(&resource.singular.as_str())
            || title_words
                .iter()
                .any(|w| *w == resource.singular || w == plural)
            || PAGE_WORDS.contains(&resource.singular.as_str());
        if skip {
            continue;
        }
        let position = first_position(&tokens, &[plural]).unwrap_or(usize::MAX);
        found.push((
            position,
            plural.replace('_', "-"),
            words::capitalize(&words::spaced(plural)),
            vec![plural.to_string(), resource.singular.clone()],
            format!("The {} of {title}, one by one.", words::spaced(plural)),
        ));
    }
    found.sort_by_key(|(position, ..)| *position);
    if !found.iter().any(|(_, id, ..)| id == "about") {
        let about = &SECTION_KINDS[0];
        found.insert(
            0,
            (
                0,
                about.id.into(),
                about.heading.into(),
                about.words.iter().map(|w| w.to_string()).collect(),
                about.default_text.replace("{title}", title),
            ),
        );
    } else {
        // "About" goes first wherever it was mentioned.
        let index = found
            .iter()
            .position(|(_, id, ..)| id == "about")
            .unwrap_or(0);
        let about = found.remove(index);
        found.insert(0, about);
    }
    found.truncate(MAX_SECTIONS - 1);
    found.push((
        usize::MAX,
        CONTACT.id.into(),
        CONTACT.heading.into(),
        CONTACT.words.iter().map(|w| w.to_string()).collect(),
        CONTACT.default_text.replace("{title}", title),
    ));

    found
        .into_iter()
        .map(|(_, id, heading, section_words, default_text)| {
            let paragraphs: Vec<String> = texts[1..]
                .iter()
                .filter(|text| {
                    words::tokenize(text)
                        .iter()
                        .any(|t| section_words.contains(t))
                })
                .map(|text| sentence(text))
                .collect();
            Section {
                id,
                heading,
                paragraphs: if paragraphs.is_empty() {
                    vec![default_text]
                } else {
                    paragraphs
                },
            }
        })
        .collect()
}

/// A requirement as a sentence: one line, capitalized, with a full stop.
fn sentence(text: &str) -> String {
    let mut line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(first) = line.chars().next() {
        let upper: String = first.to_uppercase().collect();
        line.replace_range(..first.len_utf8(), &upper);
    }
    if !line.ends_with(['.', '!', '?']) {
        line.push('.');
    }
    line
}

fn contact_fields(intent: &Intent, texts: &[&str]) -> Vec<Field> {
    let resource_words: Vec<(String, String)> = FORM_WORDS
        .iter()
        .map(|(s, p)| (s.to_string(), p.to_string()))
        .collect();
    let mut mentions: Vec<Mention> = Vec::new();
    for text in texts {
        mentions.extend(
            fields::from_text(text, &resource_words)
                .into_iter()
                .filter(|m| m.resource.is_some()),
        );
    }
    for (name, value) in &intent.constraints {
        if let Some(found) = fields::from_constraint(name, value, &resource_words) {
            mentions.extend(found);
        }
    }
    let mut fields: Vec<Field> = Vec::new();
    for mention in mentions {
        if fields.len() < MAX_CONTACT_FIELDS && !fields.iter().any(|f| f.name == mention.field.name)
        {
            fields.push(mention.field);
        }
    }
    if fields.is_empty() {
        let message = Field::new(&["message"], FieldKind::Text);
        return vec![
            Field::new(&["name"], FieldKind::Text),
            Field::new(&["email"], FieldKind::Text),
            message,
        ];
    }
    if !fields.iter().any(|f| f.required) {
        fields[0].required = true;
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_intent_spec::analyze;

    fn site(description: &str, requirements: &[&str], constraints: &[(&str, &str)]) -> Site {
        let intent = Intent {
            id: "00000000-0000-0000-0000-000000000000".into(),
            description: description.into(),
            requirements: requirements.iter().map(|r| r.to_string()).collect(),
            constraints: constraints
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            tier: "standard".into(),
        };
        read_site(&intent, &analyze(&intent).expect("valid"))
    }

    fn ids(site: &Site) -> Vec<&str> {
        site.sections.iter().map(|s| s.id.as_str()).collect()
    }

    fn field_names(site: &Site) -> Vec<&str> {
        site.contact_fields
            .iter()
            .map(|f| f.name.as_str())
            .collect()
    }

    #[test]
    fn the_bakery_page_has_its_sections_in_order_and_its_form_fields() {
        let bakery = site(
            "A static landing page for Sunny Side Bakery with our menu, opening hours and a \
             contact form with name, email, phone and message",
            &["Show the opening hours from Monday to Saturday"],
            &[],
        );
        assert_eq!(bakery.title, "Sunny Side Bakery");
        assert_eq!(bakery.name, "sunny-side-bakery-site");
        assert_eq!(ids(&bakery), ["about", "menu", "hours", "contact"]);
        assert_eq!(
            bakery.sections[2].paragraphs,
            ["Show the opening hours from Monday to Saturday."]
        );
        assert_eq!(field_names(&bakery), ["name", "email", "phone", "message"]);
    }

    #[test]
    fn a_named_constraint_is_the_title_and_resources_become_sections() {
        let studio = site(
            "Landing page for a yoga studio with classes, teachers and testimonials",
            &[],
            &[("business name", "Still Water Yoga")],
        );
        assert_eq!(studio.title, "Still Water Yoga");
        assert_eq!(studio.name, "still-water-yoga-site");
        assert_eq!(
            ids(&studio),
            ["about", "classes", "teachers", "testimonials", "contact"]
        );
    }

    #[test]
    fn without_anything_named_the_page_has_about_and_contact_with_default_fields() {
        let plain = site("A static page", &[], &[]);
        assert_eq!(plain.title, FALLBACK_TITLE);
        assert_eq!(ids(&plain), ["about", "contact"]);
        assert_eq!(field_names(&plain), ["name", "email", "message"]);
        assert!(plain.contact_fields.iter().all(|f| f.required));
    }

    #[test]
    fn sections_are_capped() {
        let many = site(
            "Landing page for Acme with about, services, menu, products, features, pricing, \
             portfolio, gallery, team and testimonials",
            &[],
            &[],
        );
        assert_eq!(many.sections.len(), MAX_SECTIONS);
        assert_eq!(many.sections.last().map(|s| s.id.as_str()), Some("contact"));
    }

    #[test]
    fn form_fields_come_from_a_constraint_too() {
        let form = site(
            "A landing page for Acme",
            &[],
            &[(
                "contact fields",
                "name, company, budget:float, optional phone",
            )],
        );
        assert_eq!(field_names(&form), ["name", "company", "budget", "phone"]);
        assert_eq!(form.contact_fields[2].kind, FieldKind::Number);
    }
}
