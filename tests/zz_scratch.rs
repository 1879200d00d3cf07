use convmat::geometry::ConvGeometry;
use convmat::operator::{ConvOperator, LinearOperator};
use convmat::ops::ConvMethod;
use std::time::Instant;
#[test]
fn timing() {
    let g = ConvGeometry::builder(&[64, 64], &[5, 5]).padding(2).build().unwrap();
    let w: Vec<f64> = (0..25).map(|i| { let (r,c)=((i/5) as f64-2.0,(i%5) as f64-2.0); (-(r*r+c*c)/2.0f64).exp()}).collect();
    let x: Vec<f64> = (0..4096).map(|i| (i as f64).sin()).collect();
    let mut y = vec![0.0; 4096];
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    pool.install(|| {
    for (name, op) in [("direct", ConvOperator::new(g.clone(), w.clone(), ConvMethod::Direct).unwrap()), ("sep", ConvOperator::separable(g.clone(), w.clone()).unwrap())] {
        for _ in 0..100 { op.apply(&x, &mut y).unwrap(); }
        let t = Instant::now();
        for _ in 0..2000 { op.apply(&x, &mut y).unwrap(); }
        let a = t.elapsed().as_secs_f64() / 2000.0 * 1e6;
        let t = Instant::now();
        for _ in 0..2000 { op.apply_adjoint(&x, &mut y).unwrap(); }
        let b = t.elapsed().as_secs_f64() / 2000.0 * 1e6;
        println!("{name}: apply {a:.2} µs, adjoint {b:.2} µs");
    }
    });
    let t = Instant::now();
    let mut s = 0.0;
    for _ in 0..2000 { s += x.iter().map(|v| v*v).sum::<f64>(); }
    println!("seq norm {:.2} µs {s}", t.elapsed().as_secs_f64() / 2000.0 * 1e6);
}
