//! QLP agent `qlp/template-static`: generates an accessible static landing
//! page (HTML, CSS and a little JavaScript) from an intent.
//!
//! The intent is read by `qlp-intent-spec` and by [`site`]: the site's
//! title, the sections the intent names (about, menu, opening hours,
//! pricing, testimonials... and its own resources), the requirements that
//! open each section, and the fields of the contact form. The output (see
//! [`project`]) is `index.html` with landmarks, a skip link, one `h1`,
//! labelled form controls and image `alt` text; `css/styles.css`;
//! `js/main.js` (optional enhancements: a folding menu and in-page form
//! checks); an illustration; a README listing the accessibility rules the
//! page keeps, a Dockerfile serving the files with unprivileged nginx, and
//! a `.gitignore`.
//!
//! Generation is deterministic: the same request gives byte-identical files.
//! A repair round (`iteration > 0`) regenerates the same site; the host
//! merges it with the files of other agents.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod project;
pub mod site;

use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::{Intent, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/template-static";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Generates the site's files for an intent.
pub fn generate_project(intent: &Intent) -> Result<Vec<File>, PluginError> {
    let spec = qlp_intent_spec::analyze(intent)?;
    let site = site::read_site(intent, &spec);
    project::render_site(&site)
}

/// The agent's entry points, a thin layer over [`generate_project`].
pub struct TemplateStatic;

impl Agent for TemplateStatic {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Generates an accessible static landing page (HTML, CSS, a little \
                          JavaScript) with the sections and contact-form fields the intent \
                          names, valid for the Nu HTML Checker, with a README, a Dockerfile \
                          and a .gitignore."
                .into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_project(&request.intent)?;
        let count = files.len().to_string();
        let iteration = request.iteration.to_string();
        qlp_sdk::log::info(
            "generated static site",
            &[("files", count.as_str()), ("iteration", iteration.as_str())],
        );
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateStatic);

#[cfg(test)]
mod tests {
    use super::*;

    /// Files as comparable (path, bytes) pairs; the bindings' `File` has no `PartialEq`.
    fn snapshot(files: &[File]) -> Vec<(String, Vec<u8>)> {
        files
            .iter()
            .map(|f| (f.path.clone(), f.content.clone()))
            .collect()
    }

    fn request(description: &str, iteration: u32) -> GenerationRequest {
        GenerationRequest {
            intent: Intent {
                id: "00000000-0000-0000-0000-000000000000".into(),
                description: description.into(),
                requirements: vec!["The contact form has a name, an email and a message".into()],
                constraints: vec![],
                tier: "starter".into(),
            },
            files: vec![],
            findings: vec![],
            iteration,
            role: "implementer".into(),
        }
    }

    #[test]
    fn describe_names_the_agent() {
        let info = TemplateStatic::describe();
        assert_eq!(info.name, "qlp/template-static");
        assert_eq!(info.version, "0.1.0");
        assert_eq!(info.kind, PluginKind::Agent);
        assert!(info.capabilities.is_empty());
    }

    #[test]
    fn the_same_request_gives_byte_identical_files() {
        let description = "A static landing page for a bakery with a menu";
        let first = TemplateStatic::generate(request(description, 0)).expect("generates");
        let second = TemplateStatic::generate(request(description, 0)).expect("generates");
        assert_eq!(snapshot(&first), snapshot(&second));
    }

    #[test]
    fn a_repair_round_returns_the_same_site() {
        let description = "A landing page for a florist";
        let first = TemplateStatic::generate(request(description, 0)).expect("generates");
        let mut repair = request(description, 1);
        repair.files = first.clone();
        let repaired = TemplateStatic::generate(repair).expect("generates");
        assert_eq!(snapshot(&repaired), snapshot(&first));
    }

    #[test]
    fn an_empty_intent_is_refused_with_empty_intent() {
        let error = TemplateStatic::generate(request("  ", 0)).expect_err("blank intent");
        assert_eq!(error.code, "EMPTY_INTENT");
    }
}
