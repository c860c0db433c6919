#!/usr/bin/python3
"""Make synthetic scanned dossiers (samples, test fixtures, benchmark corpus) for sohoa.

Run with Debian's python3 (python3-pil, python3-numpy; fonts-liberation2; qpdf for `fixtures`):

    make_samples.py samples  OUTDIR              small committed inbox (the repo's samples/), < 3 MB
    make_samples.py fixtures OUTDIR              test tree OUTDIR/good, OUTDIR/bad (made at test time)
    make_samples.py corpus   OUTDIR --pages N    N single-page A4 300-dpi JPEG scans for benchmarks
    make_samples.py slips    OUTDIR --pages N    N small receipt-slip JPEG scans (0001.jpg…), each with
                                                 its own text, for watch-mode tests that need many
                                                 files quickly (OCR takes a fraction of a second)

Everything is seeded: the same command gives the same bytes (for a given Pillow/libjpeg/zlib/libtiff),
except fixtures' 06-encrypted.pdf (qpdf's AES-256 uses a random file key).

Pages are A4 Vietnamese administrative documents (state header, unit, number, date, title, body
paragraphs, signature block, sometimes a red stamp) in Liberation Serif 13 pt, 1.5 line spacing,
2.5 cm margins, then degraded (skew, 90/180/270 turn, noise, photocopy, blank).

Ground truth never sits in a dossier folder. It is written to
    OUTDIR/_truth/<dossier>/<component path>.txt     e.g. _truth/000.00.18.H44-230314-0027/01-don.jpg.txt
                                                     or   _truth/<dossier>/03-so-do-thua-dat.txt (folder)
holding the NFC text exactly as rendered: lines joined by "\n" (no blank lines, no trailing newline),
pages joined by "\f" (a blank page is the empty string). OUTDIR/_truth/manifest.json lists every
component (good and bad):
    {"mode", "conventions", "components": [{"inbox": "good" | "bad" | "." (samples/corpus: OUTDIR is
     the inbox), "dossier", "path" (NFC, relative to the dossier), "disk_path" (as on disk; differs
     only for the NFD name), "format": jpeg|png|tiff-lzw|tiff-g4|pdf|folder, "files" (folder: page
     files in natural order), "pages", "truth" (relative to OUTDIR, or null), "expect": "ok" |
     "reject", "reason" (reject only), "page_info": [{"kind": "clean"|"skew"|"rotate"|"noise"|
     "photocopy"|"blank" joined by "+", "skew", "rotate", "dpi", "width", "height", "colour", "stamp"}]}]}
`skew` is degrees counter-clockwise (Pillow's rotate); `rotate` 90/180/270 means the content was
turned that many degrees counter-clockwise (turn it clockwise by that much to make it upright).

fixtures: what each input exercises
| path (under OUTDIR)                                   | exercises                                  |
|-------------------------------------------------------|--------------------------------------------|
| good/000.00.18.H44-230402-0001/01-thang.jpg            | clean upright colour JPEG, 300 dpi         |
|   .../02-nghieng-trai.jpg, 03-nghieng-phai.jpg         | deskew: +2.5 deg and -1.8 deg              |
|   .../04-xoay-90.jpg, 05-xoay-180.jpg, 06-xoay-270.jpg | orientation detection (landscape for 90/270)|
|   .../ket-qua/quyet-dinh-15.jpg                        | result (ket-qua/) component, red stamp     |
| good/000.00.18.H44-230403-0002/01-nhieu-trang.tif      | multi-page TIFF, LZW, greyscale, 2 pages   |
|   .../02-g4.tif                                        | CCITT G4 bilevel TIFF, 2 pages             |
|   .../03-may-quet.pdf                                  | scanner PDF, DCTDecode pages kept as-is, page 2 sideways |
| good/000.20.18.H44-230405-0013/01-photocopy.jpg        | photocopy: contrast, blur, dark edges      |
|   .../02-nhieu-trang/trang-{1,2,10}.jpg                | folder component, natural order, blank p.2 |
|   .../03-do-phan-giai-thap.png                         | PNG at 150 dpi: low-resolution flag        |
|   .../04-anh-xam.jpg                                   | greyscale JPEG: not-colour flag            |
|   .../05-nhieu-hat.jpg                                 | Gaussian noise, grey paper, specks, skew   |
| bad/000.00.18.H44-230401-0001/01-good.jpg              | the good file next to bad ones still works |
|   .../02-empty.jpg                                     | 0 bytes                                    |
|   .../03-truncated.jpg                                 | real JPEG cut at 40 %                      |
|   .../04-text.jpg                                      | UTF-8 text named .jpg                      |
|   .../05-garbage.pdf                                   | "%PDF-1.4" header then random bytes        |
|   .../06-encrypted.pdf                                 | AES-256 encrypted PDF (qpdf), needs password|
|   .../07-bomb.png                                      | IHDR says 60000x60000 grey, ~1 KB file     |
|   .../08-Đơn đăng ký (bản sao).jpg                     | GOOD scan; NFD file name, spaces, parens   |
| bad/ho so khong ma/01-don.jpg                          | folder name is not a dossier code (opaque) |
"""
import argparse, hashlib, io, json, random, re, shutil, struct, subprocess, sys, tempfile, time, zlib
import unicodedata
from dataclasses import dataclass, asdict
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")
FONTS = {"regular": "LiberationSerif-Regular.ttf", "bold": "LiberationSerif-Bold.ttf",
         "italic": "LiberationSerif-Italic.ttf"}

# ---------------------------------------------------------------- text pool
MEN = ["Nguyễn Văn Hùng", "Lê Văn Minh", "Phạm Đức Thắng", "Đinh Quang Huy", "Đặng Xuân Trường", "Cao Văn Lực"]
WOMEN = ["Trần Thị Lan", "Hoàng Thị Hoa", "Võ Thị Thu Hà", "Bùi Thị Nguyệt", "Ngô Thị Hằng"]
NAMES = MEN + WOMEN
COMMUNES = ["xã Thạch Hóa", "xã Tiến Hóa", "xã Châu Hóa", "xã Mai Hóa", "xã Lâm Hóa", "xã Văn Hóa",
            "xã Phong Hóa", "xã Đức Hóa", "thị trấn Đồng Lê", "xã Sơn Hóa"]
VILLAGES = ["Tân Sơn", "Bắc Sơn", "Yên Định", "Tiền Phong", "Đồng Tâm", "Cồn Rạng", "Kinh Trừng"]
SENTENCES = [
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Căn cứ Luật Đất đai ngày 29 tháng 11 năm 2013;",
    "Căn cứ Nghị định số 43/2014/NĐ-CP ngày 15 tháng 5 năm 2014 của Chính phủ quy định chi tiết thi hành một số điều của Luật Đất đai;",
    "Xét đề nghị của Trưởng phòng Tài nguyên và Môi trường huyện tại Tờ trình số {n}/TTr-TNMT ngày {d} tháng {m} năm 2023.",
    "Người sử dụng đất: ông {name}, sinh năm {y}, số định danh cá nhân {cccd}.",
    "Địa chỉ thường trú: thôn {thon}, {xa}, huyện Tuyên Hóa, tỉnh Quảng Bình.",
    "Thửa đất số {thua}, tờ bản đồ số {to}, diện tích {dt} m², mục đích sử dụng: đất ở tại nông thôn.",
    "Nguồn gốc sử dụng đất: được Nhà nước giao đất có thu tiền sử dụng đất năm {y2}.",
    "Nội dung biến động: chuyển nhượng quyền sử dụng đất cho bà {name2}.",
    "Lý do biến động: nhận chuyển nhượng theo hợp đồng được công chứng ngày {d} tháng {m} năm 2023.",
    "Tình trạng pháp lý: đất không có tranh chấp, không thuộc quy hoạch sử dụng vào mục đích khác.",
    "Tôi xin cam đoan nội dung kê khai trên đơn là đúng sự thật, nếu sai tôi hoàn toàn chịu trách nhiệm trước pháp luật.",
    "Hồ sơ kèm theo gồm: bản gốc Giấy chứng nhận đã cấp, hợp đồng chuyển nhượng, tờ khai lệ phí trước bạ.",
    "Thời hạn sử dụng đất: lâu dài; hình thức sử dụng: sử dụng riêng.",
    "Văn phòng Đăng ký đất đai chi nhánh Tuyên Hóa có trách nhiệm chỉnh lý hồ sơ địa chính theo quy định.",
    "Quyết định này có hiệu lực kể từ ngày ký.",
    "Chánh Văn phòng HĐND và UBND huyện, Trưởng phòng Tài nguyên và Môi trường, Chủ tịch UBND {xa} và các cá nhân có liên quan chịu trách nhiệm thi hành Quyết định này.",
    "Phía Bắc giáp thửa đất số {thua2} của hộ ông {name}; phía Nam giáp đường liên thôn.",
    "Phía Đông giáp kênh thủy lợi nội đồng; phía Tây giáp thửa đất số {thua3}.",
    "Tài sản gắn liền với đất: nhà ở một tầng, diện tích xây dựng {dt2} m², kết cấu tường gạch, mái ngói.",
    "Số tiền lệ phí đã nộp: {tien} đồng theo biên lai số {n2}.",
    "Ủy ban nhân dân {xa} xác nhận nội dung kê khai phù hợp với hiện trạng sử dụng đất tại địa phương.",
    "Ngày tiếp nhận hồ sơ: {d}/{m}/2023; ngày hẹn trả kết quả: {d2}/{m2}/2023.",
    "Cán bộ tiếp nhận đã kiểm tra thành phần hồ sơ và hướng dẫn người nộp bổ sung giấy tờ còn thiếu.",
    "Lĩnh vực đất đai, thủ tục đăng ký biến động quyền sử dụng đất, mã thủ tục 1.003010.",
    "Công nhận quyền sử dụng đất cho hộ gia đình ông {name} tại thôn {thon}, {xa}.",
    "Điện thoại liên hệ: 09{phone}; thư điện tử: không có.",
    "Kết quả đo đạc thực tế: chiều rộng mặt tiền {w} m, chiều sâu {l} m.",
    "Giấy tờ tùy thân: căn cước công dân số {cccd} do Cục Cảnh sát quản lý hành chính về trật tự xã hội cấp ngày {d}/{m}/2021.",
    "Đề nghị cơ quan có thẩm quyền xem xét, giải quyết theo quy định của pháp luật.",
    "Trường hợp có vướng mắc, tổ chức, cá nhân phản ánh về Bộ phận Một cửa huyện để được hướng dẫn.",
]
# doc kind -> (title lines, number suffix or None (no unit header), signature lines, body lines range)
DOCS = {
    "don": (["ĐƠN ĐĂNG KÝ BIẾN ĐỘNG ĐẤT ĐAI,", "TÀI SẢN GẮN LIỀN VỚI ĐẤT"], None, ["NGƯỜI VIẾT ĐƠN"], (15, 22)),
    "to-khai": (["TỜ KHAI LỆ PHÍ TRƯỚC BẠ NHÀ, ĐẤT"], None, ["NGƯỜI NỘP THUẾ"], (15, 22)),
    "cmnd": (["BẢN SAO CĂN CƯỚC CÔNG DÂN"], None, ["NGƯỜI ĐỀ NGHỊ"], (15, 20)),
    "quyet-dinh": (["QUYẾT ĐỊNH", "Về việc công nhận quyền sử dụng đất"], "QĐ-UBND",
                   ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"], (15, 20)),
    "giay-chung-nhan": (["GIẤY CHỨNG NHẬN", "QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở"], "GCN-VPĐK",
                        ["GIÁM ĐỐC"], (15, 20)),
    "bien-ban": (["BIÊN BẢN XÁC MINH HIỆN TRẠNG SỬ DỤNG ĐẤT"], "BB-UBND", ["ĐẠI DIỆN UBND XÃ"], (15, 25)),
    "so-do": (["TRÍCH ĐO ĐỊA CHÍNH THỬA ĐẤT"], "TĐ-VPĐK", ["NGƯỜI ĐO ĐẠC"], (8, 11)),
}
HEADER = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
UNIT = "UBND HUYỆN TUYÊN HÓA"


def seed_of(*parts):
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")


def font_codepoints(path):
    """Code points mapped to a real glyph in a TrueType font (cmap format 4, platform 3/1)."""
    data = path.read_bytes()
    tables = {data[12 + 16 * i:16 + 16 * i]: struct.unpack(">I", data[20 + 16 * i:24 + 16 * i])[0]
              for i in range(struct.unpack(">H", data[4:6])[0])}
    cm = tables[b"cmap"]
    for i in range(struct.unpack(">H", data[cm + 2:cm + 4])[0]):
        pid, eid, off = struct.unpack(">HHI", data[cm + 4 + 8 * i:cm + 12 + 8 * i])
        p = cm + off
        if (pid, eid) == (3, 1) and struct.unpack(">H", data[p:p + 2])[0] == 4:
            break
    else:
        raise SystemExit(f"{path}: no Unicode BMP cmap")
    seg = struct.unpack(">H", data[p + 6:p + 8])[0] // 2
    arr = lambda at, fmt="H": struct.unpack(f">{seg}{fmt}", data[at:at + 2 * seg])
    ends, starts = arr(p + 14), arr(p + 16 + 2 * seg)
    deltas, ro_at = arr(p + 16 + 4 * seg, "h"), p + 16 + 6 * seg
    ros, out = arr(ro_at), set()
    for i in range(seg):
        for c in range(starts[i], min(ends[i], 0xFFFE) + 1):
            if ros[i]:
                a = ro_at + 2 * i + ros[i] + 2 * (c - starts[i])
                g = struct.unpack(">H", data[a:a + 2])[0]
                g = (g + deltas[i]) & 0xFFFF if g else 0
            else:
                g = (c + deltas[i]) & 0xFFFF
            if g:
                out.add(c)
    return out


def check_glyphs():
    """Every character the renderer can draw is NFC and has a glyph in each font used."""
    texts = NAMES + COMMUNES + VILLAGES + HEADER + [UNIT, "Kính gửi: Ủy ban nhân dân huyện Tuyên Hóa",
                                                    "Số: Tuyên Hóa, ngày tháng năm 0123456789.,/-"]
    texts += [re.sub(r"\{\w+\}", "", t) for t in SENTENCES]
    texts += [t for d in DOCS.values() for t in d[0] + d[2] + [d[1] or ""]]
    for name in FONTS.values():
        have = font_codepoints(FONT_DIR / name)
        for t in texts:
            if not unicodedata.is_normalized("NFC", t):
                raise SystemExit(f"not NFC: {t!r}")
            missing = sorted({ch for ch in t if not ch.isspace() and ord(ch) not in have})
            if missing:
                raise SystemExit(f"{name} lacks glyphs {missing} in {t!r}")


# ---------------------------------------------------------------- page renderer
@dataclass(frozen=True)
class P:
    """One page: which text, how it is printed and how it was scanned."""
    text: str = "a"            # seed of the text content
    doc: str = "don"
    dpi: int = 300
    colour: bool = True
    stamp: bool = False
    number: int = 0            # "Số: N/..." (0 = random)
    skew: float = 0.0
    rotate: int = 0            # 0/90/180/270 counter-clockwise
    noise: bool = False
    photocopy: bool = False
    blank: bool = False


def a4(dpi):
    return round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)


@lru_cache(maxsize=None)
def fonts(kind, px):
    return ImageFont.truetype(str(FONT_DIR / FONTS[kind]), px)


def fill(template, rng):
    y = rng.randint(1955, 1990)
    return template.format(
        n=rng.randint(100, 999), n2=rng.randint(1000, 9999), d=rng.randint(1, 28), m=rng.randint(1, 12),
        d2=rng.randint(1, 28), m2=rng.randint(1, 12), y=y, y2=rng.randint(1994, 2012),
        name=rng.choice(MEN), name2=rng.choice(WOMEN), xa=rng.choice(COMMUNES), thon=rng.choice(VILLAGES),
        thua=rng.randint(10, 900), thua2=rng.randint(10, 900), thua3=rng.randint(10, 900), to=rng.randint(1, 60),
        dt=f"{rng.randint(80, 900)},{rng.randint(0, 9)}", dt2=f"{rng.randint(40, 150)},{rng.randint(0, 9)}",
        cccd=f"044{rng.randint(0, 1)}{y % 100:02d}{rng.randint(0, 999999):06d}", phone=rng.randint(10000000, 99999999),
        tien=f"{rng.choice([100, 250, 500])}.000", w=f"{rng.randint(5, 20)},{rng.randint(0, 9)}",
        l=f"{rng.randint(15, 45)},{rng.randint(0, 9)}")


def wrap(text, font, width, indent):
    lines, cur = [], ""
    for word in text.split():
        cand = f"{cur} {word}" if cur else word
        if font.getlength(cand) + (indent if not lines else 0) <= width or not cur:
            cur = cand
        else:
            lines.append(cur)
            cur = word
    return lines + [cur]


@lru_cache(maxsize=None)
def render_text(text, doc, dpi, number):
    """Black-on-white 'L' image of an upright page and its rendered lines (the ground truth)."""
    rng = random.Random(seed_of("text", text, doc))
    W, H = a4(dpi)
    px = round(13 * dpi / 72)
    lh, margin = round(1.5 * px), round(2.5 / 2.54 * dpi)
    reg, bold, ital, title_f = fonts("regular", px), fonts("bold", px), fonts("italic", px), fonts("bold", round(14 * dpi / 72))
    title, suffix, sign, (lo, hi) = DOCS[doc]
    rows = []  # (font, align, text, gap-before in lines)
    if suffix:
        rows += [(bold, "left", UNIT, 0), (reg, "left", f"Số: {number or rng.randint(10, 2999)}/{suffix}", 0)]
    rows += [(bold, "center", HEADER[0], 0.5 if suffix else 0), (bold, "center", HEADER[1], 0)]
    rows += [(ital, "right", f"Tuyên Hóa, ngày {rng.randint(1, 28)} tháng {rng.randint(1, 12)} năm 2023", 0.5)]
    rows += [(title_f, "center", t, 1 if i == 0 else 0) for i, t in enumerate(title)]
    used = sum(1 + r[3] for r in rows) + 1
    avail = int((H - 2 * margin) // lh - used)
    sign_rows = [(bold, "sign", s, 1 if i == 0 else 0) for i, s in enumerate(sign)] + [(bold, "sign", rng.choice(NAMES), 4)]
    need = int(sum(1 + r[3] for r in sign_rows)) + (9 if doc == "so-do" else 0)
    # the signature block always fits, except on minutes (bien-ban), which may run on to a next page
    body_n = min(rng.randint(lo, hi), avail if doc == "bien-ban" else avail - need)
    body, pool = [], rng.sample(SENTENCES, len(SENTENCES))
    if suffix is None:
        body.append((reg, "left", "Kính gửi: Ủy ban nhân dân huyện Tuyên Hóa", 0))
    while len(body) < body_n and pool:
        para = " ".join(fill(pool.pop(), rng) for _ in range(rng.randint(1, 2)) if pool)
        for i, ln in enumerate(wrap(para, reg, W - 2 * margin, 2 * px)):
            body.append((reg, "indent" if i == 0 else "left", ln, 0))
    rows += [(r[0], r[1], r[2], 1 if i == 0 else 0) for i, r in enumerate(body[:body_n])]
    diagram, has_sign = doc == "so-do", avail - body_n >= need
    if has_sign:
        rows += sign_rows
    img = Image.new("L", (W, H), 255)
    draw = ImageDraw.Draw(img)
    y, sign_cx, lines, sign_y = margin, W - margin - round(2.8 / 2.54 * dpi * 1.3), [], []
    for font, align, t, gap in rows:
        if diagram and font is bold and align == "sign" and t == sign[0]:
            y += draw_parcel(draw, rng, margin, y + lh, W - 2 * margin, 8 * lh, px)
        y += round(gap * lh) + lh
        w = font.getlength(t)
        x = {"left": margin, "indent": margin + 2 * px, "center": (W - w) / 2, "right": W - margin - w,
             "sign": sign_cx - w / 2}[align]
        draw.text((x, y), t, font=font, fill=0, anchor="ls")
        lines.append(t)
        if align == "sign":
            sign_y.append(y)
    assert y <= H - margin + lh, (text, doc, y)
    # stamp centred in the gap between the signer's title and name, over the left of the signature
    stamp_at = (sign_cx - round(1.1 / 2.54 * dpi), (sign_y[-2] + sign_y[-1]) // 2 - px * 2 // 5) if has_sign else None
    return img, tuple(lines), stamp_at


def draw_parcel(draw, rng, x0, y0, w, h, px):
    """A land-parcel sketch (lines only, no text) inside the box; returns the height used."""
    cx, cy, r = x0 + w / 2, y0 + h / 2, min(w, h) * 0.42
    pts = [(cx + r * np.cos(a) * rng.uniform(0.7, 1.2), cy + r * np.sin(a) * rng.uniform(0.7, 1.0))
           for a in np.linspace(0, 2 * np.pi, rng.randint(4, 6), endpoint=False) + rng.uniform(0, 1)]
    draw.line(pts + pts[:1], fill=0, width=max(2, px // 12))
    for ax, ay in pts:  # survey markers at the corners
        draw.ellipse([ax - px / 6, ay - px / 6, ax + px / 6, ay + px / 6], fill=0)
    return 9 * round(1.5 * px)


def draw_stamp(size, center, dpi, colour):
    """A red round stamp (rings + star, no text) as a multiply layer."""
    layer = Image.new("RGB", size, (255, 255, 255))
    d, (cx, cy) = ImageDraw.Draw(layer), center
    red, r = (205, 40, 45), round(1.4 / 2.54 * dpi)
    for rad, wd in ((r, max(3, r // 28)), (round(r * 0.78), max(2, r // 50))):
        d.ellipse([cx - rad, cy - rad, cx + rad, cy + rad], outline=red, width=wd)
    star = [(cx + (r * (0.35 if k % 2 == 0 else 0.14)) * np.sin(k * np.pi / 5),
             cy - (r * (0.35 if k % 2 == 0 else 0.14)) * np.cos(k * np.pi / 5)) for k in range(10)]
    d.polygon(star, fill=red)
    return layer if colour else layer.convert("L")


def specks(img, rng, count, dpi, shade=(30, 110)):
    d, (W, H) = ImageDraw.Draw(img), img.size
    for _ in range(count):
        x, y, r = rng.uniform(0, W), rng.uniform(0, H), rng.uniform(0.5, 2.5) * dpi / 300
        g = rng.randint(*shade)
        d.ellipse([x - r, y - r * rng.uniform(0.6, 1.4), x + r, y + r], fill=(g,) * 3 if img.mode == "RGB" else g)


def add_noise(img, nrng, sigma, scale=1.0, offset=0.0):
    """Grey paper (scale, offset) plus monochrome sensor grain, correlated over ~2 px like a real scan."""
    a = np.asarray(img, dtype=np.float32) * scale + offset
    small = nrng.standard_normal((a.shape[0] // 2 + 1, a.shape[1] // 2 + 1), dtype=np.float32)
    n = np.asarray(Image.fromarray(small, "F").resize((a.shape[1], a.shape[0]), Image.BILINEAR)) * sigma
    a += n[..., None] if a.ndim == 3 else n
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), img.mode)


@lru_cache(maxsize=None)
def make_page(p):
    """Render and degrade one page; returns (image, ground-truth text, page info)."""
    rng, nrng = random.Random(seed_of("scan", p)), np.random.default_rng(seed_of("noise", p))
    W, H = a4(p.dpi)
    warm = (248, 244, 232) if p.colour else (244, 244, 244)
    paper = warm if p.colour else warm[0]
    if p.blank:
        img, lines = Image.new("RGB" if p.colour else "L", (W, H), paper), ()
        img = add_noise(img, nrng, 1.2)
        specks(img, rng, rng.randint(4, 12), p.dpi)
    else:
        mask, lines, stamp_at = render_text(p.text, p.doc, p.dpi, p.number)
        ink = (28, 26, 34)
        if p.colour:
            img = Image.merge("RGB", [mask.point([ink[c] + (warm[c] - ink[c]) * v // 255 for v in range(256)])
                                      for c in range(3)])
        else:
            img = mask.point([ink[0] + (paper - ink[0]) * v // 255 for v in range(256)])
        if p.stamp and stamp_at:
            img = ImageChops.multiply(img, draw_stamp(img.size, stamp_at, p.dpi, p.colour))
    if p.skew:
        img = img.rotate(p.skew, resample=Image.BILINEAR, expand=False, fillcolor=paper)
    if p.photocopy:
        img = photocopy(img.convert("L"), rng, nrng, p.dpi)
    if p.noise:
        img = add_noise(img, nrng, 8.0, 0.93, 4.0)
        specks(img, rng, rng.randint(150, 300), p.dpi)
    if p.rotate:
        img = img.transpose({90: Image.ROTATE_90, 180: Image.ROTATE_180, 270: Image.ROTATE_270}[p.rotate])
    kinds = [k for k, on in (("blank", p.blank), ("skew", p.skew), ("rotate", p.rotate), ("noise", p.noise),
                             ("photocopy", p.photocopy)) if on] or ["clean"]
    info = {"kind": "+".join(kinds), "skew": p.skew, "rotate": p.rotate, "dpi": p.dpi, "width": img.width,
            "height": img.height, "colour": img.mode == "RGB", "stamp": p.stamp and not p.blank}
    return img, "\n".join(lines), info


def photocopy(img, rng, nrng, dpi):
    """Contrast boost, slight blur, grey toner paper, dark smudges along the edges, toner specks."""
    img = img.filter(ImageFilter.GaussianBlur(0.9 * dpi / 300))
    a = np.asarray(img, dtype=np.float32)
    a = np.clip((a - 70.0) * 1.45 + 40.0, 0, 255) * 0.9 + 8.0  # darker ink, greyer paper
    H, W = a.shape
    for side in rng.sample(["left", "right", "top", "bottom"], 2):
        depth = rng.uniform(0.015, 0.03) * (W if side in ("left", "right") else H)
        along = H if side in ("left", "right") else W
        wobble = 1 + 0.5 * np.sin(np.linspace(0, rng.uniform(3, 9), along) + rng.uniform(0, 6))
        dist = np.arange(W if side in ("left", "right") else H, dtype=np.float32)
        if side in ("right", "bottom"):
            dist = dist[::-1]
        band = np.exp(-dist[None, :] / (depth * wobble[:, None])).astype(np.float32) * 170
        a -= band if side in ("left", "right") else band.T
    out = add_noise(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L"), nrng, 5.0)
    smudge = Image.new("L", (W, H), 0)
    d = ImageDraw.Draw(smudge)
    for _ in range(rng.randint(3, 6)):  # blotches within 5 % of an edge
        x = rng.choice([rng.uniform(0, 0.05), rng.uniform(0.95, 1)]) * W
        y, r = rng.uniform(0, H), rng.uniform(0.01, 0.03) * W
        d.ellipse([x - r, y - r * 1.5, x + r, y + r * 1.5], fill=rng.randint(60, 140))
    smudge = smudge.filter(ImageFilter.BoxBlur(round(12 * dpi / 300)))
    out = ImageChops.subtract(out, smudge)
    specks(out, rng, rng.randint(300, 600), dpi, (10, 90))
    return out


# ---------------------------------------------------------------- encoders
def jpeg_bytes(img, dpi, quality):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi), optimize=True)
    return buf.getvalue()


def scanner_pdf(pages):
    """A minimal PDF 1.4 like a scanner (or img2pdf) writes: each JPEG embedded unchanged (DCTDecode)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None, b"<< /Producer (sohoa make_samples.py) /Creator (Scanner) >>"]
    kids = []
    for data, w, h, dpi, colour in pages:
        wpt, hpt = w * 72 / dpi, h * 72 / dpi
        n = len(objs) + 1
        content = f"q {wpt:.2f} 0 0 {hpt:.2f} 0 0 cm /Im0 Do Q".encode()
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {wpt:.2f} {hpt:.2f}] "
                    f"/Resources << /XObject << /Im0 {n + 2} 0 R >> >> /Contents {n + 1} 0 R >>".encode())
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objs.append(f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace "
                    f"/{'DeviceRGB' if colour else 'DeviceGray'} /BitsPerComponent 8 /Filter /DCTDecode "
                    f"/Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream")
        kids.append(f"{n} 0 R")
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def min_is_white(tif):
    """Set PhotometricInterpretation (tag 262) to 0 in every IFD of a little-endian TIFF.
    (Pillow can write min-is-white itself, but inverts bilevel pages pixel by pixel in Python.)"""
    out = bytearray(tif)
    assert out[:4] == b"II*\0"
    ifd = struct.unpack_from("<I", out, 4)[0]
    while ifd:
        n = struct.unpack_from("<H", out, ifd)[0]
        for e in range(ifd + 2, ifd + 2 + 12 * n, 12):
            if struct.unpack_from("<HHI", out, e) == (262, 3, 1):
                struct.pack_into("<H", out, e + 8, 0)
        ifd = struct.unpack_from("<I", out, ifd + 2 + 12 * n)[0]
    return bytes(out)


def png_bomb():
    """A ~1 KB PNG whose IHDR claims 60000x60000 8-bit grey (3.6 GB decoded); valid CRCs, short IDAT."""
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (60001 * 16), 9)  # the first 16 rows only
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# ---------------------------------------------------------------- output tree + manifest
class Out:
    def __init__(self, root, mode):
        self.root, self.mode, self.components = Path(root), mode, []

    def _add(self, inbox, dossier, rel, fmt, pages, disk=None, files=None, expect="ok", reason=None):
        rel = unicodedata.normalize("NFC", rel)
        truth = None
        if expect == "ok":
            truth = f"_truth/{dossier}/{rel}.txt"
            (self.root / truth).parent.mkdir(parents=True, exist_ok=True)
            (self.root / truth).write_text("\f".join(t for _, t, _ in pages), encoding="utf-8")
        c = {"inbox": inbox, "dossier": dossier, "path": rel, "disk_path": disk or rel, "format": fmt,
             "pages": len(pages), "truth": truth, "expect": expect}
        if files:
            c["files"] = files
        if reason:
            c["reason"] = reason
        c["page_info"] = [i for _, _, i in pages]
        self.components.append(c)

    def path(self, inbox, dossier, rel):
        p = self.root / inbox / dossier / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def jpeg(self, inbox, dossier, rel, p, q=82, disk=None):
        img, text, info = make_page(p)
        self.path(inbox, dossier, disk or rel).write_bytes(jpeg_bytes(img, p.dpi, q))
        self._add(inbox, dossier, rel, "jpeg", [(img, text, info)], disk=disk)

    def png(self, inbox, dossier, rel, p):
        img, text, info = make_page(p)
        img.save(self.path(inbox, dossier, rel), "PNG", dpi=(p.dpi, p.dpi))
        self._add(inbox, dossier, rel, "png", [(img, text, info)])

    def tiff(self, inbox, dossier, rel, ps, g4):
        pages = [make_page(p) for p in ps]
        if g4:  # ink = 1, then the tag is patched to min-is-white (0), as fax and scanner G4 files are
            ims = [im.convert("L").point(lambda v: 0 if v > 150 else 255, "1") for im, _, _ in pages]
        else:
            ims = [im.convert("L") for im, _, _ in pages]
        # save to a real file: Pillow's in-memory libtiff writer leaves an uninitialised pad byte
        path = self.path(inbox, dossier, rel)
        ims[0].save(path, "TIFF", compression="group4" if g4 else "tiff_lzw",
                    dpi=(ps[0].dpi, ps[0].dpi), save_all=True, append_images=ims[1:])
        if g4:
            path.write_bytes(min_is_white(path.read_bytes()))
        self._add(inbox, dossier, rel, "tiff-g4" if g4 else "tiff-lzw", [(i, t, dict(f, colour=False)) for (i, t, f) in pages])

    def pdf(self, inbox, dossier, rel, ps, q=82):
        pages = [make_page(p) for p in ps]
        data = [(jpeg_bytes(im, p.dpi, q), im.width, im.height, p.dpi, im.mode == "RGB") for (im, _, _), p in zip(pages, ps)]
        self.path(inbox, dossier, rel).write_bytes(scanner_pdf(data))
        self._add(inbox, dossier, rel, "pdf", pages)

    def folder(self, inbox, dossier, rel, named, q=82):
        pages = []
        for name, p in named:
            img, text, info = make_page(p)
            self.path(inbox, dossier, f"{rel}/{name}").write_bytes(jpeg_bytes(img, p.dpi, q))
            pages.append((img, text, info))
        self._add(inbox, dossier, rel, "folder", pages, files=[n for n, _ in named])

    def raw(self, inbox, dossier, rel, data, reason):
        self.path(inbox, dossier, rel).write_bytes(data)
        fmt = {"jpg": "jpeg"}.get(Path(rel).suffix[1:], Path(rel).suffix[1:])
        self._add(inbox, dossier, rel, fmt, [], expect="reject", reason=reason)

    def finish(self):
        conv = {"truth": "lines joined by \\n, pages by \\f, NFC, no trailing newline; blank page = empty",
                "skew": "degrees, counter-clockwise positive (Pillow Image.rotate)",
                "rotate": "content turned this many degrees counter-clockwise; turn clockwise by it to make upright"}
        (self.root / "_truth").mkdir(parents=True, exist_ok=True)
        (self.root / "_truth/manifest.json").write_text(json.dumps(
            {"generator": "scripts/make_samples.py", "mode": self.mode, "conventions": conv,
             "components": self.components}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def samples(o):
    d = "000.00.18.H44-230314-0027"
    o.jpeg(".", d, "01-don-dang-ky.jpg", P("s1", "don", 200), q=75)
    o.tiff(".", d, "02-giay-to-kem-theo.tif", [P("s2", "giay-chung-nhan", 300, False),
                                                 P("s3", "bien-ban", 300, False)], g4=True)
    o.folder(".", d, "03-so-do-thua-dat", [("trang-1.jpg", P("s4", "so-do", 200, False)),
                                            ("trang-2.jpg", P("s5", "bien-ban", 200, False, rotate=180)),
                                            ("trang-10.jpg", P("s6", "bien-ban", 200, False))], q=75)
    o.jpeg(".", d, "ket-qua/quyet-dinh-1482.jpg", P("s7", "quyet-dinh", 200, stamp=True, number=1482, skew=-1.2), q=75)
    d = "000.00.18.H44-230315-0003"
    o.pdf(".", d, "01-to-khai.pdf", [P("s8", "to-khai", 200), P("s9", "to-khai", 200, rotate=90)], q=75)
    o.png(".", d, "02-cmnd.png", P("s10", "cmnd", 200, False))
    d = "000.00.18.H44-230320-0011"
    o.jpeg(".", d, "01-don.jpg", P("s11", "don", 200, False, photocopy=True), q=70)
    o.jpeg(".", d, "02-trang-trang.jpg", P("blank", "don", 200, False, blank=True), q=75)
    d = "000.20.18.H44-230322-0005"
    o.jpeg(".", d, "01-giay-de-nghi.jpg", P("s12", "don", 200, False, noise=True, skew=2.0), q=70)
    # The receipt register of these dossiers and of four not scanned yet (`make run` imports it;
    # `_` at the top of an inbox is skipped by intake).
    reg = o.root / "_register"
    reg.mkdir(parents=True, exist_ok=True)
    (reg / "so-tiep-nhan-2023.csv").write_text(SAMPLE_REGISTER, encoding="utf-8")


SAMPLE_REGISTER = """\
Mã hồ sơ,Mã TTHC,Tên TTHC,Lĩnh vực,Mã đơn vị,Ngày tiếp nhận,Hình thức nộp,DVC toàn trình,Có phí,Thanh toán trực tuyến,Ngày hẹn trả,Ngày trả kết quả,Có kết quả giấy
000.00.18.H44-230314-0027,1.004227,Cấp Giấy chứng nhận quyền sử dụng đất lần đầu,Đất đai,000.00.18.H44,14/03/2023,Trực tiếp,Không,Có,Không,14/04/2023,10/04/2023,Có
000.00.18.H44-230315-0003,2.000908,Chứng thực bản sao từ bản chính,Chứng thực,000.00.18.H44,15/03/2023,Trực tuyến,Có,Có,Có,15/03/2023,15/03/2023,Không
000.00.18.H44-230320-0011,1.001612,Cấp giấy chứng nhận đăng ký hộ kinh doanh,Thành lập và hoạt động của hộ kinh doanh,000.00.18.H44,20/03/2023,Trực tuyến,Có,Có,Không,23/03/2023,,Có
000.20.18.H44-230322-0005,1.001193,Đăng ký khai sinh,Hộ tịch,000.20.18.H44,22/03/2023,Trực tuyến,Có,Không,,22/03/2023,22/03/2023,Có
000.20.18.H44-230323-0002,1.001193,Đăng ký khai sinh,Hộ tịch,000.20.18.H44,23/03/2023,Trực tiếp,Có,Không,,23/03/2023,23/03/2023,Có
000.03.18.H44-230405-0007,2.000908,Chứng thực bản sao từ bản chính,Chứng thực,000.03.18.H44,05/04/2023,Trực tiếp,Có,Có,Không,05/04/2023,05/04/2023,Không
000.25.18.H44-230410-0001,1.000894,Đăng ký kết hôn,Hộ tịch,000.25.18.H44,10/04/2023,Trực tuyến,Có,Không,,13/04/2023,12/04/2023,Có
000.31.18.H44-230502-0003,2.000815,"Chứng thực chữ ký trong giấy tờ, văn bản",Chứng thực,000.31.18.H44,02/05/2023,Trực tiếp,Không,Có,Có,02/05/2023,02/05/2023,Không
"""


def fixtures(o):
    d = "000.00.18.H44-230402-0001"
    o.jpeg("good", d, "01-thang.jpg", P("f1", "don"))
    o.jpeg("good", d, "02-nghieng-trai.jpg", P("f2", "quyet-dinh", skew=2.5))
    o.jpeg("good", d, "03-nghieng-phai.jpg", P("f3", "bien-ban", skew=-1.8))
    for i, r in enumerate((90, 180, 270)):
        o.jpeg("good", d, f"0{4 + i}-xoay-{r}.jpg", P(f"f{4 + i}", "giay-chung-nhan", rotate=r))
    o.jpeg("good", d, "ket-qua/quyet-dinh-15.jpg", P("f7", "quyet-dinh", stamp=True, number=15))
    d = "000.00.18.H44-230403-0002"
    o.tiff("good", d, "01-nhieu-trang.tif", [P("f8", "bien-ban", colour=False), P("f9", "bien-ban", colour=False)], g4=False)
    o.tiff("good", d, "02-g4.tif", [P("f10", "quyet-dinh", colour=False), P("f11", "so-do", colour=False)], g4=True)
    o.pdf("good", d, "03-may-quet.pdf", [P("f12", "to-khai"), P("f13", "to-khai", rotate=90)])
    d = "000.20.18.H44-230405-0013"
    o.jpeg("good", d, "01-photocopy.jpg", P("f14", "don", colour=False, photocopy=True))
    o.folder("good", d, "02-nhieu-trang", [("trang-1.jpg", P("f15", "bien-ban")), ("trang-2.jpg", P("blank", blank=True)),
                                           ("trang-10.jpg", P("f16", "so-do"))])
    o.png("good", d, "03-do-phan-giai-thap.png", P("f17", "cmnd", dpi=150))
    o.jpeg("good", d, "04-anh-xam.jpg", P("f18", "quyet-dinh", colour=False))
    o.jpeg("good", d, "05-nhieu-hat.jpg", P("f19", "to-khai", colour=False, noise=True, skew=1.2))
    d, good = "000.00.18.H44-230401-0001", P("f1", "don")
    o.jpeg("bad", d, "01-good.jpg", good)
    o.raw("bad", d, "02-empty.jpg", b"", "empty file")
    full = jpeg_bytes(make_page(good)[0], 300, 82)
    o.raw("bad", d, "03-truncated.jpg", full[:len(full) * 2 // 5], "JPEG truncated at 40 %")
    o.raw("bad", d, "04-text.jpg", "Đây không phải là ảnh quét, chỉ là văn bản.\n".encode(), "text file named .jpg")
    o.raw("bad", d, "05-garbage.pdf", b"%PDF-1.4\n" + random.Random(5).randbytes(4096), "PDF header then garbage")
    with tempfile.TemporaryDirectory() as tmp:
        im, _, _ = make_page(P("f20", "to-khai", dpi=100, colour=False))
        (Path(tmp) / "in.pdf").write_bytes(scanner_pdf([(jpeg_bytes(im, 100, 60), im.width, im.height, 100, False)]))
        # AES-256 (R6) draws a random file key: this is the one fixture whose bytes change per run
        subprocess.run(["qpdf", "--encrypt", "user", "owner", "256", "--", f"{tmp}/in.pdf", f"{tmp}/out.pdf"], check=True)
        o.raw("bad", d, "06-encrypted.pdf", (Path(tmp) / "out.pdf").read_bytes(), "encrypted PDF (AES-256, password 'user')")
    o.raw("bad", d, "07-bomb.png", png_bomb(), "decompression bomb: IHDR 60000x60000")
    name = "08-Đơn đăng ký (bản sao).jpg"
    o.jpeg("bad", d, name, P("f21", "cmnd", dpi=200), disk=unicodedata.normalize("NFD", name))
    o.jpeg("bad", "ho so khong ma", "01-don.jpg", P("f22", "don", dpi=200))


def corpus(o, n):
    for i in range(n):
        rng = random.Random(seed_of("corpus", i))
        p = P(f"c{i}", rng.choice(sorted(DOCS)), 300, colour=rng.random() > 0.3, stamp=rng.random() < 0.4,
              rotate=(90, 180, 270)[(i // 4) % 3] if i % 4 == 3 else 0,
              skew=round(rng.choice([-1, 1]) * rng.uniform(0.8, 3.0), 1) if rng.random() < 0.4 else 0.0,
              noise=rng.random() < 0.3, photocopy=rng.random() < 0.15)
        o.jpeg(".", f"000.00.18.H44-230501-{i // 20 + 1:04d}", f"{i + 1:04d}.jpg", p, q=85)


def clean(root):
    """Remove a previous run's output (what its manifest lists); refuse a non-empty directory not ours."""
    man = root / "_truth/manifest.json"
    if not root.exists() or not any(root.iterdir()):
        return
    if not man.exists():
        raise SystemExit(f"{root} is not empty and has no _truth/manifest.json; refusing to overwrite")
    for c in json.loads(man.read_text(encoding="utf-8"))["components"]:
        shutil.rmtree(root / c["inbox"] / c["dossier"], ignore_errors=True)
    shutil.rmtree(root / "_truth")
    shutil.rmtree(root / "_register", ignore_errors=True)
    for inbox in ("good", "bad"):
        if (root / inbox).is_dir() and not any((root / inbox).iterdir()):
            (root / inbox).rmdir()
    if any(p for p in root.iterdir() if not p.name.startswith(".")):
        raise SystemExit(f"{root} holds files the previous manifest does not list; refusing to overwrite")


def slips(outdir, n):
    """N small 300-dpi colour JPEG scans of receipt slips, every one different (so each has its own
    hash), written straight to OUTDIR/0001.jpg… (no manifest: watch tests check hashes, not text)."""
    outdir.mkdir(parents=True, exist_ok=True)
    font = fonts("regular", 34)
    for i in range(1, n + 1):
        rng = random.Random(seed_of("slip", i))
        img = Image.new("RGB", (1100, 230), (250, 248, 240))
        d = ImageDraw.Draw(img)
        d.text((40, 40), f"Phiếu tiếp nhận số {i:04d}: {rng.choice(MEN)}", font=font, fill=(20, 20, 20))
        d.text((40, 120), f"Thôn {rng.choice(VILLAGES)}, {rng.choice(COMMUNES)}", font=font, fill=(20, 20, 20))
        (outdir / f"{i:04d}.jpg").write_bytes(jpeg_bytes(img, 300, 85))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["samples", "fixtures", "corpus", "slips"])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--pages", type=int, default=40, help="corpus: number of pages")
    a = ap.parse_args()
    t0 = time.monotonic()
    check_glyphs()
    if a.mode == "slips":
        slips(a.outdir, a.pages)
        print(f"slips: {a.pages} files in {a.outdir} ({time.monotonic() - t0:.1f} s)")
        return
    a.outdir.mkdir(parents=True, exist_ok=True)
    # build next to OUTDIR, then swap in: a failed run leaves OUTDIR as it was
    with tempfile.TemporaryDirectory(prefix=".make-samples-", dir=a.outdir.parent) as tmp:
        o = Out(tmp, a.mode)
        if a.mode == "corpus":
            corpus(o, a.pages)
        else:
            {"samples": samples, "fixtures": fixtures}[a.mode](o)
        o.finish()
        clean(a.outdir)
        for p in Path(tmp).iterdir():
            p.rename(a.outdir / p.name)
    files = [f for f in a.outdir.rglob("*") if f.is_file() and "_truth" not in f.parts]
    print(f"{a.mode}: {len(o.components)} components, {len(files)} files, "
          f"{sum(f.stat().st_size for f in files) / 1e6:.2f} MB in {a.outdir} ({time.monotonic() - t0:.1f} s)")


if __name__ == "__main__":
    main()
