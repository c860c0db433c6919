//! The HTTP API between stations and the district server: its paths and every
//! type that crosses the wire (upload record and reply, register page, error
//! body). Both `serve` and `sync` use these, and only these, so the API
//! changes only here: the records' own structs are converted at the edge,
//! never serialised as they are.

use crate::intake::DocKind;
use crate::records::{InputFile, NewDocument, PageRecord, RegisterCursor};
use crate::register::RegisterRow;
use serde::{Deserialize, Serialize};

/// Paths of the API (`docs/openapi.yaml` describes each).
pub mod paths {
    pub const HEALTH: &str = "/health";
    pub const METRICS: &str = "/metrics";
    pub const DOSSIER: &str = "/api/v1/dossiers/{code}";
    pub const DOCUMENT_PDF: &str = "/api/v1/documents/{id}/pdf";
    pub const REPORTS: &str = "/api/v1/reports";
    pub const UPLOAD: &str = "/api/v1/documents";
    pub const REGISTER: &str = "/api/v1/register";
    pub const STATION: &str = "/api/v1/station";
    /// Resumable uploads (tus 1.0): created here, then `UPLOAD_PART`.
    pub const UPLOADS: &str = "/api/v1/uploads";
    pub const UPLOAD_PART: &str = "/api/v1/uploads/{id}";
    /// Every route, for the test that the OpenAPI description has them all.
    pub const ALL: [&str; 10] = [
        HEALTH,
        METRICS,
        DOSSIER,
        DOCUMENT_PDF,
        REPORTS,
        UPLOAD,
        REGISTER,
        STATION,
        UPLOADS,
        UPLOAD_PART,
    ];

    /// The download path of a document.
    pub fn document_pdf(id: i64) -> String {
        DOCUMENT_PDF.replace("{id}", &id.to_string())
    }
}

/// The dossier an upload belongs to, as the station recorded it. The server
/// reads the unit and the receipt date from a code of the national form and
/// ignores what a station says about them; `unit` counts only for a local
/// (non-standard) code, and only inside the station's own units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadDossier {
    pub code: String,
    pub unit: String,
}

/// One page of an uploaded document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadPage {
    pub page_no: u32,
    pub width_px: u32,
    pub height_px: u32,
    pub dpi: Option<(f32, f32)>,
    pub color: String,
    pub turn: u16,
    pub deskew_deg: f32,
    pub blank: bool,
    pub mean_confidence: Option<f32>,
    pub words: u32,
    #[serde(default)]
    pub ocr_seconds: f32,
}

/// One input file a document was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadInput {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// The JSON part `record` of an upload (`POST /api/v1/documents`); the part
/// `pdf` holds the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    pub dossier: UploadDossier,
    pub kind: DocKind,
    pub name: String,
    pub version: u32,
    pub bytes: u64,
    /// SHA-256 of the PDF (checked against the bytes received).
    pub sha256: String,
    pub input_sha256: String,
    pub inputs: Vec<UploadInput>,
    pub ocr_engine: String,
    pub ocr_version: String,
    pub ocr_languages: String,
    pub mean_confidence: Option<f32>,
    pub pages: Vec<UploadPage>,
    /// Set when the PDF part is the officer's signed form of the document:
    /// its size and SHA-256. `bytes` and `sha256` above are then those of the
    /// unsigned document, the signed file's first `bytes` bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<UploadSigned>,
}

/// The signed form sent in place of the unsigned PDF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadSigned {
    pub bytes: u64,
    pub sha256: String,
}

impl Upload {
    /// What a station sends for a document it recorded.
    pub fn from_record(code: &str, unit: &str, d: &NewDocument) -> Upload {
        Upload {
            dossier: UploadDossier {
                code: code.to_string(),
                unit: unit.to_string(),
            },
            kind: d.kind,
            name: d.name.clone(),
            version: d.version,
            bytes: d.bytes,
            sha256: d.sha256.clone(),
            input_sha256: d.input_sha256.clone(),
            inputs: d
                .inputs
                .iter()
                .map(|f| UploadInput {
                    path: f.path.clone(),
                    sha256: f.sha256.clone(),
                    bytes: f.bytes,
                })
                .collect(),
            ocr_engine: d.ocr_engine.clone(),
            ocr_version: d.ocr_version.clone(),
            ocr_languages: d.ocr_languages.clone(),
            mean_confidence: d.mean_confidence,
            pages: d
                .pages
                .iter()
                .map(|p| UploadPage {
                    page_no: p.page_no,
                    width_px: p.width_px,
                    height_px: p.height_px,
                    dpi: p.dpi,
                    color: p.color.clone(),
                    turn: p.turn,
                    deskew_deg: p.deskew_deg,
                    blank: p.blank,
                    mean_confidence: p.mean_confidence,
                    words: p.words,
                    ocr_seconds: p.ocr_seconds,
                })
                .collect(),
            signed: None,
        }
    }

    /// The document as the server records it (its dossier id and archive path
    /// are the server's, filled in when it files the PDF).
    pub fn document(&self) -> NewDocument {
        NewDocument {
            dossier_id: 0,
            kind: self.kind,
            name: self.name.clone(),
            version: self.version,
            archive_path: String::new(),
            bytes: self.bytes,
            sha256: self.sha256.to_ascii_lowercase(),
            input_sha256: self.input_sha256.clone(),
            inputs: self
                .inputs
                .iter()
                .map(|f| InputFile {
                    path: f.path.clone(),
                    sha256: f.sha256.clone(),
                    bytes: f.bytes,
                })
                .collect(),
            ocr_engine: self.ocr_engine.clone(),
            ocr_version: self.ocr_version.clone(),
            ocr_languages: self.ocr_languages.clone(),
            mean_confidence: self.mean_confidence,
            pages: self
                .pages
                .iter()
                .map(|p| PageRecord {
                    page_no: p.page_no,
                    width_px: p.width_px,
                    height_px: p.height_px,
                    dpi: p.dpi,
                    color: p.color.clone(),
                    turn: p.turn,
                    deskew_deg: p.deskew_deg,
                    blank: p.blank,
                    mean_confidence: p.mean_confidence,
                    words: p.words,
                    ocr_seconds: p.ocr_seconds,
                })
                .collect(),
        }
    }
}

/// The body of `POST /api/v1/documents` (as JSON) for a document whose PDF
/// went up as a resumable upload: which upload, and the document's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    /// The upload's id or its URL (the `Location` of its creation).
    pub upload: String,
    pub record: Upload,
}

impl Commit {
    /// The upload's id, from an id or any URL ending in one.
    pub fn upload_id(&self) -> &str {
        let u = self.upload.trim_end_matches('/');
        u.rsplit('/').next().unwrap_or(u)
    }
}

/// The tus 1.0 protocol's headers and values (<https://tus.io/protocols/resumable-upload>).
pub mod tus {
    use base64::Engine;

    pub const RESUMABLE: &str = "tus-resumable";
    pub const VERSION: &str = "1.0.0";
    pub const TUS_VERSION: &str = "tus-version";
    pub const EXTENSION: &str = "tus-extension";
    pub const EXTENSIONS: &str = "creation,expiration,termination";
    pub const MAX_SIZE: &str = "tus-max-size";
    pub const OFFSET: &str = "upload-offset";
    pub const LENGTH: &str = "upload-length";
    pub const METADATA: &str = "upload-metadata";
    pub const EXPIRES: &str = "upload-expires";
    /// The content type of a PATCH body.
    pub const CONTENT_TYPE: &str = "application/offset+octet-stream";

    /// `Upload-Metadata`: comma-separated `key base64(value)` pairs.
    pub fn encode_metadata(pairs: &[(&str, &str)]) -> String {
        pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} {}",
                    base64::engine::general_purpose::STANDARD.encode(v)
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The pairs of an `Upload-Metadata` header (a key without a value has
    /// an empty one); `None` if it is malformed.
    pub fn decode_metadata(header: &str) -> Option<Vec<(String, String)>> {
        header
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let mut it = pair.split(' ');
                let key = it.next()?.to_string();
                let value = match it.next() {
                    None => String::new(),
                    Some(v) => {
                        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(v).ok()?)
                            .ok()?
                    }
                };
                (it.next().is_none() && !key.is_empty()).then_some((key, value))
            })
            .collect()
    }
}

/// The reply to an accepted upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadReply {
    /// The document's id on the server.
    pub id: i64,
    /// True when the server already had this PDF (a retry after a lost reply).
    pub duplicate: bool,
}

/// A page of register rows for a station.
#[derive(Debug, Serialize, Deserialize)]
pub struct RegisterPage {
    pub rows: Vec<RegisterRow>,
    /// Where the next page starts (the last row's position), or the query's.
    pub cursor: RegisterCursor,
    pub more: bool,
}

/// The body of every error reply: a stable code and a message in the server's language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_round_trips_through_json_and_a_record() {
        let doc = NewDocument {
            dossier_id: 7,
            kind: DocKind::KetQua,
            name: "quyết-định".into(),
            version: 2,
            archive_path: "archive/secret/path.pdf".into(),
            bytes: 10,
            sha256: "AB".repeat(32),
            input_sha256: "cd".repeat(32),
            inputs: vec![InputFile {
                path: "a.jpg".into(),
                sha256: "ef".repeat(32),
                bytes: 3,
            }],
            ocr_engine: "tesseract".into(),
            ocr_version: "5.3.0".into(),
            ocr_languages: "vie".into(),
            mean_confidence: Some(91.5),
            pages: vec![PageRecord {
                page_no: 1,
                width_px: 10,
                height_px: 20,
                dpi: Some((300.0, 300.0)),
                color: "rgb".into(),
                turn: 90,
                deskew_deg: 0.5,
                blank: false,
                mean_confidence: Some(90.0),
                words: 4,
                ocr_seconds: 1.25,
            }],
        };
        let up = Upload::from_record("000.00.18.H44-230314-0027", "000.00.18.H44", &doc);
        let json = serde_json::to_string(&up).unwrap();
        // Nothing of the station's own ids or paths goes out.
        assert!(
            !json.contains("secret") && !json.contains("dossier_id"),
            "{json}"
        );
        let back: Upload = serde_json::from_str(&json).unwrap();
        assert_eq!(back, up);
        let d = back.document();
        assert_eq!((d.dossier_id, d.archive_path.as_str()), (0, ""));
        assert_eq!(d.sha256, doc.sha256.to_ascii_lowercase());
        assert_eq!(d.pages[0].turn, 90);
        assert_eq!(d.inputs[0].path, "a.jpg");
        assert_eq!(paths::document_pdf(5), "/api/v1/documents/5/pdf");
    }

    #[test]
    fn tus_metadata_and_upload_ids() {
        let h = tus::encode_metadata(&[("filename", "đơn.pdf"), ("sha256", "ab")]);
        assert_eq!(
            tus::decode_metadata(&h).unwrap(),
            vec![
                ("filename".to_string(), "đơn.pdf".to_string()),
                ("sha256".to_string(), "ab".to_string())
            ]
        );
        assert_eq!(
            tus::decode_metadata("is_confidential").unwrap(),
            vec![("is_confidential".to_string(), String::new())]
        );
        assert_eq!(tus::decode_metadata("k !!notbase64"), None);
        assert_eq!(tus::decode_metadata("k dg== extra"), None);
        let up = |u: &str| Commit {
            upload: u.into(),
            record: Upload::from_record(
                "c",
                "u",
                &NewDocument {
                    dossier_id: 0,
                    kind: DocKind::ThanhPhan,
                    name: "n".into(),
                    version: 1,
                    archive_path: String::new(),
                    bytes: 0,
                    sha256: String::new(),
                    input_sha256: String::new(),
                    inputs: vec![],
                    ocr_engine: String::new(),
                    ocr_version: String::new(),
                    ocr_languages: String::new(),
                    mean_confidence: None,
                    pages: vec![],
                },
            ),
        };
        assert_eq!(up("abc").upload_id(), "abc");
        assert_eq!(up("https://h:1/api/v1/uploads/abc/").upload_id(), "abc");
    }
}
