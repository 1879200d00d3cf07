//! `convmat conv` and `convmat conv-transpose`.

use super::args::{ConvArgs, ConvMethodArg, ConvTransposeArgs, ConvTransposeMethodArg};
use super::{read_same_dtype, Typed};
use convmat::io::write_npy;
use convmat::ops::{self, ConvMethod, ConvTransposeMethod};
use convmat::sparse::BuildOptions;
use convmat::{Error, Real};
use ndarray::ArrayD;
use std::path::Path;

fn tensors<'a>(
    input: &'a Path,
    weight: &'a Path,
    bias: Option<&'a Path>,
) -> Vec<(&'static str, &'a Path)> {
    let mut files = vec![("input", input), ("weight", weight)];
    if let Some(b) = bias {
        files.push(("bias", b));
    }
    files
}

fn summary(
    op: &str,
    method: &str,
    dtype: &str,
    input: &[usize],
    output: &[usize],
    path: &Path,
    json: bool,
) {
    let list = |s: &[usize]| {
        let p: Vec<String> = s.iter().map(|d| d.to_string()).collect();
        format!("[{}]", p.join(", "))
    };
    if json {
        println!(
            "{{\"command\":\"{op}\",\"method\":\"{method}\",\"dtype\":\"{dtype}\",\"input_shape\":{},\"output_shape\":{},\"output\":{:?}}}",
            list(input),
            list(output),
            path.display().to_string()
        );
    } else {
        println!(
            "{op} ({method}, {dtype}): input {} → output {}, written to {}",
            list(input),
            list(output),
            path.display()
        );
    }
}

pub fn run_conv(a: &ConvArgs) -> Result<(), Error> {
    let method = match a.method {
        ConvMethodArg::Direct => ConvMethod::Direct,
        ConvMethodArg::Sparse => ConvMethod::Sparse,
        ConvMethodArg::Im2col => {
            return Err(Error::MethodUnavailable {
                method: "im2col".into(),
                op: "conv",
                available: "sparse, direct",
            })
        }
    };
    let opts = a.geometry.options(&[0]);
    let build = BuildOptions {
        max_memory: a.geometry.max_memory,
    };
    fn go<T: Real>(
        t: Vec<ArrayD<T>>,
        opts: &convmat::geometry::ConvOptions,
        method: ConvMethod,
        build: &BuildOptions,
        out: &Path,
    ) -> Result<(Vec<usize>, Vec<usize>), Error> {
        let y = ops::conv(
            t[0].view(),
            t[1].view(),
            t.get(2).map(|b| b.view()),
            opts,
            method,
            build,
        )?;
        write_npy(out, &y)?;
        Ok((t[0].shape().to_vec(), y.shape().to_vec()))
    }
    let files = tensors(&a.input, &a.weight, a.bias.as_deref());
    let (dtype, (i, o)) = match read_same_dtype(&files)? {
        Typed::F32(t) => (f32::DTYPE, go(t, &opts, method, &build, &a.output)?),
        Typed::F64(t) => (f64::DTYPE, go(t, &opts, method, &build, &a.output)?),
    };
    let name = format!("{:?}", a.method).to_lowercase();
    summary("conv", &name, dtype, &i, &o, &a.output, a.json);
    Ok(())
}

pub fn run_conv_transpose(a: &ConvTransposeArgs) -> Result<(), Error> {
    let method = match a.method {
        ConvTransposeMethodArg::Scatter => ConvTransposeMethod::Scatter,
        ConvTransposeMethodArg::Sparse => ConvTransposeMethod::Sparse,
        other => {
            return Err(Error::MethodUnavailable {
                method: match other {
                    ConvTransposeMethodArg::Col2im => "col2im",
                    _ => "zero-insert",
                }
                .into(),
                op: "conv-transpose",
                available: "sparse, scatter",
            })
        }
    };
    let opts = a.geometry.options(&a.output_padding.0);
    let build = BuildOptions {
        max_memory: a.geometry.max_memory,
    };
    fn go<T: Real>(
        t: Vec<ArrayD<T>>,
        opts: &convmat::geometry::ConvOptions,
        method: ConvTransposeMethod,
        build: &BuildOptions,
        out: &Path,
    ) -> Result<(Vec<usize>, Vec<usize>), Error> {
        let x = ops::conv_transpose(
            t[0].view(),
            t[1].view(),
            t.get(2).map(|b| b.view()),
            opts,
            method,
            build,
        )?;
        write_npy(out, &x)?;
        Ok((t[0].shape().to_vec(), x.shape().to_vec()))
    }
    let files = tensors(&a.input, &a.weight, a.bias.as_deref());
    let (dtype, (i, o)) = match read_same_dtype(&files)? {
        Typed::F32(t) => (f32::DTYPE, go(t, &opts, method, &build, &a.output)?),
        Typed::F64(t) => (f64::DTYPE, go(t, &opts, method, &build, &a.output)?),
    };
    let name = format!("{:?}", a.method).to_lowercase();
    summary("conv-transpose", &name, dtype, &i, &o, &a.output, a.json);
    Ok(())
}
