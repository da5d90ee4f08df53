//! Tests of the test host itself, an integration test of this crate: they pass against
//! any component that answers `GET /health/live` with 200, and check the host's own
//! rules (manifest, variables, Spin headers, libSQL error texts, fault counting) without
//! the component. Like the black-box suite, they run the compiled `pokefavs.wasm` (see
//! [`pokefavs_test_host::host`] for where it is looked for), so build it first.

use std::time::Duration;

use pokefavs_test_host::host::sqlite::{
    code_name_for_message, libsql_refuses, libsql_wrap, primary_code_name,
};
use pokefavs_test_host::host::{messages, spin_request, temp_db, Host, HostConfig, Manifest};

/// A manifest shaped like the repository's, so these tests do not depend on it.
const MANIFEST: &str = r#"
spin_manifest_version = 2

[application]
name = "pokefavs"
version = "0.1.0"

[variables]
jwt_secret = { required = true, secret = true }
token_ttl_seconds = { default = "3600" }

[[trigger.http]]
route = "/..."
component = "pokefavs"

[component.pokefavs]
source = "target/wasm32-wasip2/release/pokefavs.wasm"
sqlite_databases = ["default"]
allowed_outbound_hosts = []

[component.pokefavs.variables]
jwt_secret = "{{ jwt_secret }}"
token_ttl_seconds = "{{token_ttl_seconds}}"
greeting = "ttl is {{ token_ttl_seconds }} seconds"
"#;

fn host() -> Host {
    Host::new(HostConfig::new(temp_db("selftest")).manifest(MANIFEST))
        .expect("host with the test manifest")
}

fn get(path: &str) -> http::Request<Vec<u8>> {
    http::Request::get(path)
        .body(Vec::new())
        .expect("a valid request")
}

#[test]
fn a_request_round_trips_through_a_fresh_instance() {
    let host = host();
    for _ in 0..3 {
        let res = host.request(get("/health/live"));
        assert_eq!(res.status, 200, "stderr: {}", res.stderr);
        assert_eq!(res.trap, None);
        assert!(!res.body.is_empty());
        assert_eq!(res.stats.opens, 0, "/health/live must not open a database");
    }
}

#[test]
fn many_threads_can_share_one_host() {
    let host = host();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..5 {
                    assert_eq!(host.request(get("/health/live")).status, 200);
                }
            });
        }
    });
}

#[test]
fn requests_work_from_inside_a_tokio_runtime() {
    let host = host();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let status = rt.block_on(async { host.request(get("/health/live")).status });
    assert_eq!(status, 200);
}

#[test]
fn instantiating_without_a_request_works() {
    let host = host();
    host.instantiate_idle();
    assert!(host.compile_time() > Duration::ZERO);
}

#[test]
fn a_missing_required_variable_fails_host_creation_like_spin_up() {
    let cfg = HostConfig::new(temp_db("selftest"))
        .manifest(MANIFEST)
        .without_variable("jwt_secret");
    let err = Host::new(cfg).err().expect("spin up would refuse to start");
    assert!(err.to_string().contains("jwt_secret"), "{err:#}");
}

#[test]
fn component_variables_render_their_templates() {
    let host = Host::new(
        HostConfig::new(temp_db("selftest"))
            .manifest(MANIFEST)
            .variable("token_ttl_seconds", "60"),
    )
    .expect("host");
    let vars = host.variables();
    assert_eq!(
        vars["jwt_secret"],
        pokefavs_test_host::host::TEST_JWT_SECRET
    );
    assert_eq!(vars["token_ttl_seconds"], "60");
    assert_eq!(vars["greeting"], "ttl is 60 seconds");
    assert_eq!(pokefavs_test_host::host::TEST_JWT_SECRET.len(), 40);
}

#[test]
fn the_manifest_gives_the_component_its_databases_and_routes() {
    let m = Manifest::parse(MANIFEST).expect("valid manifest");
    assert_eq!(m.component_id, "pokefavs");
    assert_eq!(m.sqlite_databases, ["default"]);
    assert_eq!(m.routes, ["/..."]);
    assert!(m.app_variables["jwt_secret"].required);
    assert!(m.app_variables["jwt_secret"].secret);
    assert_eq!(
        m.app_variables["token_ttl_seconds"].default.as_deref(),
        Some("3600")
    );

    let without = MANIFEST.replace("sqlite_databases = [\"default\"]\n", "");
    assert!(Manifest::parse(&without)
        .expect("valid manifest")
        .sqlite_databases
        .is_empty());
}

#[test]
fn bad_manifests_are_refused() {
    let cases = [
        ("wrong version", MANIFEST.replace("= 2", "= 1")),
        (
            "undeclared variable in a template",
            MANIFEST.replace("{{token_ttl_seconds}}", "{{ ttl }}"),
        ),
        (
            "uppercase variable name",
            MANIFEST.replace("greeting =", "Greeting ="),
        ),
        (
            "no route to the component",
            MANIFEST.replace("component = \"pokefavs\"", "component = \"other\""),
        ),
    ];
    for (what, text) in cases {
        assert!(Manifest::parse(&text).is_err(), "{what} was accepted");
    }
}

#[test]
fn a_granted_database_without_configuration_fails_host_creation() {
    let cfg = HostConfig::new(temp_db("selftest"))
        .manifest(MANIFEST)
        .sqlite_databases(&["default", "audit"]);
    assert!(Host::new(cfg.clone()).is_err());

    let mut lenient = cfg.clone();
    lenient.check_databases = false;
    assert!(Host::new(lenient).is_ok());
    assert!(Host::new(cfg.database("audit", temp_db("audit"))).is_ok());
}

#[test]
fn requests_carry_spin_url_and_headers_with_the_path_as_sent() {
    let req = http::Request::post("/api/users/1/../2?limit=5&x=%2F")
        .body(b"{}".to_vec())
        .expect("request");
    let req = spin_request(req);
    assert_eq!(
        req.uri().to_string(),
        "http://127.0.0.1:3000/api/users/1/../2?limit=5&x=%2F"
    );
    let h = |name: &str| req.headers()[name].to_str().expect("ascii");
    assert_eq!(
        h("spin-full-url"),
        "http://127.0.0.1:3000/api/users/1/../2?limit=5&x=%2F"
    );
    assert_eq!(h("spin-path-info"), "/api/users/1/../2");
    assert_eq!(h("spin-matched-route"), "/...");
    assert_eq!(h("spin-raw-component-route"), "/...");
    assert_eq!(h("spin-component-route"), "");
    assert_eq!(h("spin-base-path"), "/");
    assert_eq!(h("spin-client-addr"), "127.0.0.1:54321");
    assert_eq!(h("host"), "127.0.0.1:3000");
    assert_eq!(h("content-length"), "2");
}

#[test]
fn libsql_errors_wrap_sqlites_message_with_the_primary_code() {
    assert_eq!(
        libsql_wrap("SQLITE_CONSTRAINT", "UNIQUE constraint failed: p.id"),
        "Hrana: `cursor error: `error at step 0: (error code: SQLITE_CONSTRAINT) \
         `SQLite error: UNIQUE constraint failed: p.id```"
    );
    // Extended codes reduce to their primary code: SQLITE_CONSTRAINT_UNIQUE = 2067.
    assert_eq!(primary_code_name(2067), "SQLITE_CONSTRAINT");
    assert_eq!(primary_code_name(5), "SQLITE_BUSY");
    assert_eq!(primary_code_name(266), "SQLITE_IOERR");
    assert_eq!(code_name_for_message(messages::LOCKED), "SQLITE_BUSY");
    assert_eq!(code_name_for_message(messages::DISK_IO), "SQLITE_IOERR");
    assert_eq!(code_name_for_message(messages::FULL), "SQLITE_FULL");
    assert_eq!(
        code_name_for_message(messages::FOREIGN_KEY),
        "SQLITE_CONSTRAINT"
    );
}

#[test]
fn libsql_refuses_only_the_pragmas_the_server_owns() {
    for sql in [
        "PRAGMA journal_mode = WAL",
        "pragma busy_timeout=5000",
        "  PRAGMA synchronous",
        "PRAGMA main.journal_mode",
        "PRAGMA synchronous(NORMAL);",
    ] {
        assert!(libsql_refuses(sql), "{sql}");
    }
    for sql in [
        "PRAGMA foreign_keys = ON",
        "PRAGMA user_version",
        "SELECT 'PRAGMA journal_mode'",
        "pragmatic",
    ] {
        assert!(!libsql_refuses(sql), "{sql}");
    }
}

#[test]
fn a_test_database_goes_away_with_its_last_owner_even_after_a_panic() {
    let db = temp_db("cleanup");
    std::fs::write(&*db, b"x").unwrap();
    let dir = db.parent().unwrap().to_path_buf();
    let host = Host::new(HostConfig::new(&db).manifest(MANIFEST)).expect("host");
    drop(db);
    assert!(dir.exists(), "the host still owns it");
    drop(host);
    assert!(!dir.exists(), "{} is left behind", dir.display());

    let (sender, receiver) = std::sync::mpsc::channel();
    let failed = std::thread::spawn(move || {
        let db = temp_db("cleanup-panic");
        std::fs::write(&*db, b"x").unwrap();
        sender.send(db.parent().unwrap().to_path_buf()).unwrap();
        panic!("a failing test");
    })
    .join();
    assert!(failed.is_err());
    let dir = receiver.recv().unwrap();
    // Kept only when POKEFAVS_KEEP_DB=1 is set for the run.
    let keep = std::env::var_os("POKEFAVS_KEEP_DB").is_some_and(|v| v == "1");
    assert_eq!(dir.exists(), keep, "{}", dir.display());
}
