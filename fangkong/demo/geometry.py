"""Plausible GeoJSON boundaries: a county's box split into nested cells sized by population.

A squarified treemap (Bruls, Huizing and van Wijk, 2000) tiles a rectangle with one cell per
child, each cell's area proportional to the child's weight and as close to square as the
weights allow. Applied level by level (county -> towns -> villages -> small grids), children
tile their parent exactly: the outer edges of the children are the parent's own coordinates
and neighbours share the very same float for their common edge.

The layout works in degrees but judges squareness in kilometres (a degree of longitude is
shorter than a degree of latitude away from the equator), so cells look square on a map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# west, south, east, north (degrees)
Rect = tuple[float, float, float, float]

# Approximate bounding boxes of counties the demo knows; others need --bbox or get a
# schematic box near 眉县.
COUNTY_BBOXES: dict[str, Rect] = {
    "610326": (107.60, 34.05, 108.10, 34.35),  # 陕西省宝鸡市眉县
}
SCHEMATIC_BBOX: Rect = (107.60, 34.05, 108.10, 34.35)
DIGITS = 6  # about 0.1 m: plenty for a drawing, and keeps the JSON small


def county_bbox(code: str) -> Rect:
    return COUNTY_BBOXES.get(code, SCHEMATIC_BBOX)


def _worst_ratio(areas: Sequence[float], side: float) -> float:
    """The worst aspect ratio of a row of cells with these areas laid along `side`."""
    total = sum(areas)
    side2 = side * side
    total2 = total * total
    return max(max(side2 * a / total2, total2 / (side2 * a)) for a in areas)


def squarify(weights: Sequence[float], rect: Rect) -> list[Rect]:
    """One cell of `rect` per weight (all > 0), in the order of `weights`, tiling `rect`."""
    if not weights:
        return []
    if any(w <= 0 for w in weights):
        raise ValueError("treemap weights must be positive")
    x_scale = math.cos(math.radians((rect[1] + rect[3]) / 2))
    cells: list[Rect | None] = [None] * len(weights)
    remaining = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    west, south, east, north = rect
    while remaining:
        width = (east - west) * x_scale
        height = north - south
        left = sum(weights[i] for i in remaining)
        per_weight = width * height / left
        side = min(width, height)
        row = [remaining[0]]
        worst = _worst_ratio([weights[row[0]] * per_weight], side)
        for index in remaining[1:]:
            candidate = [*row, index]
            ratio = _worst_ratio([weights[i] * per_weight for i in candidate], side)
            if ratio > worst:
                break
            row, worst = candidate, ratio
        rest = remaining[len(row) :]
        row_weight = sum(weights[i] for i in row)
        done = 0.0
        if width >= height:  # a column on the west side, cells stacked south to north
            edge = east if not rest else west + (east - west) * (row_weight / left)
            start = south
            for k, index in enumerate(row):
                done += weights[index]
                end = north if k == len(row) - 1 else south + (north - south) * done / row_weight
                cells[index] = (west, start, edge, end)
                start = end
            west = edge
        else:  # a row on the south side, cells from west to east
            edge = north if not rest else south + (north - south) * (row_weight / left)
            start = west
            for k, index in enumerate(row):
                done += weights[index]
                end = east if k == len(row) - 1 else west + (east - west) * done / row_weight
                cells[index] = (start, south, end, edge)
                start = end
            south = edge
        remaining = rest
    return [c for c in cells if c is not None]


def polygon(rect: Rect) -> dict[str, Any]:
    """A GeoJSON Polygon geometry (RFC 7946: exterior ring counter-clockwise, closed)."""
    w, s, e, n = (round(v, DIGITS) for v in rect)
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def bbox(geometry: dict[str, Any]) -> Rect:
    """The bounding box of a Polygon or MultiPolygon geometry."""
    rings = geometry["coordinates"]
    if geometry["type"] == "MultiPolygon":
        rings = [ring for poly in rings for ring in poly]
    xs = [pt[0] for ring in rings for pt in ring]
    ys = [pt[1] for ring in rings for pt in ring]
    return (min(xs), min(ys), max(xs), max(ys))


def with_floor(values: Sequence[float], share: float = 0.15) -> list[float]:
    """Weights for a treemap: empty or tiny units still get a visible cell."""
    if not values:
        return []
    floor = max(sum(values) / len(values) * share, 1e-9)
    return [max(float(v), floor) for v in values]
