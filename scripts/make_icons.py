"""Draw the Teams app icons into manifest/: color.png (192x192) and outline.png (32x32).

The motif is a shelter (a house) with a check mark, sending a signal from its roof:
a site that has reported and is on the board. The green follows the Japanese
evacuation-site signs. Run `python scripts/make_icons.py` after changing the design;
the PNGs are committed, so packaging needs no drawing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "manifest"
ACCENT = (11, 122, 69)  # #0B7A45, also the manifest's accentColor
WHITE = (255, 255, 255)
OVERSAMPLE = 8

# The design on a unit square centred on (0.5, 0.5); each icon zooms it to its size.
APEX = (0.50, 0.24)
EAVES = ((0.14, 0.54), (0.86, 0.54))
BODY = (0.26, 0.47, 0.74, 0.86)
CHECK = ((0.37, 0.68), (0.47, 0.77), (0.64, 0.59))

Place = Callable[[float, float], tuple[float, float]]


def draw_color(size: int = 192) -> Image.Image:
    """Return the full-colour icon: a white shelter on a full-bleed green square.

    Teams rounds the corners itself; the symbol keeps to the middle two thirds.
    """
    scale = size * OVERSAMPLE
    image = Image.new("RGB", (scale, scale), ACCENT)
    draw = ImageDraw.Draw(image)
    at = _placer(scale, zoom=0.78, shift=0.04)

    left, top, right, bottom = BODY
    draw.polygon([at(*APEX), at(*EAVES[1]), at(*EAVES[0])], fill=WHITE)
    draw.rectangle([at(left, top), at(right, bottom)], fill=WHITE)
    draw.line([at(*p) for p in CHECK], fill=ACCENT, width=int(0.05 * scale), joint="curve")
    _signal(draw, at, scale * 0.78, radii=(0.10, 0.18), width=int(0.035 * scale), fill=WHITE)

    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_outline(size: int = 32) -> Image.Image:
    """Return the outline icon: the same shelter in white strokes on transparency.

    At 32 pixels the signal arcs read as a stray dash, so the outline leaves them out.
    Teams tints this icon itself: every visible pixel is pure white and the shape is
    carried by alpha alone, antialiased edges included.
    """
    scale = size * OVERSAMPLE
    mask = Image.new("L", (scale, scale), 0)
    draw = ImageDraw.Draw(mask)
    at = _placer(scale, zoom=1.0, shift=-0.05)
    stroke = int(scale / 16)  # two pixels at 32x32

    left, top, right, bottom = BODY
    draw.line([at(*EAVES[0]), at(*APEX), at(*EAVES[1])], fill=255, width=stroke, joint="curve")
    walls = [at(left, top + 0.05), at(left, bottom), at(right, bottom), at(right, top + 0.05)]
    draw.line(walls, fill=255, width=stroke, joint="curve")
    draw.line([at(*p) for p in CHECK], fill=255, width=stroke, joint="curve")

    image = Image.new("RGBA", (size, size), WHITE + (0,))
    image.putalpha(mask.resize((size, size), Image.Resampling.LANCZOS))
    return image


def _placer(scale: float, zoom: float, shift: float) -> Place:
    """Map unit-square points to pixels, zoomed about the centre and moved down by shift."""
    return lambda x, y: (
        (0.5 + (x - 0.5) * zoom) * scale,
        (0.5 + (y - 0.5) * zoom + shift) * scale,
    )


def _signal(draw, at: Place, size: float, radii, width: int, fill) -> None:
    """Draw arcs rising from the roof's apex, like a radio signal."""
    x, y = at(APEX[0], APEX[1] - 0.03)
    for radius in radii:
        r = radius * size
        draw.arc([x - r, y - r, x + r, y + r], start=225, end=315, fill=fill, width=width)


def main() -> None:
    draw_color().save(MANIFEST_DIR / "color.png", optimize=True)
    draw_outline().save(MANIFEST_DIR / "outline.png", optimize=True)
    print(f"wrote {MANIFEST_DIR / 'color.png'} and {MANIFEST_DIR / 'outline.png'}")


if __name__ == "__main__":
    main()
