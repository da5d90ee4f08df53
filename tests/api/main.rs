//! Black-box tests of the pokefavs component, run on an in-process Spin-like host.
//!
//! One test binary: the component is compiled once and instantiated per request.
//! Each test has its own database file; `store_tests!` runs a test on local SQLite and
//! on the libSQL-like store.

// The test host lives in crates/test-host; its modules keep their `crate::` paths here.
use pokefavs_test_host::{host, openapi_check};

mod helpers;

mod accounts;
mod auth;
mod concurrency;
mod conventions;
mod crash;
mod deploy;
mod faults;
mod favorites;
mod fuzz;
mod health;
mod hostile;
mod idempotency;
mod migrations;
mod openapi;
mod openapi_document;
mod openapi_responses;
mod pokemon;
mod route_table;
mod routing;
mod statements;
mod transactions;
mod upgrade;
mod users;
mod versions;
mod write_path;
