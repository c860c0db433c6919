//! `sohoa serve`: an HTTP API over the records, for the district server and
//! its stations. Every request except `/health` carries a station token
//! (`Authorization: Bearer …`, created by `sohoa station add`, kept only as
//! its SHA-256). The records are synchronous; handlers reach them on the
//! blocking pool, one at a time. The API is described in `docs/openapi.yaml`.

mod station;

mod limits;

mod resumable;

use crate::api::paths;
use crate::config::Settings;
use crate::errors::ErrorCode;
use crate::format::UiLanguage;
use crate::records::{Records, RecordsError, Station};
use crate::report::{self, By, Period, PeriodSpec, Request};
use crate::units::{Level, UnitTree};
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

/// rustls is built with more than one crypto backend here (reqwest brings
/// ring); name the one this process uses, before any TLS configuration.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A new station token: 32 random bytes from the kernel, as hex.
pub fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// What is stored for a token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

struct App {
    settings: Settings,
    records: Records,
    tree: UnitTree,
    /// Turns for uploads being received (`[serve] max_concurrent_uploads`).
    uploads: tokio::sync::Semaphore,
    /// Resumable uploads in progress (tus).
    resumable: resumable::Uploads,
    /// Turns for scans of many rows (reports, metrics).
    scans: Scans,
    /// The certificate authorities a signed upload must chain to (`[sign] trust_anchors`).
    anchors: Arc<Vec<Vec<u8>>>,
}

/// Scans of many rows (reports, metrics) take turns, and rest after each for
/// as long as their share (`[serve] report_share_percent`) asks: leaders
/// asking for reports in a loop then wait, instead of taking the cores that
/// stations' uploads need. The rest is measured in wall time, so a scan slowed
/// by a busy machine rests longer.
struct Scans {
    turns: Arc<tokio::sync::Semaphore>,
    /// Rest after a scan, as a multiple of the time it took.
    rest: f64,
}

impl Scans {
    fn new(turns: usize, share_percent: f64) -> Scans {
        let share = (share_percent / 100.0).clamp(0.01, 1.0);
        Scans {
            turns: Arc::new(tokio::sync::Semaphore::new(turns.max(1))),
            rest: 1.0 / share - 1.0,
        }
    }

    /// Runs `scan` in its turn; the turn is held through the rest after the
    /// answer has gone, so the caller does not wait for it.
    async fn run<T>(
        &self,
        lang: UiLanguage,
        scan: impl std::future::Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        let turn = self
            .turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::internal(e, lang))?;
        let started = tokio::time::Instant::now();
        let made = scan.await;
        let rest = started.elapsed().mul_f64(self.rest);
        tokio::spawn(async move {
            tokio::time::sleep(rest).await;
            drop(turn);
        });
        made
    }
}

type Shared = Arc<App>;

/// An error as the API returns it: a status and a JSON body with a stable
/// code and a message in the server's language. Never a server path: what
/// IT staff need goes to the log.
struct ApiError {
    code: ErrorCode,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self
            .code
            .http_status()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = crate::api::ErrorBody {
            error: self.code.as_wire().to_string(),
            message: self.message,
        };
        let mut r = (status, Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        if self.code == ErrorCode::TusVersion {
            // tus 1.0: a 412 names the versions the server speaks.
            r.headers_mut().insert(
                crate::api::tus::TUS_VERSION,
                header::HeaderValue::from_static(crate::api::tus::VERSION),
            );
        }
        r
    }
}

impl ApiError {
    /// `code` with the message for the server's language (the status is the code's).
    fn new(code: ErrorCode, vi: &str, en: &str, lang: UiLanguage) -> ApiError {
        ApiError {
            code,
            message: if lang == UiLanguage::Vi { vi } else { en }.to_string(),
        }
    }

    fn records(e: RecordsError, lang: UiLanguage) -> ApiError {
        tracing::error!(error = crate::errors::chain(&e), "records");
        ApiError::new(
            ErrorCode::Database,
            "Cơ sở dữ liệu của máy chủ đang không dùng được; hãy thử lại sau ít phút.",
            "The server's database is unavailable; try again in a few minutes.",
            lang,
        )
    }

    fn internal(what: impl std::fmt::Display, lang: UiLanguage) -> ApiError {
        tracing::error!(error = %what, "internal");
        ApiError::new(
            ErrorCode::Internal,
            "Lỗi nội bộ của máy chủ; hãy báo cho bộ phận CNTT.",
            "Internal server error; tell the IT staff.",
            lang,
        )
    }

    fn not_found(lang: UiLanguage) -> ApiError {
        ApiError::new(
            ErrorCode::NotFound,
            "Không có mục này trên máy chủ, hoặc trạm không được xem.",
            "Not on the server, or not this station's to see.",
            lang,
        )
    }
}

/// Runs `f` on the records, on the blocking pool; the records hand out a
/// pooled connection per call, so callers never wait for one another here.
async fn blocking<T: Send + 'static>(
    app: &Shared,
    f: impl FnOnce(&Records, &App) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let app = app.clone();
    let lang = app.settings.ui_language;
    tokio::task::spawn_blocking(move || f(&app.records, &app))
        .await
        .map_err(|e| ApiError::internal(e, lang))?
}

/// Who is calling: the station its token belongs to, and the units it may
/// see and write (its own and those under it in the unit tree). Every route
/// but `/health` takes one, so the scope is decided here and only here.
pub(crate) struct Caller {
    station: Station,
    units: HashSet<String>,
}

impl Caller {
    /// Whether a record of `unit` is this caller's to see or write.
    fn sees(&self, unit: &str) -> bool {
        self.units.contains(unit)
    }
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Caller, ApiError> {
        authenticate(app, &parts.headers).await
    }
}

/// The station whose token the request carries, with its units.
async fn authenticate(app: &Shared, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let lang = app.settings.ui_language;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let Some(token) = token else {
        return Err(ApiError::new(
            ErrorCode::NoToken,
            "Thiếu mã truy cập của trạm (Authorization: Bearer …). Hãy tạo bằng lệnh sohoa station add.",
            "Missing station token (Authorization: Bearer …). Create one with sohoa station add.",
            lang,
        ));
    };
    let digest = token_digest(&token);
    let found = blocking(app, move |r, _| {
        r.station_by_token(&digest)
            .map_err(|e| ApiError::records(e, lang))
    })
    .await?;
    let station = found.ok_or_else(|| {
        ApiError::new(
            ErrorCode::BadToken,
            "Mã truy cập của trạm không đúng hoặc đã bị thu hồi.",
            "The station token is wrong or was revoked.",
            lang,
        )
    })?;
    let units = app
        .tree
        .subtree_codes(&station.unit_code)
        .into_iter()
        .collect();
    Ok(Caller { station, units })
}

/// Up or not, cheaply: one `SELECT 1`, whatever else the server is doing.
async fn health(State(app): State<Shared>) -> Response {
    let lang = app.settings.ui_language;
    let ok = blocking(&app, move |r, _| {
        r.ping().map_err(|e| ApiError::records(e, lang))
    })
    .await
    .is_ok();
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "database unavailable" },
        "version": env!("CARGO_PKG_VERSION"),
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Server-wide figures: for a monitoring token, or the server's own host
/// when `[serve] metrics_from_loopback` allows it; a station token is refused.
async fn metrics(
    State(app): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = app.settings.ui_language;
    let local = app.settings.serve.metrics_from_loopback
        && peer.ip().is_loopback()
        && !headers.contains_key(header::AUTHORIZATION);
    if !local {
        let caller = authenticate(&app, &headers).await?;
        if !caller.station.monitor {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "Mã truy cập này không được xem số liệu của máy chủ; hãy dùng mã tạo bằng sohoa station add … --monitor.",
                "This token may not read the server's figures; use one made with sohoa station add … --monitor.",
                lang,
            ));
        }
    }
    let ([documents, pages, failures, queue], ocr_seconds) = app
        .scans
        .run(
            lang,
            blocking(&app, move |r, _| {
                r.metrics().map_err(|e| ApiError::records(e, lang))
            }),
        )
        .await?;
    let busy = app.settings.serve.max_concurrent_uploads as usize - app.uploads.available_permits();
    let text = format!(
        "# HELP sohoa_documents_total Documents archived (every version).\n\
         # TYPE sohoa_documents_total counter\nsohoa_documents_total {documents}\n\
         # HELP sohoa_pages_total Pages archived.\n\
         # TYPE sohoa_pages_total counter\nsohoa_pages_total {pages}\n\
         # HELP sohoa_failures_unresolved Inputs that failed and were not digitized since.\n\
         # TYPE sohoa_failures_unresolved gauge\nsohoa_failures_unresolved {failures}\n\
         # HELP sohoa_queue_depth Dossier folders queued or being processed by workers.\n\
         # TYPE sohoa_queue_depth gauge\nsohoa_queue_depth {queue}\n\
         # HELP sohoa_ocr_seconds_total Seconds Tesseract spent on the archived pages.\n\
         # TYPE sohoa_ocr_seconds_total counter\nsohoa_ocr_seconds_total {ocr_seconds:.3}\n\
         # HELP sohoa_uploads_in_progress Uploads being received now.\n\
         # TYPE sohoa_uploads_in_progress gauge\nsohoa_uploads_in_progress {busy}\n"
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// A dossier of the caller's units, with its documents (each with the path
/// to download it; the server's own archive paths are not shown).
async fn dossier(
    State(app): State<Shared>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let lang = app.settings.ui_language;
    if code.contains('\0') {
        return Err(ApiError::not_found(lang));
    }
    let view = blocking(&app, move |r, _| {
        r.dossier_view(&code)
            .map_err(|e| ApiError::records(e, lang))
    })
    .await?;
    match view {
        Some(v) if caller.sees(&v.unit_code) => {
            let mut json = serde_json::to_value(&v).map_err(|e| ApiError::internal(e, lang))?;
            if let Some(docs) = json["documents"].as_array_mut() {
                for (d, doc) in docs.iter_mut().zip(&v.documents) {
                    if let Some(d) = d.as_object_mut() {
                        d.remove("archive_path");
                        // "5.3.0 [/usr/…/tessdata]": the engine's version, not where its models are.
                        if let Some(v) = d.get_mut("ocr_version") {
                            if let Some(s) = v.as_str().and_then(|s| s.split(" [").next()) {
                                *v = s.into();
                            }
                        }
                        d.insert("pdf".into(), paths::document_pdf(doc.id).into());
                    }
                }
            }
            Ok(Json(json).into_response())
        }
        // Another unit's dossier is answered like one that does not exist.
        _ => Err(ApiError::not_found(lang)),
    }
}

/// A document's PDF, streamed from the archive, for the caller's units only.
async fn document_pdf(
    State(app): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let lang = app.settings.ui_language;
    let found = blocking(&app, move |r, _| {
        r.document_path(id).map_err(|e| ApiError::records(e, lang))
    })
    .await?;
    let path = match found {
        Some((path, unit)) if caller.sees(&unit) => path,
        _ => return Err(ApiError::not_found(lang)),
    };
    let file = tokio::fs::File::open(app.settings.data_dir.join(&path))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, path, "archive file of a recorded document");
            ApiError::not_found(lang)
        })?;
    let len = file.metadata().await.map(|m| m.len()).ok();
    let name = std::path::Path::new(&path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut r = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = format!("inline; filename*=UTF-8''{}", percent_encode(&name)).parse() {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(len) = len {
        h.insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
    }
    Ok(r)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(serde::Deserialize, Default)]
struct ReportQuery {
    year: Option<i32>,
    quarter: Option<String>,
    month: Option<String>,
    from: Option<String>,
    to: Option<String>,
    level: Option<String>,
    by: Option<String>,
    unit: Option<String>,
    format: Option<String>,
}

/// The 766 report, clamped to the caller's units: without `unit`, the
/// station's own unit and those under it; a unit outside them is not found.
async fn reports(
    State(app): State<Shared>,
    caller: Caller,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let lang = app.settings.ui_language;
    let bad = |message: String| ApiError {
        code: ErrorCode::Usage,
        message,
    };
    let unit = match q.unit.clone() {
        None => caller.station.unit_code.clone(),
        Some(u) if caller.sees(&u) => u,
        Some(_) => return Err(ApiError::not_found(lang)),
    };
    let period = Period::resolve(
        &PeriodSpec {
            year: q.year,
            quarter: q.quarter.clone(),
            month: q.month.clone(),
            from: q.from.clone(),
            to: q.to.clone(),
        },
        lang,
    )
    .map_err(bad)?;
    let by = match q.by.as_deref().unwrap_or("level") {
        "level" => By::Level,
        "unit" => By::Unit,
        "procedure" => By::Procedure,
        "field" => By::Field,
        "month" => By::Month,
        other => {
            return Err(bad(format!(
                "by={other}: level, unit, procedure, field, month"
            )))
        }
    };
    let level = match q.level.as_deref() {
        None => None,
        Some(l) => Some(Level::parse(l).ok_or_else(|| bad(format!("level={l}: tinh, huyen, xa")))?),
    };
    let csv = match q.format.as_deref().unwrap_or("json") {
        "json" => false,
        "csv" => true,
        other => return Err(bad(format!("format={other}: json, csv"))),
    };
    let req = Request {
        period,
        level,
        by,
        unit: Some(unit),
        signed_only: app.settings.report.signed_only,
        lang,
    };
    let made = app
        .scans
        .run(
            lang,
            blocking(&app, move |r, app| {
                report::make(r, &app.tree, &req).map_err(|e| ApiError::records(e, lang))
            }),
        )
        .await?;
    Ok(if csv {
        (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            made.to_csv(),
        )
            .into_response()
    } else {
        Json(made).into_response()
    })
}

fn router(app: Shared) -> Router {
    let max_upload = usize::try_from(app.settings.serve.max_upload_mib.saturating_mul(1 << 20))
        .unwrap_or(usize::MAX)
        .saturating_add(1 << 20);
    Router::new()
        .route(
            paths::UPLOAD,
            post(station::upload).layer(DefaultBodyLimit::max(max_upload)),
        )
        .route(
            paths::UPLOADS,
            post(resumable::create).options(resumable::options),
        )
        .route(
            paths::UPLOAD_PART,
            axum::routing::head(resumable::head)
                .patch(resumable::patch)
                .delete(resumable::delete),
        )
        .route(paths::REGISTER, get(station::register))
        .route(paths::STATION, get(station::whoami))
        .route(paths::HEALTH, get(health))
        .route(paths::METRICS, get(metrics))
        .route(paths::DOSSIER, get(dossier))
        .route(paths::DOCUMENT_PDF, get(document_pdf))
        .route(paths::REPORTS, get(reports))
        .with_state(app)
}

/// TLS files for `--tls-cert`/`--tls-key`.
pub struct Tls {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Records(#[from] RecordsError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot read the TLS certificate or key: {0}")]
    Tls(std::io::Error),
    /// `[sign] trust_anchors` cannot be read.
    #[error("cannot read the trust anchors ([sign] trust_anchors): {0}")]
    Anchors(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Serves until SIGTERM or Ctrl-C; `ready` is called with the bound address.
/// A stop drains requests under way (up to 10 s) and returns `Ok`; an upload
/// cut by it leaves nothing recorded and its temporary file removed.
pub fn serve(
    settings: Settings,
    tree: UnitTree,
    listen: &str,
    tls: Option<Tls>,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<(), ServeError> {
    let anchors = crate::sign::verify::read_anchors(&settings.sign.trust_anchors)
        .map_err(ServeError::Anchors)?;
    let records = Records::open_configured(&settings)?;
    // Uploads cut short by a kill of this server leave temporary files behind.
    let swept = crate::store::sweep_orphan_temps(&settings.data_dir.join("archive"));
    if swept > 0 {
        tracing::info!(swept, "removed temporary files of interrupted writes");
    }
    let uploads =
        tokio::sync::Semaphore::new(settings.serve.max_concurrent_uploads.max(1) as usize);
    let resumable = resumable::Uploads::open(
        settings
            .data_dir
            .join("archive")
            .join(".incoming")
            .join("tus"),
    )?;
    // Half the cores for scans, the rest for uploads and quick reads.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let scans = Scans::new(cores / 2, settings.serve.report_share_percent);
    let app = Arc::new(App {
        settings,
        records,
        tree,
        uploads,
        resumable,
        scans,
        anchors: Arc::new(anchors),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(run(app.clone(), listen, tls, ready));
    // The records' PostgreSQL connections each own a small runtime of their
    // own, which may not be dropped inside this one: stop this one first
    // (its tasks and their handles on `app` go with it), then the records.
    drop(runtime);
    drop(app);
    result
}

async fn run(
    app: Shared,
    listen: &str,
    tls: Option<Tls>,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<(), ServeError> {
    let listener = std::net::TcpListener::bind(listen).map_err(|source| ServeError::Listen {
        addr: listen.to_string(),
        source,
    })?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    let limits = &app.settings.serve;
    let header_timeout = std::time::Duration::from_secs_f64(limits.header_timeout_seconds.max(0.5));
    let per_address = limits::PerAddress::new(limits.max_connections_per_address.max(1) as usize);
    tokio::spawn(resumable::sweeper(app.clone()));
    ready(addr);
    let service = router(app.clone()).into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => {
            let mut server = axum_server::from_tcp(listener)
                .acceptor(per_address)
                .handle(handle);
            limits::timeouts(server.http_builder(), header_timeout);
            server.serve(service).await?
        }
        Some(t) => {
            install_crypto_provider();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&t.cert, &t.key)
                .await
                .map_err(ServeError::Tls)?;
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
                .handshake_timeout(header_timeout)
                .acceptor(per_address);
            let mut server = axum_server::from_tcp(listener)
                .acceptor(acceptor)
                .handle(handle);
            limits::timeouts(server.http_builder(), header_timeout);
            server.serve(service).await?
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_description_has_every_route() {
        let doc = include_str!("../../docs/openapi.yaml");
        for route in paths::ALL {
            assert!(
                doc.contains(&format!("\n  {route}:\n")),
                "{route} missing from docs/openapi.yaml"
            );
        }
    }

    #[test]
    fn tokens_are_random_and_stored_as_digests() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_digest(&a), token_digest(&format!(" {a}\n")));
        assert_ne!(token_digest(&a), a);
    }

    /// A scan's turn rests after it, in proportion to its share: at 25 % a
    /// scan of 100 ms keeps the next one waiting 300 ms more, whoever asks;
    /// at 100 % the next one goes at once.
    #[tokio::test(start_paused = true)]
    async fn scans_rest_after_each_turn_by_their_share() {
        use std::time::Duration;
        let lang = UiLanguage::Vi;
        let scan = || async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok::<_, ApiError>(())
        };
        for (share, waits) in [(25.0, 300), (50.0, 100), (100.0, 0)] {
            let scans = Scans::new(1, share);
            let start = tokio::time::Instant::now();
            assert!(scans.run(lang, scan()).await.is_ok());
            assert_eq!(
                start.elapsed(),
                Duration::from_millis(100),
                "the answer does not wait"
            );
            scans.run(lang, scan()).await.ok();
            assert_eq!(
                start.elapsed(),
                Duration::from_millis(200 + waits),
                "share {share} %"
            );
        }
    }
}
