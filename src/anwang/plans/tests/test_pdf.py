"""The printed plan: a valid A4 PDF using the CJK font, whose Chinese text can be read back."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from anwang.accounts.selectors import scope_for
from anwang.plans import services
from anwang.plans.pdf import plan_version_filename, plan_version_pdf
from anwang.plans.selectors import version_get

pytestmark = pytest.mark.django_db


def _pdf(world: Any, version_id: int) -> bytes:
    return plan_version_pdf(version_get(scope_for(world.user("operator")), version_id))


def test_pdf_is_valid_and_uses_the_chinese_font(world: Any, fire: Any) -> None:
    _plan, version = fire
    content = _pdf(world, version.pk)
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    assert b"STSong-Light" in content
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in content  # A4 portrait
    assert plan_version_filename(version) == "plan-fire-v1.pdf"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_text_reads_back_in_chinese(world: Any, fire: Any, tmp_path: Any) -> None:
    _plan, v1 = fire
    v2 = services.plan_revision_draft(actor=None, version=v1, change_note="新增联系人")
    services.plan_version_approve(actor=None, version=v2)
    path = tmp_path / "plan.pdf"
    path.write_bytes(_pdf(world, v1.pk))
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None
    text = subprocess.run(  # noqa: S603 - a fixed tool on a file this test wrote
        [pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    compact = "".join(text.split())
    for expected in (
        "翠苑火灾应急预案",
        "确认火情并报警",
        "走楼梯，不坐电梯",
        "消防队",
        "北门",
        "中心广场",
    ):
        assert expected in compact, expected
    # A superseded version says on its face that it is not in force; the page is numbered.
    assert "Superseded" in text
    assert "Page1" in compact


def test_pdf_of_a_long_plan_runs_over_pages(world: Any) -> None:
    from anwang.plans.services import StepInput
    from anwang.plans.tests.conftest import fire_plan

    _plan, version = fire_plan(world, approve=False)
    steps = [
        StepInput(title=f"第{n}步" + "检查" * 40, duty_role="guard", target_minutes=n)
        for n in range(1, 60)
    ]
    services.plan_version_update(actor=None, version=version, steps=steps)
    content = _pdf(world, version.pk)
    pages = content.count(b"/Type /Page") - content.count(b"/Type /Pages")
    assert pages >= 2
