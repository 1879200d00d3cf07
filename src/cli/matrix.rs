//! `convmat matrix`: build C (or Cᵀ) and print or export it.

use super::args::{Format, MatrixArgs};
use super::emit::{render_values, write_out, Render};
use super::values::broadcast;
use convmat::error::shape_str;
use convmat::geometry::{in_channels_of, ConvGeometry};
use convmat::io::{mtx, print, read_tensor, Tensor};
use convmat::sparse::{check_room_for_transpose, ConvMatrix, Csr, TapLabel};
use convmat::Error;

/// Channels and kernel size from the weight's shape, checked against any flags given.
fn geometry(a: &MatrixArgs, weight_shape: Option<&[usize]>) -> Result<ConvGeometry, Error> {
    let input_size = a
        .input_size
        .as_ref()
        .ok_or_else(|| Error::Invalid("--op conv needs --input-size (e.g. 4,4)".into()))?;
    if a.weight.is_none() && a.kernel_size.is_none() {
        return Err(Error::Invalid(
            "--op conv needs --weight w.npy or --kernel-size (e.g. 3,3)".into(),
        ));
    }
    let resize_only = [
        ("--scale-factor", a.resize.scale_factor.is_some()),
        ("--size", a.resize.size.is_some()),
        ("--align-corners", a.resize.align_corners),
        ("--recompute-scale-factor", a.resize.recompute_scale_factor),
        ("--indices", a.indices.is_some()),
        ("--output-size", a.output_size.is_some()),
    ];
    if let Some((flag, _)) = resize_only.iter().find(|(_, given)| *given) {
        return Err(Error::Invalid(format!(
            "{flag} belongs to an up-sampler's matrix (--op nearest, bilinear, max-unpool, …), not to --op conv"
        )));
    }
    let groups = a.geometry.groups;
    let (cin, cout, kernel) = match weight_shape {
        Some(w) => {
            let cin = in_channels_of(w, groups)?;
            let implied = [
                ("--in-channels", a.in_channels, cin),
                ("--out-channels", a.out_channels, w[0]),
            ];
            for (flag, given, from_weight) in implied {
                if let Some(v) = given.filter(|&v| v != from_weight) {
                    return Err(Error::Invalid(format!(
                        "{flag} {v} disagrees with the weight of shape {} (groups={groups}), which implies {from_weight}",
                        shape_str(w)
                    )));
                }
            }
            if let Some(k) = a.kernel_size.as_ref().filter(|k| k.0 != w[2..]) {
                return Err(Error::Invalid(format!(
                    "--kernel-size {} disagrees with the weight of shape {}",
                    shape_str(&k.0),
                    shape_str(w)
                )));
            }
            (cin, w[0], w[2..].to_vec())
        }
        None => (
            a.in_channels.unwrap_or(1),
            a.out_channels.unwrap_or(1),
            a.kernel_size
                .as_ref()
                .map(|k| broadcast(&k.0, input_size.0.len()))
                .unwrap_or_default(),
        ),
    };
    Ok(ConvGeometry::builder(&input_size.0, &kernel)
        .channels(cin, cout)
        .groups(groups)
        .stride(&a.geometry.stride())
        .padding(a.geometry.padding.clone())
        .dilation(&a.geometry.dilation.0)
        .build()?)
}

fn describe(g: &ConvGeometry, transpose: bool, nnz: u128) -> String {
    let plane = |c: usize, s: &[usize]| {
        let d: Vec<String> = s.iter().map(|v| v.to_string()).collect();
        format!("{c} channel(s) of {}", d.join("×"))
    };
    let (out, inp) = (
        plane(g.out_channels(), g.output_size()),
        plane(g.in_channels(), g.input_size()),
    );
    if transpose {
        format!(
            "Cᵀ: {}×{}, {nnz} stored entries; rows = the convolution's input ({inp}), columns = its output ({out})",
            g.cols(),
            g.rows()
        )
    } else {
        format!(
            "C: {}×{}, {nnz} stored entries; rows = output ({out}), columns = input ({inp})",
            g.rows(),
            g.cols()
        )
    }
}

pub fn run(a: &MatrixArgs) -> Result<(), Error> {
    let weight = a.weight.as_deref().map(read_tensor).transpose()?;
    let g = geometry(a, weight.as_ref().map(Tensor::shape))?;
    let format = a.format.unwrap_or(if weight.is_some() {
        Format::Pretty
    } else {
        Format::Symbolic
    });
    let (rows, cols) = if a.transpose {
        (g.cols(), g.rows())
    } else {
        (g.rows(), g.cols())
    };
    if matches!(format, Format::Pretty | Format::Symbolic) {
        print::check_printable(rows, cols)?;
    }
    let build = a.memory.build_options();
    if a.transpose {
        // Cᵀ is formed from C: both must fit at once
        match (&weight, format) {
            (Some(Tensor::F32(_)), f) if f != Format::Symbolic => {
                check_room_for_transpose::<f32, usize>(&g, &build)?
            }
            (Some(Tensor::F64(_)), f) if f != Format::Symbolic => {
                check_room_for_transpose::<f64, usize>(&g, &build)?
            }
            _ => check_room_for_transpose::<TapLabel, usize>(&g, &build)?,
        }
    }
    let header = describe(&g, a.transpose, g.nnz());
    let orient = |c: Csr<TapLabel>| if a.transpose { c.transpose() } else { c };
    let single = g.in_channels() == 1 && g.out_channels() == 1;

    let render: Render = match (format, weight) {
        (Format::Symbolic, _) => {
            let labels = orient(Csr::<TapLabel>::pattern(&g, &build)?);
            let kernel = g.kernel_size().to_vec();
            Box::new(move |w| {
                writeln!(w, "{header}")?;
                print::symbolic(w, &labels, &kernel, single)
            })
        }
        (Format::Mtx, None) => {
            let labels = orient(Csr::<TapLabel>::pattern(&g, &build)?);
            Box::new(move |w| mtx::write_pattern(w, &labels, &header))
        }
        (f, None) => {
            return Err(Error::Invalid(format!(
                "--format {} needs weight values (--weight w.npy); with --kernel-size alone use --format symbolic or mtx",
                format!("{f:?}").to_lowercase()
            )))
        }
        (f, Some(Tensor::F32(wt))) => {
            let c = ConvMatrix::<f32>::build_with_options(&g, wt.as_slice().expect("standard layout"), &build)?;
            let c = if a.transpose { c.transpose() } else { c };
            Box::new(move |w| render_values(w, &c, f, &header))
        }
        (f, Some(Tensor::F64(wt))) => {
            let c = ConvMatrix::<f64>::build_with_options(&g, wt.as_slice().expect("standard layout"), &build)?;
            let c = if a.transpose { c.transpose() } else { c };
            Box::new(move |w| render_values(w, &c, f, &header))
        }
    };
    write_out(a, render)
}
