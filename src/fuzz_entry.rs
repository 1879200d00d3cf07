//! Entry points for the fuzzers in `fuzz/` and for `tests/fuzz_corpus.rs`, which
//! replays their corpora on the stable toolchain: each takes arbitrary bytes and
//! must return without panicking, aborting or allocating past the memory budget
//! (errors are fine). Not a stable API.

use crate::geometry::{
    AvgPoolGeometry, ConvGeometry, ConvTransposeGeometry, Padding, PaddingMode, PoolGeometry,
    ResizeGeometry, ResizeMode, UnpoolGeometry,
};
use crate::kernels::direct;
use crate::sparse::ConvMatrix;
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
