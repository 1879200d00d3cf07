//! Singular values largest first: a radix sort on the bits of non-negative doubles.

/// Sorts `values` largest first, as `sort_unstable_by(|a, b| b.total_cmp(a))`
/// does. Where every value has its sign bit clear (non-negative numbers, +∞ and
/// positive NaNs: singular values), the IEEE bits order as the values do, so a
/// least-significant-digit radix sort on them takes a few linear passes, skipping
/// the bytes every value shares (the exponent's, mostly); otherwise it falls back
/// to the comparison sort.
pub(crate) fn sort_descending(values: &mut [f64]) {
    if values.len() < 256 || values.iter().any(|v| v.is_sign_negative()) {
        values.sort_unstable_by(|a, b| b.total_cmp(a));
        return;
    }
    // descending order of v is ascending order of !bits
    let mut keys: Vec<u64> = values.iter().map(|v| !v.to_bits()).collect();
    let mut spare = vec![0u64; keys.len()];
    for byte in 0..8 {
        let shift = 8 * byte;
        let mut count = [0usize; 256];
        for &k in &keys {
            count[((k >> shift) & 0xff) as usize] += 1;
        }
        if count.contains(&keys.len()) {
            continue; // every key has this byte: the pass would not move anything
        }
        let mut at = 0;
        for c in count.iter_mut() {
            (*c, at) = (at, at + *c);
        }
        for &k in &keys {
            let slot = &mut count[((k >> shift) & 0xff) as usize];
            spare[*slot] = k;
            *slot += 1;
        }
        std::mem::swap(&mut keys, &mut spare);
    }
    for (v, k) in values.iter_mut().zip(&keys) {
        *v = f64::from_bits(!k);
    }
}

#[cfg(test)]
mod tests {
    use super::sort_descending;

    /// The same order as the comparison sort, for non-negative values with ties,
    /// zeros, +∞ and NaN, and for a list with a negative value (the fallback).
    #[test]
    fn orders_as_total_cmp_descending() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut values: Vec<f64> = (0..5000)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                match i % 97 {
                    0 => 0.0,
                    1 => f64::INFINITY,
                    2 => f64::NAN,
                    3 => 1.5,
                    _ => (s >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi((s % 9) as i32 - 4),
                }
            })
            .collect();
        for negative in [false, true] {
            if negative {
                values[17] = -2.0;
            }
            let mut want = values.clone();
            want.sort_unstable_by(|a, b| b.total_cmp(a));
            let mut got = values.clone();
            sort_descending(&mut got);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "negative: {negative}");
        }
    }
}
