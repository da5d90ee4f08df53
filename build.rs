//! Two things the component build needs beyond `cargo build`:
//!
//! - `openapi.json` is embedded without its indentation: the document is kept readable
//!   in the repository, and the component carries (and serves) the same JSON in about
//!   half the bytes. Whitespace is dropped only outside strings, so the document is
//!   unchanged.
//! - The component's linear memory is sized for a request. Spin takes every instance
//!   from a pooled slot and, when the request ends, resets the slot's whole accessible
//!   memory (memset and copy of up to 2 MiB, kept resident) for the next one; growing
//!   the memory costs an `mprotect` now and another when the slot is reused. Rust's
//!   default 1 MiB stack made every instance 1.3 MiB, nearly all of it a stack no
//!   request comes close to using. A 128 KiB stack (serde_json stops nesting at 128
//!   levels, Argon2's blocks live on the heap) and an initial memory that also holds a
//!   read or write request's heap make it 320 KiB, reset in a quarter of the time and
//!   never grown except by login (Argon2's 19 MiB). The stack sits below the data
//!   (`--stack-first`, rustc's default for wasm), so an overflow traps instead of
//!   overwriting statics. The figures are in the README's Performance section.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=openapi.json");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        // 128 KiB of stack + the static data (≈ 140 KiB) + ≈ 55 KiB of heap, in 64 KiB
        // pages. wasm-ld refuses to link if the data ever outgrows it.
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={}", 128 * 1024);
        println!(
            "cargo:rustc-link-arg-cdylib=--initial-memory={}",
            5 * 64 * 1024
        );
    }
    let pretty = std::fs::read_to_string("openapi.json").expect("openapi.json is readable");
    let mut compact = String::with_capacity(pretty.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in pretty.chars() {
        if in_string {
            compact.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            compact.push(c);
        } else if !c.is_whitespace() {
            compact.push(c);
        }
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("openapi.min.json"), compact).expect("OUT_DIR is writable");
}
