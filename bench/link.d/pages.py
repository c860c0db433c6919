#!/usr/bin/python3
"""The station's scans for bench/link: an inbox of 4 dossiers, 8 components, 10 colour JPEG pages.

    /usr/bin/python3 bench/link.d/pages.py INBOX

Run with Debian's python3 (python3-pil, python3-numpy, fonts-dejavu-core; scripts/install-deps.sh).
Each page is A4 at 200 dpi (1654 × 2339), a light background with seeded Gaussian colour noise under 20
lines of Vietnamese text (fewer on the small ones): the noise makes the JPEG as large as asked (the pipeline keeps JPEG bytes as
they are, so a component's PDF is its pages' JPEGs plus ~6 KB each), the text gives OCR something to
read. Seeded, so the same inbox every time: about 10 MB of PDFs, one component (02-giay-to-dat, 2 pages)
over 3 MB, and small ones (0.1 to 0.5 MB) that a one-shot upload can get through between cuts.
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

UNIT = "000.20.18.H44"
# dossier → component (a folder when it has several pages) → pages as (noise sigma, JPEG quality[, lines])
PLAN = {
    f"{UNIT}-230301-0001": {"01-don-de-nghi": [(0, 50, 4)], "02-giay-to-dat": [(45, 75), (45, 75)]},
    f"{UNIT}-230302-0002": {"01-to-khai": [(10, 60)], "02-ban-ve": [(40, 75)]},
    f"{UNIT}-230303-0003": {"01-don": [(2, 60, 8)], "02-hop-dong": [(25, 75), (25, 75)],
                            "ket-qua/giay-chung-nhan": [(30, 75)]},
    f"{UNIT}-230306-0004": {"01-cccd": [(15, 75)]},
}
W, H = 1654, 2339
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def page(path, sigma, quality, seed, title, lines=20):
    rng = np.random.default_rng(seed)
    a = np.clip(225 + rng.normal(0, sigma, (H, W, 3)), 0, 255).astype(np.uint8)
    im = Image.fromarray(a)
    d = ImageDraw.Draw(im)
    font = ImageFont.truetype(FONT, 40)
    for i in range(lines):
        d.text((150, 200 + i * 95), f"{title} — dòng {i + 1}: hồ sơ thủ tục hành chính", fill=(10, 10, 10),
               font=font)
    im.save(path, "JPEG", quality=quality, dpi=(200, 200))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    inbox = Path(sys.argv[1])
    seed = 0
    for dossier, components in PLAN.items():
        for name, pages in components.items():
            for k, spec in enumerate(pages, start=1):
                seed += 1
                if len(pages) == 1:
                    path = inbox / dossier / f"{name}.jpg"
                else:
                    path = inbox / dossier / name / f"trang-{k:02d}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                page(path, *spec[:2], seed, f"{dossier} {name}", *spec[2:])


if __name__ == "__main__":
    main()
