"""Text for numbers, times and durations as the widgets show them: a port of js/src/format.ts,
so that the static HTML of a saved notebook reads as the live widget does. JavaScript's number
to text rules are ported too (``String(x)``, ``toPrecision``, ``Math.round``), and
tests/test_formatting.py checks that both sides agree on the same inputs.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .base import json_value

# Attribute columns that hold an ISO date-time and a duration in seconds (see query/columns.py).
TIME_COLUMNS = frozenset({"start_time", "end_time"})
DURATION_COLUMNS = frozenset({"duration"})
SIGNIFICANT = 4
MISSING = "–"
# Longer text gets its full value as a tooltip (the cell may cut it short).
LONG_TEXT = 40


@dataclass(frozen=True)
class FormattedCell:
    """How one table cell reads: its text, its kind (``null``, ``number``, ``bool``, ``time``
    or ``text``) and, when the text shortens the value, the full value for a tooltip."""

    text: str
    kind: str
    title: str | None = None


# ---- JavaScript's number to text -------------------------------------------------------------
def js_string(value: float) -> str:
    """``String(value)`` in JavaScript: the shortest digits that read back as ``value``, with
    an exponent below 1e-6 and from 1e21.

    >>> js_string(42.0), js_string(0.00001), js_string(1.5e-7), js_string(1e21), js_string(-0.0)
    ('42', '0.00001', '1.5e-7', '1e+21', '0')
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    shortest = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, shortest.digits))
    point = int(shortest.exponent) + len(digits)  # value = 0.<digits> x 10^point
    if len(digits) <= point <= 21:
        return sign + digits + "0" * (point - len(digits))
    if 0 < point <= 21:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    mantissa = digits[0] + (f".{digits[1:]}" if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{'+' if point > 0 else '-'}{abs(point - 1)}"


def _round_significant(value: float, digits: int) -> float:
    """``Number(value.toPrecision(digits))``: ``value`` to ``digits`` significant digits, a
    half rounded away from zero (on the exact binary value, as JavaScript does)."""
    if value == 0:
        return 0.0
    exact = Decimal(value)
    quantum = Decimal(1).scaleb(exact.adjusted() - digits + 1)
    return float(exact.quantize(quantum, rounding=ROUND_HALF_UP))


def _to_exponential(value: float, fraction_digits: int) -> str:
    """``value.toExponential(fraction_digits)``, e.g. ``"1.235e+6"``."""
    exact = abs(Decimal(value))
    exponent = exact.adjusted()
    quantum = Decimal(1).scaleb(-fraction_digits)
    mantissa = exact.scaleb(-exponent).quantize(quantum, rounding=ROUND_HALF_UP)
    if mantissa >= 10:  # 9.9996 -> 10.000: one more digit before the point
        exponent += 1
        mantissa = exact.scaleb(-exponent).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}{mantissa:f}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"


def _js_round(value: float) -> float:
    """``Math.round(value)``: the nearest integer, a half rounded up (towards +∞)."""
    floor = math.floor(value)
    return float(floor + 1 if value - floor >= 0.5 else floor)


def _to_fixed(value: float, digits: int) -> str:
    """``value.toFixed(digits)`` (for values below 1e21)."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{rounded:f}"


def _js_length(text: str) -> int:
    """``text.length`` in JavaScript (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


# ---- the widgets' formats ---------------------------------------------------------------------
def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "∞" if value > 0 else "−∞"


def _compact_exponential(value: float) -> str:
    """``1.235e+6`` -> ``1.235e6``, ``1.000e-5`` -> ``1e-5``: shorter, and as easy to read."""
    mantissa, exponent = _to_exponential(value, SIGNIFICANT - 1).split("e")
    trimmed = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    return f"{trimmed}e{exponent.replace('+', '')}"


def format_metric(value: float) -> str:
    """A metric value with up to 4 significant digits; integers as they are. Values from 1000
    up to a million are rounded to whole numbers rather than to 4 digits (12346, not 12350).

    >>> [format_metric(v) for v in (42, 0, -7, 123456789)]
    ['42', '0', '-7', '123456789']
    >>> [format_metric(v) for v in (0.123456, 3.14159, 0.5, 12.3, -0.0012346)]
    ['0.1235', '3.142', '0.5', '12.3', '-0.001235']
    >>> [format_metric(v) for v in (12345.678, 1234567.8, 0.000012346, 0.00001)]
    ['12346', '1.235e6', '1.235e-5', '1e-5']
    >>> [format_metric(float(v)) for v in ("nan", "inf", "-inf")]
    ['NaN', '∞', '−∞']
    """
    value = float(value)
    if not math.isfinite(value):
        return _non_finite(value)
    if value.is_integer():
        return js_string(value)
    magnitude = abs(value)
    if magnitude >= 1e6 or magnitude < 1e-3:
        return _compact_exponential(value)
    if magnitude >= 1000:
        return js_string(_js_round(value))
    return js_string(_round_significant(value, SIGNIFICANT))


def format_number(value: float) -> str:
    """A number given by the user (a param): its shortest exact form, so 0.0003 stays 0.0003.

    >>> format_number(0.0003), format_number(0.123456789), format_number(64)
    ('0.0003', '0.123456789', '64')
    """
    value = float(value)
    return js_string(value) if math.isfinite(value) else _non_finite(value)


def _pad2(value: float) -> str:
    return js_string(value).rjust(2, "0")


def format_duration(seconds: float) -> str:
    """Seconds as "0.35 s", "1.2 s", "3 m 04 s", "2 h 05 m" or "3 d 04 h".

    >>> [format_duration(s) for s in (0.35, 1.23, 59.94, 59.96, 184)]
    ['0.35 s', '1.2 s', '59.9 s', '1 m 00 s', '3 m 04 s']
    >>> [format_duration(s) for s in (3599.6, 2 * 3600 + 5 * 60 + 10, 3 * 86400 + 4 * 3600, 0)]
    ['1 h 00 m', '2 h 05 m', '3 d 04 h', '0 s']
    """
    seconds = float(seconds)
    if not math.isfinite(seconds):
        return _non_finite(seconds)
    sign = "−" if seconds < 0 else ""
    s = abs(seconds)
    if s < 1:
        return f"{sign}{js_string(_round_significant(s, 2))} s"
    if _js_round(s * 10) / 10 < 60:
        return f"{sign}{_to_fixed(_js_round(s * 10) / 10, 1)} s"
    whole = _js_round(s)
    if whole < 3600:
        return f"{sign}{js_string(math.floor(whole / 60))} m {_pad2(whole % 60)} s"
    minutes = _js_round(s / 60)
    if minutes < 24 * 60:
        return f"{sign}{js_string(math.floor(minutes / 60))} h {_pad2(minutes % 60)} m"
    hours = _js_round(s / 3600)
    return f"{sign}{js_string(math.floor(hours / 24))} d {_pad2(hours % 24)} h"


def format_timestamp(iso: str, zone: tzinfo | None = None) -> str:
    """An ISO date-time as "YYYY-MM-DD HH:MM" in ``zone`` (default: this machine's local time,
    as a browser shows it); text that is not an ISO date comes back as is. As in JavaScript, a
    date-time without an offset is local time, a date alone is UTC.

    >>> from datetime import timedelta
    >>> format_timestamp("2024-03-05T07:08:09.123456+00:00", timezone.utc)
    '2024-03-05 07:08'
    >>> format_timestamp("2024-03-05T23:45:00+00:00", timezone(timedelta(hours=5, minutes=30)))
    '2024-03-06 05:15'
    >>> format_timestamp("yesterday")
    'yesterday'
    """
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc) if len(iso) <= 10 else moment.astimezone()
    local = moment.astimezone(zone)
    return f"{local.year}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"


def _number_cell(value: float, column_name: str, group: str | None) -> FormattedCell:
    if column_name in DURATION_COLUMNS:
        text = format_duration(value)
    elif group == "metrics":
        text = format_metric(value)
    else:
        text = format_number(value)
    full = js_string(value)
    return FormattedCell(text, "number", None if text == full else full)


def format_cell(value: Any, column_name: str = "", group: str | None = None) -> FormattedCell:
    """How a value reads in column ``column_name`` of ``group`` (``attributes``, ``params``,
    ``metrics`` or ``tags``), as the live table shows it (``value`` as the widget sends it to
    the browser; see :func:`~nbtrack.widgets.base.json_value`).

    >>> format_cell(None)
    FormattedCell(text='–', kind='null', title=None)
    >>> format_cell(True, "params.flag", "params").text
    'true'
    >>> format_cell(0.98765, "metrics.acc", "metrics")
    FormattedCell(text='0.9877', kind='number', title='0.98765')
    >>> format_cell(0.0003, "params.lr", "params").text, format_cell(184, "duration").text
    ('0.0003', '3 m 04 s')
    >>> format_cell("2024-03-05T07:08:09+00:00", "start_time", "attributes").kind
    'time'
    >>> format_cell("adam", "params.optimizer", "params")
    FormattedCell(text='adam', kind='text', title=None)
    """
    value = json_value(value)
    if value is None:
        return FormattedCell(MISSING, "null")
    if isinstance(value, bool):
        return FormattedCell("true" if value else "false", "bool")
    if isinstance(value, (int, float)):
        return _number_cell(float(value), column_name, group)
    text = str(value)
    if column_name in TIME_COLUMNS:
        return FormattedCell(format_timestamp(text), "time", text)
    return FormattedCell(text, "text", text if _js_length(text) > LONG_TEXT else None)


def html_cell(
    value: Any,
    column_name: str = "",
    group: str | None = None,
    attrs: str = "",
    bold: bool = False,
) -> str:
    """A ``<td>`` that reads as the live widget's cell (see :func:`format_cell`), the full
    value as its tooltip when the text shortens it.

    >>> html_cell(0.98765, "acc", "metrics", bold=True)
    '<td title="0.98765"><b>0.9877</b></td>'
    """
    cell = format_cell(value, column_name, group)
    title = f' title="{html.escape(cell.title)}"' if cell.title is not None else ""
    text = html.escape(cell.text)
    return f"<td{title}{attrs}>{f'<b>{text}</b>' if bold else text}</td>"
