//! Every failure of the store, classified once: a Spin interface error or SQLite's own
//! phrase inside the host's text (local SQLite says `UNIQUE constraint failed: …`, libSQL
//! wraps the same phrase in a `Hrana: …` envelope), as a [`DbError`] the layers above
//! map to answers.

use super::SCHEMA_VERSION;
use spin_sdk::sqlite3::Error as SpinError;

/// A classified database failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// The store cannot serve the request now but may soon (a transient failure); the
    /// text is the host's message, for the log.
    Unavailable(Outage, String),
    /// A constraint refused the statement; the caller decides what that means.
    Constraint(Constraint),
    /// The statement itself was refused by the server (libSQL refuses some PRAGMAs).
    Unsupported(String),
    /// A table or column the statement names does not exist: the file may be older
    /// than this build (or empty), see [`Db::query`].
    SchemaMissing(String),
    /// The file's schema is newer than this build (a deploy rolled back): it is never
    /// written, and no route may read it as if it knew its layout.
    SchemaAhead(i64),
    /// The file was behind this build and bringing it forward failed (not for a
    /// transient reason: those are [`DbError::Unavailable`]); the text is for the log.
    MigrationFailed(String),
    /// Anything else: an internal error.
    Other(String),
}

/// Why the store is unavailable. Each kind is transient: the same request may succeed
/// once the lock is released, the disk has room, or the server is back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Locked past the busy timeout (local SQLite, or `SQLITE_BUSY` from the server).
    Locked,
    /// The disk is full.
    Full,
    /// The manifest does not grant the database.
    Denied,
    /// The file cannot be opened, no database has the label, or (libSQL) Spin cannot
    /// build its client.
    CannotOpen,
    /// A libSQL server that cannot be reached: refused, reset, DNS, shutting down.
    Unreachable,
    /// A libSQL server that dropped this request's work: a statement interrupted, a
    /// transaction timed out, a stream expired or unknown to it, too many requests.
    ServerBusy,
    /// The operating system failed a read, write or lock of the file (`SQLITE_IOERR`,
    /// `SQLITE_PROTOCOL`): SQLite rolled the statement back, and the same request may
    /// succeed a moment later.
    DiskError,
}

impl Outage {
    /// The short reason `/health` shows a monitor.
    pub fn reason(self) -> &'static str {
        match self {
            Outage::Locked => "database is locked",
            Outage::Full => "database is full",
            Outage::Denied => "access denied",
            Outage::CannotOpen => "database cannot be opened",
            Outage::Unreachable => "database server is unreachable",
            Outage::ServerBusy => "database server dropped the request",
            Outage::DiskError => "database file I/O failed",
        }
    }
}

/// The phrases that mark a failure as transient, wherever they sit in the host's text,
/// and what kind of outage each one is. Where each comes from is in `docs/database.md`
/// ("When the server is down or busy"). A failure that will not go away by itself is **not** here, so it
/// is a 500 that an operator must look at, never a 503 that invites clients to retry:
/// a file that is not a database (`SQLITE_NOTADB`) or is corrupt (`SQLITE_CORRUPT`), an
/// authorizer that denies the statement (`SQLITE_AUTH`), a read-only file
/// (`SQLITE_READONLY`), and anything unknown.
const OUTAGES: [(&str, Outage); 32] = [
    // SQLite's own messages and result codes (local, or inside libSQL's envelope).
    ("database is locked", Outage::Locked),
    ("database table is locked", Outage::Locked),
    ("database schema is locked", Outage::Locked),
    ("SQLITE_BUSY", Outage::Locked),
    ("SQLITE_LOCKED", Outage::Locked),
    ("database or disk is full", Outage::Full),
    ("SQLITE_FULL", Outage::Full),
    ("unable to open database", Outage::CannotOpen),
    ("disk I/O error", Outage::DiskError),
    ("SQLITE_IOERR", Outage::DiskError),
    ("locking protocol", Outage::DiskError),
    ("SQLITE_PROTOCOL", Outage::DiskError),
    // The libSQL client's transport errors (`Hrana: `http error: …``, hyper's texts).
    // Not `http error` as such: a request the client cannot even build, or a TLS
    // certificate it refuses, is configuration, not an outage (`Other`).
    ("tcp connect error", Outage::Unreachable),
    ("dns error", Outage::Unreachable),
    (
        "connection closed before message completed",
        Outage::Unreachable,
    ),
    ("connection error", Outage::Unreachable),
    ("Namespace store has shutdown", Outage::Unreachable),
    // A proxy in front of the server while it restarts (the body of a non-200 answer).
    ("Bad Gateway", Outage::Unreachable),
    ("Service Unavailable", Outage::Unreachable),
    ("Gateway Timeout", Outage::Unreachable),
    ("Gateway Time-out", Outage::Unreachable),
    // sqld dropped this request's work; nothing of it was kept.
    ("SQLITE_INTERRUPT", Outage::ServerBusy),
    ("SQLite error: interrupted", Outage::ServerBusy),
    ("TRANSACTION_TIMEOUT", Outage::ServerBusy),
    ("Transaction timed out", Outage::ServerBusy),
    ("STREAM_EXPIRED", Outage::ServerBusy),
    ("The stream has expired", Outage::ServerBusy),
    ("baton", Outage::ServerBusy),
    ("cursor stream ended prematurely", Outage::ServerBusy),
    ("stream closed", Outage::ServerBusy),
    ("Too many concurrent requests", Outage::ServerBusy),
    (
        "Timed out while opening database connection",
        Outage::ServerBusy,
    ),
];

/// Which constraint failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// `UNIQUE constraint failed: <table.column, …>`
    Unique(String),
    ForeignKey,
    Other(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Unavailable(_, why) => write!(f, "database unavailable: {why}"),
            DbError::Constraint(Constraint::Unique(cols)) => {
                write!(f, "UNIQUE constraint failed: {cols}")
            }
            DbError::Constraint(Constraint::ForeignKey) => {
                write!(f, "FOREIGN KEY constraint failed")
            }
            DbError::Constraint(Constraint::Other(why)) => write!(f, "constraint failed: {why}"),
            DbError::Unsupported(why) => write!(f, "unsupported statement: {why}"),
            DbError::SchemaMissing(why) => write!(f, "database error: {why}"),
            DbError::SchemaAhead(version) => write!(
                f,
                "schema version {version} is newer than the {SCHEMA_VERSION} this build knows"
            ),
            DbError::MigrationFailed(why) => {
                write!(f, "migration to schema version {SCHEMA_VERSION}: {why}")
            }
            DbError::Other(why) => write!(f, "database error: {why}"),
        }
    }
}

/// Turns a `UNIQUE` violation into the caller's own answer at the call site (the one
/// place that knows what the constraint means there); any other failure passes on as
/// the caller's error type.
pub trait OnUnique<T> {
    fn on_unique<E: From<DbError>>(self, answer: impl FnOnce() -> E) -> Result<T, E>;
}

impl<T> OnUnique<T> for Result<T, DbError> {
    fn on_unique<E: From<DbError>>(self, answer: impl FnOnce() -> E) -> Result<T, E> {
        self.map_err(|err| match err {
            DbError::Constraint(Constraint::Unique(_)) => answer(),
            other => other.into(),
        })
    }
}

/// Classifies an error of the Spin SQLite interface.
pub(super) fn classify(err: SpinError) -> DbError {
    match err {
        SpinError::NoSuchDatabase => {
            DbError::Unavailable(Outage::CannotOpen, "no such database: default".into())
        }
        SpinError::AccessDenied => DbError::Unavailable(
            Outage::Denied,
            "access to database 'default' denied by spin.toml".into(),
        ),
        // Spin's libSQL backend answers this when it cannot build its client.
        SpinError::InvalidConnection => {
            DbError::Unavailable(Outage::CannotOpen, "invalid connection".into())
        }
        SpinError::DatabaseFull => DbError::Unavailable(Outage::Full, "database is full".into()),
        SpinError::Io(text) => classify_message(&text),
    }
}

/// Classifies a host error message by the SQLite phrase inside it, wherever it sits.
pub fn classify_message(text: &str) -> DbError {
    const UNIQUE: &str = "UNIQUE constraint failed: ";
    if let Some(start) = text.find(UNIQUE) {
        let rest = &text[start + UNIQUE.len()..];
        let end = rest.find(['`', '\n']).unwrap_or(rest.len());
        return DbError::Constraint(Constraint::Unique(rest[..end].trim().to_string()));
    }
    if text.contains("FOREIGN KEY constraint failed") {
        return DbError::Constraint(Constraint::ForeignKey);
    }
    if text.contains("constraint failed") || text.contains("SQLITE_CONSTRAINT") {
        return DbError::Constraint(Constraint::Other(text.to_string()));
    }
    if let Some((_, outage)) = OUTAGES.iter().find(|(phrase, _)| text.contains(phrase)) {
        return DbError::Unavailable(*outage, text.to_string());
    }
    if text.contains("no such table") || text.contains("no such column") {
        return DbError::SchemaMissing(text.to_string());
    }
    if text.trim() == "unsupported statement" {
        return DbError::Unsupported(text.to_string());
    }
    DbError::Other(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_unique_violation_names_its_columns() {
        assert_eq!(
            classify_message("UNIQUE constraint failed: users.username"),
            DbError::Constraint(Constraint::Unique("users.username".into()))
        );
    }

    #[test]
    fn a_libsql_unique_violation_is_found_inside_the_hrana_envelope() {
        let text = "Hrana: `cursor error: `error at step 0: (error code: SQLITE_CONSTRAINT) \
                    `SQLite error: UNIQUE constraint failed: favorites.user_id, favorites.pokemon_id```";
        assert_eq!(
            classify_message(text),
            DbError::Constraint(Constraint::Unique(
                "favorites.user_id, favorites.pokemon_id".into()
            ))
        );
    }

    #[test]
    fn foreign_key_failures_are_recognised_in_both_forms() {
        for text in [
            "FOREIGN KEY constraint failed",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_CONSTRAINT) `SQLite error: FOREIGN KEY constraint failed```",
        ] {
            assert_eq!(
                classify_message(text),
                DbError::Constraint(Constraint::ForeignKey)
            );
        }
    }

    #[test]
    fn locks_full_disks_and_unopenable_files_make_the_store_unavailable() {
        for text in [
            "database is locked",
            "database or disk is full",
            "unable to open database file",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_BUSY) `SQLite error: database is locked```",
        ] {
            assert!(
                matches!(classify_message(text), DbError::Unavailable(..)),
                "{text}"
            );
        }
    }

    #[test]
    fn a_libsql_server_that_cannot_be_reached_is_an_outage() {
        for text in [
            "Hrana: `http error: `error trying to connect: tcp connect error: Connection refused (os error 111)``",
            "Hrana: `http error: `error trying to connect: dns error: failed to lookup address information: Name or service not known``",
            "Hrana: `http error: `connection closed before message completed``",
            "Hrana: `http error: `connection error: Connection reset by peer (os error 104)``",
        ] {
            assert_eq!(
                classify_message(text),
                DbError::Unavailable(Outage::Unreachable, text.to_string())
            );
        }
    }

    #[test]
    fn a_libsql_server_that_dropped_the_work_is_an_outage() {
        for text in [
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_INTERRUPT) `SQLite error: interrupted```",
            "Hrana: `cursor error: `error at step 0: (error code: TRANSACTION_TIMEOUT) `Transaction timed out```",
            "Hrana: `api error: `{\"message\":\"The stream has expired due to inactivity\",\"code\":\"STREAM_EXPIRED\"}``",
            "Hrana: `api error: `Received an invalid baton``",
            "Hrana: `cursor error: `cursor stream ended prematurely``",
        ] {
            assert_eq!(
                classify_message(text),
                DbError::Unavailable(Outage::ServerBusy, text.to_string())
            );
        }
    }

    #[test]
    fn a_proxy_in_front_of_a_restarting_server_is_an_outage() {
        let text = "Hrana: `api error: `<html><head><title>502 Bad Gateway</title></head></html>``";
        assert!(matches!(
            classify_message(text),
            DbError::Unavailable(Outage::Unreachable, _)
        ));
        let closed = "Hrana: `stream closed: `client stream has been closed by the servers``";
        assert!(matches!(
            classify_message(closed),
            DbError::Unavailable(Outage::ServerBusy, _)
        ));
    }

    #[test]
    fn a_client_that_cannot_be_configured_is_not_an_outage() {
        for text in [
            "Hrana: `http error: `error trying to connect: invalid peer certificate: UnknownIssuer``",
            "Hrana: `http error: `hyper::Error(Builder, InvalidUri(InvalidFormat))``",
        ] {
            assert!(matches!(classify_message(text), DbError::Other(_)), "{text}");
        }
    }

    #[test]
    fn a_permanent_error_inside_the_envelope_keeps_its_meaning() {
        let syntax = "Hrana: `cursor error: `error at step 0: (error code: SQLITE_ERROR) `SQLite error: near \"SELEC\": syntax error```";
        assert!(matches!(classify_message(syntax), DbError::Other(_)));
        let unique = "Hrana: `cursor error: `error at step 0: (error code: SQLITE_CONSTRAINT) `SQLite error: UNIQUE constraint failed: users.username```";
        assert!(matches!(classify_message(unique), DbError::Constraint(_)));
    }

    #[test]
    fn a_refused_pragma_is_unsupported_not_an_outage() {
        assert!(matches!(
            classify_message("unsupported statement"),
            DbError::Unsupported(_)
        ));
    }

    #[test]
    fn a_missing_table_or_column_says_the_schema_may_be_behind() {
        for text in [
            "no such table: users",
            "no such column: u.session_version",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_ERROR) `SQLite error: no such table: favorites```",
        ] {
            assert!(
                matches!(classify_message(text), DbError::SchemaMissing(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn anything_else_is_other() {
        assert!(matches!(
            classify_message("near \"SELEC\": syntax error"),
            DbError::Other(_)
        ));
    }

    #[test]
    fn a_failed_read_or_write_of_the_file_is_transient() {
        for text in [
            "disk I/O error",
            "locking protocol",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_IOERR_WRITE) `SQLite error: disk I/O error```",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_PROTOCOL) `SQLite error: locking protocol```",
        ] {
            assert!(
                matches!(
                    classify_message(text),
                    DbError::Unavailable(Outage::DiskError, _)
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn a_problem_that_will_not_go_away_is_not_an_outage() {
        for text in [
            "file is not a database",
            "database disk image is malformed",
            "not authorized",
            "attempt to write a readonly database",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_NOTADB) `SQLite error: file is not a database```",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_AUTH) `SQLite error: not authorized```",
        ] {
            assert!(matches!(classify_message(text), DbError::Other(_)), "{text}");
        }
    }
}
