"""GeoJSON geometry checks and coordinate conversions.

Anwang stores every coordinate in WGS84 (longitude, latitude), as GPS receivers, GeoJSON,
Open311 and CAP use. Chinese base maps draw in shifted systems: GCJ-02 (AMap, Tencent) and
BD-09 (Baidu, a further shift of GCJ-02). Shapes are converted only for drawing on such a map,
never for storage. The forward conversions are the published formulas; the inverse ones are
iterative approximations, accurate to well below a centimetre.

Pure functions with no ORM or I/O, so the rules engine and every app can use them.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.utils.translation import gettext as _

from anwang.core.errors import ServiceError

Position = tuple[float, float]
BBox = tuple[float, float, float, float]
Transform = Callable[[float, float], Position]

GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
)
DEFAULT_ALLOWED = ("Polygon", "MultiPolygon", "Point", "LineString")
AREA_TYPES = ("Polygon", "MultiPolygon")
# How deeply positions are nested in each type's coordinates.
_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 obfuscation.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_BD_X_PI = math.pi * 3000.0 / 180.0
_EARTH_RADIUS_M = 6371008.8


# --------------------------------------------------------------------------- validation


def validate_geometry(
    value: Any,
    *,
    allowed: Sequence[str] = DEFAULT_ALLOWED,
    field: str | None = None,
) -> dict[str, Any]:
    """Check a GeoJSON geometry (a dict or JSON text) and return a clean copy of it.

    A Feature, or a FeatureCollection holding exactly one feature, is unwrapped to its geometry,
    because that is what people copy out of map tools. Raises :class:`ServiceError` naming the
    problem (on ``field``) when the value is not a valid WGS84 geometry of an allowed type.
    """
    data = _parse(value, field)
    data = _unwrap_feature(data, field)
    kind = data.get("type")
    if kind not in GEOMETRY_TYPES:
        if kind == "GeometryCollection":
            raise ServiceError(_("Geometry collections are not supported."), field=field)
        raise ServiceError(
            _("Unknown geometry type %(type)s: use one of %(types)s.")
            % {"type": json.dumps(kind, ensure_ascii=False), "types": ", ".join(allowed)},
            field=field,
        )
    if kind not in allowed:
        raise ServiceError(
            _("A %(type)s is not allowed here: use one of %(types)s.")
            % {"type": kind, "types": ", ".join(allowed)},
            field=field,
        )
    if "coordinates" not in data:
        raise ServiceError(_("The geometry has no coordinates."), field=field)
    coordinates = _CHECKERS[kind](data["coordinates"], field)
    return {"type": kind, "coordinates": coordinates}


def _parse(value: Any, field: str | None) -> dict[str, Any]:
    if isinstance(value, bytes | str):
        text = value.decode() if isinstance(value, bytes) else value
        try:
            value = json.loads(text)
        except ValueError as error:
            raise ServiceError(
                _("This is not valid JSON (line %(line)d, column %(column)d).")
                % {
                    "line": getattr(error, "lineno", 1),
                    "column": getattr(error, "colno", 1),
                },
                field=field,
            ) from error
    if not isinstance(value, dict):
        raise ServiceError(
            _('A GeoJSON geometry must be an object such as {"type": "Polygon", ...}.'),
            field=field,
        )
    return value


def _unwrap_feature(data: dict[str, Any], field: str | None) -> dict[str, Any]:
    if data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or len(features) != 1:
            raise ServiceError(
                _("A feature collection must hold exactly one feature here."), field=field
            )
        data = _parse(features[0], field)
    if data.get("type") == "Feature":
        geometry = data.get("geometry")
        if geometry is None:
            raise ServiceError(_("The feature has no geometry."), field=field)
        data = _parse(geometry, field)
    return data


def _position(value: Any, field: str | None) -> list[float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise ServiceError(
            _("Every position must be [longitude, latitude], for example [114.305, 30.593]."),
            field=field,
        )
    numbers: list[float] = []
    for item in value:
        # bool is an int in Python, but true/false in a position is a mistake.
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise ServiceError(_("Coordinates must be numbers."), field=field)
        numbers.append(float(item))
    lon, lat = numbers[0], numbers[1]
    if abs(lat) > 90 and abs(lon) <= 90:
        raise ServiceError(
            _(
                "Latitude %(lat)s is outside -90 to 90: the longitude and latitude look swapped. "
                "GeoJSON puts the longitude first: [longitude, latitude]."
            )
            % {"lat": _number(lat)},
            field=field,
        )
    if abs(lon) > 180 or abs(lat) > 90:
        raise ServiceError(
            _(
                "Position [%(lon)s, %(lat)s] is outside the WGS84 range (longitude -180 to 180, "
                "latitude -90 to 90)."
            )
            % {"lon": _number(lon), "lat": _number(lat)},
            field=field,
        )
    return numbers


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _list(value: Any, field: str | None) -> list[Any]:
    if not isinstance(value, list):
        raise ServiceError(_("The coordinates are not nested correctly."), field=field)
    return value


def _check_point(value: Any, field: str | None) -> list[float]:
    return _position(value, field)


def _check_multipoint(value: Any, field: str | None) -> list[list[float]]:
    points = [_position(item, field) for item in _list(value, field)]
    if not points:
        raise ServiceError(_("The geometry has no positions."), field=field)
    return points


def _check_line(value: Any, field: str | None) -> list[list[float]]:
    line = [_position(item, field) for item in _list(value, field)]
    if len(line) < 2:
        raise ServiceError(_("A line needs at least 2 positions."), field=field)
    return line


def _check_multiline(value: Any, field: str | None) -> list[list[list[float]]]:
    lines = [_check_line(item, field) for item in _list(value, field)]
    if not lines:
        raise ServiceError(_("The geometry has no lines."), field=field)
    return lines


def _check_ring(value: Any, field: str | None) -> list[list[float]]:
    ring = [_position(item, field) for item in _list(value, field)]
    if len(ring) < 4:
        raise ServiceError(
            _(
                "A polygon ring needs at least 4 positions (3 corners and the first one "
                "repeated at the end); this one has %(count)d."
            )
            % {"count": len(ring)},
            field=field,
        )
    if ring[0][:2] != ring[-1][:2]:
        raise ServiceError(
            _("The polygon ring is not closed: its last position must repeat the first."),
            field=field,
        )
    if len({(p[0], p[1]) for p in ring}) < 3:
        raise ServiceError(_("The polygon ring needs at least 3 different corners."), field=field)
    if _ring_area(ring) == 0:
        raise ServiceError(_("The polygon has no area: its corners lie on a line."), field=field)
    return ring


def _check_polygon(value: Any, field: str | None) -> list[list[list[float]]]:
    rings = [_check_ring(item, field) for item in _list(value, field)]
    if not rings:
        raise ServiceError(_("A polygon needs at least one ring."), field=field)
    return rings


def _check_multipolygon(value: Any, field: str | None) -> list[list[list[list[float]]]]:
    polygons = [_check_polygon(item, field) for item in _list(value, field)]
    if not polygons:
        raise ServiceError(_("The geometry has no polygons."), field=field)
    return polygons


_CHECKERS: dict[str, Callable[[Any, str | None], Any]] = {
    "Point": _check_point,
    "MultiPoint": _check_multipoint,
    "LineString": _check_line,
    "MultiLineString": _check_multiline,
    "Polygon": _check_polygon,
    "MultiPolygon": _check_multipolygon,
}


# --------------------------------------------------------------------------- measures


def positions(geometry: dict[str, Any]) -> Iterator[Position]:
    """Every (longitude, latitude) of a valid geometry, in order."""
    yield from _walk(geometry["coordinates"], _DEPTH[geometry["type"]])


def _walk(value: Any, depth: int) -> Iterator[Position]:
    if depth == 0:
        yield float(value[0]), float(value[1])
        return
    for item in value:
        yield from _walk(item, depth - 1)


def bbox(geometry: dict[str, Any]) -> BBox:
    """The bounding box (west, south, east, north) of a valid geometry."""
    lons, lats = zip(*positions(geometry), strict=True)
    return min(lons), min(lats), max(lons), max(lats)


def bbox_union(boxes: Sequence[BBox]) -> BBox | None:
    """The box around several boxes, or ``None`` when there are none."""
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _ring_area(ring: Sequence[Sequence[float]]) -> float:
    """Signed planar area in squared degrees (shoelace formula)."""
    return _ring_centroid(ring)[2]


def _ring_centroid(ring: Sequence[Sequence[float]]) -> tuple[float, float, float]:
    """Centroid and signed area of a ring, in degrees."""
    # Work relative to the first corner: products of raw coordinates (about 114 x 30) would
    # cancel out the digits that matter for a shape a few metres wide.
    ox, oy = float(ring[0][0]), float(ring[0][1])
    area = cx = cy = 0.0
    for a, b in itertools.pairwise(ring):
        x1, y1, x2, y2 = a[0] - ox, a[1] - oy, b[0] - ox, b[1] - oy
        cross = x1 * y2 - x2 * y1
        area += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    area /= 2.0
    if area == 0:
        return ox, oy, 0.0
    return ox + cx / (6.0 * area), oy + cy / (6.0 * area), area


def centroid(geometry: dict[str, Any]) -> Position:
    """The centre of a valid geometry as (longitude, latitude).

    Polygons use their area-weighted centroid (holes subtracted), lines the length-weighted
    middle of their segments, points their mean. Planar maths in degrees is accurate enough at
    the size of a community.
    """
    kind = geometry["type"]
    coordinates = geometry["coordinates"]
    if kind in AREA_TYPES:
        polygons = [coordinates] if kind == "Polygon" else coordinates
        total = sx = sy = 0.0
        for rings in polygons:
            for index, ring in enumerate(rings):
                cx, cy, area = _ring_centroid(ring)
                weight = abs(area) if index == 0 else -abs(area)
                total += weight
                sx += cx * weight
                sy += cy * weight
        if total > 0:
            return sx / total, sy / total
    if kind in ("LineString", "MultiLineString"):
        lines = [coordinates] if kind == "LineString" else coordinates
        length = sx = sy = 0.0
        for line in lines:
            for (x1, y1, *_rest1), (x2, y2, *_rest2) in itertools.pairwise(line):
                segment = math.hypot(x2 - x1, y2 - y1)
                length += segment
                sx += (x1 + x2) / 2 * segment
                sy += (y1 + y2) / 2 * segment
        if length > 0:
            return sx / length, sy / length
    points = list(positions(geometry))
    if kind in AREA_TYPES:
        # A degenerate shape: average the corners without the repeated closing position.
        points = points[:-1] or points
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )


def distance_m(a: Position, b: Position) -> float:
    """Great-circle distance in metres between two (longitude, latitude) positions."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _in_ring(lon: float, lat: float, ring: Sequence[Sequence[float]]) -> bool:
    inside = False
    for (x1, y1, *_rest1), (x2, y2, *_rest2) in itertools.pairwise(ring):
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside


def contains(geometry: dict[str, Any], point: Position) -> bool:
    """Whether a (longitude, latitude) lies inside a Polygon or MultiPolygon (not in a hole)."""
    kind = geometry["type"]
    if kind not in AREA_TYPES:
        return False
    polygons = [geometry["coordinates"]] if kind == "Polygon" else geometry["coordinates"]
    lon, lat = point
    for rings in polygons:
        inside_outer = bool(rings) and _in_ring(lon, lat, rings[0])
        if inside_outer and not any(_in_ring(lon, lat, hole) for hole in rings[1:]):
            return True
    return False


# --------------------------------------------------------------------------- conversions


def out_of_china(lon: float, lat: float) -> bool:
    """Whether a position lies outside the box where GCJ-02 differs from WGS84."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _gcj_delta_lat(x: float, y: float) -> float:
    value = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    value += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    value += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2 / 3
    return value


def _gcj_delta_lon(x: float, y: float) -> float:
    value = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    value += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    value += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    return value


def wgs84_to_gcj02(lon: float, lat: float) -> Position:
    """WGS84 to GCJ-02 (AMap, Tencent); positions outside China are returned unchanged."""
    if out_of_china(lon, lat):
        return lon, lat
    d_lat = _gcj_delta_lat(lon - 105.0, lat - 35.0)
    d_lon = _gcj_delta_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _GCJ_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_GCJ_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + d_lon, lat + d_lat


def _invert(forward: Transform, lon: float, lat: float) -> Position:
    """Solve ``forward(w) == (lon, lat)`` for ``w`` by fixed-point iteration.

    The shifts are small and smooth, so each step gains several digits; a handful reach
    1e-10 degrees (about 0.01 mm).
    """
    w_lon, w_lat = lon, lat
    for _step in range(30):
        f_lon, f_lat = forward(w_lon, w_lat)
        d_lon, d_lat = f_lon - lon, f_lat - lat
        w_lon, w_lat = w_lon - d_lon, w_lat - d_lat
        if abs(d_lon) < 1e-10 and abs(d_lat) < 1e-10:
            break
    return w_lon, w_lat


def gcj02_to_wgs84(lon: float, lat: float) -> Position:
    """GCJ-02 back to WGS84 (iterative inverse of :func:`wgs84_to_gcj02`)."""
    if out_of_china(lon, lat):
        return lon, lat
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: float, lat: float) -> Position:
    """GCJ-02 to BD-09 (Baidu)."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _BD_X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _BD_X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float) -> Position:
    """BD-09 (Baidu) back to GCJ-02 (iterative inverse of :func:`gcj02_to_bd09`)."""
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon: float, lat: float) -> Position:
    """WGS84 to BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> Position:
    """BD-09 back to WGS84 (through GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


CONVERTERS: dict[str, Transform] = {
    "wgs84": lambda lon, lat: (lon, lat),
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}
"""From WGS84 to the coordinate system of a tile server, by its ``map_tile_crs`` name."""


def transform_geometry(geometry: dict[str, Any], transform: Transform) -> dict[str, Any]:
    """A copy of a valid geometry with every position passed through ``transform``."""
    kind = geometry["type"]
    return {"type": kind, "coordinates": _map(geometry["coordinates"], _DEPTH[kind], transform)}


def _map(value: Any, depth: int, transform: Transform) -> Any:
    if depth == 0:
        lon, lat = transform(float(value[0]), float(value[1]))
        return [lon, lat, *value[2:]]
    return [_map(item, depth - 1, transform) for item in value]
