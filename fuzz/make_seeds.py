"""Seed corpora for the fuzz targets, from the repo's own samples.

    make_seeds.py OUTDIR     writes OUTDIR/image_file, OUTDIR/tiff, OUTDIR/pdf

Each target gets the files of its formats in samples/ as they are, small
copies of those pages in the encodings the decoders meet (baseline and
progressive JPEG, PNG of every colour type, TIFF G4/LZW/PackBits/none and
multi-page, scanner PDFs), made with scripts/make_samples.py's own encoders,
the damaged files its fixtures hold (truncated JPEG, PNG bomb, PDF garbage),
and the small PDFs of tests/data/peer-ocrmypdf (JBIG2, CCITT, vector pages).
Small inputs keep the fuzzer fast. Deterministic."""

import importlib.util
import io
import random
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("make_samples", ROOT / "scripts/make_samples.py")
ms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ms)

TARGET = {".jpg": "image_file", ".png": "image_file", ".tif": "tiff", ".pdf": "pdf"}


def main():
    out = Path(sys.argv[1])
    for t in set(TARGET.values()):
        (out / t).mkdir(parents=True, exist_ok=True)
    put = lambda target, name, data: (out / target / name).write_bytes(data)

    pages = []
    for f in sorted(p for p in (ROOT / "samples").rglob("*") if p.suffix in TARGET):
        name = "-".join(f.relative_to(ROOT / "samples").parts)
        put(TARGET[f.suffix], f"sample-{name}", f.read_bytes())
        if f.suffix != ".pdf":
            im = Image.open(f)
            im.seek(0)
            im = im.convert("RGB")
            im.info = {}  # not the source's TIFF compression
            im.thumbnail((240, 240))
            pages.append((name, im))

    for name, im in pages:
        grey = im.convert("L")
        bilevel = grey.point(lambda v: 0 if v > 150 else 255, "1")
        put("image_file", f"small-{name}.jpg", ms.jpeg_bytes(im, 100, 75))
        put("image_file", f"small-{name}-grey.jpg", ms.jpeg_bytes(grey, 100, 60))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=70, progressive=True, dpi=(150, 150))
        put("image_file", f"small-{name}-progressive.jpg", buf.getvalue())
        for mode, img in [("rgb", im), ("grey", grey), ("bilevel", bilevel),
                          ("palette", im.convert("P", palette=Image.ADAPTIVE, colors=16)),
                          ("alpha", im.convert("RGBA"))]:
            buf = io.BytesIO()
            img.save(buf, "PNG", dpi=(200, 200))
            put("image_file", f"small-{name}-{mode}.png", buf.getvalue())

    tif = out / "tiff"
    for i, (name, im) in enumerate(pages[:4]):
        grey = im.convert("L")
        bilevel = grey.point(lambda v: 0 if v > 150 else 255, "1")
        # Pillow's in-memory libtiff writer leaves an uninitialised pad byte: real files
        bilevel.save(tif / f"small-{name}-g4.tif", "TIFF", compression="group4", dpi=(200, 200))
        g4 = tif / f"small-{name}-g4.tif"
        g4.write_bytes(ms.min_is_white(g4.read_bytes()))
        grey.save(tif / f"small-{name}-lzw.tif", "TIFF", compression="tiff_lzw", dpi=(150, 150))
        im.save(tif / f"small-{name}-packbits.tif", "TIFF", compression="packbits")
        im.save(tif / f"small-{name}-raw.tif", "TIFF", compression="raw")
    many = [p.convert("L") for _, p in pages[:3]]
    many[0].save(tif / "small-three-pages.tif", "TIFF", compression="tiff_lzw", save_all=True,
                 append_images=many[1:])

    def scanner(sel, colour):
        return ms.scanner_pdf([(ms.jpeg_bytes(p if colour else p.convert("L"), 100, 70),
                                p.width, p.height, 100, colour) for _, p in sel])
    put("pdf", "small-scanner-colour.pdf", scanner(pages[:1], True))
    put("pdf", "small-scanner-grey-two-pages.pdf", scanner(pages[1:3], False))
    buf = io.BytesIO()
    pages[0][1].convert("1").save(buf, "PDF", resolution=100)
    put("pdf", "small-pillow-bilevel.pdf", buf.getvalue())
    for f in sorted((ROOT / "tests/data/peer-ocrmypdf").glob("*.pdf")):
        if f.stat().st_size <= 120_000:
            put("pdf", f"peer-{f.name}", f.read_bytes())

    # The damaged files of make_samples.py's fixtures.
    full = ms.jpeg_bytes(pages[0][1], 100, 75)
    put("image_file", "bad-truncated.jpg", full[: len(full) * 2 // 5])
    put("image_file", "bad-bomb.png", ms.png_bomb())
    put("pdf", "bad-garbage.pdf", b"%PDF-1.4\n" + random.Random(5).randbytes(4096))
    for t in sorted(set(TARGET.values())):
        files = list((out / t).iterdir())
        print(f"seeds for {t}: {len(files)} files, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
