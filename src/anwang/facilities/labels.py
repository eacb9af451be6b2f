"""Printable QR labels of assets (PDF): community, asset name and type, a QR code holding the
address of the asset's scan page, and the code under it. Built on :mod:`anwang.core.labels`,
which the patrol checkpoint sheet shares."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.utils.translation import gettext as _

from anwang.core.labels import Label, label_sheet_pdf
from anwang.facilities.models import Asset
from anwang.facilities.selectors import asset_scan_path


def asset_scan_url(asset: Asset) -> str:
    """The absolute address a label's QR code holds. Built from ``ANWANG_PUBLIC_URL``, not the
    request's host, since a printed label must keep working for years."""
    return f"{settings.ANWANG_PUBLIC_URL}{asset_scan_path(asset)}"


def asset_labels_pdf(assets: Sequence[Asset], *, community_name: str) -> bytes:
    """A PDF with one label per asset, eight to an A4 page with cutting lines."""
    labels = [
        Label(
            heading=f"{community_name} · {asset.get_asset_type_display()}",
            title=asset.name,
            qr_text=asset_scan_url(asset),
            code=asset.code,
            footer=_("Physical defence · scan to see and inspect"),
        )
        for asset in assets
    ]
    return label_sheet_pdf(
        labels,
        title=_("Asset labels of %(community)s") % {"community": community_name},
        empty_message=_("There are no assets to print."),
    )
