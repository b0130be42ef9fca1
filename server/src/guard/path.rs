//! The path guard: every `/api/*` request has one canonical path, or it is
//! refused before anything else looks at it. The role check, the control-body
//! check, the ops-token decision, the audit row and the forwarded URL then all
//! use that same string, so no two of them can read it differently.
//!
//! The canonical form is an allowlist, not a list of known tricks: segments of
//! letters, digits and `-._~:`, none empty and none made only of dots. So a dot
//! segment fails in every spelling (`..`, `%2e%2e`, `.%2E`, `..\`), as do
//! encoded separators (`%2f`, `%5c`), backslashes, `;` parameters some
//! servers strip, and empty segments (`//`, a trailing `/`).

/// Longest path accepted (bytes); longer is refused, not stored.
pub const MAX_PATH_BYTES: usize = 1024;

/// Why `path` is not canonical, or `Ok` when it is.
pub fn check(path: &str) -> Result<(), String> {
    if path.len() > MAX_PATH_BYTES {
        return Err(format!(
            "path is {} bytes; the limit is {MAX_PATH_BYTES}",
            path.len()
        ));
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err("path must start with /".into());
    };
    for (i, segment) in rest.split('/').enumerate() {
        let n = i + 1;
        if segment.is_empty() {
            return Err(format!("path segment {n} is empty (// or a trailing /)"));
        }
        if let Some(c) = segment.chars().find(|c| !allowed(*c)) {
            let what = match c {
                '%' => "a percent-escape (encoded dots and separators are refused)".to_string(),
                '\\' => "a backslash".to_string(),
                c if c.is_ascii_graphic() => format!("{c:?}"),
                c => format!("{:?} (U+{:04X})", c, c as u32),
            };
            return Err(format!("path segment {n} contains {what}"));
        }
        if segment.bytes().all(|b| b == b'.') {
            return Err(format!("path segment {n} is a dot segment ({segment:?})"));
        }
    }
    Ok(())
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_api_paths_are_canonical() {
        for p in [
            "/api/admin/status",
            "/api/admin/retention/2026-11-20",
            "/api/v1/ops/lanes/vp.coder.primary/routing",
            "/api/admin/runs/run:2026-12-01.a_b~c",
            "/api/console/session",
        ] {
            assert_eq!(check(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn every_spelling_of_a_dot_segment_is_refused() {
        for p in [
            "/api/admin/kpi/../status",
            "/api/admin/kpi/./status",
            "/api/admin/kpi/%2e%2e/status",
            "/api/admin/kpi/%2E%2E/status",
            "/api/admin/kpi/.%2E/status",
            "/api/admin/kpi/%2e./status",
            "/api/admin/kpi/..\\status",
            "/api/v1/dashboard/../../admin/status",
            "/api/admin/kpi/..",
            "/api/admin/kpi/...",
            "/api/admin/kpi/..;/status",
        ] {
            assert!(check(p).is_err(), "{p} passed");
        }
    }

    #[test]
    fn separators_escapes_and_empty_segments_are_refused() {
        for (p, says) in [
            ("/api/admin/kpi%2fstatus", "percent-escape"),
            ("/api/admin/kpi%2Fstatus", "percent-escape"),
            ("/api/admin/kpi%5cstatus", "percent-escape"),
            ("/api/admin\\status", "backslash"),
            ("/api//admin/status", "segment 2 is empty"),
            ("/api/admin/status/", "is empty"),
            ("/api/admin/st atus", "' '"),
            ("/api/admin/status;x=1", "';'"),
            ("api/admin/status", "start with /"),
        ] {
            let err = check(p).unwrap_err();
            assert!(err.contains(says), "{p}: {err}");
        }
        let long = format!("/api/{}", "a".repeat(MAX_PATH_BYTES));
        assert!(check(&long).unwrap_err().contains("limit"));
    }
}
