//! The fuzzer's operations, derived from the component's route table
//! (`pokefavs::ROUTES`): every route is generated, with its path parameters drawn by the
//! kind the table declares (a user's id or a Pokédex number), so a route added to the
//! table is fuzzed without a change here. Only the weights, how often an operation comes up, are ours.

use super::case::Seg;
use crate::route_table::operation;
use pokefavs::router::{Param as Kind, Route};
use pokefavs::ROUTES;
use proptest::prelude::*;
use proptest::strategy::Union;

/// What a `{…}` segment of a template names, as the fuzzer draws it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Param {
    User,
    Pokemon,
}

impl Param {
    /// The fuzzer's kind of a table parameter: a favorite's number is a Pokédex number
    /// too (drawn from the same values, in range and out of it).
    fn of(kind: &Kind) -> Param {
        match kind {
            Kind::User => Param::User,
            Kind::Pokemon | Kind::Favorite => Param::Pokemon,
        }
    }
}

/// How often the plausible generator picks `op` (`METHOD template`), relative to the
/// others: the routes that read bodies and ids come up more often. Every operation has
/// a weight of at least 1, so every one is generated.
fn weight(op: &str) -> u32 {
    match op {
        "DELETE /api/users/{id}/favorites/{pokemon_id}" => 3,
        "POST /api/auth/register"
        | "POST /api/auth/login"
        | "GET /api/users/{id}/favorites"
        | "POST /api/users/{id}/favorites"
        | "PUT /api/users/{id}/favorites"
        | "PUT /api/users/{id}/password"
        | "GET /api/pokemon" => 2,
        _ => 1,
    }
}

/// The segments of `route`'s template, a `{…}` segment as the kind the table declares.
fn segments(route: &Route) -> Vec<Result<String, Param>> {
    let mut kinds = route.params.iter();
    route
        .template
        .split('/')
        .skip(1) // the empty segment before the leading slash
        .map(|pattern| match pattern.starts_with('{') {
            false => Ok(pattern.to_string()),
            true => Err(kinds.next().map_or(Param::User, Param::of)),
        })
        .collect()
}

/// A path strategy for `route`, its parameters drawn from `param`.
fn path_of(route: &Route, param: &impl Fn(Param) -> BoxedStrategy<Seg>) -> BoxedStrategy<Vec<Seg>> {
    segments(route)
        .into_iter()
        .map(|segment| match segment {
            Ok(literal) => Just(Seg::Lit(literal)).boxed(),
            Err(kind) => param(kind),
        })
        .collect::<Vec<_>>()
        .boxed()
}

/// Every operation of the table: its method and a path strategy, weighted by
/// [`weight`].
pub(super) fn operations(
    param: impl Fn(Param) -> BoxedStrategy<Seg>,
) -> impl Strategy<Value = (&'static str, &'static str, Vec<Seg>)> {
    Union::new_weighted(
        ROUTES
            .iter()
            .map(|route| {
                let (method, template) = (route.method.as_str(), route.template);
                let path = path_of(route, &param);
                let op = path.prop_map(move |segs| (method, template, segs));
                (weight(&operation(method, template)), op.boxed())
            })
            .collect(),
    )
}

/// Every path template of the table once (a template several methods share is one
/// path), its parameters drawn from `param`.
pub(super) fn templates(
    param: impl Fn(Param) -> BoxedStrategy<Seg>,
) -> impl Strategy<Value = Vec<Seg>> {
    let mut seen = Vec::new();
    let paths: Vec<BoxedStrategy<Vec<Seg>>> = ROUTES
        .iter()
        .filter(|route| {
            let new = !seen.contains(&route.template);
            seen.push(route.template);
            new
        })
        .map(|route| path_of(route, &param))
        .collect();
    Union::new(paths)
}

#[test]
fn every_parameter_of_the_table_is_a_user_or_a_pokemon() {
    for route in &ROUTES {
        let kinds: Vec<Param> = segments(route)
            .into_iter()
            .filter_map(Result::err)
            .collect();
        let expected = match route.template {
            t if t.starts_with("/api/pokemon/") => vec![Param::Pokemon],
            t if t.contains("{pokemon_id}") => vec![Param::User, Param::Pokemon],
            t if t.contains('{') => vec![Param::User],
            _ => vec![],
        };
        assert_eq!(kinds, expected, "{}", route.template);
    }
}
