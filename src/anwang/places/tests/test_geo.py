"""GeoJSON checks and coordinate conversions of anwang.core.geo (pure functions, no DB)."""

import json
import math
from typing import Any

import pytest

from anwang.core import geo
from anwang.core.errors import ServiceError

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[114.30, 30.50], [114.301, 30.50], [114.301, 30.501], [114.30, 30.501], [114.30, 30.50]]
    ],
}


def error_of(value: object, **kwargs: Any) -> str:
    with pytest.raises(ServiceError) as caught:
        geo.validate_geometry(value, **kwargs)
    return str(caught.value.message)


# --------------------------------------------------------------------------- validation


def test_valid_polygon_is_returned_clean():
    messy = {**SQUARE, "properties": {"x": 1}, "crs": "ignored"}
    assert geo.validate_geometry(messy) == SQUARE


def test_json_text_and_features_are_accepted():
    assert geo.validate_geometry(json.dumps(SQUARE)) == SQUARE
    feature = {"type": "Feature", "properties": {}, "geometry": SQUARE}
    assert geo.validate_geometry(feature) == SQUARE
    collection = {"type": "FeatureCollection", "features": [feature]}
    assert geo.validate_geometry(collection) == SQUARE


def test_a_collection_of_several_features_is_refused():
    feature = {"type": "Feature", "properties": {}, "geometry": SQUARE}
    message = error_of({"type": "FeatureCollection", "features": [feature, feature]})
    assert "exactly one feature" in message


def test_not_an_object():
    assert "must be an object" in error_of([1, 2])
    assert "must be an object" in error_of("42")


def test_invalid_json_names_the_position():
    message = error_of('{"type": "Polygon",')
    assert "not valid JSON" in message
    assert "line 1" in message


def test_unknown_type_and_disallowed_type():
    assert "Unknown geometry type" in error_of({"type": "Circle", "coordinates": [1, 2]})
    message = error_of({"type": "Point", "coordinates": [114.3, 30.5]}, allowed=geo.AREA_TYPES)
    assert "not allowed here" in message
    assert "Polygon" in message


def test_missing_coordinates():
    assert "no coordinates" in error_of({"type": "Polygon"})


def test_ring_not_closed():
    ring = [[114.30, 30.50], [114.301, 30.50], [114.301, 30.501], [114.3001, 30.5001]]
    assert "not closed" in error_of({"type": "Polygon", "coordinates": [ring]})


def test_ring_with_fewer_than_four_positions():
    ring = [[114.30, 30.50], [114.301, 30.50], [114.30, 30.50]]
    message = error_of({"type": "Polygon", "coordinates": [ring]})
    assert "at least 4 positions" in message
    assert "3" in message


def test_ring_without_area():
    ring = [[114.30, 30.50], [114.301, 30.50], [114.302, 30.50], [114.30, 30.50]]
    assert "no area" in error_of({"type": "Polygon", "coordinates": [ring]})


def test_swapped_longitude_and_latitude_get_a_hint():
    swapped = [[[lat, lon] for lon, lat in geo.validate_geometry(SQUARE)["coordinates"][0]]]
    message = error_of({"type": "Polygon", "coordinates": swapped})
    assert "swapped" in message
    assert "longitude first" in message


def test_coordinates_outside_wgs84_range():
    assert "outside the WGS84 range" in error_of({"type": "Point", "coordinates": [200.0, 95.0]})


@pytest.mark.parametrize(
    "position",
    [[114.3, "30.5"], [114.3, True], [114.3], [114.3, 30.5, 1, 2], [float("nan"), 30.5]],
)
def test_bad_positions(position):
    with pytest.raises(ServiceError):
        geo.validate_geometry({"type": "Point", "coordinates": position})


def test_line_and_multipolygon():
    line = {"type": "LineString", "coordinates": [[114.3, 30.5], [114.31, 30.51]]}
    assert geo.validate_geometry(line) == line
    assert "at least 2" in error_of({"type": "LineString", "coordinates": [[114.3, 30.5]]})
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]}
    assert geo.validate_geometry(multi) == multi


def test_errors_carry_the_field_name():
    with pytest.raises(ServiceError) as caught:
        geo.validate_geometry({"type": "Nope"}, field="footprint")
    assert caught.value.field == "footprint"


# --------------------------------------------------------------------------- measures


def test_centroid_and_bbox_of_a_square():
    lon, lat = geo.centroid(SQUARE)
    assert lon == pytest.approx(114.3005, abs=1e-9)
    assert lat == pytest.approx(30.5005, abs=1e-9)
    assert geo.bbox(SQUARE) == (114.30, 30.50, 114.301, 30.501)


def test_centroid_of_point_and_line():
    assert geo.centroid({"type": "Point", "coordinates": [114.3, 30.5]}) == (114.3, 30.5)
    line = {"type": "LineString", "coordinates": [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0]]}
    assert geo.centroid(line) == pytest.approx((1.5, 0.5))


def test_centroid_subtracts_holes():
    outer = [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]]
    hole = [[0.0, 0.0], [2.0, 0.0], [2.0, 4.0], [0.0, 4.0], [0.0, 0.0]]
    lon, lat = geo.centroid({"type": "Polygon", "coordinates": [outer, hole]})
    assert (lon, lat) == pytest.approx((3.0, 2.0))


def test_contains_respects_holes():
    outer = [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]]
    hole = [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0], [1.0, 1.0]]
    polygon = {"type": "Polygon", "coordinates": [outer, hole]}
    assert geo.contains(polygon, (3.0, 3.0))
    assert not geo.contains(polygon, (1.5, 1.5))
    assert not geo.contains(polygon, (5.0, 1.0))
    assert not geo.contains({"type": "Point", "coordinates": [1.0, 1.0]}, (1.0, 1.0))


def test_distance_of_one_degree_of_latitude():
    assert geo.distance_m((114.3, 30.0), (114.3, 31.0)) == pytest.approx(111_195, rel=1e-3)


def test_bbox_union():
    assert geo.bbox_union([]) is None
    assert geo.bbox_union([(0, 0, 1, 1), (-1, 0.5, 0.5, 2)]) == (-1, 0, 1, 2)


# --------------------------------------------------------------------------- conversions


def test_tiananmen_wgs84_to_gcj02():
    lon, lat = geo.wgs84_to_gcj02(116.391, 39.907)
    assert lon == pytest.approx(116.397, abs=0.0005)
    assert lat == pytest.approx(39.908, abs=0.0005)
    # The shift in Beijing is several hundred metres.
    assert 300 < geo.distance_m((116.391, 39.907), (lon, lat)) < 700


def test_gcj02_to_bd09_reference():
    # Baidu's published offset puts BD-09 about 0.0065 east and 0.006 north of GCJ-02.
    lon, lat = geo.gcj02_to_bd09(116.397, 39.908)
    assert lon == pytest.approx(116.4035, abs=0.001)
    assert lat == pytest.approx(39.9144, abs=0.001)


def test_outside_china_is_unchanged():
    london = (-0.1276, 51.5072)
    assert geo.out_of_china(*london)
    assert geo.wgs84_to_gcj02(*london) == london
    assert geo.gcj02_to_wgs84(*london) == london


@pytest.mark.parametrize(
    "position", [(116.391, 39.907), (114.305, 30.593), (121.4737, 31.2304), (113.26, 23.13)]
)
def test_inverse_conversions_round_trip_within_a_millimetre(position):
    back = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(*position))
    assert geo.distance_m(position, back) < 0.001
    back = geo.bd09_to_wgs84(*geo.wgs84_to_bd09(*position))
    assert geo.distance_m(position, back) < 0.001
    gcj = geo.wgs84_to_gcj02(*position)
    assert geo.distance_m(gcj, geo.bd09_to_gcj02(*geo.gcj02_to_bd09(*gcj))) < 0.001


def test_transform_geometry_keeps_the_shape():
    shifted = geo.transform_geometry(SQUARE, geo.CONVERTERS["gcj02"])
    assert shifted["type"] == "Polygon"
    ring = shifted["coordinates"][0]
    assert ring[0] == ring[-1]
    original = geo.validate_geometry(SQUARE)["coordinates"][0]
    assert all(not math.isclose(a[0], b[0]) for a, b in zip(ring, original, strict=True))
    assert geo.transform_geometry(SQUARE, geo.CONVERTERS["wgs84"]) == SQUARE
