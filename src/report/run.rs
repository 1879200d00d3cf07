//! The measurements behind `convmat report`.

use super::measure::{median_ms, Budget};
use super::metrics::{errors, psnr, ssim};
use super::phantom::{shepp_logan, training_pattern};
use super::plot::{Scale, Series};
use crate::geometry::{
    ConvGeometry, ConvTransposeGeometry, PoolGeometry, ResizeGeometry, ResizeMode,
};
use crate::kernels::ConvMethod;
use crate::kernels::{direct, im2col, zero_insert};
use crate::kernels::{max_pool, max_unpool, resize};
use crate::operator::{ConvOperator, LinearOperator};
use crate::solve::{
    cgls, fit_transpose_kernel, lsmr, lsqr, pinv_solve, tikhonov_cholesky, tikhonov_separable,
    CglsOptions, LsmrOptions, LsqrOptions, PinvOptions, Progress,
};
use crate::sparse::{max_unpool_matrix, predicted_bytes, resize_matrix, BuildOptions, ConvMatrix};
use crate::{Error, Real};
use std::time::{Duration, Instant};

/// How much the report measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Seconds in a debug build: for tests.
    Tiny,
    /// `--quick`: within 30 s on a 2-core machine.
    Quick,
    /// The default: within 3 minutes on a 2-core machine.
    Full,
}

/// One measured row: a case × formulation × element type.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// `conv`, `conv_transpose`, `upsample`, `deconv`, `reconstruction`.
    pub section: String,
    /// The case's name (shape in words).
    pub case: String,
    /// The formulation or method.
    pub formulation: String,
    /// `float32` or `float64`.
    pub dtype: String,
    /// Median milliseconds.
    pub median_ms: f64,
    /// Throughput value (GFLOP/s or GB/s), if meaningful.
    pub throughput: Option<f64>,
    /// Its unit.
    pub throughput_unit: String,
    /// Extra memory besides inputs and outputs, in bytes.
    pub extra_bytes: u64,
    /// Max |result − f64 reference| (or − truth).
    pub max_abs_error: Option<f64>,
    /// ‖result − reference‖ / ‖reference‖.
    pub relative_error: Option<f64>,
    /// PSNR in dB (reconstructions).
    pub psnr_db: Option<f64>,
    /// SSIM (reconstructions).
    pub ssim: Option<f64>,
    /// Free text (iterations, stop reason).
    pub note: String,
}

/// A plot to draw: file stem, title, axes, series.
#[derive(Debug, Clone)]
pub struct PlotSpec {
    /// File name without `.svg`.
    pub name: String,
    /// Title.
    pub title: String,
    /// X label and scale.
    pub x: (String, Scale),
    /// Y label and scale.
    pub y: (String, Scale),
    /// The lines.
    pub series: Vec<Series>,
}

/// A picture to write: file stem, size, values (shown on [0, 1]).
#[derive(Debug, Clone)]
pub struct Picture {
    /// File name without `.png`.
    pub name: String,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Values, row-major.
    pub values: Vec<f64>,
}

/// Everything the report shows.
#[derive(Debug, Clone, Default)]
pub struct Measurements {
    /// Table rows.
    pub rows: Vec<Row>,
    /// Plots.
    pub plots: Vec<PlotSpec>,
    /// Pictures.
    pub pictures: Vec<Picture>,
    /// Prose drawn from the numbers, by section.
    pub notes: Vec<(String, String)>,
}

struct Sizes {
    budget: Budget,
    conv_img: usize,
    conv_ch: usize,
    batch: usize,
    up_img: usize,
    up_ch: usize,
    deconv: usize,
    scaling: Vec<usize>,
    channels: Vec<usize>,
    kernels: Vec<usize>,
    batches: Vec<usize>,
    spectrum: usize,
    iterations: usize,
    phantom: usize,
}

fn sizes(level: Level) -> Sizes {
    let budget = |ms, min, max| Budget {
        time: Duration::from_millis(ms),
        min_runs: min,
        max_runs: max,
    };
    match level {
        Level::Tiny => Sizes {
            budget: budget(1, 1, 3),
            conv_img: 12,
            conv_ch: 2,
            batch: 1,
            up_img: 8,
            up_ch: 2,
            deconv: 8,
            scaling: vec![8, 16],
            channels: vec![1, 2],
            kernels: vec![3, 5],
            batches: vec![1, 2],
            spectrum: 6,
            iterations: 20,
            phantom: 16,
        },
        Level::Quick => Sizes {
            budget: budget(60, 3, 30),
            conv_img: 32,
            conv_ch: 8,
            batch: 2,
            up_img: 32,
            up_ch: 8,
            deconv: 24,
            scaling: vec![16, 32, 64, 128],
            channels: vec![1, 4, 16],
            kernels: vec![3, 5, 7],
            batches: vec![1, 2, 4],
            spectrum: 12,
            iterations: 150,
            phantom: 64,
        },
        Level::Full => Sizes {
            budget: budget(400, 5, 200),
            conv_img: 56,
            conv_ch: 32,
            batch: 4,
            up_img: 56,
            up_ch: 32,
            deconv: 48,
            scaling: vec![16, 32, 64, 128, 256, 512],
            channels: vec![1, 2, 4, 8, 16, 32],
            kernels: vec![3, 5, 7, 9, 11],
            batches: vec![1, 2, 4, 8, 16],
            spectrum: 16,
            iterations: 400,
            phantom: 128,
        },
    }
}

fn values(n: usize, salt: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (((i * 2654435761 + salt) % 1000) as f64) / 500.0 - 1.0)
        .collect()
}

fn to<T: Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::from_f64(x)).collect()
}

fn back<T: Real>(v: &[T]) -> Vec<f64> {
    v.iter().map(|x| x.as_f64()).collect()
}

/// Runs every measurement at `level`, calling `step` with a description before each.
pub fn measure(
    level: Level,
    image: Option<(usize, usize, Vec<f64>)>,
    step: &mut dyn FnMut(&str),
) -> Result<Measurements, Error> {
    let s = sizes(level);
    let mut m = Measurements::default();
    step("convolution formulations");
    conv_tables(&s, &mut m)?;
    step("up-samplers");
    upsample_tables(&s, &mut m)?;
    step("deconvolution solvers");
    deconv_tables(&s, &mut m)?;
    step("scaling studies");
    scaling(&s, &mut m)?;
    step("convergence and spectrum");
    convergence(&s, &mut m)?;
    step("reconstruction of a test image");
    let img = image.unwrap_or_else(|| (s.phantom, s.phantom, shepp_logan(s.phantom)));
    reconstruction(&s, img, &mut m)?;
    Ok(m)
}

/// Times and checks every formulation of one forward and one transposed case, in f32
/// and f64, against the f64 direct loops.
fn conv_tables(s: &Sizes, m: &mut Measurements) -> Result<(), Error> {
    let n = s.conv_img;
    let g = ConvGeometry::builder(&[n, n], &[3, 3])
        .channels(s.conv_ch, s.conv_ch)
        .padding(1)
        .build()?;
    let case = format!(
        "conv N={} {}→{} {n}×{n} 3×3 pad 1",
        s.batch, s.conv_ch, s.conv_ch
    );
    let w = values(g.weight_shape().iter().product(), 1);
    let x = values(s.batch * g.cols(), 2);
    let mut reference = vec![0.0; s.batch * g.rows()];
    direct::conv(&g, &x, &w, None, &mut reference)?;
    let flops = 2.0 * g.nnz() as f64 * s.batch as f64;
    kernel_rows::<f32>(s, true, &g, &case, &w, &x, &reference, flops, m)?;
    kernel_rows::<f64>(s, true, &g, &case, &w, &x, &reference, flops, m)?;

    let t = ConvTransposeGeometry::builder(&[n / 2, n / 2], &[4, 4])
        .channels(s.conv_ch, s.conv_ch)
        .stride(&[2])
        .padding(1)
        .build()?;
    let tcase = format!(
        "conv_transpose N={} {}→{} {}×{} 4×4 stride 2 pad 1",
        s.batch,
        s.conv_ch,
        s.conv_ch,
        n / 2,
        n / 2
    );
    let tg = t.conv();
    let wt = values(t.weight_shape().iter().product(), 3);
    let y = values(s.batch * tg.rows(), 4);
    let mut tref = vec![0.0; s.batch * tg.cols()];
    direct::conv_transpose(tg, &y, &wt, None, &mut tref)?;
    let tflops = 2.0 * tg.nnz() as f64 * s.batch as f64;
    kernel_rows::<f32>(s, false, tg, &tcase, &wt, &y, &tref, tflops, m)?;
    kernel_rows::<f64>(s, false, tg, &tcase, &wt, &y, &tref, tflops, m)?;
    Ok(())
}

/// One formulation: its name, its extra memory in bytes, and the computation.
type Form<'a, T> = (
    &'static str,
    u64,
    Box<dyn Fn(&mut [T]) -> Result<(), Error> + 'a>,
);

/// Every formulation of the forward convolution of `g`, or (`forward = false`) of the
/// transposed convolution whose forward geometry is `g`, in type `T`: checked against
/// `reference` (f64) and timed.
#[allow(clippy::too_many_arguments)]
fn kernel_rows<T: Real>(
    s: &Sizes,
    forward: bool,
    g: &ConvGeometry,
    case: &str,
    w: &[f64],
    input: &[f64],
    reference: &[f64],
    flops: f64,
    m: &mut Measurements,
) -> Result<(), Error> {
    let (w, input) = (to::<T>(w), to::<T>(input));
    let (w, input) = (&w, &input);
    let size = std::mem::size_of::<T>() as u64;
    let c = ConvMatrix::<T, u32>::build(g, w)?;
    let c = &c;
    let workspace = im2col::workspace_elements(g) as u64 * size;
    let forms: Vec<Form<'_, T>> = if forward {
        vec![
            (
                "direct",
                0,
                Box::new(move |y| Ok(direct::conv(g, input, w, None, y)?)),
            ),
            (
                "im2col",
                workspace,
                Box::new(move |y| Ok(im2col::conv(g, input, w, None, y)?)),
            ),
            (
                "sparse",
                c.bytes() as u64,
                Box::new(move |y| Ok(c.mul_vec(input, y)?)),
            ),
        ]
    } else {
        let inserted = zero_insert::inner_geometry(g)?.input_numel() * g.out_channels();
        vec![
            (
                "scatter",
                0,
                Box::new(move |x| Ok(direct::conv_transpose(g, input, w, None, x)?)),
            ),
            (
                "col2im",
                workspace,
                Box::new(move |x| Ok(im2col::conv_transpose(g, input, w, None, x)?)),
            ),
            (
                "zero-insert",
                inserted as u64 * size,
                Box::new(move |x| Ok(zero_insert::conv_transpose(g, input, w, None, x)?)),
            ),
            (
                "sparse",
                c.bytes() as u64,
                Box::new(move |x| Ok(c.mul_transpose(input, x)?)),
            ),
        ]
    };
    let section = if forward { "conv" } else { "conv_transpose" };
    let mut out = vec![T::zero(); reference.len()];
    for (name, extra, run) in forms {
        run(&mut out)?;
        let (max_abs, rel) = errors(&back(&out), reference);
        let ms = median_ms(&s.budget, || {
            let _ = run(&mut out);
        });
        m.rows.push(Row {
            section: section.into(),
            case: case.into(),
            formulation: name.into(),
            dtype: T::DTYPE.into(),
            median_ms: ms,
            throughput: Some(flops / (ms * 1e6)),
            throughput_unit: "GFLOP/s".into(),
            extra_bytes: extra,
            max_abs_error: Some(max_abs),
            relative_error: Some(rel),
            note: if name == "sparse" {
                format!("C: {} stored entries, built beforehand", c.nnz())
            } else {
                String::new()
            },
            ..Default::default()
        });
    }
    if forward {
        let ms = median_ms(&s.budget, || {
            let _ = ConvMatrix::<T, u32>::build(g, w);
        });
        m.rows.push(Row {
            section: section.into(),
            case: case.into(),
            formulation: "sparse_build".into(),
            dtype: T::DTYPE.into(),
            median_ms: ms,
            extra_bytes: c.bytes() as u64,
            note: "building C once".into(),
            ..Default::default()
        });
    }
    Ok(())
}

/// Direct operation against the matrix U for max-unpool, bilinear and nearest.
fn upsample_tables(s: &Sizes, m: &mut Measurements) -> Result<(), Error> {
    let (n, planes) = (s.up_img, s.up_ch * s.batch);
    let pool = PoolGeometry::builder(&[2 * n, 2 * n], &[2]).build()?;
    let x = values(planes * pool.input_numel(), 5);
    let (mut pooled, mut idx) = (
        vec![0.0; planes * pool.output_numel()],
        vec![0i64; planes * pool.output_numel()],
    );
    max_pool(&pool, &x, &mut pooled, &mut idx)?;
    let unpool = pool.unpool()?;
    let case = format!("{planes} planes {n}×{n} → {}×{}", 2 * n, 2 * n);
    // max-unpool: f32 and f64 copies are exact, so no error column
    for dtype in ["float32", "float64"] {
        let u = max_unpool_matrix::<f64>(&unpool, &idx, &BuildOptions::default())?;
        let mut out = vec![0.0; planes * unpool.output_numel()];
        let bytes = ((pooled.len() + out.len()) * if dtype == "float32" { 4 } else { 8 }
            + idx.len() * 8) as f64;
        macro_rules! time_pair {
            ($t:ty) => {{
                let p: Vec<$t> = to(&pooled);
                let mut o = vec![<$t>::default(); out.len()];
                let ud = u.map(|&v| v as $t);
                let d = median_ms(&s.budget, || {
                    let _ = max_unpool(&unpool, &p, &idx, &mut o);
                });
                let mm = median_ms(&s.budget, || {
                    let _ = ud.mul_vec(&p, &mut o);
                });
                (d, mm, ud.bytes())
            }};
        }
        let (d, mm, ubytes) = if dtype == "float32" {
            time_pair!(f32)
        } else {
            time_pair!(f64)
        };
        max_unpool(&unpool, &pooled, &idx, &mut out)?;
        for (form, ms, extra) in [("direct", d, 0u64), ("matrix", mm, ubytes as u64)] {
            m.rows.push(Row {
                section: "upsample".into(),
                case: format!("max-unpool {case}"),
                formulation: form.into(),
                dtype: dtype.into(),
                median_ms: ms,
                throughput: Some(bytes / (ms * 1e6)),
                throughput_unit: "GB/s".into(),
                extra_bytes: extra,
                max_abs_error: Some(0.0),
                relative_error: Some(0.0),
                ..Default::default()
            });
        }
    }
    for (name, mode, ac) in [
        ("bilinear ×2", ResizeMode::Bilinear, None),
        (
            "bilinear ×2 align_corners",
            ResizeMode::Bilinear,
            Some(true),
        ),
        ("nearest ×2", ResizeMode::Nearest, None),
    ] {
        let g = ResizeGeometry::builder(mode, &[n, n])
            .scale_factor(&[2.0])
            .align_corners(ac)
            .build()?;
        let x = values(planes * g.input_numel(), 6);
        let mut reference = vec![0.0; planes * g.output_numel()];
        resize(&g, &x, &mut reference)?;
        resize_rows::<f32>(s, &g, &format!("{name} {case}"), planes, &x, &reference, m)?;
        resize_rows::<f64>(s, &g, &format!("{name} {case}"), planes, &x, &reference, m)?;
    }
    Ok(())
}

fn resize_rows<T: Real>(
    s: &Sizes,
    g: &ResizeGeometry,
    case: &str,
    planes: usize,
    x: &[f64],
    reference: &[f64],
    m: &mut Measurements,
) -> Result<(), Error> {
    let xt = to::<T>(x);
    let mut y = vec![T::zero(); reference.len()];
    let u = resize_matrix::<T>(g, planes, &BuildOptions::default())?;
    let bytes = ((x.len() + y.len()) * std::mem::size_of::<T>()) as f64;
    for (form, extra) in [("direct", 0u64), ("matrix", u.bytes() as u64)] {
        let run = |y: &mut [T]| -> Result<(), Error> {
            if form == "direct" {
                resize(g, &xt, y)?;
            } else {
                u.mul_vec(&xt, y)?;
            }
            Ok(())
        };
        run(&mut y)?;
        let (max_abs, rel) = errors(&back(&y), reference);
        let ms = median_ms(&s.budget, || {
            let _ = run(&mut y);
        });
        m.rows.push(Row {
            section: "upsample".into(),
            case: case.into(),
            formulation: form.into(),
            dtype: T::DTYPE.into(),
            median_ms: ms,
            throughput: Some(bytes / (ms * 1e6)),
            throughput_unit: "GB/s".into(),
            extra_bytes: extra,
            max_abs_error: Some(max_abs),
            relative_error: Some(rel),
            ..Default::default()
        });
    }
    Ok(())
}

/// The normalised 5×5 Gaussian (σ = 1).
fn gaussian5() -> Vec<f64> {
    let mut w: Vec<f64> = (0..25)
        .map(|i| {
            let (r, c) = ((i / 5) as f64 - 2.0, (i % 5) as f64 - 2.0);
            (-(r * r + c * c) / 2.0).exp()
        })
        .collect();
    let sum: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= sum);
    w
}

/// Every solver on a Gaussian blur of the phantom: time, iterations, error.
fn deconv_tables(s: &Sizes, m: &mut Measurements) -> Result<(), Error> {
    let n = s.deconv;
    let g = ConvGeometry::builder(&[n, n], &[5, 5]).padding(2).build()?;
    let w = gaussian5();
    let x = shepp_logan(n);
    let c = ConvMatrix::<f64>::build(&g, &w)?;
    let mut y = vec![0.0; g.rows()];
    c.mul_vec(&x, &mut y)?;
    let direct_op = ConvOperator::new(g.clone(), w.clone(), ConvMethod::Direct)?;
    let sep = ConvOperator::separable(g.clone(), w.clone())?;
    let case = format!("{n}×{n} phantom, 5×5 Gaussian σ=1, pad 2");
    let tol = 1e-8;
    let mut push = |form: &str, ms: f64, xhat: &[f64], note: String, extra: u64| {
        let (max_abs, rel) = errors(xhat, &x);
        m.rows.push(Row {
            section: "deconv".into(),
            case: case.clone(),
            formulation: form.into(),
            dtype: "float64".into(),
            median_ms: ms,
            extra_bytes: extra,
            max_abs_error: Some(max_abs),
            relative_error: Some(rel),
            note,
            ..Default::default()
        });
    };
    let lsqr_opts = LsqrOptions {
        atol: tol,
        btol: tol,
        ..Default::default()
    };
    for (name, op) in [
        ("lsqr/direct", &direct_op as &dyn LinearOperator<f64>),
        ("lsqr/separable", &sep),
        ("lsqr/matrix", &c),
    ] {
        let r = lsqr(op, &y, &lsqr_opts, None)?;
        let ms = median_ms(&s.budget, || {
            let _ = lsqr(op, &y, &lsqr_opts, None);
        });
        let extra = if name.ends_with("matrix") {
            c.bytes() as u64
        } else {
            0
        };
        push(
            name,
            ms,
            &r.x,
            format!("istop {}, {} iterations", r.istop, r.itn),
            extra,
        );
    }
    let lsmr_opts = LsmrOptions {
        atol: tol,
        btol: tol,
        maxiter: Some(20 * n * n),
        ..Default::default()
    };
    let r = lsmr(&sep, &y, &lsmr_opts, None)?;
    let ms = median_ms(&s.budget, || {
        let _ = lsmr(&sep, &y, &lsmr_opts, None);
    });
    push(
        "lsmr/separable",
        ms,
        &r.x,
        format!("istop {}, {} iterations", r.istop, r.itn),
        0,
    );
    let cgls_opts = CglsOptions {
        atol: tol,
        btol: tol,
        ..Default::default()
    };
    let r = cgls(&sep, &y, &cgls_opts, None)?;
    let ms = median_ms(&s.budget, || {
        let _ = cgls(&sep, &y, &cgls_opts, None);
    });
    push(
        "cgls/separable",
        ms,
        &r.x,
        format!("istop {}, {} iterations", r.istop, r.itn),
        0,
    );
    let xc = tikhonov_cholesky(&c, &y, 0.0)?;
    let ms = median_ms(&s.budget, || {
        let _ = tikhonov_cholesky(&c, &y, 0.0);
    });
    push("cholesky", ms, &xc, "sparse Cholesky of CᵀC".into(), 0);
    let xs = tikhonov_separable(&g, &w, &y, 0.0)?;
    let ms = median_ms(&s.budget, || {
        let _ = tikhonov_separable(&g, &w, &y, 0.0);
    });
    push("cholesky/separable", ms, &xs, "Kronecker factors".into(), 0);
    if g.cols() <= 1024 {
        let p = pinv_solve(&c, &y, &PinvOptions::default())?;
        let t = Instant::now();
        let _ = pinv_solve(&c, &y, &PinvOptions::default())?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        push(
            "pinv",
            ms,
            &p.x,
            format!("rank {}, nullity {}", p.rank, p.nullity),
            (g.rows() * g.cols() * 8) as u64,
        );
    }
    Ok(())
}

/// Time against size, channels, kernel and batch; nnz and bytes of C against size.
fn scaling(s: &Sizes, m: &mut Measurements) -> Result<(), Error> {
    type Shape = (usize, usize, usize, usize); // (size, channels, kernel, batch)
    type Study = (&'static str, &'static str, Vec<Shape>, fn(&Shape) -> f64); // plot, axis, shapes, x value
    let studies: [Study; 4] = [
        (
            "scaling_size",
            "image size (1 channel, 5×5)",
            s.scaling.iter().map(|&n| (n, 1, 5, 1)).collect(),
            |c| c.0 as f64,
        ),
        (
            "scaling_channels",
            "channels (in = out, 32×32, 3×3)",
            s.channels.iter().map(|&ch| (32, ch, 3, 1)).collect(),
            |c| c.1 as f64,
        ),
        (
            "scaling_kernel",
            "kernel size (1 channel, 64×64)",
            s.kernels.iter().map(|&k| (64, 1, k, 1)).collect(),
            |c| c.2 as f64,
        ),
        (
            "scaling_batch",
            "batch (8 channels, 32×32, 3×3)",
            s.batches.iter().map(|&b| (32, 8, 3, b)).collect(),
            |c| c.3 as f64,
        ),
    ];
    for (name, what, shapes, xval) in studies {
        let mut lines: Vec<Series> = ["direct", "im2col", "sparse (C·x)", "sparse incl. build"]
            .iter()
            .map(|n| (n.to_string(), vec![]))
            .collect();
        for shape in &shapes {
            let (n, ch, k, b) = *shape;
            let g = ConvGeometry::builder(&[n, n], &[k, k])
                .channels(ch, ch)
                .padding(k / 2)
                .build()?;
            let w: Vec<f32> = to(&values(g.weight_shape().iter().product(), 7));
            let x: Vec<f32> = to(&values(b * g.cols(), 8));
            let mut y = vec![0.0f32; b * g.rows()];
            let bytes = predicted_bytes(g.rows(), g.nnz(), 4, 4);
            let xv = xval(shape);
            lines[0].1.push((
                xv,
                median_ms(&s.budget, || {
                    let _ = direct::conv(&g, &x, &w, None, &mut y);
                }),
            ));
            lines[1].1.push((
                xv,
                median_ms(&s.budget, || {
                    let _ = im2col::conv(&g, &x, &w, None, &mut y);
                }),
            ));
            if bytes <= 256 << 20 {
                let build_ms = median_ms(&s.budget, || {
                    let _ = ConvMatrix::<f32, u32>::build(&g, &w);
                });
                let c = ConvMatrix::<f32, u32>::build(&g, &w)?;
                let mv = median_ms(&s.budget, || {
                    let _ = c.mul_vec(&x, &mut y);
                });
                lines[2].1.push((xv, mv));
                lines[3].1.push((xv, mv + build_ms));
            }
        }
        m.plots.push(PlotSpec {
            name: name.into(),
            title: format!("forward convolution time against {what}, f32"),
            x: (what.into(), Scale::Log),
            y: ("median time (ms)".into(), Scale::Log),
            series: lines,
        });
    }
    // nnz and bytes of C against size, predicted exactly
    let mut nnz = vec![];
    let mut mib = vec![];
    for &n in &s.scaling {
        let g = ConvGeometry::builder(&[n, n], &[5, 5])
            .channels(16, 16)
            .padding(2)
            .build()?;
        nnz.push((n as f64, g.nnz() as f64));
        mib.push((
            n as f64,
            predicted_bytes(g.rows(), g.nnz(), 4, 4) as f64 / (1 << 20) as f64,
        ));
    }
    m.plots.push(PlotSpec {
        name: "matrix_size".into(),
        title: "the explicit C for 16→16 channels, 5×5: stored entries and MiB (f32, u32 indices)"
            .into(),
        x: ("image size".into(), Scale::Log),
        y: ("count / MiB".into(), Scale::Log),
        series: vec![("stored entries".into(), nnz), ("MiB".into(), mib)],
    });
    Ok(())
}

/// LSQR / LSMR / CGLS convergence curves, and the singular values of a small C.
fn convergence(s: &Sizes, m: &mut Measurements) -> Result<(), Error> {
    let n = s.deconv;
    let g = ConvGeometry::builder(&[n, n], &[5, 5]).padding(2).build()?;
    let w = gaussian5();
    let x = shepp_logan(n);
    let op = ConvOperator::separable(g.clone(), w.clone())?;
    let mut y = vec![0.0; g.rows()];
    op.apply(&x, &mut y)?;
    let xnorm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut residual: Vec<Series> = vec![];
    let mut error: Vec<Series> = vec![];
    let iters = s.iterations;
    for solver in ["LSQR", "LSMR", "CGLS"] {
        let (mut rs, mut es) = (vec![], vec![]);
        let mut cb = |p: &Progress<'_, f64>| {
            rs.push((p.itn as f64, p.rnorm));
            let e =
                p.x.iter()
                    .zip(&x)
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>()
                    .sqrt()
                    / xnorm;
            es.push((p.itn as f64, e));
        };
        match solver {
            "LSQR" => {
                let o = LsqrOptions {
                    atol: 0.0,
                    btol: 0.0,
                    conlim: 0.0,
                    iter_lim: Some(iters),
                    ..Default::default()
                };
                lsqr(&op, &y, &o, Some(&mut cb))?;
            }
            "LSMR" => {
                let o = LsmrOptions {
                    atol: 0.0,
                    btol: 0.0,
                    conlim: 0.0,
                    maxiter: Some(iters),
                    ..Default::default()
                };
                lsmr(&op, &y, &o, Some(&mut cb))?;
            }
            _ => {
                let o = CglsOptions {
                    atol: 0.0,
                    btol: 0.0,
                    iter_lim: Some(iters),
                    ..Default::default()
                };
                cgls(&op, &y, &o, Some(&mut cb))?;
            }
        }
        residual.push((solver.into(), rs));
        error.push((solver.into(), es));
    }
    m.plots.push(PlotSpec {
        name: "convergence_residual".into(),
        title: format!("‖y − C·x_k‖ against iteration ({n}×{n} phantom, 5×5 Gaussian)"),
        x: ("iteration".into(), Scale::Linear),
        y: ("residual norm".into(), Scale::Log),
        series: residual,
    });
    m.plots.push(PlotSpec {
        name: "convergence_error".into(),
        title: "‖x_k − x‖ / ‖x‖ against iteration".into(),
        x: ("iteration".into(), Scale::Linear),
        y: ("relative error".into(), Scale::Log),
        series: error,
    });
    let k = s.spectrum;
    let gs = ConvGeometry::builder(&[k, k], &[5, 5]).padding(2).build()?;
    let cs = ConvMatrix::<f64>::build(&gs, &w)?;
    let p = pinv_solve(&cs, &vec![0.0; gs.rows()], &PinvOptions::default())?;
    let valid = ConvGeometry::builder(&[k, k], &[5, 5])
        .stride(&[2])
        .padding(2)
        .build()?;
    let cv = ConvMatrix::<f64>::build(&valid, &w)?;
    let pv = pinv_solve(&cv, &vec![0.0; valid.rows()], &PinvOptions::default())?;
    let curve = |sv: &[f64]| {
        sv.iter()
            .enumerate()
            .map(|(i, &v)| ((i + 1) as f64, v))
            .collect::<Vec<_>>()
    };
    m.plots.push(PlotSpec {
        name: "spectrum".into(),
        title: format!("singular values of C ({k}×{k} image, 5×5 Gaussian)"),
        x: ("index".into(), Scale::Linear),
        y: ("σ".into(), Scale::Log),
        series: vec![
            ("stride 1, pad 2 (square)".into(), curve(&p.singular_values)),
            ("stride 2, pad 2 (wide)".into(), curve(&pv.singular_values)),
        ],
    });
    m.notes.push((
        "spectrum".into(),
        format!(
            "The blur's C ({k}×{k} input) has κ = {:.3e}; with stride 2 it has {} singular values for {} unknowns (nullity {}).",
            p.singular_values[0] / p.singular_values.last().copied().unwrap_or(f64::NAN),
            pv.singular_values.len(),
            valid.cols(),
            pv.nullity
        ),
    ));
    Ok(())
}

/// The seed's comparison: down-sample a test image two ways, reconstruct it with each
/// up-sampling method and with deconvolution.
fn reconstruction(
    s: &Sizes,
    (h0, w0, img0): (usize, usize, Vec<f64>),
    m: &mut Measurements,
) -> Result<(), Error> {
    // even sizes for the 2× down-sampling: drop a last odd row or column
    let (h, w) = (h0 - h0 % 2, w0 - w0 % 2);
    if h < 4 || w < 4 {
        return Err(Error::Invalid(format!(
            "the test image must be at least 4×4, got {h0}×{w0}"
        )));
    }
    let img: Vec<f64> = (0..h * w).map(|i| img0[(i / w) * w0 + i % w]).collect();
    let (hh, hw) = (h / 2, w / 2);
    m.pictures.push(Picture {
        name: "original".into(),
        h,
        w,
        values: img.clone(),
    });
    // A: max-pooling 2×2 with indices
    let pool = PoolGeometry::builder(&[h, w], &[2]).build()?;
    let (mut pooled, mut idx) = (vec![0.0; hh * hw], vec![0i64; hh * hw]);
    max_pool(&pool, &img, &mut pooled, &mut idx)?;
    // B: stride-2 convolution with the separable [1,3,3,1]/8 kernel, padding 1
    let k1 = [1.0, 3.0, 3.0, 1.0].map(|v: f64| v / 8.0);
    let wk: Vec<f64> = (0..16).map(|i| k1[i / 4] * k1[i % 4]).collect();
    let g = ConvGeometry::builder(&[h, w], &[4, 4])
        .stride(&[2])
        .padding(1)
        .build()?;
    let mut blurred = vec![0.0; g.rows()];
    direct::conv(&g, &img, &wk, None, &mut blurred)?;
    m.pictures.push(Picture {
        name: "downsampled_maxpool".into(),
        h: hh,
        w: hw,
        values: pooled.clone(),
    });
    m.pictures.push(Picture {
        name: "downsampled_conv".into(),
        h: hh,
        w: hw,
        values: blurred.clone(),
    });
    let mut results: Vec<(String, String, f64, Vec<f64>)> = vec![];
    let resize_by =
        |mode: ResizeMode, ac: Option<bool>, src: &[f64]| -> Result<(Vec<f64>, f64), Error> {
            let rg = if matches!(mode, ResizeMode::NearestUnpool | ResizeMode::BedOfNails) {
                ResizeGeometry::unpool(mode, &[hh, hw], &[2])?
            } else {
                ResizeGeometry::builder(mode, &[hh, hw])
                    .size(&[h, w])
                    .align_corners(ac)
                    .build()?
            };
            let mut out = vec![0.0; h * w];
            resize(&rg, src, &mut out)?;
            let ms = median_ms(&s.budget, || {
                let _ = resize(&rg, src, &mut out);
            });
            Ok((out, ms))
        };
    for (name, mode, ac) in [
        ("nearest unpooling", ResizeMode::NearestUnpool, None),
        ("bed of nails", ResizeMode::BedOfNails, None),
        ("bilinear", ResizeMode::Bilinear, Some(false)),
        ("bilinear, align_corners", ResizeMode::Bilinear, Some(true)),
    ] {
        let (out, ms) = resize_by(mode, ac, &pooled)?;
        results.push((name.into(), "max-pool".into(), ms, out));
    }
    let unpool = pool.unpool()?;
    let mut out = vec![0.0; h * w];
    max_unpool(&unpool, &pooled, &idx, &mut out)?;
    let ms = median_ms(&s.budget, || {
        let _ = max_unpool(&unpool, &pooled, &idx, &mut out);
    });
    results.push((
        "max-unpooling".into(),
        "max-pool + indices".into(),
        ms,
        out.clone(),
    ));
    let (out, ms) = resize_by(ResizeMode::Bilinear, Some(false), &blurred)?;
    results.push(("bilinear".into(), "stride-2 conv".into(), ms, out));
    let mut out = vec![0.0; h * w];
    direct::conv_transpose(&g, &blurred, &wk, None, &mut out)?;
    let ms = median_ms(&s.budget, || {
        let _ = direct::conv_transpose(&g, &blurred, &wk, None, &mut out);
    });
    results.push((
        "transposed convolution Cᵀ·y".into(),
        "stride-2 conv".into(),
        ms,
        out.clone(),
    ));
    let op = ConvOperator::separable(g.clone(), wk.clone())?;
    let o = LsqrOptions {
        atol: 1e-6,
        btol: 1e-6,
        iter_lim: Some(200),
        ..Default::default()
    };
    let t = Instant::now();
    let r = lsqr(&op, &blurred, &o, None)?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    results.push((
        format!("least squares (LSQR, {} iterations)", r.itn),
        "stride-2 conv".into(),
        ms,
        r.x,
    ));
    // the learned kernel, fitted on a different image
    let train = training_pattern(h.max(w));
    let train: Vec<f64> = (0..h * w)
        .map(|i| train[(i / w) * h.max(w) + i % w])
        .collect();
    let mut ty = vec![0.0; g.rows()];
    direct::conv(&g, &train, &wk, None, &mut ty)?;
    let t = ConvTransposeGeometry::builder(&[hh, hw], &[4, 4])
        .stride(&[2])
        .padding(1)
        .build()?;
    let fit = fit_transpose_kernel(
        &t,
        &ty,
        &train,
        &LsqrOptions {
            atol: 1e-10,
            btol: 1e-10,
            ..Default::default()
        },
    )?;
    let mut out = vec![0.0; h * w];
    let ms = median_ms(&s.budget, || {
        let _ = direct::conv_transpose(&g, &blurred, &fit.weight, None, &mut out);
    });
    results.push((
        "learned transposed convolution (trained on another image)".into(),
        "stride-2 conv".into(),
        ms,
        out,
    ));
    for (i, (name, from, ms, out)) in results.iter().enumerate() {
        m.rows.push(Row {
            section: "reconstruction".into(),
            case: format!("{h}×{w} image from {from}"),
            formulation: name.clone(),
            dtype: "float64".into(),
            median_ms: *ms,
            psnr_db: Some(psnr(out, &img, 1.0)),
            ssim: Some(ssim(out, &img, h, w, 1.0)),
            max_abs_error: Some(errors(out, &img).0),
            relative_error: Some(errors(out, &img).1),
            ..Default::default()
        });
        m.pictures.push(Picture {
            name: format!("reconstruction_{i:02}"),
            h,
            w,
            values: out.clone(),
        });
    }
    Ok(())
}
