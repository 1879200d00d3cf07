//! The options every iterative least-squares solver shares, by SciPy's names where
//! SciPy has them (`iter_lim` / `maxiter` are `max_iter` here, for every solver).

/// Options of [`super::lsqr`], [`super::lsmr`] and [`super::cgls`] (also under the
/// names [`LsqrOptions`], [`LsmrOptions`], [`CglsOptions`]), SciPy's defaults.
///
/// ```
/// use convmat::solve::LsqrOptions;
/// let o = LsqrOptions::<f64> { damp: 0.1, ..Default::default() };
/// assert_eq!((o.atol, o.btol, o.conlim, o.max_iter), (1e-6, 1e-6, 1e8, None));
/// ```
#[derive(Debug, Clone)]
pub struct IterativeOptions<'a, T> {
    /// Damping λ: minimise ‖A·x − b‖² + λ²‖x‖².
    pub damp: f64,
    /// Relative tolerance on the normal-equation residual ‖Āᵀr̄‖ (stop 2).
    pub atol: f64,
    /// Relative tolerance on the residual ‖r‖ (stop 1).
    pub btol: f64,
    /// LSQR and LSMR stop (3) when their estimate of cond(Ā) exceeds this; 0 for no
    /// limit. CGLS keeps no condition estimate and does not use it.
    pub conlim: f64,
    /// Iteration limit; `None` for the solver's default (LSQR and CGLS 2n, LSMR
    /// min(m, n), as SciPy).
    pub max_iter: Option<usize>,
    /// Starting point (default 0).
    pub x0: Option<&'a [T]>,
    /// The discrepancy principle as a stopping rule: stop at the first iterate whose
    /// residual ‖b − A·x‖ (the solver's running estimate) is at most this — τ·σ·√m
    /// for noise of deviation σ ([`super::discrepancy_target`]) — before the iterates
    /// start fitting the noise ([`super::StopReason::Discrepancy`]). `None`: no such
    /// rule.
    pub discrepancy: Option<f64>,
}

impl<T> Default for IterativeOptions<'_, T> {
    fn default() -> Self {
        IterativeOptions {
            damp: 0.0,
            atol: 1e-6,
            btol: 1e-6,
            conlim: 1e8,
            max_iter: None,
            x0: None,
            discrepancy: None,
        }
    }
}

/// [`super::lsqr`]'s options.
pub type LsqrOptions<'a, T> = IterativeOptions<'a, T>;
/// [`super::lsmr`]'s options.
pub type LsmrOptions<'a, T> = IterativeOptions<'a, T>;
/// [`super::cgls`]'s options (`conlim` unused).
pub type CglsOptions<'a, T> = IterativeOptions<'a, T>;

/// Options of [`super::tikhonov_cholesky`] and [`super::tikhonov_separable`].
#[derive(Debug, Clone, Default)]
pub struct TikhonovOptions {
    /// Damping λ: minimise ‖A·x − y‖² + λ²‖x‖².
    pub damp: f64,
}
