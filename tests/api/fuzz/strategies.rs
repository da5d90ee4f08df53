//! The proptest generators of the fuzzer: methods, paths (the real routes' and bent
//! ones), query strings, `Authorization` variants, content types, extra headers (an
//! `Idempotency-Key` among them) and bodies, put together as plausible cases (a real
//! route with its own method) and wild ones (anything).

use super::case::{Auth, Body, Bytes, Case, Seg, Token, OWN_PASSWORD};
use super::operations::{operations, templates, Param};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Map, Value};

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

/// A path: a route of the table with its parameters drawn from [`id_segment`], perhaps
/// bent (trailing or doubled slash, `..`, another case, an extra segment), or a random
/// one.
fn path() -> impl Strategy<Value = Vec<Seg>> {
    let route = templates(|_| id_segment().boxed());
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

/// An `Idempotency-Key` value: mostly one of a few keys, so that generated writes reuse
/// them (replays, and keys reused with other requests), or any valid key, or one just
/// around the length limit, or any header bytes (mostly malformed keys).
fn idempotency_key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => select(vec!["k1", "k2", "retry-1"]).prop_map(|k| k.as_bytes().to_vec()),
        2 => "[!-~]{1,32}".prop_map(String::into_bytes),
        1 => (250usize..260).prop_map(|n| vec![b'k'; n]),
        2 => header_bytes(0..64),
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
    let header = prop_oneof![
        6 => (name, header_bytes(0..64).prop_map(Bytes)),
        1 => idempotency_key().prop_map(|key| ("idempotency-key".to_string(), Bytes(key))),
    ];
    prop::collection::vec(header, 0..3)
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
        2 => (nasty_string(), nasty_string())
            .prop_map(|(c, n)| json!({"current_password": c, "new_password": n})),
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

/// The body of a plausible request for `template`. A password change gets a body of
/// its own shape half of the time, mostly with the user's real current password, so
/// that some changes succeed: a random body rarely holds both of its keys.
fn body_for(template: &str) -> BoxedStrategy<Body> {
    if !template.ends_with("/password") {
        return body().boxed();
    }
    let current = prop_oneof![3 => Just(Value::from(OWN_PASSWORD)), 1 => nasty_string()];
    let change = (current, nasty_string()).prop_map(|(current, new)| {
        let change = json!({"current_password": current, "new_password": new});
        Body(serde_json::to_vec(&change).expect("JSON"))
    });
    prop_oneof![1 => change, 1 => body()].boxed()
}

/// A request for an operation of the table, mostly with a valid token and a JSON
/// content type: hostile where it counts, the body and the ids.
pub(super) fn plausible_case() -> impl Strategy<Value = Case> {
    fn user_id() -> impl Strategy<Value = Seg> {
        prop_oneof![8 => Just(Seg::Own), 1 => Just(Seg::Other), 1 => id_segment()]
    }
    fn pokemon_id() -> impl Strategy<Value = Seg> {
        prop_oneof![
            6 => (1i64..1030).prop_map(|n| Seg::Lit(n.to_string())),
            1 => id_segment(),
        ]
    }
    let route = operations(|param| match param {
        Param::User => user_id().boxed(),
        Param::Pokemon => pokemon_id().boxed(),
    })
    .prop_flat_map(|(method, template, path)| (Just(method), Just(path), body_for(template)));
    let auth = prop_oneof![
        8 => Just(vec![Auth { scheme: "Bearer ", token: Token::Own }]),
        2 => auth(),
    ];
    let content_types = prop_oneof![
        8 => Just(vec![Bytes(b"application/json".to_vec())]),
        2 => content_types(),
    ];
    (route, query(), auth, content_types, extra_headers()).prop_map(
        |((method, path, body), query, auth, content_types, extra_headers)| Case {
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

pub(super) fn case() -> impl Strategy<Value = Case> {
    prop_oneof![3 => plausible_case(), 2 => wild_case()]
}
