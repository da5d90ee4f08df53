//! `Idempotency-Key` (contract v3): the key a client sends with a favorites write so
//! that a retry of it is answered once, and the fingerprint that tells a retry from
//! another request that reuses the key.

/// The longest key the contract allows, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// A client's key: 1 to 255 visible ASCII characters (`%x21-7E`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// Why a request's `Idempotency-Key` is not one.
#[derive(Debug, PartialEq, Eq)]
pub struct MalformedKey;

impl IdempotencyKey {
    /// The key of a request from the values of its `Idempotency-Key` fields: none is no
    /// key; exactly one well-formed value is the key; anything else (two fields, empty,
    /// too long, a byte outside `%x21-7E`) is malformed.
    pub fn parse(values: &[&[u8]]) -> Result<Option<IdempotencyKey>, MalformedKey> {
        let value = match values {
            [] => return Ok(None),
            [value] => *value,
            _ => return Err(MalformedKey),
        };
        let visible = |b: &u8| (0x21..=0x7e).contains(b);
        if value.is_empty() || value.len() > MAX_KEY_LEN || !value.iter().all(visible) {
            return Err(MalformedKey);
        }
        // Visible ASCII is UTF-8.
        let text = std::str::from_utf8(value).map_err(|_| MalformedKey)?;
        Ok(Some(IdempotencyKey(text.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What makes two requests with one key the same request: the method, the path, and
/// the body as parsed (so JSON spacing and key order do not make a retry another
/// request). Stored as the hex SHA-256 of those three, each ended by a newline (none of
/// them holds one: a method is a token, a path is ours, a canonical body is compact JSON).
pub fn fingerprint(method: &str, path: &str, canonical_body: &str) -> String {
    let mut hash = hmac_sha256::Hash::new();
    for part in [method, path, canonical_body] {
        hash.update(part.as_bytes());
        hash.update(b"\n");
    }
    hash.finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&[u8]]) -> Result<Option<String>, MalformedKey> {
        IdempotencyKey::parse(values).map(|key| key.map(|k| k.as_str().to_string()))
    }

    #[test]
    fn a_key_is_one_field_of_1_to_255_visible_ascii_characters() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&[b"a"]), Ok(Some("a".into())));
        let all_visible: Vec<u8> = (0x21..=0x7e).collect();
        assert_eq!(
            parse(&[&all_visible]),
            Ok(Some(String::from_utf8(all_visible.clone()).unwrap()))
        );
        let longest = vec![b'k'; MAX_KEY_LEN];
        assert!(parse(&[&longest]).unwrap().is_some());
    }

    #[test]
    fn anything_else_is_malformed() {
        let too_long = vec![b'k'; MAX_KEY_LEN + 1];
        for bad in [
            &b""[..],
            &too_long,
            b"a b",
            b"a\tb",
            b"a\x00",
            b"\x7f",
            "caf\u{e9}".as_bytes(),
        ] {
            assert_eq!(parse(&[bad]), Err(MalformedKey), "{bad:?}");
        }
        assert_eq!(parse(&[b"a", b"a"]), Err(MalformedKey));
    }

    #[test]
    fn the_fingerprint_names_method_path_and_body() {
        let print = fingerprint("POST", "/api/users/1/favorites", "25");
        assert_eq!(print.len(), 64);
        assert_eq!(print, fingerprint("POST", "/api/users/1/favorites", "25"));
        for other in [
            fingerprint("PUT", "/api/users/1/favorites", "25"),
            fingerprint("POST", "/api/users/2/favorites", "25"),
            fingerprint("POST", "/api/users/1/favorites", "26"),
            // The separator keeps the parts apart.
            fingerprint("POST", "/api/users/1/favorites2", "5"),
        ] {
            assert_ne!(print, other);
        }
        // SHA-256 of "a\nb\nc\n" (sha256sum).
        assert_eq!(
            fingerprint("a", "b", "c"),
            "880553fca8fcea94e325ee2cfb48e5a985cc797f39a14cc6d3cedecfeb2ae4d2"
        );
    }
}
