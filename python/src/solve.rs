//! Deconvolution and spectra: the library's `solve`, with the command line's
//! diagnostics.

use crate::*;

/// The library's options for `solver` with the arguments given, refusing one the
/// solver does not use (as the command line does).
#[allow(clippy::too_many_arguments)]
pub(crate) fn deconv_options(
    solver: &str,
    operator: &str,
    given: &[(&'static str, bool)],
    a: &SolverArgsValues,
) -> PyResult<DeconvOptions> {
    let solver = Solver::from_name(solver).ok_or_else(|| {
        let names: Vec<&str> = Solver::ALL.iter().map(|s| s.name()).collect();
        PyValueError::new_err(format!(
            "solver={solver:?}: use one of {}",
            names.join(", ")
        ))
    })?;
    let uses = solver.options();
    if let Some((name, _)) = given.iter().find(|(name, on)| *on && !uses.contains(name)) {
        return Err(PyValueError::new_err(format!(
            "{name} does not apply to solver {:?} (it takes {})",
            solver.name(),
            uses.join(", ")
        )));
    }
    let operator = match operator {
        "auto" => OperatorChoice::Auto,
        "direct" => OperatorChoice::Direct,
        "matrix" => OperatorChoice::Matrix,
        o => {
            return Err(PyValueError::new_err(format!(
                "operator={o:?}: use auto, direct or matrix"
            )))
        }
    };
    let filter = match &a.filter {
        None => SpectralFilter::default(),
        Some(f) => SpectralFilter::from_name(f).ok_or_else(|| {
            PyValueError::new_err(format!("filter={f:?}: use tikhonov, wiener or tsvd"))
        })?,
    };
    let d = DeconvOptions::default();
    let opts = DeconvOptions {
        solver,
        operator,
        damp: a.damp.unwrap_or(d.damp),
        atol: a.atol.unwrap_or(d.atol),
        btol: a.btol.unwrap_or(d.btol),
        conlim: a.conlim.unwrap_or(d.conlim),
        max_iter: a.max_iter,
        tol: a.tol.unwrap_or(d.tol),
        clip_negative: a.clip_negative,
        filter,
        reg_param: a.reg_param,
        nsr: a.nsr,
        keep: a.keep,
        noise_std: a.noise_std,
        ..d
    };
    opts.check().map_err(py_error)?;
    Ok(opts)
}

/// [`SolverArgs`] resolved (the regularisation parameter parsed).
pub(crate) struct SolverArgsValues {
    damp: Option<f64>,
    atol: Option<f64>,
    btol: Option<f64>,
    conlim: Option<f64>,
    max_iter: Option<usize>,
    tol: Option<f64>,
    clip_negative: bool,
    filter: Option<String>,
    reg_param: Option<RegParam>,
    nsr: Option<f64>,
    keep: Option<usize>,
    noise_std: Option<f64>,
}

/// `reg_param`: a number, or "gcv", "discrepancy", "lcurve".
pub(crate) fn reg_param_of(v: &Bound<'_, PyAny>) -> PyResult<RegParam> {
    if let Ok(f) = v.extract::<f64>() {
        return Ok(RegParam::Value(f));
    }
    v.extract::<String>()
        .ok()
        .and_then(|s| RegParam::parse(&s))
        .ok_or_else(|| {
            PyValueError::new_err(
                "reg_param must be a number or one of 'gcv', 'discrepancy', 'lcurve'",
            )
        })
}

/// `deconvolve` in one dtype: the estimate shaped as the input of the layer and
/// the diagnostics as JSON (the command line's `--json` items).
pub(crate) fn run_deconv<'py, T: convmat::FftReal + numpy::Element>(
    py: Python<'py>,
    g: &ConvGeometry,
    w: &[T],
    y: PyReadonlyArrayDyn<'py, T>,
    truth: Option<&Bound<'py, PyAny>>,
    opts: &DeconvOptions,
) -> PyResult<(Bound<'py, PyAny>, String)> {
    let batch = g
        .check_output("observed", y.shape())
        .map_err(|e| py_error(e.into()))?;
    let batched = y.ndim() == g.rank() + 2;
    let x_shape = if batched {
        convmat::geometry::batched_shape(batch, &g.input_shape())
    } else {
        g.input_shape()
    };
    let truth: Option<PyReadonlyArrayDyn<'py, T>> = truth
        .map(|t| {
            t.extract().map_err(|_| {
                PyTypeError::new_err(format!("truth must be a NumPy array of {}", T::DTYPE))
            })
        })
        .transpose()?;
    if let Some(t) = &truth {
        if t.shape() != x_shape.as_slice() {
            return Err(PyValueError::new_err(format!(
                "truth has shape {:?}, the estimate {:?}",
                t.shape(),
                x_shape
            )));
        }
    }
    let yv: Vec<T> = y.as_array().iter().copied().collect();
    let tv: Option<Vec<T>> = truth.map(|t| t.as_array().iter().copied().collect());
    let d = interruptible(py, |progress| {
        convmat::solve::deconvolve(g, w, &yv, tv.as_deref(), opts, Some(progress))
    })?
    .map_err(py_error)?;
    // each item as the command line's `deconv --json` has it: SciPy's stop code
    // (its solvers only) and message beside the report's and the quality's fields
    let scipy = matches!(opts.solver, Solver::Lsqr | Solver::Lsmr | Solver::Cgls);
    let flat = |v: serde_json::Value| match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let items: Vec<serde_json::Value> = d
        .items
        .iter()
        .map(|i| {
            let mut m = serde_json::Map::new();
            m.insert("istop".into(), i.info.istop().filter(|_| scipy).into());
            m.insert("reason".into(), i.info.stop.message().into());
            m.extend(flat(serde_json::json!(i.info)));
            m.extend(flat(serde_json::json!(i.quality)));
            m.insert("noise_fit".into(), serde_json::json!(i.noise_fit));
            m.insert("regularization".into(), serde_json::json!(i.regularization));
            serde_json::Value::Object(m)
        })
        .collect();
    let info = serde_json::json!({
        "solver": opts.solver.name(),
        "operator": d.operator.name(),
        "items": items,
    });
    let x = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&x_shape), d.x)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((x.into_pyarray(py).into_any(), info.to_string()))
}

/// Recovers the input of a convolution with `weight` (on inputs of `input_size`)
/// from its output `observed`, by `solver`: `(x, info_json)`.
#[pyfunction]
#[pyo3(signature = (observed, weight, input_size, solver="lsqr", stride=None, padding=None,
                    dilation=None, groups=1, padding_mode="zeros", operator="auto",
                    truth=None, **kwargs))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn deconv<'py>(
    py: Python<'py>,
    observed: &Bound<'py, PyAny>,
    weight: &Bound<'py, PyAny>,
    input_size: &Bound<'py, PyAny>,
    solver: &str,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    dilation: Option<&Bound<'py, PyAny>>,
    groups: usize,
    padding_mode: &str,
    operator: &str,
    truth: Option<&Bound<'py, PyAny>>,
    kwargs: Option<&Bound<'py, pyo3::types::PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    const KNOWN: [&str; 12] = [
        "damp",
        "atol",
        "btol",
        "conlim",
        "max_iter",
        "tol",
        "clip_negative",
        "filter",
        "reg_param",
        "nsr",
        "keep",
        "noise_std",
    ];
    let mut given = vec![];
    if let Some(k) = kwargs {
        for key in k.keys() {
            let key: String = key.extract()?;
            let name = KNOWN.iter().find(|&&n| n == key).ok_or_else(|| {
                PyTypeError::new_err(format!(
                    "deconv() got an unexpected keyword argument {key:?} (solver options: {})",
                    KNOWN.join(", ")
                ))
            })?;
            let on = !k.get_item(name)?.is_none_or(|v| v.is_none());
            given.push((*name, on));
        }
    }
    let get = |name: &str| -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(kwargs
            .map(|k| k.get_item(name))
            .transpose()?
            .flatten()
            .filter(|v| !v.is_none()))
    };
    let values = SolverArgsValues {
        damp: get("damp")?.map(|v| v.extract()).transpose()?,
        atol: get("atol")?.map(|v| v.extract()).transpose()?,
        btol: get("btol")?.map(|v| v.extract()).transpose()?,
        conlim: get("conlim")?.map(|v| v.extract()).transpose()?,
        max_iter: get("max_iter")?.map(|v| v.extract()).transpose()?,
        tol: get("tol")?.map(|v| v.extract()).transpose()?,
        clip_negative: get("clip_negative")?
            .map(|v| v.extract())
            .transpose()?
            .unwrap_or(false),
        filter: get("filter")?.map(|v| v.extract()).transpose()?,
        reg_param: get("reg_param")?.map(|v| reg_param_of(&v)).transpose()?,
        nsr: get("nsr")?.map(|v| v.extract()).transpose()?,
        keep: get("keep")?.map(|v| v.extract()).transpose()?,
        noise_std: get("noise_std")?.map(|v| v.extract()).transpose()?,
    };
    let opts = deconv_options(solver, operator, &given, &values)?;
    let conv_opts = conv_options(stride, padding, dilation, groups, None, padding_mode)?;
    let size = per_dim("input_size", Some(input_size), 0)?;
    let (x, info) = match pair(("observed", observed), ("weight", weight))? {
        Pair::F32(y, w) => {
            let g = layer_of(w.shape(), &size, &conv_opts, false)?;
            let wv: Vec<f32> = w.as_array().iter().copied().collect();
            run_deconv(py, g.conv(), &wv, y, truth, &opts)?
        }
        Pair::F64(y, w) => {
            let g = layer_of(w.shape(), &size, &conv_opts, false)?;
            let wv: Vec<f64> = w.as_array().iter().copied().collect();
            run_deconv(py, g.conv(), &wv, y, truth, &opts)?
        }
    };
    Ok((x, info).into_pyobject(py)?.into_any())
}

/// The singular values of the convolution with `weight` on inputs of `input_size`,
/// descending: all of them exactly where a transform diagonalises C, else the top
/// `top` by Lanczos; `(values, info_json)`.
#[pyfunction]
#[pyo3(signature = (weight, input_size, stride=None, padding=None, dilation=None, groups=1,
                    padding_mode="zeros", top=None, method="auto"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn spectrum<'py>(
    py: Python<'py>,
    weight: &Bound<'py, PyAny>,
    input_size: &Bound<'py, PyAny>,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    dilation: Option<&Bound<'py, PyAny>>,
    groups: usize,
    padding_mode: &str,
    top: Option<usize>,
    method: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = conv_options(stride, padding, dilation, groups, None, padding_mode)?;
    let spec = SpectrumOptions {
        top,
        method: match method {
            "auto" => SpectrumChoice::Auto,
            "exact" => SpectrumChoice::Exact,
            "lanczos" => SpectrumChoice::Lanczos,
            m => {
                return Err(PyValueError::new_err(format!(
                    "method={m:?}: use auto, exact or lanczos"
                )))
            }
        },
        ..SpectrumOptions::default()
    };
    let s = match layer_weight(weight, input_size, &opts, false)? {
        LayerWeight::F32(g, w) => py.detach(|| convmat::solve::spectrum(g.conv(), &w, &spec)),
        LayerWeight::F64(g, w) => py.detach(|| convmat::solve::spectrum(g.conv(), &w, &spec)),
    }
    .map_err(py_error)?;
    let mut info = serde_json::json!(&s);
    if let Some(m) = info.as_object_mut() {
        m.remove("values");
    }
    Ok((s.values.into_pyarray(py), info.to_string())
        .into_pyobject(py)?
        .into_any())
}

/// What `y = C·x` reveals about `x` for the convolution with `weight` on inputs of
/// `input_size`: rank, null space, conditioning (`convmat analyze --json`).
#[pyfunction]
#[pyo3(signature = (weight, input_size, stride=None, padding=None, dilation=None, groups=1,
                    padding_mode="zeros", svd_max_elements=None, power_iterations=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn analyze<'py>(
    py: Python<'py>,
    weight: &Bound<'py, PyAny>,
    input_size: &Bound<'py, PyAny>,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    dilation: Option<&Bound<'py, PyAny>>,
    groups: usize,
    padding_mode: &str,
    svd_max_elements: Option<usize>,
    power_iterations: Option<usize>,
) -> PyResult<String> {
    let opts = conv_options(stride, padding, dilation, groups, None, padding_mode)?;
    let d = convmat::solve::AnalyzeOptions::default();
    let how = convmat::solve::AnalyzeOptions {
        svd_max_elements: svd_max_elements.unwrap_or(d.svd_max_elements),
        power_iterations: power_iterations.unwrap_or(d.power_iterations),
        ..d
    };
    fn run<T: Real>(
        g: &ConvGeometry,
        w: &[T],
        how: &convmat::solve::AnalyzeOptions,
    ) -> Result<String, convmat::Error> {
        let c = ConvMatrix::<T>::build_with_options(g, w, &BuildOptions::default())?;
        let r = convmat::solve::analyze_conv(&c, g, w, how)?;
        Ok(r.to_json(&g.input_shape(), &g.output_shape()).to_string())
    }
    match layer_weight(weight, input_size, &opts, false)? {
        LayerWeight::F32(g, w) => py.detach(|| run(g.conv(), &w, &how)),
        LayerWeight::F64(g, w) => py.detach(|| run(g.conv(), &w, &how)),
    }
    .map_err(py_error)
}

/// The payload that unwinds a solve stopped by Ctrl-C (raised by
/// `resume_unwind`, which runs no panic hook: nothing is printed).
struct Interrupted;

/// Runs `solve` on its own thread, the GIL released, while this (Python's main)
/// thread checks for signals every 50 ms: on Ctrl-C the solve's next iteration
/// (its progress callback) unwinds, and the `KeyboardInterrupt` is returned. The
/// solve's own panics go on unwinding. Only the iterative solvers (LSQR, LSMR,
/// CGLS) report iterations: the others finish their (one-shot) work first, and the
/// signal is raised then.
fn interruptible<R: Send, T: Real>(
    py: Python<'_>,
    solve: impl FnOnce(convmat::solve::BatchCallback<'_, T>) -> R + Send,
) -> PyResult<R> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let (cancel, done) = (AtomicBool::new(false), AtomicBool::new(false));
    let caller = std::thread::current();
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let mut check = |_: usize, _: &convmat::solve::Progress<'_, T>| {
                if cancel.load(Ordering::Relaxed) {
                    std::panic::resume_unwind(Box::new(Interrupted));
                }
            };
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| solve(&mut check)));
            // the flag before the wake-up: the caller never waits out a 50 ms park
            // for a thread that is only still returning
            done.store(true, Ordering::Release);
            caller.unpark();
            out
        });
        let mut interrupted = None;
        while !done.load(Ordering::Acquire) {
            py.detach(|| std::thread::park_timeout(std::time::Duration::from_millis(50)));
            if interrupted.is_none() {
                if let Err(e) = py.check_signals() {
                    cancel.store(true, Ordering::Relaxed);
                    interrupted = Some(e);
                }
            }
        }
        let joined = py.detach(|| worker.join());
        match joined {
            Ok(Ok(r)) => match interrupted {
                // the solve finished before it saw the flag: the signal still stands
                Some(e) => Err(e),
                None => Ok(r),
            },
            Ok(Err(payload)) | Err(payload) => match payload.downcast::<Interrupted>() {
                Ok(_) => Err(interrupted.unwrap_or_else(|| {
                    pyo3::exceptions::PyKeyboardInterrupt::new_err("interrupted")
                })),
                Err(p) => std::panic::resume_unwind(p),
            },
        }
    })
}
