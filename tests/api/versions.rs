//! Favorites list versions: the `ETag` of a list, `If-None-Match` on reads (304) and
//! `If-Match` on writes (412), with the comparison inside the write itself.

use crate::helpers::favorite_writes::{add, favorites_path, remove, replace};
use crate::helpers::{assert_problem, store_tests, TestApp, TestUser};
use crate::host::HostResponse;
use serde_json::{json, Value};
use std::collections::HashSet;

/// The strong tag an answer carries, asserting it has one.
#[track_caller]
fn etag(response: &HostResponse) -> String {
    let tag = response
        .header("etag")
        .unwrap_or_else(|| panic!("no ETag on a {}: {}", response.status, response.text()));
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && tag.len() > 2,
        "{tag}"
    );
    tag.to_string()
}

/// The list's current tag, read with a plain `GET`.
fn current(app: &TestApp, user: &TestUser) -> String {
    let response = app.favorites(user);
    assert_eq!(response.status, 200, "{}", response.text());
    etag(&response)
}

/// A write of each kind, for tests that run the same checks on all three. Each takes
/// the list from `[1, 2, 3]` to a different content.
type Write = fn(&TestApp, &TestUser, &[(&str, &str)]) -> HostResponse;
const WRITES: [(&str, u16, Write); 3] = [
    ("add", 201, |app, user, h| add(app, user, 25, h)),
    ("replace", 200, |app, user, h| {
        replace(app, user, &[4, 5], h)
    }),
    ("remove", 204, |app, user, h| remove(app, user, 2, h)),
];

fn pokemon_ids(body: &Value) -> Vec<i64> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["pokemon_id"].as_i64().unwrap())
        .collect()
}

store_tests!(
    the_tag_is_the_same_on_every_page_and_new_after_each_write,
    no_tag_comes_back_even_when_the_list_does,
    if_none_match_with_the_current_tag_is_304_without_a_body,
    if_match_lets_a_write_through_only_at_the_current_version,
    malformed_if_match_values_are_412_and_change_nothing,
    auth_ownership_and_the_body_are_judged_before_the_tag,
    two_writers_with_one_tag_never_both_win,
);

fn the_tag_is_the_same_on_every_page_and_new_after_each_write(app: TestApp) {
    let ash = app.user("ash");
    let empty = current(&app, &ash);
    let replaced = replace(&app, &ash, &[1, 2, 3, 4, 5], &[]);
    let tag = etag(&replaced);
    assert_ne!(tag, empty);
    // Every page of the list, with or without a limit, carries the same tag.
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("{}?limit=2", favorites_path(&ash));
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page = app.get(&path, Some(&ash.token));
        assert_eq!(etag(&page), tag, "page {pages}");
        pages += 1;
        match page.json()["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(current(&app, &ash), tag, "reading does not change it");
    // Each kind of write answers the list's new tag, which the next read agrees with.
    let mut seen = HashSet::from([empty, tag]);
    for (name, ok, write) in WRITES {
        let reset = replace(&app, &ash, &[1, 2, 3], &[]);
        assert!(
            seen.insert(etag(&reset)),
            "the reset before {name} reused a tag"
        );
        let response = write(&app, &ash, &[]);
        assert_eq!(response.status, ok, "{name}: {}", response.text());
        let written = etag(&response);
        assert!(seen.insert(written.clone()), "{name} reused a tag");
        assert_eq!(current(&app, &ash), written, "{name}");
    }
    // Another user's list has a tag of its own, even when both lists are empty.
    let misty = app.user("misty");
    let brock = app.user("brock");
    assert_ne!(current(&app, &misty), current(&app, &brock));
}

/// One change of a list, for a walk through several.
#[derive(Debug)]
enum Step {
    Add(i64),
    Remove(i64),
    Replace(&'static [i64]),
}

fn no_tag_comes_back_even_when_the_list_does(app: TestApp) {
    let ash = app.user("ash");
    let mut seen = HashSet::new();
    let mut remember = |tag: String, what: &str| {
        assert!(seen.insert(tag.clone()), "{what}: {tag} was seen before");
    };
    remember(current(&app, &ash), "empty");
    // A walk that keeps returning the list to contents it had before.
    use Step::{Add, Remove, Replace};
    let steps = [
        Add(25),
        Remove(25),
        Add(25),
        Replace(&[25]),
        Replace(&[25]),
        Add(1),
        Remove(1),
        Replace(&[]),
        Replace(&[]),
        Replace(&[25, 1]),
        Remove(1),
        Add(1),
        Remove(25),
        Remove(1),
    ];
    for (i, step) in steps.iter().enumerate() {
        let response = match step {
            Add(id) => add(&app, &ash, *id, &[]),
            Remove(id) => remove(&app, &ash, *id, &[]),
            Replace(ids) => replace(&app, &ash, ids, &[]),
        };
        let what = format!("step {i}, {step:?}");
        assert!(response.status < 300, "{what}: {}", response.text());
        let tag = etag(&response);
        assert_eq!(current(&app, &ash), tag, "{what}");
        remember(tag, &what);
    }
    // A deleted account's name, registered again: a new account, new tags.
    assert_eq!(app.delete_user(&ash).status, 204);
    let again = app.user("ash");
    remember(current(&app, &again), "the new account's empty list");
    remember(
        etag(&add(&app, &again, 25, &[])),
        "the new account's first add",
    );
}

fn if_none_match_with_the_current_tag_is_304_without_a_body(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(replace(&app, &ash, &[1, 2, 3], &[]).status, 200);
    let tag = current(&app, &ash);
    let path = favorites_path(&ash);
    let get = |value: &str| {
        app.send_with(
            "GET",
            &path,
            Some(&ash.token),
            None,
            &[("if-none-match", value)],
        )
    };
    let weak = format!("W/{tag}");
    let listed = format!("\"stale\", {tag}");
    for hit in [tag.as_str(), &weak, &listed, "*"] {
        let response = get(hit);
        assert_eq!(response.status, 304, "{hit}: {}", response.text());
        assert!(response.body.is_empty(), "{hit}: a 304 has no body");
        assert_eq!(etag(&response), tag, "{hit}");
        assert_eq!(response.header("cache-control"), Some("no-store"));
    }
    // Any page of the list: the tag is the whole list's.
    let page = app.send_with(
        "GET",
        &format!("{path}?limit=1"),
        Some(&ash.token),
        None,
        &[("if-none-match", &tag)],
    );
    assert_eq!(page.status, 304);
    // A stale tag, or a value that is no tag at all, gets the list in full.
    for miss in [
        "\"stale\"",
        tag.trim_matches('"'),
        "",
        "W/",
        &"x".repeat(10 * 1024),
    ] {
        let response = get(miss);
        assert_eq!(response.status, 200, "{miss:.40}");
        assert_eq!(pokemon_ids(&response.json()), [1, 2, 3]);
        assert_eq!(etag(&response), tag);
    }
    // After a change the old tag no longer matches.
    assert_eq!(add(&app, &ash, 25, &[]).status, 201);
    assert_eq!(get(&tag).status, 200);
    // 401 and 403 come before 304.
    let misty = app.user("misty");
    let other = app.send_with(
        "GET",
        &path,
        Some(&misty.token),
        None,
        &[("if-none-match", "*")],
    );
    assert_problem(&other, 403, "forbidden");
    let nobody = app.send_with("GET", &path, None, None, &[("if-none-match", "*")]);
    assert_problem(&nobody, 401, "unauthorized");
}

fn if_match_lets_a_write_through_only_at_the_current_version(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    for (name, ok, write) in WRITES {
        assert_eq!(replace(&app, &ash, &[1, 2, 3], &[]).status, 200);
        let stale = current(&app, &ash);
        assert_eq!(replace(&app, &ash, &[1, 2, 3], &[]).status, 200);
        let tag = current(&app, &ash);
        assert_ne!(stale, tag);
        let before = app.dump();
        let weak = format!("W/{tag}");
        let others = current(&app, &misty);
        let refused = [
            stale.as_str(),
            &weak,
            &others,
            "\"not-a-tag\"",
            &format!("{stale}, W/{tag}"),
        ];
        for value in refused {
            let response = write(&app, &ash, &[("if-match", value)]);
            let body = assert_problem(&response, 412, "precondition_failed");
            assert_eq!(body["title"], "Precondition Failed");
            assert_eq!(app.dump(), before, "{name} with {value}: nothing changed");
        }
        // Two fields are one list: a stale one and the current one.
        let response = write(&app, &ash, &[("if-match", &stale), ("if-match", &tag)]);
        assert_eq!(response.status, ok, "{name}: {}", response.text());
        assert_ne!(etag(&response), tag);
        // The tag just used is stale now.
        let again = write(&app, &ash, &[("if-match", &tag)]);
        assert_problem(&again, 412, "precondition_failed");
        // `*` matches any version, and a list matches if any of its tags does.
        assert_eq!(replace(&app, &ash, &[1, 2, 3], &[]).status, 200);
        assert_eq!(
            write(&app, &ash, &[("if-match", "*")]).status,
            ok,
            "{name} *"
        );
        assert_eq!(replace(&app, &ash, &[1, 2, 3], &[]).status, 200);
        let tag = current(&app, &ash);
        let listed = format!("\"a\", {stale} ,, {tag}");
        assert_eq!(
            write(&app, &ash, &[("if-match", &listed)]).status,
            ok,
            "{name} list"
        );
    }
}

fn malformed_if_match_values_are_412_and_change_nothing(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(replace(&app, &ash, &[1, 2, 3], &[]).status, 200);
    let tag = current(&app, &ash);
    let before = app.dump();
    let unquoted = tag.trim_matches('"').to_string();
    let huge_garbage = "x".repeat(10 * 1024);
    // 10 KiB of well-formed tags, none of them the list's.
    let huge_list = vec!["\"stale-tag\""; 10 * 1024 / 13].join(", ");
    assert!(huge_list.len() >= 10 * 1024 - 20);
    let values = [
        unquoted.as_str(),
        "",
        " ",
        ",",
        "\"unterminated",
        "W/",
        "*, *",
        &format!("*, {tag}"),
        &huge_garbage,
        &huge_list,
    ];
    for (name, _, write) in WRITES {
        for value in values {
            let response = write(&app, &ash, &[("if-match", value)]);
            assert_problem(&response, 412, "precondition_failed");
            assert_eq!(app.dump(), before, "{name} with {value:.40}");
        }
    }
    assert_eq!(current(&app, &ash), tag);
}

fn auth_ownership_and_the_body_are_judged_before_the_tag(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    assert_eq!(replace(&app, &ash, &[1, 2, 3], &[]).status, 200);
    let stale = [("if-match", "\"stale\"")];
    let broken = [("if-match", "not quoted")];
    for headers in [&stale, &broken] {
        // Another user's list: 403, whatever the tag.
        let path = favorites_path(&ash);
        let body = json!({ "pokemon_id": 25 });
        let theirs = app.send_with("POST", &path, Some(&misty.token), Some(&body), headers);
        assert_problem(&theirs, 403, "forbidden");
        // A body that breaks the rules: 422, whatever the tag.
        assert_problem(&add(&app, &ash, 0, headers), 422, "validation_failed");
        assert_problem(&add(&app, &ash, 2000, headers), 422, "unknown_pokemon");
        assert_problem(
            &replace(&app, &ash, &[1, 1], headers),
            422,
            "validation_failed",
        );
        assert_problem(
            &replace(&app, &ash, &[1, 9999], headers),
            422,
            "unknown_pokemon",
        );
        // A Pokémon outside the catalog is never a favorite, whatever the tag.
        assert_problem(&remove(&app, &ash, 2000, headers), 404, "not_found");
        // A state the stale client could not know about: the tag speaks first.
        assert_problem(&add(&app, &ash, 1, headers), 412, "precondition_failed");
        assert_problem(&remove(&app, &ash, 99, headers), 412, "precondition_failed");
    }
    // With the right tag, the state answers as it always has.
    let tag = current(&app, &ash);
    assert_problem(
        &add(&app, &ash, 1, &[("if-match", &tag)]),
        409,
        "favorite_exists",
    );
    assert_problem(
        &remove(&app, &ash, 99, &[("if-match", &tag)]),
        404,
        "not_found",
    );
    // A token that no longer speaks for anyone: 401, whatever the tag.
    let gone = app.user("gone");
    let tag = current(&app, &gone);
    assert_eq!(app.logout(&gone.token).status, 204);
    for (_, _, write) in WRITES {
        assert_problem(
            &write(&app, &gone, &[("if-match", &tag)]),
            401,
            "unauthorized",
        );
        assert_problem(&write(&app, &gone, &broken), 401, "unauthorized");
    }
}

fn two_writers_with_one_tag_never_both_win(app: TestApp) {
    let ash = app.user("ash");
    let rounds = 12;
    for round in 0..rounds {
        assert_eq!(replace(&app, &ash, &[1, 2, 3], &[]).status, 200);
        let tag = current(&app, &ash);
        let if_match = [("if-match", tag.as_str())];
        // Two clients that read the same version: each replaces the list with its own
        // content, or (in odd rounds) one adds while the other removes.
        let (first, second, lists): (_, _, [Vec<i64>; 2]) = if round % 2 == 0 {
            let (a, b) = std::thread::scope(|scope| {
                let a = scope.spawn(|| replace(&app, &ash, &[10, 11], &if_match));
                let b = scope.spawn(|| replace(&app, &ash, &[20, 21, 22], &if_match));
                (a.join().unwrap(), b.join().unwrap())
            });
            (a, b, [vec![10, 11], vec![20, 21, 22]])
        } else {
            let (a, b) = std::thread::scope(|scope| {
                let a = scope.spawn(|| add(&app, &ash, 25, &if_match));
                let b = scope.spawn(|| remove(&app, &ash, 2, &if_match));
                (a.join().unwrap(), b.join().unwrap())
            });
            (a, b, [vec![1, 2, 3, 25], vec![1, 3]])
        };
        let won: Vec<usize> = [&first, &second]
            .iter()
            .enumerate()
            .filter(|(_, r)| r.status < 300)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            won.len(),
            1,
            "round {round}: {} and {}",
            first.status,
            second.status
        );
        let loser = if won[0] == 0 { &second } else { &first };
        assert_problem(loser, 412, "precondition_failed");
        let winner = if won[0] == 0 { &first } else { &second };
        assert_eq!(
            app.favorite_ids_in_db(ash.id),
            lists[won[0]],
            "round {round}: the list is the winner's"
        );
        assert_eq!(current(&app, &ash), etag(winner));
    }
}
