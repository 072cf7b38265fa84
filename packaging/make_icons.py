#!/usr/bin/env python3
"""Render the app icon in every size the three desktops need, from one source image.

    python packaging/make_icons.py            # resources/app-icon.svg -> resources/icons/
    python packaging/make_icons.py --check    # exit 1 if resources/icons/ is missing a file

Writes ``app-<N>.png`` for N in ICON_SIZES (Linux hicolor theme, window icon, AppStream),
``app.ico`` (Windows: the executable's icon) and ``app.icns`` (macOS: the .app bundle's icon).

Only Qt is used (QSvgRenderer paints into a QImage), so nothing beyond the app's own dependencies
is needed. The .ico and .icns containers are written here rather than through Qt's image plugins:
Qt's ico writer stores one image per file and the icns plugin is not in every Qt build, while both
formats are a short header plus a table of images.

ICO entries below 256 px are 32-bit BMPs (what Windows' own tools write; some shell views ignore
PNG entries at small sizes), the 256 px one is PNG. ICNS entries are all PNG, as ``iconutil``
writes them (https://en.wikipedia.org/wiki/Apple_Icon_Image_format#Icon_types).
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "resources" / "app-icon.svg"
OUT = REPO / "resources" / "icons"

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: ICNS type codes and the pixel size each holds (the @2x types are the Retina variants).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"ic11", 32),  # 16@2x
    (b"icp5", 32),
    (b"ic12", 64),  # 32@2x
    (b"ic07", 128),
    (b"ic13", 256),  # 128@2x
    (b"ic08", 256),
    (b"ic14", 512),  # 256@2x
    (b"ic09", 512),
    (b"ic10", 1024),  # 512@2x
)


def expected_files() -> list[str]:
    return [f"app-{n}.png" for n in ICON_SIZES] + ["app.ico", "app.icns"]


def _qt_app() -> object:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication(sys.argv[:1])


def render(svg: bytes, size: int) -> object:
    """The source drawn at ``size``×``size`` as a non-premultiplied ARGB32 QImage."""
    from PySide6.QtCore import QByteArray, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {SOURCE} is not an SVG Qt can read")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def png_bytes(image: object) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # type: ignore[attr-defined]
        raise SystemExit("make_icons: Qt could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def bmp_entry(image: object) -> bytes:
    """An ICO image entry: BITMAPINFOHEADER (height doubled for the AND mask), BGRA rows
    bottom-up, then an all-zero 1-bit AND mask (the alpha channel already says what shows)."""
    size = image.width()  # type: ignore[attr-defined]
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    rows = []
    for y in range(size - 1, -1, -1):
        # Format_ARGB32 is stored as 0xAARRGGBB words: B, G, R, A bytes on little-endian.
        line = bytes(image.constScanLine(y))[: size * 4]  # type: ignore[attr-defined]
        if sys.byteorder == "big":
            line = b"".join(line[i : i + 4][::-1] for i in range(0, len(line), 4))
        rows.append(line)
    mask_row = ((size + 31) // 32) * 4
    return header + b"".join(rows) + bytes(mask_row * size)


def ico_file(images: dict[int, object]) -> bytes:
    entries = []
    for size in ICO_SIZES:
        image = images[size]
        entries.append((size, png_bytes(image) if size >= 256 else bmp_entry(image)))
    out = struct.pack("<HHH", 0, 1, len(entries))
    offset = 6 + 16 * len(entries)
    table, blobs = b"", b""
    for size, blob in entries:
        dim = 0 if size >= 256 else size  # 0 means 256 in the directory
        table += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return out + table + blobs


def icns_file(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(
        code + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for code, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def build(source: Path = SOURCE, out: Path = OUT) -> list[Path]:
    if not source.is_file():
        raise SystemExit(f"make_icons: the source image {source} is missing")
    _app = _qt_app()
    svg = source.read_bytes()
    images = {size: render(svg, size) for size in ICON_SIZES}
    pngs = {size: png_bytes(image) for size, image in images.items()}
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for size, data in pngs.items():
        written.append(_write(out / f"app-{size}.png", data))
    written.append(_write(out / "app.ico", ico_file(images)))
    written.append(_write(out / "app.icns", icns_file(pngs)))
    del _app
    return written


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that every file exists")
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.check:
        missing = [name for name in expected_files() if not (args.out / name).is_file()]
        if missing:
            print(f"make_icons: missing in {args.out}: {', '.join(missing)}", file=sys.stderr)
            return 1
        return 0
    for path in build(args.source, args.out):
        print(
            f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}"
            f"  {path.stat().st_size} bytes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
