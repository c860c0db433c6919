//! Placeholder until the package stage lands.
use crate::decode::{ColorMode, StoredImage};
use crate::ocr::OcrPage;
pub struct PackagePage<'a> {
    pub stored: &'a StoredImage,
    pub width: u32,
    pub height: u32,
    pub color: ColorMode,
    pub dpi: (f32, f32),
    pub turn: u16,
    pub ocr: Option<&'a OcrPage>,
    pub deskew_deg: f32,
}
pub struct DocumentInfo {
    pub title: String,
    pub subject: String,
    pub created: chrono::DateTime<chrono::Utc>,
    pub producer: String,
    pub language: String,
}
#[derive(Debug, thiserror::Error)]
#[error("package failed")]
pub struct PackageError;
impl PackageError {
    pub fn code(&self) -> &'static str {
        "E_PACKAGE"
    }
}
pub fn write_pdf(_pages: &[PackagePage], _info: &DocumentInfo) -> Result<Vec<u8>, PackageError> {
    Err(PackageError)
}
