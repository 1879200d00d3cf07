//! Boundary conditions: the boundary index map, and the exact count of C's stored
//! entries under every padding mode, checked against brute force.

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
