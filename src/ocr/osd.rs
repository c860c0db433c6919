//! Orientation detection with Tesseract OSD. The `tesseract` crate does not
//! expose `DetectOrientationScript`, so this is a small owned wrapper over the
//! C API from `tesseract-sys`, with its own `osd` instance per worker.

use image::GrayImage;
use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use tesseract_sys as sys;

/// What OSD found: the clockwise turn that makes the page upright.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Orientation {
    pub turn: u16,
    pub confidence: f32,
}

pub struct OsdEngine {
    handle: *mut sys::TessBaseAPI,
}

// SAFETY: the handle is owned exclusively and only used from one thread at a
// time (the type is not Sync); Tesseract instances may move between threads.
unsafe impl Send for OsdEngine {}

impl OsdEngine {
    pub fn new(tessdata: Option<&str>) -> Option<OsdEngine> {
        let lang = CString::new("osd").ok()?;
        let path = tessdata.and_then(|p| CString::new(p).ok());
        // SAFETY: plain C API calls on a handle we own; strings outlive the call.
        unsafe {
            let handle = sys::TessBaseAPICreate();
            if handle.is_null() {
                return None;
            }
            let p = path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
            if sys::TessBaseAPIInit3(handle, p, lang.as_ptr()) != 0 {
                sys::TessBaseAPIDelete(handle);
                return None;
            }
            // Silence Tesseract's diagnostics on stderr (see engine.rs).
            let (name, value) = (
                CString::new("debug_file").ok()?,
                CString::new("/dev/null").ok()?,
            );
            sys::TessBaseAPISetVariable(handle, name.as_ptr(), value.as_ptr());
            Some(OsdEngine { handle })
        }
    }

    fn detect(&mut self, img: &GrayImage, dpi: f32) -> Option<Orientation> {
        let (w, h) = img.dimensions();
        let mut deg: c_int = 0;
        let mut conf: f32 = 0.0;
        let mut script: *const c_char = std::ptr::null();
        let mut script_conf: f32 = 0.0;
        // SAFETY: the image buffer outlives the calls; Clear drops Tesseract's
        // reference to it before we return.
        let ok = unsafe {
            sys::TessBaseAPISetImage(
                self.handle,
                img.as_raw().as_ptr(),
                w as c_int,
                h as c_int,
                1,
                w as c_int,
            );
            sys::TessBaseAPISetSourceResolution(self.handle, dpi.round() as c_int);
            let ok = sys::TessBaseAPIDetectOrientationScript(
                self.handle,
                &mut deg,
                &mut conf,
                &mut script,
                &mut script_conf,
            );
            sys::TessBaseAPIClear(self.handle);
            ok
        };
        if ok == 0 {
            return None;
        }
        // Tesseract reports how far the text is turned clockwise ("Orientation
        // in degrees"); the clockwise turn that makes it upright is the rest of
        // the circle (its CLI prints it as "Rotate").
        Some(Orientation {
            turn: ((360 - deg.rem_euclid(360)) % 360) as u16,
            confidence: conf,
        })
    }
}

impl Drop for OsdEngine {
    fn drop(&mut self) {
        // SAFETY: we own the handle and drop it once.
        unsafe {
            sys::TessBaseAPIEnd(self.handle);
            sys::TessBaseAPIDelete(self.handle);
        }
    }
}

thread_local! {
    static OSD: std::cell::RefCell<Option<Option<OsdEngine>>> = const { std::cell::RefCell::new(None) };
}

/// Detects the orientation of a grey page, with one OSD engine per thread.
/// `None` when OSD is unavailable or the page has too little text to tell.
pub fn detect_orientation(
    img: &GrayImage,
    dpi: f32,
    tessdata: Option<&str>,
) -> Option<Orientation> {
    OSD.with(|cell| {
        let mut slot = cell.borrow_mut();
        // A model folder without osd.traineddata falls back to Tesseract's own.
        let engine =
            slot.get_or_insert_with(|| OsdEngine::new(tessdata).or_else(|| OsdEngine::new(None)));
        engine.as_mut().and_then(|e| e.detect(img, dpi))
    })
}
