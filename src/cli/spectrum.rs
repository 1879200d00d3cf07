//! `convmat spectrum`: the singular values of a convolution layer's C, largest
//! first — exact for circular and symmetric-DCT layers, the top K by Lanczos
//! elsewhere.

use super::args::{GeometryArgs, MemoryArgs};
use super::deconv::conv_geometry;
use super::out::outln;
use super::values::{dims, Dims};
use clap::{Args, ValueEnum};
use convmat::error::shape_str;
use convmat::io::{read_tensor, write_npy, Tensor};
use convmat::solve::{spectrum, Spectrum, SpectrumChoice, SpectrumMethod, SpectrumOptions};
use convmat::{Error, SolveError};
use ndarray::{ArrayD, IxDyn};
use std::path::PathBuf;

/// Which method, as the command line spells it.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
// no doc comments on the values: clap would switch every help to its long form
#[allow(missing_docs)]
pub enum MethodArg {
    Auto,
    Exact,
    Lanczos,
}

#[derive(Args, Debug)]
pub struct SpectrumArgs {
    /// Weight tensor (.npy, (C_out, C_in/groups, k…)).
    #[arg(long)]
    pub weight: PathBuf,
    /// Input spatial size, e.g. 32,32.
    #[arg(long, allow_negative_numbers = true, value_parser = dims)]
    pub input_size: Dims,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    /// Only the K largest singular values (1: the spectral norm). Required where no
    /// transform diagonalises C (zeros padding, a stride, …): Lanczos finds them.
    #[arg(long, help_heading = "Spectrum")]
    pub top: Option<usize>,
    /// auto: exact where a transform diagonalises C (FFT: circular padding; DCT:
    /// symmetric padding, symmetric kernels), else Lanczos; exact: refused elsewhere;
    /// lanczos: even where exact applies.
    #[arg(long, value_enum, default_value = "auto", help_heading = "Spectrum")]
    pub method: MethodArg,
    /// Lanczos: stop when every residual is at most TOL·σ_max (default 1e-10).
    #[arg(long, allow_negative_numbers = true, help_heading = "Spectrum")]
    pub tol: Option<f64>,
    /// Lanczos: products with C at most (default 10000).
    #[arg(long, help_heading = "Spectrum")]
    pub max_iter: Option<usize>,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Output file (.npy, 1-D, the weight's dtype), written atomically.
    #[arg(long, help_heading = "Output")]
    pub output: PathBuf,
    /// Print the diagnostics as JSON (method, σ_max, tolerance, residuals, …).
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

pub fn run(a: &SpectrumArgs) -> Result<(), Error> {
    let w_t = read_tensor(&a.weight)?;
    let g = conv_geometry(w_t.shape(), &a.input_size.0, &a.geometry)?;
    let w = super::deconv::as_f64(&w_t);
    let count = g.rows().min(g.cols());
    let exact = SpectrumMethod::exact_for(&g, &w);
    let lanczos = match a.method {
        MethodArg::Lanczos => true,
        MethodArg::Exact => false,
        MethodArg::Auto => exact.is_err(),
    };
    if !lanczos {
        for (flag, given) in [
            ("--tol", a.tol.is_some()),
            ("--max-iter", a.max_iter.is_some()),
        ] {
            if given {
                let why = match exact {
                    Ok(m) => format!("this layer's singular values are exact ({m})"),
                    Err(_) => "--method exact computes no iterations".into(),
                };
                return Err(Error::Invalid(format!(
                    "{flag} applies to Lanczos only: {why}"
                )));
            }
        }
    }
    if let (true, None) = (lanczos, a.top) {
        let why = match (a.method, &exact) {
            (MethodArg::Lanczos, _) => {
                "--method lanczos finds the K largest singular values".into()
            }
            (_, Err(SolveError::NoDiagonalization { reason })) => format!(
                "no FFT or DCT diagonalises this convolution: {reason}; only its K largest \
                 singular values are computed, by Lanczos"
            ),
            _ => String::new(),
        };
        return Err(Error::Invalid(format!(
            "{why}: give --top K, from 1 to {count} (C is {}×{})",
            g.rows(),
            g.cols()
        )));
    }
    let defaults = SpectrumOptions::default();
    let opts = SpectrumOptions {
        top: a.top,
        method: match a.method {
            MethodArg::Auto => SpectrumChoice::Auto,
            MethodArg::Exact => SpectrumChoice::Exact,
            MethodArg::Lanczos => SpectrumChoice::Lanczos,
        },
        tol: a.tol.unwrap_or(defaults.tol),
        max_iter: a.max_iter.unwrap_or(defaults.max_iter),
        time_limit: None,
        max_memory: a.memory.max_memory,
    };
    let s = spectrum(&g, &w, &opts).map_err(|e| in_cli_terms(e, count))?;
    let n = s.values.len();
    match w_t {
        Tensor::F32(_) => {
            let v: Vec<f32> = s.values.iter().map(|&x| x as f32).collect();
            write_npy(
                &a.output,
                &ArrayD::from_shape_vec(IxDyn(&[n]), v).expect("1-D"),
            )?
        }
        Tensor::F64(_) => write_npy(
            &a.output,
            &ArrayD::from_shape_vec(IxDyn(&[n]), s.values.clone()).expect("1-D"),
        )?,
    }
    if !s.converged {
        eprintln!(
            "warning: Lanczos stopped after {} products with C before every residual was at \
             most {:.1e}·σ_max (largest residual {:.3e}): the values are lower bounds; raise \
             --max-iter or --tol",
            s.iterations,
            s.tolerance,
            s.residuals
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .fold(0.0f64, |m, &r| m.max(r))
        );
    }
    if a.json {
        let v = serde_json::json!({
            "method": s.method,
            "rows": s.rows,
            "cols": s.cols,
            "count": s.count,
            "written": n,
            "output": a.output.display().to_string(),
            "input_shape": g.input_shape(),
            "output_shape": g.output_shape(),
            "sigma_max": s.sigma_max,
            "sigma_min": smallest(&s),
            "tolerance": s.tolerance,
            "residuals": s.residuals,
            "converged": s.converged,
            "iterations": s.iterations,
            "restarts": s.restarts,
            "time_limited": s.time_limited,
        });
        outln!("{v}")?;
    } else {
        outln!("{}", summary(&s, &g, &a.output))?;
    }
    Ok(())
}

/// σ_min of C when every value was computed (0 for a wide C, whose σ_n is 0).
fn smallest(s: &Spectrum) -> Option<f64> {
    (s.values.len() == s.count).then(|| {
        if s.rows < s.cols {
            0.0
        } else {
            s.values.last().copied().unwrap_or(0.0)
        }
    })
}

fn summary(s: &Spectrum, g: &convmat::geometry::ConvGeometry, output: &std::path::Path) -> String {
    let mut out = vec![format!(
        "C                 {}×{}: input {} → output {}",
        s.rows,
        s.cols,
        shape_str(&g.input_shape()),
        shape_str(&g.output_shape())
    )];
    let what = if s.values.len() == s.count {
        format!("all {}", s.count)
    } else {
        format!("the largest {} of {}", s.values.len(), s.count)
    };
    let how = match s.method {
        SpectrumMethod::ExactFourier => "exact: per frequency, the SVD of the channel matrix (FFT)",
        SpectrumMethod::ExactCosine => "exact: the DCT diagonalises every channel block",
        SpectrumMethod::Lanczos => "Lanczos bidiagonalisation on the matrix-free operator",
    };
    out.push(format!("singular values   {what} ({}, {how})", s.method));
    out.push(format!("σ_max             {:.6e}", s.sigma_max));
    if let Some(smin) = smallest(s) {
        out.push(format!("σ_min             {smin:.6e}"));
        out.push(format!(
            "condition number  {}",
            if smin > 0.0 {
                format!("{:.6e}", s.sigma_max / smin)
            } else {
                "∞".into()
            }
        ));
    }
    match &s.residuals {
        Some(r) => out.push(format!(
            "accuracy          each value a lower bound with a singular value within its residual; \
             largest residual {:.3e} (tolerance {:.1e}·σ_max), {} products with C, {} restart(s){}",
            r.iter().fold(0.0f64, |m, &v| m.max(v)),
            s.tolerance,
            s.iterations,
            s.restarts,
            if s.converged { "" } else { ", NOT converged" }
        )),
        None => out.push(format!(
            "accuracy          to rounding: within {:.1e}·σ_max",
            s.tolerance
        )),
    }
    out.push(format!("written           {}", output.display()));
    out.join("\n")
}

/// The library's refusals in the command line's terms.
fn in_cli_terms(e: Error, count: usize) -> Error {
    match e {
        Error::Solve(SolveError::TooManySingularValues { k, rows, cols }) => {
            Error::Invalid(format!(
            "--top {k}: C is {rows}×{cols} and has {count} singular values; give --top 1 to {count}"
        ))
        }
        Error::Solve(SolveError::NotExactlyDiagonal { reason, available }) => {
            Error::Invalid(format!(
                "--method exact: no FFT or DCT diagonalises this convolution: {reason}; \
                 --method auto --top K (1 to {available}) gives the K largest by Lanczos"
            ))
        }
        Error::Solve(SolveError::NegativeOption { name, value }) => Error::Invalid(format!(
            "--{name} must be a non-negative number, got {value}"
        )),
        e => e,
    }
}
