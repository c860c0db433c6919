//! Thresholds from the rules that apply to digitized copies (Circular 01/2023
//! via Circular 02/2019/TT-BNV): colour, at least 200 dpi, every page kept.
//! Pages that miss them are flagged in the records, never rejected.

/// Smallest effective resolution a digitized copy should have.
pub const MIN_DPI: f32 = 200.0;

/// Whether a document counts as a digitized component (or result): not when
/// every page of it is blank, as a scanned back side or an empty sheet is no
/// copy of anything. `records` keeps the same rule in SQL (`has_component`,
/// `has_result`, set by `insert_document`).
pub fn counts_as_digitized(blank_pages: impl IntoIterator<Item = bool>) -> bool {
    blank_pages.into_iter().any(|blank| !blank)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_of_blank_pages_only_is_not_a_digitized_copy() {
        assert!(!counts_as_digitized([true]));
        assert!(!counts_as_digitized([true, true]));
        assert!(counts_as_digitized([true, false]));
        assert!(!counts_as_digitized(std::iter::empty()));
    }
}
