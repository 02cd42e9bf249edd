"""Regenerate CareCoord's raster icons from ``resources/icons/carecoord.svg``.

    python installer/make_icons.py

Writes ``carecoord-<N>.png`` for every size in :data:`PNG_SIZES`, ``carecoord.ico`` (Windows:
16-256 px) and ``carecoord.icns`` (macOS: 16-1024 px) next to the SVG. The SVG is rendered by
Qt's SVG renderer (PySide6 is already a dependency of the app), so the rasters are drawn from
the SVG itself rather than from a second copy of its geometry; Pillow packs the ICO and ICNS
files. The generated files are committed, so a build never needs to run this script.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
ICON_DIR = ROOT / "resources" / "icons"
SVG_PATH = ICON_DIR / "carecoord.svg"
PNG_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)


def png_name(size: int) -> str:
    return f"carecoord-{size}.png"


def render_svg(svg: Path, size: int) -> Image.Image:
    """Render ``svg`` to a square RGBA image of ``size`` pixels."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg.name} is not a valid SVG file.")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)  # straight (not premultiplied)
    return Image.frombuffer(
        "RGBA", (size, size), bytes(rgba.constBits()), "raw", "RGBA", rgba.bytesPerLine(), 1
    ).copy()


def make_icons(svg: Path = SVG_PATH, out_dir: Path = ICON_DIR) -> list[Path]:
    """Render every raster from ``svg`` into ``out_dir``; returns the files written."""
    sizes = sorted(set(PNG_SIZES) | set(ICO_SIZES) | set(ICNS_SIZES))
    rendered = {size: render_svg(svg, size) for size in sizes}
    written: list[Path] = []
    for size in PNG_SIZES:
        path = out_dir / png_name(size)
        rendered[size].save(path, format="PNG", optimize=True)
        written.append(path)

    ico = out_dir / "carecoord.ico"
    largest_ico = rendered[max(ICO_SIZES)]
    largest_ico.save(
        ico,
        format="ICO",
        sizes=[(s, s) for s in ICO_SIZES],
        append_images=[rendered[s] for s in ICO_SIZES if s != max(ICO_SIZES)],
    )
    written.append(ico)

    icns = out_dir / "carecoord.icns"
    largest_icns = rendered[max(ICNS_SIZES)]
    largest_icns.save(
        icns,
        format="ICNS",
        append_images=[rendered[s] for s in ICNS_SIZES if s != max(ICNS_SIZES)],
    )
    written.append(icns)
    return written


def main() -> int:
    for path in make_icons():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
