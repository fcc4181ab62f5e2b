//! QLP agent `__NAME__`: generates project files for an intent.

use qlp_sdk::PluginKind;
use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};

pub struct __TYPE__;

impl Agent for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Agent,
            description: "Writes a README for the intent.".into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        Ok(vec![readme(&request.intent.description)])
    }
}

/// The one file this example generates: replace with your own.
pub fn readme(description: &str) -> File {
    File {
        path: "README.md".into(),
        content: format!("# Project\n\n{description}\n").into_bytes(),
    }
}

qlp_sdk::export_agent!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_names_the_intent() {
        let file = readme("An invoice service");
        assert_eq!(file.path, "README.md");
        assert!(String::from_utf8(file.content).unwrap().contains("An invoice service"));
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
