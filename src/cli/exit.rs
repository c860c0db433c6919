//! The closed table of exit codes, decided here and nowhere else (documented
//! in the README), and the two ways a command ends: an `Outcome` when it ran
//! to its end (which is not always a clean success: 4, 8 and 9 report on
//! what they found), or a `CliError` when it could not do what was asked.
//! `cli::run` turns either into the exit code and prints the error.

use crate::records::RecordsError;
use crate::store::StoreError;
use std::fmt;

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
    /// `verify`: a file has no signature, or a signature that is not valid
    /// (each reported).
    NotVerified = 10,
    /// `sign`, `sao-y`: the key cannot be used (a wrong password or PIN, a
    /// locked or missing token, a certificate expired, not yet valid or not
    /// for signatures); nothing was signed.
    KeyUnusable = 11,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c as u8)
    }
}

/// A command that ran to its end; what it found is on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done.
    Done,
    /// Some inputs failed, or an import had bad rows; each one reported.
    InputsFailed,
    /// `status`: no watcher runs on this data directory.
    NoWatcher,
    /// `sync`: documents still wait or were refused; each one reported.
    SyncIncomplete,
    /// `verify`: some file is not validly signed; each one reported.
    NotVerified,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Done => ExitCode::Ok,
            Outcome::InputsFailed => ExitCode::InputsFailed,
            Outcome::NoWatcher => ExitCode::NoWatcher,
            Outcome::SyncIncomplete => ExitCode::SyncIncomplete,
            Outcome::NotVerified => ExitCode::NotVerified,
        }
    }
}

/// What every command returns.
pub type CliResult = Result<Outcome, CliError>;

/// A command that could not do what was asked: its exit code and what the
/// operator reads, already in their language, printed once as `sohoa: <message>`.
#[derive(Debug)]
pub struct CliError {
    exit: ExitCode,
    message: String,
}

impl CliError {
    pub fn new(exit: ExitCode, message: impl Into<String>) -> CliError {
        debug_assert!(exit != ExitCode::Ok, "an error with exit code 0");
        CliError {
            exit,
            message: message.into(),
        }
    }

    /// Exit code 1: a bug or an impossible state.
    pub fn internal(message: impl fmt::Display) -> CliError {
        CliError::new(ExitCode::Internal, message.to_string())
    }

    /// Exit code 2: the command line, the config or an input path.
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::new(ExitCode::Usage, message)
    }

    /// Exit code 5: the data directory or the database.
    pub fn data_dir(message: impl fmt::Display) -> CliError {
        CliError::new(ExitCode::DataDir, message.to_string())
    }

    /// Exit code 6: the record asked for does not exist.
    pub fn not_found(message: impl Into<String>) -> CliError {
        CliError::new(ExitCode::NotFound, message)
    }

    /// The same message with another exit code.
    pub fn with_exit(self, exit: ExitCode) -> CliError {
        CliError::new(exit, self.message)
    }

    pub fn exit_code(&self) -> ExitCode {
        self.exit
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<RecordsError> for CliError {
    fn from(e: RecordsError) -> CliError {
        CliError::data_dir(e)
    }
}

/// An output file (`--output`) that cannot be written.
impl From<StoreError> for CliError {
    fn from(e: StoreError) -> CliError {
        CliError::data_dir(e)
    }
}

/// Standard output or an output file that cannot be written.
impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError::data_dir(e)
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> CliError {
        CliError::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_that_report_findings_keep_their_codes() {
        let codes: Vec<u8> = [
            Outcome::Done,
            Outcome::InputsFailed,
            Outcome::NoWatcher,
            Outcome::SyncIncomplete,
        ]
        .map(|o| o.exit_code() as u8)
        .to_vec();
        assert_eq!(codes, [0, 4, 8, 9]);
    }

    #[test]
    fn common_errors_know_their_exit_code() {
        let io = std::io::Error::other("disk full");
        assert_eq!(CliError::from(io).exit_code(), ExitCode::DataDir);
        let json = serde_json::from_str::<u8>("x").unwrap_err();
        assert_eq!(CliError::from(json).exit_code(), ExitCode::Internal);
        let e = CliError::usage("bad").with_exit(ExitCode::DataDir);
        assert_eq!((e.exit_code(), e.message()), (ExitCode::DataDir, "bad"));
    }
}
