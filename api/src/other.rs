//! Enum values read from the platform, which may know values this build
//! does not: a new warning severity, geocoding status, environment name or
//! guard. [`OrOther`] keeps such a value as it came instead of failing the
//! whole answer, so one unknown value degrades one cell, not one panel.

use std::fmt;

use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value this build knows, or another one, kept as the platform spelled it.
/// On the wire it is the plain string either way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

impl<T: Serialize> Serialize for OrOther<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OrOther::Known(t) => t.serialize(s),
            OrOther::Other(other) => s.serialize_str(other),
        }
    }
}

// By hand rather than `#[serde(untagged)]`: read the string once and try it
// as a `T`, without the buffering machinery untagged enums bring into every
// wasm bundle that reads one.
impl<'de, T: DeserializeOwned> Deserialize<'de> for OrOther<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let as_t: Result<T, serde::de::value::Error> =
            T::deserialize(text.as_str().into_deserializer());
        Ok(match as_t {
            Ok(t) => OrOther::Known(t),
            Err(_) => OrOther::Other(text),
        })
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
