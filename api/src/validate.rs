//! Input rules for what people type into the console: run ids, reasons, actor
//! names. The app checks them before sending, the server before proxying and
//! the sim before acting, so a bad value is refused with the same words
//! everywhere and changes nothing.

use std::fmt;

/// Longest run id accepted.
pub const RUN_ID_MAX: usize = 64;
/// Longest reason accepted.
pub const REASON_MAX: usize = 280;
/// Longest actor name accepted.
pub const ACTOR_MAX: usize = 64;

/// Whether the input could not be read at all, or was read and is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not JSON, wrong shape, unknown field: answered with 400.
    Malformed,
    /// Well-formed but a value breaks a rule: answered with 422.
    Invalid,
}

/// What was wrong with one input, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The field at fault (`body` when the whole body is).
    pub field: &'static str,
    /// What is wrong, for people.
    pub message: String,
    /// Malformed or invalid.
    pub kind: ErrorKind,
}

impl ValidationError {
    /// A value that was read but breaks a rule (a 422).
    pub fn invalid(field: &'static str, message: String) -> Self {
        ValidationError {
            field,
            message,
            kind: ErrorKind::Invalid,
        }
    }

    /// A body that did not parse as the expected JSON object.
    pub fn body(err: &serde_json::Error) -> Self {
        ValidationError {
            field: "body",
            message: format!("request body is not valid: {err}"),
            kind: ErrorKind::Malformed,
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValidationError {}

/// A run id: 1–64 characters of letters, digits, `.`, `_`, `:` and `-`,
/// starting with a letter or digit, so it is safe in URLs, logs and file names.
pub fn run_id(value: &str) -> Result<(), ValidationError> {
    identifier("run_id", value, RUN_ID_MAX, "to have one generated")?;
    if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(ValidationError::invalid(
            "run_id",
            "run_id must start with a letter or digit".into(),
        ));
    }
    Ok(())
}

/// An id of 1–`max` characters of letters, digits, `.`, `_`, `:` and `-`: the
/// shape every id the console passes in URLs and log lines has. An empty one
/// is refused with "leave it out {when_empty}".
pub(crate) fn identifier(
    field: &'static str,
    value: &str,
    max: usize,
    when_empty: &str,
) -> Result<(), ValidationError> {
    let len = value.chars().count();
    if len == 0 {
        return Err(ValidationError::invalid(
            field,
            format!("{field} is empty; leave it out {when_empty}"),
        ));
    }
    if len > max {
        return Err(ValidationError::invalid(
            field,
            format!("{field} is {len} characters; the limit is {max}"),
        ));
    }
    if let Some((pos, c)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(ValidationError::invalid(
            field,
            format!(
                "{field} may contain only letters, digits, '.', '_', ':' and '-'; found {c:?} at position {}",
                pos + 1
            ),
        ));
    }
    Ok(())
}

/// A request body parsed as `T`, which must be sent as a JSON object: serde
/// would also build a struct from an array, and the contract is objects.
pub fn json_object<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ValidationError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ValidationError {
            field: "body",
            message: "request body must be a JSON object".into(),
            kind: ErrorKind::Malformed,
        });
    }
    serde_json::from_slice(body).map_err(|e| ValidationError::body(&e))
}

/// A free-text reason: up to 280 characters, no control characters.
pub fn reason(value: &str) -> Result<(), ValidationError> {
    text("reason", value, REASON_MAX)
}

/// An actor name: 1–64 characters of printable ASCII. It travels in the
/// `X-Actor` header, where browsers refuse anything else.
pub fn actor(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::invalid(
            "actor",
            "actor name is empty; say who is acting".into(),
        ));
    }
    text("actor", value, ACTOR_MAX)?;
    if let Some(c) = value.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
        return Err(ValidationError::invalid(
            "actor",
            format!("actor name must be plain ASCII to travel in the X-Actor header; found {c:?}"),
        ));
    }
    Ok(())
}

/// The `X-Actor` header as it arrived (`None` when absent): checked as
/// [`actor`], after refusing bytes that are not visible ASCII, which is all a
/// header may carry as text. Servers pass `headers.get(ACTOR_HEADER)` bytes.
pub fn actor_header(raw: Option<&[u8]>) -> Result<Option<String>, ValidationError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    // What `http::HeaderValue::to_str` accepts: tab and visible ASCII.
    let value = std::str::from_utf8(raw)
        .ok()
        .filter(|v| v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)))
        .ok_or_else(|| {
            ValidationError::invalid("actor", "X-Actor must be plain ASCII text".into())
        })?;
    actor(value)?;
    Ok(Some(value.to_owned()))
}

/// A count from a query: `value`, or `default` when absent, if it lies in
/// `1..=max`; otherwise an invalid `field` naming the range.
pub fn bounded(
    field: &'static str,
    value: Option<u32>,
    default: u32,
    max: u32,
) -> Result<u32, ValidationError> {
    let v = value.unwrap_or(default);
    if v == 0 || v > max {
        return Err(ValidationError::invalid(
            field,
            format!("{field} must be between 1 and {max}, got {v}"),
        ));
    }
    Ok(v)
}

/// A query string that did not parse as the endpoint's query: a malformed
/// `query`, with the parser's `detail`.
pub fn bad_query(detail: impl fmt::Display) -> ValidationError {
    ValidationError {
        field: "query",
        message: format!("bad query: {detail}"),
        kind: ErrorKind::Malformed,
    }
}

fn text(field: &'static str, value: &str, max: usize) -> Result<(), ValidationError> {
    let len = value.chars().count();
    if len > max {
        return Err(ValidationError::invalid(
            field,
            format!("{field} is {len} characters; the limit is {max}"),
        ));
    }
    if let Some((pos, c)) = value.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(ValidationError::invalid(
            field,
            format!(
                "{field} contains a control character ({:?}) at position {}",
                c,
                pos + 1
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_people_use_pass() {
        for ok in [
            "smoke-1",
            "2026-11-25.nightly",
            "a",
            "run:42_b",
            &"x".repeat(64),
        ] {
            run_id(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn run_id_limits_name_the_problem() {
        let e = run_id(&"x".repeat(65)).unwrap_err();
        assert_eq!(e.message, "run_id is 65 characters; the limit is 64");
        let e = run_id("bad id").unwrap_err();
        assert!(e.message.contains("found ' ' at position 4"), "{e}");
        let e = run_id("-lead").unwrap_err();
        assert!(e.message.contains("must start"), "{e}");
        let e = run_id("").unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
        let e = run_id("run<script>").unwrap_err();
        assert!(e.message.contains("'<'"), "{e}");
        assert!(run_id("ünïcode").is_err());
    }

    #[test]
    fn reasons_allow_prose_but_not_control_characters() {
        reason("nightly check — after the pool fix (#42)").unwrap();
        reason("").unwrap();
        let e = reason("line\nbreak").unwrap_err();
        assert!(e.message.contains("control character"), "{e}");
        let e = reason(&"é".repeat(281)).unwrap_err();
        assert_eq!(e.message, "reason is 281 characters; the limit is 280");
    }

    #[test]
    fn actors_must_name_someone() {
        actor("Dana Ops").unwrap();
        assert!(actor("  ").is_err());
        assert!(actor(&"a".repeat(65)).is_err());
        assert!(actor("a\u{7}").is_err());
        assert!(actor("Zoë").unwrap_err().message.contains("ASCII"));
    }

    #[test]
    fn actor_headers_are_optional_plain_ascii_and_checked() {
        assert_eq!(actor_header(None), Ok(None));
        assert_eq!(
            actor_header(Some(b"Dana Ops")),
            Ok(Some("Dana Ops".to_owned()))
        );
        for raw in ["Zo\u{eb}".as_bytes(), b"\xff\xfe", b"a\x7f"] {
            let e = actor_header(Some(raw)).unwrap_err();
            assert_eq!((e.field, e.kind), ("actor", ErrorKind::Invalid));
            assert_eq!(e.message, "X-Actor must be plain ASCII text");
        }
        // readable as text, then held to the actor rules
        let e = actor_header(Some(b"  ")).unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
        let e = actor_header(Some(b"a\tb")).unwrap_err();
        assert!(e.message.contains("control character"), "{e}");
    }

    #[test]
    fn bounded_counts_default_and_name_their_range() {
        assert_eq!(bounded("limit", None, 50, 500), Ok(50));
        assert_eq!(bounded("limit", Some(1), 50, 500), Ok(1));
        assert_eq!(bounded("limit", Some(500), 50, 500), Ok(500));
        for v in [0, 501] {
            let e = bounded("limit", Some(v), 50, 500).unwrap_err();
            assert_eq!((e.field, e.kind), ("limit", ErrorKind::Invalid));
            assert_eq!(
                e.message,
                format!("limit must be between 1 and 500, got {v}")
            );
        }
    }

    #[test]
    fn bad_queries_are_malformed() {
        let e = bad_query("unknown field `lane`");
        assert_eq!((e.field, e.kind), ("query", ErrorKind::Malformed));
        assert_eq!(e.message, "bad query: unknown field `lane`");
    }
}
