//! Black-box tests of the pokefavs component, run on an in-process Spin-like host.
//!
//! One test binary: the component is compiled once and instantiated per request.
//! Each test has its own database file; `store_tests!` runs a test on local SQLite and
//! on the libSQL-like store.

mod helpers;
mod host;
mod host_selftest;
mod openapi_check;

mod auth;
mod concurrency;
mod conventions;
mod crash;
mod faults;
mod favorites;
mod fuzz;
mod health;
mod migrations;
mod openapi;
mod pokemon;
mod routing;
mod statements;
mod transactions;
mod users;
