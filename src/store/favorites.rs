//! A user's favorites: listed in the order they were added (the `favorites.id`
//! autoincrement), added one at a time, replaced as a whole, removed one at a time.

use super::{
    malformed, session_params, user_checks, write_or_explain, Result, StoreError, NOW,
    SESSION_IS_LIVE, SESSION_VERSION,
};
use crate::db::{Db, OnUnique, Row, Value, SCHEMA_IS_CURRENT};
use crate::domain::{IfMatch, ListVersion, PokemonId, Session, MAX_FAVORITES};
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

/// In a statement whose `?1` is the user: the id of their newest favorite (`NULL`, read
/// as 0, when the list is empty), the first half of the list's version. Every add makes
/// it new.
const LAST_FAVORITE: &str = "(SELECT max(id) FROM favorites WHERE user_id = ?1)";

/// In a statement whose `?1` is the user: their list's epoch (`NULL`, read as 0, for a
/// user without a row), the second half of its version. Every remove and replace bumps
/// it.
const EPOCH: &str = "(SELECT epoch FROM favorite_lists WHERE user_id = ?1)";

/// The condition that the user's list is at a version `If-Match` accepts: `?{at}` is
/// `NULL` (any version) or a JSON array of [`ListVersion::key`]s. Part of the write's
/// own first statement, so it is decided under the write lock, before anything changes.
fn list_is_at(at: usize) -> String {
    format!(
        "(?{at} IS NULL OR (coalesce({LAST_FAVORITE}, 0) || '.' || coalesce({EPOCH}, 0))
                            IN (SELECT value FROM json_each(?{at})))"
    )
}

/// `If-Match` as a statement parameter (see [`list_is_at`]).
fn expected_param(expected: &IfMatch) -> Value {
    expected.keys().map_or(Value::Null, Value::Text)
}

/// Up to `limit` favorites after `after_key`, oldest first, of the session's user, and
/// the list's version. One statement: the user's row, the version and the page come
/// from one snapshot, and the check that the session is live costs nothing extra.
pub fn page(
    db: &Db,
    session: Session,
    after_key: i64,
    limit: i64,
) -> Result<(ListVersion, Vec<Favorite>)> {
    let [user, version] = session_params(session);
    let rows = db.read(
        &format!(
            "SELECT (SELECT user_version FROM pragma_user_version),
                    u.id, {LAST_FAVORITE}, {EPOCH}, f.id, f.pokemon_id, p.name, f.added_at
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
    let Some(first) = rows.first() else {
        return Err(StoreError::UserGone);
    };
    // The version repeats on every row; without `coalesce` it costs the statement
    // little more than two constant columns would.
    let list = ListVersion {
        last: first.opt_int(1)?.unwrap_or(0),
        epoch: first.opt_int(2)?.unwrap_or(0),
    };
    let mut items = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        // A user with no favorites (left) comes back as one row of NULLs.
        if row.opt_int(3)?.is_some() {
            items.push(Favorite::from_row(row, 3)?);
        }
    }
    Ok((list, items))
}

/// Adds one favorite at the end of the list, if the list is at a version `expected`
/// accepts, and returns it with the list's new version. When it cannot, the answer is
/// the first that applies of: the user is gone, the Pokémon is unknown, the list is not
/// at an expected version, it is a favorite already, the list is full.
///
/// One statement: the insert's own conditions (the user exists, the Pokémon is in the
/// catalog, the list is under the cap and at an expected version, the schema is current)
/// and the `UNIQUE` constraint decide, atomically, so two requests cannot both pass the
/// cap or both match one version. The new row's id is itself the list's new version
/// (with the epoch, which an add leaves alone), so the version costs no statement. Only
/// when it inserts nothing does a read find out which condition failed.
pub fn add(
    db: &Db,
    session: Session,
    pokemon: PokemonId,
    expected: &IfMatch,
) -> Result<(Favorite, ListVersion)> {
    let [user, version] = session_params(session);
    let params = [
        user,
        version,
        Value::Integer(pokemon.get()),
        expected_param(expected),
    ];
    let sql = format!(
        "INSERT INTO favorites (user_id, pokemon_id, added_at)
         SELECT u.id, p.id, {NOW}
         FROM users u JOIN pokemon p ON p.id = ?3
         WHERE u.id = ?1 AND {SESSION_VERSION}
           AND (SELECT count(*) FROM favorites WHERE user_id = ?1) < {MAX_FAVORITES}
           AND {SCHEMA_IS_CURRENT} AND {list_is_at}
         RETURNING id, added_at, (SELECT name FROM pokemon WHERE id = pokemon_id), {EPOCH}",
        list_is_at = list_is_at(4)
    );
    let insert = || {
        let rows = db
            .query(&sql, &params)
            .on_unique(|| StoreError::FavoriteExists(pokemon.get()))?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let favorite = Favorite {
            key: row.int(0)?,
            pokemon_id: pokemon.get(),
            name: row.text(2)?.to_string(),
            added_at: row.text(1)?.to_string(),
        };
        let list = ListVersion {
            last: favorite.key,
            epoch: row.opt_int(3)?.unwrap_or(0),
        };
        Ok(Some((favorite, list)))
    };
    let explain = || {
        let checks = user_checks(
            db,
            &format!(
                "SELECT (SELECT user_version FROM pragma_user_version), {SESSION_IS_LIVE},
                        EXISTS (SELECT 1 FROM pokemon WHERE id = ?3), {list_is_at},
                        EXISTS (SELECT 1 FROM favorites WHERE user_id = ?1 AND pokemon_id = ?3),
                        (SELECT count(*) FROM favorites WHERE user_id = ?1)",
                list_is_at = list_is_at(4)
            ),
            &params,
        )?;
        let [known, at_expected, exists, count] = checks[..] else {
            return Err(malformed("the add check gave the wrong columns"));
        };
        if known == 0 {
            return Err(StoreError::UnknownPokemon(vec![pokemon.get()]));
        }
        if at_expected == 0 {
            return Err(StoreError::PreconditionFailed);
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

/// Replaces the whole list with `ids`, in that order, if the list is at a version
/// `expected` accepts, and returns the new list and its version. Unknown ids change
/// nothing ([`StoreError::UnknownPokemon`]).
///
/// The checks that need no lock run first, in one read: the session is live, and which
/// ids the catalog has (it never changes), with their names. Then one statement, which
/// holds the write lock for one host call: the old list out (its `added_at` kept for the
/// Pokémon that stay), the new list in, in the order given, the epoch bumped; only if
/// the session is still live and the list at an expected version, decided under the
/// lock before anything changes.
pub fn replace(
    db: &Db,
    session: Session,
    ids: &[PokemonId],
    expected: &IfMatch,
) -> Result<(ListVersion, Vec<Favorite>)> {
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
    let checked = [user_id.clone(), version, expected_param(expected)];
    // One statement (schema step 4's view and trigger): the old list out, the new one in,
    // the epoch bumped, all under the write lock it takes, and only if the session is
    // still live and the list at an expected version. The `added_at` of the favorites
    // that stay is read in the same statement, so nothing can change in between.
    // RETURNING runs after the trigger: the new version, and the new list's `added_at`
    // in the list's order.
    let sql = format!(
        "INSERT INTO favorite_list_replacements (user_id, pokemon_ids, kept)
         SELECT ?1, ?4, (SELECT json_group_object(pokemon_id, added_at)
                         FROM favorites WHERE user_id = ?1)
         WHERE {SESSION_IS_LIVE} AND {SCHEMA_IS_CURRENT} AND {list_is_at}
         RETURNING {LAST_FAVORITE}, {EPOCH},
                   (SELECT json_group_array(added_at)
                    FROM (SELECT added_at FROM favorites WHERE user_id = ?1 ORDER BY id))",
        list_is_at = list_is_at(3)
    );
    let params = [
        user_id.clone(),
        checked[1].clone(),
        checked[2].clone(),
        id_list.clone(),
    ];
    let write = || {
        let rows = db.query(&sql, &params)?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let version = ListVersion {
            last: row.opt_int(0)?.unwrap_or(0),
            epoch: row.int(1)?,
        };
        let added_at: Vec<String> = serde_json::from_str(row.text(2)?)
            .map_err(|err| malformed(&format!("the replaced list's added_at: {err}")))?;
        if added_at.len() != ids.len() {
            return Err(malformed("the replaced list has the wrong length"));
        }
        let items = ids
            .iter()
            .zip(added_at)
            .map(|(id, added_at)| Favorite {
                key: 0,
                pokemon_id: id.get(),
                name: names.get(&id.get()).cloned().unwrap_or_default(),
                added_at,
            })
            .collect();
        Ok(Some((version, items)))
    };
    let explain = || {
        let checks = user_checks(
            db,
            &format!(
                "SELECT (SELECT user_version FROM pragma_user_version), {SESSION_IS_LIVE},
                        {list_is_at}",
                list_is_at = list_is_at(3)
            ),
            &checked,
        )?;
        // At an expected version after all: the file was behind (the read migrated it),
        // or the list moved to it since; try again.
        if checks.first() == Some(&0) {
            return Err(StoreError::PreconditionFailed);
        }
        Ok(None)
    };
    write_or_explain(write, explain)
}

/// Removes one favorite, if the list is at a version `expected` accepts: the list's new
/// version, or `Ok(None)` if it was not a favorite.
///
/// One statement: the delete, whose own conditions (the session is live, the list at an
/// expected version, the schema current) are decided under the write lock before
/// anything changes, and whose trigger bumps the epoch. Only when it deletes nothing does
/// a read, outside the lock, tell the reasons apart: the user is gone, the Pokémon is not
/// in the catalog (not a favorite), the list is not at an expected version, it is not
/// a favorite.
pub fn remove(
    db: &Db,
    session: Session,
    pokemon: PokemonId,
    expected: &IfMatch,
) -> Result<Option<ListVersion>> {
    let [user, version] = session_params(session);
    let params = [
        user,
        version,
        Value::Integer(pokemon.get()),
        expected_param(expected),
    ];
    // One statement: schema step 4's trigger bumps the epoch before the row goes, and
    // RETURNING (after the row is gone) reads the list's new version.
    let sql = format!(
        "DELETE FROM favorites
         WHERE user_id = ?1 AND pokemon_id = ?3 AND {SESSION_VERSION} AND {SCHEMA_IS_CURRENT}
           AND {list_is_at}
         RETURNING {LAST_FAVORITE}, {EPOCH}",
        list_is_at = list_is_at(4)
    );
    let delete = || {
        let rows = db.query(&sql, &params)?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(Some(ListVersion {
            last: row.opt_int(0)?.unwrap_or(0),
            epoch: row.int(1)?,
        })))
    };
    let explain = || {
        let checks = user_checks(
            db,
            &format!(
                "SELECT (SELECT user_version FROM pragma_user_version), {SESSION_IS_LIVE},
                        EXISTS (SELECT 1 FROM pokemon WHERE id = ?3), {list_is_at},
                        EXISTS (SELECT 1 FROM favorites WHERE user_id = ?1 AND pokemon_id = ?3)",
                list_is_at = list_is_at(4)
            ),
            &params,
        )?;
        let [known, at_expected, exists] = checks[..] else {
            return Err(malformed("the remove check gave the wrong columns"));
        };
        // A Pokémon outside the catalog names no favorite whatever the list holds: 404
        // before If-Match (RFC 9110 §13.2.1), as an unknown id is 422 before it on add.
        if known == 0 {
            return Ok(Some(None));
        }
        if at_expected == 0 {
            return Err(StoreError::PreconditionFailed);
        }
        // Still there: it was added again since, or the file was behind; try again.
        Ok((exists == 0).then_some(None))
    };
    write_or_explain(delete, explain)
}
