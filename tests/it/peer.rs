//! OCRmyPDF's test resources, one per dossier, through `sohoa batch`: every
//! file gives a searchable PDF with its page count, or a clear refusal naming
//! it; turned pages read like upright ones; nothing panics or hangs.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/peer-ocrmypdf")
}

/// Pages of an input: pdfinfo for PDFs, 1 for images.
fn input_pages(file: &Path) -> u32 {
    if file.extension().is_some_and(|e| e == "pdf") {
        pdf_pages(file)
    } else {
        1
    }
}

#[test]
fn every_peer_resource_becomes_a_searchable_pdf_or_a_clear_refusal() {
    let inbox = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".txt") && !n.ends_with(".md"))
        .collect();
    names.sort();
    for (i, name) in names.iter().enumerate() {
        let code = format!("000.00.18.H44-230501-{:04}", i + 1);
        let dir = inbox.path().join(&code);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(corpus().join(name), dir.join(name)).unwrap();
        inputs.push((code, name.clone()));
    }
    let run = Run::new(inbox.path(), &["--jobs", "2"]);
    assert_eq!(run.output.status.code(), Some(4), "{}", stderr(&run.output));
    let summary = run.summary();
    let failures = summary["failures"].as_array().unwrap();
    let refused: Vec<(&str, &str)> = failures
        .iter()
        .map(|f| (f["file"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(refused.len(), 2, "{failures:#?}");
    assert!(
        refused
            .iter()
            .any(|(f, c)| f.ends_with("hugemono.pdf") && *c == "E_TOO_LARGE"),
        "{refused:?}"
    );
    assert!(
        refused
            .iter()
            .any(|(f, c)| f.ends_with("invalid.pdf") && *c == "E_CORRUPT"),
        "{refused:?}"
    );

    for (code, name) in &inputs {
        if name == "hugemono.pdf" || name == "invalid.pdf" {
            continue;
        }
        let stem = name.rsplit_once('.').unwrap().0;
        let pdf = run
            .data
            .path()
            .join(format!("archive/000.00.18.H44/2023/{code}/{stem}.pdf"));
        assert!(pdf.is_file(), "no PDF for {name}");
        assert_eq!(pdf_pages(&pdf), input_pages(&corpus().join(name)), "{name}");
        let check = Command::new("qpdf")
            .arg("--check")
            .arg(&pdf)
            .output()
            .unwrap();
        assert_eq!(
            check.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&check.stdout)
        );
    }

    // The four turned copies of linn in cardinal.pdf read like the upright page.
    let reference = std::fs::read_to_string(corpus().join("linn.txt")).unwrap();
    let (code, _) = inputs.iter().find(|(_, n)| n == "cardinal.pdf").unwrap();
    let cardinal = run
        .data
        .path()
        .join(format!("archive/000.00.18.H44/2023/{code}/cardinal.pdf"));
    for page in 1..=4 {
        let out = Command::new("pdftotext")
            .args(["-raw", "-f", &page.to_string(), "-l", &page.to_string()])
            .arg(&cardinal)
            .arg("-")
            .output()
            .unwrap();
        let (d, n) = cer(&reference, &String::from_utf8_lossy(&out.stdout));
        assert!(d * 100 < 3 * n, "cardinal page {page}: CER {d}/{n}");
    }
}
