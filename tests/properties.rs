//! Properties over random geometries of rank 1–3 (groups, stride, padding including
//! `same`/`valid`, dilation, output padding, bias, batch, f32 and f64):
//! - the sparse matrix and the direct loops agree, exactly for integer-valued data;
//! - the adjoint identity ⟨C·x, y⟩ = ⟨x, Cᵀ·y⟩ holds to a tolerance scaled from ε;
//! - the predicted nnz equals the built nnz and the count of in-bounds taps;
//! - transposed convolution by scattering equals Cᵀ·y, col2im, zero insertion and phases;
//! - im2col + GEMM and the phase decomposition equal the direct loops (and, transposed,
//!   the scatter) exactly on integer data; unfold and fold are adjoint.

use convmat::geometry::{ConvGeometry, ConvTransposeGeometry, Padding};
use convmat::kernels::{direct, im2col, phase, unfold, zero_insert};
use convmat::simd::{set_simd_level, simd_level, SimdLevel};
use convmat::sparse::ConvMatrix;
use convmat::Real;
use proptest::prelude::*;

mod common;
use common::{pseudo_random, pseudo_random_ints};

#[derive(Debug, Clone)]
struct Spec {
    input: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    dilation: Vec<usize>,
    output_padding: Vec<usize>,
    mode: u8, // 0 explicit, 1 same, 2 valid
    groups: usize,
    cin_g: usize,
    cout_g: usize,
    batch: usize,
    bias: bool,
    seed: u64,
}

fn dim() -> impl Strategy<Value = (usize, usize, usize, usize, usize, usize)> {
    // (kernel, dilation, stride, padding, extra input, output-padding seed)
    (
        1usize..=4,
        1usize..=3,
        1usize..=3,
        0usize..=3,
        0usize..=6,
        0usize..=5,
    )
}

fn spec() -> impl Strategy<Value = Spec> {
    (1usize..=3)
        .prop_flat_map(|rank| {
            (
                prop::collection::vec(dim(), rank),
                0u8..=2,
                1usize..=3,
                1usize..=2,
                1usize..=2,
                1usize..=2,
                any::<bool>(),
                any::<u64>(),
            )
        })
        .prop_map(|(dims, mode, groups, cin_g, cout_g, batch, bias, seed)| {
            let strided = dims.iter().any(|d| d.2 > 1);
            let mode = if mode == 1 && strided { 0 } else { mode };
            let mut s = Spec {
                input: vec![],
                kernel: vec![],
                stride: vec![],
                padding: vec![],
                dilation: vec![],
                output_padding: vec![],
                mode,
                groups,
                cin_g,
                cout_g,
                batch,
                bias,
                seed,
            };
            for (k, d, st, p, extra, op) in dims {
                let span = d * (k - 1) + 1;
                let pad = if mode == 0 { p } else { 0 };
                // smallest input that the padded kernel fits, plus some
                s.input.push(span.saturating_sub(2 * pad).max(1) + extra);
                s.kernel.push(k);
                s.dilation.push(d);
                s.stride.push(st);
                s.padding.push(p);
                s.output_padding.push(op % st.max(d));
            }
            s
        })
}

impl Spec {
    fn conv(&self) -> ConvGeometry {
        let padding = match self.mode {
            0 => Padding::Explicit(self.padding.clone()),
            1 => Padding::Same,
            _ => Padding::Valid,
        };
        ConvGeometry::builder(&self.input, &self.kernel)
            .channels(self.groups * self.cin_g, self.groups * self.cout_g)
            .groups(self.groups)
            .stride(&self.stride)
            .padding(padding)
            .dilation(&self.dilation)
            .build()
            .expect("strategy makes valid geometries")
    }

    /// A transposed convolution whose y has this spec's input size.
    fn transposed(&self) -> Option<ConvTransposeGeometry> {
        ConvTransposeGeometry::builder(&self.input, &self.kernel)
            .channels(self.groups * self.cout_g, self.groups * self.cin_g)
            .groups(self.groups)
            .stride(&self.stride)
            .padding(self.padding.clone())
            .dilation(&self.dilation)
            .output_padding(&self.output_padding)
            .build()
            .ok() // large padding can make the output empty: a valid refusal
    }
}

fn dot<T: Real>(a: &[T], b: &[T]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x.as_f64() * y.as_f64()).sum()
}

fn sparse_equals_direct_exactly<T: Real>(s: &Spec) {
    let g = s.conv();
    let w = pseudo_random_ints::<T>(g.weight_shape().iter().product(), s.seed);
    let x = pseudo_random_ints::<T>(s.batch * g.cols(), s.seed ^ 1);
    let b = s
        .bias
        .then(|| pseudo_random_ints::<T>(g.out_channels(), s.seed ^ 2));
    let mut y_direct = vec![T::zero(); s.batch * g.rows()];
    direct::conv(&g, &x, &w, b.as_deref(), &mut y_direct).unwrap();
    let c = ConvMatrix::<T>::build(&g, &w).unwrap();
    let mut y_sparse = vec![T::zero(); s.batch * g.rows()];
    c.mul_vec(&x, &mut y_sparse).unwrap();
    if let Some(b) = &b {
        for (i, v) in y_sparse.iter_mut().enumerate() {
            *v += b[(i / g.output_numel()) % g.out_channels()];
        }
    }
    assert_eq!(y_direct, y_sparse, "{g:?}");
    let mut y_im2col = vec![T::zero(); s.batch * g.rows()];
    im2col::conv(&g, &x, &w, b.as_deref(), &mut y_im2col).unwrap();
    assert_eq!(y_direct, y_im2col, "im2col {g:?}");
    let mut y_phase = vec![T::zero(); s.batch * g.rows()];
    phase::conv(&g, &x, &w, b.as_deref(), &mut y_phase).unwrap();
    assert_eq!(y_direct, y_phase, "phase {g:?}");
}

fn transposed_scatter_equals_sparse_exactly<T: Real>(s: &Spec) {
    let Some(t) = s.transposed() else { return };
    let g = t.conv();
    let w = pseudo_random_ints::<T>(t.weight_shape().iter().product(), s.seed);
    let y = pseudo_random_ints::<T>(s.batch * g.rows(), s.seed ^ 3);
    let b = s
        .bias
        .then(|| pseudo_random_ints::<T>(g.in_channels(), s.seed ^ 4));
    let mut x_scatter = vec![T::zero(); s.batch * g.cols()];
    direct::conv_transpose(g, &y, &w, b.as_deref(), &mut x_scatter).unwrap();
    for (name, f) in [
        ("col2im", im2col::conv_transpose::<T> as Kernel<T>),
        ("zero-insert", zero_insert::conv_transpose::<T> as Kernel<T>),
        ("phase", phase::conv_transpose::<T> as Kernel<T>),
    ] {
        let mut x_other = vec![T::zero(); s.batch * g.cols()];
        f(g, &y, &w, b.as_deref(), &mut x_other).unwrap();
        assert_eq!(x_scatter, x_other, "{name} {t:?}");
    }
    // without bias, the explicit matrix
    let mut x_scatter = vec![T::zero(); s.batch * g.cols()];
    direct::conv_transpose(g, &y, &w, None, &mut x_scatter).unwrap();
    let c = ConvMatrix::<T>::build(g, &w).unwrap();
    let mut x_sparse = vec![T::zero(); s.batch * g.cols()];
    c.mul_transpose(&y, &mut x_sparse).unwrap();
    assert_eq!(x_scatter, x_sparse, "{t:?}");
    // and the explicit Cᵀ gives the same product
    let mut x_explicit = vec![T::zero(); s.batch * g.cols()];
    c.transpose().mul_vec(&y, &mut x_explicit).unwrap();
    assert_eq!(x_scatter, x_explicit);
}

fn phases_equal_the_scatter<T: Real>(s: &Spec) {
    let Some(t) = s.transposed() else { return };
    let g = t.conv();
    let w = pseudo_random_ints::<T>(t.weight_shape().iter().product(), s.seed);
    let y = pseudo_random_ints::<T>(s.batch * g.rows(), s.seed ^ 5);
    let b = s
        .bias
        .then(|| pseudo_random_ints::<T>(g.in_channels(), s.seed ^ 6));
    let (mut a, mut p) = (
        vec![T::zero(); s.batch * g.cols()],
        vec![T::zero(); s.batch * g.cols()],
    );
    direct::conv_transpose(g, &y, &w, b.as_deref(), &mut a).unwrap();
    phase::conv_transpose(g, &y, &w, b.as_deref(), &mut p).unwrap();
    assert_eq!(a, p, "phase {t:?}");
}

type Kernel<T> =
    fn(&ConvGeometry, &[T], &[T], Option<&[T]>, &mut [T]) -> Result<(), convmat::GeometryError>;

fn unfold_and_fold_are_adjoint_exactly<T: Real>(s: &Spec) {
    let g = s.conv();
    let x = pseudo_random_ints::<T>(s.batch * g.cols(), s.seed ^ 7);
    let per_item = g.in_channels() * g.kernel_numel() * g.output_numel();
    let c = pseudo_random_ints::<T>(s.batch * per_item, s.seed ^ 8);
    // NaN first: unfold writes every entry (zero where a tap reads the padding)
    let mut ux = vec![T::nan(); s.batch * per_item];
    unfold::unfold(&g, &x, &mut ux).unwrap();
    let mut fc = vec![T::zero(); s.batch * g.cols()];
    unfold::fold(&g, &c, &mut fc).unwrap();
    assert_eq!(dot(&ux, &c), dot(&x, &fc), "{g:?}");
}

fn adjoint_identity_holds<T: Real>(s: &Spec) {
    let g = s.conv();
    let w = pseudo_random::<T>(g.weight_shape().iter().product(), s.seed);
    let x = pseudo_random::<T>(g.cols(), s.seed ^ 5);
    let y = pseudo_random::<T>(g.rows(), s.seed ^ 6);
    let c = ConvMatrix::<T>::build(&g, &w).unwrap();
    // matrix and matrix-free operators both
    let mut cx = vec![T::zero(); g.rows()];
    let mut cty = vec![T::zero(); g.cols()];
    let mut cx_direct = vec![T::zero(); g.rows()];
    let mut cty_direct = vec![T::zero(); g.cols()];
    c.mul_vec(&x, &mut cx).unwrap();
    c.mul_transpose(&y, &mut cty).unwrap();
    direct::conv(&g, &x, &w, None, &mut cx_direct).unwrap();
    direct::conv_transpose(&g, &y, &w, None, &mut cty_direct).unwrap();
    // |⟨Cx,y⟩ − ⟨x,Cᵀy⟩| ≤ γ·Σ|C_ij x_j y_i|, γ = ε·(terms per dot product + 2)
    let abs_c: Vec<T> = w.iter().map(|v| v.abs()).collect();
    let abs_x: Vec<T> = x.iter().map(|v| v.abs()).collect();
    let mut cabs_x = vec![T::zero(); g.rows()];
    ConvMatrix::<T>::build(&g, &abs_c)
        .unwrap()
        .mul_vec(&abs_x, &mut cabs_x)
        .unwrap();
    let scale = dot(&cabs_x, &y.iter().map(|v| v.abs()).collect::<Vec<_>>());
    let gamma = T::epsilon().as_f64() * (g.rows() + g.cols() + c.nnz() + 2) as f64;
    for (cx, cty) in [(&cx, &cty), (&cx_direct, &cty_direct)] {
        let mismatch = (dot(cx, &y) - dot(&x, cty)).abs();
        assert!(
            mismatch <= gamma * scale,
            "mismatch {mismatch:e} > {:e} for {g:?}",
            gamma * scale
        );
    }
}

fn nnz_predicted_equals_built(s: &Spec) {
    let g = s.conv();
    let c =
        ConvMatrix::<f32, u32>::build(&g, &vec![1.0; g.weight_shape().iter().product()]).unwrap();
    assert_eq!(g.nnz(), c.nnz() as u128);
    let mut taps = 0u128;
    g.for_each_output(|_, out| g.for_each_tap(out, |_, _| taps += 1));
    assert_eq!(
        g.nnz(),
        taps * (g.out_channels() * g.in_channels_per_group()) as u128
    );
}

proptest! {
    // 500 cases per run; PROPTEST_CASES=N asks for more (a long local search)
    #![proptest_config(ProptestConfig::with_cases(common::proptest_cases()))]

    #[test]
    fn sparse_and_direct_conv_agree_exactly_on_integers(s in spec()) {
        sparse_equals_direct_exactly::<f32>(&s);
        sparse_equals_direct_exactly::<f64>(&s);
    }

    #[test]
    fn scatter_and_sparse_transposed_conv_agree_exactly_on_integers(s in spec()) {
        transposed_scatter_equals_sparse_exactly::<f32>(&s);
        transposed_scatter_equals_sparse_exactly::<f64>(&s);
    }

    #[test]
    fn phases_with_many_channels_equal_the_scatter_exactly_on_integers(s in spec()) {
        // 5–7 channels of y per group: the phases through the shifted GEMM (up to
        // 4 they read y directly, as every case above does)
        let s = Spec { cout_g: 5 + (s.seed % 3) as usize, ..s };
        phases_equal_the_scatter::<f32>(&s);
        phases_equal_the_scatter::<f64>(&s);
    }

    #[test]
    fn adjoint_identity_holds_for_matrix_and_direct_kernels(s in spec()) {
        adjoint_identity_holds::<f32>(&s);
        adjoint_identity_holds::<f64>(&s);
    }

    #[test]
    fn unfold_and_fold_are_adjoint(s in spec()) {
        unfold_and_fold_are_adjoint_exactly::<f32>(&s);
        unfold_and_fold_are_adjoint_exactly::<f64>(&s);
    }

    #[test]
    fn predicted_nnz_equals_built_nnz(s in spec()) {
        nnz_predicted_equals_built(&s);
    }
}

/// Cases proptest once found, kept so they run every time.
#[test]
fn regression_output_padding_beyond_stride_with_groups() {
    let s = Spec {
        input: vec![2, 1],
        kernel: vec![1, 1],
        stride: vec![1, 1],
        padding: vec![0, 0],
        dilation: vec![1, 3],
        output_padding: vec![0, 1],
        mode: 0,
        groups: 2,
        cin_g: 1,
        cout_g: 1,
        batch: 1,
        bias: false,
        seed: 1683719247182896628,
    };
    transposed_scatter_equals_sparse_exactly::<f32>(&s);
    transposed_scatter_equals_sparse_exactly::<f64>(&s);
}

#[test]
fn phases_equal_the_direct_loops_across_many_product_tiles() {
    // 300² outputs of 9 channels: the shifted GEMM's product tiles cover them in
    // dozens of steps, each copied out across the rows it meets
    let t = ConvTransposeGeometry::builder(&[150, 150], &[4, 4])
        .channels(9, 3)
        .stride(&[2])
        .padding(1)
        .build()
        .unwrap();
    let g = t.conv();
    let y = pseudo_random_ints::<f32>(g.rows(), 11);
    let w = pseudo_random_ints::<f32>(9 * 3 * 16, 12);
    let bias = [2.0, -1.0, 3.0];
    let (mut a, mut b) = (vec![0.0; g.cols()], vec![0.0; g.cols()]);
    direct::conv_transpose(g, &y, &w, Some(&bias), &mut a).unwrap();
    phase::conv_transpose(g, &y, &w, Some(&bias), &mut b).unwrap();
    assert_eq!(a, b);
    // and the forward convolution of that geometry (3 → 9 channels, stride 2)
    let x = pseudo_random_ints::<f32>(g.cols(), 13);
    let bias9: Vec<f32> = (0..9).map(|v| v as f32).collect();
    let (mut c, mut d) = (vec![0.0; g.rows()], vec![0.0; g.rows()]);
    direct::conv(g, &x, &w, Some(&bias9), &mut c).unwrap();
    phase::conv(g, &x, &w, Some(&bias9), &mut d).unwrap();
    assert_eq!(c, d);
}

#[test]
fn a_stride_far_past_the_input_is_refused_by_phase_and_auto_runs_the_loops() {
    use convmat::kernels::{ConvMethod, ConvTransposeMethod};
    // a transposed convolution of a 1×1 y with stride 10⁴ would have 10⁸ phases
    let t = ConvTransposeGeometry::builder(&[1, 1], &[3, 3])
        .channels(2, 1)
        .stride(&[10_000])
        .build()
        .unwrap();
    let g = t.conv();
    let w = pseudo_random_ints::<f32>(t.weight_shape().iter().product(), 3);
    let y = pseudo_random_ints::<f32>(g.rows(), 4);
    let mut x = vec![0.0; g.cols()];
    let e = phase::conv_transpose(g, &y, &w, None, &mut x).unwrap_err();
    assert!(e.to_string().contains("at most 4096 stride phases"), "{e}");
    assert_eq!(
        ConvTransposeMethod::Auto.resolve(g),
        ConvTransposeMethod::Scatter
    );
    // a 3-D convolution with stride 10⁵: 10¹⁵ phases
    let f = ConvGeometry::builder(&[3, 3, 3], &[3, 3, 3])
        .channels(8, 8)
        .stride(&[100_000])
        .build()
        .unwrap();
    let xf = pseudo_random_ints::<f32>(f.cols(), 5);
    let wf = pseudo_random_ints::<f32>(f.weight_shape().iter().product(), 6);
    let mut yf = vec![0.0; f.rows()];
    assert!(phase::conv(&f, &xf, &wf, None, &mut yf).is_err());
    assert_eq!(ConvMethod::Auto.resolve(&f), ConvMethod::Im2col);
}

#[test]
fn phases_equal_the_direct_loops_over_several_blocks_of_channels() {
    // strided, so the last dimension's taps are pre-shifted and the product is
    // written in place a block of input channels at a time: 60 channels per group
    // of 3 × 3 taps are four blocks in f32 at AVX-512 (of 2 × 3 taps three, of 3
    // taps two; blocks are larger at the other levels), the bias rides on the last;
    // three items and two groups make six tasks, each fetching the next one's
    // first block. Every level the machine has (integer data: all exact).
    let before = simd_level();
    for level in SimdLevel::available() {
        set_simd_level(level).unwrap();
        several_blocks_at_this_level();
    }
    set_simd_level(before).unwrap();
}

fn several_blocks_at_this_level() {
    for (input, kernel, stride) in [
        (&[13usize, 11][..], &[3usize, 3][..], &[2usize][..]),
        (&[9, 30], &[2, 3], &[1, 2]),
        (&[61], &[3], &[2]),
        (&[61], &[1], &[3]),
    ] {
        let g = ConvGeometry::builder(input, kernel)
            .channels(120, 6)
            .groups(2)
            .stride(stride)
            .padding(1)
            .build()
            .unwrap();
        let bias: Vec<f32> = (0..6).map(|v| v as f32 - 2.0).collect();
        phases_equal_the_direct_loops_in_f32_and_f64(&g, 3, &bias, (21, 22));
    }
}

/// `phase::conv` equals `direct::conv` exactly on integer data of `batch` items
/// (seeds for the input and the weights), in f32 and f64, without and with `bias`.
fn phases_equal_the_direct_loops_in_f32_and_f64(
    g: &ConvGeometry,
    batch: usize,
    bias: &[f32],
    (seed_x, seed_w): (u64, u64),
) {
    let x = pseudo_random_ints::<f32>(batch * g.cols(), seed_x);
    let w = pseudo_random_ints::<f32>(g.weight_shape().iter().product(), seed_w);
    for b in [None, Some(bias)] {
        let (mut want, mut got) = (vec![0.0; batch * g.rows()], vec![0.0; batch * g.rows()]);
        direct::conv(g, &x, &w, b, &mut want).unwrap();
        phase::conv(g, &x, &w, b, &mut got).unwrap();
        assert_eq!(want, got, "{g:?} bias {}", b.is_some());
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let w64: Vec<f64> = w.iter().map(|&v| v as f64).collect();
        let b64: Option<Vec<f64>> = b.map(|b| b.iter().map(|&v| v as f64).collect());
        let (mut want, mut got) = (vec![0.0; batch * g.rows()], vec![0.0; batch * g.rows()]);
        direct::conv(g, &x64, &w64, b64.as_deref(), &mut want).unwrap();
        phase::conv(g, &x64, &w64, b64.as_deref(), &mut got).unwrap();
        assert_eq!(want, got, "f64 {g:?} bias {}", b.is_some());
    }
}

#[test]
fn phases_write_outputs_too_large_for_the_cache_a_band_of_rows_at_a_time() {
    // a group's output planes above 512 KiB (64 channels of 50 × 45 in f32, 576
    // KiB; twice that in f64) are written a band of output rows at a time, each
    // band's components split for every input channel: bands of 45 and 5 rows in
    // f32, 22, 22 and 6 in f64; a stride of 1 down the columns reaches two rows
    // past a band (four with dilation 2); the reflected border read per band.
    // Every level the machine has, integer data: exact.
    use convmat::geometry::PaddingMode;
    let before = simd_level();
    for level in SimdLevel::available() {
        set_simd_level(level).unwrap();
        for (input, stride, dilation, mode) in [
            ([100, 90], [2, 2], [1, 1], PaddingMode::Zeros),
            ([50, 90], [1, 2], [1, 1], PaddingMode::Reflect),
            ([54, 90], [1, 2], [2, 1], PaddingMode::Replicate),
        ] {
            let g = ConvGeometry::builder(&input, &[3, 3])
                .channels(12, 128)
                .groups(2)
                .stride(&stride)
                .dilation(&dilation)
                .padding(1)
                .padding_mode(mode)
                .build()
                .unwrap();
            assert_eq!(g.output_size()[1], 45, "{g:?}");
            let bias: Vec<f32> = (0..128).map(|v| (v % 7) as f32 - 3.0).collect();
            phases_equal_the_direct_loops_in_f32_and_f64(&g, 1, &bias, (31, 32));
        }
    }
    set_simd_level(before).unwrap();
}
