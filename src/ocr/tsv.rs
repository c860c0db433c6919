//! Parses Tesseract's TSV output (levels 1–5) into `OcrPage`. TSV is the one
//! format the `tesseract` crate exposes that carries word boxes with float
//! confidences and the block/paragraph/line structure.

use super::model::{BBox, OcrLine, OcrPage, OcrWord};
use unicode_normalization::UnicodeNormalization;

pub fn parse_tsv(tsv: &str, width: u32, height: u32) -> OcrPage {
    let mut page = OcrPage {
        width,
        height,
        lines: Vec::new(),
    };
    let mut current: Option<(u32, u32, u32)> = None;
    for row in tsv.lines() {
        let f: Vec<&str> = row.split('\t').collect();
        if f.len() < 12 || f[0] == "level" {
            continue;
        }
        let num = |i: usize| f[i].trim().parse::<f32>().unwrap_or(0.0);
        let level = num(0) as u32;
        let key = (num(2) as u32, num(3) as u32, num(4) as u32); // block, par, line
        let bbox = BBox {
            left: num(6),
            top: num(7),
            right: num(6) + num(8),
            bottom: num(7) + num(9),
        };
        match level {
            4 => {
                page.lines.push(OcrLine {
                    bbox,
                    words: Vec::new(),
                });
                current = Some(key);
            }
            5 => {
                let text: String = f[11].trim().nfc().collect();
                if text.is_empty() {
                    continue;
                }
                if current != Some(key) || page.lines.is_empty() {
                    page.lines.push(OcrLine {
                        bbox,
                        words: Vec::new(),
                    });
                    current = Some(key);
                }
                if let Some(line) = page.lines.last_mut() {
                    line.words.push(OcrWord {
                        text,
                        bbox,
                        confidence: num(10).max(0.0),
                    });
                }
            }
            _ => {}
        }
    }
    page.lines.retain(|l| !l.words.is_empty());
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_grouped_by_line_and_nfc() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
4\t1\t1\t1\t1\t0\t10\t10\t80\t20\t-1\t\n\
5\t1\t1\t1\t1\t1\t10\t10\t30\t20\t91.5\tCo\u{0302}\u{0301}ng\n\
5\t1\t1\t1\t1\t2\t50\t10\t40\t20\t88\tho\u{300}a\n\
4\t1\t1\t1\t2\t0\t10\t40\t80\t20\t-1\t\n\
5\t1\t1\t1\t2\t1\t10\t40\t30\t20\t70\tXã\n";
        let p = parse_tsv(tsv, 100, 100);
        assert_eq!(p.lines.len(), 2);
        assert_eq!(p.lines[0].words[0].text, "Cống");
        assert_eq!(p.lines[0].words[1].text, "hòa");
        assert_eq!(p.lines[0].words[1].bbox.right, 90.0);
        assert_eq!(p.text(), "Cống hòa\nXã\n");
        assert!((p.mean_confidence().unwrap() - 83.1666).abs() < 0.01);
    }
}
