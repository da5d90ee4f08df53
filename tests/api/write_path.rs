//! Issue 22's write path: every favorites write and a user's deletion hold the write lock
//! for one host call; writes sync NORMAL on the local store (FULL when the operator asks;
//! nothing for a libSQL server to refuse when deployed as docs/operations.md says); racing
//! writers on one list end exactly where a model of the list says.

use crate::helpers::{assert_json, assert_problem, store_tests, TestApp, TestUser};
use crate::host::{HostResponse, StatementRecord, StoreMode};
use serde_json::json;
use std::sync::Barrier;

/// The statements of a request that are not reads, nor its sync setting.
fn writes(response: &HostResponse) -> Vec<&StatementRecord> {
    response
        .stats
        .statements
        .iter()
        .filter(|s| !s.sql.starts_with("SELECT") && !s.sql.starts_with("PRAGMA"))
        .collect()
}

/// Every writing route once, for `ash` (left with the list [1]) and a user of its own
/// that is deleted at the end.
fn every_write(app: &TestApp, ash: &TestUser) -> Vec<(&'static str, HostResponse)> {
    let gone = app.user("gone");
    vec![
        ("register", app.register("brock", "onix-rocks")),
        ("login", app.login("ash", &ash.password)),
        ("failed login", app.login("ash", "not-the-password")),
        ("add", app.add_favorite(ash, 25)),
        ("replace", app.replace_favorites(ash, &[1, 4, 7])),
        ("remove", app.remove_favorite(ash, 4)),
        ("remove absent", app.remove_favorite(ash, 4)),
        ("remove 7", app.remove_favorite(ash, 7)),
        ("delete user", app.delete_user(&gone)),
    ]
}

#[test]
fn local_writes_run_with_synchronous_normal_and_reads_send_nothing() {
    let app = TestApp::new(StoreMode::Local);
    let ash = app.user("ash");
    for (name, response) in every_write(&app, &ash) {
        assert!(response.status < 500, "{name}: {}", response.text());
        let sql = response.stats.sql();
        let first_write = sql
            .iter()
            .position(|s| !s.starts_with("SELECT"))
            .expect("a write");
        assert_eq!(
            sql[first_write], "PRAGMA synchronous = NORMAL",
            "{name}: before the first write, outside the lock"
        );
        let syncs = sql
            .iter()
            .filter(|s| s.starts_with("PRAGMA synchronous"))
            .count();
        assert_eq!(syncs, 1, "{name}: once per request");
        for write in writes(&response) {
            assert_eq!(
                write.synchronous,
                Some(1),
                "{name}: `{}` ran NORMAL",
                write.sql
            );
        }
    }
    for response in [
        app.favorites(&ash),
        app.me(&ash.token),
        app.get("/api/pokemon/25", None),
    ] {
        assert!(
            !response
                .stats
                .sql()
                .iter()
                .any(|s| s.starts_with("PRAGMA synchronous")),
            "a read sends no sync setting"
        );
    }
}

#[test]
fn an_operator_can_ask_for_a_sync_on_every_commit() {
    let app = TestApp::with(StoreMode::Local, |cfg| {
        cfg.env("POKEFAVS_DB_SYNCHRONOUS", "full")
    });
    let ash = app.user("ash");
    let added = app.add_favorite(&ash, 25);
    assert_eq!(added.stats.sql()[0], "PRAGMA synchronous = FULL");
    let insert = writes(&added)[0];
    assert_eq!(insert.synchronous, Some(2), "FULL");
}

#[test]
fn a_libsql_deployment_sends_nothing_the_server_refuses() {
    // Deployed as docs/operations.md says (POKEFAVS_DB_SYNCHRONOUS=server): not one statement
    // of any write is refused.
    let app = TestApp::new(StoreMode::Libsql);
    let ash = app.user("ash");
    for (name, response) in every_write(&app, &ash) {
        assert!(response.status < 500, "{name}: {}", response.text());
        let refused: Vec<&str> = response
            .stats
            .statements
            .iter()
            .filter(|s| {
                s.error
                    .as_deref()
                    .is_some_and(|e| e.contains("unsupported statement"))
            })
            .map(|s| s.sql.as_str())
            .collect();
        assert!(refused.is_empty(), "{name}: {refused:?}");
    }
    // Left at the default, a libSQL write costs one refused round trip, and works.
    let defaulted = TestApp::with(StoreMode::Libsql, |cfg| {
        cfg.env("POKEFAVS_DB_SYNCHRONOUS", "")
    });
    let misty = defaulted.user("misty");
    let added = defaulted.add_favorite(&misty, 25);
    assert_json(&added, 201);
    let first = &added.stats.statements[0];
    assert_eq!(first.sql, "PRAGMA synchronous = NORMAL");
    assert!(first
        .error
        .as_deref()
        .is_some_and(|e| e.contains("unsupported statement")));
    assert_eq!(
        added.stats.statements.len(),
        2,
        "the refusal, then the write"
    );
}

#[test]
fn a_sync_setting_that_is_not_one_is_a_configuration_error() {
    let good = TestApp::new(StoreMode::Local);
    let ash = good.user("ash");
    let app = TestApp::with(StoreMode::Local, |_| {
        crate::host::HostConfig::new(good.db_path()).env("POKEFAVS_DB_SYNCHRONOUS", "sometimes")
    });
    let refused = app.add_favorite(&ash, 25);
    assert_problem(&refused, 500, "internal");
    assert!(
        refused.stderr.contains("POKEFAVS_DB_SYNCHRONOUS"),
        "{}",
        refused.stderr
    );
    assert!(refused.stats.statements.is_empty(), "nothing was written");
    let health = assert_json(&app.get("/health", None), 503);
    assert!(health["config"]["error"]
        .as_str()
        .unwrap()
        .contains("POKEFAVS_DB_SYNCHRONOUS"));
    assert_eq!(
        app.favorites(&ash).status,
        200,
        "reads need no sync setting"
    );
}

store_tests!(
    each_favorites_write_and_a_deletion_is_one_statement,
    racing_writers_on_one_list_end_where_the_model_says
);

fn each_favorites_write_and_a_deletion_is_one_statement(app: TestApp) {
    let ash = app.user("ash");
    let gone = app.user("gone");
    assert_eq!(app.replace_favorites(&gone, &[1, 2]).status, 200);
    for (name, response) in [
        ("add", app.add_favorite(&ash, 25)),
        ("replace", app.replace_favorites(&ash, &[1, 4, 7])),
        ("remove", app.remove_favorite(&ash, 4)),
        ("delete user", app.delete_user(&gone)),
    ] {
        assert!(response.status < 300, "{name}: {}", response.text());
        let writes = writes(&response);
        assert_eq!(writes.len(), 1, "{name}: {:?}", response.stats.sql());
        assert!(!writes[0].sql.starts_with("BEGIN"), "{name}");
        assert!(response.stats.write_lock_held().is_some(), "{name}");
    }
}

/// What a list is, as the model keeps it: the ids in order.
fn list_of(app: &TestApp, user: &TestUser) -> (Vec<i64>, String) {
    let response = app.favorites(user);
    let body = assert_json(&response, 200);
    let ids = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["pokemon_id"].as_i64().unwrap())
        .collect();
    (ids, response.header("etag").unwrap().to_string())
}

/// One write of the race: its request, and what it does to the model's list.
#[derive(Clone, Copy, Debug)]
enum Write {
    Add(i64),
    Remove(i64),
    Replace(&'static [i64]),
}

impl Write {
    fn send(self, app: &TestApp, user: &TestUser, if_match: Option<&str>) -> HostResponse {
        let headers: Vec<(&str, &str)> =
            if_match.map(|tag| ("if-match", tag)).into_iter().collect();
        let list = format!("/api/users/{}/favorites", user.id);
        match self {
            Write::Add(id) => app.send_with(
                "POST",
                &list,
                Some(&user.token),
                Some(&json!({"pokemon_id": id})),
                &headers,
            ),
            Write::Remove(id) => app.send_with(
                "DELETE",
                &format!("{list}/{id}"),
                Some(&user.token),
                None,
                &headers,
            ),
            Write::Replace(ids) => app.send_with(
                "PUT",
                &list,
                Some(&user.token),
                Some(&json!({"pokemon_ids": ids})),
                &headers,
            ),
        }
    }

    /// The status this write gets on `list` (without If-Match).
    fn status_on(self, list: &[i64]) -> u16 {
        match self {
            Write::Add(id) if list.contains(&id) => 409,
            Write::Add(_) => 201,
            Write::Remove(id) if list.contains(&id) => 204,
            Write::Remove(_) => 404,
            Write::Replace(_) => 200,
        }
    }

    /// What this write does to `list` (nothing if it was refused).
    fn apply(self, list: &mut Vec<i64>) {
        match self {
            Write::Add(id) if !list.contains(&id) => list.push(id),
            Write::Remove(id) => list.retain(|x| *x != id),
            Write::Replace(ids) => *list = ids.to_vec(),
            Write::Add(_) => {}
        }
    }
}

/// Every order of `0..n`.
fn orders(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for rest in orders(n - 1) {
        for at in 0..=rest.len() {
            let mut order = rest.clone();
            order.insert(at, n - 1);
            all.push(order);
        }
    }
    all
}

fn racing_writers_on_one_list_end_where_the_model_says(app: TestApp) {
    let ash = app.user("ash");
    let writes = [
        Write::Add(25),
        Write::Remove(1),
        Write::Replace(&[7, 8, 9]),
        Write::Add(133),
        Write::Remove(4),
        Write::Replace(&[]),
    ];
    for round in 0..6 {
        assert_eq!(app.replace_favorites(&ash, &[1, 4]).status, 200);
        let (start, tag) = list_of(&app, &ash);
        let conditional = round % 2 == 0;
        let barrier = Barrier::new(writes.len());
        let answers: Vec<(Write, HostResponse)> = std::thread::scope(|scope| {
            let threads: Vec<_> = writes
                .iter()
                .map(|write| {
                    let (app, ash, tag, barrier) = (&app, &ash, &tag, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        let if_match = conditional.then_some(tag.as_str());
                        (*write, write.send(app, ash, if_match))
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let (end, end_tag) = list_of(&app, &ash);
        if conditional {
            // One winner; every other is 412, and the list is the winner's.
            let winners: Vec<&(Write, HostResponse)> =
                answers.iter().filter(|(_, r)| r.status < 300).collect();
            assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
            for (write, response) in &answers {
                if response.status >= 300 {
                    assert_problem(response, 412, "precondition_failed");
                    let _ = write;
                }
            }
            let (write, response) = winners[0];
            let mut model = start.clone();
            write.apply(&mut model);
            assert_eq!(end, model, "round {round}: {write:?}");
            assert_eq!(
                response.header("etag"),
                Some(end_tag.as_str()),
                "round {round}"
            );
        } else {
            // Every write was decided under the lock, one after the other: some order of
            // them, applied to the model, gives every answer's status and the final list,
            // and the write that carries the final tag is the last of them to succeed.
            let last = answers
                .iter()
                .position(|(_, r)| r.header("etag") == Some(end_tag.as_str()))
                .expect("the last write's answer carries the final tag");
            let explained = orders(answers.len()).into_iter().any(|order| {
                let mut model = start.clone();
                let mut last_success = None;
                let statuses_match = order.iter().all(|&i| {
                    let (write, response) = &answers[i];
                    let matches = write.status_on(&model) == response.status;
                    if response.status < 300 {
                        last_success = Some(i);
                    }
                    write.apply(&mut model);
                    matches
                });
                statuses_match && model == end && last_success == Some(last)
            });
            assert!(
                explained,
                "round {round}: no order explains {answers:?} ending at {end:?}"
            );
        }
        assert_ne!(end_tag, tag, "round {round}: the list moved on");
    }
}
