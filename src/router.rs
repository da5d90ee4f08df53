//! Finding the route of a request in [`ROUTES`](crate::ROUTES): paths matched as sent,
//! path parameters parsed by their kind, `HEAD` served by `GET`, 404 and 405 with
//! `Allow`, and whether an answer is private.

use crate::db::Db;
use crate::domain::{PokemonId, UserId};
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::ROUTES;
use ::http::Method;

/// A handler: the request, this request's database handle, and the path's parameters.
pub type Handler = fn(&Request, &Db, &Params) -> Result<Reply>;

/// What a `{…}` segment of a path template holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// A user id: a positive integer.
    User,
    /// A Pokédex number: a positive integer (one the catalog lacks is the handler's 404).
    Pokemon,
    /// The Pokédex number of a favorite: outside 1–1025 the path names nothing, whoever
    /// asks.
    Favorite,
}

/// Whether an answer may be kept by a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privacy {
    /// Anyone's answer: the catalog, health, the API description.
    Public,
    /// Tokens or personal data: every answer says `Cache-Control: no-store`, and so does
    /// every answer to a path in the same area (`/api/auth/…`, `/api/users/…`), errors
    /// included, whether a route has the path or not.
    Private,
}

/// One operation of the API: a method on a path template, what its `{…}` segments hold,
/// whether its answers are private, and its handler.
pub struct Route {
    pub method: Method,
    pub template: &'static str,
    pub params: &'static [Param],
    pub privacy: Privacy,
    handler: Handler,
}

/// A line of the catalogue.
pub const fn route(
    method: Method,
    template: &'static str,
    params: &'static [Param],
    privacy: Privacy,
    handler: Handler,
) -> Route {
    Route {
        method,
        template,
        params,
        privacy,
        handler,
    }
}

/// The most `{…}` segments a template has.
const MAX_PARAMS: usize = 2;

/// The parameters of a matched path, parsed by their kinds.
#[derive(Debug, Default)]
pub struct Params {
    user: Option<UserId>,
    pokemon: Option<PokemonId>,
}

impl Params {
    /// The user id of the path.
    pub fn user(&self) -> Result<UserId> {
        self.user
            .ok_or_else(|| ApiError::internal("the route declares no user parameter"))
    }

    /// The Pokédex number of the path (a catalog entry's or a favorite's).
    pub fn pokemon(&self) -> Result<PokemonId> {
        self.pokemon
            .ok_or_else(|| ApiError::internal("the route declares no Pokédex parameter"))
    }
}

impl Route {
    /// The `{…}` segments of `path` if it names this route's resource. Paths are matched
    /// as sent: `..`, empty segments, trailing slashes and escapes name nothing. Every
    /// parameter is a positive integer, checked here, so a path like `/api/users/abc`
    /// is 404 whatever the method, never 405.
    pub fn matches<'a>(&self, path: &'a str) -> Option<[&'a str; MAX_PARAMS]> {
        let mut params = [""; MAX_PARAMS];
        let mut count = 0;
        let mut segments = path.split('/');
        for pattern in self.template.split('/') {
            let segment = segments.next()?;
            if pattern.starts_with('{') {
                UserId::parse(segment)?;
                *params.get_mut(count)? = segment;
                count += 1;
            } else if pattern != segment {
                return None;
            }
        }
        segments.next().is_none().then_some(params)
    }

    /// The parameters of a matched path by their kinds; `None` if one names nothing.
    fn parse(&self, segments: &[&str; MAX_PARAMS]) -> Option<Params> {
        let mut params = Params::default();
        for (kind, segment) in self.params.iter().zip(segments) {
            match kind {
                Param::User => params.user = Some(UserId::parse(segment)?),
                Param::Pokemon => params.pokemon = Some(PokemonId::parse_segment(segment)?),
                Param::Favorite => {
                    params.pokemon = Some(PokemonId::parse_favorite_segment(segment)?)
                }
            }
        }
        Some(params)
    }

    /// A path this route answers, for tests: a user's id 1, a Pokédex number 25.
    pub fn example_path(&self) -> String {
        let mut kinds = self.params.iter();
        self.template
            .split('/')
            .map(|segment| match segment.starts_with('{') {
                true => match kinds.next() {
                    Some(Param::User) => "1",
                    _ => "25",
                },
                false => segment,
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

/// Whether answers to `path` are private: it lies in the area (the first two segments,
/// `/api/users/`) of a private route, matched or not.
pub fn is_private(path: &str) -> bool {
    ROUTES
        .iter()
        .filter(|route| route.privacy == Privacy::Private)
        .any(|route| path.starts_with(area(route.template)))
}

/// A template's area: up to and including its third `/` (`/api/users/`).
fn area(template: &str) -> &str {
    match template.match_indices('/').nth(2) {
        Some((at, _)) => &template[..=at],
        None => template,
    }
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

/// Finds the route of a request and runs it: 404 if no route has the path (or a
/// parameter names nothing), 405 with `Allow` if routes have it but not with this
/// method. `HEAD` runs the `GET` route. Returns the matched template (for the log line)
/// beside the answer.
pub fn route_request(request: &Request) -> (Option<&'static str>, Result<Reply>) {
    let mut template = None;
    for route in &ROUTES {
        let Some(segments) = route.matches(&request.path) else {
            continue;
        };
        template = Some(route.template);
        if request.method.as_ref().map(served_by) == Some(&route.method) {
            let Some(params) = route.parse(&segments) else {
                return (template, Err(no_resource()));
            };
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
    use crate::OPENAPI;
    use std::collections::BTreeSet;

    fn route(method: Method, template: &str) -> &'static Route {
        ROUTES
            .iter()
            .find(|route| route.method == method && route.template == template)
            .unwrap()
    }

    fn template_of(path: &str) -> Option<&'static str> {
        ROUTES
            .iter()
            .find(|route| route.matches(path).is_some())
            .map(|route| route.template)
    }

    #[test]
    fn paths_name_resources_as_sent() {
        let favorite = route(Method::DELETE, "/api/users/{id}/favorites/{pokemon_id}");
        let segments = favorite.matches("/api/users/2/favorites/25").unwrap();
        let params = favorite.parse(&segments).unwrap();
        assert_eq!(params.user().unwrap(), UserId::parse("2").unwrap());
        assert_eq!(params.pokemon().unwrap().get(), 25);
        let beyond = favorite.matches("/api/users/2/favorites/1026").unwrap();
        assert!(
            favorite.parse(&beyond).is_none(),
            "outside the catalog: no resource"
        );
        let entry = route(Method::GET, "/api/pokemon/{id}");
        let segments = entry.matches("/api/pokemon/1026").unwrap();
        assert_eq!(
            entry.parse(&segments).unwrap().pokemon().unwrap().get(),
            1026
        );
        assert!(entry.parse(&segments).unwrap().user().is_err());
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
    fn every_route_declares_a_kind_for_each_parameter_and_answers_its_example_path() {
        for route in &ROUTES {
            let holes = route.template.matches('{').count();
            assert_eq!(holes, route.params.len(), "{}", route.template);
            assert!(holes <= MAX_PARAMS, "{}", route.template);
            let path = route.example_path();
            assert_eq!(template_of(&path), Some(route.template), "{path}");
            assert!(!path.contains('{'), "{path}");
            let segments = route.matches(&path).unwrap();
            assert!(route.parse(&segments).is_some(), "{path}");
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
    fn private_areas_hold_private_routes_only() {
        for route in &ROUTES {
            assert_eq!(
                is_private(route.template),
                route.privacy == Privacy::Private,
                "{}",
                route.template
            );
        }
        for path in ["/api/users/abc", "/api/auth/nothing", "/api/users/1/x"] {
            assert!(is_private(path), "{path}");
        }
        for path in ["/api/pokemon/abc", "/health/x", "/api/usersx", "/"] {
            assert!(!is_private(path), "{path}");
        }
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
