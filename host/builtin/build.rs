//! Embeds every file of the directory `QLP_EMBED_PLUGINS` names (built,
//! signed components and their sidecars, as `qlp plugin build` writes
//! them) into the crate; without it the crate holds nothing.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=QLP_EMBED_PLUGINS");
    let mut code = String::from("pub static FILES: &[(&str, &[u8])] = &[\n");
    if let Some(dir) = std::env::var_os("QLP_EMBED_PLUGINS").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        let dir = dir.canonicalize().unwrap_or_else(|e| {
            panic!("QLP_EMBED_PLUGINS={}: {e}", dir.display());
        });
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("QLP_EMBED_PLUGINS={}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        names.sort();
        assert!(
            names
                .iter()
                .any(|p| p.extension().is_some_and(|x| x == "wasm")),
            "QLP_EMBED_PLUGINS={} holds no component: build them first (deploy/dev.sh plugins)",
            dir.display()
        );
        for path in names {
            println!("cargo:rerun-if-changed={}", path.display());
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            writeln!(
                code,
                "    ({name:?}, include_bytes!({:?})),",
                path.display().to_string()
            )
            .unwrap();
        }
    }
    code.push_str("];\n");
    let plugins = code.matches(".wasm\"").count();
    writeln!(
        code,
        "pub const LONG_VERSION: &str = \"{} ({plugins} built-in plugins)\";",
        std::env::var("CARGO_PKG_VERSION").unwrap()
    )
    .unwrap();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("files.rs");
    std::fs::write(out, code).unwrap();
}
