//! The README's "Spin 3.3 or newer" holds for what the component imports: every import
//! of the built `.wasm` is an interface some Spin release provides, and the newest of
//! those first releases is the one the README names. A new import (another Spin
//! interface, a new version of one) fails here until the table below and the README say
//! which Spin it needs.

use std::collections::BTreeSet;
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// The first Spin release that provides each interface family the component may import,
/// from spinframework/spin's history: `wit/deps/spin-sqlite@3.0.0` arrived in commit
/// 2b13d88f (2025-04-09), first in tag v3.3.0; `fermyon:spin/variables@2.0.0` and WASI
/// 0.2 came with Spin 2.0.
const FIRST_SPIN: &[(&str, (u32, u32))] = &[
    ("spin:sqlite/sqlite@3.0.0", (3, 3)),
    ("fermyon:spin/variables@2.0.0", (2, 0)),
    ("wasi:", (2, 0)),
];

/// The first Spin release providing `import`, if the table knows it. A WASI import
/// must be of 0.2 (any patch: Wasmtime links semver-compatible versions).
fn first_spin(import: &str) -> Option<(u32, u32)> {
    if import.starts_with("wasi:") && !import.contains("@0.2.") {
        return None;
    }
    FIRST_SPIN
        .iter()
        .find(|(prefix, _)| {
            import == *prefix || (prefix.ends_with(':') && import.starts_with(prefix))
        })
        .map(|(_, version)| *version)
}

#[test]
fn the_readme_names_the_first_spin_that_provides_every_import() {
    let wasm = pokefavs_test_host::target_dir().join("wasm32-wasip2/release/pokefavs.wasm");
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).unwrap();
    let component = Component::from_file(&engine, &wasm)
        .unwrap_or_else(|e| panic!("{}: {e} (build it first)", wasm.display()));
    let imports: BTreeSet<String> = component
        .component_type()
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    assert!(imports.contains("spin:sqlite/sqlite@3.0.0"), "{imports:#?}");
    let unknown: Vec<&String> = imports.iter().filter(|i| first_spin(i).is_none()).collect();
    assert!(
        unknown.is_empty(),
        "imports no Spin release is known to provide: {unknown:?}"
    );
    let (major, minor) = imports.iter().filter_map(|i| first_spin(i)).max().unwrap();
    let readme = include_str!("../../../README.md");
    let claim = format!("Spin](https://spinframework.dev/install) {major}.{minor} or newer");
    assert!(readme.contains(&claim), "the README should say: {claim}");
}
