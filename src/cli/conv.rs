//! `convmat conv` and `convmat conv-transpose`: read tensors of one dtype, compute
//! in that dtype, write the result atomically, print a summary.

use super::args::{ConvArgs, ConvMethodArg, ConvTransposeArgs, ConvTransposeMethodArg};
use super::out::outln;
use super::{read_same_dtype, Typed};
use convmat::error::shape_str;
use convmat::functional::{self, ConvMethod, ConvTransposeMethod};
use convmat::geometry::ConvOptions;
use convmat::io::write_npy;
use convmat::sparse::BuildOptions;
use convmat::{Error, Real};
use ndarray::{ArrayD, ArrayViewD};
use std::path::Path;

/// An operation on (input, weight, bias) in any element type.
trait Job {
    const NAME: &'static str;
    /// The result, and the method that made it (`auto` resolved).
    fn run<T: Real>(
        &self,
        x: ArrayViewD<'_, T>,
        w: ArrayViewD<'_, T>,
        b: Option<ArrayViewD<'_, T>>,
    ) -> Result<(ArrayD<T>, &'static str), Error>;
}

struct Conv {
    opts: ConvOptions,
    method: ConvMethod,
    build: BuildOptions,
}

impl Job for Conv {
    const NAME: &'static str = "conv";
    fn run<T: Real>(
        &self,
        x: ArrayViewD<'_, T>,
        w: ArrayViewD<'_, T>,
        b: Option<ArrayViewD<'_, T>>,
    ) -> Result<(ArrayD<T>, &'static str), Error> {
        functional::conv_with_method(x, w, b, &self.opts, self.method, &self.build)
            .map(|(y, m)| (y, m.name()))
    }
}

struct ConvTranspose {
    opts: ConvOptions,
    method: ConvTransposeMethod,
    build: BuildOptions,
}

impl Job for ConvTranspose {
    const NAME: &'static str = "conv-transpose";
    fn run<T: Real>(
        &self,
        x: ArrayViewD<'_, T>,
        w: ArrayViewD<'_, T>,
        b: Option<ArrayViewD<'_, T>>,
    ) -> Result<(ArrayD<T>, &'static str), Error> {
        functional::conv_transpose_with_method(x, w, b, &self.opts, self.method, &self.build)
            .map(|(y, m)| (y, m.name()))
    }
}

fn compute<T: Real, J: Job>(
    job: &J,
    t: &[ArrayD<T>],
    out: &Path,
) -> Result<(Vec<usize>, Vec<usize>, &'static str), Error> {
    let (result, method) = job.run(t[0].view(), t[1].view(), t.get(2).map(|b| b.view()))?;
    write_npy(out, &result)?;
    Ok((t[0].shape().to_vec(), result.shape().to_vec(), method))
}

fn execute<J: Job>(
    job: &J,
    input: &Path,
    weight: &Path,
    bias: Option<&Path>,
    out: &Path,
    json: bool,
) -> Result<(), Error> {
    let mut files = vec![("input", input), ("weight", weight)];
    files.extend(bias.map(|b| ("bias", b)));
    let (dtype, (i, o, method)) = match read_same_dtype(&files)? {
        Typed::F32(t) => (f32::DTYPE, compute(job, &t, out)?),
        Typed::F64(t) => (f64::DTYPE, compute(job, &t, out)?),
    };
    let op = J::NAME;
    if json {
        outln!(
            "{{\"command\":\"{op}\",\"method\":\"{method}\",\"dtype\":\"{dtype}\",\"input_shape\":{},\"output_shape\":{},\"output\":{:?}}}",
            shape_str(&i),
            shape_str(&o),
            out.display().to_string()
        )?;
    } else {
        outln!(
            "{op} ({method}, {dtype}): input {} → output {}, written to {}",
            shape_str(&i),
            shape_str(&o),
            out.display()
        )?;
    }
    Ok(())
}

pub fn run_conv(a: &ConvArgs) -> Result<(), Error> {
    let method = match a.method {
        ConvMethodArg::Direct => ConvMethod::Direct,
        ConvMethodArg::Sparse => ConvMethod::Sparse,
        ConvMethodArg::Im2col => ConvMethod::Im2col,
        ConvMethodArg::Fft => ConvMethod::Fft,
        ConvMethodArg::Winograd => ConvMethod::Winograd,
        ConvMethodArg::Phase => ConvMethod::Phase,
        ConvMethodArg::Auto => ConvMethod::Auto,
    };
    let job = Conv {
        opts: a.geometry.options(&[0]),
        method,
        build: a.memory.build_options(),
    };
    execute(
        &job,
        &a.input,
        &a.weight,
        a.bias.as_deref(),
        &a.output,
        a.json,
    )
}

pub fn run_conv_transpose(a: &ConvTransposeArgs) -> Result<(), Error> {
    let method = match a.method {
        ConvTransposeMethodArg::Scatter => ConvTransposeMethod::Scatter,
        ConvTransposeMethodArg::Sparse => ConvTransposeMethod::Sparse,
        ConvTransposeMethodArg::Col2im => ConvTransposeMethod::Col2im,
        ConvTransposeMethodArg::ZeroInsert => ConvTransposeMethod::ZeroInsert,
        ConvTransposeMethodArg::Fft => ConvTransposeMethod::Fft,
        ConvTransposeMethodArg::Phase => ConvTransposeMethod::Phase,
        ConvTransposeMethodArg::Winograd => ConvTransposeMethod::Winograd,
        ConvTransposeMethodArg::Auto => ConvTransposeMethod::Auto,
    };
    let job = ConvTranspose {
        opts: a.geometry.options(),
        method,
        build: a.memory.build_options(),
    };
    execute(
        &job,
        &a.input,
        &a.weight,
        a.bias.as_deref(),
        &a.output,
        a.json,
    )
}
