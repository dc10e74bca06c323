"""Opening hours are stored in OpenStreetMap `opening_hours` syntax (an exchange standard
that data·inclusion also uses) and shown to users as plain French, computed by the parser
itself, so that what we show is what the expression means."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import opening_hours

# Opening hours are local times; the server may run in UTC.
LOCAL_TIME = ZoneInfo("Europe/Paris")
DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


MONTHS = {
    "Jan": "janvier",
    "Feb": "février",
    "Mar": "mars",
    "Apr": "avril",
    "May": "mai",
    "Jun": "juin",
    "Jul": "juillet",
    "Aug": "août",
    "Sep": "septembre",
    "Oct": "octobre",
    "Nov": "novembre",
    "Dec": "décembre",
}
WEEKDAYS = dict(zip(("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"), DAYS, strict=True))
ALWAYS = "Ouvert 24 h/24, 7 j/7"


# A directory repeats a few hundred expressions ("Mo-Fr 09:00-12:00,14:00-17:00"): each
# search used to parse every result's again. A parsed expression is only read afterwards.
@functools.lru_cache(maxsize=4096)
def _parse(expression: str) -> opening_hours.OpeningHours | None:
    if not expression.strip():
        return None
    try:
        # country="FR": "PH" means the French public holidays.
        return opening_hours.OpeningHours(expression, country="FR")
    except Exception:
        return None


@dataclass(frozen=True)
class Words:
    """The words of the week's table and of the state now: French here; the young
    person's pages give their language's (service/i18n.py)."""

    days: Sequence[str] = tuple(DAYS)
    time: Callable[[datetime], str] = field(default=lambda moment: _time(moment))
    closed: str = "fermé"
    holiday: str = "(jour férié)"
    all_day: str = "24 h/24"
    midnight: str = "24 h 00"
    open: str = "Ouvert"
    open_until: str = "Ouvert jusqu'à {when}"
    closed_now: str = "Fermé"
    closed_opens: str = "Fermé, ouvre {when}"
    today_at: str = "aujourd'hui à {time}"
    tomorrow_at: str = "demain à {time}"
    day_at: str = "{day} à {time}"
    # One opening, and between two: Arabic isolates each left-to-right time range.
    span: str = "{start} – {end}"
    separator: str = ", "


FRENCH = Words()


def week_table(
    expression: str, today: datetime | None = None, words: Words = FRENCH
) -> list[tuple[str, str]]:
    """[("lundi", "9 h 00 – 12 h 00, 14 h 00 – 17 h 00"), ...] for the coming week, public
    holidays included. An opening that runs past midnight is cut at each midnight, so
    "24/7" reads "24 h/24" every day, not Monday alone."""
    parsed = _parse(expression)
    if parsed is None:
        return []
    today = today or local_now()
    monday = (today - timedelta(days=today.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    slots: list[list[str]] = [[] for _ in DAYS]
    for start, end, state, comment in parsed.intervals(monday, monday + timedelta(days=7)):
        if state != opening_hours.State.OPEN:
            if comment:
                slots[(start - monday).days].append(comment)
            continue
        day_start = start
        while day_start < end:
            midnight = day_start.replace(hour=0, minute=0) + timedelta(days=1)
            day_end = min(end, midnight)
            slots[(day_start - monday).days].append(_slot(day_start, day_end, comment, words))
            day_start = day_end
    public = holidays.France(years={monday.year, (monday + timedelta(days=6)).year})
    return [
        (
            words.days[i],
            (words.separator.join(s) if s else words.closed)
            + (f" {words.holiday}" if day in public else ""),
        )
        for i, s in enumerate(slots)
        for day in [(monday + timedelta(days=i)).date()]
    ]


def _slot(start: datetime, end: datetime, comment: str, words: Words = FRENCH) -> str:
    if end - start == timedelta(days=1):
        return comment or words.all_day
    end_text = words.midnight if end.date() > start.date() else words.time(end)
    span = words.span.format(start=words.time(start), end=end_text)
    return span + (f" ({comment})" if comment else "")


# One rule of a normalised expression: selectors, then times or a state, then a comment.
_RULE = re.compile(
    r"^(?P<months>(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?: \d{1,2})?"
    r"(?:-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)?(?: ?\d{1,2})?)?,?)+)?\s*"
    r"(?P<days>(?:(?:Mo|Tu|We|Th|Fr|Sa|Su|PH|SH)(?:-(?:Mo|Tu|We|Th|Fr|Sa|Su))?,?)+)?\s*"
    r"(?P<what>24/7|closed|off|open|unknown|(?:\d{2}:\d{2}-\d{2}:\d{2}\+?,?)+)?\s*"
    r'(?:"(?P<comment>[^"]*)")?$'
)


def describe(expression: str) -> list[str]:
    """The expression as plain French sentences, rule by rule, for what one week cannot
    show: always open, public holidays, seasons and dates, comments. Empty when a week's
    table says it all, or when a rule is beyond what we can phrase (the table stays right)."""
    parsed = _parse(expression)
    if parsed is None:
        return []
    normal = str(parsed.normalize())
    if normal == "24/7":
        return [ALWAYS]
    if not re.search(r'24/7|PH|SH|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|"', normal):
        return []
    lines = []
    for index, part in enumerate(normal.split(" || ")):
        for rule in part.split("; "):
            # "… || \"sur rendez-vous\"": the parser writes the fallback comment as 24/7.
            fallback = re.fullmatch(r'24/7 "([^"]*)"', rule) if index else None
            line = fallback[1] if fallback else _rule(rule)
            if line is None:
                return []
            lines.append(("Sinon : " + line[0].lower() + line[1:]) if index else line)
    return lines


def _rule(rule: str) -> str | None:
    found = _RULE.match(rule.strip())
    if found is None or not rule.strip():
        return None
    months, days, what, comment = (found[k] or "" for k in ("months", "days", "what", "comment"))
    when = ", ".join(x for x in (_months(months), _days(days)) if x)
    if what == "24/7" and not when:
        state = ALWAYS[0].lower() + ALWAYS[1:]
    elif what in {"closed", "off"}:
        state = "fermé"
    elif what in {"", "24/7", "open"}:
        state = "ouvert 24 h/24" if what == "24/7" or not comment else ""
    elif what == "unknown":
        state = "horaires à confirmer"
    else:
        state = " et ".join(_times(t) for t in what.split(",") if t)
    state = ", ".join(x for x in (state, comment) if x)
    if days == "PH" and not months and state == "fermé":
        return "Fermé les jours fériés"
    text = f"{when} : {state}" if when else state
    return text[0].upper() + text[1:]


def _times(span: str) -> str:
    start, end = span.rstrip("+").split("-")
    return f"{_hm(start)} – {_hm(end)}"


def _hm(text: str) -> str:
    hours, minutes = text.split(":")
    return f"{int(hours)} h {minutes}"


def _months(text: str) -> str:
    parts = []
    for piece in filter(None, text.split(",")):
        start, _, end = piece.partition("-")
        first, last = _date(start), _date(end, month=start[:3]) if end else ""
        if not last:
            parts.append(f"en {first}" if " " not in first else f"le {first}")
        else:
            if " " in first:
                parts.append(f"du {first} au {last}")
            else:
                parts.append(("d'" if first[0] in "ao" else "de ") + f"{first} à {last}")
    return " et ".join(parts)


def _date(text: str, month: str = "") -> str:
    """ "Jul 14" -> "14 juillet"; "Aug" -> "août"; "15" (same month) -> "15 <month>"."""
    text = text.strip()
    if text[:3] in MONTHS:
        name, _, day = text.partition(" ")
        day = day.strip()
        return f"{'1er' if day == '1' else day} {MONTHS[name]}" if day else MONTHS[name]
    return f"{text} {MONTHS[month]}" if month else text


def _days(text: str) -> str:
    parts = []
    for piece in filter(None, text.split(",")):
        if piece == "PH":
            parts.append("les jours fériés")
        elif piece == "SH":
            parts.append("pendant les vacances scolaires")
        elif "-" in piece:
            start, end = piece.split("-")
            parts.append(f"du {WEEKDAYS[start]} au {WEEKDAYS[end]}")
        else:
            parts.append(f"le {WEEKDAYS[piece]}")
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " et " + parts[-1]
    return parts[0] if parts else ""


def status_now(expression: str, now: datetime | None = None, words: Words = FRENCH) -> str:
    """« Ouvert jusqu'à 12 h 00 », « Fermé, ouvre lundi à 9 h 00 », or '' when unknown."""
    # Opening hours change on whole minutes, so the answer is the same all through a
    # minute: a page of results asks for the same few expressions again and again.
    return _status_in_minute(
        expression, (now or local_now()).replace(second=0, microsecond=0), words
    )


@functools.lru_cache(maxsize=4096)
def _status_in_minute(expression: str, now: datetime, words: Words) -> str:
    parsed = _parse(expression)
    if parsed is None:
        return ""
    state, _comment = parsed.state(now)
    change = parsed.next_change(now)
    if state == opening_hours.State.OPEN:
        return words.open_until.format(when=_when(change, now, words)) if change else words.open
    if state == opening_hours.State.CLOSED:
        if change is None:
            return words.closed_now
        return words.closed_opens.format(when=_when(change, now, words, opening=True))
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


def _when(moment: datetime, now: datetime, words: Words = FRENCH, opening: bool = False) -> str:
    time = words.time(moment)
    if moment.date() == now.date():
        return words.today_at.format(time=time) if opening else time
    if moment.date() == (now + timedelta(days=1)).date():
        return words.tomorrow_at.format(time=time)
    return words.day_at.format(day=words.days[moment.weekday()], time=time)
