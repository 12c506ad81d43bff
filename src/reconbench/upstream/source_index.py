"""What an upstream program's Python source declares, read with `ast` (never imported, never run).

Starting from an entry file, the index follows every `import` (top level or inside functions) that resolves
to a file of the checkout, and collects from those files: the argparse options (`add_argument`), the
annotated class attributes (dataclass / tyro fields), the string constants and f-string pieces (what the
program can print or write), attribute names read (`cfg.mesh_dump`), the modules imported from outside the
checkout, and the downloads it names (Hugging Face repositories, torch.hub / URL files).

What this cannot see: code run through `exec`, `importlib` with computed names or entry points, what a
third-party library does (kiui downloading LPIPS weights, open_clip's tag table), values computed at run
time. The preflight (preflight.py) reports those limits instead of passing them silently.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

HF_REPO = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]*[A-Za-z0-9]$")
WEIGHT_EXT = (".pth", ".pt", ".ckpt", ".bin", ".safetensors", ".onnx", ".pkl", ".npz", ".tar")
DOWNLOAD_CALLS = {
    "hf_hub_download",
    "snapshot_download",
    "cached_download",
    "from_pretrained",
    "load_url",
    "load_state_dict_from_url",
    "download_url_to_file",
    "urlretrieve",
}
# Keyword / parameter names whose string value names a model to download.
MODEL_KEYS = re.compile(r"(repo_id|repo|model_key|model_id|model_name|pretrained\w*|\w*_model_name\w*)$", re.IGNORECASE)
_OPTIONAL_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


@dataclass(frozen=True)
class Where:
    file: str  # relative to the checkout
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class SourceIndex:
    root: Path
    files: dict[str, ast.Module] = field(default_factory=dict)  # relative path -> tree
    options: dict[str, Where] = field(default_factory=dict)  # "--flag" -> where declared
    choices: dict[str, list[str]] = field(default_factory=dict)  # "--flag" -> its literal choices, as strings
    fields: dict[str, Where] = field(default_factory=dict)  # class-level annotated names (dataclass, tyro)
    strings: list[tuple[str, Where]] = field(default_factory=list)
    fstrings: list[tuple[list[str | None], Where]] = field(default_factory=list)  # literal pieces, None = a field
    attributes: set[str] = field(default_factory=set)
    imports: list[tuple[str, Where, bool]] = field(default_factory=list)  # (top-level module, where, required)
    hf_repos: list[tuple[str, Where]] = field(default_factory=list)
    hf_files: list[tuple[str, str, Where]] = field(
        default_factory=list
    )  # (repo, file or "folder/", where) named literally
    urls: list[tuple[str, str, Where]] = field(default_factory=list)  # (prefix, suffix, where); a whole URL: suffix ""
    unresolved_downloads: list[tuple[str, Where]] = field(default_factory=list)  # a download call with a computed name

    def has_string(self, text: str) -> bool:
        return any(text in s for s, _ in self.strings) or any(
            text in p for pieces, _ in self.fstrings for p in pieces if p
        )

    def has_exact(self, text: str) -> bool:
        """`text` is a whole string constant of the program (a key, a choice, a subcommand name)."""
        return any(text == s for s, _ in self.strings)

    def produces(self, fragment: str) -> bool:
        """`fragment` can be printed by the program: inside one string piece, or a constant's end followed by
        the literal that follows a field of an f-string (e.g. "Initializing model" + " finished in")."""
        if self.has_string(fragment):
            return True
        tails = [
            pieces[i + 1]
            for pieces, _ in self.fstrings
            for i, p in enumerate(pieces[:-1])
            if p is None and pieces[i + 1]
        ]
        for k in range(1, len(fragment)):
            head, tail = fragment[:k], fragment[k:]
            if any(t.startswith(tail) for t in tails) and any(s.endswith(head) for s, _ in self.strings):
                return True
        return False


def build_index(root: Path, entries: list[Path], extra_roots: tuple[Path, ...] = ()) -> SourceIndex:
    """Index the files reachable by imports from `entries` (absolute paths inside `root`).

    An import is *required* when running the entries surely executes it: a module-level import, outside
    try/except ImportError, in a file reached from an entry through such imports only. Imports inside
    functions, or in files reached only through them, run only if that code runs (recorded as not required)."""
    root = Path(root).resolve()
    index = SourceIndex(root)
    roots = [root, *[Path(r).resolve() for r in extra_roots]]
    trees: dict[Path, ast.Module] = {}

    def parse(path: Path) -> ast.Module | None:
        if path not in trees:
            try:
                trees[path] = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
            except (SyntaxError, ValueError, OSError):
                trees[path] = None  # type: ignore[assignment]
        return trees[path]

    def walk(certain_only: bool) -> list[Path]:
        todo, seen = [Path(e).resolve() for e in entries], []
        while todo:
            path = todo.pop(0)
            if path in seen or not path.is_file():
                continue
            tree = parse(path)
            if tree is None:
                continue
            seen.append(path)
            for node, optional, in_function in _import_nodes(tree):
                if certain_only and (optional or in_function):
                    continue
                for name, submodules in _imported_names(node):
                    local = _resolve(name, node, path, roots + [path.parent])
                    for sub in submodules if local else ():  # `from pkg import module`
                        local += _resolve(f"{name}.{sub}", node, path, roots + [path.parent])
                    todo += local
        return seen

    certain = set(walk(True))
    local_names = {p.stem for p in root.rglob("*.py")} | {p.parent.name for p in root.rglob("__init__.py")}
    for path in walk(False):
        tree = trees[path]
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        index.files[rel] = tree
        _Collector(index, rel).visit(tree)
        for node, optional, in_function in _import_nodes(tree):
            for name, _ in _imported_names(node):
                top = name.split(".")[0]
                if (
                    not top
                    or top in sys.stdlib_module_names
                    or top == "__future__"
                    or _resolve(name, node, path, roots + [path.parent])
                ):
                    continue
                # Not found from the roots but a folder or file of the checkout: its own code, reached through a
                # sys.path change at run time; not a third-party module.
                if top in local_names:
                    continue
                index.imports.append(
                    (top, Where(rel, node.lineno), path in certain and not optional and not in_function)
                )
    return index


def _import_nodes(tree: ast.Module):
    """(Import/ImportFrom node, optional, in_function) for every import; optional = inside a try that catches
    ImportError (or any exception), in_function = inside a def or lambda (runs only if called)."""
    out = []

    def walk(node, optional, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.append((child, optional, in_function))
            elif isinstance(child, ast.Try):
                catches = any(_handler_names(h) & _OPTIONAL_ERRORS or h.type is None for h in child.handlers)
                walk_list(child.body, optional or catches, in_function)
                for part in (child.handlers, child.orelse, child.finalbody):
                    walk_list(part, optional, in_function)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.dump(child.test):
                continue
            else:
                walk(
                    child,
                    optional,
                    in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)),
                )

    def walk_list(stmts, optional, in_function):
        for stmt in stmts:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                out.append((stmt, optional, in_function))
            else:
                walk(stmt, optional, in_function)

    walk(tree, False, False)
    return out


def _handler_names(handler: ast.ExceptHandler) -> set[str]:
    t = handler.type
    items = t.elts if isinstance(t, ast.Tuple) else [t] if t is not None else []
    return {i.id if isinstance(i, ast.Name) else getattr(i, "attr", "") for i in items}


def _imported_names(node) -> list[tuple[str, list[str]]]:
    """(module, names that may be its submodules) per imported module."""
    if isinstance(node, ast.Import):
        return [(a.name, []) for a in node.names]
    if node.level:  # relative: _resolve reads the names from the node itself
        return [(node.module or ".", [])]
    return [(node.module or "", [a.name for a in node.names if a.name != "*"])]


def _resolve(name: str, node, path: Path, roots: list[Path]) -> list[Path]:
    """Files of the checkout an import refers to (empty: not the checkout's code)."""
    if isinstance(node, ast.ImportFrom) and node.level:
        base = path.parent
        for _ in range(node.level - 1):
            base = base.parent
        parts = [p for p in (node.module or "").split(".") if p]
        found = _module_files(base, parts)
        for alias in node.names:
            found += _module_files(base, parts + [alias.name])
        return found or [base / "__init__.py"]
    parts = name.split(".")
    for r in roots:
        found = _module_files(r, parts)
        if found:
            return found
    return []


def _module_files(base: Path, parts: list[str]) -> list[Path]:
    target = base.joinpath(*parts) if parts else base
    out = []
    if target.with_suffix(".py").is_file():
        out.append(target.with_suffix(".py"))
    if (target / "__init__.py").is_file():
        out.append(target / "__init__.py")
    if out and len(parts) > 1:  # importing a.b runs a/__init__.py too
        init = base.joinpath(*parts[:-1], "__init__.py")
        if init.is_file():
            out.append(init)
    return out


def _const_str(node, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


class _Collector(ast.NodeVisitor):
    def __init__(self, index: SourceIndex, rel: str) -> None:
        self.index, self.rel = index, rel
        self.constants: dict[str, str] = {}  # module-level NAME = "string"
        self._fstring_parts: set[int] = set()

    def where(self, node) -> Where:
        return Where(self.rel, getattr(node, "lineno", 0))

    def visit_Module(self, node: ast.Module) -> None:
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                value = _const_str(stmt.value, {})
                if value is not None:
                    self.constants[stmt.targets[0].id] = value
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and id(node) not in self._fstring_parts:
            self.index.strings.append((node.value, self.where(node)))
            if node.value.startswith(("http://", "https://")) and node.value.split("?")[0].endswith(WEIGHT_EXT):
                self.index.urls.append((node.value, "", self.where(node)))

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        pieces: list[str | None] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                self._fstring_parts.add(id(value))
                pieces.append(str(value.value))
            else:
                inner = value.value if isinstance(value, ast.FormattedValue) else None
                resolved = _const_str(inner, self.constants) if inner is not None else None
                pieces.append(resolved if resolved is not None else None)
        # merge neighbouring literals (a resolved constant joins the text around it)
        merged: list[str | None] = []
        for p in pieces:
            if p is not None and merged and merged[-1] is not None:
                merged[-1] += p
            else:
                merged.append(p)
        self.index.fstrings.append((merged, self.where(node)))
        if merged and merged[0] and merged[0].startswith(("http://", "https://")) and None in merged:
            last = merged[-1] or ""
            if last.split("?")[0].endswith(WEIGHT_EXT):
                self.index.urls.append((merged[0], last, self.where(node)))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.index.attributes.add(node.attr)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                self.index.fields.setdefault(stmt.target.id, self.where(stmt))
        self.generic_visit(node)

    def visit_FunctionDef(self, node) -> None:
        args = node.args.args + node.args.kwonlyargs
        defaults = (
            [None] * (len(node.args.args) - len(node.args.defaults))
            + list(node.args.defaults)
            + list(node.args.kw_defaults)
        )
        for arg, default in zip(args, defaults):
            value = _const_str(default, self.constants) if default is not None else None
            if value and MODEL_KEYS.search(arg.arg) and HF_REPO.match(value):
                self.index.hf_repos.append((value, self.where(default)))
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "add_argument":
            flags = [v for v in (_const_str(a, self.constants) for a in node.args) if v and v.startswith("-")]
            for value in flags:
                self.index.options.setdefault(value, self.where(node))
            choices = next((k.value for k in node.keywords if k.arg == "choices"), None)
            try:
                literal = ast.literal_eval(choices) if choices is not None else None
            except ValueError:  # computed choices: not checkable
                literal = None
            if isinstance(literal, (list, tuple, set)):
                for value in flags:
                    self.index.choices.setdefault(value, [str(c) for c in literal])
            for kw in node.keywords:
                value = _const_str(kw.value, self.constants)
                if (
                    kw.arg == "default"
                    and value
                    and HF_REPO.match(value)
                    and not value.endswith((".yaml", ".yml", ".json"))
                ):
                    self.index.hf_repos.append((value, self.where(kw.value)))
        for kw in node.keywords:
            value = _const_str(kw.value, self.constants)
            if (
                kw.arg
                and MODEL_KEYS.search(kw.arg)
                and value
                and HF_REPO.match(value)
                and "." not in value.split("/")[-1][-5:]
            ):
                self.index.hf_repos.append((value, self.where(kw.value)))
        if name in DOWNLOAD_CALLS:
            first = (
                node.args[0]
                if node.args
                else next(
                    (k.value for k in node.keywords if k.arg in ("repo_id", "url", "pretrained_model_name_or_path")),
                    None,
                )
            )
            value = _const_str(first, self.constants) if first is not None else None
            if value and value.startswith(("http://", "https://")):
                self.index.urls.append((value, "", self.where(node)))
            elif value and HF_REPO.match(value):
                self.index.hf_repos.append((value, self.where(node)))
                self._hf_file(name, value, node)
            elif not (isinstance(first, ast.JoinedStr)):
                self.index.unresolved_downloads.append(
                    (f"{name}({ast.unparse(first) if first is not None else ''})", self.where(node))
                )
        self.generic_visit(node)

    def _hf_file(self, call: str, repo: str, node: ast.Call) -> None:
        """The file (hf_hub_download's filename, with its subfolder) or the folder (from_pretrained's
        subfolder) a call with a literal repository names literally."""
        kwargs = {k.arg: _const_str(k.value, self.constants) for k in node.keywords if k.arg}
        subfolder = kwargs.get("subfolder")
        if call == "hf_hub_download":
            filename = kwargs.get("filename") or (
                _const_str(node.args[1], self.constants) if len(node.args) > 1 else None
            )
            if filename:
                self.index.hf_files.append(
                    (repo, f"{subfolder}/{filename}" if subfolder else filename, self.where(node))
                )
        elif call == "from_pretrained" and subfolder:
            self.index.hf_files.append((repo, f"{subfolder}/", self.where(node)))
