"""The rooms of the code (STYLE.md), checked on the source: files small enough to read in one
sitting, no import circle, venue code free of Django, the simulator independent of the adapters
it checks, Django apps free of socket libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway_site", "exchanges", "orders", "marketdata", "portfolio", "risk", "bench")
MAX_LINES = 600


def source_files() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in source_files()}


def import_nodes(tree: ast.Module, *, top_level_only: bool) -> list[ast.Import | ast.ImportFrom]:
    """Every import of the module; with `top_level_only`, those run when it loads (not inside
    functions, not under `if TYPE_CHECKING:`)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
            return
        if top_level_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return
        if (
            top_level_only
            and isinstance(node, ast.If)
            and "TYPE_CHECKING" in ast.unparse(node.test)
        ):
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def imports_of(path: Path, *, top_level_only: bool) -> set[str]:
    """The project modules `path` imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    own = module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found: set[str] = set()
    for node in import_nodes(tree, top_level_only=top_level_only):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != own:
                found.add(name)
    return found


def external_imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_no_source_file_is_longer_than_one_sitting():
    long = {
        str(path.relative_to(REPO)): count
        for path in source_files()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_import_circle():
    """Lazy imports inside functions count too: deferring an import hides a circle, it does not
    remove it."""
    graph = {name: imports_of(path, top_level_only=False) for name, path in MODULES.items()}
    # A package importing its own submodules (to re-export them) is not a circle.
    for name in graph:
        graph[name] = {dep for dep in graph[name] if not dep.startswith(f"{name}.")}
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(graph.get(name, ())):
            if state.get(dep) == 1:
                circles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert circles == []


@pytest.mark.parametrize(
    ("room", "forbidden"),
    [
        ("exchanges/venues", {"django", "rest_framework", "channels", "celery"}),
        ("exchanges/simulator", {"rest_framework", "channels", "celery"}),
    ],
)
def test_pure_python_rooms_do_not_import_django(room, forbidden):
    offenders = {
        str(path.relative_to(REPO)): sorted(external_imports_of(path) & forbidden)
        for path in (REPO / room).rglob("*.py")
        if external_imports_of(path) & forbidden
    }
    assert offenders == {}


def test_the_simulator_never_imports_the_adapters_it_checks():
    """The simulator keeps its own copy of every venue fact; it shares only the normalized
    vocabulary (`base`: sides, kinds, instrument specs) and the unified symbol format."""
    shared = {"exchanges.venues", "exchanges.venues.base", "exchanges.venues.symbols"}
    offenders = {
        str(path.relative_to(REPO)): sorted(deps)
        for path in (REPO / "exchanges" / "simulator").rglob("*.py")
        if (
            deps := {
                dep
                for dep in imports_of(path, top_level_only=False)
                if dep.startswith("exchanges.venues") and dep not in shared
            }
        )
    }
    assert offenders == {}


def test_django_apps_do_not_import_socket_libraries():
    apps = ("orders", "marketdata", "portfolio", "risk", "gateway_site")
    offenders = {
        str(path.relative_to(REPO)): sorted(external_imports_of(path) & {"aiohttp", "websockets"})
        for app in apps
        for path in (REPO / app).rglob("*.py")
        if external_imports_of(path) & {"aiohttp", "websockets"}
    }
    assert offenders == {}
