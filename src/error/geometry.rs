//! Geometries and tensor shapes that are not valid.

use thiserror::Error;

/// A geometry, or a tensor shape checked against it, that is not valid.
///
/// Messages follow PyTorch's wording where PyTorch has one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GeometryError {
    /// A convolution needs at least one spatial dimension, and at most [`crate::geometry::MAX_RANK`].
    #[error("spatial rank must be between 1 and {max}, got {rank}")]
    Rank {
        /// The rank that was asked for.
        rank: usize,
        /// The largest supported rank.
        max: usize,
    },
    /// A per-dimension option has neither one value nor one per spatial dimension.
    #[error(
        "{name} must have {} (one per spatial dimension), got {got}",
        if *rank == 1 { "1 value".to_string() } else { format!("1 or {rank} values") }
    )]
    PerDimLength {
        /// Option name (`stride`, `padding`, …).
        name: &'static str,
        /// Spatial rank of the geometry.
        rank: usize,
        /// Number of values given.
        got: usize,
    },
    /// An input size with not one value per kernel dimension.
    #[error(
        "the input size {input_size} has {given} value(s), but the weight of shape {weight} \
         has a {rank}-D kernel: give {rank} sizes"
    )]
    InputSizeRank {
        /// The input size given.
        input_size: String,
        /// How many values it has.
        given: usize,
        /// The weight's shape.
        weight: String,
        /// The kernel's rank.
        rank: usize,
    },
    /// A quantity that must be positive is zero (stride, dilation, kernel size, groups, channels, input size).
    #[error("{name} must be positive, got {values}")]
    NotPositive {
        /// Option name.
        name: &'static str,
        /// The values as given, e.g. `[2, 0]`.
        values: String,
    },
    /// Channels not divisible by groups.
    #[error("{name} ({channels}) must be divisible by groups ({groups})")]
    ChannelsNotDivisible {
        /// `in_channels` or `out_channels`.
        name: &'static str,
        /// The channel count.
        channels: usize,
        /// The group count.
        groups: usize,
    },
    /// The dilated kernel is larger than the padded input in some dimension.
    #[error(
        "Calculated padded input size per channel: {padded_input}. Kernel size: {dilated_kernel}. \
         Kernel size can't be greater than actual input size"
    )]
    KernelLargerThanInput {
        /// Padded input size per spatial dimension, e.g. `(2 x 2)`.
        padded_input: String,
        /// Dilated kernel size per spatial dimension, e.g. `(3 x 3)`.
        dilated_kernel: String,
    },
    /// `output_padding` is not smaller than either stride or dilation in some dimension.
    #[error(
        "output padding must be smaller than either stride or dilation, but got \
         output_padding: {output_padding}, stride: {stride}, dilation: {dilation}"
    )]
    OutputPadding {
        /// Output padding per dimension.
        output_padding: String,
        /// Stride per dimension.
        stride: String,
        /// Dilation per dimension.
        dilation: String,
    },
    /// `padding = same` together with a stride larger than one.
    #[error("padding='same' is not supported for strided convolutions (stride {stride})")]
    SameWithStride {
        /// Stride per dimension.
        stride: String,
    },
    /// A string padding mode (`same`, `valid`) for a transposed convolution.
    #[error("padding='{mode}' is not supported for transposed convolutions; give a number per dimension")]
    StringPaddingTransposed {
        /// `same` or `valid`.
        mode: &'static str,
    },
    /// A padding the padding mode cannot fill: `reflect` needs it below the input
    /// size, `circular` and `symmetric` at most the input size (they fold once).
    #[error(
        "{}: got padding ({}, {}) for {mode} padding at spatial dimension {dim} of input size \
         {input_size}; {mode} allows at most {max}",
        if *mode == "reflect" {
            "Padding size should be less than the corresponding input dimension"
        } else {
            "Padding value causes wrapping around more than once"
        },
        padding.0,
        padding.1
    )]
    PaddingTooLarge {
        /// The padding mode.
        mode: &'static str,
        /// The spatial dimension (0 = first spatial dimension).
        dim: usize,
        /// Padding before and after.
        padding: (usize, usize),
        /// The input size along that dimension.
        input_size: usize,
        /// The largest padding the mode allows there.
        max: usize,
    },
    /// A transposed convolution with a padding mode other than `zeros`.
    #[error("Only \"zeros\" padding mode is supported for ConvTranspose{rank}d, got \"{mode}\"")]
    TransposePaddingMode {
        /// The spatial rank.
        rank: usize,
        /// The mode asked for.
        mode: &'static str,
    },
    /// A transposed convolution whose output would be empty.
    #[error(
        "Given input size per channel: {input}. Calculated output size per channel: {output}. \
         Output size is too small"
    )]
    OutputTooSmall {
        /// Input size per spatial dimension.
        input: String,
        /// The (non-positive) computed output size per dimension.
        output: String,
    },
    /// A weight tensor whose shape does not fit the geometry.
    #[error("weight of shape {got} does not fit: expected {expected}")]
    WeightShape {
        /// Expected shape.
        expected: String,
        /// Actual shape.
        got: String,
    },
    /// A weight whose rank cannot describe a convolution.
    #[error(
        "weight must have shape (out_channels, in_channels/groups, k…) with 1 to {max} kernel dims, \
         got a tensor of shape {got}"
    )]
    WeightRank {
        /// Actual shape.
        got: String,
        /// The largest supported spatial rank.
        max: usize,
    },
    /// An input whose channels do not match the weight (PyTorch's message).
    #[error(
        "Given groups={groups}, weight of size {weight}, expected input{input} to have \
         {expected} channels, but got {got} channels instead"
    )]
    InputChannels {
        /// Group count.
        groups: usize,
        /// Weight shape.
        weight: String,
        /// Input shape.
        input: String,
        /// Channels the weight expects.
        expected: usize,
        /// Channels the input has.
        got: usize,
    },
    /// A bias whose shape is not `[channels]`.
    #[error("bias of shape {got} does not fit: expected [{expected}]")]
    BiasShape {
        /// Expected length.
        expected: usize,
        /// Actual shape.
        got: String,
    },
    /// An input tensor whose shape does not fit the geometry.
    #[error("{name} of shape {got} does not fit: expected {expected}")]
    InputShape {
        /// Which tensor (`input`, `weight`, …).
        name: &'static str,
        /// Expected shapes, unbatched and batched.
        expected: String,
        /// Actual shape.
        got: String,
    },
    /// An input whose number of dimensions does not fit the weight (PyTorch's message).
    #[error(
        "Expected {unbatched}D (unbatched) or {batched}D (batched) input to a {rank}-D {op}, \
         but got input of size: {got}",
        unbatched = rank + 1,
        batched = rank + 2
    )]
    InputRank {
        /// The operation (`convolution`, `max-pooling`, …).
        op: &'static str,
        /// Spatial rank given by the weight (or kernel size).
        rank: usize,
        /// Actual shape.
        got: String,
    },
    /// A flat buffer whose length does not fit the geometry.
    #[error("{name} has {got} elements, expected a multiple of {per_item} (one {per_item}-element item per batch entry)")]
    BufferLength {
        /// Which buffer.
        name: &'static str,
        /// Elements per batch item.
        per_item: usize,
        /// Actual length.
        got: usize,
    },
    /// Two buffers that must hold the same batch count do not.
    #[error("{name} holds {got} elements, expected {expected} for a batch of {batch}")]
    BatchMismatch {
        /// Which buffer.
        name: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
        /// Batch size implied by the other buffer.
        batch: usize,
    },
    /// A vector whose length differs from the operator dimension it must match.
    #[error("{name} holds {got} elements, expected {expected} ({dimension})")]
    LengthMismatch {
        /// Which vector (`x`, `right-hand side b`, …).
        name: &'static str,
        /// The dimension it must match, e.g. `the operator's rows`.
        dimension: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// A product `A·B` whose factors do not chain.
    #[error(
        "a product A·B needs A's columns to equal B's rows, got A with {left_cols} columns \
         and B with {right_rows} rows"
    )]
    InnerDimension {
        /// Columns of the left factor A.
        left_cols: usize,
        /// Rows of the right factor B.
        right_rows: usize,
    },
    /// A fold input whose channel dimension is not a multiple of the kernel's size
    /// (PyTorch's message).
    #[error(
        "Expected size of input's dimension 1 to be divisible by the product of kernel_size, \
         but got input.size(1)={rows} and kernel_size={kernel}"
    )]
    FoldChannels {
        /// The input's dimension 1.
        rows: usize,
        /// The kernel size.
        kernel: String,
    },
    /// A fold input whose block count differs from the sliding blocks of the output
    /// (PyTorch's message).
    #[error(
        "Given output_size={output_size}, kernel_size={kernel}, expected size of input's \
         dimension 2 to match the calculated number of sliding blocks {blocks} = {expected}, \
         but got input.size(2)={got}"
    )]
    FoldBlocks {
        /// The output size asked for.
        output_size: String,
        /// The kernel size.
        kernel: String,
        /// Blocks per dimension, e.g. `2 * 2`.
        blocks: String,
        /// Their product.
        expected: usize,
        /// The input's dimension 2.
        got: usize,
    },
    /// A convolution that pads its two sides differently where equal sides are needed.
    #[error(
        "the padding differs between the two sides (before {before}, after {after}); give one \
         number per dimension, not 'same' with an even kernel"
    )]
    AsymmetricPadding {
        /// Padding before, per dimension.
        before: String,
        /// Padding after, per dimension.
        after: String,
    },
    /// No transposed convolution maps a convolution's outputs back to its input size.
    #[error(
        "no transposed convolution maps {output} back to {input} with this stride (the output \
         padding would reach the stride)"
    )]
    NoInvertingTranspose {
        /// The convolution's output size.
        output: String,
        /// Its input size.
        input: String,
    },
    /// Pooling padding larger than half the kernel (PyTorch's rule).
    #[error(
        "pad should be smaller than or equal to half of kernel size, but got pad={padding}, \
         kernel_size={kernel}"
    )]
    PoolPadding {
        /// The padding of the offending dimension.
        padding: usize,
        /// Its kernel size.
        kernel: usize,
    },
    /// Average-pooling padding larger than half the kernel (PyTorch's
    /// `pooling_output_shape` rule and words).
    #[error(
        "pad should be at most half of effective kernel size, but got pad={padding}, \
         kernel_size={kernel} and dilation={dilation}"
    )]
    PoolPaddingEffective {
        /// The padding of the offending dimension.
        padding: usize,
        /// Its kernel size.
        kernel: usize,
        /// Its dilation.
        dilation: usize,
    },
    /// An average pooling's `divisor_override` of zero.
    #[error("divisor must be not zero, got divisor_override={divisor}")]
    ZeroDivisor {
        /// The divisor given.
        divisor: i64,
    },
    /// A 3-D average pooling of an input smaller than its kernel in some dimension:
    /// PyTorch's `avg_pool3d` refuses it even where padding would make room (its
    /// `avg_pool2d` does not).
    #[error("input image ({input}) smaller than kernel size ({kernel})")]
    PoolInputSmallerThanKernel {
        /// The input size, as PyTorch prints it (`T: 2 H: 5 W: 5`).
        input: String,
        /// The kernel size (`kT: 3 kH: 3 kW: 3`).
        kernel: String,
    },
    /// An `output_size` with neither one value per spatial dimension nor two more.
    #[error(
        "output_size should be a sequence containing {rank} or {with_batch} elements, but it has a length of '{got}'",
        with_batch = rank + 2
    )]
    OutputSizeLength {
        /// Spatial rank.
        rank: usize,
        /// Values given.
        got: usize,
    },
    /// A max-unpooling `output_size` outside (default − stride, default + stride).
    #[error("invalid output_size \"{output_size}\" (dim {dim} must be between {min} and {max})")]
    UnpoolOutputSize {
        /// The spatial output size asked for.
        output_size: String,
        /// The first offending dimension.
        dim: usize,
        /// Exclusive lower bound, default − stride.
        min: i128,
        /// Exclusive upper bound, default + stride.
        max: i128,
    },
    /// A max-unpooling index outside its output plane.
    #[error("Found an invalid max index: {index} (output volumes are of size {plane})")]
    MaxIndex {
        /// The index.
        index: i64,
        /// The output plane's size, e.g. `4x4`.
        plane: String,
    },
    /// Indices whose shape differs from the values they place.
    #[error(
        "Expected shape of indices to be same as that of the input tensor ({input}) but got \
         indices tensor with shape: {indices}"
    )]
    IndicesShape {
        /// Shape of the values.
        input: String,
        /// Shape of the indices.
        indices: String,
    },
    /// Both `size` and `scale_factor` were given to an interpolation.
    #[error("only one of size or scale_factor should be defined")]
    SizeAndScale,
    /// Neither `size` nor `scale_factor` was given to an interpolation.
    #[error("either size or scale_factor should be defined")]
    NoSizeNorScale,
    /// `align_corners` given to a mode that does not interpolate.
    #[error(
        "align_corners option can only be set with the interpolating modes: linear | bilinear | \
         bicubic | trilinear (got mode {mode})"
    )]
    AlignCornersNotInterpolating {
        /// The mode.
        mode: &'static str,
    },
    /// `recompute_scale_factor=true` together with an explicit size.
    #[error("recompute_scale_factor is not meaningful with an explicit size.")]
    RecomputeWithSize,
    /// A scale factor that is not a positive finite number (or, for unpooling, not whole).
    #[error("{mode} needs {what} scale factors, got {values}")]
    ScaleFactor {
        /// The mode.
        mode: &'static str,
        /// `positive finite` or `positive whole-number`.
        what: &'static str,
        /// The factors as given.
        values: String,
    },
    /// An interpolation whose input or output would be empty.
    #[error(
        "Input and output sizes should be greater than 0, but got input {input} output {output}"
    )]
    ResizeEmpty {
        /// Input spatial size.
        input: String,
        /// Output spatial size.
        output: String,
    },
    /// A mode used at a spatial rank it is not defined for.
    #[error("Got {got}D input, but {mode} mode needs {needs}D input", got = rank + 2, needs = mode_rank + 2)]
    ModeRank {
        /// The mode.
        mode: &'static str,
        /// The input's spatial rank.
        rank: usize,
        /// The mode's spatial rank.
        mode_rank: usize,
    },
    /// An `F.pad` pad list of odd length (PyTorch's message).
    #[error("Padding length must be divisible by 2, but got padding length {len}")]
    PadLengthOdd {
        /// Values in the pad list.
        len: usize,
    },
    /// An `F.pad` pad list longer than two values per tensor dimension (PyTorch's message).
    #[error(
        "Padding length should be less than or equal to two times the input dimension but got \
         padding length {len} and input of dimension {ndim}"
    )]
    PadLengthTooLong {
        /// Values in the pad list.
        len: usize,
        /// Dimensions of the tensor.
        ndim: usize,
    },
    /// A fill value given to a padding mode that does not fill (PyTorch's message).
    #[error(
        "Padding mode \"{mode}\" doesn't take in value argument (got value {value}; only \
         constant padding fills)"
    )]
    PadValue {
        /// The padding mode.
        mode: &'static str,
        /// The value given.
        value: String,
    },
    /// A pad list and tensor rank that the non-constant modes do not support: they pad
    /// the last 1, 2 or 3 dimensions of a tensor with one or two more (PyTorch's message).
    #[error(
        "Padding size {len} is not supported for {ndim}D input tensor. Supported combinations \
         for non-constant padding: 2D or 3D input: padding size = 2 (pads last dimension); 3D \
         or 4D input: padding size = 4 (pads last 2 dimensions); 4D or 5D input: padding size \
         = 6 (pads last 3 dimensions)"
    )]
    PadRank {
        /// Values in the pad list.
        len: usize,
        /// Dimensions of the tensor.
        ndim: usize,
    },
    /// A reflect, replicate or symmetric padding of a tensor with an empty dimension
    /// other than the batch (PyTorch's message).
    #[error(
        "Expected {unbatched}D or {batched}D (batch mode) tensor with possibly 0 batch size and \
         other non-zero dimensions for input, but got: {shape}",
        unbatched = rank + 1,
        batched = rank + 2
    )]
    PadEmptyDimension {
        /// Dimensions padded.
        rank: usize,
        /// The tensor's shape.
        shape: String,
    },
    /// A reflect padding not below the size of its dimension, or a symmetric padding
    /// above it (PyTorch's message for reflect; one fold only).
    #[error(
        "Argument #{argument}: Padding size should be {bound} the corresponding input \
         dimension, but got: padding ({}, {}) at dimension {dim} of input {shape}",
        padding.0,
        padding.1,
        bound = if *mode == "reflect" { "less than" } else { "at most" }
    )]
    PadTooLarge {
        /// `reflect` or `symmetric`.
        mode: &'static str,
        /// PyTorch's argument number: 4 for the pair of the last dimension, 6, 8 before it.
        argument: usize,
        /// The tensor dimension padded.
        dim: usize,
        /// Padding before and after.
        padding: (isize, isize),
        /// The tensor's shape.
        shape: String,
    },
    /// A circular padding that wraps around more than once: past the size of its
    /// dimension (PyTorch's check), or, with a negative padding on the other side, past
    /// the elements the crop leaves (where PyTorch reads overlapping or uninitialised
    /// memory).
    #[error(
        "Padding value causes wrapping around more than once. Padding ({}, {}) at dimension \
         {dim} of input {shape} wraps at most once around {window} element(s){}",
        padding.0,
        padding.1,
        if *cropped { " (what the negative padding leaves)" } else { "" }
    )]
    PadWraps {
        /// The tensor dimension padded.
        dim: usize,
        /// Padding before and after.
        padding: (isize, isize),
        /// The tensor's shape.
        shape: String,
        /// The elements it may wrap around.
        window: usize,
        /// Whether a negative padding cropped them.
        cropped: bool,
    },
    /// A constant padding that crops more than the dimension holds (PyTorch's message,
    /// from the narrow it calls).
    #[error(
        "narrow(): length must be non-negative. Padding ({}, {}) crops {crop} element(s) from \
         dimension {dim} of input {shape}, which has {size}",
        padding.0,
        padding.1
    )]
    PadCropsTooMuch {
        /// The tensor dimension padded.
        dim: usize,
        /// Padding before and after.
        padding: (isize, isize),
        /// Elements the negative values remove.
        crop: u128,
        /// The dimension's size.
        size: usize,
        /// The tensor's shape.
        shape: String,
    },
    /// A circular padding whose output size would be negative (PyTorch's message).
    #[error(
        "Negative padding value is resulting in an empty dimension: padding ({}, {}) at \
         dimension {dim} of input {shape} gives size {output}",
        padding.0,
        padding.1
    )]
    PadNegativeSize {
        /// The tensor dimension padded.
        dim: usize,
        /// Padding before and after.
        padding: (isize, isize),
        /// The tensor's shape.
        shape: String,
        /// The output size computed.
        output: i128,
    },
    /// A reflect, replicate or symmetric padding whose output would be empty
    /// (PyTorch's messages: one for 1-D, one for 2-D and 3-D).
    #[error(
        "{}",
        if *rank == 1 {
            format!("input ({input}) is too small. Calculated output {output}")
        } else {
            format!("Calculated output {output} must be >= 1 in every dimension (input {input})")
        }
    )]
    PadOutputTooSmall {
        /// Dimensions padded.
        rank: usize,
        /// The input sizes, as PyTorch names them (`H: 4, W: 4`).
        input: String,
        /// The output sizes computed (`H: 0 W: 6`).
        output: String,
    },
    /// A pixel shuffle or unshuffle on fewer than three dimensions (PyTorch's message).
    #[error(
        "{op} expects input to have at least 3 dimensions, but got input with {ndim} dimension(s)"
    )]
    ShuffleRank {
        /// `pixel_shuffle` or `pixel_unshuffle`.
        op: &'static str,
        /// The input's number of dimensions.
        ndim: usize,
    },
    /// A zero upscale or downscale factor (PyTorch's message).
    #[error("{op} expects a positive {name}, but got {factor}")]
    ShuffleFactor {
        /// `pixel_shuffle` or `pixel_unshuffle`.
        op: &'static str,
        /// `upscale_factor` or `downscale_factor`.
        name: &'static str,
        /// The factor given.
        factor: usize,
    },
    /// A dimension a pixel shuffle cannot split: channels not divisible by r²
    /// (shuffle), height or width not divisible by r (unshuffle). PyTorch's message.
    #[error(
        "{op} expects {what} to be divisible by {}, but input.size({dim})={size} is not divisible by {divisor}",
        if *dim == -3 { "the square of upscale_factor" } else { "downscale_factor" }
    )]
    ShuffleNotDivisible {
        /// `pixel_shuffle` or `pixel_unshuffle`.
        op: &'static str,
        /// `its input's 'channel' dimension`, `height` or `width`.
        what: &'static str,
        /// The dimension, counted from the end (−3, −2 or −1).
        dim: i8,
        /// Its size.
        size: usize,
        /// What it must be divisible by (r² or r).
        divisor: usize,
    },
    /// A formulation asked for by name that cannot compute this geometry (Winograd
    /// needs a 2-D 3×3 kernel with stride and dilation 1).
    #[error(
        "the {method} formulation needs {needs}; got {got}. Use {instead}, which compute \
         every geometry"
    )]
    FormulationNeeds {
        /// The formulation's name (`winograd`).
        method: &'static str,
        /// What it needs.
        needs: &'static str,
        /// What the geometry has.
        got: String,
        /// The formulations to use instead, in the direction asked for (`im2col,
        /// direct or auto` forward, `col2im, scatter or auto` transposed).
        instead: &'static str,
    },
    /// A size computation overflowed the machine word.
    #[error("size overflow computing {what}")]
    Overflow {
        /// What was being computed.
        what: &'static str,
    },
}
