"""The layout rules of docs/architecture.md, checked: layers, no import cycles, small modules, thin pages."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "ganlab"
MAX_LINES = 300


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path) -> set[str]:
    """Every ganlab module this file imports at run time, deferred (in-function) imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: set[str] = set()
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ganlab"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.startswith("ganlab"):
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)  # `from ganlab import media` imports a module
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in CORE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            # Importing a.b.c runs a/__init__, a/b/__init__ and a/b/c.
            parts = imported.split(".")
            targets.update(m for m in (".".join(parts[:i]) for i in range(2, len(parts) + 1)) if m in modules)
        # A module's own packages are already initialised when it runs: they are not edges.
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        graph[name] = targets - {name} - ancestors - {"ganlab"}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_ganlab_has_no_import_cycles_deferred_imports_included() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("folder", ["ganlab", "ui", "pages"])
def test_no_module_is_over_300_lines(folder: str) -> None:
    files = list((ROOT / folder).rglob("*.py")) + ([ROOT / "app.py"] if folder == "pages" else [])
    big = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not big, f"split these by responsibility: {big}"


def test_at_most_six_loose_modules_directly_under_ganlab() -> None:
    loose = sorted(p.name for p in CORE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(loose) <= 6, loose


def test_package_inits_only_list_what_they_export() -> None:
    for init in CORE.rglob("__init__.py"):
        tree = ast.parse(init.read_text())
        for node in tree.body:
            is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            is_all = isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__all__"]
            ok = is_doc or is_all or isinstance(node, (ast.Import, ast.ImportFrom))
            assert ok or (init.parent == CORE and isinstance(node, ast.Assign)), f"{init}: logic in __init__"


def test_core_never_imports_streamlit_even_deferred() -> None:
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(n.split(".")[0] == "streamlit" for n in names), path


def test_pages_hold_no_torch_and_no_core_logic() -> None:
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]:
        text = path.read_text()
        assert "torch." not in text and "import torch" not in text, f"{path.name} uses torch directly"


def test_ui_uses_torch_only_in_type_hints() -> None:
    for path in (ROOT / "ui").glob("*.py"):
        tree = ast.parse(path.read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and isinstance(n.func.value, ast.Name) and n.func.value.id == "torch"]
        assert not calls, f"{path.name} calls torch: {[ast.unparse(c) for c in calls]}"


def test_importing_the_core_does_not_import_streamlit() -> None:
    code = ("import sys, ganlab, ganlab.train, ganlab.cli, ganlab.data, ganlab.runs, ganlab.explore, ganlab.metrics, "
            "ganlab.toy, ganlab.bench\nassert 'streamlit' not in sys.modules, 'streamlit was imported'\nprint('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
