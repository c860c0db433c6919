//! What stations write and pull: uploads of archived documents (PDF + record)
//! and the register rows of their units.
//!
//! An upload is checked before anything is written: the PDF's SHA-256 and size
//! against the record, the PDF itself (it opens, is not encrypted, has the
//! pages the record lists), and the dossier's unit against the station's. The
//! PDF is then written durably under the server's own archive path and recorded
//! in one transaction. Uploads are idempotent: the same PDF of the same
//! component is acknowledged with the id it already has.

use super::{station, with_records, ApiError, Shared};
use crate::codes::DossierCode;
use crate::format::UiLanguage;
use crate::records::{RegisterCursor, Station, Stored, UploadRecord};
use crate::register::RegisterRow;
use crate::store::{archive_rel_path, sha256_hex, write_atomic};
use axum::body::Bytes;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The reply to an accepted upload.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct UploadReply {
    /// The document's id on the server.
    pub id: i64,
    /// True when the server already had this PDF (a retry after a lost reply).
    pub duplicate: bool,
}

fn refuse(
    status: StatusCode,
    code: &'static str,
    vi: String,
    en: String,
    lang: UiLanguage,
) -> ApiError {
    ApiError::new(status, code, &vi, &en, lang)
}

pub(super) async fn upload(
    State(app): State<Shared>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let station = match station(&app, &headers).await {
        Ok(s) => s,
        Err(e) => {
            // Read a small body before refusing, so the client, still sending,
            // gets the 401 rather than a closed connection; a large one is not
            // worth reading for a caller without a valid token.
            drain(&mut form, 1 << 20).await;
            return Err(e);
        }
    };
    let lang = app.settings.ui_language;
    let bad = |why: String| {
        refuse(
            StatusCode::BAD_REQUEST,
            "E_BAD_UPLOAD",
            format!("Yêu cầu gửi tài liệu không hợp lệ: {why}."),
            format!("Malformed upload: {why}."),
            lang,
        )
    };
    let mut record: Option<UploadRecord> = None;
    let mut pdf: Option<Bytes> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(e, lang)),
        };
        match field.name() {
            Some("record") => {
                let bytes = field.bytes().await.map_err(|e| multipart_error(e, lang))?;
                record =
                    Some(serde_json::from_slice(&bytes).map_err(|e| bad(format!("record: {e}")))?);
            }
            Some("pdf") => pdf = Some(field.bytes().await.map_err(|e| multipart_error(e, lang))?),
            _ => {}
        }
    }
    let (Some(rec), Some(pdf)) = (record, pdf) else {
        return Err(bad(
            "cần hai phần 'record' và 'pdf' / both 'record' and 'pdf' parts are needed".into(),
        ));
    };
    if rec.document.version == 0 || rec.document.name.trim().is_empty() {
        return Err(bad(format!(
            "tên tài liệu hoặc phiên bản trống / empty name or version ({:?} v{})",
            rec.document.name, rec.document.version
        )));
    }
    // The code names the unit when it follows the national pattern; trust it over the record.
    if rec.dossier.standard {
        match DossierCode::parse(&rec.dossier.code) {
            Some(c) if c == rec.dossier => {}
            _ => {
                return Err(bad(format!(
                    "mã hồ sơ {} không khớp đơn vị, ngày ghi kèm / the code does not match its unit and date",
                    rec.dossier.code
                )))
            }
        }
    }

    // The bytes are what the station recorded.
    let digest = sha256_hex(&pdf);
    if !digest.eq_ignore_ascii_case(&rec.document.sha256) || pdf.len() as u64 != rec.document.bytes
    {
        return Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "E_HASH_MISMATCH",
            format!(
                "Tệp PDF nhận được ({} byte, SHA-256 {}) không khớp với bản ghi ({} byte, SHA-256 {}): tệp đã bị hỏng khi truyền hoặc đã bị sửa. Máy chủ không lưu tệp này; trạm sẽ gửi lại.",
                pdf.len(), &digest[..12], rec.document.bytes, short(&rec.document.sha256)
            ),
            format!(
                "The PDF received ({} bytes, SHA-256 {}) does not match its record ({} bytes, SHA-256 {}): damaged in transit or altered. Not stored; the station will send it again.",
                pdf.len(), &digest[..12], rec.document.bytes, short(&rec.document.sha256)
            ),
            lang,
        ));
    }
    // The PDF opens and has the pages its record lists.
    let pdf = std::sync::Arc::new(Vec::from(pdf));
    let bytes = std::sync::Arc::clone(&pdf);
    let pages = tokio::task::spawn_blocking(move || crate::decode::pdf::page_count(&bytes))
        .await
        .map_err(|e| bad(e.to_string()))?;
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
            StatusCode::UNPROCESSABLE_ENTITY,
            "E_BAD_PDF",
            format!("Tệp gửi lên không phải tệp PDF lưu trữ đọc được ({vi}). Máy chủ không lưu tệp này."),
            format!("The upload is not a readable archive PDF ({en}). Not stored."),
            lang,
        ));
    }

    let allowed = app.tree.subtree_codes(&station.unit_code);
    if !allowed.contains(&rec.dossier.unit) {
        return Err(other_unit(
            &station,
            &rec.dossier.code,
            &rec.dossier.unit,
            lang,
        ));
    }

    let (id, duplicate) = with_records(&app, move |r, app| {
        let lang = app.settings.ui_language;
        if let Some(unit) = r.dossier_unit(&rec.dossier.code).map_err(ApiError::records)? {
            if !allowed.contains(&unit) {
                return Err(other_unit(&station, &rec.dossier.code, &unit, lang));
            }
        }
        match r.uploaded(&rec).map_err(ApiError::records)? {
            Some(Stored::Duplicate(id)) => return Ok((id, true)),
            Some(Stored::Conflict) => {
                return Err(refuse(
                    StatusCode::CONFLICT,
                    "E_VERSION_CONFLICT",
                    format!(
                        "Máy chủ đã có phiên bản {} của tài liệu {} (hồ sơ {}) với nội dung khác. Hãy kiểm tra xem hồ sơ có được số hóa ở hai nơi không.",
                        rec.document.version, rec.document.name, rec.dossier.code
                    ),
                    format!(
                        "The server already has version {} of {} (dossier {}) with other content. Check whether the dossier was digitized in two places.",
                        rec.document.version, rec.document.name, rec.dossier.code
                    ),
                    app.settings.ui_language,
                ))
            }
            None => {}
        }
        let rel = archive_rel_path(&rec.dossier, rec.document.kind, &rec.document.name, rec.document.version);
        write_atomic(&app.settings.data_dir.join(&rel), &pdf).map_err(|e| {
            tracing::error!(error = %e, "archive write");
            ApiError {
                status: StatusCode::INSUFFICIENT_STORAGE,
                code: "E_STORE",
                message: e.to_string(),
            }
        })?;
        let id = r
            .record_upload(&rec, &rel.to_string_lossy(), station.id)
            .map_err(ApiError::records)?;
        Ok((id, false))
    })
    .await?;
    let status = if duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(UploadReply { id, duplicate })).into_response())
}

fn other_unit(station: &Station, code: &str, unit: &str, lang: UiLanguage) -> ApiError {
    refuse(
        StatusCode::FORBIDDEN,
        "E_OTHER_UNIT",
        format!(
            "Trạm {} chỉ được gửi hồ sơ của đơn vị {} và các đơn vị trực thuộc; hồ sơ {code} thuộc đơn vị {unit}. Hãy chuyển hồ sơ cho đúng đơn vị.",
            station.name, station.unit_code
        ),
        format!(
            "Station {} may only send dossiers of unit {} and the units under it; dossier {code} belongs to {unit}.",
            station.name, station.unit_code
        ),
        lang,
    )
}

/// Reads and drops up to `limit` bytes of a multipart body.
async fn drain(form: &mut Multipart, limit: usize) {
    let mut read = 0;
    while let Ok(Some(mut field)) = form.next_field().await {
        while let Ok(Some(chunk)) = field.chunk().await {
            read += chunk.len();
            if read > limit {
                return;
            }
        }
    }
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

fn multipart_error(e: axum::extract::multipart::MultipartError, lang: UiLanguage) -> ApiError {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        refuse(
            status,
            "E_TOO_LARGE",
            format!("Tệp gửi lên vượt giới hạn của máy chủ ({e}). Hãy tăng [serve] max_upload_mib trên máy chủ."),
            format!("The upload exceeds the server's limit ({e}). Raise [serve] max_upload_mib on the server."),
            lang,
        )
    } else {
        refuse(
            StatusCode::BAD_REQUEST,
            "E_BAD_UPLOAD",
            format!("Không đọc được dữ liệu gửi lên ({e}); kết nối có thể đã bị ngắt. Trạm sẽ gửi lại."),
            format!("Cannot read the upload ({e}); the connection may have dropped. The station will send it again."),
            lang,
        )
    }
}

/// The station the token belongs to: what a station asks first, so a
/// refused token is told apart from a server out of reach before any upload.
pub(super) async fn whoami(
    State(app): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    Ok(Json(station(&app, &headers).await?).into_response())
}

#[derive(serde::Deserialize)]
pub(super) struct RegisterQuery {
    #[serde(default)]
    after_seq: i64,
    #[serde(default)]
    after_code: String,
    limit: Option<u32>,
}

/// A page of register rows for a station.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct RegisterPage {
    pub rows: Vec<RegisterRow>,
    /// Where the next page starts (the last row's position), or the query's.
    pub cursor: RegisterCursor,
    pub more: bool,
}

/// Register rows of the station's units changed after the cursor.
pub(super) async fn register(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, ApiError> {
    let station = station(&app, &headers).await?;
    let limit = q.limit.unwrap_or(2000).clamp(1, 10_000);
    let after = RegisterCursor {
        seq: q.after_seq,
        code: q.after_code,
    };
    let page = with_records(&app, move |r, app| {
        let units = app.tree.subtree_codes(&station.unit_code);
        let rows = r
            .register_since(&units, &after, limit)
            .map_err(ApiError::records)?;
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
