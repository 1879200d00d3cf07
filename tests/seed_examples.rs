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

/// The seed's max-unpooling: pool the 4×4 input 1…16 (2×2 window, stride 2), then
/// put each maximum back where it came from.
#[test]
fn max_unpooling_puts_the_maxima_back_and_a_5x5_output_moves_them() {
    use convmat::geometry::{PoolGeometry, UnpoolGeometry};
    use convmat::kernels::{max_pool, max_unpool};
    use convmat::sparse::{max_unpool_matrix, BuildOptions};
    let x: Vec<f64> = (1..=16).map(f64::from).collect();
    let pool = PoolGeometry::builder(&[4, 4], &[2]).build().unwrap();
    let (mut v, mut i) = (vec![0.0; 4], vec![0; 4]);
    max_pool(&pool, &x, &mut v, &mut i).unwrap();
    assert_eq!(v, [6.0, 8.0, 14.0, 16.0]);
    assert_eq!(i, [5, 7, 13, 15]);
    #[rustfmt::skip]
    let four = [
        0.0, 0.0, 0.0, 0.0,
        0.0, 6.0, 0.0, 8.0,
        0.0, 0.0, 0.0, 0.0,
        0.0, 14.0, 0.0, 16.0,
    ];
    #[rustfmt::skip]
    let five = [
        0.0, 0.0, 0.0, 0.0, 0.0,
        6.0, 0.0, 8.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 14.0, 0.0,
        16.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    for (size, expected) in [(4, &four[..]), (5, &five[..])] {
        let g = UnpoolGeometry::builder(&[2, 2], &[2])
            .output_size(Some(&[size, size]))
            .build()
            .unwrap();
        let mut out = vec![0.0; size * size];
        max_unpool(&g, &v, &i, &mut out).unwrap();
        assert_eq!(out, expected);
        let u = max_unpool_matrix::<f64>(&g, &i, &BuildOptions::default()).unwrap();
        let mut uy = vec![0.0; size * size];
        u.mul_vec(&v, &mut uy).unwrap();
        assert_eq!(uy, expected);
    }
}

/// The seed's bilinear example: [[6, 10], [9, 12]] to 4×4 with align_corners=True.
#[test]
fn bilinear_align_corners_interpolates_the_2x2_example() {
    use convmat::geometry::{ResizeGeometry, ResizeMode};
    use convmat::kernels::resize;
    use convmat::sparse::{resize_matrix, BuildOptions};
    let g = ResizeGeometry::builder(ResizeMode::Bilinear, &[2, 2])
        .scale_factor(&[2.0])
        .align_corners(Some(true))
        .build()
        .unwrap();
    let y = [6.0, 10.0, 9.0, 12.0];
    let mut out = vec![0.0; 16];
    resize(&g, &y, &mut out).unwrap();
    // rows at 0, 1/3, 2/3, 1 between the input rows; the same along columns
    let lerp = |a: f64, b: f64, t: f64| a + (b - a) * t;
    for r in 0..4 {
        let t = r as f64 / 3.0;
        let (left, right) = (lerp(6.0, 9.0, t), lerp(10.0, 12.0, t));
        for c in 0..4 {
            let expected = lerp(left, right, c as f64 / 3.0);
            assert!((out[r * 4 + c] - expected).abs() < 1e-13, "({r},{c})");
        }
    }
    assert_eq!([out[0], out[3], out[12], out[15]], [6.0, 10.0, 9.0, 12.0]);
    let u = resize_matrix::<f64>(&g, 1, &BuildOptions::default()).unwrap();
    let mut uy = vec![0.0; 16];
    u.mul_vec(&y, &mut uy).unwrap();
    for (a, b) in uy.iter().zip(&out) {
        assert!((a - b).abs() < 1e-13);
    }
}
