//! `convmat deconv`, `convmat analyze` and `convmat fit-transpose`.

use super::args::{
    AnalyzeArgs, DeconvArgs, FitTransposeArgs, GeometryArgs, OperatorArg, SolverArg,
};
use convmat::error::shape_str;
use convmat::functional::{interpolate, ConvMethod, InterpolateOptions};
use convmat::geometry::{ConvGeometry, ConvTransposeGeometry, ResizeMode};
use convmat::io::{read_tensor, write_npy, Tensor};
use convmat::kernels::direct;
use convmat::operator::{ConvOperator, LinearOperator};
use convmat::solve::{
    analyze, cgls, fit_transpose_kernel, lsmr, lsqr, pinv_solve, richardson_lucy,
    tikhonov_cholesky, AnalyzeOptions, CglsOptions, InvertibilityReport, LsmrOptions, LsqrOptions,
    PinvOptions, Progress, RankInfo, RichardsonLucyOptions,
};
use convmat::sparse::{BuildOptions, ConvMatrix};
use convmat::{Error, GeometryError};
use ndarray::{ArrayD, IxDyn};
use std::io::IsTerminal;
use std::time::Instant;

/// A tensor's values in f64, with its dtype and shape.
fn as_f64(t: &Tensor) -> Vec<f64> {
    match t {
        Tensor::F32(a) => a.iter().map(|&v| v as f64).collect(),
        Tensor::F64(a) => a.iter().copied().collect(),
    }
}

/// Writes `data` (f64) with `shape` in the dtype `like` has.
fn write_like(
    path: &std::path::Path,
    like: &Tensor,
    shape: &[usize],
    data: Vec<f64>,
) -> Result<(), Error> {
    match like {
        Tensor::F32(_) => write_npy(
            path,
            &ArrayD::from_shape_vec(IxDyn(shape), data.iter().map(|&v| v as f32).collect())
                .expect("shape"),
        ),
        Tensor::F64(_) => write_npy(
            path,
            &ArrayD::from_shape_vec(IxDyn(shape), data).expect("shape"),
        ),
    }
}

/// The convolution geometry of a weight applied to inputs of spatial size `size`.
fn conv_geometry(
    weight: &[usize],
    size: &[usize],
    g: &GeometryArgs,
) -> Result<ConvGeometry, Error> {
    if weight.len() < 3 {
        return Err(GeometryError::WeightRank {
            got: shape_str(weight),
            max: convmat::geometry::MAX_RANK,
        }
        .into());
    }
    let input: Vec<usize> = std::iter::once(weight[1].saturating_mul(g.groups))
        .chain(size.iter().copied())
        .collect();
    Ok(ConvGeometry::for_tensors(&input, weight, &g.options(&[0]))?)
}

/// Relative error and PSNR (peak = the truth's range) of an estimate.
fn quality(estimate: &[f64], truth: &[f64]) -> (f64, f64) {
    let err2: f64 = estimate
        .iter()
        .zip(truth)
        .map(|(a, b)| (a - b).powi(2))
        .sum();
    let norm2: f64 = truth.iter().map(|b| b * b).sum();
    let (lo, hi) = truth
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let mse = err2 / truth.len().max(1) as f64;
    let psnr = if mse > 0.0 {
        10.0 * ((hi - lo).powi(2) / mse).log10()
    } else {
        f64::INFINITY
    };
    ((err2 / norm2.max(f64::MIN_POSITIVE)).sqrt(), psnr)
}

/// What a solve reports, per item.
struct Outcome {
    x: Vec<f64>,
    istop: Option<usize>,
    reason: String,
    itn: usize,
    rnorm: f64,
    extra: Vec<(&'static str, f64)>,
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:e}")
    } else {
        "null".into()
    }
}

pub fn run_deconv(a: &DeconvArgs) -> Result<(), Error> {
    let y_t = read_tensor(&a.observed)?;
    let w_t = read_tensor(&a.weight)?;
    let g = conv_geometry(w_t.shape(), &a.input_size.0, &a.geometry)?;
    let batch = g.check_output("observed", y_t.shape())?;
    let batched = y_t.shape().len() == g.rank() + 2;
    let (y, w) = (as_f64(&y_t), as_f64(&w_t));
    let truth = a.truth.as_deref().map(read_tensor).transpose()?;
    let x_shape: Vec<usize> = if batched {
        std::iter::once(batch).chain(g.input_shape()).collect()
    } else {
        g.input_shape()
    };
    if let Some(t) = &truth {
        if t.shape() != x_shape.as_slice() {
            return Err(GeometryError::InputShape {
                name: "truth",
                expected: shape_str(&x_shape),
                got: shape_str(t.shape()),
            }
            .into());
        }
    }
    let build = a.geometry.build_options();
    let needs_matrix = matches!(a.solver, SolverArg::Cholesky | SolverArg::Pinv)
        || a.operator == OperatorArg::Matrix;
    let matrix = needs_matrix
        .then(|| ConvMatrix::<f64>::build_with_options(&g, &w, &build))
        .transpose()?;
    let matrix_free = match a.operator {
        OperatorArg::Auto => ConvOperator::separable(g.clone(), w.clone())
            .or_else(|_| ConvOperator::new(g.clone(), w.clone(), ConvMethod::Direct))?,
        _ => ConvOperator::new(g.clone(), w.clone(), ConvMethod::Direct)?,
    };
    let separable = matrix_free.is_separable();
    let op: &dyn LinearOperator<f64> = match (&matrix, a.operator) {
        (Some(m), OperatorArg::Matrix) => m,
        _ => &matrix_free,
    };
    let operator_name = match (a.operator, separable) {
        (OperatorArg::Matrix, _) => "matrix",
        (_, true) => "separable",
        _ => "direct",
    };
    let show = std::io::stderr().is_terminal();
    let mut xs = Vec::with_capacity(batch * g.cols());
    let mut outcomes = vec![];
    for item in 0..batch {
        let yi = &y[item * g.rows()..][..g.rows()];
        let mut last = Instant::now();
        let mut progress = |p: &Progress<'_, f64>| {
            if show && last.elapsed().as_millis() >= 500 {
                last = Instant::now();
                eprint!(
                    "\r  item {item}: iteration {}, ‖r‖ = {:.3e}, ‖Aᵀr‖ = {:.3e}   ",
                    p.itn, p.rnorm, p.arnorm
                );
            }
        };
        let outcome = match a.solver {
            SolverArg::Lsqr => {
                let opts = LsqrOptions {
                    damp: a.damp,
                    atol: a.atol,
                    btol: a.btol,
                    conlim: a.conlim,
                    iter_lim: a.max_iter,
                    x0: None,
                };
                let r = lsqr(op, yi, &opts, Some(&mut progress))?;
                Outcome {
                    reason: r.stop_reason().into(),
                    istop: Some(r.istop),
                    itn: r.itn,
                    rnorm: r.r1norm,
                    extra: vec![
                        ("r2norm", r.r2norm),
                        ("anorm", r.anorm),
                        ("acond", r.acond),
                        ("arnorm", r.arnorm),
                        ("xnorm", r.xnorm),
                    ],
                    x: r.x,
                }
            }
            SolverArg::Lsmr => {
                let opts = LsmrOptions {
                    damp: a.damp,
                    atol: a.atol,
                    btol: a.btol,
                    conlim: a.conlim,
                    maxiter: a.max_iter,
                    x0: None,
                };
                let r = lsmr(op, yi, &opts, Some(&mut progress))?;
                Outcome {
                    reason: r.stop_reason().into(),
                    istop: Some(r.istop),
                    itn: r.itn,
                    rnorm: r.normr,
                    extra: vec![
                        ("normar", r.normar),
                        ("norma", r.norma),
                        ("conda", r.conda),
                        ("normx", r.normx),
                    ],
                    x: r.x,
                }
            }
            SolverArg::Cgls => {
                let opts = CglsOptions {
                    damp: a.damp,
                    atol: a.atol,
                    btol: a.btol,
                    iter_lim: a.max_iter,
                    x0: None,
                };
                let r = cgls(op, yi, &opts, Some(&mut progress))?;
                Outcome {
                    reason: r.stop_reason().into(),
                    istop: Some(r.istop),
                    itn: r.itn,
                    rnorm: r.rnorm,
                    extra: vec![("arnorm", r.arnorm), ("anorm", r.anorm), ("xnorm", r.xnorm)],
                    x: r.x,
                }
            }
            SolverArg::Cholesky => {
                let x = tikhonov_cholesky(matrix.as_ref().expect("built above"), yi, a.damp)?;
                Outcome {
                    reason: "direct solve of (CᵀC + damp²I)x = Cᵀy".into(),
                    istop: None,
                    itn: 0,
                    rnorm: residual(op, &x, yi)?,
                    extra: vec![],
                    x,
                }
            }
            SolverArg::Pinv => {
                if a.damp != 0.0 {
                    return Err(Error::Invalid(
                        "--damp does not apply to --solver pinv (it truncates instead)".into(),
                    ));
                }
                let s = pinv_solve(
                    matrix.as_ref().expect("built above"),
                    yi,
                    &PinvOptions::default(),
                )?;
                Outcome {
                    reason: format!("pseudo-inverse: rank {}, nullity {}", s.rank, s.nullity),
                    istop: None,
                    itn: 0,
                    rnorm: residual(op, &s.x, yi)?,
                    extra: vec![
                        ("rank", s.rank as f64),
                        ("nullity", s.nullity as f64),
                        (
                            "sigma_max",
                            s.singular_values.first().copied().unwrap_or(0.0),
                        ),
                        ("cutoff", s.cutoff),
                    ],
                    x: s.x,
                }
            }
            SolverArg::RichardsonLucy => {
                if a.damp != 0.0 {
                    return Err(Error::Invalid(
                        "--damp does not apply to --solver richardson-lucy".into(),
                    ));
                }
                let opts = RichardsonLucyOptions {
                    iterations: a.max_iter.unwrap_or(100),
                    tol: a.tol,
                    x0: None,
                };
                let r = richardson_lucy(op, yi, &opts)?;
                Outcome {
                    reason: if r.converged {
                        format!("relative change {:.2e} ≤ tol", r.change)
                    } else {
                        "the iteration limit has been reached".into()
                    },
                    istop: None,
                    itn: r.itn,
                    rnorm: residual(op, &r.x, yi)?,
                    extra: vec![("change", r.change)],
                    x: r.x,
                }
            }
        };
        if show {
            eprint!("\r\x1b[K");
        }
        xs.extend_from_slice(&outcome.x);
        outcomes.push(outcome);
    }
    let truth_values = truth.as_ref().map(as_f64);
    write_like(&a.output, &y_t, &x_shape, xs.clone())?;
    let solver = format!("{:?}", a.solver)
        .to_lowercase()
        .replace("richardsonlucy", "richardson-lucy");
    let quality_of = |i: usize| {
        truth_values.as_ref().map(|t| {
            quality(
                &xs[i * g.cols()..][..g.cols()],
                &t[i * g.cols()..][..g.cols()],
            )
        })
    };
    if a.json {
        let items: Vec<String> = outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let mut fields = vec![
                    format!("\"itn\":{}", o.itn),
                    format!("\"reason\":{:?}", o.reason),
                    format!("\"rnorm\":{}", json_number(o.rnorm)),
                ];
                if let Some(s) = o.istop {
                    fields.push(format!("\"istop\":{s}"));
                }
                fields.extend(
                    o.extra
                        .iter()
                        .map(|(k, v)| format!("\"{k}\":{}", json_number(*v))),
                );
                if let Some((rel, psnr)) = quality_of(i) {
                    fields.push(format!("\"relative_error\":{}", json_number(rel)));
                    fields.push(format!("\"psnr_db\":{}", json_number(psnr)));
                }
                format!("{{{}}}", fields.join(","))
            })
            .collect();
        println!(
            "{{\"command\":\"deconv\",\"solver\":\"{solver}\",\"operator\":\"{operator_name}\",\"output\":{:?},\"output_shape\":{},\"items\":[{}]}}",
            a.output.display().to_string(),
            shape_str(&x_shape),
            items.join(",")
        );
    } else {
        println!(
            "deconv ({solver}, {operator_name} operator): observed {} → x {}, written to {}",
            shape_str(y_t.shape()),
            shape_str(&x_shape),
            a.output.display()
        );
        for (i, o) in outcomes.iter().enumerate() {
            let stop = o.istop.map_or(String::new(), |s| format!("istop {s}: "));
            let mut line = format!(
                "  item {i}: {stop}{} after {} iteration(s); ‖Cx − y‖ = {:.4e}",
                o.reason, o.itn, o.rnorm
            );
            if let Some((rel, psnr)) = quality_of(i) {
                line.push_str(&format!("; error vs truth {rel:.4e} (PSNR {psnr:.2} dB)"));
            }
            println!("{line}");
        }
    }
    Ok(())
}

/// ‖A·x − y‖.
fn residual(op: &dyn LinearOperator<f64>, x: &[f64], y: &[f64]) -> Result<f64, Error> {
    let mut ax = vec![0.0; y.len()];
    op.apply(x, &mut ax)?;
    Ok(ax
        .iter()
        .zip(y)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt())
}

pub fn run_analyze(a: &AnalyzeArgs) -> Result<(), Error> {
    let (weight_shape, w) = match (&a.weight, &a.kernel_size) {
        (Some(p), _) => {
            let t = read_tensor(p)?;
            (t.shape().to_vec(), as_f64(&t))
        }
        (None, Some(k)) => {
            let shape: Vec<usize> = [1, 1].iter().chain(&k.0).copied().collect();
            let n = shape.iter().product();
            (shape, vec![1.0; n])
        }
        (None, None) => unreachable!("clap requires one"),
    };
    let g = conv_geometry(&weight_shape, &a.input_size.0, &a.geometry)?;
    let c = ConvMatrix::<f64>::build_with_options(&g, &w, &a.geometry.build_options())?;
    let opts = AnalyzeOptions {
        svd_max_elements: a.svd_max_elements,
        ..Default::default()
    };
    let r = analyze(&c, &opts)?;
    if a.json {
        println!("{}", report_json(&r));
    } else {
        println!("{}", report_text(&r, a.weight.is_none()));
    }
    Ok(())
}

fn report_json(r: &InvertibilityReport) -> String {
    let (rank, nullity, exact) = match r.rank {
        RankInfo::Exact { rank, nullity } => (rank, nullity, true),
        RankInfo::Bounds {
            rank_at_most,
            nullity_at_least,
        } => (rank_at_most, nullity_at_least, false),
    };
    let list = |v: &[String]| format!("[{}]", v.join(","));
    format!(
        "{{\"rows\":{},\"cols\":{},\"nnz\":{},\"rank_exact\":{exact},\"{}\":{rank},\"{}\":{nullity},\"zero_columns\":{},\"sigma_max\":{},\"sigma_min\":{},\"sigma_min_exact\":{},\"condition\":{},\"full_column_rank\":{},\"singular_values\":{},\"summary\":{}}}",
        r.rows,
        r.cols,
        r.nnz,
        if exact { "rank" } else { "rank_at_most" },
        if exact { "nullity" } else { "nullity_at_least" },
        list(&r.zero_columns.iter().map(|c| c.to_string()).collect::<Vec<_>>()),
        json_number(r.sigma_max),
        json_number(r.sigma_min),
        r.exact,
        json_number(r.condition),
        r.full_column_rank.map_or("null".to_string(), |b| b.to_string()),
        r.singular_values.as_ref().map_or("null".to_string(), |s| list(&s.iter().map(|v| json_number(*v)).collect::<Vec<_>>())),
        list(&r.summary.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>()),
    )
}

fn report_text(r: &InvertibilityReport, ones: bool) -> String {
    let mut out = vec![];
    if ones {
        out.push("(kernel of ones: pass --weight for your kernel's values)".to_string());
    }
    out.push(format!(
        "shape of C        {}×{} ({} stored entries)",
        r.rows, r.cols, r.nnz
    ));
    match r.rank {
        RankInfo::Exact { rank, nullity } => out.push(format!("rank, nullity     {rank}, {nullity} (exact, SVD)")),
        RankInfo::Bounds { rank_at_most, nullity_at_least } => {
            out.push(format!("rank, nullity     ≤ {rank_at_most}, ≥ {nullity_at_least} (bounds; no SVD at this size)"))
        }
    }
    out.push(format!("σ_max             {:.6e}", r.sigma_max));
    out.push(format!(
        "σ_min             {}{:.6e}",
        if r.exact { "" } else { "≤ " },
        r.sigma_min
    ));
    out.push(format!(
        "condition number  {}{}",
        if r.exact || !r.condition.is_finite() {
            ""
        } else {
            "≥ "
        },
        if r.condition.is_finite() {
            format!("{:.6e}", r.condition)
        } else {
            "∞".into()
        }
    ));
    let zeros = &r.zero_columns;
    let shown: Vec<String> = zeros.iter().take(12).map(|c| c.to_string()).collect();
    out.push(format!(
        "never read        {} input position(s){}",
        zeros.len(),
        if zeros.is_empty() {
            String::new()
        } else {
            format!(
                ": {}{}",
                shown.join(", "),
                if zeros.len() > 12 { ", …" } else { "" }
            )
        }
    ));
    out.push(format!(
        "full column rank  {}",
        r.full_column_rank
            .map_or("undecided without an SVD".to_string(), |b| if b {
                "yes".into()
            } else {
                "no".into()
            })
    ));
    out.push(String::new());
    out.extend(r.summary.iter().cloned());
    out.join("\n")
}

pub fn run_fit_transpose(a: &FitTransposeArgs) -> Result<(), Error> {
    let x_t = read_tensor(&a.input)?;
    let w_t = read_tensor(&a.weight)?;
    let rank = w_t.shape().len().saturating_sub(2);
    let size = x_t
        .shape()
        .get(x_t.shape().len().saturating_sub(rank)..)
        .unwrap_or(&[])
        .to_vec();
    let g = conv_geometry(w_t.shape(), &size, &a.geometry)?;
    let batch = g.check_input("input", x_t.shape())?;
    let (xs, w) = (as_f64(&x_t), as_f64(&w_t));
    let ys = match &a.observed {
        Some(p) => {
            let t = read_tensor(p)?;
            let n = g.check_output("observed", t.shape())?;
            if n != batch {
                return Err(Error::Invalid(format!(
                    "{n} observation(s) for {batch} source(s)"
                )));
            }
            as_f64(&t)
        }
        None => {
            let mut ys = vec![0.0; batch * g.rows()];
            direct::conv(&g, &xs, &w, None, &mut ys)?;
            ys
        }
    };
    // the transposed convolution that maps y back to x's size
    let output_padding: Vec<usize> = (0..g.rank())
        .map(|d| {
            let base = convmat::geometry::conv_transpose_output_len(
                g.output_size()[d],
                g.kernel_size()[d],
                g.stride()[d],
                g.dilation()[d],
                g.padding_before()[d],
                0,
            );
            (g.input_size()[d] as i128 - base).max(0) as usize
        })
        .collect();
    let pad: Vec<usize> = g.padding_before().to_vec();
    if g.padding_before() != g.padding_after() {
        return Err(Error::Invalid(
            "fit-transpose needs symmetric padding (a number, not 'same' with an even kernel)"
                .into(),
        ));
    }
    let t = ConvTransposeGeometry::builder(g.output_size(), g.kernel_size())
        .channels(g.out_channels(), g.in_channels())
        .groups(g.groups())
        .stride(g.stride())
        .padding(pad)
        .dilation(g.dilation())
        .output_padding(&output_padding)
        .build()?;
    if t.conv().input_size() != g.input_size() {
        return Err(Error::Invalid(format!(
            "no transposed convolution maps {} back to {} with this stride (output padding would reach the stride)",
            shape_str(g.output_size()),
            shape_str(g.input_size())
        )));
    }
    let opts = LsqrOptions {
        atol: a.atol,
        btol: a.btol,
        iter_lim: Some(100 * w.len().max(10)),
        ..Default::default()
    };
    let fit = fit_transpose_kernel(&t, &ys, &xs, &opts)?;
    write_like(&a.output, &w_t, w_t.shape(), fit.weight.clone())?;

    // the comparison: plain Cᵀ, the learned kernel, the pseudo-inverse, up-samplers
    let rel = |est: &[f64]| quality(est, &xs).0;
    let mut rows: Vec<(String, f64)> = vec![];
    let mut plain = vec![0.0; xs.len()];
    direct::conv_transpose(&g, &ys, &w, None, &mut plain)?;
    rows.push(("transposed convolution Cᵀ·y (W′ = W)".into(), rel(&plain)));
    rows.push((
        "learned transposed convolution W′".into(),
        fit.relative_error,
    ));
    if let Ok(c) = ConvMatrix::<f64>::build_with_options(&g, &w, &BuildOptions::default()) {
        let mut pinv = Vec::with_capacity(xs.len());
        let mut ok = true;
        for item in 0..batch {
            match pinv_solve(
                &c,
                &ys[item * g.rows()..][..g.rows()],
                &PinvOptions::default(),
            ) {
                Ok(s) => pinv.extend(s.x),
                Err(_) => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            rows.push((
                "pseudo-inverse C⁺·y (least squares, minimum norm)".into(),
                rel(&pinv),
            ));
        }
    }
    if g.in_channels() == g.out_channels() && (1..=3).contains(&g.rank()) {
        let y_arr = ArrayD::from_shape_vec(
            IxDyn(
                &std::iter::once(batch)
                    .chain(g.output_shape())
                    .collect::<Vec<_>>(),
            ),
            ys.clone(),
        )
        .expect("shape");
        let linear = [
            ResizeMode::Linear,
            ResizeMode::Bilinear,
            ResizeMode::Trilinear,
        ][g.rank() - 1];
        for (name, mode) in [
            ("nearest up-sampling of y", ResizeMode::Nearest),
            ("linear up-sampling of y", linear),
        ] {
            let o = InterpolateOptions {
                mode,
                size: Some(g.input_size().to_vec()),
                scale_factor: None,
                align_corners: None,
                recompute_scale_factor: None,
            };
            if let Ok(up) = interpolate(y_arr.view(), &o, &BuildOptions::default()) {
                rows.push((
                    format!("{name} ({})", mode.name()),
                    rel(up.as_slice().expect("standard layout")),
                ));
            }
        }
    }
    if a.json {
        let items: Vec<String> = rows
            .iter()
            .map(|(n, e)| {
                format!(
                    "{{\"method\":{n:?},\"relative_error\":{}}}",
                    json_number(*e)
                )
            })
            .collect();
        println!(
            "{{\"command\":\"fit-transpose\",\"output\":{:?},\"weight_shape\":{},\"pairs\":{batch},\"lsqr_istop\":{},\"lsqr_itn\":{},\"comparison\":[{}]}}",
            a.output.display().to_string(),
            shape_str(w_t.shape()),
            fit.istop,
            fit.itn,
            items.join(",")
        );
    } else {
        println!(
            "fit-transpose: W′ {} fitted on {batch} pair(s) (LSQR istop {}, {} iterations), written to {}",
            shape_str(w_t.shape()),
            fit.istop,
            fit.itn,
            a.output.display()
        );
        println!("  relative error ‖x̂ − x‖/‖x‖ on the training pairs:");
        for (n, e) in rows {
            println!("    {e:>12.4e}  {n}");
        }
    }
    Ok(())
}
