//! `TestApp`: one component on its own fresh database file, with a method per route,
//! so a test reads like a client's session. Every answer it gets is held to
//! `openapi.json` and checked for leaks ([`check_response`]).

use crate::host::{temp_db, Host, HostConfig, HostResponse, StoreMode};
use crate::{openapi_check, request};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::OnceLock;

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub password: String,
    pub token: String,
}

/// The component on a fresh database of its own.
pub struct TestApp {
    pub host: Host,
    pub mode: StoreMode,
}

impl TestApp {
    pub fn new(mode: StoreMode) -> TestApp {
        Self::with(mode, |cfg| cfg)
    }

    /// A test app whose host configuration `adjust` changes first.
    pub fn with(mode: StoreMode, adjust: impl FnOnce(HostConfig) -> HostConfig) -> TestApp {
        let mut cfg = HostConfig::new(temp_db("api"));
        if mode == StoreMode::Libsql {
            cfg = cfg.libsql();
        }
        let host = Host::new(adjust(cfg)).expect("the host starts");
        TestApp { host, mode }
    }

    pub fn db_path(&self) -> &Path {
        self.host.db_path()
    }

    /// Sends a request. `body` as JSON sets `content-type: application/json`.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> HostResponse {
        self.send_with(method, path, token, body, &[])
    }

    /// Sends a request as [`TestApp::send`] does, with these headers added.
    pub fn send_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> HostResponse {
        let request = with_headers(request::request(method, path, token, body), headers);
        self.checked(method, path, request)
    }

    /// Sends a request as [`TestApp::send_with`] does, over a connection from
    /// `client_addr` (`host:port`, as Spin writes `spin-client-addr`).
    pub fn send_from(
        &self,
        client_addr: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> HostResponse {
        let mut request = with_headers(request::request(method, path, None, body), headers);
        request
            .extensions_mut()
            .insert(crate::host::ClientAddr(client_addr.to_string()));
        self.checked(method, path, request)
    }

    /// Sends a request exactly as given (raw headers and bytes).
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HostResponse {
        self.checked(method, path, request::raw(method, path, headers, body))
    }

    /// Sends `request` and holds the answer to [`check_response`].
    /// `POKEFAVS_OLDER_CONTRACT=1` skips the check: for a benchmark's "before" run of
    /// an older component, which answers the contract of its own day, not this one.
    fn checked(&self, method: &str, path: &str, request: http::Request<Vec<u8>>) -> HostResponse {
        let response = self.host.request(request);
        if std::env::var_os("POKEFAVS_OLDER_CONTRACT").is_none() {
            check_response(method, path, &response);
        }
        response
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> HostResponse {
        self.send("GET", path, token, None)
    }

    pub fn register(&self, username: &str, password: &str) -> HostResponse {
        let body = request::credentials(username, password);
        self.send("POST", "/api/auth/register", None, Some(&body))
    }

    pub fn login(&self, username: &str, password: &str) -> HostResponse {
        let body = request::credentials(username, password);
        self.send("POST", "/api/auth/login", None, Some(&body))
    }

    /// A login from another client address (`spin-client-addr`, `host:port`).
    pub fn login_from(&self, client_addr: &str, username: &str, password: &str) -> HostResponse {
        let body = request::credentials(username, password);
        self.send_from(client_addr, "POST", "/api/auth/login", Some(&body), &[])
    }

    /// Registers and logs in a user (password `<username>-password`), asserting both
    /// succeed.
    pub fn user(&self, username: &str) -> TestUser {
        self.user_with_password(username, &format!("{username}-password"))
    }

    /// Registers and logs in a user with this password, asserting both succeed.
    pub fn user_with_password(&self, username: &str, password: &str) -> TestUser {
        let registered = self.register(username, password);
        assert_eq!(
            registered.status,
            201,
            "register {username}: {}",
            registered.text()
        );
        let logged_in = self.login(username, password);
        assert_eq!(
            logged_in.status,
            200,
            "login {username}: {}",
            logged_in.text()
        );
        TestUser {
            id: registered.json()["id"].as_i64().expect("an id"),
            username: username.to_string(),
            password: password.to_string(),
            token: logged_in.json()["access_token"]
                .as_str()
                .expect("a token")
                .to_string(),
        }
    }

    pub fn me(&self, token: &str) -> HostResponse {
        self.get("/api/users/me", Some(token))
    }

    pub fn favorites(&self, user: &TestUser) -> HostResponse {
        self.get(
            &format!("/api/users/{}/favorites", user.id),
            Some(&user.token),
        )
    }

    pub fn add_favorite(&self, user: &TestUser, pokemon_id: i64) -> HostResponse {
        self.send(
            "POST",
            &format!("/api/users/{}/favorites", user.id),
            Some(&user.token),
            Some(&json!({ "pokemon_id": pokemon_id })),
        )
    }

    pub fn replace_favorites(&self, user: &TestUser, ids: &[i64]) -> HostResponse {
        self.send(
            "PUT",
            &format!("/api/users/{}/favorites", user.id),
            Some(&user.token),
            Some(&json!({ "pokemon_ids": ids })),
        )
    }

    pub fn remove_favorite(&self, user: &TestUser, pokemon_id: i64) -> HostResponse {
        self.send(
            "DELETE",
            &format!("/api/users/{}/favorites/{pokemon_id}", user.id),
            Some(&user.token),
            None,
        )
    }

    pub fn delete_user(&self, user: &TestUser) -> HostResponse {
        self.send(
            "DELETE",
            &format!("/api/users/{}", user.id),
            Some(&user.token),
            None,
        )
    }

    /// `POST /api/auth/logout` with this token.
    pub fn logout(&self, token: &str) -> HostResponse {
        self.send("POST", "/api/auth/logout", Some(token), None)
    }

    /// `PUT /api/users/{id}/password` with the user's token.
    pub fn change_password(&self, user: &TestUser, current: &str, new: &str) -> HostResponse {
        self.send(
            "PUT",
            &format!("/api/users/{}/password", user.id),
            Some(&user.token),
            Some(&json!({ "current_password": current, "new_password": new })),
        )
    }

    /// The ids of a user's favorites straight from the database file, in list order.
    pub fn favorite_ids_in_db(&self, user_id: i64) -> Vec<i64> {
        self.query_ints(
            "SELECT pokemon_id FROM favorites WHERE user_id = ?1 ORDER BY id",
            user_id,
        )
    }

    /// Runs a one-parameter query on the database file and returns its first column.
    pub fn query_ints(&self, sql: &str, param: i64) -> Vec<i64> {
        let conn = rusqlite::Connection::open(self.db_path()).expect("open the test database");
        let mut statement = conn.prepare(sql).expect("prepare");
        statement
            .query_map([param], |row| row.get::<_, i64>(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    /// Every row of every table, as text: two equal dumps mean an unchanged database.
    pub fn dump(&self) -> String {
        dump(self.db_path())
    }
}

/// `request` with `headers` appended after its own.
fn with_headers(
    mut request: http::Request<Vec<u8>>,
    headers: &[(&str, &str)],
) -> http::Request<Vec<u8>> {
    for (name, value) in headers {
        let value = http::HeaderValue::from_bytes(value.as_bytes()).expect("a header value");
        request.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            value,
        );
    }
    request
}

/// What every response of every test is held to: it matches `openapi.json` for its
/// route and status, and its body leaks no SQL, hash, panic or file path.
pub fn check_response(method: &str, path: &str, response: &HostResponse) {
    if response.trap.is_some() {
        return; // the host synthesised this answer; the guest never sent one
    }
    static DOC: OnceLock<Value> = OnceLock::new();
    let doc = DOC.get_or_init(openapi_check::document);
    let headers: Vec<(String, String)> = response
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    if let Err(err) = openapi_check::validate_response(
        doc,
        method,
        path,
        response.status,
        response.header("content-type"),
        &headers,
        &response.body,
    ) {
        panic!(
            "{method} {path} -> {} breaks openapi.json: {err}\n{}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
    if path.starts_with("/api/openapi.json") {
        return;
    }
    let body = String::from_utf8_lossy(&response.body).to_lowercase();
    for leak in [
        "select ",
        "insert ",
        "delete from",
        "sqlite",
        "constraint",
        "$argon2",
        "panicked",
        "src/",
        "/work/",
        "/tmp/",
        "backtrace",
    ] {
        assert!(
            !body.contains(leak),
            "{method} {path}: the body leaks `{leak}`: {body}"
        );
    }
}

/// Every row of every table of the file at `path`, in a stable order.
pub fn dump(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).expect("open the test database");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("list tables");
    let mut out = String::new();
    for table in tables {
        out.push_str(&format!("== {table}\n"));
        // In rowid order; a WITHOUT ROWID table (it has no rowid) in its key's order.
        let mut statement = conn
            .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid"))
            .or_else(|_| conn.prepare(&format!("SELECT * FROM \"{table}\"")))
            .expect("select");
        let columns = statement.column_count();
        let mut rows = statement.query([]).expect("query");
        while let Some(row) = rows.next().expect("row") {
            let cells: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).expect("cell")))
                .collect();
            out.push_str(&cells.join("|"));
            out.push('\n');
        }
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("user_version");
    out.push_str(&format!("user_version={version}\n"));
    out
}
