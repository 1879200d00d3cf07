//! Parsers of option values: per-dimension sizes (`2` or `2,1`), padding, scale
//! factors, byte counts.

use convmat::geometry::Padding;

/// One value for every one of `rank` dimensions, as PyTorch's `kernel_size=3`
/// means 3×3 in a 2-D layer; a full list is kept as it is.
pub fn broadcast(values: &[usize], rank: usize) -> Vec<usize> {
    match values {
        [v] => vec![*v; rank],
        _ => values.to_vec(),
    }
}

/// Parses `2` or `2,1` into sizes.
pub fn parse_dims(s: &str) -> Result<Vec<usize>, String> {
    let values: Result<Vec<usize>, String> = s
        .split(',')
        .map(|part| {
            let part = part.trim();
            match part.parse::<i128>() {
                Ok(v) if v < 0 => Err(format!("{v} is negative: give a number ≥ 0")),
                _ => part
                    .parse::<usize>()
                    .map_err(|_| format!("'{part}' is not a non-negative integer")),
            }
        })
        .collect();
    let values = values?;
    if values.is_empty() {
        return Err("no values given".into());
    }
    Ok(values)
}

/// Per-dimension sizes: `2` or `2,1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dims(pub Vec<usize>);

pub fn dims(s: &str) -> Result<Dims, String> {
    parse_dims(s).map(Dims)
}

pub fn padding(s: &str) -> Result<Padding, String> {
    match s.trim() {
        "same" => Ok(Padding::Same),
        "valid" => Ok(Padding::Valid),
        other => parse_dims(other).map(Padding::Explicit).map_err(|e| {
            format!("padding must be 'same', 'valid', a number or a comma list ({e})")
        }),
    }
}

/// Parses a byte count with an optional binary suffix: `1048576`, `512M`, `2G`.
pub fn bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'B' => 1,
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("unknown size suffix '{c}' (use K, M, G or T)")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a byte count like 1048576, 512M or 2G"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("'{s}' overflows 64 bits"))
}

/// Geometry options shared by conv and conv-transpose.
/// Per-dimension scale factors: `2` or `1.5,2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scales(pub Vec<f64>);

pub fn scales(s: &str) -> Result<Scales, String> {
    s.split(',')
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .map_err(|_| format!("'{p}' is not a number"))
        })
        .collect::<Result<Vec<f64>, String>>()
        .map(Scales)
}

#[cfg(test)]
mod tests {
    use super::parse_dims;

    #[test]
    fn one_value_or_a_comma_list() {
        assert_eq!(parse_dims("3, 2").unwrap(), vec![3, 2]);
        assert!(parse_dims("3,x").is_err());
        assert_eq!(
            parse_dims("1,-1").unwrap_err(),
            "-1 is negative: give a number ≥ 0"
        );
    }

    #[test]
    fn one_value_broadcasts_over_the_rank() {
        assert_eq!(super::broadcast(&[3], 2), vec![3, 3]);
        assert_eq!(super::broadcast(&[3, 2], 2), vec![3, 2]);
    }
}
