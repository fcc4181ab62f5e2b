//! Tests of the YAML reader.

use super::{Node, documents};

#[test]
fn the_yaml_reader_keeps_structure_and_lines() {
    let docs = documents(
        "a: 1\nb:\n  - x\n  - name: y  # comment\n    value: 'q: #1'\nc:\n- 2\nd: [p, \"r\"]\ne: |\n  text\n  more\nf: {k: v}\n---\ng: true\n",
    );
    assert_eq!(docs.len(), 2);
    assert!(docs[1].get("a").is_none(), "documents are separate");
    let doc = &docs[0];
    assert_eq!(doc.get("a").and_then(Node::as_str), Some("1"));
    let b = doc.get("b").unwrap().items();
    assert_eq!(b[0].0.as_str(), Some("x"));
    assert_eq!(b[1].0.get("name").and_then(Node::as_str), Some("y"));
    assert_eq!(b[1].0.get("value").and_then(Node::as_str), Some("q: #1"));
    assert_eq!((b[0].1, b[1].1), (3, 4));
    assert_eq!(doc.get("c").unwrap().items()[0].0.as_str(), Some("2"));
    let d: Vec<&str> = doc
        .get("d")
        .unwrap()
        .items()
        .iter()
        .filter_map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(d, ["p", "r"]);
    assert_eq!(doc.path(&["f", "k"]).and_then(Node::as_str), Some("v"));
    assert_eq!(doc.line_of("f"), Some(12));
    assert!(docs[1].get("g").is_some_and(Node::is_true));
}

#[test]
fn truncated_and_mangled_documents_never_panic() {
    let text = "services:\n  web:\n    image: \"nginx:1\n    ports: [\"80:80\", {a: b\n    - x: |\n      y\n  - 'q\n---\n:\n- - - :\n\t\u{feff}é: [\n";
    for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
        for doc in documents(&text[..end]) {
            let _ = doc.path(&["services", "web", "image"]);
            let _ = doc.line_of("services");
        }
    }
}
