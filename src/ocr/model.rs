//! The engine-neutral OCR result: page → lines → words, with boxes in pixels of
//! the image OCR saw (upright and deskewed). The PDF writer only sees these types.

use serde::Serialize;

/// An axis-aligned box in pixels, origin top-left.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BBox {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

impl BBox {
    pub fn width(&self) -> f32 {
        self.right - self.left
    }
    pub fn height(&self) -> f32 {
        self.bottom - self.top
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OcrWord {
    /// NFC text of the word.
    pub text: String,
    pub bbox: BBox,
    /// 0–100.
    pub confidence: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct OcrLine {
    pub bbox: BBox,
    pub words: Vec<OcrWord>,
}

/// What OCR read on one page, in reading order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OcrPage {
    /// Size of the image OCR ran on, in pixels.
    pub width: u32,
    pub height: u32,
    pub lines: Vec<OcrLine>,
}

impl OcrPage {
    pub fn words(&self) -> impl Iterator<Item = &OcrWord> {
        self.lines.iter().flat_map(|l| l.words.iter())
    }

    /// Mean word confidence, `None` when no word was read.
    pub fn mean_confidence(&self) -> Option<f32> {
        let (sum, n) = self
            .words()
            .fold((0.0f32, 0u32), |(s, n), w| (s + w.confidence, n + 1));
        (n > 0).then(|| sum / n as f32)
    }

    /// Plain text, one line per OCR line, blocks separated by nothing special.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            let words: Vec<&str> = line.words.iter().map(|w| w.text.as_str()).collect();
            out.push_str(&words.join(" "));
            out.push('\n');
        }
        out
    }
}
