//! Separable convolutions, as a specification: the 1-D passes equal the direct
//! convolution and its adjoint on strided, dilated, asymmetric and 3-D geometries, and
//! Tikhonov through the Kronecker factors equals the sparse Cholesky of the whole C.

use convmat::functional::ConvMethod;
use convmat::geometry::ConvGeometry;
use convmat::operator::{dot_test, ConvOperator, LinearOperator};
use convmat::solve::{tikhonov_cholesky, TikhonovOptions};
use convmat::sparse::ConvMatrix;

mod common;
use common::{rel, values};

#[test]
fn separable_passes_equal_the_direct_convolution_and_its_adjoint() {
    use convmat::geometry::Padding;
    // (input, kernel, stride, padding, dilation)
    type Case = (Vec<usize>, Vec<usize>, Vec<usize>, Padding, Vec<usize>);
    let cases: Vec<Case> = vec![
        (
            vec![9, 7],
            vec![3, 2],
            vec![1, 1],
            Padding::Explicit(vec![1, 0]),
            vec![1, 1],
        ),
        (
            vec![11, 10],
            vec![3, 3],
            vec![2, 3],
            Padding::Explicit(vec![1, 1]),
            vec![1, 2],
        ),
        (
            vec![8, 9],
            vec![4, 2],
            vec![1, 1],
            Padding::Same,
            vec![1, 3],
        ),
        (
            vec![5, 6, 7],
            vec![3, 2, 3],
            vec![1, 2, 1],
            Padding::Explicit(vec![1, 0, 2]),
            vec![2, 1, 1],
        ),
        (
            vec![17],
            vec![5],
            vec![3],
            Padding::Explicit(vec![2]),
            vec![1],
        ),
    ];
    for (input, kernel, stride, padding, dilation) in cases {
        let g = ConvGeometry::builder(&input, &kernel)
            .stride(&stride)
            .padding(padding.clone())
            .dilation(&dilation)
            .build()
            .unwrap();
        // an outer product of 1-D kernels
        let factors: Vec<Vec<f64>> = kernel
            .iter()
            .enumerate()
            .map(|(d, &k)| values(k, 40 + d as u64))
            .collect();
        let w: Vec<f64> = (0..g.kernel_numel())
            .map(|i| {
                let mut rest = i;
                let mut v = 1.0;
                for d in (0..kernel.len()).rev() {
                    v *= factors[d][rest % kernel[d]];
                    rest /= kernel[d];
                }
                v
            })
            .collect();
        let sep = ConvOperator::separable(g.clone(), w.clone()).unwrap();
        let direct = ConvOperator::new(g.clone(), w.clone(), ConvMethod::Direct).unwrap();
        let x = values(g.cols(), 1);
        let y = values(g.rows(), 2);
        let (mut a, mut b) = (vec![0.0; g.rows()], vec![0.0; g.rows()]);
        sep.apply(&x, &mut a).unwrap();
        direct.apply(&x, &mut b).unwrap();
        assert!(rel(&a, &b) < 1e-13, "{g:?}: forward {:e}", rel(&a, &b));
        let (mut a, mut b) = (vec![0.0; g.cols()], vec![0.0; g.cols()]);
        sep.apply_adjoint(&y, &mut a).unwrap();
        direct.apply_adjoint(&y, &mut b).unwrap();
        assert!(rel(&a, &b) < 1e-13, "{g:?}: adjoint {:e}", rel(&a, &b));
        assert!(dot_test(&sep, 3).unwrap() < 1e-14);
    }
    // not separable: a cross, or two channels
    let g = ConvGeometry::builder(&[6, 6], &[3, 3]).build().unwrap();
    assert!(ConvOperator::separable(g, vec![0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0]).is_err());
    let g2 = ConvGeometry::builder(&[6, 6], &[3, 3])
        .channels(2, 1)
        .build()
        .unwrap();
    assert!(ConvOperator::separable(g2, vec![1.0; 18]).is_err());
}

#[test]
fn tikhonov_through_kronecker_factors_equals_the_sparse_cholesky() {
    // 'same' size (padding 1 and 2): square, full rank, so λ = 0 works too
    let g = ConvGeometry::builder(&[10, 12], &[3, 5])
        .padding(vec![1, 2])
        .build()
        .unwrap();
    let (u, v) = (values(3, 50), values(5, 51));
    let w: Vec<f64> = (0..15)
        .map(|i| (u[i / 5] + 2.0) * (v[i % 5] + 2.0))
        .collect();
    let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let y = values(g.rows(), 52);
    for lambda in [0.0, 0.1, 1.0] {
        let general = tikhonov_cholesky(&c, &y, &TikhonovOptions { damp: lambda })
            .unwrap()
            .x;
        let kron =
            convmat::solve::tikhonov_separable(&g, &w, &y, &TikhonovOptions { damp: lambda })
                .unwrap()
                .x;
        assert!(
            rel(&kron, &general) < 1e-8,
            "λ = {lambda}: {:e}",
            rel(&kron, &general)
        );
    }
    let cross = vec![0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0];
    let g3 = ConvGeometry::builder(&[6, 6], &[3, 3]).build().unwrap();
    assert!(convmat::solve::tikhonov_separable(
        &g3,
        &cross,
        &[0.0; 16],
        &TikhonovOptions { damp: 0.1 }
    )
    .is_err());
}
