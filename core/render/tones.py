"""The severity tones on a light background: the PDF's (paper is light) and the window's in a
light palette, kept once so that the two never drift apart. gui/theme.py adds its dark tones."""

from __future__ import annotations

from collections.abc import Mapping

#: (text, background, border) per verdict and severity value ("ok", "info", … "critical").
LIGHT_TONES: Mapping[str, tuple[str, str, str]] = {
    "ok": ("#1b5e20", "#e6f4ea", "#81c995"),
    "info": ("#0b4a9e", "#e8f0fe", "#8ab4f8"),
    "warning": ("#6d4c00", "#fef3d6", "#f2c14e"),
    "error": ("#a50e0e", "#fce8e6", "#f28b82"),
    "critical": ("#ffffff", "#a50e0e", "#7a0a0a"),
}
