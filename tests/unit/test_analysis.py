"""Text analysis for the embedded search engine (`marketplace.storefront.search.analysis`).

The engine stores ``" ".join(tokens(text, locale))`` per locale column and
matches the double-quoted ``query_tokens(q, locale)`` exactly, so "query finds
document" here means: the query has terms, and every one of them is among the
document's terms.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from marketplace.storefront.search import analysis
from marketplace.storefront.search.analysis import (
    FTS5_TOKENIZE,
    LOCALES,
    edit_distance,
    fold,
    max_typos,
    normalize,
    prefix_tokens,
    query_tokens,
    tokens,
)


def finds(query: str, locale: str, doc: str) -> bool:
    """As the embedded engine matches a locale's columns: query and document analysed in that locale."""
    terms = query_tokens(query, locale)
    return bool(terms) and set(terms) <= set(tokens(doc, locale))


# -- contract ------------------------------------------------------------------

def test_locales():
    assert LOCALES == ("en", "pt", "ru", "hi", "zh", "ar", "fa", "id", "am")


def test_empty_text():
    for locale in LOCALES:
        assert tokens("", locale) == [] and query_tokens("", locale) == []
        assert tokens("  ,.;!  ", locale) == [] and query_tokens(" - ", locale) == []
    assert prefix_tokens("") == [] and normalize("") == "" and fold("") == ""


def test_regional_and_unknown_locales():
    assert tokens("Leather bags", "en-GB") == tokens("Leather bags", "en")
    assert tokens("bolsas de couro", "pt_BR") == tokens("bolsas de couro", "pt")
    assert tokens("Leather bags", "xx") == tokens("Leather bags", "en")   # script defaults


# -- normalize / fold ------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("Café AÇAÍ", "cafe acai"),
    ("Ёлка ЙОГУРТ", "елка йогурт"),                 # ё folded, й kept
    ("Straße Øre Łódź", "strasse ore lodz"),
    ("ﬁne ＡＢＣ１２３", "fine abc123"),               # NFKC
    ("قَهْوَةٌ", "قهوة"),                              # harakat removed (ة kept)
    ("قهـــوة", "قهوة"),                              # tatweel removed
    ("أحمر إبريق آب", "احمر ابريق اب"),
    ("کتاب‌های یک", "كتابهاي يك"),                    # ZWNJ joined, Persian yeh/kaf unified
    ("ज़ीरा साड़ियाँ", "जीरा साडियां"),                     # nukta removed, chandrabindu -> anusvara
    ("ሐረር ሠላም ዐይን ፀሐይ", "ሀረር ሰላም አይን ጸሀይ"),          # Ethiopic homophones
    ("۵۰۰ ٣ ५००", "500 3 500"),                       # digits
    ("soft\u00adware", "software"),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_fold():
    assert fold("Café") == "cafe"
    assert fold("AÇAÍ") == "acai"
    assert fold("Ёжик") == "ежик"
    assert fold("t-shirt") == "tshirt"
    assert fold(fold("Naïve")) == fold("Naïve")


@settings(max_examples=300, deadline=None)
@given(st.text())
@example("ی\u0654")            # a yeh with a lone hamza mark: composes only after unification
@example("İstanbul ǅ ﬃ ẞ")
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once
    assert fold(fold(text)) == fold(text)


# -- stemming per language ---------------------------------------------------------

def test_english():
    assert finds("bag", "en", "Leather bags")
    assert finds("bags", "en", "A leather bag")
    assert finds("Leather", "en", "leathers and wools")
    assert finds("women's bags", "en", "Bag for women")      # possessive 's dropped
    assert tokens("women’s", "en") == ["women"]


def test_portuguese_accents_and_plurals():
    assert finds("grão", "pt", "Grãos de café especial")
    assert finds("grao", "pt", "Grãos de café especial")
    assert finds("graos", "pt", "Um grão")
    assert finds("informacoes", "pt", "Mais informações")
    assert finds("limao", "pt", "Limões sicilianos")
    assert finds("maos", "pt", "Creme para mãos")
    assert finds("bolsa", "pt", "Bolsas de couro")


@pytest.mark.parametrize("word", ["сумка", "сумки", "сумок", "сумкой", "СУМКАХ"])
def test_russian_forms_share_a_term(word):
    assert finds(word, "ru", "Кожаная сумка ручной работы")
    assert finds("сумка", "ru", f"Много {word}")


@pytest.mark.parametrize("a, b", [("кошелек", "кошельки"), ("кошелёк", "кошельков"), ("платок", "платки"),
                                  ("огурец", "огурцы"), ("ремень", "ремни"), ("ложка", "ложек"), ("ёлка", "елки")])
def test_russian_fleeting_vowels(a, b):
    assert query_tokens(a, "ru") == query_tokens(b, "ru")


def test_indonesian():
    assert finds("minuman", "id", "Minum kopi")
    assert finds("kopi", "id", "Kopinya enak")
    assert finds("makanan", "id", "Dimakan dengan nasi")


def test_hindi():
    assert finds("चाय", "hi", "असम की चाय")
    assert finds("किताब", "hi", "पुरानी किताबें")
    assert finds("साड़ी", "hi", "रेशमी साड़ियाँ")
    assert finds("जीरा", "hi", "ज़ीरा पाउडर")       # nukta


def test_arabic():
    assert finds("قهوة", "ar", "قهوة عربية فاخرة")
    assert finds("قهوة", "ar", "قَهْوَةٌ عَرَبِيَّةٌ")     # harakat in the document
    assert finds("قهوة", "ar", "قهـــوة فاخرة")         # tatweel in the document
    assert finds("القهوة", "ar", "قهوه")                 # article, ة written ه
    assert finds("عربي", "ar", "القهوة العربية")
    assert finds("ابريق", "ar", "إبريق شاي")
    assert finds("قهوه", "ar", "قهوة عربية")              # ه written for ة
    assert finds("مكتبة", "ar", "المكتبات")               # plural with article


def test_persian():
    assert finds("زعفران", "fa", "زعفران ایرانی")
    assert finds("زعفران", "fa", "زعفران ايراني")        # Arabic yeh in the document
    assert finds("کیف", "fa", "کیف‌های چرمی")             # plural with ZWNJ
    assert finds("کیف", "fa", "کیفهای چرمی")              # plural without it
    assert finds("فرش", "fa", "فرش‌ها")
    assert finds("ايراني", "fa", "زعفران ایرانی")
    assert finds("قهوة", "fa", "قهوه ترک")                # Arabic spelling, Persian document


def test_amharic():
    doc = "የኢትዮጵያ ቡና። ጥራት ያለው፣ ቡና"
    assert tokens(doc, "am") == ["የኢትዮጵያ", "ቡና", "ጥራት", "ያለው", "ቡና"]
    assert finds("ቡና", "am", doc)
    assert finds("ጥራት", "am", doc)
    assert finds("ሠላም", "am", "ሰላም")                   # homophone letters


def test_stopwords_dropped_for_documents_and_queries():
    assert tokens("The bag of the year", "en") == ["bag", "year"]
    assert "de" not in tokens("bolsa de couro", "pt")
    assert query_tokens("кофе для дома", "ru") == query_tokens("кофе дома", "ru")
    assert query_tokens("the of", "en") == []


# -- accent folding ------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["en", "pt", "id"])
def test_cafe_finds_cafe_accented(locale):
    # A shopper's query reaches a Portuguese document analysed as Portuguese (the
    # engine matches every locale's columns with that locale's query terms) ...
    assert finds("cafe", "pt", "Café do Brasil")
    assert finds("CAFÉ", "pt", "Cafe do Brasil")
    assert finds("acai", "pt", "Açaí orgânico")
    assert finds("Açaí", "pt", "acai organico")
    # ... and an accented word in an English or Indonesian document just as well.
    assert finds("cafe", locale, "Café Açaí")
    assert finds("acai", locale, "Café Açaí")


def test_accent_folding_is_the_same_in_every_locale():
    for locale in LOCALES:
        assert query_tokens("café", locale) == query_tokens("cafe", locale)
        assert query_tokens("ёлка", locale) == query_tokens("елка", locale)


def test_documents_and_queries_get_the_same_terms():
    assert tokens("Leather bags, leather belts", "en") == ["leather", "bag", "leather", "belt"]
    assert query_tokens("Leather bags, leather belts", "en") == ["leather", "bag", "belt"]
    for locale in LOCALES:
        for text in SAMPLES.values():
            if locale != "zh" and not any(analysis._is_han(ord(c)) for c in text):
                assert query_tokens(text, locale) == list(dict.fromkeys(tokens(text, locale)))


# -- Chinese ---------------------------------------------------------------------

@pytest.mark.parametrize("query", ["普洱", "茶饼", "普洱茶", "云南", "云南普洱茶饼", "茶"])
def test_chinese_words_and_subwords(query):
    assert finds(query, "zh", "云南普洱茶饼 357克")


def test_chinese_query_is_cut_for_search():
    import jieba

    for text in ["云南普洱茶饼", "中华人民共和国", "景德镇青花瓷茶具套装", "内蒙古牛肉干"]:
        assert query_tokens(text, "zh") == list(dict.fromkeys(jieba.cut_for_search(text, HMM=False)))


def test_chinese_documents_stay_compact():
    doc = tokens("景德镇青花瓷茶具套装", "zh")
    # words + dictionary sub-words + characters of multi-character words, nothing else
    assert set(doc) == {"景德镇", "青花", "青花瓷", "茶具", "套装"} | set("景德镇青花瓷茶具套装")
    assert len(doc) == 5 + 10


def test_chinese_other_locales_segment_han_too():
    assert finds("普洱", "en", "Yunnan 云南普洱茶饼")


def test_mixed_script_titles_keep_latin_words():
    doc = "Apple iPhone15 手机 256GB 黑色"
    assert {"iphon", "15", "256", "gb", "appl", "手机"} <= set(tokens(doc, "zh"))
    assert finds("iPhone", "zh", doc)
    assert finds("apple", "zh", doc)
    assert finds("手机", "zh", doc)
    assert finds("Kashmir", "hi", "Kashmir पश्मीना शॉल")
    assert finds("Samsung", "ru", "Смартфон Samsung Galaxy")
    assert tokens("Samsung Galaxy", "ar") == tokens("Samsung Galaxy", "en")


def test_jieba_loads_lazily_and_quietly():
    code = (
        "import sys, time\n"
        "from marketplace.storefront.search import analysis\n"
        "assert 'jieba' not in sys.modules\n"
        "analysis.tokens('Leather bags', 'zh')\n"
        "assert 'jieba' not in sys.modules\n"
        "t = time.perf_counter(); analysis.tokens('普洱茶', 'zh'); first = time.perf_counter() - t\n"
        "assert 'jieba' in sys.modules\n"
        "t = time.perf_counter(); analysis.tokens('龙井绿茶', 'zh'); again = time.perf_counter() - t\n"
        "assert again < first\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert "prefix dict" not in result.stderr and "Loading model" not in result.stderr   # jieba kept quiet


# -- numbers -------------------------------------------------------------------

def test_numbers_split_from_units():
    assert tokens("500g", "en") == ["500", "g"]
    assert query_tokens("500 g", "en") == query_tokens("500g", "en")
    assert finds("500g", "pt", "Pacote 500 g")
    assert tokens("1.5kg", "en") == ["1", "5", "kg"]
    assert finds("500", "fa", "زعفران ۵۰۰ گرم")
    assert finds("500", "hi", "चाय ५०० ग्राम")


# -- prefix tokens -------------------------------------------------------------

def test_prefix_tokens():
    assert prefix_tokens("Leather bags") == ["leather", "bags"]
    assert prefix_tokens("Café Açaí café") == ["cafe", "acai"]
    assert prefix_tokens("云南普洱茶饼") == ["云南", "普洱茶", "饼"]
    assert prefix_tokens("Apple 手机") == ["apple", "手机"]
    assert prefix_tokens("असम की चाय") == ["असम", "की", "चाय"]
    assert prefix_tokens("The bag") == ["the", "bag"]             # unstemmed, stopwords kept


# -- FTS5 safety -----------------------------------------------------------------

SAMPLES = {
    "en": "Hand-made LEATHER bags (women's), 500g — 100% cotton; “premium” quality!",
    "pt": "Grãos de café açaí orgânico, informações: R$ 20,00 / 1,5kg",
    "ru": "Кожаная сумка «Ёлка» — 3 шт., сумок нет!",
    "hi": "असम की चाय, ज़ीरा पाउडर। साड़ियाँ ५०० ग्राम",
    "zh": "云南普洱茶饼（357克）Apple iPhone15 手机，黑色！",
    "ar": "قَهْوَةٌ عَرَبِيَّةٌ فاخرة، ٥٠٠ غرام. قهـــوة؟",
    "fa": "زعفران ایرانی، کیف‌های چرمی؛ ۵۰۰ گرم",
    "id": "Kopi luwak asli dari Bali, 250 gr. Minuman-minuman!",
    "am": "የኢትዮጵያ ቡና። ጥራት ያለው፣ ቡና ፩ ኪሎ",
}


def assert_fts_safe(terms):
    for term in terms:
        assert term and term == "".join(term.split())
        assert all(unicodedata.category(c)[0] not in "PSZC" for c in term), term
    assert " ".join(terms).split() == terms


@pytest.mark.parametrize("locale", LOCALES)
def test_tokens_are_fts_safe(locale):
    for text in SAMPLES.values():
        assert_fts_safe(tokens(text, locale))
        assert_fts_safe(query_tokens(text, locale))
        assert_fts_safe(prefix_tokens(text))


def fts_terms(tokenize: str, text: str) -> list[str]:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = \"{tokenize}\")")
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        conn.execute("INSERT INTO t (x) VALUES (?)", (text,))
        return [row[0] for row in conn.execute("SELECT term FROM v ORDER BY offset")]
    finally:
        conn.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_each_token_is_one_fts5_token(locale):
    for text in SAMPLES.values():
        for terms in (tokens(text, locale), prefix_tokens(text)):
            assert fts_terms(FTS5_TOKENIZE, " ".join(terms)) == terms
            # The plain unicode61 tokenizer splits at combining marks (Devanagari
            # vowel signs...); every other token survives it too.
            plain = [t for t in terms if not any(unicodedata.category(c)[0] == "M" for c in t)]
            assert fts_terms("unicode61 remove_diacritics 0", " ".join(plain)) == plain


def test_quoted_query_tokens_match_in_fts5():
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = \"{FTS5_TOKENIZE}\")")
    for i, (locale, text) in enumerate(SAMPLES.items()):
        conn.execute("INSERT INTO t (rowid, x) VALUES (?, ?)", (i, " ".join(tokens(text, locale))))
    for i, (locale, query) in enumerate([("hi", "चाय"), ("fa", "زعفران"), ("ar", "قهوة"), ("zh", "普洱"),
                                         ("ru", "сумок"), ("pt", "grão"), ("am", "ቡና"), ("en", "bag")]):
        expression = " AND ".join('"' + t + '"' for t in query_tokens(query, locale))
        rows = conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()
        assert rows == [(list(SAMPLES).index(locale),)], (locale, query)


# -- properties ------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200), st.sampled_from(LOCALES))
@example("\ud800 \udfff x", "en")        # lone surrogates
@example("ा ं ् क़", "hi")                # marks without a base
@example("ال و لل", "ar")
@example("〇二〇二四年 々", "zh")
def test_tokens_never_raise_and_are_clean(text, locale):
    for terms in (tokens(text, locale), query_tokens(text, locale), prefix_tokens(text)):
        assert all(isinstance(t, str) and t and not any(c.isspace() for c in t) for t in terms)
        assert_fts_safe(terms)


LETTERS = {
    "en": "abcdefghijklmnopqrstuvwxyzéèçñüABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "pt": "abcdefghijlmnopqrstuvxzáàâãçéêíóôõúüÁÃÇÉÕ",
    "id": "abcdefghijklmnopqrstuvwxyz",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЁЙЯ",
    "hi": "".join(c for c in map(chr, range(0x0900, 0x0980)) if unicodedata.category(c)[0] in "LM"),
    "ar": "ءآأؤإئابةتثجحخدذرسشصضطظعغفقكلمنهوىي" "\u064b\u064e\u064f\u0650\u0651\u0652\u0640",
    "fa": "آابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیئ\u200c",
    "am": "".join(c for c in map(chr, range(0x1200, 0x1360)) if unicodedata.category(c)[0] == "L"),
}
HAN = "".join(map(chr, range(0x4E00, 0x4E00 + 400))) + "云南普洱茶饼龙井绿茶丝绸围巾手工羊绒披肩中华人民共和国景德镇青花瓷"
HAN_WORDS = ["普洱茶", "云南", "中华人民共和国", "青花瓷", "茶具", "套装", "羊绒", "手工", "内蒙古", "牛肉干"]


@st.composite
def doc_and_word(draw, locale):
    if locale == "zh":
        parts = draw(st.lists(st.one_of(st.sampled_from(HAN_WORDS), st.text(st.sampled_from(HAN), min_size=1,
                                                                            max_size=6)), min_size=1, max_size=8))
        doc = draw(st.sampled_from(["", " ", "，"])).join(parts)
        words = prefix_tokens(doc)
    else:
        words = draw(st.lists(st.text(st.sampled_from(LETTERS[locale]), min_size=1, max_size=12),
                              min_size=1, max_size=10))
        doc = draw(st.sampled_from([" ", ", ", " - ", "። ", "، "])).join(words)
    assume(words)
    return doc, draw(st.sampled_from(words))


@pytest.mark.parametrize("locale", LOCALES)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_a_word_of_a_document_finds_it(locale, data):
    doc, word = data.draw(doc_and_word(locale))
    assert set(query_tokens(word, locale)) <= set(tokens(doc, locale))


# -- edit distance -----------------------------------------------------------------

def osa_reference(a: str, b: str) -> int:
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


@pytest.mark.parametrize("a, b, expected", [
    ("leathr", "leather", 1), ("laether", "leather", 1), ("leather", "leather", 0), ("bag", "bga", 1),
    ("", "abc", 3), ("kitten", "sitting", 3), ("ca", "abc", 3),     # OSA, not full Damerau (which says 2)
    ("сумка", "сукма", 1), ("قهوه", "قوهه", 1),
])
def test_edit_distance_examples(a, b, expected):
    assert edit_distance(a, b, 5) == expected
    assert edit_distance(b, a, 5) == expected


def test_edit_distance_limit():
    assert edit_distance("leather", "weather", 0) == 1
    assert edit_distance("abcdef", "uvwxyz", 2) == 3
    assert edit_distance("a", "abcdefgh", 2) == 3
    with pytest.raises(ValueError):
        edit_distance("a", "b", -1)


short_text = st.text(st.sampled_from("abcde"), max_size=9)


@settings(max_examples=500, deadline=None)
@given(short_text, short_text, st.integers(0, 10))
def test_edit_distance_properties(a, b, limit):
    d = edit_distance(a, b, limit)
    assert d == edit_distance(b, a, limit)                        # symmetric
    assert d == min(osa_reference(a, b), limit + 1)               # exact within the limit, limit+1 beyond
    assert (d == 0) == (a == b)
    assert d <= max(len(a), len(b))
    assert 0 <= d <= limit + 1


@settings(max_examples=200, deadline=None)
@given(short_text.filter(lambda s: len(s) >= 2), st.data())
def test_edit_distance_transposition_counts_one(word, data):
    i = data.draw(st.integers(0, len(word) - 2))
    swapped = word[:i] + word[i + 1] + word[i] + word[i + 2:]
    assert edit_distance(word, swapped, 2) == (0 if swapped == word else 1)


def test_max_typos():
    assert [max_typos("x" * n) for n in range(0, 9)] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert max_typos("leathr") == 2 and max_typos("bag") == 1 and max_typos("be") == 0
    assert max_typos("сумка") == 1
    assert max_typos("12345") == 0            # numbers are exact
    assert max_typos("普洱茶饼") == 0           # so is Chinese


def test_stem_cache_does_not_change_results():
    analysis._stem.cache_clear()
    first = tokens(SAMPLES["pt"], "pt")
    assert tokens(SAMPLES["pt"], "pt") == first
