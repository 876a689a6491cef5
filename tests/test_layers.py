"""The house reads top-down: every module of the package belongs to a layer, and imports
only from its own layer or those below it; the imports form no cycle; no project import
hides inside a function (they were there to dodge cycles). Annotation-only imports
(``if TYPE_CHECKING:``) do not count: they are never executed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "finews_spider"

#: Lowest first. A module belongs to the first layer naming it or a package above it.
LAYERS: list[tuple[str, ...]] = [
    # the vocabulary: no project imports but each other's
    ("exceptions", "meta", "run", "files", "schema", "asynctools"),
    ("config",),
    ("settings",),
    # pure parts: the wire format, the registry, cleaning, search, formatting
    ("upstream", "registry", "items", "cleaning", "search", "stories", "exporters", "warc", "importing"),
    # the one owner of the data folder
    ("archive",),
    # the reading site (one of the archive's sinks, loaded by name from FINEWS_SINKS)
    ("site",),
    # Scrapy components
    ("distributed", "extensions", "middlewares", "pipelines", "logformatter"),
    ("spiders",),
    # the Python API and runs of the engine
    ("api", "crawling"),
    # what users run
    ("commands", "datasette_plugin", "cli"),
    ("reference",),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    parts = module.split(".")[1:] or ["__init__"]
    for depth in range(len(parts), 0, -1):
        name = ".".join(parts[:depth])
        for index, layer in enumerate(LAYERS):
            if name in layer:
                return index
    if module == "finews_spider":
        return 0
    raise AssertionError(f"{module} is in no layer of tests/test_layers.py: add it where it belongs")


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> list[str]:
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("finews_spider"):
        return []
    # ``from . import x`` may import a submodule x
    return [f"{target}.{alias.name}" if _exists(f"{target}.{alias.name}") else target for alias in node.names]


def _exists(module: str) -> bool:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids |= {id(sub) for sub in ast.walk(node)}
    return ids


def imports() -> dict[str, list[tuple[str, int, bool]]]:
    """module -> [(imported module, line, inside a function)] for every project import."""
    out: dict[str, list[tuple[str, int, bool]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        tree = ast.parse(path.read_text("utf-8"))
        skipped = _type_checking_blocks(tree)
        in_function = {
            id(sub)
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for sub in ast.walk(node)
        }
        found = []
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(module, node, path.name == "__init__.py")
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("finews_spider")]
            else:
                continue
            found += [(target, node.lineno, id(node) in in_function) for target in targets]
        out[module] = found
    return out


def test_every_module_has_a_layer():
    for module in imports():
        layer_of(module)


def test_no_module_imports_from_a_higher_layer():
    upward = [
        f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)}), line {line}"
        for module, found in imports().items()
        for target, line, _ in found
        if layer_of(target) > layer_of(module)
    ]
    assert not upward, "\n".join(upward)


def test_no_project_import_inside_a_function():
    hidden = [
        f"{module}: {target}, line {line}"
        for module, found in imports().items()
        for target, line, inner in found
        if inner
    ]
    assert not hidden, "\n".join(hidden)


def test_the_imports_form_no_cycle():
    graph = {module: {t for t, _, _ in found if t != module} for module, found in imports().items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycle = path[path.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_the_storage_core_imports_neither_the_site_nor_the_fleet():
    """Storage (archive/) knows its sinks by the names in FINEWS_SINKS, never by import."""
    for module, found in imports().items():
        if module.startswith("finews_spider.archive"):
            assert not [t for t, _, _ in found if t.startswith(("finews_spider.site", "finews_spider.distributed"))]
