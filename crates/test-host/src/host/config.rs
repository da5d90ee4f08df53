//! What a test chooses about its host before creating it: the store flavour, the
//! manifest, variables and environment, databases and startup SQL ([`HostConfig`]).
//! Everything has the default a plain `spin up` of the repository would have.

use std::path::PathBuf;
use std::time::Duration;

use super::temp_db::{DbFile, TempDb};

/// The `jwt_secret` that [`HostConfig::new`] provides: 40 bytes, above the 32-byte minimum.
pub const TEST_JWT_SECRET: &str = "test-secret-0123456789-abcdefghijklmnopq";

/// Which kind of `spin:sqlite` backend the host pretends to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// Spin's built-in SQLite (`spin up` default).
    Local,
    /// Spin pointed at sqld through a runtime config: some PRAGMAs are refused and error
    /// texts are wrapped (see [`libsql_wrap`](super::sqlite::libsql_wrap)).
    Libsql,
}

/// Everything a test can choose about its host.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The file behind the `default` database label.
    pub db_path: PathBuf,
    pub store: StoreMode,
    /// Provided values of application variables (like `SPIN_VARIABLE_<NAME>`), by
    /// lowercase name; a later entry overrides an earlier one.
    pub variables: Vec<(String, String)>,
    /// Manifest text to use instead of the repository's `spin.toml`.
    pub manifest: Option<String>,
    /// Busy timeout of every connection the guest opens (Spin: 5 s).
    pub busy_timeout: Duration,
    /// Replaces the component's `sqlite_databases` grant from the manifest.
    pub sqlite_databases: Option<Vec<String>>,
    /// Databases configured besides `default` → `db_path` (like runtime-config
    /// `[sqlite_database.<label>]`); an entry for `default` overrides `db_path`.
    pub databases: Vec<(String, PathBuf)>,
    /// Fail `Host::new`, as `spin up` does, when a granted label has no database.
    /// Turn off to let `open` answer `no-such-database` instead.
    pub check_databases: bool,
    /// SQL run as one batch on the default database when the host is created, like
    /// `spin up --sqlite @file`.
    pub startup_sql: Option<String>,
    /// Another component file to run (no staleness check).
    pub wasm_path: Option<PathBuf>,
    /// WASI environment variables of the component, over the manifest's `environment`
    /// (like `spin up --env NAME=VALUE`); a later entry overrides an earlier one.
    pub environment: Vec<(String, String)>,
    /// Test databases that must live as long as the host.
    pub(super) owners: Vec<TempDb>,
}

impl HostConfig {
    /// Defaults like a plain `spin up` of the repository with `jwt_secret` provided.
    pub fn new(db: impl Into<DbFile>) -> Self {
        let db = db.into();
        HostConfig {
            db_path: db.path,
            owners: db.owner.into_iter().collect(),
            store: StoreMode::Local,
            // Registrations are counted (every test that registers runs that statement)
            // but never refused: most tests register several users from one address.
            // The tests of the limit set their own.
            variables: vec![
                ("jwt_secret".to_string(), TEST_JWT_SECRET.to_string()),
                ("register_address_limit".to_string(), "1000000".to_string()),
            ],
            manifest: None,
            busy_timeout: Duration::from_millis(5000),
            sqlite_databases: None,
            databases: Vec::new(),
            check_databases: true,
            startup_sql: None,
            wasm_path: None,
            environment: Vec::new(),
        }
    }

    /// Set (or override) an environment variable of the component, as `spin up --env`.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.environment.retain(|(n, _)| n != name);
        self.environment.push((name.to_string(), value.to_string()));
        self
    }

    /// Provide (or override) an application variable.
    pub fn variable(mut self, name: &str, value: &str) -> Self {
        self.variables.retain(|(n, _)| n != name);
        self.variables.push((name.to_string(), value.to_string()));
        self
    }

    /// Stop providing an application variable.
    pub fn without_variable(mut self, name: &str) -> Self {
        self.variables.retain(|(n, _)| n != name);
        self
    }

    /// Spin pointed at a libSQL server, deployed as docs/operations.md says: with
    /// `POKEFAVS_DB_SYNCHRONOUS=server`, so that writes send no `PRAGMA synchronous`
    /// for the server to refuse.
    pub fn libsql(mut self) -> Self {
        self.store = StoreMode::Libsql;
        self.env("POKEFAVS_DB_SYNCHRONOUS", "server")
    }

    pub fn manifest(mut self, text: &str) -> Self {
        self.manifest = Some(text.to_string());
        self
    }

    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    pub fn sqlite_databases(mut self, labels: &[&str]) -> Self {
        self.sqlite_databases = Some(labels.iter().map(|l| l.to_string()).collect());
        self
    }

    /// Configure the database file behind `label`. An unopenable path (a directory,
    /// say) makes the first `execute` fail with `io("unable to open database file: ..")`:
    /// like Spin, `open` itself does not touch the file.
    pub fn database(mut self, label: &str, db: impl Into<DbFile>) -> Self {
        let db = db.into();
        self.databases.push((label.to_string(), db.path));
        self.owners.extend(db.owner);
        self
    }

    /// Run the repository's `migrations.sql` at host creation, like
    /// `spin up --sqlite @migrations.sql`.
    pub fn with_migrations(mut self) -> Self {
        let path = crate::repo_root().join("migrations.sql");
        let sql = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        self.startup_sql = Some(sql);
        self
    }
}
