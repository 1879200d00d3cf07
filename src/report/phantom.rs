//! Generated test images: the (modified) Shepp–Logan phantom and a training pattern.

/// The ten ellipses of the modified Shepp–Logan phantom (Toft 1996, the version
/// MATLAB's `phantom` and scikit-image use): (intensity, semi-axis a, semi-axis b,
/// centre x, centre y, rotation in degrees), on the square [−1, 1]².
pub const SHEPP_LOGAN: [(f64, f64, f64, f64, f64, f64); 10] = [
    (1.0, 0.69, 0.92, 0.0, 0.0, 0.0),
    (-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0),
    (-0.2, 0.11, 0.31, 0.22, 0.0, -18.0),
    (-0.2, 0.16, 0.41, -0.22, 0.0, 18.0),
    (0.1, 0.21, 0.25, 0.0, 0.35, 0.0),
    (0.1, 0.046, 0.046, 0.0, 0.1, 0.0),
    (0.1, 0.046, 0.046, 0.0, -0.1, 0.0),
    (0.1, 0.046, 0.023, -0.08, -0.605, 0.0),
    (0.1, 0.023, 0.023, 0.0, -0.606, 0.0),
    (0.1, 0.023, 0.046, 0.06, -0.605, 0.0),
];

/// The modified Shepp–Logan phantom sampled at the centres of an `n×n` grid, row 0 at
/// the top (y = +1), values summed over the ellipses that contain each point (so in
/// [0, 1] up to rounding: where 1 − 0.8 − 0.2 overlap the sum is −6e-17).
///
/// ```
/// use convmat::report::phantom::shepp_logan;
/// let p = shepp_logan(64);
/// assert_eq!(p.len(), 64 * 64);
/// assert_eq!(p[0], 0.0); // a corner is outside the head
/// // just inside the skull at the top: 1.0 (outer ellipse only)
/// assert!(p.iter().cloned().fold(0.0, f64::max) <= 1.0);
/// ```
pub fn shepp_logan(n: usize) -> Vec<f64> {
    let mut img = vec![0.0; n * n];
    for r in 0..n {
        let y = 1.0 - (2.0 * r as f64 + 1.0) / n as f64;
        for c in 0..n {
            let x = (2.0 * c as f64 + 1.0) / n as f64 - 1.0;
            img[r * n + c] = SHEPP_LOGAN
                .iter()
                .filter(|e| inside(e, x, y))
                .fold(0.0, |acc, e| acc + e.0);
        }
    }
    img
}

/// Whether (x, y) lies inside ellipse `e`.
pub fn inside(e: &(f64, f64, f64, f64, f64, f64), x: f64, y: f64) -> bool {
    let (_, a, b, x0, y0, deg) = *e;
    let t = deg.to_radians();
    let (dx, dy) = (x - x0, y - y0);
    let u = dx * t.cos() + dy * t.sin();
    let v = -dx * t.sin() + dy * t.cos();
    (u / a).powi(2) + (v / b).powi(2) <= 1.0
}

/// A training image unlike the phantom: concentric rings over a gradient, with a few
/// sharp squares, values in [0, 1].
///
/// ```
/// let t = convmat::report::phantom::training_pattern(32);
/// assert!(t.iter().all(|&v| (0.0..=1.0).contains(&v)));
/// ```
pub fn training_pattern(n: usize) -> Vec<f64> {
    (0..n * n)
        .map(|i| {
            let (r, c) = ((i / n) as f64 / n as f64, (i % n) as f64 / n as f64);
            let d = ((r - 0.45).powi(2) + (c - 0.55).powi(2)).sqrt();
            let rings = 0.5 + 0.5 * (d * 40.0).cos();
            let square = if ((r * 6.0) as usize + (c * 6.0) as usize).is_multiple_of(4) {
                0.3
            } else {
                0.0
            };
            (0.35 * rings + 0.35 * c + square).clamp(0.0, 1.0)
        })
        .collect()
}
