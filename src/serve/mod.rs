//! `sohoa serve`: an HTTP API over the records, for the district server and
//! its stations. Every request except `/health` carries a station token
//! (`Authorization: Bearer …`, created by `sohoa station add`, kept only as
//! its SHA-256). The records are synchronous; handlers reach them on the
//! blocking pool, one at a time. The API is described in `docs/openapi.yaml`.

mod station;

pub use station::{RegisterPage, UploadReply};

use crate::config::Settings;
use crate::format::UiLanguage;
use crate::records::{Records, RecordsError, Station};
use crate::report::{self, By, Period, PeriodSpec, Request};
use crate::units::{Level, UnitTree};
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

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
    records: Mutex<Records>,
    tree: UnitTree,
}

type Shared = Arc<App>;

/// An error as the API returns it: a status and a JSON body with a stable
/// code and a message in the server's language.
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: &'static str,
        vi: &str,
        en: &str,
        lang: UiLanguage,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: if lang == UiLanguage::Vi { vi } else { en }.to_string(),
        }
    }

    fn records(e: RecordsError) -> ApiError {
        tracing::error!(error = %e, "records");
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "E_DATABASE",
            message: e.to_string(),
        }
    }
}

/// Runs `f` on the records, on the blocking pool.
async fn with_records<T: Send + 'static>(
    app: &Shared,
    f: impl FnOnce(&mut Records, &App) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let mut records = app.records.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut records, &app)
    })
    .await
    .map_err(|e| ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: "E_INTERNAL",
        message: e.to_string(),
    })?
}

/// The station whose token the request carries.
async fn station(app: &Shared, headers: &HeaderMap) -> Result<Station, ApiError> {
    let lang = app.settings.ui_language;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let Some(token) = token else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "E_NO_TOKEN",
            "Thiếu mã truy cập của trạm (Authorization: Bearer …). Hãy tạo bằng lệnh sohoa station add.",
            "Missing station token (Authorization: Bearer …). Create one with sohoa station add.",
            lang,
        ));
    };
    let digest = token_digest(&token);
    let found = with_records(app, move |r, _| {
        r.station_by_token(&digest).map_err(ApiError::records)
    })
    .await?;
    found.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "E_BAD_TOKEN",
            "Mã truy cập của trạm không đúng hoặc đã bị thu hồi.",
            "The station token is wrong or was revoked.",
            lang,
        )
    })
}

async fn health(State(app): State<Shared>) -> Response {
    let ok = with_records(&app, |r, _| r.metrics().map_err(ApiError::records))
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

async fn metrics(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    station(&app, &headers).await?;
    let ([documents, pages, failures, queue], ocr_seconds) =
        with_records(&app, |r, _| r.metrics().map_err(ApiError::records)).await?;
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
         # TYPE sohoa_ocr_seconds_total counter\nsohoa_ocr_seconds_total {ocr_seconds:.3}\n"
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

async fn dossier(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    station(&app, &headers).await?;
    let lang = app.settings.ui_language;
    let view = with_records(&app, move |r, _| {
        r.dossier_view(&code).map_err(ApiError::records)
    })
    .await?;
    match view {
        Some(v) => Ok(Json(v).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "E_NOT_FOUND",
            "Không có hồ sơ này trên máy chủ.",
            "No such dossier on the server.",
            lang,
        )),
    }
}

async fn document_pdf(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    station(&app, &headers).await?;
    let lang = app.settings.ui_language;
    let found = with_records(&app, move |r, _| {
        r.document_path(id).map_err(ApiError::records)
    })
    .await?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "E_NOT_FOUND",
            "Không có tài liệu này trên máy chủ.",
            "No such document on the server.",
            lang,
        )
    };
    let (path, _) = found.ok_or_else(not_found)?;
    let bytes = tokio::fs::read(app.settings.data_dir.join(&path))
        .await
        .map_err(|_| not_found())?;
    let name = std::path::Path::new(&path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename*=UTF-8''{}", percent_encode(&name)),
            ),
        ],
        Body::from(bytes),
    )
        .into_response())
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

async fn reports(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    station(&app, &headers).await?;
    let lang = app.settings.ui_language;
    let bad = |msg: String| ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "E_USAGE",
        message: msg,
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
        unit: q.unit.clone(),
        lang,
    };
    let made = with_records(&app, move |r, app| {
        report::make(r, &app.tree, &req).map_err(ApiError::records)
    })
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

const HEALTH: &str = "/health";
const METRICS: &str = "/metrics";
const DOSSIER: &str = "/api/v1/dossiers/{code}";
const DOCUMENT_PDF: &str = "/api/v1/documents/{id}/pdf";
const REPORTS: &str = "/api/v1/reports";
const UPLOAD: &str = "/api/v1/documents";
const REGISTER: &str = "/api/v1/register";
const STATION: &str = "/api/v1/station";

/// Paths of the API, for its clients.
pub mod paths {
    pub const UPLOAD: &str = super::UPLOAD;
    pub const REGISTER: &str = super::REGISTER;
    pub const STATION: &str = super::STATION;
    pub const HEALTH: &str = super::HEALTH;
}

fn router(app: Shared) -> Router {
    let max_upload = usize::try_from(app.settings.serve.max_upload_mib.saturating_mul(1 << 20))
        .unwrap_or(usize::MAX);
    Router::new()
        .route(
            UPLOAD,
            post(station::upload).layer(DefaultBodyLimit::max(max_upload)),
        )
        .route(REGISTER, get(station::register))
        .route(STATION, get(station::whoami))
        .route(HEALTH, get(health))
        .route(METRICS, get(metrics))
        .route(DOSSIER, get(dossier))
        .route(DOCUMENT_PDF, get(document_pdf))
        .route(REPORTS, get(reports))
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
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Serves until SIGTERM or Ctrl-C; `ready` is called with the bound address.
pub fn serve(
    settings: Settings,
    tree: UnitTree,
    listen: &str,
    tls: Option<Tls>,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<(), ServeError> {
    let records = Records::open_configured(&settings)?;
    // Uploads cut short by a kill of this server leave temporary files behind.
    let swept = crate::store::sweep_orphan_temps(&settings.data_dir.join("archive"));
    if swept > 0 {
        tracing::info!(swept, "removed temporary files of interrupted writes");
    }
    let app = Arc::new(App {
        settings,
        records: Mutex::new(records),
        tree,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = std::net::TcpListener::bind(listen).map_err(|source| ServeError::Listen {
            addr: listen.to_string(),
            source,
        })?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let handle = axum_server::Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
            stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
        });
        ready(addr);
        let service = router(app).into_make_service();
        match tls {
            None => axum_server::from_tcp(listener).handle(handle).serve(service).await?,
            Some(t) => {
                install_crypto_provider();
                let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&t.cert, &t.key)
                    .await
                    .map_err(ServeError::Tls)?;
                axum_server::from_tcp_rustls(listener, config).handle(handle).serve(service).await?
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_description_has_every_route() {
        let doc = include_str!("../../docs/openapi.yaml");
        for route in [
            HEALTH,
            METRICS,
            DOSSIER,
            DOCUMENT_PDF,
            REPORTS,
            UPLOAD,
            REGISTER,
            STATION,
        ] {
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
}
