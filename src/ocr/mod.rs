//! OCR: Tesseract 5 through the `tesseract` crate, one engine per worker
//! thread, reused across pages (creating one costs 65–150 ms). The output is
//! the engine-neutral `OcrPage`; nothing downstream sees Tesseract types.

mod engine;
pub mod model;
mod osd;
mod tessdata;
mod tsv;

pub use engine::{tesseract_version, Engine, OcrError, OcrSettings};
pub use model::{BBox, OcrLine, OcrPage, OcrWord};
pub use osd::{detect_orientation, Orientation};
pub use tessdata::{choose_tessdata, ModelChoice, ModelSource, BUNDLED_TESSDATA};
pub use tsv::parse_tsv;
