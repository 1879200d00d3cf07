//! Greyscale PNG images (for the report's pictures and `--image`).

use super::write_atomic;
use crate::error::Error;
use std::path::Path;

/// Writes an `h×w` row-major image as an 8-bit greyscale PNG, mapping `[lo, hi]` to
/// 0–255 (values outside are clamped), atomically.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("ramp.png");
/// convmat::io::png::write_gray(&p, 2, 2, &[0.0, 0.25, 0.75, 1.0], 0.0, 1.0).unwrap();
/// let (h, w, v) = convmat::io::png::read_gray(&p).unwrap();
/// assert_eq!((h, w), (2, 2));
/// assert!((v[1] - 64.0 / 255.0).abs() < 1e-12);
/// ```
///
/// # Errors
/// [`GeometryError::LengthMismatch`](crate::GeometryError::LengthMismatch) unless `values` holds
/// `h·w` values; [`Error::Io`] when encoding or writing fails.
pub fn write_gray(
    path: &Path,
    h: usize,
    w: usize,
    values: &[f64],
    lo: f64,
    hi: f64,
) -> Result<(), Error> {
    if values.len() != h * w {
        return Err(crate::GeometryError::LengthMismatch {
            name: "image values",
            dimension: "height × width",
            expected: h * w,
            got: values.len(),
        }
        .into());
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    let bytes: Vec<u8> = values
        .iter()
        .map(|&v| (((v - lo) / span).clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    write_atomic(path, |out| {
        let encoder = image::codecs::png::PngEncoder::new(out);
        image::ImageEncoder::write_image(
            encoder,
            &bytes,
            w as u32,
            h as u32,
            image::ExtendedColorType::L8,
        )
        .map_err(|e| std::io::Error::other(e.to_string()))
    })
}

/// Reads a PNG as greyscale (colour images are converted by luminance), values in
/// [0, 1]: `(height, width, values)`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened or read; [`Error::Format`] when it cannot be
/// decoded as an image, or its declared dimensions need more memory than the budget.
pub fn read_gray(path: &Path) -> Result<(usize, usize, Vec<f64>), Error> {
    decode_gray(&super::read_within_budget(path)?, path)
}

/// [`read_gray`] on the bytes of an image already in memory; `path` names it in
/// messages.
///
/// # Errors
/// As [`read_gray`], but for reading the file.
pub fn decode_gray(bytes: &[u8], path: &Path) -> Result<(usize, usize, Vec<f64>), Error> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let open = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(io)
    };
    let format_error = |e: image::ImageError| Error::Format {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    // the declared size first (the header alone), against the budget
    let (w, h) = open()?.into_dimensions().map_err(format_error)?;
    let budget = crate::sparse::default_memory_budget();
    let bytes = w as u128 * h as u128 * 9;
    if bytes > budget as u128 {
        return Err(Error::Format {
            path: path.display().to_string(),
            message: format!(
                "an image of {w}×{h} pixels needs {bytes} bytes as grey values, over the memory \
                 budget of {budget} bytes"
            ),
        });
    }
    let mut reader = open()?;
    // the decoder checks the declared dimensions against the budget before allocating
    // (the grey copy and the f64 values take 9 bytes a pixel besides)
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(crate::sparse::default_memory_budget() / 9);
    reader.limits(limits);
    let img = reader.decode().map_err(format_error)?.to_luma8();
    let (w, h) = img.dimensions();
    Ok((
        h as usize,
        w as usize,
        img.pixels().map(|p| p.0[0] as f64 / 255.0).collect(),
    ))
}
