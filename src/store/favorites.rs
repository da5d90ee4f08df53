//! A user's favorites: listed in the order they were added (the `favorites.id`
//! autoincrement), added one at a time, replaced as a whole, removed one at a time.

use super::idempotency::{
    key_is_free, key_join, keyed_columns, replay, stored_answer, Answer, Keyed, Stored,
};
use super::{
    live_row, malformed, now, session_is_live, session_params, session_version, write_or_explain,
    Explained, Result, StoreError, Tried,
};
use crate::db::{change, read, schema_is_current, Db, OnUnique, Read, Row, Value, Write};
use crate::domain::{IfMatch, ListVersion, PokemonId, Session, MAX_FAVORITES};
use std::collections::BTreeMap;

/// One favorite.
#[derive(Debug)]
pub struct Favorite {
    pub pokemon_id: i64,
    pub name: String,
    pub added_at: String,
    /// Its row id: the key the next page starts after.
    pub key: i64,
}

impl Favorite {
    /// Reads the columns `key`, `pokemon_id`, `name` and `added_at`.
    fn from_row(row: Row) -> Result<Favorite> {
        Ok(Favorite {
            key: row.int("key")?,
            pokemon_id: row.int("pokemon_id")?,
            name: row.text("name")?.to_string(),
            added_at: row.text("added_at")?.to_string(),
        })
    }
}

/// In a statement whose `?1` is the user: the id of their newest favorite (`NULL`, read
/// as 0, when the list is empty), the first half of the list's version. Every add makes
/// it new.
macro_rules! last_favorite {
    () => {
        "(SELECT max(id) FROM favorites WHERE user_id = ?1)"
    };
}

/// In a statement whose `?1` is the user: their list's epoch (`NULL`, read as 0, for a
/// user without a row), the second half of its version. Every remove and replace bumps
/// it.
macro_rules! epoch {
    () => {
        "(SELECT epoch FROM favorite_lists WHERE user_id = ?1)"
    };
}

/// The condition that the user's list is at a version `If-Match` accepts: parameter
/// `?$at` is `NULL` (any version) or a JSON array of `[last, epoch]` pairs (see
/// [`expected_param`]), compared as numbers. Part of the write's own statement, so it is
/// decided under the write lock, before anything changes.
macro_rules! list_is_at {
    ($at:literal) => {
        concat!(
            "(?",
            $at,
            " IS NULL OR EXISTS (SELECT 1 FROM json_each(?",
            $at,
            ") AS v
               WHERE json_extract(v.value, '$[0]') = coalesce(",
            last_favorite!(),
            ", 0)
                 AND json_extract(v.value, '$[1]') = coalesce(",
            epoch!(),
            ", 0)))"
        )
    };
}

/// The reasons an add or a remove of favorite `?3` can have changed nothing, as columns
/// of the read that explains it: the session is live (`?1`, `?2`), the Pokémon is in the
/// catalog, the list is at a version `If-Match` accepts (`?4`), it is a favorite.
macro_rules! favorite_checks {
    () => {
        concat!(
            session_is_live!(),
            " AS live,
            EXISTS (SELECT 1 FROM pokemon WHERE id = ?3) AS known,
            ",
            list_is_at!(4),
            " AS at_expected,
            EXISTS (SELECT 1 FROM favorites WHERE user_id = ?1 AND pokemon_id = ?3)
              AS is_favorite"
        )
    };
}

/// In a statement whose `?1` is the user: how many favorites they keep.
macro_rules! favorite_count {
    () => {
        "(SELECT count(*) FROM favorites WHERE user_id = ?1)"
    };
}

/// The columns of the read that explains an add: [`favorite_checks!`] and the count.
macro_rules! add_checks {
    () => {
        concat!(favorite_checks!(), ", ", favorite_count!(), " AS count")
    };
}

/// `If-Match` as a statement parameter (see [`list_is_at!`]).
fn expected_param(expected: &IfMatch) -> Value {
    expected.versions_json().map_or(Value::Null, Value::Text)
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
    // The version repeats on every row; without `coalesce` it costs the statement
    // little more than two constant columns would.
    const PAGE: Read = read! {
        "u.id AS user, ", last_favorite!(), " AS last, ", epoch!(), " AS epoch,
                f.id AS key, f.pokemon_id AS pokemon_id, p.name AS name,
                f.added_at AS added_at
         FROM users u
         LEFT JOIN favorites f ON f.user_id = u.id AND f.id > ?3
         LEFT JOIN pokemon p ON p.id = f.pokemon_id
         WHERE u.id = ?1 AND ", session_version!(), "
         ORDER BY f.id
         LIMIT ?4"
    };
    let [user, version] = session_params(session);
    let params = [
        user,
        version,
        Value::Integer(after_key),
        Value::Integer(limit),
    ];
    let rows = db.read(&PAGE, &params)?;
    let Some(first) = rows.first() else {
        return Err(StoreError::UserGone);
    };
    let list = ListVersion {
        last: first.opt_int("last")?.unwrap_or(0),
        epoch: first.opt_int("epoch")?.unwrap_or(0),
    };
    let mut items = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        // A user with no favorites (left) comes back as one row of NULLs.
        if row.opt_int("key")?.is_some() {
            items.push(Favorite::from_row(row)?);
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
    const ADD: Write = change! {
        "INSERT INTO favorites (user_id, pokemon_id, added_at)
         SELECT u.id, p.id, ", now!(), "
         FROM users u JOIN pokemon p ON p.id = ?3
         WHERE u.id = ?1 AND ", session_version!(), " AND ", favorite_count!(), " < ?5
           AND ", schema_is_current!(), " AND ", list_is_at!(4), "
         RETURNING id AS key, pokemon_id, added_at,
                   (SELECT name FROM pokemon WHERE id = pokemon_id) AS name,
                   ", epoch!(), " AS epoch"
    };
    const WHY_NOT_ADDED: Read = read! { add_checks!() };
    let [user, version] = session_params(session);
    let params = [
        user,
        version,
        Value::Integer(pokemon.get()),
        expected_param(expected),
        Value::Integer(MAX_FAVORITES as i64),
    ];
    let insert = || {
        let rows = db
            .execute(&ADD, &params)
            .on_unique(|| StoreError::FavoriteExists(pokemon.get()))?;
        let Some(row) = rows.first() else {
            return Ok(Tried::Unchanged);
        };
        let favorite = Favorite::from_row(row)?;
        let list = ListVersion {
            last: favorite.key,
            epoch: row.opt_int("epoch")?.unwrap_or(0),
        };
        Ok(Tried::Done((favorite, list)))
    };
    let explain = || {
        let rows = db.read(&WHY_NOT_ADDED, &params[..4])?;
        why_not_added(live_row(&rows, "the add check gave no row")?, pokemon)
    };
    write_or_explain(insert, explain)
}

/// Why an add changed nothing, from a row of [`add_checks!`] whose session is live.
fn why_not_added<T>(row: Row, pokemon: PokemonId) -> Result<Explained<T>> {
    if row.int("known")? == 0 {
        return Err(StoreError::UnknownPokemon(vec![pokemon.get()]));
    }
    if row.int("at_expected")? == 0 {
        return Err(StoreError::PreconditionFailed);
    }
    if row.int("is_favorite")? != 0 {
        return Err(StoreError::FavoriteExists(pokemon.get()));
    }
    if row.int("count")? >= MAX_FAVORITES as i64 {
        return Err(StoreError::TooManyFavorites);
    }
    Ok(Explained::TryAgain)
}

/// [`add`] with an `Idempotency-Key` (see [`super::idempotency`]): the same statement as
/// an INSERT into `keyed_favorite_writes`, which also stores the answer (`keyed`'s status
/// and `Location`, the favorite as the body), on the condition that the key holds none.
/// A key that holds one replays it, whatever the list is now.
pub fn add_keyed(
    db: &Db,
    session: Session,
    pokemon: PokemonId,
    expected: &IfMatch,
    keyed: &Keyed,
) -> Result<Answer> {
    // The body is `api::wire::FavoriteBody` as JSON (tests/api/idempotency.rs holds the
    // two to one shape).
    const KEYED_ADD: Write = change! {
        "INSERT INTO keyed_favorite_writes
           (user_id, change, pokemon_id, added_at, key, fingerprint, status, location, body)
         SELECT u.id, 'add', p.id, ", now!(), ", ?6, ?7, ?8, ?9,
                json_object('pokemon_id', p.id, 'name', p.name, 'added_at', ", now!(), ")
         FROM users u JOIN pokemon p ON p.id = ?3
         WHERE u.id = ?1 AND ", session_version!(), " AND ", favorite_count!(), " < ?5
           AND ", schema_is_current!(), " AND ", list_is_at!(4), " AND ", key_is_free!(6), "
         ", stored_answer!(6)
    };
    const WHY_NOT_ADDED: Read = read! { add_checks!(), ", ", keyed_columns!(7), key_join!(6) };
    let [user, version] = session_params(session);
    let [key, print, status, location] = keyed.params();
    let params = [
        user,
        version,
        Value::Integer(pokemon.get()),
        expected_param(expected),
        Value::Integer(MAX_FAVORITES as i64),
        key,
        print,
        status,
        location,
    ];
    let insert = || {
        let rows = db
            .execute(&KEYED_ADD, &params)
            .on_unique(|| StoreError::FavoriteExists(pokemon.get()))?;
        decided(&rows)
    };
    let explain = || {
        let rows = db.read(&WHY_NOT_ADDED, &params[..7])?;
        let row = live_row(&rows, "the keyed add check gave no row")?;
        match replay(&row)? {
            Some(replayed) => Ok(Explained::Answer(Answer::Replayed(replayed))),
            None => why_not_added(row, pokemon),
        }
    };
    write_or_explain(insert, explain)
}

/// What a keyed write's `RETURNING` says: the answer it stored, or nothing (a condition
/// failed).
fn decided(rows: &crate::db::Rows) -> Result<Tried<Answer>> {
    Ok(match rows.first() {
        Some(row) => Tried::Done(Answer::Decided(Stored::from_row(&row)?)),
        None => Tried::Unchanged,
    })
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
    // One statement (schema step 4's view and trigger): the old list out, the new one in,
    // the epoch bumped, all under the write lock it takes, and only if the session is
    // still live and the list at an expected version. The `added_at` of the favorites
    // that stay is read in the same statement, so nothing can change in between.
    // RETURNING runs after the trigger: the new version, and the new list's `added_at`
    // in the list's order.
    const REPLACE: Write = change! {
        "INSERT INTO favorite_list_replacements (user_id, pokemon_ids, kept)
         SELECT ?1, ?4, (SELECT json_group_object(pokemon_id, added_at)
                         FROM favorites WHERE user_id = ?1)
         WHERE ", session_is_live!(), " AND ", schema_is_current!(), "
           AND ", list_is_at!(3), "
         RETURNING ", last_favorite!(), " AS last, ", epoch!(), " AS epoch,
                   (SELECT json_group_array(added_at)
                    FROM (SELECT added_at FROM favorites WHERE user_id = ?1 ORDER BY id))
                     AS added_at"
    };
    const WHY_NOT_REPLACED: Read = read! {
        session_is_live!(), " AS live, ", list_is_at!(3), " AS at_expected"
    };
    let [user, version] = session_params(session);
    let params = [user, version, expected_param(expected), id_list(ids)?];
    let names = catalog_names(db, &params[..2], &params[3])?;
    let write = || {
        let rows = db.execute(&REPLACE, &params)?;
        let Some(row) = rows.first() else {
            return Ok(Tried::Unchanged);
        };
        let version = ListVersion {
            last: row.opt_int("last")?.unwrap_or(0),
            epoch: row.int("epoch")?,
        };
        let added_at: Vec<String> = serde_json::from_str(row.text("added_at")?)
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
        Ok(Tried::Done((version, items)))
    };
    let explain = || {
        let rows = db.read(&WHY_NOT_REPLACED, &params[..3])?;
        why_not_replaced(live_row(&rows, "the replace check gave no row")?)
    };
    write_or_explain(write, explain)
}

/// The ids of a replace as a JSON array, for `json_each`.
fn id_list(ids: &[PokemonId]) -> Result<Value> {
    serde_json::to_string(&ids.iter().map(|id| id.get()).collect::<Vec<_>>())
        .map(Value::Text)
        .map_err(|err| malformed(&err.to_string()))
}

/// The checks of a replace that need no lock, in one read: the session (`session`: `?1`,
/// `?2`) is live, and the catalog has every id of `id_list` (it never changes). Their
/// names, by id; [`StoreError::UnknownPokemon`] names the ids it lacks.
fn catalog_names(db: &Db, session: &[Value], id_list: &Value) -> Result<BTreeMap<i64, String>> {
    // The session, and each id given with its catalog name (NULL: unknown), in order.
    const CHECK_IDS: Read = read! {
        session_is_live!(), " AS live, j.value AS id, p.name AS name
         FROM (SELECT 1) LEFT JOIN json_each(?3) j LEFT JOIN pokemon p ON p.id = j.value
         ORDER BY j.key"
    };
    let rows = db.read(
        &CHECK_IDS,
        &[session[0].clone(), session[1].clone(), id_list.clone()],
    )?;
    let mut names = BTreeMap::new();
    let mut unknown = Vec::new();
    for row in rows.iter() {
        if row.int("live")? == 0 {
            return Err(StoreError::UserGone);
        }
        if let Some(id) = row.opt_int("id")? {
            match row.opt_text("name")? {
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
    Ok(names)
}

/// Why a replace changed nothing, from a row whose session is live.
fn why_not_replaced<T>(row: Row) -> Result<Explained<T>> {
    // At an expected version after all: the file was behind (the read migrated it), or
    // the list moved to it since; try again.
    if row.int("at_expected")? == 0 {
        return Err(StoreError::PreconditionFailed);
    }
    Ok(Explained::TryAgain)
}

/// [`replace`] with an `Idempotency-Key` (see [`super::idempotency`]): the same checks,
/// then one INSERT into `keyed_favorite_writes`, which replaces the list as [`replace`]
/// does (through step 4's view) and stores the answer (the new list as the page body), on the
/// condition that the key holds none. A key that holds one replays it.
pub fn replace_keyed(
    db: &Db,
    session: Session,
    ids: &[PokemonId],
    expected: &IfMatch,
    keyed: &Keyed,
) -> Result<Answer> {
    // `kept` as in REPLACE; the body is `api::wire::PageBody` of `FavoriteBody`s as JSON,
    // its `added_at`s chosen as the trigger chooses them (kept, or now). The items are
    // made in a subquery (to keep the list's order), which drops their JSON subtype:
    // `json()` gives it back, so they nest as objects rather than strings.
    const KEYED_REPLACE: Write = change! {
        "INSERT INTO keyed_favorite_writes
           (user_id, change, pokemon_ids, kept, key, fingerprint, status, location, body)
         SELECT ?1, 'replace', ?4, k.kept, ?5, ?6, ?7, ?8,
                json_object('items', json((SELECT json_group_array(json(item))
                  FROM (SELECT json_object('pokemon_id', p.id, 'name', p.name, 'added_at',
                          coalesce(json_extract(k.kept, '$.\"' || p.id || '\"'), ", now!(), "))
                          AS item
                        FROM json_each(?4) j JOIN pokemon p ON p.id = j.value
                        ORDER BY j.key))),
                  'next_cursor', NULL)
         FROM (SELECT json_group_object(pokemon_id, added_at) AS kept
               FROM favorites WHERE user_id = ?1) k
         WHERE ", session_is_live!(), " AND ", schema_is_current!(), "
           AND ", list_is_at!(3), " AND ", key_is_free!(5), "
         ", stored_answer!(5)
    };
    const WHY_NOT_REPLACED: Read = read! {
        session_is_live!(), " AS live, ", list_is_at!(3), " AS at_expected, ",
        keyed_columns!(6), key_join!(5)
    };
    let [user, version] = session_params(session);
    let [key, print, status, location] = keyed.params();
    let params = [
        user,
        version,
        expected_param(expected),
        id_list(ids)?,
        key,
        print,
        status,
        location,
    ];
    catalog_names(db, &params[..2], &params[3])?;
    let write = || decided(&db.execute(&KEYED_REPLACE, &params)?);
    let explain = || {
        let rows = db.read(&WHY_NOT_REPLACED, &params[..6])?;
        let row = live_row(&rows, "the keyed replace check gave no row")?;
        match replay(&row)? {
            Some(replayed) => Ok(Explained::Answer(Answer::Replayed(replayed))),
            None => why_not_replaced(row),
        }
    };
    write_or_explain(write, explain)
}

/// What [`remove`] did.
#[derive(Debug)]
pub enum Removed {
    /// The favorite is gone; the list is at this version now.
    Gone(ListVersion),
    /// It was not a favorite (or not a Pokémon of the catalog).
    NotAFavorite,
}

/// Removes one favorite, if the list is at a version `expected` accepts.
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
) -> Result<Removed> {
    // Schema step 4's trigger bumps the epoch before the row goes, and RETURNING (after
    // the row is gone) reads the list's new version.
    const REMOVE: Write = change! {
        "DELETE FROM favorites
         WHERE user_id = ?1 AND pokemon_id = ?3 AND ", session_version!(), "
           AND ", schema_is_current!(), " AND ", list_is_at!(4), "
         RETURNING ", last_favorite!(), " AS last, ", epoch!(), " AS epoch"
    };
    const WHY_NOT_REMOVED: Read = read! { favorite_checks!() };
    let [user, version] = session_params(session);
    let params = [
        user,
        version,
        Value::Integer(pokemon.get()),
        expected_param(expected),
    ];
    let delete = || {
        let rows = db.execute(&REMOVE, &params)?;
        let Some(row) = rows.first() else {
            return Ok(Tried::Unchanged);
        };
        Ok(Tried::Done(Removed::Gone(ListVersion {
            last: row.opt_int("last")?.unwrap_or(0),
            epoch: row.int("epoch")?,
        })))
    };
    let explain = || {
        let rows = db.read(&WHY_NOT_REMOVED, &params)?;
        why_not_removed(live_row(&rows, "the remove check gave no row")?)
    };
    write_or_explain(delete, explain)
}

/// Why a remove changed nothing, from a row of [`favorite_checks!`] whose session is
/// live.
fn why_not_removed(row: Row) -> Result<Explained<Removed>> {
    // A Pokémon outside the catalog names no favorite whatever the list holds: 404
    // before If-Match (RFC 9110 §13.2.1), as an unknown id is 422 before it on add.
    if row.int("known")? == 0 {
        return Ok(Explained::Answer(Removed::NotAFavorite));
    }
    if row.int("at_expected")? == 0 {
        return Err(StoreError::PreconditionFailed);
    }
    // Still there: it was added again since, or the file was behind; try again.
    Ok(match row.int("is_favorite")? {
        0 => Explained::Answer(Removed::NotAFavorite),
        _ => Explained::TryAgain,
    })
}

/// [`remove`] with an `Idempotency-Key` (see [`super::idempotency`]): one INSERT into
/// `keyed_favorite_writes`, whose trigger removes the favorite and stores the answer,
/// on the same conditions as [`remove`]'s and that the key holds none. A key that holds
/// one replays it. `None`: it was not a favorite.
pub fn remove_keyed(
    db: &Db,
    session: Session,
    pokemon: PokemonId,
    expected: &IfMatch,
    keyed: &Keyed,
) -> Result<Option<Answer>> {
    const KEYED_REMOVE: Write = change! {
        "INSERT INTO keyed_favorite_writes
           (user_id, change, pokemon_id, key, fingerprint, status, location, body)
         SELECT ?1, 'remove', ?3, ?5, ?6, ?7, ?8, NULL
         WHERE EXISTS (SELECT 1 FROM favorites WHERE user_id = ?1 AND pokemon_id = ?3)
           AND ", session_version!(), " AND ", schema_is_current!(), "
           AND ", list_is_at!(4), " AND ", key_is_free!(5), "
         ", stored_answer!(5)
    };
    const WHY_NOT_REMOVED: Read =
        read! { favorite_checks!(), ", ", keyed_columns!(6), key_join!(5) };
    let [user, version] = session_params(session);
    let [key, print, status, location] = keyed.params();
    let params = [
        user,
        version,
        Value::Integer(pokemon.get()),
        expected_param(expected),
        key,
        print,
        status,
        location,
    ];
    let delete = || {
        Ok(match decided(&db.execute(&KEYED_REMOVE, &params)?)? {
            Tried::Done(answer) => Tried::Done(Some(answer)),
            Tried::Unchanged => Tried::Unchanged,
        })
    };
    let explain = || {
        let rows = db.read(&WHY_NOT_REMOVED, &params[..6])?;
        let row = live_row(&rows, "the keyed remove check gave no row")?;
        if let Some(replayed) = replay(&row)? {
            return Ok(Explained::Answer(Some(Answer::Replayed(replayed))));
        }
        Ok(match why_not_removed(row)? {
            Explained::Answer(_) => Explained::Answer(None),
            Explained::TryAgain => Explained::TryAgain,
        })
    };
    write_or_explain(delete, explain)
}
