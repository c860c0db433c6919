//! Placeholder until the PDF decoder lands.
use super::{DecodeError, Limits, Page};
pub fn decode_pdf(_bytes: &[u8], _limits: &Limits) -> Result<Vec<Page>, DecodeError> {
    Err(DecodeError::Unsupported("pdf".into()))
}
