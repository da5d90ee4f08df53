//! Paging: how many items a page holds, and the opaque cursor of the next page.

use super::{parse_positive, FieldError};
use ct_codecs::{Base64UrlSafeNoPadding, Decoder, Encoder};

/// A page size: 1–200, 50 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    pub const DEFAULT: Limit = Limit(50);

    pub fn parse(text: Option<&str>) -> Result<Limit, FieldError> {
        let Some(text) = text else {
            return Ok(Limit::DEFAULT);
        };
        match parse_positive(text) {
            Some(n) if n <= 200 => Ok(Limit(n as u32)),
            _ => Err(FieldError::new("limit", "must be an integer from 1 to 200")),
        }
    }

    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

/// Which list a cursor belongs to, so a cursor of one list is refused by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    Favorites,
    Pokemon,
}

impl CursorKind {
    fn tag(self) -> char {
        match self {
            CursorKind::Favorites => 'f',
            CursorKind::Pokemon => 'p',
        }
    }
}

/// The longest cursor text: a tag and 19 digits (an i64) take 20 bytes, 27 characters
/// of unpadded base64url. Anything longer is refused before it is decoded.
const MAX_CURSOR_TEXT: usize = 27;

/// An opaque page cursor: the key of the last item of the previous page, after which
/// the next page starts. Encoded as unpadded base64url so clients treat it as opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(i64);

impl Cursor {
    pub fn after(key: i64) -> Cursor {
        Cursor(key)
    }

    /// The key after which the page starts (0 for the first page).
    pub fn key(self) -> i64 {
        self.0
    }

    pub fn encode(self, kind: CursorKind) -> String {
        let plain = format!("{}{}", kind.tag(), self.0);
        // 20 bytes at most always fit; an empty cursor would only be refused later.
        Base64UrlSafeNoPadding::encode_to_str(&mut [0u8; MAX_CURSOR_TEXT], plain)
            .map(str::to_string)
            .unwrap_or_default()
    }

    /// Parses the `cursor` query parameter; absent means the first page. The decoder
    /// refuses padding and non-canonical text (unused low bits set), so each cursor
    /// has exactly one spelling.
    pub fn parse(text: Option<&str>, kind: CursorKind) -> Result<Cursor, FieldError> {
        let Some(text) = text else {
            return Ok(Cursor(0));
        };
        let invalid = || FieldError::new("cursor", "is not a cursor from a previous page");
        if text.len() > MAX_CURSOR_TEXT {
            return Err(invalid());
        }
        let mut buffer = [0u8; MAX_CURSOR_TEXT];
        let decoded =
            Base64UrlSafeNoPadding::decode(&mut buffer, text, None).map_err(|_| invalid())?;
        let decoded = std::str::from_utf8(decoded).map_err(|_| invalid())?;
        let key = decoded
            .strip_prefix(kind.tag())
            .and_then(parse_positive)
            .ok_or_else(invalid)?;
        Ok(Cursor(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_to_50_and_stay_within_1_to_200() {
        assert_eq!(Limit::parse(None).unwrap().get(), 50);
        assert_eq!(Limit::parse(Some("1")).unwrap().get(), 1);
        assert_eq!(Limit::parse(Some("200")).unwrap().get(), 200);
        for bad in [
            "0",
            "201",
            "-1",
            "abc",
            "",
            "1.5",
            "01",
            "99999999999999999999",
        ] {
            assert!(Limit::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_belong_to_one_list() {
        for key in [1, 25, 1024, i64::MAX] {
            let text = Cursor::after(key).encode(CursorKind::Favorites);
            assert!(text.len() <= MAX_CURSOR_TEXT, "{text}");
            assert_eq!(
                Cursor::parse(Some(&text), CursorKind::Favorites)
                    .unwrap()
                    .key(),
                key
            );
            assert!(Cursor::parse(Some(&text), CursorKind::Pokemon).is_err());
        }
    }

    #[test]
    fn cursors_are_unpadded_base64url() {
        // "p25" and "f1024", spelled out by hand.
        assert_eq!(Cursor::after(25).encode(CursorKind::Pokemon), "cDI1");
        assert_eq!(Cursor::after(1024).encode(CursorKind::Favorites), "ZjEwMjQ");
    }

    #[test]
    fn garbage_cursors_are_refused() {
        for bad in [
            "",
            "!!!!",
            "Zg",
            "cDA",
            "cC0x",
            "a",
            "cDE=",
            // "p1" with an unused low bit set: the same bytes, a second spelling.
            "cDF",
            "cDE+",
            &"A".repeat(100),
        ] {
            assert!(
                Cursor::parse(Some(bad), CursorKind::Pokemon).is_err(),
                "{bad}"
            );
        }
        assert!(Cursor::parse(Some("cDE"), CursorKind::Pokemon).is_ok());
    }
}
