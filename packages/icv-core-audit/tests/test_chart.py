from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from icv_core.audit._chart import _nice_max, stacked_bar_chart

DAYS = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(3)]


def test_renders_valid_svg_with_one_rect_per_nonzero_count():
    svg = stacked_bar_chart(DAYS, {"DATA": [1, 0, 2], "SECURITY": [0, 3, 0]}, title="T")
    root = ET.fromstring(str(svg))
    rects = [
        r
        for r in root.iter("{http://www.w3.org/2000/svg}rect")
        if r.find("{http://www.w3.org/2000/svg}title") is not None
    ]
    titles = sorted(r.find("{http://www.w3.org/2000/svg}title").text for r in rects)
    assert titles == [
        "2026-11-01 DATA: 1",
        "2026-11-02 SECURITY: 3",
        "2026-11-03 DATA: 2",
    ]
    assert "No entries" not in svg


def test_empty_chart_says_no_entries():
    svg = stacked_bar_chart(DAYS, {}, title="Empty")
    ET.fromstring(str(svg))
    assert "No entries" in svg


def test_labels_are_escaped():
    svg = stacked_bar_chart(DAYS, {"<script>&": [1, 1, 1]}, title='"><b>')
    assert "<script>" not in svg
    assert "&lt;script&gt;&amp;" in svg
    ET.fromstring(str(svg))


def test_series_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="has 1 values for 3 days"):
        stacked_bar_chart(DAYS, {"DATA": [1]})


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (1, 1), (3, 5), (11, 20), (50, 50), (51, 100)]
)
def test_nice_max(value, expected):
    assert _nice_max(value) == expected
