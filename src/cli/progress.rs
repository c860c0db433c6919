//! Progress on stderr: an indicatif bar (documents, pages, pages per minute, time left) when stderr
//! is a terminal, plain lines otherwise (logs of night runs).

use crate::format::{count, decimal, UiLanguage};
use crate::pipeline::{FailureReport, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub fn for_stderr(lang: UiLanguage) -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(Bars::new(lang))
    } else {
        Box::new(Lines { lang })
    }
}

struct Lines {
    lang: UiLanguage,
}

impl Progress for Lines {
    fn start(&self, components: u64, files: u64) {
        match self.lang {
            UiLanguage::Vi => eprintln!("sohoa: bắt đầu {components} tài liệu ({files} tệp)"),
            UiLanguage::En => eprintln!("sohoa: starting {components} documents ({files} files)"),
        }
    }
    fn document_done(&self, dossier: &str, name: &str, pages: usize) {
        match self.lang {
            UiLanguage::Vi => eprintln!("sohoa: xong {dossier} / {name}: {pages} trang"),
            UiLanguage::En => eprintln!("sohoa: done {dossier} / {name}: {pages} pages"),
        }
    }
    fn problem(&self, f: &FailureReport) {
        eprintln!("sohoa: [{}] {}", f.code, f.message);
    }
}

/// One bar on a terminal: documents done of those found, the pages written,
/// pages per minute and the time left, the Vietnamese way; each problem as a
/// line above it as it happens.
struct Bars {
    multi: MultiProgress,
    docs: ProgressBar,
    pages: Arc<AtomicU64>,
}

impl Bars {
    fn new(lang: UiLanguage) -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let pages = Arc::new(AtomicU64::new(0));
        let (docs_label, pages_label, per_minute) = match lang {
            UiLanguage::Vi => ("tài liệu", "trang", "trang/phút"),
            UiLanguage::En => ("documents", "pages", "pages/min"),
        };
        let written = pages.clone();
        let rate = pages.clone();
        let style = ProgressStyle::with_template(&format!(
            "{{spinner}} {{bar:30}} {{pos}}/{{len}} {docs_label} · {{pages}} {pages_label} · {{rate}} {per_minute} · {{left}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("pages", move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&count(written.load(Ordering::Relaxed), lang));
        })
        .with_key("rate", move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let minutes = s.elapsed().as_secs_f64() / 60.0;
            let n = rate.load(Ordering::Relaxed) as f64;
            let per = if minutes > 0.0 { n / minutes } else { 0.0 };
            let _ = w.write_str(&decimal(per, 1, lang));
        })
        .with_key("left", move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&time_left(s, lang));
        });
        let docs = multi.add(ProgressBar::new(0).with_style(style));
        Bars { multi, docs, pages }
    }
}

/// "còn khoảng 3 phút" from the documents done so far; "đang ước tính" before the first.
fn time_left(s: &ProgressState, lang: UiLanguage) -> String {
    let vi = lang == UiLanguage::Vi;
    if s.pos() == 0 {
        return if vi {
            "đang ước tính thời gian"
        } else {
            "estimating time"
        }
        .into();
    }
    let secs = s.eta().as_secs();
    match (secs, vi) {
        (0..=59, true) => format!("còn khoảng {} giây", secs.max(1)),
        (0..=59, false) => format!("about {} s left", secs.max(1)),
        (60..=5399, true) => format!("còn khoảng {} phút", secs.div_ceil(60)),
        (60..=5399, false) => format!("about {} min left", secs.div_ceil(60)),
        (_, true) => format!("còn khoảng {} giờ", decimal(secs as f64 / 3600.0, 1, lang)),
        (_, false) => format!("about {} h left", decimal(secs as f64 / 3600.0, 1, lang)),
    }
}

impl Progress for Bars {
    fn start(&self, components: u64, _files: u64) {
        self.docs.set_length(components);
    }
    fn page_done(&self) {
        self.pages.fetch_add(1, Ordering::Relaxed);
        self.docs.tick();
    }
    fn document_done(&self, _dossier: &str, _name: &str, _pages: usize) {
        self.docs.inc(1);
    }
    fn problem(&self, f: &FailureReport) {
        let _ = self.multi.println(format!("[{}] {}", f.code, f.message));
    }
    fn finish(&self) {
        self.docs.finish_and_clear();
    }
}

/// Whether problems were already shown live on the terminal the summary goes to.
pub fn problems_shown_live() -> bool {
    std::io::stderr().is_terminal() && std::io::stdout().is_terminal()
}

/// Progress passed on to another, noting the dossiers whose documents were
/// archived (what `[sign] mode = "auto"` signs after a batch).
pub struct Archived<'a> {
    inner: &'a dyn Progress,
    codes: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl<'a> Archived<'a> {
    pub fn new(inner: &'a dyn Progress) -> Archived<'a> {
        Archived {
            inner,
            codes: Default::default(),
        }
    }

    /// The dossier codes, in order.
    pub fn codes(&self) -> Vec<String> {
        self.codes
            .lock()
            .map(|c| c.iter().cloned().collect())
            .unwrap_or_default()
    }
}

impl Progress for Archived<'_> {
    fn start(&self, components: u64, files: u64) {
        self.inner.start(components, files);
    }
    fn page_done(&self) {
        self.inner.page_done();
    }
    fn document_done(&self, dossier: &str, name: &str, pages: usize) {
        if let Ok(mut c) = self.codes.lock() {
            c.insert(dossier.to_string());
        }
        self.inner.document_done(dossier, name, pages);
    }
    fn problem(&self, failure: &FailureReport) {
        self.inner.problem(failure);
    }
    fn finish(&self) {
        self.inner.finish();
    }
}
