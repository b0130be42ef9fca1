//! A small seeded generator (SplitMix64) and the distributions the world uses.
//!
//! Reproducibility matters more than statistical quality here: the same seed
//! gives the same world, so a test or a demo can be replayed.

/// Seeded pseudo-random source.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform integer in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given mean and shape: long right tail, never negative.
    pub fn lognormal_with_mean(&mut self, mean: f64, sigma: f64) -> f64 {
        // E[exp(N(mu, s))] = exp(mu + s²/2), so pick mu to hit the mean.
        let mu = mean.max(f64::MIN_POSITIVE).ln() - sigma * sigma / 2.0;
        (mu + sigma * self.normal()).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(42);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(42);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn distributions_have_their_means() {
        let mut r = Rng::new(9);
        let n = 200_000;
        let unit: f64 = (0..n).map(|_| r.unit()).sum::<f64>() / n as f64;
        assert!((unit - 0.5).abs() < 0.01, "{unit}");
        let ln: f64 = (0..n).map(|_| r.lognormal_with_mean(2.0, 0.6)).sum::<f64>() / n as f64;
        assert!((ln - 2.0).abs() < 0.05, "{ln}");
        let hits = (0..n).filter(|_| r.chance(0.1)).count() as f64 / n as f64;
        assert!((hits - 0.1).abs() < 0.005, "{hits}");
    }
}
