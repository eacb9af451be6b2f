"""The alarm history as a spreadsheet (.xlsx or .csv), one row per alarm, for reports.

Writing files (encodings, formula guards, text cells) is :mod:`anwang.core.tables`; headers
and labels are in the language of the person asking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from django.utils import timezone
from django.utils.translation import gettext_lazy

from anwang.alarms.models import Alarm
from anwang.core.tables import CONTENT_TYPES, Column, Table
from anwang.places.models import Community

ALARMS = Table(
    (
        Column("id", gettext_lazy("Number"), "编号", "Number", width=8),
        Column("raised_at", gettext_lazy("Raised at"), "告警时间", "Raised at", width=18),
        Column("priority", gettext_lazy("Priority"), "优先级", "Priority", width=8),
        Column("state", gettext_lazy("State"), "状态", "State", width=12),
        Column("title", gettext_lazy("Title"), "标题", "Title", width=36),
        Column("rule", gettext_lazy("Rule"), "规则", "Rule", width=24),
        Column("device", gettext_lazy("Device"), "设备", "Device", width=20),
        Column("zone", gettext_lazy("Zone"), "区域", "Zone", width=14),
        Column("count", gettext_lazy("Firings"), "触发次数", "Firings", width=8),
        Column(
            "acknowledged_at",
            gettext_lazy("Acknowledged at"),
            "确认时间",
            "Acknowledged at",
            width=18,
        ),
        Column("assignee", gettext_lazy("Dispatched to"), "派警对象", "Dispatched to", width=14),
        Column("on_scene_at", gettext_lazy("On scene at"), "到场时间", "On scene at", width=18),
        Column("closed_at", gettext_lazy("Closed at"), "关闭时间", "Closed at", width=18),
        Column("closed_by", gettext_lazy("Closed by"), "关闭人", "Closed by", width=14),
        Column("close_reason", gettext_lazy("Reason"), "原因", "Reason", width=30),
        Column("escalations", gettext_lazy("Escalations"), "升级次数", "Escalations", width=8),
    ),
    title=gettext_lazy("Alarms"),
)


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _person(user: object | None) -> str:
    return str(user) if user is not None else ""


def export_rows(alarms: Iterable[Alarm]) -> Iterator[list[str]]:
    """The cells of each alarm, in the columns of :data:`ALARMS`."""
    for alarm in alarms:
        yield [
            str(alarm.pk),
            _when(alarm.raised_at),
            f"P{alarm.priority}",
            str(alarm.get_state_display()),
            alarm.display_title(),
            alarm.rule.name if alarm.rule else "",
            alarm.device.name if alarm.device else "",
            alarm.zone.name if alarm.zone else "",
            str(alarm.count),
            _when(alarm.acknowledged_at),
            _person(alarm.assignee),
            _when(alarm.on_scene_at),
            _when(alarm.closed_at),
            _person(alarm.closed_by),
            alarm.close_reason,
            str(alarm.escalations),
        ]


def export_file(
    alarms: Iterable[Alarm], *, community: Community, file_format: str
) -> tuple[bytes, str, str]:
    """The alarms as an .xlsx or .csv file: ``(content, file name, content type)``.

    Not audited: alarms hold no personal data of residents, and reading is not a write."""
    content = ALARMS.write(export_rows(alarms), file_format)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return content, f"alarms-{community.slug}-{stamp}.{file_format}", CONTENT_TYPES[file_format]
