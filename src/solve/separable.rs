//! Tikhonov for separable kernels: with `C = C₀ ⊗ C₁ ⊗ …` the normal-equation matrix
//! is `CᵀC = G₀ ⊗ G₁ ⊗ …` with small `G_d = C_dᵀC_d`, so `(CᵀC)⁻¹` is the Kronecker
//! product of the factors' inverses — one sparse Cholesky per dimension instead of
//! one of the whole n×n matrix. With damping, the factors' eigen-decompositions do
//! the same for `CᵀC + λ²I`.

use super::direct::NormalMatrix;
use super::{check_tolerances, check_vector, Solution, SolveInfo, StopReason, TikhonovOptions};
use crate::error::{shape_str, Error, SolveError};
use crate::geometry::ConvGeometry;
use crate::kernels::separable::{default_rtol, Separable};
use crate::kernels::ConvMethod;
use crate::operator::ConvOperator;
use crate::sparse::ConvMatrix;
use crate::Real;
use nalgebra::{DMatrix, SymmetricEigen};

/// Solves `(CᵀC + λ²I)·x = Cᵀ·y` for a single-channel convolution with a separable
/// kernel (see [`Separable`]) through its Kronecker structure, in f64: for λ = 0 a
/// sparse Cholesky factorisation (nalgebra-sparse) of each `G_d = C_dᵀC_d`, for
/// λ > 0 their symmetric eigen-decompositions. An error if the kernel is not
/// separable ([`SolveError::NotSeparable`]), or if λ = 0 and some `C_d` lacks full
/// column rank ([`SolveError::NotPositiveDefinite`], naming the dimension).
///
/// # Errors
/// Those two, `y` of the wrong length or not finite, and a negative damping.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::direct;
/// use convmat::solve::{tikhonov_separable, TikhonovOptions};
/// let g = ConvGeometry::builder(&[32, 32], &[3, 3]).padding(1).build().unwrap();
/// let w = vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0].iter().map(|v| v / 16.0).collect::<Vec<f64>>();
/// let x: Vec<f64> = (0..1024).map(|i| (i as f64 * 0.1).sin()).collect();
/// let mut y = vec![0.0; 1024];
/// direct::conv(&g, &x, &w, None, &mut y).unwrap();
/// let xr = tikhonov_separable(&g, &w, &y, &TikhonovOptions::default()).unwrap().x;
/// assert!(xr.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-9));
/// ```
pub fn tikhonov_separable<T: Real>(
    g: &ConvGeometry,
    w: &[T],
    y: &[T],
    opts: &TikhonovOptions,
) -> Result<Solution<T>, Error> {
    tikhonov_separable_within(g, w, y, opts, default_rtol::<T>())
}

/// [`tikhonov_separable`] with the outer-product test at `rtol·max|w|` (see
/// [`Separable::within`]); the residual is measured against the exact C.
pub(crate) fn tikhonov_separable_within<T: Real>(
    g: &ConvGeometry,
    w: &[T],
    y: &[T],
    opts: &TikhonovOptions,
    rtol: f64,
) -> Result<Solution<T>, Error> {
    let lambda = opts.damp;
    check_tolerances(&[("damp", lambda)])?;
    check_vector("observation y", "the convolution's outputs", y, g.rows())?;
    let w64: Vec<f64> = w.iter().map(|v| v.as_f64()).collect();
    let sep = Separable::within(g, &w64, rtol).ok_or_else(|| SolveError::NotSeparable {
        kernel: shape_str(g.kernel_size()),
    })?;
    // z = Cᵀ·y
    let y64: Vec<f64> = y.iter().map(|v| v.as_f64()).collect();
    let mut z = vec![0.0; g.cols()];
    sep.conv_transpose(&y64, &mut z, &mut Default::default());
    let shape = g.input_size().to_vec();
    let factors: Vec<_> = sep
        .axes()
        .iter()
        .map(|a| ConvMatrix::<f64>::build(&a.geometry, &a.weight))
        .collect::<Result<_, _>>()?;
    if lambda == 0.0 {
        for (d, c) in factors.iter().enumerate() {
            let chol =
                NormalMatrix::of(c, 0.0)
                    .factor()
                    .map_err(|_| SolveError::NotPositiveDefinite {
                        n: c.ncols(),
                        damp: 0.0,
                        dimension: Some(d),
                    })?;
            along_axis(&mut z, &shape, d, |m| chol.solve_in_place(m.as_mut_slice()));
        }
    } else {
        let eigen: Vec<SymmetricEigen<f64, nalgebra::Dyn>> = factors
            .iter()
            .map(|c| SymmetricEigen::new(NormalMatrix::of(c, 0.0).to_dense()))
            .collect();
        for (d, e) in eigen.iter().enumerate() {
            along_axis(&mut z, &shape, d, |m| *m = e.eigenvectors.transpose() * &*m);
        }
        // divide by Π λ_d + λ²
        let strides = crate::geometry::row_major_strides(&shape);
        for (i, v) in z.iter_mut().enumerate() {
            let product: f64 = (0..shape.len())
                .map(|d| eigen[d].eigenvalues[i / strides[d] % shape[d]])
                .product();
            *v /= product + lambda * lambda;
        }
        for (d, e) in eigen.iter().enumerate() {
            along_axis(&mut z, &shape, d, |m| *m = &e.eigenvectors * &*m);
        }
    }
    let x: Vec<T> = z.into_iter().map(T::from_f64).collect();
    let exact = ConvOperator::new(g.clone(), w.to_vec(), ConvMethod::Direct)?;
    let info = SolveInfo::measure(&exact, y, &x, lambda, StopReason::Factorization, 0)?;
    Ok(Solution { x, info })
}

/// Applies `f` to the matrix whose columns are the fibres of `data` (row-major
/// `shape`) along dimension `d`, and writes the columns back.
fn along_axis(data: &mut [f64], shape: &[usize], d: usize, f: impl FnOnce(&mut DMatrix<f64>)) {
    let n = shape[d];
    let inner: usize = shape[d + 1..].iter().product();
    let outer: usize = shape[..d].iter().product();
    let mut m = DMatrix::<f64>::zeros(n, outer * inner);
    for o in 0..outer {
        for i in 0..n {
            for j in 0..inner {
                m[(i, o * inner + j)] = data[(o * n + i) * inner + j];
            }
        }
    }
    f(&mut m);
    for o in 0..outer {
        for i in 0..n {
            for j in 0..inner {
                data[(o * n + i) * inner + j] = m[(i, o * inner + j)];
            }
        }
    }
}
