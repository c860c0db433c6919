//! Thresholds from the rules that apply to digitized copies (Circular 01/2023
//! via Circular 02/2019/TT-BNV): colour, at least 200 dpi, every page kept.
//! Pages that miss them are flagged in the records, never rejected.

/// Smallest effective resolution a digitized copy should have.
pub const MIN_DPI: f32 = 200.0;
