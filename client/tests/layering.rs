//! The client's layering as a check: a module may use only the modules below it (the
//! order of `lib.rs`'s layout). Events travel upward through hooks, never imports.

use std::path::Path;

/// Bottom to top.
const LAYERS: &[&str] = &[
    "device", "idb", "vault", "passkey", "store", "i18n", "api", "model", "tabs", "sync",
    "handoff", "session", "views", "app",
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| *l == module)
        .unwrap_or_else(|| panic!("module `{module}` is not in the layer list"))
}

fn modules_used(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in source.match_indices("crate::") {
        let rest = &source[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

fn check_dir(dir: &Path, module: Option<&str>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.is_dir() {
            check_dir(&path, Some(module.unwrap_or(&stem)));
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let own = match module {
            Some(m) => m.to_string(),
            None if stem == "lib" || stem == "main" => continue,
            None => stem,
        };
        let source = std::fs::read_to_string(&path).unwrap();
        for used in modules_used(&source) {
            if used == own {
                continue;
            }
            assert!(
                layer_of(&used) < layer_of(&own),
                "{} (layer `{own}`) uses `{used}`, which is above it",
                path.display()
            );
        }
    }
}

#[test]
fn no_client_module_uses_one_above_it() {
    check_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), None);
}

#[test]
fn the_device_model_uses_no_browser_or_ui_crate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/device");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        for forbidden in ["leptos", "web_sys", "js_sys", "wasm_bindgen"] {
            assert!(
                !source.contains(&format!("{forbidden}::")),
                "{} uses {forbidden}",
                path.display()
            );
        }
    }
}
