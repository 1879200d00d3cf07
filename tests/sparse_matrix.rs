//! The CSR matrix as a value: invariants checked at the door, hand-off to sprs and
//! nalgebra-sparse without copying, and the same matrix whatever the index type.

use convmat::geometry::ConvGeometry;
use convmat::sparse::{predicted_bytes, ConvMatrix, Csr};

fn geometry() -> ConvGeometry {
    ConvGeometry::builder(&[6, 7], &[3, 2])
        .channels(4, 6)
        .groups(2)
        .stride(&[2, 1])
        .padding([1, 1])
        .dilation(&[1, 2])
        .build()
        .unwrap()
}

fn weights(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 37) % 19) as f64 - 9.0).collect()
}

fn built() -> (ConvGeometry, ConvMatrix<f64>, Vec<f64>, Vec<f64>) {
    let g = geometry();
    let w = weights(g.weight_shape().iter().product());
    let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let x: Vec<f64> = (0..g.cols()).map(|i| (i % 5) as f64 - 2.0).collect();
    let mut y = vec![0.0; g.rows()];
    c.mul_vec(&x, &mut y).unwrap();
    (g, c, x, y)
}

#[test]
fn sprs_takes_the_arrays_without_copying_and_multiplies_alike() {
    let (_, c, x, y) = built();
    let (data_ptr, indices_ptr) = (c.data().as_ptr(), c.indices().as_ptr());
    // a borrowed view sees the very same arrays
    let v = c.as_sprs();
    assert_eq!(v.data().as_ptr(), data_ptr);
    let s = c.into_sprs();
    assert_eq!(s.data().as_ptr(), data_ptr);
    assert_eq!(s.indices().as_ptr(), indices_ptr);
    let ys = &s * &ndarray::Array1::from(x);
    assert_eq!(ys.to_vec(), y);
}

#[test]
fn nalgebra_sparse_takes_the_arrays_without_copying_and_multiplies_alike() {
    let (_, c, x, y) = built();
    let data_ptr = c.data().as_ptr();
    let n = c.into_nalgebra();
    assert_eq!(n.values().as_ptr(), data_ptr);
    let yn = &n * &nalgebra::DMatrix::from_vec(x.len(), 1, x);
    assert_eq!(yn.as_slice(), y.as_slice());
}

#[test]
fn u32_and_usize_indices_give_the_same_matrix() {
    let (g, c, x, y) = built();
    let w = weights(g.weight_shape().iter().product());
    let c32 = ConvMatrix::<f64, u32>::build(&g, &w).unwrap();
    assert_eq!(c32.nnz(), c.nnz());
    assert!(c32.iter().zip(c.iter()).all(|(a, b)| a == b));
    let mut y32 = vec![0.0; g.rows()];
    c32.mul_vec(&x, &mut y32).unwrap();
    assert_eq!(y32, y);
    assert!(c32.bytes() < c.bytes());
}

#[test]
fn predicted_bytes_are_the_bytes_built() {
    let (g, c, _, _) = built();
    assert_eq!(predicted_bytes(g.rows(), g.nnz(), 8, 8), c.bytes() as u128);
    let c32 =
        ConvMatrix::<f32, u32>::build(&g, &vec![1.0; g.weight_shape().iter().product()]).unwrap();
    assert_eq!(
        predicted_bytes(g.rows(), g.nnz(), 4, 4),
        c32.bytes() as u128
    );
}

#[test]
fn explicit_transpose_is_the_adjoint_product_and_an_involution() {
    let (g, c, _, _) = built();
    let ct = c.transpose();
    assert_eq!((ct.nrows(), ct.ncols()), (g.cols(), g.rows()));
    assert_eq!(ct.transpose(), c);
    let y: Vec<f64> = (0..g.rows()).map(|i| (i % 3) as f64).collect();
    let (mut a, mut b) = (vec![0.0; g.cols()], vec![0.0; g.cols()]);
    c.mul_transpose(&y, &mut a).unwrap();
    ct.mul_vec(&y, &mut b).unwrap();
    assert_eq!(a, b);
}

#[test]
fn batches_are_independent_right_hand_sides() {
    let (g, c, x, y) = built();
    let x2: Vec<f64> = x
        .iter()
        .chain(x.iter().map(|v| -v).collect::<Vec<_>>().iter())
        .copied()
        .collect();
    let mut y2 = vec![0.0; 2 * g.rows()];
    c.mul_vec(&x2, &mut y2).unwrap();
    assert_eq!(&y2[..g.rows()], y.as_slice());
    assert!(y2[g.rows()..].iter().zip(&y).all(|(a, b)| *a == -b));
    // a buffer that is not a whole batch is refused with its numbers
    let e = c.mul_vec(&x2[1..], &mut y2).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("expected a multiple of {}", g.cols())),
        "{e}"
    );
    let e = c.mul_vec(&x2, &mut y2[1..]).unwrap_err();
    assert!(e.to_string().contains("for a batch of 2"), "{e}");
}

#[test]
fn csr_arrays_from_outside_are_checked() {
    let ok = Csr::<f64>::try_from_parts(2, 3, vec![0, 1, 2], vec![0, 2], vec![1.0, 2.0]);
    assert!(ok.is_ok());
    // (rows, indptr, indices, data, expected message)
    type Arrays = (usize, Vec<usize>, Vec<usize>, Vec<f64>, &'static str);
    let cases: [Arrays; 5] = [
        (
            2,
            vec![0, 1],
            vec![0],
            vec![1.0],
            "indptr has 2 entries, expected 3",
        ),
        (
            2,
            vec![0, 1, 2],
            vec![0, 2],
            vec![1.0],
            "2 indices but 1 values",
        ),
        (
            2,
            vec![0, 2, 1],
            vec![0, 2],
            vec![1.0, 2.0],
            "indptr runs from 0 to 1",
        ),
        (
            2,
            vec![0, 1, 2],
            vec![0, 3],
            vec![1.0, 2.0],
            "row 1 has column 3 ≥ 3",
        ),
        (
            1,
            vec![0, 2],
            vec![2, 1],
            vec![1.0, 2.0],
            "row 0 columns are not strictly increasing",
        ),
    ];
    for (rows, indptr, indices, data, needle) in cases {
        let e = Csr::<f64>::try_from_parts(rows, 3, indptr, indices, data).unwrap_err();
        assert!(e.to_string().contains(needle), "{e} lacks {needle}");
    }
}

#[test]
fn transposed_convolution_matrix_is_c_transpose_column_by_column() {
    use convmat::geometry::ConvTransposeGeometry;
    use convmat::kernels::direct;
    use convmat::sparse::BuildOptions;
    // stride 2 with output_padding 1, groups, dilation: the matrix of the transposed
    // convolution, column j = scatter(e_j), is exactly Cᵀ of its forward convolution
    let t = ConvTransposeGeometry::builder(&[3, 4], &[3, 2])
        .channels(4, 2)
        .groups(2)
        .stride(&[2, 2])
        .padding([1, 0])
        .dilation(&[1, 2])
        .output_padding(&[1, 1])
        .build()
        .unwrap();
    let w = weights(t.weight_shape().iter().product());
    let m = ConvMatrix::<f64>::build_transposed(&t, &w, &BuildOptions::default()).unwrap();
    let (n_in, n_out) = (t.conv().rows(), t.conv().cols());
    assert_eq!((m.nrows(), m.ncols()), (n_out, n_in));
    let dense = m.to_dense();
    for j in 0..n_in {
        let mut e = vec![0.0; n_in];
        e[j] = 1.0;
        let mut col = vec![0.0; n_out];
        direct::conv_transpose(t.conv(), &e, &w, None, &mut col).unwrap();
        for i in 0..n_out {
            assert_eq!(dense[i * n_in + j], col[i], "entry ({i}, {j})");
        }
    }
}

#[test]
fn malformed_or_empty_matrices_are_errors_not_panics() {
    // indptr jumps past the stored entries, then comes back
    let e = Csr::<f64>::try_from_parts(2, 3, vec![0, 5, 2], vec![0, 1], vec![1.0, 2.0]);
    assert!(e.is_err());
    // a matrix with no rows (or no columns) multiplies to nothing
    let none = Csr::<f64>::try_from_parts(0, 3, vec![0], vec![], vec![]).unwrap();
    let mut y: [f64; 0] = [];
    none.mul_vec(&[1.0, 2.0, 3.0], &mut y).unwrap();
    let empty_cols = Csr::<f64>::try_from_parts(2, 0, vec![0, 0, 0], vec![], vec![]).unwrap();
    empty_cols.mul_transpose(&[1.0, 2.0], &mut []).unwrap();
}

#[test]
fn matrix_market_variants_and_hostile_headers() {
    use convmat::io::mtx;
    let sym = "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 2\n3 1 5\n2 2 1\n";
    let a = mtx::read::<f64>(sym, "sym").unwrap();
    assert_eq!(
        a.to_dense(),
        vec![2.0, 0.0, 5.0, 0.0, 1.0, 0.0, 5.0, 0.0, 0.0]
    );
    let skew = "%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n2 1 4\n";
    assert_eq!(
        mtx::read::<f64>(skew, "skew").unwrap().to_dense(),
        vec![0.0, -4.0, 4.0, 0.0]
    );
    let err = |text: &str| mtx::read::<f64>(text, "f.mtx").unwrap_err().to_string();
    // a size line that would need more memory than there is, refused before allocating
    let huge = "%%MatrixMarket matrix coordinate real general\n18446744073709551614 2 1\n1 1 1\n";
    assert!(
        err(huge).contains("over the memory budget"),
        "{}",
        err(huge)
    );
    // an entry count that lies
    let lies = "%%MatrixMarket matrix coordinate real general\n2 2 1000000000000\n1 1 1\n";
    assert!(err(lies).contains("size line says 1000000000000 entries, found 1"));
    let extra = "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1\n2 2 1\n";
    assert!(err(extra).contains("more entries than the 1"));
    let upper = "%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 2 1\n";
    assert!(err(upper).contains("above the diagonal"));
    assert!(err("%%MatrixMarket matrix array real general\n").contains("expected"));
    assert!(
        err("%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n")
            .contains("unsupported field 'complex'")
    );
}
