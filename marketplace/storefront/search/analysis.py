"""Text analysis for the embedded search engine: text -> index terms, query -> query terms.

Pure functions (no Flask, no database). The embedded engine (SQLite FTS5, BM25)
stores ``" ".join(tokens(text, locale))`` per document field and matches the
double-quoted ``query_tokens(q, locale)`` against them exactly, so one rule
holds throughout this module: a word goes through the same pipeline whether it
comes from a document or from a query.

Pipeline
--------
1. ``normalize``: NFKC, casefold, then (non-ASCII text only)

   * Latin/Greek/Cyrillic accents removed (``café`` -> ``cafe``, ``ё`` -> ``е``),
     but the Cyrillic breve is kept (``й`` stays ``й``); ``ø đ ł æ œ ß ...`` folded;
   * Arabic/Persian: harakat, Quranic marks, tatweel and hamza/madda marks
     removed (``أ إ آ -> ا``, ``ؤ -> و``, ``ئ -> ي``); ``ی ى -> ي``, ``ک -> ك``,
     ``ۀ ە ہ ھ -> ه``, ``ٱ -> ا``.
     Teh marbuta ``ة`` is kept: Snowball Arabic strips it after the article
     (``العربية`` -> ``عرب``) but not a ``ه`` written in its place; the Persian
     path reads it as ``ه`` (Persian spelling: ``قهوة`` = ``قهوه``);
   * Devanagari: nukta removed (``ज़`` -> ``ज``), chandrabindu -> anusvara;
   * Ethiopic: homophone series unified (``ሐ ኀ -> ሀ``, ``ሠ -> ሰ``, ``ዐ -> አ``, ``ፀ -> ጸ``);
   * format characters (ZWNJ, ZWJ, soft hyphen, bidi marks) removed, so the
     Persian ``کتاب‌ها`` reads ``کتابها``; zero-width space is a word break;
   * every decimal digit becomes ASCII (``۵۰۰``, ``५००`` -> ``500``).

2. Words: maximal runs of letters, digits and combining marks (Unicode
   categories L, N, M); everything else (punctuation, symbols, spaces, controls,
   private use, Ethiopic ``። ፣ ፡``, Devanagari ``।``) separates words. A word is
   also split where the script changes and between digits and letters, so
   ``"iPhone手机"`` -> ``iphone`` + ``手机`` and ``"500g"`` -> ``500`` + ``g``
   (documents and queries alike; ``"500 g"`` and ``"500g"`` match). The English
   possessive ``'s`` is dropped; other apostrophes and hyphens split words.

3. Per word, by script (the locale picks the stemmer for its own script):

   ===========  ==========================================================
   Latin        Snowball ``portuguese`` (pt), ``indonesian`` (id), else ``english``
   Cyrillic     Snowball ``russian`` + fleeting-vowel fix (сумка/сумки/сумок -> сумк)
   Arabic       Snowball ``persian`` (fa), else ``arabic``
   Devanagari   Snowball ``hindi``
   Han          jieba (see below), whatever the locale
   others       the normalized word (Ethiopic/Amharic, kana, Hangul, Thai, ...)
   ===========  ==========================================================

   Accents are folded *before* stemming, so accented and unaccented spellings
   always give the same term (``grão``/``grao``/``grãos`` -> ``gra``). For
   Portuguese the folded plurals ``-oes``/``-aos`` are first mapped back to
   ``-ao`` (``informacoes`` -> ``informacao``), which the accent-free stemmer
   would otherwise miss.

   A small stopword list (function words of en, pt, id, ru, one shared set) is
   dropped from documents and queries. A query made only of stopwords yields [].

4. Documents and queries get the same terms: one stem per word (``"Leather
   bags"`` -> ``leather bag``); only Chinese differs (below). Unstemmed words
   are not indexed: the engine analyses a query once per locale and matches
   each locale's columns with that locale's terms, so a shopper's ``cafe``
   reaches a Portuguese ``Café`` as ``caf`` = ``caf``, and keeping the surface
   forms too would only grow the index (by 50-90% for en/pt/ru/ar).

Chinese
-------
Runs of Han characters are cut by jieba without the HMM (new-word guessing
depends on the surrounding text, so a word cut out of a title could be cut
differently on its own). Documents emit, per jieba word, its dictionary
sub-words (what ``jieba.cut_for_search`` adds), the word, and its single
characters; queries emit ``cut_for_search`` terms only. So ``普洱`` and
``普洱茶`` find ``云南普洱茶饼`` through sub-words, and ``茶饼`` -- not a jieba
word, the query side cuts it into ``茶`` ``饼`` -- finds it through characters.
jieba is imported and its dictionary loaded on first use, once per process.

FTS5
----
Every token consists of characters of Unicode categories L, N and M only, with
no whitespace. FTS5's ``unicode61`` tokenizer by default treats only ``L* N*
Co`` as token characters, so combining marks such as the Devanagari vowel
signs would split ``चाय`` into ``च`` and ``य``; create the FTS table with
``FTS5_TOKENIZE`` (which adds ``M*``) and each token stays one FTS5 token.

Typo tolerance helpers: ``fold``, ``edit_distance`` (optimal string alignment)
and ``max_typos`` (Elasticsearch ``fuzziness: AUTO``).

Thread safety: Snowball stemmer objects keep state, so each thread gets its
own; stems are memoised in a shared bounded cache.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
import warnings
from functools import lru_cache
from typing import Any

import snowballstemmer

__all__ = [
    "LOCALES",
    "FTS5_TOKENIZE",
    "normalize",
    "tokens",
    "query_tokens",
    "prefix_tokens",
    "fold",
    "edit_distance",
    "max_typos",
]

LOCALES = ("en", "pt", "ru", "hi", "zh", "ar", "fa", "id", "am")

#: FTS5 ``tokenize=`` option under which every token of this module stays one token.
FTS5_TOKENIZE = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"

#: Words longer than this are indexed as they are, without stemming.
MAX_STEM_LENGTH = 64

# ---------------------------------------------------------------------------
# normalize
# ---------------------------------------------------------------------------

_NFKC = "NFKC"

#: Combining marks removed after NFD: generic diacritics (except the breve kept
#: after Cyrillic, for й and ў), Arabic harakat, hamza/madda signs, superscript
#: alef, Quranic annotation marks, tatweel, and the Devanagari nukta.
_STRIP_MARKS = re.compile(
    "[\u0300-\u0305\u0307-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u08d3-\u08ff"
    "\u0640\u093c]"
    "|(?<![\u0400-\u052f])\u0306"
)


def _letter_map() -> dict[int, Any]:
    table: dict[int, Any] = {}

    def put(chars: str, to: str | None) -> None:
        for ch in chars:
            table[ord(ch)] = to

    # Format characters: joiners, soft hyphen, bidi controls, BOM.
    put("\u00ad\u061c\u180e\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
        "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff", None)
    put("\u200b", " ")                       # zero-width space separates words
    # Latin letters without a canonical decomposition.
    put("ø", "o"); put("đð", "d"); put("ł", "l"); put("ħ", "h"); put("ŧ", "t")
    put("ı", "i"); put("æ", "ae"); put("œ", "oe"); put("þ", "th"); put("ƀ", "b")
    # Arabic / Persian letter variants (canonical: the Arabic forms).
    put("\u06cc\u0649\u06d2", "\u064a")     # ی ى ے -> ي
    put("\u06a9\u06aa", "\u0643")           # ک ڪ -> ك
    put("\u06c0\u06c1\u06d5\u06be", "\u0647")  # ۀ ہ ە ھ -> ه (ة stays: the Arabic stemmer needs it)
    put("\u0623\u0625\u0622\u0671", "\u0627")        # أ إ آ ٱ -> ا (after NFC; NFD mostly handles them)
    # Devanagari: chandrabindu -> anusvara.
    put("\u0901", "\u0902")
    # Ethiopic homophone series (same sound, different letters), order by order.
    for src, dst, n in ((0x1210, 0x1200, 8), (0x1280, 0x1200, 8), (0x1220, 0x1230, 8),
                        (0x12D0, 0x12A0, 7), (0x1340, 0x1338, 8)):
        for k in range(n):
            table[src + k] = chr(dst + k)
    return table


_LETTERS = _letter_map()
_NON_ASCII_DIGIT = re.compile(r"(?![0-9])\d")


def _ascii_digit(m: re.Match[str]) -> str:
    return str(unicodedata.decimal(m.group(), 0))


def normalize(text: str) -> str:
    """NFKC + casefold + accent/diacritic folding + letter-variant unification.

    Separators (spaces, punctuation) are left in place; `tokens` splits on them.
    Idempotent: ``normalize(normalize(t)) == normalize(t)``.
    """
    if not text:
        return ""
    s = unicodedata.normalize(_NFKC, text).casefold()
    if s.isascii():
        return s
    s = unicodedata.normalize("NFD", s)
    s = _STRIP_MARKS.sub("", s)
    s = unicodedata.normalize("NFC", s).translate(_LETTERS)
    if _NON_ASCII_DIGIT.search(s):
        s = _NON_ASCII_DIGIT.sub(_ascii_digit, s)
    # Casefolding can leave compatibility characters and the maps can expose new
    # compositions; one more round makes the function idempotent.
    t = unicodedata.normalize(_NFKC, s).casefold()
    if t != s:
        t = unicodedata.normalize("NFC", _STRIP_MARKS.sub("", unicodedata.normalize("NFD", t))).translate(_LETTERS)
    return t


# ---------------------------------------------------------------------------
# words
# ---------------------------------------------------------------------------

_SEP, _DIGIT, _NUM, _MARK, _LATIN, _CYRL, _ARAB, _DEVA, _ETHI, _HAN, _OTHER = range(11)

_SCRIPT_RANGES = (
    # (first, last, class) -- letters only; marks attach to the run they follow.
    (0x0041, 0x024F, _LATIN), (0x0250, 0x02AF, _LATIN), (0x1D00, 0x1DBF, _LATIN),
    (0x1E00, 0x1EFF, _LATIN), (0x2C60, 0x2C7F, _LATIN), (0xA720, 0xA7FF, _LATIN),
    (0xAB30, 0xAB6F, _LATIN), (0xFF21, 0xFF5A, _LATIN),
    (0x0400, 0x052F, _CYRL), (0x1C80, 0x1C8F, _CYRL), (0x2DE0, 0x2DFF, _CYRL), (0xA640, 0xA69F, _CYRL),
    (0x0600, 0x06FF, _ARAB), (0x0750, 0x077F, _ARAB), (0x0870, 0x08FF, _ARAB),
    (0xFB50, 0xFDFF, _ARAB), (0xFE70, 0xFEFF, _ARAB),
    (0x0900, 0x097F, _DEVA), (0xA8E0, 0xA8FF, _DEVA),
    (0x1200, 0x139F, _ETHI), (0x2D80, 0x2DDF, _ETHI), (0xAB00, 0xAB2F, _ETHI), (0x1E7E0, 0x1E7FF, _ETHI),
)


def _is_han(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF
            or 0x20000 <= cp <= 0x3FFFF or cp in (0x3005, 0x3007) or 0x3021 <= cp <= 0x3029)


def _classify(ch: str) -> int:
    cat = unicodedata.category(ch)
    major = cat[0]
    if major not in "LNM":
        return _SEP
    cp = ord(ch)
    if major != "M" and _is_han(cp):
        return _HAN
    if major == "M":
        return _MARK
    if major == "N":
        return _DIGIT if cat == "Nd" else _NUM
    for first, last, cls in _SCRIPT_RANGES:
        if first <= cp <= last:
            return cls
    return _OTHER


_CLASS_CACHE: dict[str, int] = {}
_CLASS_CACHE_MAX = 1 << 16


def _char_class(ch: str) -> int:
    cls = _CLASS_CACHE.get(ch)
    if cls is None:
        cls = _classify(ch)
        if len(_CLASS_CACHE) < _CLASS_CACHE_MAX:
            _CLASS_CACHE[ch] = cls
    return cls


_ASCII_RUN = re.compile(r"[a-z]+|[0-9]+")
_POSSESSIVE = re.compile(r"(?<=[a-z])['\u2019]s(?![^\W_])")


def _runs(s: str) -> list[tuple[int, str]]:
    """Split normalized text into (class, word) runs."""
    if "'" in s or "\u2019" in s:
        s = _POSSESSIVE.sub("", s)
    if s.isascii():
        return [(_DIGIT if m.group()[0] <= "9" else _LATIN, m.group()) for m in _ASCII_RUN.finditer(s)]
    out: list[tuple[int, str]] = []
    cur, start = _SEP, 0
    get = _CLASS_CACHE.get
    for i, ch in enumerate(s):
        cls = get(ch)
        if cls is None:
            cls = _char_class(ch)
        if cls == cur or (cls == _MARK and cur != _SEP):
            continue
        if cur == _MARK and cls != _SEP:     # a run that began with marks takes its letters' class
            cur = cls
            continue
        if cur != _SEP:
            out.append((_OTHER if cur == _MARK else cur, s[start:i]))
        cur, start = cls, i
    if cur != _SEP:
        out.append((_OTHER if cur == _MARK else cur, s[start:]))
    return out


# ---------------------------------------------------------------------------
# stopwords and stemming
# ---------------------------------------------------------------------------

#: Function words of en, pt, id and ru (normalized; negations such as без, sem
#: are kept). One shared set: a word is dropped whichever locale analyses it.
STOPWORDS = frozenset(
    # en
    "a an and are as at be by for from in is it of on or the to with "
    # pt
    "o os e de da do das dos em no na nos nas um uma uns umas para por pelo pela pelos pelas com ao aos ou que "
    # id
    "dan di ke dari yang untuk dengan atau ini itu pada dalam "
    # ru
    "и в во на с со для из по к о об от до за у или а же ли".split()
)

#: Stemmer per (locale, script); None: locale not listed.
_LATIN_STEMMER = {"pt": "portuguese", "id": "indonesian"}
_ARABIC_STEMMER = {"fa": "persian"}


def _stemmer_name(lang: str, cls: int) -> str | None:
    if cls == _LATIN:
        return _LATIN_STEMMER.get(lang, "english")
    if cls == _CYRL:
        return "russian"
    if cls == _ARAB:
        return _ARABIC_STEMMER.get(lang, "arabic")
    if cls == _DEVA:
        return "hindi"
    return None


_local = threading.local()


def _snowball(name: str) -> Any:
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    st = stemmers.get(name)
    if st is None:
        st = stemmers[name] = snowballstemmer.stemmer(name)
    return st


_RU_CONSONANTS = frozenset("бвгджзйклмнпрстфхцчшщ")


def _ru_fleeting_vowel(stem: str) -> str:
    # Genitive plurals and nominatives with a fleeting о/е keep the vowel the
    # other forms lose: сумок/сумк-а, кошелек/кошельк-а, огурец/огурц-а, ремен(ь)/ремн-я.
    if (len(stem) >= 5 and stem[-1] in "кцглнр" and stem[-2] in "ое"
            and (stem[-3] in _RU_CONSONANTS or stem[-3] == "ь")):
        stem = stem[:-2] + stem[-1]
    if len(stem) >= 4 and stem[-2] == "ь" and stem[-1] in _RU_CONSONANTS:
        stem = stem[:-2] + stem[-1]
    return stem


@lru_cache(maxsize=1 << 16)
def _stem(name: str, word: str) -> str:
    if len(word) > MAX_STEM_LENGTH:
        return word
    w = word
    if name == "portuguese" and len(w) >= 4 and w[-3:] in ("oes", "aos") and (w[-3:] == "aos" or len(w) >= 5):
        w = w[:-3] + "ao"                     # grãos/informações, folded, back to the -ão singular
    elif name == "persian":
        w = w.replace("\u0629", "\u0647")        # ة -> ه, the Persian spelling
    stem = _snowball(name).stemWord(w)
    if name == "russian":
        stem = _ru_fleeting_vowel(stem)
    elif name in ("arabic", "persian"):
        stem = stem.translate(_LETTERS)       # the stemmers emit their own letter forms
    if not stem or not all(_char_class(c) != _SEP for c in stem):
        return word
    return stem


def _lang(locale: str | None) -> str:
    if not locale:
        return ""
    lang = re.split(r"[-_]", locale.strip().lower(), maxsplit=1)[0]
    return lang if lang in LOCALES else ""


# ---------------------------------------------------------------------------
# Chinese (jieba, loaded lazily)
# ---------------------------------------------------------------------------

_jieba_tokenizer: Any = None
_jieba_lock = threading.Lock()


def _jieba() -> Any:
    global _jieba_tokenizer
    if _jieba_tokenizer is None:
        with _jieba_lock:
            if _jieba_tokenizer is None:
                with warnings.catch_warnings():          # jieba imports pkg_resources
                    warnings.simplefilter("ignore")
                    import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.dt.check_initialized()
                _jieba_tokenizer = jieba.dt
    return _jieba_tokenizer


def _han_words(run: str) -> list[str]:
    return list(_jieba().cut(run, HMM=False))


def _han_terms(run: str, document: bool) -> list[str]:
    """``cut_for_search`` terms of a Han run; documents add single characters."""
    dt = _jieba()
    freq = dt.FREQ
    out: list[str] = []
    for w in dt.cut(run, HMM=False):
        n = len(w)
        if n > 2:
            out.extend(g for g in (w[i:i + 2] for i in range(n - 1)) if freq.get(g))
        if n > 3:
            out.extend(g for g in (w[i:i + 3] for i in range(n - 2)) if freq.get(g))
        out.append(w)
        if document and n > 1:
            out.extend(w)
    return out


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def _analyze(text: str, locale: str, document: bool) -> list[str]:
    if not text:
        return []
    lang = _lang(locale)
    out: list[str] = []
    for cls, word in _runs(normalize(text)):
        if cls == _HAN:
            out.extend(_han_terms(word, document))
            continue
        name = _stemmer_name(lang, cls)
        if name is None:                      # digits, Ethiopic, other scripts
            out.append(word)
            continue
        if word in STOPWORDS:
            continue
        out.append(_stem(name, word))
    return out


def tokens(text: str, locale: str) -> list[str]:
    """Index terms of `text` written in `locale`, in text order (repeats kept for term frequency).

    One stem per word; Han runs give jieba words, their dictionary sub-words
    and the characters of multi-character words.
    """
    return _analyze(text, locale, document=True)


def query_tokens(text: str, locale: str) -> list[str]:
    """Query terms of `text` typed in `locale`: one stem per word (Han: ``cut_for_search``), deduplicated.

    Every term of a word also comes out of ``tokens()`` for a text containing
    that word in the same locale.
    """
    return list(dict.fromkeys(_analyze(text, locale, document=False)))


def query_analyses(text: str) -> dict[tuple[str, ...], list[str]]:
    """Each distinct analysis of a query across the supported locales -> the locales that analyse it alike
    (an engine matches one clause per analysis, on those locales' fields)."""
    by_terms: dict[tuple[str, ...], list[str]] = {}
    for locale in LOCALES:
        terms = tuple(query_tokens(text, locale))
        if terms:
            by_terms.setdefault(terms, []).append(locale)
    return by_terms


def prefix_tokens(text: str) -> list[str]:
    """Unstemmed normalized words of a title for prefix completion, deduplicated (Han: jieba words)."""
    if not text:
        return []
    out: list[str] = []
    for cls, word in _runs(normalize(text)):
        if cls == _HAN:
            out.extend(_han_words(word))
        else:
            out.append(word)
    return list(dict.fromkeys(out))


def fold(word: str) -> str:
    """Accent-folded form of one word: `normalize` with every separator character removed.

    Idempotent; equals ``normalize(word)`` for a word made only of letters and digits.
    """
    return "".join(w for _, w in _runs(normalize(word)))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (Damerau-Levenshtein with adjacent
    transpositions, no substring edited twice) between `a` and `b`, or
    ``limit + 1`` as soon as it is known to exceed `limit`."""
    if limit < 0:
        raise ValueError("limit must be >= 0")
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    if la == 0 or lb == 0:
        return max(la, lb)
    over = limit + 1
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        ca = a[i - 1]
        pa = a[i - 2] if i > 1 else None
        cur = [i] * (lb + 1)
        row_min = i
        for j in range(1, lb + 1):
            cb = b[j - 1]
            if ca == cb:
                v = prev[j - 1]
            else:
                v = prev[j - 1] + 1
                if prev[j] + 1 < v:
                    v = prev[j] + 1
                if cur[j - 1] + 1 < v:
                    v = cur[j - 1] + 1
                if j > 1 and pa == cb and ca == b[j - 2] and prev2[j - 2] + 1 < v:
                    v = prev2[j - 2] + 1
            cur[j] = v
            if v < row_min:
                row_min = v
        if row_min > limit:                   # rows never get cheaper than the previous minimum - 1
            return over
        prev2, prev = prev, cur
    d = prev[lb]
    return d if d <= limit else over


def max_typos(word: str) -> int:
    """Edits allowed for a query word missing from the vocabulary (Elasticsearch ``AUTO``:
    0 for 1-2 characters, 1 for 3-5, 2 above), except 0 for numbers and for Chinese,
    where a one-character change makes another word."""
    n = len(word)
    if n <= 2:
        return 0
    if word.isdigit() or any(_is_han(ord(c)) for c in word):
        return 0
    return 1 if n <= 5 else 2
