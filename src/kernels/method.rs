//! The formulations a convolution or transposed convolution can be computed by, and
//! how `Auto` chooses among them (measured crossovers).

use crate::geometry::ConvGeometry;

/// How a forward convolution is computed. Results, and an explicit matrix where one
/// is built, must fit the memory budget of the [`BuildOptions`](crate::sparse::BuildOptions) passed along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvMethod {
    /// Direct loops over output positions and taps.
    Direct,
    /// Build the explicit matrix C (32-bit indices where they suffice), then `C·x`
    /// per batch item.
    Sparse,
    /// im2col + GEMM, tile by tile (see [`crate::kernels::im2col`]).
    Im2col,
    /// Real-to-complex FFTs: every input plane and kernel transformed once, the
    /// products summed per output channel, one inverse per output plane (see
    /// [`crate::kernels::fft`]). Not exact on integer data.
    Fft,
    /// Chosen by shape, see [`ConvMethod::resolve`].
    Auto,
}

/// How a transposed convolution is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvTransposeMethod {
    /// Scatter every input element through the kernel.
    Scatter,
    /// Build C for the forward geometry, then `Cᵀ·y` per batch item (Cᵀ not formed).
    Sparse,
    /// GEMM `Wᵀ·Y`, then col2im (see [`crate::kernels::im2col`]).
    Col2im,
    /// Zero insertion + stride-1 convolution with the flipped kernel (see
    /// [`crate::kernels::zero_insert`]).
    ZeroInsert,
    /// The adjoint of the FFT convolution (see [`crate::kernels::fft`]).
    Fft,
    /// Chosen by shape, see [`ConvTransposeMethod::resolve`].
    Auto,
}

/// Output channels per group up to which the direct loops beat a GEMM: with so
/// few rows the GEMM reuses each patch (or each input) too little to repay forming
/// the patch matrix. Measured (benches/formulations.rs, one thread): one channel,
/// 256×256, 5×5 — direct 0.34 ms, im2col 0.66 ms; 64→64 channels, 56×56, 3×3 —
/// im2col 32 ms, direct over 100× slower. Transposed, one channel 128×128, 4×4,
/// stride 2 — scatter 0.21 ms, col2im 0.34 ms; 64→32, 28×28 — col2im 12 ms,
/// scatter 242 ms. The crossover lies between; 4 is the conservative side.
pub const DIRECT_MAX_CHANNELS_PER_GROUP: usize = 4;

impl ConvMethod {
    /// The method's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ConvMethod::Direct => "direct",
            ConvMethod::Sparse => "sparse",
            ConvMethod::Im2col => "im2col",
            ConvMethod::Fft => "fft",
            ConvMethod::Auto => "auto",
        }
    }

    /// `Auto` made concrete for `g`: `direct` when each output channel's group
    /// has at most [`DIRECT_MAX_CHANNELS_PER_GROUP`] output channels, else `im2col`.
    /// (`sparse` pays only when one C serves many calls, which a single call cannot
    /// know.) Other methods are returned as they are.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// use convmat::kernels::ConvMethod;
    /// let one = ConvGeometry::builder(&[64, 64], &[5, 5]).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve(&one), ConvMethod::Direct);
    /// let many = ConvGeometry::builder(&[64, 64], &[3, 3]).channels(16, 32).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve(&many), ConvMethod::Im2col);
    /// ```
    pub fn resolve(self, g: &ConvGeometry) -> ConvMethod {
        match self {
            ConvMethod::Auto if g.out_channels_per_group() <= DIRECT_MAX_CHANNELS_PER_GROUP => {
                ConvMethod::Direct
            }
            ConvMethod::Auto => ConvMethod::Im2col,
            m => m,
        }
    }
}

impl ConvTransposeMethod {
    /// The method's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ConvTransposeMethod::Scatter => "scatter",
            ConvTransposeMethod::Sparse => "sparse",
            ConvTransposeMethod::Col2im => "col2im",
            ConvTransposeMethod::ZeroInsert => "zero-insert",
            ConvTransposeMethod::Fft => "fft",
            ConvTransposeMethod::Auto => "auto",
        }
    }

    /// `Auto` made concrete for the transposed convolution whose forward geometry is
    /// `g`: `scatter` when each group has at most [`DIRECT_MAX_CHANNELS_PER_GROUP`]
    /// input channels (the GEMM's inner dimension), else `col2im`. Zero insertion
    /// multiplies by the inserted zeros, so it is never the fastest.
    pub fn resolve(self, g: &ConvGeometry) -> ConvTransposeMethod {
        match self {
            ConvTransposeMethod::Auto
                if g.out_channels_per_group() <= DIRECT_MAX_CHANNELS_PER_GROUP =>
            {
                ConvTransposeMethod::Scatter
            }
            ConvTransposeMethod::Auto => ConvTransposeMethod::Col2im,
            m => m,
        }
    }
}
