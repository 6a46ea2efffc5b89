"""The layout's rules that import-linter's contracts do not cover: no import cycles at all."""

from __future__ import annotations

import subprocess
import sys

import grimp

PACKAGES = ("bot", "handlers", "storage", "emulator")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), TYPE_CHECKING imports too."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False)
    assert _cycles(graph) == []


def test_storage_and_models_load_without_heavy_or_telegram_libraries() -> None:
    code = (
        "import sys, pkgutil, importlib, storage, bot.models\n"
        "for m in pkgutil.iter_modules(storage.__path__):\n"
        "    importlib.import_module('storage.' + m.name)\n"
        "print(sorted({'PIL', 'numpy', 'apscheduler', 'telegram', 'imagehash'} & set(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
