//! What a page draws, found by running hayro's interpreter into a device that
//! only takes notes.
//!
//! Looking at the content stream operators ourselves would miss images drawn
//! from form XObjects, clips set up by a producer's preamble, annotations and
//! optional content; the interpreter already resolves all of that, and it does
//! not decode image data until a device asks for it, so this pass is cheap.

use hayro::hayro_interpret::font::GlyphRun;
use hayro::hayro_interpret::hayro_syntax::object::ObjectIdentifier;
use hayro::hayro_interpret::hayro_syntax::page::Page;
use hayro::hayro_interpret::util::RectExt;
use hayro::hayro_interpret::{
    interpret_page, BlendMode, ClipPath, Context, Device, DrawMode, DrawProps, Image,
    ImageDrawProps, InterpreterCache, InterpreterSettings, SoftMask,
};
use hayro::kurbo::{Affine, BezPath, Rect};

/// One image the page paints.
pub(super) struct DrawnImage {
    /// `None` for inline images (BI … EI), which are never passed through.
    pub id: Option<ObjectIdentifier>,
    pub width: u32,
    pub height: u32,
    /// Maps image pixels (x right, y down, one unit per pixel) to user space.
    pub transform: Affine,
    /// A stencil mask paints the fill colour through its bits: it is not a picture.
    pub stencil: bool,
    /// Drawn under a clip that may cut it, or inside a group with opacity,
    /// a soft mask or a blend mode: what shows is not simply the image.
    pub altered: bool,
}

impl DrawnImage {
    /// The image's bounding box in user space.
    pub fn bounds(&self) -> Rect {
        self.transform.transform_rect_bbox(Rect::new(
            0.0,
            0.0,
            self.width as f64,
            self.height as f64,
        ))
    }
}

/// Everything visible on a page, as far as choosing pass-through or rendering goes.
#[derive(Default)]
pub(super) struct Drawn {
    pub images: Vec<DrawnImage>,
    /// Paths or visible text were painted (invisible OCR text does not count).
    pub other_marks: bool,
}

/// Interprets the page in default user space (no rotation, y up).
pub(super) fn scan<'a>(page: &Page<'a>, cache: &InterpreterCache<'a>) -> Drawn {
    let visible = page.intersected_crop_box().to_kurbo();
    let mut context = Context::new(
        Affine::IDENTITY,
        visible,
        cache,
        page.xref(),
        InterpreterSettings::default(),
    );
    let mut scanner = Scanner {
        slack: (
            super::FULL_PAGE_TOLERANCE * visible.width(),
            super::FULL_PAGE_TOLERANCE * visible.height(),
        ),
        ..Scanner::default()
    };
    interpret_page(page, &mut context, &mut scanner);
    scanner.drawn
}

#[derive(Default)]
struct Scanner {
    drawn: Drawn,
    /// Active clips; `None` for a non-rectangular one. The interpreter already
    /// drops rectangular clips that contain the whole visible box.
    clips: Vec<Option<Rect>>,
    /// For each open transparency group: does it change how its content looks?
    groups: Vec<bool>,
    /// How far inside an image's edge a clip may cut unnoticed (producers clip
    /// to rounded page sizes: `0 0 384 470 re W n` around a 470.88 pt image).
    slack: (f64, f64),
}

impl Scanner {
    fn altered(&self, bounds: Rect) -> bool {
        let clipped = self.clips.iter().any(|clip| match clip {
            Some(r) => !r.inflate(self.slack.0, self.slack.1).contains_rect(bounds),
            None => true,
        });
        clipped || self.groups.iter().any(|&g| g)
    }
}

impl<'a> Device<'a> for Scanner {
    fn draw_path(&mut self, _: &BezPath, _: DrawProps<'a>, mode: &DrawMode) {
        if !matches!(mode, DrawMode::Invisible) {
            self.drawn.other_marks = true;
        }
    }

    fn push_clip_path(&mut self, _: &ClipPath) {
        self.clips.push(None);
    }

    fn push_clip_rect(&mut self, rect: &Rect) {
        self.clips.push(Some(*rect));
    }

    fn push_transparency_group(
        &mut self,
        opacity: f32,
        mask: Option<SoftMask<'a>>,
        blend: BlendMode,
    ) {
        self.groups
            .push(opacity < 1.0 || mask.is_some() || blend != BlendMode::Normal);
    }

    fn draw_glyph_run(&mut self, _: &GlyphRun<'_, 'a>, _: DrawProps<'a>, mode: &DrawMode) {
        if !matches!(mode, DrawMode::Invisible) {
            self.drawn.other_marks = true;
        }
    }

    fn draw_image(&mut self, image: Image<'a, '_>, props: ImageDrawProps<'a>) {
        let (stencil, id) = match &image {
            Image::Stencil(s) => (true, s.stream().dict().obj_id()),
            Image::Raster(r) => (false, r.stream().dict().obj_id()),
        };
        let mut drawn = DrawnImage {
            id,
            width: image.width(),
            height: image.height(),
            transform: props.transform,
            stencil,
            altered: props.soft_mask.is_some(),
        };
        drawn.altered |= self.altered(drawn.bounds());
        self.drawn.images.push(drawn);
    }

    fn pop_clip(&mut self) {
        self.clips.pop();
    }

    fn pop_transparency_group(&mut self) {
        self.groups.pop();
    }
}
