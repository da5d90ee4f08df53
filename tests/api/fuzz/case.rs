//! What a generated request is made of, and how it becomes one: users' ids and tokens
//! exist only at run time, so a [`Case`] names them and [`World::render`] fills them
//! in. The [`World`] is the component with two registered users, kept registered
//! across cases.

use crate::helpers::{check_response, now, sign_token, TestApp, TestUser};
use crate::host::{HostResponse, TEST_JWT_SECRET};
use proptest::sample::Index;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::fmt;

/// Stands for the own user's password in a body ([`World::render`] fills it in).
pub(super) const OWN_PASSWORD: &str = "{own_password}";

/// One path segment.
#[derive(Debug, Clone)]
pub(super) enum Seg {
    Lit(String),
    /// The id of the registered user whose token requests may carry.
    Own,
    /// The id of a second registered user.
    Other,
}

/// What goes after the scheme in an `Authorization` header.
#[derive(Debug, Clone)]
pub(super) enum Token {
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
pub(super) struct Auth {
    pub(super) scheme: &'static str,
    pub(super) token: Token,
}

/// A request body, shown as text in failure reports.
#[derive(Clone)]
pub(super) struct Body(pub(super) Vec<u8>);

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
pub(super) struct Bytes(pub(super) Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

#[derive(Debug, Clone)]
pub(super) struct Case {
    pub(super) method: String,
    pub(super) path: Vec<Seg>,
    pub(super) query: Option<String>,
    pub(super) auth: Vec<Auth>,
    pub(super) content_types: Vec<Bytes>,
    pub(super) extra_headers: Vec<(String, Bytes)>,
    pub(super) body: Body,
}

/// The component with two registered users, kept registered across cases.
pub(super) struct World {
    pub(super) app: TestApp,
    pub(super) own: RefCell<TestUser>,
    pub(super) other: RefCell<TestUser>,
    pub(super) users_made: Cell<u32>,
}

/// What a rendered case became, for the report.
pub(super) struct Sent {
    /// The request's target, as `check_response` and the report see it.
    pub(super) target: String,
    pub(super) response: HostResponse,
}

impl World {
    pub(super) fn new(app: TestApp) -> World {
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
    pub(super) fn render(&self, case: &Case) -> Option<(String, http::Request<Vec<u8>>)> {
        let mut target = path_text(&case.path, |seg| self.segment(seg));
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
        let body = replace(&case.body.0, OWN_PASSWORD, &self.own.borrow().password);
        let request = builder.body(body).ok()?;
        Some((target, request))
    }

    pub(super) fn send(
        &self,
        method: &str,
        target: String,
        request: http::Request<Vec<u8>>,
    ) -> Sent {
        let response = self.app.host.request(request);
        check_response(method, &target, &response);
        Sent { target, response }
    }

    /// Re-registers whichever user a case deleted or signed out (a logout, a password
    /// change), so later cases still carry valid tokens.
    pub(super) fn keep_users(&self) {
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

/// The path of `segments` as sent, each segment rendered by `segment`.
pub(super) fn path_text(segments: &[Seg], segment: impl Fn(&Seg) -> String) -> String {
    let mut path = String::new();
    for seg in segments {
        path.push('/');
        path.push_str(&segment(seg));
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

/// `bytes` with every `placeholder` replaced by `value`.
fn replace(bytes: &[u8], placeholder: &str, value: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest
        .windows(placeholder.len())
        .position(|w| w == placeholder.as_bytes())
    {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(value.as_bytes());
        rest = &rest[at + placeholder.len()..];
    }
    out.extend_from_slice(rest);
    out
}
