//! Which trained models Tesseract loads.
//!
//! The set-up installs the best_int Vietnamese model (`scripts/install-model.sh`)
//! into [`BUNDLED_TESSDATA`], next to links to Debian's English and OSD models;
//! it reads better than Debian's fast model for a small cost in speed (figures
//! in the README, "Performance"). A configured folder comes first; a folder
//! that lacks a language asked for is passed over with a warning, down to
//! Tesseract's compiled-in default (Debian's models), so a missing download
//! never stops a run.

use std::path::Path;

/// Where `scripts/install-model.sh` puts the default models.
pub const BUNDLED_TESSDATA: &str = "/usr/local/share/sohoa/tessdata";

/// Where the models of a run come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSource {
    /// The folder set in the config (`[ocr] tessdata`, `SOHOA_TESSDATA`).
    Configured,
    /// The folder the set-up installs (best_int Vietnamese).
    Bundled,
    /// Tesseract's compiled-in folder (Debian's packages).
    TesseractDefault,
}

/// The chosen folder (`None` = Tesseract's default) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChoice {
    pub tessdata: Option<String>,
    pub source: ModelSource,
    /// Set when a configured folder was passed over (for the log).
    pub warning: Option<String>,
}

/// Picks the folder for `languages` (`+`-joined): `configured` if it holds a
/// model for each, else `bundled` if it does, else Tesseract's default.
pub fn choose_tessdata(configured: Option<&str>, bundled: &str, languages: &str) -> ModelChoice {
    let complete = |dir: &str| {
        languages
            .split('+')
            .filter(|l| !l.is_empty())
            .all(|l| Path::new(dir).join(format!("{l}.traineddata")).is_file())
    };
    let mut warning = None;
    if let Some(dir) = configured {
        if complete(dir) {
            return ModelChoice {
                tessdata: Some(dir.to_string()),
                source: ModelSource::Configured,
                warning,
            };
        }
        warning = Some(format!(
            "tessdata folder {dir} lacks a model for one of {languages}; using the default models"
        ));
    }
    if complete(bundled) {
        return ModelChoice {
            tessdata: Some(bundled.to_string()),
            source: ModelSource::Bundled,
            warning,
        };
    }
    ModelChoice {
        tessdata: None,
        source: ModelSource::TesseractDefault,
        warning,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(langs: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for l in langs {
            std::fs::write(dir.path().join(format!("{l}.traineddata")), b"x").unwrap();
        }
        dir
    }

    #[test]
    fn configured_then_bundled_then_tesseract_default() {
        let full = folder(&["vie", "eng"]);
        let vie_only = folder(&["vie"]);
        let (full_s, vie_s) = (
            full.path().to_str().unwrap(),
            vie_only.path().to_str().unwrap(),
        );

        let c = choose_tessdata(Some(full_s), vie_s, "vie+eng");
        assert_eq!(
            (c.source, c.tessdata.as_deref(), c.warning),
            (ModelSource::Configured, Some(full_s), None)
        );

        // A configured folder without eng is passed over, with a warning.
        let c = choose_tessdata(Some(vie_s), full_s, "vie+eng");
        assert_eq!(
            (c.source, c.tessdata.as_deref()),
            (ModelSource::Bundled, Some(full_s))
        );
        assert!(c.warning.unwrap().contains(vie_s));

        let c = choose_tessdata(None, vie_s, "vie");
        assert_eq!(c.source, ModelSource::Bundled);

        let c = choose_tessdata(None, "/nonexistent/sohoa", "vie+eng");
        assert_eq!(
            (c.source, c.tessdata, c.warning),
            (ModelSource::TesseractDefault, None, None)
        );
        let c = choose_tessdata(Some("/nonexistent/x"), vie_s, "vie+eng");
        assert_eq!(c.source, ModelSource::TesseractDefault);
        assert!(c.warning.is_some());
    }
}
