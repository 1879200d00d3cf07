//! The scaling studies: forward convolution time against image size, channels, kernel
//! and batch, and the size of the explicit C against image size.

use super::{to, values, Measurements, PlotSpec, Sizes};
use crate::geometry::ConvGeometry;
use crate::kernels::{direct, fft, im2col};
use crate::report::measure::median_ms;
use crate::report::plot::{Scale, Series};
use crate::sparse::{predicted_bytes, ConvMatrix};
use crate::Error;

/// Time against size, channels, kernel and batch; nnz and bytes of C against size.
pub(super) fn scaling(s: &Sizes, m: &mut Measurements) -> Result<(), Error> {
    type Shape = (usize, usize, usize, usize); // (size, channels, kernel, batch)
    type Study = (&'static str, &'static str, Vec<Shape>, fn(&Shape) -> f64); // plot, axis, shapes, x value
    let studies: [Study; 4] = [
        (
            "scaling_size",
            "image size (1 channel, 5×5)",
            s.scaling.iter().map(|&n| (n, 1, 5, 1)).collect(),
            |c| c.0 as f64,
        ),
        (
            "scaling_channels",
            "channels (in = out, 32×32, 3×3)",
            s.channels.iter().map(|&ch| (32, ch, 3, 1)).collect(),
            |c| c.1 as f64,
        ),
        (
            "scaling_kernel",
            "kernel size (1 channel, 64×64)",
            s.kernels.iter().map(|&k| (64, 1, k, 1)).collect(),
            |c| c.2 as f64,
        ),
        (
            "scaling_batch",
            "batch (8 channels, 32×32, 3×3)",
            s.batches.iter().map(|&b| (32, 8, 3, b)).collect(),
            |c| c.3 as f64,
        ),
    ];
    for (name, what, shapes, xval) in studies {
        let mut lines: Vec<Series> = [
            "direct",
            "im2col",
            "sparse (C·x)",
            "sparse incl. build",
            "fft",
        ]
        .iter()
        .map(|n| (n.to_string(), vec![]))
        .collect();
        for shape in &shapes {
            let (n, ch, k, b) = *shape;
            let g = ConvGeometry::builder(&[n, n], &[k, k])
                .channels(ch, ch)
                .padding(k / 2)
                .build()?;
            let w: Vec<f32> = to(&values(g.weight_shape().iter().product(), 7));
            let x: Vec<f32> = to(&values(b * g.cols(), 8));
            let mut y = vec![0.0f32; b * g.rows()];
            let bytes = predicted_bytes(g.rows(), g.nnz(), 4, 4);
            let xv = xval(shape);
            lines[0].1.push((
                xv,
                median_ms(&s.budget, || {
                    let _ = direct::conv(&g, &x, &w, None, &mut y);
                }),
            ));
            lines[1].1.push((
                xv,
                median_ms(&s.budget, || {
                    let _ = im2col::conv(&g, &x, &w, None, &mut y);
                }),
            ));
            lines[4].1.push((
                xv,
                median_ms(&s.budget, || {
                    let _ = fft::conv(&g, &x, &w, None, &mut y);
                }),
            ));
            if bytes <= 256 << 20 {
                let build_ms = median_ms(&s.budget, || {
                    let _ = ConvMatrix::<f32, u32>::build(&g, &w);
                });
                let c = ConvMatrix::<f32, u32>::build(&g, &w)?;
                let mv = median_ms(&s.budget, || {
                    let _ = c.mul_vec(&x, &mut y);
                });
                lines[2].1.push((xv, mv));
                lines[3].1.push((xv, mv + build_ms));
            }
        }
        m.plots.push(PlotSpec {
            name: name.into(),
            title: format!("forward convolution time against {what}, f32"),
            x: (what.into(), Scale::Log),
            y: ("median time (ms)".into(), Scale::Log),
            series: lines,
        });
    }
    // nnz and bytes of C against size, predicted exactly
    let mut nnz = vec![];
    let mut mib = vec![];
    for &n in &s.scaling {
        let g = ConvGeometry::builder(&[n, n], &[5, 5])
            .channels(16, 16)
            .padding(2)
            .build()?;
        nnz.push((n as f64, g.nnz() as f64));
        mib.push((
            n as f64,
            predicted_bytes(g.rows(), g.nnz(), 4, 4) as f64 / (1 << 20) as f64,
        ));
    }
    m.plots.push(PlotSpec {
        name: "matrix_size".into(),
        title: "the explicit C for 16→16 channels, 5×5: stored entries and MiB (f32, u32 indices)"
            .into(),
        x: ("image size".into(), Scale::Log),
        y: ("count / MiB".into(), Scale::Log),
        series: vec![("stored entries".into(), nnz), ("MiB".into(), mib)],
    });
    Ok(())
}
