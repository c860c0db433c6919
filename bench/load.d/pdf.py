"""PDFs of a chosen size for upload benchmarks, written straight to disk.

Each page draws one image XObject: an uncompressed (no filter) DeviceGray 8-bit image whose stream is
exactly width × height bytes, so a server that bounds each stream by width × height × components × bits
still accepts it. Width is an A4 page at 300 dpi (2480 px); heights make the images about the size asked
for, in pages of at most MAX_ROWS rows (~99 megapixels, under the server's 150-megapixel page limit). The file is written in chunks and hashed as it is written, so a 300 MB PDF never sits in
this process's memory.
"""
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

WIDTH = 2480
DPI = 300
MAX_ROWS = 40000


@dataclass
class Pdf:
    path: Path
    bytes: int
    sha256: str
    width: int
    heights: list


def write_pdf(path: Path, image_bytes: int) -> Pdf:
    """Writes a PDF whose images hold about `image_bytes` bytes (whole rows of WIDTH), a page per image."""
    rows = max(1, -(-image_bytes // WIDTH))
    heights = [MAX_ROWS] * (rows // MAX_ROWS) + ([rows % MAX_ROWS] if rows % MAX_ROWS else [])
    n = len(heights)
    # Objects: 1 catalog, 2 pages, then per page: page, content, image.
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode()]
    for i, height in enumerate(heights):
        w_pt, h_pt = WIDTH * 72 / DPI, height * 72 / DPI
        content = f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q\n".encode()
        objects.append((f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.2f} {h_pt:.2f}] "
                        f"/Resources << /XObject << /Im0 {5 + 3 * i} 0 R >> >> /Contents {4 + 3 * i} 0 R >>").encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objects.append(height)  # the image, streamed below
    # A grey ramp, one row repeated: any bytes do, but not all zero, so nothing on the way can shrink it.
    row = bytes(i * 256 // WIDTH for i in range(WIDTH))
    rows_per_chunk = max(1, (4 << 20) // WIDTH)

    digest = hashlib.sha256()
    offsets = []
    pos = 0
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        def put(b: bytes):
            nonlocal pos
            f.write(b)
            digest.update(b)
            pos += len(b)

        put(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        for num, body in enumerate(objects, start=1):
            offsets.append(pos)
            put(b"%d 0 obj\n" % num)
            if isinstance(body, bytes):
                put(body)
            else:
                put((f"<< /Type /XObject /Subtype /Image /Width {WIDTH} /Height {body} /ColorSpace /DeviceGray "
                     f"/BitsPerComponent 8 /Length {WIDTH * body} >>\nstream\n").encode())
                left = body
                while left:
                    k = min(left, rows_per_chunk)
                    put(row * k)
                    left -= k
                put(b"\nendstream")
            put(b"\nendobj\n")
        xref = pos
        put(b"xref\n0 %d\n" % (len(objects) + 1))
        put(b"0000000000 65535 f \n")
        for off in offsets:
            put(b"%010d 00000 n \n" % off)
        put(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    os.replace(tmp, path)
    return Pdf(path=path, bytes=pos, sha256=digest.hexdigest(), width=WIDTH, heights=heights)
