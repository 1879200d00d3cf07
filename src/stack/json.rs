//! The JSON description of a [`Stack`]: an input shape and a list of layers, each
//! an object with a `"type"` and PyTorch's parameter names; weights and indices are
//! `.npy` files, relative to the description's directory.
//!
//! ```json
//! {
//!   "input": [4, 8, 8],
//!   "layers": [
//!     {"type": "conv_transpose", "weight": "w1.npy", "stride": 2, "padding": 1, "output_padding": 1},
//!     {"type": "upsample", "mode": "bilinear", "scale_factor": 2},
//!     {"type": "pad", "pad": [1, 1, 1, 1], "mode": "reflect"},
//!     {"type": "conv", "weight": "w2.npy"},
//!     {"type": "pixel_shuffle", "upscale_factor": 2}
//!   ]
//! }
//! ```
//!
//! | type | fields (PyTorch's names and defaults) |
//! |---|---|
//! | `conv` | `weight`, `stride`, `padding` (numbers, `"same"` or `"valid"`), `dilation`, `groups`, `padding_mode` |
//! | `conv_transpose` | `weight`, `stride`, `padding`, `output_padding`, `dilation`, `groups` |
//! | `pad` | `pad` (F.pad's order), `mode` (`constant`, `reflect`, `replicate`, `circular`, `symmetric`), `value` (0 only) |
//! | `upsample` | `mode` (every [`ResizeMode`]), `size` or `scale_factor`, `align_corners`, `recompute_scale_factor` |
//! | `max_unpool` | `indices`, `kernel_size`, `stride`, `padding`, `output_size` |
//! | `pixel_shuffle`, `pixel_unshuffle` | `upscale_factor`, `downscale_factor` |
//! | `avg_pool` | `kernel_size`, `stride`, `padding`, `ceil_mode`, `count_include_pad`, `divisor_override` |
//! | `adaptive_avg_pool` | `output_size` (`null` keeps a dimension) |
//!
//! Numbers per dimension are one value or a list. A bias has no place in a linear
//! map and is refused, as is any field the type does not take.

use super::{Layer, Stack};
use crate::error::Error;
use crate::functional::{AvgPoolOptions, InterpolateOptions, UnpoolOptions};
use crate::geometry::{ConvOptions, Padding, PaddingMode, ResizeMode};
use crate::io::{read_npy, read_tensor, Tensor};
use crate::Real;
use serde_json::{Map, Value};
use std::path::Path;

/// Reads the description at `path` (weights relative to its directory).
///
/// # Errors
/// [`Error::Io`] for an unreadable file, [`Error::Format`] for JSON that is not a
/// stack description (naming the layer and field), and the errors of
/// [`Stack::new`].
pub fn load<T: Real>(path: &Path) -> Result<Stack<T>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, base).map_err(|e| match e {
        Error::Invalid(message) => Error::Format {
            path: path.display().to_string(),
            message,
        },
        e => e,
    })
}

/// Parses a description, reading `.npy` files relative to `base`.
///
/// ```
/// use convmat::stack::parse;
/// let s = parse::<f64>(r#"{"input": [1, 3, 3], "layers": [
///     {"type": "upsample", "mode": "nearest", "scale_factor": 2},
///     {"type": "pad", "pad": [1, 1, 1, 1], "mode": "replicate"}]}"#,
///     std::path::Path::new(".")).unwrap();
/// assert_eq!(s.output_shape(), [1, 8, 8]);
/// ```
///
/// # Errors
/// [`Error::Invalid`] for JSON that is not a stack description (naming the layer
/// and field), and the errors of [`Stack::new`] and of reading the files.
pub fn parse<T: Real>(text: &str, base: &Path) -> Result<Stack<T>, Error> {
    let root: Value =
        serde_json::from_str(text).map_err(|e| Error::Invalid(format!("not valid JSON: {e}")))?;
    let root = root.as_object().ok_or_else(|| {
        Error::Invalid("a stack is an object with \"input\" and \"layers\"".into())
    })?;
    let mut top = Fields::new(root, "the stack");
    let input = top.dims("input")?.ok_or_else(|| {
        Error::Invalid("\"input\" is missing: one item's shape, [C, H, W]".into())
    })?;
    let layers = top
        .take("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Invalid("\"layers\" is missing: a list of layer objects".into()))?;
    top.done()?;
    let layers = layers
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let kind = v.get("type").and_then(Value::as_str).unwrap_or("?");
            layer(v, base).map_err(|e| Error::Layer {
                index: i,
                kind: kind.to_string(),
                source: Box::new(e),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Stack::new(&input, layers)
}

fn layer<T: Real>(v: &Value, base: &Path) -> Result<Layer<T>, Error> {
    let obj = v
        .as_object()
        .ok_or_else(|| Error::Invalid("a layer is an object with a \"type\"".into()))?;
    let mut f = Fields::new(obj, "this layer");
    let kind = f
        .take("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Invalid("\"type\" is missing".into()))?
        .to_string();
    if obj.contains_key("bias") {
        return Err(Error::Invalid(
            "a bias makes the layer affine, not linear: leave it out".into(),
        ));
    }
    let layer = match kind.as_str() {
        "conv" | "conv_transpose" => {
            let (weight, weight_shape) = f.weight::<T>(base)?;
            let mut options = ConvOptions::default();
            if let Some(s) = f.dims("stride")? {
                options.stride = s;
            }
            if let Some(p) = f.take("padding") {
                options.padding = match p {
                    Value::String(s) if s == "same" => Padding::Same,
                    Value::String(s) if s == "valid" => Padding::Valid,
                    p => Padding::Explicit(dims_of("padding", p)?),
                };
            }
            if let Some(d) = f.dims("dilation")? {
                options.dilation = d;
            }
            if let Some(g) = f.number("groups")? {
                options.groups = g;
            }
            if kind == "conv" {
                if let Some(m) = f.string("padding_mode")? {
                    options.padding_mode = m
                        .parse::<PaddingMode>()
                        .map_err(|e| Error::Invalid(e.to_string()))?;
                }
                Layer::Conv {
                    weight,
                    weight_shape,
                    options,
                }
            } else {
                if let Some(o) = f.dims("output_padding")? {
                    options.output_padding = o;
                }
                Layer::ConvTranspose {
                    weight,
                    weight_shape,
                    options,
                }
            }
        }
        "pad" => {
            let pad = f
                .take("pad")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    Error::Invalid("\"pad\" is missing: F.pad's list, last dimension first".into())
                })?
                .iter()
                .map(|v| {
                    v.as_i64()
                        .map(|p| p as isize)
                        .ok_or_else(|| Error::Invalid(format!("\"pad\": {v} is not an integer")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mode = match f.string("mode")?.as_deref().unwrap_or("constant") {
                "constant" => PaddingMode::Zeros,
                m => m
                    .parse::<PaddingMode>()
                    .map_err(|e| Error::Invalid(e.to_string()))?,
            };
            if let Some(v) = f.take("value") {
                if v.as_f64() != Some(0.0) {
                    return Err(Error::Invalid(format!(
                        "\"value\": {v} makes padding affine, not linear; only 0 is allowed"
                    )));
                }
            }
            Layer::Pad { pad, mode }
        }
        "upsample" | "interpolate" => {
            let mode = f.string("mode")?.ok_or_else(|| {
                Error::Invalid("\"mode\" is missing (nearest, bilinear, bicubic, area, …)".into())
            })?;
            let mode = ResizeMode::ALL
                .into_iter()
                .find(|m| m.name() == mode || m.name().replace('-', "_") == mode)
                .ok_or_else(|| {
                    let names: Vec<&str> = ResizeMode::ALL.iter().map(|m| m.name()).collect();
                    Error::Invalid(format!(
                        "unknown mode \"{mode}\"; one of {}",
                        names.join(", ")
                    ))
                })?;
            let scale_factor = match f.take("scale_factor") {
                None => None,
                Some(Value::Array(a)) => Some(
                    a.iter()
                        .map(|v| {
                            v.as_f64().ok_or_else(|| {
                                Error::Invalid(format!("\"scale_factor\": {v} is not a number"))
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                Some(v) => Some(vec![v.as_f64().ok_or_else(|| {
                    Error::Invalid(format!("\"scale_factor\": {v} is not a number"))
                })?]),
            };
            Layer::Interpolate(InterpolateOptions {
                mode,
                size: f.dims("size")?,
                scale_factor,
                align_corners: f.boolean("align_corners")?,
                recompute_scale_factor: f.boolean("recompute_scale_factor")?,
            })
        }
        "max_unpool" => {
            let file = f.string("indices")?.ok_or_else(|| {
                Error::Invalid("\"indices\" is missing: the pool's indices (.npy)".into())
            })?;
            let indices = read_npy::<i64>(&base.join(file))?;
            let kernel_size = f
                .dims("kernel_size")?
                .ok_or_else(|| Error::Invalid("\"kernel_size\" is missing".into()))?;
            let mut options = UnpoolOptions::default();
            if let Some(s) = f.dims("stride")? {
                options.stride = s;
            }
            if let Some(p) = f.dims("padding")? {
                options.padding = p;
            }
            options.output_size = f.dims("output_size")?;
            Layer::MaxUnpool {
                indices: indices.iter().copied().collect(),
                kernel_size,
                options,
            }
        }
        "avg_pool" => {
            let kernel_size = f
                .dims("kernel_size")?
                .ok_or_else(|| Error::Invalid("\"kernel_size\" is missing".into()))?;
            let mut options = AvgPoolOptions::default();
            if let Some(s) = f.dims("stride")? {
                options.stride = s;
            }
            if let Some(p) = f.dims("padding")? {
                options.padding = p;
            }
            if let Some(c) = f.boolean("ceil_mode")? {
                options.ceil_mode = c;
            }
            if let Some(c) = f.boolean("count_include_pad")? {
                options.count_include_pad = c;
            }
            options.divisor_override = f
                .take("divisor_override")
                .map(|v| {
                    v.as_i64().ok_or_else(|| {
                        Error::Invalid(format!("\"divisor_override\": {v} is not an integer"))
                    })
                })
                .transpose()?;
            Layer::AvgPool {
                kernel_size,
                options,
            }
        }
        "adaptive_avg_pool" => {
            let size = f
                .take("output_size")
                .ok_or_else(|| Error::Invalid("\"output_size\" is missing".into()))?;
            let one = |v: &Value| match v {
                Value::Null => Ok(None),
                v => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
                    Error::Invalid(format!(
                        "\"output_size\": {v} is neither a whole number nor null"
                    ))
                }),
            };
            let size = match size {
                Value::Array(a) => a.iter().map(one).collect::<Result<Vec<_>, _>>()?,
                v => vec![one(v)?],
            };
            Layer::AdaptiveAvgPool(size)
        }
        "pixel_shuffle" => Layer::PixelShuffle(
            f.number("upscale_factor")?
                .ok_or_else(|| Error::Invalid("\"upscale_factor\" is missing".into()))?,
        ),
        "pixel_unshuffle" => Layer::PixelUnshuffle(
            f.number("downscale_factor")?
                .ok_or_else(|| Error::Invalid("\"downscale_factor\" is missing".into()))?,
        ),
        other => {
            return Err(Error::Invalid(format!(
                "unknown type \"{other}\"; one of conv, conv_transpose, pad, upsample, max_unpool, \
                 pixel_shuffle, pixel_unshuffle, avg_pool, adaptive_avg_pool"
            )))
        }
    };
    f.done()?;
    Ok(layer)
}

/// An object's fields, taken one by one; what is left at the end is refused.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    taken: Vec<&'a str>,
    what: &'static str,
}

impl<'a> Fields<'a> {
    fn new(obj: &'a Map<String, Value>, what: &'static str) -> Self {
        Fields {
            obj,
            taken: vec![],
            what,
        }
    }

    fn take(&mut self, key: &'a str) -> Option<&'a Value> {
        self.taken.push(key);
        self.obj.get(key).filter(|v| !v.is_null())
    }

    fn dims(&mut self, key: &'static str) -> Result<Option<Vec<usize>>, Error> {
        self.take(key).map(|v| dims_of(key, v)).transpose()
    }

    fn number(&mut self, key: &'static str) -> Result<Option<usize>, Error> {
        self.take(key)
            .map(|v| {
                v.as_u64()
                    .map(|n| n as usize)
                    .ok_or_else(|| Error::Invalid(format!("\"{key}\": {v} is not a whole number")))
            })
            .transpose()
    }

    fn string(&mut self, key: &'static str) -> Result<Option<String>, Error> {
        self.take(key)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Error::Invalid(format!("\"{key}\": {v} is not a string")))
            })
            .transpose()
    }

    fn boolean(&mut self, key: &'static str) -> Result<Option<bool>, Error> {
        self.take(key)
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| Error::Invalid(format!("\"{key}\": {v} is not true or false")))
            })
            .transpose()
    }

    /// The `"weight"` file's values as `T` and its shape.
    fn weight<T: Real>(&mut self, base: &Path) -> Result<(Vec<T>, Vec<usize>), Error> {
        let file = self.string("weight")?.ok_or_else(|| {
            Error::Invalid("\"weight\" is missing: the weight's .npy file".into())
        })?;
        Ok(match read_tensor(&base.join(file))? {
            Tensor::F32(a) => (
                a.iter().map(|&v| T::from_f64(v as f64)).collect(),
                a.shape().to_vec(),
            ),
            Tensor::F64(a) => (
                a.iter().map(|&v| T::from_f64(v)).collect(),
                a.shape().to_vec(),
            ),
        })
    }

    /// Refuses fields not taken (a misspelt option would otherwise be ignored).
    fn done(self) -> Result<(), Error> {
        let known = self.taken;
        match self.obj.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(Error::Invalid(format!(
                "{} has no field \"{k}\" (it takes {})",
                self.what,
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }
}

/// One whole number or a list of them.
fn dims_of(key: &str, v: &Value) -> Result<Vec<usize>, Error> {
    let one = |v: &Value| {
        v.as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| Error::Invalid(format!("\"{key}\": {v} is not a whole number")))
    };
    match v {
        Value::Array(a) => a.iter().map(one).collect(),
        v => Ok(vec![one(v)?]),
    }
}
