//! Rates that always carry their sample size.
//!
//! A rate over too few observations is noise; the console shows `n/a` rather
//! than a confident `0%`.

use serde::{Deserialize, Serialize};

/// Fewest observations for which a rate is shown as a number.
pub const MIN_SAMPLE: u64 = 10;

/// `numerator / denominator`, with the denominator kept as the sample size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// Events counted (failures, conversions, …).
    pub numerator: u64,
    /// Observations (the sample size).
    pub denominator: u64,
}

impl Rate {
    /// A rate of `numerator` in `denominator`.
    pub fn new(numerator: u64, denominator: u64) -> Self {
        Rate {
            numerator,
            denominator,
        }
    }

    /// The rate as a fraction, or `None` with fewer than [`MIN_SAMPLE`] observations.
    pub fn value(&self) -> Option<f64> {
        self.value_with_min(MIN_SAMPLE)
    }

    /// The rate as a fraction, or `None` with fewer than `min` observations
    /// (and never for an empty sample).
    pub fn value_with_min(&self, min: u64) -> Option<f64> {
        if self.denominator == 0 || self.denominator < min {
            None
        } else {
            Some(self.numerator as f64 / self.denominator as f64)
        }
    }

    /// `12.5%`, or `n/a` when the sample is too small. The digits are printed
    /// from whole tenths rather than with `{:.1}`, which would bring the
    /// float-printing code (about 10 KB) into the browser app's wasm.
    pub fn percent(&self) -> String {
        match self.value() {
            Some(v) => {
                let tenths = (v * 1000.0).round() as u64;
                format!("{}.{}%", tenths / 10, tenths % 10)
            }
            None => "n/a".into(),
        }
    }

    /// `12.5% (5 of 40)` or `n/a (3 of 3, too few)`.
    pub fn describe(&self) -> String {
        match self.value() {
            Some(_) => format!(
                "{} ({} of {})",
                self.percent(),
                self.numerator,
                self.denominator
            ),
            None => format!(
                "n/a ({} of {}, fewer than {MIN_SAMPLE})",
                self.numerator, self.denominator
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_samples_read_na_never_zero() {
        assert_eq!(Rate::new(0, 0).percent(), "n/a");
        assert_eq!(Rate::new(0, 9).percent(), "n/a");
        assert_eq!(Rate::new(0, 10).percent(), "0.0%");
        assert_eq!(Rate::new(5, 40).describe(), "12.5% (5 of 40)");
        assert_eq!(Rate::new(1, 3_000).percent(), "0.0%");
        assert_eq!(Rate::new(20, 30).percent(), "66.7%");
        assert_eq!(Rate::new(1, 16).percent(), "6.3%");
        assert_eq!(Rate::new(u64::MAX, u64::MAX).percent(), "100.0%");
        assert_eq!(Rate::new(3, 3).describe(), "n/a (3 of 3, fewer than 10)");
    }

    #[test]
    fn custom_minimum() {
        assert_eq!(Rate::new(1, 2).value_with_min(1), Some(0.5));
        assert_eq!(Rate::new(0, 0).value_with_min(0), None);
    }
}
