//! sohoa: turns paper dossiers of Vietnamese administrative procedures into
//! searchable, archivable PDFs attached to dossier records, and counts how far
//! digitization has come. Stages in data-flow order:
//! intake → decode → prepare → ocr → package → store → records → report;
//! `pipeline` calls them in order, `watch` runs it as a service over hot
//! folders, `cli` is the command-line glue.

pub mod api;
pub mod cli;
pub mod codes;
pub mod config;
pub mod decode;
pub mod errors;
pub mod format;
pub mod intake;
pub mod messages;
pub mod ocr;
pub mod package;
pub mod pipeline;
pub mod prepare;
pub mod records;
pub mod register;
pub mod report;
pub mod rules;
pub mod serve;
pub mod sign;
pub mod store;
pub mod sync;
pub mod tabular;
pub mod units;
pub mod watch;
