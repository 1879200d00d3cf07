//! The README's table of limits, held to its word: each row's refusal is produced by
//! a command and carries the message the table quotes (exit 2, one line, no file).

mod common;

use common::{array, at, deconv_args, fails, ok, s, words};
use convmat::io::write_npy;

/// The README's `## Limits` table: the "the message says" column of each row.
fn table() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("## Limits").expect("a limits section");
    readme[start..]
        .lines()
        .skip_while(|l| !l.starts_with("| limit"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            cells
                .last()
                .unwrap()
                .trim_end_matches(" |")
                .trim_matches('`')
                .to_string()
        })
        .collect()
}

/// The table quotes `quoted` (its `…` standing for numbers), and `message` matches it.
fn quoted_by_the_table(quoted: &str, message: &str) {
    assert!(
        table().iter().any(|q| q == quoted),
        "the README's limits table lacks `{quoted}`"
    );
    let mut rest = message;
    for piece in quoted.split('…').map(str::trim).filter(|p| !p.is_empty()) {
        let at = rest
            .find(piece)
            .unwrap_or_else(|| panic!("`{message}` does not read `{quoted}` (at `{piece}`)"));
        rest = &rest[at + piece.len()..];
    }
}

/// Runs a command that must fail and returns its one-line message.
fn refusal(args: &[&str]) -> String {
    let (status, _, stderr) = common::run(args);
    assert_eq!(status, 2, "{args:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn every_limit_in_the_readme_is_enforced_with_its_message() {
    let d = tempfile::tempdir().unwrap();
    let (w, x, out) = (at(&d, "w.npy"), at(&d, "x.npy"), at(&d, "out.npy"));
    write_npy(&w, &array(&[1, 1, 3, 3], vec![1.0f64; 9])).unwrap();
    write_npy(&x, &array(&[1, 1, 16, 16], vec![1.0f64; 256])).unwrap();

    let m = refusal(&[
        "matrix",
        "--input-size",
        "64,64",
        "--weight",
        s(&w),
        "--format",
        "mtx",
        "--max-memory",
        "1K",
    ]);
    quoted_by_the_table(
        "would hold … stored entries needing … bytes, over the memory budget",
        &m,
    );

    let huge = at(&d, "huge.npy");
    common::write_npy_raw(
        &huge,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }",
        &[],
    );
    let m = refusal(&[
        "conv",
        "--input",
        s(&huge),
        "--weight",
        s(&w),
        "--output",
        s(&out),
    ]);
    quoted_by_the_table("the header declares shape … but the file holds", &m);

    let indices = at(&d, "i.npy");
    write_npy(&indices, &array(&[1, 1, 2, 2], vec![0.0f32; 4])).unwrap();
    let m = refusal(&[
        "max-unpool",
        "--input",
        s(&indices),
        "--indices",
        s(&indices),
        "--kernel-size",
        "2",
        "--output",
        s(&out),
    ]);
    quoted_by_the_table("unsupported element type … expected int64 ('<i8')", &m);

    let w9 = at(&d, "w9.npy");
    write_npy(
        &w9,
        &array(&[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], vec![1.0f64]),
    )
    .unwrap();
    let m = refusal(&[
        "matrix",
        "--input-size",
        "2,2,2,2,2,2,2,2,2",
        "--weight",
        s(&w9),
        "--format",
        "csv",
    ]);
    quoted_by_the_table(
        "weight must have shape (out_channels, in_channels/groups, k…) with 1 to 8 kernel dims",
        &m,
    );

    let m = refusal(&[
        "matrix",
        "--input-size",
        "20,20",
        "--kernel-size",
        "3,3",
        "--format",
        "symbolic",
    ]);
    quoted_by_the_table("would be unreadable (limit 256 rows × 256 columns)", &m);

    let y = at(&d, "y.npy");
    write_npy(&y, &array(&[1, 14, 14], vec![1.0f64; 196])).unwrap();
    let m = refusal(&deconv_args(
        &y,
        &w,
        "16,16",
        &out,
        &words("--solver pinv --svd-max-elements 100"),
    ));
    quoted_by_the_table("over the limit of … entries", &m);

    let text = ok(&words(
        "analyze --input-size 120,120 --kernel-size 3 --padding 1 --time-limit 0.05",
    ));
    quoted_by_the_table("stopped at the time limit after … iterations", &text);

    let mut nan = vec![1.0f64; 196];
    nan[0] = f64::NAN;
    write_npy(&y, &array(&[1, 14, 14], nan)).unwrap();
    let m = refusal(&deconv_args(&y, &w, "16,16", &out, &[]));
    quoted_by_the_table(
        "holds … non-finite value(s) (NaN or ±∞); the first, …, at index",
        &m,
    );

    write_npy(&y, &array(&[1, 14, 14], vec![-1.0f64; 196])).unwrap();
    let m = refusal(&deconv_args(
        &y,
        &w,
        "16,16",
        &out,
        &["--solver", "richardson-lucy"],
    ));
    quoted_by_the_table("needs non-negative data, but", &m);
    assert!(!out.exists());
    fails(
        &[
            "conv",
            "--input",
            s(&huge),
            "--weight",
            s(&w),
            "--output",
            s(&out),
        ],
        "but the file holds",
        Some(&out),
    );
}

#[test]
fn the_phase_limits_quote_the_table() {
    let d = tempfile::tempdir().unwrap();
    let (w, x, out) = (at(&d, "w.npy"), at(&d, "x.npy"), at(&d, "out.npy"));
    write_npy(&w, &array(&[1, 1, 3, 3], vec![1.0f64; 9])).unwrap();
    write_npy(&x, &array(&[1, 1, 300, 300], vec![1.0f64; 90_000])).unwrap();
    let conv = |extra: &str| {
        let mut args = vec![
            "conv",
            "--input",
            s(&x),
            "--weight",
            s(&w),
            "--output",
            s(&out),
        ];
        args.extend(extra.split(' '));
        refusal(&args)
    };
    let m = conv("--method phase --stride 100");
    quoted_by_the_table("the phase formulation needs at most 4096 stride phases", &m);
    let m = conv("--method phase --dilation 2147483648 --padding same");
    quoted_by_the_table(
        "needs padded planes of at most 16 times the input and output planes together",
        &m,
    );
    assert!(!out.exists());
}

#[test]
fn the_simd_level_limit_quotes_the_table() {
    let out = common::convmat()
        .env("CONVMAT_SIMD", "sse9")
        .arg("tour")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing runs before the refusal");
    let m = String::from_utf8_lossy(&out.stderr).to_string();
    quoted_by_the_table(
        "CONVMAT_SIMD=…: not a level; use avx512, avx2 or scalar",
        &m,
    );
}

#[test]
fn the_reader_limits_quote_the_table_too() {
    // MatrixMarket and PNG are read by the library (the report reads PNG)
    let m = convmat::io::mtx::read::<f64>(
        "%%MatrixMarket matrix coordinate real general\n2 2 5\n1 1 1\n",
        "f.mtx",
    )
    .unwrap_err()
    .to_string();
    quoted_by_the_table("size line says … entries, found", &m);
    assert!(table().iter().any(|q| q == "an image of …×… pixels needs"));
    assert!(table().iter().any(|q| q == "over the memory budget"));
}

#[test]
fn the_spectrum_limits_quote_the_table() {
    let d = tempfile::tempdir().unwrap();
    let (w, out) = (at(&d, "w.npy"), at(&d, "s.npy"));
    write_npy(&w, &array(&[1, 1, 3, 3], vec![1.0f64; 9])).unwrap();
    let args = |extra: &str| -> Vec<String> {
        let mut v: Vec<String> = ["spectrum", "--weight", s(&w), "--output", s(&out)]
            .iter()
            .map(|x| x.to_string())
            .collect();
        v.extend(words(extra).iter().map(|x| x.to_string()));
        v
    };
    for extra in [
        "--input-size 8,8 --padding 1",
        "--input-size 8,8 --padding 1 --top 65",
    ] {
        let a = args(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let m = refusal(&a);
        if extra.contains("--top") {
            assert!(m.contains("give --top 1 to 64"), "{m}");
        } else {
            quoted_by_the_table("give --top K, from 1 to … (C is …×…)", &m);
        }
        assert!(!out.exists());
    }
}
