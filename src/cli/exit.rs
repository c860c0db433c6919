//! The closed table of exit codes, decided here and nowhere else (documented
//! in the README).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything asked for was done.
    Ok = 0,
    /// An unexpected internal error.
    Internal = 1,
    /// Bad command line, config file or inbox path.
    Usage = 2,
    /// Tesseract or its language data is missing.
    MissingDependency = 3,
    /// The batch finished, but some inputs failed (each reported).
    InputsFailed = 4,
    /// The data directory or database cannot be used.
    DataDir = 5,
    /// The requested record does not exist.
    NotFound = 6,
    /// Another `sohoa watch` already serves this data directory.
    AlreadyRunning = 7,
    /// `sohoa status`: no watcher is running on this data directory.
    NoWatcher = 8,
    /// `sohoa sync`: documents still wait (server unreachable, token refused)
    /// or were refused by the server; each is reported.
    SyncIncomplete = 9,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c as u8)
    }
}
