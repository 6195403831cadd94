"""The simulator package's shape: files small enough to read in one sitting, no import
circles, faces that never import the adapters they check, and the same rooms in every face."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3] / "exchanges" / "simulator"
MAX_LINES = 600
FACES = ("okx", "bybit", "deribit")
FACE_ROOMS = {"__init__.py", "face.py", "constants.py", "errors.py", "auth.py", "wire.py"}
FACE_ROOMS |= {"books.py", "public.py", "private.py", "ws.py"}
# what a face may use of exchanges.venues: the shared vocabulary, never an adapter
ALLOWED_VENUES_IMPORTS = {"exchanges.venues.base", "exchanges.venues.symbols"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parents[1]).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def simulator_imports(name: str) -> set[str]:
    """The simulator modules `name` needs loaded: those it imports and their packages."""
    needed: set[str] = set()
    for target in imported_modules(MODULES[name]):
        parts = target.split(".")
        for end in range(3, len(parts) + 1):
            prefix = ".".join(parts[:end])
            if prefix in MODULES and prefix != name and not name.startswith(prefix + "."):
                needed.add(prefix)
    return needed


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_file_is_over_600_lines(name):
    lines = MODULES[name].read_text().count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_no_import_circles():
    graph = {name: simulator_imports(name) for name in MODULES}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, "import circle: " + " -> ".join([*visiting, name])
        if name in done:
            return
        visiting.append(name)
        for needed in sorted(graph[name]):
            visit(needed)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
    assert done == set(MODULES)


def test_the_engine_never_imports_the_market_generator():
    engine = [name for name in MODULES if name.startswith("exchanges.simulator.engine")]
    assert engine
    for name in engine:
        assert "exchanges.simulator.market.generator" not in simulator_imports(name), name


@pytest.mark.parametrize("name", sorted(MODULES))
def test_the_simulator_never_imports_an_adapter(name):
    venues = {m for m in imported_modules(MODULES[name]) if m.startswith("exchanges.venues.")}
    venues = {m for m in venues if not any(m.startswith(a) for a in ALLOWED_VENUES_IMPORTS)}
    assert venues == set(), f"{name} imports {sorted(venues)}"


@pytest.mark.parametrize("face", FACES)
def test_every_face_has_the_same_rooms(face):
    rooms = {path.name for path in (ROOT / face).glob("*.py")}
    assert FACE_ROOMS <= rooms, sorted(FACE_ROOMS - rooms)
    assert any(room.startswith(("rest_", "rpc")) for room in rooms)


def test_the_package_docstring_says_why_faces_repeat_venue_facts():
    doc = " ".join((ast.get_docstring(ast.parse((ROOT / "__init__.py").read_text())) or "").split())
    assert "on purpose" in doc
    assert "never import" in doc
