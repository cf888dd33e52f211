"""How the page shows codes: country names, and the colours of sources and destinations."""

from __future__ import annotations

# display names of the codes scenarios use; any other code is shown as it is
COUNTRY_NAMES = {
    "IN": "India",
    "JP": "Japan",
    "DE": "Germany",
    "US": "United States",
    "KR": "South Korea",
    "VN": "Vietnam",
    "XE": "rest of EU",
    "XX": "rest of world",
}
SOURCE_COLOURS = {"china": "#d62728", "row": "#1f77b4", "domestic": "#2ca02c"}
# one colour per destination (by its place in the scenario's list), the same on every chart
DESTINATION_PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def destination_name(code: str) -> str:
    """A destination's name for legends and tables (its code if it has none)."""
    return COUNTRY_NAMES.get(code, code)
