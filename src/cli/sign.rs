//! `sohoa sign` and `sohoa sao-y`: the officer's signature on the archive
//! copies and the agency's SAO Y copies, with a progress bar and a summary;
//! `sohoa verify`: the signatures of signed copies, as the operator reads
//! them (or as JSON).

use super::{outln, print_json, print_out, say, CliError, CliResult, ExitCode, Outcome};
use crate::config::{Settings, SignMode, SignSettings};
use crate::format::{count, UiLanguage};
use crate::records::{Records, SignRole, ToSign};
use crate::sign::appearance::{Font, DEFAULT_FONT};
use crate::sign::archive::{Desk, Failure, Recorded};
use crate::sign::cert::{self, Identity};
use crate::sign::copy::Copy;
use crate::sign::keys::{self, Secret};
use crate::sign::tsa::Tsa;
use crate::sign::verify::{self, Checked};
use crate::sign::{text, SignError, Signer, Signing};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// One file's result.
#[derive(serde::Serialize)]
struct FileResult {
    file: String,
    /// Every signature valid, and at least one.
    valid: bool,
    /// Why the file could not be checked at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    signatures: Vec<Checked>,
    /// The file is a signed form the records hold: this check is stored with it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    recorded: bool,
}

/// Stores the check of each file that is a recorded signed form (a file of
/// the archive), so that `dossier show` and the reports go by it. Without
/// records (verify run on files from elsewhere) nothing is stored.
fn store_checks(settings: &Settings, results: &mut [FileResult]) -> Result<(), CliError> {
    if settings.database_url.is_none() && !settings.database_path().exists() {
        return Ok(());
    }
    let Ok(data_dir) = settings.data_dir.canonicalize() else {
        return Ok(());
    };
    let records = Records::open_configured(settings)?;
    for r in results.iter_mut().filter(|r| r.error.is_none()) {
        let Ok(path) = Path::new(&r.file).canonicalize() else {
            continue;
        };
        let Ok(rel) = path.strip_prefix(&data_dir) else {
            continue;
        };
        let problems: Vec<verify::Problem> = r
            .signatures
            .iter()
            .flat_map(|c| c.problems.iter().cloned())
            .collect();
        r.recorded = records.record_check(&rel.to_string_lossy(), &problems)?;
    }
    Ok(())
}

pub fn verify(settings: &Settings, files: &[PathBuf], trust: &[PathBuf], json: bool) -> CliResult {
    let lang = settings.ui_language;
    let paths = if trust.is_empty() {
        &settings.sign.trust_anchors
    } else {
        trust
    };
    let anchors = verify::read_anchors(paths).map_err(|e| {
        CliError::usage(match lang {
            UiLanguage::Vi => format!("không đọc được chứng thư gốc tin cậy: {e}"),
            UiLanguage::En => format!("cannot read the trust anchors: {e}"),
        })
    })?;
    let mut results: Vec<FileResult> = files
        .iter()
        .map(|path| {
            let file = path.display().to_string();
            let checked = std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| verify::verify(&bytes, &anchors));
            match checked {
                Ok(signatures) => FileResult {
                    file,
                    valid: !signatures.is_empty() && signatures.iter().all(Checked::valid),
                    error: None,
                    signatures,
                    recorded: false,
                },
                Err(e) => FileResult {
                    file,
                    valid: false,
                    error: Some(e),
                    signatures: Vec::new(),
                    recorded: false,
                },
            }
        })
        .collect();
    store_checks(settings, &mut results)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&results).map_err(CliError::internal)?
        );
    } else {
        if anchors.is_empty() {
            eprintln!(
                "{}",
                match lang {
                    UiLanguage::Vi => "Chưa có chứng thư gốc tin cậy ([sign] trust_anchors hoặc --trust): không chữ ký nào được coi là tin cậy.",
                    UiLanguage::En => "No trust anchors ([sign] trust_anchors or --trust): no signature can be trusted.",
                }
            );
        }
        for r in &results {
            print!("{}", describe(r, lang));
        }
    }
    Ok(if results.iter().all(|r| r.valid) {
        Outcome::Done
    } else {
        Outcome::NotVerified
    })
}

/// A file's lines: its verdict, then one line per signature.
fn describe(r: &FileResult, lang: UiLanguage) -> String {
    let vi = lang == UiLanguage::Vi;
    let mut out = String::new();
    let verdict = match (&r.error, r.signatures.len(), r.valid, vi) {
        (Some(e), _, _, true) => format!("không kiểm tra được: {e}"),
        (Some(e), _, _, false) => format!("cannot be checked: {e}"),
        (None, 0, _, true) => "không có chữ ký số".to_string(),
        (None, 0, _, false) => "has no digital signature".to_string(),
        (None, n, true, true) => format!("hợp lệ ({n} chữ ký)"),
        (None, n, true, false) => format!("valid ({n} signature{})", if n == 1 { "" } else { "s" }),
        (None, _, false, true) => "KHÔNG HỢP LỆ".to_string(),
        (None, _, false, false) => "NOT VALID".to_string(),
    };
    out.push_str(&format!("{}: {verdict}\n", r.file));
    if r.recorded {
        out.push_str(match vi {
            true => "  (kết quả kiểm tra đã được lưu cùng tài liệu trong hồ sơ)\n",
            false => "  (the check is stored with the document's record)\n",
        });
    }
    for s in &r.signatures {
        let who = s.signer.as_ref().map_or_else(
            || {
                if vi {
                    "(không rõ người ký)".to_string()
                } else {
                    "(unknown signer)".to_string()
                }
            },
            |id| match vi {
                true => format!("{} (số hiệu {}, do {} cấp)", id.name, id.serial, id.issuer),
                false => format!(
                    "{} (serial {}, issued by {})",
                    id.name, id.serial, id.issuer
                ),
            },
        );
        let when = s.signed_at.map_or_else(String::new, |t| match vi {
            true => format!(", ký lúc {}", t.format("%d/%m/%Y %H:%M:%S (%:z)")),
            false => format!(", signed {}", t.to_rfc3339()),
        });
        let state = if s.valid() {
            match (vi, s.whole_file) {
                (true, true) => "hợp lệ, phủ toàn bộ tệp".to_string(),
                (true, false) => "hợp lệ cho phiên bản tệp lúc ký (có chữ ký sau)".to_string(),
                (false, true) => "valid, covers the whole file".to_string(),
                (false, false) => {
                    "valid for the revision it signed (signed again later)".to_string()
                }
            }
        } else {
            s.problems
                .iter()
                .map(|p| text::problem(p, lang))
                .collect::<Vec<_>>()
                .join("; ")
        };
        out.push_str(&format!("  {}: {who}{when}: {state}\n", s.field));
        if let Some(t) = &s.time_stamp {
            let at = crate::sign::copy::vietnam_time(t.at);
            let by = t.authority.as_ref().map_or("?", |a| a.name.as_str());
            out.push_str(&match vi {
                true => format!(
                    "    dấu thời gian: {} (+07:00), do {by} cấp\n",
                    at.format("%d/%m/%Y %H:%M:%S")
                ),
                false => format!("    time-stamp: {}, by {by}\n", at.to_rfc3339()),
            });
        }
    }
    out
}

/// The key options of `sign` and `sao-y`; each given one replaces its `[sign]` setting.
#[derive(clap::Args, Debug, Default)]
pub struct KeyArgs {
    /// A PKCS#12 key file (.p12, .pfx) [default: [sign] pkcs12].
    #[arg(long, value_name = "FILE")]
    pub pkcs12: Option<PathBuf>,
    /// A file holding the key file's password [default: [sign] password_file,
    /// else SOHOA_SIGN_PASSWORD, else asked at the terminal].
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// The PKCS#11 module of a USB token (its driver, a .so) [default: [sign] pkcs11_module].
    #[arg(long, value_name = "LIB")]
    pub pkcs11_module: Option<PathBuf>,
    /// The token's label [default: [sign] token_label].
    #[arg(long, value_name = "LABEL")]
    pub token_label: Option<String>,
    /// The key's label, when the token holds several [default: [sign] key_label].
    #[arg(long, value_name = "LABEL")]
    pub key_label: Option<String>,
    /// A file holding the token's PIN [default: [sign] pin_file, else
    /// SOHOA_SIGN_PIN, else asked at the terminal].
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<PathBuf>,
}

impl KeyArgs {
    /// The settings with these options in place: a key file given here
    /// replaces a token of the config, and a token a key file.
    fn apply(self, mut s: SignSettings) -> SignSettings {
        if self.pkcs12.is_some() {
            s.pkcs11_module = None;
            s.pkcs12 = self.pkcs12;
        }
        if self.pkcs11_module.is_some() {
            s.pkcs12 = None;
            s.pkcs11_module = self.pkcs11_module;
        }
        let keep = |given: Option<PathBuf>, old: Option<PathBuf>| given.or(old);
        s.password_file = keep(self.password_file, s.password_file);
        s.pin_file = keep(self.pin_file, s.pin_file);
        s.token_label = self.token_label.or(s.token_label);
        s.key_label = self.key_label.or(s.key_label);
        s
    }
}

/// The key, the block's font and the trust anchors, ready to sign: the
/// certificate is checked first (expired, not yet valid or not for
/// signatures, nothing is signed). A token is logged in to once, here.
struct Ready {
    signer: Box<dyn Signer>,
    tsa: Option<Tsa>,
    font: Font,
    anchors: Vec<Vec<u8>>,
    who: Identity,
    title: Option<String>,
}

impl Ready {
    /// What signs one document with this key, into `data_dir`'s archive.
    fn desk<'a>(&'a self, records: &'a Records, data_dir: &'a Path) -> Desk<'a> {
        Desk {
            records,
            data_dir,
            signing: Signing {
                signer: self.signer.as_ref(),
                tsa: self.tsa.as_ref(),
            },
            font: &self.font,
            anchors: &self.anchors,
        }
    }
}

fn ready(settings: &Settings, key: &SignSettings) -> Result<Ready, CliError> {
    let lang = settings.ui_language;
    let font = Font::load(Path::new(DEFAULT_FONT))
        .map_err(|e| CliError::new(ExitCode::MissingDependency, text::message(&e, lang)))?;
    let anchors = verify::read_anchors(&settings.sign.trust_anchors).map_err(|e| {
        CliError::usage(say(
            lang,
            &format!("không đọc được chứng thư gốc tin cậy ([sign] trust_anchors): {e}"),
            &format!("cannot read the trust anchors ([sign] trust_anchors): {e}"),
        ))
    })?;
    let ask = |secret: Secret| ask_secret(secret, lang);
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let signer = keys::open_configured(key, terminal.then_some(&ask as _))
        .map_err(|e| key_error(&e, lang))?;
    let leaf = signer.chain().first().cloned().unwrap_or_default();
    let who = cert::check_signing(&leaf, chrono::Utc::now())
        .map_err(|e| key_error(&SignError::Certificate(e), lang))?;
    let left = who.not_after - chrono::Utc::now();
    if left < chrono::Duration::days(30) {
        let until = crate::sign::copy::vietnam_time(who.not_after).format("%d/%m/%Y");
        let days = count(left.num_days().max(0) as u64, lang);
        eprintln!(
            "{}",
            say(
                lang,
                &format!("Lưu ý: chứng thư số của {} hết hạn ngày {until} (còn {days} ngày); hãy gia hạn với tổ chức cung cấp dịch vụ chứng thực trước ngày đó.", who.name),
                &format!("Note: the certificate of {} expires on {until} ({days} days left); renew it with its certification authority before then.", who.name),
            )
        );
    }
    let tsa = match &settings.sign.tsa_url {
        Some(url) => Some(Tsa::new(url).map_err(|e| key_error(&e, lang))?),
        None => None,
    };
    Ok(Ready {
        title: cert::title(&leaf),
        signer,
        tsa,
        font,
        anchors,
        who,
    })
}

/// Asks for a password or PIN at the terminal, without echo.
fn ask_secret(secret: Secret, lang: UiLanguage) -> Result<String, SignError> {
    let prompt = match (secret, lang) {
        (Secret::Password { file }, UiLanguage::Vi) => {
            format!("Mật khẩu của tệp khóa {}: ", file.display())
        }
        (Secret::Password { file }, UiLanguage::En) => {
            format!("Password of the key file {}: ", file.display())
        }
        (Secret::Pin { token }, UiLanguage::Vi) => {
            format!("Mã PIN của thiết bị ký \"{token}\": ")
        }
        (Secret::Pin { token }, UiLanguage::En) => format!("PIN of the token \"{token}\": "),
    };
    rpassword::prompt_password(prompt).map_err(|source| SignError::Read {
        path: "/dev/tty".into(),
        source,
    })
}

/// A key that cannot be used, and its exit code: a missing option is a
/// usage error; a wrong password or PIN, a locked or missing token, an
/// expired certificate are 11.
fn key_error(e: &SignError, lang: UiLanguage) -> CliError {
    let exit = match e {
        SignError::NoKey
        | SignError::TwoKeys
        | SignError::NoTokenLabel
        | SignError::NoSecret { .. }
        | SignError::TimeStamp {
            failure: crate::sign::tsa::TsaFailure::NotHttp,
            ..
        } => ExitCode::Usage,
        _ => ExitCode::KeyUnusable,
    };
    CliError::new(exit, text::message(e, lang))
}

/// One document this run could not sign, and why.
#[derive(serde::Serialize)]
struct NotSigned {
    document_id: i64,
    dossier: String,
    name: String,
    reason: String,
}

/// One document this run signed.
#[derive(serde::Serialize)]
struct SignedDoc {
    document_id: i64,
    dossier: String,
    name: String,
    version: u32,
    archive_path: String,
    signed_at: String,
    /// The certificate chains to a trust anchor.
    trusted: bool,
}

impl SignedDoc {
    fn new(doc: &ToSign, done: Recorded) -> SignedDoc {
        SignedDoc {
            document_id: doc.document_id,
            dossier: doc.dossier_code.clone(),
            name: doc.name.clone(),
            version: doc.version,
            archive_path: done.archive_path,
            signed_at: done.signed.time.to_rfc3339(),
            trusted: done.signed.problems.is_empty(),
        }
    }
}

/// What a signing run did.
#[derive(serde::Serialize)]
pub struct SignSummary {
    signer: Identity,
    signed: Vec<SignedDoc>,
    /// Signed by another run meanwhile.
    already_signed: usize,
    unsigned: Vec<NotSigned>,
    /// Why the run stopped before the end (the token removed), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped: Option<String>,
}

impl SignSummary {
    /// Exit 4 when some document is left unsigned.
    pub fn outcome(&self) -> Outcome {
        if self.unsigned.is_empty() {
            Outcome::Done
        } else {
            Outcome::InputsFailed
        }
    }
}

/// `sohoa sign`: the officer's signature on the current documents not yet
/// signed, of the dossiers given or of all.
pub fn sign(
    settings: &Settings,
    dossiers: &[String],
    officer: Option<String>,
    position: Option<String>,
    key: KeyArgs,
    json: bool,
) -> CliResult {
    let lang = settings.ui_language;
    let records = Records::open_configured(settings)?;
    let mut docs = Vec::new();
    if dossiers.is_empty() {
        docs = records.documents_to_sign(None)?;
    }
    let mut codes: Vec<&String> = dossiers.iter().collect();
    codes.sort();
    codes.dedup();
    for code in codes {
        if !records.dossier_known(code)? {
            return Err(CliError::not_found(say(
                lang,
                &format!("Không có hồ sơ {code} trong cơ sở dữ liệu."),
                &format!("No dossier {code} in the database."),
            )));
        }
        docs.extend(records.documents_to_sign(Some(code))?);
    }
    if docs.is_empty() {
        if json {
            print_json(&serde_json::json!({"signed": [], "already_signed": 0, "unsigned": []}))?;
        } else {
            outln!(
                "{}",
                say(
                    lang,
                    "Không có tài liệu nào cần ký số: mọi tài liệu hiện hành đã được ký.",
                    "Nothing to sign: every current document is signed."
                )
            )?;
        }
        return Ok(Outcome::Done);
    }
    let key = OfficerKey::open(
        settings,
        &key.apply(settings.sign.clone()),
        officer,
        position,
    )?;
    let to_stderr = |line: &str| eprintln!("sohoa: {line}");
    let tell = Tell::new(docs.len() as u64, lang, &to_stderr);
    let summary = key.sign(&records, &settings.data_dir, &docs, &tell)?;
    tell.finish();
    if json {
        print_json(&summary)?;
    } else {
        print_out(
            render_summary(&summary, docs.len(), key.ready.anchors.is_empty(), lang).as_bytes(),
        )?;
    }
    Ok(summary.outcome())
}

/// The officer's key and block, ready to sign: what `sohoa sign` uses, and
/// `batch` and `watch` with `[sign] mode = "auto"`.
pub struct OfficerKey {
    ready: Ready,
    copy: Copy,
    lang: UiLanguage,
}

impl OfficerKey {
    /// Opens `key` (asking for its secret at a terminal) and settles the
    /// block's name (`officer`, `[sign] officer`, the certificate's) and
    /// position (`position`, `[sign] position`, the certificate's title).
    fn open(
        settings: &Settings,
        key: &SignSettings,
        officer: Option<String>,
        position: Option<String>,
    ) -> Result<OfficerKey, CliError> {
        let lang = settings.ui_language;
        let ready = ready(settings, key)?;
        let officer = officer
            .or_else(|| settings.sign.officer.clone())
            .unwrap_or_else(|| ready.who.name.clone());
        let position = position
            .or_else(|| settings.sign.position.clone())
            .or_else(|| ready.title.clone())
            .ok_or_else(|| {
                CliError::usage(say(
                    lang,
                    "Chưa có chức vụ của người sao để ghi vào khối chữ ký: dùng --position \"…\" hoặc [sign] position trong tệp cấu hình (chứng thư số không ghi chức vụ).",
                    "No position for the signature block: give --position \"…\" or [sign] position (the certificate names none).",
                ))
            })?;
        Ok(OfficerKey {
            ready,
            copy: Copy::Officer { officer, position },
            lang,
        })
    }

    /// The key of `[sign]` when `mode = "auto"`, opened before any work (a
    /// wrong PIN stops the run before hours of OCR); `None` in manual mode.
    pub fn auto(settings: &Settings) -> Result<Option<OfficerKey>, CliError> {
        if settings.sign.mode != SignMode::Auto {
            return Ok(None);
        }
        OfficerKey::open(settings, &settings.sign, None, None).map(Some)
    }

    /// Signs `docs`, telling each; once the key fails (a token pulled out),
    /// the rest are marked unsigned with the reason, for a later run.
    fn sign(
        &self,
        records: &Records,
        data_dir: &Path,
        docs: &[ToSign],
        tell: &Tell,
    ) -> Result<SignSummary, CliError> {
        let desk = self.ready.desk(records, data_dir);
        let mut summary = SignSummary {
            signer: self.ready.who.clone(),
            signed: Vec::new(),
            already_signed: 0,
            unsigned: Vec::new(),
            stopped: None,
        };
        for doc in docs {
            if let Some(why) = &summary.stopped {
                records.mark_unsigned(doc.document_id, SignRole::Officer, why)?;
                summary.unsigned.push(not_signed(doc, why));
                continue;
            }
            match desk.sign(doc, &self.copy) {
                Ok(Some(done)) => {
                    tell.signed(doc, &done.archive_path);
                    summary.signed.push(SignedDoc::new(doc, done));
                }
                Ok(None) => {
                    tell.skipped();
                    summary.already_signed += 1;
                }
                Err(e) => {
                    let why = failure_text(&e, self.lang);
                    tell.failed(doc, &why);
                    if e.stops_run() {
                        summary.stopped = Some(why.clone());
                    }
                    if !matches!(e, Failure::Records(_)) {
                        records.mark_unsigned(doc.document_id, SignRole::Officer, &why)?;
                    }
                    summary.unsigned.push(not_signed(doc, &why));
                }
            }
        }
        Ok(summary)
    }

    /// Auto mode: signs the current documents of `dossiers` not yet signed
    /// (those this run archived), saying each that could not be signed.
    pub fn sign_new(
        &self,
        settings: &Settings,
        records: &Records,
        dossiers: &[String],
        line: &dyn Fn(&str),
    ) -> Result<SignSummary, CliError> {
        let mut docs = Vec::new();
        for code in dossiers {
            docs.extend(records.documents_to_sign(Some(code))?);
        }
        let tell = Tell::Failures(self.lang, line);
        self.sign(records, &settings.data_dir, &docs, &tell)
    }

    /// One line saying what auto mode signed (and what it could not);
    /// `None` when there was nothing to sign.
    pub fn said(&self, s: &SignSummary) -> Option<String> {
        if s.signed.is_empty() && s.unsigned.is_empty() {
            return None;
        }
        let n = |k: usize| count(k as u64, self.lang);
        let mut line = say(
            self.lang,
            &format!(
                "Đã ký số {} tài liệu mới (người ký: {}).",
                n(s.signed.len()),
                s.signer.name
            ),
            &format!(
                "Signed {} new documents (signer: {}).",
                n(s.signed.len()),
                s.signer.name
            ),
        );
        if !s.unsigned.is_empty() {
            line.push_str(&say(
                self.lang,
                &format!(
                    " Còn {} tài liệu chưa ký: chạy sohoa sign --all khi đã khắc phục.",
                    n(s.unsigned.len())
                ),
                &format!(
                    " {} documents are not signed: run sohoa sign --all once the cause is fixed.",
                    n(s.unsigned.len())
                ),
            ));
        }
        Some(line)
    }
}

fn not_signed(doc: &ToSign, why: &str) -> NotSigned {
    NotSigned {
        document_id: doc.document_id,
        dossier: doc.dossier_code.clone(),
        name: doc.name.clone(),
        reason: why.to_string(),
    }
}

fn failure_text(e: &Failure, lang: UiLanguage) -> String {
    match e {
        Failure::Sign(e) => text::message(e, lang),
        Failure::Records(e) => say(
            lang,
            &format!("Không ghi được vào cơ sở dữ liệu ({e}); các tài liệu còn lại chưa được ký."),
            &format!("Cannot write the records ({e}); the remaining documents are not signed."),
        ),
        Failure::Store(e) => say(
            lang,
            &format!("Không ghi được bản đã ký vào kho lưu trữ ({e}). Hãy kiểm tra chỗ trống và quyền ghi."),
            &format!("Cannot write the signed copy into the archive ({e}). Check the free space and permissions."),
        ),
    }
}

fn render_summary(s: &SignSummary, asked: usize, no_anchors: bool, lang: UiLanguage) -> String {
    let n = |k: usize| count(k as u64, lang);
    let mut out = match lang {
        UiLanguage::Vi => format!(
            "Đã ký số {}/{} tài liệu; người ký: {} (chứng thư số {}, do {} cấp).\n",
            n(s.signed.len()),
            n(asked),
            s.signer.name,
            s.signer.serial,
            s.signer.issuer
        ),
        UiLanguage::En => format!(
            "Signed {}/{} documents as {} (certificate {}, issued by {}).\n",
            n(s.signed.len()),
            n(asked),
            s.signer.name,
            s.signer.serial,
            s.signer.issuer
        ),
    };
    if s.already_signed > 0 {
        out.push_str(&say(
            lang,
            &format!(
                "{} tài liệu đã được ký bởi một lượt khác trong lúc này.\n",
                n(s.already_signed)
            ),
            &format!(
                "{} documents were signed by another run meanwhile.\n",
                n(s.already_signed)
            ),
        ));
    }
    if !s.unsigned.is_empty() {
        // One cause for all (the key or the time-stamping authority failed): said once.
        let one_cause = s.unsigned.windows(2).all(|w| w[0].reason == w[1].reason);
        let cause = if one_cause {
            s.unsigned[0].reason.as_str()
        } else {
            ""
        };
        let heading = match (one_cause, lang) {
            (true, UiLanguage::Vi) => {
                format!("Còn {} tài liệu chưa ký. {cause}\n", n(s.unsigned.len()))
            }
            (true, UiLanguage::En) => format!(
                "{} documents are not signed. {cause}\n",
                n(s.unsigned.len())
            ),
            (false, UiLanguage::Vi) => format!("Còn {} tài liệu chưa ký:\n", n(s.unsigned.len())),
            (false, UiLanguage::En) => {
                format!("{} documents are not signed:\n", n(s.unsigned.len()))
            }
        };
        out.push_str(&heading);
        for u in &s.unsigned {
            match one_cause {
                true => out.push_str(&format!("  {} / {}\n", u.dossier, u.name)),
                false => out.push_str(&format!("  {} / {}: {}\n", u.dossier, u.name, u.reason)),
            }
        }
        out.push_str(&say(
            lang,
            "Các tài liệu này được ghi là chưa ký; chạy lại sohoa sign để ký sau khi khắc phục.\n",
            "They are marked unsigned; run sohoa sign again once the cause is fixed.\n",
        ));
    }
    if no_anchors && !s.signed.is_empty() {
        out.push_str(&say(
            lang,
            "Lưu ý: chưa khai báo chứng thư gốc tin cậy ([sign] trust_anchors), nên chưa xác nhận được chuỗi chứng thư của chữ ký.\n",
            "Note: no trust anchors ([sign] trust_anchors), so the signatures' certificate chain is not confirmed.\n",
        ));
    } else if s.signed.iter().any(|d| !d.trusted) {
        out.push_str(&say(
            lang,
            "Lưu ý: chưa tìm được đường từ chứng thư số của người ký tới chứng thư gốc trong [sign] trust_anchors: chứng thư gốc chưa có ở đó, hoặc thiếu chứng thư trung gian (CA cấp dưới) mà tệp khóa hay thiết bị ký không mang theo. Hãy thêm tệp PEM của cả hai vào [sign] trust_anchors, rồi kiểm tra lại bằng sohoa verify.\n",
            "Note: no path from the signer's certificate to a root in [sign] trust_anchors: the root is not there, or an intermediate CA certificate the key file or token does not carry is missing. Add both PEM files to [sign] trust_anchors, then check again with sohoa verify.\n",
        ));
    }
    out
}

/// Progress of a signing run: a bar on a terminal, else one line per
/// document through a sink (stderr for night-run logs and scripts, the
/// watcher's operator lines).
enum Tell<'a> {
    Bar(ProgressBar, UiLanguage),
    Lines(UiLanguage, &'a dyn Fn(&str)),
    /// Only the documents that could not be signed (auto mode: one line
    /// per dossier says the rest).
    Failures(UiLanguage, &'a dyn Fn(&str)),
}

impl<'a> Tell<'a> {
    fn new(total: u64, lang: UiLanguage, sink: &'a dyn Fn(&str)) -> Tell<'a> {
        if !std::io::stderr().is_terminal() {
            return Tell::Lines(lang, sink);
        }
        let bar = ProgressBar::new(total);
        let label = say(lang, "tài liệu đã ký", "documents signed");
        if let Ok(style) =
            ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {label} {{msg}}"))
        {
            bar.set_style(style);
        }
        Tell::Bar(bar, lang)
    }

    fn lang(&self) -> UiLanguage {
        match self {
            Tell::Bar(_, lang) | Tell::Lines(lang, _) | Tell::Failures(lang, _) => *lang,
        }
    }

    fn signed(&self, doc: &ToSign, path: &str) {
        match self {
            Tell::Bar(bar, _) => {
                bar.set_message(format!("{} / {}", doc.dossier_code, doc.name));
                bar.inc(1);
            }
            Tell::Lines(lang, sink) => sink(&format!(
                "{} {} / {} → {path}",
                say(*lang, "đã ký", "signed"),
                doc.dossier_code,
                doc.name
            )),
            Tell::Failures(..) => {}
        }
    }

    fn skipped(&self) {
        if let Tell::Bar(bar, _) = self {
            bar.inc(1);
        }
    }

    fn failed(&self, doc: &ToSign, why: &str) {
        let text = format!(
            "{} {} / {}: {why}",
            say(self.lang(), "không ký được", "not signed:"),
            doc.dossier_code,
            doc.name
        );
        match self {
            Tell::Bar(bar, _) => {
                bar.println(format!("sohoa: {text}"));
                bar.inc(1);
            }
            Tell::Lines(_, sink) | Tell::Failures(_, sink) => sink(&text),
        }
    }

    fn finish(&self) {
        if let Tell::Bar(bar, _) = self {
            bar.finish_and_clear();
        }
    }
}

/// `sohoa sao-y`: the agency's SAO Y copy of a document the officer signed.
pub fn sao_y(
    settings: &Settings,
    document: i64,
    agency: Option<String>,
    key: KeyArgs,
    json: bool,
) -> CliResult {
    let lang = settings.ui_language;
    let records = Records::open_configured(settings)?;
    let (doc, signed) = records.sao_y_source(document)?.ok_or_else(|| {
        CliError::not_found(say(
            lang,
            &format!("Không có tài liệu mã số {document}. Mã số của từng tài liệu có trong sohoa dossier show MÃ_HỒ_SƠ (#…)."),
            &format!("No document {document}. sohoa dossier show CODE lists each document's number (#…)."),
        ))
    })?;
    let shown = format!("{} / {}", doc.dossier_code, doc.name);
    let Some(source) = signed else {
        return Err(CliError::usage(say(
            lang,
            &format!("Tài liệu #{document} ({shown}) chưa có chữ ký số của người sao; hãy ký trước: sohoa sign --dossier {}", doc.dossier_code),
            &format!("Document #{document} ({shown}) has no officer's signature yet; sign it first: sohoa sign --dossier {}", doc.dossier_code),
        )));
    };
    if let Some(path) = records.signed_path(document, SignRole::SaoY)? {
        outln!(
            "{}",
            say(
                lang,
                &format!("Tài liệu #{document} ({shown}) đã có bản SAO Y: {path}"),
                &format!("Document #{document} ({shown}) already has its SAO Y copy: {path}"),
            )
        )?;
        return Ok(Outcome::Done);
    }
    let agency = agency
        .or_else(|| settings.sign.agency.clone())
        .ok_or_else(|| {
            CliError::usage(say(
                lang,
                "Chưa có tên cơ quan của bản SAO Y: dùng --agency \"UBND xã …\" hoặc [sign] agency trong tệp cấu hình.",
                "No agency for the SAO Y copy: give --agency \"…\" or [sign] agency.",
            ))
        })?;
    let r = ready(settings, &key.apply(settings.sign.clone()))?;
    let desk = r.desk(&records, &settings.data_dir);
    let copy = Copy::SaoY { agency };
    let done = desk.sign(&source, &copy).map_err(|e| {
        let why = failure_text(&e, lang);
        CliError::new(
            match e {
                Failure::Records(_) => ExitCode::DataDir,
                Failure::Sign(e) if e.stops_run() => ExitCode::KeyUnusable,
                _ => ExitCode::InputsFailed,
            },
            why,
        )
    })?;
    let Some(done) = done else {
        let path = records
            .signed_path(document, SignRole::SaoY)?
            .unwrap_or_default();
        outln!(
            "{}",
            say(
                lang,
                &format!("Tài liệu #{document} ({shown}) vừa được một lượt khác tạo bản SAO Y: {path}"),
                &format!("Another run just made the SAO Y copy of document #{document} ({shown}): {path}"),
            )
        )?;
        return Ok(Outcome::Done);
    };
    if json {
        print_json(&SignedDoc::new(&doc, done))?;
    } else {
        outln!(
            "{}",
            say(
                lang,
                &format!(
                    "Đã tạo bản SAO Y của tài liệu #{document} ({shown}): {}; ký bởi {} lúc {}.",
                    done.archive_path,
                    done.signed.signer.name,
                    done.signed.time.format("%d/%m/%Y %H:%M:%S")
                ),
                &format!(
                    "Made the SAO Y copy of document #{document} ({shown}): {}; signed by {} at {}.",
                    done.archive_path,
                    done.signed.signer.name,
                    done.signed.time.to_rfc3339()
                ),
            )
        )?;
    }
    Ok(Outcome::Done)
}
