//! `convmat tour`: the seed's examples, computed live with no input files.

use crate::error::Error;
use crate::geometry::{ConvGeometry, ConvTransposeGeometry};
use crate::io::print;
use crate::kernels::{direct, zero_insert};
use crate::sparse::{BuildOptions, ConvMatrix, Csr, TapLabel};
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
    writeln!(
        w,
        "\nNext: `convmat matrix --input-size 4,4 --kernel-size 3,3 --format symbolic`, \
         `convmat conv --help`."
    )
    .map_err(io)?;
    Ok(())
}

fn unit(n: usize, j: usize) -> Vec<f64> {
    (0..n).map(|i| if i == j { 1.0 } else { 0.0 }).collect()
}

fn fmt_list(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|&x| crate::io::fmt_real(x)).collect();
    format!("[{}]", parts.join(", "))
}
