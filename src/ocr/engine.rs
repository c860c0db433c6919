//! One Tesseract instance and its settings. `Engine` is `Send` but not `Sync`:
//! each worker thread owns one.

use super::model::OcrPage;
use super::tessdata::{choose_tessdata, ModelChoice, BUNDLED_TESSDATA};
use super::tsv::parse_tsv;
use image::GrayImage;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct OcrSettings {
    /// Tesseract languages, `+`-joined.
    pub languages: String,
    /// Folder holding `*.traineddata`; `None` = Tesseract's compiled-in default.
    pub tessdata: Option<String>,
}

impl Default for OcrSettings {
    fn default() -> Self {
        OcrSettings {
            languages: "vie+eng".into(),
            tessdata: None,
        }
    }
}

impl OcrSettings {
    /// Settles `tessdata` on the folder this run will load (see
    /// [`choose_tessdata`]), logging a configured folder that was passed over.
    pub fn settle_model(&mut self) -> ModelChoice {
        let choice = choose_tessdata(self.tessdata.as_deref(), BUNDLED_TESSDATA, &self.languages);
        if let Some(w) = &choice.warning {
            tracing::warn!("{w}");
        }
        self.tessdata = choice.tessdata.clone();
        choice
    }

    /// What the records keep of the engine: its version and where the models
    /// came from, e.g. `5.3.0 [/usr/local/share/sohoa/tessdata]`.
    pub fn engine_label(&self) -> String {
        let dir = self.tessdata.as_deref().unwrap_or("default tessdata");
        format!("{} [{dir}]", tesseract_version())
    }
}

#[derive(Debug, Error)]
pub enum OcrError {
    #[error(
        "cannot start Tesseract with languages {languages:?}: is the language data installed?"
    )]
    Init { languages: String },
    #[error("tesseract failed: {0}")]
    Engine(String),
}

impl OcrError {
    pub fn code(&self) -> crate::errors::ErrorCode {
        match self {
            OcrError::Init { .. } => crate::errors::ErrorCode::OcrInit,
            OcrError::Engine(_) => crate::errors::ErrorCode::Ocr,
        }
    }
}

pub struct Engine {
    // The crate's builder methods consume `self`; an `Option` lets us take it
    // out and put it back, and re-create it if a call fails midway.
    tess: Option<tesseract::Tesseract>,
    settings: OcrSettings,
}

impl Engine {
    pub fn new(settings: &OcrSettings) -> Result<Engine, OcrError> {
        let tess = Self::create(settings)?;
        Ok(Engine {
            tess: Some(tess),
            settings: settings.clone(),
        })
    }

    fn create(settings: &OcrSettings) -> Result<tesseract::Tesseract, OcrError> {
        let mut t = tesseract::Tesseract::new(
            settings.tessdata.as_deref(),
            Some(settings.languages.as_str()),
        )
        .map_err(|_| OcrError::Init {
            languages: settings.languages.clone(),
        })?;
        t.set_page_seg_mode(tesseract::PageSegMode::PsmAuto);
        // Tesseract's own chatter ("Detected N diacritics", …) would break the
        // operator's log lines; our errors are reported through results.
        t.set_variable("debug_file", "/dev/null")
            .map_err(|_| OcrError::Init {
                languages: settings.languages.clone(),
            })
    }

    /// Reads one grey page at `dpi`.
    pub fn recognise(&mut self, img: &GrayImage, dpi: f32) -> Result<OcrPage, OcrError> {
        let tess = match self.tess.take() {
            Some(t) => t,
            None => Self::create(&self.settings)?,
        };
        let (w, h) = img.dimensions();
        let result = tess
            .set_frame(img.as_raw(), w as i32, h as i32, 1, w as i32)
            .map_err(|e| OcrError::Engine(e.to_string()))
            .map(|t| t.set_source_resolution(dpi.round() as i32))
            .and_then(|t| t.recognize().map_err(|e| OcrError::Engine(e.to_string())));
        let mut tess = result?;
        let tsv = tess
            .get_tsv_text(0)
            .map_err(|e| OcrError::Engine(e.to_string()));
        self.tess = Some(tess);
        Ok(parse_tsv(&tsv?, w, h))
    }
}

/// The linked libtesseract version, e.g. "5.3.0".
pub fn tesseract_version() -> String {
    // SAFETY: TessVersion returns a static NUL-terminated string.
    unsafe {
        let p = tesseract_sys::TessVersion();
        if p.is_null() {
            return "unknown".into();
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}
