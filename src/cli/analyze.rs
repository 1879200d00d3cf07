//! `convmat analyze`: the invertibility report of a convolution, in the user's terms
//! (positions as coordinates, the output size, the row-space conditioning of a wide C).

use super::args::AnalyzeArgs;
use super::deconv::{as_f64, conv_geometry};
use super::out::outln;
use super::values::broadcast;
use convmat::geometry::{unravel_index, ConvGeometry};
use convmat::io::read_tensor;
use convmat::solve::{
    analyze_conv_with_progress, analyze_with_progress, AnalyzeOptions, AnalyzeProgress,
    InvertibilityReport, RankInfo, SpectrumMethod,
};
use convmat::sparse::ConvMatrix;
use convmat::stack::Stack;
use convmat::Error;
use std::io::IsTerminal;
use std::time::Instant;

/// What the report describes: one item's input and output shapes `(C, spatial…)`.
struct Shapes {
    input: Vec<usize>,
    output: Vec<usize>,
}

pub fn run_analyze(a: &AnalyzeArgs) -> Result<(), Error> {
    if !(a.time_limit > 0.0 && a.time_limit.is_finite()) {
        return Err(Error::Invalid(format!(
            "--time-limit must be a positive number of seconds, got {}",
            a.time_limit
        )));
    }
    let opts = AnalyzeOptions {
        svd_max_elements: a.svd_max_elements,
        time_limit: Some(std::time::Duration::from_secs_f64(a.time_limit)),
        ..Default::default()
    };
    let show = std::io::stderr().is_terminal();
    let status = |text: String| {
        if show {
            eprint!("\r\x1b[K  {text}");
        }
    };
    let mut last = Instant::now();
    let mut progress = |p: AnalyzeProgress| match p {
        AnalyzeProgress::Svd { rows, cols } => {
            status(format!("the SVD of the {rows}×{cols} matrix…"))
        }
        AnalyzeProgress::Spectrum { method, count } => {
            status(format!("all {count} singular values, exactly ({method})…"))
        }
        AnalyzeProgress::Lanczos { rows, cols } => {
            status(format!("σ_max of the {rows}×{cols} matrix by Lanczos…"))
        }
        AnalyzeProgress::Power {
            max,
            iteration,
            sigma,
        } => {
            if last.elapsed().as_millis() >= 250 {
                last = Instant::now();
                let which = if max { "σ_max" } else { "σ_min bound" };
                status(format!(
                    "{which} by power iteration: {iteration} iterations, ≈ {sigma:.6e}"
                ));
            }
        }
    };
    let (r, shapes) = if let Some(path) = &a.stack {
        let stack: Stack<f64> = convmat::stack::load(path)?;
        status("building the product matrix…".into());
        let m = stack.matrix(&a.memory.build_options());
        let r = m.and_then(|m| analyze_with_progress(&m, &opts, &mut progress));
        let shapes = Shapes {
            input: stack.input_shape().to_vec(),
            output: stack.output_shape().to_vec(),
        };
        (r, shapes)
    } else {
        let (g, w) = conv_of(a)?;
        status(format!("building C ({} stored entries)…", g.nnz()));
        let c = ConvMatrix::<f64>::build_with_options(&g, &w, &a.memory.build_options())?;
        let r = analyze_conv_with_progress(&c, &g, &w, &opts, &mut progress);
        let shapes = Shapes {
            input: g.input_shape(),
            output: g.output_shape(),
        };
        (r, shapes)
    };
    if show {
        eprint!("\r\x1b[K");
    }
    let r = r?;
    if a.json {
        outln!("{}", r.to_json(&shapes.input, &shapes.output))?;
    } else {
        let ones = a.weight.is_none() && a.stack.is_none();
        let what = if a.stack.is_some() {
            "the product M"
        } else {
            "C"
        };
        outln!("{}", report_text(&r, &shapes, ones, what))?;
        if r.time_limited {
            outln!("(more time for the iterations: --time-limit SECONDS)")?;
        }
    }
    Ok(())
}

/// The convolution and weight `--weight` or `--kernel-size` describe.
fn conv_of(a: &AnalyzeArgs) -> Result<(ConvGeometry, Vec<f64>), Error> {
    let input_size = a.input_size.as_ref().ok_or_else(|| {
        Error::Invalid("--input-size is required (or give --stack model.json)".into())
    })?;
    let (weight_shape, w) = match (&a.weight, &a.kernel_size) {
        (Some(p), _) => {
            let t = read_tensor(p)?;
            (t.shape().to_vec(), as_f64(&t))
        }
        (None, Some(k)) => {
            let kernel = broadcast(&k.0, input_size.0.len());
            let shape: Vec<usize> = [1, 1].iter().chain(&kernel).copied().collect();
            let n = shape.iter().product();
            (shape, vec![1.0; n])
        }
        (None, None) => {
            return Err(Error::Invalid(
                "give --weight w.npy, --kernel-size 3,3 or --stack model.json".into(),
            ))
        }
    };
    Ok((conv_geometry(&weight_shape, &input_size.0, &a.geometry)?, w))
}

/// An input position in the user's terms: its spatial coordinates, with the channel
/// in front when there is more than one (`2` in 1-D, `(0, 2)` in 2-D, `c1 (0, 2)`).
fn position(g: &Shapes, column: usize) -> String {
    let c = unravel_index(&g.input, column);
    let spatial: Vec<String> = c[1..].iter().map(|v| v.to_string()).collect();
    let at = if spatial.len() == 1 {
        spatial[0].clone()
    } else {
        format!("({})", spatial.join(", "))
    };
    if g.input[0] > 1 {
        format!("c{} {at}", c[0])
    } else {
        at
    }
}

/// `(C, spatial…)` in words.
fn sizes(shape: &[usize]) -> String {
    let d: Vec<String> = shape[1..].iter().map(|v| v.to_string()).collect();
    format!("{} channel(s) of {}", shape[0], d.join("×"))
}

fn report_text(r: &InvertibilityReport, g: &Shapes, ones: bool, what: &str) -> String {
    let mut out = vec![];
    if ones {
        out.push("(kernel of ones: pass --weight for your kernel's values)".to_string());
    }
    out.push(format!(
        "{:<17} {}×{} ({} stored entries)",
        format!("shape of {what}"),
        r.rows,
        r.cols,
        r.nnz
    ));
    out.push(format!(
        "maps              input {} → output {}",
        sizes(&g.input),
        sizes(&g.output)
    ));
    match r.rank {
        RankInfo::Exact { rank, nullity } => out.push(format!(
            "rank, nullity     {rank}, {nullity} (exact, {}): singular values ≤ {:.3e} count as zero",
            match r.sigma_method {
                Some(SpectrumMethod::ExactFourier) => "FFT",
                Some(SpectrumMethod::ExactCosine) => "DCT",
                _ => "SVD",
            },
            r.rank_tolerance.unwrap_or(0.0)
        )),
        RankInfo::Bounds { rank_at_most, nullity_at_least } => {
            out.push(format!("rank, nullity     ≤ {rank_at_most}, ≥ {nullity_at_least} (bounds; no SVD at this size)"))
        }
    }
    out.push(format!(
        "σ_max             {:.6e}{}",
        r.sigma_max,
        r.sigma_max_residual.map_or(String::new(), |res| format!(
            " (Lanczos, residual {res:.1e})"
        ))
    ));
    out.push(format!(
        "σ_min             {}{:.6e}{}",
        if r.exact { "" } else { "≤ " },
        r.sigma_min,
        if r.rows < r.cols {
            format!(" ({what} is wide: more inputs than outputs)")
        } else {
            String::new()
        }
    ));
    if let (Some(s), Some(k)) = (r.sigma_min_nonzero, r.condition_row_space) {
        if s != r.sigma_min {
            out.push(format!("σ_min above zero  {s:.6e}"));
            out.push(format!(
                "κ (row space)     {k:.6e} (what least squares inverts)"
            ));
        }
    }
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
    let shown: Vec<String> = zeros.iter().take(12).map(|&c| position(g, c)).collect();
    out.push(format!(
        "never read        {} input position(s){}",
        zeros.len(),
        if zeros.is_empty() {
            String::new()
        } else {
            format!(
                ": {}{}",
                shown.join(", "),
                if zeros.len() > 12 {
                    format!(", … ({} more)", zeros.len() - 12)
                } else {
                    String::new()
                }
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
