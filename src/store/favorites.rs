//! A user's favorites: listed in the order they were added (the `favorites.id`
//! autoincrement), added one at a time, replaced as a whole, removed one at a time.

use super::{
    malformed, session_params, user_checks, write_or_explain, Result, StoreError, NOW,
    SESSION_IS_LIVE, SESSION_VERSION,
};
use crate::db::{Db, OnUnique, Row, Value, SCHEMA_IS_CURRENT};
use crate::domain::{PokemonId, Session, MAX_FAVORITES};
use serde::Serialize;
use std::collections::BTreeMap;

/// One favorite, as the API shows it.
#[derive(Debug, Serialize)]
pub struct Favorite {
    pub pokemon_id: i64,
    pub name: String,
    pub added_at: String,
    /// The key the next page starts after; not shown.
    #[serde(skip)]
    pub key: i64,
}

impl Favorite {
    /// Reads `(f.id, f.pokemon_id, p.name, f.added_at)` starting at column `at`.
    fn from_row(row: Row, at: usize) -> Result<Favorite> {
        Ok(Favorite {
            key: row.int(at)?,
            pokemon_id: row.int(at + 1)?,
            name: row.text(at + 2)?.to_string(),
            added_at: row.text(at + 3)?.to_string(),
        })
    }
}

/// Up to `limit` favorites after `after_key`, oldest first, of the session's user. One
/// statement: the user's row and their page come from one snapshot, and the check that
/// the session is live costs nothing extra.
pub fn page(db: &Db, session: Session, after_key: i64, limit: i64) -> Result<Vec<Favorite>> {
    let [user, version] = session_params(session);
    let rows = db.read(
        &format!(
            "SELECT (SELECT user_version FROM pragma_user_version),
                    u.id, f.id, f.pokemon_id, p.name, f.added_at
             FROM users u
             LEFT JOIN favorites f ON f.user_id = u.id AND f.id > ?3
             LEFT JOIN pokemon p ON p.id = f.pokemon_id
             WHERE u.id = ?1 AND {SESSION_VERSION}
             ORDER BY f.id
             LIMIT ?4"
        ),
        &[
            user,
            version,
            Value::Integer(after_key),
            Value::Integer(limit),
        ],
    )?;
    if rows.is_empty() {
        return Err(StoreError::UserGone);
    }
    let mut items = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        // A user with no favorites (left) comes back as one row of NULLs.
        if row.opt_int(1)?.is_some() {
            items.push(Favorite::from_row(row, 1)?);
        }
    }
    Ok(items)
}

/// Adds one favorite at the end of the list. When it cannot, the answer is the first
/// that applies of: the user is gone, the Pokémon is unknown, it is a favorite already,
/// the list is full.
///
/// One statement: the insert's own conditions (the user exists, the Pokémon is in the
/// catalog, the list is under the cap, the schema is current) and the `UNIQUE`
/// constraint decide, atomically, so two requests cannot both pass the cap. Only when
/// it inserts nothing does a read find out which condition failed.
pub fn add(db: &Db, session: Session, pokemon: PokemonId) -> Result<Favorite> {
    let [user, version] = session_params(session);
    let params = [user, version, Value::Integer(pokemon.get())];
    let sql = format!(
        "INSERT INTO favorites (user_id, pokemon_id, added_at)
         SELECT u.id, p.id, {NOW}
         FROM users u JOIN pokemon p ON p.id = ?3
         WHERE u.id = ?1 AND {SESSION_VERSION}
           AND (SELECT count(*) FROM favorites WHERE user_id = ?1) < {MAX_FAVORITES}
           AND {SCHEMA_IS_CURRENT}
         RETURNING id, added_at, (SELECT name FROM pokemon WHERE id = pokemon_id)"
    );
    let insert = || {
        let rows = db
            .query(&sql, &params)
            .on_unique(|| StoreError::FavoriteExists(pokemon.get()))?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(Favorite {
            key: row.int(0)?,
            pokemon_id: pokemon.get(),
            name: row.text(2)?.to_string(),
            added_at: row.text(1)?.to_string(),
        }))
    };
    let explain = || {
        let checks = user_checks(
            db,
            &format!(
                "SELECT (SELECT user_version FROM pragma_user_version), {SESSION_IS_LIVE},
                        EXISTS (SELECT 1 FROM pokemon WHERE id = ?3),
                        EXISTS (SELECT 1 FROM favorites WHERE user_id = ?1 AND pokemon_id = ?3),
                        (SELECT count(*) FROM favorites WHERE user_id = ?1)"
            ),
            &params,
        )?;
        let [known, exists, count] = checks[..] else {
            return Err(malformed("the add check gave the wrong columns"));
        };
        if known == 0 {
            return Err(StoreError::UnknownPokemon(vec![pokemon.get()]));
        }
        if exists != 0 {
            return Err(StoreError::FavoriteExists(pokemon.get()));
        }
        if count >= MAX_FAVORITES as i64 {
            return Err(StoreError::TooManyFavorites);
        }
        Ok(None)
    };
    write_or_explain(insert, explain)
}

/// Replaces the whole list with `ids`, in that order, and returns the new list.
/// Unknown ids change nothing ([`StoreError::UnknownPokemon`]).
///
/// The checks that need no lock run first, in one read: the session is live, and which
/// ids the catalog has (it never changes), with their names. Then one transaction of two
/// statements: the old list out (its `added_at` kept for the Pokémon that stay), the new
/// list in, in the order given.
pub fn replace(db: &Db, session: Session, ids: &[PokemonId]) -> Result<Vec<Favorite>> {
    let [user_id, version] = session_params(session);
    let id_list = Value::Text(
        serde_json::to_string(&ids.iter().map(|id| id.get()).collect::<Vec<_>>())
            .map_err(|err| malformed(&err.to_string()))?,
    );
    let rows = db.read(
        &format!(
            "SELECT (SELECT user_version FROM pragma_user_version), {SESSION_IS_LIVE},
                    j.value, p.name
             FROM (SELECT 1) LEFT JOIN json_each(?3) j LEFT JOIN pokemon p ON p.id = j.value
             ORDER BY j.key"
        ),
        &[user_id.clone(), version.clone(), id_list.clone()],
    )?;
    let mut names = BTreeMap::new();
    let mut unknown = Vec::new();
    for row in rows.iter() {
        if row.int(0)? == 0 {
            return Err(StoreError::UserGone);
        }
        if let Some(id) = row.opt_int(1)? {
            match row.opt_text(2)? {
                Some(name) => {
                    names.insert(id, name.to_string());
                }
                None => unknown.push(id),
            }
        }
    }
    if !unknown.is_empty() {
        return Err(StoreError::UnknownPokemon(unknown));
    }
    let insert = format!(
        "INSERT INTO favorites (user_id, pokemon_id, added_at)
         SELECT ?1, j.value, coalesce(json_extract(?4, '$.\"' || j.value || '\"'), {NOW})
         FROM json_each(?3) j
         WHERE {SESSION_IS_LIVE}
         ORDER BY j.key
         RETURNING id, pokemon_id, added_at"
    );
    let mut items = db.write(|tx| {
        let removed = tx.query(
            "DELETE FROM favorites WHERE user_id = ?1 RETURNING pokemon_id, added_at",
            std::slice::from_ref(&user_id),
        )?;
        let mut added_at = serde_json::Map::new();
        for row in removed.iter() {
            added_at.insert(row.int(0)?.to_string(), row.text(1)?.into());
        }
        let inserted = tx.query(
            &insert,
            &[
                user_id.clone(),
                version.clone(),
                id_list.clone(),
                Value::Text(serde_json::Value::Object(added_at).to_string()),
            ],
        )?;
        // The session ended since the read above: nothing may be left behind.
        if inserted.len() != ids.len() {
            return Err(StoreError::UserGone);
        }
        inserted
            .iter()
            .map(|row| {
                let pokemon_id = row.int(1)?;
                Ok(Favorite {
                    key: row.int(0)?,
                    pokemon_id,
                    name: names.get(&pokemon_id).cloned().unwrap_or_default(),
                    added_at: row.text(2)?.to_string(),
                })
            })
            .collect::<Result<Vec<_>>>()
    })?;
    // RETURNING promises no order; the list's order is that of the keys.
    items.sort_by_key(|f| f.key);
    Ok(items)
}

/// Removes one favorite: `Ok(false)` if it was not a favorite.
/// One statement; only when it deletes nothing does a read tell the two apart.
pub fn remove(db: &Db, session: Session, pokemon: PokemonId) -> Result<bool> {
    let [user, version] = session_params(session);
    let params = [user, version, Value::Integer(pokemon.get())];
    let sql = format!(
        "DELETE FROM favorites
         WHERE user_id = ?1 AND pokemon_id = ?3 AND {SESSION_VERSION} AND {SCHEMA_IS_CURRENT}
         RETURNING id"
    );
    let delete = || Ok((!db.query(&sql, &params)?.is_empty()).then_some(true));
    let explain = || {
        let checks = user_checks(
            db,
            &format!(
                "SELECT (SELECT user_version FROM pragma_user_version), {SESSION_IS_LIVE},
                        EXISTS (SELECT 1 FROM favorites WHERE user_id = ?1 AND pokemon_id = ?3)"
            ),
            &params,
        )?;
        // Still there: it was added again since, or the file was behind; try again.
        Ok((checks.first() == Some(&0)).then_some(false))
    };
    write_or_explain(delete, explain)
}
