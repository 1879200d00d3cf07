//! The seed's reconstruction of a test image: down-sampled two ways, brought back by
//! every up-sampling method and by deconvolution, scored by PSNR and SSIM.

use super::{Measurements, Picture, Row, Sizes};
use crate::geometry::{
    ConvGeometry, ConvTransposeGeometry, PoolGeometry, ResizeGeometry, ResizeMode,
};
use crate::kernels::{direct, max_pool, max_unpool, resize};
use crate::metrics::{errors, psnr, ssim};
use crate::operator::ConvOperator;
use crate::report::measure::median_ms;
use crate::report::phantom::training_pattern;
use crate::solve::{fit_transpose_kernel, lsqr, LsqrOptions};
use crate::Error;
use std::time::Instant;

/// The seed's comparison: down-sample a test image two ways, reconstruct it with each
/// up-sampling method and with deconvolution.
pub(super) fn reconstruction(
    s: &Sizes,
    (h0, w0, img0): (usize, usize, Vec<f64>),
    m: &mut Measurements,
) -> Result<(), Error> {
    // even sizes for the 2× down-sampling: drop a last odd row or column
    let (h, w) = (h0 - h0 % 2, w0 - w0 % 2);
    if h < 4 || w < 4 {
        return Err(crate::GeometryError::InputShape {
            name: "the test image",
            expected: "at least 4×4".into(),
            got: format!("{h0}×{w0}"),
        }
        .into());
    }
    let img: Vec<f64> = (0..h * w).map(|i| img0[(i / w) * w0 + i % w]).collect();
    let (hh, hw) = (h / 2, w / 2);
    m.pictures.push(Picture {
        name: "original".into(),
        h,
        w,
        values: img.clone(),
        caption: "original".into(),
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
        caption: "max-pooled 2x2".into(),
    });
    m.pictures.push(Picture {
        name: "downsampled_conv".into(),
        h: hh,
        w: hw,
        values: blurred.clone(),
        caption: "stride-2 convolution".into(),
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
        max_iter: Some(200),
        ..Default::default()
    };
    let t = Instant::now();
    let r = lsqr(&op, &blurred, &o, None)?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    results.push((
        format!("least squares (LSQR, {} iterations)", r.info.iterations),
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
        let quality = psnr(out, &img, 1.0);
        m.rows.push(Row {
            section: "reconstruction".into(),
            case: format!("{h}×{w} image from {from}"),
            formulation: name.clone(),
            dtype: "float64".into(),
            median_ms: *ms,
            psnr_db: Some(quality),
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
            caption: format!("{i}. {name}\n{quality:.1} dB"),
        });
    }
    Ok(())
}
