//! One component through decode → prepare → OCR → package → store → records.

use super::{lock, Progress};
use crate::config::Settings;
use crate::decode::{self, Page};
use crate::intake::Component;
use crate::messages::Problem;
use crate::ocr::{detect_orientation, tesseract_version, Engine, OcrPage};
use crate::package::{self, DocumentInfo, PackagePage};
use crate::prepare::{self, PreparedPage};
use crate::records::{InputFile, NewDocument, NewFailure, PageRecord, Records};
use crate::store;
use rayon::prelude::*;
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Mutex;

/// A component that needs processing, with the hashes taken when planning.
pub struct Job {
    pub dossier_id: i64,
    pub code: crate::codes::DossierCode,
    pub inbox: PathBuf,
    pub component: Component,
    /// (path, shown path, sha256, bytes) per file, in page order.
    pub files: Vec<(PathBuf, String, String, u64)>,
    pub digest: String,
}

pub struct Done {
    pub pages: usize,
}

impl Job {
    pub fn failure(&self, problem: Problem) -> NewFailure {
        Self::failure_for(
            &self.code.code,
            &self.component,
            &self.inbox,
            Some(self.digest.clone()),
            problem,
        )
    }

    /// The failure record of a component; it names the exact file that failed,
    /// which for a folder is one page among many.
    pub fn failure_for(
        code: &str,
        component: &Component,
        inbox: &std::path::Path,
        digest: Option<String>,
        problem: Problem,
    ) -> NewFailure {
        let input_path = if problem.file.is_empty() {
            super::display_path(inbox, &component.source)
        } else {
            problem.file.clone()
        };
        NewFailure {
            dossier_code: code.to_string(),
            kind: Some(component.kind),
            name: component.name.clone(),
            input_path,
            input_sha256: digest,
            error_code: problem.code.into(),
            message: problem.message(crate::format::UiLanguage::Vi),
        }
    }
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

fn with_engine<T>(
    settings: &Settings,
    f: impl FnOnce(&mut Engine) -> T,
) -> Result<T, crate::ocr::OcrError> {
    ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Engine::new(&settings.ocr)?);
        }
        Ok(f(slot.as_mut().expect("engine just created")))
    })
}

struct ReadPage {
    prepared: PreparedPage,
    ocr: Option<OcrPage>,
}

pub fn process_component(
    job: &Job,
    settings: &Settings,
    records: &Mutex<Records>,
    progress: &dyn Progress,
) -> Result<Done, Problem> {
    // Decode every file; any failing file fails the component (100 % of pages).
    let mut pages: Vec<Page> = Vec::new();
    for (path, shown, hash, _) in &job.files {
        let bytes = std::fs::read(path)
            .map_err(|e| Problem::new("E_READ", shown.clone(), e.to_string()))?;
        if &store::sha256_hex(&bytes) != hash {
            return Err(Problem::new(
                "E_READ",
                shown.clone(),
                "file changed while being processed; it will be taken next run",
            ));
        }
        let decoded = decode::decode(&bytes, &settings.limits)
            .map_err(|e| Problem::new(e.code(), shown.clone(), e.to_string()))?;
        pages.extend(decoded);
        settings
            .limits
            .check_pages(pages.len())
            .map_err(|e| Problem::new(e.code(), shown.clone(), e.to_string()))?;
    }
    let shown = super::display_path(&job.inbox, &job.component.source);

    let read: Vec<Result<ReadPage, Problem>> = pages
        .par_iter()
        .map(|page| {
            let tessdata = settings.ocr.tessdata.as_deref();
            let prepared = prepare::prepare_page(page, &settings.prepare, |img, dpi| {
                detect_orientation(img, dpi, tessdata).map(|o| (o.turn, o.confidence))
            });
            let ocr = if prepared.blank {
                None
            } else {
                let r = with_engine(settings, |e| e.recognise(&prepared.image, prepared.dpi))
                    .and_then(|r| r)
                    .map_err(|e| Problem::new(e.code(), shown.clone(), e.to_string()))?;
                Some(r)
            };
            progress.page_done();
            Ok(ReadPage { prepared, ocr })
        })
        .collect();
    let read: Vec<ReadPage> = read.into_iter().collect::<Result<_, _>>()?;

    let package_pages: Vec<PackagePage> = pages
        .iter()
        .zip(&read)
        .map(|(page, r)| PackagePage {
            stored: &page.stored,
            width: page.width,
            height: page.height,
            color: page.color,
            dpi: package::layout_dpi(page.width, page.height, page.dpi),
            turn: r.prepared.turn,
            ocr: r.ocr.as_ref(),
            deskew_deg: r.prepared.deskew_deg,
        })
        .collect();
    let info = DocumentInfo {
        title: job.component.name.clone(),
        subject: job.code.code.clone(),
        created: chrono::Utc::now(),
        producer: format!("sohoa {}", env!("CARGO_PKG_VERSION")),
        language: "vi-VN".into(),
    };
    let pdf = package::write_pdf(&package_pages, &info)
        .map_err(|e| Problem::new(e.code(), shown.clone(), e.to_string()))?;
    drop(package_pages);

    let page_records: Vec<PageRecord> = pages
        .iter()
        .zip(&read)
        .enumerate()
        .map(|(i, (page, r))| PageRecord {
            page_no: i as u32 + 1,
            width_px: page.width,
            height_px: page.height,
            dpi: page.dpi,
            color: format!("{:?}", page.color).to_lowercase(),
            turn: r.prepared.turn,
            deskew_deg: r.prepared.deskew_deg,
            blank: r.prepared.blank,
            mean_confidence: r.ocr.as_ref().and_then(OcrPage::mean_confidence),
            words: r.ocr.as_ref().map_or(0, |o| o.words().count() as u32),
        })
        .collect();
    let (sum, n) = read
        .iter()
        .filter_map(|r| r.ocr.as_ref())
        .flat_map(|o| o.words())
        .fold((0.0f64, 0u64), |(s, n), w| (s + w.confidence as f64, n + 1));

    // Store, then record: the record points at a file that is already durable.
    let mut records = lock(records);
    let version = records
        .next_version(job.dossier_id, job.component.kind, &job.component.name)
        .map_err(|e| Problem::new(e.code(), shown.clone(), e.to_string()))?;
    let rel = store::archive_rel_path(&job.code, job.component.kind, &job.component.name, version);
    store::write_atomic(&settings.data_dir.join(&rel), &pdf)
        .map_err(|e| Problem::new(e.code(), shown.clone(), e.to_string()))?;
    let doc = NewDocument {
        dossier_id: job.dossier_id,
        kind: job.component.kind,
        name: job.component.name.clone(),
        version,
        archive_path: rel.to_string_lossy().into_owned(),
        bytes: pdf.len() as u64,
        sha256: store::sha256_hex(&pdf),
        input_sha256: job.digest.clone(),
        inputs: job
            .files
            .iter()
            .map(|(_, shown, h, b)| InputFile {
                path: shown.clone(),
                sha256: h.clone(),
                bytes: *b,
            })
            .collect(),
        ocr_engine: "tesseract".into(),
        ocr_version: tesseract_version(),
        ocr_languages: settings.ocr.languages.clone(),
        mean_confidence: (n > 0).then(|| (sum / n as f64) as f32),
        pages: page_records,
    };
    records
        .insert_document(&doc)
        .map_err(|e| Problem::new(e.code(), shown.clone(), e.to_string()))?;
    drop(records);
    progress.document_done(&job.code.code, &job.component.name, pages.len());
    Ok(Done { pages: pages.len() })
}
