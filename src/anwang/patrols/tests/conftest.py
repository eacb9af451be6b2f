"""Fixtures of the patrols tests: English messages, clients, helpers that make checkpoints and
routes through the services, and the patrol world of the browser tests."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import translation

from anwang.patrols.models import Checkpoint


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text, also once zh-hans is translated."""
    with translation.override("en"):
        yield


@pytest.fixture
def client_for(world):
    """A logged-in test client that asks for English pages."""

    def make(role: str, side: str = "a"):
        client = world.client_for(role, side)
        client.cookies["anwang_language"] = "en"
        return client

    return make


POINT = {"type": "Point", "coordinates": [114.3005, 30.5005]}


def make_checkpoint(side: Any, name: str = "北门岗", **extra: Any) -> Checkpoint:
    """A checkpoint at a map point of ``side``'s community, added by the system."""
    from anwang.patrols import services

    values = {"placement": "point", "point": POINT} | extra
    return services.checkpoint_create(actor=None, community=side.community, name=name, **values)


def pdf_pages(content: bytes) -> int:
    """How many pages a PDF made by reportlab has."""
    import re

    return len(re.findall(rb"/Type /Page\b(?!s)", content))


def pdf_text(content: bytes) -> str:
    """The drawing operators of every page of a PDF, decompressed (codes are in Courier)."""
    import base64
    import re
    import zlib

    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\s*endstream", content, re.S):
        data = stream.strip()
        if data.endswith(b"~>"):  # reportlab wraps compressed streams in ASCII85
            data = base64.a85decode(data[:-2])
        try:
            chunks.append(zlib.decompress(data).decode("latin-1"))
        except zlib.error:
            chunks.append(data.decode("latin-1"))
    return "\n".join(chunks)


NEAR = {"type": "Point", "coordinates": [114.3008, 30.5008]}


def make_route(side: Any, *checkpoints: Checkpoint, name: str = "夜巡") -> Any:
    """An active route of ``side`` through ``checkpoints`` in that order."""
    from anwang.patrols import services
    from anwang.patrols.services import StopSpec

    return services.patrol_route_create(
        actor=None,
        community=side.community,
        name=name,
        stops=[StopSpec(checkpoint) for checkpoint in checkpoints],
    )


def png() -> Any:
    """A small generated PNG, as a phone camera would send (smaller)."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (12, 9), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("scene.png", buffer.getvalue(), "image/png")


FAR = {"type": "Point", "coordinates": [114.3108, 30.5108]}
"""About 1.5 km from :data:`POINT`: a check-in made at one is far from the other."""


@dataclass
class LivePatrols:
    """The shared browser world with a route of community a: the gate, then the garden."""

    world: Any
    gate: Checkpoint
    yard: Checkpoint
    route: Any

    def user(self, role: str, side: str = "a") -> Any:
        """The user of ``role`` in community ``side``."""
        return self.world.user(role, side)


@pytest.fixture
def live_patrols(live_world: Any) -> LivePatrols:
    """Checkpoints and a route on top of the committed ``live_world`` of the browser tests
    (request ``chromium`` first, as :mod:`tests.browser_support` asks)."""
    gate = make_checkpoint(live_world.a, "北门")
    yard = make_checkpoint(live_world.a, "花园", point=FAR)
    return LivePatrols(live_world, gate, yard, make_route(live_world.a, gate, yard))
