"""The embedded search engine: SQLite FTS5 beside (not inside) the main database.

Text is analysed in Python per language (`marketplace.storefront.search.analysis`: Unicode
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
from dataclasses import replace
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable

from marketplace.storefront.search import analysis
from marketplace.storefront.search.engine import (EngineUnavailable, FacetValue, Progress, SearchQuery, SearchResult,
                                                  rating_tenths)

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
    rating_tenths INTEGER,
    rating_count INTEGER NOT NULL DEFAULT 0
);
-- the rendered documents, apart, so that scans of docs (facets, filters) stay narrow
CREATE TABLE IF NOT EXISTS bodies (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS docs_live_price ON docs(deleted, price_base_micros);
CREATE INDEX IF NOT EXISTS docs_live_created ON docs(deleted, created_at);
CREATE INDEX IF NOT EXISTS docs_vendor ON docs(vendor_id);
CREATE INDEX IF NOT EXISTS docs_country ON docs(origin_country);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5({", ".join(TEXT_COLUMNS)},
    tokenize = "{analysis.FTS5_TOKENIZE}");
CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(fts, 'row');
CREATE VIRTUAL TABLE IF NOT EXISTS suggest USING fts5(words, title UNINDEXED, locale UNINDEXED,
    product UNINDEXED, tokenize = "{analysis.FTS5_TOKENIZE}", prefix = '1 2 3');
"""
#: Columns added to `docs` since its first version, added to an older index file when it is opened (its
#: documents read as unrated until they are written again or the index is rebuilt).
ADDED_COLUMNS = (("rating_tenths", "INTEGER"), ("rating_count", "INTEGER NOT NULL DEFAULT 0"))


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._writes = 0  # this process's own commits (data_version only sees other connections')
        # One connection per process that only ever reads PRAGMA data_version: the value is per connection,
        # so comparing values read on different threads' connections would miss writes.
        self._version_lock = threading.Lock()
        self._version_conn: tuple[Path, sqlite3.Connection] | None = None
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
        present = {row[1] for row in conn.execute("PRAGMA table_info(docs)")}
        for name, kind in ADDED_COLUMNS:
            if name not in present:
                try:
                    conn.execute(f"ALTER TABLE docs ADD COLUMN {name} {kind}")
                except sqlite3.OperationalError:  # another process added it first
                    pass
        return conn

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection to the live index, reopened after a swap.

        The pointer's content (the live file's unique name) decides, not its mtime: with a coarse
        file-system clock, or two swaps within one tick, the mtime stays the same across a swap."""
        path = self._current_file()
        local = self._local
        if getattr(local, "path", None) != path:
            if getattr(local, "conn", None) is not None:
                local.conn.close()
            local.conn, local.path = self._connect(path), path
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
                         " " + " ".join(doc.get("campaigns", [])) + " ", rating_tenths(doc),
                         int(doc.get("rating_count") or 0), json.dumps(doc, ensure_ascii=False)))
            fts_rows.append((doc["id"], *EmbeddedEngine._text_values(doc)))
            for locale, text in doc["translations"].items():
                words = " ".join(analysis.prefix_tokens(text["title"]))
                if words:
                    suggest_rows.append((words, text["title"], locale, doc["id"]))
        conn.executemany("DELETE FROM fts WHERE rowid = ?", replaced)
        conn.executemany("INSERT OR REPLACE INTO bodies (id, doc) VALUES (?, ?)",
                         [(row[0], row[-1]) for row in rows])
        conn.executemany("DELETE FROM suggest WHERE product = ?", replaced)
        conn.executemany("INSERT OR REPLACE INTO docs (id, version, vendor_id, vendor_name, origin_country, "
                         "category_path, price_base_micros, in_stock, created_at, boost, campaigns, rating_tenths, "
                         "rating_count, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                         [row[:-1] for row in rows])
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
                    self._writes += 1
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
                conn.execute("INSERT OR REPLACE INTO docs (id, version, deleted) VALUES (?, ?, 1)",
                             (product_id, version))
                conn.execute("DELETE FROM bodies WHERE id = ?", (product_id,))

        self._transaction(work)

    def set_boosts(self, boosts: dict[int, tuple[float, list[str]]]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for product_id, (boost, campaigns) in boosts.items():
                row = conn.execute("SELECT doc FROM bodies WHERE id = ?", (product_id,)).fetchone()
                if not row:
                    continue
                doc = json.loads(row[0])
                doc["boost"], doc["campaigns"] = boost, campaigns
                conn.execute("UPDATE docs SET boost = ?, campaigns = ? WHERE id = ?",
                             (boost, " " + " ".join(campaigns) + " ", product_id))
                conn.execute("UPDATE bodies SET doc = ? WHERE id = ?", (json.dumps(doc, ensure_ascii=False), product_id))

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
        """One clause per distinct analysis of the query: locales that analyse it alike share a clause."""
        expansions: dict[str, list[str]] = {}
        clauses = []
        for terms, locales in analysis.query_analyses(text).items():
            parts = []
            for term in terms:
                if term not in expansions:
                    expansions[term] = self._alternatives(conn, term)
                parts.append("(" + " OR ".join(_quote(o) for o in expansions[term]) + ")")
            columns = " ".join(f"t_{loc} d_{loc}" for loc in locales)
            clauses.append(f"({{{columns}}} : ({' AND '.join(parts)}))")
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
            source = "temp.hits h CROSS JOIN docs d ON d.id = h.id"  # the hits drive the join
        where, params = self._filters(query)
        order = {
            "price_asc": "d.price_base_micros IS NULL, d.price_base_micros ASC, d.id",
            "price_desc": "d.price_base_micros IS NULL, d.price_base_micros DESC, d.id",
            "newest": "d.created_at DESC, d.id DESC",
            "rating": "d.rating_tenths IS NULL, d.rating_tenths DESC, d.rating_count DESC, d.id",
        }.get(query.sort) or ("h.score * d.boost ASC, d.id" if text else "d.boost DESC, d.created_at DESC, d.id")
        page = conn.execute(
            f"SELECT b.doc FROM (SELECT d.id FROM {source} WHERE {' AND '.join(where)} ORDER BY {order} "
            f"LIMIT ? OFFSET ?) AS p JOIN bodies b ON b.id = p.id",
            [*params, query.per_page, (query.page - 1) * query.per_page]).fetchall()
        total, facets = self._count_and_facets(conn, source, query)
        return SearchResult(total=total, hits=[json.loads(r[0]) for r in page], facets=facets)

    def _count_and_facets(self, conn: sqlite3.Connection, source: str,
                          query: SearchQuery) -> tuple[int, dict[str, list[FacetValue]]]:
        """Total and facets in one pass over the candidates; a facet ignores its own filter (multi-select).

        SQLite counts the candidates per (country, vendor, category path), with each price bucket's share;
        Python then combines those groups (far fewer than the hits) under each facet's filters."""
        base = replace(query, origin_countries=(), category=None, vendor_id=None)
        where, params = self._filters(base)
        buckets, bucket_params = [], []
        for low, high in query.price_ranges:
            bounds = "".join((" AND d.price_base_micros >= ?" if low is not None else "",
                              " AND d.price_base_micros < ?" if high is not None else ""))
            buckets.append(f", SUM(CASE WHEN d.price_base_micros IS NOT NULL{bounds} THEN 1 ELSE 0 END)")
            bucket_params += [bound for bound in (low, high) if bound is not None]
        rows = conn.execute(f"SELECT d.origin_country, d.vendor_id, d.category_path, COUNT(*){''.join(buckets)} "
                            f"FROM {source} WHERE {' AND '.join(where)} GROUP BY 1, 2, 3",
                            [*bucket_params, *params]).fetchall()
        countries = set(query.origin_countries)
        category = f"/{query.category}/" if query.category else None
        total = 0
        by_country: dict[str, int] = {}
        by_vendor: dict[int, int] = {}
        by_path: dict[str, int] = {}
        prices = [0] * len(query.price_ranges)
        for country, vendor, path, count, *in_buckets in rows:
            in_country = not countries or country in countries
            in_category = category is None or category in path
            in_vendor = query.vendor_id is None or vendor == query.vendor_id
            if in_category and in_vendor:
                by_country[country] = by_country.get(country, 0) + count
            if in_country and in_category:
                by_vendor[vendor] = by_vendor.get(vendor, 0) + count
            if in_country and in_vendor:
                by_path[path] = by_path.get(path, 0) + count
            if in_country and in_category and in_vendor:
                total += count
                for index, n in enumerate(in_buckets):
                    prices[index] += n
        by_category: dict[str, int] = {}
        for path, count in by_path.items():
            for slug in filter(None, path.split("/")):
                by_category[slug] = by_category.get(slug, 0) + count

        def ranked(counts: dict) -> list[FacetValue]:
            return [FacetValue(value, n) for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]

        return total, {
            "origin_country": ranked(by_country),
            "vendor": ranked(by_vendor),
            "category": ranked(by_category),
            "price": [FacetValue(bucket, n) for bucket, n in zip(query.price_ranges, prices)],
        }

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

    def generation(self) -> str | None:
        """Changes whenever the live index changes (a write from any process or thread, or a swap).

        `PRAGMA data_version` changes when another connection commits, as seen from one connection: so it
        is always read on the same one (this process's version connection), whichever thread asks."""
        try:
            path = self._current_file()
            with self._version_lock:
                if self._version_conn is None or self._version_conn[0] != path:
                    if self._version_conn is not None:
                        self._version_conn[1].close()
                    self._version_conn = (path, sqlite3.connect(path, timeout=10, isolation_level=None,
                                                                check_same_thread=False))
                data_version = self._version_conn[1].execute("PRAGMA data_version").fetchone()[0]
        except (sqlite3.Error, EngineUnavailable):
            return None
        return f"{path.name}:{data_version}:{self._writes}"

    def health(self) -> dict[str, Any]:
        try:
            count = self._conn().execute("SELECT count(*) FROM docs WHERE deleted = 0").fetchone()[0]
            return {"status": "ok", "detail": f"embedded ({self._current_file().name})", "documents": count}
        except (sqlite3.Error, EngineUnavailable) as error:
            return {"status": "down", "detail": str(error), "documents": None}
