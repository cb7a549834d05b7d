"""The embedded engine's generation (the search answer cache's key) changes with every write, whichever
process wrote and whichever thread asks: a thread that opens its index connection after a write must not
see the generation from before it."""
from __future__ import annotations

import threading

from marketplace.storefront.search.embedded import EmbeddedEngine
from tests.integration.test_search_contract import document


def _in_new_thread(function):
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("value", function()))
    thread.start()
    thread.join()
    return box["value"]


def test_a_write_by_another_process_changes_the_generation_seen_by_every_thread(tmp_path):
    reader = EmbeddedEngine(tmp_path / "search")   # a web worker serving searches on several threads
    writer = EmbeddedEngine(tmp_path / "search")   # another process delivering the outbox
    before = _in_new_thread(reader.generation)

    writer.index([document(1)])

    after = _in_new_thread(reader.generation)      # a thread whose connection opens only now
    assert after != before
    writer.index([document(2)])
    assert _in_new_thread(reader.generation) not in {before, after}


def test_the_generation_is_stable_while_nothing_changes(tmp_path):
    engine = EmbeddedEngine(tmp_path / "search")
    engine.index([document(1)])
    first = _in_new_thread(engine.generation)
    assert _in_new_thread(engine.generation) == first
    assert engine.generation() == first
