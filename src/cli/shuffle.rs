//! `convmat pixel-shuffle` and `convmat pixel-unshuffle` (F.pixel_shuffle and
//! F.pixel_unshuffle on a .npy tensor), directly or by the permutation matrix.

use super::args::UpsampleMethodArg;
use super::upsample::{method_name, summary};
use clap::Args;
use convmat::functional::{self, PoolMethod};
use convmat::io::{read_tensor, write_npy, Tensor};
use convmat::sparse::BuildOptions;
use convmat::{Error, Real};
use ndarray::ArrayD;
use std::path::PathBuf;

/// `convmat pixel-shuffle`'s options.
#[derive(Args, Debug)]
pub struct PixelShuffleArgs {
    /// Input tensor (.npy, (…, C·r², H, W)).
    #[arg(long)]
    pub input: PathBuf,
    /// The factor r: C·r² channels of H×W become C channels of H·r × W·r.
    #[arg(long)]
    pub upscale_factor: usize,
    #[command(flatten)]
    pub common: ShuffleCommon,
}

/// `convmat pixel-unshuffle`'s options.
#[derive(Args, Debug)]
pub struct PixelUnshuffleArgs {
    /// Input tensor (.npy, (…, C, H·r, W·r)).
    #[arg(long)]
    pub input: PathBuf,
    /// The factor r: C channels of H·r × W·r become C·r² channels of H×W.
    #[arg(long)]
    pub downscale_factor: usize,
    #[command(flatten)]
    pub common: ShuffleCommon,
}

/// Options both directions share.
#[derive(Args, Debug)]
pub struct ShuffleCommon {
    /// Formulation: the interleaving copy, or the permutation matrix S (Sᵀ to unshuffle).
    #[arg(long, help_heading = "Method", value_enum, default_value = "direct")]
    pub method: UpsampleMethodArg,
    /// Output file (.npy), written atomically.
    #[arg(long, help_heading = "Output")]
    pub output: PathBuf,
    /// Print the summary as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

pub fn run_shuffle(a: &PixelShuffleArgs) -> Result<(), Error> {
    run(&a.input, a.upscale_factor, true, &a.common)
}

pub fn run_unshuffle(a: &PixelUnshuffleArgs) -> Result<(), Error> {
    run(&a.input, a.downscale_factor, false, &a.common)
}

fn run(input: &std::path::Path, r: usize, up: bool, c: &ShuffleCommon) -> Result<(), Error> {
    let x = read_tensor(input)?;
    fn go<T: Real>(
        x: &ArrayD<T>,
        r: usize,
        up: bool,
        c: &ShuffleCommon,
    ) -> Result<Vec<usize>, Error> {
        let method = match c.method {
            UpsampleMethodArg::Direct => PoolMethod::Direct,
            UpsampleMethodArg::Matrix => PoolMethod::Matrix,
        };
        let build = BuildOptions::default();
        let out = if up {
            functional::pixel_shuffle_with(x.view(), r, method, &build)?
        } else {
            functional::pixel_unshuffle_with(x.view(), r, method, &build)?
        };
        write_npy(&c.output, &out)?;
        Ok(out.shape().to_vec())
    }
    let shape = match &x {
        Tensor::F32(t) => go(t, r, up, c)?,
        Tensor::F64(t) => go(t, r, up, c)?,
    };
    let op = if up {
        "pixel-shuffle"
    } else {
        "pixel-unshuffle"
    };
    summary(
        op,
        method_name(c.method),
        x.dtype(),
        x.shape(),
        &shape,
        &c.output,
        c.json,
    )
}
