"""iCalendar (RFC 5545) files of Anwang's shifts, so people see them in any calendar app.

One function writes the file for every app (patrol schedules, volunteer shifts, later duty
rosters); each app turns its rows into :class:`CalendarEntry` values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import icalendar
from django.http import HttpResponse

CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class CalendarEntry:
    """One calendar event: once, or repeated by an RFC 5545 ``RRULE`` (``rule``)."""

    uid: str
    """Stable across exports, so calendar apps update the event instead of adding another."""
    summary: str
    start: dt.datetime
    duration: dt.timedelta
    updated_at: dt.datetime
    rule: str = ""
    description: str = ""
    location: str = ""
    cancelled: bool = False


def calendar_ics(entries: Iterable[CalendarEntry], *, name: str) -> bytes:
    """An iCalendar file with the entries and the time-zone definitions they use."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Anwang//Community safety//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for entry in entries:
        event = icalendar.Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", entry.updated_at.astimezone(dt.UTC))
        event.add("last-modified", entry.updated_at.astimezone(dt.UTC))
        event.add("summary", entry.summary)
        event.add("dtstart", entry.start)
        event.add("duration", entry.duration)
        if entry.rule:
            event.add("rrule", icalendar.vRecur.from_ical(entry.rule))
        if entry.description:
            event.add("description", entry.description)
        if entry.location:
            event.add("location", entry.location)
        event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    ics: bytes = calendar.to_ical()
    return ics


def ics_response(content: bytes, *, filename: str) -> HttpResponse:
    """An iCalendar file as a download (calendar apps also open the address directly)."""
    response = HttpResponse(content, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-cache"
    return response
