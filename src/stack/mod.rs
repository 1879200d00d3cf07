//! A sequence of linear layers — the linear part of an encoder or decoder — as one
//! operator: applied layer by layer (matrix-free), or multiplied out into the
//! explicit product matrix within the memory budget.
//!
//! Every layer maps one item of shape `(C, spatial…)` to the next layer's input; a
//! [`Stack`] checks the whole chain once ([`Stack::shapes`]) and names the layer a
//! shape error comes from. Column sums of the product's transpose — the output a
//! constant input gives, [`Stack::gain`] — show a decoder's checkerboard (Odena et
//! al., 2016).
//!
//! ```
//! use convmat::functional::InterpolateOptions;
//! use convmat::geometry::{ConvOptions, Padding, ResizeMode};
//! use convmat::operator::LinearOperator;
//! use convmat::sparse::BuildOptions;
//! use convmat::stack::{Layer, Stack};
//! // a decoder on one 4×4 channel: nearest ×2, then a 3×3 box filter with padding 1
//! let stack = Stack::new(&[1, 4, 4], vec![
//!     Layer::Interpolate(InterpolateOptions::scale(ResizeMode::Nearest, &[2.0])),
//!     Layer::Conv {
//!         weight: vec![1.0 / 9.0; 9],
//!         weight_shape: vec![1, 1, 3, 3],
//!         options: ConvOptions { padding: Padding::Explicit(vec![1]), ..Default::default() },
//!     },
//! ]).unwrap();
//! assert_eq!(stack.output_shape(), [1, 8, 8]);
//! let op = stack.operator().unwrap();
//! let m = stack.matrix(&BuildOptions::default()).unwrap();
//! let x: Vec<f64> = (0..16).map(f64::from).collect();
//! let (mut a, mut b) = (vec![0.0; 64], vec![0.0; 64]);
//! op.apply(&x, &mut a).unwrap();
//! m.mul_vec(&x, &mut b).unwrap();
//! assert!(a.iter().zip(&b).all(|(u, v)| (u - v).abs() < 1e-12));
//! ```

mod checkerboard;
#[cfg(feature = "json")]
mod json;

pub use checkerboard::{odena_decoders, GainMap};

#[cfg(feature = "json")]
pub use json::{load, parse};

use crate::error::{shape_str, Error, GeometryError};
use crate::functional::{unpool_geometry, AvgPoolOptions, InterpolateOptions, UnpoolOptions};
use crate::geometry::{
    per_dim, AvgPoolGeometry, ConvGeometry, ConvOptions, ConvTransposeGeometry, PadGeometry,
    PaddingMode, ResizeGeometry, ShuffleGeometry,
};
use crate::kernels::{ConvMethod, ConvTransposeMethod};
use crate::operator::workspace::Pool;
use crate::operator::{
    check_lengths, Adjoint, AvgPoolOperator, ConvOperator, ConvTransposeOperator, LinearOperator,
    MaxUnpoolOperator, PadOperator, PixelShuffleOperator, ResizeOperator,
};
use crate::solve::{
    deconvolve_operator, BatchCallback, DeconvOptions, Deconvolution, OperatorChoice,
};
use crate::sparse::{
    avg_pool_matrix, max_unpool_matrix, pad_matrix, pixel_shuffle_matrix, resize_matrix,
    BuildOptions, ConvMatrix, Csr,
};
use crate::Real;

/// One linear layer of a [`Stack`], with PyTorch's parameters. Biases are not
/// part of a linear map and have no place here.
#[derive(Debug, Clone)]
pub enum Layer<T> {
    /// `nn.Conv*d`: weight `(C_out, C_in/groups, k…)`, row-major.
    Conv {
        /// The weight's values.
        weight: Vec<T>,
        /// Its shape.
        weight_shape: Vec<usize>,
        /// stride, padding, dilation, groups, padding_mode.
        options: ConvOptions,
    },
    /// `nn.ConvTranspose*d`: weight `(C_in, C_out/groups, k…)`.
    ConvTranspose {
        /// The weight's values.
        weight: Vec<T>,
        /// Its shape.
        weight_shape: Vec<usize>,
        /// stride, padding, output_padding, dilation, groups.
        options: ConvOptions,
    },
    /// `F.pad` with a linear mode (a constant other than 0 is not linear): the pad
    /// list in F.pad's order, last dimension first.
    Pad {
        /// Pads, negative ones crop.
        pad: Vec<isize>,
        /// The mode.
        mode: PaddingMode,
    },
    /// `F.interpolate` in any mode, or a block unpooling.
    Interpolate(InterpolateOptions),
    /// `F.max_unpool*d` with fixed indices (one item's: `(C, pooled…)`).
    MaxUnpool {
        /// The pool's indices, flat in each output plane.
        indices: Vec<i64>,
        /// The pool's kernel size.
        kernel_size: Vec<usize>,
        /// stride, padding, output_size.
        options: UnpoolOptions,
    },
    /// `F.pixel_shuffle` by this factor.
    PixelShuffle(usize),
    /// `F.pixel_unshuffle` by this factor.
    PixelUnshuffle(usize),
    /// `F.avg_pool*d` with this kernel size (one value for every spatial dimension,
    /// or one per dimension).
    AvgPool {
        /// The window.
        kernel_size: Vec<usize>,
        /// stride, padding, ceil_mode, count_include_pad, divisor_override.
        options: AvgPoolOptions,
    },
    /// `F.adaptive_avg_pool*d` to this output size (`None` keeps a dimension).
    AdaptiveAvgPool(Vec<Option<usize>>),
}

impl<T: Real> Layer<T> {
    /// The layer's type as the JSON description spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Conv { .. } => "conv",
            Layer::ConvTranspose { .. } => "conv_transpose",
            Layer::Pad { .. } => "pad",
            Layer::Interpolate(_) => "upsample",
            Layer::MaxUnpool { .. } => "max_unpool",
            Layer::PixelShuffle(_) => "pixel_shuffle",
            Layer::PixelUnshuffle(_) => "pixel_unshuffle",
            Layer::AvgPool { .. } => "avg_pool",
            Layer::AdaptiveAvgPool(_) => "adaptive_avg_pool",
        }
    }

    /// The layer's geometry for one item of shape `input` (`(C, spatial…)`).
    fn geometry(&self, input: &[usize]) -> Result<Built, Error> {
        let spatial = input.get(1..).unwrap_or_default();
        let channels = input.first().copied().unwrap_or(0);
        Ok(match self {
            Layer::Conv {
                weight_shape,
                options,
                ..
            } => Built::Conv(ConvGeometry::for_tensors(input, weight_shape, options)?),
            Layer::ConvTranspose {
                weight_shape,
                options,
                ..
            } => Built::ConvTranspose(ConvTransposeGeometry::for_tensors(
                input,
                weight_shape,
                options,
            )?),
            Layer::Pad { pad, mode } => Built::Pad(PadGeometry::new(input, pad, *mode)?),
            Layer::Interpolate(opts) => {
                if input.len() < 2 {
                    return Err(GeometryError::InputShape {
                        name: "input",
                        expected: "(C, d1, …) with at least one spatial dimension".into(),
                        got: shape_str(input),
                    }
                    .into());
                }
                Built::Resize(opts.geometry(spatial)?, channels)
            }
            Layer::MaxUnpool {
                indices,
                kernel_size,
                options,
            } => {
                // one kernel value stands for every spatial dimension
                let kernel = per_dim("kernel_size", kernel_size, spatial.len())?;
                let g = unpool_geometry(input, input, &kernel, options)?;
                let per_item = input.iter().product::<usize>();
                if indices.len() != per_item {
                    return Err(GeometryError::BufferLength {
                        name: "indices",
                        per_item,
                        got: indices.len(),
                    }
                    .into());
                }
                Built::Unpool(g, channels)
            }
            Layer::AvgPool {
                kernel_size,
                options,
            } => {
                let kernel = per_dim("kernel_size", kernel_size, spatial.len())?;
                Built::AvgPool(options.geometry(spatial, &kernel)?, channels)
            }
            Layer::AdaptiveAvgPool(size) => {
                Built::Resize(ResizeGeometry::adaptive(spatial, size)?, channels)
            }
            Layer::PixelShuffle(r) => Built::Shuffle(ShuffleGeometry::shuffle(input, *r)?, true),
            Layer::PixelUnshuffle(r) => {
                Built::Shuffle(ShuffleGeometry::unshuffle(input, *r)?, false)
            }
        })
    }
}

/// A layer's validated geometry.
enum Built {
    Conv(ConvGeometry),
    ConvTranspose(ConvTransposeGeometry),
    Pad(PadGeometry),
    Resize(crate::geometry::ResizeGeometry, usize),
    Unpool(crate::geometry::UnpoolGeometry, usize),
    Shuffle(ShuffleGeometry, bool),
    AvgPool(AvgPoolGeometry, usize),
}

impl Built {
    /// One item's output shape `(C, spatial…)`.
    fn output_shape(&self) -> Vec<usize> {
        match self {
            Built::Conv(g) => g.output_shape(),
            Built::ConvTranspose(t) => t.output_shape(),
            Built::Pad(g) => g.output_shape().to_vec(),
            Built::Resize(g, c) => [&[*c], g.output_size()].concat(),
            Built::Unpool(g, c) => [&[*c], g.output_size()].concat(),
            Built::Shuffle(g, true) => g.wide_shape().to_vec(),
            Built::Shuffle(g, false) => g.deep_shape().to_vec(),
            Built::AvgPool(g, c) => [&[*c], g.output_size()].concat(),
        }
    }
}

/// A validated sequence of linear layers on items of shape `(C, spatial…)`.
#[derive(Debug, Clone)]
pub struct Stack<T> {
    input: Vec<usize>,
    layers: Vec<Layer<T>>,
    /// The item shape before each layer and after the last.
    shapes: Vec<Vec<usize>>,
}

impl<T: Real> Stack<T> {
    /// The stack of `layers` on items of shape `input` (`(C, spatial…)`), its
    /// shapes checked layer by layer.
    ///
    /// # Errors
    /// [`Error::Layer`] naming the first layer that does not fit what it receives
    /// (or whose weight has not its shape's element count), with the layer's own
    /// error inside; [`GeometryError::InputShape`] for an empty stack or input.
    ///
    /// # Panics
    /// Never: the shapes start with the input's.
    pub fn new(input: &[usize], layers: Vec<Layer<T>>) -> Result<Self, Error> {
        if layers.is_empty() || input.is_empty() || input.contains(&0) {
            return Err(GeometryError::InputShape {
                name: "stack",
                expected: "at least one layer on a non-empty (C, spatial…) input".into(),
                got: format!("{} layer(s) on {}", layers.len(), shape_str(input)),
            }
            .into());
        }
        crate::geometry::checked_product("the stack's input size", input.iter().copied())?;
        let mut shapes = vec![input.to_vec()];
        for (index, layer) in layers.iter().enumerate() {
            let built = in_layer(index, layer, || {
                let built = layer.geometry(shapes.last().expect("starts non-empty"))?;
                if let Layer::Conv {
                    weight,
                    weight_shape,
                    ..
                }
                | Layer::ConvTranspose {
                    weight,
                    weight_shape,
                    ..
                } = layer
                {
                    let want: usize = weight_shape.iter().product();
                    if weight.len() != want {
                        return Err(GeometryError::WeightShape {
                            expected: format!(
                                "{want} values for the shape {}",
                                shape_str(weight_shape)
                            ),
                            got: format!("{} values", weight.len()),
                        }
                        .into());
                    }
                }
                Ok(built)
            })?;
            let shape = built.output_shape();
            in_layer(index, layer, || {
                crate::geometry::checked_product("the layer's output size", shape.iter().copied())
                    .map(|_| ())
                    .map_err(Error::from)
            })?;
            shapes.push(shape);
        }
        Ok(Stack {
            input: input.to_vec(),
            layers,
            shapes,
        })
    }

    /// The layers.
    pub fn layers(&self) -> &[Layer<T>] {
        &self.layers
    }
    /// One item's input shape.
    pub fn input_shape(&self) -> &[usize] {
        &self.input
    }
    /// One item's output shape.
    ///
    /// # Panics
    /// Never: a stack holds its input's shape and one per layer.
    pub fn output_shape(&self) -> &[usize] {
        self.shapes.last().expect("a stack has shapes")
    }
    /// The item shape before each layer, then the output's (one more than layers).
    pub fn shapes(&self) -> &[Vec<usize>] {
        &self.shapes
    }
    /// Rows of the product: one item's output elements.
    pub fn rows(&self) -> usize {
        self.output_shape().iter().product()
    }
    /// Columns of the product: one item's input elements.
    pub fn cols(&self) -> usize {
        self.input.iter().product()
    }

    /// The product operator, matrix-free: each layer's fast kernel in turn, the
    /// adjoint in reverse order with each layer's adjoint.
    ///
    /// # Errors
    /// [`Error::OutputTooLarge`] when two buffers of the largest intermediate
    /// result would not fit the default memory budget; [`Error::Layer`] for a
    /// layer whose operator cannot be made (as [`Stack::new`] checked, none for a
    /// valid stack).
    ///
    /// # Panics
    /// Never: a stack has shapes.
    pub fn operator(&self) -> Result<StackOperator<T>, Error> {
        self.operator_within(&BuildOptions::default())
    }

    /// [`Stack::operator`], its intermediate buffers refused past `opts`' budget.
    ///
    /// # Errors
    /// As [`Stack::operator`], with `opts`' budget.
    ///
    /// # Panics
    /// Never: a stack has shapes.
    pub fn operator_within(&self, opts: &BuildOptions) -> Result<StackOperator<T>, Error> {
        // the two intermediate buffers, refused before allocating past the budget
        let (largest, at) = self
            .shapes
            .iter()
            .map(|s| s.iter().map(|&d| d as u128).product::<u128>())
            .zip(0..)
            .max()
            .expect("a stack has shapes");
        let bytes = 2 * largest * size_of::<T>() as u128;
        let budget = opts.budget();
        if bytes > budget as u128 {
            return Err(Error::OutputTooLarge {
                what: "largest intermediate result (twice, for the layers in turn)",
                shape: shape_str(&self.shapes[at]),
                bytes,
                budget,
            });
        }
        let ops = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, layer)| in_layer(i, layer, || self.layer_operator(i)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StackOperator {
            ops,
            bufs: Pool::new(),
        })
    }

    fn layer_operator(&self, i: usize) -> Result<Box<dyn LinearOperator<T>>, Error> {
        let layer = &self.layers[i];
        Ok(match (layer.geometry(&self.shapes[i])?, layer) {
            (Built::Conv(g), Layer::Conv { weight, .. }) => {
                Box::new(ConvOperator::new(g, weight.clone(), ConvMethod::Auto)?)
            }
            (Built::ConvTranspose(t), Layer::ConvTranspose { weight, .. }) => Box::new(
                ConvTransposeOperator::new(t, weight.clone(), ConvTransposeMethod::Auto)?,
            ),
            (Built::Pad(g), _) => Box::new(PadOperator::new(g)),
            (Built::Resize(g, c), _) => Box::new(ResizeOperator::new(g, c)),
            (Built::Unpool(g, _), Layer::MaxUnpool { indices, .. }) => {
                Box::new(MaxUnpoolOperator::new(g, indices.clone())?)
            }
            (Built::Shuffle(g, true), _) => Box::new(PixelShuffleOperator::new(g)),
            (Built::Shuffle(g, false), _) => Box::new(Adjoint(PixelShuffleOperator::new(g))),
            (Built::AvgPool(g, c), _) => Box::new(AvgPoolOperator::new(g, c)),
            _ => unreachable!("a layer builds its own geometry"),
        })
    }

    /// Layer `i`'s explicit matrix.
    fn layer_matrix(&self, i: usize, opts: &BuildOptions) -> Result<Csr<T>, Error> {
        let layer = &self.layers[i];
        Ok(match (layer.geometry(&self.shapes[i])?, layer) {
            (Built::Conv(g), Layer::Conv { weight, .. }) => {
                ConvMatrix::<T>::build_with_options(&g, weight, opts)?
            }
            (Built::ConvTranspose(t), Layer::ConvTranspose { weight, .. }) => {
                ConvMatrix::<T>::build_with_options(t.conv(), weight, opts)?.transpose()
            }
            (Built::Pad(g), _) => pad_matrix(&g, opts)?,
            (Built::Resize(g, c), _) => resize_matrix(&g, c, opts)?,
            (Built::Unpool(g, _), Layer::MaxUnpool { indices, .. }) => {
                max_unpool_matrix(&g, indices, opts)?
            }
            (Built::Shuffle(g, true), _) => pixel_shuffle_matrix(&g, opts)?,
            (Built::Shuffle(g, false), _) => pixel_shuffle_matrix(&g, opts)?.transpose(),
            (Built::AvgPool(g, c), _) => avg_pool_matrix(&g, c, opts)?,
            _ => unreachable!("a layer builds its own geometry"),
        })
    }

    /// The explicit product matrix `M_L ⋯ M_2·M_1` (rows: one output item,
    /// columns: one input item), each layer's matrix and each partial product
    /// refused past `opts`' budget.
    ///
    /// # Errors
    /// [`Error::Layer`] wrapping [`Error::MemoryBudget`] for a layer's matrix or
    /// the product so far that does not fit.
    ///
    /// # Panics
    /// Never: a stack has at least one layer.
    pub fn matrix(&self, opts: &BuildOptions) -> Result<Csr<T>, Error> {
        let mut product: Option<Csr<T>> = None;
        for (i, layer) in self.layers.iter().enumerate() {
            let m = in_layer(i, layer, || self.layer_matrix(i, opts))?;
            product = Some(match product {
                None => m,
                Some(p) => in_layer(i, layer, || m.matmul(&p, opts))?,
            });
        }
        Ok(product.expect("a stack has layers"))
    }

    /// The per-pixel gain: the output of a constant input of ones, `M·𝟙` — the
    /// row sums of the product, i.e. the column sums of its transpose. A flat gain
    /// (away from the borders) means a constant input stays constant; a periodic
    /// pattern is the checkerboard of an up-sampling whose kernel the stride does
    /// not divide evenly (Odena, Dumoulin & Olah, 2016).
    ///
    /// # Errors
    /// As [`Stack::operator`].
    pub fn gain(&self) -> Result<Vec<T>, Error> {
        let op = self.operator()?;
        let mut out = vec![T::zero(); self.rows()];
        op.apply(&vec![T::one(); self.cols()], &mut out)?;
        Ok(out)
    }
}

impl<T: Real> Stack<T> {
    /// Recovers every item of `y` (items of [`Stack::rows`] values) from `y = M·x`,
    /// `M` the stack's product — the inverse problem of a whole linear decoder or
    /// encoder: LSQR, LSMR, CGLS and Richardson–Lucy on the matrix-free operator,
    /// Cholesky and the pseudo-inverse on the explicit product (built within
    /// `opts.build`'s budget), as [`deconvolve_operator`] describes.
    ///
    /// ```
    /// use convmat::functional::InterpolateOptions;
    /// use convmat::geometry::ResizeMode;
    /// use convmat::solve::{DeconvOptions, Solver};
    /// use convmat::stack::{Layer, Stack};
    /// // bilinear ×2 has full column rank: LSQR recovers its input
    /// let s = Stack::new(&[1, 4, 4], vec![Layer::Interpolate(InterpolateOptions::scale(ResizeMode::Bilinear, &[2.0]))]).unwrap();
    /// let x: Vec<f64> = (0..16).map(|i| (i as f64).cos()).collect();
    /// let mut y = vec![0.0; 64];
    /// convmat::operator::LinearOperator::apply(&s.operator().unwrap(), &x, &mut y).unwrap();
    /// let opts = DeconvOptions { solver: Solver::Lsqr, atol: 1e-12, btol: 1e-12, ..Default::default() };
    /// let d = s.deconvolve(&y, Some(&x), &opts, None).unwrap();
    /// assert!(d.items[0].quality.unwrap().relative_error < 1e-9);
    /// ```
    ///
    /// # Errors
    /// As [`deconvolve_operator`], and [`Error::Layer`] for a layer's matrix or
    /// the product over the budget.
    pub fn deconvolve(
        &self,
        y: &[T],
        truth: Option<&[T]>,
        opts: &DeconvOptions,
        progress: Option<BatchCallback<'_, T>>,
    ) -> Result<Deconvolution<T>, Error> {
        let op = self.operator_within(&opts.build)?;
        let matrix = (opts.solver.needs_matrix() || opts.operator == OperatorChoice::Matrix)
            .then(|| self.matrix(&opts.build))
            .transpose()?;
        let row_len = self.output_shape().last().copied().unwrap_or(1);
        deconvolve_operator(&op, matrix.as_ref(), y, truth, opts, row_len, progress)
    }
}

/// How [`Stack::apply_items`] computes: the layers one by one, or the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Formulation {
    /// Each layer's own kernel in turn ([`Stack::operator`]).
    #[default]
    LayerByLayer,
    /// The explicit product matrix ([`Stack::matrix`]).
    Product,
}

impl<T: Real> Stack<T> {
    /// `M·x` for every item of `x` (items of [`Stack::cols`] values), or `Mᵀ·y`
    /// (`adjoint`, items of [`Stack::rows`]), by `how`, within `opts`' budget for the
    /// result, the buffers and the matrix.
    ///
    /// ```
    /// use convmat::sparse::BuildOptions;
    /// use convmat::stack::{Formulation, Layer, Stack};
    /// let s = Stack::<f64>::new(&[4, 1, 1], vec![Layer::PixelShuffle(2)]).unwrap();
    /// // two items of four channels: each becomes one 2×2 plane
    /// let x: Vec<f64> = (0..8).map(f64::from).collect();
    /// let o = BuildOptions::default();
    /// let y = s.apply_items(&x, false, Formulation::Product, &o).unwrap();
    /// assert_eq!(y, x);
    /// assert_eq!(s.apply_items(&y, true, Formulation::LayerByLayer, &o).unwrap(), x);
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::BufferLength`] unless `x` is whole items;
    /// [`Error::OutputTooLarge`] for a result past the budget; the errors of
    /// [`Stack::operator_within`] or [`Stack::matrix`].
    pub fn apply_items(
        &self,
        x: &[T],
        adjoint: bool,
        how: Formulation,
        opts: &BuildOptions,
    ) -> Result<Vec<T>, Error> {
        let (from, to) = if adjoint {
            (self.rows(), self.cols())
        } else {
            (self.cols(), self.rows())
        };
        if from == 0 || !x.len().is_multiple_of(from) {
            return Err(GeometryError::BufferLength {
                name: "input",
                per_item: from,
                got: x.len(),
            }
            .into());
        }
        let items = x.len() / from;
        let bytes = items as u128 * to as u128 * size_of::<T>() as u128;
        if bytes > opts.budget() as u128 {
            let shape = if adjoint {
                self.input_shape()
            } else {
                self.output_shape()
            };
            return Err(Error::OutputTooLarge {
                what: "output",
                shape: shape_str(&[&[items], shape].concat()),
                bytes,
                budget: opts.budget(),
            });
        }
        let op: Box<dyn LinearOperator<T>> = match how {
            Formulation::LayerByLayer => Box::new(self.operator_within(opts)?),
            Formulation::Product => Box::new(self.matrix(opts)?),
        };
        let mut out = vec![T::zero(); items * to];
        for (xi, oi) in x.chunks_exact(from).zip(out.chunks_exact_mut(to)) {
            if adjoint {
                op.apply_adjoint(xi, oi)?;
            } else {
                op.apply(xi, oi)?;
            }
        }
        Ok(out)
    }
}

/// Runs `f`, naming layer `index` in its error.
fn in_layer<T: Real, R>(
    index: usize,
    layer: &Layer<T>,
    f: impl FnOnce() -> Result<R, Error>,
) -> Result<R, Error> {
    f().map_err(|e| Error::Layer {
        index,
        kind: layer.kind().to_string(),
        source: Box::new(e),
    })
}

/// A [`Stack`] as a linear operator on one item: the layers' operators in turn.
pub struct StackOperator<T> {
    ops: Vec<Box<dyn LinearOperator<T>>>,
    /// Two buffers for the intermediate results.
    bufs: Pool<(Vec<T>, Vec<T>)>,
}

impl<T: Real> StackOperator<T> {
    /// The layers in turn (`adjoint`: their adjoints, last layer first), through
    /// the two buffers.
    fn chain(&self, input: &[T], output: &mut [T], adjoint: bool) -> Result<(), GeometryError> {
        let n = self.ops.len();
        self.bufs.with(|(a, b)| {
            for i in 0..n {
                let op = &self.ops[if adjoint { n - 1 - i } else { i }];
                let from: &[T] = if i == 0 { input } else { a };
                let apply = |from: &[T], to: &mut [T]| {
                    if adjoint {
                        op.apply_adjoint(from, to)
                    } else {
                        op.apply(from, to)
                    }
                };
                if i + 1 == n {
                    apply(from, output)?;
                } else {
                    b.clear();
                    b.resize(if adjoint { op.ncols() } else { op.nrows() }, T::zero());
                    apply(from, b)?;
                    std::mem::swap(a, b);
                }
            }
            Ok(())
        })
    }
}

impl<T: Real> LinearOperator<T> for StackOperator<T> {
    fn nrows(&self) -> usize {
        self.ops.last().map_or(0, |o| o.nrows())
    }
    fn ncols(&self) -> usize {
        self.ops.first().map_or(0, |o| o.ncols())
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.chain(x, y, false)
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.chain(y, x, true)
    }
}
