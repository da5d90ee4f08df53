//! Versions of a favorites list and their entity tags (RFC 9110 §8.8.3), and the two
//! conditional request fields that carry tags back: `If-Match` and `If-None-Match`.
//!
//! A list's version is the pair the store keeps (see `migrations.sql`, version 3): the
//! id of the newest favorite and the list's epoch. Its tag also names the user, so a
//! tag of one account never matches another's list, not even one created after the
//! first was deleted (user ids are never reused). The tag's text is unpadded base64url
//! of `user.last.epoch`: opaque to clients, one spelling per version.

use ct_codecs::{Base64UrlSafeNoPadding, Decoder, Encoder};

use super::UserId;

/// A list's version: the id of its newest favorite (0 if it is empty) and its epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListVersion {
    pub last: i64,
    pub epoch: i64,
}

/// The longest tag text: three i64s and two dots are 59 bytes, 79 characters of
/// unpadded base64url.
const MAX_TAG_TEXT: usize = 80;

/// The strong entity tag of `user`'s list at `version`, quotes included.
pub fn entity_tag(user: UserId, version: ListVersion) -> String {
    let plain = format!("{}.{}.{}", user.get(), version.last, version.epoch);
    let mut buffer = [0u8; MAX_TAG_TEXT];
    // 59 bytes always fit in 80 characters.
    let text = Base64UrlSafeNoPadding::encode_to_str(&mut buffer, plain).unwrap_or_default();
    format!("\"{text}\"")
}

/// The version an opaque tag (without quotes) names, if it is one of ours for `user`.
fn version_of(opaque: &str, user: UserId) -> Option<ListVersion> {
    if opaque.len() > MAX_TAG_TEXT {
        return None;
    }
    let mut buffer = [0u8; MAX_TAG_TEXT];
    let plain = Base64UrlSafeNoPadding::decode(&mut buffer, opaque, None).ok()?;
    let mut parts = std::str::from_utf8(plain).ok()?.split('.');
    let mut number = || parts.next().and_then(canonical);
    let (owner, last, epoch) = (number()?, number()?, number()?);
    if parts.next().is_some() || owner != user.get() {
        return None;
    }
    Some(ListVersion { last, epoch })
}

/// A non-negative i64 in plain decimal, as `entity_tag` writes it.
fn canonical(text: &str) -> Option<i64> {
    let n = text.parse::<i64>().ok().filter(|n| *n >= 0)?;
    (n.to_string() == text).then_some(n)
}

/// One element of an entity-tag list: weak or strong, and the opaque bytes between
/// the quotes.
struct Tag<'a> {
    weak: bool,
    opaque: &'a [u8],
}

/// The field `*`, or a comma-separated list of entity tags (RFC 9110 §5.6.1: empty
/// elements allowed, at least one tag). `None` when the value is neither.
enum TagList<'a> {
    Any,
    Tags(Vec<Tag<'a>>),
}

/// Optional white space, RFC 9110's OWS.
fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = bytes {
        if !is_ows(*first) {
            break;
        }
        bytes = rest;
    }
    while let [rest @ .., last] = bytes {
        if !is_ows(*last) {
            break;
        }
        bytes = rest;
    }
    bytes
}

/// `etagc` (RFC 9110 §8.8.3): `!`, `#` to `~`, and obs-text (0x80–0xFF); not DQUOTE.
fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

/// Reads the fields as one list, element by element, over bytes. An entity tag runs
/// from its opening quote to the next quote, so a comma inside it is part of its text,
/// not the end of an element; a tag this server never issued (obs-text included) is
/// still a tag. `*` is the whole field value or nothing: `*,`, `*, "a"` or `*` beside
/// another field are not the grammar's.
fn tag_list<'a>(values: &[&'a [u8]]) -> Option<TagList<'a>> {
    if let [only] = values {
        if trim_ows(only) == b"*" {
            return Some(TagList::Any);
        }
    }
    let mut tags = Vec::new();
    for value in values {
        let mut rest: &[u8] = value;
        loop {
            while let [b, after @ ..] = rest {
                if !(is_ows(*b) || *b == b',') {
                    break;
                }
                rest = after;
            }
            if rest.is_empty() {
                break;
            }
            let (weak, quoted) = match rest.strip_prefix(b"W/") {
                Some(after) => (true, after),
                None => (false, rest),
            };
            let inside = quoted.strip_prefix(b"\"")?;
            let end = inside.iter().position(|b| *b == b'"')?;
            let opaque = &inside[..end];
            if !opaque.iter().all(|b| is_etagc(*b)) {
                return None;
            }
            tags.push(Tag { weak, opaque });
            rest = &inside[end + 1..];
            // An element ends at a comma or at the end of the field.
            while let [b, after @ ..] = rest {
                if !is_ows(*b) {
                    break;
                }
                rest = after;
            }
            if !(rest.is_empty() || rest[0] == b',') {
                return None;
            }
        }
    }
    (!tags.is_empty()).then_some(TagList::Tags(tags))
}

/// What `If-Match` asks of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`, or `*`: any current list will do (a user's list always exists).
    Any,
    /// The list must be at one of these versions (possibly none: then nothing matches).
    OneOf(Vec<ListVersion>),
    /// The field is there but is neither `*` nor a list of entity tags: it names no
    /// version, so nothing matches (RFC 9110 makes the condition false). Kept apart
    /// from an empty [`IfMatch::OneOf`] so that the 412 can say what was wrong.
    Malformed,
}

impl IfMatch {
    /// Reads every `If-Match` field of a request about `user`'s list. Strong comparison:
    /// a weak tag never matches, and neither does a tag of another list.
    pub fn parse(values: &[&[u8]], user: UserId) -> IfMatch {
        if values.is_empty() {
            return IfMatch::Any;
        }
        match tag_list(values) {
            None => IfMatch::Malformed,
            Some(TagList::Any) => IfMatch::Any,
            Some(TagList::Tags(tags)) => {
                let mut versions: Vec<ListVersion> = tags
                    .iter()
                    .filter(|tag| !tag.weak)
                    .filter_map(|tag| {
                        std::str::from_utf8(tag.opaque)
                            .ok()
                            .and_then(|opaque| version_of(opaque, user))
                    })
                    .collect();
                versions.dedup();
                IfMatch::OneOf(versions)
            }
        }
    }

    /// The versions as the store compares them: `None` for any, else a JSON array of
    /// `[last, epoch]` pairs (numbers: the store compares them with its own, so no key
    /// is spelled in two languages).
    pub fn versions_json(&self) -> Option<String> {
        let versions: &[ListVersion] = match self {
            IfMatch::Any => return None,
            IfMatch::OneOf(versions) => versions,
            IfMatch::Malformed => &[],
        };
        let pairs: Vec<[i64; 2]> = versions.iter().map(|v| [v.last, v.epoch]).collect();
        serde_json::to_string(&pairs).ok()
    }
}

/// Whether `If-None-Match` (every field of it) matches the list's current tag `current`
/// (quotes included): `*`, or any tag in the list by weak comparison. A value that is
/// not a valid field matches nothing, so the request is answered in full.
pub fn none_match_hits(values: &[&[u8]], current: &str) -> bool {
    let current = current.trim_matches('"');
    match tag_list(values) {
        Some(TagList::Any) => true,
        Some(TagList::Tags(tags)) => tags.iter().any(|tag| tag.opaque == current.as_bytes()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64) -> UserId {
        UserId::from_db(id)
    }

    const V: ListVersion = ListVersion { last: 25, epoch: 3 };

    #[test]
    fn tags_are_quoted_base64url_and_read_back_for_their_user_only() {
        let tag = entity_tag(user(7), V);
        // "7.25.3", spelled out by hand.
        assert_eq!(tag, "\"Ny4yNS4z\"");
        let opaque = tag.trim_matches('"');
        assert_eq!(version_of(opaque, user(7)), Some(V));
        assert_eq!(version_of(opaque, user(8)), None);
        let big = ListVersion {
            last: i64::MAX,
            epoch: i64::MAX,
        };
        let tag = entity_tag(user(i64::MAX), big);
        assert_eq!(version_of(tag.trim_matches('"'), user(i64::MAX)), Some(big));
    }

    #[test]
    fn if_match_is_star_or_a_list_and_compares_strongly() {
        let tag = entity_tag(user(7), V);
        let parse = |value: &str| IfMatch::parse(&[value.as_bytes()], user(7));
        assert_eq!(IfMatch::parse(&[], user(7)), IfMatch::Any);
        assert_eq!(parse("*"), IfMatch::Any);
        assert_eq!(parse(&tag), IfMatch::OneOf(vec![V]));
        assert_eq!(parse(&format!("\"x\", ,{tag}")), IfMatch::OneOf(vec![V]));
        assert_eq!(parse(&format!("W/{tag}")), IfMatch::OneOf(vec![]));
        assert_eq!(parse(&entity_tag(user(8), V)), IfMatch::OneOf(vec![]));
        // Two fields are one list.
        let two = IfMatch::parse(&[b"\"a\"", tag.as_bytes()], user(7));
        assert_eq!(two, IfMatch::OneOf(vec![V]));
        assert_eq!(
            IfMatch::OneOf(vec![V]).versions_json().as_deref(),
            Some("[[25,3]]")
        );
        assert_eq!(IfMatch::Any.versions_json(), None);
    }

    #[test]
    fn malformed_if_match_values_are_refused() {
        for bad in [
            "", " ", ",", "abc", "\"abc", "abc\"", "W/abc", "\"a\"b\"", "\"a b\"", "*, \"a\"",
            "*, *", "w/\"a\"",
        ] {
            let parsed = IfMatch::parse(&[bad.as_bytes()], user(1));
            assert_eq!(parsed, IfMatch::Malformed, "{bad:?}");
            assert_eq!(
                parsed.versions_json().as_deref(),
                Some("[]"),
                "matches nothing"
            );
        }
        // A control character or a quote inside is not etagc.
        assert_eq!(IfMatch::parse(&[b"\"a\x01\""], user(1)), IfMatch::Malformed);
    }

    #[test]
    fn non_canonical_tags_name_no_version() {
        // "7.025.3" and "7.-1.3": the numbers as entity_tag never writes them.
        for plain in ["7.025.3", "7.-1.3", "7.25", "7.25.3.1", "7.25.3 "] {
            let mut buffer = [0u8; MAX_TAG_TEXT];
            let text = Base64UrlSafeNoPadding::encode_to_str(&mut buffer, plain).unwrap();
            assert_eq!(version_of(text, user(7)), None, "{plain}");
        }
        assert_eq!(version_of(&"A".repeat(200), user(7)), None);
    }

    #[test]
    fn if_none_match_compares_weakly_and_ignores_garbage() {
        let tag = entity_tag(user(7), V);
        let hits = |value: &str| none_match_hits(&[value.as_bytes()], &tag);
        assert!(hits(&tag));
        assert!(hits(&format!("W/{tag}")));
        assert!(hits(&format!("\"other\", {tag}")));
        assert!(hits("*"));
        assert!(!hits("\"other\""));
        assert!(!hits(tag.trim_matches('"')));
        assert!(!none_match_hits(&[], &tag));
    }

    #[test]
    fn a_tag_of_another_server_may_hold_obs_text() {
        let tag = entity_tag(user(7), V);
        let foreign = format!("\"caf\u{e9}\", {tag}");
        assert_eq!(
            IfMatch::parse(&[foreign.as_bytes()], user(7)),
            IfMatch::OneOf(vec![V])
        );
        assert_eq!(
            IfMatch::parse(&[b"\"\xff\xfe\""], user(7)),
            IfMatch::OneOf(vec![])
        );
        assert!(none_match_hits(&[foreign.as_bytes()], &tag));
    }

    #[test]
    fn a_star_is_the_whole_field_or_nothing() {
        let parse = |values: &[&[u8]]| IfMatch::parse(values, user(7));
        assert_eq!(parse(&[b" * "]), IfMatch::Any);
        for bad in [
            &[b"*," as &[u8]][..],
            &[b", *"],
            &[b"*", b""],
            &[b"*", b"*"],
            &[b"* *"],
        ] {
            assert_eq!(parse(bad), IfMatch::Malformed, "{bad:?}");
        }
        assert!(none_match_hits(&[b"*"], "\"x\""));
        assert!(!none_match_hits(&[b"*,"], "\"x\""));
    }

    #[test]
    fn a_comma_inside_a_tag_is_part_of_it() {
        let tag = entity_tag(user(7), V);
        let parse = |value: &str| IfMatch::parse(&[value.as_bytes()], user(7));
        assert_eq!(parse(&format!("\"a,b\", {tag}")), IfMatch::OneOf(vec![V]));
        assert_eq!(parse(&format!("W/\"x,\",{tag}")), IfMatch::OneOf(vec![V]));
        assert_eq!(parse("\"a,b\""), IfMatch::OneOf(vec![]));
        assert_eq!(parse("\",\""), IfMatch::OneOf(vec![]));
        assert!(none_match_hits(
            &[format!("\"x,y\", {tag}").as_bytes()],
            &tag
        ));
        assert!(none_match_hits(&[b"\"x,y\"", tag.as_bytes()], &tag));
        assert!(!none_match_hits(&[b"\"x,y\""], &tag));
        // Elements still need commas between them.
        assert_eq!(parse(&format!("\"a\" {tag}")), IfMatch::Malformed);
        assert_eq!(parse("\"a,b"), IfMatch::Malformed);
    }
}
