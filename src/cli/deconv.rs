//! `convmat deconv` and `convmat fit-transpose`.

use super::args::{DeconvArgs, FitTransposeArgs, GeometryArgs, OperatorArg};
use super::out::outln;
use convmat::error::shape_str;
use convmat::geometry::{batched_shape, unravel_index, ConvGeometry};
use convmat::io::{read_tensor, write_npy, Tensor};
use convmat::kernels::separable::default_rtol;
use convmat::metrics::Quality;
use convmat::solve::{
    deconvolve, fit_transpose, Criterion, DeconvOptions, Deconvolution, LsqrOptions, NoiseFit,
    OperatorChoice, OperatorKind, PinvOptions, Progress, RegChoice, SolveInfo, Solver, DEFAULT_TAU,
};
use convmat::stack::Stack;
use convmat::{Error, GeometryError, SolveError};
use ndarray::{ArrayD, IxDyn};
use serde::Serialize;
use std::io::IsTerminal;
use std::time::Instant;

/// A tensor's values in f64.
pub fn as_f64(t: &Tensor) -> Vec<f64> {
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
    data: &[f64],
) -> Result<(), Error> {
    match like {
        Tensor::F32(_) => write_npy(
            path,
            &ArrayD::from_shape_vec(IxDyn(shape), data.iter().map(|&v| v as f32).collect())
                .expect("shape"),
        ),
        Tensor::F64(_) => write_npy(
            path,
            &ArrayD::from_shape_vec(IxDyn(shape), data.to_vec()).expect("shape"),
        ),
    }
}

/// The convolution geometry of a weight applied to inputs of spatial size `size`.
pub fn conv_geometry(
    weight: &[usize],
    size: &[usize],
    g: &GeometryArgs,
) -> Result<ConvGeometry, Error> {
    Ok(ConvGeometry::for_weight(weight, size, &g.options(&[0]))?)
}

/// The library's options from the flags given, refusing those the solver does not use.
fn deconv_options(a: &DeconvArgs, weight: Option<&Tensor>) -> Result<DeconvOptions, Error> {
    let given = [
        ("damp", "--damp", a.damp.is_some()),
        ("atol", "--atol", a.atol.is_some()),
        ("btol", "--btol", a.btol.is_some()),
        ("conlim", "--conlim", a.conlim.is_some()),
        ("max_iter", "--max-iter", a.max_iter.is_some()),
        ("tol", "--tol", a.tol.is_some()),
        ("clip_negative", "--clip-negative", a.clip_negative),
        ("pinv", "--svd-max-elements", a.svd_max_elements.is_some()),
        ("filter", "--filter", a.filter.is_some()),
        ("reg_param", "--reg-param", a.reg_param.is_some()),
        ("nsr", "--nsr", a.nsr.is_some()),
        ("keep", "--keep", a.keep.is_some()),
        ("noise_std", "--noise-std", a.noise_std.is_some()),
    ];
    let uses = a.solver.options();
    if let Some((_, flag, _)) = given
        .iter()
        .find(|(field, _, on)| *on && !uses.contains(field))
    {
        let takes: Vec<&str> = given
            .iter()
            .filter(|(field, ..)| uses.contains(field))
            .map(|(_, flag, _)| *flag)
            .collect();
        return Err(Error::Invalid(format!(
            "{flag} does not apply to --solver {} (it takes {})",
            a.solver.name(),
            if takes.is_empty() {
                "none of the solver options".to_string()
            } else {
                takes.join(", ")
            }
        )));
    }
    // the spectral solver's options, per filter
    if a.solver == Solver::Spectral {
        let filter = a.filter.unwrap_or_default();
        let takes = filter.options();
        let filter_flags = &given[given.len() - 4..];
        if let Some((_, flag, _)) = filter_flags
            .iter()
            .find(|(field, _, on)| *on && !takes.contains(field))
        {
            let names: Vec<&str> = filter_flags
                .iter()
                .filter(|(field, ..)| takes.contains(field))
                .map(|(_, flag, _)| *flag)
                .collect();
            return Err(Error::Invalid(format!(
                "{flag} does not apply to --filter {} (it takes {})",
                filter.name(),
                names.join(", ")
            )));
        }
    }
    let d = DeconvOptions::default();
    let opts = DeconvOptions {
        solver: a.solver,
        operator: match a.operator {
            OperatorArg::Auto => OperatorChoice::Auto,
            OperatorArg::Direct => OperatorChoice::Direct,
            OperatorArg::Matrix => OperatorChoice::Matrix,
        },
        damp: a.damp.unwrap_or(d.damp),
        atol: a.atol.unwrap_or(d.atol),
        btol: a.btol.unwrap_or(d.btol),
        conlim: a.conlim.unwrap_or(d.conlim),
        max_iter: a.max_iter,
        tol: a.tol.unwrap_or(d.tol),
        pinv: PinvOptions {
            max_elements: a.svd_max_elements.unwrap_or(d.pinv.max_elements),
            ..d.pinv
        },
        build: a.memory.build_options(),
        clip_negative: a.clip_negative,
        // a kernel stored in float32 is separable to float32's precision
        separable_rtol: weight.map(|w| match w {
            Tensor::F32(_) => default_rtol::<f32>(),
            Tensor::F64(_) => default_rtol::<f64>(),
        }),
        filter: a.filter.unwrap_or_default(),
        reg_param: a.reg_param,
        nsr: a.nsr,
        keep: a.keep,
        noise_std: a.noise_std,
        tau: DEFAULT_TAU,
    };
    // the library's word on what else does not combine, in the command line's terms
    opts.check().map_err(|e| match e {
        Error::Solve(SolveError::NotApplicable {
            option,
            solver,
            reason,
        }) => Error::Invalid(format!(
            "--{} does not apply to --solver {} ({reason})",
            option.replace('_', "-"),
            match solver.strip_prefix("spectral ") {
                Some(filter) => format!("spectral --filter {filter}"),
                None => solver.to_string(),
            }
        )),
        Error::Solve(SolveError::NegativeOption { name, value }) => Error::Invalid(format!(
            "--{} must be a non-negative number, got {value}",
            name.replace('_', "-")
        )),
        e => e,
    })?;
    Ok(opts)
}

/// The regularisation parameter an item used, in words.
fn choice_text(c: &RegChoice) -> String {
    let value = if c.parameter == "iterations" {
        format!("stopped at iteration {}", c.value)
    } else {
        let name = match c.parameter {
            "alpha" => "α",
            "nsr" => "NSR",
            p => p,
        };
        format!("{name} = {:.4e}", c.value)
    };
    let kept = c
        .kept
        .map_or(String::new(), |k| format!(", {k} singular value(s) kept"));
    let how = match c.criterion {
        Criterion::Given => "given".to_string(),
        Criterion::Gcv => format!(
            "chosen by GCV (G = {:.4e})",
            c.criterion_value.unwrap_or(f64::NAN)
        ),
        Criterion::LCurve => format!(
            "at the L-curve's corner (curvature {:.3})",
            c.criterion_value.unwrap_or(f64::NAN)
        ),
        Criterion::Discrepancy => format!(
            "by the discrepancy principle (‖Cx − y‖ = τσ√n = {:.4e}, σ = {:.3e})",
            c.target_residual.unwrap_or(f64::NAN),
            c.noise_std.unwrap_or(f64::NAN)
        ),
        Criterion::Estimated => format!(
            "estimated as σ²/(var(y) − σ²), σ = {:.3e}",
            c.noise_std.unwrap_or(f64::NAN)
        ),
    };
    format!("{value}{kept} ({how})")
}

/// A non-finite value named by its file and coordinates, when `e` is about one of
/// `files` (the library's name for the data, the path, the shape).
fn in_file_terms(e: Error, files: &[(&str, &std::path::Path, &[usize])]) -> Error {
    match e {
        Error::Solve(SolveError::NonFinite {
            name,
            count,
            index,
            value,
        }) => match files.iter().find(|(n, ..)| *n == name) {
            Some((_, path, shape)) => Error::Invalid(format!(
                "{} holds {count} non-finite value(s) (NaN or ±∞); the first, {value}, at index \
                 {} (of shape {})",
                path.display(),
                shape_str(&unravel_index(shape, index)),
                shape_str(shape)
            )),
            None => Error::Solve(SolveError::NonFinite {
                name,
                count,
                index,
                value,
            }),
        },
        e => e,
    }
}

/// One item of `deconv --json`: SciPy's stop code and message beside the shared
/// figures and the quality against the truth.
#[derive(Serialize)]
struct ItemJson<'a> {
    istop: Option<usize>,
    reason: &'static str,
    #[serde(flatten)]
    info: &'a SolveInfo,
    #[serde(flatten)]
    quality: Option<Quality>,
    noise_fit: Option<NoiseFit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regularization: Option<&'a RegChoice>,
}

#[derive(Serialize)]
struct DeconvJson<'a> {
    command: &'static str,
    solver: Solver,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<convmat::solve::SpectralFilter>,
    operator: OperatorKind,
    output: String,
    output_shape: &'a [usize],
    items: Vec<ItemJson<'a>>,
}

/// `--truth`, read and checked to have the estimate's shape.
fn read_truth(a: &DeconvArgs, x_shape: &[usize]) -> Result<Option<Tensor>, Error> {
    let truth = a.truth.as_deref().map(read_tensor).transpose()?;
    if let Some(t) = &truth {
        if t.shape() != x_shape {
            return Err(GeometryError::InputShape {
                name: "truth",
                expected: shape_str(x_shape),
                got: shape_str(t.shape()),
            }
            .into());
        }
    }
    Ok(truth)
}

/// A flag clap requires unless `--stack` is given.
fn required<'a, T>(value: &'a Option<T>, flag: &str) -> Result<&'a T, Error> {
    value
        .as_ref()
        .ok_or_else(|| Error::Invalid(format!("{flag} is required (or give --stack model.json)")))
}

pub fn run_deconv(a: &DeconvArgs) -> Result<(), Error> {
    if let Some(path) = &a.stack {
        return run_deconv_stack(a, path);
    }
    let y_t = read_tensor(&a.observed)?;
    let weight = required(&a.weight, "--weight")?;
    let input_size = required(&a.input_size, "--input-size")?;
    let w_t = read_tensor(weight)?;
    let g = conv_geometry(w_t.shape(), &input_size.0, &a.geometry)?;
    let batch = g.check_output("observed", y_t.shape())?;
    let batched = y_t.shape().len() == g.rank() + 2;
    let x_shape: Vec<usize> = if batched {
        batched_shape(batch, &g.input_shape())
    } else {
        g.input_shape()
    };
    let truth = read_truth(a, &x_shape)?;
    let opts = deconv_options(a, Some(&w_t))?;
    let show = std::io::stderr().is_terminal();
    let mut last = Instant::now();
    let mut progress = |item: usize, p: &Progress<'_, f64>| {
        if show && last.elapsed().as_millis() >= 500 {
            last = Instant::now();
            eprint!(
                "\r  item {item}: iteration {}, ‖r‖ = {:.3e}, ‖Aᵀr‖ = {:.3e}   ",
                p.itn, p.rnorm, p.arnorm
            );
        }
    };
    let (y, w) = (as_f64(&y_t), as_f64(&w_t));
    let truth_values = truth.as_ref().map(as_f64);
    let d = deconvolve(
        &g,
        &w,
        &y,
        truth_values.as_deref(),
        &opts,
        Some(&mut progress),
    );
    if show {
        eprint!("\r\x1b[K");
    }
    let files = [
        ("observed y", a.observed.as_path(), y_t.shape()),
        ("weight", weight.as_path(), w_t.shape()),
    ];
    let d = d.map_err(|e| match e {
        Error::Solve(SolveError::NegativeData {
            solver,
            name: "y",
            index,
            value,
        }) => Error::Invalid(format!(
            "{solver} needs non-negative data, but {} at index {} (of shape {}) is {value:e}; \
             --clip-negative sets negative values to 0 first",
            a.observed.display(),
            shape_str(&unravel_index(y_t.shape(), index)),
            shape_str(y_t.shape())
        )),
        e => in_file_terms(e, &files),
    })?;
    write_like(&a.output, &y_t, &x_shape, &d.x)?;
    print_outcome(a, &opts, &d, y_t.shape(), &x_shape)
}

/// `deconv --stack`: the same solvers on a whole stack's product.
fn run_deconv_stack(a: &DeconvArgs, path: &std::path::Path) -> Result<(), Error> {
    let stack: Stack<f64> = convmat::stack::load(path)?;
    let y_t = read_tensor(&a.observed)?;
    let (rows, out_shape) = (stack.rows(), stack.output_shape());
    let batched = y_t.shape().len() == out_shape.len() + 1 && y_t.shape()[1..] == *out_shape;
    if y_t.shape() != out_shape && !batched {
        return Err(GeometryError::InputShape {
            name: "observed",
            expected: format!(
                "the stack's output {} (or a batch of them), from {}",
                shape_str(out_shape),
                path.display()
            ),
            got: shape_str(y_t.shape()),
        }
        .into());
    }
    let batch = y_t.shape().iter().product::<usize>() / rows.max(1);
    let x_shape = if batched {
        batched_shape(batch, stack.input_shape())
    } else {
        stack.input_shape().to_vec()
    };
    let truth = read_truth(a, &x_shape)?;
    let opts = deconv_options(a, None)?;
    let truth_values = truth.as_ref().map(as_f64);
    let d = stack.deconvolve(&as_f64(&y_t), truth_values.as_deref(), &opts, None)?;
    write_like(&a.output, &y_t, &x_shape, &d.x)?;
    print_outcome(a, &opts, &d, y_t.shape(), &x_shape)
}

/// The diagnostics of a finished deconvolution, as text or JSON.
fn print_outcome(
    a: &DeconvArgs,
    opts: &DeconvOptions,
    d: &Deconvolution<f64>,
    y_shape: &[usize],
    x_shape: &[usize],
) -> Result<(), Error> {
    // SciPy's stop codes belong to its solvers (Richardson–Lucy's limit is no istop 7)
    let scipy = matches!(opts.solver, Solver::Lsqr | Solver::Lsmr | Solver::Cgls);
    if a.json {
        let json = DeconvJson {
            command: "deconv",
            solver: opts.solver,
            filter: (opts.solver == Solver::Spectral).then_some(opts.filter),
            operator: d.operator,
            output: a.output.display().to_string(),
            output_shape: x_shape,
            items: d
                .items
                .iter()
                .map(|i| ItemJson {
                    istop: i.info.istop().filter(|_| scipy),
                    reason: i.info.stop.message(),
                    info: &i.info,
                    quality: i.quality,
                    noise_fit: i.noise_fit,
                    regularization: i.regularization.as_ref(),
                })
                .collect(),
        };
        outln!("{}", serde_json::to_string(&json).expect("plain data"))?;
    } else {
        let solver = match opts.solver {
            Solver::Spectral => format!("spectral {}", opts.filter.name()),
            s => s.name().to_string(),
        };
        outln!(
            "deconv ({}, {} operator): observed {} → x {}, written to {}",
            solver,
            d.operator.name(),
            shape_str(y_shape),
            shape_str(x_shape),
            a.output.display()
        )?;
        for (i, item) in d.items.iter().enumerate() {
            let info = &item.info;
            let stop = info
                .istop()
                .map_or(String::new(), |s| format!("istop {s}: "));
            // the spectral solver runs no iterations
            let after = match opts.solver {
                Solver::Spectral => String::new(),
                _ => format!(" after {} iteration(s)", info.iterations),
            };
            let mut line = format!(
                "  item {i}: {stop}{}{after}; ‖Cx − y‖ = {:.4e}",
                info.stop.message(),
                info.residual_norm
            );
            if opts.damp > 0.0 {
                line.push_str(&format!(
                    "; damped √(‖Cx − y‖² + λ²‖x‖²) = {:.4e}",
                    info.damped_residual_norm
                ));
            }
            if let Some(c) = &item.regularization {
                line.push_str(&format!("; {}", choice_text(c)));
            }
            if let Some(q) = item.quality {
                line.push_str(&format!(
                    "; relative error vs truth ‖x̂ − x‖/‖x‖ = {:.4e}, PSNR {:.2} dB (peak: the truth's range)",
                    q.relative_error, q.psnr_db
                ));
            }
            outln!("{line}")?;
        }
        for (i, item) in d.items.iter().enumerate() {
            if let Some(f) = &item.noise_fit {
                eprintln!("{}", noise_warning(i, f, opts.solver));
            }
        }
    }
    Ok(())
}

/// The warning for an estimate that fits the noise, with the remedies and their scale.
fn noise_warning(item: usize, f: &NoiseFit, solver: Solver) -> String {
    let (lo, hi) = f.suggested_damp();
    let remedy = match solver {
        Solver::Spectral => format!(
            "Regularise: --reg-param gcv (or discrepancy, lcurve) chooses the parameter from \
             the data; C's largest singular value is {:.3}, so a given α from {lo:.1e} to \
             {hi:.1e} is the range to try.",
            f.sigma_max
        ),
        Solver::Lsqr | Solver::Lsmr | Solver::Cgls => format!(
            "Regularise: --damp λ (minimises ‖Cx − y‖² + λ²‖x‖²; C's largest singular value \
             is ≈ {:.3}, so try λ from {lo:.1e} to {hi:.1e}), or stop at the noise level with \
             --reg-param discrepancy.",
            f.sigma_max
        ),
        _ => format!(
            "Regularise: --damp λ (minimises ‖Cx − y‖² + λ²‖x‖²; C's largest singular value \
             is ≈ {:.3}, so try λ from {lo:.1e} to {hi:.1e}), or stop early with a small \
             --max-iter.",
            f.sigma_max
        ),
    };
    format!(
        "warning: item {item}: the solution fits the noise. ‖Cx − y‖ = {:.3e} is below the \
         noise estimated from y (σ ≈ {:.2e}, so about {:.3e} is to be expected), and x is {:.1} \
         times larger than y explains. {remedy}",
        f.residual_norm, f.noise_level, f.expected_residual, f.gain,
    )
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
    let (ys, observed_shape) = match &a.observed {
        Some(p) => {
            let t = read_tensor(p)?;
            let n = g.check_output("observed", t.shape())?;
            if n != batch {
                return Err(Error::Invalid(format!(
                    "{n} observation(s) for {batch} source(s)"
                )));
            }
            (Some(as_f64(&t)), t.shape().to_vec())
        }
        None => (None, vec![]),
    };
    let opts = LsqrOptions {
        atol: a.atol,
        btol: a.btol,
        max_iter: Some(100 * w.len().max(10)),
        ..Default::default()
    };
    let observed_path = a.observed.clone().unwrap_or_default();
    let files = [
        ("sources x", a.input.as_path(), x_t.shape()),
        ("weight", a.weight.as_path(), w_t.shape()),
        (
            "observations y",
            observed_path.as_path(),
            observed_shape.as_slice(),
        ),
    ];
    let study =
        fit_transpose(&g, &w, &xs, ys.as_deref(), &opts).map_err(|e| in_file_terms(e, &files))?;
    let fit = &study.fit;
    write_like(&a.output, &w_t, w_t.shape(), &fit.weight)?;
    let istop = fit.info.istop().unwrap_or(0);
    if a.json {
        let comparison: Vec<_> = study
            .comparison
            .iter()
            .map(|(method, e)| serde_json::json!({"method": method, "relative_error": e}))
            .collect();
        let json = serde_json::json!({
            "command": "fit-transpose",
            "output": a.output.display().to_string(),
            "weight_shape": w_t.shape(),
            "pairs": batch,
            "lsqr_istop": istop,
            "lsqr_itn": fit.info.iterations,
            "comparison": comparison,
        });
        outln!("{json}")?;
    } else {
        outln!(
            "fit-transpose: W′ {} fitted on {batch} pair(s) (LSQR istop {istop}, {} iterations), written to {}",
            shape_str(w_t.shape()),
            fit.info.iterations,
            a.output.display()
        )?;
        outln!("  relative error ‖x̂ − x‖/‖x‖ on the training pairs:")?;
        for (n, e) in &study.comparison {
            outln!("    {e:>12.4e}  {n}")?;
        }
    }
    Ok(())
}
