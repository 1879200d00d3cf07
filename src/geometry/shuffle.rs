//! Pixel shuffle (`F.pixel_shuffle`, sub-pixel convolution) and its inverse
//! (`F.pixel_unshuffle`): a permutation between a *deep* tensor `(…, C·r², H, W)`
//! and a *wide* one `(…, C, H·r, W·r)`.

use crate::error::{shape_str, GeometryError};

/// A validated pixel shuffle by a factor `r`: element `(c, h·r + i, w·r + j)` of
/// each wide item is element `(c·r² + i·r + j, h, w)` of the deep one. The
/// shuffle maps deep to wide, the unshuffle (its inverse, which is also its
/// transpose) wide to deep; any leading dimensions are a batch.
///
/// ```
/// use convmat::geometry::ShuffleGeometry;
/// let g = ShuffleGeometry::shuffle(&[8, 12, 5, 6], 2).unwrap();
/// assert_eq!(g.deep_shape(), [12, 5, 6]);
/// assert_eq!(g.wide_shape(), [3, 10, 12]);
/// assert_eq!(g.batch(), 8);
/// // wide (c=1, y=3, x=4) reads deep channel 1·4 + 1·2 + 0 at (1, 2)
/// assert_eq!(g.deep_index(1, 3, 4), (6 * 5 + 1) * 6 + 2);
/// let same = ShuffleGeometry::unshuffle(&[8, 3, 10, 12], 2).unwrap();
/// assert_eq!(same, g);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShuffleGeometry {
    batch: usize,
    channels: usize,
    factor: usize,
    height: usize,
    width: usize,
}

impl ShuffleGeometry {
    /// `F.pixel_shuffle(input, upscale_factor)` for an input of shape `shape`
    /// (`(…, C·r², H, W)`).
    ///
    /// # Errors
    /// In PyTorch's order: [`GeometryError::ShuffleRank`] for fewer than three
    /// dimensions, `ShuffleFactor` for a zero factor, `ShuffleNotDivisible` for
    /// channels not divisible by r², `Overflow`.
    pub fn shuffle(shape: &[usize], upscale_factor: usize) -> Result<Self, GeometryError> {
        let op = "pixel_shuffle";
        let (batch, [c, h, w]) = split(op, shape)?;
        let r = positive(op, "upscale_factor", upscale_factor)?;
        let r2 = r.checked_mul(r).ok_or(GeometryError::Overflow {
            what: "upscale_factor squared",
        })?;
        if !c.is_multiple_of(r2) {
            return Err(GeometryError::ShuffleNotDivisible {
                op,
                what: "its input's 'channel' dimension",
                dim: -3,
                size: c,
                divisor: r2,
            });
        }
        Self::checked(batch, c / r2, r, h, w)
    }

    /// `F.pixel_unshuffle(input, downscale_factor)` for an input of shape `shape`
    /// (`(…, C, H·r, W·r)`): the geometry of the shuffle it inverts.
    ///
    /// # Errors
    /// In PyTorch's order: [`GeometryError::ShuffleRank`], `ShuffleFactor`,
    /// `ShuffleNotDivisible` for a height or width not divisible by r, `Overflow`.
    pub fn unshuffle(shape: &[usize], downscale_factor: usize) -> Result<Self, GeometryError> {
        let op = "pixel_unshuffle";
        let (batch, [c, h, w]) = split(op, shape)?;
        let r = positive(op, "downscale_factor", downscale_factor)?;
        for (what, dim, size) in [("height", -2, h), ("width", -1, w)] {
            if !size.is_multiple_of(r) {
                return Err(GeometryError::ShuffleNotDivisible {
                    op,
                    what,
                    dim,
                    size,
                    divisor: r,
                });
            }
        }
        Self::checked(batch, c, r, h / r, w / r)
    }

    fn checked(
        batch: usize,
        channels: usize,
        factor: usize,
        height: usize,
        width: usize,
    ) -> Result<Self, GeometryError> {
        let g = ShuffleGeometry {
            batch,
            channels,
            factor,
            height,
            width,
        };
        // every size below is a product of these: check the largest once
        [batch, channels, factor, factor, height, width]
            .iter()
            .try_fold(1usize, |acc, &v| acc.checked_mul(v))
            .ok_or(GeometryError::Overflow {
                what: "pixel shuffle size",
            })?;
        Ok(g)
    }

    /// The factor `r`.
    pub fn factor(&self) -> usize {
        self.factor
    }
    /// Items: the product of the leading dimensions (1 for a 3-D tensor).
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// `[C·r², H, W]`: one deep item.
    pub fn deep_shape(&self) -> [usize; 3] {
        let r = self.factor;
        [self.channels * r * r, self.height, self.width]
    }
    /// `[C, H·r, W·r]`: one wide item.
    pub fn wide_shape(&self) -> [usize; 3] {
        let r = self.factor;
        [self.channels, self.height * r, self.width * r]
    }
    /// Elements of one item (the same on both sides).
    pub fn numel(&self) -> usize {
        self.deep_shape().iter().product()
    }
    /// The flat position in the deep item of wide element `(c, y, x)`.
    pub fn deep_index(&self, c: usize, y: usize, x: usize) -> usize {
        let r = self.factor;
        let channel = (c * r + y % r) * r + x % r;
        (channel * self.height + y / r) * self.width + x / r
    }
}

/// `(batch, [C, H, W])` of a shape with at least three dimensions.
fn split(op: &'static str, shape: &[usize]) -> Result<(usize, [usize; 3]), GeometryError> {
    let n = shape.len();
    if n < 3 {
        return Err(GeometryError::ShuffleRank { op, ndim: n });
    }
    let batch = shape[..n - 3]
        .iter()
        .try_fold(1usize, |acc, &v| acc.checked_mul(v))
        .ok_or(GeometryError::Overflow {
            what: "pixel shuffle batch",
        })?;
    if shape[n - 3..].contains(&0) || batch == 0 {
        return Err(GeometryError::InputShape {
            name: "input",
            expected: "no empty dimension".into(),
            got: shape_str(shape),
        });
    }
    Ok((batch, [shape[n - 3], shape[n - 2], shape[n - 1]]))
}

fn positive(op: &'static str, name: &'static str, factor: usize) -> Result<usize, GeometryError> {
    if factor == 0 {
        return Err(GeometryError::ShuffleFactor { op, name, factor });
    }
    Ok(factor)
}
