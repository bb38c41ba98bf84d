//! Counter-based random numbers and small numeric conversions.
//!
//! Every draw of the model is a pure function of `(seed, purpose, a, b)` — for instance
//! `(seed, transmission, agent, day)` — rather than the next value of one shared generator.
//! So a draw does not depend on which thread made it nor on what was drawn before it, and
//! the run is the same for any number of threads. The mixer is the SplitMix64 finaliser
//! (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014);
//! a stream advances a Weyl counter by the golden-ratio increment and mixes it.

/// The golden-ratio increment of SplitMix64.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
/// 2^64 as a float, to turn probabilities into integer thresholds.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// SplitMix64's finaliser: a bijection of `u64` that scrambles every bit.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The key of one purpose (transmission, course, testing…) under one seed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keyed {
    key: u64,
}

impl Keyed {
    pub(crate) fn new(seed: u64, purpose: u64) -> Keyed {
        Keyed {
            key: mix64(seed ^ mix64(purpose.wrapping_add(1).wrapping_mul(GOLDEN))),
        }
    }

    /// The stream of `(a, b)`: `a` is an agent or municipality (below 2^32), `b` a day or a
    /// stage (below 2^32), so `(a << 32) | b` names the stream without collision.
    #[inline]
    pub(crate) fn stream(self, a: u32, b: u32) -> Stream {
        Stream {
            state: mix64(self.key ^ ((u64::from(a) << 32) | u64::from(b))),
        }
    }
}

/// A short sequence of draws: the stream's key mixed is the first draw, and each next draw
/// is the previous one, advanced by the golden-ratio increment, mixed again (one mix per
/// draw).
#[derive(Debug, Clone)]
pub(crate) struct Stream {
    state: u64,
}

impl Stream {
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let out = self.state;
        self.state = mix64(out.wrapping_add(GOLDEN));
        out
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below n / 2^64).
    #[inline]
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        mul_high_u32(self.next_u64(), n)
    }

    /// True with the probability that `threshold` encodes (see [`prob_threshold`]).
    #[inline]
    pub(crate) fn chance(&mut self, threshold: u64) -> bool {
        self.next_u64() < threshold
    }
}

/// A uniform `u64` as a uniform `f64` in `[0, 1)` (its top 53 bits, exactly representable:
/// no rounding up to 1).
#[inline]
pub(crate) fn unit(x: u64) -> f64 {
    u53_to_f64(x >> 11) * (1.0 / 9_007_199_254_740_992.0)
}

/// `p` as a threshold on a uniform `u64`: `x < threshold` has probability `p` (up to
/// 2^-64). `p` must be finite; it is clamped to `[0, 1]`.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(crate) fn prob_threshold(p: f64) -> u64 {
    // Checked here: in range and finite, so the cast only drops the fraction.
    if p.is_nan() || p <= 0.0 {
        0
    } else if p >= 1.0 {
        u64::MAX
    } else {
        (p * TWO_POW_64) as u64
    }
}

/// The high 32 bits of `x × n` for `n < 2^32`: a uniform index in `0..n`.
#[allow(clippy::cast_possible_truncation)]
#[inline]
pub(crate) fn mul_high_u32(x: u64, n: u32) -> u32 {
    // (x × n) >> 64 < n ≤ u32::MAX: the cast cannot truncate.
    ((u128::from(x) * u128::from(n)) >> 64) as u32
}

/// A 53-bit integer as `f64`, exactly.
#[allow(clippy::cast_precision_loss)]
#[inline]
fn u53_to_f64(x: u64) -> f64 {
    x as f64
}

/// An index already known to be below 2^32 (agent counts are bounded by
/// [`super::MAX_AGENTS`]) as `u32`.
#[inline]
pub(crate) fn to_u32(x: usize) -> u32 {
    debug_assert!(u32::try_from(x).is_ok());
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// A count known to fit a `u16` (days, municipality indices) as `u16`.
#[inline]
pub(crate) fn to_u16(x: usize) -> u16 {
    debug_assert!(u16::try_from(x).is_ok());
    u16::try_from(x).unwrap_or(u16::MAX)
}

/// `u32` to `usize` (usize has at least 32 bits on every target this crate builds for).
#[inline]
pub(crate) fn ix(x: u32) -> usize {
    x as usize
}

/// Walker's alias table (Vose's construction) over `0..n`: one `u64` draws an index in
/// constant time. The high part of `x × n` picks the column and the low part, uniform
/// within the column, decides between the column and its alias.
#[derive(Debug, Clone)]
pub(crate) struct Alias {
    threshold: Vec<u64>,
    alias: Vec<u32>,
}

impl Alias {
    /// `weights` non-negative, finite, with a positive sum (checked by the caller).
    pub(crate) fn new(weights: &[f64]) -> Alias {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let scale = to_f64(n) / total;
        let mut prob: Vec<f64> = weights.iter().map(|w| w * scale).collect();
        let mut alias: Vec<u32> = (0..n).map(to_u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| prob[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            alias[s] = to_u32(l);
            prob[l] -= 1.0 - prob[s];
            if prob[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What is left is 1 up to rounding.
        for i in small.into_iter().chain(large) {
            prob[i] = 1.0;
        }
        Alias {
            threshold: prob.into_iter().map(prob_threshold).collect(),
            alias,
        }
    }

    #[inline]
    pub(crate) fn sample(&self, x: u64) -> usize {
        let n = self.threshold.len();
        let wide = u128::from(x) * n as u128;
        let column = high_as_usize(wide);
        let within = low_as_u64(wide);
        if within < self.threshold[column] {
            column
        } else {
            ix(self.alias[column])
        }
    }
}

#[allow(clippy::cast_possible_truncation)]
#[inline]
fn high_as_usize(wide: u128) -> usize {
    // wide = x × n with x < 2^64: the high half is below n, a usize.
    (wide >> 64) as usize
}

#[allow(clippy::cast_possible_truncation)]
#[inline]
fn low_as_u64(wide: u128) -> u64 {
    // Keeping the low 64 bits is the point.
    wide as u64
}

/// A count as `f64` (exact below 2^53, which every count here is).
#[allow(clippy::cast_precision_loss)]
#[inline]
pub(crate) fn to_f64(x: usize) -> f64 {
    x as f64
}

/// A count as `f64` (exact below 2^53).
#[allow(clippy::cast_precision_loss)]
#[inline]
pub(crate) fn u64_to_f64(x: u64) -> f64 {
    x as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_reproduces_weights() {
        let weights = [0.1, 0.0, 0.5, 0.25, 0.15];
        let table = Alias::new(&weights);
        let mut counts = [0u32; 5];
        let mut stream = Keyed::new(7, 1).stream(0, 0);
        let n = 200_000;
        for _ in 0..n {
            counts[table.sample(stream.next_u64())] += 1;
        }
        for (count, w) in counts.iter().zip(weights) {
            let share = f64::from(*count) / f64::from(n);
            // 5 standard deviations of a binomial share.
            let sd = (w * (1.0 - w) / f64::from(n)).sqrt();
            assert!((share - w).abs() <= 5.0 * sd + 1e-12, "{share} vs {w}");
        }
    }

    #[test]
    fn streams_differ_by_every_key_part() {
        let k = Keyed::new(1, 2);
        let a = k.stream(3, 4).next_u64();
        assert_ne!(a, k.stream(4, 3).next_u64());
        assert_ne!(a, k.stream(3, 5).next_u64());
        assert_ne!(a, Keyed::new(1, 3).stream(3, 4).next_u64());
        assert_ne!(a, Keyed::new(2, 2).stream(3, 4).next_u64());
        assert_eq!(a, Keyed::new(1, 2).stream(3, 4).next_u64());
    }

    #[test]
    fn thresholds_and_bounded_draws() {
        assert_eq!(prob_threshold(0.0), 0);
        assert_eq!(prob_threshold(1.0), u64::MAX);
        assert_eq!(prob_threshold(0.5), 1u64 << 63);
        assert_eq!(mul_high_u32(u64::MAX, 10), 9);
        assert_eq!(mul_high_u32(0, 10), 0);
    }
}
