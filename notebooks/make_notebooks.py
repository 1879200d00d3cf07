"""Writes the four notebooks' cells (without outputs); `python notebooks/run.py --save`
then executes them and stores the outputs. Edit the cells here, not in the .ipynb."""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP = '''// convmat from this repository, and plotters for inline SVG figures
:dep convmat = { path = ".." }
:dep plotters = { version = "0.3", default-features = false, features = ["evcxr", "svg_backend", "line_series", "point_series"] }'''

HEAT = '''use plotters::prelude::*;
use plotters::evcxr::{evcxr_figure, SVGWrapper};

/// A greyscale picture of an h×w array (each value one square, black = min, white = max).
fn heat(v: &[f64], h: usize, w: usize, px: usize) -> SVGWrapper {
    let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, u), &x| (l.min(x), u.max(x)));
    evcxr_figure(((w * px + 2) as u32, (h * px + 2) as u32), |root| {
        root.fill(&WHITE)?;
        for r in 0..h {
            for c in 0..w {
                let t = if hi > lo { (v[r * w + c] - lo) / (hi - lo) } else { 0.5 };
                let g = (t * 255.0).round() as u8;
                let (x0, y0) = ((c * px + 1) as i32, (r * px + 1) as i32);
                root.draw(&Rectangle::new([(x0, y0), (x0 + px as i32, y0 + px as i32)], RGBColor(g, g, g).filled()))?;
            }
        }
        Ok(())
    })
}'''

PNG = '''/// A greyscale picture shown inline as a PNG (each value a scale×scale block; values
/// outside [0, 1] are clamped) — compact where an SVG of many squares would be large.
struct Png(Vec<u8>);
impl Png {
    fn evcxr_display(&self) {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for chunk in self.0.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for k in 0..4 {
                s.push(if k <= chunk.len() { A[(n >> (18 - 6 * k) & 63) as usize] as char } else { '=' });
            }
        }
        println!("EVCXR_BEGIN_CONTENT image/png\\n{s}\\nEVCXR_END_CONTENT");
    }
}
fn png(v: &[f64], h: usize, w: usize, scale: usize) -> Png {
    let big: Vec<f64> = (0..h * scale * w * scale)
        .map(|i| v[(i / (w * scale)) / scale * w + (i % (w * scale)) / scale])
        .collect();
    let path = std::env::temp_dir().join("convmat-notebook.png");
    convmat::io::png::write_gray(&path, h * scale, w * scale, &big, 0.0, 1.0).unwrap();
    Png(std::fs::read(&path).unwrap())
}'''

NOTEBOOKS = {
"01-convolution-as-a-matrix": [
("md", """# Convolution as a matrix

A convolution is a linear map, so it has a matrix **C**: flatten the input to a vector
**x**, the output to **y**, and `y = C·x`. This notebook builds C for the seed's example —
a 4×4 input and a 3×3 kernel — looks at its band structure, checks that `C·x` is the
sliding-window convolution, and watches C's shape and size change with stride, padding
and channels."""),
("code", SETUP),
("code", HEAT),
("md", """The seed's example: stride 1, no padding, so the output is 2×2 and C is 4×16. Each row
holds the whole kernel, shifted to the window that output reads; `·` marks entries that are
not stored."""),
("code", '''use convmat::geometry::ConvGeometry;
use convmat::sparse::{ConvMatrix, Csr, TapLabel, BuildOptions};
use convmat::tour::{SEED_INPUT, SEED_KERNEL};

let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build().unwrap();
let c = ConvMatrix::<f64>::build(&g, &SEED_KERNEL).unwrap();
assert_eq!((c.nrows(), c.ncols(), c.nnz()), (4, 16, 36));
let mut text = Vec::new();
convmat::io::print::pretty(&mut text, &c).unwrap();
println!("{}", String::from_utf8(text).unwrap());'''),
("md", "The same matrix with every entry named by the kernel tap it holds:"),
("code", '''let labels = Csr::<TapLabel>::pattern(&g, &BuildOptions::default()).unwrap();
let mut text = Vec::new();
convmat::io::print::symbolic(&mut text, &labels, &[3, 3], true).unwrap();
println!("{}", String::from_utf8(text).unwrap());'''),
("md", "Drawn as a picture (white = large weight, black = zero) the band is plain to see:"),
("code", '''heat(&c.to_dense(), 4, 16, 24)'''),
("md", "Multiplying by C is the convolution: `C·x` equals the direct sliding-window loops, exactly."),
("code", '''use convmat::kernels::direct;
let mut y = [0.0; 4];
c.mul_vec(&SEED_INPUT, &mut y).unwrap();
let mut y_direct = [0.0; 4];
direct::conv(&g, &SEED_INPUT, &SEED_KERNEL, None, &mut y_direct).unwrap();
assert_eq!(y, y_direct);
assert_eq!(y, [122.0, 148.0, 126.0, 134.0]);
println!("C·x = {:?}", y);'''),
("md", "Stride and padding change C's shape: each output position is a row, each input a column."),
("code", '''for (stride, pad) in [(1, 0), (1, 1), (2, 0), (2, 1)] {
    let g = ConvGeometry::builder(&[4, 4], &[3, 3]).stride(&[stride]).padding(pad).build().unwrap();
    let c = ConvMatrix::<f64>::build(&g, &SEED_KERNEL).unwrap();
    println!("stride {stride}, padding {pad}: output {:?}, C is {}×{} with {} stored entries",
             g.output_size(), c.nrows(), c.ncols(), c.nnz());
}
let g = ConvGeometry::builder(&[4, 4], &[3, 3]).padding(1).build().unwrap();
assert_eq!((g.rows(), g.cols()), (16, 16));'''),
("md", """The padding mode is part of C. `padding_mode` (PyTorch's `zeros`, `reflect`, `replicate`,
`circular`, and NumPy's `symmetric`) decides what a tap outside the input reads: zeros drop it,
the others fold it back onto an input, and where two taps of one output land on the same input
their weights add up in one entry. With `same` padding and `circular`, C is square and circulant."""),
("code", '''use convmat::geometry::PaddingMode;
for mode in PaddingMode::ALL {
    let g = ConvGeometry::builder(&[4, 4], &[3, 3]).padding(1).padding_mode(mode).build().unwrap();
    let c = ConvMatrix::<f64>::build(&g, &SEED_KERNEL).unwrap();
    assert_eq!(c.nnz() as u128, g.nnz());
    println!("{mode:>9}: C is {}×{}, {:>3} stored entries", c.nrows(), c.ncols(), c.nnz());
}
// a 1-D picture of the folding: reflect reads input 1 at position −1, so row 0 holds w0+w2
let g = ConvGeometry::builder(&[5], &[3]).padding(1).padding_mode(PaddingMode::Reflect).build().unwrap();
let labels = Csr::<TapLabel>::pattern(&g, &BuildOptions::default()).unwrap();
let mut text = Vec::new();
convmat::io::print::symbolic(&mut text, &labels, &[3], true).unwrap();
println!("{}", String::from_utf8(text).unwrap());'''),
("md", """With channels C grows fast: every (output, input) channel pair gets its own band. The stored
entries and the bytes of the CSR arrays, for a 32×32 image and a 3×3 kernel:"""),
("code", '''let mut points = vec![];
let mut entries = vec![];
for ch in [1usize, 2, 4, 8, 16] {
    let g = ConvGeometry::builder(&[32, 32], &[3, 3]).channels(ch, ch).padding(1).build().unwrap();
    let bytes = convmat::sparse::predicted_bytes(g.rows(), g.nnz(), 8, 8);
    println!("{ch:>2} channels: C is {}×{}, {} stored entries, {:.1} MiB", g.rows(), g.cols(), g.nnz(), bytes as f64 / 1048576.0);
    points.push((ch as f64, bytes as f64 / 1048576.0));
    entries.push(g.nnz());
}
assert!(entries.windows(2).all(|e| e[1] == 4 * e[0])); // doubling the channels quadruples C
evcxr_figure((560, 320), |root| {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root).margin(10).x_label_area_size(35).y_label_area_size(55)
        .caption("bytes of C against channels (32×32, 3×3, f64)", ("sans-serif", 16))
        .build_cartesian_2d((1f64..16f64).log_scale(), (0.01f64..200f64).log_scale())?;
    chart.configure_mesh().x_desc("channels (in = out)").y_desc("MiB").draw()?;
    chart.draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(2)))?;
    chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, BLUE.filled())))?;
    Ok(())
})'''),
],
"02-transposed-convolution": [
("md", """# Transposed convolution is Cᵀ

A "deconvolution" layer in a decoder is a *transposed* convolution: `x = Cᵀ·y` for the C of
the convolution it mirrors. This notebook computes Cᵀ·y, checks that the four formulations
agree, reproduces the seed's 2×2 → 5×5 example, shows what `output_padding` does, and
looks at the checkerboard a stride-2 transposed convolution leaves."""),
("code", SETUP),
("code", HEAT),
("md", "The seed's example: a 2×2 input of ones, a 3×3 kernel of ones, stride 2 → a 5×5 output where overlaps add up."),
("code", '''use convmat::geometry::ConvTransposeGeometry;
use convmat::sparse::ConvMatrix;
use convmat::kernels::{direct, im2col, zero_insert};

let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3]).stride(&[2]).build().unwrap();
let g = t.conv().clone(); // the forward convolution 5×5 → 2×2 it is the adjoint of
let (y, w) = ([1.0; 4], [1.0; 9]);
let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
let mut x_matrix = vec![0.0; 25];
c.mul_transpose(&y, &mut x_matrix).unwrap();
for r in 0..5 { println!("{:?}", &x_matrix[r * 5..r * 5 + 5]); }
assert_eq!(&x_matrix[10..15], &[2.0, 2.0, 4.0, 2.0, 2.0]);'''),
("md", "Cᵀ·y, the direct scatter, GEMM + col2im and zero insertion (the seed's second method) all agree:"),
("code", '''let mut x_scatter = vec![0.0; 25];
direct::conv_transpose(&g, &y, &w, None, &mut x_scatter).unwrap();
let mut x_col2im = vec![0.0; 25];
im2col::conv_transpose(&g, &y, &w, None, &mut x_col2im).unwrap();
let mut x_zero = vec![0.0; 25];
zero_insert::conv_transpose(&g, &y, &w, None, &mut x_zero).unwrap();
assert_eq!(x_matrix, x_scatter);
assert_eq!(x_matrix, x_col2im);
assert_eq!(x_matrix, x_zero);
println!("all four formulations give the same 5×5 output");'''),
("md", "Zero insertion, drawn: one zero between the inputs, padding d(k−1) − p = 2, then a stride-1 convolution with the flipped kernel."),
("code", '''let z = zero_insert::inner_geometry(&g).unwrap();
let inserted = zero_insert::zero_inserted(&g, &z, &y);
println!("zero-inserted and padded input: {:?}", z.input_size());
heat(&inserted, z.input_size()[0], z.input_size()[1], 20)'''),
("md", """`output_padding` adds rows and columns at the end of the output — it resolves the ambiguity
that several input sizes give the same strided output. PyTorch allows it below the stride
(or the dilation):"""),
("code", '''for op in [0usize, 1] {
    let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3]).stride(&[2]).output_padding(&[op]).build().unwrap();
    println!("output_padding {op}: output {:?}", t.output_size());
}
let bad = ConvTransposeGeometry::builder(&[2, 2], &[3, 3]).stride(&[2]).output_padding(&[2]).build();
println!("output_padding 2: {}", bad.unwrap_err());'''),
("md", """The checkerboard. A stride-2 transposed convolution with a 3×3 kernel of ones, applied to a
constant 8×8 input: outputs reached by one, two or four input positions alternate, a grid
that decoders built this way must learn to hide."""),
("code", '''let t = ConvTransposeGeometry::builder(&[8, 8], &[3, 3]).stride(&[2]).padding(1).output_padding(&[1]).build().unwrap();
let mut out = vec![0.0; 16 * 16];
direct::conv_transpose(t.conv(), &[1.0; 64], &[1.0; 9], None, &mut out).unwrap();
let distinct: std::collections::BTreeSet<u64> = out[17 * 2..17 * 2 + 10].iter().map(|v| *v as u64).collect();
println!("values in an interior row: {:?}", distinct);
assert!(distinct.contains(&1) && distinct.contains(&2));
heat(&out, 16, 16, 16)'''),
],
"03-deconvolution": [
("md", """# Transposed convolution is not inversion

Recovering x from `y = C·x` is an inverse problem. Cᵀ·y is only the adjoint; the least-squares
solution (LSQR, the pseudo-inverse) is what explains y, and even it cannot see x's part in the
null space. Blur is worse: C is square but badly conditioned, so noise is amplified unless the
solution is regularised (Tikhonov) — or kept non-negative (Richardson–Lucy). With periodic
boundaries the FFT diagonalises C: the Picard plot shows in its basis why noise is amplified,
and GCV and the L-curve choose the regularisation from the data."""),
("code", SETUP),
("code", HEAT),
("code", PNG),
("md", "The 4×4 / 3×3 example: 4 measurements of 16 unknowns."),
("code", '''use convmat::geometry::ConvGeometry;
use convmat::sparse::ConvMatrix;
use convmat::solve::{lsqr, pinv_solve, LsqrOptions, PinvOptions};
use convmat::tour::{SEED_INPUT, SEED_KERNEL};

let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build().unwrap();
let c = ConvMatrix::<f64>::build(&g, &SEED_KERNEL).unwrap();
let mut y = [0.0; 4];
c.mul_vec(&SEED_INPUT, &mut y).unwrap();
let mut ct_y = vec![0.0; 16];
c.mul_transpose(&y, &mut ct_y).unwrap();
let opts = LsqrOptions { atol: 1e-14, btol: 1e-14, ..Default::default() };
let ls = lsqr(&c, &y, &opts, None).unwrap();
let p = pinv_solve(&c, &y, &PinvOptions::default()).unwrap();
fn rel(v: &[f64]) -> f64 {
    v.iter().zip(&SEED_INPUT).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt()
        / SEED_INPUT.iter().map(|b| b * b).sum::<f64>().sqrt()
}
println!("Cᵀ·y: relative error {:.3}", rel(&ct_y));
println!("LSQR: relative error {:.3} after {} iterations ({})", rel(&ls.x), ls.info.iterations, ls.info.stop.message());
println!("pinv: rank {}, nullity {}", p.rank, p.nullity);
assert!(ls.x.iter().zip(&p.x).all(|(a, b)| (a - b).abs() < 1e-10)); // the same minimum-norm x
assert!(rel(&ls.x) < rel(&ct_y));'''),
("md", "A 5×5 Gaussian blur of a 16×16 image: C is square, and its singular values fall by orders of magnitude."),
("code", '''let gauss: Vec<f64> = {
    let w: Vec<f64> = (0..25).map(|i| { let (r, c) = ((i / 5) as f64 - 2.0, (i % 5) as f64 - 2.0); (-(r * r + c * c) / 2.0).exp() }).collect();
    let s: f64 = w.iter().sum();
    w.iter().map(|v| v / s).collect()
};
let gb = ConvGeometry::builder(&[16, 16], &[5, 5]).padding(2).build().unwrap();
let blur = ConvMatrix::<f64>::build(&gb, &gauss).unwrap();
let report = convmat::solve::analyze(&blur, &Default::default()).unwrap();
println!("κ = {:.3e}, full column rank: {:?}", report.condition, report.full_column_rank);
let sv = report.singular_values.clone().unwrap();
evcxr_figure((560, 320), |root| {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root).margin(10).x_label_area_size(35).y_label_area_size(55)
        .caption("singular values of the 256×256 blur", ("sans-serif", 16))
        .build_cartesian_2d(0f64..256f64, (1e-4f64..2f64).log_scale())?;
    chart.configure_mesh().x_desc("index").y_desc("σ").draw()?;
    chart.draw_series(LineSeries::new(sv.iter().enumerate().map(|(i, &s)| (i as f64, s)), RED.stroke_width(2)))?;
    Ok(())
})'''),
("md", """## The Picard plot

With periodic (`circular`) boundaries C is circulant and the FFT diagonalises it,
`C = F⁻¹·diag(λ)·F`: its SVD is the Fourier transform. The singular values are
`σᵢ = |λᵢ|` and the left singular vectors `uᵢ` are the orthonormal Fourier vectors, so
`uᵢᵀb` is the data's Fourier coefficient (the DFT over √N). The naive solution
`x = C⁻¹b = Σ (uᵢᵀb / σᵢ)·vᵢ` divides each coefficient by its singular value.

The **discrete Picard condition** (Hansen) asks that the coefficients `|uᵢᵀb|` decay
faster than the `σᵢ`, on average: then the ratios `|uᵢᵀb|/σᵢ` decay too and the naive
solution is meaningful. The exact blurred image satisfies it — a sharp image has
little energy where the blur's σᵢ are tiny. Noise does not: white noise of deviation σ
puts about σ into *every* coefficient, so `|uᵢᵀb|` levels off at the noise floor while
σᵢ keeps falling, and past that point the ratios grow like 1/σᵢ — the naive solution
is amplified noise. Regularisation filters exactly those components: Tikhonov's
factors `σᵢ²/(σᵢ² + α²)` switch off where σᵢ falls below α, truncated SVD drops them.

The problem is the report's deblurring case at 128×128: the Shepp–Logan phantom, a 9×9
Gaussian blur (σ = 2), periodic boundary, 1 % Gaussian noise
(`report::regularization::blurred_phantom`). `spectral::Diagonal` gives the
eigenvalues and the transform; each stored coefficient of the real FFT stands for
itself and its conjugate, which have the same σ and |uᵀb|. The curves are geometric
means over runs of 32 coefficients, sorted by σ descending."""),
("code", '''use convmat::report::regularization::blurred_phantom;
use convmat::spectral::Diagonal;

let p = blurred_phantom(128, 1).unwrap();
let d = Diagonal::<f64>::new(&p.geometry, &p.psf).unwrap();
let b = d.transform(&p.observed); // the DFT of y (the half spectrum the real FFT stores)
// Parseval with the library's weights: ‖y‖² = Σ wᵢ·|Bᵢ|²
let ynorm2: f64 = p.observed.iter().map(|v| v * v).sum();
let parseval: f64 = b.iter().zip(d.parseval_weights()).map(|(c, w)| w * c.norm_sqr()).sum();
assert!((parseval - ynorm2).abs() < 1e-9 * ynorm2);
// (σᵢ, |uᵢᵀb|): σᵢ = |λᵢ|, uᵢ the orthonormal Fourier vector, so |uᵢᵀb| = |Bᵢ|/√N
let root_n = ((p.n * p.n) as f64).sqrt();
let mut picard: Vec<(f64, f64)> = d.eigenvalues().iter().zip(&b)
    .map(|(l, c)| (l.norm(), c.norm() / root_n)).collect();
picard.sort_by(|a, b| b.0.total_cmp(&a.0));
// geometric means over runs of 32: (index, σ, |uᵀb|, |uᵀb|/σ)
let bins: Vec<(f64, f64, f64, f64)> = picard.chunks(32).enumerate().map(|(k, c)| {
    let gm = |f: fn(&(f64, f64)) -> f64| (c.iter().map(|q| f(q).ln()).sum::<f64>() / c.len() as f64).exp();
    ((32 * k) as f64 + c.len() as f64 / 2.0, gm(|q| q.0), gm(|q| q.1), gm(|q| q.1 / q.0))
}).collect();
let count = picard.len();
fn median(mut v: Vec<f64>) -> f64 { v.sort_by(f64::total_cmp); v[v.len() / 2] }
// medians over the smallest quarter of σ (the tail), and the ratio's lowest run
let (tail_coef, tail_ratio) = {
    let tail = &picard[count - count / 4..];
    (median(tail.iter().map(|q| q.1).collect()), median(tail.iter().map(|q| q.1 / q.0).collect()))
};
let min_ratio = bins.iter().map(|q| q.3).fold(f64::INFINITY, f64::min);
println!("{count} stored coefficients; σ from {:.3e} down to {:.3e}", picard[0].0, picard[count - 1].0);
println!("the noise floor: median |uᵀb| over the smallest quarter of σ {tail_coef:.3e}, noise σ {:.3e}", p.noise_std);
println!("|uᵀb|/σ: {min_ratio:.3e} at its lowest, median {tail_ratio:.3e} over the smallest quarter of σ");
// the coefficients level off at the noise (the median of |z| for complex Gaussian z
// with E|z|² = σ² is σ·√ln 2), and the ratios, after falling, blow up where σ is small
assert!(tail_coef > 0.5 * p.noise_std && tail_coef < 1.5 * p.noise_std);
assert!(tail_ratio > 20.0 * min_ratio && bins[0].3 > min_ratio);
let (lo, hi) = bins.iter().fold((f64::INFINITY, 0f64), |(l, h), q| (l.min(q.1.min(q.2).min(q.3)), h.max(q.1.max(q.2).max(q.3))));
evcxr_figure((640, 400), |root| {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root).margin(10).x_label_area_size(35).y_label_area_size(60)
        .caption("Picard plot: 128×128 phantom, 9×9 Gaussian blur, periodic, 1 % noise", ("sans-serif", 16))
        .build_cartesian_2d(0f64..count as f64, (lo / 2.0..hi * 2.0).log_scale())?;
    chart.configure_mesh().x_desc("i (σ descending)")
        .x_label_formatter(&|v| format!("{v:.0}")).y_label_formatter(&|v| format!("{v:.0e}")).draw()?;
    chart.draw_series(LineSeries::new(bins.iter().map(|q| (q.0, q.1)), RED.stroke_width(2)))?
        .label("σᵢ = |λᵢ|").legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart.draw_series(LineSeries::new(bins.iter().map(|q| (q.0, q.2)), BLUE.stroke_width(2)))?
        .label("|uᵢᵀb|").legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart.draw_series(LineSeries::new(bins.iter().map(|q| (q.0, q.3)), GREEN.stroke_width(2)))?
        .label("|uᵢᵀb| / σᵢ").legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN.stroke_width(2)));
    chart.draw_series(LineSeries::new([(0.0, p.noise_std), (count as f64, p.noise_std)], BLACK.stroke_width(1)))?
        .label("noise σ").legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    chart.configure_series_labels().position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE).border_style(BLACK).draw()?;
    Ok(())
})'''),
("md", """## Choosing α from the data: GCV

Tikhonov: minimise ‖Cx − y‖² + α²‖x‖². With noise in y, a small α fits the noise (large
‖x‖), a large α over-smooths (large residual). **Generalized cross-validation** picks the α
that minimises `G(α) = ‖Cx_α − y‖² / trace(I − A_α)²` (A the influence matrix): the α
whose solution best predicts a left-out data point, on average — no noise level needed.
In the Fourier basis every term is a sum over the coefficients, so the library's
`RegParam::Gcv` scans a grid of α and refines the minimum; it returns the whole curve
(`RegChoice::curve`, one `CurvePoint` per α, G in `value`)."""),
("code", '''use convmat::solve::{RegParam, SpectralOptions, SpectralSolver};
fn tikhonov(rule: RegParam) -> SpectralOptions {
    SpectralOptions { reg_param: Some(rule), ..Default::default() }
}
let solver = SpectralSolver::new(&p.geometry, &p.psf).unwrap();
let gcv = solver.solve(&p.observed, &tikhonov(RegParam::Gcv)).unwrap();
let g_min = gcv.choice.criterion_value.unwrap();
let g_curve: Vec<(f64, f64)> = gcv.choice.curve.iter().map(|q| (q.parameter, q.value.unwrap())).collect();
// the choice is the curve's minimum (refined between grid points: at most the grid's)
assert!(g_curve.iter().all(|q| q.1 >= g_min * (1.0 - 1e-12)));
println!("GCV: α = {:.3e}, G = {:.3e}, PSNR {:.2} dB ({} points on the curve)",
    gcv.choice.value, g_min, p.score(&gcv.solution.x).0, g_curve.len());
let (a0, a1) = g_curve.iter().fold((f64::INFINITY, 0f64), |(l, h), q| (l.min(q.0), h.max(q.0)));
let (g0, g1) = g_curve.iter().fold((f64::INFINITY, 0f64), |(l, h), q| (l.min(q.1), h.max(q.1)));
evcxr_figure((560, 340), |root| {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root).margin(10).x_label_area_size(35).y_label_area_size(60)
        .caption("GCV function G(α), the chosen α marked", ("sans-serif", 16))
        .build_cartesian_2d((a0..a1).log_scale(), (g0 / 1.5..g1 * 1.5).log_scale())?;
    chart.configure_mesh().x_desc("α").y_desc("G(α)")
        .x_label_formatter(&|v| format!("{v:.0e}")).y_label_formatter(&|v| format!("{v:.0e}")).draw()?;
    chart.draw_series(LineSeries::new(g_curve.clone(), BLUE.stroke_width(2)))?;
    chart.draw_series([Circle::new((gcv.choice.value, g_min), 6, RED.filled())])?;
    Ok(())
})'''),
("md", """## The L-curve

The L-curve plots ‖x_α‖ against ‖Cx_α − y‖ on log scales as α runs over its range: an
L, whose vertical arm is the noise being fitted (small α) and whose horizontal arm is
over-smoothing (large α). `RegParam::LCurve` picks its **corner**, the point of maximum
curvature (Hansen & O'Leary), computed in closed form along the same grid. The corner is
marked in red, GCV's α in green. The table is the report's parameter-choice study on
this 128×128 problem, against the oracle (the best α on a fine grid, which needs the
truth).

The L-curve is known to be fragile (Hanke 1996; Vogel 1996): where α passes below the
smallest singular values the curve bends a second time, at the noise end, and that
bend can be as sharp as the real corner. On the same problem at 64×64 it is (curvature
3.3 at α ≈ 1e-7, where the residual is far below the noise, against 3.2 at the real
corner), and the largest curvature alone picked an α that fits the noise (−50 dB). So
`RegParam::LCurve` takes, of the local maxima with at least half the largest
curvature, the most regularised one: the last line below shows what it picks at
64×64, beside GCV."""),
("code", '''use convmat::report::regularization::parameter_choice;
let lc = solver.solve(&p.observed, &tikhonov(RegParam::LCurve)).unwrap();
let kappa = lc.choice.criterion_value.unwrap();
// the corner: a local maximum of the curvature with at least half the largest
let top = lc.choice.curve.iter().map(|q| q.value.unwrap()).fold(f64::MIN, f64::max);
assert!(kappa >= 0.5 * top);
let l_curve: Vec<(f64, f64)> = lc.choice.curve.iter().map(|q| (q.residual_norm, q.solution_norm)).collect();
let corner = (lc.solution.info.residual_norm, lc.solution.info.solution_norm);
let at_gcv = (gcv.solution.info.residual_norm, gcv.solution.info.solution_norm);
println!("L-curve corner: α = {:.3e} (curvature {kappa:.3e}), ‖Cx − y‖ = {:.3e}, ‖x‖ = {:.3e}, PSNR {:.2} dB",
    lc.choice.value, corner.0, corner.1, p.score(&lc.solution.x).0);
let (r0, r1) = l_curve.iter().fold((f64::INFINITY, 0f64), |(l, h), q| (l.min(q.0), h.max(q.0)));
let (s0, s1) = l_curve.iter().fold((f64::INFINITY, 0f64), |(l, h), q| (l.min(q.1), h.max(q.1)));
assert!(corner.0 >= r0 * (1.0 - 1e-9) && corner.0 <= r1 * (1.0 + 1e-9));
print!("{}", parameter_choice(&p).unwrap().markdown());
{
    let p64 = blurred_phantom(64, 1).unwrap();
    let s64 = SpectralSolver::new(&p64.geometry, &p64.psf).unwrap();
    let (l64, g64) = (s64.solve(&p64.observed, &tikhonov(RegParam::LCurve)).unwrap(),
                      s64.solve(&p64.observed, &tikhonov(RegParam::Gcv)).unwrap());
    println!("\\nat 64×64: L-curve α = {:.3e} ({:.2} dB), GCV α = {:.3e} ({:.2} dB)",
        l64.choice.value, p64.score(&l64.solution.x).0, g64.choice.value, p64.score(&g64.solution.x).0);
}
evcxr_figure((560, 360), |root| {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root).margin(10).x_label_area_size(35).y_label_area_size(60)
        .caption("L-curve: ‖x‖ against ‖Cx − y‖ as α grows", ("sans-serif", 16))
        .build_cartesian_2d((r0 / 1.2..r1 * 1.2).log_scale(), (s0 / 1.2..s1 * 1.2).log_scale())?;
    chart.configure_mesh().x_desc("residual ‖Cx − y‖").y_desc("solution norm ‖x‖")
        .x_label_formatter(&|v| format!("{v:.0e}")).y_label_formatter(&|v| format!("{v:.0e}")).draw()?;
    chart.draw_series(LineSeries::new(l_curve.clone(), BLUE.stroke_width(2)))?;
    chart.draw_series([Circle::new(corner, 6, RED.filled())])?
        .label("L-curve corner").legend(|(x, y)| Circle::new((x + 10, y), 5, RED.filled()));
    chart.draw_series([Circle::new(at_gcv, 6, GREEN.filled())])?
        .label("GCV's α").legend(|(x, y)| Circle::new((x + 10, y), 5, GREEN.filled()));
    chart.configure_series_labels().background_style(WHITE).border_style(BLACK).draw()?;
    Ok(())
})'''),
("md", """Richardson–Lucy uses only C and Cᵀ, with multiplicative updates that keep every pixel
non-negative — the classic deblurring of astronomy and microscopy. Blurred (left) and after 200
iterations (right):"""),
("code", '''use convmat::report::phantom::shepp_logan;
use convmat::solve::{richardson_lucy, RichardsonLucyOptions};
let clean = shepp_logan(32);
let g32 = ConvGeometry::builder(&[32, 32], &[5, 5]).padding(2).build().unwrap();
let b32 = ConvMatrix::<f64>::build(&g32, &gauss).unwrap();
let mut blurred = vec![0.0; 1024];
b32.mul_vec(&clean, &mut blurred).unwrap();
let rl = richardson_lucy(&b32, &blurred, &RichardsonLucyOptions { max_iter: Some(200), tol: 1e-9, x0: None }).unwrap();
assert!(rl.x.iter().all(|&v| v >= 0.0));
fn err(v: &[f64], truth: &[f64]) -> f64 {
    v.iter().zip(truth).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt()
}
println!("error of the blurred image {:.3}, after Richardson–Lucy {:.3}", err(&blurred, &clean), err(&rl.x, &clean));
assert!(err(&rl.x, &clean) < err(&blurred, &clean));
let side: Vec<f64> = (0..32 * 66).map(|i| { let (r, c) = (i / 66, i % 66);
    if c < 32 { blurred[r * 32 + c] } else if c < 34 { 1.0 } else { rl.x[r * 32 + c - 34] } }).collect();
png(&side, 32, 66, 4)'''),
],
"04-upsampling": [
("md", """# Up-sampling layers, compared

Decoders grow images back with unpooling (nearest: fill the block; bed of nails: one corner,
zeros elsewhere), max-unpooling (put each maximum back where it came from), interpolation and
learned transposed convolutions. Each is a linear map — a matrix U — so they can be compared on
equal terms. This notebook runs the seed's examples and then reconstructs a test image with each."""),
("code", SETUP),
("code", HEAT),
("code", PNG),
("md", "The seed's max-unpooling: pool the 4×4 input 1…16 with a 2×2 window, then put the maxima back — into 4×4, and into 5×5 where the same flat indices land elsewhere."),
("code", '''use convmat::geometry::{PoolGeometry, UnpoolGeometry, ResizeGeometry, ResizeMode};
use convmat::kernels::{max_pool, max_unpool, resize};
let x: Vec<f64> = (1..=16).map(|v| v as f64).collect();
let pool = PoolGeometry::builder(&[4, 4], &[2]).build().unwrap();
let (mut v, mut i) = (vec![0.0; 4], vec![0i64; 4]);
max_pool(&pool, &x, &mut v, &mut i).unwrap();
assert_eq!((v.clone(), i.clone()), (vec![6.0, 8.0, 14.0, 16.0], vec![5, 7, 13, 15]));
for size in [4usize, 5] {
    let g = UnpoolGeometry::builder(&[2, 2], &[2]).output_size(Some(&[size, size])).build().unwrap();
    let mut out = vec![0.0; size * size];
    max_unpool(&g, &v, &i, &mut out).unwrap();
    println!("unpooled to {size}×{size}:");
    for r in 0..size { println!("  {:?}", &out[r * size..(r + 1) * size]); }
}'''),
("md", "The seed's bilinear example: [[6, 10], [9, 12]] to 4×4 with align_corners=True — and its 16×4 matrix U."),
("code", '''let g = ResizeGeometry::builder(ResizeMode::Bilinear, &[2, 2]).scale_factor(&[2.0]).align_corners(Some(true)).build().unwrap();
let mut up = vec![0.0f64; 16];
resize(&g, &[6.0, 10.0, 9.0, 12.0], &mut up).unwrap();
for r in 0..4 { println!("{:?}", up[r * 4..r * 4 + 4].iter().map(|v| (v * 1e4).round() / 1e4).collect::<Vec<_>>()); }
assert_eq!([up[0], up[3], up[12], up[15]], [6.0, 10.0, 9.0, 12.0]);
let u = convmat::sparse::resize_matrix::<f64>(&g, 1, &Default::default()).unwrap();
assert_eq!((u.nrows(), u.ncols(), u.nnz()), (16, 4, 36));
heat(&u.to_dense(), 16, 4, 14)'''),
("md", """Now a test image, the Shepp–Logan phantom at 64×64, down-sampled by 2×2 max-pooling, then
up-sampled back by each method; and down-sampled by a stride-2 convolution, then recovered by a
transposed convolution whose kernel was *learned* by least squares on a different image."""),
("code", '''use convmat::report::phantom::{shepp_logan, training_pattern};
use convmat::metrics::psnr;
use convmat::geometry::{ConvGeometry, ConvTransposeGeometry};
use convmat::kernels::direct;
use convmat::solve::{fit_transpose_kernel, LsqrOptions};
let img = shepp_logan(64);
let pool = PoolGeometry::builder(&[64, 64], &[2]).build().unwrap();
let (mut pooled, mut idx) = (vec![0.0; 1024], vec![0i64; 1024]);
max_pool(&pool, &img, &mut pooled, &mut idx).unwrap();
let mut results: Vec<(&str, Vec<f64>)> = vec![];
for (name, mode) in [("nearest", ResizeMode::NearestUnpool), ("bed of nails", ResizeMode::BedOfNails)] {
    let g = ResizeGeometry::unpool(mode, &[32, 32], &[2]).unwrap();
    let mut out = vec![0.0; 4096];
    resize(&g, &pooled, &mut out).unwrap();
    results.push((name, out));
}
let mut out = vec![0.0; 4096];
max_unpool(&pool.unpool().unwrap(), &pooled, &idx, &mut out).unwrap();
results.push(("max-unpool", out));
let g = ResizeGeometry::builder(ResizeMode::Bilinear, &[32, 32]).size(&[64, 64]).build().unwrap();
let mut out = vec![0.0; 4096];
resize(&g, &pooled, &mut out).unwrap();
results.push(("bilinear", out));
// the learned transposed convolution: a stride-2 4×4 down-sampling, inverted by a kernel fitted on another image
let down = ConvGeometry::builder(&[64, 64], &[4, 4]).stride(&[2]).padding(1).build().unwrap();
let k1 = [1.0, 3.0, 3.0, 1.0].map(|v: f64| v / 8.0);
let wk: Vec<f64> = (0..16).map(|i| k1[i / 4] * k1[i % 4]).collect();
let train = training_pattern(64);
let mut ty = vec![0.0; 1024];
direct::conv(&down, &train, &wk, None, &mut ty).unwrap();
let t = ConvTransposeGeometry::builder(&[32, 32], &[4, 4]).stride(&[2]).padding(1).build().unwrap();
let fit = fit_transpose_kernel(&t, &ty, &train, &LsqrOptions::default()).unwrap();
let mut y = vec![0.0; 1024];
direct::conv(&down, &img, &wk, None, &mut y).unwrap();
let mut learned = vec![0.0; 4096];
direct::conv_transpose(&down, &y, &fit.weight, None, &mut learned).unwrap();
let mut plain = vec![0.0; 4096];
direct::conv_transpose(&down, &y, &wk, None, &mut plain).unwrap();
results.push(("Cᵀ·y", plain));
results.push(("learned W′", learned));
for (name, out) in &results {
    println!("{name:>12}: PSNR {:6.2} dB", psnr(out, &img, 1.0));
}
{
    let p = |n: &str| psnr(&results.iter().find(|r| r.0 == n).unwrap().1, &img, 1.0);
    assert!(p("learned W′") > p("Cᵀ·y"));
    assert!(p("bilinear") > p("bed of nails"));
}'''),
("md", "Left to right: the original, nearest, bed of nails, max-unpool, bilinear, Cᵀ·y, the learned kernel."),
("code", '''{
    let panels: Vec<&Vec<f64>> = std::iter::once(&img).chain(results.iter().map(|r| &r.1)).collect();
    let width = panels.len() * 66;
    let mut row: Vec<f64> = vec![];
    for r in 0..64 {
        for p in &panels {
            row.extend(p[r * 64..r * 64 + 64].iter().map(|v| v.clamp(0.0, 1.0)));
            row.extend([1.0, 1.0]);
        }
    }
    png(&row, 64, width, 2)
}'''),
],
}


def cell(kind, text):
    lines = text.splitlines(keepends=True)
    if kind == "md":
        return {"cell_type": "markdown", "metadata": {}, "source": lines}
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": lines}


for name, cells in NOTEBOOKS.items():
    nb = {
        "cells": [cell(k, t) for k, t in cells],
        "metadata": {
            "kernelspec": {"display_name": "Rust", "language": "rust", "name": "rust"},
            "language_info": {"codemirror_mode": "rust", "file_extension": ".rs", "mimetype": "text/rust",
                              "name": "Rust", "pygment_lexer": "rust", "version": ""},
        },
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    with open(os.path.join(HERE, f"{name}.ipynb"), "w") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")
print("wrote", ", ".join(NOTEBOOKS))
