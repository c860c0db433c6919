//! What stations write and pull: uploads of archived documents (PDF + record)
//! and the register rows of their units.
//!
//! An upload is streamed to a temporary file in the archive's filesystem while
//! it is hashed (memory does not grow with its size; at most
//! `max_concurrent_uploads` are received at once), then checked before it is
//! filed: the names, the dossier code (unit and receipt date are read from a
//! national code, never taken from the client), the unit against the
//! caller's, SHA-256 and size against the record, the PDF itself (sound, with
//! the pages the record lists). It is then moved to a new archive path (never
//! over an existing file) and recorded in one transaction. Uploads are
//! idempotent: the same PDF of the same component is acknowledged with the id
//! it already has.

use super::{authenticate, blocking, ApiError, Caller, Shared};
use crate::api::{Commit, RegisterPage, Upload, UploadReply};
use crate::codes::DossierCode;
use crate::errors::ErrorCode;
use crate::format::UiLanguage;
use crate::records::{NewSignature, RegisterCursor, SignRole, SignedForm, Stored, UploadRecord};
use crate::store::{archive_rel_path, place_new, refuse_name, temp_path};
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fn refuse(code: ErrorCode, vi: String, en: String, lang: UiLanguage) -> ApiError {
    ApiError::new(code, &vi, &en, lang)
}

fn bad(why: &str, lang: UiLanguage) -> ApiError {
    refuse(
        ErrorCode::BadUpload,
        format!("Yêu cầu gửi tài liệu không hợp lệ: {why}."),
        format!("Malformed upload: {why}."),
        lang,
    )
}

/// Largest `record` part (the JSON of a 2,000-page document is ~0.5 MiB).
const MAX_RECORD_BYTES: usize = 4 << 20;

/// A file received into the archive's `.incoming/` folder. One received in
/// a single request is removed when dropped unless it was moved into the
/// archive; a resumable upload's part stays for the next try (`keep`).
struct Incoming {
    path: PathBuf,
    sha256: String,
    bytes: u64,
    keep: bool,
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

pub(super) async fn upload(State(app): State<Shared>, req: Request) -> Result<Response, ApiError> {
    let lang = app.settings.ui_language;
    // The token first, before the body is looked at: a caller without one
    // learns nothing about what the server makes of its body.
    let caller = match authenticate(&app, req.headers()).await {
        Ok(c) => c,
        Err(e) => {
            // Read a small body before refusing, so the client, still sending,
            // gets the 401 rather than a closed connection; a large one is not
            // worth reading for a caller without a valid token.
            drain(req, 1 << 20).await;
            return Err(e);
        }
    };
    let json = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        return commit(app, caller, req).await;
    }
    // One turn per upload received at once; the others wait a little, then 503.
    let wait = Duration::from_secs_f64(app.settings.serve.upload_wait_seconds.max(0.0));
    let _turn = match tokio::time::timeout(wait, app.uploads.acquire()).await {
        Ok(Ok(turn)) => turn,
        _ => return Err(busy(lang)),
    };
    let mut form = Multipart::from_request(req, &app)
        .await
        .map_err(|e| bad(&e.body_text(), lang))?;
    let idle = Duration::from_secs_f64(app.settings.serve.body_idle_seconds.max(1.0));
    let mut record: Option<Upload> = None;
    let mut pdf: Option<Incoming> = None;
    loop {
        let field = match tokio::time::timeout(idle, form.next_field()).await {
            Err(_) => return Err(too_slow(lang)),
            Ok(Ok(Some(f))) => f,
            Ok(Ok(None)) => break,
            Ok(Err(e)) => return Err(multipart_error(e, lang)),
        };
        match field.name() {
            Some("record") => {
                let mut bytes = Vec::new();
                let mut field = field;
                while let Some(c) = next_chunk(&mut field, idle, lang).await? {
                    if bytes.len() + c.len() > MAX_RECORD_BYTES {
                        return Err(bad("record > 4 MiB", lang));
                    }
                    bytes.extend_from_slice(&c);
                }
                record = Some(
                    serde_json::from_slice(&bytes)
                        .map_err(|e| bad(&format!("record: {e}"), lang))?,
                );
            }
            Some("pdf") if pdf.is_none() => pdf = Some(receive(&app, field, idle).await?),
            _ => {}
        }
    }
    let (Some(up), Some(pdf)) = (record, pdf) else {
        return Err(bad(
            "cần hai phần 'record' và 'pdf' / both 'record' and 'pdf' parts are needed",
            lang,
        ));
    };
    let rec = checked_record(&caller, &up, lang)?;
    accept(&app, caller, rec, pdf).await
}

/// A document whose PDF went up as a resumable upload (`resumable`): the
/// same checks as an upload in one request. A repeat after a lost reply is
/// answered with the id the document has, even once the upload is gone.
/// An upload whose bytes are wrong is removed (the station starts again);
/// one that failed for the server's own reasons stays for the next try.
async fn commit(app: Shared, caller: Caller, req: Request) -> Result<Response, ApiError> {
    let lang = app.settings.ui_language;
    // A record is small: it comes whole within the idle time, or not at all.
    let idle = Duration::from_secs_f64(app.settings.serve.body_idle_seconds.max(1.0));
    let body = tokio::time::timeout(
        idle,
        axum::body::to_bytes(req.into_body(), MAX_RECORD_BYTES),
    )
    .await
    .map_err(|_| too_slow(lang))?
    .map_err(|e| bad(&format!("record: {e}"), lang))?;
    let c: Commit = serde_json::from_slice(&body).map_err(|e| bad(&format!("{e}"), lang))?;
    let id = c.upload_id().to_string();
    let station = caller.station.id;
    let result = commit_upload(&app, caller, &c, &id).await;
    // Bytes the server will never take are not kept for another try.
    let settled = match &result {
        Ok(_) => true,
        Err(e) => matches!(
            e.code,
            ErrorCode::HashMismatch
                | ErrorCode::BadPdf
                | ErrorCode::BadSignature
                | ErrorCode::OtherUnit
                | ErrorCode::VersionConflict
                | ErrorCode::BadUpload
        ),
    };
    if settled && app.resumable.get(&id, station).is_some() {
        app.resumable.remove(&id);
    }
    result
}

async fn commit_upload(
    app: &Shared,
    caller: Caller,
    c: &Commit,
    id: &str,
) -> Result<Response, ApiError> {
    let lang = app.settings.ui_language;
    let rec = checked_record(&caller, &c.record, lang)?;
    // No such upload: a repeat after a lost reply, or a station asking
    // whether the document is needed before it sends the bytes.
    let Some(slot) = app.resumable.get(id, caller.station.id) else {
        return already(app, caller, rec).await;
    };
    let idle = Duration::from_secs_f64(app.settings.serve.body_idle_seconds.max(1.0));
    let _held = tokio::time::timeout(idle, slot.lock.lock())
        .await
        .map_err(|_| busy(lang))?;
    // Another commit of the same upload may have finished while this one waited.
    if app.resumable.get(id, caller.station.id).is_none() {
        return already(app, caller, rec).await;
    }
    let held = super::resumable::held(app, id).await;
    if held < slot.meta.length {
        return Err(refuse(
            ErrorCode::UploadOffset,
            format!(
                "Máy chủ mới nhận {held}/{} byte của tài liệu; hãy gửi tiếp phần còn lại.",
                slot.meta.length
            ),
            format!(
                "The server holds {held} of {} bytes; send the rest first.",
                slot.meta.length
            ),
            lang,
        ));
    }
    // Hashing and checking the PDF take a turn, as an upload in one request does.
    let wait = Duration::from_secs_f64(app.settings.serve.upload_wait_seconds.max(0.0));
    let _turn = match tokio::time::timeout(wait, app.uploads.acquire()).await {
        Ok(Ok(turn)) => turn,
        _ => return Err(busy(lang)),
    };
    let path = app.resumable.part(id);
    let hashed = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || crate::store::sha256_file(&path))
            .await
            .map_err(|e| ApiError::internal(e, lang))?
    };
    let (sha256, bytes) = hashed.map_err(|e| store_failed(&e, lang))?;
    let pdf = Incoming {
        path,
        sha256,
        bytes,
        keep: true,
    };
    accept(app, caller, rec, pdf).await
}

/// A commit whose upload is gone: a repeat after a lost reply (the document
/// is there), or an upload that expired (start again).
/// Without bytes, another unit's dossier is answered as any unknown one is
/// (410), so that a made-up upload id cannot tell which codes exist.
async fn already(app: &Shared, caller: Caller, rec: UploadRecord) -> Result<Response, ApiError> {
    blocking(app, move |r, app| match known(r, app, &caller, &rec) {
        // A signed form is held only once its signature is.
        Ok(Some((id, _))) => match &rec.signed {
            None => Ok(reply(id, true)),
            Some(s) => match held_signed(r, id, &s.sha256, &rec, app.settings.ui_language)? {
                Some((id, _)) => Ok(reply(id, true)),
                None => Err(super::resumable::gone(app.settings.ui_language)),
            },
        },
        Ok(None) => Err(super::resumable::gone(app.settings.ui_language)),
        Err(e) if e.code == ErrorCode::OtherUnit => {
            Err(super::resumable::gone(app.settings.ui_language))
        }
        Err(e) => Err(e),
    })
    .await
}

fn reply(id: i64, duplicate: bool) -> Response {
    let status = if duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, Json(UploadReply { id, duplicate })).into_response()
}

/// Checks a received PDF against its record and, if it is sound, files and records it.
async fn accept(
    app: &Shared,
    caller: Caller,
    rec: UploadRecord,
    pdf: Incoming,
) -> Result<Response, ApiError> {
    let lang = app.settings.ui_language;
    // The bytes are what the station recorded (its signed form, if it sent that).
    let (sha256, bytes) = match &rec.signed {
        Some(s) => (&s.sha256, s.bytes),
        None => (&rec.document.sha256, rec.document.bytes),
    };
    if &pdf.sha256 != sha256 || pdf.bytes != bytes {
        return Err(refuse(
            ErrorCode::HashMismatch,
            format!(
                "Tệp PDF nhận được ({} byte, SHA-256 {}) không khớp với bản ghi ({} byte, SHA-256 {}): tệp đã bị hỏng khi truyền hoặc đã bị sửa. Máy chủ không lưu tệp này; trạm sẽ gửi lại.",
                pdf.bytes, short(&pdf.sha256), bytes, short(sha256)
            ),
            format!(
                "The PDF received ({} bytes, SHA-256 {}) does not match its record ({} bytes, SHA-256 {}): damaged in transit or altered. Not stored; the station will send it again.",
                pdf.bytes, short(&pdf.sha256), bytes, short(sha256)
            ),
            lang,
        ));
    }
    // The PDF is sound and has the pages its record lists.
    let (file, limits) = (pdf.path.clone(), app.settings.limits);
    let pages =
        tokio::task::spawn_blocking(move || crate::decode::pdf::check_archive(&file, &limits))
            .await
            .map_err(|e| ApiError::internal(e, lang))?;
    if pages.as_ref().ok() != Some(&rec.document.pages.len()) {
        let listed = rec.document.pages.len();
        let (vi, en) = match pages {
            Ok(n) => (
                format!("tệp có {n} trang, bản ghi kê {listed} trang"),
                format!("{n} pages, the record lists {listed}"),
            ),
            Err(e) => (e.to_string(), e.to_string()),
        };
        return Err(refuse(
            ErrorCode::BadPdf,
            format!("Tệp gửi lên không phải tệp PDF lưu trữ đọc được ({vi}). Máy chủ không lưu tệp này."),
            format!("The upload is not a readable archive PDF ({en}). Not stored."),
            lang,
        ));
    }
    // A signed copy is taken only if its signatures verify; a signed form,
    // only if the document it was made from is its prefix.
    let (file, anchors, prefix) = (
        pdf.path.clone(),
        app.anchors.clone(),
        rec.signed
            .is_some()
            .then(|| (rec.document.bytes, rec.document.sha256.clone())),
    );
    let signing = tokio::task::spawn_blocking(move || check_signatures(&file, &anchors, prefix))
        .await
        .map_err(|e| ApiError::internal(e, lang))?
        .map_err(|why| why.refusal(lang))?;

    let (id, duplicate) = blocking(app, move |r, app| match (&signing, &rec.signed) {
        (Some(signing), Some(form)) => file_signed_form(r, app, &caller, &rec, form, pdf, signing),
        _ => file_and_record(r, app, &caller, &rec, pdf),
    })
    .await?;
    Ok(reply(id, duplicate))
}

/// A signed form that verified: who signed it and when, as the server records it.
struct Signing {
    /// The unsigned document: the signed file's first bytes.
    unsigned: Vec<u8>,
    signer: crate::sign::cert::Identity,
    signed_at: String,
    /// All the check found (a signer not chained to any anchor, when the
    /// server has none).
    problems: Vec<crate::sign::verify::Problem>,
    time_stamp: Option<crate::sign::verify::TimeStamp>,
}

/// Why a signed upload is refused.
enum SignatureRefusal {
    Problems(Vec<crate::sign::verify::Problem>),
    /// Sent as a signed form without any signature.
    Unsigned,
    /// The signed form's first bytes are not the document its record describes.
    NotItsPrefix,
}

impl SignatureRefusal {
    fn refusal(self, lang: UiLanguage) -> ApiError {
        let (vi, en) = match self {
            SignatureRefusal::Problems(problems) => (
                format!(
                    "Chữ ký số trên tệp gửi lên không hợp lệ ({}). Máy chủ không lưu tệp này.",
                    problems
                        .iter()
                        .map(|p| crate::sign::text::problem(p, UiLanguage::Vi))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                format!(
                    "The upload's digital signature is not valid ({}). Not stored.",
                    crate::sign::text::problems(&problems)
                ),
            ),
            SignatureRefusal::Unsigned => (
                "Tệp gửi lên là bản đã ký số theo bản ghi nhưng không có chữ ký số nào. Máy chủ không lưu tệp này.".into(),
                "The upload is sent as a signed form but holds no signature. Not stored.".into(),
            ),
            SignatureRefusal::NotItsPrefix => (
                "Phần chưa ký của tệp đã ký số không phải là tài liệu mà bản ghi mô tả (kích thước hoặc SHA-256 khác). Máy chủ không lưu tệp này.".into(),
                "The signed file's unsigned part is not the document its record describes (other size or SHA-256). Not stored.".into(),
            ),
        };
        refuse(ErrorCode::BadSignature, vi, en, lang)
    }
}

/// Checks the signatures of an upload. `prefix` (size, SHA-256) is set for
/// a signed form: it must be signed and begin with that document. `Ok(None)`:
/// an unsigned upload. Without trust anchors on the server (`[sign]
/// trust_anchors`) a signature is only checked to be intact and the
/// signer's; with them, it must also chain to one.
fn check_signatures(
    file: &std::path::Path,
    anchors: &[Vec<u8>],
    prefix: Option<(u64, String)>,
) -> Result<Option<Signing>, SignatureRefusal> {
    use crate::sign::verify::{self, Problem};
    let malformed = |e: String| SignatureRefusal::Problems(vec![Problem::Malformed(e)]);
    // Only a file with a signature dictionary is a signed copy; an unsigned
    // upload (the most) is read in pieces, never held whole.
    match holds(file, b"/ByteRange") {
        Ok(false) if prefix.is_some() => return Err(SignatureRefusal::Unsigned),
        Ok(false) => return Ok(None),
        Ok(true) => {}
        Err(e) => return Err(malformed(e.to_string())),
    }
    // A signed one is within `max_upload_mib`, and already checked as a PDF.
    let mut bytes = std::fs::read(file).map_err(|e| malformed(e.to_string()))?;
    let checked = verify::verify(&bytes, anchors).map_err(malformed)?;
    let problems: Vec<Problem> = checked.iter().flat_map(|c| c.problems.clone()).collect();
    let refused: Vec<Problem> = problems
        .iter()
        .filter(|p| !anchors.is_empty() || !p.is_untrusted())
        .cloned()
        .collect();
    if !refused.is_empty() {
        return Err(SignatureRefusal::Problems(refused));
    }
    let Some((len, sha256)) = prefix else {
        return Ok(None);
    };
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len >= bytes.len() || crate::store::sha256_hex(&bytes[..len]) != sha256 {
        return Err(SignatureRefusal::NotItsPrefix);
    }
    // The first signature is the officer's, made on the unsigned document.
    let first = checked.first().ok_or(SignatureRefusal::Unsigned)?;
    let signer = first.signer.clone().ok_or(SignatureRefusal::Unsigned)?;
    let signed_at = first.signed_at.map(|t| t.to_rfc3339()).unwrap_or_default();
    let time_stamp = first.time_stamp.clone();
    bytes.truncate(len);
    Ok(Some(Signing {
        unsigned: bytes,
        signer,
        signed_at,
        problems,
        time_stamp,
    }))
}

/// Whether the file holds `needle`, read 1 MiB at a time.
fn holds(file: &std::path::Path, needle: &[u8]) -> std::io::Result<bool> {
    use std::io::Read;
    let mut f = std::fs::File::open(file)?;
    let mut buf = vec![0u8; (1 << 20) + needle.len()];
    // The last bytes of the previous piece stay in front, for a needle across two.
    let mut kept = 0;
    loop {
        let n = f.read(&mut buf[kept..])?;
        if n == 0 {
            return Ok(false);
        }
        let filled = kept + n;
        if buf[..filled].windows(needle.len()).any(|w| w == needle) {
            return Ok(true);
        }
        kept = (needle.len() - 1).min(filled);
        buf.copy_within(filled - kept..filled, 0);
    }
}

/// The upload as the server records it: the dossier's unit and receipt date
/// read from its code (a code of the national form is always parsed, never
/// believed from the client), names fit for the archive, the unit the caller's.
fn checked_record(
    caller: &Caller,
    up: &Upload,
    lang: UiLanguage,
) -> Result<UploadRecord, ApiError> {
    let code = &up.dossier.code;
    if holds_nul(up) {
        return Err(bad(
            "một trường của bản ghi chứa ký tự NUL / a field of the record holds a NUL character",
            lang,
        ));
    }
    if let Some(why) = refuse_name(&up.name) {
        return Err(bad(
            &format!("tên tài liệu {:?} / document name: {why}", up.name),
            lang,
        ));
    }
    if up.version == 0 || up.version > 100_000 {
        return Err(bad(&format!("phiên bản / version {}", up.version), lang));
    }
    let dossier = match DossierCode::parse(code) {
        Some(c) => {
            let latest = chrono::Local::now().date_naive() + chrono::Days::new(1);
            if c.received.is_some_and(|d| d > latest) {
                return Err(bad(
                    &format!("mã hồ sơ {code} mang ngày tiếp nhận trong tương lai / the code's receipt date is in the future"),
                    lang,
                ));
            }
            c
        }
        None if DossierCode::looks_standard(code) => {
            return Err(bad(
                &format!("mã hồ sơ {code:?} có dạng mã quốc gia nhưng sai ngày hoặc số / a national-form code with a wrong date or number"),
                lang,
            ))
        }
        None => {
            if let Some(why) = refuse_name(code) {
                return Err(bad(&format!("mã hồ sơ {code:?} / dossier code: {why}"), lang));
            }
            // A local code: the unit the station gave, inside its own units
            // (checked below); the receipt date only ever from the register.
            DossierCode::opaque(code, &up.dossier.unit)
        }
    };
    if !caller.sees(&dossier.unit) {
        return Err(other_unit(caller, code, lang));
    }
    if let Some(signed) = &up.signed {
        if signed.bytes <= up.bytes {
            return Err(bad(
                &format!(
                    "bản đã ký ({} byte) không dài hơn tài liệu chưa ký ({} byte) / the signed form is not longer than the unsigned document",
                    signed.bytes, up.bytes
                ),
                lang,
            ));
        }
    }
    Ok(UploadRecord {
        dossier,
        document: up.document(),
        signed: up.signed.as_ref().map(|s| SignedForm {
            archive_path: String::new(),
            bytes: s.bytes,
            sha256: s.sha256.to_ascii_lowercase(),
        }),
    })
}

/// Whether any text of the record holds U+0000, which no record may store
/// (PostgreSQL refuses it in text).
fn holds_nul(up: &Upload) -> bool {
    fn walk(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(a) => a.iter().any(walk),
            serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || walk(v)),
            _ => false,
        }
    }
    serde_json::to_value(up).is_ok_and(|v| walk(&v))
}

/// Streams the `pdf` part to a new file in `<archive>/.incoming/`, hashing it
/// on the way: memory stays the same whatever the upload's size.
async fn receive(
    app: &Shared,
    mut field: axum::extract::multipart::Field<'_>,
    idle: Duration,
) -> Result<Incoming, ApiError> {
    let lang = app.settings.ui_language;
    let store_error = |e: std::io::Error| {
        tracing::error!(error = %e, "receiving an upload");
        store_failed(&e, lang)
    };
    let dir = app.settings.data_dir.join("archive").join(".incoming");
    tokio::fs::create_dir_all(&dir).await.map_err(store_error)?;
    let name = format!("upload-{}", crate::serve::new_token().map_err(store_error)?);
    let mut incoming = Incoming {
        path: temp_path(&dir, &name),
        sha256: String::new(),
        bytes: 0,
        keep: false,
    };
    let mut file = tokio::fs::File::create(&incoming.path)
        .await
        .map_err(store_error)?;
    let mut hasher = Sha256::new();
    // The body limit leaves room for the record part; the PDF itself may
    // not be larger than `max_upload_mib`, as for a resumable upload.
    let max = app.settings.serve.max_upload_mib.saturating_mul(1 << 20);
    while let Some(chunk) = next_chunk(&mut field, idle, lang).await? {
        hasher.update(&chunk);
        incoming.bytes += chunk.len() as u64;
        if incoming.bytes > max {
            // Read the rest (the body limit bounds it), so the client, still
            // sending, gets the reply rather than a reset connection.
            while let Ok(Some(_)) = next_chunk(&mut field, idle, lang).await {}
            return Err(too_large(
                &format!("PDF > {} MiB", app.settings.serve.max_upload_mib),
                lang,
            ));
        }
        file.write_all(&chunk).await.map_err(store_error)?;
    }
    file.sync_all().await.map_err(store_error)?;
    incoming.sha256 = hex::encode(hasher.finalize());
    Ok(incoming)
}

/// The next piece of a part; a body that sends nothing for `idle` is dropped.
async fn next_chunk(
    field: &mut axum::extract::multipart::Field<'_>,
    idle: Duration,
    lang: UiLanguage,
) -> Result<Option<axum::body::Bytes>, ApiError> {
    match tokio::time::timeout(idle, field.chunk()).await {
        Err(_) => Err(too_slow(lang)),
        Ok(r) => r.map_err(|e| multipart_error(e, lang)),
    }
}

/// On the blocking pool: refuses another unit's existing dossier, answers a
/// repeat with the id it has, moves the file into the archive under a name
/// no other file has, and records it. No database lock is held while the
/// file is written; the `UNIQUE` constraints decide races between uploads.
fn file_and_record(
    r: &crate::records::Records,
    app: &super::App,
    caller: &Caller,
    rec: &UploadRecord,
    pdf: Incoming,
) -> Result<(i64, bool), ApiError> {
    let lang = app.settings.ui_language;
    let db = |e| ApiError::records(e, lang);
    if let Some(done) = known(r, app, caller, rec)? {
        return Ok(done);
    }
    let data_dir = &app.settings.data_dir;
    let rel = archive_rel_path(
        &rec.dossier,
        rec.document.kind,
        &rec.document.name,
        rec.document.version,
    );
    // A file of exactly these bytes at the path, recorded for no document:
    // this upload's own copy, placed by a server killed before it recorded
    // it. It is taken, rather than a second copy beside it.
    let target = data_dir.join(&rel);
    let rel_str = rel.to_string_lossy().into_owned();
    if crate::store::sha256_file(&target).is_ok_and(|(sha, _)| sha == rec.document.sha256)
        && !r.archive_path_recorded(&rel_str).map_err(db)?
    {
        return match r.record_upload(rec, &rel_str, caller.station.id) {
            Ok(id) => Ok((id, false)),
            Err(e) if e.is_unique_violation() => {
                known(r, app, caller, rec)?.ok_or_else(|| conflict(rec, lang))
            }
            Err(e) => Err(db(e)),
        };
    }
    let placed = place_new(&pdf.path, &target).map_err(|e| {
        tracing::error!(error = %e, "archive write");
        let crate::store::StoreError::Write { source, .. } = &e;
        store_failed(source, lang)
    })?;
    let rel = placed
        .strip_prefix(data_dir)
        .unwrap_or(&rel)
        .to_string_lossy()
        .into_owned();
    match r.record_upload(rec, &rel, caller.station.id) {
        Ok(id) => Ok((id, false)),
        // Another upload of this component was recorded first: this copy is
        // not recorded, so it is removed, and the answer is as for a repeat.
        Err(e) if e.is_unique_violation() => {
            let _ = std::fs::remove_file(&placed);
            known(r, app, caller, rec)?.ok_or_else(|| conflict(rec, lang))
        }
        // Whether the commit happened is not known: the file stays (an orphan
        // at worst, never a record without its file).
        Err(e) => Err(db(e)),
    }
}

/// On the blocking pool: files a signed form. When the server does not hold
/// the document it was made from, that document is filed first (its unsigned
/// bytes, the signed file's prefix); a document already held gets the signed
/// form beside it, as its signed form and not as a version conflict.
fn file_signed_form(
    r: &crate::records::Records,
    app: &super::App,
    caller: &Caller,
    rec: &UploadRecord,
    signed: &SignedForm,
    pdf: Incoming,
    signing: &Signing,
) -> Result<(i64, bool), ApiError> {
    let lang = app.settings.ui_language;
    let db = |e| ApiError::records(e, lang);
    let data_dir = &app.settings.data_dir;
    let written = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "archive write");
        let crate::store::StoreError::Write { source, .. } = &e;
        store_failed(source, lang)
    };
    let relative = |p: &std::path::Path| {
        p.strip_prefix(data_dir)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let id = match known(r, app, caller, rec)? {
        Some((id, _)) => id,
        None => {
            let rel = archive_rel_path(
                &rec.dossier,
                rec.document.kind,
                &rec.document.name,
                rec.document.version,
            );
            let placed =
                crate::store::write_new(&data_dir.join(rel), &signing.unsigned).map_err(written)?;
            match r.record_upload(rec, &relative(&placed), caller.station.id) {
                Ok(id) => id,
                // Another upload of this document was recorded first.
                Err(e) if e.is_unique_violation() => {
                    let _ = std::fs::remove_file(&placed);
                    known(r, app, caller, rec)?
                        .ok_or_else(|| conflict(rec, lang))?
                        .0
                }
                Err(e) => return Err(db(e)),
            }
        }
    };
    if let Some(done) = held_signed(r, id, &signed.sha256, rec, lang)? {
        return Ok(done);
    }
    let (doc_rel, _) = r
        .document_path(id)
        .map_err(db)?
        .ok_or_else(|| conflict(rec, lang))?;
    let target = data_dir.join(crate::sign::copy::signed_path(&doc_rel, SignRole::Officer));
    let placed = crate::store::place_new(&pdf.path, &target).map_err(written)?;
    let form = NewSignature {
        document_id: id,
        role: SignRole::Officer,
        archive_path: relative(&placed),
        bytes: signed.bytes,
        sha256: signed.sha256.clone(),
        signer: signing.signer.clone(),
        officer: None,
        position: None,
        agency: None,
        signed_at: signing.signed_at.clone(),
        problems: signing.problems.clone(),
        time_stamp: signing.time_stamp.clone(),
    };
    match r.record_signature(&form) {
        Ok(true) => Ok((id, false)),
        // Another upload recorded a signed form first: this copy is removed.
        Ok(false) => {
            let _ = std::fs::remove_file(&placed);
            held_signed(r, id, &signed.sha256, rec, lang)?.ok_or_else(|| conflict(rec, lang))
        }
        // The file stays: an orphan at worst, never a record without its file.
        Err(e) => Err(db(e)),
    }
}

/// Whether document `id` already has the officer's signed form `sha256`:
/// its id (a repeat), a refusal when it has another, `None` when it has none.
fn held_signed(
    r: &crate::records::Records,
    id: i64,
    sha256: &str,
    rec: &UploadRecord,
    lang: UiLanguage,
) -> Result<Option<(i64, bool)>, ApiError> {
    let views = r
        .signatures_of(id)
        .map_err(|e| ApiError::records(e, lang))?;
    let Some(held) = views
        .iter()
        .find(|v| v.role == SignRole::Officer && v.state == "signed")
    else {
        return Ok(None);
    };
    if held.sha256.as_deref() == Some(sha256) {
        return Ok(Some((id, true)));
    }
    Err(refuse(
        ErrorCode::VersionConflict,
        format!(
            "Máy chủ đã có một bản ký số khác của phiên bản {} tài liệu {} (hồ sơ {}). Hãy kiểm tra xem tài liệu có được ký ở hai nơi không.",
            rec.document.version, rec.document.name, rec.dossier.code
        ),
        format!(
            "The server already has another signed form of version {} of {} (dossier {}). Check whether it was signed in two places.",
            rec.document.version, rec.document.name, rec.dossier.code
        ),
        lang,
    ))
}

/// Another unit's existing dossier is refused; the same PDF of the same
/// component, already recorded, is its id; this version with other content
/// a conflict; `None`: new.
fn known(
    r: &crate::records::Records,
    app: &super::App,
    caller: &Caller,
    rec: &UploadRecord,
) -> Result<Option<(i64, bool)>, ApiError> {
    let lang = app.settings.ui_language;
    let db = |e| ApiError::records(e, lang);
    if let Some(unit) = r.dossier_unit(&rec.dossier.code).map_err(db)? {
        if !caller.sees(&unit) {
            return Err(other_unit(caller, &rec.dossier.code, lang));
        }
    }
    match r.uploaded(rec).map_err(db)? {
        Some(Stored::Duplicate(id)) => Ok(Some((id, true))),
        Some(Stored::Conflict) => Err(conflict(rec, lang)),
        None => Ok(None),
    }
}

fn conflict(rec: &UploadRecord, lang: UiLanguage) -> ApiError {
    refuse(
        ErrorCode::VersionConflict,
        format!(
            "Máy chủ đã có phiên bản {} của tài liệu {} (hồ sơ {}) với nội dung khác. Hãy kiểm tra xem hồ sơ có được số hóa ở hai nơi không.",
            rec.document.version, rec.document.name, rec.dossier.code
        ),
        format!(
            "The server already has version {} of {} (dossier {}) with other content. Check whether the dossier was digitized in two places.",
            rec.document.version, rec.document.name, rec.dossier.code
        ),
        lang,
    )
}

/// The archive could not be written: a full disk stops every upload for a
/// while (503, the station tries again later); anything else is about this
/// document (507, set aside with the message).
pub(super) fn store_failed(e: &std::io::Error, lang: UiLanguage) -> ApiError {
    if matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT)) {
        return ApiError::new(
            ErrorCode::StoreFull,
            "Đĩa của máy chủ đã đầy; trạm giữ tài liệu và sẽ gửi lại sau. Hãy báo cho bộ phận CNTT của máy chủ.",
            "The server's disk is full; the station keeps the document and will try again later. Tell the server's IT staff.",
            lang,
        );
    }
    ApiError::new(
        ErrorCode::Store,
        "Máy chủ không ghi được tài liệu này vào kho lưu trữ (không có quyền ghi, hoặc hệ thống tệp không nhận tên hay đường dẫn này). Hãy báo cho bộ phận CNTT của máy chủ; tài liệu được giữ trên trạm.",
        "The server cannot write this document to its archive (no permission, or its filesystem refuses the name or path). Tell the server's IT staff; the document is kept on the station.",
        lang,
    )
}

pub(super) fn busy(lang: UiLanguage) -> ApiError {
    ApiError::new(
        ErrorCode::Busy,
        "Máy chủ đang nhận nhiều tài liệu cùng lúc; trạm sẽ gửi lại sau.",
        "The server is receiving too many uploads at once; the station will try again later.",
        lang,
    )
}

pub(super) fn too_large(why: &str, lang: UiLanguage) -> ApiError {
    refuse(
        ErrorCode::TooLargeUpload,
        format!("Tệp gửi lên vượt giới hạn của máy chủ ({why}). Hãy tăng [serve] max_upload_mib trên máy chủ."),
        format!("The upload exceeds the server's limit ({why}). Raise [serve] max_upload_mib on the server."),
        lang,
    )
}

pub(super) fn too_slow(lang: UiLanguage) -> ApiError {
    ApiError::new(
        ErrorCode::TooSlow,
        "Kết nối gửi dữ liệu quá chậm hoặc bị treo; trạm sẽ gửi lại.",
        "The upload stalled; the station will send it again.",
        lang,
    )
}

/// The station's record names a dossier outside its units. The other unit is
/// not named: a local code must not tell a station whose it is.
fn other_unit(caller: &Caller, code: &str, lang: UiLanguage) -> ApiError {
    let station = &caller.station;
    refuse(
        ErrorCode::OtherUnit,
        format!(
            "Trạm {} chỉ được gửi hồ sơ của đơn vị {} và các đơn vị trực thuộc; hồ sơ {code} không thuộc các đơn vị đó. Hãy chuyển hồ sơ cho đúng đơn vị.",
            station.name, station.unit_code
        ),
        format!(
            "Station {} may only send dossiers of unit {} and the units under it; dossier {code} is not one of theirs.",
            station.name, station.unit_code
        ),
        lang,
    )
}

/// Reads and drops up to `limit` bytes of a request body (5 s at most).
async fn drain(req: Request, limit: usize) {
    let body = axum::body::to_bytes(req.into_body(), limit);
    let _ = tokio::time::timeout(Duration::from_secs(5), body).await;
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

fn multipart_error(e: axum::extract::multipart::MultipartError, lang: UiLanguage) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(&e.to_string(), lang)
    } else {
        refuse(
            ErrorCode::BadUpload,
            format!("Không đọc được dữ liệu gửi lên ({e}); kết nối có thể đã bị ngắt. Trạm sẽ gửi lại."),
            format!("Cannot read the upload ({e}); the connection may have dropped. The station will send it again."),
            lang,
        )
    }
}

/// The station the token belongs to: what a station asks first, so a
/// refused token is told apart from a server out of reach before any upload.
pub(super) async fn whoami(caller: Caller) -> Response {
    Json(caller.station).into_response()
}

#[derive(serde::Deserialize)]
pub(super) struct RegisterQuery {
    #[serde(default)]
    after_seq: i64,
    #[serde(default)]
    after_code: String,
    limit: Option<u32>,
}

/// Register rows of the station's units changed after the cursor.
pub(super) async fn register(
    State(app): State<Shared>,
    caller: Caller,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, ApiError> {
    let lang = app.settings.ui_language;
    let limit = q.limit.unwrap_or(2000).clamp(1, 10_000);
    if q.after_code.contains('\0') {
        return Err(bad("after_code: ký tự NUL / a NUL character", lang));
    }
    let after = RegisterCursor {
        seq: q.after_seq,
        code: q.after_code,
    };
    let page = blocking(&app, move |r, _| {
        let units: Vec<String> = caller.units.into_iter().collect();
        let rows = r
            .register_since(&units, &after, limit)
            .map_err(|e| ApiError::records(e, lang))?;
        let more = rows.len() as u32 == limit;
        let cursor = rows.last().map(|(c, _)| c.clone()).unwrap_or(after);
        Ok(RegisterPage {
            rows: rows.into_iter().map(|(_, row)| row).collect(),
            cursor,
            more,
        })
    })
    .await?;
    Ok(Json(page).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_signature_dictionary_is_found_across_the_pieces_of_a_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pdf");
        for at in [0, (1 << 20) - 5, 1 << 20, (3 << 20) + 7] {
            let mut bytes = vec![b' '; 4 << 20];
            bytes[at..at + 10].copy_from_slice(b"/ByteRange");
            std::fs::write(&path, &bytes).unwrap();
            assert!(super::holds(&path, b"/ByteRange").unwrap(), "at {at}");
        }
        std::fs::write(&path, vec![b' '; 3 << 20]).unwrap();
        assert!(!super::holds(&path, b"/ByteRange").unwrap());
    }
}
