//! pokefavs: users and their favorite Pokémon, as a Spin HTTP component over Spin's
//! SQLite store.
//!
//! A request travels:
//!
//! 1. [`handle`] (this file): Spin's entry point, then [`route`], the route table:
//!    method + path → handler, or 404 / 405 with `Allow`.
//! 2. [`api`]: one module per route group. Handlers parse input into the validated
//!    types of [`domain`], authorize ([`auth`]), call the store, shape the reply.
//! 3. [`store`]: the only code that knows table and column names. Multi-statement
//!    writes run in [`db::Db::write`] (`BEGIN IMMEDIATE` … `COMMIT`/`ROLLBACK`).
//! 4. [`db`]: the only code that touches `spin_sdk::sqlite3`: one lazily opened
//!    connection per request, the schema check, error classification.
//!
//! [`error`] maps every failure to its status and `code` in one place; [`http`] reads
//! requests and writes responses and the per-request log line.

pub mod api;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod random;
pub mod store;

use db::Db;
use domain::{PokemonId, UserId};
use error::{ApiError, Result};
use http::{Reply, Request};
use spin_sdk::http::Method;
#[cfg(target_arch = "wasm32")]
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
#[cfg(target_arch = "wasm32")]
use spin_sdk::http_component;

/// The OpenAPI 3.1 description of this API, served as written.
pub const OPENAPI: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

// Only the wasm build exports the handler: a native build (unit tests) has no Spin host
// to call it, and the export's name is not a valid native symbol.
#[cfg(target_arch = "wasm32")]
#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    http::serve(incoming, out, route).await
}

/// Every resource the API has; path parameters already parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    HealthLive,
    Health,
    Register,
    Login,
    Me,
    User(UserId),
    Favorites(UserId),
    Favorite(UserId, PokemonId),
    PokemonList,
    Pokemon(PokemonId),
    OpenApi,
}

impl Resource {
    /// Finds the resource a path names. Paths are matched as sent: `..`, empty segments,
    /// trailing slashes and escapes name nothing, so they are 404.
    pub fn from_path(path: &str) -> Option<Resource> {
        let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let resource = match segments.as_slice() {
            ["health", "live"] => Resource::HealthLive,
            ["health"] => Resource::Health,
            ["api", "auth", "register"] => Resource::Register,
            ["api", "auth", "login"] => Resource::Login,
            ["api", "users", "me"] => Resource::Me,
            ["api", "users", id] => Resource::User(UserId::parse(id)?),
            ["api", "users", id, "favorites"] => Resource::Favorites(UserId::parse(id)?),
            ["api", "users", id, "favorites", pokemon] => {
                Resource::Favorite(UserId::parse(id)?, PokemonId::parse_segment(pokemon)?)
            }
            ["api", "pokemon"] => Resource::PokemonList,
            ["api", "pokemon", id] => Resource::Pokemon(PokemonId::parse_segment(id)?),
            ["api", "openapi.json"] => Resource::OpenApi,
            _ => return None,
        };
        Some(resource)
    }

    /// The path template `openapi.json` names the resource by.
    pub fn template(self) -> &'static str {
        match self {
            Resource::HealthLive => "/health/live",
            Resource::Health => "/health",
            Resource::Register => "/api/auth/register",
            Resource::Login => "/api/auth/login",
            Resource::Me => "/api/users/me",
            Resource::User(_) => "/api/users/{id}",
            Resource::Favorites(_) => "/api/users/{id}/favorites",
            Resource::Favorite(..) => "/api/users/{id}/favorites/{pokemon_id}",
            Resource::PokemonList => "/api/pokemon",
            Resource::Pokemon(_) => "/api/pokemon/{id}",
            Resource::OpenApi => "/api/openapi.json",
        }
    }

    /// The methods the resource answers, as the `Allow` header lists them.
    pub fn allow(self) -> &'static str {
        match self {
            Resource::Register | Resource::Login => "POST",
            Resource::User(_) => "GET, DELETE",
            Resource::Favorites(_) => "GET, POST, PUT",
            Resource::Favorite(..) => "DELETE",
            Resource::HealthLive
            | Resource::Health
            | Resource::Me
            | Resource::PokemonList
            | Resource::Pokemon(_)
            | Resource::OpenApi => "GET",
        }
    }
}

/// One path per resource, so tests can walk the whole route table (a unit test below
/// checks that it names every resource exactly once).
pub const EXAMPLE_PATHS: [&str; 11] = [
    "/health/live",
    "/health",
    "/api/auth/register",
    "/api/auth/login",
    "/api/users/me",
    "/api/users/1",
    "/api/users/1/favorites",
    "/api/users/1/favorites/25",
    "/api/pokemon",
    "/api/pokemon/25",
    "/api/openapi.json",
];

/// The route table.
pub fn route(request: &Request) -> Result<Reply> {
    let resource = Resource::from_path(&request.path)
        .ok_or_else(|| ApiError::NotFound("No resource at this path".into()))?;
    // Opened lazily: routes that never touch it (/health/live) never open a connection.
    let db = Db::new();
    match (&request.method, resource) {
        (Method::Get, Resource::HealthLive) => api::health::live(),
        (Method::Get, Resource::Health) => api::health::check(&db),
        (Method::Post, Resource::Register) => api::auth::register(request, &db),
        (Method::Post, Resource::Login) => api::auth::login(request, &db),
        (Method::Get, Resource::Me) => api::users::me(request, &db),
        (Method::Get, Resource::User(id)) => api::users::get(request, &db, id),
        (Method::Delete, Resource::User(id)) => api::users::delete(request, &db, id),
        (Method::Get, Resource::Favorites(id)) => api::favorites::list(request, &db, id),
        (Method::Post, Resource::Favorites(id)) => api::favorites::add(request, &db, id),
        (Method::Put, Resource::Favorites(id)) => api::favorites::replace(request, &db, id),
        (Method::Delete, Resource::Favorite(id, pokemon)) => {
            api::favorites::remove(request, &db, id, pokemon)
        }
        (Method::Get, Resource::PokemonList) => api::pokemon::search(request, &db),
        (Method::Get, Resource::Pokemon(id)) => api::pokemon::get(&db, id.get()),
        (Method::Get, Resource::OpenApi) => Ok(Reply::json_text(OPENAPI)),
        (_, resource) => Err(ApiError::MethodNotAllowed(resource.allow())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_resources_as_sent() {
        assert_eq!(
            Resource::from_path("/api/users/2/favorites/25"),
            Some(Resource::Favorite(
                UserId::parse("2").unwrap(),
                PokemonId::parse_segment("25").unwrap()
            ))
        );
        for path in [
            "/api/users/1/../2",
            "/api/users/1%2F2",
            "/api/users/me/",
            "//api/users/me",
            "/api/users/0",
            "/api/users/-1/favorites",
            "/api/pokemon/abc",
            "api/pokemon",
            "/API/pokemon",
            "",
        ] {
            assert_eq!(Resource::from_path(path), None, "{path}");
        }
    }

    #[test]
    fn the_example_paths_name_every_resource_once() {
        let mut templates: Vec<&str> = EXAMPLE_PATHS
            .iter()
            .map(|path| Resource::from_path(path).expect(path).template())
            .collect();
        templates.sort_unstable();
        templates.dedup();
        assert_eq!(templates.len(), EXAMPLE_PATHS.len());
        // Adding a variant without an example path fails to compile here.
        let _every_variant_is_counted = |r: Resource| match r {
            Resource::HealthLive
            | Resource::Health
            | Resource::Register
            | Resource::Login
            | Resource::Me
            | Resource::User(_)
            | Resource::Favorites(_)
            | Resource::Favorite(..)
            | Resource::PokemonList
            | Resource::Pokemon(_)
            | Resource::OpenApi => 11,
        };
    }

    #[test]
    fn the_openapi_document_is_json() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
