//! The station's side of a resumable upload (tus 1.0; the server's side is
//! `serve::resumable`): create the upload once, remember where the server
//! keeps it (in the outbox, so a reboot does not lose it either), append from
//! the offset the server says it holds, and commit the document when all the
//! bytes are there. A cut costs the bytes in flight and a `HEAD`; a lost reply
//! to the commit is answered by the next commit with the document's id.
//!
//! The body is read from the archive file in small pieces, at most
//! `[sync] max_kbps`, and each request is given the time its body needs at a
//! quarter of the measured link speed, plus `request_timeout_seconds`.

use super::{classify, text, Client, Sent};
use crate::api::{paths, tus, Commit, Upload, UploadReply};
use crate::errors::ErrorCode;
use crate::records::{Due, Records, RecordsError, UploadRecord};
use reqwest::StatusCode;
use std::io::{Read, Seek};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Failed tries in a row, none of which moved the upload on, before the
/// server counts as out of reach (with pauses of 0,5; 1; 2; 4; 8 s).
const FRUITLESS_TRIES: u32 = 5;

/// The speed assumed before one is measured (bytes/s): a poor mountain link.
const ASSUMED_RATE: f64 = 16.0 * 1024.0;

/// How far the pass has got, for a progress bar (read from another thread).
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes of the documents the server acknowledged in this pass.
    pub done: AtomicU64,
    /// How far the current document is (held by the server, or read for sending).
    pub current: AtomicU64,
}

impl Progress {
    pub fn sent(&self) -> u64 {
        self.done.load(Ordering::Relaxed) + self.current.load(Ordering::Relaxed)
    }
}

/// Why one request of an upload did not succeed.
enum Failure {
    /// No answer: the link was cut, stalled or the server is out of reach.
    Transport(String),
    /// The server answered with an error: its status, code and message.
    Server(StatusCode, String, String),
}

/// Where an upload stands.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Step {
    /// Whether the server wants the document at all (a record it refuses, or
    /// a PDF it already has, costs no bytes).
    Check,
    Create,
    Ask,
    Send,
    Commit,
}

/// Sends one document; `Err` only for the station's own records.
pub(super) fn send(
    client: &Client,
    records: &Records,
    due: &Due,
    rec: &UploadRecord,
    data_dir: &Path,
) -> Result<Sent, RecordsError> {
    let lang = client.lang;
    // The officer's signed form goes in place of the unsigned file.
    let (rel, want) = match &rec.signed {
        Some(s) => (s.archive_path.as_str(), (&s.sha256, s.bytes)),
        None => (
            rec.document.archive_path.as_str(),
            (&rec.document.sha256, rec.document.bytes),
        ),
    };
    let file = data_dir.join(rel);
    // What goes out is what was recorded: a file changed or lost since is not sent.
    let (sha256, len) = match crate::store::sha256_file(&file) {
        Ok(v) => v,
        Err(e) => return Ok(Sent::Refused(text::local_unreadable(lang, rel, &e))),
    };
    if (&sha256, len) != want {
        return Ok(Sent::Refused(text::local_changed(lang, rel)));
    }
    let mut record = Upload::from_record(&rec.dossier.code, &rec.dossier.unit, &rec.document);
    record.signed = rec.signed.as_ref().map(|s| crate::api::UploadSigned {
        bytes: s.bytes,
        sha256: s.sha256.clone(),
    });
    let name = Path::new(rel)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let mut url = due.upload_url.clone();
    let mut held = due.upload_offset;
    let mut step = if url.is_some() {
        Step::Ask
    } else {
        Step::Check
    };
    // When the last try to send began, and from which offset (to measure the link).
    let mut sending: Option<(Instant, u64)> = None;
    let mut fruitless = 0u32;
    let mut last_error = String::new();
    client.progress.current.store(held, Ordering::Relaxed);
    loop {
        if fruitless >= FRUITLESS_TRIES {
            return Ok(Sent::Offline(last_error));
        }
        let result = match (step, url.as_deref()) {
            (Step::Check, _) | (Step::Commit, Some(_)) => {
                match client.commit(url.as_deref().unwrap_or_default(), &record) {
                    Ok(reply) => {
                        client.progress.current.store(0, Ordering::Relaxed);
                        client.progress.done.fetch_add(len, Ordering::Relaxed);
                        return Ok(Sent::Ok(reply));
                    }
                    Err(Failure::Server(_, code, _))
                        if step == Step::Check
                            && ErrorCode::from_api_wire(&code) == Some(ErrorCode::UploadGone) =>
                    {
                        step = Step::Create;
                        continue;
                    }
                    Err(f) => Err(f),
                }
            }
            (Step::Create, _) | (_, None) => client.create(len, &name, &sha256).map(|u| {
                url = Some(u);
                held = 0;
            }),
            (Step::Ask, Some(u)) => client.head(u).map(|offset| {
                // A cut send still measures the link by what got through.
                if let Some((started, from)) = sending.take() {
                    client.measured(offset.saturating_sub(from), started.elapsed());
                }
                if offset > held {
                    fruitless = 0;
                }
                held = offset;
            }),
            (Step::Send, Some(u)) => {
                sending = Some((Instant::now(), held));
                let r = client.patch(u, &file, held, len);
                if let Ok(offset) = &r {
                    if let Some((started, from)) = sending.take() {
                        client.measured(offset - from, started.elapsed());
                    }
                    fruitless = 0;
                    held = *offset;
                }
                r.map(|_| ())
            }
        };
        match result {
            Ok(()) => {
                records.outbox_upload(due.id, url.as_deref(), held)?;
                client.progress.current.store(held, Ordering::Relaxed);
                step = if held >= len {
                    Step::Commit
                } else {
                    Step::Send
                };
            }
            Err(Failure::Transport(why)) => {
                fruitless += 1;
                last_error = why;
                std::thread::sleep(Duration::from_millis(500 << (fruitless - 1).min(4)));
                // A commit or a check is repeated as it is (the server
                // answers a repeat with the id); a send first asks how far it got.
                if step == Step::Send {
                    step = Step::Ask;
                }
            }
            Err(Failure::Server(status, code, message)) => {
                match ErrorCode::from_api_wire(&code) {
                    Some(ErrorCode::UploadGone) => {
                        // Expired on the server, or never there: from the start.
                        fruitless += 1;
                        last_error = message;
                        url = None;
                        held = 0;
                        records.outbox_upload(due.id, None, 0)?;
                        step = Step::Create;
                    }
                    Some(ErrorCode::UploadOffset) => {
                        fruitless += 1;
                        last_error = message;
                        step = Step::Ask;
                    }
                    Some(ErrorCode::HashMismatch | ErrorCode::BadPdf | ErrorCode::BadSignature) => {
                        // The server removed the upload: the next try starts again.
                        records.outbox_upload(due.id, None, 0)?;
                        return Ok(classify(status, (code, message)));
                    }
                    _ => return Ok(classify(status, (code, message))),
                }
            }
        }
    }
}

impl Client {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn tus_request(&self, method: reqwest::Method, url: &str) -> reqwest::blocking::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(&self.token)
            .header(tus::RESUMABLE, tus::VERSION)
    }

    /// The reply if it succeeded, else why not.
    fn answer(
        &self,
        sent: reqwest::Result<reqwest::blocking::Response>,
    ) -> Result<reqwest::blocking::Response, Failure> {
        match sent {
            Err(e) => Err(Failure::Transport(text::unreachable(
                self.lang, &self.base, &e,
            ))),
            Ok(r) if r.status().is_success() => Ok(r),
            Ok(r) => {
                let status = r.status();
                let (code, message) = super::server_error(r);
                Err(Failure::Server(status, code, message))
            }
        }
    }

    fn offset(&self, r: &reqwest::blocking::Response) -> Result<u64, Failure> {
        r.headers()
            .get(tus::OFFSET)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| {
                Failure::Transport(format!(
                    "{}: {} Upload-Offset",
                    self.base,
                    if self.lang == crate::format::UiLanguage::Vi {
                        "máy chủ không trả lời"
                    } else {
                        "the server's reply lacks"
                    }
                ))
            })
    }

    /// A new upload of `len` bytes; its URL.
    fn create(&self, len: u64, name: &str, sha256: &str) -> Result<String, Failure> {
        let r = self.answer(
            self.tus_request(reqwest::Method::POST, &self.url(paths::UPLOADS))
                .header(tus::LENGTH, len)
                .header(
                    tus::METADATA,
                    tus::encode_metadata(&[("filename", name), ("sha256", sha256)]),
                )
                .send(),
        )?;
        let location = r
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Failure::Transport(format!("{}: no Location", self.base)))?;
        Ok(if location.starts_with('/') {
            self.url(location)
        } else {
            location.to_string()
        })
    }

    /// How many bytes the server holds.
    fn head(&self, url: &str) -> Result<u64, Failure> {
        match self.answer(self.tus_request(reqwest::Method::HEAD, url).send()) {
            // A reply to HEAD has no body, so no error code: its status says
            // the server has no such upload (expired, or forgotten at a
            // restart), which is sent again from the start, never refused.
            Err(Failure::Server(status, code, message))
                if code.is_empty()
                    && matches!(status, StatusCode::GONE | StatusCode::NOT_FOUND) =>
            {
                Err(Failure::Server(
                    status,
                    ErrorCode::UploadGone.as_wire().to_string(),
                    message,
                ))
            }
            r => self.offset(&r?),
        }
    }

    /// Sends from `offset` on, as much as fits one request's time; the new offset.
    fn patch(&self, url: &str, file: &Path, offset: u64, len: u64) -> Result<u64, Failure> {
        let rate = self.expected_rate();
        // About two minutes of the link per request, so a timeout costs little.
        let chunk = (len - offset).min(((rate * 120.0) as u64).clamp(256 << 10, 256 << 20));
        let body = Metered::open(file, offset, chunk, self.max_bps, self.progress.clone())
            .map_err(|e| Failure::Transport(e.to_string()))?;
        let timeout = self.request_timeout + Duration::from_secs_f64(chunk as f64 / (rate / 4.0));
        let r = self.answer(
            self.tus_request(reqwest::Method::PATCH, url)
                .header(reqwest::header::CONTENT_TYPE, tus::CONTENT_TYPE)
                .header(tus::OFFSET, offset)
                .timeout(timeout)
                .body(reqwest::blocking::Body::sized(body, chunk))
                .send(),
        )?;
        self.offset(&r)
    }

    /// Makes the complete upload a document.
    fn commit(&self, url: &str, record: &Upload) -> Result<UploadReply, Failure> {
        let body = Commit {
            upload: url.to_string(),
            record: record.clone(),
        };
        let r = self.answer(
            self.http
                .post(self.url(paths::UPLOAD))
                .bearer_auth(&self.token)
                .json(&body)
                .send(),
        )?;
        // A reply cut short: the next commit learns the id (idempotent).
        r.json::<UploadReply>()
            .map_err(|e| Failure::Transport(text::unreachable(self.lang, &self.base, &e)))
    }

    /// What the link is expected to carry, in bytes/s: measured, under the cap.
    fn expected_rate(&self) -> f64 {
        let measured = self
            .rate
            .lock()
            .map_or(None, |r| *r)
            .unwrap_or(ASSUMED_RATE);
        match self.max_bps {
            Some(cap) => measured.min(cap),
            None => measured,
        }
    }

    /// Counts a transfer into the measured speed (a running mean that
    /// follows changes of the link within a few requests).
    fn measured(&self, bytes: u64, took: Duration) {
        if bytes < 32 << 10 || took.is_zero() {
            return;
        }
        let now = bytes as f64 / took.as_secs_f64();
        if let Ok(mut r) = self.rate.lock() {
            *r = Some(r.map_or(now, |old| 0.5 * old + 0.5 * now));
        }
    }

    /// Starts from a speed measured in an earlier run.
    pub(super) fn measured_before(&self, bytes_per_second: f64) {
        if let Ok(mut r) = self.rate.lock() {
            r.get_or_insert(bytes_per_second.max(1024.0));
        }
    }

    /// The measured link speed in bytes/s, if any.
    pub fn link_rate(&self) -> Option<f64> {
        self.rate.lock().ok().and_then(|r| *r)
    }
}

/// A piece of an archive file as a request body: read in small pieces, no
/// faster than the cap, telling the progress how far it got.
struct Metered {
    file: std::io::Take<std::fs::File>,
    cap: Option<f64>,
    started: Instant,
    read: u64,
    base: u64,
    progress: Arc<Progress>,
}

impl Metered {
    fn open(
        path: &Path,
        offset: u64,
        len: u64,
        cap: Option<f64>,
        progress: Arc<Progress>,
    ) -> std::io::Result<Metered> {
        let mut f = std::fs::File::open(path)?;
        f.seek(std::io::SeekFrom::Start(offset))?;
        Ok(Metered {
            file: f.take(len),
            cap,
            started: Instant::now(),
            read: 0,
            base: offset,
            progress,
        })
    }
}

impl Read for Metered {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let max = buf.len().min(16 << 10);
        let n = self.file.read(&mut buf[..max])?;
        self.read += n as u64;
        self.progress
            .current
            .store(self.base + self.read, Ordering::Relaxed);
        if let Some(cap) = self.cap {
            let due = Duration::from_secs_f64(self.read as f64 / cap);
            if let Some(wait) = due.checked_sub(self.started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metered_body_keeps_under_its_cap_and_reports_progress() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pdf");
        std::fs::write(&path, vec![7u8; 100_000]).unwrap();
        let progress = Arc::new(Progress::default());
        let mut m =
            Metered::open(&path, 10_000, 60_000, Some(200_000.0), progress.clone()).unwrap();
        let started = Instant::now();
        let mut out = Vec::new();
        m.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 60_000);
        // 60 kB at 200 kB/s: at least 0,3 s.
        assert!(
            started.elapsed() >= Duration::from_millis(290),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(progress.sent(), 70_000);
    }
}
