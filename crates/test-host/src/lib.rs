//! The pokefavs test host: the real `pokefavs.wasm` run in-process the way Spin runs it,
//! and what talks to it. Dev-only (`publish = false`); the black-box tests (`tests/api`)
//! and the benchmark (`benches/throughput/`) both build on it.
//!
//! - [`host`]: the wasmtime host (Spin's SQLite and variables, faults, `spin.toml`).
//! - [`request`]: requests as a client sends them.
//! - [`app`]: [`TestApp`], one component on a fresh database with a method per route,
//!   every answer held to `openapi.json` by [`openapi_check`].
//!
//! The host's own tests are here too: unit tests beside the code, and `tests/selftest.rs`
//! (the host running the compiled component by its own rules).

use std::path::{Path, PathBuf};

pub mod app;
pub mod host;
pub mod openapi_check;
pub mod request;

pub use app::{TestApp, TestUser};

/// The pokefavs repository: the workspace root, two levels above this crate. The
/// component's `spin.toml`, `migrations.sql`, `openapi.json` and sources live there.
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Cargo's target directory for the workspace: `CARGO_TARGET_DIR` when set (relative to
/// the repository), `<repo>/target` otherwise.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_relative() => repo_root().join(dir),
        Some(dir) => dir,
        None => repo_root().join("target"),
    }
}
