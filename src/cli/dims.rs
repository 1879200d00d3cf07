//! Per-dimension size arguments on the command line: `2` or `2,1`.

/// Parses `2` or `2,1` into sizes.
pub fn parse_dims(s: &str) -> Result<Vec<usize>, String> {
    let values: Result<Vec<usize>, String> = s
        .split(',')
        .map(|part| {
            let part = part.trim();
            part.parse::<usize>()
                .map_err(|_| format!("'{part}' is not a non-negative integer"))
        })
        .collect();
    let values = values?;
    if values.is_empty() {
        return Err("no values given".into());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::parse_dims;

    #[test]
    fn one_value_or_a_comma_list() {
        assert_eq!(parse_dims("3, 2").unwrap(), vec![3, 2]);
        assert!(parse_dims("3,x").is_err());
    }
}
