"""The Elasticsearch engine, driven through the real `elasticsearch` client against a fake cluster.

No Elasticsearch server runs here, so a small HTTP server on 127.0.0.1 plays
one: it records every request (method, path, query string, JSON or NDJSON
body) and answers in the shapes Elasticsearch documents (with the
`X-Elastic-Product` header the client insists on). The tests assert what the
engine *sends* (mappings, bulk lines, search bodies, the alias swap) and how
it reads the answers. Behaviour against a real cluster is covered by
tests/integration/test_search_contract_elasticsearch.py (ELASTICSEARCH_URL).
"""
from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from marketplace.storefront.search.elasticsearch import (
    LOCALES,
    ElasticsearchEngine,
    ElasticsearchRequestError,
    index_mappings,
)
from marketplace.storefront.search.engine import EngineUnavailable, FacetValue, SearchQuery

ALIAS = "buybrics-products"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any          # dict for JSON, list of dicts for NDJSON, None when empty
    headers: dict[str, str]


def es_error(status: int, kind: str, reason: str = "") -> tuple[int, dict]:
    cause = {"type": kind, "reason": reason or kind}
    return status, {"error": {"root_cause": [cause], **cause}, "status": status}


class FakeElasticsearch:
    """Just enough of an Elasticsearch node: indices, aliases, bulk, search, mget, health."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.indices: dict[str, dict] = {}
        self.aliases: dict[str, list[str]] = {}
        self.plugins: list[str] = []
        self.item_errors: dict[str, tuple[int, str]] = {}     # _id -> (status, error type) for bulk items
        self.stored: dict[str, tuple[int, dict]] = {}         # _id -> (_version, _source) for mget
        self.search_response: dict | None = None
        self.overrides: dict[tuple[str, str], tuple[int, Any]] = {}   # (method, path suffix) -> answer
        self.fail_bulk_number: int | None = None              # answer the nth bulk with a 500
        self.cluster_status = "green"
        self.count = 0
        self._bulks = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if "ndjson" in (self.headers.get("Content-Type") or ""):
                    body: Any = [json.loads(line) for line in raw.splitlines() if line.strip()]
                else:
                    body = json.loads(raw) if raw else None
                request = Request(self.command, unquote(parts.path),
                                  {k: v[-1] for k, v in parse_qs(parts.query).items()}, body,
                                  {k.lower(): v for k, v in self.headers.items()})
                fake.requests.append(request)
                status, answer = fake.answer(request)
                payload = b"" if answer is None or self.command == "HEAD" else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Type", "application/vnd.elasticsearch+json;compatible-with=9")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- answers ---------------------------------------------------------------

    def answer(self, r: Request) -> tuple[int, Any]:
        for (method, suffix), answer in self.overrides.items():
            if r.method == method and r.path.endswith(suffix):
                return answer
        segments = [s for s in r.path.split("/") if s]
        last = segments[-1] if segments else ""
        if segments[:1] == ["_alias"]:
            name = segments[1]
            if name not in self.aliases:
                return es_error(404, "aliases_not_found_exception", f"aliases [{name}] missing")
            return 200, {index: {"aliases": {name: {}}} for index in self.aliases[name]}
        if r.path == "/_cat/plugins":
            return 200, [{"name": "node-1", "component": p, "version": "9.1.0"} for p in self.plugins]
        if r.path == "/_cluster/health":
            return 200, {"cluster_name": "fake", "status": self.cluster_status, "number_of_nodes": 1}
        if r.path == "/_aliases":
            for action in r.body["actions"]:
                (kind, spec), = action.items()
                members = self.aliases.setdefault(spec["alias"], [])
                if kind == "remove":
                    members.remove(spec["index"])
                else:
                    members.append(spec["index"])
            return 200, {"acknowledged": True}
        if last == "_bulk":
            return self._bulk(r)
        if last == "_search":
            return 200, self.search_response or {
                "took": 1, "timed_out": False, "hits": {"total": {"value": 0, "relation": "eq"},
                                                        "max_score": None, "hits": []}}
        if last == "_mget":
            docs = []
            for _id in r.body["ids"]:
                if _id in self.stored:
                    version, source = self.stored[_id]
                    docs.append({"_index": f"{ALIAS}-v0", "_id": _id, "_version": version, "_seq_no": 1,
                                 "_primary_term": 1, "found": True, "_source": source})
                else:
                    docs.append({"_index": f"{ALIAS}-v0", "_id": _id, "found": False})
            return 200, {"docs": docs}
        if last == "_count":
            return 200, {"count": self.count, "_shards": {"total": 1, "successful": 1, "failed": 0}}
        if last in ("_settings", "_refresh"):
            return 200, {"acknowledged": True, "_shards": {"total": 1, "successful": 1, "failed": 0}}
        if len(segments) == 1 and r.method == "PUT":
            name = segments[0]
            if name in self.indices:
                return es_error(400, "resource_already_exists_exception", f"index [{name}] already exists")
            self.indices[name] = r.body
            for alias in (r.body or {}).get("aliases") or {}:
                self.aliases.setdefault(alias, []).append(name)
            return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
        if len(segments) == 1 and r.method == "DELETE":
            for name in segments[0].split(","):
                self.indices.pop(name, None)
                for members in self.aliases.values():
                    if name in members:
                        members.remove(name)
            return 200, {"acknowledged": True}
        return es_error(400, "illegal_argument_exception", f"fake cannot answer {r.method} {r.path}")

    def _bulk(self, r: Request) -> tuple[int, Any]:
        self._bulks += 1
        if self.fail_bulk_number == self._bulks:
            return es_error(500, "internal_error")
        items, errors, lines = [], False, list(r.body)
        while lines:
            action = lines.pop(0)
            (op, meta), = action.items()
            if op in ("index", "create", "update"):
                lines.pop(0)
            _id = meta["_id"]
            if _id in self.item_errors:
                status, kind = self.item_errors[_id]
                errors = True
                items.append({op: {"_index": f"{ALIAS}-v0", "_id": _id, "status": status,
                                   "error": {"type": kind, "reason": f"{kind} on [{_id}]"}}})
            else:
                result = "deleted" if op == "delete" else "created"
                items.append({op: {"_index": f"{ALIAS}-v0", "_id": _id, "_version": meta.get("version", 1),
                                   "result": result, "_shards": {"total": 1, "successful": 1, "failed": 0},
                                   "_seq_no": 0, "_primary_term": 1,
                                   "status": 200 if op == "delete" else 201}})
        return 200, {"took": 3, "errors": errors, "items": items}

    # -- inspection ------------------------------------------------------------

    def of(self, method: str, suffix: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

    def calls(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]


@pytest.fixture
def fake():
    server = FakeElasticsearch()
    yield server
    server.close()


@pytest.fixture
def engine(fake):
    return ElasticsearchEngine(fake.url, ALIAS)


@pytest.fixture
def ready(fake, engine):
    """An engine whose alias already exists (the bootstrap requests are forgotten)."""
    fake.aliases[ALIAS] = [f"{ALIAS}-v0"]
    fake.indices[f"{ALIAS}-v0"] = {}
    engine.search(SearchQuery())
    fake.requests.clear()
    return engine


def document(product_id: int = 1, version: int = 3, **overrides: Any) -> dict[str, Any]:
    doc = {
        "id": product_id, "version": version, "sku": f"SKU-{product_id}", "status": "active",
        "vendor_id": 7, "vendor_name": "Couro Bom", "origin_country": "BR",
        "category": "bags", "category_path": ["accessories", "bags"], "original_locale": "pt",
        "translations": {"pt": {"title": "Bolsas de couro", "description": "Feitas à mão em Franca."},
                         "en": {"title": "Leather bags", "description": "Handmade in Franca."}},
        "price": {"amount": "250.00", "currency": "BRL"}, "price_base_micros": 45_000_000,
        "stock": 4, "in_stock": True, "hs_code": "420221", "attributes": {"colour": "tan"},
        "images": ["https://img.example/1.jpg"], "created_at": "2026-11-22T12:00:00+00:00",
        "updated_at": "2026-11-22T12:00:00+00:00", "boost": 1.0, "campaigns": [],
    }
    doc.update(overrides)
    return doc


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- index creation ------------------------------------------------------------

def test_first_write_creates_a_versioned_index_behind_the_alias(fake, engine):
    engine.index([document()])

    assert fake.calls()[:4] == [f"HEAD /_alias/{ALIAS}", "GET /_cat/plugins",
                                f"PUT /{ALIAS}-v0", f"PUT /{ALIAS}/_bulk"]
    create = fake.of("PUT", f"/{ALIAS}-v0")[0].body
    assert create["aliases"] == {ALIAS: {}}
    assert fake.aliases == {ALIAS: [f"{ALIAS}-v0"]}
    # later calls do not check again
    engine.index([document(version=4)])
    assert len(fake.of("HEAD", f"/_alias/{ALIAS}")) == 1


def test_mappings_analyse_each_locale_in_its_language(fake, engine):
    engine.index([document()])
    body = fake.of("PUT", f"/{ALIAS}-v0")[0].body
    properties = body["mappings"]["properties"]
    analyzers = {locale: properties[f"title_{locale}"]["analyzer"] for locale in LOCALES}
    assert analyzers == {"en": "english", "pt": "brazilian", "ru": "russian", "hi": "hindi", "zh": "cjk",
                         "ar": "arabic", "fa": "persian", "id": "indonesian", "am": "standard"}
    for locale in LOCALES:
        assert properties[f"description_{locale}"]["analyzer"] == analyzers[locale]
        assert properties[f"suggest_{locale}"]["type"] == "search_as_you_type"
    folding = properties["title_pt"]["fields"]["folded"]["analyzer"]
    assert properties["description_en"]["fields"]["folded"]["analyzer"] == folding
    assert body["settings"]["analysis"]["analyzer"][folding] == {
        "type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}
    assert {name: properties[name]["type"] for name in (
        "origin_country", "category_path", "campaigns", "vendor_id", "price_base_micros", "in_stock",
        "created_at", "boost", "id")} == {
        "origin_country": "keyword", "category_path": "keyword", "campaigns": "keyword", "vendor_id": "integer",
        "price_base_micros": "long", "in_stock": "boolean", "created_at": "date", "boost": "float", "id": "long"}
    assert properties["doc"] == {"type": "object", "enabled": False}
    assert body["mappings"]["dynamic"] == "strict"
    assert body["settings"]["index"]["number_of_shards"] == 1


@pytest.mark.parametrize("plugins, analyzer", [
    (["analysis-smartcn", "analysis-icu"], "smartcn"),
    (["analysis-icu"], "icu_analyzer"),
    ([], "cjk"),
])
def test_chinese_uses_the_best_installed_analyzer(fake, engine, plugins, analyzer):
    fake.plugins = plugins
    engine.search(SearchQuery())
    properties = fake.of("PUT", f"/{ALIAS}-v0")[0].body["mappings"]["properties"]
    assert properties["title_zh"]["analyzer"] == properties["description_zh"]["analyzer"] == analyzer


def test_a_concurrent_bootstrap_is_not_an_error(fake, engine):
    fake.overrides[("PUT", f"/{ALIAS}-v0")] = es_error(400, "resource_already_exists_exception")
    engine.index([document()])
    assert len(fake.of("PUT", "/_bulk")) == 1


def test_every_field_the_engine_writes_is_mapped():
    properties = index_mappings()["properties"]
    from marketplace.storefront.search.elasticsearch import to_source

    doc = document(translations={locale: {"title": "t", "description": "d"} for locale in LOCALES})
    assert set(to_source(doc)) <= set(properties)


# -- writing -------------------------------------------------------------------

def test_index_sends_external_versions_and_the_document(fake, ready):
    doc = document(product_id=42, version=7)
    ready.index([doc, document(product_id=43, version=1)])

    (bulk,) = fake.of("PUT", f"/{ALIAS}/_bulk")
    assert bulk.query["require_alias"] == "true"
    assert "ndjson" in bulk.headers["content-type"]
    action, source = bulk.body[0], bulk.body[1]
    assert action == {"index": {"_id": "42", "version": 7, "version_type": "external_gte"}}
    assert source["doc"] == doc
    assert source["title_en"] == "Leather bags" and source["title_pt"] == "Bolsas de couro"
    assert source["description_pt"] == "Feitas à mão em Franca."
    assert source["suggest_en"] == "Leather bags"
    assert "title_ru" not in source
    assert source["category_path"] == ["accessories", "bags"]
    assert source["price_base_micros"] == 45_000_000 and source["vendor_id"] == 7
    assert source["created_at"] == "2026-11-22T12:00:00+00:00" and source["in_stock"] is True
    assert bulk.body[2] == {"index": {"_id": "43", "version": 1, "version_type": "external_gte"}}


def test_large_batches_go_in_chunks_of_a_thousand(fake, ready):
    ready.index([document(product_id=i) for i in range(1, 2502)])
    assert [len(r.body) // 2 for r in fake.of("PUT", "/_bulk")] == [1000, 1000, 501]


def test_a_version_conflict_is_expected_and_ignored(fake, ready):
    fake.item_errors["1"] = (409, "version_conflict_engine_exception")
    ready.index([document(product_id=1), document(product_id=2)])   # no error
    ready.delete({1: 3})
    assert len(fake.of("PUT", "/_bulk")) == 2


def test_a_rejected_document_raises(fake, ready):
    fake.item_errors["2"] = (400, "document_parsing_exception")
    with pytest.raises(ElasticsearchRequestError, match="document_parsing_exception"):
        ready.index([document(product_id=1), document(product_id=2)])


def test_a_full_queue_makes_the_engine_unavailable(fake, ready):
    fake.item_errors["1"] = (429, "es_rejected_execution_exception")
    with pytest.raises(EngineUnavailable):
        ready.index([document(product_id=1)])


def test_a_removed_index_is_recreated_and_written_again(fake, ready):
    fake.aliases.clear()
    fake.indices.clear()
    fake.item_errors["1"] = (404, "index_not_found_exception")
    original = fake._bulk

    def once(request):   # the first bulk finds no index; the second succeeds
        if len(fake.of("PUT", "/_bulk")) > 1:
            fake.item_errors.clear()
        return original(request)

    fake._bulk = once
    ready.index([document(product_id=1)])
    assert fake.calls() == [f"PUT /{ALIAS}/_bulk", f"HEAD /_alias/{ALIAS}", "GET /_cat/plugins",
                            f"PUT /{ALIAS}-v0", f"PUT /{ALIAS}/_bulk"]


def test_delete_sends_external_versions_and_ignores_missing_and_newer(fake, ready):
    fake.item_errors["5"] = (404, "not_found")
    fake.item_errors["6"] = (409, "version_conflict_engine_exception")
    ready.delete({5: 2, 6: 9, 7: 2**31 - 1})
    (bulk,) = fake.of("PUT", f"/{ALIAS}/_bulk")
    assert bulk.body == [
        {"delete": {"_id": "5", "version": 2, "version_type": "external_gte"}},
        {"delete": {"_id": "6", "version": 9, "version_type": "external_gte"}},
        {"delete": {"_id": "7", "version": 2**31 - 1, "version_type": "external_gte"}},
    ]


def test_set_boosts_rewrites_stored_documents_at_their_version(fake, ready):
    from marketplace.storefront.search.elasticsearch import to_source

    stored = document(product_id=1, version=5)
    fake.stored["1"] = (5, {"doc": stored})
    ready.set_boosts({1: (2.5, ["buy-brics-ciie"]), 2: (3.0, ["x"])})   # 2 is not indexed: ignored

    (mget,) = fake.of("POST", f"/{ALIAS}/_mget")
    assert mget.body == {"ids": ["1", "2"]} and mget.query["_source"] == "doc"
    (bulk,) = fake.of("PUT", f"/{ALIAS}/_bulk")
    assert bulk.body[0] == {"index": {"_id": "1", "version": 5, "version_type": "external_gte"}}
    assert bulk.body[1]["boost"] == 2.5 and bulk.body[1]["campaigns"] == ["buy-brics-ciie"]
    assert bulk.body[1]["doc"] == {**stored, "boost": 2.5, "campaigns": ["buy-brics-ciie"]}
    assert bulk.body[1] == to_source({**stored, "boost": 2.5, "campaigns": ["buy-brics-ciie"]})
    assert len(bulk.body) == 2


def test_set_boosts_reads_again_after_a_newer_version_landed(fake, ready):
    fake.stored["1"] = (5, {"doc": document(product_id=1, version=5)})
    fake.item_errors["1"] = (409, "version_conflict_engine_exception")
    original = fake._bulk

    def newer_after_first(request):
        answer = original(request)
        fake.item_errors.clear()
        fake.stored["1"] = (6, {"doc": document(product_id=1, version=6, stock=0)})
        return answer

    fake._bulk = newer_after_first
    ready.set_boosts({1: (2.0, ["c"])})
    bulks = fake.of("PUT", "/_bulk")
    assert [b.body[0]["index"]["version"] for b in bulks] == [5, 6]
    assert bulks[1].body[1]["doc"]["stock"] == 0 and bulks[1].body[1]["boost"] == 2.0


# -- reindex -------------------------------------------------------------------

def test_reindex_builds_a_new_index_and_swaps_the_alias_atomically(fake, ready):
    seen: list[int] = []
    ready.reindex((document(product_id=i) for i in range(1, 2501)), progress=seen.append)

    (create,) = [r for r in fake.of("PUT", "") if r.path.startswith(f"/{ALIAS}-v2") and r.path.count("/") == 1]
    new = create.path.strip("/")
    assert new.startswith(f"{ALIAS}-v") and new[len(ALIAS) + 2:].isdigit()
    assert create.body["settings"]["index"]["refresh_interval"] == "-1"
    assert "aliases" not in create.body
    assert "suggest_en" in create.body["mappings"]["properties"]
    bulks = fake.of("PUT", f"/{new}/_bulk")
    assert [len(b.body) // 2 for b in bulks] == [1000, 1000, 500]
    assert all("require_alias" not in b.query for b in bulks)
    assert bulks[0].body[0] == {"index": {"_id": "1", "version": 3, "version_type": "external_gte"}}
    assert seen == [1000, 1000, 500]
    (settings,) = fake.of("PUT", f"/{new}/_settings")
    assert settings.body == {"index": {"refresh_interval": None}}
    (swap,) = fake.of("POST", "/_aliases")
    assert swap.body == {"actions": [{"remove": {"index": f"{ALIAS}-v0", "alias": ALIAS}},
                                     {"add": {"index": new, "alias": ALIAS}}]}
    order = fake.calls()
    assert order.index(f"PUT /{new}/_settings") < order.index(f"POST /{new}/_refresh") \
        < order.index("POST /_aliases") < order.index(f"DELETE /{ALIAS}-v0")
    assert order[-1] == f"DELETE /{ALIAS}-v0"
    assert fake.aliases[ALIAS] == [new] and f"{ALIAS}-v0" not in fake.indices


def test_reindex_without_an_alias_creates_it(fake, engine):
    engine.reindex([document()])
    (swap,) = fake.of("POST", "/_aliases")
    (action,) = swap.body["actions"]
    assert list(action) == ["add"] and action["add"]["alias"] == ALIAS
    assert not fake.of("DELETE", "")
    engine.index([document(version=4)])          # no bootstrap after a reindex
    assert not fake.of("PUT", f"/{ALIAS}-v0")


def test_a_failed_reindex_leaves_the_live_index_alone(fake, ready):
    fake.fail_bulk_number = 2
    with pytest.raises(EngineUnavailable):
        ready.reindex(document(product_id=i) for i in range(1, 2001))
    assert not fake.of("POST", "/_aliases")
    new = next(r.path.strip("/") for r in fake.of("PUT", "") if r.path.startswith(f"/{ALIAS}-v2")
               and r.path.count("/") == 1)
    assert fake.of("DELETE", f"/{new}")
    assert fake.aliases[ALIAS] == [f"{ALIAS}-v0"] and new not in fake.indices


# -- searching -----------------------------------------------------------------

def test_search_body(fake, ready):
    ready.search(SearchQuery(q="leather bag", locale="pt", origin_countries=("BR", "IN"), category="bags",
                             vendor_id=7, price_min_micros=1_000_000, price_max_micros=90_000_000,
                             in_stock=True, campaign="buy-brics-ciie", page=3, per_page=10,
                             price_ranges=((None, 10_000_000), (10_000_000, 50_000_000), (50_000_000, None))))
    (search,) = fake.of("POST", f"/{ALIAS}/_search")
    body = search.body
    assert body["from"] == 20 and body["size"] == 10 and body["track_total_hits"] is True
    score = body["query"]["function_score"]
    assert score["field_value_factor"]["field"] == "boost" and score["boost_mode"] == "multiply"
    inner = score["query"]["bool"]
    fuzzy, across = inner["must"][0]["bool"]["should"]
    assert fuzzy["multi_match"]["query"] == "leather bag"
    assert fuzzy["multi_match"]["fuzziness"] == "AUTO" and fuzzy["multi_match"]["operator"] == "and"
    assert across["multi_match"]["type"] == "cross_fields" and across["multi_match"]["operator"] == "and"
    fields = fuzzy["multi_match"]["fields"]
    assert {"title_pt^6", "description_pt^2", "title_en^2", "description_en^1", "title_pt.folded^6",
            "title_zh^2"} <= set(fields)
    assert not any(f.startswith("title_zh.folded") for f in fields)
    assert inner["filter"] == [{"range": {"price_base_micros": {"gte": 1_000_000, "lte": 90_000_000}}},
                               {"term": {"in_stock": True}}, {"term": {"campaigns": "buy-brics-ciie"}}]
    country = {"terms": {"origin_country": ["BR", "IN"]}}
    category = {"term": {"category_path": "bags"}}
    vendor = {"term": {"vendor_id": 7}}
    assert body["post_filter"] == {"bool": {"filter": [country, category, vendor]}}
    aggs = body["aggs"]
    # each facet ignores its own filter, keeps the others
    assert aggs["origin_country"]["filter"] == {"bool": {"filter": [category, vendor]}}
    assert aggs["vendor"]["filter"] == {"bool": {"filter": [country, category]}}
    assert aggs["category"]["filter"] == {"bool": {"filter": [country, vendor]}}
    assert aggs["price"]["filter"] == {"bool": {"filter": [country, category, vendor]}}
    assert aggs["category"]["aggs"]["values"]["terms"]["field"] == "category_path"
    assert aggs["vendor"]["aggs"]["values"]["terms"]["field"] == "vendor_id"
    assert aggs["price"]["aggs"]["values"]["range"] == {
        "field": "price_base_micros", "keyed": True,
        "ranges": [{"key": "0", "to": 10_000_000}, {"key": "1", "from": 10_000_000, "to": 50_000_000},
                   {"key": "2", "from": 50_000_000}]}
    assert body["sort"] == [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}]
    assert body["_source"] == {"includes": ["doc"]}


@pytest.mark.parametrize("sort, q, expected", [
    ("relevance", "", [{"boost": {"order": "desc"}}, {"created_at": {"order": "desc"}}, {"id": {"order": "asc"}}]),
    ("price_asc", "bag", [{"price_base_micros": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}]),
    ("price_desc", "", [{"price_base_micros": {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}]),
    ("newest", "", [{"created_at": {"order": "desc"}}, {"id": {"order": "desc"}}]),
])
def test_sorts(fake, ready, sort, q, expected):
    ready.search(SearchQuery(q=q, sort=sort))
    assert fake.of("POST", "/_search")[0].body["sort"] == expected


def test_an_empty_query_matches_everything_without_facet_filters(fake, ready):
    ready.search(SearchQuery(q="   "))
    body = fake.of("POST", "/_search")[0].body
    assert body["query"]["function_score"]["query"]["bool"] == {"must": [{"match_all": {}}], "filter": []}
    assert "post_filter" not in body and "price" not in body["aggs"]
    assert body["from"] == 0 and body["size"] == 20


def test_pages_past_the_result_window_ask_only_for_totals(fake, ready):
    ready.search(SearchQuery(page=600, per_page=20))
    body = fake.of("POST", "/_search")[0].body
    assert body["from"] == 0 and body["size"] == 0


def test_search_response_becomes_a_result(fake, ready):
    first, second = document(product_id=1), document(product_id=2, origin_country="IN")
    fake.search_response = {
        "took": 4, "timed_out": False,
        "hits": {"total": {"value": 2, "relation": "eq"}, "max_score": None, "hits": [
            {"_index": f"{ALIAS}-v0", "_id": "1", "_score": 3.2, "_source": {"doc": first}, "sort": [3.2, 1]},
            {"_index": f"{ALIAS}-v0", "_id": "2", "_score": 1.1, "_source": {"doc": second}, "sort": [1.1, 2]},
        ]},
        "aggregations": {
            "origin_country": {"doc_count": 2, "values": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                                                          "buckets": [{"key": "BR", "doc_count": 1},
                                                                      {"key": "IN", "doc_count": 1}]}},
            "vendor": {"doc_count": 2, "values": {"buckets": [{"key": 7, "doc_count": 2}]}},
            "category": {"doc_count": 3, "values": {"buckets": [
                {"key": "accessories", "doc_count": 3}, {"key": "bags", "doc_count": 2},
                {"key": "wallets", "doc_count": 1}]}},
            "price": {"doc_count": 2, "values": {"buckets": {   # keyed: the cluster's order is not ours
                "2": {"from": 50_000_000.0, "doc_count": 0},
                "0": {"to": 10_000_000.0, "doc_count": 0},
                "1": {"from": 10_000_000.0, "to": 50_000_000.0, "doc_count": 2}}}},
        },
    }
    ranges = ((None, 10_000_000), (10_000_000, 50_000_000), (50_000_000, None))
    result = ready.search(SearchQuery(q="bag", price_ranges=ranges))
    assert result.total == 2
    assert result.hits == [first, second]
    assert result.facets["origin_country"] == [FacetValue("BR", 1), FacetValue("IN", 1)]
    assert result.facets["vendor"] == [FacetValue(7, 2)]
    assert result.facets["category"] == [FacetValue("accessories", 3), FacetValue("bags", 2),
                                         FacetValue("wallets", 1)]
    assert result.facets["price"] == [FacetValue((None, 10_000_000), 0), FacetValue((10_000_000, 50_000_000), 2),
                                      FacetValue((50_000_000, None), 0)]


def test_no_matches_still_lists_every_price_bucket(fake, ready):
    result = ready.search(SearchQuery(q="zzz", price_ranges=((None, 5), (5, None))))
    assert result.total == 0 and result.hits == []
    assert result.facets == {"origin_country": [], "vendor": [], "category": [],
                             "price": [FacetValue((None, 5), 0), FacetValue((5, None), 0)]}


def test_a_search_on_a_removed_index_recreates_it(fake, ready):
    fake.aliases.clear()
    fake.indices.clear()
    fake.overrides[("POST", f"/{ALIAS}/_search")] = es_error(404, "index_not_found_exception")
    original = fake.answer

    def recreate_then_answer(request):
        if request.method == "PUT":
            fake.overrides.clear()
        return original(request)

    fake.answer = recreate_then_answer
    assert ready.search(SearchQuery(q="bag")).total == 0
    assert fake.calls() == [f"POST /{ALIAS}/_search", f"HEAD /_alias/{ALIAS}", "GET /_cat/plugins",
                            f"PUT /{ALIAS}-v0", f"POST /{ALIAS}/_search"]


def test_suggest_prefers_the_shoppers_locale(fake, ready):
    leather = document(product_id=1)
    cafe = document(product_id=2, translations={"pt": {"title": "Café do Cerrado", "description": ""},
                                                "en": {"title": "Cerrado coffee", "description": ""}})
    fake.search_response = {"hits": {"total": {"value": 2, "relation": "eq"}, "hits": [
        {"_id": "2", "_score": 2.0, "_source": {"doc": {"translations": cafe["translations"]}},
         "matched_queries": ["pt"]},
        {"_id": "1", "_score": 1.0, "_source": {"doc": {"translations": leather["translations"]}},
         "matched_queries": ["en", "pt"]},
    ]}}
    assert ready.suggest("c", "en", limit=5) == ["Leather bags", "Café do Cerrado", "Bolsas de couro"]
    body = fake.of("POST", "/_search")[0].body
    clauses = body["query"]["bool"]["should"]
    assert len(clauses) == len(LOCALES)
    english = next(c["multi_match"] for c in clauses if c["multi_match"]["_name"] == "en")
    assert english == {"query": "c", "type": "bool_prefix", "operator": "and", "boost": 10, "_name": "en",
                       "fields": ["suggest_en", "suggest_en._2gram", "suggest_en._3gram"]}
    assert body["size"] == 15
    assert ready.suggest("c", "en", limit=2) == ["Leather bags", "Café do Cerrado"]


def test_suggest_without_a_word_asks_nothing(fake, ready):
    assert ready.suggest("  - ", "en") == []
    assert not fake.requests


# -- failures and health -------------------------------------------------------

def test_a_refused_connection_is_engine_unavailable():
    engine = ElasticsearchEngine(f"http://127.0.0.1:{closed_port()}", ALIAS, request_timeout=2)
    for call in (lambda: engine.index([document()]), lambda: engine.delete({1: 1}),
                 lambda: engine.search(SearchQuery(q="bag")), lambda: engine.suggest("ba", "en"),
                 lambda: engine.set_boosts({1: (2.0, [])}), lambda: engine.reindex([document()])):
        with pytest.raises(EngineUnavailable, match="unreachable"):
            call()
    health = engine.health()
    assert health["status"] == "down" and health["documents"] is None and "unreachable" in health["detail"]


def test_server_errors_are_engine_unavailable_and_bad_requests_are_not(fake, ready):
    fake.overrides[("POST", "/_search")] = es_error(503, "search_phase_execution_exception")
    with pytest.raises(EngineUnavailable):
        ready.search(SearchQuery(q="bag"))
    fake.overrides[("POST", "/_search")] = es_error(400, "parsing_exception")
    with pytest.raises(ElasticsearchRequestError):
        ready.search(SearchQuery(q="bag"))


def test_an_elasticsearch_8_server_is_reported_clearly(fake, engine):
    fake.overrides[("POST", "/_search")] = es_error(
        400, "media_type_header_exception", "Accept version must be either version 8 or 7, but found 9.")
    fake.aliases[ALIAS] = [f"{ALIAS}-v0"]
    engine._ready = True
    with pytest.raises(EngineUnavailable, match="9.x"):
        engine.search(SearchQuery())


def test_health(fake, ready):
    fake.count = 12
    assert ready.health() == {"status": "ok", "documents": 12,
                              "detail": f"elasticsearch fake green, {ALIAS} -> {ALIAS}-v0"}
    assert fake.calls() == ["GET /_cluster/health", f"HEAD /_alias/{ALIAS}", f"GET /_alias/{ALIAS}",
                            f"POST /{ALIAS}/_count"]
    fake.cluster_status = "red"
    assert ready.health()["status"] == "down"


def test_health_before_any_index(fake, engine):
    health = engine.health()
    assert health["status"] == "ok" and health["documents"] == 0 and "not created yet" in health["detail"]
    assert not fake.of("PUT", "")
