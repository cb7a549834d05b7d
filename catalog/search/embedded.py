"""The embedded search engine: SQLite FTS5 beside (not inside) the main database.

Text is analysed in Python per language (`catalog.search.analysis`: Unicode
normalisation, case and accent folding, Snowball stemmers, jieba for Chinese)
and stored as ready-made terms in one FTS5 table with a title and a
description column per locale, ranked by BM25 (the shopper's locale weighs
more, campaign boosts multiply). Facets, filters and sorts are plain SQL on a
`docs` table. Typos: a query word missing from the vocabulary also matches the
vocabulary words within `max_typos` edits.

Files live in one directory: `index-<stamp>.sqlite` files and a `CURRENT`
pointer naming the live one. A reindex builds a new file, then atomically
replaces the pointer; connections notice the change and reopen.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable

from catalog.search import analysis
from catalog.search.engine import EngineUnavailable, FacetValue, Progress, SearchQuery, SearchResult

LOCALES = analysis.LOCALES
TEXT_COLUMNS = [f"{kind}_{locale}" for locale in LOCALES for kind in ("t", "d")]
TITLE_WEIGHT, DESCRIPTION_WEIGHT, OWN_LOCALE_FACTOR = 4.0, 1.0, 3.0
MAX_FUZZY_EXPANSIONS = 8

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    vendor_id INTEGER,
    vendor_name TEXT,
    origin_country TEXT,
    category_path TEXT,
    price_base_micros INTEGER,
    in_stock INTEGER,
    created_at TEXT,
    boost REAL NOT NULL DEFAULT 1.0,
    campaigns TEXT NOT NULL DEFAULT '',
    doc TEXT
);
CREATE INDEX IF NOT EXISTS docs_live_price ON docs(deleted, price_base_micros);
CREATE INDEX IF NOT EXISTS docs_live_created ON docs(deleted, created_at);
CREATE INDEX IF NOT EXISTS docs_vendor ON docs(vendor_id);
CREATE INDEX IF NOT EXISTS docs_country ON docs(origin_country);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5({", ".join(TEXT_COLUMNS)},
    tokenize = "unicode61 remove_diacritics 0");
CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(fts, 'row');
CREATE VIRTUAL TABLE IF NOT EXISTS suggest USING fts5(words, title UNINDEXED, locale UNINDEXED,
    product UNINDEXED, tokenize = "unicode61 remove_diacritics 0", prefix = '1 2 3');
"""


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        if not self._pointer().exists():
            self._activate(self._create_file())

    # -- files and connections -------------------------------------------------

    def _pointer(self) -> Path:
        return self.directory / "CURRENT"

    def _current_file(self) -> Path:
        try:
            return self.directory / self._pointer().read_text().strip()
        except OSError as error:
            raise EngineUnavailable(f"search index pointer unreadable: {error}") from error

    def _create_file(self) -> Path:
        path = self.directory / f"index-{time.time_ns()}.sqlite"
        conn = sqlite3.connect(path)
        conn.executescript(SCHEMA)
        conn.close()
        return path

    def _activate(self, path: Path) -> None:
        tmp = self.directory / f"CURRENT.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(path.name)
        os.replace(tmp, self._pointer())

    def _connect(self, path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, score REAL)")
        return conn

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection to the live index, reopened after a swap."""
        try:
            stamp = self._pointer().stat().st_mtime_ns
        except OSError as error:
            raise EngineUnavailable(f"search index missing: {error}") from error
        local = self._local
        if getattr(local, "stamp", None) != stamp:
            path = self._current_file()
            if getattr(local, "path", None) != path:
                if getattr(local, "conn", None) is not None:
                    local.conn.close()
                local.conn, local.path = self._connect(path), path
            local.stamp = stamp
        return local.conn

    # -- writing ---------------------------------------------------------------

    @staticmethod
    def _text_values(doc: dict[str, Any]) -> list[str]:
        values = []
        for locale in LOCALES:
            text = doc["translations"].get(locale)
            values.append(" ".join(analysis.tokens(text["title"], locale)) if text else "")
            values.append(" ".join(analysis.tokens(text.get("description", ""), locale)) if text else "")
        return values

    @staticmethod
    def _write(conn: sqlite3.Connection, documents: list[dict[str, Any]], check_versions: bool = True) -> None:
        if not documents:
            return
        stored: dict[int, int] = {}
        if check_versions:
            ids = [d["id"] for d in documents]
            marks = ",".join("?" * len(ids))
            stored = dict(conn.execute(f"SELECT id, version FROM docs WHERE id IN ({marks})", ids).fetchall())
        rows, fts_rows, suggest_rows, replaced = [], [], [], []
        for doc in documents:
            if doc["id"] in stored:
                if stored[doc["id"]] > doc["version"]:
                    continue
                replaced.append((doc["id"],))
            rows.append((doc["id"], doc["version"], doc["vendor_id"], doc["vendor_name"], doc["origin_country"],
                         "/" + "/".join(doc["category_path"]) + "/", doc["price_base_micros"],
                         1 if doc["in_stock"] else 0, doc["created_at"], float(doc.get("boost", 1.0)),
                         " " + " ".join(doc.get("campaigns", [])) + " ", json.dumps(doc, ensure_ascii=False)))
            fts_rows.append((doc["id"], *EmbeddedEngine._text_values(doc)))
            for locale, text in doc["translations"].items():
                words = " ".join(analysis.prefix_tokens(text["title"]))
                if words:
                    suggest_rows.append((words, text["title"], locale, doc["id"]))
        conn.executemany("DELETE FROM fts WHERE rowid = ?", replaced)
        conn.executemany("DELETE FROM suggest WHERE product = ?", replaced)
        conn.executemany("INSERT OR REPLACE INTO docs (id, version, vendor_id, vendor_name, origin_country, "
                         "category_path, price_base_micros, in_stock, created_at, boost, campaigns, doc, deleted) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)", rows)
        conn.executemany(f"INSERT INTO fts (rowid, {', '.join(TEXT_COLUMNS)}) "
                         f"VALUES (?{', ?' * len(TEXT_COLUMNS)})", fts_rows)
        conn.executemany("INSERT INTO suggest (words, title, locale, product) VALUES (?, ?, ?, ?)", suggest_rows)

    def _transaction(self, work) -> None:
        try:
            conn = self._conn()
            with self._write_lock:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    work(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as error:
            raise EngineUnavailable(f"embedded search index: {error}") from error

    def index(self, documents: list[dict[str, Any]]) -> None:
        self._transaction(lambda conn: self._write(conn, documents))

    def delete(self, versions: dict[int, int]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for product_id, version in versions.items():
                row = conn.execute("SELECT version FROM docs WHERE id = ?", (product_id,)).fetchone()
                if row and row[0] > version:
                    continue
                conn.execute("DELETE FROM fts WHERE rowid = ?", (product_id,))
                conn.execute("DELETE FROM suggest WHERE product = ?", (product_id,))
                # a tombstone keeps the version, so an older upsert arriving late is ignored
                conn.execute("INSERT OR REPLACE INTO docs (id, version, deleted, doc) VALUES (?, ?, 1, NULL)",
                             (product_id, version))

        self._transaction(work)

    def set_boosts(self, boosts: dict[int, tuple[float, list[str]]]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for product_id, (boost, campaigns) in boosts.items():
                row = conn.execute("SELECT doc FROM docs WHERE id = ? AND deleted = 0", (product_id,)).fetchone()
                if not row:
                    continue
                doc = json.loads(row[0])
                doc["boost"], doc["campaigns"] = boost, campaigns
                conn.execute("UPDATE docs SET boost = ?, campaigns = ?, doc = ? WHERE id = ?",
                             (boost, " " + " ".join(campaigns) + " ", json.dumps(doc, ensure_ascii=False), product_id))

        self._transaction(work)

    def reindex(self, documents: Iterable[dict[str, Any]], progress: Progress | None = None) -> None:
        path = self._create_file()
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            conn.execute("BEGIN")
            self._write(conn, batch, check_versions=False)
            conn.execute("COMMIT")
            if progress:
                progress(len(batch))
            batch.clear()

        for doc in documents:
            batch.append(doc)
            if len(batch) >= 1000:
                flush()
        if batch:
            flush()
        conn.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        conn.execute("INSERT INTO suggest(suggest) VALUES ('optimize')")
        conn.close()
        previous = self._current_file() if self._pointer().exists() else None
        self._activate(path)
        self._cleanup(keep={path, previous})

    def _cleanup(self, keep: set[Path | None]) -> None:
        """Remove index files two generations old (readers of the previous one may still be busy)."""
        for old in self.directory.glob("index-*.sqlite*"):
            base = old.with_name(old.name.split(".sqlite")[0] + ".sqlite")
            if base not in keep:
                try:
                    old.unlink()
                except OSError:
                    pass

    # -- reading ---------------------------------------------------------------

    def _known(self, conn: sqlite3.Connection, term: str) -> bool:
        return conn.execute("SELECT 1 FROM vocab WHERE term = ?", (term,)).fetchone() is not None

    def _alternatives(self, conn: sqlite3.Connection, term: str) -> list[str]:
        """The term, plus vocabulary words within its typo budget when the term itself is unknown."""
        typos = analysis.max_typos(term)
        if typos == 0 or self._known(conn, term):
            return [term]
        first = term[0]
        upper = first[:-1] + chr(ord(first[-1]) + 1)
        candidates = conn.execute(
            "SELECT term, doc FROM vocab WHERE term >= ? AND term < ? AND length(term) BETWEEN ? AND ?",
            (first, upper, len(term) - typos, len(term) + typos)).fetchall()
        close = [(analysis.edit_distance(term, word, typos), -count, word) for word, count in candidates]
        close = sorted(c for c in close if c[0] <= typos)[:MAX_FUZZY_EXPANSIONS]
        return [term] + [word for _d, _c, word in close]

    def _match_expression(self, conn: sqlite3.Connection, text: str) -> str | None:
        clauses = []
        for locale in LOCALES:
            terms = list(dict.fromkeys(analysis.query_tokens(text, locale)))
            if not terms:
                continue
            parts = []
            for term in terms:
                options = self._alternatives(conn, term)
                parts.append("(" + " OR ".join(_quote(o) for o in options) + ")")
            clauses.append(f"({{t_{locale} d_{locale}}} : ({' AND '.join(parts)}))")
        return " OR ".join(clauses) if clauses else None

    @staticmethod
    def _weights(locale: str) -> str:
        weights = []
        for column in TEXT_COLUMNS:
            weight = TITLE_WEIGHT if column.startswith("t_") else DESCRIPTION_WEIGHT
            if column.endswith("_" + locale):
                weight *= OWN_LOCALE_FACTOR
            weights.append(str(weight))
        return ", ".join(weights)

    @staticmethod
    def _filters(query: SearchQuery, skip: str | None = None) -> tuple[list[str], list[Any]]:
        where, params = ["d.deleted = 0"], []
        if query.origin_countries and skip != "origin_country":
            where.append(f"d.origin_country IN ({','.join('?' * len(query.origin_countries))})")
            params += list(query.origin_countries)
        if query.category and skip != "category":
            where.append("d.category_path LIKE ?")
            params.append(f"%/{query.category}/%")
        if query.vendor_id is not None and skip != "vendor":
            where.append("d.vendor_id = ?")
            params.append(query.vendor_id)
        if query.price_min_micros is not None:
            where.append("d.price_base_micros >= ?")
            params.append(query.price_min_micros)
        if query.price_max_micros is not None:
            where.append("d.price_base_micros <= ?")
            params.append(query.price_max_micros)
        if query.in_stock is not None:
            where.append("d.in_stock = ?")
            params.append(1 if query.in_stock else 0)
        if query.campaign:
            where.append("d.campaigns LIKE ?")
            params.append(f"% {query.campaign} %")
        return where, params

    def search(self, query: SearchQuery) -> SearchResult:
        try:
            return self._search(self._conn(), query)
        except sqlite3.Error as error:
            raise EngineUnavailable(f"embedded search index: {error}") from error

    def _search(self, conn: sqlite3.Connection, query: SearchQuery) -> SearchResult:
        source = "docs d"
        text = query.q.strip()
        if text:
            expression = self._match_expression(conn, text)
            if expression is None:
                return SearchResult(total=0, hits=[], facets=self._empty_facets(query))
            conn.execute("DELETE FROM temp.hits")
            conn.execute(f"INSERT INTO temp.hits SELECT rowid, bm25(fts, {self._weights(query.locale)}) "
                         "FROM fts WHERE fts MATCH ?", (expression,))
            source = "temp.hits h JOIN docs d ON d.id = h.id"
        where, params = self._filters(query)
        condition = " AND ".join(where)
        total = conn.execute(f"SELECT count(*) FROM {source} WHERE {condition}", params).fetchone()[0]
        order = {
            "price_asc": "d.price_base_micros IS NULL, d.price_base_micros ASC, d.id",
            "price_desc": "d.price_base_micros IS NULL, d.price_base_micros DESC, d.id",
            "newest": "d.created_at DESC, d.id DESC",
        }.get(query.sort) or ("h.score * d.boost ASC, d.id" if text else "d.boost DESC, d.created_at DESC, d.id")
        rows = conn.execute(f"SELECT d.doc FROM {source} WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?",
                            [*params, query.per_page, (query.page - 1) * query.per_page]).fetchall()
        facets = self._facets(conn, source, query)
        return SearchResult(total=total, hits=[json.loads(r[0]) for r in rows], facets=facets)

    def _facets(self, conn: sqlite3.Connection, source: str, query: SearchQuery) -> dict[str, list[FacetValue]]:
        facets: dict[str, list[FacetValue]] = {}
        for name, column in (("origin_country", "d.origin_country"), ("vendor", "d.vendor_id")):
            where, params = self._filters(query, skip=name)
            rows = conn.execute(f"SELECT {column}, count(*) FROM {source} WHERE {' AND '.join(where)} "
                                f"GROUP BY 1 ORDER BY 2 DESC, 1", params).fetchall()
            facets[name] = [FacetValue(value, count) for value, count in rows]
        where, params = self._filters(query, skip="category")
        counts: dict[str, int] = {}
        for path, count in conn.execute(f"SELECT d.category_path, count(*) FROM {source} "
                                        f"WHERE {' AND '.join(where)} GROUP BY 1", params):
            for slug in filter(None, (path or "").split("/")):
                counts[slug] = counts.get(slug, 0) + count
        facets["category"] = [FacetValue(slug, n) for slug, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]
        facets["price"] = self._price_facet(conn, source, query)
        return facets

    def _price_facet(self, conn: sqlite3.Connection, source: str, query: SearchQuery) -> list[FacetValue]:
        if not query.price_ranges:
            return []
        where, params = self._filters(query)
        sums, range_params = [], []
        for low, high in query.price_ranges:
            conditions = ["d.price_base_micros IS NOT NULL"]
            if low is not None:
                conditions.append("d.price_base_micros >= ?")
                range_params.append(low)
            if high is not None:
                conditions.append("d.price_base_micros < ?")
                range_params.append(high)
            sums.append(f"coalesce(sum(CASE WHEN {' AND '.join(conditions)} THEN 1 ELSE 0 END), 0)")
        row = conn.execute(f"SELECT {', '.join(sums)} FROM {source} WHERE {' AND '.join(where)}",
                           [*range_params, *params]).fetchone()
        return [FacetValue(bucket, count) for bucket, count in zip(query.price_ranges, row)]

    @staticmethod
    def _empty_facets(query: SearchQuery) -> dict[str, list[FacetValue]]:
        return {"origin_country": [], "vendor": [], "category": [],
                "price": [FacetValue(bucket, 0) for bucket in query.price_ranges]}

    def suggest(self, prefix: str, locale: str, limit: int = 8) -> list[str]:
        words = analysis.prefix_tokens(prefix)
        if not words:
            return []
        expression = " AND ".join(_quote(w) for w in words[:-1]) + (" AND " if len(words) > 1 else "") \
            + _quote(words[-1]) + "*"
        try:
            rows = self._conn().execute(
                "SELECT title FROM suggest WHERE suggest MATCH ? "
                "ORDER BY (locale = ?) DESC, rank LIMIT ?", (f"words : ({expression})", locale, limit * 3)).fetchall()
        except sqlite3.Error as error:
            raise EngineUnavailable(f"embedded search index: {error}") from error
        return list(dict.fromkeys(r[0] for r in rows))[:limit]

    def health(self) -> dict[str, Any]:
        try:
            count = self._conn().execute("SELECT count(*) FROM docs WHERE deleted = 0").fetchone()[0]
            return {"status": "ok", "detail": f"embedded ({self._current_file().name})", "documents": count}
        except (sqlite3.Error, EngineUnavailable) as error:
            return {"status": "down", "detail": str(error), "documents": None}
