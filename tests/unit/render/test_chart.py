"""The quota chart's three pictures: SVG geometry and escaping, the PNG decoded back pixel by pixel, the sparkline."""

from __future__ import annotations

import base64
import struct
import xml.etree.ElementTree as ET
import zlib
from dataclasses import replace
from typing import Any

import pytest

from notifbot.render.card import MAX_CARD_BYTES, card_size
from notifbot.render.card_html import render_card_html
from notifbot.render.chart import png, sparkline, svg
from notifbot.render.slack_reply import render_reply
from notifbot.render.teams_reply import render_teams_reply
from notifbot.replies import Chart, Fact, Reply, Section
from tests.unit.render.teams_helpers import assert_valid_card

H = 3600
NS = {"s": "http://www.w3.org/2000/svg"}
TICKS = ((0.0, "12:00 AM CT"), (6 * H, "6:00 AM CT"), (12 * H, "12:00 PM CT"), (18 * H, "6:00 PM CT"))
# 10,000 calls by 08:00, 20,000 by 12:00, asked at 12:40; at 2,500/h the 40,000 run out at 20:00
CHART = Chart(
    title="API calls today — <b>&'\"",
    alt="API calls today: 20,000 of 40,000 (50%); at this rate the quota runs out at about 8:00 PM CT.",
    quota=40_000,
    day=24 * H,
    now=12 * H + 40 * 60,
    points=((8 * H, 10_000), (12 * H, 20_000)),
    forecast=((12 * H, 20_000), (20 * H, 40_000)),
    reset=24 * H,
    reset_label="reset",
    quota_label="quota 40,000 <script>",
    ticks=TICKS,
)
CLEAR, AXIS, BAR, LIMIT, DOTS = range(5)


# --- SVG ----------------------------------------------------------------------------------------------------------


def parse(chart: Chart) -> ET.Element:
    return ET.fromstring(svg(chart))


def numbers(element: ET.Element, *names: str) -> list[float]:
    return [float(element.attrib[n]) for n in names]


def one(root: ET.Element, css: str, tag: str = "line") -> ET.Element:
    (found,) = [e for e in root.iter(f"{{{NS['s']}}}{tag}") if e.get("class") == css]
    return found


def test_svg_is_an_accessible_image_with_escaped_text() -> None:
    text = svg(CHART)
    root = ET.fromstring(text)  # well-formed XML, so every text was escaped
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("role") == "img"
    assert root.get("viewBox") == "0 0 640 200"
    assert root.find("s:title", NS) is not None and root.find("s:desc", NS) is not None
    assert root.findtext("s:title", namespaces=NS) == CHART.title  # round-trips exactly
    assert root.findtext("s:desc", namespaces=NS) == CHART.alt
    assert "<b>" not in text and "<script>" not in text and "&lt;script&gt;" in text
    # CSP `style-src 'self'` blocks style attributes and elements: the SVG uses presentation attributes only
    assert all("style" not in e.attrib for e in root.iter())
    assert not root.findall(".//s:style", NS) and not root.findall(".//s:script", NS)


def test_svg_geometry_quota_burn_forecast_and_reset() -> None:
    # plot: x 40..600 for 00:00..24:00 (560 px, 23.33 px an hour), y 170 (zero) up to 20 (50,000 = 125 % of quota)
    root = parse(CHART)
    assert numbers(one(root, "quota"), "x1", "y1", "x2", "y2") == [40, 50, 600, 50]
    points = [tuple(map(float, p.split(","))) for p in one(root, "burn", "polyline").attrib["points"].split()]
    assert points == [
        (40, 170),  # zero at the reset
        (226.7, 170),  # 08:00: the first reading…
        (226.7, 140),  # …10,000
        (320, 140),  # 12:00
        (320, 110),  # 20,000
        (335.6, 110),  # held until now, 12:40
    ]
    forecast = one(root, "forecast")
    assert forecast.get("stroke-dasharray") == "6 4"
    # from the latest reading to the quota line exactly when the quota runs out (20:00)
    assert numbers(forecast, "x1", "y1", "x2", "y2") == [320, 110, 506.7, 50]
    assert numbers(one(root, "reset"), "x1", "x2") == [600, 600]
    ticks = [e for e in root.iter("{http://www.w3.org/2000/svg}text") if e.get("class") == "tick"]
    assert [float(e.attrib["x"]) for e in ticks] == [40, 180, 320, 460]  # 6 h apart: 140 px
    assert [e.text for e in ticks] == [label for _, label in TICKS]
    (label,) = [e for e in root.iter("{http://www.w3.org/2000/svg}text") if e.get("class") == "quota-label"]
    assert label.text == "quota 40,000 <script>" and float(label.attrib["y"]) == 46


def test_svg_without_a_forecast_and_above_the_quota() -> None:
    over = replace(CHART, points=((8 * H, 50_000),), forecast=None)
    root = parse(over)
    assert not [e for e in root.iter() if e.get("class") == "forecast"]
    # the axis grows with the highest reading: 50,000 × 1.25 at the top, the quota at 64 % of the plot
    assert numbers(one(root, "quota"), "y1") == [170 - 150 * 40_000 / 62_500]


@pytest.mark.parametrize(("hours", "tick", "x"), [(23, 5 * H, 161.7), (25, 7 * H, 196.8)])
def test_svg_on_the_days_daylight_saving_starts_and_ends(hours: int, tick: float, x: float) -> None:
    # 06:00 CT is 5 h after midnight in March (23 h day) and 7 h in November (25 h day): the axis is the real day
    chart = replace(CHART, day=hours * H, reset=hours * H, ticks=((tick, "6:00 AM CT"),), now=(hours - 1) * H)
    root = parse(chart)
    (label,) = [e for e in root.iter("{http://www.w3.org/2000/svg}text") if e.get("class") == "tick"]
    assert float(label.attrib["x"]) == x
    assert numbers(one(root, "reset"), "x1") == [600]
    last = one(root, "burn", "polyline").attrib["points"].split()[-1]
    assert last == f"{40 + 560 * (hours - 1) / hours:.1f},110"


# --- PNG ----------------------------------------------------------------------------------------------------------


def decode(data: bytes) -> dict[str, Any]:
    """A palette PNG read back with zlib and struct: every chunk's CRC checked, each row unfiltered (type 0)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: list[tuple[bytes, bytes]] = []
    at = 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        at += 12 + length
    assert [k for k, _ in chunks] == [b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"]
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (8, 3, 0)
    palette = [tuple(chunks[1][1][i : i + 3]) for i in range(0, len(chunks[1][1]), 3)]
    raw = zlib.decompress(chunks[3][1])
    assert len(raw) == height * (width + 1)
    rows = [raw[y * (width + 1) : (y + 1) * (width + 1)] for y in range(height)]
    assert {r[0] for r in rows} == {0}
    return {
        "width": width,
        "height": height,
        "palette": palette,
        "alpha": chunks[2][1],
        "rows": [r[1:] for r in rows],
    }


def test_png_is_valid_small_and_transparent() -> None:
    data = png(CHART)
    image = decode(data)
    assert (image["width"], image["height"]) == (480, 120)
    assert image["alpha"] == b"\x00"  # colour 0, the background, is transparent
    assert image["palette"][LIMIT] == (209, 52, 56) and image["palette"][BAR] == (47, 111, 222)
    assert len(data) < 1_000 and len(base64.b64encode(data)) < 1_400
    assert decode(png(CHART, 1, 5_000))["height"] == 1_024  # clamped to what Teams shows


def test_png_pixels_quota_line_bars_and_dotted_forecast() -> None:
    # 480 × 120: 20 px an hour; y = round(119 × (1 − used / 50,000)): the quota at row 24, 10,000 at 95, 20,000 at 71
    rows = decode(png(CHART))["rows"]
    assert set(rows[119]) == {AXIS}  # the zero line
    assert rows[24][:380] == bytes([LIMIT]) * 380 and rows[25][:380] == bytes([LIMIT]) * 380
    assert set(rows[23][:230]) == {CLEAR} and set(rows[26][:130]) == {CLEAR}
    # no calls before 08:00: no bars; 07:00-08:00 ends at 10,000: a bar 19 px wide, a 1 px gap
    assert set(rows[110][:140]) == {CLEAR}
    assert rows[100][140:159] == bytes([BAR]) * 19 and rows[100][159] == CLEAR
    assert rows[95][145] == BAR and rows[94][145] == CLEAR
    # the hour under way (12:00-12:40) ends at now: x = 40 min of 24 h × 480 = 253
    assert rows[80][240:254] == bytes([BAR]) * 14 and rows[80][254] == CLEAR
    # the forecast: dotted from (240, 71) up to the quota line at 20:00 (x 400), nothing after it
    assert rows[71][240] == DOTS and rows[23][400] == DOTS and rows[24][400] == DOTS
    assert all(DOTS not in rows[y][401:] and DOTS not in rows[y][:240] for y in range(120))
    drawn = [any(rows[y][x] == DOTS for y in range(120)) for x in range(240, 401)]
    assert 100 < sum(drawn) < len(drawn)  # four pixels of six: dotted, not solid


def test_png_on_the_days_daylight_saving_starts_and_ends() -> None:
    # 25 h: 19.2 px an hour; the 25th hour (24:00-25:00 wall time 23:00-24:00 CST) starts at x 460
    long_day = replace(
        CHART, day=25 * H, reset=25 * H, now=24 * H + 45 * 60, points=((24 * H + 1800, 20_000),)
    )
    rows = decode(png(long_day))["rows"]
    assert rows[80][460:476] == bytes([BAR]) * 16 and rows[80][459] == CLEAR and rows[80][476] == CLEAR
    short_day = replace(
        CHART, day=23 * H, reset=23 * H, now=22 * H + 59 * 60, points=((22 * H + 60, 20_000),)
    )
    rows = decode(png(short_day))["rows"]
    assert rows[80][459] == BAR and rows[80][458] == CLEAR  # the 23rd hour at 22/23 of the width


# --- sparkline ------------------------------------------------------------------------------------------------


def test_sparkline_one_bar_per_hour_in_eighths_of_the_quota() -> None:
    assert sparkline(CHART) == "▁" * 7 + "▃" * 4 + "▅" * 2
    assert sparkline(replace(CHART, now=0)) == "▁"
    full = replace(CHART, points=((60, 40_000), (120, 80_000)), now=2 * H)
    assert sparkline(full) == "███"


@pytest.mark.parametrize("hours", [23, 24, 25])
def test_sparkline_never_longer_than_the_day(hours: int) -> None:
    chart = replace(CHART, day=hours * H, reset=hours * H, now=hours * H)
    assert len(sparkline(chart)) == hours


# --- in the replies -------------------------------------------------------------------------------------------


def reply() -> Reply:
    section = Section(title="123-ABC-456", facts=(Fact("Used today", "20,000 of 40,000 (50%)"),), chart=CHART)
    return Reply("Marketo API quota", (section,))


def test_teams_reply_shows_the_png_with_the_numbers_as_alt_text() -> None:
    card = render_teams_reply(reply())
    assert_valid_card(card)
    (image,) = [e for e in card["body"] if e["type"] == "Image"]
    prefix = "data:image/png;base64,"
    assert image["url"].startswith(prefix) and base64.b64decode(image["url"][len(prefix) :]) == png(CHART)
    assert image["altText"] == CHART.alt
    assert card["body"].index(image) == 3  # after the facts it pictures
    assert card_size(card) < MAX_CARD_BYTES // 10
    assert f'src="{image["url"]}"' in str(
        render_card_html(card)
    )  # the console's and sandbox's card view shows it


def test_slack_reply_draws_no_image() -> None:
    message = render_reply(reply())
    assert "image" not in {b["type"] for b in message["blocks"]}
    assert "data:image" not in str(message)
