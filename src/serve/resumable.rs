//! Resumable uploads: tus 1.0 core with the creation, expiration and
//! termination extensions (<https://tus.io/protocols/resumable-upload>). A
//! station creates an upload with its length (`POST /api/v1/uploads`), asks
//! how much the server holds (`HEAD`) and appends from there (`PATCH`), so a
//! cut link costs only the bytes in flight, never the upload from byte zero.
//!
//! Each upload is two files under `<data_dir>/archive/.incoming/tus/` (the
//! archive's filesystem, so a finished one is moved, not copied): `<id>.part`,
//! the bytes received, whose length is the offset, and `<id>.json`, who owns
//! it and how long it will be. Memory does not grow with an upload. An upload
//! belongs to the station that created it; to any other it does not exist.
//! One that nothing was added to for `[serve] upload_expiry_hours` is removed.
//! A new `PATCH` takes over from one still running (a connection the station
//! gave up on, not yet noticed dead here), which stops and keeps what it wrote.
//!
//! A complete upload becomes a document by `POST /api/v1/documents` with
//! `{"upload": id, "record": …}` (`station::commit`), checked exactly as an
//! upload in one request.

use super::{ApiError, Caller, Shared};
use crate::api::tus;
use crate::errors::ErrorCode;
use crate::format::UiLanguage;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::io::AsyncWriteExt;

/// What is kept about an upload beside its bytes.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Meta {
    pub station_id: i64,
    pub length: u64,
    /// `Upload-Metadata` `filename`, for the log.
    pub filename: Option<String>,
    pub created_at: String,
}

/// One upload: its facts, a lock held while bytes are appended or it is
/// committed, and a generation each new `PATCH` raises to stop the one before.
pub(super) struct Slot {
    pub meta: Meta,
    pub lock: tokio::sync::Mutex<()>,
    turn: tokio::sync::watch::Sender<u64>,
}

/// The uploads in progress.
pub(super) struct Uploads {
    dir: PathBuf,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl Uploads {
    /// The uploads left by an earlier run (a `.part` without its `.json`, or
    /// a `.json` that does not read, is removed).
    pub fn open(dir: PathBuf) -> std::io::Result<Uploads> {
        std::fs::create_dir_all(&dir)?;
        let mut slots = HashMap::new();
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let (Some(stem), Some(ext)) = (
                path.file_stem().and_then(|s| s.to_str()),
                path.extension().and_then(|s| s.to_str()),
            ) else {
                continue;
            };
            let meta = match ext {
                // Its bytes went into the archive (a commit cut short) or never came.
                "json" if !dir.join(format!("{stem}.part")).exists() => None,
                "json" => std::fs::read(&path)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Meta>(&b).ok()),
                "part" if dir.join(format!("{stem}.json")).exists() => continue,
                _ => None,
            };
            match meta {
                Some(meta) => {
                    slots.insert(stem.to_string(), Arc::new(Slot::new(meta)));
                }
                None => {
                    tracing::warn!(path = %path.display(), "removing a broken resumable upload");
                    let _ = std::fs::remove_file(dir.join(format!("{stem}.json")));
                    let _ = std::fs::remove_file(dir.join(format!("{stem}.part")));
                }
            }
        }
        Ok(Uploads {
            dir,
            slots: Mutex::new(slots),
        })
    }

    pub fn part(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.part"))
    }

    fn meta_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The upload `id` if it is `station`'s.
    pub fn get(&self, id: &str, station: i64) -> Option<Arc<Slot>> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .get(id)
            .filter(|s| s.meta.station_id == station)
            .cloned()
    }

    fn open_for(&self, station: i64) -> usize {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .values()
            .filter(|s| s.meta.station_id == station)
            .count()
    }

    /// A new, empty upload; its id (random, 32 hex digits).
    fn create(&self, meta: Meta) -> std::io::Result<String> {
        let id = super::new_token()?[..32].to_string();
        std::fs::File::create(self.part(&id))?.sync_all()?;
        let json = serde_json::to_vec(&meta).map_err(std::io::Error::other)?;
        crate::store::write_atomic(&self.meta_path(&id), &json).map_err(std::io::Error::other)?;
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.insert(id.clone(), Arc::new(Slot::new(meta)));
        Ok(id)
    }

    /// Forgets an upload and removes its files (the part may have been moved
    /// into the archive already).
    pub fn remove(&self, id: &str) {
        let _ = std::fs::remove_file(self.meta_path(id));
        let _ = std::fs::remove_file(self.part(id));
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.remove(id);
    }

    /// When an upload expires: `expiry` after its last byte (or its creation).
    fn expires(&self, id: &str, expiry: Duration) -> SystemTime {
        std::fs::metadata(self.part(id))
            .and_then(|m| m.modified())
            .unwrap_or_else(|_| SystemTime::now())
            + expiry
    }

    /// Removes the uploads that expired and are not being written; how many.
    pub fn sweep(&self, expiry: Duration) -> usize {
        let now = SystemTime::now();
        let ids: Vec<String> = {
            let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.keys().cloned().collect()
        };
        let mut removed = 0;
        for id in ids {
            let Some(slot) = ({
                let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
                slots.get(&id).cloned()
            }) else {
                continue;
            };
            if self.expires(&id, expiry) > now {
                continue;
            }
            // Not while a request writes to it or commits it.
            if let Ok(_held) = slot.lock.try_lock() {
                self.remove(&id);
                removed += 1;
            };
        }
        removed
    }
}

impl Slot {
    fn new(meta: Meta) -> Slot {
        Slot {
            meta,
            lock: tokio::sync::Mutex::new(()),
            turn: tokio::sync::watch::channel(0).0,
        }
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The headers every tus reply carries, and `Upload-Expires` when known.
fn tus_reply(status: StatusCode, extra: &[(&str, String)]) -> Response {
    let mut r = status.into_response();
    let h = r.headers_mut();
    h.insert(
        HeaderName::from_static(tus::RESUMABLE),
        HeaderValue::from_static(tus::VERSION),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (k, v) in extra {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(*k), HeaderValue::try_from(v.as_str())) {
            h.insert(k, v);
        }
    }
    r
}

/// An HTTP date (RFC 9110), as `Upload-Expires` wants it.
fn http_date(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn expiry(app: &Shared) -> Duration {
    Duration::from_secs_f64((app.settings.serve.upload_expiry_hours * 3600.0).max(1.0))
}

fn max_bytes(app: &Shared) -> u64 {
    app.settings.serve.max_upload_mib.saturating_mul(1 << 20)
}

/// A request of another tus version is refused (412), as the protocol says.
fn check_version(headers: &HeaderMap, lang: UiLanguage) -> Result<(), ApiError> {
    match header_str(headers, tus::RESUMABLE) {
        None | Some(tus::VERSION) => Ok(()),
        Some(v) => Err(ApiError::new(
            ErrorCode::TusVersion,
            &format!(
                "Máy chủ chỉ hỗ trợ giao thức tải lên tus {}, không phải {v}.",
                tus::VERSION
            ),
            &format!("The server supports only tus {}, not {v}.", tus::VERSION),
            lang,
        )),
    }
}

fn bad(why: &str, lang: UiLanguage) -> ApiError {
    ApiError::new(
        ErrorCode::BadUpload,
        &format!("Yêu cầu gửi tài liệu không hợp lệ: {why}."),
        &format!("Malformed upload: {why}."),
        lang,
    )
}

pub(super) fn gone(lang: UiLanguage) -> ApiError {
    ApiError::new(
        ErrorCode::UploadGone,
        "Máy chủ không có phần tài liệu gửi dở này (đã quá hạn, đã xong, hoặc không phải của trạm); trạm sẽ gửi lại từ đầu.",
        "The server has no such upload (expired, finished, or not this station's); the station will start it again.",
        lang,
    )
}

fn offset_mismatch(held: u64, lang: UiLanguage) -> ApiError {
    ApiError::new(
        ErrorCode::UploadOffset,
        &format!("Máy chủ đang giữ {held} byte của tài liệu này; hãy gửi tiếp từ byte đó."),
        &format!("The server holds {held} bytes of this upload; go on from there."),
        lang,
    )
}

/// Upload `id` if it is the caller's; gone otherwise.
fn slot(app: &Shared, id: &str, caller: &Caller) -> Result<Arc<Slot>, ApiError> {
    app.resumable
        .get(id, caller.station.id)
        .ok_or_else(|| gone(app.settings.ui_language))
}

/// The `Upload-Expires` header of upload `id`.
fn expires(app: &Shared, id: &str) -> (&'static str, String) {
    (
        tus::EXPIRES,
        http_date(app.resumable.expires(id, expiry(app))),
    )
}

/// `OPTIONS /api/v1/uploads`: what this server supports.
pub(super) async fn options(State(app): State<Shared>, _caller: Caller) -> Response {
    tus_reply(
        StatusCode::NO_CONTENT,
        &[
            (tus::TUS_VERSION, tus::VERSION.to_string()),
            (tus::EXTENSION, tus::EXTENSIONS.to_string()),
            (tus::MAX_SIZE, max_bytes(&app).to_string()),
        ],
    )
}

/// `POST /api/v1/uploads`: a new upload of `Upload-Length` bytes.
pub(super) async fn create(
    State(app): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = app.settings.ui_language;
    check_version(&headers, lang)?;
    let length: u64 = header_str(&headers, tus::LENGTH)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad("thiếu Upload-Length / Upload-Length is needed", lang))?;
    if length > max_bytes(&app) {
        return Err(super::station::too_large(
            &format!("{length} byte > [serve] max_upload_mib"),
            lang,
        ));
    }
    let metadata = match header_str(&headers, tus::METADATA) {
        None => vec![],
        Some(h) => tus::decode_metadata(h).ok_or_else(|| bad("Upload-Metadata", lang))?,
    };
    let limit = app.settings.serve.max_open_uploads_per_station.max(1) as usize;
    if app.resumable.open_for(caller.station.id) >= limit {
        return Err(ApiError::new(
            ErrorCode::Busy,
            &format!("Trạm đang có {limit} tài liệu gửi dở trên máy chủ; hãy gửi xong các tài liệu đó trước."),
            &format!("This station has {limit} unfinished uploads on the server; finish those first."),
            lang,
        ));
    }
    let meta = Meta {
        station_id: caller.station.id,
        length,
        filename: metadata
            .into_iter()
            .find(|(k, _)| k == "filename")
            .map(|(_, v)| v),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let app2 = app.clone();
    let id = tokio::task::spawn_blocking(move || app2.resumable.create(meta))
        .await
        .map_err(|e| ApiError::internal(e, lang))?
        .map_err(|e| super::station::store_failed(&e, lang))?;
    tracing::info!(station = %caller.station.name, id, length, "resumable upload created");
    let location = format!("{}/{id}", crate::api::paths::UPLOADS);
    Ok(tus_reply(
        StatusCode::CREATED,
        &[
            (header::LOCATION.as_str(), location),
            (tus::OFFSET, "0".into()),
            expires(&app, &id),
        ],
    ))
}

/// `HEAD /api/v1/uploads/{id}`: how much the server holds.
pub(super) async fn head(
    State(app): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let slot = slot(&app, &id, &caller)?;
    let held = held(&app, &id).await;
    Ok(tus_reply(
        StatusCode::OK,
        &[
            (tus::OFFSET, held.to_string()),
            (tus::LENGTH, slot.meta.length.to_string()),
            expires(&app, &id),
        ],
    ))
}

/// How many bytes of upload `id` are on disk.
pub(super) async fn held(app: &Shared, id: &str) -> u64 {
    tokio::fs::metadata(app.resumable.part(id))
        .await
        .map_or(0, |m| m.len())
}

/// `DELETE /api/v1/uploads/{id}`: the station gives the upload up.
pub(super) async fn delete(
    State(app): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let slot = slot(&app, &id, &caller)?;
    slot.turn.send_modify(|g| *g += 1);
    let _held = slot.lock.lock().await;
    app.resumable.remove(&id);
    Ok(tus_reply(StatusCode::NO_CONTENT, &[]))
}

/// `PATCH /api/v1/uploads/{id}`: bytes from `Upload-Offset` on. What arrives
/// before a cut, a stall or a newer `PATCH` of the same upload is kept.
pub(super) async fn patch(
    State(app): State<Shared>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let lang = app.settings.ui_language;
    let caller = super::authenticate(&app, req.headers()).await?;
    let headers = req.headers();
    check_version(headers, lang)?;
    if header_str(headers, header::CONTENT_TYPE.as_str()) != Some(tus::CONTENT_TYPE) {
        return Err(bad(
            &format!("Content-Type phải là / must be {}", tus::CONTENT_TYPE),
            lang,
        ));
    }
    let offset: u64 = header_str(headers, tus::OFFSET)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad("thiếu Upload-Offset / Upload-Offset is needed", lang))?;
    let slot = slot(&app, &id, &caller)?;
    // This request is now the upload's writer: the one before stops.
    let mut mine = 0;
    slot.turn.send_modify(|g| {
        *g += 1;
        mine = *g;
    });
    let mut turn = slot.turn.subscribe();
    let idle = Duration::from_secs_f64(app.settings.serve.body_idle_seconds.max(1.0));
    let _held = tokio::time::timeout(idle, slot.lock.lock())
        .await
        .map_err(|_| super::station::busy(lang))?;
    if *turn.borrow_and_update() != mine {
        return Err(offset_mismatch(held(&app, &id).await, lang));
    }
    // No turn of `[serve] max_concurrent_uploads` is taken: appending costs
    // a small buffer however slow the link; the commit's checks take one.
    let part = app.resumable.part(&id);
    let store_error = |e: std::io::Error| {
        tracing::error!(error = %e, id, "resumable upload");
        super::station::store_failed(&e, lang)
    };
    let mut file = tokio::fs::OpenOptions::new()
        .append(true)
        .open(&part)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => gone(lang),
            _ => store_error(e),
        })?;
    let start = file.metadata().await.map_err(store_error)?.len();
    if start != offset {
        return Err(offset_mismatch(start, lang));
    }
    let length = slot.meta.length;
    let mut at = start;
    let mut body: Body = req.into_body();
    // Why receiving stopped before the body's end, if it did.
    let stopped: Option<ApiError> = loop {
        let frame = tokio::select! {
            f = tokio::time::timeout(idle, body.frame()) => f,
            _ = turn.changed() => break Some(offset_mismatch(at, lang)),
        };
        let data = match frame {
            Err(_) => break Some(super::station::too_slow(lang)),
            Ok(None) => break None,
            Ok(Some(Err(e))) => {
                break Some(bad(
                    &format!("kết nối bị ngắt / the connection dropped ({e})"),
                    lang,
                ))
            }
            Ok(Some(Ok(frame))) => match frame.into_data() {
                Ok(d) => d,
                Err(_) => continue,
            },
        };
        if at + data.len() as u64 > length {
            break Some(bad(
                &format!("quá Upload-Length / more than Upload-Length ({length})"),
                lang,
            ));
        }
        file.write_all(&data).await.map_err(store_error)?;
        at += data.len() as u64;
    };
    // What was received is kept, whatever ended the request: the station
    // asks (HEAD) and goes on from here.
    file.sync_data().await.map_err(store_error)?;
    if let Some(e) = stopped {
        tracing::info!(station = %caller.station.name, id, at, length, "resumable upload interrupted");
        return Err(e);
    }
    Ok(tus_reply(
        StatusCode::NO_CONTENT,
        &[(tus::OFFSET, at.to_string()), expires(&app, &id)],
    ))
}

/// Removes expired uploads now and then, for as long as the server runs.
pub(super) async fn sweeper(app: Shared) {
    let expiry = expiry(&app);
    let every = (expiry / 4).clamp(Duration::from_secs(1), Duration::from_secs(600));
    loop {
        let a = app.clone();
        let removed = tokio::task::spawn_blocking(move || a.resumable.sweep(expiry))
            .await
            .unwrap_or(0);
        if removed > 0 {
            tracing::info!(removed, "removed expired resumable uploads");
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(station_id: i64) -> Meta {
        Meta {
            station_id,
            length: 10,
            filename: None,
            created_at: "2026-12-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn uploads_belong_to_their_station_survive_a_restart_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let tus = dir.path().join("tus");
        let u = Uploads::open(tus.clone()).unwrap();
        let a = u.create(meta(1)).unwrap();
        let b = u.create(meta(2)).unwrap();
        assert_eq!(a.len(), 32);
        std::fs::write(u.part(&a), b"12345").unwrap();
        assert!(u.get(&a, 1).is_some() && u.get(&a, 2).is_none());
        assert_eq!(u.open_for(1), 1);
        // Junk beside them: a part without its facts, facts that do not read.
        std::fs::write(tus.join("orphan.part"), b"x").unwrap();
        std::fs::write(tus.join("broken.json"), b"{").unwrap();
        drop(u);
        let u = Uploads::open(tus.clone()).unwrap();
        assert_eq!(std::fs::read(u.part(&a)).unwrap(), b"12345");
        assert!(u.get(&b, 2).is_some());
        assert!(!tus.join("orphan.part").exists() && !tus.join("broken.json").exists());
        // Not expired yet; then expired, but one is being written.
        assert_eq!(u.sweep(Duration::from_secs(3600)), 0);
        let slot = u.get(&b, 2).unwrap();
        let held = slot.lock.try_lock().unwrap();
        assert_eq!(u.sweep(Duration::ZERO), 1);
        assert!(u.get(&a, 1).is_none() && !u.part(&a).exists());
        drop(held);
        assert_eq!(u.sweep(Duration::ZERO), 1);
        assert_eq!(std::fs::read_dir(&tus).unwrap().count(), 0);
    }

    #[test]
    fn expiry_dates_are_http_dates() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_547_200);
        assert_eq!(http_date(t), "Mon, 01 Dec 2025 00:00:00 GMT");
    }
}
