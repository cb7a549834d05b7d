"""Pure catalog rules (no database): HS codes, and the orders a product listing can be sorted in."""
from __future__ import annotations

import re

HS_CODE = re.compile(r"^\d{6}$")
#: Harmonized System chapters run 01-97; chapter 77 is reserved for future use.
HS_CHAPTERS = frozenset(range(1, 98)) - {77}
#: The orders shoppers may sort products in (`?sort=`); every search engine implements each of them. `rating`:
#: highest published average first, then most reviews, unrated products last.
SORTS = ("relevance", "price_asc", "price_desc", "newest", "rating")


def hs_code_problem(code: str) -> str | None:
    """None when `code` is a plausible 6-digit HS code, else what is wrong with it."""
    if not HS_CODE.match(code or ""):
        return "An HS code has exactly 6 digits, e.g. 090230."
    chapter = int(code[:2])
    if chapter not in HS_CHAPTERS:
        if chapter == 77:
            return "HS chapter 77 is reserved and holds no goods."
        return f"HS chapter {code[:2]} does not exist; chapters run from 01 to 97."
    return None


#: Descriptions a customs declaration must not use on their own: the WCO/UPU data-quality guidance on postal
#: declarations lists them as too vague for customs to assess ("gift", "goods", "sample", "parts", ...).
VAGUE_DESCRIPTIONS = frozenset({
    "gift", "gifts", "goods", "sample", "samples", "merchandise", "general merchandise", "commercial goods",
    "item", "items", "product", "products", "parts", "spare parts", "accessories", "personal items",
    "personal effects", "various", "miscellaneous", "misc", "stuff", "novelties", "clothing", "clothes",
    "food", "foodstuff", "electronics", "documents", "present", "souvenir", "souvenirs", "other",
})


def customs_description_problem(text: str) -> str | None:
    """None when `text` plainly says what the goods are (e.g. "Black tea, loose leaf"), else the problem."""
    plain = " ".join(text.casefold().replace(",", " ").split())
    if len(plain) < 3:
        return "Say what the goods are, e.g. \"black tea, loose leaf\"."
    if plain in VAGUE_DESCRIPTIONS:
        return (f"\"{text.strip()}\" is too vague for a customs declaration; say what the goods are and what "
                "they are made of, e.g. \"cotton scarf\" or \"black tea, loose leaf\".")
    return None
