"""The package's import graph points down the data flow of DESIGN.md, with no cycles.

Read from the source with ast, so imports inside functions (the usual way to hide a cycle)
count as much as those at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pynn_spinnaker2"

#: Bottom to top. A module may import from its own layer or the layers below it, never from
#: above: the PyNN layer and the front ends compile; compilation runs the stages; the cost
#: model and the reports read what the backend counted; cells and synapses are the type
#: library every stage reads.
LAYERS = (
    ("errors", "machine"),
    ("cells", "synapses"),
    ("network",),
    ("mapping",),
    ("image",),
    ("backends",),
    ("recording",),
    ("cost", "reports"),
    ("compile",),
    ("frontends",),
    ("pynn",),
)


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``module`` imports (anywhere in it)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            candidates = [n if n in modules else target for n in names]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        for name in candidates:
            while name not in modules and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in modules and name != module:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    modules = _modules()
    return {m: _imported(m, p, modules) for m, p in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm,
    iterative so that a deep package cannot overflow the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None
    for rank, names in enumerate(LAYERS):
        if parts[1] in names:
            return rank
    return None


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles (each a set of modules that import one another): " + \
        "; ".join(" <-> ".join(c) for c in found)


def test_imports_point_down_the_data_flow():
    upward = []
    for module, imported in sorted(import_graph().items()):
        rank = _layer(module)
        for other in sorted(imported):
            other_rank = _layer(other)
            if rank is not None and other_rank is not None and other_rank > rank:
                upward.append(f"{module} imports {other}")
    assert not upward, "imports against the data flow:\n" + "\n".join(upward)


def test_every_subpackage_has_a_layer():
    top = {m.split(".")[1] for m in import_graph() if m.count(".") >= 1}
    assert top <= {name for names in LAYERS for name in names}, \
        f"give these a layer in LAYERS: {sorted(top - {n for ns in LAYERS for n in ns})}"


def test_the_checker_finds_a_cycle_and_an_upward_import():
    """The checks themselves: a two-module cycle and a three-module one are found, and a
    chain is not."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert _layer("pynn_spinnaker2.pynn.simulator") > _layer("pynn_spinnaker2.compile")
    assert _layer("pynn_spinnaker2.backends.emulator") < _layer("pynn_spinnaker2.cost.pricing")


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_size(module):
    """No module over 400 lines: past that, a module holds more than one idea."""
    lines = _modules()[module].read_text().count("\n")
    assert lines <= 400, f"{module} has {lines} lines; split it by what its parts do"
