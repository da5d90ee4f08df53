//! Brings the database up to the schema this build expects, from `migrations.sql`.
//!
//! A request learns the version from its own statement (see the `db` module's docs) or,
//! on `/health`, from one `PRAGMA user_version`. Only when the file is behind does the
//! component run the migration: the best-effort PRAGMAs first (a journal mode cannot
//! change inside a transaction), then everything else inside `BEGIN IMMEDIATE`, where the
//! version is read again so that two requests racing on a fresh database migrate it once.

use super::statement::SCHEMA_VERSION;
use super::tx::{self, is_transaction_control};
use super::{classify, execute, DbError};
use crate::log::warn;
use spin_sdk::sqlite3::Connection;

const MIGRATIONS: &str = include_str!("../../migrations.sql");

/// Returns the schema version of the database after migrating it if it was behind.
pub fn ensure_schema(conn: &Connection) -> Result<i64, DbError> {
    let version = user_version(conn)?;
    // Current, or newer than this build: nothing to do here (a newer file is refused by
    // the caller, never migrated "back").
    if version >= SCHEMA_VERSION {
        return Ok(version);
    }
    let statements = split_statements(MIGRATIONS);
    for statement in statements.iter().filter(|s| is_best_effort(s)) {
        match conn.execute(statement, &[]).map_err(classify) {
            Ok(_) | Err(DbError::Unsupported(_)) => {}
            Err(err) => warn(&format!(
                "migration: best-effort `{statement}` failed: {err}"
            )),
        }
    }
    tx::run(conn, &std::cell::Cell::new(false), |tx| {
        // Another request may have migrated while this one waited for the write lock.
        if first_int(&tx.run("PRAGMA user_version", &[])?)? >= SCHEMA_VERSION {
            return Ok(());
        }
        let schema = statements
            .iter()
            .filter(|s| !is_best_effort(s) && !is_transaction_control(s));
        for statement in schema {
            tx.run(statement, &[]).map_err(|err| match err {
                DbError::Unavailable(outage, why) => DbError::Unavailable(outage, why),
                other => DbError::MigrationFailed(other.to_string()),
            })?;
        }
        Ok(())
    })?;
    user_version(conn)
}

pub fn user_version(conn: &Connection) -> Result<i64, DbError> {
    first_int(&execute(conn, "PRAGMA user_version", &[])?)
}

fn first_int(rows: &super::Rows) -> Result<i64, DbError> {
    rows.first()
        .ok_or_else(|| DbError::Other("PRAGMA user_version returned no row".into()))?
        .int("user_version")
}

/// PRAGMAs that tune the file rather than define the schema. libSQL refuses them (its
/// server owns the journal), and they cannot run inside a transaction, so the migration
/// runs them first and carries on whatever they answer.
fn is_best_effort(statement: &str) -> bool {
    let words: Vec<String> = statement
        .split(|c: char| c.is_whitespace() || c == '=' || c == '(')
        .filter(|w| !w.is_empty())
        .take(2)
        .map(str::to_ascii_lowercase)
        .collect();
    matches!(words.as_slice(), [pragma, name]
    if pragma == "pragma"
        && matches!(
            name.trim_start_matches("main."),
            "journal_mode" | "synchronous" | "busy_timeout"
        ))
}

/// Splits a SQL script into statements at the semicolons that end them, skipping `--`
/// and `/* */` comments and keeping semicolons inside quotes and inside the body of a
/// `CREATE TRIGGER … BEGIN … END` (whose statements end in semicolons of their own).
/// Each statement comes back trimmed and without its semicolon; empty ones are dropped.
pub fn split_statements(script: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    // The words of the current statement outside quotes and comments, upper-cased: what
    // tells whether a semicolon ends it.
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c.to_ascii_uppercase());
            current.push(c);
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        match c {
            '\'' | '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                current.push(c);
                // A doubled quote inside a quoted run is an escaped quote: the run simply
                // closes and reopens, which this loop handles by toggling twice.
                for inner in chars.by_ref() {
                    current.push(inner);
                    if inner == close {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut previous = ' ';
                for skipped in chars.by_ref() {
                    if previous == '*' && skipped == '/' {
                        break;
                    }
                    previous = skipped;
                }
                current.push(' ');
            }
            ';' if inside_trigger_body(&words) => current.push(c),
            ';' => {
                push_statement(&mut statements, &current);
                current.clear();
                words.clear();
            }
            _ => current.push(c),
        }
    }
    push_statement(&mut statements, &current);
    statements
}

/// Whether `words` (the current statement's, so far) are a `CREATE [TEMP] TRIGGER` whose
/// `BEGIN` has not yet been closed by its `END`. Inside the body, `CASE … END` nests.
fn inside_trigger_body(words: &[String]) -> bool {
    let header: Vec<&str> = words.iter().take(3).map(String::as_str).collect();
    let is_trigger = matches!(
        header.as_slice(),
        ["CREATE", "TRIGGER", ..] | ["CREATE", "TEMP" | "TEMPORARY", "TRIGGER"]
    );
    if !is_trigger {
        return false;
    }
    let mut depth = 0usize;
    let mut begun = false;
    for word in words {
        match word.as_str() {
            "BEGIN" if !begun => {
                begun = true;
                depth = 1;
            }
            "CASE" if begun => depth += 1,
            "END" if begun => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    !begun || depth > 0
}

fn push_statement(statements: &mut Vec<String>, text: &str) {
    let trimmed = text.trim();
    if !trimmed.is_empty() {
        statements.push(trimmed.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_semicolons_outside_quotes_and_comments() {
        let script = "-- a comment; with a semicolon\nCREATE TABLE t (x TEXT); \
                      INSERT INTO t VALUES ('a;b'), ('it''s; fine');\n/* c; */ PRAGMA user_version = 1;";
        assert_eq!(
            split_statements(script),
            vec![
                "CREATE TABLE t (x TEXT)",
                "INSERT INTO t VALUES ('a;b'), ('it''s; fine')",
                "PRAGMA user_version = 1",
            ]
        );
    }

    #[test]
    fn a_trigger_body_is_one_statement_with_its_semicolons() {
        let script = "CREATE TABLE t (x);
            CREATE TRIGGER IF NOT EXISTS t_gone BEFORE DELETE ON t
            BEGIN
              INSERT INTO log VALUES (old.x, 'a;b');  -- a comment; with a semicolon
              UPDATE n SET v = CASE WHEN v > 0 THEN v - 1 ELSE 0 END;
            END;
            create temp trigger u instead of insert on w begin select 1; end;
            SELECT 'END;' AS [end;];
            CREATE TRIGGERS_ARE_NOT_THIS (x);";
        let statements = split_statements(script);
        assert_eq!(statements.len(), 5, "{statements:#?}");
        assert_eq!(statements[0], "CREATE TABLE t (x)");
        assert!(statements[1].starts_with("CREATE TRIGGER IF NOT EXISTS t_gone"));
        assert!(statements[1].contains("'a;b');"));
        assert!(statements[1].contains("ELSE 0 END;"));
        assert!(statements[1].ends_with("END"), "{}", statements[1]);
        assert_eq!(
            statements[2],
            "create temp trigger u instead of insert on w begin select 1; end"
        );
        assert_eq!(statements[3], "SELECT 'END;' AS [end;]");
        assert_eq!(statements[4], "CREATE TRIGGERS_ARE_NOT_THIS (x)");
    }

    #[test]
    fn the_migration_file_splits_into_whole_statements() {
        // Every statement of the file is complete SQL: SQLite's own parser says so.
        let statements = split_statements(MIGRATIONS);
        let triggers = statements
            .iter()
            .filter(|s| s.starts_with("CREATE TRIGGER"))
            .count();
        assert_eq!(triggers, 5);
        for statement in &statements {
            assert!(
                !statement.starts_with("INSERT INTO favorites") && !statement.starts_with("END"),
                "a trigger body was split: {statement}"
            );
        }
    }

    #[test]
    fn a_steps_begin_and_commit_are_left_to_the_batch() {
        for control in ["BEGIN", "begin immediate", "COMMIT", "END", "ROLLBACK"] {
            assert!(is_transaction_control(control), "{control}");
        }
        for schema in ["CREATE TABLE x (y)", "PRAGMA user_version = 2", "BEGINNING"] {
            assert!(!is_transaction_control(schema), "{schema}");
        }
    }

    #[test]
    fn only_file_tuning_pragmas_are_best_effort() {
        assert!(is_best_effort("PRAGMA journal_mode = WAL"));
        assert!(is_best_effort("pragma main.synchronous=NORMAL"));
        assert!(is_best_effort("PRAGMA busy_timeout = 5000"));
        assert!(!is_best_effort("PRAGMA user_version = 1"));
        assert!(!is_best_effort("PRAGMA foreign_keys = ON"));
        assert!(!is_best_effort("CREATE TABLE journal_mode (x)"));
    }

    #[test]
    fn the_migration_file_ends_at_the_version_this_build_expects() {
        let statements = split_statements(MIGRATIONS);
        let last = statements
            .iter()
            .rfind(|s| !is_transaction_control(s))
            .expect("migrations.sql is empty");
        assert_eq!(*last, format!("PRAGMA user_version = {SCHEMA_VERSION}"));
    }

    #[test]
    fn the_guard_refuses_exactly_the_files_newer_than_the_last_step() {
        let statements = split_statements(MIGRATIONS);
        let guard = &statements[0];
        assert!(guard.starts_with("SELECT json_extract"), "{guard}");
        assert!(guard.contains(&format!("WHEN user_version > {SCHEMA_VERSION}\n")));
        assert!(guard.contains(&format!("(schema version above {SCHEMA_VERSION})")));
    }

    #[test]
    fn the_migration_file_seeds_all_1025_pokemon() {
        let statements = split_statements(MIGRATIONS);
        let seed = statements
            .iter()
            .find(|s| s.starts_with("INSERT OR IGNORE INTO pokemon"))
            .expect("no pokemon seed");
        assert_eq!(
            seed.matches("\n  (").count() as i64,
            crate::domain::MAX_POKEDEX
        );
        assert!(seed.contains(&format!("({}, '", crate::domain::MAX_POKEDEX)));
        assert!(seed.contains("(1025, 'Pecharunt')"));
        assert!(seed.contains("(83, 'Farfetch''d')"));
    }
}
