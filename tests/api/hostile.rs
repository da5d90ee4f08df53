//! Contract v3, hostile clients: the client address is Spin's (a forged
//! `spin-client-addr` changes nothing), `X-Forwarded-For` counts only from a trusted
//! proxy, every guess is counted before it is checked (so parallel guesses check at most
//! the limit's worth of passwords), overlong names are never stored whole, registrations
//! are limited per address and a taken name costs no Argon2, `HEAD` answers every `GET`
//! route, and entity tags may hold commas.

use crate::helpers::{assert_json, assert_problem, ran_argon2, retry_after, store_tests, TestApp};
use crate::host::{HostConfig, HostResponse, StoreMode};
use pokefavs::ROUTES;
use std::sync::Barrier;
use std::time::Duration;

/// A test app with these variables.
fn app_with(mode: StoreMode, variables: &[(&str, &str)]) -> TestApp {
    TestApp::with(mode, |mut cfg| {
        for (name, value) in variables {
            cfg = cfg.variable(name, value);
        }
        cfg
    })
}

/// Login limits: per name, per address, window seconds.
fn limited(mode: StoreMode, per_name: u32, per_address: u32) -> TestApp {
    app_with(
        mode,
        &[
            ("login_failure_limit", &per_name.to_string()),
            ("login_address_limit", &per_address.to_string()),
            ("login_window_seconds", "60"),
        ],
    )
}

/// The live counts by key (`addr:…`, `user:…`, `reg:…`), as the store holds them.
fn counts(app: &TestApp, prefix: &str) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT key, failures FROM login_failures
             WHERE key LIKE ?1 || '%' AND window_ends > unixepoch() AND failures > 0
             ORDER BY key",
        )
        .unwrap();
    statement
        .query_map([prefix], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn failed_login(app: &TestApp, peer: &str, headers: &[(&str, &str)]) -> HostResponse {
    let body = serde_json::json!({"username": "ash", "password": "not-the-password"});
    app.send_from(peer, "POST", "/api/auth/login", Some(&body), headers)
}

fn login_from(app: &TestApp, peer: &str, password: &str) -> HostResponse {
    app.login_from(peer, "ash", password)
}

store_tests!(
    a_forged_client_address_counts_against_the_real_one,
    a_forged_client_address_cannot_throttle_another,
    forwarded_for_counts_only_from_a_trusted_proxy,
    ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4,
    parallel_guesses_at_one_name_check_at_most_the_limit,
    a_60_kib_login_name_is_an_ordinary_failure_with_a_short_key,
    a_success_gives_its_attempt_back_and_clears_the_name,
    registrations_are_limited_per_address_before_any_password_work,
    a_taken_name_costs_no_password_work,
    head_answers_every_get_route_with_its_status_and_headers,
    entity_tags_may_hold_commas,
);

fn a_forged_client_address_counts_against_the_real_one(app: TestApp) {
    let app = limited(app.mode, 100, 3);
    app.user("ash");
    let real = "203.0.113.9:40000";
    // One forged value; two header lines; a list in one line; each different.
    let forgeries: [&[(&str, &str)]; 3] = [
        &[("spin-client-addr", "198.51.100.1:5555")],
        &[
            ("spin-client-addr", "198.51.100.2:5555"),
            ("spin-client-addr", "198.51.100.3:5555"),
        ],
        &[("spin-client-addr", "198.51.100.4:1, 198.51.100.5:2")],
    ];
    for forged in forgeries {
        assert_problem(
            &failed_login(&app, real, forged),
            401,
            "invalid_credentials",
        );
    }
    assert_eq!(counts(&app, "addr:"), [("addr:203.0.113.9".to_string(), 3)]);
    // The fourth, forged again, is over the real address's limit.
    let fourth = failed_login(&app, real, &[("spin-client-addr", "192.0.2.77:1")]);
    retry_after(&fourth);
    assert!(!ran_argon2(&fourth));
}

fn a_forged_client_address_cannot_throttle_another(app: TestApp) {
    let app = limited(app.mode, 100, 3);
    let ash = app.user("ash");
    let victim = "127.0.0.2";
    for _ in 0..5 {
        let forged = [("spin-client-addr", "127.0.0.2:40000")];
        let response = failed_login(&app, "127.0.0.1:50000", &forged);
        assert!(matches!(response.status, 401 | 429), "{}", response.text());
    }
    assert!(counts(&app, &format!("addr:{victim}")).is_empty());
    let token = login_from(&app, &format!("{victim}:40000"), &ash.password);
    assert_json(&token, 200);
}

fn forwarded_for_counts_only_from_a_trusted_proxy(app: TestApp) {
    let app = app_with(
        app.mode,
        &[
            ("login_failure_limit", "100"),
            ("trusted_proxies", "10.0.0.0/8, fd00::/8"),
        ],
    );
    let xff = |value| [("x-forwarded-for", value)];
    // From an untrusted peer the header is ignored.
    failed_login(&app, "203.0.113.5:1", &xff("198.51.100.7"));
    assert_eq!(counts(&app, "addr:"), [("addr:203.0.113.5".into(), 1)]);
    // From a trusted proxy: the client it names.
    failed_login(&app, "10.1.2.3:1", &xff("198.51.100.7"));
    // A chain the client prepended to: the right-most untrusted address is the client.
    failed_login(
        &app,
        "10.1.2.3:1",
        &xff("192.0.2.1, 192.0.2.2, 198.51.100.8, 10.9.9.9"),
    );
    // Several lines are one list, in order.
    let two_lines = [
        ("x-forwarded-for", "192.0.2.3"),
        ("x-forwarded-for", "198.51.100.8, 10.0.0.5"),
    ];
    failed_login(&app, "[fd00::1]:443", &two_lines);
    // No header, or no address in it: the proxy itself.
    failed_login(&app, "10.1.2.3:1", &[]);
    failed_login(&app, "10.1.2.3:1", &xff("unknown"));
    assert_eq!(
        counts(&app, "addr:"),
        [
            ("addr:10.1.2.3".to_string(), 2),
            ("addr:198.51.100.7".to_string(), 1),
            ("addr:198.51.100.8".to_string(), 2),
            ("addr:203.0.113.5".to_string(), 1),
        ]
    );
}

fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4(app: TestApp) {
    let app = limited(app.mode, 100, 100);
    for peer in [
        "[2001:db8:1:2::1]:5000",
        "[2001:db8:1:2:ffff:ffff:ffff:ffff]:5001",
        "[2001:db8:1:3::1]:5000",
        "[::ffff:203.0.113.7]:80",
        "203.0.113.7:81",
    ] {
        assert_eq!(failed_login(&app, peer, &[]).status, 401, "{peer}");
    }
    assert_eq!(
        counts(&app, "addr:"),
        [
            ("addr:2001:db8:1:2::/64".to_string(), 2),
            ("addr:2001:db8:1:3::/64".to_string(), 1),
            ("addr:203.0.113.7".to_string(), 2),
        ]
    );
}

fn parallel_guesses_at_one_name_check_at_most_the_limit(app: TestApp) {
    const LIMIT: usize = 3;
    const GUESSES: usize = 6 * LIMIT + 6;
    let app = limited(app.mode, LIMIT as u32, 1000);
    let ash = app.user("ash");
    let start = Barrier::new(GUESSES);
    let answers: Vec<HostResponse> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..GUESSES)
            .map(|i| {
                let (app, start) = (&app, &start);
                scope.spawn(move || {
                    start.wait();
                    let peer = format!("127.0.1.{}:4000", i + 1);
                    app.login_from(&peer, "ash", &format!("guess-number-{i}"))
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let checked = answers.iter().filter(|r| ran_argon2(r)).count();
    let refused = answers.iter().filter(|r| r.status == 429).count();
    assert!(
        checked <= LIMIT,
        "{checked} passwords checked, limit {LIMIT}"
    );
    assert_eq!(checked + refused, GUESSES, "every other guess is 429");
    for answer in &answers {
        match answer.status {
            401 => assert!(ran_argon2(answer)),
            _ => assert!(!ran_argon2(answer) && retry_after(answer) >= 1),
        }
    }
    // Every guess counted, the refused ones too; the right password now waits as well.
    assert_eq!(
        counts(&app, "user:"),
        [("user:ash".to_string(), GUESSES as i64)]
    );
    retry_after(&app.login("ash", &ash.password));
}

fn a_60_kib_login_name_is_an_ordinary_failure_with_a_short_key(app: TestApp) {
    let name = "a".repeat(60 * 1024);
    let response = app.login(&name, "some-password");
    assert_problem(&response, 401, "invalid_credentials");
    assert!(ran_argon2(&response), "the same work as any failed login");
    let longest = app.query_ints(
        "SELECT max(length(key)) FROM login_failures WHERE ?1 = ?1",
        0,
    );
    assert!(longest[0] < 100, "a key of {} bytes", longest[0]);
    // Another overlong name with the same start shares the key, a real name does not.
    app.login(&format!("{name}b"), "some-password");
    assert_eq!(
        counts(&app, "user:"),
        [(format!("user:{}", "a".repeat(33)), 2)]
    );
}

fn a_success_gives_its_attempt_back_and_clears_the_name(app: TestApp) {
    let app = limited(app.mode, 5, 100);
    let ash = app.user("ash");
    let peer = "192.0.2.10:1";
    for _ in 0..2 {
        assert_eq!(failed_login(&app, peer, &[]).status, 401);
    }
    assert_json(&login_from(&app, peer, &ash.password), 200);
    // The name is clear; the address keeps its two failures, not the success.
    assert!(counts(&app, "user:").is_empty());
    assert_eq!(counts(&app, "addr:"), [("addr:192.0.2.10".to_string(), 2)]);
    // A success with nothing else counted leaves no live window behind.
    assert_json(&login_from(&app, "192.0.2.11:1", &ash.password), 200);
    assert_eq!(counts(&app, "addr:"), [("addr:192.0.2.10".to_string(), 2)]);
}

/// A registration of `name` from `peer`.
fn register_from(app: &TestApp, peer: &str, name: &str) -> HostResponse {
    let body = serde_json::json!({"username": name, "password": "pikachu-pal"});
    app.send_from(peer, "POST", "/api/auth/register", Some(&body), &[])
}

fn registrations_are_limited_per_address_before_any_password_work(app: TestApp) {
    let app = app_with(
        app.mode,
        &[
            ("register_address_limit", "2"),
            ("login_window_seconds", "2"),
        ],
    );
    let peer = "203.0.113.20:1";
    assert_json(&register_from(&app, peer, "first"), 201);
    // A taken name counts as an attempt too (it is refused before any work).
    assert_problem(&register_from(&app, peer, "FIRST"), 409, "username_taken");
    let refused = register_from(&app, peer, "third");
    let seconds = retry_after(&refused);
    assert!((1..=2).contains(&seconds), "{seconds}");
    assert!(!ran_argon2(&refused), "no password work on a 429");
    // Another address is not affected; the IPv6 /64 of a client is one address.
    assert_json(&register_from(&app, "[2001:db8::1]:1", "fourth"), 201);
    assert_json(&register_from(&app, "[2001:db8::2]:1", "fifth"), 201);
    retry_after(&register_from(&app, "[2001:db8::3]:1", "sixth"));
    // The window ends.
    std::thread::sleep(Duration::from_secs(seconds as u64 + 1));
    assert_json(&register_from(&app, peer, "third"), 201);
    // Off: nothing is counted at all.
    let off = app_with(app.mode, &[("register_address_limit", "0")]);
    for name in ["one", "two", "three"] {
        assert_json(&register_from(&off, peer, name), 201);
    }
    assert!(counts(&off, "reg:").is_empty());
}

fn a_taken_name_costs_no_password_work(app: TestApp) {
    app.user("ash");
    for name in ["ash", "ASH", "aSh"] {
        let taken = app.register(name, "another-password");
        assert_problem(&taken, 409, "username_taken");
        assert!(!ran_argon2(&taken), "{name}: no hash for a taken name");
    }
}

fn head_answers_every_get_route_with_its_status_and_headers(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(ash.id, 1, "example paths name user 1");
    assert_eq!(app.replace_favorites(&ash, &[1, 4, 25]).status, 200);
    let mut seen = 0;
    for route in ROUTES.iter().filter(|r| r.method == http::Method::GET) {
        let path = route.example_path();
        for token in [Some(ash.token.as_str()), None] {
            let get = app.send("GET", &path, token, None);
            let head = app.send("HEAD", &path, token, None);
            assert_eq!(head.status, get.status, "HEAD {path}");
            assert!(head.body.is_empty(), "HEAD {path} has a body");
            let fields = |response: &HostResponse| {
                let mut fields: Vec<(String, String)> = response
                    .headers
                    .iter()
                    .filter(|(name, _)| name.as_str() != "x-request-id")
                    .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
                    .collect();
                fields.sort();
                fields
            };
            assert_eq!(fields(&head), fields(&get), "HEAD {path}");
            seen += 1;
        }
    }
    assert_eq!(seen, 2 * 8, "every GET route, with and without a token");
    // Conditional HEAD, and HEAD in Allow wherever GET is.
    let list = format!("/api/users/{}/favorites", ash.id);
    let tag = app.favorites(&ash).header("etag").unwrap().to_string();
    let not_modified = app.send_with(
        "HEAD",
        &list,
        Some(&ash.token),
        None,
        &[("if-none-match", &tag)],
    );
    assert_eq!(not_modified.status, 304);
    assert_eq!(not_modified.header("etag"), Some(tag.as_str()));
    let refused = app.send("PATCH", &list, Some(&ash.token), None);
    assert_eq!(refused.header("allow"), Some("GET, HEAD, POST, PUT"));
    let login = app.send("HEAD", "/api/auth/login", None, None);
    assert_eq!(login.status, 405);
    assert_eq!(login.header("allow"), Some("POST"));
    assert!(login.body.is_empty());
}

fn entity_tags_may_hold_commas(app: TestApp) {
    let ash = app.user("ash");
    let list = format!("/api/users/{}/favorites", ash.id);
    let tag = app.favorites(&ash).header("etag").unwrap().to_string();
    let none_match = format!("\"x,y\", {tag}");
    let cached = app.send_with(
        "GET",
        &list,
        Some(&ash.token),
        None,
        &[("if-none-match", &none_match)],
    );
    assert_eq!(cached.status, 304);
    let if_match = format!("\"a,b\", W/\"c,\", {tag}");
    let body = serde_json::json!({"pokemon_id": 25});
    let added = app.send_with(
        "POST",
        &list,
        Some(&ash.token),
        Some(&body),
        &[("if-match", &if_match)],
    );
    assert_json(&added, 201);
    // The old tag, in a list with commas, no longer matches.
    let body = serde_json::json!({"pokemon_id": 1});
    let stale = app.send_with(
        "POST",
        &list,
        Some(&ash.token),
        Some(&body),
        &[("if-match", &if_match)],
    );
    assert_problem(&stale, 412, "precondition_failed");
    // A tag of another server may hold obs-text; `*` must be the whole field.
    let tag = app.favorites(&ash).header("etag").unwrap().to_string();
    let body = serde_json::json!({"pokemon_id": 4});
    let foreign = format!("\"caf\u{e9}\", {tag}");
    let added = app.send_with(
        "POST",
        &list,
        Some(&ash.token),
        Some(&body),
        &[("if-match", &foreign)],
    );
    assert_json(&added, 201);
    let body = serde_json::json!({"pokemon_id": 7});
    let star_list = app.send_with(
        "POST",
        &list,
        Some(&ash.token),
        Some(&body),
        &[("if-match", "*,")],
    );
    assert_problem(&star_list, 412, "precondition_failed");
    assert_eq!(
        app.favorite_ids_in_db(ash.id),
        [25, 4],
        "nothing else changed"
    );
}

#[test]
fn a_malformed_trusted_proxies_is_a_configuration_error() {
    let good = TestApp::new(StoreMode::Local);
    let ash = good.user_with_password("ash", "pikachu-pal");
    for bad in ["10.0.0.0/33", "proxy.internal", "10.0.0.1 10.0.0.2"] {
        let app = TestApp::with(StoreMode::Local, |_| {
            HostConfig::new(good.db_path()).variable("trusted_proxies", bad)
        });
        let health = assert_json(&app.get("/health", None), 503);
        assert_eq!(health["config"]["status"], "invalid", "{bad}");
        assert!(health["config"]["error"]
            .as_str()
            .unwrap()
            .contains("trusted_proxies"));
        let login = app.login("ash", "pikachu-pal");
        assert_problem(&login, 500, "internal");
        assert!(login.stderr.contains("trusted_proxies"), "{}", login.stderr);
        // Routes that count no address never read it.
        assert_eq!(app.favorites(&ash).status, 200);
        assert_eq!(app.me(&ash.token).status, 200);
        let register = app.register("misty", "pikachu-pal");
        assert_problem(&register, 500, "internal");
    }
}
