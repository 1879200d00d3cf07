//! `convmat tour`: the seed's examples, computed live with no input files.

use crate::error::Error;
use crate::geometry::{
    ConvGeometry, ConvTransposeGeometry, PaddingMode, PoolGeometry, ResizeGeometry, ResizeMode,
    UnpoolGeometry,
};
use crate::io::print;
use crate::kernels;
use crate::kernels::{direct, zero_insert};
use crate::solve::{lsqr, pinv_solve, LsqrOptions, PinvOptions};
use crate::sparse::{
    max_unpool_matrix, resize_axis_matrix, resize_matrix, BuildOptions, ConvMatrix, Csr, TapLabel,
};
use crate::spectral::Diagonal;
use std::io::Write;

/// The 4×4 input of the seed's example.
pub const SEED_INPUT: [f64; 16] = [
    4.0, 5.0, 8.0, 7.0, //
    1.0, 8.0, 8.0, 8.0, //
    3.0, 6.0, 6.0, 4.0, //
    6.0, 5.0, 7.0, 8.0,
];
/// The 3×3 kernel of the seed's example.
pub const SEED_KERNEL: [f64; 9] = [1.0, 4.0, 1.0, 1.0, 4.0, 3.0, 3.0, 3.0, 1.0];

fn io(e: std::io::Error) -> Error {
    Error::Io {
        path: "<stdout>".into(),
        source: e,
    }
}

/// Writes the tour: C and Cᵀ for the 4×4 / 3×3 example, `C·x` against the direct
/// convolution, the 2×2 → 5×5 transposed convolution as `Cᵀ·y`, and why Cᵀ is not
/// C⁻¹. Every number printed is computed here.
///
/// ```
/// let mut out = Vec::new();
/// convmat::tour::tour(&mut out).unwrap();
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.contains("122 148"));
/// ```
///
/// # Errors
/// [`Error::Io`] (path `<stdout>`) when writing to `w` fails; the examples themselves are fixed
/// and valid.
pub fn tour(w: &mut dyn Write) -> Result<(), Error> {
    let opts = BuildOptions::default();
    let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build()?;
    let c = ConvMatrix::<f64>::build(&g, &SEED_KERNEL)?;
    let labels = Csr::<TapLabel>::pattern(&g, &opts)?;

    writeln!(w, "convmat tour — convolution as a matrix\n").map_err(io)?;
    writeln!(
        w,
        "1. A 4×4 input x and a 3×3 kernel w (stride 1, no padding) give a 2×2 output.\n"
    )
    .map_err(io)?;
    writeln!(w, "x =").map_err(io)?;
    print::dense(w, 4, 4, &SEED_INPUT).map_err(io)?;
    writeln!(w, "\nw =").map_err(io)?;
    print::dense(w, 3, 3, &SEED_KERNEL).map_err(io)?;

    writeln!(
        w,
        "\n2. Flatten x to 16 values and the output to 4: the convolution is a {}×{} matrix C \
         with {} stored entries.\n   Each row holds the kernel, shifted to the window it reads:\n",
        c.nrows(),
        c.ncols(),
        c.nnz()
    )
    .map_err(io)?;
    print::symbolic(w, &labels, g.kernel_size(), true).map_err(io)?;
    writeln!(w, "\nC =").map_err(io)?;
    print::pretty(w, &c).map_err(io)?;

    let mut y_matrix = [0.0; 4];
    c.mul_vec(&SEED_INPUT, &mut y_matrix)?;
    let mut y_direct = [0.0; 4];
    direct::conv(&g, &SEED_INPUT, &SEED_KERNEL, None, &mut y_direct)?;
    writeln!(w, "\n3. y = C·x, reshaped to 2×2:").map_err(io)?;
    print::dense(w, 2, 2, &y_matrix).map_err(io)?;
    writeln!(
        w,
        "   The direct (sliding-window) convolution gives {}: {}.",
        fmt_list(&y_direct),
        if y_matrix == y_direct {
            "the same, exactly"
        } else {
            "DIFFERENT (this is a bug)"
        }
    )
    .map_err(io)?;

    let ct = c.transpose();
    writeln!(
        w,
        "\n4. Cᵀ is {}×{}: it maps a 2×2 output back to a 4×4 input. This is what a transposed\n   \
         convolution (a \"deconvolution\" layer) computes:\n",
        ct.nrows(),
        ct.ncols()
    )
    .map_err(io)?;
    print::symbolic(w, &labels.transpose(), g.kernel_size(), true).map_err(io)?;

    let mut back = [0.0; 16];
    c.mul_transpose(&y_matrix, &mut back)?;
    writeln!(
        w,
        "\n5. Cᵀ is not C⁻¹. Cᵀ·(C·x) spreads each output back over its window:"
    )
    .map_err(io)?;
    print::dense(w, 4, 4, &back).map_err(io)?;
    let mut cct = [0.0; 16];
    for (j, e) in (0..4).map(|j| (j, unit(4, j))) {
        let mut col = [0.0; 16];
        c.mul_transpose(&e, &mut col)?;
        let mut row = [0.0; 4];
        c.mul_vec(&col, &mut row)?;
        for i in 0..4 {
            cct[i * 4 + j] = row[i];
        }
    }
    writeln!(
        w,
        "   which is not x. C is 4×16 — four equations for sixteen unknowns — so no inverse\n   \
         exists; and C·Cᵀ is not even the identity:"
    )
    .map_err(io)?;
    print::dense(w, 4, 4, &cct).map_err(io)?;
    writeln!(
        w,
        "   Recovering x from y is an inverse problem (least squares, pseudo-inverse); the\n   \
         transposed convolution only has the right shape."
    )
    .map_err(io)?;

    let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3])
        .stride(&[2])
        .build()?;
    let ones_kernel = [1.0; 9];
    let mut x_scatter = vec![0.0; t.conv().cols()];
    direct::conv_transpose(t.conv(), &[1.0; 4], &ones_kernel, None, &mut x_scatter)?;
    let c2 = ConvMatrix::<f64>::build(t.conv(), &ones_kernel)?;
    let mut x_matrix = vec![0.0; c2.ncols()];
    c2.mul_transpose(&[1.0; 4], &mut x_matrix)?;
    writeln!(
        w,
        "\n6. A transposed convolution of a 2×2 input of ones with a 3×3 kernel of ones and stride 2\n   \
         gives (2−1)·2 + 3 = {} per side; overlapping windows add up:",
        t.output_size()[0]
    )
    .map_err(io)?;
    print::dense(w, 5, 5, &x_scatter).map_err(io)?;
    writeln!(
        w,
        "   It is Cᵀ·y for the stride-2 convolution that maps 5×5 to 2×2 (C is {}×{}): {}.",
        c2.nrows(),
        c2.ncols(),
        if x_matrix == x_scatter {
            "identical"
        } else {
            "DIFFERENT (this is a bug)"
        }
    )
    .map_err(io)?;
    // the seed's second method: zero insertion
    let kernel: Vec<f64> = (1..=9).map(f64::from).collect();
    let z = zero_insert::inner_geometry(t.conv())?;
    let zin = zero_insert::zero_inserted(t.conv(), &z, &[1.0; 4]);
    let flipped = zero_insert::flipped_weight(t.conv(), &kernel);
    writeln!(
        w,
        "\n7. The same transposed convolution by zero insertion: put stride − 1 = 1 zero between\n   \
         the inputs, pad by d(k−1) − p = 2 on every side ({}×{}):",
        z.input_size()[0],
        z.input_size()[1]
    )
    .map_err(io)?;
    print::dense(w, z.input_size()[0], z.input_size()[1], &zin).map_err(io)?;
    writeln!(
        w,
        "   then slide the kernel flipped in both directions with stride 1. For the kernel"
    )
    .map_err(io)?;
    print::dense(w, 3, 3, &kernel).map_err(io)?;
    writeln!(w, "   the flipped kernel is").map_err(io)?;
    print::dense(w, 3, 3, &flipped).map_err(io)?;
    let mut x_zero = vec![0.0; t.conv().cols()];
    zero_insert::conv_transpose(t.conv(), &[1.0; 4], &kernel, None, &mut x_zero)?;
    let mut x_ref = vec![0.0; t.conv().cols()];
    direct::conv_transpose(t.conv(), &[1.0; 4], &kernel, None, &mut x_ref)?;
    writeln!(w, "   and the result,").map_err(io)?;
    print::dense(w, 5, 5, &x_zero).map_err(io)?;
    writeln!(
        w,
        "   is {} the scatter result (most of its multiplications were by inserted zeros).",
        if x_zero == x_ref {
            "identical to"
        } else {
            "DIFFERENT from (this is a bug)"
        }
    )
    .map_err(io)?;
    upsampling(w)?;
    deconvolution(w)?;
    boundaries(w)?;
    writeln!(
        w,
        "\nNext: `convmat matrix --input-size 4,4 --kernel-size 3,3 --format symbolic`, \
         `convmat matrix --input-size 4,4 --kernel-size 3,3 --padding 1 --padding-mode reflect`, \
         `convmat matrix --op bilinear --input-size 2,2 --scale-factor 2 --align-corners`, \
         `convmat deconv --help`, `convmat analyze --help`."
    )
    .map_err(io)?;
    Ok(())
}

/// Sections 8 and 9: max-unpooling and bilinear up-sampling, each beside its matrix U.
fn upsampling(w: &mut dyn Write) -> Result<(), Error> {
    let opts = BuildOptions::default();
    let x: Vec<f64> = (1..=16).map(f64::from).collect();
    let pool = PoolGeometry::builder(&[4, 4], &[2]).build()?;
    let (mut values, mut indices) = (vec![0.0; 4], vec![0i64; 4]);
    kernels::max_pool(&pool, &x, &mut values, &mut indices)?;
    writeln!(
        w,
        "\n8. Max-unpooling. Max-pool the 4×4 input 1…16 with a 2×2 window, stride 2; keep where\n   \
         each maximum came from (flat positions in the 4×4 plane):"
    )
    .map_err(io)?;
    print::dense(w, 4, 4, &x).map_err(io)?;
    writeln!(w, "   maxima").map_err(io)?;
    print::dense(w, 2, 2, &values).map_err(io)?;
    let idx_f: Vec<f64> = indices.iter().map(|&i| i as f64).collect();
    writeln!(w, "   indices").map_err(io)?;
    print::dense(w, 2, 2, &idx_f).map_err(io)?;
    for (size, note) in [
        (4, "the default size (I−1)·s − 2p + k = 4"),
        (
            5,
            "output_size 5×5: the same flat indices in a\n   5-wide plane, so the values move",
        ),
    ] {
        let g = UnpoolGeometry::builder(&[2, 2], &[2])
            .output_size(Some(&[size, size]))
            .build()?;
        let mut out = vec![0.0; size * size];
        kernels::max_unpool(&g, &values, &indices, &mut out)?;
        let u = max_unpool_matrix::<f64>(&g, &indices, &opts)?;
        let mut uy = vec![0.0; u.nrows()];
        u.mul_vec(&values, &mut uy)?;
        writeln!(
            w,
            "\n   Unpooled to {size}×{size} ({note}). Beside it U, {}×{}: one 1 per column, in\n   \
             the row of its index (U·y is {} the direct unpooling):",
            u.nrows(),
            u.ncols(),
            if uy == out { "identical to" } else { "DIFFERENT from (this is a bug)" }
        )
        .map_err(io)?;
        side_by_side(w, size, size, &out, &u)?;
    }

    let y = [6.0, 10.0, 9.0, 12.0];
    let g = ResizeGeometry::builder(ResizeMode::Bilinear, &[2, 2])
        .scale_factor(&[2.0])
        .align_corners(Some(true))
        .build()?;
    let mut up = vec![0.0; 16];
    kernels::resize(&g, &y, &mut up)?;
    let u = resize_matrix::<f64>(&g, 1, &opts)?;
    let u1 = resize_axis_matrix::<f64>(&g, 0);
    writeln!(
        w,
        "\n9. Bilinear up-sampling, align_corners=True: the 2×2 input [[6, 10], [9, 12]] to 4×4.\n   \
         Corners stay; every other output is a weighted mean of its neighbours. Along one\n   \
         dimension the weights form a 4×2 matrix (outputs at 0, 1/3, 2/3 and 1 of the way):"
    )
    .map_err(io)?;
    print::pretty(w, &u1.map(|&v| round4(v))).map_err(io)?;
    writeln!(
        w,
        "   and the 2-D U = U₁ ⊗ U₁ ({}×{}, {} stored entries), beside the result (both shown\n   \
         to 4 decimals):",
        u.nrows(),
        u.ncols(),
        u.nnz()
    )
    .map_err(io)?;
    let shown: Vec<f64> = up.iter().map(|&v| round4(v)).collect();
    side_by_side(w, 4, 4, &shown, &u.map(|&v| round4(v)))?;
    let mut uy = vec![0.0; 16];
    u.mul_vec(&y, &mut uy)?;
    let worst = uy
        .iter()
        .zip(&up)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    writeln!(
        w,
        "   U·y agrees with the direct interpolation to {worst:.1e} (U multiplies the two weights first)."
    )
    .map_err(io)?;
    sub_pixel(w)
}

/// Section 9, last part: a stride-2 transposed convolution is a stride-1 convolution
/// with four times the channels, then a pixel shuffle.
fn sub_pixel(w: &mut dyn Write) -> Result<(), Error> {
    use crate::functional::{
        conv, conv_transpose, pixel_shuffle, sub_pixel_weight, ConvMethod, ConvTransposeMethod,
    };
    use crate::geometry::{ConvOptions, Padding};
    use ndarray::{ArrayD, IxDyn};
    let opts = BuildOptions::default();
    let shape = |s: &[usize], v: Vec<f64>| {
        ArrayD::from_shape_vec(IxDyn(s), v).expect("the sizes multiply to the length")
    };
    let x = shape(&[1, 1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]);
    let wt = shape(&[1, 1, 4, 4], (1..=16).map(f64::from).collect());
    let stride2 = ConvOptions {
        stride: vec![2],
        ..Default::default()
    };
    let up = conv_transpose(
        x.view(),
        wt.view(),
        None,
        &stride2,
        ConvTransposeMethod::Scatter,
        &opts,
    )?;
    let v = sub_pixel_weight(wt.view(), 2)?;
    let full = ConvOptions {
        padding: Padding::Explicit(vec![1]),
        ..Default::default()
    };
    let deep = conv(x.view(), v.view(), None, &full, ConvMethod::Direct, &opts)?;
    let wide = pixel_shuffle(deep.view(), 2)?;
    writeln!(
        w,
        "\n   Sub-pixel convolution. The transposed convolution of [[1, 2], [3, 4]] with the 4×4\n   \
         kernel 1…16, stride 2, gives 6×6. Each output phase (row parity, column parity) is\n   \
         reached by one 2×2 sub-kernel of taps, flipped — so the same layer is a stride-1\n   \
         convolution with four output channels (the sub-kernels below, phase (0,0), (0,1),\n   \
         (1,0), (1,1)), padding 1, followed by a pixel shuffle that interleaves the four\n   \
         3×3 results (Shi et al. 2016; no multiplications by inserted zeros):"
    )
    .map_err(io)?;
    let subs: Vec<f64> = v.iter().copied().collect();
    for (phase, k) in subs.chunks_exact(4).enumerate() {
        writeln!(
            w,
            "   phase ({}, {}): {}",
            phase / 2,
            phase % 2,
            fmt_list(k)
        )
        .map_err(io)?;
    }
    writeln!(
        w,
        "   conv_transpose2d (left) and pixel_shuffle(conv2d) (right), {}:",
        if wide == up {
            "identical"
        } else {
            "DIFFERENT (this is a bug)"
        }
    )
    .map_err(io)?;
    let (a, b): (Vec<f64>, Vec<f64>) =
        (up.iter().copied().collect(), wide.iter().copied().collect());
    for (ra, rb) in a.chunks_exact(6).zip(b.chunks_exact(6)) {
        writeln!(w, "   {}    {}", fmt_row(ra), fmt_row(rb)).map_err(io)?;
    }
    Ok(())
}

/// A row of whole numbers, right-aligned in four columns each.
fn fmt_row(v: &[f64]) -> String {
    v.iter().map(|x| format!("{x:4}")).collect()
}

/// Section 10: the transposed convolution is not the inverse; least squares is.
fn deconvolution(w: &mut dyn Write) -> Result<(), Error> {
    let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build()?;
    let c = ConvMatrix::<f64>::build(&g, &SEED_KERNEL)?;
    let mut y = [0.0; 4];
    c.mul_vec(&SEED_INPUT, &mut y)?;
    let mut x_t = vec![0.0; 16];
    c.mul_transpose(&y, &mut x_t)?;
    let opts = LsqrOptions {
        atol: 1e-14,
        btol: 1e-14,
        ..Default::default()
    };
    let ls = lsqr(&c, &y, &opts, None)?;
    let pinv = pinv_solve(&c, &y, &PinvOptions::default())?;
    let rel = |v: &[f64]| {
        let d: f64 = v
            .iter()
            .zip(&SEED_INPUT)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        d / SEED_INPUT.iter().map(|b| b * b).sum::<f64>().sqrt()
    };
    let misfit = |v: &[f64]| -> Result<f64, Error> {
        let mut cv = [0.0; 4];
        c.mul_vec(v, &mut cv)?;
        Ok(cv
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt())
    };
    writeln!(
        w,
        "\n10. Transposed convolution is not deconvolution. From y = C·x = {} (4 numbers) the\n    \
         16 inputs cannot all come back: C has rank {} and a null space of dimension {}.",
        fmt_list(&y),
        pinv.rank,
        pinv.nullity
    )
    .map_err(io)?;
    writeln!(w, "    Cᵀ·y (the transposed convolution):").map_err(io)?;
    print::dense(w, 4, 4, &x_t.iter().map(|&v| round4(v)).collect::<Vec<_>>()).map_err(io)?;
    writeln!(
        w,
        "    relative error {:.4} against x, and C·(Cᵀ·y) misses y by {:.1}.",
        rel(&x_t),
        misfit(&x_t)?
    )
    .map_err(io)?;
    writeln!(
        w,
        "    Least squares (LSQR from 0, {} iterations: {}):",
        ls.info.iterations,
        ls.info.stop.message()
    )
    .map_err(io)?;
    print::dense(
        w,
        4,
        4,
        &ls.x.iter().map(|&v| round4(v)).collect::<Vec<_>>(),
    )
    .map_err(io)?;
    writeln!(
        w,
        "    relative error {:.4} against x, but C·x̂ reproduces y to {:.1e}: it is the\n    \
         minimum-norm input that explains y (the pseudo-inverse gives the same, to {:.1e}).\n    \
         What is missing is x's component in the null space — no method can recover it from y.",
        rel(&ls.x),
        misfit(&ls.x)?,
        ls.x.iter()
            .zip(&pinv.x)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    )
    .map_err(io)?;
    Ok(())
}

/// Section 11: the boundary condition is part of C. The seed's 3×3 kernel on a 4×4
/// input with `same` padding, under zeros, circular and reflect padding: C's pattern
/// side by side, each entry shown as the number of weights it sums.
fn boundaries(w: &mut dyn Write) -> Result<(), Error> {
    let opts = BuildOptions::default();
    let modes = [
        PaddingMode::Zeros,
        PaddingMode::Circular,
        PaddingMode::Reflect,
    ];
    let mut grids = Vec::new();
    let mut geometries = Vec::new();
    for mode in modes {
        let g = ConvGeometry::builder(&[4, 4], &[3, 3])
            .padding(1)
            .padding_mode(mode)
            .build()?;
        let labels = Csr::<TapLabel>::pattern(&g, &opts)?;
        let mut lines = vec![String::new(); labels.nrows()];
        for (r, line) in lines.iter_mut().enumerate() {
            for c in 0..labels.ncols() {
                let n = labels.get(r, c).map_or(0, |l| l.taps().len());
                line.push(if n == 0 {
                    '·'
                } else {
                    char::from_digit(n as u32, 10).unwrap_or('+')
                });
            }
        }
        grids.push((mode, labels.nnz(), lines));
        geometries.push(g);
    }
    writeln!(
        w,
        "\n11. Boundaries. The same 3×3 kernel on the 4×4 input, padding 1 (`same`), under three\n    \
         padding modes. Each entry of C shows how many weights it sums (· = not stored):\n"
    )
    .map_err(io)?;
    let header: Vec<String> = grids
        .iter()
        .map(|(m, nnz, _)| format!("{:<24}", format!("{m} ({nnz} entries)")))
        .collect();
    writeln!(w, "    {}", header.join("  ").trim_end()).map_err(io)?;
    for r in 0..16 {
        let row: Vec<String> = grids
            .iter()
            .map(|(_, _, l)| format!("{:<24}", l[r]))
            .collect();
        writeln!(w, "    {}", row.join("  ").trim_end()).map_err(io)?;
    }
    // circulant check: the entry for output (i, j) and input (k, l) depends only on
    // ((k − i) mod 4, (l − j) mod 4)
    let c = ConvMatrix::<f64>::build(&geometries[1], &SEED_KERNEL)?;
    let shift = |r: usize, c: usize| ((c / 4 + 4 - r / 4) % 4, (c % 4 + 4 - r % 4) % 4);
    let mut by_shift = std::collections::HashMap::new();
    let bccb = (0..16).all(|r| {
        (0..16).all(|col| {
            let v = c.get(r, col).copied().unwrap_or(0.0);
            *by_shift.entry(shift(r, col)).or_insert(v) == v
        })
    });
    let x: Vec<f64> = SEED_INPUT.to_vec();
    let mut y = [0.0; 16];
    c.mul_vec(&x, &mut y)?;
    writeln!(
        w,
        "\n    Zero padding drops the taps that fall outside (corner rows keep 4 of 9). Reflect folds\n    \
         them back onto the input: a row reads an input twice or four times, and the entry sums\n    \
         those weights (`convmat matrix --padding-mode reflect --format symbolic` names them,\n    \
         w00+w02). Circular wraps them round: every row holds all 9 weights, C is square\n    \
         (16×16, `same` keeps the size) and each row is the one before shifted cyclically —\n    \
         block-circulant with circulant blocks: {}.\n    \
         The 2-D DFT diagonalises such a matrix. The seed's input, convolved with circular padding:",
        if bccb {
            "checked, entry by entry"
        } else {
            "NOT SO (this is a bug)"
        }
    )
    .map_err(io)?;
    print::dense(w, 4, 4, &y).map_err(io)?;

    // the FFT diagonalises the circular C: its eigenvalues are the 2-D DFT of its
    // first column, and C·x is two transforms and a product
    let diag = Diagonal::<f64>::new(&geometries[1], &SEED_KERNEL)?;
    let half = diag.eigenvalues();
    let lambda = |u: usize, v: usize| {
        // the stored half spectrum holds v ≤ 2; the rest are conjugates
        if v <= 2 {
            half[u * 3 + v]
        } else {
            half[((4 - u) % 4) * 3 + (4 - v)].conj()
        }
    };
    let mut y_fft = [0.0; 16];
    diag.apply(&x, &mut y_fft, |l| l);
    let gap = y_fft
        .iter()
        .zip(&y)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    writeln!(
        w,
        "\n    Its 16 eigenvalues λ(u, v), the 2-D DFT of its first column (C = F⁻¹·diag(λ)·F):"
    )
    .map_err(io)?;
    for u in 0..4 {
        let row: Vec<String> = (0..4)
            .map(|v| {
                let l = lambda(u, v);
                format!("{:>7.2}{:+7.2}i", l.re, l.im)
            })
            .collect();
        writeln!(w, "    {}", row.join("  ")).map_err(io)?;
    }
    writeln!(
        w,
        "    C·x by FFT, product and inverse FFT agrees with the matrix to {gap:.1e}. C is normal, so\n    \
         its singular values are the |λ|: the largest, {:.2}, is its spectral norm (here λ(0, 0),\n    \
         the kernel's sum {}, since every weight is positive).",
        half.iter().map(|l| l.norm()).fold(0.0, f64::max),
        SEED_KERNEL.iter().sum::<f64>()
    )
    .map_err(io)?;
    Ok(())
}

/// Prints a small dense result (`rows`×`cols`, row-major) on the left and the matrix
/// `u` on the right, line by line.
fn side_by_side(
    w: &mut dyn Write,
    rows: usize,
    cols: usize,
    out: &[f64],
    u: &Csr<f64>,
) -> Result<(), Error> {
    let (mut left, mut right) = (Vec::new(), Vec::new());
    print::dense(&mut left, rows, cols, out).map_err(io)?;
    print::pretty(&mut right, u).map_err(io)?;
    let (left, right) = (
        String::from_utf8_lossy(&left).into_owned(),
        String::from_utf8_lossy(&right).into_owned(),
    );
    let width = left.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let (l, r): (Vec<&str>, Vec<&str>) = (left.lines().collect(), right.lines().collect());
    writeln!(w, "   {:<width$}     U", "result").map_err(io)?;
    for i in 0..l.len().max(r.len()) {
        let a = l.get(i).copied().unwrap_or("");
        let b = r.get(i).copied().unwrap_or("");
        let pad = width - a.chars().count();
        writeln!(w, "   {a}{:pad$}     {b}", "").map_err(io)?;
    }
    Ok(())
}

fn round4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

fn unit(n: usize, j: usize) -> Vec<f64> {
    (0..n).map(|i| if i == j { 1.0 } else { 0.0 }).collect()
}

fn fmt_list(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|&x| crate::io::fmt_real(x)).collect();
    format!("[{}]", parts.join(", "))
}
