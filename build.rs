//! Embeds `openapi.json` without its indentation: the document is kept readable in the
//! repository, and the component carries (and serves) the same JSON in about half the
//! bytes. Whitespace is dropped only outside strings, so the document is unchanged.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=openapi.json");
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
