"""The dashboard's bar charts as drawn: bar heights are in proportion to the numbers, so the
y axis starts at zero."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import World, log_in_staff, needs_chromium, open_tab

pytestmark = needs_chromium

# The height in pixels of each bar drawn in the chart's canvas, left to right: columns holding the
# person-times colour (#0b5cad), grouped into runs.
BAR_HEIGHTS = """(selector) => {
  const canvas = document.querySelector(selector + " canvas");
  if (!canvas) { return []; }
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const near = (i) => Math.abs(pixels[i] - 11) < 12 && Math.abs(pixels[i + 1] - 92) < 12
    && Math.abs(pixels[i + 2] - 173) < 12;
  const bars = [];
  let tallest = 0;
  for (let x = 0; x < canvas.width; x++) {
    let height = 0;
    for (let y = 0; y < canvas.height; y++) { if (near((y * canvas.width + x) * 4)) { height++; } }
    if (height > 0) { tallest = Math.max(tallest, height); }
    else if (tallest > 0) { bars.push(tallest); tallest = 0; }
  }
  if (tallest > 0) { bars.push(tallest); }
  return bars;
}"""


def test_theme_bars_are_in_proportion_to_their_person_times(server: World, browser: Any) -> None:
    tab = open_tab(browser, server.base_url)
    log_in_staff(tab, server.chart_head)
    tab.page.goto(f"/web/dashboard?from={server.chart_day}&to={server.chart_day}")
    tab.page.wait_for_function(f"({BAR_HEIGHTS})('#chart-theme').length === 2")
    low, high = sorted(tab.page.evaluate(BAR_HEIGHTS, "#chart-theme"))
    tab.shot("21-dashboard-theme-chart")
    # Home visits had 4 attendees, heritage classes 5: bars from zero stand 4 to 5.
    assert abs(low / high - 4 / 5) < 0.05, (low, high)
    assert tab.errors == []
