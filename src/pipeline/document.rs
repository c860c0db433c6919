//! One component through decode → prepare → OCR → package → store → records.

use super::{lock, Flagged, Progress};
use crate::config::Settings;
use crate::decode::{self, Page};
use crate::errors::ErrorCode;
use crate::intake::Component;
use crate::messages::Problem;
use crate::ocr::{detect_orientation, Engine, OcrPage};
use crate::package::{self, DocumentInfo, EncodedImage, PackagePage};
use crate::prepare;
use crate::records::{InputFile, NewDocument, NewFailure, PageRecord, Records};
use crate::store;
use rayon::prelude::*;
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
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
    pub flagged: Flagged,
}

/// A component made into a document, `None` when its dossier was taken
/// over by another worker meanwhile (nothing recorded), or why it could not be.
pub type Processed = Result<Option<Done>, Problem>;

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
            error_code: problem.code.as_wire().into(),
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

/// What a worker keeps of a page once it is read: the image encoded for the
/// PDF, what OCR found and the facts for the record. The pixels are gone by
/// then, so a long component costs its compressed size, not its raster size.
struct ReadPage {
    index: usize,
    /// Taken by the PDF writer, which drops each image once written.
    image: Option<EncodedImage>,
    dpi: (f32, f32),
    turn: u16,
    deskew_deg: f32,
    ocr: Option<OcrPage>,
    record: PageRecord,
}

/// Reads one decoded page: prepare, OCR, then encode the stored image.
fn read_page(
    index: usize,
    page: Page,
    settings: &Settings,
    shown: &str,
) -> Result<ReadPage, Problem> {
    let tessdata = settings.ocr.tessdata.as_deref();
    let mut ocr_time = std::time::Duration::ZERO;
    let prepared = prepare::prepare_page(&page, &settings.prepare, |img, dpi| {
        let t = std::time::Instant::now();
        let found = detect_orientation(img, dpi, tessdata).map(|o| (o.turn, o.confidence));
        ocr_time += t.elapsed();
        found
    });
    let ocr = if prepared.blank {
        None
    } else {
        let t = std::time::Instant::now();
        let r = with_engine(settings, |e| e.recognise(&prepared.image, prepared.dpi))
            .and_then(|r| r)
            .map_err(|e| Problem::new(e.code(), shown.to_string(), e.to_string()))?;
        ocr_time += t.elapsed();
        Some(r)
    };
    let record = PageRecord {
        page_no: index as u32 + 1,
        width_px: page.width,
        height_px: page.height,
        dpi: page.dpi,
        color: format!("{:?}", page.color).to_lowercase(),
        turn: prepared.turn,
        deskew_deg: prepared.deskew_deg,
        blank: prepared.blank,
        mean_confidence: ocr.as_ref().and_then(OcrPage::mean_confidence),
        words: ocr.as_ref().map_or(0, |o| o.words().count() as u32),
        ocr_seconds: ocr_time.as_secs_f32(),
    };
    let dpi = package::layout_dpi(page.width, page.height, page.dpi);
    let image = package::encode_image(index + 1, page.stored, page.width, page.height)
        .map_err(|e| Problem::new(e.code(), shown.to_string(), e.to_string()))?;
    Ok(ReadPage {
        index,
        image: Some(image),
        dpi,
        turn: prepared.turn,
        deskew_deg: prepared.deskew_deg,
        ocr,
        record,
    })
}

/// Reads the component's files in page order and decodes them one page at a
/// time into `tx`. The channel is bounded, so decoding runs at most a few
/// pages ahead of OCR however long the component is. Stops at the first
/// error (sent on) or when `stop` is raised.
fn feed(
    job: &Job,
    settings: &Settings,
    tx: SyncSender<Result<(usize, Page), Problem>>,
    stop: &AtomicBool,
) {
    let mut count = 0usize;
    for (path, shown, hash, _) in &job.files {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let problem = |code: ErrorCode, why: String| Problem::new(code, shown.clone(), why);
        let bytes = match std::fs::read(path) {
            Ok(b) if &store::sha256_hex(&b) == hash => decode::FileBytes::new(b),
            Ok(_) => {
                let why = "file changed while being processed; it will be taken next run";
                let _ = tx.send(Err(problem(ErrorCode::Changed, why.into())));
                return;
            }
            Err(e) => {
                let _ = tx.send(Err(problem(ErrorCode::Read, e.to_string())));
                return;
            }
        };
        let mut refused = None;
        let decoded = decode::decode_each(&bytes, &settings.limits, &mut |page| {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            count += 1;
            if let Err(e) = settings.limits.check_pages(count) {
                refused = Some(e);
                return false;
            }
            tx.send(Ok((count - 1, page))).is_ok()
        });
        if let Some(e) = decoded.err().or(refused) {
            let _ = tx.send(Err(problem(e.code(), e.to_string())));
            return;
        }
    }
}

pub fn process_component(
    job: &Job,
    settings: &Settings,
    records: &Records,
    progress: &dyn Progress,
    held: Option<(&str, i64)>,
) -> Processed {
    let shown = super::display_path(&job.inbox, &job.component.source);
    // Decoding (one thread, in order) feeds the OCR workers through a bounded
    // channel; any failing page fails the component (100 % of pages).
    let stop = AtomicBool::new(false);
    let first_error: Mutex<Option<Problem>> = Mutex::new(None);
    let fail = |p: Problem| {
        stop.store(true, Ordering::Relaxed);
        lock(&first_error).get_or_insert(p);
        None
    };
    let mut read: Vec<ReadPage> = std::thread::scope(|s| {
        let (tx, rx) = sync_channel(rayon::current_num_threads().max(1));
        s.spawn(|| feed(job, settings, tx, &stop));
        rx.into_iter()
            .par_bridge()
            .filter_map(|item| match item {
                Err(p) => fail(p),
                Ok(_) if stop.load(Ordering::Relaxed) => None,
                Ok((i, page)) => {
                    let r = read_page(i, page, settings, &shown);
                    progress.page_done();
                    r.map_or_else(fail, Some)
                }
            })
            .collect()
    });
    if let Some(problem) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(problem);
    }
    read.sort_unstable_by_key(|r| r.index);

    let images: Vec<Option<EncodedImage>> = read.iter_mut().map(|r| r.image.take()).collect();
    let package_pages: Vec<PackagePage> = images
        .into_iter()
        .zip(&read)
        .filter_map(|(image, r)| image.map(|image| (image, r)))
        .map(|(image, r)| PackagePage {
            image,
            dpi: r.dpi,
            turn: r.turn,
            ocr: r.ocr.as_ref(),
            deskew_deg: r.deskew_deg,
        })
        .collect();
    let info = DocumentInfo {
        title: job.component.name.clone(),
        subject: job.code.code.clone(),
        created: chrono::Utc::now(),
        producer: format!("sohoa {}", env!("CARGO_PKG_VERSION")),
        language: "vi-VN".into(),
    };
    let pdf = package::write_pdf(package_pages, &info)
        .map_err(|e| Problem::new(e.code(), shown.clone(), e.to_string()))?;

    let (sum, n) = read
        .iter()
        .filter_map(|r| r.ocr.as_ref())
        .flat_map(|o| o.words())
        .fold((0.0f64, 0u64), |(s, n), w| (s + w.confidence as f64, n + 1));

    let page_count = read.len();
    // Store, then record: the record points at a file that is already durable.
    let version = records
        .next_version(job.dossier_id, job.component.kind, &job.component.name)
        .map_err(|e| Problem::new(e.code(), shown.clone(), e.to_string()))?;
    let rel = store::archive_rel_path(&job.code, job.component.kind, &job.component.name, version);
    // Never over an existing file: an orphan of a crash keeps its place, and
    // this copy goes beside it under the next free name.
    let placed = store::write_new(&settings.data_dir.join(&rel), &pdf)
        .map_err(|e| Problem::new(e.code(), shown.clone(), e.to_string()))?;
    let placed_id = store::file_id(&placed);
    let rel = placed
        .strip_prefix(&settings.data_dir)
        .map(std::path::Path::to_path_buf)
        .unwrap_or(rel);
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
        ocr_version: settings.ocr.engine_label(),
        ocr_languages: settings.ocr.languages.clone(),
        mean_confidence: (n > 0).then(|| (sum / n as f64) as f32),
        pages: read.into_iter().map(|r| r.record).collect(),
    };
    let recorded = match held {
        Some(held) => records.insert_document_held(&doc, held),
        None => records.insert_document(&doc).map(Some),
    }
    .map_err(|e| Problem::new(e.code(), shown.clone(), e.to_string()))?;
    if recorded.is_none() {
        // The queue item was taken over (this worker lost its lease): its new
        // holder makes the document, and this copy is nobody's. The new
        // holder may have removed it already and written its own under the
        // same name: only this copy goes.
        tracing::warn!(dossier = %job.code.code, name = %job.component.name, "dossier taken over by another worker; copy not recorded");
        store::remove_if_same(&placed, placed_id);
        return Ok(None);
    }
    progress.document_done(&job.code.code, &job.component.name, page_count);
    Ok(Some(Done {
        pages: page_count,
        flagged: Flagged::of_document(&job.code.code, &job.component.name, &doc.pages),
    }))
}
