//! The geometry as a specification: output sizes, padding modes, the transposed
//! geometry's identity with its forward convolution, and one test per validation
//! error (each error names the offending numbers).

use convmat::geometry::{ConvGeometry, ConvOptions, ConvTransposeGeometry, Padding};
use convmat::sparse::{BuildOptions, ConvMatrix};
use convmat::{Error, GeometryError};

fn conv_err(b: convmat::geometry::ConvBuilder) -> GeometryError {
    b.build().expect_err("geometry must be refused")
}

#[test]
fn output_size_follows_pytorch_formula() {
    // ⌊(I + 2p − d(k−1) − 1)/s⌋ + 1 per dimension
    let g = ConvGeometry::builder(&[17, 9, 8], &[4, 3, 2])
        .stride(&[3, 2, 1])
        .padding([2, 1, 0])
        .dilation(&[2, 1, 3])
        .build()
        .unwrap();
    assert_eq!(
        g.output_size(),
        &[(17 + 4 - 6 - 1) / 3 + 1, (9 + 2 - 2 - 1) / 2 + 1, 8 - 3]
    );
}

#[test]
fn padding_beyond_the_kernel_gives_rows_with_no_taps() {
    let g = ConvGeometry::builder(&[3], &[2])
        .padding(3)
        .build()
        .unwrap();
    assert_eq!(g.output_size(), &[3 + 6 - 2 + 1]);
    // the first and last two outputs read only padding: empty rows of C
    assert!(g.tap_range(0, 0).is_empty() && g.tap_range(0, 1).is_empty());
    assert_eq!(g.row_nnz(&[0]), 0);
    assert_eq!(g.nnz(), 2 * 3);
}

#[test]
fn same_padding_is_asymmetric_for_even_dilated_kernels_with_the_extra_at_the_end() {
    let g = ConvGeometry::builder(&[7, 6], &[4, 3])
        .padding(Padding::Same)
        .dilation(&[1, 2])
        .build()
        .unwrap();
    assert_eq!(g.padding_before(), &[1, 2]);
    assert_eq!(g.padding_after(), &[2, 2]);
    assert_eq!(g.output_size(), g.input_size());
    let v = ConvGeometry::builder(&[7], &[4])
        .padding(Padding::Valid)
        .build()
        .unwrap();
    assert_eq!(v.output_size(), &[4]);
}

#[test]
fn transposed_output_size_follows_pytorch_formula() {
    // (I−1)s − 2p + d(k−1) + output_padding + 1
    let t = ConvTransposeGeometry::builder(&[3, 4], &[3, 2])
        .stride(&[2, 3])
        .padding([1, 0])
        .dilation(&[1, 2])
        .output_padding(&[1, 2])
        .build()
        .unwrap();
    assert_eq!(t.output_size(), &[2 * 2 - 2 + 2 + 1 + 1, 3 * 3 + 2 + 2 + 1]);
}

#[test]
fn transposed_geometry_is_the_adjoint_of_its_forward_convolution() {
    let t = ConvTransposeGeometry::builder(&[3, 3], &[3, 3])
        .channels(4, 6)
        .groups(2)
        .stride(&[2])
        .padding(1)
        .output_padding(&[1])
        .build()
        .unwrap();
    let c = t.conv();
    assert_eq!(c.input_size(), t.output_size());
    assert_eq!(c.output_size(), t.input_size());
    assert_eq!((c.in_channels(), c.out_channels()), (6, 4));
    assert_eq!(t.weight_shape(), vec![4, 3, 3, 3]); // (C_in, C_out/groups, k…)
    assert_eq!(c.weight_shape(), t.weight_shape());
}

#[test]
fn output_padding_at_or_above_stride_but_below_dilation_keeps_the_transposed_input_size() {
    // forward formula on the 11-long output would give 5 rows; only 4 exist in y
    let t = ConvTransposeGeometry::builder(&[4], &[3])
        .stride(&[2])
        .dilation(&[3])
        .output_padding(&[2])
        .build()
        .unwrap();
    assert_eq!(t.output_size(), &[3 * 2 + 3 * 2 + 2 + 1]);
    assert_eq!(t.conv().output_size(), &[4]);
}

#[test]
fn nnz_is_predicted_exactly() {
    let g = ConvGeometry::builder(&[256, 256], &[5, 5])
        .padding(2)
        .build()
        .unwrap();
    // per dimension: 256·5 taps minus those in the padding (3 + 1 at each end)
    let per_dim = 256 * 5 - 2 * (2 + 1);
    assert_eq!(g.nnz(), (per_dim * per_dim) as u128);
    let c = ConvMatrix::<f32, u32>::build(&g, &[1.0; 25]).unwrap();
    assert_eq!(c.nnz() as u128, g.nnz());
}

// ---- one test per validation error -------------------------------------------------

#[test]
fn zero_stride_is_refused() {
    let e = conv_err(ConvGeometry::builder(&[5, 5], &[3, 3]).stride(&[1, 0]));
    assert_eq!(
        e,
        GeometryError::NotPositive {
            name: "stride",
            values: "[1, 0]".into()
        }
    );
    assert_eq!(e.to_string(), "stride must be positive, got [1, 0]");
}

#[test]
fn zero_dilation_is_refused() {
    let e = conv_err(ConvGeometry::builder(&[5], &[3]).dilation(&[0]));
    assert!(
        matches!(
            e,
            GeometryError::NotPositive {
                name: "dilation",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn zero_kernel_size_is_refused() {
    let e = conv_err(ConvGeometry::builder(&[5, 5], &[3, 0]));
    assert_eq!(e.to_string(), "kernel size must be positive, got [3, 0]");
}

#[test]
fn zero_groups_is_refused() {
    let e = conv_err(ConvGeometry::builder(&[5], &[3]).groups(0));
    assert!(
        matches!(e, GeometryError::NotPositive { name: "groups", .. }),
        "{e}"
    );
}

#[test]
fn channels_not_divisible_by_groups_are_refused() {
    let e = conv_err(ConvGeometry::builder(&[5], &[3]).channels(4, 6).groups(3));
    assert_eq!(
        e.to_string(),
        "in_channels (4) must be divisible by groups (3)"
    );
    let e = conv_err(ConvGeometry::builder(&[5], &[3]).channels(6, 4).groups(3));
    assert_eq!(
        e.to_string(),
        "out_channels (4) must be divisible by groups (3)"
    );
}

#[test]
fn dilated_kernel_larger_than_padded_input_is_refused_with_pytorch_wording() {
    let e = conv_err(ConvGeometry::builder(&[2, 2], &[3, 3]));
    assert_eq!(
        e.to_string(),
        "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). \
         Kernel size can't be greater than actual input size"
    );
    // dilation counts: 5 + 2 < 3·(4−1) + 1
    assert!(ConvGeometry::builder(&[5], &[4])
        .padding(1)
        .dilation(&[2])
        .build()
        .is_ok());
    let e = conv_err(ConvGeometry::builder(&[5], &[4]).padding(1).dilation(&[3]));
    assert!(
        e.to_string()
            .contains("size per channel: (7). Kernel size: (10)."),
        "{e}"
    );
}

#[test]
fn output_padding_not_below_stride_or_dilation_is_refused() {
    let e = ConvTransposeGeometry::builder(&[2, 2], &[3, 3])
        .stride(&[2])
        .output_padding(&[2])
        .build()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "output padding must be smaller than either stride or dilation, but got \
         output_padding: [2, 2], stride: [2, 2], dilation: [1, 1]"
    );
}

#[test]
fn same_padding_with_stride_is_refused() {
    let e = conv_err(
        ConvGeometry::builder(&[5, 5], &[3, 3])
            .stride(&[2])
            .padding(Padding::Same),
    );
    assert_eq!(
        e.to_string(),
        "padding='same' is not supported for strided convolutions (stride [2, 2])"
    );
}

#[test]
fn string_padding_for_transposed_convolution_is_refused() {
    let e = ConvTransposeGeometry::builder(&[4], &[3])
        .padding(Padding::Same)
        .build()
        .unwrap_err();
    assert_eq!(e, GeometryError::StringPaddingTransposed { mode: "same" });
}

#[test]
fn transposed_output_that_would_be_empty_is_refused_with_pytorch_wording() {
    let e = ConvTransposeGeometry::builder(&[1, 1], &[1, 1])
        .padding(1)
        .build()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Given input size per channel: (1 x 1). Calculated output size per channel: (-1 x -1). \
         Output size is too small"
    );
}

#[test]
fn per_dimension_options_of_the_wrong_length_are_refused() {
    let e = conv_err(ConvGeometry::builder(&[5, 5], &[3, 3]).stride(&[1, 2, 3]));
    assert_eq!(
        e.to_string(),
        "stride must have 1 or 2 values (one per spatial dimension), got 3"
    );
    let e = conv_err(ConvGeometry::builder(&[5, 5, 5], &[3, 3]));
    assert!(matches!(
        e,
        GeometryError::PerDimLength {
            name: "input size",
            rank: 2,
            got: 3
        }
    ));
}

#[test]
fn rank_zero_is_refused() {
    let e = conv_err(ConvGeometry::builder(&[], &[]));
    assert!(matches!(e, GeometryError::Rank { rank: 0, .. }));
}

#[test]
fn weight_shape_inconsistent_with_channels_groups_or_rank_is_refused() {
    let g = ConvGeometry::builder(&[5, 5], &[3, 3])
        .channels(4, 6)
        .groups(2)
        .build()
        .unwrap();
    assert_eq!(g.weight_shape(), vec![6, 2, 3, 3]);
    let e = g.check_weight(&[6, 4, 3, 3]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "weight of shape [6, 4, 3, 3] does not fit: expected [6, 2, 3, 3]"
    );
    // a weight with the wrong number of elements cannot build C
    let e = ConvMatrix::<f64>::build(&g, &[0.0; 10]).unwrap_err();
    assert!(e.to_string().contains("expected [6, 2, 3, 3]"), "{e}");
    // from tensors: a weight too short to hold a kernel
    let e = ConvGeometry::for_tensors(&[1, 3, 5], &[3, 3], &ConvOptions::default()).unwrap_err();
    assert!(matches!(e, GeometryError::WeightRank { .. }), "{e}");
}

#[test]
fn bias_of_the_wrong_length_is_refused() {
    let e = convmat::geometry::check_bias(&[2], 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "bias of shape [2] does not fit: expected [1]"
    );
}

#[test]
fn input_inconsistent_with_the_geometry_is_refused() {
    let g = ConvGeometry::builder(&[4, 4], &[3, 3])
        .channels(2, 1)
        .build()
        .unwrap();
    assert_eq!(g.check_input("input", &[2, 4, 4]).unwrap(), 1);
    assert_eq!(g.check_input("input", &[5, 2, 4, 4]).unwrap(), 5);
    let e = g.check_input("input", &[5, 2, 4, 5]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "input of shape [5, 2, 4, 5] does not fit: expected [2, 4, 4] or [N, 2, 4, 4]"
    );
    // channels, with PyTorch's message
    let e = ConvGeometry::for_tensors(&[1, 3, 5, 5], &[2, 2, 3, 3], &ConvOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Given groups=1, weight of size [2, 2, 3, 3], expected input[1, 3, 5, 5] to have 2 \
         channels, but got 3 channels instead"
    );
    // rank, with PyTorch's message
    let e = ConvGeometry::for_tensors(&[4, 5, 5, 5, 5], &[3, 2, 3, 3], &ConvOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Expected 3D (unbatched) or 4D (batched) input to a 2-D convolution, but got input of \
         size: [4, 5, 5, 5, 5]"
    );
}

#[test]
fn size_overflow_is_refused() {
    let e = conv_err(ConvGeometry::builder(&[usize::MAX / 2, 4], &[1, 1]));
    assert!(matches!(e, GeometryError::Overflow { .. }), "{e}");
    let e = conv_err(ConvGeometry::builder(&[4], &[usize::MAX / 2]).dilation(&[4]));
    assert!(matches!(e, GeometryError::Overflow { .. }), "{e}");
}

#[test]
fn matrix_over_the_memory_budget_is_refused_before_allocating() {
    let g = ConvGeometry::builder(&[4096, 4096], &[5, 5])
        .channels(64, 64)
        .padding(2)
        .build()
        .unwrap();
    let nnz = g.nnz();
    let e = ConvMatrix::<f32>::build_with_options(
        &g,
        &[],
        &BuildOptions {
            max_memory: Some(1 << 30),
        },
    );
    // the weight is wrong too, but the budget speaks first only once the weight fits:
    assert!(e.is_err());
    let w = vec![0.0f32; 64 * 64 * 25];
    let e = ConvMatrix::<f32>::build_with_options(
        &g,
        &w,
        &BuildOptions {
            max_memory: Some(1 << 30),
        },
    )
    .unwrap_err();
    match e {
        Error::MemoryBudget {
            nnz: n,
            bytes,
            budget,
            ..
        } => {
            assert_eq!(n, nnz);
            assert_eq!(bytes, nnz * 12 + (g.rows() as u128 + 1) * 8);
            assert_eq!(budget, 1 << 30);
        }
        other => panic!("expected a memory-budget error, got {other}"),
    }
}

#[test]
fn sizes_beyond_the_index_type_are_refused_before_allocating() {
    let g = ConvGeometry::builder(&[1 << 33], &[1]).build().unwrap();
    let e = ConvMatrix::<f32, u32>::build_with_options(
        &g,
        &[1.0],
        &BuildOptions {
            max_memory: Some(u64::MAX),
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::IndexOverflow {
                index_type: "u32",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn the_closed_form_entry_count_equals_the_count_row_by_row() {
    // nnz() counts (output, tap) pairs in closed form; row_nnz() walks each row's taps
    let mut checked = 0;
    for input in 1..13 {
        for kernel in 1..7 {
            for stride in 1..5 {
                for dilation in 1..4 {
                    for padding in 0..5 {
                        let Ok(g) = ConvGeometry::builder(&[input], &[kernel])
                            .stride(&[stride])
                            .dilation(&[dilation])
                            .padding(padding)
                            .build()
                        else {
                            continue;
                        };
                        let rows: usize = (0..g.output_size()[0]).map(|o| g.row_nnz(&[o])).sum();
                        assert_eq!(
                            g.nnz(),
                            rows as u128,
                            "{input} {kernel} s{stride} d{dilation} p{padding}"
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 2000, "{checked}");
    // and a size no loop could count: a 2³²−1-tap transposed kernel's forward geometry
    let t = convmat::geometry::ConvTransposeGeometry::builder(&[3_000_000_000], &[4_294_967_295])
        .stride(&[3])
        .build()
        .unwrap();
    assert!(t.conv().nnz() > 0);
}
