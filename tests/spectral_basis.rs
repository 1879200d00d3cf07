//! The spectral bases: the N-D FFT and DCT against their definitions, and each
//! diagonalisation reproducing the convolution it diagonalises.

mod common;

use common::pseudo_random;
use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
use convmat::kernels::direct;
use convmat::spectral::{Basis, Complex, DctN, Diagonal, RealFftN};
use proptest::prelude::*;

/// `Σₙ x[n]·e^{−2πi ω·n/N}` straight from the definition.
fn naive_dft(x: &[f64], dims: &[usize], omega: &[usize]) -> Complex<f64> {
    let strides = convmat::geometry::row_major_strides(dims);
    x.iter()
        .enumerate()
        .fold(Complex::new(0.0, 0.0), |acc, (i, &v)| {
            let phase: f64 = (0..dims.len())
                .map(|d| (omega[d] * (i / strides[d] % dims[d])) as f64 / dims[d] as f64)
                .sum();
            acc + Complex::from_polar(v, -2.0 * std::f64::consts::PI * phase)
        })
}

fn shapes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=7, 1..=3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    #[test]
    fn the_fft_is_the_dft_and_its_inverse_undoes_it(dims in shapes(), seed in any::<u64>()) {
        let n: usize = dims.iter().product();
        let x = pseudo_random::<f64>(n, seed);
        let f = RealFftN::<f64>::new(&dims);
        let mut spectrum = vec![Complex::default(); f.spectrum_len()];
        f.forward(&x, &mut spectrum);
        let half = f.spectrum_shape().to_vec();
        let strides = convmat::geometry::row_major_strides(&half);
        for (i, s) in spectrum.iter().enumerate() {
            let omega: Vec<usize> = (0..half.len()).map(|d| i / strides[d] % half[d]).collect();
            let expected = naive_dft(&x, &dims, &omega);
            prop_assert!((s - expected).norm() < 1e-9 * (1.0 + expected.norm()), "{omega:?}: {s} vs {expected}");
        }
        let energy: f64 = spectrum.iter().zip(f.multiplicity()).map(|(s, m)| m * s.norm_sqr()).sum();
        let norm2: f64 = x.iter().map(|v| v * v).sum();
        prop_assert!((energy / n as f64 - norm2).abs() < 1e-9 * (1.0 + norm2));
        let mut back = vec![0.0; n];
        f.inverse(&mut spectrum, &mut back);
        for (a, b) in back.iter().zip(&x) {
            prop_assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn the_dct_is_the_dct_ii_and_its_inverse_undoes_it(dims in shapes(), seed in any::<u64>()) {
        let n: usize = dims.iter().product();
        let x = pseudo_random::<f64>(n, seed);
        let t = DctN::<f64>::new(&dims);
        let mut c = x.clone();
        t.forward(&mut c);
        let strides = convmat::geometry::row_major_strides(&dims);
        for (k, &ck) in c.iter().enumerate() {
            let expected: f64 = x.iter().enumerate().map(|(i, &v)| {
                v * (0..dims.len()).map(|d| {
                    let (kd, nd) = ((k / strides[d] % dims[d]) as f64, (i / strides[d] % dims[d]) as f64);
                    (std::f64::consts::PI * kd * (2.0 * nd + 1.0) / (2.0 * dims[d] as f64)).cos()
                }).product::<f64>()
            }).sum();
            prop_assert!((ck - expected).abs() < 1e-9 * (1.0 + expected.abs()));
        }
        let energy: f64 = c.iter().zip(t.parseval_weights()).map(|(v, w)| w * v * v).sum();
        let norm2: f64 = x.iter().map(|v| v * v).sum();
        prop_assert!((energy - norm2).abs() < 1e-9 * (1.0 + norm2));
        t.inverse(&mut c);
        for (a, b) in c.iter().zip(&x) {
            prop_assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn each_basis_reproduces_its_convolution_and_adjoint(
        input in prop::collection::vec(2usize..=9, 1..=3),
        half_kernel in prop::collection::vec(0usize..=2, 1..=3),
        dilation in 1usize..=2,
        symmetric in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let rank = input.len().min(half_kernel.len());
        let (input, kernel): (Vec<usize>, Vec<usize>) =
            (input[..rank].to_vec(), half_kernel[..rank].iter().map(|h| 2 * h + 1).collect());
        let mode = if symmetric { PaddingMode::Symmetric } else { PaddingMode::Circular };
        let built = ConvGeometry::builder(&input, &kernel)
            .padding(Padding::Same)
            .dilation(&[dilation])
            .padding_mode(mode)
            .build();
        prop_assume!(built.is_ok());
        let g = built.unwrap();
        let raw = common::pseudo_random_ints::<f64>(g.kernel_numel(), seed); // exact sums below
        // a kernel symmetric in every axis: the mean of w and its mirror images
        let strides = convmat::geometry::row_major_strides(&kernel);
        let w: Vec<f64> = (0..raw.len()).map(|i| {
            let mut sum = 0.0;
            for flips in 0..1usize << rank {
                let j: usize = (0..rank).map(|d| {
                    let k = i / strides[d] % kernel[d];
                    (if flips >> d & 1 == 1 { kernel[d] - 1 - k } else { k }) * strides[d]
                }).sum();
                sum += raw[j];
            }
            sum
        }).collect();
        let d = Diagonal::<f64>::new(&g, &w).unwrap();
        prop_assert_eq!(d.basis(), if symmetric { Basis::Cosine } else { Basis::Fourier });
        let x = pseudo_random::<f64>(g.cols(), seed ^ 9);
        let (mut a, mut b) = (vec![0.0; g.rows()], vec![0.0; g.rows()]);
        d.apply(&x, &mut a, |l| l);
        direct::conv(&g, &x, &w, None, &mut b).unwrap();
        for (p, q) in a.iter().zip(&b) {
            prop_assert!((p - q).abs() < 1e-9 * (1.0 + q.abs()), "C: {p} vs {q}");
        }
        d.apply(&x, &mut a, |l| l.conj());
        direct::conv_transpose(&g, &x, &w, None, &mut b).unwrap();
        for (p, q) in a.iter().zip(&b) {
            prop_assert!((p - q).abs() < 1e-9 * (1.0 + q.abs()), "Cᵀ: {p} vs {q}");
        }
    }
}

#[test]
fn no_fast_basis_is_refused_with_what_would_work() {
    let g = ConvGeometry::builder(&[8], &[3])
        .padding(1)
        .padding_mode(PaddingMode::Reflect)
        .build()
        .unwrap();
    let e = Basis::of(&g, &[1.0, 2.0, 1.0]).unwrap_err().to_string();
    assert!(e.contains("reflect boundary") && e.contains("LSQR"), "{e}");
    let g = ConvGeometry::builder(&[8], &[3])
        .padding(1)
        .padding_mode(PaddingMode::Symmetric)
        .build()
        .unwrap();
    let e = Basis::of(&g, &[1.0, 2.0, 3.0]).unwrap_err().to_string();
    assert!(e.contains("not symmetric"), "{e}");
    let g = ConvGeometry::builder(&[8], &[3])
        .stride(&[2])
        .padding(1)
        .padding_mode(PaddingMode::Circular)
        .build()
        .unwrap();
    assert!(Basis::of(&g, &[1.0, 2.0, 1.0])
        .unwrap_err()
        .to_string()
        .contains("stride"));
}
