//! Page geometry, kept as pure functions so it can be tested without a PDF.
//!
//! Three frames meet on a page: the *stored* image (as scanned, maybe lying on
//! its side), the *upright* page (the stored image turned clockwise by `turn`,
//! which is the page's own coordinate system, in points, y up), and the *OCR*
//! frame (the upright image rotated about its centre by the deskew angle and
//! possibly rescaled, in pixels, y down). Getting these right is what puts the
//! invisible words on top of the visible ones.

/// A PDF transformation matrix `[a b c d e f]`: x' = a·x + c·y + e, y' = b·x + d·y + f.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Matrix(pub [f64; 6]);

impl Matrix {
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }

    /// Rotation by `angle` radians (counter-clockwise, y up) about `(cx, cy)`.
    pub fn rotation_about(angle: f64, cx: f64, cy: f64) -> Matrix {
        let (sin, cos) = angle.sin_cos();
        Matrix([
            cos,
            sin,
            -sin,
            cos,
            cx - cos * cx + sin * cy,
            cy - sin * cx - cos * cy,
        ])
    }

    pub fn to_f32(self) -> [f32; 6] {
        self.0.map(|v| v as f32)
    }
}

/// PDF/A-2 (ISO 19005-2, 6.1.13) keeps every page boundary between 3 and 14 400 units.
pub(crate) const MIN_PAGE_PT: f64 = 3.0;
pub(crate) const MAX_PAGE_PT: f64 = 14_400.0;

/// Size and orientation of one output page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PageGeometry {
    pub width_pt: f64,
    pub height_pt: f64,
    /// Clockwise turn, one of 0, 90, 180, 270.
    pub turn: u16,
}

impl PageGeometry {
    /// The page of a `px_w`×`px_h` stored image at `dpi` (x, y), turned clockwise
    /// by `turn`. The page is the upright image at its true physical size.
    pub fn new(px_w: u32, px_h: u32, dpi: (f32, f32), turn: u16) -> Result<Self, String> {
        if px_w == 0 || px_h == 0 {
            return Err(format!("empty image ({px_w}x{px_h} pixels)"));
        }
        let (dx, dy) = (f64::from(dpi.0), f64::from(dpi.1));
        if !(dx.is_finite() && dy.is_finite() && dx > 0.0 && dy > 0.0) {
            return Err(format!("invalid resolution {} x {} dpi", dpi.0, dpi.1));
        }
        if !matches!(turn, 0 | 90 | 180 | 270) {
            return Err(format!("invalid turn {turn} (expected 0, 90, 180 or 270)"));
        }
        let w = f64::from(px_w) * 72.0 / dx;
        let h = f64::from(px_h) * 72.0 / dy;
        // A quarter turn swaps the axes: stored x (at dpi x) becomes upright y.
        let (width_pt, height_pt) = if turn % 180 == 90 { (h, w) } else { (w, h) };
        for side in [width_pt, height_pt] {
            if !(MIN_PAGE_PT..=MAX_PAGE_PT).contains(&side) {
                return Err(format!(
                    "page size {width_pt:.1} x {height_pt:.1} pt is outside the PDF/A range \
                     {MIN_PAGE_PT}..{MAX_PAGE_PT} pt (check the resolution)"
                ));
            }
        }
        Ok(PageGeometry {
            width_pt,
            height_pt,
            turn,
        })
    }

    /// The `cm` that draws the stored image (the unit square, image row 0 at
    /// y = 1) upright over the whole page, so no `/Rotate` is needed.
    pub fn image_matrix(&self) -> Matrix {
        let (w, h) = (self.width_pt, self.height_pt);
        Matrix(match self.turn {
            // Stored top edge goes to the page's right edge.
            90 => [0.0, -h, w, 0.0, 0.0, h],
            180 => [-w, 0.0, 0.0, -h, w, h],
            // Stored top edge goes to the page's left edge.
            270 => [0.0, h, -w, 0.0, w, 0.0],
            _ => [w, 0.0, 0.0, h, 0.0, 0.0],
        })
    }
}

/// Maps OCR pixels to page points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OcrFrame {
    sx: f64,
    sy: f64,
    page_h: f64,
    /// Angle of the OCR frame's axes on the page, radians, counter-clockwise.
    angle: f64,
    rotation: Matrix,
}

impl OcrFrame {
    /// OCR ran on a `ocr_w`×`ocr_h` image: the upright page rotated about its
    /// centre by `deskew_deg` (counter-clockwise on screen), scaled to fill
    /// the page. `None` when the frame is empty or the angle is not finite.
    pub fn new(page: &PageGeometry, ocr_w: u32, ocr_h: u32, deskew_deg: f32) -> Option<Self> {
        if ocr_w == 0 || ocr_h == 0 || !deskew_deg.is_finite() {
            return None;
        }
        // Undo the deskew: rotate back by -deskew. Counter-clockwise on screen is
        // counter-clockwise in PDF space too, since the page is shown y-up.
        let angle = -f64::from(deskew_deg).to_radians();
        Some(OcrFrame {
            sx: page.width_pt / f64::from(ocr_w),
            sy: page.height_pt / f64::from(ocr_h),
            page_h: page.height_pt,
            angle,
            rotation: Matrix::rotation_about(angle, page.width_pt / 2.0, page.height_pt / 2.0),
        })
    }

    /// Points per OCR pixel along x and y.
    pub fn scale(&self) -> (f64, f64) {
        (self.sx, self.sy)
    }

    /// Angle of the OCR text baseline on the page, radians, counter-clockwise.
    #[cfg(test)]
    pub fn angle(&self) -> f64 {
        self.angle
    }

    /// The OCR point (x right, y down, pixels) on the page (points, y up).
    pub fn map(&self, x: f64, y: f64) -> (f64, f64) {
        self.rotation.apply(x * self.sx, self.page_h - y * self.sy)
    }

    /// Corners of an OCR box on the page: bottom-left, bottom-right, top-right,
    /// top-left (as read upright). A rectangle turned by `angle`.
    #[cfg(test)]
    pub fn map_box(&self, left: f64, top: f64, right: f64, bottom: f64) -> [(f64, f64); 4] {
        [
            self.map(left, bottom),
            self.map(right, bottom),
            self.map(right, top),
            self.map(left, top),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6
    }

    /// Where a stored pixel position lands on the upright image (pixels, y down).
    fn stored_to_upright(x: f64, y: f64, w: f64, h: f64, turn: u16) -> (f64, f64) {
        match turn {
            90 => (h - y, x),
            180 => (w - x, h - y),
            270 => (y, w - x),
            _ => (x, y),
        }
    }

    #[test]
    fn page_size_uses_upright_axes_and_their_dpi() {
        let g = PageGeometry::new(2480, 3508, (300.0, 300.0), 0).unwrap();
        assert!((g.width_pt - 595.2).abs() < 1e-9 && (g.height_pt - 841.92).abs() < 1e-9);
        // Landscape scan of a portrait page with non-square dpi: 200 dpi across the
        // stored width (which becomes the upright height), 100 dpi down.
        let g = PageGeometry::new(2000, 800, (200.0, 100.0), 90).unwrap();
        assert!((g.width_pt - 576.0).abs() < 1e-9 && (g.height_pt - 720.0).abs() < 1e-9);
        assert!(PageGeometry::new(10, 10, (0.0, 300.0), 0).is_err());
        assert!(PageGeometry::new(10, 10, (300.0, f32::NAN), 0).is_err());
        assert!(PageGeometry::new(10, 10, (300.0, 300.0), 45).is_err());
        assert!(PageGeometry::new(0, 10, (300.0, 300.0), 0).is_err());
        assert!(PageGeometry::new(60_000, 100, (1.0, 1.0), 0).is_err());
    }

    #[test]
    fn image_matrix_turns_the_stored_image_upright() {
        let (w, h) = (300u32, 200u32);
        for turn in [0u16, 90, 180, 270] {
            let g = PageGeometry::new(w, h, (72.0, 72.0), turn).unwrap();
            let m = g.image_matrix();
            for (x, y) in [(0.0, 0.0), (300.0, 0.0), (0.0, 200.0), (120.0, 35.0)] {
                // Unit square: u = x / w, v = 1 - y / h (row 0 at the top).
                let p = m.apply(x / f64::from(w), 1.0 - y / f64::from(h));
                let (ux, uy) = stored_to_upright(x, y, f64::from(w), f64::from(h), turn);
                // At 72 dpi one pixel is one point; the page is y-up.
                assert!(
                    close(p, (ux, g.height_pt - uy)),
                    "turn {turn} ({x},{y}) -> {p:?}"
                );
            }
        }
    }

    #[test]
    fn word_box_maps_to_page_rectangle_for_every_turn_without_deskew() {
        for turn in [0u16, 90, 180, 270] {
            let g = PageGeometry::new(1700, 2200, (200.0, 200.0), turn).unwrap();
            // OCR frame at half resolution of the upright page.
            let (ow, oh) = if turn % 180 == 90 {
                (1100, 850)
            } else {
                (850, 1100)
            };
            let f = OcrFrame::new(&g, ow, oh, 0.0).unwrap();
            let [bl, br, tr, tl] = f.map_box(85.0, 110.0, 170.0, 132.0);
            let s = g.width_pt / f64::from(ow);
            assert!(close(bl, (85.0 * s, g.height_pt - 132.0 * s)));
            assert!(close(br, (170.0 * s, g.height_pt - 132.0 * s)));
            assert!(close(tr, (170.0 * s, g.height_pt - 110.0 * s)));
            assert!(close(tl, (85.0 * s, g.height_pt - 110.0 * s)));
        }
    }

    #[test]
    fn deskew_rotates_boxes_clockwise_back_onto_the_scan() {
        let g = PageGeometry::new(2480, 3508, (300.0, 300.0), 0).unwrap();
        let f = OcrFrame::new(&g, 2480, 3508, 3.0).unwrap();
        // The page centre is fixed.
        assert!(close(
            f.map(1240.0, 1754.0),
            (g.width_pt / 2.0, g.height_pt / 2.0)
        ));
        // OCR ran on the scan turned 3° counter-clockwise, so a horizontal OCR
        // line lies on the scan descending to the right (clockwise).
        let [bl, br, ..] = f.map_box(200.0, 400.0, 2200.0, 450.0);
        assert!(br.1 < bl.1);
        let slope = ((br.1 - bl.1) / (br.0 - bl.0)).atan().to_degrees();
        assert!((slope + 3.0).abs() < 1e-9, "slope {slope}");
        let f = OcrFrame::new(&g, 2480, 3508, -3.0).unwrap();
        let [bl, br, ..] = f.map_box(200.0, 400.0, 2200.0, 450.0);
        let slope = ((br.1 - bl.1) / (br.0 - bl.0)).atan().to_degrees();
        assert!((slope - 3.0).abs() < 1e-9, "slope {slope}");
    }

    #[test]
    fn mapping_is_a_similarity_for_random_pages_boxes_and_angles() {
        // A small deterministic generator keeps the test dependency-free.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..2_000 {
            let turn = [0u16, 90, 180, 270][(next() * 4.0) as usize % 4];
            let (pw, ph) = (
                500 + (next() * 4000.0) as u32,
                500 + (next() * 4000.0) as u32,
            );
            let dpi = 150.0 + next() as f32 * 450.0;
            let g = PageGeometry::new(pw, ph, (dpi, dpi), turn).unwrap();
            let (uw, uh) = if turn % 180 == 90 { (ph, pw) } else { (pw, ph) };
            let deskew = (next() * 10.0 - 5.0) as f32;
            let f = OcrFrame::new(&g, uw, uh, deskew).unwrap();
            let (l, t) = (next() * f64::from(uw), next() * f64::from(uh));
            let (r, b) = (l + 1.0 + next() * 300.0, t + 1.0 + next() * 80.0);
            let [bl, br, tr, tl] = f.map_box(l, t, r, b);
            let s = 72.0 / f64::from(dpi);
            let dist = |p: (f64, f64), q: (f64, f64)| (p.0 - q.0).hypot(p.1 - q.1);
            // Sides keep their lengths (square pixels here) and stay at right angles.
            assert!((dist(bl, br) - (r - l) * s).abs() < 1e-6);
            assert!((dist(bl, tl) - (b - t) * s).abs() < 1e-6);
            assert!(close(tr, (br.0 + tl.0 - bl.0, br.1 + tl.1 - bl.1)));
            // The baseline runs at -deskew degrees; top is to its left (y up).
            let ang = (br.1 - bl.1).atan2(br.0 - bl.0).to_degrees();
            assert!((ang + f64::from(deskew)).abs() < 1e-6, "{ang} vs {deskew}");
            let cross = (br.0 - bl.0) * (tl.1 - bl.1) - (br.1 - bl.1) * (tl.0 - bl.0);
            assert!(cross > 0.0);
            assert!((f.angle().to_degrees() + f64::from(deskew)).abs() < 1e-9);
        }
    }
}
