//! `convmat deconv` and `convmat fit-transpose`.

use super::args::{DeconvArgs, FitTransposeArgs, GeometryArgs, OperatorArg};
use super::out::outln;
use convmat::error::shape_str;
use convmat::geometry::{batched_shape, unravel_index, ConvGeometry};
use convmat::io::{read_tensor, write_npy, Tensor};
use convmat::kernels::separable::default_rtol;
use convmat::metrics::Quality;
use convmat::solve::{
    deconvolve, fit_transpose, DeconvOptions, LsqrOptions, NoiseFit, OperatorChoice, OperatorKind,
    PinvOptions, Progress, SolveInfo, Solver,
};
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
pub fn conv_geometry(
    weight: &[usize],
    size: &[usize],
    g: &GeometryArgs,
) -> Result<ConvGeometry, Error> {
    Ok(ConvGeometry::for_weight(weight, size, &g.options(&[0]))?)
}

/// The library's options from the flags given, refusing those the solver does not use.
fn deconv_options(a: &DeconvArgs, weight: &Tensor) -> Result<DeconvOptions, Error> {
    let given = [
        ("damp", "--damp", a.damp.is_some()),
        ("atol", "--atol", a.atol.is_some()),
        ("btol", "--btol", a.btol.is_some()),
        ("conlim", "--conlim", a.conlim.is_some()),
        ("max_iter", "--max-iter", a.max_iter.is_some()),
        ("tol", "--tol", a.tol.is_some()),
        ("clip_negative", "--clip-negative", a.clip_negative),
        ("pinv", "--svd-max-elements", a.svd_max_elements.is_some()),
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
    let d = DeconvOptions::default();
    Ok(DeconvOptions {
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
        separable_rtol: Some(match weight {
            Tensor::F32(_) => default_rtol::<f32>(),
            Tensor::F64(_) => default_rtol::<f64>(),
        }),
    })
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
}

#[derive(Serialize)]
struct DeconvJson<'a> {
    command: &'static str,
    solver: Solver,
    operator: OperatorKind,
    output: String,
    output_shape: &'a [usize],
    items: Vec<ItemJson<'a>>,
}

pub fn run_deconv(a: &DeconvArgs) -> Result<(), Error> {
    let y_t = read_tensor(&a.observed)?;
    let w_t = read_tensor(&a.weight)?;
    let g = conv_geometry(w_t.shape(), &a.input_size.0, &a.geometry)?;
    let batch = g.check_output("observed", y_t.shape())?;
    let batched = y_t.shape().len() == g.rank() + 2;
    let x_shape: Vec<usize> = if batched {
        batched_shape(batch, &g.input_shape())
    } else {
        g.input_shape()
    };
    let truth = a.truth.as_deref().map(read_tensor).transpose()?;
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
    let opts = deconv_options(a, &w_t)?;
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
        ("weight", a.weight.as_path(), w_t.shape()),
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
    write_like(&a.output, &y_t, &x_shape, d.x)?;
    // SciPy's stop codes belong to its solvers (Richardson–Lucy's limit is no istop 7)
    let scipy = matches!(opts.solver, Solver::Lsqr | Solver::Lsmr | Solver::Cgls);
    if a.json {
        let json = DeconvJson {
            command: "deconv",
            solver: opts.solver,
            operator: d.operator,
            output: a.output.display().to_string(),
            output_shape: &x_shape,
            items: d
                .items
                .iter()
                .map(|i| ItemJson {
                    istop: i.info.istop().filter(|_| scipy),
                    reason: i.info.stop.message(),
                    info: &i.info,
                    quality: i.quality,
                    noise_fit: i.noise_fit,
                })
                .collect(),
        };
        outln!("{}", serde_json::to_string(&json).expect("plain data"))?;
    } else {
        outln!(
            "deconv ({}, {} operator): observed {} → x {}, written to {}",
            opts.solver.name(),
            d.operator.name(),
            shape_str(y_t.shape()),
            shape_str(&x_shape),
            a.output.display()
        )?;
        for (i, item) in d.items.iter().enumerate() {
            let info = &item.info;
            let stop = info
                .istop()
                .map_or(String::new(), |s| format!("istop {s}: "));
            let mut line = format!(
                "  item {i}: {stop}{} after {} iteration(s); ‖Cx − y‖ = {:.4e}",
                info.stop.message(),
                info.iterations,
                info.residual_norm
            );
            if opts.damp > 0.0 {
                line.push_str(&format!(
                    "; damped √(‖Cx − y‖² + λ²‖x‖²) = {:.4e}",
                    info.damped_residual_norm
                ));
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
                eprintln!("{}", noise_warning(i, f));
            }
        }
    }
    Ok(())
}

/// The warning for an estimate that fits the noise, with the remedies and their scale.
fn noise_warning(item: usize, f: &NoiseFit) -> String {
    format!(
        "warning: item {item}: the solution fits the noise. ‖Cx − y‖ = {:.3e} is below the \
         noise estimated from y (σ ≈ {:.2e}, so about {:.3e} is to be expected), and x is {:.1} \
         times larger than y explains. Regularise: --damp λ (minimises ‖Cx − y‖² + λ²‖x‖²; C's \
         largest singular value is ≈ {:.3}, so try λ from {:.1e} to {:.1e}), or stop early with \
         a small --max-iter.",
        f.residual_norm,
        f.noise_level,
        f.expected_residual,
        f.gain,
        f.sigma_max,
        f.suggested_damp().0,
        f.suggested_damp().1
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
    write_like(&a.output, &w_t, w_t.shape(), fit.weight.clone())?;
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
