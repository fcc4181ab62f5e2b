//! Spelling the spec's names as Java: identifiers that are never a
//! reserved word, class names that never clash with a class the project
//! defines or imports, the package name, and string literals.
//!
//! Go's agent only has to avoid its own type names, because Go fields are
//! capitalized; Java fields are `camelCase`, so a field read as `class`,
//! `default` or `new` must be renamed (`classValue`), while its JSON name
//! stays what the intent said.

use qlp_intent_spec::words;

/// Java's reserved words, its literals and the restricted identifiers of
/// Java 17 (`var`, `record`, `yield`, ...), none of which may name a
/// field, a method or a package segment.
pub const KEYWORDS: &[&str] = &[
    "_",
    "abstract",
    "assert",
    "boolean",
    "break",
    "byte",
    "case",
    "catch",
    "char",
    "class",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "exports",
    "extends",
    "false",
    "final",
    "finally",
    "float",
    "for",
    "goto",
    "if",
    "implements",
    "import",
    "instanceof",
    "int",
    "interface",
    "long",
    "module",
    "native",
    "new",
    "non-sealed",
    "null",
    "open",
    "opens",
    "package",
    "permits",
    "private",
    "protected",
    "provides",
    "public",
    "record",
    "requires",
    "return",
    "sealed",
    "short",
    "static",
    "strictfp",
    "super",
    "switch",
    "synchronized",
    "this",
    "throw",
    "throws",
    "to",
    "transient",
    "transitive",
    "true",
    "try",
    "uses",
    "var",
    "void",
    "volatile",
    "while",
    "with",
    "yield",
];

/// Class names a model must not take: the project's own classes, the
/// `java.lang` classes the code uses unqualified, and the classes it
/// imports from `java.util`, `java.time` and Spring, whose single-type
/// imports would clash with a model of the same name.
pub const RESERVED_TYPE_NAMES: &[&str] = &[
    // The project's classes, and the first words of those a model's name
    // would complete (`Health` + `Controller`, `Auth` + `Service`).
    "ApiExceptionHandler",
    "Application",
    "Auth",
    "AuthController",
    "AuthService",
    "AuthSettings",
    "BearerTokenFilter",
    "BodyReader",
    "Health",
    "HealthController",
    "InMemoryRepository",
    "Input",
    "Jwt",
    "NotFoundException",
    "Repositories",
    "Repository",
    "ServiceConfiguration",
    "ValidationException",
    // java.lang.
    "Boolean",
    "Byte",
    "Character",
    "Class",
    "Comparable",
    "Double",
    "Enum",
    "Error",
    "Exception",
    "Float",
    "IllegalStateException",
    "Integer",
    "Iterable",
    "Long",
    "Math",
    "Module",
    "Number",
    "Object",
    "Override",
    "Package",
    "Process",
    "Record",
    "Runtime",
    "Short",
    "String",
    "StringBuilder",
    "System",
    "Thread",
    "Throwable",
    "Void",
    // java.util, java.time and java.util.function.
    "ArrayList",
    "Arrays",
    "Function",
    "Instant",
    "LinkedHashMap",
    "List",
    "Locale",
    "LongFunction",
    "Map",
    "Optional",
    "Set",
    "TreeMap",
    // JUnit and Spring.
    "Autowired",
    "Bean",
    "Component",
    "Configuration",
    "DeleteMapping",
    "DirtiesContext",
    "Environment",
    "GetMapping",
    "HttpStatus",
    "Import",
    "MediaType",
    "MockMvc",
    "PathVariable",
    "PostMapping",
    "PutMapping",
    "RequestBody",
    "RequestMapping",
    "ResponseEntity",
    "ResponseStatus",
    "RestController",
    "Test",
];

/// Suffix added to a model name that would clash with a reserved one.
pub const TYPE_NAME_SUFFIX: &str = "Record";

/// Methods of the generated records and of `Object`; a field must not take
/// their name, since a record component gets an accessor of its own name.
pub const RESERVED_MEMBER_NAMES: &[&str] = &[
    "clone",
    "equals",
    "finalize",
    "getClass",
    "hashCode",
    "inMemory",
    "notify",
    "notifyAll",
    "parse",
    "toJson",
    "toString",
    "wait",
    "withId",
];

/// Suffix added to a field or member name that would be a keyword or clash.
pub const MEMBER_NAME_SUFFIX: &str = "Value";

/// A name that starts with a letter: the spec's names do, but an
/// identifier must, so one that does not gets a prefix.
fn starting_with_letter(name: String, prefix: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name
    } else {
        format!("{prefix}{name}")
    }
}

/// The `camelCase` member name of a `snake_case` name: `unit_price` →
/// `unitPrice`, `class` → `classValue`.
pub fn member_name(snake: &str) -> String {
    let mut name = starting_with_letter(words::camel_case(snake), "field");
    if KEYWORDS.contains(&name.as_str()) || RESERVED_MEMBER_NAMES.contains(&name.as_str()) {
        name.push_str(MEMBER_NAME_SUFFIX);
    }
    name
}

/// The class name of a singular: `invoice` → `Invoice`, `config` stays,
/// `repository` → `RepositoryRecord`.
pub fn type_name(singular: &str) -> String {
    let mut name = starting_with_letter(words::pascal_case(singular), "Model");
    if RESERVED_TYPE_NAMES.contains(&name.as_str()) {
        name.push_str(TYPE_NAME_SUFFIX);
    }
    name
}

/// The group every generated project's package lives under.
pub const PACKAGE_GROUP: &str = "com.example";

/// The base package of a project name: `city-library` →
/// `com.example.citylibrary`; a segment that is a keyword gets `app`.
pub fn package_name(project: &str) -> String {
    let mut segment: String = project
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    segment = starting_with_letter(segment, "app");
    if KEYWORDS.contains(&segment.as_str()) {
        segment.push_str("app");
    }
    format!("{PACKAGE_GROUP}.{segment}")
}

/// A Java string literal; the spec's names and the example values are
/// plain ASCII, but quotes, backslashes and control characters are escaped
/// all the same.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for an XML element's content or attribute.
pub fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_clashing_members_are_renamed() {
        assert_eq!(member_name("unit_price"), "unitPrice");
        assert_eq!(member_name("class"), "classValue");
        assert_eq!(member_name("default"), "defaultValue");
        assert_eq!(member_name("record"), "recordValue");
        assert_eq!(member_name("to_json"), "toJsonValue");
        assert_eq!(member_name("2nd_line"), "field2ndLine");
    }

    #[test]
    fn models_never_take_a_reserved_class_name() {
        assert_eq!(type_name("invoice"), "Invoice");
        assert_eq!(type_name("repository"), "RepositoryRecord");
        assert_eq!(type_name("list"), "ListRecord");
        assert_eq!(type_name("string"), "StringRecord");
        assert_eq!(type_name("health"), "HealthRecord");
        assert_eq!(type_name("locale"), "LocaleRecord");
    }

    #[test]
    fn the_package_is_one_valid_segment_under_the_group() {
        assert_eq!(package_name("city-library"), "com.example.citylibrary");
        assert_eq!(package_name("new"), "com.example.newapp");
        assert_eq!(package_name("42-things"), "com.example.app42things");
    }

    #[test]
    fn string_literals_are_escaped() {
        assert_eq!(string("a \"b\" \\ c"), "\"a \\\"b\\\" \\\\ c\"");
        assert_eq!(string("tab\there"), "\"tab\\u0009here\"");
        assert_eq!(xml_text("A & <B>"), "A &amp; &lt;B&gt;");
    }
}
