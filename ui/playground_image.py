"""The Playground's field drawn as a PNG while it plays: an image swaps in place, a re-sent plotly chart blanks.

Same layers and colours as playground_figures.field_figure (which stays for the paused, hoverable view).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from ganlab.toy import ToyTrainer
from ui.playground_figures import LAYERS, MAX_REAL_SHOWN

SIZE = 560  # pixels per side of the plane
# GAN Lab's scale: purple where D says "generated", white where it cannot tell, green where it says "real".
STOPS = np.array([[0xA4, 0x7F, 0xD9], [0xF7, 0xF7, 0xF7], [0x6C, 0xC4, 0x8A]], dtype=np.float64)
REAL, FAKE, MANIFOLD, ARROW = (30, 140, 69, 220), (138, 60, 207, 230), (123, 44, 191, 90), (60, 9, 108, 255)


def _colours(values: np.ndarray, probabilities: bool) -> np.ndarray:
    """(n, n) D outputs -> (n, n, 3) uint8 on the purple-white-green scale (0.5 or the median is white)."""
    if probabilities:
        t = np.clip(values, 0.0, 1.0)
    else:  # critic scores: centred on their median, spread by their largest deviation
        centred = values - np.median(values)
        t = 0.5 + 0.5 * centred / max(float(np.abs(centred).max()), 1e-9)
    low = np.clip(t * 2, 0, 1)[..., None]
    high = np.clip(t * 2 - 1, 0, 1)[..., None]
    rgb = np.where(t[..., None] < 0.5, STOPS[0] + (STOPS[1] - STOPS[0]) * low, STOPS[1] + (STOPS[2] - STOPS[1]) * high)
    return rgb.round().astype(np.uint8)


def field_png(trainer: ToyTrainer, layers: Sequence[str] = LAYERS, *, grid_n: int = 60, n_generated: int = 400,
              n_arrows: int = 40, manifold_lines: int = 11) -> bytes:
    """The plane as PNG bytes: D's heat-map, G's manifold, real and generated points, G's gradient arrows."""
    x0, x1, y0, y1 = trainer.bounds

    def px(points: np.ndarray) -> np.ndarray:  # plane coordinates (k, 2) -> pixels (k, 2), y up
        out = np.empty_like(points, dtype=np.float64)
        out[:, 0] = (points[:, 0] - x0) / (x1 - x0) * (SIZE - 1)
        out[:, 1] = (y1 - points[:, 1]) / (y1 - y0) * (SIZE - 1)
        return out

    if "Heat-map" in layers:
        _, _, values = trainer.field(grid_n)  # row = y, ascending: flip so the top row is the largest y
        heat = Image.fromarray(_colours(values[::-1], trainer.config.loss == "bce"))
        image = heat.resize((SIZE, SIZE), Image.Resampling.BILINEAR).convert("RGBA")
    else:
        image = Image.new("RGBA", (SIZE, SIZE), (255, 255, 255, 255))
    overlay = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    if "G manifold" in layers:
        for line in trainer.manifold(manifold_lines):
            draw.line([tuple(p) for p in px(line)], fill=MANIFOLD, width=1)
    for layer, colour, points in (("Real", REAL, lambda: trainer.real.numpy()[:MAX_REAL_SHOWN]),
                                  ("Generated", FAKE, lambda: trainer.generated(n_generated))):
        if layer in layers:
            for x, y in px(points()):
                draw.ellipse((x - 2.2, y - 2.2, x + 2.2, y + 2.2), fill=colour)
    if "G gradients" in layers:
        points, directions = trainer.g_gradients(n_arrows)
        norms = np.linalg.norm(directions, axis=1)
        if norms.size and norms.max() > 0:
            tips = points + directions * (0.06 * (x1 - x0) / norms.max())
            for (ax, ay), (bx, by) in zip(px(points), px(tips)):
                draw.line((ax, ay, bx, by), fill=ARROW, width=1)
                angle = np.arctan2(by - ay, bx - ax)
                head = [(bx, by), (bx - 6 * np.cos(angle - 0.45), by - 6 * np.sin(angle - 0.45)),
                        (bx - 6 * np.cos(angle + 0.45), by - 6 * np.sin(angle + 0.45))]
                draw.polygon(head, fill=ARROW)
    image = Image.alpha_composite(image, overlay).convert("RGB")
    ImageDraw.Draw(image).rectangle((0, 0, SIZE - 1, SIZE - 1), outline=(160, 160, 160))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # speed over size: it is replaced within a second
    return buffer.getvalue()
