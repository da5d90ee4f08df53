//! A user's favorites: listed in the order they were added (the `favorites.id`
//! autoincrement), added one at a time, replaced as a whole, removed one at a time.

use crate::db::{Constraint, Db, DbError, Row, Value};
use crate::domain::{PokemonId, UserId, MAX_FAVORITES};
use crate::error::{ApiError, Result};
use serde::Serialize;

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

/// Up to `limit` favorites after `after_key`, oldest first; `None` if the user does not
/// exist. One statement: the user's row and their page come from one snapshot, and the
/// existence check of the authenticated user costs nothing extra.
pub fn page(db: &Db, user: UserId, after_key: i64, limit: i64) -> Result<Option<Vec<Favorite>>> {
    let rows = db.query(
        "SELECT u.id, f.id, f.pokemon_id, p.name, f.added_at
         FROM users u
         LEFT JOIN favorites f ON f.user_id = u.id AND f.id > ?2
         LEFT JOIN pokemon p ON p.id = f.pokemon_id
         WHERE u.id = ?1
         ORDER BY f.id
         LIMIT ?3",
        &[
            Value::Integer(user.get()),
            Value::Integer(after_key),
            Value::Integer(limit),
        ],
    )?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut items = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        // A user with no favorites (left) comes back as one row of NULLs.
        if row.opt_int(1)?.is_some() {
            items.push(Favorite::from_row(row, 1)?);
        }
    }
    Ok(Some(items))
}

/// Adds one favorite at the end of the list.
///
/// 401 if the user is gone, 422 `unknown_pokemon`, 409 `favorite_exists`, 422 past the
/// cap. The checks and the insert share one write transaction, so two requests cannot
/// both pass the cap check.
pub fn add(db: &Db, user: UserId, pokemon: PokemonId) -> Result<Favorite> {
    let (user_id, pokemon_id) = (Value::Integer(user.get()), Value::Integer(pokemon.get()));
    db.write(|tx| {
        let rows = tx.query(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1),
                    (SELECT name FROM pokemon WHERE id = ?2),
                    EXISTS (SELECT 1 FROM favorites WHERE user_id = ?1 AND pokemon_id = ?2),
                    (SELECT count(*) FROM favorites WHERE user_id = ?1)",
            &[user_id.clone(), pokemon_id.clone()],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| ApiError::internal("check gave no row"))?;
        if row.int(0)? == 0 {
            return Err(ApiError::Unauthorized);
        }
        let Some(name) = row.opt_text(1)?.map(str::to_string) else {
            return Err(ApiError::UnknownPokemon(vec![pokemon.get()]));
        };
        if row.int(2)? != 0 {
            return Err(ApiError::FavoriteExists(pokemon.get()));
        }
        if row.int(3)? >= MAX_FAVORITES as i64 {
            return Err(ApiError::invalid(
                "pokemon_id",
                format!("a user may keep at most {MAX_FAVORITES} favorites"),
            ));
        }
        let inserted = tx
            .query(
                &format!(
                    "INSERT INTO favorites (user_id, pokemon_id, added_at) VALUES (?1, ?2, {})
                     RETURNING id, added_at",
                    super::NOW
                ),
                &[user_id.clone(), pokemon_id.clone()],
            )
            .map_err(|err| match err {
                // Only reachable if the check above raced, which the write lock prevents.
                DbError::Constraint(Constraint::Unique(_)) => {
                    ApiError::FavoriteExists(pokemon.get())
                }
                other => other.into(),
            })?;
        let row = inserted
            .first()
            .ok_or_else(|| ApiError::internal("INSERT … RETURNING gave no row"))?;
        Ok(Favorite {
            key: row.int(0)?,
            pokemon_id: pokemon.get(),
            name,
            added_at: row.text(1)?.to_string(),
        })
    })
}

/// Replaces the whole list with `ids`, in that order, and returns the new list.
/// Unknown ids change nothing (422 `unknown_pokemon`).
pub fn replace(db: &Db, user: UserId, ids: &[PokemonId]) -> Result<Vec<Favorite>> {
    let user_id = Value::Integer(user.get());
    let id_list = Value::Text(
        serde_json::to_string(&ids.iter().map(|id| id.get()).collect::<Vec<_>>())
            .map_err(ApiError::internal)?,
    );
    db.write(|tx| {
        let rows = tx.query(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1),
                    (SELECT json_group_array(j.value) FROM json_each(?2) j
                     WHERE NOT EXISTS (SELECT 1 FROM pokemon p WHERE p.id = j.value))",
            &[user_id.clone(), id_list.clone()],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| ApiError::internal("check gave no row"))?;
        if row.int(0)? == 0 {
            return Err(ApiError::Unauthorized);
        }
        let unknown: Vec<i64> = serde_json::from_str(row.text(1)?).map_err(ApiError::internal)?;
        if !unknown.is_empty() {
            return Err(ApiError::UnknownPokemon(unknown));
        }
        // A Pokémon that stays in the list keeps the time it was first added; the list
        // order is the order given, so the rows are written afresh in that order.
        let removed = tx.query(
            "DELETE FROM favorites WHERE user_id = ?1 RETURNING pokemon_id, added_at",
            std::slice::from_ref(&user_id),
        )?;
        let mut added_at = serde_json::Map::new();
        for row in removed.iter() {
            added_at.insert(row.int(0)?.to_string(), row.text(1)?.into());
        }
        tx.query(
            &format!(
                "INSERT INTO favorites (user_id, pokemon_id, added_at)
                 SELECT ?1, j.value, coalesce(json_extract(?3, '$.\"' || j.value || '\"'), {})
                 FROM json_each(?2) j ORDER BY j.key",
                super::NOW
            ),
            &[
                user_id.clone(),
                id_list.clone(),
                Value::Text(serde_json::Value::Object(added_at).to_string()),
            ],
        )?;
        let rows = tx.query(
            "SELECT f.id, f.pokemon_id, p.name, f.added_at
             FROM favorites f JOIN pokemon p ON p.id = f.pokemon_id
             WHERE f.user_id = ?1 ORDER BY f.id",
            std::slice::from_ref(&user_id),
        )?;
        rows.iter().map(|row| Favorite::from_row(row, 0)).collect()
    })
}

/// Removes one favorite. `Ok(false)` if it was not a favorite; 401 if the user is gone
/// (looked up only on that miss, so a hit costs one statement).
pub fn remove(db: &Db, user: UserId, pokemon: PokemonId) -> Result<bool> {
    let rows = db.query(
        "DELETE FROM favorites WHERE user_id = ?1 AND pokemon_id = ?2 RETURNING id",
        &[Value::Integer(user.get()), Value::Integer(pokemon.get())],
    )?;
    if !rows.is_empty() {
        return Ok(true);
    }
    if !super::users::exists(db, user)? {
        return Err(ApiError::Unauthorized);
    }
    Ok(false)
}
