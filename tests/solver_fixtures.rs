//! LSQR and LSMR against SciPy (tests/fixtures/generate_solvers.py): on convolution
//! matrices — overdetermined, underdetermined, ill-conditioned, with damping, x0,
//! an iteration limit and a condition limit — the same stop code, the same number of
//! iterations and the same diagnostics and x, as closely as SciPy agrees with itself:
//! the generator re-runs SciPy with b perturbed at the rounding level (1e-15) and
//! records that spread (four draws); we must stay within a hundred times it (at least 1e-8 for x and
//! 1e-6 for the norms), and within SciPy's own range of iteration counts ± 1 %
//! (at least one). On well-conditioned problems that is agreement to 1e-11 or
//! better; on the κ ≈ 10⁴ Gaussian blur rounding alone moves SciPy's x by 1e-3.
//! The pseudo-inverse equals NumPy's.

mod common;

use common::{fixtures, rel};
use convmat::io::{mtx, read_npy};
use convmat::solve::{lsmr, lsqr, pinv_solve, LsmrOptions, LsqrOptions, PinvOptions};
use convmat::sparse::Csr;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Problem>,
}

#[derive(Deserialize)]
struct Problem {
    name: String,
    x0: bool,
    pinv: bool,
    runs: Vec<serde_json::Map<String, Value>>,
}

fn file(name: &str) -> std::path::PathBuf {
    fixtures().join("solvers").join(name)
}

fn vector(name: &str) -> Vec<f64> {
    read_npy::<f64>(&file(name))
        .unwrap()
        .iter()
        .copied()
        .collect()
}

fn num(run: &serde_json::Map<String, Value>, key: &str) -> f64 {
    run[key].as_f64().unwrap()
}

fn opt(run: &serde_json::Map<String, Value>, key: &str) -> Option<f64> {
    run["options"].get(key).and_then(Value::as_f64)
}

fn close(what: &str, ours: f64, theirs: f64, rtol: f64) {
    assert!(
        (ours - theirs).abs() <= rtol * theirs.abs().max(1e-12),
        "{what}: {ours} vs SciPy {theirs}"
    );
}

#[test]
fn lsqr_and_lsmr_match_scipy() {
    let text = std::fs::read_to_string(fixtures().join("solvers_cases.json")).unwrap();
    let m: Manifest = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for p in &m.cases {
        let c: Csr<f64> = mtx::read(
            &std::fs::read_to_string(file(&format!("{}_C.mtx", p.name))).unwrap(),
            &p.name,
        )
        .unwrap();
        let b = vector(&format!("{}_b.npy", p.name));
        let x0 = p.x0.then(|| vector(&format!("{}_x0.npy", p.name)));
        for (i, run) in p.runs.iter().enumerate() {
            let what = format!("{} run {i} ({})", p.name, run["solver"]);
            let expected_x = vector(&format!("{}_{i}_x.npy", p.name));
            let (istop, itn) = (num(run, "istop") as usize, num(run, "itn") as usize);
            let (damp, atol, btol) = (
                opt(run, "damp").unwrap_or(0.0),
                opt(run, "atol").unwrap_or(1e-6),
                opt(run, "btol").unwrap_or(1e-6),
            );
            let conlim = opt(run, "conlim").unwrap_or(1e8);
            let (x, our_istop, our_itn, norms) = if run["solver"] == "lsqr" {
                let opts = LsqrOptions {
                    damp,
                    atol,
                    btol,
                    conlim,
                    max_iter: opt(run, "iter_lim").map(|v| v as usize),
                    x0: x0.as_deref(),
                    discrepancy: None,
                };
                let r = lsqr(&c, &b, &opts, None).unwrap();
                let norms = vec![
                    ("r1norm", r.info.extra("r1norm").unwrap()),
                    ("r2norm", r.info.extra("r2norm").unwrap()),
                    ("anorm", r.info.extra("anorm").unwrap()),
                    ("acond", r.info.extra("acond").unwrap()),
                    ("arnorm", r.info.extra("arnorm").unwrap()),
                    ("xnorm", r.info.extra("xnorm").unwrap()),
                ];
                (r.x, r.info.istop().unwrap(), r.info.iterations, norms)
            } else {
                let opts = LsmrOptions {
                    damp,
                    atol,
                    btol,
                    conlim,
                    max_iter: opt(run, "maxiter").map(|v| v as usize),
                    x0: x0.as_deref(),
                    discrepancy: None,
                };
                let r = lsmr(&c, &b, &opts, None).unwrap();
                let norms = vec![
                    ("normr", r.info.extra("normr").unwrap()),
                    ("normar", r.info.extra("normar").unwrap()),
                    ("norma", r.info.extra("norma").unwrap()),
                    ("conda", r.info.extra("conda").unwrap()),
                    ("normx", r.info.extra("normx").unwrap()),
                ];
                (r.x, r.info.istop().unwrap(), r.info.iterations, norms)
            };
            assert_eq!(our_istop, istop, "{what}: stop code");
            let slack = (itn as f64 * 0.01).ceil().max(1.0) as usize;
            let (lo, hi) = (num(run, "itn_min") as usize, num(run, "itn_max") as usize);
            assert!(
                our_itn + slack >= lo && our_itn <= hi + slack,
                "{what}: {our_itn} iterations, SciPy {itn} (its own range {lo}–{hi})"
            );
            let spread = |key: &str| run["spread"][key].as_f64().unwrap();
            if our_itn == itn {
                for (key, value) in norms {
                    close(
                        &format!("{what} {key}"),
                        value,
                        num(run, key),
                        (100.0 * spread(key)).max(1e-6),
                    );
                }
            }
            let d = rel(&x, &expected_x);
            let tol = (100.0 * spread("x")).max(1e-8);
            assert!(
                d <= tol,
                "{what}: x differs from SciPy's by {d:e} (tolerance {tol:e})"
            );
            checked += 1;
        }
        if p.pinv {
            let s = pinv_solve(&c, &b, &PinvOptions::default()).unwrap();
            let d = rel(&s.x, &vector(&format!("{}_pinv_x.npy", p.name)));
            assert!(d <= 1e-10, "{}: pinv differs from NumPy's by {d:e}", p.name);
        }
    }
    assert!(checked >= 15);
}
