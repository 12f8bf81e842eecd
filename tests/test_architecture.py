"""The import direction of DESIGN.md: errors at the bottom; rows and engine never import Tensor."""

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "rebours"


def _imports(path: pathlib.Path) -> set[str]:
    """Modules of rebours that `path` imports, resolved to dotted names (top level and local)."""
    pkg = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("rebours"):
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("rebours"))
    return out


def _files(sub: str):
    return sorted((SRC / sub).rglob("*.py")) if (SRC / sub).is_dir() else [SRC / sub]


@pytest.mark.parametrize("path", _files("ops"), ids=lambda p: p.name)
def test_rows_never_import_tensor_dispatch_or_engine(path):
    bad = {m for m in _imports(path)
           if m.startswith(("rebours.tensor", "rebours.dispatch", "rebours.autograd",
                            "rebours._bind", "rebours.functions"))}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", [SRC / "autograd" / "engine.py", SRC / "autograd" / "graph.py",
                                  SRC / "autograd" / "grad_mode.py"], ids=lambda p: p.name)
def test_engine_never_imports_tensor_at_module_level(path):
    tree = ast.parse(path.read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {(n.module or "") for n in top if isinstance(n, ast.ImportFrom)}
    assert not {m for m in names if m.endswith(("tensor", "dispatch", "functions"))}


def test_engine_never_names_an_op():
    from rebours.ops.registry import OPS

    text = (SRC / "autograd" / "engine.py").read_text()
    named = [n for n in OPS if f'"{n}"' in text or f"'{n}'" in text or "OPS[" in text]
    assert not named


def test_lint_imports_only_errors_from_rebours():
    for path in _files("lint"):
        bad = {m for m in _imports(path) if m.startswith("rebours")
               and not m.startswith(("rebours.errors", "rebours.lint"))}
        assert not bad, f"{path.name} imports {bad}"


def test_library_never_imports_torch():
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "torch" for a in node.names), path
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert (node.module or "").split(".")[0] != "torch", path
