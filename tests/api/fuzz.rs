//! Hostile input: a property test that throws generated requests at the component, and
//! a fixed corpus of known-nasty ones. The property, for every request: the component
//! does not trap, never answers 500 (nor 503: no fault is injected here), answers a
//! 4xx as `application/problem+json` whose `status` is the response's, and a 2xx that
//! matches `openapi.json` (`check_response` validates every answer and looks for leaks).
//!
//! The generator mixes the real routes with edge segments (ids 0, -1, huge, floats,
//! Unicode, percent-escapes, `..`, empty, trailing and doubled slashes), random query
//! strings, content types, `Authorization` variants (valid, another user's, expired,
//! `alg: none`, wrongly signed, tampered, junk bytes, duplicated) and bodies (random
//! JSON, the right keys with the wrong types, truncated JSON, random bytes, invalid
//! UTF-8, huge numbers). One component and database serve a whole run, with a user
//! registered first so that many requests reach the real handlers.
//!
//! CI runs 300 cases per store mode (`PROPTEST_CASES`; 2–5 s each). To fuzz longer:
//!
//! ```text
//! PROPTEST_CASES=20000 cargo test --test api -- fuzz --nocapture
//! ```
//!
//! A run prints its seed; `PROPTEST_RNG_SEED=<seed>` replays its sequence of cases
//! (the database state they meet may differ in ids).

use crate::helpers::{
    assert_json, check_response, now, sign_token, store_tests, TestApp, TestUser,
};
use crate::host::{HostResponse, TEST_JWT_SECRET};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;

/// Cases per store mode when `PROPTEST_CASES` is not set: keeps CI within seconds.
const CI_CASES: u32 = 300;

// ---------------------------------------------------------------------------------
// What a generated request is made of. Users' ids and tokens exist only at run time,
// so the case names them and `World::render` fills them in.

/// One path segment.
#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    /// The id of the registered user whose token requests may carry.
    Own,
    /// The id of a second registered user.
    Other,
}

/// What goes after the scheme in an `Authorization` header.
#[derive(Debug, Clone)]
enum Token {
    Own,
    Other,
    Expired,
    AlgNone,
    WrongSecret,
    /// The user's own token with one character changed.
    Tampered(Index),
    /// A properly signed token whose `sub` claim is this JSON value.
    Sub(Value),
    /// A properly signed token with this issuer.
    Issuer(String),
    Text(String),
    Bytes(Vec<u8>),
    /// That many bytes of junk.
    Junk(usize),
}

#[derive(Debug, Clone)]
struct Auth {
    scheme: &'static str,
    token: Token,
}

/// A request body, shown as text in failure reports.
#[derive(Clone)]
struct Body(Vec<u8>);

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = String::from_utf8_lossy(&self.0);
        if text.len() > 300 {
            let cut = text.char_indices().nth(300).map_or(text.len(), |(i, _)| i);
            write!(f, "{} bytes: {:?}…", self.0.len(), &text[..cut])
        } else {
            write!(f, "{} bytes: {:?}", self.0.len(), text)
        }
    }
}

/// A header value, shown as text in failure reports.
#[derive(Clone)]
struct Bytes(Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

#[derive(Debug, Clone)]
struct Case {
    method: String,
    path: Vec<Seg>,
    query: Option<String>,
    auth: Vec<Auth>,
    content_types: Vec<Bytes>,
    extra_headers: Vec<(String, Bytes)>,
    body: Body,
}

// ---------------------------------------------------------------------------------
// Strategies.

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(vec!["GET", "POST", "PUT", "DELETE"]).prop_map(String::from),
        2 => select(vec![
            "PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT", "get", "Post", "FOO", "M-SEARCH",
            "PROPFIND", "G3T", "!#$%&'*+-.^_`|~",
        ])
        .prop_map(String::from),
        1 => "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
    ]
}

/// Every byte of `text` as a `%XX` escape.
fn percent_encode_all(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// An id-like path segment: the users' real ids, catalog ids, and everything near them.
fn id_segment() -> impl Strategy<Value = Seg> {
    prop_oneof![
        12 => Just(Seg::Own),
        3 => Just(Seg::Other),
        2 => (1i64..1100).prop_map(|n| Seg::Lit(n.to_string())),
        4 => select(vec![
            "0", "-1", "1", "25", "1025", "1026", "me", "9223372036854775807",
            "9223372036854775808", "18446744073709551616", "99999999999999999999", "1.5",
            "25.0", "1e3", "0x19", "+25", "025", "%32%35", "%2F", "..", ".", "", "%00",
            "%F0%9F%98%80", "%D9%A2%D9%A5", "%FF", "%", "%G1", "null", "NaN", "%20", "25;x",
            "25,26", "~", "%2e%2e",
        ])
        .prop_map(|s| Seg::Lit(s.to_string())),
        2 => any::<i64>().prop_map(|n| Seg::Lit(n.to_string())),
        1 => any::<u64>().prop_map(|n| Seg::Lit(n.to_string())),
        1 => "[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,16}".prop_map(Seg::Lit),
        1 => "\\PC{1,4}".prop_map(|s| Seg::Lit(percent_encode_all(&s))),
    ]
}

/// A path: a real route with its parameters drawn from [`id_segment`], perhaps bent
/// (trailing or doubled slash, `..`, another case, an extra segment), or a random one.
fn path() -> impl Strategy<Value = Vec<Seg>> {
    let lit = |s: &str| Seg::Lit(s.to_string());
    let route = prop_oneof![
        Just(vec![lit("health"), lit("live")]),
        Just(vec![lit("health")]),
        Just(vec![lit("api"), lit("auth"), lit("register")]),
        Just(vec![lit("api"), lit("auth"), lit("login")]),
        Just(vec![lit("api"), lit("users"), lit("me")]),
        Just(vec![lit("api"), lit("pokemon")]),
        Just(vec![lit("api"), lit("openapi.json")]),
        id_segment().prop_map(move |id| vec![lit("api"), lit("users"), id]),
        id_segment().prop_map(move |id| vec![lit("api"), lit("users"), id, lit("favorites")]),
        id_segment().prop_map(move |id| vec![lit("api"), lit("users"), id, lit("favorites")]),
        (id_segment(), id_segment()).prop_map(move |(id, p)| vec![
            lit("api"),
            lit("users"),
            id,
            lit("favorites"),
            p
        ]),
        id_segment().prop_map(move |id| vec![lit("api"), lit("pokemon"), id]),
    ];
    let bent = (route, 0..20u8, any::<Index>(), "[A-Za-z0-9._~%-]{0,10}").prop_map(
        |(mut segs, bend, at, extra)| {
            let at = at.index(segs.len() + 1);
            match bend {
                0 => segs.push(Seg::Lit(String::new())), // trailing slash
                1 => segs.insert(at, Seg::Lit(String::new())), // doubled slash
                2 => segs.insert(at, Seg::Lit("..".to_string())),
                3 => segs.insert(at, Seg::Lit(".".to_string())),
                4 => segs.push(Seg::Lit(extra)),
                5 => {
                    let last = segs.len() - 1;
                    if let Some(Seg::Lit(s)) = segs.get_mut(at.min(last)) {
                        *s = s.to_uppercase();
                    }
                }
                _ => {} // as is, most of the time
            }
            segs
        },
    );
    prop_oneof![
        9 => bent,
        1 => prop::collection::vec("[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,12}".prop_map(Seg::Lit), 0..6),
    ]
}

fn query() -> impl Strategy<Value = Option<String>> {
    let key = prop_oneof![
        6 => select(vec!["limit", "cursor", "q"]).prop_map(String::from),
        1 => select(vec!["LIMIT", "limit[]", "", "q%00", "%71", "cursor%"]).prop_map(String::from),
        1 => "[A-Za-z0-9._~%+-]{0,8}",
    ];
    let value = prop_oneof![
        4 => select(vec![
            "0", "1", "50", "200", "201", "-1", "1.5", "1e2", "99999999999999999999", "", "%",
            "%ZZ", "%FF", "%00", "pika", "PIKA", "%25", "_", "+", "a+b", "Zg", "cDE", "ZjE",
            "cDI1", "cDA", "cC0x", "%27%3B%20DROP%20TABLE%20pokemon%3B%20--", "%C3%A9",
            "%F0%9F%98%80",
        ])
        .prop_map(String::from),
        2 => "[A-Za-z0-9._~%+*'(),;:@/?!$-]{0,24}",
        1 => any::<i64>().prop_map(|n| n.to_string()),
    ];
    let pair = (key, prop::option::of(value)).prop_map(|(k, v)| match v {
        Some(v) => format!("{k}={v}"),
        None => k,
    });
    prop::option::weighted(
        0.4,
        prop::collection::vec(pair, 0..4).prop_map(|pairs| pairs.join("&")),
    )
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        10 => Just(Token::Own),
        2 => Just(Token::Other),
        1 => Just(Token::Expired),
        1 => Just(Token::AlgNone),
        1 => Just(Token::WrongSecret),
        1 => any::<Index>().prop_map(Token::Tampered),
        1 => json_value().prop_map(Token::Sub),
        1 => select(vec!["0", "-1", "99999999999999999999", "1.5", "me", ""])
            .prop_map(|s| Token::Sub(Value::from(s))),
        1 => "[a-z]{0,10}".prop_map(Token::Issuer),
        1 => "[A-Za-z0-9._~+/=-]{0,120}".prop_map(Token::Text),
        1 => header_bytes(0..64).prop_map(Token::Bytes),
        1 => select(vec![8192usize, 65536]).prop_map(Token::Junk),
    ]
}

fn auth() -> impl Strategy<Value = Vec<Auth>> {
    let scheme = prop_oneof![
        12 => Just("Bearer "),
        1 => select(vec![
            "bearer ", "BEARER ", "Bearer  ", "Bearer", "Basic ", "", "Token ", "Bearer\t",
            " Bearer ", "Bearer ,",
        ]),
    ];
    let one = (scheme, token())
        .prop_map(|(scheme, token)| Auth { scheme, token })
        .boxed();
    prop_oneof![
        2 => Just(Vec::new()),
        6 => one.clone().prop_map(|a| vec![a]),
        1 => prop::collection::vec(one, 2..=3),
    ]
}

/// Bytes that a header value may hold (no control characters but tab).
fn header_bytes(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![8 => 0x20u8..0x7f, 2 => 0x80u8..=0xff, 1 => Just(b'\t')],
        len,
    )
}

fn content_types() -> impl Strategy<Value = Vec<Bytes>> {
    let one = prop_oneof![
        12 => Just(b"application/json".to_vec()),
        4 => select(vec![
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "application/json;",
            "application/json ; charset=UTF-8 ; q=1",
            "application/json; charset=latin1",
            "application/json, text/plain",
            "text/plain",
            "text/json",
            "application/jsonx",
            "application/problem+json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
            ";",
            "application/json\t",
            " application/json",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => header_bytes(0..40),
    ]
    .boxed();
    prop_oneof![
        2 => Just(Vec::new()),
        8 => one.clone().prop_map(|c| vec![Bytes(c)]),
        1 => prop::collection::vec(one.prop_map(Bytes), 2..=3),
    ]
}

fn extra_headers() -> impl Strategy<Value = Vec<(String, Bytes)>> {
    let name = prop_oneof![
        3 => select(vec![
            "accept", "accept-encoding", "x-forwarded-for", "x-request-id", "origin", "cookie",
            "if-none-match", "range", "expect", "www-authenticate", "x-http-method-override",
            "spin-path-info", "spin-full-url",
        ])
        .prop_map(String::from),
        1 => "[a-z0-9-]{1,20}",
    ];
    prop::collection::vec((name, header_bytes(0..64).prop_map(Bytes)), 0..3)
}

/// JSON numbers as text that serde's `Value` cannot hold or that are edge values.
const NUMBER_TEXTS: &[&str] = &[
    "1e400",
    "-1e400",
    "123456789012345678901234567890",
    "-123456789012345678901234567890",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "-0",
    "25.0",
    "2.5e1",
    "25e0",
    "1E2",
    "0.0000001",
    "4.9e-324",
    "1.7976931348623157e308",
    "25.000000000000001",
    "9007199254740993",
];

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0i64..1100).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,20}".prop_map(Value::from),
        "[a-z0-9_.-]{0,40}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        2 => select(vec!["pokemon_id", "pokemon_ids", "username", "password", "", "__proto__"])
            .prop_map(String::from),
        1 => ".{0,8}",
    ];
    json_leaf().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Strings that usernames and passwords should be hardened against.
fn nasty_string() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "[A-Za-z0-9_.-]{0,40}".prop_map(Value::from),
        2 => ".{0,40}".prop_map(Value::from),
        1 => select(vec![
            "'; DROP TABLE users; --",
            "' OR '1'='1",
            "ash\u{0}",
            "\u{202e}hsa",
            "ash\u{200f}",
            "🐭🐭🐭",
            "ＡＳＨ",
            "ASH",
            "ash",
            "%s%s%s%n",
            "../../etc/passwd",
            "<script>alert(1)</script>",
        ])
        .prop_map(Value::from),
        1 => (0usize..200).prop_map(|n| Value::from("x".repeat(n))),
        1 => json_value(),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    let ids = prop::collection::vec(
        prop_oneof![8 => (1i64..1030).prop_map(Value::from), 1 => json_leaf()],
        0..12,
    );
    let json_body = prop_oneof![
        // The right shapes, plausible values.
        3 => (0i64..1100).prop_map(|id| json!({ "pokemon_id": id })),
        3 => ids.prop_map(|ids| json!({ "pokemon_ids": ids })),
        3 => (nasty_string(), nasty_string())
            .prop_map(|(u, p)| json!({"username": u, "password": p})),
        // The right keys, anything as values.
        2 => json_value().prop_map(|v| json!({ "pokemon_id": v })),
        2 => json_value().prop_map(|v| json!({ "pokemon_ids": v })),
        2 => (json_value(), json_value()).prop_map(|(u, p)| json!({"username": u, "password": p})),
        // Anything.
        3 => json_value(),
    ]
    .boxed();
    prop_oneof![
        2 => Just(Body(Vec::new())),
        10 => json_body.clone().prop_map(|v| Body(serde_json::to_vec(&v).expect("JSON"))),
        // Truncated JSON.
        2 => (json_body, any::<Index>()).prop_map(|(v, at)| {
            let bytes = serde_json::to_vec(&v).expect("JSON");
            let cut = at.index(bytes.len().max(1));
            Body(bytes[..cut].to_vec())
        }),
        // Numbers that serde_json cannot hold, in the places ids go.
        2 => (select(NUMBER_TEXTS), 0..3u8).prop_map(|(n, shape)| Body(match shape {
            0 => format!(r#"{{"pokemon_id": {n}}}"#),
            1 => format!(r#"{{"pokemon_ids": [1, {n}]}}"#),
            _ => format!(r#"{{"username": {n}, "password": {n}}}"#),
        }.into_bytes())),
        // Invalid UTF-8 inside a string.
        1 => prop::collection::vec(0x80u8..=0xff, 1..6).prop_map(|bad| {
            let mut b = br#"{"username": ""#.to_vec();
            b.extend_from_slice(&bad);
            b.extend_from_slice(br#"", "password": "pikachu-pal", "pokemon_id": 25}"#);
            Body(b)
        }),
        // Deep nesting.
        1 => (1usize..5000).prop_map(|depth| Body(format!(
            "{}{}",
            "[".repeat(depth),
            "]".repeat(depth)
        ).into_bytes())),
        // Random bytes.
        2 => prop::collection::vec(any::<u8>(), 0..256).prop_map(Body),
        // Around the size limit.
        1 => (64 * 1024 - 2..64 * 1024 + 3usize).prop_map(|n| {
            let mut b = br#"{"username": ""#.to_vec();
            b.resize(n.saturating_sub(2), b'x');
            b.extend_from_slice(br#""}"#);
            Body(b)
        }),
    ]
}

/// A request for a real route with one of its own methods, mostly with a valid token
/// and a JSON content type: hostile where it counts, the body and the ids.
fn plausible_case() -> impl Strategy<Value = Case> {
    fn lit(s: &str) -> Seg {
        Seg::Lit(s.to_string())
    }
    fn user_id() -> impl Strategy<Value = Seg> {
        prop_oneof![8 => Just(Seg::Own), 1 => Just(Seg::Other), 1 => id_segment()]
    }
    fn pokemon_id() -> impl Strategy<Value = Seg> {
        prop_oneof![
            6 => (1i64..1030).prop_map(|n| Seg::Lit(n.to_string())),
            1 => id_segment(),
        ]
    }
    let route = prop_oneof![
        2 => Just(("POST", vec![lit("api"), lit("auth"), lit("register")])),
        2 => Just(("POST", vec![lit("api"), lit("auth"), lit("login")])),
        1 => Just(("GET", vec![lit("api"), lit("users"), lit("me")])),
        1 => user_id().prop_map(|id| ("GET", vec![lit("api"), lit("users"), id])),
        1 => user_id().prop_map(|id| ("DELETE", vec![lit("api"), lit("users"), id])),
        6 => (select(vec!["GET", "POST", "PUT"]), user_id())
            .prop_map(|(m, id)| (m, vec![lit("api"), lit("users"), id, lit("favorites")])),
        3 => (user_id(), pokemon_id()).prop_map(|(id, p)| (
            "DELETE",
            vec![lit("api"), lit("users"), id, lit("favorites"), p]
        )),
        2 => Just(("GET", vec![lit("api"), lit("pokemon")])),
        1 => pokemon_id().prop_map(|p| ("GET", vec![lit("api"), lit("pokemon"), p])),
        1 => select(vec!["health", "live", "openapi"]).prop_map(|which| ("GET", match which {
            "health" => vec![lit("health")],
            "live" => vec![lit("health"), lit("live")],
            _ => vec![lit("api"), lit("openapi.json")],
        })),
    ];
    let auth = prop_oneof![
        8 => Just(vec![Auth { scheme: "Bearer ", token: Token::Own }]),
        2 => auth(),
    ];
    let content_types = prop_oneof![
        8 => Just(vec![Bytes(b"application/json".to_vec())]),
        2 => content_types(),
    ];
    (route, query(), auth, content_types, extra_headers(), body()).prop_map(
        |((method, path), query, auth, content_types, extra_headers, body)| Case {
            method: method.to_string(),
            path,
            query,
            auth,
            content_types,
            extra_headers,
            body,
        },
    )
}

/// Anything: any method on any (bent) path with any headers and body.
fn wild_case() -> impl Strategy<Value = Case> {
    (
        method(),
        path(),
        query(),
        auth(),
        content_types(),
        extra_headers(),
        body(),
    )
        .prop_map(
            |(method, path, query, auth, content_types, extra_headers, body)| Case {
                method,
                path,
                query,
                auth,
                content_types,
                extra_headers,
                body,
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    prop_oneof![3 => plausible_case(), 2 => wild_case()]
}

// ---------------------------------------------------------------------------------
// Running a case.

/// The component with two registered users, kept registered across cases.
struct World {
    app: TestApp,
    own: RefCell<TestUser>,
    other: RefCell<TestUser>,
    users_made: Cell<u32>,
}

/// What a rendered case became, for the report.
struct Sent {
    /// The request's target, as `check_response` and the report see it.
    target: String,
    response: HostResponse,
}

impl World {
    fn new(app: TestApp) -> World {
        let own = app.user("fuzz-own");
        let other = app.user("fuzz-other");
        World {
            app,
            own: RefCell::new(own),
            other: RefCell::new(other),
            users_made: Cell::new(0),
        }
    }

    fn segment(&self, seg: &Seg) -> String {
        match seg {
            Seg::Lit(s) => s.clone(),
            Seg::Own => self.own.borrow().id.to_string(),
            Seg::Other => self.other.borrow().id.to_string(),
        }
    }

    fn claims(&self, sub: Value, iss: &str, exp: i64) -> Value {
        json!({"sub": sub, "iat": now() - 10, "exp": exp, "iss": iss})
    }

    fn token(&self, token: &Token) -> Vec<u8> {
        let own = self.own.borrow();
        let hs256 = json!({"alg": "HS256", "typ": "JWT"});
        let secret = TEST_JWT_SECRET.as_bytes();
        let sub = Value::from(own.id.to_string());
        let text = match token {
            Token::Own => own.token.clone(),
            Token::Other => self.other.borrow().token.clone(),
            Token::Expired => sign_token(secret, &hs256, &self.claims(sub, "pokefavs", now() - 60)),
            Token::AlgNone => {
                let signed = sign_token(
                    secret,
                    &json!({"alg": "none", "typ": "JWT"}),
                    &self.claims(sub, "pokefavs", now() + 600),
                );
                let unsigned = signed.rsplit_once('.').map_or("", |(head, _)| head);
                format!("{unsigned}.")
            }
            Token::WrongSecret => sign_token(
                &[b'k'; 40],
                &hs256,
                &self.claims(sub, "pokefavs", now() + 600),
            ),
            Token::Tampered(at) => {
                let mut bytes = own.token.clone().into_bytes();
                let i = at.index(bytes.len());
                bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
                String::from_utf8(bytes).expect("ASCII")
            }
            Token::Sub(value) => sign_token(
                secret,
                &hs256,
                &self.claims(value.clone(), "pokefavs", now() + 600),
            ),
            Token::Issuer(iss) => sign_token(secret, &hs256, &self.claims(sub, iss, now() + 600)),
            Token::Text(text) => text.clone(),
            Token::Bytes(bytes) => return bytes.clone(),
            Token::Junk(n) => return (0..*n).map(|i| b"!~aZ9-_.+/="[i % 11]).collect(),
        };
        text.into_bytes()
    }

    /// Builds the request; `None` when the `http` crate refuses it (then no client
    /// could send it either).
    fn render(&self, case: &Case) -> Option<(String, http::Request<Vec<u8>>)> {
        let mut target = String::new();
        for seg in &case.path {
            target.push('/');
            target.push_str(&self.segment(seg));
        }
        if target.is_empty() {
            target.push('/');
        }
        if let Some(query) = &case.query {
            target.push('?');
            target.push_str(query);
        }
        // The host puts the path after Spin's origin; both forms must parse.
        target.parse::<http::Uri>().ok()?;
        format!("{}{target}", crate::host::ORIGIN)
            .parse::<http::Uri>()
            .ok()?;
        let mut builder = http::Request::builder()
            .method(case.method.as_str())
            .uri(target.as_str());
        for auth in &case.auth {
            let mut value = auth.scheme.as_bytes().to_vec();
            value.extend(self.token(&auth.token));
            builder = builder.header("authorization", http::HeaderValue::from_bytes(&value).ok()?);
        }
        for content_type in &case.content_types {
            builder = builder.header(
                "content-type",
                http::HeaderValue::from_bytes(&content_type.0).ok()?,
            );
        }
        for (name, value) in &case.extra_headers {
            builder = builder.header(
                http::HeaderName::from_bytes(name.as_bytes()).ok()?,
                http::HeaderValue::from_bytes(&value.0).ok()?,
            );
        }
        let request = builder.body(case.body.0.clone()).ok()?;
        Some((target, request))
    }

    fn send(&self, method: &str, target: String, request: http::Request<Vec<u8>>) -> Sent {
        let response = self.app.host.request(request);
        check_response(method, &target, &response);
        Sent { target, response }
    }

    /// Re-registers whichever user a case deleted, so later cases still carry valid
    /// tokens.
    fn keep_users(&self) {
        for user in [&self.own, &self.other] {
            if self.app.me(&user.borrow().token).status == 401 {
                self.users_made.set(self.users_made.get() + 1);
                let fresh = self
                    .app
                    .user(&format!("fuzz-again{}", self.users_made.get()));
                *user.borrow_mut() = fresh;
            }
        }
    }
}

/// The property every answer must have. `Err` says what is wrong.
fn judge(method: &str, sent: &Sent) -> Result<(), String> {
    let response = &sent.response;
    let status = response.status;
    let what = format!("{method} {} -> {status}", sent.target);
    if let Some(trap) = &response.trap {
        return Err(format!("{what}: the guest trapped: {trap}"));
    }
    if status >= 500 {
        return Err(format!(
            "{what}: a server error for client input: {}\nlog: {}",
            String::from_utf8_lossy(&response.body),
            response.stderr
        ));
    }
    if (200..300).contains(&status) {
        return Ok(()); // check_response held it to openapi.json
    }
    if !(400..500).contains(&status) {
        return Err(format!("{what}: neither 2xx nor 4xx"));
    }
    if response.header("content-type") != Some("application/problem+json") {
        return Err(format!(
            "{what}: a 4xx that is not problem+json: {:?}",
            response.header("content-type")
        ));
    }
    if method == "HEAD" {
        // The problem GET would carry, without its body.
        if !response.body.is_empty() {
            return Err(format!("{what}: a HEAD answer with a body"));
        }
        if status == 405 && response.header("allow").is_none() {
            return Err(format!("{what}: 405 without Allow"));
        }
        return Ok(());
    }
    let body: Value = serde_json::from_slice(&response.body)
        .map_err(|e| format!("{what}: the problem body is not JSON: {e}"))?;
    if body["status"] != status || !body["code"].is_string() || !body["title"].is_string() {
        return Err(format!("{what}: a malformed problem: {body}"));
    }
    if status == 405 && response.header("allow").is_none() {
        return Err(format!("{what}: 405 without Allow"));
    }
    if body["code"] == "unauthorized"
        && !response
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    {
        return Err(format!(
            "{what}: 401 unauthorized without WWW-Authenticate: Bearer"
        ));
    }
    Ok(())
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs the property on `app` and reports what the run covered.
fn fuzz(app: TestApp) {
    let started = std::time::Instant::now();
    let world = World::new(app);
    let cases = env_or("PROPTEST_CASES", u64::from(CI_CASES)) as u32;
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos() as u64;
    let mode = (world.app.mode as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let seed = env_or("PROPTEST_RNG_SEED", clock ^ mode);
    let config = Config {
        cases,
        // Refused-by-`http` cases are skipped, not rejected: proptest's reject budget
        // is not involved. Failures are reported, not written into the source tree.
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        max_shrink_iters: 2048,
        ..Config::default()
    };
    let tried = Cell::new(0usize);
    let skipped = Cell::new(0usize);
    let statuses: RefCell<BTreeMap<u16, usize>> = RefCell::new(BTreeMap::new());
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |case| {
        let Some((target, request)) = world.render(&case) else {
            skipped.set(skipped.get() + 1);
            return Ok(());
        };
        tried.set(tried.get() + 1);
        let sent = world.send(&case.method, target, request);
        *statuses
            .borrow_mut()
            .entry(sent.response.status)
            .or_default() += 1;
        judge(&case.method, &sent).map_err(TestCaseError::fail)?;
        if case.method == "DELETE" && sent.response.status == 204 {
            world.keep_users();
        }
        Ok(())
    });
    eprintln!(
        "fuzz ({:?}): {} requests sent, {} cases skipped (refused by the http crate), \
         seed {seed}, statuses {:?}, in {:.1} s",
        world.app.mode,
        tried.get(),
        skipped.get(),
        statuses.borrow(),
        started.elapsed().as_secs_f64()
    );
    if let Err(err) = result {
        panic!("{err}\n(replay the sequence with PROPTEST_RNG_SEED={seed})");
    }
    assert!(
        tried.get() >= cases as usize / 2,
        "most generated cases must reach the component: {} of {cases}",
        tried.get()
    );
}

// ---------------------------------------------------------------------------------
// The corpus.

/// What a corpus entry must get.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This status and problem `code`.
    Problem(u16, &'static str),
    /// This success status.
    Ok(u16),
    /// Any 2xx or 4xx that passes [`judge`]: the input is odd but arguably valid.
    Any,
}

/// How a case's headers differ from the usual ones: `authorization: Bearer {token}`, and
/// `content-type: application/json` when it has a body.
#[derive(Debug, Clone, Copy)]
enum Headers {
    Usual,
    /// This `content-type` instead of the usual one.
    ContentType(&'static [u8]),
    NoContentType,
    /// This `authorization` instead of the valid token.
    Authorization(&'static [u8]),
    NoAuthorization,
    /// One more header besides the usual ones (a second value of one of them, say).
    Also(&'static str, &'static [u8]),
}

/// One hostile request: method, path, body, what it must get, and its headers.
///
/// In the path and in header values, `{own}`/`{other}` stand for the two users' ids and
/// `{token}`/`{other_token}` for their tokens ([`fill`]). In the path, the body and header
/// values, `<<N*text>>` stands for `text` N times over and `<<A..=B>>` for the numbers A
/// to B joined by commas ([`expand`]), so that large inputs stay one readable line.
type Probe = (&'static str, &'static str, &'static [u8], Expect, Headers);

/// The hostile inputs, one a line. The names below only shorten the lines.
fn corpus() -> &'static [Probe] {
    use Expect::{Any, Ok, Problem};
    use Headers::{Also, Authorization, ContentType, NoAuthorization, NoContentType, Usual};
    const REGISTER: &str = "/api/auth/register";
    const LOGIN: &str = "/api/auth/login";
    const FAVORITES: &str = "/api/users/{own}/favorites";
    const BAD_JSON: Expect = Problem(400, "malformed_json");
    const INVALID: Expect = Problem(422, "validation_failed");
    const UNKNOWN: Expect = Problem(422, "unknown_pokemon");
    const NOT_FOUND: Expect = Problem(404, "not_found");
    const UNAUTHORIZED: Expect = Problem(401, "unauthorized");

    #[rustfmt::skip]
    const CORPUS: &[Probe] = &[
        // Malformed and truncated JSON (and as deep as serde_json parses: it stops at 128
        // levels; the parse and the drop of the tree recurse once per level, and the
        // component has a 128 KiB stack).
        ("POST", REGISTER, b"{", BAD_JSON, Usual),
        ("POST", REGISTER, br#"{"username": "ash", "password": "pikachu-pal""#, BAD_JSON, Usual),
        ("POST", REGISTER, br#"{"username": "ash", "password": "pikachu-pal"}}"#, BAD_JSON, Usual),
        ("POST", REGISTER, br#"{"username": "ash" "password": "x"}"#, BAD_JSON, Usual),
        ("POST", REGISTER, b"{'username': 'ash'}", BAD_JSON, Usual),
        ("POST", REGISTER, "{\"username\": \"ash\", \"password\": \"pika\0chu\"}".as_bytes(), BAD_JSON, Usual),
        ("POST", REGISTER, "\u{feff}{\"username\": \"bom\", \"password\": \"pikachu-pal\"}".as_bytes(), BAD_JSON, Usual),
        ("POST", REGISTER, b"null", BAD_JSON, Usual),
        ("POST", REGISTER, b"[]", BAD_JSON, Usual),
        ("POST", REGISTER, br#"[{"username": "ash", "password": "pikachu-pal"}]"#, BAD_JSON, Usual),
        ("POST", REGISTER, br#""username""#, BAD_JSON, Usual),
        ("POST", REGISTER, b"   ", BAD_JSON, Usual),
        ("POST", REGISTER, b"<<10000*[>><<10000*]>>", BAD_JSON, Usual),
        ("POST", REGISTER, br#"<<5000*{"a":>>1<<5000*}>>"#, BAD_JSON, Usual),
        ("POST", REGISTER, br#"{"username": <<126*[>>1<<126*]>>, "password": "pikachu-pal"}"#, INVALID, Usual),
        ("POST", REGISTER, br#"{"username": <<126*{"a":>>1<<126*}>>, "password": "pikachu-pal"}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 25"#, BAD_JSON, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 2,"#, BAD_JSON, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 2,]}"#, BAD_JSON, Usual),
        // Invalid UTF-8.
        ("POST", REGISTER, b"{\"username\": \"\xff\xfe\", \"password\": \"pikachu-pal\"}", BAD_JSON, Usual),
        ("POST", REGISTER, b"\xff\xfe\xfd", BAD_JSON, Usual),
        ("POST", FAVORITES, b"{\"pokemon_id\": 25, \"\xc3(\": 1}", BAD_JSON, Usual),
        // Wrong types, nulls, arrays for objects.
        ("POST", REGISTER, br#"{"username": 7, "password": true}"#, INVALID, Usual),
        ("POST", REGISTER, br#"{"username": null, "password": null}"#, INVALID, Usual),
        ("POST", REGISTER, br#"{"username": ["ash"], "password": {"x": 1}}"#, INVALID, Usual),
        ("POST", REGISTER, b"{}", INVALID, Usual),
        ("POST", LOGIN, br#"{"username": 1, "password": 2}"#, INVALID, Usual),
        ("POST", LOGIN, br#"{"username": null}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": "25"}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 25.5}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": null}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": [25]}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": {"id": 25}}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": true}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon": 25}"#, INVALID, Usual),
        ("POST", FAVORITES, b"[25]", BAD_JSON, Usual),
        ("POST", FAVORITES, b"25", BAD_JSON, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": "1,2,3"}"#, INVALID, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": null}"#, INVALID, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": {"0": 1}}"#, INVALID, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, "2"]}"#, INVALID, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [[1]]}"#, INVALID, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, null]}"#, INVALID, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 1]}"#, INVALID, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 1.0]}"#, INVALID, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [99999]}"#, UNKNOWN, Usual),
        // Huge, negative, zero and fractional numbers.
        ("POST", FAVORITES, br#"{"pokemon_id": 1e400}"#, Any, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": -1e400}"#, Any, Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1e400]}"#, Any, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 123456789012345678901234567890}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 18446744073709551615}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 9223372036854775807}"#, UNKNOWN, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 9223372036854775808}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 0}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": -1}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": -0}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 1e-400}"#, INVALID, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 1026}"#, UNKNOWN, Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 25.0}"#, Ok(201), Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 2.5e1}"#, Problem(409, "favorite_exists"), Usual),
        ("POST", FAVORITES, br#"{"pokemon_id": 26, "extra": {"nested": [1, 2]}, "admin": true}"#, Any, Usual),
        // Size limits.
        ("POST", REGISTER, br#"{"username":"ash","password":"<<65505*x>>"}"#, Problem(413, "payload_too_large"), Usual),
        ("PUT", FAVORITES, br#"{"username":"ash","password":"<<65505*x>>"}"#, Problem(413, "payload_too_large"), Usual),
        ("PUT", FAVORITES, br#"{"pokemon_ids":[<<1..=10000>>]}"#, INVALID, Usual),
        // Usernames: long, Unicode, control characters, SQL.
        ("POST", REGISTER, br#"{"password":"pikachu-pal","username":"<<10000*a>>"}"#, INVALID, Usual),
        ("POST", REGISTER, "{\"password\":\"pikachu-pal\",\"username\":\"🐭🐭🐭🐭🐭🐭🐭🐭🐭🐭\"}".as_bytes(), INVALID, Usual),
        ("POST", REGISTER, "{\"password\":\"pikachu-pal\",\"username\":\"🐭🐭🐭\"}".as_bytes(), INVALID, Usual),
        ("POST", REGISTER, "{\"password\":\"pikachu-pal\",\"username\":\"ash\u{200f}\"}".as_bytes(), INVALID, Usual),
        ("POST", REGISTER, "{\"password\":\"pikachu-pal\",\"username\":\"\u{202e}hsa\"}".as_bytes(), INVALID, Usual),
        ("POST", REGISTER, br#"{"password":"pikachu-pal","username":"as\u0000h"}"#, INVALID, Usual),
        ("POST", REGISTER, "{\"password\":\"pikachu-pal\",\"username\":\"ＡＳＨ\"}".as_bytes(), INVALID, Usual),
        ("POST", REGISTER, br#"{"password":"pikachu-pal","username":"'; DROP TABLE users; --"}"#, INVALID, Usual),
        ("POST", REGISTER, br#"{"password":"pikachu-pal","username":"' OR '1'='1"}"#, INVALID, Usual),
        ("POST", REGISTER, br#"{"password":"'; DROP TABLE users; --","username":"bobby.tables"}"#, Ok(201), Usual),
        ("POST", REGISTER, br#"{"password":"pikachu-pal","username":"BOBBY.TABLES"}"#, Problem(409, "username_taken"), Usual),
        ("POST", REGISTER, br#"{"password":"pikachu\u0000pal","username":"nul.password"}"#, Ok(201), Usual),
        ("POST", REGISTER, "{\"password\":\"<<129*🐭>>\",\"username\":\"long.password\"}".as_bytes(), INVALID, Usual),
        ("POST", REGISTER, br#"{"username": "dup.keys", "username": "dup.keys2", "password": "pikachu-pal"}"#, Any, Usual),
        ("POST", LOGIN, br#"{"password":"pikachu-pal","username":"'; DROP TABLE users; --"}"#, Problem(401, "invalid_credentials"), Usual),
        ("POST", LOGIN, br#"{"password":"' OR '1'='1","username":"' OR '1'='1"}"#, Problem(401, "invalid_credentials"), Usual),
        ("POST", LOGIN, br#"{"password":"pikachu-pal","username":"<<10000*a>>"}"#, Problem(401, "invalid_credentials"), Usual),
        ("POST", LOGIN, br#"{"password":"'; DROP TABLE users; --","username":"bobby.tables"}"#, Ok(200), Usual),
        ("POST", LOGIN, br#"{"password":"'; DROP TABLE users; --","username":"BOBBY.TABLES"}"#, Any, Usual),
        ("POST", LOGIN, br#"{"password":"'; DROP TABLE users; --","username":"bobby%"}"#, Problem(401, "invalid_credentials"), Usual),
        ("POST", LOGIN, br#"{"password":"'; DROP TABLE users; --","username":"bobby_tables"}"#, Problem(401, "invalid_credentials"), Usual),
        // Path tricks.
        ("GET", "/api/users/{own}/../{other}", b"", NOT_FOUND, Usual),
        ("GET", "/api/users/{own}%2F..%2F{other}", b"", NOT_FOUND, Usual),
        ("GET", "/api/users/{own}%2Ffavorites", b"", NOT_FOUND, Usual),
        ("GET", "/api/users/{own}/favorites/", b"", NOT_FOUND, Usual),
        ("GET", "/api/users/{own}/", b"", NOT_FOUND, Usual),
        ("GET", "/api/users//{own}", b"", NOT_FOUND, Usual),
        ("GET", "//api/users/me", b"", NOT_FOUND, Usual),
        ("GET", "/api//users/me", b"", NOT_FOUND, Usual),
        ("GET", "/api/users/./me", b"", NOT_FOUND, Usual),
        ("GET", "/api/users/%6De", b"", NOT_FOUND, Usual),
        ("GET", "/API/users/me", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/25/", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/%32%35", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/0", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/-1", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/1.5", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/25.0", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/+25", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/025", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/0x19", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/abc", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/%00", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/%F0%9F%98%80", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/99999999999999999999", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/9223372036854775807", b"", NOT_FOUND, Usual),
        ("GET", "/api/pokemon/1026", b"", NOT_FOUND, Usual),
        ("GET", "/api/users/0/favorites", b"", NOT_FOUND, Usual),
        ("GET", "/api/users/-1", b"", NOT_FOUND, Usual),
        ("DELETE", "/api/users/{own}/favorites/0", b"", NOT_FOUND, Usual),
        ("DELETE", "/api/users/{own}/favorites/..", b"", NOT_FOUND, Usual),
        ("DELETE", "/api/users/{own}/favorites/1026", b"", Any, Usual),
        ("GET", "/api/pokemon/<<8192*9>>", b"", NOT_FOUND, Usual),
        ("GET", "/<<2000*a/>>", b"", NOT_FOUND, Usual),
        // Query strings.
        ("GET", "/api/pokemon?limit=0", b"", INVALID, Usual),
        ("GET", "/api/pokemon?limit=201", b"", INVALID, Usual),
        ("GET", "/api/pokemon?limit=-1", b"", INVALID, Usual),
        ("GET", "/api/pokemon?limit=1.5", b"", INVALID, Usual),
        ("GET", "/api/pokemon?limit=99999999999999999999", b"", INVALID, Usual),
        ("GET", "/api/pokemon?limit=%FF", b"", INVALID, Usual),
        ("GET", "/api/pokemon?cursor=!!!!", b"", INVALID, Usual),
        ("GET", "/api/pokemon?cursor=ZjE", b"", INVALID, Usual),
        ("GET", "/api/pokemon?cursor=<<4096*A>>", b"", INVALID, Usual),
        ("GET", "/api/users/{own}/favorites?cursor=cDI1", b"", INVALID, Usual),
        ("GET", "/api/pokemon?q=%FF", b"", INVALID, Usual),
        ("GET", "/api/pokemon?q=%", b"", INVALID, Usual),
        ("GET", "/api/pokemon?q=%27%3B%20DROP%20TABLE%20pokemon%3B%20--", b"", Ok(200), Usual),
        ("GET", "/api/pokemon?q=%00", b"", Any, Usual),
        ("GET", "/api/pokemon?q=<<8192*a>>", b"", Any, Usual),
        ("GET", "/api/pokemon?limit=5&limit=500", b"", Any, Usual),
        ("GET", "/api/pokemon?&&=&q&limit", b"", Any, Usual),
        // Methods.
        ("PATCH", "/api/users/{own}", b"", Problem(405, "method_not_allowed"), Usual),
        ("OPTIONS", "/api/pokemon", b"", Problem(405, "method_not_allowed"), Usual),
        ("HEAD", "/api/pokemon/25", b"", Ok(200), Usual),
        ("HEAD", "/api/auth/login", b"", Any, Usual),
        ("TRACE", "/health/live", b"", Problem(405, "method_not_allowed"), Usual),
        ("FOO", "/health/live", b"", Problem(405, "method_not_allowed"), Usual),
        ("get", "/health/live", b"", Any, Usual),
        ("DELETE", FAVORITES, b"", Problem(405, "method_not_allowed"), Usual),
        ("POST", "/api/users/me", br#"{"pokemon_id": 25}"#, Problem(405, "method_not_allowed"), Usual),
        ("GET", "/nope", b"", NOT_FOUND, Usual),
        // Content types.
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 4, 7]}"#, Ok(200), ContentType(b"application/json; charset=utf-8; foo=bar")),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 4, 7]}"#, Ok(200), ContentType(b"APPLICATION/JSON")),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 4, 7]}"#, Any, ContentType(b"application/json;")),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 4, 7]}"#, Problem(415, "unsupported_media_type"), NoContentType),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 4, 7]}"#, Problem(415, "unsupported_media_type"), ContentType(b"text/plain; application/json")),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 4, 7]}"#, Problem(415, "unsupported_media_type"), ContentType(b"application/json, text/plain")),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 4, 7]}"#, Problem(415, "unsupported_media_type"), ContentType(b"application/problem+json")),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 4, 7]}"#, Any, ContentType(b"application/json\xff")),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 4, 7]}"#, Any, Also("content-type", b"text/plain")),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [1, 4, 7]}"#, Any, ContentType(b"")),
        // Authorization.
        ("GET", FAVORITES, b"", Any, Also("authorization", b"Bearer {token}")),
        ("GET", FAVORITES, b"", Any, Also("authorization", b"Bearer junk")),
        ("GET", FAVORITES, b"", UNAUTHORIZED, NoAuthorization),
        ("GET", FAVORITES, b"", UNAUTHORIZED, Authorization(b"<<8192*x>>")),
        ("GET", FAVORITES, b"", UNAUTHORIZED, Authorization(b"Bearer <<8192*a>>")),
        ("GET", FAVORITES, b"", UNAUTHORIZED, Authorization(b"Bearer \xff\xfe\xfd")),
        ("GET", FAVORITES, b"", UNAUTHORIZED, Authorization(b"Bearer ")),
        ("GET", FAVORITES, b"", UNAUTHORIZED, Authorization(b"Bearer")),
        ("GET", FAVORITES, b"", UNAUTHORIZED, Authorization(b"Basic dXNlcjpwYXNz")),
        ("GET", FAVORITES, b"", UNAUTHORIZED, Authorization(b"Bearer a.b.c")),
        ("GET", FAVORITES, b"", UNAUTHORIZED, Authorization(b"Bearer ....")),
        ("GET", FAVORITES, b"", Any, Authorization(b"bearer {token}")),
        ("GET", FAVORITES, b"", Any, Authorization(b"Bearer  {token}")),
        ("GET", FAVORITES, b"", Problem(403, "forbidden"), Authorization(b"Bearer {other_token}")),
        ("DELETE", "/api/users/{other}", b"", Problem(403, "forbidden"), Usual),
        // Odd parameters on an otherwise fine request (a new pokemon id each, so an accepted
        // body is a 201 rather than a 409).
        ("POST", FAVORITES, br#"{"pokemon_id": 100}"#, Any, ContentType(br#"application/json; charset="utf-8""#)),
        ("POST", FAVORITES, br#"{"pokemon_id": 101}"#, Any, ContentType(b"application/json;charset=utf-8")),
        ("POST", FAVORITES, br#"{"pokemon_id": 102}"#, Any, ContentType(br#"application/json; boundary="a;b"; charset=utf-8"#)),
        ("POST", FAVORITES, br#"{"pokemon_id": 103}"#, Any, ContentType(b"application/json; charset=utf-16")),
    ];
    CORPUS
}

/// Expands `<<N*text>>` and `<<A..=B>>` (see [`Probe`]).
fn expand(mut text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(start) = find(text, b"<<") {
        out.extend_from_slice(&text[..start]);
        let rest = &text[start + 2..];
        let end = find(rest, b">>").expect("every `<<` in the corpus is closed by `>>`");
        let inner = std::str::from_utf8(&rest[..end]).expect("UTF-8 between << and >>");
        if let Some((from, to)) = inner.split_once("..=") {
            let number = |n: &str| n.parse::<u32>().expect("<<A..=B>> with numbers");
            let list: Vec<String> = (number(from)..=number(to)).map(|n| n.to_string()).collect();
            out.extend_from_slice(list.join(",").as_bytes());
        } else {
            let (count, unit) = inner.split_once('*').expect("<<N*text>> or <<A..=B>>");
            let count = count.parse().expect("<<N*text>> with a number");
            out.extend_from_slice(&unit.as_bytes().repeat(count));
        }
        text = &rest[end + 2..];
    }
    out.extend_from_slice(text);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The headers of `case` as sent, before [`fill`].
fn case_headers(case: &Probe) -> Vec<(&'static str, Vec<u8>)> {
    let (_, _, body, _, change) = *case;
    let mut headers = vec![("authorization", b"Bearer {token}".to_vec())];
    if !body.is_empty() {
        headers.push(("content-type", b"application/json".to_vec()));
    }
    let (name, value) = match change {
        Headers::Usual => return headers,
        Headers::Also(name, value) => (name, Some(value)),
        Headers::ContentType(value) => ("content-type", Some(value)),
        Headers::NoContentType => ("content-type", None),
        Headers::Authorization(value) => ("authorization", Some(value)),
        Headers::NoAuthorization => ("authorization", None),
    };
    if !matches!(change, Headers::Also(..)) {
        headers.retain(|(n, _)| *n != name);
    }
    headers.extend(value.map(|v| (name, expand(v))));
    headers
}

/// Renders `{own}`, `{other}`, `{token}` and `{other_token}`.
fn fill(text: &[u8], own: &TestUser, other: &TestUser) -> Vec<u8> {
    String::from_utf8_lossy(text)
        .replace("{own}", &own.id.to_string())
        .replace("{other}", &other.id.to_string())
        .replace("{other_token}", &other.token)
        .replace("{token}", &own.token)
        .into_bytes()
}

store_tests!(
    generated_requests_never_get_a_500,
    hostile_corpus_never_gets_a_500
);

fn generated_requests_never_get_a_500(app: TestApp) {
    fuzz(app);
}

fn hostile_corpus_never_gets_a_500(app: TestApp) {
    let own = app.user("corpus-own");
    let other = app.user("corpus-other");
    let mut tried = 0;
    let mut failures = Vec::new();
    for probe in corpus() {
        let (method, path, body, expect, _) = *probe;
        let body = expand(body);
        // Non-UTF-8 header values must pass through untouched.
        let fill_header = |v: &[u8]| {
            if std::str::from_utf8(v).is_ok() {
                fill(v, &own, &other)
            } else {
                v.to_vec()
            }
        };
        let path = String::from_utf8(fill(&expand(path.as_bytes()), &own, &other)).expect("UTF-8");
        let mut builder = http::Request::builder().method(method).uri(path.as_str());
        for (name, value) in case_headers(probe) {
            let value = http::HeaderValue::from_bytes(&fill_header(&value))
                .unwrap_or_else(|e| panic!("corpus header {name}: {e}"));
            builder = builder.header(name, value);
        }
        let request = builder
            .body(body.clone())
            .unwrap_or_else(|e| panic!("corpus request {method} {path}: {e}"));
        let response = app.host.request(request);
        check_response(method, &path, &response);
        tried += 1;
        let body_text = String::from_utf8_lossy(&body);
        let shown: String = body_text.chars().take(120).collect();
        let what = format!(
            "{} {} [{} bytes: {shown}]",
            method,
            path.chars().take(120).collect::<String>(),
            body.len()
        );
        let sent = Sent {
            target: path.clone(),
            response,
        };
        if let Err(err) = judge(method, &sent) {
            failures.push(format!("{what}: {err}"));
            continue;
        }
        let response = &sent.response;
        let outcome = match expect {
            Expect::Any => Ok(()),
            Expect::Ok(status) if response.status == status => Ok(()),
            Expect::Problem(status, code)
                if response.status == status && response.json()["code"] == code =>
            {
                Ok(())
            }
            expected => Err(format!(
                "expected {expected:?}, got {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            )),
        };
        if let Err(err) = outcome {
            failures.push(format!("{what}: {err}"));
        }
    }
    // The SQL-looking inputs were data: the tables are all there, and the user whose
    // password was SQL logs in with it.
    let bobby = app.login("bobby.tables", "'; DROP TABLE users; --");
    assert_json(&bobby, 200);
    assert_eq!(
        app.query_ints("SELECT count(*) FROM pokemon WHERE ?1 = ?1", 0),
        [1025]
    );
    // The pokemon search treats `%` and `_` as characters, not wildcards.
    for q in ["%25", "_", "%25a", "pika%25"] {
        let found = app.get(&format!("/api/pokemon?q={q}"), None);
        let items = assert_json(&found, 200)["items"]
            .as_array()
            .expect("items")
            .len();
        if items != 0 {
            failures.push(format!(
                "GET /api/pokemon?q={q}: a LIKE wildcard matched {items} names"
            ));
        }
    }
    eprintln!(
        "hostile corpus ({:?}): {tried} inputs, {} failures",
        app.mode,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {tried} hostile inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
