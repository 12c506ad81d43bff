"""Imports point one way: upstream -> methods, never back. `methods/` is what any method is (pure data and
in-process code); it must not import the upstream package, its environments or the registry above both."""

from __future__ import annotations

import ast
from pathlib import Path

METHODS = Path(__file__).parents[2] / "src" / "reconbench" / "methods"
FORBIDDEN = ("reconbench.upstream", "reconbench.envs", "reconbench.registry")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, at module level or inside a function alike."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "reconbench":  # `from reconbench import upstream`
                found += [(node.lineno, f"reconbench.{alias.name}") for alias in node.names]
    return found


def test_imported_modules_sees_lazy_and_aliased_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "import os\n"
        "def f():\n    from reconbench.upstream.envs import get_backend\n"
        "def g():\n    import reconbench.envs.base as b\n"
        "from reconbench import registry\n"
    )
    modules = [m for _, m in imported_modules(source)]
    assert {"reconbench.upstream.envs", "reconbench.envs.base", "reconbench.registry"} <= set(modules)


def test_methods_never_import_upstream_envs_or_the_registry():
    files = sorted(METHODS.rglob("*.py"))
    assert len(files) > 20  # the scan reads the real package
    offending = [
        f"{path.relative_to(METHODS)}:{line} imports {module}"
        for path in files
        for line, module in imported_modules(path)
        if any(module == f or module.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert offending == []
