//! Entry points for the fuzzers in `fuzz/` and for `tests/fuzz_corpus.rs`, which
//! replays their corpora on the stable toolchain: each takes arbitrary bytes and
//! must return without panicking, aborting or allocating past the memory budget
//! (errors are fine). Not a stable API.

use crate::error::GeometryError;
use crate::functional::{self, ConvMethod, ConvTransposeMethod};
use crate::geometry::ConvOptions;
use crate::geometry::{
    AvgPoolGeometry, ConvGeometry, ConvTransposeGeometry, Padding, PaddingMode, PoolGeometry,
    ResizeGeometry, ResizeMode, UnpoolGeometry,
};
use crate::kernels::{direct, winograd, winograd_transpose};
use crate::simd::{set_simd_level, SimdLevel};
use crate::sparse::BuildOptions;
use crate::sparse::ConvMatrix;
use crate::Real;
use ndarray::{ArrayD, IxDyn};
use std::path::Path;

/// Predicted stored entries up to which a fuzzed geometry also builds and applies C.
const BUILD_LIMIT: u128 = 20_000;

/// `.npy` bytes, read as a tensor and as int64 indices.
pub fn npy(data: &[u8]) {
    let path = Path::new("fuzz.npy");
    let _ = crate::io::npy::tensor_from_bytes(data, path);
    let _ = crate::io::npy::npy_from_bytes::<i64>(data, path);
}

/// MatrixMarket text (bytes taken as UTF-8, invalid sequences replaced).
pub fn matrix_market(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(a) = crate::io::mtx::read::<f64>(&text, "fuzz.mtx") {
        // whatever was read is a valid matrix: it multiplies (where x fits in memory)
        if a.ncols() > 0 && a.ncols() <= 1 << 20 {
            let mut y = vec![0.0; a.nrows()];
            let _ = a.mul_vec(&vec![1.0; a.ncols()], &mut y);
        }
    }
}

/// PNG (or any image) bytes, decoded as greyscale.
pub fn png(data: &[u8]) {
    let _ = crate::io::png::decode_gray(data, Path::new("fuzz.png"));
}

/// Small integers from bytes: each call takes the next byte modulo `m` (1 once the
/// bytes run out), or with a marker byte a large value to reach the overflow paths.
struct Numbers<'a> {
    data: std::slice::Iter<'a, u8>,
}

impl Numbers<'_> {
    fn next(&mut self, m: usize) -> usize {
        match self.data.next() {
            None => 1,
            // 0xff: a large number from the next four bytes
            Some(0xff) => {
                let mut v = 0usize;
                for _ in 0..4 {
                    v = (v << 8) | *self.data.next().unwrap_or(&0) as usize;
                }
                v
            }
            Some(&b) => b as usize % m,
        }
    }
    /// One of `m` choices (the large-number marker reduced too).
    fn pick(&mut self, m: usize) -> usize {
        self.next(m) % m
    }
    fn list(&mut self, rank: usize, m: usize) -> Vec<usize> {
        (0..rank).map(|_| self.next(m)).collect()
    }
}

/// Every geometry builder from arbitrary integers (convolution, transposed
/// convolution, pooling, unpooling, resizing, average pooling); a valid small convolution is also
/// built as C and applied, matrix and direct loops.
pub fn geometry(data: &[u8]) {
    let mut n = Numbers { data: data.iter() };
    let rank = 1 + n.pick(3);
    let input = n.list(rank, 40);
    let kernel = n.list(rank, 8);
    let stride = n.list(rank, 5);
    let dilation = n.list(rank, 4);
    let padding = n.list(rank, 6);
    let (cin, cout, groups) = (n.next(5), n.next(5), n.next(4));
    let output_padding = n.list(rank, 4);
    let padding_mode = match n.pick(3) {
        0 => Padding::Same,
        1 => Padding::Valid,
        _ => Padding::Explicit(padding.clone()),
    };
    let boundary = PaddingMode::ALL[n.pick(PaddingMode::ALL.len())];
    if let Ok(g) = ConvGeometry::builder(&input, &kernel)
        .channels(cin, cout)
        .groups(groups)
        .stride(&stride)
        .padding(padding_mode)
        .dilation(&dilation)
        .padding_mode(boundary)
        .build()
    {
        let _ = (g.output_size(), g.nnz(), g.weight_shape());
        let weights: usize = g.weight_shape().iter().product();
        let small = [g.cols(), g.rows(), weights]
            .iter()
            .all(|&n| n as u128 <= BUILD_LIMIT);
        if g.nnz() <= BUILD_LIMIT && small {
            let w = vec![1.0f64; weights];
            if let Ok(c) = ConvMatrix::<f64>::build(&g, &w) {
                let x = vec![1.0; g.cols()];
                let (mut y, mut z) = (vec![0.0; g.rows()], vec![0.0; g.rows()]);
                let _ = c.mul_vec(&x, &mut y);
                let _ = direct::conv(&g, &x, &w, None, &mut z);
                assert_eq!(y, z, "C·x and the direct loops disagree on ones");
            }
        }
    }
    let _ = ConvTransposeGeometry::builder(&input, &kernel)
        .channels(cin, cout)
        .groups(groups)
        .stride(&stride)
        .padding(padding)
        .dilation(&dilation)
        .output_padding(&output_padding)
        .build()
        .map(|t| (t.output_shape(), t.conv().nnz()));
    let pool_padding = n.list(rank, 4);
    let _ = PoolGeometry::builder(&input, &kernel)
        .stride(&stride)
        .padding(&pool_padding)
        .dilation(&dilation)
        .ceil_mode(n.pick(2) == 1)
        .build()
        .map(|p| p.output_size().to_vec());
    let _ = UnpoolGeometry::builder(&input, &kernel)
        .stride(&stride)
        .padding(&pool_padding)
        .output_size(Some(&n.list(rank, 60)))
        .build();
    let mode = ResizeMode::ALL[n.pick(ResizeMode::ALL.len())];
    let builder = ResizeGeometry::builder(mode, &input);
    let builder = if n.pick(2) == 0 {
        builder.size(&n.list(rank, 80))
    } else {
        // factors in sixteenths, and now and then not finite
        let factors: Vec<f64> = (0..rank)
            .map(|_| match n.pick(40) {
                0 => f64::NAN,
                1 => f64::INFINITY,
                k => k as f64 / 16.0,
            })
            .collect();
        builder.scale_factor(&factors)
    };
    let align = [None, Some(false), Some(true)][n.pick(3)];
    if let Ok(r) = builder.align_corners(align).build() {
        if r.output_numel() <= BUILD_LIMIT as usize && r.input_numel() <= BUILD_LIMIT as usize {
            let x = vec![1.0f64; r.input_numel()];
            let mut y = vec![0.0; r.output_numel()];
            let _ = crate::kernels::resize(&r, &x, &mut y);
        }
    }
    // average pooling: a small valid one is pooled directly and by its matrix A
    let divisor = [Some(0), None, Some(-3), Some(n.next(9) as i64)][n.pick(4)];
    if let Ok(a) = AvgPoolGeometry::builder(&input, &kernel)
        .stride(&stride)
        .padding(&pool_padding)
        .ceil_mode(n.pick(2) == 1)
        .count_include_pad(n.pick(2) == 0)
        .divisor_override(divisor)
        .build()
    {
        let small = [a.input_numel(), a.output_numel()]
            .iter()
            .all(|&n| n as u128 <= BUILD_LIMIT);
        if small && a.windows_numel() <= BUILD_LIMIT {
            let x = vec![1.0f64; a.input_numel()];
            let (mut y, mut z) = (vec![0.0; a.output_numel()], vec![0.0; a.output_numel()]);
            let _ = crate::kernels::avg_pool(&a, &x, &mut y);
            if let Ok(m) = crate::sparse::avg_pool_matrix::<f64>(&a, 1, &Default::default()) {
                let _ = m.mul_vec(&x, &mut z);
                for (u, v) in y.iter().zip(&z) {
                    assert!(
                        (u - v).abs() <= 1e-12 * u.abs().max(1.0),
                        "A·x {v} vs direct {u}"
                    );
                }
            }
        }
    }
}

/// Every convolution formulation, forward and transposed, on a small geometry
/// from arbitrary integers, at one of the SIMD levels the processor has, in f32
/// or f64, on integer data (and an integer bias now and then): each either
/// refuses with an error or agrees with the direct loops (in f64, exact) —
/// exactly where its sums are exact (the matrix, im2col/col2im, the phases, zero
/// insertion: integers, every sum below 2²⁴), Winograd within
/// [`winograd::error_bound`], the FFT within a loose sanity bound (`1e-3` of the
/// largest sum of magnitudes in f32, `1e-11` in f64; its derived bound is
/// `tests/fft.rs`'s property; asked only on grids of up to [`FFT_GRID_POINTS`]).
/// Sizes stay small (rank 1 up to 80, rank 2 up to 40, rank 3 up to 12 per
/// dimension; up to 12 channels a group, 3 groups, 2 items; now and then a
/// number past 2²⁴ from the large-number marker, for the refusals) but cross
/// every vector step and path limit of the kernels: this is where their unsafe
/// SIMD code meets arbitrary shapes under the sanitizer.
///
/// # Panics
/// When a formulation disagrees with the direct loops: that is a bug.
pub fn formulations(data: &[u8]) {
    let mut n = Numbers { data: data.iter() };
    let rank = 1 + n.pick(3);
    let most = [80, 40, 12][rank - 1];
    let input = n.list(rank, most + 1);
    // 3 × 3 (× 3) half the time: Winograd's and the stride-2 paths' shape
    let kernel = if n.pick(2) == 0 {
        vec![3; rank]
    } else {
        n.list(rank, 6)
    };
    let stride = n.list(rank, 4);
    let dilation = n.list(rank, 3);
    let padding = match n.pick(3) {
        0 => Padding::Same,
        1 => Padding::Valid,
        _ => Padding::Explicit(n.list(rank, 4)),
    };
    let groups = 1 + n.pick(3);
    let (cin, cout) = (groups * (1 + n.pick(12)), groups * (1 + n.pick(12)));
    let batch = 1 + n.pick(2);
    let boundary = PaddingMode::ALL[n.pick(PaddingMode::ALL.len())];
    let output_padding = n.list(rank, 3);
    let levels = SimdLevel::available();
    let level = levels[n.pick(levels.len())];
    let (double, bias, seed) = (n.pick(2) == 1, n.pick(2) == 1, n.next(256) as u64);
    let forward = ConvOptions {
        stride: stride.clone(),
        padding: padding.clone(),
        dilation: dilation.clone(),
        groups,
        output_padding: vec![0; rank],
        padding_mode: boundary,
    };
    let transposed = ConvOptions {
        padding: Padding::Explicit(match &padding {
            Padding::Explicit(p) => p.clone(),
            _ => vec![0; rank],
        }),
        output_padding,
        padding_mode: PaddingMode::Zeros,
        ..forward.clone()
    };
    let shapes = Shapes {
        batch,
        cin,
        cout,
        input,
        kernel,
        seed,
        bias,
    };
    // the level is the process's: one call at a time switches it
    static LEVEL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LEVEL.lock().unwrap_or_else(|e| e.into_inner());
    let Ok(before) = set_simd_level(level) else {
        return;
    };
    if double {
        shapes.conv::<f64>(&forward);
        shapes.conv_transpose::<f64>(&transposed);
    } else {
        shapes.conv::<f32>(&forward);
        shapes.conv_transpose::<f32>(&transposed);
    }
    let _ = set_simd_level(before);
}

/// The tensors' shapes and data of [`formulations`].
struct Shapes {
    batch: usize,
    cin: usize,
    cout: usize,
    input: Vec<usize>,
    kernel: Vec<usize>,
    seed: u64,
    bias: bool,
}

/// Products a fuzzed call may make at most (each formulation, and the reference).
const FORMULATION_WORK: usize = 1 << 21;

impl Shapes {
    /// Integers in −3 ..= 3 (a xorshift of the seed and `salt`), as `T`.
    fn ints<T: Real>(&self, len: usize, salt: u64) -> ArrayD<T> {
        let mut s = ((self.seed << 8 | salt).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1;
        let v = (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                T::from_f64((s % 7) as f64 - 3.0)
            })
            .collect();
        ArrayD::from_shape_vec(IxDyn(&[len]), v).expect("one dimension")
    }

    /// `[batch, channels, sizes…]`, filled by [`Shapes::ints`].
    fn tensor<T: Real>(&self, channels: usize, sizes: &[usize], salt: u64) -> ArrayD<T> {
        let shape: Vec<usize> = [self.batch, channels]
            .iter()
            .chain(sizes)
            .copied()
            .collect();
        self.ints(shape.iter().product(), salt)
            .into_shape_with_order(IxDyn(&shape))
            .expect("the shape's product")
    }

    /// The weight `[a, b, kernel…]` and the bias (`channels` values) if any.
    fn weights<T: Real>(
        &self,
        a: usize,
        b: usize,
        channels: usize,
    ) -> (ArrayD<T>, Option<ArrayD<T>>) {
        let shape: Vec<usize> = [a, b].iter().chain(&self.kernel).copied().collect();
        let w = self
            .ints(shape.iter().product(), 2)
            .into_shape_with_order(IxDyn(&shape))
            .expect("the shape's product");
        (w, self.bias.then(|| self.ints(channels, 3)))
    }

    fn conv<T: Real>(&self, opts: &ConvOptions) {
        let Ok(g) = ConvGeometry::for_tensors(
            &[[self.cin].as_slice(), &self.input].concat(),
            &[[self.cout, self.cin / opts.groups].as_slice(), &self.kernel].concat(),
            opts,
        ) else {
            return;
        };
        if !self.small(&g) {
            return;
        }
        let x = self.tensor::<T>(self.cin, &self.input, 1);
        let (w, b) = self.weights::<T>(self.cout, self.cin / opts.groups, self.cout);
        let build = BuildOptions::default();
        let run = |m| {
            functional::conv_with_method(
                x.view(),
                w.view(),
                b.as_ref().map(|b| b.view()),
                opts,
                m,
                &build,
            )
        };
        let want = self.exact(
            |x, w, b, out| direct::conv(&g, x, w, b, out),
            &x,
            &w,
            b.as_ref(),
            g.rows(),
        );
        use ConvMethod as M;
        for m in [
            M::Direct,
            M::Sparse,
            M::Im2col,
            M::Fft,
            M::Winograd,
            M::Phase,
            M::Auto,
        ] {
            if m == M::Fft && !small_grid(&g) {
                continue;
            }
            if let Ok((got, chosen)) = run(m) {
                let tol = match chosen {
                    M::Direct | M::Sparse | M::Im2col | M::Phase => 0.0,
                    M::Winograd => {
                        winograd::error_bound::<T>(&g, self.scale(&g)) + 3.0 * T::epsilon().as_f64()
                    }
                    M::Fft => self.fft_tolerance::<T>(&g),
                    M::Auto => unreachable!("resolved"),
                };
                agree(
                    &format!("conv by {} ({chosen:?})", m.name()),
                    &got,
                    &want,
                    tol,
                    &g,
                );
            }
        }
    }

    fn conv_transpose<T: Real>(&self, opts: &ConvOptions) {
        // the transposed layer's input has `cin` channels and its output `cout`
        let Ok(t) = crate::geometry::ConvTransposeGeometry::for_tensors(
            &[[self.cin].as_slice(), &self.input].concat(),
            &[[self.cin, self.cout / opts.groups].as_slice(), &self.kernel].concat(),
            opts,
        ) else {
            return;
        };
        let g = t.conv();
        if !self.small(g) {
            return;
        }
        let y = self.tensor::<T>(self.cin, &self.input, 1);
        let (w, b) = self.weights::<T>(self.cin, self.cout / opts.groups, self.cout);
        let build = BuildOptions::default();
        let run = |m| {
            functional::conv_transpose_with_method(
                y.view(),
                w.view(),
                b.as_ref().map(|b| b.view()),
                opts,
                m,
                &build,
            )
        };
        let want = self.exact(
            |y, w, b, out| direct::conv_transpose(g, y, w, b, out),
            &y,
            &w,
            b.as_ref(),
            g.cols(),
        );
        use ConvTransposeMethod as M;
        for m in [
            M::Scatter,
            M::Sparse,
            M::Col2im,
            M::ZeroInsert,
            M::Fft,
            M::Phase,
            M::Winograd,
            M::Auto,
        ] {
            if m == M::Fft && !small_grid(g) {
                continue;
            }
            if let Ok((got, chosen)) = run(m) {
                let tol = match chosen {
                    M::Scatter | M::Sparse | M::Col2im | M::ZeroInsert | M::Phase => 0.0,
                    M::Winograd => {
                        // Σ_o max|w|·max|y| over a group's channels of y
                        let scale = 9.0 * g.out_channels_per_group() as f64;
                        winograd_transpose::error_bound::<T>(g, scale) + 3.0 * T::epsilon().as_f64()
                    }
                    M::Fft => self.fft_tolerance::<T>(g),
                    M::Auto => unreachable!("resolved"),
                };
                agree(
                    &format!("conv_transpose by {} ({chosen:?})", m.name()),
                    &got,
                    &want,
                    tol,
                    g,
                );
            }
        }
    }

    /// Within [`FORMULATION_WORK`] products.
    fn small(&self, g: &ConvGeometry) -> bool {
        let products = [
            self.batch,
            g.rows(),
            g.in_channels_per_group(),
            g.kernel_numel(),
        ]
        .iter()
        .try_fold(1usize, |p, &d| p.checked_mul(d));
        let inputs = g.cols().checked_mul(self.batch);
        products.is_some_and(|p| p <= FORMULATION_WORK)
            && inputs.is_some_and(|n| n <= FORMULATION_WORK)
    }

    /// The reference: `direct` (a batch's worth of calls) in f64, exact on integers.
    fn exact<T: Real>(
        &self,
        direct: impl Fn(&[f64], &[f64], Option<&[f64]>, &mut [f64]) -> Result<(), GeometryError>,
        input: &ArrayD<T>,
        w: &ArrayD<T>,
        b: Option<&ArrayD<T>>,
        per_item: usize,
    ) -> Vec<f64> {
        let f = |a: &ArrayD<T>| a.iter().map(|v| v.as_f64()).collect::<Vec<f64>>();
        let (input, w, b) = (f(input), f(w), b.map(f));
        let mut out = vec![0.0; self.batch * per_item];
        direct(&input, &w, b.as_deref(), &mut out).expect("the geometry was built");
        out
    }

    /// `Σ_c max|w|·max|x|` over a group's input channels (Winograd's scale): at
    /// most 9 per channel.
    fn scale(&self, g: &ConvGeometry) -> f64 {
        9.0 * g.in_channels_per_group() as f64
    }

    /// The FFT's sanity bound: a fraction of the largest sum of magnitudes an
    /// output can have, forward or transposed (`9` per channel and tap, and the bias).
    fn fft_tolerance<T: Real>(&self, g: &ConvGeometry) -> f64 {
        let fraction = if T::epsilon().as_f64() > 1e-10 {
            1e-3
        } else {
            1e-11
        };
        let channels = g.in_channels_per_group().max(g.out_channels_per_group());
        fraction * (9.0 * (channels * g.kernel_numel()) as f64 + 3.0)
    }
}

/// Points of the FFT's grid up to which [`formulations`] asks for the FFT: its
/// grid spans the kernel's reach, and a dilation of 10⁷ (with `same` padding,
/// still a few outputs) makes a transform of 10⁸ points, within the memory
/// budget and correct, but minutes under the sanitizer.
const FFT_GRID_POINTS: usize = 1 << 20;

/// Whether the FFT's grid for `g` has at most [`FFT_GRID_POINTS`] points.
fn small_grid(g: &ConvGeometry) -> bool {
    crate::kernels::fft::fft_size(g).is_ok_and(|n| {
        n.iter()
            .try_fold(1usize, |p, &d| p.checked_mul(d))
            .is_some_and(|p| p <= FFT_GRID_POINTS)
    })
}

/// `got` equals `want` within `tol` everywhere.
fn agree<T: Real>(what: &str, got: &ArrayD<T>, want: &[f64], tol: f64, g: &ConvGeometry) {
    assert_eq!(got.len(), want.len(), "{what}: {g:?}");
    for (i, (a, &b)) in got.iter().zip(want).enumerate() {
        let e = (a.as_f64() - b).abs();
        assert!(e <= tol, "{what}: element {i} is {a}, the direct loops {b} (|error| {e:e} > {tol:e}) at {}: {g:?}", crate::simd::simd_level());
    }
}

/// A command line: the bytes split at NUL into arguments after `convmat`, parsed
/// and validated as the binary does (nothing is run).
pub fn cli_args(data: &[u8]) {
    let args = std::iter::once(std::ffi::OsString::from("convmat")).chain(
        data.split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned().into()),
    );
    let _ = crate::cli::parse(args);
}

/// A layer stack's JSON description (bytes taken as UTF-8); what parses is applied,
/// its adjoint too, and multiplied out within a small budget.
pub fn stack(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(s) = crate::stack::parse::<f64>(&text, Path::new("fuzz-stack-dir")) else {
        return;
    };
    if s.rows() > 1 << 16 || s.cols() > 1 << 16 {
        return;
    }
    if let Ok(op) = s.operator() {
        use crate::operator::LinearOperator;
        let (mut y, mut x) = (vec![0.0; s.rows()], vec![0.0; s.cols()]);
        let _ = op.apply(&vec![1.0; s.cols()], &mut y);
        let _ = op.apply_adjoint(&vec![1.0; s.rows()], &mut x);
    }
    let small = crate::sparse::BuildOptions {
        max_memory: Some(1 << 24),
    };
    let _ = s.matrix(&small);
}
