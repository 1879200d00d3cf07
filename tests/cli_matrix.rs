//! The command-line contract, part one: `tour` and every subcommand's help run, and
//! `matrix` prints C (symbolic, pretty, transposed, csv, json, mtx) as the library
//! builds it.

mod common;

use common::{array, at, conv_workdir, ok, ramp, s, words};
use convmat::geometry::ConvGeometry;
use convmat::io::{mtx, write_npy};
use convmat::sparse::ConvMatrix;

#[test]
fn tour_runs_with_no_files() {
    let text = ok(&["tour"]);
    assert!(text.contains("122 148\n126 134"));
    assert!(text.contains("2 2 4 2 2"));
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in common::SUBCOMMANDS {
        let text = ok(&[sub, "--help"]);
        assert!(text.contains("Example"), "{sub} --help has no example");
    }
}

#[test]
fn matrix_symbolic_from_kernel_size_alone() {
    let text = ok(&["matrix", "--input-size", "4,4", "--kernel-size", "3,3"]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("C: 4×16, 36 stored entries"));
    assert_eq!(
        lines[1],
        "w00 w01 w02   · w10 w11 w12   · w20 w21 w22   ·   ·   ·   ·   ·"
    );
    assert_eq!(
        lines[4],
        "  ·   ·   ·   ·   · w00 w01 w02   · w10 w11 w12   · w20 w21 w22"
    );
    assert_eq!(lines.len(), 5);
}

#[test]
fn matrix_symbolic_names_channels_when_there_are_several() {
    let text = ok(&words(
        "matrix --input-size 3 --kernel-size 2 --in-channels 2 --out-channels 2 --groups 2",
    ));
    assert!(text.contains("w[1,0,1]"), "{text}");
    assert!(text.lines().count() == 1 + 4);
}

#[test]
fn matrix_pretty_and_transpose_from_a_weight() {
    let dir = conv_workdir();
    let w = at(&dir, "w.npy");
    let pretty = ["matrix", "--input-size", "4,4", "--weight", s(&w)];
    let text = ok(&pretty);
    assert_eq!(
        text.lines().nth(1).unwrap(),
        "1 4 1 · 1 4 3 · 3 3 1 · · · · ·"
    );
    let text = ok(&[&pretty[..], &["--transpose"]].concat());
    assert!(text.starts_with("Cᵀ: 16×4"));
    assert_eq!(text.lines().count(), 1 + 16);
    assert_eq!(text.lines().nth(6).unwrap(), "4 1 4 1"); // input (1,1) is read by all four outputs
}

#[test]
fn matrix_csv_and_json_hold_every_entry() {
    let dir = conv_workdir();
    let w = at(&dir, "w.npy");
    let weighted = ["matrix", "--input-size", "4,4", "--weight", s(&w)];
    let text = ok(&[&weighted[..], &words("--padding 1 --format csv")].concat());
    assert_eq!(text.lines().next(), Some("row,col,value"));
    assert_eq!(text.lines().count(), 1 + 4 * 4 + 8 * 6 + 4 * 9);
    assert!(
        text.contains("\n0,0,4\n"),
        "row 0 starts with w11 = 4 at column 0"
    );

    let json = ok(&[&weighted[..], &words("--format json")].concat());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["shape"], serde_json::json!([4, 16]));
    assert_eq!(v["nnz"], 36);
    assert_eq!(v["indptr"], serde_json::json!([0, 9, 18, 27, 36]));
    assert_eq!(v["data"][0], 1.0);
    assert_eq!(v["dtype"], "float64");
}

#[test]
fn matrix_mtx_parses_back_to_the_same_matrix() {
    let dir = conv_workdir();
    let w = array(&[3, 2, 3, 2], ramp(36));
    let wp = at(&dir, "wg.npy");
    write_npy(&wp, &w).unwrap();
    let out_path = at(&dir, "C.mtx");
    let geometry = words("--groups 1 --stride 2,1 --padding 1,2 --dilation 1,2 --format mtx");
    ok(&[
        &["matrix", "--input-size", "5,6", "--weight", s(&wp)],
        &geometry[..],
        &["--output", s(&out_path)],
    ]
    .concat());
    let text = std::fs::read_to_string(&out_path).unwrap();
    let back = mtx::read::<f64>(&text, "C.mtx").unwrap();
    let g = ConvGeometry::builder(&[5, 6], &[3, 2])
        .channels(2, 3)
        .stride(&[2, 1])
        .padding([1, 2])
        .dilation(&[1, 2])
        .build()
        .unwrap();
    let c = ConvMatrix::<f64>::build(&g, w.as_slice().unwrap()).unwrap();
    assert_eq!(back, c);
}

#[test]
fn matrix_mtx_without_weights_is_a_pattern() {
    let text = ok(&words("matrix --input-size 3 --kernel-size 2 --format mtx"));
    assert!(text.starts_with("%%MatrixMarket matrix coordinate pattern general"));
    assert!(text.contains("\n2 3 4\n1 1\n1 2\n2 2\n2 3\n"));
}
