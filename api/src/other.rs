//! Enum values read from the platform, which may know values this build
//! does not: a new warning severity, geocoding status, environment name or
//! guard. [`OrOther`] keeps such a value as it came instead of failing the
//! whole answer, so one unknown value degrades one cell, not one panel.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A value this build knows, or another one, kept as the platform spelled it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OrOther<T> {
    /// One of the values this build knows.
    Known(T),
    /// Anything else, as sent.
    Other(String),
}

impl<T> OrOther<T> {
    /// The known value, if it is one.
    pub fn known(&self) -> Option<&T> {
        match self {
            OrOther::Known(t) => Some(t),
            OrOther::Other(_) => None,
        }
    }
}

impl<T: PartialEq> OrOther<T> {
    /// Whether this is the known value `t`.
    pub fn is(&self, t: &T) -> bool {
        self.known() == Some(t)
    }
}

impl<T> From<T> for OrOther<T> {
    fn from(t: T) -> Self {
        OrOther::Known(t)
    }
}

impl<T: fmt::Display> fmt::Display for OrOther<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrOther::Known(t) => t.fmt(f),
            OrOther::Other(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::Environment;
    use crate::console::Guard;

    #[test]
    fn known_values_read_as_themselves_and_others_as_they_came() {
        let env: OrOther<Environment> = serde_json::from_str("\"PRODUCTION\"").unwrap();
        assert_eq!(env, OrOther::Known(Environment::Production));
        let env: OrOther<Environment> = serde_json::from_str("\"STAGING\"").unwrap();
        assert_eq!(env, OrOther::Other("STAGING".into()));
        assert_eq!(env.to_string(), "STAGING");
        assert_eq!(serde_json::to_string(&env).unwrap(), "\"STAGING\"");
        let guard: OrOther<Guard> = serde_json::from_str("\"waf\"").unwrap();
        assert!(guard.known().is_none());
        assert!(OrOther::from(Guard::Role).is(&Guard::Role));
        // a value that is not even a string still fails, naming itself
        assert!(serde_json::from_str::<OrOther<Guard>>("42").is_err());
    }
}
