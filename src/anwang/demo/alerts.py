"""The demo community's safety alerts: a typhoon warning in force that asks residents
whether they are safe (some households confirmed, some visited, the rest waiting for a
door-knock), a fraud warning to the elderly living alone, a rainstorm warning scheduled for
tomorrow morning, last week's burglary warning (expired), and a rainstorm warning received
from the city's weather service as CAP, not yet relayed.

Everything goes through the alerts services, so the messages, recipients and audit entries
are the ones a real community would have."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from anwang.accounts.models import User
from anwang.alerts.cap_in import incoming_ingest
from anwang.alerts.choices import KnockOutcome
from anwang.alerts.models import AlertRecipient, SafetyAlert
from anwang.alerts.selectors import follow_up
from anwang.alerts.services import (
    alert_create,
    alert_publish,
    alerts_due_check,
    door_knock_record,
    door_knocks_create,
)
from anwang.places.models import Community

UPSTREAM_CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>hz-qxt-{stamp}-rainstorm-blue</identifier>
  <sender>warning@hzqx.example.cn</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨蓝色预警</event>
    <responseType>Prepare</responseType>
    <urgency>Expected</urgency>
    <severity>Moderate</severity>
    <certainty>Likely</certainty>
    <expires>{expires}</expires>
    <senderName>杭州市气象台</senderName>
    <headline>杭州市气象台发布暴雨蓝色预警信号</headline>
    <description>预计未来12小时内我市西湖区、拱墅区将出现50毫米以上降雨，局部伴有雷电和短时大风。</description>
    <instruction>注意防范城市内涝，地下车库车辆及时转移，远离低洼地带和河道。</instruction>
    <area>
      <areaDesc>西湖区、拱墅区</areaDesc>
      <polygon>30.20,120.05 30.20,120.20 30.33,120.20 30.33,120.05 30.20,120.05</polygon>
    </area>
  </info>
</alert>
"""


def _cap_time(moment: dt.datetime) -> str:
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


def seed_alerts(
    *, community: Community, users: dict[str, User], now: dt.datetime
) -> dict[str, int]:
    """Write the demo alerts; answers the row counts."""
    admin = users["admin"]
    typhoon_sent = now - dt.timedelta(hours=3)
    typhoon = alert_create(
        actor=admin,
        community=community,
        template="typhoon",
        event="台风",
        category="Met",
        severity="Severe",
        urgency="Expected",
        certainty="Likely",
        response_type="Shelter",
        headline="台风“海葵”今夜过境，请留在室内",
        description="受台风“海葵”影响，今夜至明天上午本市有10级以上大风和暴雨。",
        instruction="收好阳台花盆和杂物，关好门窗，远离广告牌和大树。需要帮助请拨打社区值班电话。",
        confirmation="safe",
        channels=["web_push"],
        expires_at=now + dt.timedelta(hours=21),
        now=typhoon_sent,
    )
    typhoon = alert_publish(actor=admin, alert=typhoon, now=typhoon_sent)
    _follow_typhoon(typhoon, users, typhoon_sent)

    fraud_sent = now - dt.timedelta(days=1)
    fraud = alert_create(
        actor=admin,
        community=community,
        template="telecom_fraud",
        event="电信诈骗",
        category="Security",
        severity="Moderate",
        urgency="Expected",
        certainty="Likely",
        response_type="Avoid",
        headline="警惕冒充“医保局”的诈骗电话",
        description="近期有人冒充医保局工作人员，以“医保卡被冻结”为由要求老人转账到“安全账户”。",
        instruction="医保部门不会电话要求转账。接到此类电话请直接挂断，拨打96110或告诉社区网格员。",
        whole_community=True,
        groups=["living_alone"],
        confirmation="seen",
        expires_at=now + dt.timedelta(days=2),
        now=fraud_sent,
    )
    alert_publish(actor=admin, alert=fraud, now=fraud_sent)

    tomorrow_six = timezone.localtime(now).replace(hour=6, minute=0, second=0, microsecond=0)
    tomorrow_six += dt.timedelta(days=1)
    rainstorm = alert_create(
        actor=admin,
        community=community,
        template="rainstorm",
        event="暴雨",
        category="Met",
        severity="Severe",
        urgency="Expected",
        certainty="Likely",
        response_type="Prepare",
        headline="明天上午有暴雨，请把车移出地下车库",
        description="气象台预报明天上午有暴雨，地下车库和河岸步道可能积水。",
        instruction="今晚把车辆移到地面停车场，明天出行避开河岸步道。",
        publish_at=tomorrow_six,
        expires_at=tomorrow_six + dt.timedelta(hours=12),
        now=now,
    )
    alert_publish(actor=admin, alert=rainstorm, now=now)

    burglary_sent = now - dt.timedelta(days=8)
    burglary = alert_create(
        actor=admin,
        community=community,
        template="burglary",
        event="入室盗窃",
        category="Security",
        severity="Moderate",
        urgency="Expected",
        certainty="Likely",
        response_type="Prepare",
        headline="附近小区发生入室盗窃，请锁好门窗",
        description="上周附近小区低楼层有住户被撬窗入室，请提高警惕。",
        instruction="出门锁好门窗，不让陌生人尾随进入单元门，发现可疑人员请报告保安室。",
        expires_at=burglary_sent + dt.timedelta(days=3),
        now=burglary_sent,
    )
    alert_publish(actor=admin, alert=burglary, now=burglary_sent)
    alerts_due_check(now=now)  # the burglary warning has expired

    received = now - dt.timedelta(minutes=40)
    incoming_ingest(
        community=community,
        xml=UPSTREAM_CAP.format(
            stamp=timezone.localtime(received).strftime("%Y%m%d%H%M"),
            sent=_cap_time(received),
            expires=_cap_time(received + dt.timedelta(hours=12)),
        ).encode(),
        now=received,
    )
    return {
        "safety_alerts": SafetyAlert.objects.filter(community=community).count(),
        "alert_households": AlertRecipient.objects.filter(alert__community=community).count(),
    }


def _follow_typhoon(alert: SafetyAlert, users: dict[str, User], sent: dt.datetime) -> None:
    """The grid worker was sent to the vulnerable households first and has visited some; the
    other households are still to confirm (most residents have no account and were told on
    their phones, so the visits are how they confirm). The demo resident's own household is
    left for them to confirm."""
    waiting = follow_up(alert).filter(vulnerable=True).exclude(users=users["resident"])
    vulnerable = list(waiting.values_list("household_id", flat=True)[:12])
    tasks, _ = door_knocks_create(
        actor=users["admin"],
        alert=alert,
        household_ids=vulnerable,
        assignee=users["gridworker"],
        due_at=sent + dt.timedelta(hours=5),
        now=sent + dt.timedelta(hours=1),
    )
    outcomes = (
        (KnockOutcome.SAFE, ""),
        (KnockOutcome.SAFE, ""),
        (KnockOutcome.NOT_HOME, "敲门无人应答，已电话联系其女儿，老人在女儿家"),
        (KnockOutcome.SAFE, "窗户已帮忙关好"),
        (KnockOutcome.SAFE, ""),
    )
    for task, (outcome, note) in zip(tasks, outcomes, strict=False):
        door_knock_record(
            actor=users["gridworker"],
            task=task,
            outcome=outcome,
            note=note,
            now=sent + dt.timedelta(hours=2),
        )
