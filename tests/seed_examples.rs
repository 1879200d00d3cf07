//! The seed's worked examples, as specifications.

use convmat::geometry::{ConvGeometry, ConvTransposeGeometry};
use convmat::kernels::direct;
use convmat::sparse::ConvMatrix;
use convmat::tour::{SEED_INPUT, SEED_KERNEL};

/// C for a 4×4 input and 3×3 kernel, written out: row (i, j) holds the kernel rows
/// at input rows i..i+3, columns j..j+3.
fn expected_c(w: &[f64; 9]) -> Vec<f64> {
    let mut c = vec![0.0; 4 * 16];
    for (row, (i, j)) in [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate() {
        for ky in 0..3 {
            for kx in 0..3 {
                c[row * 16 + (i + ky) * 4 + (j + kx)] = w[ky * 3 + kx];
            }
        }
    }
    c
}

#[test]
fn four_by_four_input_three_by_three_kernel_gives_a_4x16_matrix() {
    let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build().unwrap();
    let c = ConvMatrix::<f64>::build(&g, &SEED_KERNEL).unwrap();
    assert_eq!((c.nrows(), c.ncols(), c.nnz()), (4, 16, 36));
    assert_eq!(c.to_dense(), expected_c(&SEED_KERNEL));
}

#[test]
fn c_times_x_equals_the_direct_convolution() {
    let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build().unwrap();
    let c = ConvMatrix::<f64>::build(&g, &SEED_KERNEL).unwrap();
    let mut y = [0.0; 4];
    c.mul_vec(&SEED_INPUT, &mut y).unwrap();
    assert_eq!(y, [122.0, 148.0, 126.0, 134.0]);
    let mut y_direct = [0.0; 4];
    direct::conv(&g, &SEED_INPUT, &SEED_KERNEL, None, &mut y_direct).unwrap();
    assert_eq!(y, y_direct);
}

#[test]
fn transposed_conv_of_2x2_ones_with_3x3_kernel_and_stride_2_gives_5x5() {
    let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3])
        .stride(&[2])
        .build()
        .unwrap();
    assert_eq!(t.output_size(), &[5, 5]);
    let mut x = vec![0.0; 25];
    direct::conv_transpose(t.conv(), &[1.0; 4], &[1.0; 9], None, &mut x).unwrap();
    #[rustfmt::skip]
    let expected = [
        1.0, 1.0, 2.0, 1.0, 1.0,
        1.0, 1.0, 2.0, 1.0, 1.0,
        2.0, 2.0, 4.0, 2.0, 2.0,
        1.0, 1.0, 2.0, 1.0, 1.0,
        1.0, 1.0, 2.0, 1.0, 1.0,
    ];
    assert_eq!(x, expected);
    // … and it is Cᵀ·y for the stride-2 convolution mapping 5×5 to 2×2
    let c = ConvMatrix::<f64>::build(t.conv(), &[1.0; 9]).unwrap();
    assert_eq!((c.nrows(), c.ncols()), (4, 25));
    let mut x_matrix = vec![0.0; 25];
    c.mul_transpose(&[1.0; 4], &mut x_matrix).unwrap();
    assert_eq!(x_matrix, expected);
}

#[test]
fn c_transpose_is_not_the_inverse() {
    let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build().unwrap();
    let c = ConvMatrix::<f64>::build(&g, &SEED_KERNEL).unwrap();
    let mut y = [0.0; 4];
    c.mul_vec(&SEED_INPUT, &mut y).unwrap();
    let mut back = [0.0; 16];
    c.mul_transpose(&y, &mut back).unwrap();
    assert_ne!(back, SEED_INPUT);
    // the corner sees only the first output: 122·w00
    assert_eq!(back[0], 122.0 * SEED_KERNEL[0]);
    // more unknowns than equations: no left inverse exists
    assert!(c.ncols() > c.nrows());
}

#[test]
fn the_tour_shows_every_example_and_finds_no_disagreement() {
    let mut out = Vec::new();
    convmat::tour::tour(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    for needle in [
        "4×16 matrix C with 36 stored entries",
        "w00 w01 w02   · w10 w11 w12   · w20 w21 w22",
        "122 148\n126 134",
        "the same, exactly",
        "Cᵀ is not C⁻¹",
        "2 2 4 2 2",
        "identical",
        "7. The same transposed convolution by zero insertion",
        "9 8 7\n6 5 4",
        "identical to the scatter result",
    ] {
        assert!(text.contains(needle), "tour lacks {needle:?}");
    }
    assert!(!text.contains("DIFFERENT"));
}
