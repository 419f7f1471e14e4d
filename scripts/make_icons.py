"""Draws the PNG and ICO icons from the shapes in static/img/favicon.svg.

Pure Python (zlib), so no image library is needed for a file that changes
once in a campaign's life. Run: python3 scripts/make_icons.py
"""

import struct
import zlib
from pathlib import Path

IMG = Path(__file__).resolve().parent.parent / "static" / "img"
RED = (179, 18, 27, 255)
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)


def colour_at(x: float, y: float, rounded: bool) -> tuple:
    """The favicon's colour at (x, y) on its 64 x 64 canvas."""
    if rounded:
        r = 12
        cx = min(max(x, r), 64 - r)
        cy = min(max(y, r), 64 - r)
        if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
            return CLEAR
    if 22 <= x <= 42 and 8 <= y <= 56:
        # The drop: a circle of radius 8 at (32, 28) narrowing to a point at y=42.
        in_circle = (x - 32) ** 2 + (y - 28) ** 2 <= 64
        in_point = 28 <= y <= 42 and abs(x - 32) <= 8 * (42 - y) / 14 * 0.95
        return RED if in_circle or in_point else WHITE
    return RED


def png(size: int, rounded: bool) -> bytes:
    samples = 4
    rows = []
    for j in range(size):
        row = bytearray([0])
        for i in range(size):
            total = [0, 0, 0, 0]
            for sj in range(samples):
                for si in range(samples):
                    x = (i + (si + 0.5) / samples) * 64 / size
                    y = (j + (sj + 0.5) / samples) * 64 / size
                    colour = colour_at(x, y, rounded)
                    for k in range(4):
                        total[k] += colour[k]
            row += bytes(round(t / samples**2) for t in total)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def ico(png_data: bytes, size: int) -> bytes:
    # An ICO holding one PNG image, which every current browser reads.
    return (
        struct.pack("<HHH", 0, 1, 1)
        + struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(png_data), 22)
        + png_data
    )


if __name__ == "__main__":
    favicon_32 = png(32, rounded=True)
    (IMG / "favicon-32.png").write_bytes(favicon_32)
    (IMG / "favicon.ico").write_bytes(ico(favicon_32, 32))
    # iOS rounds the corners itself and shows transparency as black.
    (IMG / "apple-touch-icon.png").write_bytes(png(180, rounded=False))
    (IMG / "icon-192.png").write_bytes(png(192, rounded=False))
    (IMG / "icon-512.png").write_bytes(png(512, rounded=False))
