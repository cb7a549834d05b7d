"""The floor plan holds: imports run down the layers only, nothing circles, and nothing is imported inside
a function to dodge a cycle (see tests/architecture.py for the layers)."""
from __future__ import annotations

import pytest

from tests import architecture

#: Modules allowed past MAX_LINES because they hold one capability each (an engine, an analyzer).
SINGLE_CAPABILITY = {
    "marketplace.storefront.search.elasticsearch",   # the Elasticsearch engine
    "marketplace.storefront.search.analysis",        # text analysis: tokenizers and stemmers per language
    "marketplace.storefront.search.embedded",        # the embedded engine
    "marketplace.storefront.search.tantivy_engine",  # the tantivy engine
}
MAX_LINES = 420


@pytest.fixture(scope="module")
def plan() -> architecture.Plan:
    return architecture.read()


def test_the_import_graph_has_no_cycle_even_counting_imports_inside_functions(plan):
    assert plan.cycles() == []


def test_no_module_imports_from_a_layer_above_its_own(plan):
    upward = [f"{i.source}:{i.line} -> {i.target}" for i in plan.upward()]
    assert upward == []


def test_every_module_sits_on_a_layer(plan):
    assert [name for name in plan.modules if architecture.layer(name) is None] == []


def test_imports_inside_functions_are_only_optional_adapters(plan):
    inside = [f"{i.source}:{i.line} -> {i.target}" for i in plan.function_imports()
              if i.target not in architecture.LAZY_ADAPTERS]
    assert inside == []


def test_capabilities_on_one_layer_do_not_import_each_other(plan):
    assert [f"{i.source}:{i.line} -> {i.target}" for i in plan.sideways()] == []


def test_the_kernel_imports_no_area(plan):
    kernel = [i for i in plan.imports if i.source.startswith("marketplace.kernel")]
    assert kernel and all(i.target.startswith("marketplace.kernel") or i.target == "config" for i in kernel)


def test_catalog_knows_nothing_of_promotions_pricing_or_search(plan):
    assert [i for i in plan.imports if i.source.startswith("catalog")
            and not (architecture.layer(i.target) or 0) <= 4] == []


def test_big_modules_hold_one_capability(plan):
    big = sorted(name for name, lines in plan.lines.items() if lines > MAX_LINES and name not in SINGLE_CAPABILITY)
    assert big == []


def test_a_checkout_and_a_search_only_reach_down(plan):
    """Everything a checkout or a search request can run sits on its own layer or below, and a
    checkout never reaches the storefront or partners (nor a search the checkout)."""
    checkout = {architecture.area(m) for m in plan.reach("marketplace.checkout.routes")}
    search = {architecture.area(m) for m in plan.reach("marketplace.storefront.routes")}
    assert "marketplace.storefront" not in checkout and "marketplace.partners" not in checkout
    assert "marketplace.checkout" not in search and "marketplace.partners" not in search
    assert {"promotions", "catalog", "marketplace.kernel"} <= checkout & search
