"""Opening hours are stored in OpenStreetMap `opening_hours` syntax (an exchange standard
that data·inclusion also uses) and shown to users as plain French, computed by the parser
itself, so that what we show is what the expression means."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import opening_hours

# Opening hours are local times; the server may run in UTC.
LOCAL_TIME = ZoneInfo("Europe/Paris")
DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def _parse(expression: str) -> opening_hours.OpeningHours | None:
    if not expression.strip():
        return None
    try:
        return opening_hours.OpeningHours(expression)
    except Exception:
        return None


def week_table(expression: str, today: datetime | None = None) -> list[tuple[str, str]]:
    """[("lundi", "9 h 00 – 12 h 00, 14 h 00 – 17 h 00"), ...] for the coming week."""
    parsed = _parse(expression)
    if parsed is None:
        return []
    today = today or local_now()
    monday = (today - timedelta(days=today.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    slots: list[list[str]] = [[] for _ in DAYS]
    for start, end, state, _comment in parsed.intervals(monday, monday + timedelta(days=7)):
        if state != opening_hours.State.OPEN:
            continue
        day = (start - monday).days
        end_text = "24 h 00" if end.date() > start.date() else _time(end)
        slots[day].append(f"{_time(start)} – {end_text}")
    return [(DAYS[i], ", ".join(s) if s else "fermé") for i, s in enumerate(slots)]


def status_now(expression: str, now: datetime | None = None) -> str:
    """« Ouvert jusqu'à 12 h 00 », « Fermé, ouvre lundi à 9 h 00 », or '' when unknown."""
    parsed = _parse(expression)
    if parsed is None:
        return ""
    now = now or local_now()
    state, _comment = parsed.state(now)
    change = parsed.next_change(now)
    if state == opening_hours.State.OPEN:
        return f"Ouvert jusqu'à {_when(change, now)}" if change else "Ouvert"
    if state == opening_hours.State.CLOSED:
        return f"Fermé, ouvre {_when(change, now, opening=True)}" if change else "Fermé"
    return ""


def local_now() -> datetime:
    """Wall-clock time in metropolitan France, naive, as the parser expects."""
    return datetime.now(LOCAL_TIME).replace(tzinfo=None)


def local_date(moment: datetime | None = None) -> date:
    """The calendar date in metropolitan France: a convention signed at 00:30 in Paris on
    1 January was signed in the new year, though it is still 31 December in UTC."""
    if moment is None:
        return local_now().date()
    return moment.astimezone(LOCAL_TIME).date()


def _time(moment: datetime) -> str:
    return f"{moment.hour} h {moment.minute:02d}"


def _when(moment: datetime, now: datetime, opening: bool = False) -> str:
    if moment.date() == now.date():
        return ("aujourd'hui à " if opening else "") + _time(moment)
    if moment.date() == (now + timedelta(days=1)).date():
        return f"demain à {_time(moment)}"
    return f"{DAYS[moment.weekday()]} à {_time(moment)}"
