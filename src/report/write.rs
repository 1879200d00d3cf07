//! Laying the measurements out: Markdown, CSV, JSON, SVG plots, PNG images.

use super::caption;
use super::plot::line_plot;
use super::run::{Measurements, Picture, Row};
use crate::io::png::write_gray;
use crate::Error;
use std::fmt::Write as _;
use std::path::Path;

/// The machine and build a report ran on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Environment {
    /// CPU model (from /proc/cpuinfo where available).
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
    /// Worker threads used.
    pub threads: usize,
    /// The SIMD level convmat's kernels and GEMM ran at (`avx512`, `avx2`, `scalar`;
    /// see [`crate::simd`]).
    pub simd: String,
    /// The widest level the processor has.
    pub simd_supported: String,
    /// convmat's version.
    pub version: String,
    /// `release` or `debug`.
    pub profile: String,
    /// The level (`quick`, `full`, `tiny`).
    pub level: String,
}

/// The environment of this process.
pub fn environment(level: &str) -> Environment {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    Environment {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        threads: rayon::current_num_threads(),
        simd: crate::simd::simd_level().to_string(),
        simd_supported: crate::simd::SimdLevel::supported().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .to_string(),
        level: level.to_string(),
    }
}

/// The CSV columns, in order.
pub const CSV_HEADER: &str = "section,case,formulation,dtype,median_ms,throughput,throughput_unit,extra_bytes,max_abs_error,relative_error,psnr_db,ssim,note";

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x:e}"))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(rows: &[Row]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for r in rows {
        let fields = [
            csv_field(&r.section),
            csv_field(&r.case),
            csv_field(&r.formulation),
            r.dtype.clone(),
            format!("{:e}", r.median_ms),
            opt(r.throughput),
            r.throughput_unit.clone(),
            r.extra_bytes.to_string(),
            opt(r.max_abs_error),
            opt(r.relative_error),
            opt(r.psnr_db.filter(|v| v.is_finite())),
            opt(r.ssim),
            csv_field(&r.note),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// `{"environment": …, "rows": [ … ]}`, one row a line; non-finite numbers as null.
fn json(rows: &[Row], env: &Environment) -> String {
    let rows: Vec<String> = rows
        .iter()
        .map(|r| serde_json::to_string(r).expect("plain data"))
        .collect();
    format!(
        "{{\"environment\":{},\"rows\":[\n{}\n]}}\n",
        serde_json::to_string(env).expect("plain data"),
        rows.join(",\n")
    )
}

fn fmt_ms(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 1.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.4}")
    }
}

fn fmt_bytes(b: u64) -> String {
    match b {
        0 => "—".into(),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn fmt_e(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| {
        if x == 0.0 {
            "0".into()
        } else {
            format!("{x:.2e}")
        }
    })
}

fn section_table(out: &mut String, rows: &[&Row]) {
    out.push_str("| case | formulation | dtype | median ms | throughput | extra memory | max abs error | relative error | note |\n|---|---|---|---:|---:|---:|---:|---:|---|\n");
    for r in rows {
        let tp = r
            .throughput
            .map_or("—".into(), |t| format!("{t:.2} {}", r.throughput_unit));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.case,
            r.formulation,
            r.dtype,
            fmt_ms(r.median_ms),
            tp,
            fmt_bytes(r.extra_bytes),
            fmt_e(r.max_abs_error),
            fmt_e(r.relative_error),
            r.note
        );
    }
}

/// Words on each reconstruction, drawn from its numbers and its rank among them.
fn reconstruction_paragraphs(rows: &[&Row]) -> String {
    let mut by_psnr: Vec<&&Row> = rows.iter().collect();
    by_psnr.sort_by(|a, b| {
        b.psnr_db
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.psnr_db.unwrap_or(f64::NEG_INFINITY))
    });
    let rank = |r: &Row| {
        by_psnr
            .iter()
            .position(|x| std::ptr::eq(**x, r))
            .map_or(0, |p| p + 1)
    };
    let mut out = String::new();
    for r in rows {
        let (p, s) = (r.psnr_db.unwrap_or(f64::NAN), r.ssim.unwrap_or(f64::NAN));
        let how = match r.formulation.as_str() {
            f if f.starts_with("nearest") => "copies each value into its 2×2 block: no new values, blocky edges, and it cannot undo the max-pool's bias towards bright pixels",
            f if f.starts_with("bed of nails") => "keeps one value per block and leaves three zeros: three quarters of the image is missing, which the PSNR and SSIM punish",
            f if f.starts_with("max-unpooling") => "puts each maximum back exactly where it came from and zeros elsewhere: sharp where the maxima sit, empty around them",
            f if f.starts_with("bilinear, align") => "interpolates with the corner pixels aligned: smooth, a slight stretch of the grid",
            f if f.starts_with("bilinear") => "interpolates between neighbours: smooth, edges blurred, cheap",
            f if f.starts_with("transposed") => "is the adjoint, not an inverse: it spreads each value back through the kernel, so intensities come out scaled and blurred",
            f if f.starts_with("least squares") => "solves for the image that best explains the observation (minimum norm): sharper edges, at the cost of an iterative solve",
            f if f.starts_with("learned") => "is a transposed convolution whose kernel was fitted by least squares on a different image: one pass at run time, a fair inverse of the down-sampling",
            _ => "",
        };
        let _ = writeln!(
            out,
            "- **{}** (from {}) {how}. PSNR {:.2} dB (rank {} of {}), SSIM {:.3}, {} ms.",
            r.formulation,
            r.case.split(" from ").nth(1).unwrap_or(""),
            p,
            rank(r),
            rows.len(),
            s,
            fmt_ms(r.median_ms)
        );
    }
    out
}

/// The kernel size from which the FFT stays the fastest (`pts`: (kernel size, ms);
/// `best_other`: the best of direct and im2col at a kernel size), in words.
fn fft_crossover(pts: &[(f64, f64)], best_other: impl Fn(f64) -> f64) -> String {
    let from = pts
        .iter()
        .rposition(|q| q.1 >= best_other(q.0))
        .map_or(Some(0), |last_loss| {
            (last_loss + 1 < pts.len()).then_some(last_loss + 1)
        });
    match from {
        Some(i) => format!(
            "the crossover: the FFT is the fastest from a {0}×{0} kernel on (`auto` \
             takes it where its estimate is below ¾ of the loops', see `kernels::method`).",
            pts[i].0
        ),
        None => "the crossover: the FFT did not overtake the loops at the measured kernel sizes \
                 (it pays for larger kernels or images; see `kernels::method`)."
            .to_string(),
    }
}

fn markdown(m: &Measurements, env: &Environment) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# convmat report\n");
    let _ = writeln!(
        out,
        "Ran on **{}** ({} logical cores, {} worker thread(s); kernels at SIMD level `{}`, the processor's widest `{}`), convmat {} ({} build), level `{}`. Times are medians over repeated runs after a warm-up; errors are against an f64 reference (the f64 direct loops) or, for deconvolution and reconstruction, against the true image.\n",
        env.cpu,
        env.cores,
        env.threads,
        env.simd,
        env.simd_supported,
        env.version,
        env.profile,
        env.level
    );
    let sections = [
        ("conv", "## Forward convolution, every formulation", "`direct` loops tap by tap over output rows, `im2col` forms the patch matrix a tile at a time then multiplies (extra memory: the tile), `sparse` multiplies by the explicit C built beforehand (extra memory: C; `sparse_build` times building it; left out for the large kernel), `fft` transforms every plane and the kernel on a grid of fast lengths, multiplies the spectra and transforms back (extra memory: the spectra; not exact, its error grows as ε·log₂N, see `kernels::fft`), `winograd` (3×3, stride 1) computes each 4×4 output tile from a 6×6 input tile with 36 multiplications per channel pair instead of 144, as 36 GEMMs over blocks of tiles (extra memory: one block's transformed tiles; not exact, its derived worst-case bound is in the note and its measured error in the error columns, see `kernels::winograd`). Throughput counts two flops per stored entry of C."),
        ("conv_transpose", "## Transposed convolution, every formulation", "`scatter` loops, `col2im` multiplies then adds the columns back, `zero-insert` convolves the zero-inserted input with the flipped kernel (extra memory: the inserted input), `sparse` computes Cᵀ·y without forming Cᵀ, `fft` is the FFT convolution's adjoint, `phase` computes each of the s² output phases as a stride-1 convolution with its sub-kernel — one implicit GEMM per phase over shifted runs of a padded copy of y (no multiplication by inserted zeros, no scatter-add, no patch matrix; extra memory: the padded copy)."),
        ("upsample", "## Up-samplers: direct operation against the matrix U", "Throughput counts the bytes of input and output. The matrix is built beforehand; U·x reads its three arrays where the direct operation reads the input once."),
        ("deconv", "## Deconvolution solvers", "Recovering the phantom from its blur; errors are against the true image. Iterative solvers stop at atol = btol = 1e-8."),
        ("spectrum", "## Exact singular values of a conv layer", "`solve::spectrum` (`convmat spectrum`) on a circular layer: the FFT of the kernel per (out, in) channel pair, then the SVD of each C_out×C_in frequency matrix (Sedghi, Gupta & Long); with `--top 1` only each frequency's largest singular value. The relative error checks Σσ² against ‖C‖_F² = H·W·‖w‖², and the spectral norm alone against the full spectrum's σ_max."),
    ];
    for (key, title, text) in sections {
        let rows: Vec<&Row> = m.rows.iter().filter(|r| r.section == key).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}\n\n{text}\n");
        section_table(&mut out, &rows);
        out.push('\n');
    }
    out.push_str("## Scaling\n\n");
    for p in &m.plots {
        let _ = writeln!(
            out,
            "### {}\n\n![{}](plots/{}.svg)\n",
            p.title, p.name, p.name
        );
        if p.name.starts_with("scaling_") {
            // where the explicit matrix stops paying: compare it with the best of the others
            let best_other = |x: f64| {
                p.series
                    .iter()
                    .filter(|(n, _)| n == "direct" || n == "im2col")
                    .filter_map(|(_, pts)| pts.iter().find(|q| q.0 == x).map(|q| q.1))
                    .fold(f64::INFINITY, f64::min)
            };
            for (name, pts) in p
                .series
                .iter()
                .filter(|(n, _)| n.starts_with("sparse") || n == "fft")
            {
                let wins: Vec<String> = pts
                    .iter()
                    .filter(|q| q.1 < best_other(q.0))
                    .map(|q| format!("{}", q.0))
                    .collect();
                let _ = writeln!(
                    out,
                    "- {name}: faster than both direct and im2col at {}.",
                    if wins.is_empty() {
                        "no measured point".to_string()
                    } else {
                        wins.join(", ")
                    }
                );
                if name == "fft" && p.name == "scaling_kernel" {
                    let _ = writeln!(out, "- {}", fft_crossover(pts, best_other));
                }
            }
            out.push('\n');
        }
    }
    for (_, note) in &m.notes {
        let _ = writeln!(out, "{note}\n");
    }
    let rec: Vec<&Row> = m
        .rows
        .iter()
        .filter(|r| r.section == "reconstruction")
        .collect();
    if !rec.is_empty() {
        out.push_str("## The seed's comparison: reconstructing a down-sampled image\n\n");
        let _ = write!(
            out,
            "Test image: {}. ",
            rec[0].case.split(" from ").next().unwrap_or("")
        );
        out.push_str("It is down-sampled twice by 2: by 2×2 max-pooling (keeping the indices) and by a stride-2 convolution with the separable kernel [1,3,3,1]/8. Each method reconstructs the full size; PSNR (peak 1) and SSIM are against the original.\n\n");
        out.push_str("| method | from | PSNR dB | SSIM | ms |\n|---|---|---:|---:|---:|\n");
        for r in &rec {
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {:.3} | {} |",
                r.formulation,
                r.case.split(" from ").nth(1).unwrap_or(""),
                r.psnr_db.unwrap_or(f64::NAN),
                r.ssim.unwrap_or(f64::NAN),
                fmt_ms(r.median_ms)
            );
        }
        out.push_str("\n![side by side](images/comparison.png)\n\n");
        out.push_str("Left to right: the original, then each reconstruction in the order of the table, captioned with its number, method and PSNR (images/reconstruction_NN.png one by one).\n\n");
        out.push_str(&reconstruction_paragraphs(&rec));
    }
    let deblur: Vec<&Row> = m.rows.iter().filter(|r| r.section == "deblur").collect();
    if !deblur.is_empty() {
        out.push_str(
            "## Deblurring a noisy image: Cᵀ·y against true deconvolution

",
        );
        let _ = write!(
            out,
            "The Shepp–Logan phantom ({}) blurred by a 9×9 Gaussian (σ = 2) with periodic \
             boundaries, plus 1 % Gaussian noise, restored from y and the blur alone: each \
             method's parameter is chosen from the data, as `convmat deconv` chooses it \
             (σ, where a rule needs it, estimated from y). PSNR (peak: the phantom's range) \
             and SSIM are against the phantom; times are medians of the whole solve, \
             parameter choice included.\n\n",
            deblur[0].case.split(' ').next().unwrap_or("")
        );
        out.push_str("| method | parameter | PSNR dB | SSIM | ms |\n|---|---|---:|---:|---:|\n");
        for r in &deblur {
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {:.3} | {} |",
                r.formulation,
                r.note,
                r.psnr_db.unwrap_or(f64::NAN),
                r.ssim.unwrap_or(f64::NAN),
                if r.median_ms > 0.0 {
                    fmt_ms(r.median_ms)
                } else {
                    "—".into()
                }
            );
        }
        let best = |key: fn(&Row) -> Option<f64>| {
            deblur
                .iter()
                .max_by(|a, b| {
                    key(a)
                        .unwrap_or(f64::NEG_INFINITY)
                        .total_cmp(&key(b).unwrap_or(f64::NEG_INFINITY))
                })
                .map_or("", |r| r.formulation.as_str())
        };
        let (by_psnr, by_ssim) = (best(|r| r.psnr_db), best(|r| r.ssim));
        let _ = write!(out, "\nBest PSNR: {by_psnr}. ");
        if by_ssim == by_psnr {
            out.push_str("It has the best SSIM too.\n");
        } else {
            let _ = writeln!(
                out,
                "Best SSIM: {by_ssim} — SSIM compares local means, contrasts and \
                 correlations, and punishes the noise and ringing a restoration leaves in \
                 the phantom's flat regions more than the blur it removes."
            );
        }
        out.push_str("\n![side by side](images/deblur.png)\n\n");
        out.push_str(
            "Left to right: the phantom, the observation y, then each restoration in the \
             order of the table, captioned with its method and PSNR (images/deblur_*.png \
             one by one). Cᵀ·y is the adjoint, not an inverse: for a normalised blur it \
             blurs a second time. LSQR's iterates first approach x and then fit the noise \
             (semiconvergence); the discrepancy principle stops them at the first iterate \
             whose residual reaches the noise level σ·√n. Tikhonov, Wiener and truncated \
             SVD filter y in the Fourier basis that diagonalises the periodic C (two FFTs \
             and O(n) arithmetic): Tikhonov and Wiener damp the frequencies where |λ| is \
             small, truncated SVD drops them.\n\n",
        );
    }
    if let Some(study) = &m.parameter_choice {
        out.push_str(
            "### Deblurring with the regularization chosen from the data

",
        );
        out.push_str(&study.markdown());
        out.push_str(
            "\nSpectral Tikhonov (`deconv --solver spectral`), α chosen by GCV, the discrepancy \
             principle (‖Cx − y‖ = σ√n) and the L-curve's corner, against the oracle: the α of best \
             PSNR on a grid of 601 values over six decades. Wiener's noise-to-signal ratio is \
             estimated as σ²/(var(y) − σ²) with σ from y.\n\n",
        );
    }
    if !m.checkerboard.is_empty() {
        out.push_str(&checkerboard_markdown(&m.checkerboard));
    }
    out
}

/// The checkerboard section: the gain `M·𝟙` of each decoder, its interior range and
/// pattern, and the strip of gain maps.
fn checkerboard_markdown(maps: &[(String, crate::stack::GainMap)]) -> String {
    let mut out = String::from(
        "## The checkerboard of up-sampling decoders\n\n\
         Four ways to up-sample one 16×16 channel ×2, every weight 1 (`convmat checkerboard`): \
         the gain `M·𝟙` of each decoder's matrix M — the column sums of Mᵀ, what each output \
         receives from a constant input. Odena, Dumoulin & Olah (2016): when the stride does \
         not divide the kernel size, a transposed convolution's outputs receive different \
         numbers of taps, a checkerboard that training must fight; resize-convolution and \
         sub-pixel convolution (pixel shuffle) have a flat gain. Interior: the positions \
         `max(2, O/8)` or more from each border.\n\n\
         | decoder | min | max | max/min | period | one period | interior |\n|---|---:|---:|---:|---|---|---|\n",
    );
    for (name, g) in maps {
        let period = if g.period.contains(&0) {
            "none".to_string()
        } else {
            let p: Vec<String> = g.period.iter().map(|p| p.to_string()).collect();
            p.join("×")
        };
        let cell: Vec<String> = g.cell.iter().map(|v| format!("{v}")).collect();
        let interior: Vec<String> = g
            .interior
            .iter()
            .map(|r| format!("{}..{}", r.start, r.end))
            .collect();
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {:.2} | {period} | {} | {} |",
            g.min,
            g.max,
            g.ratio(),
            cell.join(", "),
            interior.join(" × ")
        );
    }
    out.push_str(
        "\n![gain maps](images/checkerboard.png)\n\nEach map shown over twice its interior \
         mean (mid-grey: the mean), in the order of the table.\n\n",
    );
    out
}

/// A side-by-side strip: its file stem, and which pictures (by name) it shows.
type Strip = (&'static str, fn(&str) -> bool);

/// Pictures of one size side by side, 4 pixels apart, each under its caption
/// (drawn by [`caption::draw`]): the height, width and values of the canvas, or
/// `None` for no pictures. Panels are at least 128 pixels wide (16 characters of
/// caption): small images are enlarged by whole factors, each pixel a block.
fn strip(panels: &[&Picture]) -> Option<(usize, usize, Vec<f64>)> {
    let first = panels.first()?;
    let zoom = 128usize.div_ceil(first.w).max(1);
    let (h, w, gap) = (first.h * zoom, first.w * zoom, 4);
    let band = panels
        .iter()
        .map(|p| caption::height(&p.caption, w))
        .max()
        .unwrap_or(0);
    let (total_h, total_w) = (band + h, panels.len() * w + (panels.len() - 1) * gap);
    let mut canvas = vec![1.0; total_h * total_w];
    for (k, p) in panels.iter().enumerate() {
        let x0 = k * (w + gap);
        caption::draw(&mut canvas, total_w, (x0, 0), (w, band), &p.caption);
        for r in 0..h {
            for c in 0..w {
                canvas[(band + r) * total_w + x0 + c] = p.values[(r / zoom) * p.w + c / zoom];
            }
        }
    }
    Some((total_h, total_w, canvas))
}

/// Writes pictures of one size side by side, each under its caption, as one PNG
/// (values on [0, 1]); nothing for no pictures.
///
/// # Errors
/// As [`write_gray`].
pub fn write_strip(path: &Path, panels: &[&Picture]) -> Result<(), Error> {
    match strip(panels) {
        Some((h, w, canvas)) => write_gray(path, h, w, &canvas, 0.0, 1.0),
        None => Ok(()),
    }
}

/// Writes everything into `dir` (which must exist): `report.md`, `results.csv`,
/// `results.json`, `plots/*.svg`, `images/*.png` (each reconstruction, the inputs and
/// a side-by-side `comparison.png`; each deblurring restoration and a side-by-side
/// `deblur.png`).
///
/// # Errors
/// [`Error::Io`] naming the directory or file that could not be created or written, and the
/// errors of [`line_plot`] and [`write_gray`].
pub fn write(m: &Measurements, env: &Environment, dir: &Path) -> Result<(), Error> {
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |source| Error::Io {
            path: p.clone(),
            source,
        }
    };
    for sub in ["plots", "images"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(io(&dir.join(sub)))?;
    }
    let files = [
        ("report.md", markdown(m, env)),
        ("results.csv", csv(&m.rows)),
        ("results.json", json(&m.rows, env)),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).map_err(io(&dir.join(name)))?;
    }
    for p in &m.plots {
        line_plot(
            &dir.join("plots").join(format!("{}.svg", p.name)),
            &p.title,
            (&p.x.0, p.x.1),
            (&p.y.0, p.y.1),
            &p.series,
        )?;
    }
    for pic in &m.pictures {
        write_gray(
            &dir.join("images").join(format!("{}.png", pic.name)),
            pic.h,
            pic.w,
            &pic.values,
            0.0,
            1.0,
        )?;
    }
    // side by side, each under its caption (method and PSNR): the original and every
    // reconstruction of the same size; the phantom, the observation and each
    // restoration of the deblurring comparison
    let strips: [Strip; 3] = [
        ("comparison", |name| {
            name == "original" || name.starts_with("reconstruction_")
        }),
        ("deblur", |name| name.starts_with("deblur_")),
        ("checkerboard", |name| name.starts_with("checkerboard_")),
    ];
    for (name, member) in strips {
        let panels: Vec<&Picture> = m.pictures.iter().filter(|p| member(&p.name)).collect();
        if let Some((h, w, canvas)) = strip(&panels) {
            write_gray(
                &dir.join("images").join(format!("{name}.png")),
                h,
                w,
                &canvas,
                0.0,
                1.0,
            )?;
        }
    }
    Ok(())
}
