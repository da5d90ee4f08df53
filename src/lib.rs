//! pokefavs: users and their favorite Pokémon, as a Spin HTTP component over Spin's
//! SQLite store.
//!
//! This file is the entry point and the route catalogue; `docs/architecture.md` walks
//! the same ground with a diagram. A request travels:
//!
//! 1. [`http`]: Spin's entry point hands the request to [`http::serve`], which reads its
//!    method, path and header fields (a handler that wants the body reads it, at most
//!    64 KiB, through `Request::json`), and at the end renders
//!    the answer, adds `Cache-Control: no-store` where the catalogue says, and writes the
//!    request's one log line.
//! 2. [`router`]: finds the route in [`ROUTES`], parses the path's parameters by their
//!    kinds ([`router::Param`]), and answers 404 or 405 with `Allow` itself. `HEAD` runs
//!    the `GET` route.
//! 3. [`api`]: one module per route group. A handler reads input into the validated
//!    types of [`domain`] (`api::input`), settles who is asking
//!    (`api::session::Authorized`: a dead token is 401 before a 403 or a 422), calls
//!    the store, and shapes the reply (`api::wire`).
//! 4. [`store`]: the only code that knows table and column names: each statement a
//!    `const` beside the function that runs it. It answers rows or a
//!    [`store::StoreError`] (domain outcomes such as "the user is gone"), never HTTP. A
//!    change is one statement wherever SQL can say it; the one transaction left
//!    (the password change) runs in [`db::Db::transaction`].
//! 5. [`db`]: the bottom layer, the only code that touches `spin_sdk::sqlite3`: one
//!    lazily opened connection per request, the statement protocol as types
//!    ([`db::Read`] carries the schema version, [`db::Write`] the schema condition),
//!    `BEGIN IMMEDIATE` … `COMMIT`/`ROLLBACK` in one place, the schema migration, error
//!    classification into [`db::DbError`]. It imports nothing from the layers above.
//!
//! [`error`] maps every failure (the API's own, the store's outcomes, the database's,
//! the configuration's) to its status and `code` in one place. [`auth`] is passwords
//! (Argon2id) and tokens (JWT), with no HTTP; [`config`] the Spin variables, typed.
//!
//! # Adding a route: the checklist
//!
//! 1. `API.md` and `openapi.json`: the operation, its answers and their codes.
//! 2. A line in [`ROUTES`]: method, template, parameter kinds, `Public` or `Private`,
//!    and the handler. The tests walk the table: the OpenAPI document must list the same
//!    operations, the fuzzer, the fault sweep and the upgrade walk reach it, and the
//!    benchmark refuses to start until it measures it or says why not.
//! 3. The handler in `api/<group>.rs`: input through `api::input` (body shapes live
//!    there), `Authorized::owner` or `Authorized::caller` if it needs a token (then
//!    `caller.input(…)` for its input), the answer from an `api::wire` type.
//! 4. The store function in `store/<table group>.rs`: its statements as `const`s, a
//!    read made with `db::read!` (rows read by column name), a change as a `db::Write`
//!    (it does not compile without the schema condition); a change one statement
//!    cannot say goes in `db.transaction(|tx| …)`, with the fewest statements inside.
//! 5. A new failure: a variant of `StoreError` or `ApiError`, and its status and code
//!    in `error.rs`.
//! 6. Tests in `tests/api/`: the route's answers on both stores (`store_tests!`), its
//!    statements in `statements.rs` (and `docs/database.md`'s cost table), its faults.

pub mod api;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod log;
pub mod random;
pub mod router;
pub mod store;

use ::http::Method;
use http::Reply;
use router::Param::{Favorite, Pokemon, User};
use router::Privacy::{Private, Public};
use router::{route, Route};
#[cfg(target_arch = "wasm32")]
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
#[cfg(target_arch = "wasm32")]
use spin_sdk::http_component;

pub use router::{allowed, route_request};

/// The OpenAPI 3.1 description of this API, served as written.
pub const OPENAPI: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

// Only the wasm build exports the handler: a native build (unit tests) has no Spin host
// to call it, and the export's name is not a valid native symbol.
#[cfg(target_arch = "wasm32")]
#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    http::serve(incoming, out, route_request).await
}

// The methods the table uses, by their names.
const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

/// The route catalogue: every operation, in one place. Routing, 404 and 405 with
/// `Allow`, `HEAD`, which answers say `no-store`, the log's route name, and the tests'
/// walks over every operation all come from it; a test checks it against
/// `openapi.json`.
#[rustfmt::skip] // a table: one line per operation
pub static ROUTES: [Route; 16] = [
    route(GET,    "/health/live",                          &[],               Public,  |_, _, _| api::health::live()),
    route(GET,    "/health",                               &[],               Public,  |_, db, _| api::health::check(db)),
    route(POST,   "/api/auth/register",                    &[],               Private, |r, db, _| api::auth::register(r, db)),
    route(POST,   "/api/auth/login",                       &[],               Private, |r, db, _| api::auth::login(r, db)),
    route(POST,   "/api/auth/logout",                      &[],               Private, |r, db, _| api::auth::logout(r, db)),
    route(GET,    "/api/users/me",                         &[],               Private, |r, db, _| api::users::me(r, db)),
    route(GET,    "/api/users/{id}",                       &[User],           Private, |r, db, p| api::users::get(r, db, p.user()?)),
    route(DELETE, "/api/users/{id}",                       &[User],           Private, |r, db, p| api::users::delete(r, db, p.user()?)),
    route(PUT,    "/api/users/{id}/password",              &[User],           Private, |r, db, p| api::users::change_password(r, db, p.user()?)),
    route(GET,    "/api/users/{id}/favorites",             &[User],           Private, |r, db, p| api::favorites::list(r, db, p.user()?)),
    route(POST,   "/api/users/{id}/favorites",             &[User],           Private, |r, db, p| api::favorites::add(r, db, p.user()?)),
    route(PUT,    "/api/users/{id}/favorites",             &[User],           Private, |r, db, p| api::favorites::replace(r, db, p.user()?)),
    route(DELETE, "/api/users/{id}/favorites/{pokemon_id}", &[User, Favorite], Private, |r, db, p| api::favorites::remove(r, db, p.user()?, p.pokemon()?)),
    route(GET,    "/api/pokemon",                          &[],               Public,  |r, db, _| api::pokemon::search(r, db)),
    route(GET,    "/api/pokemon/{id}",                     &[Pokemon],        Public,  |_, db, p| api::pokemon::get(db, p.pokemon()?.get())),
    route(GET,    "/api/openapi.json",                     &[],               Public,  |_, _, _| Ok(Reply::json_text(OPENAPI))),
];
