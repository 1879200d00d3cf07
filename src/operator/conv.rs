//! Convolution and transposed convolution as operators, in any formulation.

use super::workspace::Pool;
use super::{check_lengths, LinearOperator};
use crate::error::shape_str;
use crate::geometry::{ConvGeometry, ConvTransposeGeometry};
use crate::kernels::direct::{self, conv_transpose_with_lines, conv_with_lines, TapLine};
use crate::kernels::fft::FftConv;
use crate::kernels::separable::Separable;
use crate::kernels::{im2col, phase, winograd, winograd_transpose, zero_insert};
use crate::kernels::{ConvMethod, ConvTransposeMethod};
use crate::sparse::{ConvMatrix, Csr};
use crate::{Error, GeometryError, Real, SolveError};

/// How an operator computes (the forward or transposed convolution).
enum Formulation<T> {
    /// Direct loops / scatter over precomputed tap lines.
    Direct(Vec<TapLine>),
    /// im2col + GEMM / GEMM + col2im.
    Im2col,
    /// Winograd's F(4×4, 3×3) forward; its adjoint runs GEMM + col2im.
    Winograd,
    /// The phase decomposition, both ways.
    Phase,
    /// Winograd's F(4, 2) transposed; its adjoint (the forward convolution)
    /// runs im2col + GEMM.
    WinogradTranspose,
    /// Zero insertion (transposed only; its adjoint runs the direct loops).
    ZeroInsert(Vec<TapLine>),
    /// The explicit matrix C.
    Sparse(Csr<T>),
    /// FFTs, the kernel spectra computed when the operator is made.
    Fft(FftConv<T>),
    /// One 1-D pass per dimension (single channel, separable kernel), with pooled
    /// work buffers.
    Separable(Separable<T>, Pool<(Vec<T>, Vec<T>)>),
}

impl<T: Real> Formulation<T> {
    fn conv(&self, g: &ConvGeometry, w: &[T], x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        match self {
            Formulation::Direct(lines) | Formulation::ZeroInsert(lines) => {
                conv_with_lines(g, lines, x, w, None, y)
            }
            Formulation::Im2col | Formulation::WinogradTranspose => im2col::conv(g, x, w, None, y),
            Formulation::Winograd => winograd::conv(g, x, w, None, y),
            Formulation::Phase => phase::conv(g, x, w, None, y),
            Formulation::Sparse(c) => c.mul_vec(x, y),
            Formulation::Fft(f) => f.conv(x, None, y),
            Formulation::Separable(sep, pool) => {
                pool.with(|scratch| sep.conv(x, y, scratch));
                Ok(())
            }
        }
    }
    fn conv_transpose(
        &self,
        g: &ConvGeometry,
        w: &[T],
        y: &[T],
        x: &mut [T],
    ) -> Result<(), GeometryError> {
        match self {
            Formulation::Direct(lines) => conv_transpose_with_lines(g, lines, y, w, None, x),
            Formulation::Im2col | Formulation::Winograd => im2col::conv_transpose(g, y, w, None, x),
            Formulation::ZeroInsert(_) => zero_insert::conv_transpose(g, y, w, None, x),
            Formulation::Phase => phase::conv_transpose(g, y, w, None, x),
            Formulation::WinogradTranspose => winograd_transpose::conv_transpose(g, y, w, None, x),
            Formulation::Sparse(c) => c.mul_transpose(y, x),
            Formulation::Fft(f) => f.conv_transpose(y, None, x),
            Formulation::Separable(sep, pool) => {
                pool.with(|scratch| sep.conv_transpose(y, x, scratch));
                Ok(())
            }
        }
    }
}

/// The forward convolution `x ↦ C·x` of one batch item (`g.cols()` → `g.rows()`),
/// matrix-free or by the explicit matrix; its adjoint is the transposed convolution
/// with the same weight.
pub struct ConvOperator<T> {
    g: ConvGeometry,
    w: Vec<T>,
    how: Formulation<T>,
}

impl<T: Real> ConvOperator<T> {
    /// An operator for geometry `g` and weight `w` (`(C_out, C_in/groups, k…)`,
    /// row-major). `Auto` resolves as [`ConvMethod::resolve`], except that it does
    /// not take Winograd: an operator's forward and adjoint must be an exact pair
    /// for LSQR and Lanczos, and Winograd's adjoint runs col2im (asked for by name,
    /// `Winograd` is kept, its forward within `winograd::error_bound` of the
    /// adjoint's transpose). `Sparse` builds C now.
    ///
    /// # Errors
    /// [`GeometryError::WeightShape`] when `w` has not the weight's element count;
    /// [`GeometryError::FormulationNeeds`] for `Winograd` on a geometry it cannot
    /// compute; with `Sparse`, the errors of [`Csr::build`] (the memory budget).
    pub fn new(g: ConvGeometry, w: Vec<T>, method: ConvMethod) -> Result<Self, Error> {
        g.check_weight_len(w.len())?;
        let resolved = match method.resolve(&g) {
            ConvMethod::Winograd if method == ConvMethod::Auto => ConvMethod::loops(&g),
            m => m,
        };
        let how = match resolved {
            ConvMethod::Direct | ConvMethod::Auto => Formulation::Direct(direct::tap_lines(&g)),
            ConvMethod::Im2col => Formulation::Im2col,
            ConvMethod::Sparse => Formulation::Sparse(ConvMatrix::<T>::build(&g, &w)?),
            ConvMethod::Fft => Formulation::Fft(FftConv::new(&g, &w)?),
            ConvMethod::Winograd => {
                winograd::check(&g)?;
                Formulation::Winograd
            }
            ConvMethod::Phase => Formulation::Phase,
        };
        Ok(ConvOperator { g, w, how })
    }
    /// The same convolution applied as one 1-D pass per dimension, for a single
    /// channel and a separable kernel (see [`Separable`]); an error otherwise. Its
    /// results equal the direct loops' up to rounding (the kernel is used as the
    /// product of its factors).
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// use convmat::operator::{dot_test, ConvOperator, LinearOperator};
    /// use convmat::functional::ConvMethod;
    /// let g = ConvGeometry::builder(&[16, 16], &[3, 3]).padding(1).build().unwrap();
    /// let w = vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0];
    /// let sep = ConvOperator::separable(g.clone(), w.clone()).unwrap();
    /// let direct = ConvOperator::new(g, w, ConvMethod::Direct).unwrap();
    /// let x: Vec<f64> = (0..256).map(|i| (i as f64).sin()).collect();
    /// let (mut a, mut b) = (vec![0.0; 256], vec![0.0; 256]);
    /// sep.apply(&x, &mut a).unwrap();
    /// direct.apply(&x, &mut b).unwrap();
    /// assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-13));
    /// assert!(dot_test(&sep, 1).unwrap() < 1e-15);
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::WeightShape`] as for [`ConvOperator::new`]; [`SolveError::NotSeparable`]
    /// unless `g` has one input and one output channel and `w` is a non-zero outer product.
    pub fn separable(g: ConvGeometry, w: Vec<T>) -> Result<Self, Error> {
        Self::separable_within(g, w, crate::kernels::separable::default_rtol::<T>())
    }

    /// As [`ConvOperator::separable`], with the outer-product test at `rtol·max|w|`
    /// ([`Separable::within`]).
    ///
    /// # Errors
    /// As [`ConvOperator::separable`].
    pub fn separable_within(g: ConvGeometry, w: Vec<T>, rtol: f64) -> Result<Self, Error> {
        g.check_weight_len(w.len())?;
        let sep = Separable::within(&g, &w, rtol).ok_or_else(|| SolveError::NotSeparable {
            kernel: shape_str(g.kernel_size()),
        })?;
        let how = Formulation::Separable(sep, Pool::new());
        Ok(ConvOperator { g, w, how })
    }

    /// Whether the operator runs the separable passes.
    pub fn is_separable(&self) -> bool {
        matches!(self.how, Formulation::Separable(..))
    }

    /// The geometry.
    pub fn geometry(&self) -> &ConvGeometry {
        &self.g
    }
}

impl<T: Real> LinearOperator<T> for ConvOperator<T> {
    fn nrows(&self) -> usize {
        self.g.rows()
    }
    fn ncols(&self) -> usize {
        self.g.cols()
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.how.conv(&self.g, &self.w, x, y)
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.how.conv_transpose(&self.g, &self.w, y, x)
    }
}

/// The transposed convolution `y ↦ Cᵀ·y` of one batch item as an operator (weight
/// `(C_in, C_out/groups, k…)`); its adjoint is the forward convolution.
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::operator::{dot_test, ConvTransposeOperator, LinearOperator};
/// use convmat::functional::ConvTransposeMethod;
/// let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3]).stride(&[2]).build().unwrap();
/// for m in [ConvTransposeMethod::Scatter, ConvTransposeMethod::Col2im, ConvTransposeMethod::ZeroInsert] {
///     let op = ConvTransposeOperator::new(t.clone(), vec![1.0f64; 9], m).unwrap();
///     assert_eq!((op.nrows(), op.ncols()), (25, 4));
///     assert!(dot_test(&op, 3).unwrap() < 1e-14);
/// }
/// ```
pub struct ConvTransposeOperator<T> {
    t: ConvTransposeGeometry,
    w: Vec<T>,
    how: Formulation<T>,
}

impl<T: Real> ConvTransposeOperator<T> {
    /// An operator for geometry `t` and weight `w`; `Auto` resolves as
    /// [`ConvTransposeMethod::resolve`], except that it does not take Winograd
    /// (as [`ConvOperator::new`]: its adjoint runs im2col, and LSQR and Lanczos
    /// need an exact pair); `Sparse` builds C now.
    ///
    /// # Errors
    /// [`GeometryError::WeightShape`] when `w` has not the weight's element count;
    /// [`GeometryError::FormulationNeeds`] for `Winograd` on a geometry it cannot
    /// compute; with `Sparse`, the errors of [`Csr::build`] (the memory budget).
    pub fn new(
        t: ConvTransposeGeometry,
        w: Vec<T>,
        method: ConvTransposeMethod,
    ) -> Result<Self, Error> {
        let g = t.conv();
        g.check_weight_len(w.len())?;
        let resolved = match method.resolve(g) {
            ConvTransposeMethod::Winograd if method == ConvTransposeMethod::Auto => {
                ConvTransposeMethod::loops(g)
            }
            m => m,
        };
        let how = match resolved {
            ConvTransposeMethod::Scatter | ConvTransposeMethod::Auto => {
                Formulation::Direct(direct::tap_lines(g))
            }
            ConvTransposeMethod::Col2im => Formulation::Im2col,
            ConvTransposeMethod::ZeroInsert => Formulation::ZeroInsert(direct::tap_lines(g)),
            ConvTransposeMethod::Sparse => Formulation::Sparse(ConvMatrix::<T>::build(g, &w)?),
            ConvTransposeMethod::Fft => Formulation::Fft(FftConv::new(g, &w)?),
            ConvTransposeMethod::Phase => Formulation::Phase,
            ConvTransposeMethod::Winograd => {
                winograd_transpose::check(g)?;
                Formulation::WinogradTranspose
            }
        };
        Ok(ConvTransposeOperator { t, w, how })
    }
    /// The geometry.
    pub fn geometry(&self) -> &ConvTransposeGeometry {
        &self.t
    }
}

impl<T: Real> LinearOperator<T> for ConvTransposeOperator<T> {
    fn nrows(&self) -> usize {
        self.t.conv().cols()
    }
    fn ncols(&self) -> usize {
        self.t.conv().rows()
    }
    fn apply(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, y.len(), x.len())?;
        self.how.conv_transpose(self.t.conv(), &self.w, y, x)
    }
    fn apply_adjoint(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, y.len(), x.len())?;
        self.how.conv(self.t.conv(), &self.w, x, y)
    }
}
