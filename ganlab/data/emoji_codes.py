"""Which emoji a colour font can draw: single code points plus tone, flag, keycap and ZWJ sequences."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from PIL import ImageFont

TONES = tuple(chr(c) for c in range(0x1F3FB, 0x1F400))  # Fitzpatrick skin-tone modifiers
ZWJ, VS16 = "\u200d", "\ufe0f"
REGIONAL = tuple(chr(c) for c in range(0x1F1E6, 0x1F200))  # A..Z flag letters
SINGLE_RANGES = (
    (0x00A9, 0x00AF),
    (0x2000, 0x2C00),
    (0x3030, 0x3031),
    (0x303D, 0x303E),
    (0x3297, 0x329A),
    (0x1F000, 0x1FB00),
)
NOT_ALONE = set(range(0x1F1E6, 0x1F200)) | set(range(0x1F3FB, 0x1F400))  # only meaningful in sequences
# Smileys: code points whose name says FACE, in the smiley blocks (not clocks, dice, moons, animals).
FACE_BLOCKS = (
    (0x2639, 0x263B),
    (0x1F600, 0x1F650),
    (0x1F910, 0x1F930),
    (0x1F970, 0x1F980),
    (0x1F9D0, 0x1F9D1),
    (0x1FAE0, 0x1FB00),
)
# People whose emoji is essentially a head: boy, girl, man, woman, elders, baby, princess, ...
PEOPLE_HEADS = (
    0x1F466,
    0x1F467,
    0x1F468,
    0x1F469,
    0x1F471,
    0x1F472,
    0x1F473,
    0x1F474,
    0x1F475,
    0x1F476,
    0x1F477,
    0x1F478,
    0x1F46E,
    0x1F482,
    0x1F934,
    0x1F935,
    0x1F9D1,
    0x1F9D2,
    0x1F9D3,
    0x1F9D4,
    0x1F9D5,
)
PERSON_BASES = ("\U0001f9d1", "\U0001f468", "\U0001f469")  # the bases of profession ZWJ sequences


def is_face(cp: int) -> bool:
    if cp in PEOPLE_HEADS:
        return True
    return any(lo <= cp < hi for lo, hi in FACE_BLOCKS) and "FACE" in unicodedata.name(chr(cp), "")


class Probe:
    """Asks the font about candidate strings: is it one glyph (a ligature), and is it visible."""

    def __init__(self, font: ImageFont.FreeTypeFont, render: Callable[[str], object]):
        self.font, self.render = font, render
        self.advance = self._length("\U0001f600") or float(font.size)
        self._unknown_flag = self._signature(REGIONAL[16] * 2)  # "QQ": not a country, drawn as "?"

    def _length(self, text: str) -> float:
        try:
            return float(self.font.getlength(text))
        except (RuntimeError, OSError, ValueError):  # raqm refuses some code points (e.g. lone surrogates)
            return 0.0

    def one_glyph(self, text: str) -> bool:
        """The shaper joined the sequence into a single glyph (otherwise it is wider)."""
        return 0.5 * self.advance < self._length(text) < 1.5 * self.advance

    def _signature(self, text: str) -> bytes | None:
        im = self.render(text)
        return im.tobytes() if im is not None else None

    def visible(self, text: str) -> bool:
        return self.one_glyph(text) and self.render(text) is not None

    def real_flag(self, text: str) -> bool:
        return self.one_glyph(text) and self._signature(text) not in (None, self._unknown_flag)


def _singles(probe: Probe, faces_only: bool) -> list[str]:
    if faces_only:
        candidates = [cp for lo, hi in FACE_BLOCKS for cp in range(lo, hi)] + list(PEOPLE_HEADS)
        candidates = sorted(cp for cp in set(candidates) if is_face(cp))
    else:
        candidates = [cp for lo, hi in SINGLE_RANGES for cp in range(lo, hi) if cp not in NOT_ALONE]
    return [chr(cp) for cp in candidates if probe.visible(chr(cp))]


def _with_tones(probe: Probe, bases: list[str]) -> list[str]:
    out = []
    for base in bases:
        if probe.one_glyph(base + TONES[0]):
            out.extend(base + tone for tone in TONES)
    return out


def enumerate_emoji(probe: Probe, subset: str) -> list[str]:
    """The strings to render for 'faces' or 'all', in a stable order."""
    singles = _singles(probe, faces_only=subset == "faces")
    toned = _with_tones(probe, singles)
    if subset == "faces":
        return singles + toned
    keycaps = [k + VS16 + "\u20e3" for k in "#*0123456789" if probe.visible(k + VS16 + "\u20e3")]
    flags = [a + b for a in REGIONAL for b in REGIONAL if probe.real_flag(a + b)]
    # Profession sequences: person + ZWJ + object (e.g. man + ZWJ + laptop = technologist).
    jobs = [base + ZWJ + s for base in PERSON_BASES for s in singles if probe.one_glyph(base + ZWJ + s)]
    jobs += [b[0] + tone + b[1:] for b in jobs for tone in TONES if probe.one_glyph(b[0] + tone + b[1:])]
    # Gendered variants: any emoji + ZWJ + female/male sign (e.g. woman running).
    gendered = [
        s + ZWJ + sign + VS16
        for s in singles
        for sign in ("\u2640", "\u2642")
        if probe.one_glyph(s + ZWJ + sign + VS16)
    ]
    gendered += [g[0] + tone + g[1:] for g in gendered for tone in TONES if probe.one_glyph(g[0] + tone + g[1:])]
    return singles + toned + keycaps + flags + jobs + gendered
