"""A festival's search log: distinct long-tail queries and the Zipf-like order shoppers send them in.

`distinct_queries(n, seed)` draws n distinct search requests (their query-string parameters) from the
benchmark catalog's own words (bench.catalog_words), in all nine locales:

- 85 % text queries of 1-3 words (adjective, material, noun), 10 % of them typed in English under another
  locale, 15 % with one typo (a deletion, a swap, a doubled or a replaced letter; never in Chinese, whose
  words the analyzer does not correct), 3 % with a word the catalog does not hold;
- 15 % filter-only browsing (no q): by category, origin country, price range and/or stock;
- filters on text queries: origin country (20 %, sometimes two), price range (20 %: price_min and/or
  price_max in the request's currency), in_stock (25 %), category (10 %);
- several currencies (USD the most), all four sorts, pages 2-5 for a quarter of the requests.

`zipf_sequence(n, seed)` orders them as a log would: query k (k = 1..n) is sent max(1, head / k) times
(Zipf, exponent 1, head = n / 50 by default), shuffled. So every distinct query is sent, the most
popular about 1.8 % of the time, and most distinct queries exactly once: an answer cache only helps with
the head.
"""
from __future__ import annotations

import random
import urllib.parse
from collections import Counter
from dataclasses import dataclass

from bench.catalog_words import ADJECTIVES, MATERIALS, NOUN_CATEGORY, NOUNS

LOCALE_WEIGHTS = {"en": 24, "pt": 12, "ru": 12, "hi": 12, "zh": 12, "ar": 7, "fa": 7, "id": 8, "am": 6}
#: Request currencies and a rough price of one US dollar in each (enough to draw plausible price ranges).
CURRENCY_WEIGHTS = {"USD": 30, "EUR": 10, "BRL": 12, "RUB": 10, "INR": 12, "CNY": 10, "ZAR": 6, "IDR": 5, "AED": 5}
PER_USD = {"USD": 1, "EUR": 0.92, "BRL": 5.5, "RUB": 90, "INR": 84, "CNY": 7.2, "ZAR": 18, "IDR": 16000, "AED": 3.67}
PRICE_STEPS_USD = (5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 250, 300, 500, 750, 1000)
COUNTRIES = ("BR", "RU", "IN", "CN", "ZA")
CATEGORIES = tuple(sorted({category for category, _ in NOUN_CATEGORY}))
SORTS = (("relevance", 55), ("price_asc", 15), ("price_desc", 15), ("newest", 15))
BROWSE_SORTS = (("relevance", 25), ("price_asc", 25), ("price_desc", 25), ("newest", 25))
#: Words no benchmark product holds (a query with one finds nothing or only its other words).
MISSES = {"en": ["bicycle", "laptop"], "pt": ["bicicleta"], "ru": ["велосипед"], "hi": ["साइकिल"], "zh": ["手机"],
          "ar": ["دراجة"], "fa": ["دوچرخه"], "id": ["sepeda"], "am": ["ብስክሌት"]}

BROWSE_SHARE, ENGLISH_ELSEWHERE_SHARE, TYPO_SHARE, MISS_SHARE = 0.15, 0.10, 0.15, 0.03
SECOND_PAGE_SHARE = 0.25


@dataclass(frozen=True)
class Query:
    params: tuple[tuple[str, str], ...]   # query-string pairs, in order (origin_country may repeat)
    typo: bool = False

    @property
    def browse(self) -> bool:
        return not any(key == "q" for key, _ in self.params)

    def get(self, key: str) -> str | None:
        return next((value for k, value in self.params if k == key), None)

    def path(self, prefix: str = "/api/v1/search") -> str:
        return f"{prefix}?{urllib.parse.urlencode(self.params)}"

    def args(self) -> dict[str, object]:
        """The parameters as a dict of strings and lists, as SearchArgs loads them from a query string."""
        args: dict[str, object] = {}
        for key, value in self.params:
            if key == "origin_country":
                args.setdefault(key, []).append(value)
            else:
                args[key] = value
        return args


def _weighted(rng: random.Random, weights) -> str:
    items = list(weights.items()) if isinstance(weights, dict) else list(weights)
    return rng.choices([k for k, _ in items], [w for _, w in items])[0]


def typo(rng: random.Random, word: str) -> str:
    """`word` with one edit (never its first letter, as shoppers rarely get that wrong)."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1:]                              # a letter left out
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]      # two letters swapped
    if kind == 2:
        return word[:i] + word[i] + word[i:]                        # a letter doubled
    return word[:i] + rng.choice(word.replace(word[i], "") or word) + word[i + 1:]  # a letter replaced


def _words(rng: random.Random, locale: str) -> list[str]:
    noun = rng.choice(NOUNS[locale])
    adjective, material = rng.choice(ADJECTIVES[locale]), rng.choice(MATERIALS[locale])
    size = rng.choices((1, 2, 3), (45, 35, 20))[0]
    if size == 1:
        return [rng.choices((noun, material, adjective), (60, 25, 15))[0]]
    if size == 2:
        return rng.choices(([material, noun], [adjective, noun], [adjective, material]), (50, 35, 15))[0]
    return [adjective, material, noun]


def _text(rng: random.Random, locale: str) -> tuple[str, bool]:
    words = _words(rng, "en" if locale != "en" and rng.random() < ENGLISH_ELSEWHERE_SHARE else locale)
    if rng.random() < MISS_SHARE:
        words[rng.randrange(len(words))] = rng.choice(MISSES[locale])
    typoed = False
    if locale != "zh" and rng.random() < TYPO_SHARE:
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        if len(words[longest]) >= 4:
            words[longest], typoed = typo(rng, words[longest]), True
    return " ".join(words), typoed


def _nice(amount: float) -> str:
    """Two significant digits, as a shopper types a bound."""
    return f"{float(f'{amount:.2g}'):.2f}".rstrip("0").rstrip(".") if amount >= 1 else "1"


def _price_range(rng: random.Random, currency: str) -> list[tuple[str, str]]:
    low, high = sorted(rng.sample(PRICE_STEPS_USD, 2))
    shape = rng.choices(("both", "min", "max"), (60, 20, 20))[0]
    pairs = []
    if shape in ("both", "min"):
        pairs.append(("price_min", _nice(low * PER_USD[currency])))
    if shape in ("both", "max"):
        pairs.append(("price_max", _nice(high * PER_USD[currency])))
    return pairs


def draw_query(rng: random.Random) -> Query:
    locale = _weighted(rng, LOCALE_WEIGHTS)
    currency = _weighted(rng, CURRENCY_WEIGHTS)
    browse = rng.random() < BROWSE_SHARE
    params: list[tuple[str, str]] = []
    typoed = False
    if not browse:
        text, typoed = _text(rng, locale)
        params.append(("q", text))
    params += [("locale", locale), ("currency", currency)]
    shares = (0.5, 0.5, 0.4, 0.3) if browse else (0.10, 0.20, 0.20, 0.25)   # category, country, price, stock
    chosen = [rng.random() < share for share in shares]
    if browse and not any(chosen):
        chosen[0] = True
    if chosen[0]:
        params.append(("category", rng.choice(CATEGORIES)))
    if chosen[1]:
        params += [("origin_country", c) for c in sorted(rng.sample(COUNTRIES, 1 if rng.random() < 0.8 else 2))]
    if chosen[2]:
        params += _price_range(rng, currency)
    if chosen[3]:
        params.append(("in_stock", "true"))
    sort = _weighted(rng, BROWSE_SORTS if browse else SORTS)
    if sort != "relevance":
        params.append(("sort", sort))
    if rng.random() < SECOND_PAGE_SHARE:
        params.append(("page", str(rng.randint(2, 5))))
    return Query(tuple(params), typoed)


def distinct_queries(n: int, seed: int = 2026) -> list[Query]:
    """n distinct queries (distinct parameters), the same for the same n and seed."""
    rng = random.Random(seed)
    found: dict[tuple, Query] = {}
    attempts = 0
    while len(found) < n:
        attempts += 1
        if attempts > 50 * n + 1000:
            raise ValueError(f"cannot draw {n} distinct queries from the benchmark words")
        query = draw_query(rng)
        found.setdefault(query.params, query)
    return list(found.values())


def zipf_counts(n: int, head: int | None = None, exponent: float = 1.0) -> list[int]:
    """How many times the k-th most popular of n queries is sent: max(1, head / k**exponent)."""
    head = max(1, n // 50) if head is None else head
    return [max(1, int(head / k ** exponent)) for k in range(1, n + 1)]


def zipf_sequence(n: int, seed: int = 2026, head: int | None = None, exponent: float = 1.0) -> list[int]:
    """Indexes into distinct_queries(n): every query at least once, the head more often, shuffled."""
    sequence = [k for k, count in enumerate(zipf_counts(n, head, exponent)) for _ in range(count)]
    random.Random(seed + 1).shuffle(sequence)
    return sequence


def mix_summary(queries: list[Query], sequence: list[int]) -> str:
    """One paragraph describing the mix as sent (shares over the whole sequence)."""
    sent = [queries[i] for i in sequence]
    counts = Counter(sequence)
    once = sum(1 for c in counts.values() if c == 1)

    def share(test) -> str:
        return f"{100 * sum(1 for q in sent if test(q)) / len(sent):.0f}%"

    locales = Counter(q.get("locale") for q in sent)
    return (f"{len(queries)} distinct queries, {len(sent)} in the Zipf-like sequence (top query "
            f"{100 * counts.most_common(1)[0][1] / len(sent):.1f}%, {100 * once / len(queries):.0f}% of distinct "
            f"queries sent once; repeats {100 * (len(sent) - len(counts)) / len(sent):.0f}% of the sequence); "
            f"browse {share(lambda q: q.browse)}, typo {share(lambda q: q.typo)}, "
            f"country {share(lambda q: q.get('origin_country'))}, price {share(lambda q: q.get('price_min') or q.get('price_max'))}, "
            f"in_stock {share(lambda q: q.get('in_stock'))}, sorted {share(lambda q: q.get('sort'))}, "
            f"pages 2-5 {share(lambda q: q.get('page'))}, non-USD {share(lambda q: q.get('currency') != 'USD')}; "
            f"locales " + " ".join(f"{loc} {100 * c / len(sent):.0f}%" for loc, c in locales.most_common()))
