//! Tensor-level operations with PyTorch's calling conventions (`F.conv*d`,
//! `F.conv_transpose*d`, `F.avg_pool*d`, `F.pad`, …) on ndarray arrays, batched `(N, C, …)` or not `(C, …)`,
//! computed by the formulation you choose.

use crate::error::{Error, GeometryError};
use crate::geometry::{
    batched_shape, check_bias, ConvGeometry, ConvOptions, ConvTransposeGeometry,
};
use crate::kernels::{
    direct, fft, im2col, phase, unfold as patches, winograd, winograd_transpose, zero_insert,
};
use crate::sparse::{BuildOptions, ConvMatrix};
use crate::Real;
use ndarray::{ArrayD, ArrayViewD, IxDyn};

mod avg_pool;
mod pad;
mod resample;
mod shuffle;
pub use crate::kernels::{
    ConvMethod, ConvTransposeMethod, DIRECT_MAX_CHANNELS_PER_GROUP, FFT_AUTO_MAX_BYTES, FFT_MARGIN,
};
pub use avg_pool::{avg_pool, avg_pool_with, AvgPoolOptions, PoolMethod};
pub use pad::{pad, pad_with_options};
pub use resample::{
    adaptive_avg_pool, adaptive_avg_pool_with, interpolate, max_pool, max_unpool, unpool_geometry,
    InterpolateOptions, PoolOptions, UnpoolOptions,
};
pub use shuffle::{
    pixel_shuffle, pixel_shuffle_with, pixel_unshuffle, pixel_unshuffle_with, sub_pixel_weight,
};

/// The elements in row-major order: borrowed when the array already is, else copied.
fn contiguous<'a, T: Real>(a: &'a ArrayViewD<'_, T>) -> std::borrow::Cow<'a, [T]> {
    match a.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(a.iter().copied().collect()),
    }
}

fn check_bias_of<T: Real>(
    bias: Option<&ArrayViewD<'_, T>>,
    channels: usize,
) -> Result<Option<Vec<T>>, GeometryError> {
    bias.map(|b| check_bias(b.shape(), channels).map(|_| contiguous(b).into_owned()))
        .transpose()
}

/// A zeroed buffer for a result of `shape`, refused before allocating when it would
/// exceed the memory budget.
fn zeroed_output<T: Real>(shape: &[usize], build: &BuildOptions) -> Result<Vec<T>, Error> {
    let (mut v, elements) = output_capacity::<T>(shape, build)?;
    fill_zeros(&mut v, elements);
    Ok(v)
}

/// An empty buffer with room for a result of `shape` (refused before allocating
/// when it would exceed the memory budget), and the result's elements.
fn output_capacity<T: Real>(
    shape: &[usize],
    build: &BuildOptions,
) -> Result<(Vec<T>, usize), Error> {
    let elements: u128 = shape.iter().map(|&d| d as u128).product();
    let bytes = elements * std::mem::size_of::<T>() as u128;
    let budget = build.budget();
    let refuse = || Error::OutputTooLarge {
        what: "output",
        shape: crate::error::shape_str(shape),
        bytes,
        budget,
    };
    if bytes > budget as u128 {
        return Err(refuse());
    }
    let mut v = Vec::new();
    v.try_reserve_exact(elements as usize)
        .map_err(|_| refuse())?;
    Ok((v, elements as usize))
}

/// `v` (empty, with room for `elements`) made `elements` zeros.
fn fill_zeros<T: Real>(v: &mut Vec<T>, elements: usize) {
    debug_assert!(v.is_empty(), "fill_zeros: a buffer already holding values");
    // the zeros written on the threads, a part each: on one thread the 3.2 MB
    // output of `conv2d_s2_8x64x56_k3` took 0.1 ms, 3 – 4 % of the call on two
    // threads (`conv` by `phase` over the kernel alone, two threads, six
    // alternating runs: 1.033 – 1.061 before, 1.004 – 1.054 after). With one
    // thread, and for small outputs, on this thread: handed to the pool (an
    // element at a time, as `par_extend` wrote them) the zeros had made
    // `conv` by `winograd` 8 – 11 % slower than the kernel alone on one
    // thread, written here 1 – 3 % (three alternating runs each)
    let threads = rayon::current_num_threads();
    if elements < 1 << 16 || threads == 1 {
        v.resize(elements, T::zero());
        return;
    }
    use rayon::prelude::*;
    v.spare_capacity_mut()[..elements]
        .par_chunks_mut(elements.div_ceil(threads))
        .for_each(|part| part.fill(std::mem::MaybeUninit::new(T::zero())));
    // SAFETY: every value below `elements` is initialised: `v`'s own (none:
    // it is empty) and the first `elements` of its spare capacity (there,
    // as the slicing checked), written just now
    unsafe { v.set_len(elements) };
}

/// Output array shape: batched iff the input was.
fn output_array<T: Real>(
    batched: bool,
    batch: usize,
    item_shape: &[usize],
    data: Vec<T>,
) -> ArrayD<T> {
    let shape = if batched {
        batched_shape(batch, item_shape)
    } else {
        item_shape.to_vec()
    };
    ArrayD::from_shape_vec(IxDyn(&shape), data).expect("output length matches its shape")
}

/// `F.conv*d(input, weight, bias, stride, padding, dilation, groups)`, by `method`
/// (`Auto` as [`conv_with_method`] says).
///
/// ```
/// use convmat::geometry::ConvOptions;
/// use convmat::functional::{conv, ConvMethod};
/// use convmat::sparse::BuildOptions;
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 4, 4]), (0..16).map(f64::from).collect()).unwrap();
/// let w = ArrayD::from_elem(IxDyn(&[2, 1, 3, 3]), 1.0);
/// let opts = ConvOptions::default();
/// let a = conv(x.view(), w.view(), None, &opts, ConvMethod::Direct, &BuildOptions::default()).unwrap();
/// let b = conv(x.view(), w.view(), None, &opts, ConvMethod::Sparse, &BuildOptions::default()).unwrap();
/// assert_eq!(a.shape(), &[1, 2, 2, 2]);
/// assert_eq!(a, b);
/// assert_eq!(a[[0, 1, 0, 0]], 45.0); // 0+1+2+4+5+6+8+9+10
/// ```
///
/// # Errors
/// The shape and option errors of [`ConvGeometry::for_tensors`], [`GeometryError::BiasShape`]
/// for a bias that is not `[C_out]`, [`GeometryError::FormulationNeeds`] for `Winograd` on
/// a geometry it cannot compute, and [`Error::OutputTooLarge`] (with `Fft`, also for its
/// spectra; with `Winograd` and `Phase`, for their work space; with `Sparse`, also
/// [`Error::MemoryBudget`] for C) past `build`'s memory budget.
pub fn conv<T: Real>(
    input: ArrayViewD<'_, T>,
    weight: ArrayViewD<'_, T>,
    bias: Option<ArrayViewD<'_, T>>,
    opts: &ConvOptions,
    method: ConvMethod,
    build: &BuildOptions,
) -> Result<ArrayD<T>, Error> {
    conv_with_method(input, weight, bias, opts, method, build).map(|(y, _)| y)
}

/// [`conv`], and the formulation whose result it is: `method`, or for `Auto` the
/// one [`ConvMethod::resolve`] gives, except that
///
/// - the FFT is not taken for data holding a NaN or ±∞ (it would spread it over
///   whole output planes; PyTorch's loops keep it to the windows that read it):
///   the data are scanned first, and the loops run instead (`direct`, `phase`
///   or `im2col`, as `Auto` chooses where neither pays);
/// - Winograd's result is checked instead, as its outputs are made (see
///   `kernels::winograd`): where one is NaN or ±∞ — a NaN or ±∞ of the data may
///   have reached the whole of a tile, or a transform overflowed — the call is
///   computed again by the loops, whose result it returns. A scan of the data
///   beforehand cost as much as a tenth of a Winograd call (1.2 – 2.0 ms of 13 –
///   16 on a 12.8 MB input, one thread).
///
/// ```
/// use convmat::geometry::ConvOptions;
/// use convmat::functional::{conv_with_method, ConvMethod};
/// use convmat::sparse::BuildOptions;
/// use ndarray::{ArrayD, IxDyn};
/// let mut x = ArrayD::from_elem(IxDyn(&[1, 32, 48, 48]), 0.5f32);
/// let w = ArrayD::from_elem(IxDyn(&[16, 32, 3, 3]), 0.25f32);
/// let opts = ConvOptions { padding: 1.into(), ..Default::default() };
/// let build = BuildOptions::default();
/// let (_, method) = conv_with_method(x.view(), w.view(), None, &opts, ConvMethod::Auto, &build).unwrap();
/// assert_eq!(method, ConvMethod::Winograd);
/// x[[0, 3, 10, 10]] = f32::NAN;
/// let (y, method) = conv_with_method(x.view(), w.view(), None, &opts, ConvMethod::Auto, &build).unwrap();
/// assert_eq!(method, ConvMethod::Phase);
/// // the 3 × 3 windows that read it, as PyTorch's loops
/// assert_eq!(y.iter().filter(|v| v.is_nan()).count(), 16 * 9);
/// ```
///
/// # Errors
/// As [`conv`].
pub fn conv_with_method<T: Real>(
    input: ArrayViewD<'_, T>,
    weight: ArrayViewD<'_, T>,
    bias: Option<ArrayViewD<'_, T>>,
    opts: &ConvOptions,
    method: ConvMethod,
    build: &BuildOptions,
) -> Result<(ArrayD<T>, ConvMethod), Error> {
    let g = ConvGeometry::for_tensors(input.shape(), weight.shape(), opts)?;
    let batched = input.ndim() == g.rank() + 2;
    let batch = g.check_input("input", input.shape())?;
    let bias = check_bias_of(bias.as_ref(), g.out_channels())?;
    let (x, w) = (contiguous(&input), contiguous(&weight));
    let mut y = zeroed_output::<T>(&batched_shape(batch, &g.output_shape()), build)?;
    let b = bias.as_deref();
    // Winograd under `Auto` checks its result; the FFT's data are scanned
    let chosen = match method.resolve_for_batch(&g, batch) {
        ConvMethod::Winograd => ConvMethod::Winograd,
        _ => resolve_for_data(method, &g, batch, &[&x, &w]),
    };
    let run = |m: ConvMethod, y: &mut [T]| {
        conv_by(m, method == ConvMethod::Auto, &g, &x, &w, b, y, build)
    };
    let chosen = match run(chosen, &mut y)? {
        true => chosen,
        false => {
            let loops = ConvMethod::loops(&g);
            y.fill(T::zero());
            run(loops, &mut y)?;
            loops
        }
    };
    Ok((output_array(batched, batch, &g.output_shape(), y), chosen))
}

/// `y = conv(x)` by the concrete method `m` within `build`'s budget; whether
/// every output is finite where `check` asks Winograd to tell (else `true`).
#[allow(clippy::too_many_arguments)]
fn conv_by<T: Real>(
    m: ConvMethod,
    check: bool,
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    b: Option<&[T]>,
    y: &mut [T],
    build: &BuildOptions,
) -> Result<bool, Error> {
    match m {
        ConvMethod::Auto => unreachable!("resolved by the caller"),
        ConvMethod::Direct => direct::conv(g, x, w, b, y)?,
        ConvMethod::Im2col => im2col::conv(g, x, w, b, y)?,
        ConvMethod::Fft => {
            check_fft_budget::<T>(g, build)?;
            fft::conv(g, x, w, b, y)?
        }
        ConvMethod::Winograd => {
            let elements = winograd::workspace_elements::<T>(g)? as u128;
            let shape = format!("({elements} values: transformed kernels and a block of tiles)");
            check_work_space::<T>("Winograd work space", elements, shape, build)?;
            return Ok(winograd::conv_checked(g, x, w, b, y, check)?);
        }
        ConvMethod::Phase => {
            let elements = phase::workspace_elements::<T>(g)? as u128;
            let shape = format!("({elements} values: a group's padded input split by phase)");
            check_work_space::<T>("phase work space", elements, shape, build)?;
            phase::conv(g, x, w, b, y)?
        }
        ConvMethod::Sparse => {
            if fits_u32(g) {
                ConvMatrix::<T, u32>::build_with_options(g, w, build)?.mul_vec(x, y)?;
            } else {
                ConvMatrix::<T>::build_with_options(g, w, build)?.mul_vec(x, y)?;
            }
            add_channel_bias(y, b, g.output_numel());
        }
    }
    Ok(true)
}

/// `F.conv_transpose*d(input, weight, bias, stride, padding, output_padding, groups,
/// dilation)`; weight `(C_in, C_out/groups, k…)`; by `method` (`Auto` as
/// [`conv_transpose_method`] says).
///
/// ```
/// use convmat::geometry::ConvOptions;
/// use convmat::functional::{conv_transpose, ConvTransposeMethod};
/// use convmat::sparse::BuildOptions;
/// use ndarray::{ArrayD, IxDyn};
/// let y = ArrayD::from_elem(IxDyn(&[1, 2, 2]), 1.0f32);
/// let w = ArrayD::from_elem(IxDyn(&[1, 1, 3, 3]), 1.0f32);
/// let opts = ConvOptions { stride: vec![2], ..Default::default() };
/// let x = conv_transpose(y.view(), w.view(), None, &opts, ConvTransposeMethod::Sparse, &BuildOptions::default()).unwrap();
/// assert_eq!(x.shape(), &[1, 5, 5]);
/// assert_eq!(x[[0, 2, 2]], 4.0); // the centre is reached by all four inputs
/// ```
///
/// # Errors
/// The shape and option errors of [`ConvTransposeGeometry::for_tensors`],
/// [`GeometryError::BiasShape`] for a bias that is not `[C_out]`, and [`Error::OutputTooLarge`]
/// (with `Fft`, also for its spectra; with `Sparse`, also [`Error::MemoryBudget`] for C) past
/// `build`'s memory budget.
pub fn conv_transpose<T: Real>(
    input: ArrayViewD<'_, T>,
    weight: ArrayViewD<'_, T>,
    bias: Option<ArrayViewD<'_, T>>,
    opts: &ConvOptions,
    method: ConvTransposeMethod,
    build: &BuildOptions,
) -> Result<ArrayD<T>, Error> {
    conv_transpose_with_method(input, weight, bias, opts, method, build).map(|(x, _)| x)
}

/// [`conv_transpose`], and the formulation whose result it is (`Auto` as
/// [`conv_transpose_method`] says: the data are scanned before the FFT).
///
/// ```
/// use convmat::geometry::ConvOptions;
/// use convmat::functional::{conv_transpose_method, conv_transpose_with_method, ConvTransposeMethod};
/// use convmat::sparse::BuildOptions;
/// use ndarray::{ArrayD, IxDyn};
/// let y = ArrayD::from_elem(IxDyn(&[1, 2, 2]), 1.0f32);
/// let w = ArrayD::from_elem(IxDyn(&[1, 1, 3, 3]), 1.0f32);
/// let opts = ConvOptions { stride: vec![2], ..Default::default() };
/// let auto = ConvTransposeMethod::Auto;
/// let (x, m) = conv_transpose_with_method(y.view(), w.view(), None, &opts, auto, &BuildOptions::default()).unwrap();
/// assert_eq!(x.shape(), &[1, 5, 5]);
/// assert_eq!(m, conv_transpose_method(y.view(), w.view(), &opts, auto).unwrap());
/// assert_ne!(m, auto);
/// ```
///
/// # Errors
/// As [`conv_transpose`].
pub fn conv_transpose_with_method<T: Real>(
    input: ArrayViewD<'_, T>,
    weight: ArrayViewD<'_, T>,
    bias: Option<ArrayViewD<'_, T>>,
    opts: &ConvOptions,
    method: ConvTransposeMethod,
    build: &BuildOptions,
) -> Result<(ArrayD<T>, ConvTransposeMethod), Error> {
    let t = ConvTransposeGeometry::for_tensors(input.shape(), weight.shape(), opts)?;
    let g = t.conv();
    let batched = input.ndim() == t.rank() + 2;
    let batch = g.check_output("input", input.shape())?;
    let bias_in = bias.clone();
    let bias = check_bias_of(bias.as_ref(), t.out_channels())?;
    let (y, w) = (contiguous(&input), contiguous(&weight));
    let (mut x, outputs) = output_capacity::<T>(&batched_shape(batch, &t.output_shape()), build)?;
    let chosen = resolve_transpose_for_data(method, g, &[&y, &w]);
    // the phases write each task's part of the zeros themselves, right before
    // its outputs
    if !matches!(
        chosen,
        ConvTransposeMethod::Phase | ConvTransposeMethod::Winograd
    ) {
        fill_zeros(&mut x, outputs);
    }
    match chosen {
        ConvTransposeMethod::Auto => unreachable!("resolved above"),
        ConvTransposeMethod::Scatter => direct::conv_transpose(g, &y, &w, bias.as_deref(), &mut x)?,
        ConvTransposeMethod::Col2im => im2col::conv_transpose(g, &y, &w, bias.as_deref(), &mut x)?,
        ConvTransposeMethod::Fft => {
            check_fft_budget::<T>(g, build)?;
            fft::conv_transpose(g, &y, &w, bias.as_deref(), &mut x)?
        }
        ConvTransposeMethod::ZeroInsert => {
            let elements = zero_insert::workspace_elements(g)? as u128;
            let shape = format!("({elements} values: one item's zero-inserted, padded y)");
            check_work_space::<T>("zero-insertion work space", elements, shape, build)?;
            zero_insert::conv_transpose(g, &y, &w, bias.as_deref(), &mut x)?
        }
        ConvTransposeMethod::Winograd => {
            let elements = winograd_transpose::workspace_elements::<T>(g)? as u128;
            let shape = format!("({elements} values: the transformed kernels and planes of y)");
            check_work_space::<T>("Winograd work space", elements, shape, build)?;
            let out = &mut x.spare_capacity_mut()[..outputs];
            let check = method == ConvTransposeMethod::Auto;
            let finite =
                winograd_transpose::conv_transpose_uninit(g, &y, &w, bias.as_deref(), out, check)?;
            // SAFETY: the capacity holds `outputs`, every one of them written
            // (`conv_transpose_uninit` returned `Ok`)
            unsafe { x.set_len(outputs) };
            if !finite {
                // a NaN or ±∞ of the data reached whole tiles, or a transform
                // overflowed: the loops, as `Auto` takes them for such data
                drop(x);
                let loops = ConvTransposeMethod::loops(g);
                return conv_transpose_with_method(input, weight, bias_in, opts, loops, build);
            }
        }
        ConvTransposeMethod::Phase => {
            let elements = phase::transpose_workspace_elements::<T>(g)? as u128;
            let shape = format!("({elements} values: a group's planes of y, padded)");
            check_work_space::<T>("phase work space", elements, shape, build)?;
            let out = &mut x.spare_capacity_mut()[..outputs];
            phase::conv_transpose_uninit(g, &y, &w, bias.as_deref(), out)?;
            // SAFETY: the capacity holds `outputs`, every one of them written
            // (`conv_transpose_uninit` returned `Ok`)
            unsafe { x.set_len(outputs) };
        }
        ConvTransposeMethod::Sparse => {
            if fits_u32(g) {
                ConvMatrix::<T, u32>::build_with_options(g, &w, build)?
                    .mul_transpose(&y, &mut x)?;
            } else {
                ConvMatrix::<T>::build_with_options(g, &w, build)?.mul_transpose(&y, &mut x)?;
            }
            add_channel_bias(&mut x, bias.as_deref(), g.input_numel());
        }
    }
    Ok((output_array(batched, batch, &t.output_shape(), x), chosen))
}

/// Errors unless the FFT's spectra for `g` ([`fft::workspace_elements`]) fit the
/// memory budget.
fn check_fft_budget<T: Real>(g: &ConvGeometry, build: &BuildOptions) -> Result<(), Error> {
    let elements = fft::workspace_elements(g)?;
    let dims = fft::fft_size(g)?;
    let shape = format!(
        "({elements} complex values: spectra of the grid {})",
        crate::error::shape_str(&dims)
    );
    check_work_space::<T>("FFT work space", elements as u128 * 2, shape, build)
}

/// Errors unless `elements` values of `T` of work space (`what`, described by
/// `shape`) fit the memory budget.
fn check_work_space<T: Real>(
    what: &'static str,
    elements: u128,
    shape: String,
    build: &BuildOptions,
) -> Result<(), Error> {
    let bytes = elements * std::mem::size_of::<T>() as u128;
    let budget = build.budget();
    if bytes > budget as u128 {
        return Err(Error::OutputTooLarge {
            what,
            shape,
            bytes,
            budget,
        });
    }
    Ok(())
}

/// Whether every value of every buffer is finite: in blocks checked without an
/// early exit (vector code), the blocks on the threads. On a 12.8 MB input (224 ×
/// 224, 64 channels, Intel Xeon model 207) the scan took 1.4 – 2.1 ms of a
/// Winograd call under `Auto` on two threads when it ran on one and stopped at the
/// first NaN or ±∞, 0.3 – 0.6 ms now; on one thread it reads at the memory's pace
/// either way (1.2 – 2.0 ms).
fn all_finite<T: Real>(buffers: &[&[T]]) -> bool {
    use rayon::prelude::*;
    buffers.iter().all(|b| {
        b.par_chunks(1 << 14)
            .all(|block| block.iter().fold(true, |ok, v| ok & v.is_finite()))
    })
}

/// `method` resolved for `g`, `batch` images and these data: where `Auto` would
/// take the FFT or Winograd but a value is NaN or ±∞, the loops instead (the FFT
/// would spread it over whole output planes, Winograd over whole tiles;
/// PyTorch's loops keep it to the windows that read it).
fn resolve_for_data<T: Real>(
    method: ConvMethod,
    g: &ConvGeometry,
    batch: usize,
    data: &[&[T]],
) -> ConvMethod {
    match method.resolve_for_batch(g, batch) {
        ConvMethod::Fft | ConvMethod::Winograd
            if method == ConvMethod::Auto && !all_finite(data) =>
        {
            ConvMethod::loops(g)
        }
        m => m,
    }
}

/// [`resolve_for_data`] for a transposed convolution whose forward geometry is `g`.
fn resolve_transpose_for_data<T: Real>(
    method: ConvTransposeMethod,
    g: &ConvGeometry,
    data: &[&[T]],
) -> ConvTransposeMethod {
    match method.resolve(g) {
        ConvTransposeMethod::Fft if method == ConvTransposeMethod::Auto && !all_finite(data) => {
            ConvTransposeMethod::loops(g)
        }
        m => m,
    }
}

/// The formulation [`conv`] runs for these tensors, found without running it:
/// `method` resolved for their geometry and batch
/// ([`ConvMethod::resolve_for_batch`]), except that
/// `Auto` takes neither the FFT nor Winograd for data holding a NaN or ±∞ (they
/// would spread it over whole output planes, or whole tiles). [`conv`] scans for
/// the FFT only and checks Winograd's outputs instead ([`conv_with_method`]), so
/// where a NaN or ±∞ lies where none of Winograd's tiles reads it (an input row
/// a stride skips), [`conv`] keeps Winograd and its finite result; the method
/// that made a result is the one [`conv_with_method`] returns with it.
///
/// ```
/// use convmat::geometry::{ConvOptions, Padding};
/// use convmat::functional::{conv_method, ConvMethod};
/// use ndarray::{ArrayD, IxDyn};
/// let mut x = ArrayD::from_elem(IxDyn(&[1, 1, 256, 256]), 1.0f32);
/// let w = ArrayD::from_elem(IxDyn(&[1, 1, 15, 15]), 1.0f32);
/// let opts = ConvOptions { padding: Padding::Same, ..Default::default() };
/// assert_eq!(conv_method(x.view(), w.view(), &opts, ConvMethod::Auto).unwrap(), ConvMethod::Fft);
/// x[[0, 0, 3, 3]] = f32::NAN;
/// assert_eq!(conv_method(x.view(), w.view(), &opts, ConvMethod::Auto).unwrap(), ConvMethod::Direct);
/// ```
///
/// # Errors
/// The shape and option errors of [`ConvGeometry::for_tensors`].
pub fn conv_method<T: Real>(
    input: ArrayViewD<'_, T>,
    weight: ArrayViewD<'_, T>,
    opts: &ConvOptions,
    method: ConvMethod,
) -> Result<ConvMethod, Error> {
    let g = ConvGeometry::for_tensors(input.shape(), weight.shape(), opts)?;
    let batch = g.check_input("input", input.shape())?;
    Ok(resolve_for_data(
        method,
        &g,
        batch,
        &[&contiguous(&input), &contiguous(&weight)],
    ))
}

/// The formulation [`conv_transpose`] runs for these tensors, as [`conv_method`]:
/// `Auto` takes neither the FFT nor the transposed Winograd for data holding a
/// NaN or ±∞ ([`conv_transpose`] scans for the FFT and checks Winograd's outputs,
/// running the loops where one is not finite).
///
/// ```
/// use convmat::geometry::ConvOptions;
/// use convmat::functional::{conv_transpose_method, ConvTransposeMethod};
/// use ndarray::{ArrayD, IxDyn};
/// let y = ArrayD::from_elem(IxDyn(&[1, 1, 256, 256]), 1.0f64);
/// let w = ArrayD::from_elem(IxDyn(&[1, 1, 15, 15]), 1.0f64);
/// let opts = ConvOptions { padding: 7.into(), ..Default::default() };
/// let m = conv_transpose_method(y.view(), w.view(), &opts, ConvTransposeMethod::Auto).unwrap();
/// assert_eq!(m, ConvTransposeMethod::Fft);
/// let small = ArrayD::from_elem(IxDyn(&[1, 1, 3, 3]), 1.0f64);
/// let opts = ConvOptions { padding: 1.into(), ..Default::default() };
/// let m = conv_transpose_method(y.view(), small.view(), &opts, ConvTransposeMethod::Auto).unwrap();
/// assert_eq!(m, ConvTransposeMethod::Scatter);
/// ```
///
/// # Errors
/// The shape and option errors of [`ConvTransposeGeometry::for_tensors`].
pub fn conv_transpose_method<T: Real>(
    input: ArrayViewD<'_, T>,
    weight: ArrayViewD<'_, T>,
    opts: &ConvOptions,
    method: ConvTransposeMethod,
) -> Result<ConvTransposeMethod, Error> {
    let t = ConvTransposeGeometry::for_tensors(input.shape(), weight.shape(), opts)?;
    let data = [&contiguous(&input)[..], &contiguous(&weight)[..]];
    Ok(match resolve_transpose_for_data(method, t.conv(), &data) {
        ConvTransposeMethod::Winograd
            if method == ConvTransposeMethod::Auto && !all_finite(&data) =>
        {
            ConvTransposeMethod::loops(t.conv())
        }
        m => m,
    })
}

/// Whether C can be indexed with 32-bit integers: then it is, as SciPy does — a
/// quarter less memory traffic per stored entry in f64, a third in f32.
fn fits_u32(g: &ConvGeometry) -> bool {
    let max = u32::MAX as u128;
    g.nnz() <= max && g.rows() as u128 <= max && g.cols() as u128 <= max
}

/// Adds `bias[c]` to every element of channel plane `c` (planes of `plane` elements,
/// channels cycling through the batch).
pub(crate) fn add_channel_bias<T: Real>(out: &mut [T], bias: Option<&[T]>, plane: usize) {
    if let Some(b) = bias {
        for (i, chunk) in out.chunks_exact_mut(plane).enumerate() {
            let v = b[i % b.len()];
            chunk.iter_mut().for_each(|e| *e += v);
        }
    }
}

/// The geometry of `F.unfold` / `F.fold`: channels `channels`, spatial `size`.
fn patch_geometry(
    channels: usize,
    size: &[usize],
    kernel_size: &[usize],
    opts: &ConvOptions,
) -> Result<ConvGeometry, GeometryError> {
    let rank = size.len();
    let kernel = crate::geometry::per_dim("kernel_size", kernel_size, rank)?;
    ConvGeometry::builder(size, &kernel)
        .channels(channels, 1)
        .stride(&opts.stride)
        .padding(opts.padding.clone())
        .dilation(&opts.dilation)
        .build()
}

/// `F.unfold(input, kernel_size, dilation, padding, stride)` for any spatial rank:
/// `(N, C, I…)` or `(C, I…)` → `(N, C·∏k, L)` or `(C·∏k, L)`, channel varying
/// slowest, `L` the number of sliding blocks. `kernel_size` has one value per
/// spatial dimension — its length sets the rank (PyTorch's unfold is 2-D only).
/// `opts.groups` and `opts.output_padding` are not used.
///
/// ```
/// use convmat::geometry::ConvOptions;
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3, 3]), (0..9).map(f64::from).collect()).unwrap();
/// let cols = convmat::functional::unfold(x.view(), &[2, 2], &ConvOptions::default()).unwrap();
/// assert_eq!(cols.shape(), &[1, 4, 4]);
/// assert_eq!(cols.as_slice().unwrap()[..4], [0.0, 1.0, 3.0, 4.0]); // tap (0,0) of each block
/// ```
///
/// # Errors
/// [`GeometryError::InputRank`] unless `input` has `kernel_size.len()` + 1 or + 2 dimensions, the
/// errors of [`ConvBuilder::build`](crate::geometry::ConvBuilder::build) (e.g. a kernel larger than
/// the padded input), and [`Error::OutputTooLarge`] past the default memory budget.
pub fn unfold<T: Real>(
    input: ArrayViewD<'_, T>,
    kernel_size: &[usize],
    opts: &ConvOptions,
) -> Result<ArrayD<T>, Error> {
    let (batched, batch, channels, size) = split_batch(input.shape(), kernel_size.len(), "unfold")?;
    let g = patch_geometry(channels, size, kernel_size, opts)?;
    let item = [g.in_channels() * g.kernel_numel(), g.output_numel()];
    let mut cols = zeroed_output::<T>(&batched_shape(batch, &item), &BuildOptions::default())?;
    patches::unfold(&g, &contiguous(&input), &mut cols)?;
    Ok(output_array(batched, batch, &item, cols))
}

/// `F.fold(input, output_size, kernel_size, dilation, padding, stride)` for any
/// spatial rank: `(N, C·∏k, L)` or `(C·∏k, L)` → `(N, C, output_size…)`, summing
/// overlapping entries. The adjoint of [`unfold`]. `output_size` sets the rank;
/// `kernel_size` holds one value or one per spatial dimension.
///
/// ```
/// use convmat::geometry::ConvOptions;
/// use ndarray::{ArrayD, IxDyn};
/// let cols = ArrayD::from_elem(IxDyn(&[1, 4, 4]), 1.0f32);
/// let x = convmat::functional::fold(cols.view(), &[3, 3], &[2], &ConvOptions::default()).unwrap();
/// assert_eq!(x.shape(), &[1, 1, 3, 3]);
/// assert_eq!(x[[0, 0, 1, 1]], 4.0); // the centre is in all four blocks
/// ```
///
/// # Errors
/// [`GeometryError::InputShape`] unless `input` is 2- or 3-D, `FoldChannels` when its `C·∏k`
/// dimension is not a multiple of ∏`kernel_size`, `FoldBlocks` when its last dimension is not the
/// number of sliding blocks, the builder's option errors, and [`Error::OutputTooLarge`].
pub fn fold<T: Real>(
    input: ArrayViewD<'_, T>,
    output_size: &[usize],
    kernel_size: &[usize],
    opts: &ConvOptions,
) -> Result<ArrayD<T>, Error> {
    let shape = input.shape();
    let (batched, batch, rows, blocks) = match shape.len() {
        3 => (true, shape[0], shape[1], shape[2]),
        2 => (false, 1, shape[0], shape[1]),
        _ => {
            return Err(GeometryError::InputShape {
                name: "fold input",
                expected: "(C·∏kernel_size, L) or (N, C·∏kernel_size, L)".into(),
                got: crate::error::shape_str(shape),
            }
            .into())
        }
    };
    let kernel = crate::geometry::per_dim("kernel_size", kernel_size, output_size.len())?;
    let k_numel: usize = kernel.iter().product();
    if k_numel == 0 || rows % k_numel != 0 {
        return Err(GeometryError::FoldChannels {
            rows,
            kernel: crate::error::shape_str(&kernel),
        }
        .into());
    }
    let g = patch_geometry(rows / k_numel, output_size, &kernel, opts)?;
    if blocks != g.output_numel() {
        return Err(GeometryError::FoldBlocks {
            output_size: crate::error::shape_str(output_size),
            kernel: crate::error::shape_str(&kernel),
            blocks: g
                .output_size()
                .iter()
                .map(|o| o.to_string())
                .collect::<Vec<_>>()
                .join(" * "),
            expected: g.output_numel(),
            got: blocks,
        }
        .into());
    }
    let mut x = zeroed_output::<T>(
        &batched_shape(batch, &g.input_shape()),
        &BuildOptions::default(),
    )?;
    patches::fold(&g, &contiguous(&input), &mut x)?;
    Ok(output_array(batched, batch, &g.input_shape(), x))
}

/// Splits `(N, C, spatial…)` or `(C, spatial…)` for an operation of spatial rank
/// `rank`: (batched, N, C, spatial).
pub(crate) fn split_batch<'s>(
    shape: &'s [usize],
    rank: usize,
    op: &'static str,
) -> Result<(bool, usize, usize, &'s [usize]), Error> {
    if shape.len() == rank + 2 {
        Ok((true, shape[0], shape[1], &shape[2..]))
    } else if shape.len() == rank + 1 {
        Ok((false, 1, shape[0], &shape[1..]))
    } else {
        Err(GeometryError::InputRank {
            op,
            rank,
            got: crate::error::shape_str(shape),
        }
        .into())
    }
}
