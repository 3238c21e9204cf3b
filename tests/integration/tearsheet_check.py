#!/usr/bin/env python3
"""tearsheet_check: checks of the backtest tear sheet as headless Chromium rendered it
(used by test_backtest_tearsheet.sh; standard library only).

  tearsheet_check.py dom DOM.html MD5 RUN_ID
      the DOM Chromium dumped has every section, the trades hash MD5, the run id, a
      monthly table with a row per year and 12 month columns, and two charts whose
      data: URLs decode to PNGs of the expected pixel sizes;
  tearsheet_check.py shot SHOT.png
      the screenshot shows the charts: pixels of the series colours (blue equity,
      orange second portfolio), spread over a chart-sized box, and page text.
Exit 0 when every check passes, 1 with the failed check on stderr otherwise.
"""
import base64
import re
import struct
import sys
import zlib


def fail(msg):
    print("tearsheet_check: " + msg, file=sys.stderr)
    sys.exit(1)


def png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        fail("not a PNG")
    return struct.unpack(">II", data[16:24])


def decode_png(path):
    """RGB(A) 8-bit non-interlaced PNG -> (width, height, channels, rows of bytes)"""
    data = open(path, "rb").read()
    w, h = png_size(data)
    depth, ctype, _, _, interlace = data[24:29]
    if depth != 8 or ctype not in (2, 6) or interlace != 0:
        fail("screenshot: unsupported PNG (depth %d type %d)" % (depth, ctype))
    ch = 3 if ctype == 2 else 4
    pos, idat = 8, b""
    while pos < len(data):
        (ln,) = struct.unpack(">I", data[pos:pos + 4])
        typ = data[pos + 4:pos + 8]
        if typ == b"IDAT":
            idat += data[pos + 8:pos + 8 + ln]
        pos += 12 + ln
    raw = zlib.decompress(idat)
    stride = w * ch
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - ch] if x >= ch else 0
            b = prev[x]
            c = prev[x - ch] if x >= ch else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, ch, rows


def check_dom(path, md5, run_id):
    dom = open(path, encoding="utf-8").read()
    for el in ('id="title"', 'id="metrics"', 'id="chart-equity"', 'id="chart-portfolios"',
               'id="monthly-returns"', 'id="parameters"', 'id="options"', 'id="trades-hash"'):
        if el not in dom:
            fail("DOM lacks " + el)
    if not re.search(r'id="trades-hash">%s<' % re.escape(md5), dom):
        fail("DOM lacks the trades hash " + md5)
    if "Backtest tear sheet: " + run_id not in dom:
        fail("DOM lacks the run id in the title")
    for metric in ("Total return", "CAGR", "Annualized volatility", "Sharpe", "Sortino",
                   "Max drawdown", "Turnover", "Commissions", "Slippage vs arrival",
                   "Fill ratio"):
        if '<div class="l">%s</div>' % metric not in dom:
            fail("DOM lacks the metric " + metric)
    table = re.search(r'<table id="monthly-returns">(.*?)</table>', dom, re.S).group(1)
    years = re.findall(r'<td class="k">(\d{4})</td>', table)
    if years != ["2024", "2025"]:
        fail("monthly table years %s, want 2024 and 2025" % years)
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        if row.count("<td") != 14:
            fail("monthly row without 12 months + year: " + row[:80])
    for img, want in (("chart-equity", (1920, 1040)), ("chart-portfolios", (1920, 680))):
        m = re.search(r'<img id="%s"[^>]* src="data:image/png;base64,([A-Za-z0-9+/=]+)"'
                      % img, dom)
        if not m:
            fail("no inline PNG for " + img)
        size = png_size(base64.b64decode(m.group(1)))
        if size != want:
            fail("%s is %dx%d, want %dx%d" % ((img,) + size + want))
    for ext in ("http://", "https://", "<script", "<link"):
        if ext in dom:
            fail("DOM has an external resource or script: " + ext)


def check_shot(path):
    w, h, ch, rows = decode_png(path)
    blue = orange = dark = 0
    bx0, by0, bx1, by1 = w, h, -1, -1
    for y, row in enumerate(rows):
        for x in range(0, w):
            r, g, b = row[x * ch], row[x * ch + 1], row[x * ch + 2]
            if abs(r - 31) < 45 and abs(g - 120) < 45 and abs(b - 181) < 45:
                blue += 1
                bx0, by0, bx1, by1 = min(bx0, x), min(by0, y), max(bx1, x), max(by1, y)
            elif abs(r - 217) < 40 and abs(g - 94) < 40 and b < 60:
                orange += 1
            elif r < 80 and g < 80 and b < 80:
                dark += 1
    print("screenshot %dx%d: blue %d orange %d dark %d, blue box %d,%d-%d,%d"
          % (w, h, blue, orange, dark, bx0, by0, bx1, by1))
    if blue < 3000:
        fail("screenshot: too few equity-line pixels (%d)" % blue)
    if orange < 500:
        fail("screenshot: too few second-portfolio pixels (%d)" % orange)
    if bx1 - bx0 < 0.6 * w or by1 - by0 < 300:
        fail("screenshot: the lines do not span a chart (%d x %d)" % (bx1 - bx0, by1 - by0))
    if dark < 5000:
        fail("screenshot: too little text (%d dark pixels)" % dark)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "dom":
        check_dom(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 3 and sys.argv[1] == "shot":
        check_shot(sys.argv[2])
    else:
        fail("usage: tearsheet_check.py dom DOM MD5 RUN_ID | shot PNG")
