"""The report's charts as PNG files, for slides.

Figures are drawn by plotly's static image export (kaleido), which runs a headless
Chrome or Chromium; all figures go through one browser session. Each file is written
under a temporary name and renamed, so a failed export leaves no half-written image.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from crossmargin.core.errors import InputError

__all__ = ["PNG_HEIGHT", "PNG_SCALE", "PNG_WIDTH", "export_png"]

#: Size of each image in CSS pixels, and the device-pixel scale (2: sharp on slides).
PNG_WIDTH = 1200
PNG_HEIGHT = 675
PNG_SCALE = 2


def export_png(figures: Mapping[str, go.Figure], directory: Path) -> list[Path]:
    """Write each figure to ``directory/<name>.png`` and return the paths, in order.

    Raises
    ------
    InputError
        When no Chrome or Chromium can be started to draw the images (named with the
        way to install one).
    """
    directory.mkdir(parents=True, exist_ok=True)
    final = [directory / f"{name}.png" for name in figures]
    tmp = [p.with_name(f".{p.name}.tmp.png") for p in final]
    heights = [max(PNG_HEIGHT, int(f.layout.height or 0)) for f in figures.values()]
    try:
        pio.write_images(list(figures.values()), tmp, format="png", width=PNG_WIDTH,
                         height=heights, scale=PNG_SCALE)
    except (RuntimeError, OSError) as exc:
        for p in tmp:
            p.unlink(missing_ok=True)
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()),
                     type(exc).__name__)
        raise InputError(f"cannot draw PNG images ({first}); install Chrome or Chromium "
                         "(Debian: apt-get install chromium)", field="--png-dir",
                         value=str(directory)) from None
    for src, dst in zip(tmp, final, strict=True):
        os.replace(src, dst)
    return final
