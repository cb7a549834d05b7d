"""Cross rates: convert between any two currencies through the stored quotes.

Pure: a `RateTable` is built from quotes and answers `rate(from, to)` by the
shortest chain of quotes (fewest hops; among quotes for the same pair the
newest wins). Rates are exact Decimals at 34 digits; rounding happens once,
in `Money`.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Iterable

from marketplace.kernel.money import CONTEXT, Money

SOURCE_PRIORITY = {"manual": 3, "ecb": 2, "cbr": 1}


@dataclass(frozen=True)
class Edge:
    base: str
    quote: str
    rate: Decimal
    as_of: date
    source: str


@dataclass(frozen=True)
class CrossRate:
    rate: Decimal          # units of `to` for one unit of `from`
    as_of: date | None     # date of the oldest quote used (None for identity)
    sources: tuple[str, ...]

    @property
    def source(self) -> str:
        return "+".join(dict.fromkeys(self.sources)) or "identity"


class NoRate(LookupError):
    def __init__(self, frm: str, to: str) -> None:
        super().__init__(f"no exchange rate connects {frm} to {to}")
        self.frm, self.to = frm, to


class RateTable:
    def __init__(self, edges: Iterable[Edge]) -> None:
        best: dict[frozenset[str], Edge] = {}
        for edge in edges:
            if edge.base == edge.quote or edge.rate <= 0:
                continue
            key = frozenset((edge.base, edge.quote))
            current = best.get(key)
            if current is None or (edge.as_of, SOURCE_PRIORITY.get(edge.source, 0)) > (
                current.as_of, SOURCE_PRIORITY.get(current.source, 0)
            ):
                best[key] = edge
        self._neighbours: dict[str, list[tuple[str, Edge]]] = {}
        for edge in sorted(best.values(), key=lambda e: (e.base, e.quote)):
            self._neighbours.setdefault(edge.base, []).append((edge.quote, edge))
            self._neighbours.setdefault(edge.quote, []).append((edge.base, edge))
        self._cache: dict[tuple[str, str], CrossRate] = {}

    def rate(self, frm: str, to: str) -> CrossRate:
        if frm == to:
            return CrossRate(Decimal(1), None, ())
        key = (frm, to)
        if key not in self._cache:
            self._cache[key] = self._search(frm, to)
        return self._cache[key]

    def _search(self, frm: str, to: str) -> CrossRate:
        previous: dict[str, tuple[str, Edge] | None] = {frm: None}
        queue = deque([frm])
        while queue:
            node = queue.popleft()
            if node == to:
                break
            for neighbour, edge in self._neighbours.get(node, ()):
                if neighbour not in previous:
                    previous[neighbour] = (node, edge)
                    queue.append(neighbour)
        if to not in previous:
            raise NoRate(frm, to)
        path: list[tuple[str, Edge]] = []
        node = to
        while previous[node] is not None:
            parent, edge = previous[node]
            path.append((parent, edge))
            node = parent
        path.reverse()
        rate = Decimal(1)
        with localcontext(CONTEXT):
            for parent, edge in path:
                rate = rate * edge.rate if edge.base == parent else rate / edge.rate
        return CrossRate(rate, min(edge.as_of for _p, edge in path), tuple(edge.source for _p, edge in path))

    def convert(self, money: Money, to: str) -> Money:
        return money.converted(self.rate(money.currency, to).rate, to)
