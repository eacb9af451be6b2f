"""The printable PDF sheet of checkpoint labels."""

import pytest

from anwang.patrols.sheet import LABELS_PER_PAGE, checkpoint_sheet_pdf
from anwang.patrols.tests.conftest import make_checkpoint, pdf_pages, pdf_text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("count", "pages"), [(0, 1), (1, 1), (LABELS_PER_PAGE, 1), (9, 2)])
def test_pages_and_codes(world, count, pages):
    checkpoints = [make_checkpoint(world.a, f"巡更点{n}") for n in range(count)]
    content = checkpoint_sheet_pdf(community_name="翠苑社区", checkpoints=checkpoints)
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    assert pdf_pages(content) == pages
    text = pdf_text(content)
    for checkpoint in checkpoints:
        assert f"({checkpoint.code})" in text
    assert text.count("STSong-Light") or b"STSong-Light" in content
