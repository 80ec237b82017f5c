"""QR codes for certificate tokens: two segments (alphanumeric prefix, numeric digits), PNG/SVG.

The QR text is ``QR_PREFIX`` + two digits per token character (see token.encode_qr_text). The
prefix goes in an alphanumeric segment and the digits in a numeric segment (3.33 bits/digit), so a
worst-case token still fits version 13 at error-correction level M.

Rendering uses a fixed mask pattern. ISO/IEC 18004 lets an encoder choose any of the eight masks
(the chosen one is written in the format information and every decoder must handle all eight); the
penalty-score search only picks the mask that looks best, and costs ~17 ms of the ~20 ms it takes to
draw a code. Our payload is high-entropy base64 of a signature, so no mask produces the long runs
or finder-like patterns the search guards against. Images are also kept in an LRU cache.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Literal

import qrcode
from PIL import Image
from qrcode.util import MODE_ALPHA_NUM, MODE_NUMBER, QRData

from backend.certification.token import (
    QR_PREFIX,
    MalformedToken,
    decode_qr_text,
    encode_qr_text,
)

__all__ = [
    "FIXED_MASK_PATTERN",
    "MAX_VERSION_AT_LEVEL_M",
    "QR_PREFIX",
    "MalformedToken",
    "decode_qr_text",
    "encode_qr_text",
    "qr_matrix",
    "qr_segments",
    "qr_version",
    "render_png",
    "render_svg",
]

Level = Literal["M", "Q"]

MAX_VERSION_AT_LEVEL_M = 13
# Chosen as the lowest mean penalty score over a sample of real tokens (see the tests).
FIXED_MASK_PATTERN = 2
DEFAULT_BOX_SIZE = 8
DEFAULT_BORDER = 4
_ERROR_CORRECTION = {
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
}
_MAX_BOX_SIZE = 40
_MAX_BORDER = 16
_LIGHT = 255
_DARK = 0


def qr_segments(token: str) -> list[QRData]:
    """The QR data segments of a token: alphanumeric prefix, then numeric digit pairs."""
    text = encode_qr_text(token)
    digits = text[len(QR_PREFIX) :]
    return [
        QRData(QR_PREFIX, mode=MODE_ALPHA_NUM),
        # check_data=False: the digits are known to be ASCII 0-9, skip re-validating them.
        QRData(digits.encode("ascii"), mode=MODE_NUMBER, check_data=False),
    ]


def qr_version(token: str, level: Level = "M") -> int:
    """The QR version (1-40) a token needs at the given error-correction level."""
    return _fitted_code(token, level).version


def qr_matrix(token: str, level: Level = "M") -> tuple[tuple[bool, ...], ...]:
    """The module matrix (True = dark), without the quiet zone."""
    return _matrix(token, level)


def render_png(
    token: str,
    *,
    level: Level = "M",
    box_size: int = DEFAULT_BOX_SIZE,
    border: int = DEFAULT_BORDER,
) -> bytes:
    """A 1-bit PNG of the token's QR code (cached)."""
    _check_geometry(box_size, border)
    return _render_cached(token, level, "png", box_size, border)


def render_svg(
    token: str,
    *,
    level: Level = "M",
    box_size: int = DEFAULT_BOX_SIZE,
    border: int = DEFAULT_BORDER,
) -> bytes:
    """An SVG of the token's QR code as one path; ``box_size`` sets its pixel width (cached)."""
    _check_geometry(box_size, border)
    return _render_cached(token, level, "svg", box_size, border)


# Keyed by (token, level, format, box_size, border): a certificate's QR is drawn once, then
# served from memory. 512 entries of ~3-10 KB each stay around a few megabytes.
@lru_cache(maxsize=512)
def _render_cached(token: str, level: Level, fmt: str, box_size: int, border: int) -> bytes:
    matrix = _matrix(token, level)
    if fmt == "png":
        return _png_bytes(matrix, box_size, border)
    return _svg_bytes(matrix, box_size, border)


@lru_cache(maxsize=512)
def _matrix(token: str, level: Level) -> tuple[tuple[bool, ...], ...]:
    code = _fitted_code(token, level)
    code.makeImpl(False, FIXED_MASK_PATTERN)
    return tuple(tuple(bool(cell) for cell in row) for row in code.modules)


def _fitted_code(token: str, level: Level) -> qrcode.QRCode:
    if level not in _ERROR_CORRECTION:
        raise ValueError("level must be 'M' or 'Q'")
    code = qrcode.QRCode(error_correction=_ERROR_CORRECTION[level], mask_pattern=FIXED_MASK_PATTERN)
    for segment in qr_segments(token):
        code.add_data(segment)
    code.best_fit()
    return code


def _png_bytes(matrix: tuple[tuple[bool, ...], ...], box_size: int, border: int) -> bytes:
    # Drawn from the module matrix directly (one byte per module, then a nearest-neighbour
    # scale-up) rather than with qrcode's image classes, which draw one rectangle per module.
    side = len(matrix) + 2 * border
    quiet_row, quiet_edge = bytes([_LIGHT]) * side, bytes([_LIGHT]) * border
    rows = [quiet_row] * border
    rows.extend(
        quiet_edge + bytes(_DARK if cell else _LIGHT for cell in row) + quiet_edge for row in matrix
    )
    rows.extend([quiet_row] * border)
    image = Image.frombytes("L", (side, side), b"".join(rows))
    # Convert to 1-bit before scaling so the resize and the PNG filter touch 8x fewer bytes.
    image = image.convert("1", dither=Image.Dither.NONE)
    image = image.resize((side * box_size, side * box_size), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _svg_bytes(matrix: tuple[tuple[bool, ...], ...], box_size: int, border: int) -> bytes:
    # One path of horizontal runs, in module units; crispEdges stops anti-aliased seams.
    side = len(matrix) + 2 * border
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            runs.append(f"M{start + border} {y + border}h{x - start}v1h-{x - start}z")
    pixels = side * box_size
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{pixels}" height="{pixels}" '
        f'viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>\n'
    )
    return svg.encode("ascii")


def _check_geometry(box_size: int, border: int) -> None:
    if not isinstance(box_size, int) or not 1 <= box_size <= _MAX_BOX_SIZE:
        raise ValueError(f"box_size must be an int from 1 to {_MAX_BOX_SIZE}")
    if not isinstance(border, int) or not 0 <= border <= _MAX_BORDER:
        raise ValueError(f"border must be an int from 0 to {_MAX_BORDER}")
