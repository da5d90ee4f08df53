//! The routes the fault sweeps run, each as a repeatable call: how to bring the
//! database to where the call succeeds, the call, and the status success is. And the
//! routes of the table the sweeps leave out, each with the reason.

use crate::helpers::{TestApp, TestUser};
use crate::host::HostResponse;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The operations of the route table that no sweep runs, and why.
pub(super) const NOT_SWEPT: &[(&str, &str)] = &[
    (
        "GET /health/live",
        "it opens no database: there is no statement to fail",
    ),
    (
        "GET /api/openapi.json",
        "it opens no database: there is no statement to fail",
    ),
    (
        "GET /health",
        "a failure is its answer (503 and the database's state, not a problem): \
         health_tells_an_unreachable_server_from_a_busy_one_from_a_lock and the tests \
         of a store that cannot be opened",
    ),
];

pub(super) type Prepare<'a> = Box<dyn Fn() -> Option<TestUser> + 'a>;
pub(super) type Call<'a> = Box<dyn Fn(Option<&TestUser>) -> HostResponse + 'a>;

/// A write route under test: how to prepare a call that should succeed, the call, and
/// the status that success is.
pub(super) struct WriteRoute<'a> {
    pub(super) name: &'static str,
    pub(super) ok: u16,
    /// Brings the database to where the call can succeed (may create a user for it).
    pub(super) prepare: Prepare<'a>,
    pub(super) call: Call<'a>,
}

pub(super) fn write_routes<'a>(
    app: &'a TestApp,
    ash: &'a TestUser,
    counter: &'a Cell<u32>,
) -> Vec<WriteRoute<'a>> {
    let next_name = move || {
        counter.set(counter.get() + 1);
        format!("user{}", counter.get())
    };
    let fresh_user = move || {
        counter.set(counter.get() + 1);
        Some(app.user(&format!("member{}", counter.get())))
    };
    // The sweep fails hundreds of logins from one address: forget them between calls,
    // or the address limit would turn the call under test into a 429.
    let forget_failures = move || {
        let conn = rusqlite::Connection::open(app.db_path()).expect("open the test database");
        conn.execute("DELETE FROM login_failures", [])
            .expect("forget failed logins");
    };
    let list_of_three = move || {
        assert_eq!(app.replace_favorites(ash, &[1, 2, 3]).status, 200);
        None
    };
    // A conditional write: the list's tag is read while preparing, and sent in If-Match.
    // After a failed call the next one must succeed with the same tag: the failure left
    // the list's version where it was.
    let tag = Rc::new(RefCell::new(String::new()));
    let read_tag = {
        let tag = Rc::clone(&tag);
        move || {
            list_of_three();
            let list = app.favorites(ash);
            *tag.borrow_mut() = list.header("etag").expect("an ETag").to_string();
            None
        }
    };
    let if_match = move |method: &'static str, path: String, body: Option<Value>| {
        let tag = Rc::clone(&tag);
        Box::new(move |_: Option<&TestUser>| {
            let tag = tag.borrow().clone();
            app.send_with(
                method,
                &path,
                Some(&ash.token),
                body.as_ref(),
                &[("if-match", &tag)],
            )
        }) as Call<'a>
    };
    let list_path = format!("/api/users/{}/favorites", ash.id);
    let mut routes = vec![
        WriteRoute {
            name: "register",
            ok: 201,
            prepare: Box::new(|| None),
            call: Box::new(move |_| app.register(&next_name(), "pikachu-pal")),
        },
        WriteRoute {
            name: "add favorite",
            ok: 201,
            prepare: Box::new(list_of_three),
            call: Box::new(move |_| app.add_favorite(ash, 25)),
        },
        WriteRoute {
            name: "replace favorites",
            ok: 200,
            prepare: Box::new(list_of_three),
            call: Box::new(move |_| app.replace_favorites(ash, &[4, 5, 6])),
        },
        WriteRoute {
            name: "remove favorite",
            ok: 204,
            prepare: Box::new(list_of_three),
            call: Box::new(move |_| app.remove_favorite(ash, 2)),
        },
        WriteRoute {
            name: "add favorite if match",
            ok: 201,
            prepare: Box::new(read_tag.clone()),
            call: if_match("POST", list_path.clone(), Some(json!({"pokemon_id": 25}))),
        },
        WriteRoute {
            name: "replace favorites if match",
            ok: 200,
            prepare: Box::new(read_tag.clone()),
            call: if_match(
                "PUT",
                list_path.clone(),
                Some(json!({"pokemon_ids": [4, 5]})),
            ),
        },
        WriteRoute {
            name: "remove favorite if match",
            ok: 204,
            prepare: Box::new(read_tag),
            call: if_match("DELETE", format!("{list_path}/2"), None),
        },
        // A write that changes nothing, then the read that says why (404, not 401).
        WriteRoute {
            name: "remove absent favorite",
            ok: 404,
            prepare: Box::new(list_of_three),
            call: Box::new(move |_| app.remove_favorite(ash, 99)),
        },
        WriteRoute {
            name: "delete user",
            ok: 204,
            // A fresh user with favorites each time, so the cascade has work to do.
            prepare: Box::new(move || {
                counter.set(counter.get() + 1);
                let victim = app.user(&format!("victim{}", counter.get()));
                assert_eq!(app.replace_favorites(&victim, &[7, 8]).status, 200);
                Some(victim)
            }),
            call: Box::new(move |victim| app.delete_user(victim.expect("a victim"))),
        },
        // Sessions: each call needs a live session of its own, so a fresh user.
        WriteRoute {
            name: "logout",
            ok: 204,
            prepare: Box::new(fresh_user),
            call: Box::new(move |user| app.logout(&user.expect("a user").token)),
        },
        WriteRoute {
            name: "change password",
            ok: 200,
            prepare: Box::new(fresh_user),
            call: Box::new(move |user| {
                let user = user.expect("a user");
                app.change_password(user, &user.password, "a-new-password")
            }),
        },
        // A wrong current password is counted as a failed login, before the check.
        WriteRoute {
            name: "wrong password",
            ok: 403,
            prepare: Box::new(move || {
                forget_failures();
                fresh_user()
            }),
            call: Box::new(move |user| {
                app.change_password(user.expect("a user"), "not-the-password", "a-new-password")
            }),
        },
        // A failed login is counted before the check; a name of its own each time keeps
        // every call under the name's limit.
        WriteRoute {
            name: "failed login",
            ok: 401,
            prepare: Box::new(move || {
                forget_failures();
                counter.set(counter.get() + 1);
                Some(TestUser {
                    username: format!("nobody{}", counter.get()),
                    ..ash.clone()
                })
            }),
            call: Box::new(move |who| app.login(&who.expect("a name").username, "a-wrong-guess")),
        },
    ];
    // The favorites writes again, with an Idempotency-Key: decided and replayed.
    routes.extend(super::keyed::keyed_routes(app, ash, counter));
    routes
}

/// The routes that only read, in the same shape (their `ok` is their success status).
fn read_routes<'a>(
    app: &'a TestApp,
    ash: &'a TestUser,
    misty: &'a TestUser,
) -> Vec<WriteRoute<'a>> {
    let route = |name, ok, call: Call<'a>| WriteRoute {
        name,
        ok,
        prepare: Box::new(|| None),
        call,
    };
    vec![
        route(
            "login",
            200,
            Box::new(move |_| app.login(&ash.username, &ash.password)),
        ),
        route("me", 200, Box::new(move |_| app.me(&ash.token))),
        route("list favorites", 200, Box::new(move |_| app.favorites(ash))),
        route(
            "search",
            200,
            Box::new(move |_| app.get("/api/pokemon?q=char", None)),
        ),
        route(
            "pokemon",
            200,
            Box::new(move |_| app.get("/api/pokemon/25", None)),
        ),
        route(
            "another user",
            403,
            Box::new(move |_| app.get(&format!("/api/users/{}", misty.id), Some(&ash.token))),
        ),
    ]
}

/// Every data route: what `prepare` does makes each call repeatable.
pub(super) fn data_routes<'a>(
    app: &'a TestApp,
    ash: &'a TestUser,
    misty: &'a TestUser,
    counter: &'a Cell<u32>,
) -> Vec<WriteRoute<'a>> {
    let mut routes = read_routes(app, ash, misty);
    routes.extend(write_routes(app, ash, counter));
    routes
}
