//! pokefavs: users and their favorite Pokémon, as a Spin HTTP component over Spin's
//! SQLite store.
//!
//! A request travels:
//!
//! 1. [`handle`] (this file): Spin's entry point, then [`route_request`] over
//!    [`ROUTES`], the route table, one line per operation (method, path template,
//!    handler): the handler, or 404 / 405 with `Allow`.
//! 2. [`api`]: one module per route group. Handlers read input into the validated
//!    types of [`domain`] (through `api::input`), authorize ([`auth`]), call the store,
//!    shape the reply.
//! 3. [`store`]: the only code that knows table and column names. It answers values or
//!    a [`store::StoreError`] (domain outcomes such as "the user is gone"), never HTTP.
//!    Multi-statement writes run in [`db::Db::write`] (`BEGIN IMMEDIATE` …
//!    `COMMIT`/`ROLLBACK`).
//! 4. [`db`]: the bottom layer, the only code that touches `spin_sdk::sqlite3`: one
//!    lazily opened connection per request, the schema check, error classification
//!    into [`db::DbError`]. It imports nothing from the layers above.
//!
//! [`error`] maps every failure (the API's own, the store's outcomes, the database's)
//! to its status and `code` in one place; [`http`] reads requests and writes responses
//! and the per-request log line, which [`log`] writes (as it does the `db` warnings).

pub mod api;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod log;
pub mod random;
pub mod store;

use ::http::Method;
use db::Db;
use domain::{PokemonId, UserId};
use error::{ApiError, Result};
use http::{Reply, Request};
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
    http::serve(incoming, out, route_request).await
}

/// A handler: the request, this request's database handle, and the path's parameters.
type Handler = fn(&Request, &Db, &Params) -> Result<Reply>;

/// One operation of the API: a method on a path template. `{…}` segments match a
/// positive integer (a user id or a Pokédex number) and are handed to the handler.
pub struct Route {
    pub method: Method,
    pub template: &'static str,
    handler: Handler,
}

/// The route table: every operation, in one place. 404, 405 with `Allow`, the log's
/// route name and the tests' walk over every operation all come from it, and a test
/// checks it against `openapi.json`.
pub static ROUTES: [Route; 16] = [
    route(Method::GET, "/health/live", |_, _, _| api::health::live()),
    route(Method::GET, "/health", |_, db, _| api::health::check(db)),
    route(Method::POST, "/api/auth/register", |r, db, _| {
        api::auth::register(r, db)
    }),
    route(Method::POST, "/api/auth/login", |r, db, _| {
        api::auth::login(r, db)
    }),
    route(Method::POST, "/api/auth/logout", |r, db, _| {
        api::auth::logout(r, db)
    }),
    route(Method::GET, "/api/users/me", |r, db, _| {
        api::users::me(r, db)
    }),
    route(Method::GET, "/api/users/{id}", |r, db, p| {
        api::users::get(r, db, p.user()?)
    }),
    route(Method::DELETE, "/api/users/{id}", |r, db, p| {
        api::users::delete(r, db, p.user()?)
    }),
    route(Method::PUT, "/api/users/{id}/password", |r, db, p| {
        api::users::change_password(r, db, p.user()?)
    }),
    route(Method::GET, "/api/users/{id}/favorites", |r, db, p| {
        api::favorites::list(r, db, p.user()?)
    }),
    route(Method::POST, "/api/users/{id}/favorites", |r, db, p| {
        api::favorites::add(r, db, p.user()?)
    }),
    route(Method::PUT, "/api/users/{id}/favorites", |r, db, p| {
        api::favorites::replace(r, db, p.user()?)
    }),
    route(
        Method::DELETE,
        "/api/users/{id}/favorites/{pokemon_id}",
        |r, db, p| api::favorites::remove(r, db, p.user()?, p.favorite(1)?),
    ),
    route(Method::GET, "/api/pokemon", |r, db, _| {
        api::pokemon::search(r, db)
    }),
    route(Method::GET, "/api/pokemon/{id}", |_, db, p| {
        api::pokemon::get(db, p.pokemon(0)?.get())
    }),
    route(Method::GET, "/api/openapi.json", |_, _, _| {
        Ok(Reply::json_text(OPENAPI))
    }),
];

/// A table entry; a handler that takes no path parameters may ignore them.
const fn route(method: Method, template: &'static str, handler: Handler) -> Route {
    Route {
        method,
        template,
        handler,
    }
}

/// The `{…}` segments of a matched path, in order; each a positive integer.
pub struct Params<'a>([&'a str; 2]);

impl Params<'_> {
    /// The first parameter as a user id.
    fn user(&self) -> Result<UserId> {
        UserId::parse(self.0[0]).ok_or_else(no_resource)
    }

    /// Parameter `at` as a Pokédex number.
    fn pokemon(&self, at: usize) -> Result<PokemonId> {
        let segment = self.0.get(at).copied().unwrap_or_default();
        PokemonId::parse_segment(segment).ok_or_else(no_resource)
    }

    /// Parameter `at` as the Pokédex number of a favorite: outside the catalog's range
    /// the path names nothing, whoever asks.
    fn favorite(&self, at: usize) -> Result<PokemonId> {
        let segment = self.0.get(at).copied().unwrap_or_default();
        PokemonId::parse_favorite_segment(segment).ok_or_else(no_resource)
    }
}

impl Route {
    /// The parameters of `path` if it names this route's resource. Paths are matched as
    /// sent: `..`, empty segments, trailing slashes and escapes name nothing.
    pub fn matches<'a>(&self, path: &'a str) -> Option<Params<'a>> {
        let mut params = Params([""; 2]);
        let mut count = 0;
        let mut segments = path.split('/');
        for pattern in self.template.split('/') {
            let segment = segments.next()?;
            if pattern.starts_with('{') {
                // Every parameter is a positive integer, checked here so that a path
                // like /api/users/abc is 404 whatever the method, never 405.
                UserId::parse(segment)?;
                *params.0.get_mut(count)? = segment;
                count += 1;
            } else if pattern != segment {
                return None;
            }
        }
        segments.next().is_none().then_some(params)
    }

    /// A path this route answers, for tests: `{…}` segments filled with 1 (a user) and
    /// 25 (a Pokémon).
    pub fn example_path(&self) -> String {
        let pokemon = self.template.starts_with("/api/pokemon");
        self.template
            .split('/')
            .map(|segment| match segment {
                "{pokemon_id}" => "25",
                "{id}" if pokemon => "25",
                "{id}" => "1",
                literal => literal,
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The methods a path template answers, as the `Allow` header lists them: `HEAD`
/// wherever `GET` is (every `GET` route answers it, see [`route_request`]).
pub fn allowed(template: &str) -> String {
    let mut allow = String::new();
    for route in ROUTES.iter().filter(|route| route.template == template) {
        if !allow.is_empty() {
            allow.push_str(", ");
        }
        allow.push_str(route.method.as_str());
        if route.method == Method::GET {
            allow.push_str(", HEAD");
        }
    }
    allow
}

/// The route method that serves `method`: `HEAD` is served by the `GET` route (the
/// edge then sends the status and header fields without the body, RFC 9110 §9.3.2).
fn served_by(method: &Method) -> &Method {
    match *method {
        Method::HEAD => &Method::GET,
        _ => method,
    }
}

fn no_resource() -> ApiError {
    ApiError::NotFound("No resource at this path".into())
}

/// Finds the route of a request and runs it: 404 if no route has the path, 405 with
/// `Allow` if routes have it but not with this method. `HEAD` runs the `GET` route. Returns the matched template
/// (for the log line) beside the answer.
pub fn route_request(request: &Request) -> (Option<&'static str>, Result<Reply>) {
    let mut template = None;
    for route in &ROUTES {
        let Some(params) = route.matches(&request.path) else {
            continue;
        };
        template = Some(route.template);
        if request.method.as_ref().map(served_by) == Some(&route.method) {
            // Opened lazily: routes that never touch it (/health/live) open nothing.
            let db = Db::new();
            return (template, (route.handler)(request, &db, &params));
        }
    }
    let answer = match template {
        Some(template) => Err(ApiError::MethodNotAllowed(allowed(template))),
        None => Err(no_resource()),
    };
    (template, answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn template_of(path: &str) -> Option<&'static str> {
        ROUTES
            .iter()
            .find(|route| route.matches(path).is_some())
            .map(|route| route.template)
    }

    #[test]
    fn paths_name_resources_as_sent() {
        let favorite = ROUTES
            .iter()
            .find(|route| route.template == "/api/users/{id}/favorites/{pokemon_id}")
            .unwrap();
        let params = favorite.matches("/api/users/2/favorites/25").unwrap();
        assert_eq!(params.user().unwrap(), UserId::parse("2").unwrap());
        assert_eq!(params.pokemon(1).unwrap().get(), 25);
        assert_eq!(params.favorite(1).unwrap().get(), 25);
        let beyond = favorite.matches("/api/users/2/favorites/1026").unwrap();
        assert!(
            beyond.favorite(1).is_err(),
            "outside the catalog: no resource"
        );
        assert_eq!(template_of("/api/users/me"), Some("/api/users/me"));
        for path in [
            "/api/users/1/../2",
            "/api/users/1%2F2",
            "/api/users/me/",
            "//api/users/me",
            "/api/users/0",
            "/api/users/-1/favorites",
            "/api/users/01",
            "/api/pokemon/abc",
            "/api/users/1/favorites/25/x",
            "api/pokemon",
            "/API/pokemon",
            "",
        ] {
            assert_eq!(template_of(path), None, "{path}");
        }
    }

    #[test]
    fn every_route_answers_its_own_example_path() {
        for route in &ROUTES {
            let path = route.example_path();
            assert_eq!(template_of(&path), Some(route.template), "{path}");
            assert!(!path.contains('{'), "{path}");
        }
    }

    #[test]
    fn each_operation_is_declared_once_and_allow_lists_it() {
        let operations: BTreeSet<(&str, &str)> = ROUTES
            .iter()
            .map(|route| (route.method.as_str(), route.template))
            .collect();
        assert_eq!(operations.len(), ROUTES.len());
        assert_eq!(allowed("/api/users/{id}/favorites"), "GET, HEAD, POST, PUT");
        assert_eq!(allowed("/api/users/{id}"), "GET, HEAD, DELETE");
        assert_eq!(allowed("/api/auth/login"), "POST");
    }

    #[test]
    fn the_table_and_the_openapi_document_have_the_same_operations() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                let methods = item.as_object().unwrap().keys();
                methods
                    .filter(|m| {
                        ["get", "head", "post", "put", "delete", "patch"].contains(&m.as_str())
                    })
                    .map(|m| (m.to_uppercase(), path.clone()))
            })
            .collect();
        // Every GET route also answers HEAD.
        let routed: BTreeSet<(String, String)> = ROUTES
            .iter()
            .flat_map(|route| {
                let head = (route.method == Method::GET).then_some(Method::HEAD);
                std::iter::once(route.method.clone())
                    .chain(head)
                    .map(|method| (method.to_string(), route.template.to_string()))
            })
            .collect();
        assert_eq!(routed, documented);
    }
}
