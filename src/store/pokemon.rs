//! The Pokémon catalog: read-only, seeded by the migrations.

use super::Result;
use crate::db::{Db, Row, Value};
use serde::Serialize;

/// One catalog entry.
#[derive(Debug, Serialize)]
pub struct Pokemon {
    pub id: i64,
    pub name: String,
}

impl Pokemon {
    /// Reads `(id, name)`.
    fn from_row(row: Row) -> Result<Pokemon> {
        Ok(Pokemon {
            id: row.int(0)?,
            name: row.text(1)?.to_string(),
        })
    }
}

/// Up to `limit` entries with an id after `after_id` whose name starts with `prefix`
/// (ASCII letters compared without case), in Pokédex order.
pub fn search(db: &Db, prefix: Option<&str>, after_id: i64, limit: i64) -> Result<Vec<Pokemon>> {
    let rows = match prefix {
        Some(prefix) => db.read(
            "SELECT (SELECT user_version FROM pragma_user_version), id, name
             FROM pokemon WHERE id > ?1 AND name LIKE ?2 ESCAPE '\\'
             ORDER BY id LIMIT ?3",
            &[
                Value::Integer(after_id),
                Value::Text(format!("{}%", escape_like(prefix))),
                Value::Integer(limit),
            ],
        )?,
        None => db.read(
            "SELECT (SELECT user_version FROM pragma_user_version), id, name
             FROM pokemon WHERE id > ?1 ORDER BY id LIMIT ?2",
            &[Value::Integer(after_id), Value::Integer(limit)],
        )?,
    };
    rows.iter().map(Pokemon::from_row).collect()
}

/// One entry by its Pokédex number. A number not in the catalog still gets a row (of
/// NULLs), so the read carries the schema version.
pub fn get(db: &Db, id: i64) -> Result<Option<Pokemon>> {
    let rows = db.read(
        "SELECT (SELECT user_version FROM pragma_user_version), p.id, p.name
         FROM (SELECT 1) LEFT JOIN pokemon p ON p.id = ?1",
        &[Value::Integer(id)],
    )?;
    match rows.first() {
        Some(row) if row.opt_int(0)?.is_some() => Pokemon::from_row(row).map(Some),
        _ => Ok(None),
    }
}

/// Makes `%`, `_` and `\` in user input match themselves in a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_in_a_search_match_literally() {
        assert_eq!(super::escape_like("100%_a\\b"), "100\\%\\_a\\\\b");
    }
}
