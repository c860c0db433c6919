//! Integration tests: run the real `sohoa` binary on real scans made by
//! `scripts/make_samples.py`, and check what a user would check: exit codes,
//! archive files, `pdfinfo`/`pdftotext`/`qpdf` on the PDFs, database rows.

mod bad_input;
mod batch;
mod claims;
mod cli;
mod harness;
mod link;
mod pdfa;
mod peer;
mod postgres;
mod queue;
mod register;
mod report;
mod report_html;
mod serve;
mod serve_hostile;
mod sign;
mod sync;
mod watch;
