//! The up-samplers: max-unpooling, bilinear and nearest, each done directly and
//! as a product with its matrix U.

use super::{back, to, values, Measurements, Row, Sizes};
use crate::geometry::{PoolGeometry, ResizeGeometry, ResizeMode};
use crate::kernels::{max_pool, max_unpool, resize};
use crate::metrics::errors;
use crate::report::measure::median_ms;
use crate::sparse::{max_unpool_matrix, resize_matrix, BuildOptions};
use crate::{Error, Real};

/// Direct operation against the matrix U for max-unpool, bilinear and nearest.
pub(super) fn upsample_tables(s: &Sizes, m: &mut Measurements) -> Result<(), Error> {
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
