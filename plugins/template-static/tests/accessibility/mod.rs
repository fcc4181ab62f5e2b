//! Accessibility rules checked on a generated page, by parsing its HTML
//! with an HTML5 parser (`scraper`). vnu checks that the markup is valid;
//! these rules check what valid markup may still get wrong for people
//! using a keyboard or a screen reader. Each rule is in [`RULES`], in the
//! words the generated README uses, and [`check`] reports every breach.

use std::collections::{BTreeMap, BTreeSet};

use scraper::{ElementRef, Html, Selector};

/// The rules, as the generated README lists them.
pub const RULES: &[&str] = &[
    "the document declares its language (<html lang>), has a <title>, and its viewport allows zooming",
    "exactly one <h1>, and headings never skip a level",
    "one <header>, one labelled <nav>, one <main> and one <footer>; every <section> is named by a heading",
    "the first focusable element is a skip link to <main>",
    "every image has alt text",
    "every form control has a label, and required controls say so in it",
    "every link and button has a name",
    "ids are unique and every id reference (href=\"#...\", for, aria-*) resolves",
];

fn select<'a>(document: &'a Html, selector: &str) -> Vec<ElementRef<'a>> {
    let parsed = Selector::parse(selector).expect("a valid selector");
    document.select(&parsed).collect()
}

/// An element's text, whitespace collapsed.
fn text_of(element: &ElementRef<'_>) -> String {
    element
        .text()
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn attr<'a>(element: &ElementRef<'a>, name: &str) -> Option<&'a str> {
    element.value().attr(name)
}

/// Whether an element has a name of its own: text, or a non-empty
/// `aria-label`, or an `aria-labelledby` naming elements.
fn has_name(element: &ElementRef<'_>) -> bool {
    !text_of(element).is_empty()
        || attr(element, "aria-label").is_some_and(|l| !l.trim().is_empty())
        || attr(element, "aria-labelledby").is_some_and(|l| !l.trim().is_empty())
}

/// Every breach of [`RULES`] in the page `html`, in words; empty when the
/// page keeps them all.
pub fn check(html: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let mut problems = Vec::new();

    // Ids, for the reference checks.
    let mut ids: BTreeMap<String, ElementRef<'_>> = BTreeMap::new();
    let mut duplicates = BTreeSet::new();
    for element in select(&document, "[id]") {
        let id = attr(&element, "id").unwrap_or_default().to_string();
        if ids.insert(id.clone(), element).is_some() {
            duplicates.insert(id);
        }
    }
    for id in &duplicates {
        problems.push(format!("duplicate id {id:?}"));
    }

    // Language, title, zoom.
    let lang = select(&document, "html")
        .first()
        .and_then(|html| attr(html, "lang"))
        .unwrap_or_default()
        .trim()
        .to_string();
    if lang.is_empty() {
        problems.push("<html> has no lang".into());
    }
    if select(&document, "head > title")
        .first()
        .is_none_or(|title| text_of(title).is_empty())
    {
        problems.push("no <title>".into());
    }
    for meta in select(&document, "meta[name=viewport]") {
        let content = attr(&meta, "content").unwrap_or_default().replace(' ', "");
        if content.contains("user-scalable=no") || content.contains("maximum-scale=1") {
            problems.push(format!("the viewport prevents zooming: {content}"));
        }
    }

    // Headings.
    let headings = select(&document, "h1, h2, h3, h4, h5, h6");
    let h1_count = headings.iter().filter(|h| h.value().name() == "h1").count();
    if h1_count != 1 {
        problems.push(format!("{h1_count} <h1> elements instead of one"));
    }
    let mut previous = 0;
    for heading in &headings {
        let level = heading.value().name()[1..].parse::<u32>().expect("h1..h6");
        if level > previous + 1 {
            problems.push(format!(
                "heading {:?} skips from level {previous} to {level}",
                text_of(heading)
            ));
        }
        if text_of(heading).is_empty() {
            problems.push(format!("an empty <h{level}>"));
        }
        previous = level;
    }

    // Landmarks.
    for (selector, wanted) in [
        ("main", "one <main>"),
        ("body > header", "one <header> outside <main>"),
        ("body > footer", "one <footer> outside <main>"),
        ("nav", "one <nav>"),
    ] {
        if select(&document, selector).len() != 1 {
            problems.push(format!("not {wanted}"));
        }
    }
    for nav in select(&document, "nav") {
        if attr(&nav, "aria-label").is_none_or(|l| l.trim().is_empty())
            && attr(&nav, "aria-labelledby").is_none()
        {
            problems.push("a <nav> without a label".into());
        }
    }
    for section in select(&document, "section") {
        let named_by_heading = attr(&section, "aria-labelledby")
            .and_then(|id| ids.get(id))
            .is_some_and(|target| target.value().name().starts_with('h'));
        if !named_by_heading {
            problems.push(format!(
                "section {:?} is not named by a heading",
                attr(&section, "id").unwrap_or_default()
            ));
        }
    }

    // Skip link: the first focusable element leads to <main>.
    let main_id = select(&document, "main")
        .first()
        .and_then(|main| attr(main, "id"))
        .map(str::to_string);
    let first_focusable = select(&document, "a[href], button, input, textarea, select")
        .into_iter()
        .find(|e| attr(e, "hidden").is_none());
    let skips_to_main = match (&first_focusable, &main_id) {
        (Some(first), Some(main_id)) => {
            first.value().name() == "a"
                && attr(first, "href") == Some(&format!("#{main_id}"))
                && has_name(first)
        }
        _ => false,
    };
    if !skips_to_main {
        problems.push("the first focusable element is not a skip link to <main>".into());
    }

    // Images.
    for image in select(&document, "img") {
        if attr(&image, "alt").is_none_or(|alt| alt.trim().is_empty()) {
            problems.push(format!(
                "image {:?} without alt text",
                attr(&image, "src").unwrap_or_default()
            ));
        }
    }

    // Form controls.
    let labels = select(&document, "label[for]");
    for control in select(&document, "input, textarea, select") {
        let kind = attr(&control, "type").unwrap_or("text");
        if matches!(kind, "hidden" | "submit" | "button" | "reset") {
            continue;
        }
        let id = attr(&control, "id").unwrap_or_default();
        let label = labels
            .iter()
            .find(|label| !id.is_empty() && attr(label, "for") == Some(id));
        let label_text = label.map(text_of).unwrap_or_default();
        if label_text.is_empty() && !has_name(&control) {
            problems.push(format!("control {:?} has no label", attr(&control, "name")));
        }
        if attr(&control, "required").is_some() && !label_text.to_lowercase().contains("required") {
            problems.push(format!(
                "required control {id:?} does not say so in its label"
            ));
        }
    }

    // Links and buttons.
    for element in select(&document, "a, button") {
        if !has_name(&element) {
            problems.push(format!("a <{}> without a name", element.value().name()));
        }
    }

    // References.
    for (selector, attribute) in [
        ("a[href^='#']", "href"),
        ("label[for]", "for"),
        ("[aria-labelledby]", "aria-labelledby"),
        ("[aria-describedby]", "aria-describedby"),
        ("[aria-controls]", "aria-controls"),
    ] {
        for element in select(&document, selector) {
            let value = attr(&element, attribute).unwrap_or_default();
            let targets: Vec<&str> = if attribute == "href" {
                vec![&value[1..]]
            } else {
                value.split_whitespace().collect()
            };
            for target in targets {
                if !target.is_empty() && !ids.contains_key(target) {
                    problems.push(format!("{attribute}={value:?} points to no element"));
                }
            }
        }
    }

    problems
}

#[test]
fn a_page_breaking_each_rule_is_reported() {
    let broken = "<!doctype html><html><head></head><body>\
        <main><h2>Late</h2><h4>Skipped</h4><section id=\"s\"><p>x</p></section>\
        <img src=\"a.png\"><input id=\"q\" required><a href=\"#nowhere\"></a>\
        <p id=\"d\"></p><p id=\"d\"></p></main></body></html>";
    let problems = check(broken).join("\n");
    for expected in [
        "<html> has no lang",
        "no <title>",
        "0 <h1> elements",
        "skips from level 2 to 4",
        "not one <header>",
        "not one <nav>",
        "is not named by a heading",
        "skip link",
        "without alt text",
        "has no label",
        "does not say so",
        "a <a> without a name",
        "points to no element",
        "duplicate id",
    ] {
        assert!(problems.contains(expected), "{expected} in:\n{problems}");
    }
    assert_eq!(RULES.len(), 8);
}
