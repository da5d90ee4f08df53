//! The hostile corpus: known-nasty requests, one a line, each with what it must get,
//! and the notation that keeps large ones readable (`<<N*text>>`, `{own}`, `{token}`).

use crate::helpers::TestUser;

/// What a corpus entry must get.
#[derive(Debug, Clone, Copy)]
pub(super) enum Expect {
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
pub(super) enum Headers {
    Usual,
    /// This `content-type` instead of the usual one.
    ContentType(&'static [u8]),
    NoContentType,
    /// This `authorization` instead of the valid token.
    Authorization(&'static [u8]),
    NoAuthorization,
    /// One more header besides the usual ones (a second value of one of them, say).
    Also(&'static str, &'static [u8]),
    /// Two fields of one header besides the usual ones.
    Twice(&'static str, &'static [u8], &'static [u8]),
}

/// One hostile request: method, path, body, what it must get, and its headers.
///
/// In the path and in header values, `{own}`/`{other}` stand for the two users' ids and
/// `{token}`/`{other_token}` for their tokens ([`fill`]). In the path, the body and header
/// values, `<<N*text>>` stands for `text` N times over and `<<A..=B>>` for the numbers A
/// to B joined by commas ([`expand`]), so that large inputs stay one readable line.
pub(super) type Probe = (&'static str, &'static str, &'static [u8], Expect, Headers);

/// The hostile inputs, one a line. The names below only shorten the lines.
pub(super) fn corpus() -> &'static [Probe] {
    use Expect::{Any, Ok, Problem};
    use Headers::{Also, Authorization, ContentType, NoAuthorization, NoContentType, Twice, Usual};
    const REGISTER: &str = "/api/auth/register";
    const LOGIN: &str = "/api/auth/login";
    const FAVORITES: &str = "/api/users/{own}/favorites";
    const PASSWORD: &str = "/api/users/{own}/password";
    const LOGOUT: &str = "/api/auth/logout";
    const BAD_JSON: Expect = Problem(400, "malformed_json");
    const INVALID: Expect = Problem(422, "validation_failed");
    const UNKNOWN: Expect = Problem(422, "unknown_pokemon");
    const NOT_FOUND: Expect = Problem(404, "not_found");
    const UNAUTHORIZED: Expect = Problem(401, "unauthorized");
    const BAD_KEY: Expect = Problem(400, "invalid_idempotency_key");
    const REUSED: Expect = Problem(422, "idempotency_key_reused");
    const KEY: &str = "idempotency-key";

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
        // The routes without a body of interest: odd bodies, queries and headers.
        ("GET", "/health", b"{", Ok(200), Also("x-forwarded-for", b"<<100*10.0.0.1, >>")),
        ("GET", "/health/live", b"\xff\xfe", Ok(200), Authorization(b"Bearer \xff\xfe")),
        ("GET", "/api/openapi.json?format=yaml", b"", Ok(200), Authorization(b"<<8192*x>>")),
        ("GET", "/api/users/me?id={other}", br#"{"id": 1}"#, Ok(200), Usual),
        ("GET", "/api/users/me", b"", UNAUTHORIZED, Authorization(b"Bearer {token}.")),
        ("GET", "/api/users/{own}?user={other}", b"", Ok(200), Usual),
        ("GET", "/api/users/{other}", b"", Problem(403, "forbidden"), Usual),
        // Idempotency-Key: a malformed key (empty, 256 bytes, a space or a tab inside,
        // non-ASCII, two fields) is refused before the body is read, and changes nothing
        // (104 is added below, not here); the longest key works and replays the same
        // request (as parsed); another request with it is refused; SQL and punctuation
        // are just keys; routes without keys ignore the header.
        ("POST", FAVORITES, br#"{"pokemon_id": 104}"#, BAD_KEY, Also(KEY, b"")),
        ("POST", FAVORITES, br#"{"pokemon_id": 104}"#, BAD_KEY, Also(KEY, b"<<256*k>>")),
        ("POST", FAVORITES, br#"{"pokemon_id": 104}"#, BAD_KEY, Also(KEY, b"retry 1")),
        ("POST", FAVORITES, br#"{"pokemon_id": 104}"#, BAD_KEY, Also(KEY, b"retry\t1")),
        ("POST", FAVORITES, br#"{"pokemon_id": 104}"#, BAD_KEY, Also(KEY, b"\xff\xfe")),
        ("POST", FAVORITES, br#"{"pokemon_id": 104}"#, BAD_KEY, Also(KEY, "clé-1".as_bytes())),
        ("POST", FAVORITES, br#"{"pokemon_id": 104}"#, BAD_KEY, Twice(KEY, b"retry-1", b"retry-1")),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [104]}"#, BAD_KEY, Twice(KEY, b"retry-1", b"retry-2")),
        ("DELETE", "/api/users/{own}/favorites/25", b"", BAD_KEY, Also(KEY, b"<<8192*k>>")),
        ("POST", FAVORITES, b"{", BAD_KEY, Also(KEY, b"")),
        ("POST", FAVORITES, br#"{"pokemon_id": 104}"#, Ok(201), Also(KEY, b"<<255*k>>")),
        ("POST", FAVORITES, br#"{ "pokemon_id" : 104 }"#, Ok(201), Also(KEY, b"<<255*k>>")),
        ("POST", FAVORITES, br#"{"pokemon_id": 105}"#, REUSED, Also(KEY, b"<<255*k>>")),
        ("PUT", FAVORITES, br#"{"pokemon_ids": [104]}"#, REUSED, Also(KEY, b"<<255*k>>")),
        ("DELETE", "/api/users/{own}/favorites/104", b"", REUSED, Also(KEY, b"<<255*k>>")),
        ("POST", FAVORITES, br#"{"pokemon_id": 105}"#, Ok(201), Also(KEY, b"';DROP/**/TABLE/**/idempotency_keys;--")),
        ("POST", FAVORITES, br#"{"pokemon_id": 106}"#, Ok(201), Also(KEY, br##"!"#$%&'()*+,-./:;=?@[\]^_`{|}~"##)),
        ("POST", FAVORITES, br#"{"pokemon_id": 106}"#, Problem(409, "favorite_exists"), Also(KEY, b"{token}")),
        ("GET", FAVORITES, b"", Ok(200), Also(KEY, b"")),
        ("GET", "/api/users/me", b"", Ok(200), Also(KEY, b"\xff")),
        ("POST", "/api/auth/login", br#"{"username": "corpus-nobody", "password": "pikachu-pal"}"#, Problem(401, "invalid_credentials"), Also(KEY, b"")),
        // Password change (never a successful one: the lines below need the session).
        ("PUT", PASSWORD, br#"{"current_password": "x""#, BAD_JSON, Usual),
        ("PUT", PASSWORD, b"[]", BAD_JSON, Usual),
        ("PUT", PASSWORD, b"{}", INVALID, Usual),
        ("PUT", PASSWORD, br#"{"current_password": 1, "new_password": null}"#, INVALID, Usual),
        ("PUT", PASSWORD, "{\"current_password\":\"x\",\"new_password\":\"<<129*🐭>>\"}".as_bytes(), INVALID, Usual),
        ("PUT", PASSWORD, br#"{"current_password":"x","new_password":"<<65505*x>>"}"#, Problem(413, "payload_too_large"), Usual),
        ("PUT", PASSWORD, br#"{"current_password":"' OR '1'='1","new_password":"pikachu-pal"}"#, Problem(403, "wrong_password"), Usual),
        ("PUT", PASSWORD, br#"{"current_password":"x","new_password":"pikachu-pal"}"#, Problem(415, "unsupported_media_type"), NoContentType),
        ("PUT", PASSWORD, br#"{"current_password":"x","new_password":"pikachu-pal"}"#, UNAUTHORIZED, Authorization(b"Bearer {token}x")),
        ("PUT", "/api/users/{other}/password", br#"{"current_password":"x","new_password":"pikachu-pal"}"#, Problem(403, "forbidden"), Usual),
        // Logout, last: a successful one ends the session every line above uses.
        ("POST", LOGOUT, b"", UNAUTHORIZED, NoAuthorization),
        ("POST", LOGOUT, b"", UNAUTHORIZED, Authorization(b"Bearer <<8192*a>>")),
        ("POST", LOGOUT, b"", UNAUTHORIZED, Authorization(b"Basic dXNlcjpwYXNz")),
        ("POST", LOGOUT, b"\xff\xfe", Ok(204), Authorization(b"Bearer {other_token}")),
        ("POST", LOGOUT, b"", UNAUTHORIZED, Authorization(b"Bearer {other_token}")),
        ("POST", LOGOUT, br#"{"everywhere": true}"#, Ok(204), Usual),
        ("GET", "/api/users/me", b"", UNAUTHORIZED, Usual),
    ];
    CORPUS
}

/// Expands `<<N*text>>` and `<<A..=B>>` (see [`Probe`]).
pub(super) fn expand(mut text: &[u8]) -> Vec<u8> {
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
pub(super) fn case_headers(case: &Probe) -> Vec<(&'static str, Vec<u8>)> {
    let (_, _, body, _, change) = *case;
    let mut headers = vec![("authorization", b"Bearer {token}".to_vec())];
    if !body.is_empty() {
        headers.push(("content-type", b"application/json".to_vec()));
    }
    let (name, value) = match change {
        Headers::Usual => return headers,
        Headers::Twice(name, first, second) => {
            headers.extend([(name, expand(first)), (name, expand(second))]);
            return headers;
        }
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
pub(super) fn fill(text: &[u8], own: &TestUser, other: &TestUser) -> Vec<u8> {
    String::from_utf8_lossy(text)
        .replace("{own}", &own.id.to_string())
        .replace("{other}", &other.id.to_string())
        .replace("{other_token}", &other.token)
        .replace("{token}", &own.token)
        .into_bytes()
}
