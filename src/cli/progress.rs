//! Progress on stderr: indicatif bars (documents, pages, rate, ETA) when stderr
//! is a terminal, plain lines otherwise (logs of night runs).

use crate::format::UiLanguage;
use crate::pipeline::{FailureReport, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

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

struct Bars {
    multi: MultiProgress,
    docs: ProgressBar,
    pages: ProgressBar,
    lang: UiLanguage,
}

impl Bars {
    fn new(lang: UiLanguage) -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let (docs_label, pages_label) = match lang {
            UiLanguage::Vi => ("tài liệu", "trang"),
            UiLanguage::En => ("documents", "pages"),
        };
        let style = |label: &str| {
            ProgressStyle::with_template(&format!(
                "{{spinner}} {{bar:30}} {{pos}}/{{len}} {label} · {{per_sec}} · ETA {{eta}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
        };
        let docs = multi.add(ProgressBar::new(0).with_style(style(docs_label)));
        let pages = multi.add(ProgressBar::new(0).with_style(style(pages_label)));
        Bars {
            multi,
            docs,
            pages,
            lang,
        }
    }
}

impl Progress for Bars {
    fn start(&self, components: u64, _files: u64) {
        self.docs.set_length(components);
        // Page totals are only known after decoding; the bar grows as we go.
    }
    fn page_done(&self) {
        self.pages.inc_length(1);
        self.pages.inc(1);
    }
    fn document_done(&self, _dossier: &str, _name: &str, _pages: usize) {
        self.docs.inc(1);
    }
    fn problem(&self, f: &FailureReport) {
        let _ = self.multi.println(format!("[{}] {}", f.code, f.message));
        let _ = self.lang;
    }
    fn finish(&self) {
        self.docs.finish_and_clear();
        self.pages.finish_and_clear();
    }
}
