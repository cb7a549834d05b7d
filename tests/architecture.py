"""The floor plan, read from the code: every import (at module top or inside a function) as an arrow
between modules, each module on a layer. `tests/unit/test_architecture.py` holds the code to it;
`python -m tests.architecture` (or `scripts/floorplan`) prints the figures.

Layers, lowest first; a module may import from its own layer or below, never above:
  0 config
  1 the shared kernel            marketplace.kernel
  2 base capabilities            marketplace.accounts, marketplace.rates
  3 vendors; duties (destination rules for duties and import taxes)
  4 catalog
  5 promotions                   campaigns, offers, and pricing (promotions.pricing)
  6 capabilities on top          marketplace.storefront, marketplace.checkout, marketplace.partners
  7 after-sale                   marketplace.aftersale: returns, disputes, order messages, reviews
  8 the assembled application    marketplace (package), marketplace.app, .demo, .health, wsgi
"""
from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("marketplace", "catalog", "vendors", "promotions")
TOP_MODULES = ("config", "wsgi")

LAYERS: tuple[tuple[str, int], ...] = (
    ("config", 0),
    ("marketplace.kernel", 1),
    ("marketplace.accounts", 2),
    ("marketplace.rates", 2),
    ("vendors", 3),
    ("marketplace.duties", 3),
    ("catalog", 4),
    ("promotions", 5),
    ("marketplace.storefront", 6),
    ("marketplace.checkout", 6),
    ("marketplace.partners", 6),
    ("marketplace.aftersale", 7),
    ("marketplace", 8),
    ("wsgi", 8),
)
#: The same layers drawn over the tree as it stood before the kernel had a package of its own (the kernel
#: modules sat loose in marketplace/, search and pricing in catalog/): `python -m tests.architecture --before DIR`.
KERNEL_BEFORE = ("clock", "db_events", "db_types", "errors", "events", "extensions", "i18n", "idempotency",
                 "jsoncodec", "money", "openapi", "outbox", "ratelimit_storage", "request_limits", "schemas", "worker")
LAYERS_BEFORE: tuple[tuple[str, int], ...] = (("config", 0),) + tuple(
    (f"marketplace.{name}", 1) for name in KERNEL_BEFORE) + LAYERS[2:]
LAYER_NAMES = {0: "config", 1: "kernel", 2: "base capabilities", 3: "vendors", 4: "catalog", 5: "promotions",
               6: "capabilities on top", 7: "after-sale", 8: "application"}

#: Imports allowed inside a function: optional adapters loaded only when configuration picks them, so a
#: process that never uses them does not pay for their client library (none is there to dodge a cycle).
LAZY_ADAPTERS = {
    "marketplace.storefront.search.elasticsearch",     # the `elasticsearch` client, production search only
    "marketplace.storefront.search.tantivy_engine",    # the `tantivy` library, opt-in search engine only
}


_current = [LAYERS]


def area(module: str) -> str:
    """The area (room) a module belongs to: its layer prefix."""
    for prefix, level in _current[0]:
        if module == prefix or module.startswith(prefix + "."):
            return "marketplace.kernel" if level == 1 else prefix
    return module


def layer(module: str) -> int | None:
    for prefix, level in _current[0]:
        if module == prefix or module.startswith(prefix + "."):
            return level
    return None


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    in_function: bool


@dataclass
class Plan:
    modules: dict[str, Path] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)

    # -- the figures ----------------------------------------------------------

    def graph(self, include_functions: bool = True) -> dict[str, set[str]]:
        arrows: dict[str, set[str]] = defaultdict(set)
        for imp in self.imports:
            if include_functions or not imp.in_function:
                arrows[imp.source].add(imp.target)
        return arrows

    def cycles(self) -> list[list[str]]:
        """Strongly connected groups of more than one module (imports inside functions count)."""
        graph, index, low, stack, on_stack, result = self.graph(), {}, {}, [], set(), []
        counter = [0]

        def visit(node: str) -> None:
            index[node] = low[node] = counter[0]
            counter[0] += 1
            stack.append(node)
            on_stack.add(node)
            for nxt in sorted(graph.get(node, ())):
                if nxt not in index:
                    visit(nxt)
                    low[node] = min(low[node], low[nxt])
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if low[node] == index[node]:
                group = []
                while True:
                    item = stack.pop()
                    on_stack.discard(item)
                    group.append(item)
                    if item == node:
                        break
                if len(group) > 1:
                    result.append(sorted(group))

        sys.setrecursionlimit(10_000)
        for node in sorted(self.modules):
            if node not in index:
                visit(node)
        return result

    def upward(self) -> list[Import]:
        """Imports of a module from a layer above its own."""
        found = []
        for imp in self.imports:
            src, dst = layer(imp.source), layer(imp.target)
            if src is not None and dst is not None and dst > src:
                found.append(imp)
        return found

    def sideways(self) -> list[Import]:
        """Imports between two different areas of the same layer (e.g. checkout importing partners)."""
        return [imp for imp in self.imports
                if layer(imp.source) == layer(imp.target) and area(imp.source) != area(imp.target)
                and layer(imp.source) not in (8,)]

    def function_imports(self) -> list[Import]:
        return [imp for imp in self.imports if imp.in_function]

    def biggest(self, count: int = 5) -> list[tuple[str, int]]:
        return sorted(self.lines.items(), key=lambda item: -item[1])[:count]

    def reach(self, start: str) -> list[str]:
        """Every module `start` depends on, directly or not (what a request entering there can run)."""
        graph, seen, todo = self.graph(), set(), [start]
        while todo:
            node = todo.pop()
            for nxt in graph.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return sorted(seen)


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` refers to (a module, or the nearest package holding it)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports_of(module: str, tree: ast.AST, modules: dict[str, Path]) -> list[Import]:
    found: list[Import] = []

    def add(target: str | None, node: ast.AST, in_function: bool) -> None:
        imp = Import(module, target or "", node.lineno, in_function)
        if target and target != module and imp not in found:
            found.append(imp)

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                continue   # type hints only, never run
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(_resolve(alias.name, modules), child, in_function)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                for alias in child.names:
                    add(_resolve(f"{child.module}.{alias.name}", modules) or _resolve(child.module, modules),
                        child, in_function)
            walk(child, inside)

    walk(tree, False)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def read(root: Path = ROOT) -> Plan:
    plan = Plan()
    paths = [p for package in PACKAGES for p in sorted((root / package).rglob("*.py"))]
    paths += [root / f"{name}.py" for name in TOP_MODULES if (root / f"{name}.py").exists()]
    for path in paths:
        plan.modules[_module_name_at(path, root)] = path
    for name, path in plan.modules.items():
        source = path.read_text()
        plan.lines[name] = source.count("\n")
        plan.imports.extend(_imports_of(name, ast.parse(source), plan.modules))
    return plan


def _module_name_at(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def report(plan: Plan) -> str:
    out = []
    cycles = plan.cycles()
    out.append(f"modules: {len(plan.modules)}, imports: {len(plan.imports)}")
    out.append(f"import cycles (imports inside functions count): {len(cycles)}")
    for group in cycles:
        out.append("  " + " <-> ".join(group))
    upward = plan.upward()
    out.append(f"imports from a layer above: {len(upward)}")
    for imp in upward:
        out.append(f"  {imp.source}:{imp.line} ({LAYER_NAMES[layer(imp.source)]}) -> {imp.target} "
                   f"({LAYER_NAMES[layer(imp.target)]}){' [in a function]' if imp.in_function else ''}")
    sideways = plan.sideways()
    out.append(f"imports between areas of one layer: {len(sideways)}")
    for imp in sideways:
        out.append(f"  {imp.source}:{imp.line} -> {imp.target}")
    inside = plan.function_imports()
    out.append(f"imports inside functions: {len(inside)} "
               f"({sum(1 for i in inside if i.target not in LAZY_ADAPTERS)} not optional adapters)")
    for imp in inside:
        out.append(f"  {imp.source}:{imp.line} -> {imp.target}")
    out.append("biggest modules: " + ", ".join(f"{name} {count}" for name, count in plan.biggest()))
    for entry in ("marketplace.checkout.routes", "marketplace.storefront.routes", "marketplace.partners.routes"):
        if entry in plan.modules:
            areas = sorted({area(m) for m in plan.reach(entry)}, key=lambda a: (layer(a) or 0), reverse=True)
            out.append(f"{entry} reaches, top down: " + " -> ".join(areas))
    return "\n".join(out)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--before":
        _current[0] = LAYERS_BEFORE
        args = args[1:]
    print(report(read(Path(args[0]).resolve() if args else ROOT)))
