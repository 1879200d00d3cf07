//! Every refusal of the pooling and up-sampling geometries and operations, as the
//! library reports it: the variant, with the numbers that caused it.

use convmat::functional::{self as ops, InterpolateOptions, PoolOptions, UnpoolOptions};
use convmat::geometry::{PoolGeometry, ResizeGeometry, ResizeMode, UnpoolGeometry};
use convmat::kernels::{max_pool, max_unpool, resize};
use convmat::sparse::{max_unpool_matrix, resize_matrix, BuildOptions};
use convmat::{Error, GeometryError};
use ndarray::{ArrayD, IxDyn};

fn resize_err(
    mode: ResizeMode,
    input: &[usize],
    f: impl FnOnce(convmat::geometry::ResizeBuilder) -> convmat::geometry::ResizeBuilder,
) -> GeometryError {
    f(ResizeGeometry::builder(mode, input)).build().unwrap_err()
}

#[test]
fn pooling_geometry_refusals() {
    let err = |b: convmat::geometry::PoolBuilder| b.build().unwrap_err();
    assert_eq!(
        err(PoolGeometry::builder(&[4, 4], &[2]).padding(&[2])),
        GeometryError::PoolPadding {
            padding: 2,
            kernel: 2
        }
    );
    assert!(matches!(
        err(PoolGeometry::builder(&[4, 4], &[5])),
        GeometryError::OutputTooSmall { .. }
    ));
    assert!(matches!(
        err(PoolGeometry::builder(&[4, 4], &[0])),
        GeometryError::NotPositive {
            name: "kernel_size",
            ..
        }
    ));
    assert!(matches!(
        err(PoolGeometry::builder(&[4, 4], &[2]).stride(&[0])),
        GeometryError::NotPositive { name: "stride", .. }
    ));
    assert!(matches!(
        err(PoolGeometry::builder(&[4, 4], &[2]).dilation(&[0])),
        GeometryError::NotPositive {
            name: "dilation",
            ..
        }
    ));
    assert_eq!(
        err(PoolGeometry::builder(&[4, 4], &[2, 2, 2])),
        GeometryError::PerDimLength {
            name: "kernel_size",
            rank: 2,
            got: 3
        }
    );
    assert!(matches!(
        err(PoolGeometry::builder(&[], &[2])),
        GeometryError::Rank { rank: 0, .. }
    ));
    // ceil mode keeps a window that starts inside, drops one that would start in padding
    let g = PoolGeometry::builder(&[5], &[2])
        .ceil_mode(true)
        .build()
        .unwrap();
    assert_eq!(g.output_size(), &[3]);
    let g = PoolGeometry::builder(&[4], &[2])
        .padding(&[1])
        .ceil_mode(true)
        .build()
        .unwrap();
    assert_eq!(g.output_size(), &[3]);
}

#[test]
fn unpooling_geometry_refusals() {
    let b = || UnpoolGeometry::builder(&[2, 2], &[2]);
    assert_eq!(
        b().output_size(Some(&[6, 6])).build().unwrap_err(),
        GeometryError::UnpoolOutputSize {
            output_size: "[6, 6]".into(),
            dim: 0,
            min: 2,
            max: 6
        }
    );
    assert_eq!(
        b().output_size(Some(&[2, 5])).build().unwrap_err(),
        GeometryError::UnpoolOutputSize {
            output_size: "[2, 5]".into(),
            dim: 0,
            min: 2,
            max: 6
        }
    );
    assert_eq!(
        b().output_size(Some(&[5])).build().unwrap_err(),
        GeometryError::OutputSizeLength { rank: 2, got: 1 }
    );
    // (N, C, H, W) is accepted, the first two ignored as in PyTorch
    let g = b().output_size(Some(&[7, 9, 5, 3])).build().unwrap();
    assert_eq!(g.output_size(), &[5, 3]);
    assert!(matches!(
        UnpoolGeometry::builder(&[1], &[1])
            .padding(&[1])
            .build()
            .unwrap_err(),
        GeometryError::OutputTooSmall { .. }
    ));
}

#[test]
fn unpooling_refuses_indices_outside_the_plane_or_of_another_shape() {
    let g = UnpoolGeometry::builder(&[2, 2], &[2]).build().unwrap();
    let mut out = vec![0.0f32; 16];
    assert_eq!(
        max_unpool(&g, &[1.0; 4], &[5, 7, 16, 15], &mut out).unwrap_err(),
        GeometryError::MaxIndex {
            index: 16,
            plane: "4x4".into()
        }
    );
    assert_eq!(
        max_unpool(&g, &[1.0; 4], &[-3, 7, 13, 15], &mut out).unwrap_err(),
        GeometryError::MaxIndex {
            index: -3,
            plane: "4x4".into()
        }
    );
    assert!(out.iter().all(|&v| v == 0.0), "nothing written on error");
    assert!(matches!(
        max_unpool(&g, &[1.0; 4], &[5, 7, 13], &mut out).unwrap_err(),
        GeometryError::IndicesShape { .. }
    ));
    assert!(matches!(
        max_unpool_matrix::<f32>(&g, &[5, 7, 13, 99], &BuildOptions::default()).unwrap_err(),
        Error::Geometry(GeometryError::MaxIndex { index: 99, .. })
    ));
    let v = ArrayD::from_shape_vec(IxDyn(&[1, 2, 2]), vec![1.0f64; 4]).unwrap();
    let i = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![0i64; 4]).unwrap();
    assert!(matches!(
        ops::max_unpool(v.view(), i.view(), &[2, 2], &UnpoolOptions::default()).unwrap_err(),
        Error::Geometry(GeometryError::IndicesShape { .. })
    ));
}

#[test]
fn interpolation_refuses_what_pytorch_refuses() {
    use ResizeMode::*;
    assert_eq!(
        resize_err(Bilinear, &[4, 4], |b| b.size(&[3]).scale_factor(&[2.0])),
        GeometryError::SizeAndScale
    );
    assert_eq!(
        resize_err(Bilinear, &[4, 4], |b| b),
        GeometryError::NoSizeNorScale
    );
    for mode in [Nearest, NearestExact, NearestUnpool, BedOfNails] {
        assert_eq!(
            resize_err(mode, &[4], |b| b
                .scale_factor(&[2.0])
                .align_corners(Some(false))),
            GeometryError::AlignCornersNotInterpolating { mode: mode.name() }
        );
    }
    assert_eq!(
        resize_err(Bilinear, &[4, 4], |b| b
            .size(&[3])
            .recompute_scale_factor(Some(true))),
        GeometryError::RecomputeWithSize
    );
    assert_eq!(
        resize_err(Bilinear, &[4, 4], |b| b.scale_factor(&[0.1])),
        GeometryError::ResizeEmpty {
            input: "(4 x 4)".into(),
            output: "(0 x 0)".into()
        }
    );
    assert_eq!(
        resize_err(Nearest, &[4, 4], |b| b.size(&[0, 2])),
        GeometryError::ResizeEmpty {
            input: "(4 x 4)".into(),
            output: "(0 x 2)".into()
        }
    );
    assert!(matches!(
        resize_err(Bilinear, &[4, 4], |b| b.scale_factor(&[-2.0])),
        GeometryError::ScaleFactor { .. }
    ));
    assert!(matches!(
        resize_err(Bilinear, &[4, 4], |b| b.scale_factor(&[f64::NAN])),
        GeometryError::ScaleFactor { .. }
    ));
    assert!(matches!(
        resize_err(BedOfNails, &[4, 4], |b| b.scale_factor(&[1.5])),
        GeometryError::ScaleFactor {
            what: "positive whole-number",
            ..
        }
    ));
    assert!(matches!(
        resize_err(NearestUnpool, &[4, 4], |b| b.size(&[6, 8])),
        GeometryError::ScaleFactor { .. }
    ));
    assert_eq!(
        resize_err(Linear, &[4, 4], |b| b.scale_factor(&[2.0])),
        GeometryError::ModeRank {
            mode: "linear",
            rank: 2,
            mode_rank: 1
        }
    );
    assert_eq!(
        resize_err(Trilinear, &[4, 4], |b| b.scale_factor(&[2.0])),
        GeometryError::ModeRank {
            mode: "trilinear",
            rank: 2,
            mode_rank: 3
        }
    );
    assert_eq!(
        resize_err(Nearest, &[4, 4], |b| b.scale_factor(&[2.0, 2.0, 2.0])),
        GeometryError::PerDimLength {
            name: "scale_factor",
            rank: 2,
            got: 3
        }
    );
    assert!(ResizeGeometry::unpool(Bilinear, &[2], &[2]).is_err());
}

#[test]
fn buffers_and_budgets_are_checked() {
    let g = ResizeGeometry::builder(ResizeMode::Nearest, &[2, 2])
        .scale_factor(&[2.0])
        .build()
        .unwrap();
    let mut out = vec![0.0f32; 15];
    assert!(matches!(
        resize(&g, &[1.0; 4], &mut out).unwrap_err(),
        GeometryError::BatchMismatch { .. }
    ));
    assert!(matches!(
        resize(&g, &[1.0; 5], &mut [0.0; 16]).unwrap_err(),
        GeometryError::BufferLength { .. }
    ));
    let pool = PoolGeometry::builder(&[4, 4], &[2]).build().unwrap();
    assert!(matches!(
        max_pool(&pool, &[1.0f32; 16], &mut [0.0; 4], &mut [0; 3]).unwrap_err(),
        GeometryError::IndicesShape { .. }
    ));
    let tiny = BuildOptions {
        max_memory: Some(100),
    };
    assert!(matches!(
        resize_matrix::<f64>(&g, 4, &tiny).unwrap_err(),
        Error::MemoryBudget { .. }
    ));
    let x = ArrayD::from_elem(IxDyn(&[1, 1, 100, 100]), 1.0f32);
    let opts = InterpolateOptions::scale(ResizeMode::Bilinear, &[100.0]);
    assert!(matches!(
        ops::interpolate(
            x.view(),
            &opts,
            &BuildOptions {
                max_memory: Some(1 << 20)
            }
        )
        .unwrap_err(),
        Error::OutputTooLarge { .. }
    ));
    // interpolation needs (N, C, spatial…); pooling accepts unbatched (C, spatial…)
    let flat = ArrayD::from_elem(IxDyn(&[4, 4]), 1.0f32);
    assert!(ops::interpolate(flat.view(), &opts, &BuildOptions::default()).is_err());
    let (v, _) = ops::max_pool(flat.view(), &[2], &PoolOptions::default()).unwrap();
    assert_eq!(v.shape(), &[4, 2]);
}
