//! `convmat matrix`: build C (or Cᵀ) and print or export it.

use super::args::{Format, LayerArg, MatrixArgs};
use super::emit::{render_values, write_out, Render};
use super::values::broadcast;
use convmat::error::shape_str;
use convmat::geometry::{in_channels_of, ConvGeometry, ConvTransposeGeometry, PaddingMode};
use convmat::io::{mtx, print, read_tensor, Tensor};
use convmat::sparse::{check_room_for_transpose, ConvMatrix, Csr, TapLabel};
use convmat::{Error, GeometryError};
use std::io::IsTerminal;

/// The weight's shape with channel dimensions: a bare kernel (as many dimensions as
/// the input size) is one input and one output channel.
fn with_channels(shape: &[usize], input_rank: usize) -> Vec<usize> {
    if shape.len() == input_rank {
        [1, 1].iter().chain(shape).copied().collect()
    } else {
        shape.to_vec()
    }
}

/// The convolution whose C (or, for `--layer conv-transpose`, whose Cᵀ) is built:
/// channels and kernel size from the weight's shape, checked against any flags given.
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
    if a.output_padding.is_some() && a.layer != LayerArg::ConvTranspose {
        return Err(Error::Invalid(
            "--output-padding belongs to --layer conv-transpose".into(),
        ));
    }
    let weight_shape = weight_shape.map(|w| with_channels(w, input_size.0.len()));
    let weight_shape = weight_shape.as_deref();
    let groups = a.geometry.groups;
    let (cin, cout, kernel) = match weight_shape {
        Some(w) => {
            // conv weights are (C_out, C_in/groups, k…), transposed ones (C_in, C_out/groups, k…)
            let (cin, cout) = match a.layer {
                LayerArg::Conv => (in_channels_of(w, groups)?, w[0]),
                LayerArg::ConvTranspose => (w[0], in_channels_of(w, groups)?),
            };
            let implied = [
                ("--in-channels", a.in_channels, cin),
                ("--out-channels", a.out_channels, cout),
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
            (cin, cout, w[2..].to_vec())
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
    let mode = PaddingMode::from(a.geometry.padding_mode);
    if a.layer == LayerArg::ConvTranspose {
        if mode != PaddingMode::Zeros {
            return Err(GeometryError::TransposePaddingMode {
                rank: kernel.len(),
                mode: mode.name(),
            }
            .into());
        }
        // the layer's own parameters; its forward convolution (t.conv()) is what C describes
        let padding = match &a.geometry.padding {
            convmat::geometry::Padding::Explicit(p) => p.clone(),
            p => {
                return Err(Error::Invalid(format!(
                    "--layer conv-transpose takes numbers for --padding, not '{p}'"
                )))
            }
        };
        let output_padding = a.output_padding.as_ref().map_or(vec![0], |p| p.0.clone());
        let t = ConvTransposeGeometry::builder(&input_size.0, &kernel)
            .channels(cin, cout)
            .groups(groups)
            .stride(&a.geometry.stride())
            .padding(padding)
            .dilation(&a.geometry.dilation.0)
            .output_padding(&output_padding)
            .build()?;
        return Ok(t.conv().clone());
    }
    Ok(ConvGeometry::builder(&input_size.0, &kernel)
        .channels(cin, cout)
        .groups(groups)
        .stride(&a.geometry.stride())
        .padding(a.geometry.padding.clone())
        .dilation(&a.geometry.dilation.0)
        .padding_mode(mode)
        .build()?)
}

fn describe(g: &ConvGeometry, layer: LayerArg, transpose: bool, nnz: u128) -> String {
    let plane = |c: usize, s: &[usize]| {
        let d: Vec<String> = s.iter().map(|v| v.to_string()).collect();
        format!("{c} channel(s) of {}", d.join("×"))
    };
    let (out, inp) = (
        plane(g.out_channels(), g.output_size()),
        plane(g.in_channels(), g.input_size()),
    );
    if transpose && layer == LayerArg::ConvTranspose {
        format!(
            "the transposed convolution's matrix Cᵀ: {}×{}, {nnz} stored entries; rows = the layer's output ({inp}), columns = its input ({out})",
            g.cols(),
            g.rows()
        )
    } else if layer == LayerArg::ConvTranspose {
        format!(
            "C (the transposed layer's adjoint): {}×{}, {nnz} stored entries; rows = the layer's input ({out}), columns = its output ({inp})",
            g.rows(),
            g.cols()
        )
    } else if transpose {
        format!(
            "Cᵀ: {}×{}, {nnz} stored entries; rows = the convolution's input ({inp}), columns = its output ({out})",
            g.cols(),
            g.rows()
        )
    } else {
        let mode = match g.padding_mode() {
            PaddingMode::Zeros => String::new(),
            m => format!(", {m} padding"),
        };
        format!(
            "C: {}×{}, {nnz} stored entries; rows = output ({out}), columns = input ({inp}){mode}",
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
    // the transposed layer's matrix is Cᵀ of the convolution it transposes
    let transpose = a.transpose != (a.layer == LayerArg::ConvTranspose);
    let (rows, cols) = if transpose {
        (g.cols(), g.rows())
    } else {
        (g.rows(), g.cols())
    };
    if matches!(format, Format::Pretty | Format::Symbolic) {
        print::check_printable(rows, cols)?;
    }
    let build = a.memory.build_options();
    if transpose {
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
    let header = describe(&g, a.layer, transpose, g.nnz());
    let orient = |c: Csr<TapLabel>| if transpose { c.transpose() } else { c };
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
            let c = if transpose { c.transpose() } else { c };
            Box::new(move |w| render_values(w, &c, f, &header))
        }
        (f, Some(Tensor::F64(wt))) => {
            let c = ConvMatrix::<f64>::build_with_options(&g, wt.as_slice().expect("standard layout"), &build)?;
            let c = if transpose { c.transpose() } else { c };
            Box::new(move |w| render_values(w, &c, f, &header))
        }
    };
    // a large export to a file says what it is doing on a terminal
    let show = a.output.is_some() && g.nnz() > 1_000_000 && std::io::stderr().is_terminal();
    if show {
        eprint!("  writing C ({} stored entries)…", g.nnz());
    }
    let written = write_out(a, render);
    if show {
        eprint!("\r\x1b[K");
    }
    written
}
