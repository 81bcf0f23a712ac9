#!/usr/bin/env python3
"""Generates the PWA icons in client/static/icons/: a red square with a yellow star
(the party colours), written with zlib and struct only, so no image library is needed.
Run from the repository root: python3 client/tools/make_icons.py"""
import math
import struct
import zlib


def star_contains(x, y, cx, cy, r_out, r_in):
    """Point-in-polygon test against a five-pointed star."""
    pts = []
    for i in range(10):
        a = -math.pi / 2 + i * math.pi / 5
        r = r_out if i % 2 == 0 else r_in
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    inside = False
    j = len(pts) - 1
    for i in range(len(pts)):
        xi, yi = pts[i]
        xj, yj = pts[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def png(size, path):
    red, yellow = (0xB7, 0x1C, 0x1C), (0xFF, 0xD6, 0x00)
    cx = cy = size / 2
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # 4x supersampling for smooth edges. The star stays inside the maskable
            # safe zone (the central 80%).
            hits = sum(star_contains(x + dx, y + dy, cx, cy * 1.04, size * 0.36, size * 0.145)
                       for dx in (0.25, 0.75) for dy in (0.25, 0.75))
            t = hits / 4
            row += bytes(round(r * (1 - t) + s * t) for r, s in zip(red, yellow))
        rows.append(bytes(row))
    raw = b''.join(rows)

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xffffffff
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', crc)

    out = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', size, size, 8, 2, 0, 0, 0))
    out += chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(out)


if __name__ == '__main__':
    png(192, 'client/static/icons/icon-192.png')
    png(512, 'client/static/icons/icon-512.png')
