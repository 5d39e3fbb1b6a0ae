"""Every cell type's float64 reference_step is written on its own: no helper function or
module constant it reaches (directly or through its own helpers) is also reached by the
parameter builder or the float32 kernel. A bug in a shared helper would otherwise be in both
sides of the kernel-vs-reference tests and pass them."""

from __future__ import annotations

import types

import pytest

from pynn_spinnaker2.cells import CELL_TYPES


def _reached(fn: object) -> set[tuple[int, str]]:
    """(id of the module namespace, name) of every global a function reaches, through the
    module-level functions and closures it calls; modules (numpy...) and classes left out."""
    out: set[tuple[int, str]] = set()
    todo = [fn]
    seen: set[int] = set()
    while todo:
        f = todo.pop()
        if not isinstance(f, types.FunctionType) or id(f) in seen:
            continue
        seen.add(id(f))
        codes, names = [f.__code__], set()
        while codes:
            c = codes.pop()
            names |= set(c.co_names)
            codes += [k for k in c.co_consts if isinstance(k, types.CodeType)]
        g = f.__globals__
        for name in names:
            value = g.get(name)
            if value is None or isinstance(value, (types.ModuleType, type)):
                continue
            out.add((id(g), name))
            todo.append(value)
        for cell in f.__closure__ or ():
            try:
                todo.append(cell.cell_contents)
            except ValueError:
                pass
    return out


WITH_REFERENCE = sorted(n for n, t in CELL_TYPES.items() if t.reference_step is not None)


@pytest.mark.parametrize("name", WITH_REFERENCE)
def test_reference_shares_nothing_with_builder_or_kernel(name: str) -> None:
    cell = CELL_TYPES[name]
    ours = _reached(cell.reference_step)
    theirs = _reached(cell.build_params) | _reached(cell.kernel_step)
    assert not {n for _, n in ours & theirs}, f"{name}: shared with build_params/kernel"


def test_the_check_sees_a_shared_helper() -> None:
    def helper(x: float) -> float:
        return 2 * x

    g = {"helper": helper}
    ref = types.FunctionType(compile("def f(x):\n    return helper(x)", "<t>", "exec")
                             .co_consts[0], g)
    assert (id(g), "helper") in _reached(ref)
    assert len(WITH_REFERENCE) >= 15
