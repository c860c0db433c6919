//! Intake: finds the dossiers in an inbox and the components inside each one,
//! following the folder contract of the brief. A file is one component; a
//! sub-folder is one multi-page component whose images are its pages in natural
//! order; `ket-qua/` holds results under the same rules. Junk left by operating
//! systems and sync tools is ignored; symlinks are never followed. Intake only
//! lists and reads metadata: it never opens a scan's content.

mod junk;
mod natural;

pub use junk::{is_junk, is_temporary};
pub use natural::natural_cmp;

use crate::codes::DossierCode;
use crate::units::UnitTree;
use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;

/// Name of the results folder inside a dossier.
pub const RESULT_DIR: &str = "ket-qua";

/// Whether a document is a component of the submitted dossier or a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// Thành phần hồ sơ.
    ThanhPhan,
    /// Kết quả giải quyết.
    KetQua,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::ThanhPhan => "thanh_phan",
            DocKind::KetQua => "ket_qua",
        }
    }
    pub fn parse(s: &str) -> Option<DocKind> {
        match s {
            "thanh_phan" => Some(DocKind::ThanhPhan),
            "ket_qua" => Some(DocKind::KetQua),
            _ => None,
        }
    }
}

/// One component document: the files that become one PDF.
#[derive(Debug, Clone)]
pub struct Component {
    pub kind: DocKind,
    /// Name in the archive (NFC, without `.pdf`).
    pub name: String,
    /// The file, or the folder's files in page order.
    pub files: Vec<PathBuf>,
    /// The file or folder this component came from.
    pub source: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Dossier {
    pub code: DossierCode,
    pub folder: PathBuf,
    pub components: Vec<Component>,
}

/// Something in the inbox that cannot become a dossier.
#[derive(Debug, Clone)]
pub enum IntakeProblem {
    /// A dossier folder whose name is not a dossier code, and no default unit.
    InvalidCode { folder: PathBuf, name: String },
    /// A dossier code whose unit the unit tree does not have in force on the
    /// code's date (a typo, most often), with the closest known units
    /// (`code – name`).
    UnknownUnit {
        folder: PathBuf,
        code: String,
        closest: Vec<String>,
    },
    /// A file lying in the inbox outside any dossier folder.
    LooseFile { path: PathBuf },
    /// A symlink or a path leaving the inbox.
    Symlink { path: PathBuf },
    /// A folder that could not be read.
    Unreadable { path: PathBuf, reason: String },
}

#[derive(Debug, Default)]
pub struct InboxScan {
    pub dossiers: Vec<Dossier>,
    pub problems: Vec<IntakeProblem>,
    /// Non-standard dossier codes accepted with the default unit.
    pub opaque_codes: Vec<String>,
}

/// NFC form of a file name (scanners on macOS write NFD).
pub fn nfc_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().nfc().collect())
        .unwrap_or_default()
}

/// What one entry at the top of an inbox is.
#[derive(Debug)]
pub enum Entry {
    /// Ours or the system's (`_x`, `.x`, Thumbs.db…): not looked at.
    Ignored,
    /// Cannot become a dossier.
    Problem(IntakeProblem),
    /// A dossier folder, with the problems found inside it (symlinks…).
    Dossier {
        dossier: Dossier,
        problems: Vec<IntakeProblem>,
        /// The folder name is not a standard code; the default unit was used.
        opaque: bool,
    },
}

/// How the folders of an inbox name their dossiers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Naming<'a> {
    /// Lets non-standard folder names through as opaque codes of this unit.
    pub default_unit: Option<&'a str>,
    /// The unit tree a code's unit must be in force in; `None` accepts any
    /// unit (no tree imported, or the inbox accepts unknown units).
    pub units: Option<&'a UnitTree>,
}

impl Naming<'_> {
    /// The problem with a code whose unit the tree does not know on its date.
    fn check(&self, folder: &Path, code: &DossierCode) -> Option<IntakeProblem> {
        let tree = self.units.filter(|t| !t.is_empty())?;
        let known = match code.received {
            Some(d) => tree.at(&code.unit, d).is_some(),
            None => tree.knows(&code.unit),
        };
        if known {
            return None;
        }
        let closest = tree
            .closest(&code.unit, code.received, 3)
            .into_iter()
            .map(|i| {
                let u = tree.unit(i);
                // Said in Vietnamese, as the recorded message is.
                let when = match code.received {
                    Some(d) if !u.valid_on(d) => match (u.valid_from, u.valid_to) {
                        (Some(f), _) if d < f => format!(" (hiệu lực từ {})", f.format("%d/%m/%Y")),
                        (_, Some(t)) => format!(" (hiệu lực đến {})", t.format("%d/%m/%Y")),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                format!("{} – {}{when}", u.code, u.name)
            })
            .collect();
        Some(IntakeProblem::UnknownUnit {
            folder: folder.to_path_buf(),
            code: code.code.clone(),
            closest,
        })
    }
}

/// Lists the dossiers of one inbox.
pub fn scan_inbox(inbox: &Path, naming: &Naming) -> InboxScan {
    let mut scan = InboxScan::default();
    let entries = match sorted_entries(inbox) {
        Ok(e) => e,
        Err(e) => {
            scan.problems.push(IntakeProblem::Unreadable {
                path: inbox.to_path_buf(),
                reason: e.to_string(),
            });
            return scan;
        }
    };
    for entry in entries {
        match read_entry(&entry, naming, None) {
            Entry::Ignored => {}
            Entry::Problem(p) => scan.problems.push(p),
            Entry::Dossier {
                dossier,
                problems,
                opaque,
            } => {
                if opaque {
                    scan.opaque_codes.push(dossier.code.code.clone());
                }
                scan.problems.extend(problems);
                scan.dossiers.push(dossier);
            }
        }
    }
    scan
}

/// The entries at the top of an inbox, sorted naturally.
pub fn inbox_entries(inbox: &Path) -> std::io::Result<Vec<PathBuf>> {
    sorted_entries(inbox)
}

/// Reads one entry at the top of an inbox. `marker` names a file operators
/// drop to say a folder is complete (watch mode); it is never a component.
pub fn read_entry(entry: &Path, naming: &Naming, marker: Option<&str>) -> Entry {
    let name = nfc_name(entry);
    // `_x` and `.x` at the top are ours or the system's (e.g. `_truth`).
    if name.starts_with('_') || is_junk(&name) {
        return Entry::Ignored;
    }
    let meta = match std::fs::symlink_metadata(entry) {
        Ok(m) => m,
        Err(e) => {
            return Entry::Problem(IntakeProblem::Unreadable {
                path: entry.to_path_buf(),
                reason: e.to_string(),
            })
        }
    };
    if meta.file_type().is_symlink() {
        return Entry::Problem(IntakeProblem::Symlink {
            path: entry.to_path_buf(),
        });
    }
    if meta.is_file() {
        return Entry::Problem(IntakeProblem::LooseFile {
            path: entry.to_path_buf(),
        });
    }
    let (code, opaque) = match (DossierCode::parse(&name), naming.default_unit) {
        (Some(c), _) => (c, false),
        (None, Some(unit)) => (DossierCode::opaque(&name, unit), true),
        (None, None) => {
            return Entry::Problem(IntakeProblem::InvalidCode {
                folder: entry.to_path_buf(),
                name,
            })
        }
    };
    if let Some(problem) = naming.check(entry, &code) {
        return Entry::Problem(problem);
    }
    let mut problems = Vec::new();
    match dossier_components(entry, marker, &mut problems) {
        Ok(components) => Entry::Dossier {
            dossier: Dossier {
                code,
                folder: entry.to_path_buf(),
                components,
            },
            problems,
            opaque,
        },
        Err(e) => Entry::Problem(IntakeProblem::Unreadable {
            path: entry.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

/// Components of one dossier folder (including `ket-qua/`).
pub fn dossier_components(
    folder: &Path,
    marker: Option<&str>,
    problems: &mut Vec<IntakeProblem>,
) -> std::io::Result<Vec<Component>> {
    let mut out = Vec::new();
    collect_components(folder, DocKind::ThanhPhan, marker, &mut out, problems)?;
    let results = folder.join(RESULT_DIR);
    if std::fs::symlink_metadata(&results).is_ok_and(|m| m.is_dir()) {
        collect_components(&results, DocKind::KetQua, marker, &mut out, problems)?;
    }
    Ok(out)
}

fn collect_components(
    folder: &Path,
    kind: DocKind,
    marker: Option<&str>,
    out: &mut Vec<Component>,
    problems: &mut Vec<IntakeProblem>,
) -> std::io::Result<()> {
    let mut found = Vec::new();
    for entry in sorted_entries(folder)? {
        let name = nfc_name(&entry);
        let is_marker = marker.is_some_and(|m| name.eq_ignore_ascii_case(m));
        if is_junk(&name) || is_marker || (kind == DocKind::ThanhPhan && name == RESULT_DIR) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&entry)?;
        if meta.file_type().is_symlink() {
            problems.push(IntakeProblem::Symlink { path: entry });
        } else if meta.is_dir() {
            let files = page_files(&entry, problems)?;
            if !files.is_empty() {
                found.push((name, files, entry));
            }
        } else if meta.is_file() {
            found.push((stem(&name), vec![entry.clone()], entry));
        }
    }
    // Two sources with the same stem (01.jpg and 01.tif) keep their full names.
    let stems: Vec<String> = found.iter().map(|(n, _, _)| n.clone()).collect();
    for (name, files, source) in found {
        let clash = stems.iter().filter(|s| **s == name).count() > 1;
        let name = if clash { nfc_name(&source) } else { name };
        out.push(Component {
            kind,
            name,
            files,
            source,
        });
    }
    Ok(())
}

/// The page files of a folder component, in natural order, walking nested
/// folders depth-first (a scanner may split a long document into batches).
fn page_files(folder: &Path, problems: &mut Vec<IntakeProblem>) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in sorted_entries(folder)? {
        let name = nfc_name(&entry);
        if is_junk(&name) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&entry)?;
        if meta.file_type().is_symlink() {
            problems.push(IntakeProblem::Symlink { path: entry });
        } else if meta.is_dir() {
            files.extend(page_files(&entry, problems)?);
        } else if meta.is_file() {
            files.push(entry);
        }
    }
    Ok(files)
}

/// Entries of a folder sorted naturally by their NFC names.
fn sorted_entries(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort_by(|a, b| natural_cmp(&nfc_name(a), &nfc_name(b)));
    Ok(entries)
}

fn stem(name: &str) -> String {
    match name.rfind('.') {
        Some(i) if i > 0 => name[..i].to_string(),
        _ => name.to_string(),
    }
}
