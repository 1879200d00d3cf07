//! Boundary conditions: the boundary index map, and the exact count of C's stored
//! entries under every padding mode, checked against brute force.

mod common;

use convmat::geometry::{ConvGeometry, PaddingMode};
use std::collections::BTreeSet;

/// Every small 1-D geometry the modes allow, with its mode.
fn small_geometries() -> Vec<ConvGeometry> {
    let mut out = vec![];
    for mode in PaddingMode::ALL {
        for input in 1..7 {
            for kernel in 1..6 {
                for dil in 1..4 {
                    for stride in 1..3 {
                        for pad in 0..=input + 1 {
                            if let Ok(g) = ConvGeometry::builder(&[input], &[kernel])
                                .stride(&[stride])
                                .dilation(&[dil])
                                .padding(pad)
                                .padding_mode(mode)
                                .build()
                            {
                                out.push(g);
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_stored_entries_of_each_output_are_the_distinct_inputs_its_taps_read() {
    let all = small_geometries();
    assert!(all.len() > 2000, "only {} geometries", all.len());
    for g in &all {
        let mut total = 0u128;
        for o in 0..g.output_size()[0] {
            let sources: BTreeSet<usize> = (0..g.kernel_size()[0])
                .filter_map(|k| g.source(0, o, k))
                .collect();
            assert_eq!(g.sources_along(0, o), sources.len(), "{g:?}, output {o}");
            total += sources.len() as u128;
        }
        assert_eq!(g.nnz(), total, "{g:?}");
    }
}

#[test]
fn every_mode_but_zeros_reads_an_input_for_every_padded_position() {
    for mode in PaddingMode::ALL {
        for len in 1..6 {
            let max = mode.max_padding(len).unwrap_or(2 * len) as isize;
            for p in -max..len as isize + max {
                let s = mode.source(p, len);
                match mode {
                    PaddingMode::Zeros if !(0..len as isize).contains(&p) => assert_eq!(s, None),
                    _ => assert!(s.is_some_and(|i| i < len), "{mode} {p} of {len}: {s:?}"),
                }
            }
        }
    }
}

#[test]
fn padding_beyond_what_the_mode_can_fold_is_refused_with_pytorchs_words() {
    let build = |mode, input: usize, pad: usize| {
        ConvGeometry::builder(&[input, 8], &[1, 1])
            .padding(pad)
            .padding_mode(mode)
            .build()
    };
    assert!(build(PaddingMode::Reflect, 3, 2).is_ok());
    let e = build(PaddingMode::Reflect, 3, 3).unwrap_err().to_string();
    assert!(
        e.contains("Padding size should be less than the corresponding input dimension"),
        "{e}"
    );
    assert!(
        e.contains("padding (3, 3)") && e.contains("input size 3"),
        "{e}"
    );
    assert!(build(PaddingMode::Circular, 3, 3).is_ok());
    let e = build(PaddingMode::Circular, 3, 4).unwrap_err().to_string();
    assert!(
        e.contains("Padding value causes wrapping around more than once"),
        "{e}"
    );
    assert!(build(PaddingMode::Symmetric, 3, 4).is_err());
    assert!(build(PaddingMode::Replicate, 3, 40).is_ok());
}

mod formulations {
    //! Every formulation under every padding mode, on random geometries of rank 1–3:
    //! exactly equal on integer data, C equal to the Jacobian of the direct loops,
    //! and each forward/adjoint pair adjoint to each other.
    use super::common::{pseudo_random, pseudo_random_ints};
    use convmat::functional::ConvMethod;
    use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
    use convmat::kernels::separable::Separable;
    use convmat::kernels::{direct, im2col, phase};
    use convmat::operator::{dot_test, ConvOperator};
    use convmat::sparse::ConvMatrix;
    use proptest::prelude::*;

    /// A random geometry under a random mode, with padding the mode allows.
    fn geometry() -> impl Strategy<Value = ConvGeometry> {
        geometry_with(2)
    }

    /// As [`geometry`], with at most `max` groups and channels per group.
    fn geometry_with(max: usize) -> impl Strategy<Value = ConvGeometry> {
        let dim = (1usize..=4, 1usize..=2, 1usize..=2, 0usize..=3, 1usize..=6);
        (
            prop::collection::vec(dim, 1..=3),
            0usize..5,
            any::<bool>(),
            1usize..=max,
            1usize..=max,
            1usize..=max,
        )
            .prop_filter_map(
                "geometry the mode allows",
                |(dims, m, same, groups, cin_g, cout_g)| {
                    let mode = PaddingMode::ALL[m];
                    let input: Vec<usize> = dims.iter().map(|d| d.4).collect();
                    let kernel: Vec<usize> = dims.iter().map(|d| d.0).collect();
                    let dilation: Vec<usize> = dims.iter().map(|d| d.1).collect();
                    let stride: Vec<usize> =
                        dims.iter().map(|d| if same { 1 } else { d.2 }).collect();
                    let padding: Padding = if same {
                        Padding::Same
                    } else {
                        Padding::Explicit(dims.iter().map(|d| d.3).collect())
                    };
                    ConvGeometry::builder(&input, &kernel)
                        .channels(groups * cin_g, groups * cout_g)
                        .groups(groups)
                        .stride(&stride)
                        .dilation(&dilation)
                        .padding(padding)
                        .padding_mode(mode)
                        .build()
                        .ok()
                },
            )
    }

    /// C·e_j column by column through the direct loops.
    fn jacobian(g: &ConvGeometry, w: &[f64]) -> Vec<f64> {
        let (rows, cols) = (g.rows(), g.cols());
        let mut dense = vec![0.0; rows * cols];
        let mut e = vec![0.0; cols];
        let mut y = vec![0.0; rows];
        for j in 0..cols {
            e[j] = 1.0;
            direct::conv(g, &e, w, None, &mut y).unwrap();
            e[j] = 0.0;
            for r in 0..rows {
                dense[r * cols + j] = y[r];
            }
        }
        dense
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn direct_im2col_and_c_agree_exactly_on_integers(g in geometry(), seed in any::<u64>()) {
            let w = pseudo_random_ints::<f64>(g.weight_shape().iter().product(), seed);
            let x = pseudo_random_ints::<f64>(2 * g.cols(), seed ^ 1);
            let mut a = vec![0.0; 2 * g.rows()];
            let mut b = a.clone();
            let mut c = a.clone();
            let mut p = a.clone();
            direct::conv(&g, &x, &w, None, &mut a).unwrap();
            im2col::conv(&g, &x, &w, None, &mut b).unwrap();
            phase::conv(&g, &x, &w, None, &mut p).unwrap();
            prop_assert_eq!(&a, &p, "direct vs phase");
            let m = ConvMatrix::<f64>::build(&g, &w).unwrap();
            prop_assert_eq!(m.nnz() as u128, g.nnz());
            for (xi, ci) in x.chunks(g.cols()).zip(c.chunks_mut(g.rows())) {
                m.mul_vec(xi, ci).unwrap();
            }
            prop_assert_eq!(&a, &b, "direct vs im2col");
            prop_assert_eq!(&a, &c, "direct vs C");
            if g.cols() * g.rows() <= 4096 {
                prop_assert_eq!(m.to_dense(), jacobian(&g, &w));
            }
        }

        #[test]
        fn adjoints_fold_back_exactly_on_integers(g in geometry(), seed in any::<u64>()) {
            let w = pseudo_random_ints::<f64>(g.weight_shape().iter().product(), seed);
            let y = pseudo_random_ints::<f64>(g.rows(), seed ^ 2);
            let mut a = vec![0.0; g.cols()];
            let mut b = a.clone();
            let mut c = a.clone();
            let mut p = a.clone();
            direct::conv_transpose(&g, &y, &w, None, &mut a).unwrap();
            im2col::conv_transpose(&g, &y, &w, None, &mut b).unwrap();
            phase::conv_transpose(&g, &y, &w, None, &mut p).unwrap();
            prop_assert_eq!(&a, &p, "scatter vs phase");
            ConvMatrix::<f64>::build(&g, &w).unwrap().transpose().mul_vec(&y, &mut c).unwrap();
            prop_assert_eq!(&a, &b, "scatter vs col2im");
            prop_assert_eq!(&a, &c, "scatter vs Cᵀ");
        }

        #[test]
        fn every_operator_passes_the_dot_test(g in geometry(), seed in any::<u64>()) {
            let w = pseudo_random::<f64>(g.weight_shape().iter().product(), seed);
            for method in [ConvMethod::Direct, ConvMethod::Im2col, ConvMethod::Sparse, ConvMethod::Auto] {
                let op = ConvOperator::new(g.clone(), w.clone(), method).unwrap();
                let err = dot_test(&op, seed).unwrap();
                prop_assert!(err < 1e-12, "{method:?}: {err}");
            }
        }

        #[test]
        fn separable_passes_equal_the_direct_loops(g in geometry_with(1), seed in any::<u64>()) {
            // an outer product of integer vectors: exactly separable
            let factors: Vec<Vec<f64>> = g.kernel_size().iter().enumerate()
                .map(|(d, &k)| pseudo_random_ints::<f64>(k, seed ^ d as u64).iter().map(|v| v + 0.5).collect())
                .collect();
            let strides = convmat::geometry::row_major_strides(g.kernel_size());
            let w: Vec<f64> = (0..g.kernel_numel())
                .map(|i| factors.iter().enumerate().map(|(d, u)| u[i / strides[d] % u.len()]).product())
                .collect();
            let s = Separable::new(&g, &w).expect("an outer product is separable");
            let x = pseudo_random::<f64>(g.cols(), seed ^ 3);
            let (mut a, mut b) = (vec![0.0; g.rows()], vec![0.0; g.rows()]);
            direct::conv(&g, &x, &w, None, &mut a).unwrap();
            s.conv(&x, &mut b, &mut Default::default());
            for (p, q) in a.iter().zip(&b) {
                prop_assert!((p - q).abs() <= 1e-9 * (1.0 + p.abs()), "{p} vs {q}");
            }
            let y = pseudo_random::<f64>(g.rows(), seed ^ 4);
            let (mut c, mut d) = (vec![0.0; g.cols()], vec![0.0; g.cols()]);
            direct::conv_transpose(&g, &y, &w, None, &mut c).unwrap();
            s.conv_transpose(&y, &mut d, &mut Default::default());
            for (p, q) in c.iter().zip(&d) {
                prop_assert!((p - q).abs() <= 1e-9 * (1.0 + p.abs()), "{p} vs {q}");
            }
        }
    }
}
