//! QLP exporter `__NAME__`: packages a capsule as an artifact.

use qlp_sdk::PluginKind;
use qlp_sdk::exporter::{Artifact, Capsule, ExportOptions, Exporter, PluginError, PluginInfo};

pub struct __TYPE__;

impl Exporter for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Exporter,
            description: "Lists a capsule's files in a text file.".into(),
            capabilities: vec![],
        }
    }

    fn export(capsule: &Capsule<'_>, options: ExportOptions) -> Result<Artifact, PluginError> {
        // The listing alone: no file's content is read.
        let files = capsule.files();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        Ok(listing(&options.base_name, &paths))
    }
}

/// The artifact: replace with your own format.
pub fn listing(base_name: &str, paths: &[&str]) -> Artifact {
    Artifact {
        media_type: "text/plain".into(),
        file_name: format!("{base_name}.txt"),
        bytes: paths.iter().map(|p| format!("{p}\n")).collect::<String>().into_bytes(),
    }
}

qlp_sdk::export_exporter!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_names_every_file() {
        let a = listing("capsule", &["a.py", "b.py"]);
        assert_eq!(a.file_name, "capsule.txt");
        assert_eq!(a.bytes, b"a.py\nb.py\n");
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
