#!/usr/bin/python3
"""Make a synthetic receipt register (sổ theo dõi hồ sơ) for sohoa's report tests, with the expected
figures computed here, independently of sohoa.

    make_register.py seed2023 OUTDIR      register-2023.csv (UTF-8 with BOM, ';'), truth.json

seed2023 reproduces the figures of the seed report (../shared/seed: Tuyên Hóa district, 2023):
    cấp huyện: online 591/616, digitization 845/922, online payment 164/212;
    cấp xã:    digitization 5.219/5.885, online payment 955/1.452.
(The seed's commune online figure, 6174/6216, cannot hold for 5.885 dossiers; the commune online
figures here are our own.) Dossiers go to the units of config/units.toml: the district committee
and its departments (cấp huyện) and its 19 communes and towns (cấp xã), received in 2023, plus a
few received in December 2022 and January 2024 that a 2023 report must leave out.

truth.json: {"levels": {"huyen": C, "xa": C}, "total": C, "attach": {code: ["thanh_phan"] or
["thanh_phan", "ket_qua"]}, "missing": [codes not digitized, received in 2023]} where C holds the
counts behind each indicator: received, digitized, with_component, resolved, resolved_digitized,
eligible_online, online, with_fee, paid_online. "attach" says which documents to record for each
dossier so that exactly the digitized ones (and some that lack only their result) have scans.
Seeded: the same command gives the same bytes.
"""
import argparse, csv, datetime as dt, json, random
from pathlib import Path

HEADERS = ["Mã hồ sơ", "Mã TTHC", "Tên TTHC", "Lĩnh vực", "Mã đơn vị", "Ngày tiếp nhận", "Hình thức nộp",
           "DVC toàn trình", "Có phí", "Thanh toán trực tuyến", "Ngày hẹn trả", "Ngày trả kết quả",
           "Có kết quả giấy"]

# (code, name, field) by level; attributes are drawn per dossier, then a procedure is named.
PROCEDURES = {
    "huyen": [
        ("1.004227", "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu", "Đất đai"),
        ("2.000889", "Đăng ký biến động quyền sử dụng đất", "Đất đai"),
        ("1.001612", "Cấp giấy chứng nhận đăng ký hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh"),
        ("2.000908", "Chứng thực bản sao từ bản chính", "Chứng thực"),
        ("1.003005", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Hoạt động xây dựng"),
        ("2.001947", "Trợ cấp xã hội hằng tháng", "Bảo trợ xã hội"),
    ],
    "xa": [
        ("1.001193", "Đăng ký khai sinh", "Hộ tịch"),
        ("1.000894", "Đăng ký kết hôn", "Hộ tịch"),
        ("1.000656", "Đăng ký khai tử", "Hộ tịch"),
        ("2.000815", "Chứng thực chữ ký trong giấy tờ, văn bản", "Chứng thực"),
        ("1.004946", "Xác nhận tình trạng hôn nhân", "Hộ tịch"),
        ("1.003583", "Đăng ký thường trú", "Đăng ký, quản lý cư trú"),
    ],
}

UNITS = {
    "huyen": ["000.00.18.H44"] * 6 + [f"000.{i:02d}.18.H44" for i in (2, 3, 5, 6, 11, 12)],
    "xa": [f"000.{i:02d}.18.H44" for i in range(20, 39)],
}

# Seed figures: received, digitized, eligible for full online, of those online, with fee, paid online.
TARGETS = {
    "huyen": dict(received=922, digitized=845, eligible_online=616, online=591, with_fee=212, paid_online=164),
    "xa": dict(received=5885, digitized=5219, eligible_online=4120, online=3977, with_fee=1452, paid_online=955),
}


def yes(b):
    return "Có" if b else "Không"


def level_rows(level, rng, seq):
    t = TARGETS[level]
    n = t["received"]
    start = dt.date(2023, 1, 1)
    rows = []
    for i in range(n):
        unit = rng.choice(UNITS[level])
        day = start + dt.timedelta(days=rng.randrange(365))
        rows.append({"unit": unit, "received": day})
    idx = list(range(n))

    def pick(k, pool):
        pool = list(pool)
        rng.shuffle(pool)
        return set(pool[:k])

    eligible = pick(t["eligible_online"], idx)
    online = pick(t["online"], eligible)
    # A few dossiers of procedures that are not eligible are submitted online anyway: not counted.
    stray_online = pick(15, set(idx) - eligible)
    fee = pick(t["with_fee"], idx)
    paid = pick(t["paid_online"], fee)
    for i, r in enumerate(rows):
        r["eligible"] = i in eligible
        r["channel"] = "Trực tuyến" if i in online or i in stray_online else rng.choice(["Trực tiếp"] * 5 + ["Bưu chính"])
        r["fee"] = i in fee
        r["paid"] = i in paid
        r["paper"] = rng.random() < 0.6
        r["resolved"] = rng.random() < 0.9
    # Digitized dossiers must be able to hold their result: resolved, or no paper result.
    can = [i for i, r in enumerate(rows) if r["resolved"] or not r["paper"]]
    digitized = pick(t["digitized"], can)
    for i, r in enumerate(rows):
        if i in digitized:
            r["attach"] = ["thanh_phan", "ket_qua"] if r["paper"] and r["resolved"] else ["thanh_phan"]
            if not r["paper"] and r["resolved"] and rng.random() < 0.3:
                r["attach"] = ["thanh_phan", "ket_qua"]
        elif r["paper"] and r["resolved"] and rng.random() < 0.4:
            r["attach"] = ["thanh_phan"]  # scanned at reception, result not scanned yet
        elif r["paper"] and not r["resolved"] and rng.random() < 0.4:
            r["attach"] = ["thanh_phan"]  # scanned at reception, not resolved yet
        else:
            r["attach"] = []
    for r in rows:
        key = (r["unit"], r["received"])
        seq[key] = seq.get(key, 0) + 1
        r["code"] = f"{r['unit']}-{r['received']:%y%m%d}-{seq[key]:04d}"
        proc = rng.choice(PROCEDURES[level])
        r["procedure"] = proc
        r["due"] = r["received"] + dt.timedelta(days=10)
        r["returned"] = r["received"] + dt.timedelta(days=rng.randrange(1, 15)) if r["resolved"] else None
    return rows


def counts(rows):
    c = dict(received=0, digitized=0, with_component=0, resolved=0, resolved_digitized=0,
             eligible_online=0, online=0, with_fee=0, paid_online=0)
    for r in rows:
        comp = "thanh_phan" in r["attach"]
        res = "ket_qua" in r["attach"]
        c["received"] += 1
        c["with_component"] += comp
        c["digitized"] += comp and (res or not r["paper"])
        c["resolved"] += r["resolved"]
        c["resolved_digitized"] += r["resolved"] and (res or not r["paper"])
        c["eligible_online"] += r["eligible"]
        c["online"] += r["eligible"] and r["channel"] == "Trực tuyến"
        c["with_fee"] += r["fee"]
        c["paid_online"] += r["fee"] and r["paid"]
    return c


def seed2023(out):
    rng = random.Random(20231231)
    seq = {}
    levels = {lv: level_rows(lv, rng, seq) for lv in ("huyen", "xa")}
    # Outside the period: December 2022 and January 2024.
    outside = []
    for day in (dt.date(2022, 12, 30), dt.date(2024, 1, 2)):
        for k in range(25):
            unit = "000.00.18.H44" if k % 2 else "000.21.18.H44"
            key = (unit, day)
            seq[key] = seq.get(key, 0) + 1
            outside.append({"unit": unit, "received": day, "eligible": True, "channel": "Trực tuyến",
                            "fee": True, "paid": True, "paper": False, "resolved": True, "attach": [],
                            "code": f"{unit}-{day:%y%m%d}-{seq[key]:04d}",
                            "procedure": PROCEDURES["xa"][0], "due": day, "returned": day})
    for lv, t in TARGETS.items():
        c = counts(levels[lv])
        assert all(c[k] == v for k, v in t.items()), (lv, c, t)
    everything = levels["huyen"] + levels["xa"] + outside
    random.Random(7).shuffle(everything)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "register-2023.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(HEADERS)
        for r in everything:
            code, name, field = r["procedure"]
            w.writerow([r["code"], code, name, field, r["unit"], f"{r['received']:%d/%m/%Y}", r["channel"],
                        yes(r["eligible"]), yes(r["fee"]), yes(r["paid"]) if r["fee"] else "",
                        f"{r['due']:%d/%m/%Y}", f"{r['returned']:%d/%m/%Y}" if r["returned"] else "",
                        yes(r["paper"])])
    in_2023 = levels["huyen"] + levels["xa"]
    total = counts(in_2023)
    truth = {
        "levels": {lv: counts(rows) for lv, rows in levels.items()},
        "total": total,
        "attach": {r["code"]: r["attach"] for r in everything if r["attach"]},
        "missing": sorted(r["code"] for r in in_2023
                          if not ("thanh_phan" in r["attach"] and ("ket_qua" in r["attach"] or not r["paper"]))),
        "outside_period": len(outside),
    }
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"seed2023: {len(everything)} rows, {len(truth['attach'])} dossiers with scans, "
          f"{len(truth['missing'])} missing in 2023 → {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["seed2023"])
    ap.add_argument("outdir", type=Path)
    a = ap.parse_args()
    seed2023(a.outdir)


if __name__ == "__main__":
    main()
