//! Files that operating systems, office suites and sync tools leave next to
//! scans. They are never components.

/// True for names intake must skip.
pub fn is_junk(name: &str) -> bool {
    let lower = name.to_lowercase();
    const EXACT: [&str; 7] = [
        "thumbs.db",
        "desktop.ini",
        ".ds_store",
        "@eadir",
        ".stfolder",
        ".stversions",
        "xong",
    ];
    const SUFFIX: [&str; 5] = [".tmp", ".part", ".filepart", ".crdownload", ".loi.txt"];
    EXACT.contains(&lower.as_str())
        || name.starts_with('.')
        || name.starts_with("~$")
        || SUFFIX.iter().any(|s| lower.ends_with(s))
}

/// True for names of files still being written (a download, a copy or a
/// scanner's partial file); never read, never deleted.
pub fn is_temporary(name: &str) -> bool {
    let lower = name.to_lowercase();
    const SUFFIX: [&str; 4] = [".tmp", ".part", ".filepart", ".crdownload"];
    name.starts_with("~$") || SUFFIX.iter().any(|s| lower.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_names() {
        for n in [
            "Thumbs.db",
            "desktop.ini",
            ".DS_Store",
            "._trang-1.jpg",
            "scan.tmp",
            "~$don.docx",
            "trang.part",
            "x.filepart",
            "@eaDir",
            ".stfolder",
            ".stversions",
            "XONG",
        ] {
            assert!(is_junk(n), "{n}");
        }
        for n in ["01-don.jpg", "trang-1.tif", "ket-qua", "temp-scan.jpg"] {
            assert!(!is_junk(n), "{n}");
        }
    }
}
