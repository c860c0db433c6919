use crate::errors::ErrorCode;
use thiserror::Error;

/// Why an input file could not be decoded. Each variant maps to a stable error
/// code and a message for the operator (see `crate::messages`).
#[derive(Debug, Error)]
pub enum DecodeError {
    #[error("file is empty")]
    Empty,
    #[error("not an image or PDF we can read")]
    NotAnImage,
    #[error("file is damaged or truncated: {0}")]
    Corrupt(String),
    #[error("PDF is encrypted or password protected")]
    Encrypted,
    #[error("{what} exceed the limit: {actual} > {limit}")]
    TooLarge {
        what: &'static str,
        actual: u64,
        limit: u64,
    },
    #[error("file has no pages")]
    NoPages,
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl DecodeError {
    /// `Ok` when `actual` is within `limit`, else `TooLarge` naming `what`.
    pub fn at_most(what: &'static str, actual: u64, limit: u64) -> Result<(), DecodeError> {
        if actual > limit {
            return Err(DecodeError::TooLarge {
                what,
                actual,
                limit,
            });
        }
        Ok(())
    }

    /// Stable code recorded with failed documents and shown to operators.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::Empty => ErrorCode::Empty,
            DecodeError::NotAnImage => ErrorCode::NotImage,
            DecodeError::Corrupt(_) => ErrorCode::Corrupt,
            DecodeError::Encrypted => ErrorCode::Encrypted,
            DecodeError::TooLarge { .. } => ErrorCode::TooLarge,
            DecodeError::NoPages => ErrorCode::NoPages,
            DecodeError::Unsupported(_) => ErrorCode::Unsupported,
        }
    }
}
