//! The arguments of the solving commands: `deconv`, `analyze`, `fit-transpose`.

use super::args::{GeometryArgs, MemoryArgs};
use super::values::{dims, Dims};
use clap::{Args, ValueEnum};
use convmat::solve::{RegParam, Solver, SpectralFilter};
use std::path::PathBuf;

/// `--solver`: the library's solvers by their names, with their descriptions in the help.
fn solver() -> impl clap::builder::TypedValueParser<Value = Solver> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(
        Solver::ALL.map(|s| PossibleValue::new(s.name()).help(s.description())),
    )
    .map(|name| Solver::from_name(&name).expect("clap checked the name"))
}

/// `--filter`: the spectral solver's filters by their names, with their descriptions.
fn filter() -> impl clap::builder::TypedValueParser<Value = SpectralFilter> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(
        SpectralFilter::ALL.map(|f| PossibleValue::new(f.name()).help(f.description())),
    )
    .map(|name| SpectralFilter::from_name(&name).expect("clap checked the name"))
}

/// `--reg-param`: a number or the name of a rule.
fn reg_param(s: &str) -> Result<RegParam, String> {
    RegParam::parse(s)
        .ok_or_else(|| format!("`{s}` is neither a number nor one of gcv, discrepancy, lcurve"))
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorArg {
    /// Separable passes when the kernel is separable (one channel), else direct.
    Auto,
    /// Matrix-free direct convolution and its adjoint.
    Direct,
    /// The explicit sparse matrix C.
    Matrix,
}

#[derive(Args, Debug)]
pub struct DeconvArgs {
    /// The observation y (.npy, (C_out, O…) or (N, C_out, O…)).
    #[arg(long)]
    pub observed: PathBuf,
    /// The convolution's weight (.npy, (C_out, C_in/groups, k…)).
    #[arg(long, required_unless_present = "stack")]
    pub weight: Option<PathBuf>,
    /// The spatial size of x, e.g. 64,64.
    #[arg(long, allow_negative_numbers = true, value_parser = dims, required_unless_present = "stack")]
    pub input_size: Option<Dims>,
    /// Instead of one convolution, a whole stack of linear layers (JSON, see `convmat stack
    /// --help`): invert the product (lsqr, lsmr, cgls matrix-free; cholesky, pinv on the
    /// explicit product).
    #[arg(long, conflicts_with_all = ["weight", "input_size", "stride", "padding", "dilation", "groups", "padding_mode"])]
    pub stack: Option<PathBuf>,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Solver.
    #[arg(long, help_heading = "Solver", value_parser = solver(), default_value = "lsqr")]
    pub solver: Solver,
    /// How the iterative solvers apply C (and whether cholesky may use the
    /// Kronecker factors of a separable kernel).
    #[arg(long, help_heading = "Solver", value_enum, default_value = "auto")]
    pub operator: OperatorArg,
    /// Damping λ (Tikhonov: minimise ‖Cx − y‖² + λ²‖x‖²) for lsqr, lsmr, cgls,
    /// cholesky [default: 0]. A warning gives its scale when a solution fits the noise.
    #[arg(long, help_heading = "Solver", allow_negative_numbers = true)]
    pub damp: Option<f64>,
    /// Relative tolerance on ‖Cᵀr‖ for lsqr, lsmr, cgls [default: 1e-6].
    #[arg(long, help_heading = "Solver", allow_negative_numbers = true)]
    pub atol: Option<f64>,
    /// Relative tolerance on ‖r‖ for lsqr, lsmr, cgls [default: 1e-6].
    #[arg(long, help_heading = "Solver", allow_negative_numbers = true)]
    pub btol: Option<f64>,
    /// Condition-number limit for lsqr, lsmr; 0 for none [default: 1e8].
    #[arg(long, help_heading = "Solver", allow_negative_numbers = true)]
    pub conlim: Option<f64>,
    /// Iteration limit for lsqr, lsmr, cgls, richardson-lucy (default: SciPy's — 2n for
    /// lsqr and cgls, min(m, n) for lsmr; 100 for Richardson–Lucy). Stopping early
    /// regularises.
    #[arg(long, help_heading = "Solver")]
    pub max_iter: Option<usize>,
    /// Richardson–Lucy's stopping tolerance on the relative change of x [default: 1e-6].
    #[arg(long, help_heading = "Solver", allow_negative_numbers = true)]
    pub tol: Option<f64>,
    /// Richardson–Lucy: set negative observations (noise) to 0 first.
    #[arg(long, help_heading = "Solver")]
    pub clip_negative: bool,
    /// Largest matrix (rows × columns) pinv densifies for its SVD [default: 1048576].
    #[arg(long, help_heading = "Solver")]
    pub svd_max_elements: Option<usize>,
    /// The spectral solver's filter [default: tikhonov].
    #[arg(long, help_heading = "Regularization", value_parser = filter())]
    pub filter: Option<SpectralFilter>,
    /// The regularization parameter, or the rule that chooses it from the data: for
    /// spectral tikhonov α and for tsvd the threshold on |λ| (a number), or gcv
    /// (generalized cross-validation, the default), discrepancy (‖Cx − y‖ = τσ√n, τ = 1) or
    /// lcurve (the L-curve's corner); for lsqr, lsmr, cgls only discrepancy, which stops
    /// them at the noise level. The choice and its curve are in --json.
    #[arg(long, help_heading = "Regularization", allow_negative_numbers = true, value_parser = reg_param)]
    pub reg_param: Option<RegParam>,
    /// The noise's standard deviation σ for --reg-param discrepancy and the Wiener
    /// filter's estimate (default: estimated from y, the median absolute second
    /// difference along rows).
    #[arg(long, help_heading = "Regularization", allow_negative_numbers = true)]
    pub noise_std: Option<f64>,
    /// The Wiener filter's noise-to-signal ratio R (default: estimated, σ²/(var(y) − σ²)).
    #[arg(long, help_heading = "Regularization", allow_negative_numbers = true)]
    pub nsr: Option<f64>,
    /// Truncated SVD (--filter tsvd): keep the K largest singular values.
    #[arg(long, help_heading = "Regularization")]
    pub keep: Option<usize>,
    /// The true x (.npy), to report the relative error and PSNR.
    #[arg(long, help_heading = "Output")]
    pub truth: Option<PathBuf>,
    /// Output file for the recovered x (.npy), written atomically.
    #[arg(long, help_heading = "Output")]
    pub output: PathBuf,
    /// Print the diagnostics as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("kernel").required(true).args(["weight", "kernel_size", "stack"]))]
pub struct AnalyzeArgs {
    /// Input spatial size, e.g. 8,8.
    #[arg(long, allow_negative_numbers = true, value_parser = dims, required_unless_present = "stack", conflicts_with = "stack")]
    pub input_size: Option<Dims>,
    /// Instead of one convolution, a whole stack of linear layers (JSON, see `convmat stack
    /// --help`): the report of its explicit product.
    #[arg(long, conflicts_with_all = ["stride", "padding", "dilation", "groups", "padding_mode"])]
    pub stack: Option<PathBuf>,
    /// Weight tensor (.npy, (C_out, C_in/groups, k…)).
    #[arg(long)]
    pub weight: Option<PathBuf>,
    /// Kernel spatial size: analyse a kernel of ones.
    #[arg(long, allow_negative_numbers = true, value_parser = dims)]
    pub kernel_size: Option<Dims>,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Largest matrix (rows × columns) to analyse by exact SVD.
    #[arg(long, default_value_t = 1 << 20)]
    pub svd_max_elements: usize,
    /// Seconds the iterations of a large C (Lanczos for σ_max, power iteration for the
    /// σ_min bound) may run (beyond, the report says what it could not establish).
    #[arg(long, default_value_t = 20.0)]
    pub time_limit: f64,
    /// Print the report as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct FitTransposeArgs {
    /// Training sources x (.npy, (N, C_in, I…) or (C_in, I…)).
    #[arg(long)]
    pub input: PathBuf,
    /// The down-sampling convolution's weight (.npy, (C_out, C_in/groups, k…)).
    #[arg(long)]
    pub weight: PathBuf,
    /// Observations y (.npy); default: the convolution of the sources with the weight.
    #[arg(long)]
    pub observed: Option<PathBuf>,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    /// LSQR's relative tolerance on ‖Aᵀr‖ for the fit.
    #[arg(
        long,
        help_heading = "Solver",
        default_value_t = 1e-10,
        allow_negative_numbers = true
    )]
    pub atol: f64,
    /// LSQR's relative tolerance on ‖r‖ for the fit.
    #[arg(
        long,
        help_heading = "Solver",
        default_value_t = 1e-10,
        allow_negative_numbers = true
    )]
    pub btol: f64,
    /// Output file for the learned kernel W′ (.npy, the transposed convolution's weight).
    #[arg(long, help_heading = "Output")]
    pub output: PathBuf,
    /// Print the comparison as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}
