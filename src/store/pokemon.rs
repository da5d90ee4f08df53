//! The Pokémon catalog: read-only, seeded by the migrations.

use super::Result;
use crate::db::{read, Db, Read, Row, Value};

/// One catalog entry.
#[derive(Debug)]
pub struct Pokemon {
    pub id: i64,
    pub name: String,
}

impl Pokemon {
    /// Reads the columns `id` and `name`.
    fn from_row(row: Row) -> Result<Pokemon> {
        Ok(Pokemon {
            id: row.int("id")?,
            name: row.text("name")?.to_string(),
        })
    }
}

/// Up to `limit` entries with an id after `after_id` whose name starts with `prefix`
/// (ASCII letters compared without case), in Pokédex order.
pub fn search(db: &Db, prefix: Option<&str>, after_id: i64, limit: i64) -> Result<Vec<Pokemon>> {
    const BY_PREFIX: Read = read! {
        "id, name FROM pokemon WHERE id > ?1 AND name LIKE ?2 ESCAPE '\\'
         ORDER BY id LIMIT ?3"
    };
    const ALL: Read = read! { "id, name FROM pokemon WHERE id > ?1 ORDER BY id LIMIT ?2" };
    let rows = match prefix {
        Some(prefix) => {
            let pattern = Value::Text(format!("{}%", escape_like(prefix)));
            let params = [Value::Integer(after_id), pattern, Value::Integer(limit)];
            db.read(&BY_PREFIX, &params)?
        }
        None => db.read(&ALL, &[Value::Integer(after_id), Value::Integer(limit)])?,
    };
    rows.iter().map(Pokemon::from_row).collect()
}

/// One entry by its Pokédex number. A number not in the catalog still gets a row (of
/// NULLs), so the read carries the schema version.
pub fn get(db: &Db, id: i64) -> Result<Option<Pokemon>> {
    const ONE: Read = read! {
        "p.id AS id, p.name AS name FROM (SELECT 1) LEFT JOIN pokemon p ON p.id = ?1"
    };
    let rows = db.read(&ONE, &[Value::Integer(id)])?;
    match rows.first() {
        Some(row) if row.opt_int("id")?.is_some() => Pokemon::from_row(row).map(Some),
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
