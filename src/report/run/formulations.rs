//! The timing of formulations: every forward and transposed formulation of one
//! case, in f32 and f64, checked against the f64 direct loops.

use super::{back, to, values, Measurements, Row, Sizes};
use crate::geometry::{ConvGeometry, ConvTransposeGeometry, Padding, PaddingMode};
use crate::kernels::{direct, fft, im2col, phase, winograd, winograd_transpose, zero_insert};
use crate::metrics::errors;
use crate::report::measure::median_ms;
use crate::sparse::ConvMatrix;
use crate::{Error, Real};

/// Times and checks every formulation of one forward and one transposed case, in f32
/// and f64, against the f64 direct loops.
pub(super) fn conv_tables(s: &Sizes, m: &mut Measurements) -> Result<(), Error> {
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
    kernel_rows::<f32>(s, true, true, &g, &case, &w, &x, &reference, flops, m)?;
    kernel_rows::<f64>(s, true, true, &g, &case, &w, &x, &reference, flops, m)?;

    // the same layer padding by reflection: what the boundary costs each formulation
    let r = ConvGeometry::builder(&[n, n], &[3, 3])
        .channels(s.conv_ch, s.conv_ch)
        .padding(1)
        .padding_mode(PaddingMode::Reflect)
        .build()?;
    let rcase = format!("{case}, padding_mode reflect");
    let mut rref = vec![0.0; s.batch * r.rows()];
    direct::conv(&r, &x, &w, None, &mut rref)?;
    let rflops = 2.0 * r.nnz() as f64 * s.batch as f64;
    kernel_rows::<f32>(s, true, true, &r, &rcase, &w, &x, &rref, rflops, m)?;

    // a large kernel on one channel, where the FFT wins (`auto` takes it here)
    let (ln, lk) = s.large_kernel;
    let l = ConvGeometry::builder(&[ln, ln], &[lk, lk])
        .padding(Padding::Same)
        .build()?;
    let lcase = format!("conv N=1 1→1 {ln}×{ln} {lk}×{lk} same");
    let lw = values(l.weight_shape().iter().product(), 5);
    let lx = values(l.cols(), 6);
    let mut lref = vec![0.0; l.rows()];
    direct::conv(&l, &lx, &lw, None, &mut lref)?;
    let lflops = 2.0 * l.nnz() as f64;
    kernel_rows::<f32>(s, true, false, &l, &lcase, &lw, &lx, &lref, lflops, m)?;
    kernel_rows::<f64>(s, true, false, &l, &lcase, &lw, &lx, &lref, lflops, m)?;

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
    kernel_rows::<f32>(s, false, true, tg, &tcase, &wt, &y, &tref, tflops, m)?;
    kernel_rows::<f64>(s, false, true, tg, &tcase, &wt, &y, &tref, tflops, m)?;
    Ok(())
}

/// A computation writing its result into the buffer it is given.
type Run<'a, T> = Box<dyn Fn(&mut [T]) -> Result<(), Error> + 'a>;

/// One formulation: its name, its extra memory in bytes, and the computation.
type Form<'a, T> = (&'static str, u64, Run<'a, T>);

/// Every formulation of the forward convolution of `g`, or (`forward = false`) of the
/// transposed convolution whose forward geometry is `g`, in type `T` (`sparse`: with
/// the explicit matrix): checked against `reference` (f64) and timed.
#[allow(clippy::too_many_arguments)]
fn kernel_rows<T: Real>(
    s: &Sizes,
    forward: bool,
    sparse: bool,
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
    // C for a large kernel would hold C_out·C_in/g·∏O·∏k entries: left out there
    let c = if sparse {
        Some(ConvMatrix::<T, u32>::build(g, w)?)
    } else {
        None
    };
    let c = c.as_ref();
    let workspace = im2col::workspace_elements(g) as u64 * size;
    let spectra = fft::workspace_elements(g)? as u64 * 2 * size;
    let mut forms: Vec<Form<'_, T>> = if forward {
        let mut forms: Vec<Form<'_, T>> = vec![
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
                "fft",
                spectra,
                Box::new(move |y| Ok(fft::conv(g, input, w, None, y)?)),
            ),
        ];
        if winograd::check(g).is_ok() {
            let ws = winograd::workspace_elements::<T>(g)? as u64 * size;
            let run: Run<'_, T> = Box::new(move |y| Ok(winograd::conv(g, input, w, None, y)?));
            forms.insert(2, ("winograd", ws, run));
        }
        forms
    } else {
        let inserted = zero_insert::inner_geometry(g)?.input_numel() * g.out_channels();
        let mut forms: Vec<(&str, u64, Run<'_, T>)> = vec![
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
                "phase",
                phase::transpose_workspace_elements::<T>(g)? as u64 * size,
                Box::new(move |x| Ok(phase::conv_transpose(g, input, w, None, x)?)),
            ),
            (
                "zero-insert",
                inserted as u64 * size,
                Box::new(move |x| Ok(zero_insert::conv_transpose(g, input, w, None, x)?)),
            ),
            (
                "fft",
                spectra,
                Box::new(move |x| Ok(fft::conv_transpose(g, input, w, None, x)?)),
            ),
        ];
        if winograd_transpose::check(g).is_ok() {
            let ws = winograd_transpose::workspace_elements::<T>(g)? as u64 * size;
            let run: Run<'_, T> =
                Box::new(move |x| Ok(winograd_transpose::conv_transpose(g, input, w, None, x)?));
            forms.insert(3, ("winograd", ws, run));
        }
        forms
    };
    if let Some(c) = c {
        let run: Run<'_, T> = if forward {
            Box::new(move |y| Ok(c.mul_vec(input, y)?))
        } else {
            Box::new(move |x| Ok(c.mul_transpose(input, x)?))
        };
        forms.insert(forms.len() - 1, ("sparse", c.bytes() as u64, run));
    }
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
            note: match name {
                "sparse" => format!(
                    "C: {} stored entries, built beforehand",
                    c.map_or(0, |c| c.nnz())
                ),
                "fft" => format!(
                    "grid {}, kernel spectra computed every call",
                    crate::error::shape_str(&fft::fft_size(g)?)
                ),
                "winograd" => {
                    // the derived worst case for this data: Σ_c max|w_c|·max|x_c|
                    // bounded by C_in/g·max|w|·max|x|
                    let max = |v: &[T]| v.iter().fold(0.0f64, |m, e| m.max(e.as_f64().abs()));
                    let scale = g.in_channels_per_group() as f64 * max(w) * max(input);
                    format!(
                        "F(4×4, 3×3); derived bound on the error {:.1e}",
                        winograd::error_bound::<T>(g, scale)
                    )
                }
                "phase" => "one implicit GEMM per output phase over shifted runs of y".into(),
                _ => String::new(),
            },
            ..Default::default()
        });
    }
    if let (true, Some(c)) = (forward, c) {
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
