//! Checks the component's answers against `openapi.json`, so a test (or a fuzzer loop)
//! can ask "does this response break the document?" for any request it made.
//!
//! [`validate_response`] finds the operation a request hit, the response documented for
//! the status, and checks the media type, the documented headers and the body: that much
//! is OpenAPI, and lives here, as does following `$ref`s from response, parameter and
//! header objects into `components`. Whether a value fits a schema is JSON Schema
//! (draft 2020-12), and [`validate_schema`] leaves it to the `jsonschema` crate, with
//! formats asserted and an unknown format an error. OpenAPI's own integer formats
//! (`int32`, `int64`) become the bounds they stand for before a schema is compiled.
//!
//! A keyword `jsonschema` does not know would be ignored silently, so the document may
//! use only the keywords [`is_known_keyword`] admits: the crate's draft 2020-12 keywords
//! and three annotations. [`unchecked`] lists what in a document breaks that, and the
//! black-box suite (`tests/api/openapi_document.rs`) holds `openapi.json` to it, so the
//! document cannot drift past what is checked.
//!
//! Besides its operations, the document states two rules in `info.description` that
//! OpenAPI cannot attach to an operation, and [`validate_response`] checks them too:
//! a path that matches no template must get `components/responses/NotFound`, and a path
//! that matches one with a method it does not list must get
//! `components/responses/MethodNotAllowed` with an `Allow` header naming exactly the
//! methods it lists. A path whose parameters break their schemas (`/api/users/abc`)
//! names no resource, so it must get 404 whatever the method.
//!
//! The parts: `document` (reading the document, its operations and path templates,
//! following `$ref`s), `response` (one answer against its operation), `schema` (one value
//! against one schema, through `jsonschema`), `coverage` (the document's schemas and what
//! in them would go unchecked). The tests here are the checker's own, on small documents
//! written for them; what `openapi.json` itself promises is tested with the component,
//! in `tests/api/openapi_*.rs`.

mod coverage;
mod document;
mod response;
mod schema;
#[cfg(test)]
mod tests;

pub use coverage::{nodes, schemas, unchecked};
pub use document::{document, match_path, operations, resolve};
pub use response::validate_response;
pub use schema::{
    is_known_format, is_known_keyword, schema_compiles, validate_schema, ANNOTATIONS,
};
