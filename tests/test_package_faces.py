"""Package `__init__.py` files only re-export: a docstring, imports and `__all__` (and the package's
`__version__`), so the code of a package lives in modules whose names say what they hold."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "reconbench"


def _is_reexport(node: ast.stmt, first: bool) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if first and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return isinstance(node.value.value, str)  # the docstring
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if names == ["__version__"]:
            return isinstance(node.value, ast.Constant)
        return names == ["__all__"] and isinstance(node.value, (ast.List, ast.Tuple))
    return False


def test_package_inits_hold_only_a_docstring_imports_and_all():
    offenders = {}
    for init in sorted(PACKAGE.rglob("__init__.py")):
        name = init.relative_to(PACKAGE).as_posix()
        body = ast.parse(init.read_text(encoding="utf-8")).body
        bad = [f"line {n.lineno}" for k, n in enumerate(body) if not _is_reexport(n, first=k == 0)]
        if bad:
            offenders[name] = bad
    assert offenders == {}


def test_the_check_finds_code_in_a_face():
    code = ast.parse('"""Doc."""\nfrom x import y\n\nCACHE = {}\n\ndef f():\n    return y\n\n__all__ = ["y"]\n').body
    assert [_is_reexport(n, first=k == 0) for k, n in enumerate(code)] == [True, True, False, False, True]
