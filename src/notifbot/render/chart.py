"""Pictures of today's quota burn, pure functions of a `replies.Chart`: an inline SVG, a small PNG, a sparkline.

The SVG is for web pages (escaped text, no `style` attribute, so a CSP of `style-src 'self'` allows it); the PNG
is for cards (stdlib only, no text inside: the card says the numbers); the sparkline is for chat and terminals.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html import escape
from math import ceil

from notifbot.replies import Chart

HOUR = 3600
BARS = "▁▂▃▄▅▆▇█"  # an hour's bar: the share of the daily quota used by that hour's end, in eighths
HEADROOM = 1.25  # the y axis reaches 125 % of the quota (or of the highest reading), so the quota line shows

# SVG: a 640 × 200 view box; the plot inside the margins, the labels around it
VIEW_W, VIEW_H = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 40, 20, 30
SVG_NS = "http://www.w3.org/2000/svg"
BURN, QUOTA, FORECAST = "#2f6fde", "#d13438", "#ca5010"  # readable on light and dark backgrounds

# PNG: palette indices (0 is transparent) and their colours
CLEAR, AXIS, BAR, LIMIT, DOTS = range(5)
PALETTE = ((255, 255, 255), (138, 136, 134), (47, 111, 222), (209, 52, 56), (202, 80, 16))
PNG_SIZES = (8, 1024)  # Teams shows images up to 1024 × 1024 px; a size outside is clamped
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

Attr = str | float  # an SVG attribute's value: text, or a coordinate written with at most one decimal


def _top(chart: Chart) -> float:
    """The y axis' top value: headroom above the quota or the highest reading."""
    peak = max([chart.quota, *(used for _, used in chart.points)])
    return max(1.0, peak * HEADROOM)


def hourly(chart: Chart) -> list[int]:
    """Usage at each hour's end since the midnight up to the hour holding `now` (a reading holds till the next)."""
    hours = min(ceil(chart.day / HOUR), max(1, int(chart.now // HOUR) + 1))
    out: list[int] = []
    used, i = 0, 0
    for hour in range(hours):
        end = (hour + 1) * HOUR
        while i < len(chart.points) and chart.points[i][0] <= end:
            used, i = chart.points[i][1], i + 1
        out.append(used)
    return out


def sparkline(chart: Chart) -> str:
    """One bar per hour since the midnight: how much of the daily quota was used by each hour's end."""
    quota = max(1, chart.quota)
    return "".join(BARS[min(len(BARS) - 1, max(0, used * len(BARS) // quota))] for used in hourly(chart))


# --- SVG ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """Where seconds since the midnight and API calls land in a plot `width` × `height` at (`left`, `top`)."""

    left: float
    top: float
    width: float
    height: float
    day: float
    ceiling: float

    def x(self, seconds: float) -> float:
        """The horizontal position of an offset from the midnight (clamped to the day)."""
        return self.left + self.width * min(max(seconds, 0.0), self.day) / max(self.day, 1.0)

    def y(self, used: float) -> float:
        """The vertical position of a number of calls (clamped to the axis)."""
        return self.top + self.height * (1 - min(max(used, 0.0), self.ceiling) / self.ceiling)


def svg_frame(chart: Chart) -> Frame:
    """The SVG plot's frame for this chart."""
    return Frame(LEFT, TOP, VIEW_W - LEFT - RIGHT, VIEW_H - TOP - BOTTOM, chart.day, _top(chart))


def _n(value: float) -> str:
    """A coordinate with at most one decimal ("180", "47.5")."""
    return f"{value:.1f}".removesuffix(".0")


def _steps(chart: Chart) -> list[tuple[float, float]]:
    """The burn as a step line: zero at the reset, each reading held until the next, the last one until now."""
    out, level = [(0.0, 0.0)], 0.0
    for at, used in chart.points:
        out += [(at, level), (at, float(used))]
        level = float(used)
    out.append((max(chart.now, out[-1][0]), level))
    return out


def _tag(name: str, attrs: Mapping[str, Attr], *children: str, text: str | None = None) -> str:
    """`<name …/>`, or with children or text `<name …>…</name>`: every attribute value and the text escaped here."""
    head = name + "".join(
        f' {k}="{escape(_n(v) if isinstance(v, float | int) else v)}"' for k, v in attrs.items()
    )
    if text is None and not children:
        return f"<{head}/>"
    return f"<{head}>{escape(text or '')}{''.join(children)}</{name}>"


def _line(x1: float, y1: float, x2: float, y2: float, **attrs: Attr) -> str:
    """A line; `attrs` with `_` for `-` (`stroke_dasharray`), a trailing `_` dropped (`class_`)."""
    extra = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
    return _tag("line", {"x1": x1, "y1": y1, "x2": x2, "y2": y2, **extra})


def _label(x: float, y: float, text: str, css: str, anchor: str, fill: str = "currentColor") -> str:
    """A text label (escaped) anchored at (x, y)."""
    return _tag("text", {"class": css, "x": x, "y": y, "text-anchor": anchor, "fill": fill}, text=text)


def svg(chart: Chart) -> str:
    """The chart as an inline SVG element: axes, hour labels, quota line, burn step line, dashed forecast, reset."""
    f = svg_frame(chart)
    bottom, right, quota, rx = f.top + f.height, f.left + f.width, f.y(chart.quota), f.x(chart.reset)
    axes = [
        _line(f.left, bottom, right, bottom),
        _line(f.left, f.top, f.left, bottom),
        *(_line(f.x(at), bottom, f.x(at), bottom + 4) for at, _ in chart.ticks),
    ]
    points = " ".join(f"{_n(f.x(at))},{_n(f.y(used))}" for at, used in _steps(chart))
    forecast = []
    if chart.forecast is not None:
        (x1, y1), (x2, y2) = chart.forecast
        dashes: dict[str, Attr] = {"stroke": FORECAST, "stroke_width": "2", "stroke_dasharray": "6 4"}
        forecast.append(_line(f.x(x1), f.y(y1), f.x(x2), f.y(y2), class_="forecast", **dashes))
    root = {"xmlns": SVG_NS, "viewBox": f"0 0 {VIEW_W} {VIEW_H}", "role": "img", "class": "quota-chart"}
    return _tag(
        "svg",
        {**root, "font-family": "sans-serif", "font-size": "11"},
        _tag("title", {}, text=chart.title),
        _tag("desc", {}, text=chart.alt),
        _tag("g", {"class": "axes", "stroke": "currentColor", "stroke-opacity": "0.5"}, *axes),
        *(_label(f.x(at), VIEW_H - 10, label, "tick", "middle") for at, label in chart.ticks),
        _line(f.left, quota, right, quota, class_="quota", stroke=QUOTA),
        _label(f.left + 4, quota - 4, chart.quota_label, "quota-label", "start", QUOTA),
        _tag(
            "polyline",
            {"class": "burn", "points": points, "fill": "none", "stroke": BURN, "stroke-width": "2"},
        ),
        *forecast,
        _line(rx, f.top, rx, bottom, class_="reset", stroke="currentColor", stroke_dasharray="2 3"),
        _label(rx, f.top - 6, chart.reset_label, "reset-label", "end"),
    )


# --- PNG ----------------------------------------------------------------------------------------------------------


class _Canvas:
    """A palette image being drawn: one byte per pixel, row by row."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(width * height)

    def fill(self, x1: int, y1: int, x2: int, y2: int, colour: int) -> None:
        """The rectangle from (x1, y1) to (x2, y2), both included."""
        for y in range(max(0, y1), min(self.height, y2 + 1)):
            row = y * self.width
            lo, hi = max(0, x1), min(self.width, x2 + 1)
            if lo < hi:
                self.pixels[row + lo : row + hi] = bytes([colour]) * (hi - lo)

    def dot(self, x: int, y: int, colour: int) -> None:
        """One pixel, when it is inside."""
        if 0 <= x < self.width and 0 <= y < self.height:
            self.pixels[y * self.width + x] = colour

    def rows(self) -> Iterator[bytes]:
        """The scanlines as PNG stores them, each after its filter byte."""
        for y in range(self.height):
            yield b"\x00" + bytes(self.pixels[y * self.width : (y + 1) * self.width])  # filter type 0: none


def _chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, type, data, and the CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _encode(canvas: _Canvas) -> bytes:
    """The canvas as a PNG: 8-bit palette, colour 0 transparent."""
    header = struct.pack(">IIBBBBB", canvas.width, canvas.height, 8, 3, 0, 0, 0)
    palette = b"".join(bytes(rgb) for rgb in PALETTE)
    return b"".join(
        (
            PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", palette),
            _chunk(b"tRNS", b"\x00"),
            _chunk(b"IDAT", zlib.compress(b"".join(canvas.rows()), 9)),
            _chunk(b"IEND", b""),
        )
    )


def png_x(chart: Chart, seconds: float, width: int) -> int:
    """The pixel column of an offset from the midnight."""
    return min(width - 1, max(0, int(seconds * width / max(chart.day, 1.0))))


def png_y(chart: Chart, used: float, height: int) -> int:
    """The pixel row of a number of calls (the bottom row is the axis, zero)."""
    share = min(max(used, 0.0), _top(chart)) / _top(chart)
    return round((height - 1) * (1 - share))


def png(chart: Chart, width: int = 480, height: int = 120) -> bytes:
    """The chart as a small palette PNG without text: quota line, one bar per hour, dotted forecast."""
    width, height = (min(PNG_SIZES[1], max(PNG_SIZES[0], n)) for n in (width, height))
    c = _Canvas(width, height)
    c.fill(0, height - 1, width - 1, height - 1, AXIS)
    for at in (*(at for at, _ in chart.ticks), chart.reset):
        x = png_x(chart, at, width)
        c.fill(x, height - 4, x, height - 1, AXIS)
    quota = png_y(chart, chart.quota, height)
    c.fill(0, quota, width - 1, quota + 1, LIMIT)
    for hour, used in enumerate(hourly(chart)):
        if used > 0:  # a full hour's bar leaves a pixel's gap; the hour under way ends at `now`
            x1, end = png_x(chart, hour * HOUR, width), (hour + 1) * HOUR
            x2 = png_x(chart, end, width) - 2 if end <= chart.now else png_x(chart, chart.now, width)
            c.fill(x1, png_y(chart, used, height), max(x1, x2), height - 2, BAR)
    if chart.forecast is not None:
        (s1, u1), (s2, u2) = chart.forecast
        x1, y1 = png_x(chart, s1, width), png_y(chart, u1, height)
        x2, y2 = png_x(chart, s2, width), png_y(chart, u2, height)
        steps = max(abs(x2 - x1), abs(y2 - y1), 1)
        for i in range(steps + 1):
            if i % 6 < 4 or i == steps:  # dots: four pixels on, two off; the end always shows
                x, y = x1 + round((x2 - x1) * i / steps), y1 + round((y2 - y1) * i / steps)
                c.dot(x, y - 1, DOTS)
                c.dot(x, y, DOTS)
    return _encode(c)
