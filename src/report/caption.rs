//! Captions drawn into the report's images: an embedded 8×8 bitmap font (font8x8,
//! public domain), so no system font is needed and every machine draws the same
//! pixels.

use font8x8::legacy::BASIC_LEGACY;

/// Pixels per text line: the 8-pixel glyph and 2 pixels of leading.
const LINE: usize = 10;

/// The text as the 8×8 ASCII font can draw it: the report's few non-ASCII signs
/// spelled out.
fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '×' => "x".to_string(),
            '→' => "->".to_string(),
            'ᵀ' => "^T".to_string(),
            '·' => ".".to_string(),
            '–' | '—' => "-".to_string(),
            'α' => "alpha".to_string(),
            'σ' => "sigma".to_string(),
            'λ' => "lambda".to_string(),
            c if c.is_ascii() => c.to_string(),
            _ => "?".to_string(),
        })
        .collect()
}

/// `text` broken at newlines, then at spaces into lines of at most `columns`
/// characters (a word longer than a line is cut).
fn wrap(text: &str, columns: usize) -> Vec<String> {
    text.split('\n')
        .flat_map(|paragraph| wrap_paragraph(paragraph, columns))
        .collect()
}

fn wrap_paragraph(text: &str, columns: usize) -> Vec<String> {
    let columns = columns.max(1);
    let mut lines: Vec<String> = vec![];
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        while word.len() > columns {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let rest = word.split_off(columns);
            lines.push(word);
            word = rest;
        }
        if line.is_empty() {
            line = word;
        } else if line.len() + 1 + word.len() <= columns {
            line.push(' ');
            line.push_str(&word);
        } else {
            lines.push(std::mem::replace(&mut line, word));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The rows a caption of `text` takes above a panel `width` pixels wide.
pub(crate) fn height(text: &str, width: usize) -> usize {
    wrap(&ascii(text), width / 8).len() * LINE + 2
}

/// Draws `text` into a band of a grey-level canvas (`canvas_w` wide, values in
/// 0..1, 0 black): black glyphs on white, wrapped to `width` pixels, starting at
/// column `x0` and row `y0`, over `rows` rows.
pub(crate) fn draw(
    canvas: &mut [f64],
    canvas_w: usize,
    (x0, y0): (usize, usize),
    (width, rows): (usize, usize),
    text: &str,
) {
    for r in y0..y0 + rows {
        canvas[r * canvas_w + x0..r * canvas_w + x0 + width].fill(1.0);
    }
    for (l, line) in wrap(&ascii(text), width / 8).iter().enumerate() {
        let top = y0 + 1 + l * LINE;
        if top + 8 > y0 + rows {
            break;
        }
        for (i, ch) in line.bytes().enumerate() {
            let glyph = BASIC_LEGACY[(ch & 0x7f) as usize];
            for (gy, bits) in glyph.iter().enumerate() {
                for gx in 0..8 {
                    if bits >> gx & 1 == 1 {
                        canvas[(top + gy) * canvas_w + x0 + i * 8 + gx] = 0.0;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_wrap_at_spaces_and_fit_their_panel() {
        assert_eq!(wrap("LSQR 31.2 dB", 8), vec!["LSQR", "31.2 dB"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(
            wrap("5. bilinear\n17.0 dB", 16),
            vec!["5. bilinear", "17.0 dB"]
        );
        assert_eq!(ascii("2×2 → Cᵀ"), "2x2 -> C^T");
        assert_eq!(ascii("α = 0.1, σ, λ"), "alpha = 0.1, sigma, lambda");
        let (w, h) = (64, height("max-unpool 24.1 dB", 64));
        let mut canvas = vec![0.5; w * h];
        draw(&mut canvas, w, (0, 0), (w, h), "max-unpool 24.1 dB");
        // white band with black strokes, nothing left grey
        assert!(canvas.iter().all(|&v| v == 0.0 || v == 1.0));
        assert!(canvas.iter().filter(|&&v| v == 0.0).count() > 50);
    }
}
