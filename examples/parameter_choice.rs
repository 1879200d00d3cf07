//! The parameter-choice table: spectral Tikhonov on the blurred, noisy Shepp–Logan
//! phantom with α from GCV, the discrepancy principle and the L-curve, against the
//! oracle (the best α on a fine grid).
//!
//!     cargo run --release --example parameter_choice [N] [SEED]

use convmat::report::regularization::parameter_choice_study;

fn main() -> Result<(), convmat::Error> {
    let mut args = std::env::args().skip(1);
    let n = args.next().and_then(|a| a.parse().ok()).unwrap_or(256);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let study = parameter_choice_study(n, seed)?;
    print!("{}", study.markdown());
    Ok(())
}
