"""Tests of the printed labels: pages, the Chinese font, the address in the QR code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import override_settings

from anwang.core.labels import Label, fit_text, label_sheet_pdf, register_cjk_font
from anwang.facilities.labels import asset_labels_pdf, asset_scan_url
from anwang.facilities.tests.support import extinguisher

pytestmark = pytest.mark.django_db


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


def test_eight_labels_to_a_page_with_the_chinese_font(world: Any) -> None:
    """Nine assets take two pages; the built-in Chinese font is used, no file shipped."""
    assets = [extinguisher(world) for _ in range(9)]
    pdf = asset_labels_pdf(assets, community_name="翠苑社区")
    assert pdf.startswith(b"%PDF")
    assert _pages(pdf) == 2
    assert b"STSong-Light" in pdf
    assert b"FontFile" not in pdf  # the reader supplies the font


def test_an_empty_sheet_says_so() -> None:
    """No assets: one page with a message, not an error."""
    pdf = label_sheet_pdf([], title="t", empty_message="没有可打印的设施。")
    assert _pages(pdf) == 1


@override_settings(ANWANG_PUBLIC_URL="https://anwang.example.org")
def test_the_qr_code_holds_the_public_scan_address(world: Any) -> None:
    """The address comes from ANWANG_PUBLIC_URL, so a label printed anywhere keeps working."""
    asset = extinguisher(world, code="MHQ-7")
    assert asset_scan_url(asset) == "https://anwang.example.org/facilities/a/a/MHQ-7/"


def test_long_titles_are_shortened_to_fit() -> None:
    """A title wider than the label ends with an ellipsis."""
    register_cjk_font()
    text = fit_text("很长的名字" * 20, "STSong-Light", 15, 100)
    assert text.endswith("…")
    assert len(text) < 100
    one = label_sheet_pdf(
        [Label(heading="h", title="很长的名字" * 20, qr_text="x", code="C-1")],
        title="t",
        empty_message="",
    )
    assert _pages(one) == 1
