//! A small deterministic generator for generated data that must come out the same on
//! every machine and platform: the demo district, the rules benchmark's case files and
//! the sync simulations. It is not for anything that must be unpredictable (tokens,
//! actor ids of real devices): those come from the platform's generator.

/// xorshift64* (Vigna, 2016): 64 bits of state, period 2^64 − 1, a few integer
/// operations per draw. Its state is never zero, the one state xorshift cannot leave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator seeded from `seed`, spread by an odd multiplier so that small or
    /// neighbouring seeds (0, 1, 2) still start far apart.
    pub const fn new(seed: u64) -> XorShift {
        XorShift::from_state(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// A generator started at `state` itself, its lowest bit set so that it is not zero:
    /// for a sequence that is already fixed by its starting state (the demo district).
    pub const fn from_state(state: u64) -> XorShift {
        XorShift(state | 1)
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (the modulo bias is negligible for the small `n` it is used
    /// with); 0 for an empty range, without drawing.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True about `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// Sixteen bytes from two draws, each little-endian: an id or an actor.
    pub fn bytes16(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        out[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_of_a_state_is_fixed() {
        // From state 1 the shifts give 2^25 + 1, times the multiplier modulo 2^64.
        assert_eq!(XorShift::from_state(1).next_u64(), 0x47E4_CE4B_896C_DD1D);
        let mut a = XorShift::new(7);
        let mut b = XorShift::new(7);
        let first: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        assert_eq!(first, (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(XorShift::new(7), XorShift::new(8));
    }

    #[test]
    fn a_zero_seed_or_state_still_draws() {
        let mut z = XorShift::from_state(0);
        assert_ne!(z.next_u64(), 0);
        assert_ne!(XorShift::new(0).next_u64(), 0);
    }

    #[test]
    fn below_stays_in_range_and_an_empty_range_draws_nothing() {
        let mut g = XorShift::new(42);
        assert!((0..1000).all(|_| g.below(7) < 7));
        let before = g.clone();
        assert_eq!(g.below(0), 0);
        assert_eq!(g, before);
        assert!(!(0..100).any(|_| g.chance(0)));
        assert!((0..100).all(|_| g.chance(100)));
    }

    #[test]
    fn sixteen_bytes_are_two_draws() {
        let mut g = XorShift::new(3);
        let mut h = g.clone();
        let bytes = g.bytes16();
        assert_eq!(bytes[..8], h.next_u64().to_le_bytes());
        assert_eq!(bytes[8..], h.next_u64().to_le_bytes());
    }
}
