//! The code behind every `unsafe` block, at sizes small enough for Miri
//! (`cargo +nightly miri test --test unsafe_paths`): the CSR build that writes its
//! arrays uninitialised then sets their length, the unchecked products over stored
//! columns (usize and u32 indices), the direct loops and scatter, the separable
//! passes, max-pooling, average pooling (its matrix, built unchecked) and resizing, the FFT's spectrum products (their SIMD variants run where the processor has
//! the features; under Miri the portable ones), Winograd's per-vector transforms
//! (their buffers' bounds checked once per group of vectors) with the shifted GEMM
//! and the row splits behind them, and the phases, forward and transposed (the
//! transposed layer's output they write into capacity not yet initialised
//! included), and the transposed Winograd (into capacity too), one image of
//! them cut into pieces on two threads too, each checked against a plain
//! reference so that a wrong index would show as a wrong number as well.

use convmat::geometry::{ConvGeometry, PoolGeometry, ResizeGeometry, ResizeMode};
use convmat::kernels::{
    direct, fft, max_pool, phase, resize, separable::Separable, winograd, winograd_transpose,
};
use convmat::sparse::{ConvMatrix, Csr};

fn reference_conv(g: &ConvGeometry, x: &[f64], w: &[f64]) -> Vec<f64> {
    // y = C·x through the dense matrix, built column by column from unit vectors
    let mut y = vec![0.0; g.rows()];
    let mut e = vec![0.0; g.cols()];
    let mut col = vec![0.0; g.rows()];
    for j in 0..g.cols() {
        e[j] = 1.0;
        direct::conv(g, &e, w, None, &mut col).unwrap();
        e[j] = 0.0;
        for (yi, ci) in y.iter_mut().zip(&col) {
            *yi += ci * x[j];
        }
    }
    y
}

#[test]
fn the_csr_build_and_its_unchecked_products() {
    let g = ConvGeometry::builder(&[5, 4], &[3, 2])
        .channels(2, 3)
        .stride(&[2, 1])
        .padding(1)
        .dilation(&[1, 2])
        .build()
        .unwrap();
    let w: Vec<f64> = (0..g.weight_shape().iter().product::<usize>())
        .map(|i| (i as f64 * 0.3).sin())
        .collect();
    let x: Vec<f64> = (0..g.cols()).map(|i| (i as f64 * 0.7).cos()).collect();
    let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let c32 = Csr::<f64, u32>::build(&g, &w).unwrap();
    let expected = reference_conv(&g, &x, &w);
    let (mut y, mut y32) = (vec![0.0; g.rows()], vec![0.0; g.rows()]);
    c.mul_vec(&x, &mut y).unwrap();
    c32.mul_vec(&x, &mut y32).unwrap();
    for ((a, b), e) in y.iter().zip(&y32).zip(&expected) {
        assert!((a - e).abs() < 1e-12 && (b - e).abs() < 1e-12);
    }
    let (mut xt, mut xt_direct) = (vec![0.0; g.cols()], vec![0.0; g.cols()]);
    c.mul_transpose(&y, &mut xt).unwrap();
    direct::conv_transpose(&g, &y, &w, None, &mut xt_direct).unwrap();
    for (a, b) in xt.iter().zip(&xt_direct) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn separable_passes_max_pooling_and_resizing() {
    let g = ConvGeometry::builder(&[6, 5], &[3, 3])
        .padding(1)
        .build()
        .unwrap();
    let u = [0.25, 0.5, 0.25];
    let w: Vec<f64> = (0..9).map(|i| u[i / 3] * u[i % 3]).collect();
    let sep = Separable::new(&g, &w).unwrap();
    let x: Vec<f64> = (0..30).map(|i| i as f64).collect();
    let (mut y, mut scratch) = (vec![0.0; g.rows()], Default::default());
    sep.conv(&x, &mut y, &mut scratch);
    let mut yd = vec![0.0; g.rows()];
    direct::conv(&g, &x, &w, None, &mut yd).unwrap();
    for (a, b) in y.iter().zip(&yd) {
        assert!((a - b).abs() < 1e-12);
    }
    let p = PoolGeometry::builder(&[4, 4], &[2, 2]).build().unwrap();
    let (mut v, mut i) = (vec![0.0f32; 4], vec![0i64; 4]);
    let x: Vec<f32> = (0..16).map(|k| ((k * 7) % 16) as f32).collect();
    max_pool(&p, &x, &mut v, &mut i).unwrap();
    for (value, index) in v.iter().zip(&i) {
        assert_eq!(*value, x[*index as usize]);
    }
    let r = ResizeGeometry::builder(ResizeMode::Bilinear, &[3, 3])
        .scale_factor(&[2.0])
        .build()
        .unwrap();
    let mut up = vec![0.0f64; 36];
    resize(&r, &[1.0; 9], &mut up).unwrap();
    assert!(up.iter().all(|v| (v - 1.0).abs() < 1e-12));
}

#[test]
fn the_fft_spectrum_products() {
    // two input channels per output (the multiply-accumulate) and one to one (the
    // product in place), forward and adjoint
    for (cin, cout, groups) in [(2, 3, 1), (2, 2, 2)] {
        let g = ConvGeometry::builder(&[5, 4], &[3, 2])
            .channels(cin, cout)
            .groups(groups)
            .padding(1)
            .build()
            .unwrap();
        let w: Vec<f64> = (0..g.weight_shape().iter().product::<usize>())
            .map(|i| (i as f64 * 0.7).cos())
            .collect();
        let x: Vec<f64> = (0..g.cols()).map(|i| (i as f64 * 0.4).sin()).collect();
        let y: Vec<f64> = (0..g.rows()).map(|i| (i as f64 * 0.9).cos()).collect();
        let (mut a, mut b) = (vec![0.0; g.rows()], vec![0.0; g.rows()]);
        fft::conv(&g, &x, &w, None, &mut a).unwrap();
        direct::conv(&g, &x, &w, None, &mut b).unwrap();
        assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-12));
        let (mut a, mut b) = (vec![0.0; g.cols()], vec![0.0; g.cols()]);
        fft::conv_transpose(&g, &y, &w, None, &mut a).unwrap();
        direct::conv_transpose(&g, &y, &w, None, &mut b).unwrap();
        assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-12));
    }
}

#[test]
fn average_pooling_its_unchecked_matrix_and_its_avx2_runs() {
    use convmat::geometry::AvgPoolGeometry;
    use convmat::kernels::{avg_pool, avg_pool_adjoint};
    use convmat::sparse::{avg_pool_matrix, BuildOptions};
    for (input, kernel, stride, padding, ceil) in [
        (&[5, 6][..], &[2, 2][..], &[2, 2][..], &[1, 0][..], true),
        (&[4, 9], &[2, 3], &[1, 2], &[1, 1], false),
        (&[7], &[3], &[1], &[1], true),
    ] {
        let g = AvgPoolGeometry::builder(input, kernel)
            .stride(stride)
            .padding(padding)
            .ceil_mode(ceil)
            .count_include_pad(false)
            .build()
            .unwrap();
        let planes = 2;
        let a = avg_pool_matrix::<f64>(&g, planes, &BuildOptions::default()).unwrap();
        // the arrays built without checks pass every check
        let (rows, cols, indptr, indices, data) = a.clone().into_parts();
        Csr::try_from_parts(rows, cols, indptr, indices, data).unwrap();
        let x: Vec<f64> = (0..a.ncols()).map(|i| (i % 7) as f64 - 2.5).collect();
        let (mut y, mut ay) = (vec![0.0; a.nrows()], vec![0.0; a.nrows()]);
        avg_pool(&g, &x, &mut y).unwrap();
        a.mul_vec(&x, &mut ay).unwrap();
        for (u, v) in y.iter().zip(&ay) {
            assert!((u - v).abs() < 1e-12, "{u} vs {v}");
        }
        let (mut back, mut atb) = (vec![0.0; a.ncols()], vec![0.0; a.ncols()]);
        avg_pool_adjoint(&g, &y, &mut back).unwrap();
        a.mul_transpose(&y, &mut atb).unwrap();
        for (u, v) in back.iter().zip(&atb) {
            assert!((u - v).abs() < 1e-12, "{u} vs {v}");
        }
    }
}

/// Small integers for `g`'s weight (in −3 ..= 3) and for `n` values of data
/// (in −5 ..= 5): every sum of their products is exact.
fn integer_data(g: &ConvGeometry, n: usize) -> (Vec<f64>, Vec<f64>) {
    let w = (0..g.weight_shape().iter().product::<usize>())
        .map(|i| ((i * 5) % 7) as f64 - 3.0)
        .collect();
    let data = (0..n).map(|i| ((i * 3) % 11) as f64 - 5.0).collect();
    (w, data)
}

#[test]
fn winograd_transforms_the_shifted_gemm_and_the_phases() {
    // both strides, a reflected border, two batch items whose tiles share a
    // block (one group) and two groups whose tiles do not; integer data, exact
    // for the phases and within the bound for Winograd
    for (stride, groups) in [(1, 1), (2, 1), (1, 2), (2, 2)] {
        let g = ConvGeometry::builder(&[7, 9], &[3, 3])
            .channels(2, 4)
            .groups(groups)
            .stride(&[stride])
            .padding(1)
            .padding_mode(convmat::geometry::PaddingMode::Reflect)
            .build()
            .unwrap();
        let (w, x) = integer_data(&g, 2 * g.cols());
        let mut want = vec![0.0; 2 * g.rows()];
        for (xs, ys) in x.chunks(g.cols()).zip(want.chunks_mut(g.rows())) {
            direct::conv(&g, xs, &w, None, ys).unwrap();
        }
        let (mut a, mut b) = (vec![0.0; 2 * g.rows()], vec![0.0; 2 * g.rows()]);
        phase::conv(&g, &x, &w, None, &mut a).unwrap();
        winograd::conv(&g, &x, &w, None, &mut b).unwrap();
        assert_eq!(a, want, "phase, stride {stride}, {groups} groups");
        let scale = (2 / groups) as f64 * 3.0 * 5.0;
        let bound = winograd::error_bound::<f64>(&g, scale);
        for (p, q) in b.iter().zip(&want) {
            assert!(
                (p - q).abs() <= bound,
                "winograd, stride {stride}: {p} vs {q}"
            );
        }
        // the layer: the kernel's bits
        let opts = convmat::geometry::ConvOptions {
            stride: vec![stride],
            padding: 1.into(),
            groups,
            padding_mode: convmat::geometry::PaddingMode::Reflect,
            ..Default::default()
        };
        let xa = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[2, 2, 7, 9]), x).unwrap();
        let wa = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&g.weight_shape()), w).unwrap();
        let method = convmat::functional::ConvMethod::Winograd;
        let build = convmat::sparse::BuildOptions::default();
        let y = convmat::functional::conv(xa.view(), wa.view(), None, &opts, method, &build);
        assert_eq!(
            y.unwrap().as_slice().unwrap(),
            &b[..],
            "the layer, stride {stride}"
        );
    }
}

#[test]
fn the_transposed_phases_and_the_layer_writing_into_capacity() {
    // the shifted GEMM (five channels of y), the phases reading y directly (two),
    // and a reflected border (folded back: col2im); integer data, so every sum is
    // exact; through the layer (zero padding), the phases write its output into
    // the array's capacity, not yet initialised (each task's part zeroed, then
    // its outputs)
    for (cout, mode) in [
        (5, convmat::geometry::PaddingMode::Zeros),
        (2, convmat::geometry::PaddingMode::Zeros),
        (5, convmat::geometry::PaddingMode::Reflect),
    ] {
        let g = ConvGeometry::builder(&[6, 8], &[4, 4])
            .channels(2, cout)
            .stride(&[2])
            .padding(1)
            .padding_mode(mode)
            .build()
            .unwrap();
        let (w, y) = integer_data(&g, 2 * g.rows());
        let (mut a, mut b) = (vec![0.0; 2 * g.cols()], vec![0.0; 2 * g.cols()]);
        phase::conv_transpose(&g, &y, &w, None, &mut a).unwrap();
        for (ys, xs) in y.chunks(g.rows()).zip(b.chunks_mut(g.cols())) {
            direct::conv_transpose(&g, ys, &w, None, xs).unwrap();
        }
        assert_eq!(a, b, "{cout} channels of y, {mode}");
        if mode != convmat::geometry::PaddingMode::Zeros {
            // (the layer is PyTorch's, zero padding only)
            continue;
        }
        let opts = convmat::geometry::ConvOptions {
            stride: vec![2],
            padding: 1.into(),
            ..Default::default()
        };
        let ya = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[2, cout, 3, 4]), y).unwrap();
        let wa = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&g.weight_shape()), w).unwrap();
        let method = convmat::functional::ConvTransposeMethod::Phase;
        let build = convmat::sparse::BuildOptions::default();
        let x =
            convmat::functional::conv_transpose(ya.view(), wa.view(), None, &opts, method, &build);
        assert_eq!(
            x.unwrap().as_slice().unwrap(),
            &a[..],
            "the layer, {cout}, {mode}"
        );
    }
}

#[test]
fn the_transposed_winograd_and_the_layer_writing_into_capacity() {
    // a 4 × 4, stride-2 layer (rows of 2 and 3 tiles, phases of unequal length
    // with output padding): the split, the per-vector transforms and the shifted
    // GEMM; through the layer it writes into the array's capacity, not yet
    // initialised (each task's part zeroed, then its outputs); integer data,
    // within the bound of the scatter's exact sums
    let t = convmat::geometry::ConvTransposeGeometry::builder(&[3, 5], &[4, 4])
        .channels(3, 2)
        .stride(&[2])
        .padding(1)
        .output_padding(&[1, 0])
        .build()
        .unwrap();
    let g = t.conv();
    let (w, y) = integer_data(g, 2 * g.rows());
    let (mut a, mut b) = (vec![0.0; 2 * g.cols()], vec![0.0; 2 * g.cols()]);
    winograd_transpose::conv_transpose(g, &y, &w, None, &mut a).unwrap();
    for (ys, xs) in y.chunks(g.rows()).zip(b.chunks_mut(g.cols())) {
        direct::conv_transpose(g, ys, &w, None, xs).unwrap();
    }
    // 3 channels of y, |w| ≤ 3, |y| ≤ 5
    let bound = winograd_transpose::error_bound::<f64>(g, 3.0 * 15.0);
    assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= bound));
    let opts = convmat::geometry::ConvOptions {
        stride: vec![2],
        padding: 1.into(),
        output_padding: vec![1, 0],
        ..Default::default()
    };
    let ya = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[2, 3, 3, 5]), y).unwrap();
    let wa = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&t.weight_shape()), w).unwrap();
    let method = convmat::functional::ConvTransposeMethod::Winograd;
    let build = convmat::sparse::BuildOptions::default();
    let x = convmat::functional::conv_transpose(ya.view(), wa.view(), None, &opts, method, &build);
    assert_eq!(x.unwrap().as_slice().unwrap(), &a[..]);
}

#[test]
fn a_single_image_cut_into_pieces_writing_into_capacity() {
    // one image on two threads: each thread writes its piece of the 32 channels
    // of x (16 each) into the layer's capacity, not yet initialised, for the
    // phases (five channels of y: the shifted GEMM; two: reading y directly)
    // and the transposed Winograd; integer data, so the phases' sums are exact
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let opts = convmat::geometry::ConvOptions {
        stride: vec![2],
        padding: 1.into(),
        ..Default::default()
    };
    let build = convmat::sparse::BuildOptions::default();
    for (cy, method) in [
        (5, convmat::functional::ConvTransposeMethod::Phase),
        (2, convmat::functional::ConvTransposeMethod::Phase),
        (5, convmat::functional::ConvTransposeMethod::Winograd),
    ] {
        let t = convmat::geometry::ConvTransposeGeometry::builder(&[2, 3], &[4, 4])
            .channels(cy, 32)
            .stride(&[2])
            .padding(1)
            .build()
            .unwrap();
        let g = t.conv();
        let (w, y) = integer_data(g, g.rows());
        let mut direct_x = vec![0.0; g.cols()];
        direct::conv_transpose(g, &y, &w, None, &mut direct_x).unwrap();
        let ya = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[1, cy, 2, 3]), y).unwrap();
        let wa = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&t.weight_shape()), w).unwrap();
        let x = two.install(|| {
            convmat::functional::conv_transpose(ya.view(), wa.view(), None, &opts, method, &build)
        });
        let x = x.unwrap();
        let bound = match method {
            // |w| ≤ 3, |y| ≤ 5 over the channels of y
            convmat::functional::ConvTransposeMethod::Winograd => {
                winograd_transpose::error_bound::<f64>(g, cy as f64 * 15.0)
            }
            _ => 0.0,
        };
        let got = x.as_slice().unwrap();
        assert!(
            got.iter()
                .zip(&direct_x)
                .all(|(p, q)| (p - q).abs() <= bound),
            "{} channels of y, {}",
            cy,
            method.name()
        );
    }
}
