//! Line plots as SVG (plotters).

use crate::Error;
use plotters::prelude::*;
use std::path::Path;

/// One named line: points (x, y).
pub type Series = (String, Vec<(f64, f64)>);

/// Axis scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Linear.
    Linear,
    /// Logarithmic (non-positive values are dropped).
    Log,
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Writes a line plot of `series` to `path` (SVG, 760×480) with a legend.
///
/// # Errors
/// [`Error::Invalid`] when no finite point remains (non-positive values are dropped on log
/// axes), or when plotters fails, e.g. to write `path`.
pub fn line_plot(
    path: &Path,
    title: &str,
    (x_label, x_scale): (&str, Scale),
    (y_label, y_scale): (&str, Scale),
    series: &[Series],
) -> Result<(), Error> {
    let keep = |v: f64, s: Scale| v.is_finite() && (s == Scale::Linear || v > 0.0);
    let series: Vec<Series> = series
        .iter()
        .map(|(n, pts)| {
            let pts = pts
                .iter()
                .copied()
                .filter(|&(x, y)| keep(x, x_scale) && keep(y, y_scale))
                .collect();
            (n.clone(), pts)
        })
        .collect();
    let all: Vec<(f64, f64)> = series.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    if all.is_empty() {
        return Err(Error::Plot {
            title: title.to_string(),
            message: "nothing to plot".into(),
        });
    }
    let bounds = |vals: Vec<f64>, s: Scale| {
        let (lo, hi) = vals
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        match s {
            Scale::Log => (lo / 1.5, hi * 1.5),
            Scale::Linear if hi > lo => (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)),
            Scale::Linear => (lo - 1.0, hi + 1.0),
        }
    };
    let (x0, x1) = bounds(all.iter().map(|p| p.0).collect(), x_scale);
    let (y0, y1) = bounds(all.iter().map(|p| p.1).collect(), y_scale);
    let plot_err = |e: &dyn std::fmt::Display| Error::Plot {
        title: title.to_string(),
        message: e.to_string(),
    };
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(&e))?;
    macro_rules! draw {
        ($x:expr, $y:expr) => {{
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d($x, $y)
                .map_err(|e| plot_err(&e))?;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_desc(y_label)
                .draw()
                .map_err(|e| plot_err(&e))?;
            for (i, (name, pts)) in series.iter().enumerate() {
                let color = COLORS[i % COLORS.len()];
                chart
                    .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
                    .map_err(|e| plot_err(&e))?
                    .label(name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(|e| plot_err(&e))?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(|e| plot_err(&e))?;
        }};
    }
    match (x_scale, y_scale) {
        (Scale::Log, Scale::Log) => draw!((x0..x1).log_scale(), (y0..y1).log_scale()),
        (Scale::Log, Scale::Linear) => draw!((x0..x1).log_scale(), y0..y1),
        (Scale::Linear, Scale::Log) => draw!(x0..x1, (y0..y1).log_scale()),
        (Scale::Linear, Scale::Linear) => draw!(x0..x1, y0..y1),
    }
    root.present().map_err(|e| plot_err(&e))?;
    Ok(())
}
