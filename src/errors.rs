//! The closed set of error codes: every reason an input can fail (recorded with
//! the failure, shown to operators), every reason a station keeps a document
//! back, and every error the server answers with.
//! One enum, so a code's wire string, whether a later try may succeed and its
//! HTTP status are written once; its texts in both languages are exhaustive
//! matches in `crate::messages`.
//!
//! Wire strings are stable: they are stored in databases (`failures.error_code`)
//! and sent over HTTP (`{"error": …}`). One string is deliberately shared:
//! `E_TOO_LARGE` is both an input over the decode limits ([`ErrorCode::TooLarge`],
//! what records hold) and an upload over the server's `max_upload_mib`
//! ([`ErrorCode::TooLargeUpload`], a 413 reply). They are two variants because
//! what to do differs (rescan smaller vs. raise the server's limit); they share
//! the string because stations already in service read it. [`ErrorCode::from_wire`]
//! reads the recorded meaning, [`ErrorCode::from_api_wire`] the meaning in a
//! server reply.

use std::fmt;

/// Declares the enum and `ALL` from one table, so no code can be missing
/// from the list the tests walk: `Variant = "E_WIRE", retryable, HTTP status`.
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $wire:literal, $retry:literal, $http:expr; )*) => {
        /// A stable error code. `Display` and serde give its wire string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The string stored in records and sent over HTTP, e.g. `E_CORRUPT`.
            pub const fn as_wire(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $wire,)*
                }
            }

            /// Whether the same input or request may succeed later with nobody
            /// changing it: the watcher leaves such an input for its next look
            /// instead of moving it to `failed/`, a station sends it again.
            pub const fn retryable(self) -> bool {
                match self {
                    $(ErrorCode::$variant => $retry,)*
                }
            }

            /// The HTTP status the server answers this code with; `None` for
            /// codes only inputs fail with (the server never sends them).
            pub const fn http_status(self) -> Option<u16> {
                match self {
                    $(ErrorCode::$variant => $http,)*
                }
            }
        }
    };
}

error_codes! {
    // Inputs: what `failures.error_code` records.
    /// The file has 0 bytes.
    Empty = "E_EMPTY", false, None;
    /// Neither a scanned image nor a PDF.
    NotImage = "E_NOT_IMAGE", false, None;
    /// Damaged or truncated (often: not completely scanned yet).
    Corrupt = "E_CORRUPT", false, None;
    /// A PDF with a password or encryption.
    Encrypted = "E_ENCRYPTED", false, None;
    /// Over the decode limits (pixels, pages, bytes). Shares its wire string
    /// with [`ErrorCode::TooLargeUpload`]; see the module comment.
    TooLarge = "E_TOO_LARGE", false, None;
    /// A file without any page.
    NoPages = "E_NO_PAGES", false, None;
    /// A format (or a variant of one) we cannot read.
    Unsupported = "E_UNSUPPORTED", false, None;
    /// The file changed while it was read (the scanner is still writing).
    Changed = "E_CHANGED", true, None;
    /// The file could not be read.
    Read = "E_READ", false, None;
    /// A dossier folder whose name is no dossier code, without a default unit.
    InvalidCode = "E_INVALID_CODE", false, None;
    /// A dossier code whose unit is not in the imported unit tree on the code's date.
    UnknownUnit = "E_UNKNOWN_UNIT", false, None;
    /// A file directly in the inbox, outside any dossier folder.
    LooseFile = "E_LOOSE_FILE", false, None;
    /// A symbolic link, refused.
    Symlink = "E_SYMLINK", false, None;
    /// A folder that cannot be listed.
    Unreadable = "E_UNREADABLE", false, None;
    /// Tesseract failed on a page.
    Ocr = "E_OCR", false, None;
    /// Tesseract could not start on a worker.
    OcrInit = "E_OCR_INIT", true, None;
    /// Any PDF writer failure, as recorded by early versions (before the
    /// `E_PACKAGE_*` codes); kept so old records still read.
    Package = "E_PACKAGE", false, None;
    /// The PDF writer got no pages.
    PackageNoPages = "E_PACKAGE_NO_PAGES", false, None;
    /// A page the PDF writer cannot lay out.
    PackagePage = "E_PACKAGE_PAGE", false, None;
    /// A page image the PDF writer cannot embed.
    PackageImage = "E_PACKAGE_IMAGE", false, None;
    /// An OCR result the PDF writer cannot place.
    PackageOcr = "E_PACKAGE_OCR", false, None;
    /// The archive cannot be written (permissions, a name the filesystem
    /// refuses). A station sets the document aside: sending it again would not help.
    Store = "E_STORE", true, Some(507);
    /// The server's disk is full: nothing can be received until IT frees
    /// space, so a station stops its pass and tries again later.
    StoreFull = "E_STORE_FULL", true, Some(503);
    /// The database cannot be used (busy, connection lost).
    Database = "E_DATABASE", true, Some(503);

    // A station's own refusals to send (recorded in its outbox).
    /// The archive file of a document to send cannot be read.
    LocalMissing = "E_LOCAL_MISSING", false, None;
    /// The archive file changed after it was written (SHA-256 differs from the record).
    LocalChanged = "E_LOCAL_CHANGED", false, None;

    // The server's replies (`{"error": …, "message": …}`).
    /// A request without `Authorization: Bearer …`.
    NoToken = "E_NO_TOKEN", false, Some(401);
    /// A token that is wrong or was revoked.
    BadToken = "E_BAD_TOKEN", false, Some(401);
    /// The caller's token is good, but what it asks is outside its units.
    Forbidden = "E_FORBIDDEN", false, Some(403);
    /// A malformed upload (missing part, bad record, body cut short).
    BadUpload = "E_BAD_UPLOAD", true, Some(400);
    /// The PDF received does not match its record's SHA-256 or size
    /// (damaged in transit): the same document may go through next time.
    HashMismatch = "E_HASH_MISMATCH", true, Some(422);
    /// The upload is not a readable PDF with the pages its record lists.
    BadPdf = "E_BAD_PDF", false, Some(422);
    /// A signed upload whose signature does not verify (altered, not the
    /// signer's, or not from a trusted authority).
    BadSignature = "E_BAD_SIGNATURE", false, Some(422);
    /// A dossier of a unit the station may not write.
    OtherUnit = "E_OTHER_UNIT", false, Some(403);
    /// The server has this version of the document with other content.
    VersionConflict = "E_VERSION_CONFLICT", false, Some(409);
    /// An upload over `[serve] max_upload_mib`. Shares its wire string with
    /// [`ErrorCode::TooLarge`]; see the module comment.
    TooLargeUpload = "E_TOO_LARGE", false, Some(413);
    /// Too many uploads at once: come back a little later.
    Busy = "E_BUSY", true, Some(503);
    /// An upload body that stalled for `[serve] body_idle_seconds`.
    TooSlow = "E_TOO_SLOW", true, Some(408);
    /// A resumable upload the server no longer has (expired, finished, or
    /// never this station's): start it again.
    UploadGone = "E_UPLOAD_GONE", true, Some(410);
    /// A resumable upload sent from another offset than the server holds, or
    /// committed before all its bytes arrived: ask for the offset, go on from it.
    UploadOffset = "E_UPLOAD_OFFSET", true, Some(409);
    /// A resumable upload request of a tus version other than 1.0.0.
    TusVersion = "E_TUS_VERSION", false, Some(412);
    /// No such dossier or document.
    NotFound = "E_NOT_FOUND", false, Some(404);
    /// Bad query parameters.
    Usage = "E_USAGE", false, Some(400);
    /// Anything else; logged with its chain, answered without detail.
    Internal = "E_INTERNAL", true, Some(500);
}

impl ErrorCode {
    /// The code a record holds. `E_TOO_LARGE` reads as the input failure
    /// [`ErrorCode::TooLarge`]; unknown strings give `None`.
    pub fn from_wire(wire: &str) -> Option<ErrorCode> {
        Self::ALL
            .iter()
            .copied()
            .filter(|c| *c != ErrorCode::TooLargeUpload)
            .find(|c| c.as_wire() == wire)
    }

    /// The code a server reply carries. `E_TOO_LARGE` reads as
    /// [`ErrorCode::TooLargeUpload`]; every other string as in [`ErrorCode::from_wire`].
    pub fn from_api_wire(wire: &str) -> Option<ErrorCode> {
        if wire == ErrorCode::TooLargeUpload.as_wire() {
            Some(ErrorCode::TooLargeUpload)
        } else {
            Self::from_wire(wire)
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_wire())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_wire())
    }
}

/// Reads the recorded meaning ([`ErrorCode::from_wire`]); a client reading a
/// server reply uses [`ErrorCode::from_api_wire`] on the string instead.
impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ErrorCode::from_wire(&wire)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code {wire:?}")))
    }
}

/// An error with its causes, `outer: inner: …`, for developer logs (a
/// PostgreSQL error says only "db error" until its source is read).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !out.ends_with(&next) {
            out = format!("{out}: {next}");
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;
    use std::collections::HashSet;

    #[test]
    fn every_code_reads_back_from_its_wire_string() {
        for &c in ErrorCode::ALL {
            if c == ErrorCode::TooLargeUpload {
                assert_eq!(ErrorCode::from_api_wire(c.as_wire()), Some(c));
                assert_eq!(ErrorCode::from_wire(c.as_wire()), Some(ErrorCode::TooLarge));
            } else {
                assert_eq!(ErrorCode::from_wire(c.as_wire()), Some(c), "{c}");
            }
            if c.http_status().is_some() {
                assert_eq!(ErrorCode::from_api_wire(c.as_wire()), Some(c), "{c}");
            }
        }
        assert_eq!(ErrorCode::from_wire("E_NOPE"), None);
    }

    #[test]
    fn wire_strings_are_distinct_but_for_the_one_documented_pair() {
        let mut seen = HashSet::new();
        for &c in ErrorCode::ALL {
            if c != ErrorCode::TooLargeUpload {
                assert!(seen.insert(c.as_wire()), "{c} twice");
            }
            assert!(c.as_wire().starts_with("E_"), "{c}");
        }
    }

    #[test]
    fn serde_uses_the_wire_string() {
        let json = serde_json::to_string(&ErrorCode::HashMismatch).unwrap();
        assert_eq!(json, "\"E_HASH_MISMATCH\"");
        let back: ErrorCode = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ErrorCode::HashMismatch);
        assert!(serde_json::from_str::<ErrorCode>("\"E_NOPE\"").is_err());
    }

    #[test]
    fn what_the_pipeline_leaves_for_a_later_try() {
        let input_codes = ErrorCode::ALL.iter().filter(|c| c.http_status().is_none());
        let retried: Vec<_> = input_codes
            .chain([ErrorCode::Store, ErrorCode::Database].iter())
            .filter(|c| c.retryable())
            .map(|c| c.as_wire())
            .collect();
        assert_eq!(
            retried,
            ["E_CHANGED", "E_OCR_INIT", "E_STORE", "E_DATABASE"]
        );
    }

    #[test]
    fn api_codes_answer_with_client_or_server_errors() {
        for &c in ErrorCode::ALL {
            if let Some(s) = c.http_status() {
                assert!((400..600).contains(&s), "{c}: {s}");
            }
        }
        assert_eq!(ErrorCode::Busy.http_status(), Some(503));
        assert!(ErrorCode::Busy.retryable());
        assert_eq!(ErrorCode::TooLargeUpload.http_status(), Some(413));
        assert!(!ErrorCode::TooLargeUpload.retryable());
        assert!(ErrorCode::HashMismatch.retryable() && !ErrorCode::BadPdf.retryable());
    }

    #[test]
    fn a_chain_names_every_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("database error: {0}")]
        struct Repeats(#[source] Outer);
        #[derive(Debug, thiserror::Error)]
        #[error("db error")]
        struct Outer(#[source] std::io::Error);
        let e = Repeats(Outer(std::io::Error::other("connection refused")));
        assert_eq!(
            super::chain(&e),
            "database error: db error: connection refused"
        );
    }
}
