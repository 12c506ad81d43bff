"""Preflight: an adapter's spec checked against the upstream source at its pinned commit, with no GPU and
nothing run (`reconbench doctor --preflight`; also after `reconbench install`).

Five checks per adapter, each "pass" or "fail" with its reasons (and notes on what it could not check):

- argv: every `--flag` of a step is an argparse option or a (tyro) dataclass field of the program (and its
  value one of the option's literal `choices`, when it has some); every
  `key=value` is a key of the YAML config the step names (nested keys followed), a dataclass field, or a name
  the program reads (`cfg.key`, `"key"`); every literal positional (a subcommand, a runner name) is a string
  of the program; every `{repo}/path` exists in the checkout.
- markers: every stage-marker regex's literal text can be printed by the program (string constants and
  f-string pieces of the files the steps reach).
- weights: every Hugging Face repository, torch.hub / URL file the program names on its path (download calls,
  model-name arguments and defaults, repository names in the step's YAML config, weight URLs) is in the
  spec's weights, or a step's `preflight` entry says why not.
- output: every literal part of `output.path` (folders, file stem, extension) is written by the program or
  given to it on the command line.
- modules: every third-party module the program imports (outside a try/except ImportError) is provided by
  the recipe: named in its packages, its `-r` files, its build steps, or a dependency of one of them
  (DEPENDS below).

Static reading proves presence, not use: a flag found in a file the entry imports may belong to another
parser; a marker's text may be printed elsewhere; a repository may be chosen at run time from a config file
(named in the notes). It cannot see inside third-party libraries (what kiui or open_clip download) or code
loaded by computed names. A failure is a concrete mismatch to fix before spending GPU time; a pass is not a
run. A step may carry `"preflight": {"<flag, key, repository or URL>": "why it is right anyway"}`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reconbench.methods.base import MethodSpec
from reconbench.methods.recipe import Step
from reconbench.upstream.source_index import HF_REPO, SourceIndex, build_index

CHECKS = ("argv", "markers", "weights", "output", "modules")

# Import name -> distribution names (normalised: lower case, "-" and "." as "_") where they differ.
IMPORT_TO_DIST = {
    "cv2": ("opencv_python", "opencv_python_headless", "opencv_contrib_python", "opencv_contrib_python_headless"),
    "PIL": ("pillow",),
    "yaml": ("pyyaml",),
    "skimage": ("scikit_image",),
    "sklearn": ("scikit_learn",),
    "absl": ("absl_py",),
    "mcubes": ("pymcubes",),
    "tinycudann": ("tiny_cuda_nn",),
    "open_clip": ("open_clip_torch",),
    "clip": ("clip",),
    "pytorch_lightning": ("pytorch_lightning", "lightning"),
    "igl": ("libigl",),
    "taming": ("taming_transformers_rom1504",),
    "onnxruntime": ("onnxruntime", "onnxruntime_gpu"),
    "dateutil": ("python_dateutil",),
    "google": ("protobuf",),
    "diff_gaussian_rasterization": ("diff_gaussian_rasterization",),
    "simple_knn": ("simple_knn",),
}
# What a distribution brings with it, as import names: its declared requirements (wheel metadata of the versions
# of the period). Kept by hand, because reading real metadata needs the built environment; a module provided
# only through this table is reported as "via <distribution>".
_PYTORCH_LIGHTNING = (
    "torch",
    "tqdm",
    "yaml",
    "fsspec",
    "torchmetrics",
    "packaging",
    "typing_extensions",
    "lightning_utilities",
)
DEPENDS = {
    "torch": ("typing_extensions", "filelock", "sympy", "networkx", "jinja2", "fsspec"),
    "torchvision": ("numpy", "PIL", "requests", "torch"),
    "transformers": (
        "numpy",
        "huggingface_hub",
        "tokenizers",
        "safetensors",
        "yaml",
        "regex",
        "requests",
        "tqdm",
        "packaging",
        "filelock",
    ),
    "diffusers": (
        "huggingface_hub",
        "PIL",
        "numpy",
        "safetensors",
        "requests",
        "regex",
        "filelock",
        "importlib_metadata",
    ),
    "huggingface_hub": ("requests", "tqdm", "yaml", "filelock", "fsspec", "packaging", "typing_extensions"),
    "accelerate": ("numpy", "packaging", "psutil", "yaml", "torch", "huggingface_hub", "safetensors"),
    "rembg": ("numpy", "PIL", "onnxruntime", "cv2", "scipy", "skimage", "pooch", "pymatting", "tqdm", "jsonschema"),
    "scikit_image": ("numpy", "scipy", "networkx", "PIL", "imageio", "tifffile", "packaging", "lazy_loader"),
    "imageio": ("numpy", "PIL"),
    "matplotlib": (
        "numpy",
        "PIL",
        "packaging",
        "pyparsing",
        "cycler",
        "kiwisolver",
        "fontTools",
        "contourpy",
        "dateutil",
    ),
    "omegaconf": ("yaml", "antlr4"),
    "pytorch_lightning": _PYTORCH_LIGHTNING,
    "lightning": (*_PYTORCH_LIGHTNING, "pytorch_lightning"),
    "torchmetrics": ("numpy", "torch", "packaging", "lightning_utilities"),
    "open_clip_torch": ("torch", "torchvision", "regex", "ftfy", "tqdm", "huggingface_hub"),
    "xformers": ("torch", "numpy"),
    "trimesh": ("numpy",),
    "tensorboard": ("numpy", "google", "grpc", "markdown", "werkzeug", "absl"),
    "pymcubes": ("numpy",),
    "xatlas": ("numpy",),
    "plyfile": ("numpy",),
    "gpytoolbox": ("numpy", "scipy"),
    "opencv_python": ("numpy",),
    "opencv_python_headless": ("numpy",),
    "onnxruntime": ("numpy", "google", "flatbuffers", "sympy"),
    "kornia": ("torch", "packaging"),
    "jaxtyping": ("numpy", "typing_extensions"),
    "controlnet_aux": (
        "cv2",
        "PIL",
        "numpy",
        "einops",
        "filelock",
        "huggingface_hub",
        "scipy",
        "skimage",
        "timm",
        "torch",
        "torchvision",
    ),
    "wandb": ("yaml", "requests", "psutil", "click", "google"),
}


@dataclass
class CheckResult:
    name: str
    ok: bool = True
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: int = 0

    def fail(self, text: str) -> None:
        self.ok = False
        self.failures.append(text)


@dataclass
class Preflight:
    method: str
    source: str
    commit: str = ""
    checks: dict[str, CheckResult] = field(default_factory=dict)
    error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error and all(c.ok for c in self.checks.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "source": self.source,
            "commit": self.commit,
            "ok": self.ok,
            "error": self.error,
            "notes": self.notes,
            "checks": {k: asdict(v) for k, v in self.checks.items()},
        }


@dataclass
class _Step:
    index: int
    stage: str
    program: str  # what runs: a file of the checkout, or "" (a hook of ours)
    args: list[str]
    exempt: dict[str, str]
    yaml: list[tuple[Path, Any]]  # the YAML configs the step names that exist, each read once


def preflight(spec: MethodSpec, source: Path | str) -> Preflight:
    """Check `spec` against the checkout at `source` (its extra repositories in place)."""
    source = Path(source).resolve()
    result = Preflight(spec.name, str(source), _head(source))
    if not source.is_dir():
        result.error = f"no checkout at {source}"
        return result
    recipe = spec.upstream_recipe()
    for item in recipe.upstream.repos:
        head = _head(source / item.dest) if item.dest else result.commit
        where = item.dest or "the checkout"
        if not head:
            result.notes.append(f"{where} is not a git checkout: its commit is not verified")
        elif head != item.commit:
            result.error = f"{where} ({source / item.dest}) is at commit {head[:12]}, not the pinned {item.commit[:12]}"
            return result
    steps = [_parse_step(i, s, source) for i, s in enumerate(recipe.steps)]
    programs = [s for s in steps if s.program]
    if not programs:
        result.error = "no step runs a program of the checkout"
        return result
    extras = [source / e.dest for e in recipe.upstream.extra]
    entries = [source / s.program for s in programs]
    for extra in extras:  # loaded by the host program by name at run time (threestudio's custom modules)
        entries += sorted(extra.rglob("*.py"))
    index = build_index(source, entries, tuple(extras))
    exempt = {k: v for s in steps for k, v in s.exempt.items()}
    result.checks = {
        "argv": _check_argv(steps, source, index, exempt),
        "markers": _check_markers(spec, index),
        "weights": _check_weights(spec, steps, index, exempt),
        "output": _check_output(spec, steps, index),
        "modules": _check_modules(spec, source, index, exempt),
    }
    return result


def _head(source: Path) -> str:
    import subprocess

    try:
        done = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _sub(text: str, source: Path) -> str:
    return text.replace("{repo}", str(source))


# Hooks of ours that do their work, then run the upstream script given after "--" (in the same process).
WRAPPING_HOOKS = ("{hooks}/link_weights.py", "{hooks}/save_multiview.py")


def _parse_step(i: int, step: Step, source: Path) -> _Step:
    argv = list(step.argv)
    program, args = "", []
    rest = argv[1:] if argv and argv[0] == "{python}" else argv
    while rest and rest[0] in WRAPPING_HOOKS and "--" in rest:  # our hooks run the real script after "--"
        rest = rest[rest.index("--") + 1 :]
    if rest and rest[0] == "-m" and len(rest) > 1:  # a module, or a package run by its __main__.py
        module = rest[1].replace(".", "/")
        program = f"{module}/__main__.py" if (source / module / "__main__.py").is_file() else f"{module}.py"
        args = rest[2:]
    elif rest and rest[0].endswith(".py") and not rest[0].startswith("{hooks}"):
        program, args = rest[0].replace("{repo}/", ""), rest[1:]
    else:  # a hook of ours (or not a Python program): its arguments name it
        args = rest
    paths = [Path(_sub(a, source)) for a in args if a.startswith("{repo}/") and a.endswith((".yaml", ".yml"))]
    yaml = [(p, _load_yaml(p)) for p in paths if p.is_file()]
    return _Step(i, step.stage, program, args, dict(step.preflight), yaml)


def _load_yaml(path: Path) -> Any:
    import yaml  # PyYAML (a reconbench dependency)

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}


def _yaml_has(tree: Any, dotted: str) -> bool | None:
    """True: the key path exists; False: a mapping on the way lacks it; None: the path leaves the YAML (e.g.
    under a value that is not a mapping) or the YAML has no first component."""
    node = tree
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, dict):
            return None
        if part not in node:
            return False if depth > 0 else None
        node = node[part]
    return True


def _is_flag(arg: str) -> bool:
    return arg.startswith("-") and len(arg) > 1 and not re.fullmatch(r"-?\d+(\.\d+)?", arg)


def _check_argv(steps: list[_Step], source: Path, index: SourceIndex, exempt: dict[str, str]) -> CheckResult:
    r = CheckResult("argv")
    for step in steps:
        if not step.program:
            _check_hook(step, source, r)
            continue
        if not (source / step.program).is_file():
            r.fail(f"steps[{step.index}]: the program {step.program} is not in the checkout")
            continue
        value_next, last_flag = False, ""
        for arg in step.args:
            r.checked += 1
            flag_value, value_next = value_next and not _is_flag(arg), False
            if "{repo}/" in arg:  # a file the step names must be in the checkout
                path = Path(_sub(arg.split("=", 1)[-1], source))
                if not path.exists():
                    r.fail(f"steps[{step.index}]: {arg} does not exist in the checkout")
                continue
            if flag_value:  # the value of the flag before it: one of its choices, if it declares them
                allowed = index.choices.get(last_flag)
                if allowed and "{" not in arg and arg not in allowed:
                    r.fail(f"steps[{step.index}]: {last_flag} {arg}: not one of its choices {allowed}")
                continue
            if _is_flag(arg):
                flag = last_flag = arg.split("=", 1)[0]
                name = flag.lstrip("-")
                if flag in index.options or name.replace("-", "_") in index.fields:
                    value_next = "=" not in arg
                elif flag in exempt:
                    r.notes.append(f"{flag}: {exempt[flag]}")
                else:
                    r.fail(
                        f"steps[{step.index}]: {flag} is neither an argparse option nor a dataclass field of "
                        f"{step.program} or the files it imports"
                    )
                value_next = "=" not in arg
                continue
            if re.match(r"^[A-Za-z_][\w.]*=", arg):  # an OmegaConf dotlist override
                key = arg.split("=", 1)[0]
                if _find_key(key, step.yaml, index) is None:
                    if key in exempt:
                        r.notes.append(f"{key}: {exempt[key]}")
                    else:
                        r.fail(
                            f"steps[{step.index}]: config key {key!r} is in none of "
                            f"{[p.name for p, _ in step.yaml] or 'no YAML'}, "
                            f"no dataclass field and never read by the program"
                        )
                continue
            if "{" in arg:  # a placeholder: the input, the output folder, the seed
                continue
            if not index.has_exact(arg) and arg not in exempt:
                r.fail(
                    f"steps[{step.index}]: the positional {arg!r} is not a string of the program (subcommand or "
                    f"choice?)"
                )
    return r


def _check_hook(step: _Step, source: Path, r: CheckResult) -> None:
    """A hook of ours declares the upstream names it relies on (UPSTREAM_NAMES: file -> names); each file must
    define each name (def, class, assignment or annotated field)."""
    from reconbench.upstream.run import HOOKS

    hook = next((a for a in step.args if a.startswith("{hooks}/")), "")
    path = HOOKS / hook.removeprefix("{hooks}/") if hook else None
    declared = _literal_assignment(path, "UPSTREAM_NAMES") if path and path.is_file() else None
    if not declared:
        r.notes.append(
            f"steps[{step.index}] ({step.stage}) runs a hook of reconbench's that declares no upstream names: not "
            f"checked"
        )
        return
    for rel, names in declared.items():
        target = source / rel
        r.checked += len(names)
        if not target.is_file():
            r.fail(f"steps[{step.index}]: hook {path.name} needs {rel}, which is not in the checkout")
            continue
        defined = _defined_names(target)
        missing = [n for n in names if n not in defined]
        if missing:
            r.fail(f"steps[{step.index}]: hook {path.name} needs {missing} from {rel}, which does not define them")


def _literal_assignment(path: Path, name: str) -> Any:
    import ast

    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def _defined_names(path: Path) -> set[str]:
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8", errors="replace"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _find_key(key: str, yamls: list[tuple[Path, Any]], index: SourceIndex) -> str | None:
    for path, tree in yamls:
        found = _yaml_has(tree, key)
        if found:
            return f"{path.name}"
        if found is False:
            return None  # the YAML has the section but not this key: a typo the program would silently accept
    last = key.split(".")[-1]
    if key in index.fields or last in index.fields:
        return "dataclass field"
    if "." not in key and (last in index.attributes or index.has_exact(last)):
        return "read by the program"
    return None


def _literal_fragments(pattern: str) -> list[str]:
    """The runs of literal characters of a regex (what a matching line must contain)."""
    try:  # the regex parser of the standard library (public as sre_parse before 3.11)
        from re import _constants as sre_constants  # type: ignore[attr-defined]
        from re import _parser as sre_parse
    except ImportError:  # Python 3.10
        import sre_constants  # type: ignore[no-redef]
        import sre_parse  # type: ignore[no-redef]
    out, cur = [], ""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return [pattern]
    for op, av in parsed:
        if op == sre_constants.LITERAL:
            cur += chr(av)
        else:
            if cur:
                out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return [f for f in out if f.strip()]


def _check_markers(spec: MethodSpec, index: SourceIndex) -> CheckResult:
    r = CheckResult("markers")
    markers = spec.upstream_recipe().stage_markers
    if not markers:
        r.notes.append("no stage markers: the whole step is one stage")
    for marker in markers:
        r.checked += 1
        missing = [f for f in _literal_fragments(marker.pattern) if not index.produces(f)]
        if missing:
            r.fail(f"marker {marker.pattern!r} ({marker.stage}): {missing} is printed nowhere in the program")
    return r


def _declared(spec: MethodSpec) -> tuple[set[str], list[str]]:
    weights = spec.upstream_recipe().weights
    repos = {w.repo_id for w in weights if w.kind == "hf"}
    urls = [w.url for w in weights if w.kind == "url"]
    return repos, urls


def _check_weights(spec: MethodSpec, steps: list[_Step], index: SourceIndex, exempt: dict[str, str]) -> CheckResult:
    r = CheckResult("weights")
    repos, urls = _declared(spec)
    found: dict[str, str] = {}
    for repo, where in index.hf_repos:
        if (
            not repo.split("/")[-1]
            .lower()
            .endswith((".webp", ".png", ".jpg", ".jpeg", ".yaml", ".yml", ".json", ".txt", ".ply", ".obj"))
        ):
            found.setdefault(repo, str(where))
    for step in steps:  # model names in the step's own argv (key=org/name) and YAML config
        for arg in step.args:
            value = arg.split("=", 1)[-1]
            if "=" in arg and HF_REPO.match(value) and not value.startswith("{"):
                found.setdefault(value, f"steps[{step.index}] argv")
        for path, tree in step.yaml:
            for key, value in _yaml_items(tree):
                if (
                    isinstance(value, str)
                    and HF_REPO.match(value)
                    and re.search(r"model|pretrained|repo|encoder", key, re.I)
                    and not value.endswith((".yaml", ".ckpt", ".pth", ".bin", ".json"))
                ):
                    found.setdefault(value, f"{path.name}: {key}")
    for repo, where in sorted(found.items()):
        r.checked += 1
        if repo in repos:
            continue
        if repo in exempt:
            r.notes.append(f"{repo} ({where}): {exempt[repo]}")
        else:
            r.fail(f"Hugging Face repository {repo} ({where}) is not in the weights list")
    for repo, name, where in index.hf_files:  # the files of a declared repository the program names literally
        entry = next((w for w in spec.upstream_recipe().weights if w.kind == "hf" and w.repo_id == repo), None)
        if entry is None:
            continue  # reported above
        r.checked += 1
        files, patterns = list(entry.files), list(entry.allow_patterns)
        if not files and not patterns:
            continue  # the whole repository is fetched
        if name.endswith("/"):
            ok = any(f.startswith(name) for f in files) or any(
                p.startswith(name) or p.startswith("*") for p in patterns
            )
        else:
            ok = name in files or any(fnmatch.fnmatch(name, p) for p in patterns)
        if not ok and f"{repo}/{name}" not in exempt:
            r.fail(f"{repo}: {name} ({where}) is not among the files the weights list fetches")
    for prefix, suffix, where in index.urls:
        r.checked += 1
        whole = prefix if not suffix else None
        ok = any(u == whole for u in urls) if whole else any(u.startswith(prefix) and u.endswith(suffix) for u in urls)
        label = whole or f"{prefix}...{suffix}"
        if not ok and label not in exempt:
            r.fail(f"weight URL {label} ({where}) is not in the weights list")
        elif not ok:
            r.notes.append(f"{label} ({where}): {exempt[label]}")
    if index.unresolved_downloads:
        r.notes.append(
            "downloads named at run time (config files, arguments), not checkable here: "
            + "; ".join(f"{c} at {w}" for c, w in index.unresolved_downloads[:8])
        )
    seen = set(found) | {u for u in urls if any(u.startswith(p) for p, _, _ in index.urls)}
    unseen = sorted((repos | set(urls)) - seen)
    if unseen:
        r.notes.append(
            f"declared but not named in the program's own files (a library or a config loads them): {unseen}"
        )
    return r


def _yaml_items(tree: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _yaml_items(v, f"{prefix}{k}.")
    elif isinstance(tree, list):
        for v in tree:
            yield from _yaml_items(v, prefix)
    else:
        yield prefix.rstrip("."), tree


def _check_output(spec: MethodSpec, steps: list[_Step], index: SourceIndex) -> CheckResult:
    """Folders: a string of the program or a part of the command line. File name: the whole literal name (or its
    part after a glob) in a string, or its stem ending an f-string piece before a field (f"mesh.{fmt}") with the
    extension written or passed; a bare glob (`*.ply`) needs its extension in a string."""
    r = CheckResult("output")
    recipe = spec.upstream_recipe()
    argv_text = re.sub(r"\{\w+\}", " ", " ".join(a for step in recipe.steps for a in step.argv))
    path = recipe.output.path
    *folders, filename = path.split("/")
    for folder in folders:
        for piece in re.split(r"[*?]|\[[^]]*\]", folder):
            if not piece or piece.isdigit():  # an index the program counts (TripoSR's 0/)
                continue
            r.checked += 1
            if not (index.has_string(piece) or piece in argv_text):
                r.fail(
                    f"output path {path!r}: folder {piece!r} is neither written by the program nor given on its "
                    f"command line"
                )
    name = re.split(r"[*?]|\[[^]]*\]", filename)[-1]
    r.checked += 1
    stem, dot, ext = name.rpartition(".")
    written = (index.has_string(name) if stem else index.has_string(f".{ext}")) or name in argv_text
    if not written and stem:
        ext_given = index.has_string(ext) or ext in argv_text
        written = ext_given and any(
            p and p.endswith(f"{stem}.") and i + 1 < len(pieces) and pieces[i + 1] is None
            for pieces, _ in index.fstrings
            for i, p in enumerate(pieces)
        )
    if not written:
        r.fail(f"output path {path!r}: the program writes no file named like {name!r}")
    if recipe.output.member:
        r.notes.append(f"zip member {recipe.output.member!r}: not checked (named at run time)")
    return r


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def recipe_distributions(spec: MethodSpec, source: Path) -> tuple[set[str], list[str]]:
    """Normalised names of what the recipe installs (packages, -r files read from the checkout, build steps),
    and notes on what could not be read."""
    names: set[str] = set()
    notes: list[str] = []
    items: list[str] = []
    environment = spec.upstream_recipe().environment
    for item in environment.packages:
        items += list(item) if isinstance(item, tuple) else [item]
    for build in environment.build:
        argv = list(build.argv)
        if "install" in argv:
            items += [a for a in argv[argv.index("install") + 1 :] if not a.startswith("--")]
    for item in items:
        item = _sub(item.strip(), source)
        if item.startswith("-r "):
            path = Path(item[3:].strip())
            if not path.is_file():
                notes.append(f"requirement file {path} is not in the checkout")
                continue
            items_r = [
                line.split("#")[0].strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
            ]
            names |= {_requirement_name(x) for x in items_r if x and not x.startswith("-")}
        elif not item.startswith("-"):
            names.add(_requirement_name(item))
    names.discard("")
    return names, notes


def _requirement_name(req: str) -> str:
    req = req.strip()
    if req.startswith("git+") or "://" in req:
        m = re.search(r"#subdirectory=bindings/torch", req)
        if m and "tiny-cuda-nn" in req:
            return "tiny_cuda_nn"
        base = req.split("@")[0].rstrip("/").split("/")[-1]
        return _norm(base.removesuffix(".git"))
    if req.startswith("/") or req.startswith("."):
        return _norm(Path(req.rstrip("/")).name)
    m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    return _norm(m.group(1)) if m else ""


def _check_modules(spec: MethodSpec, source: Path, index: SourceIndex, exempt: dict[str, str]) -> CheckResult:
    r = CheckResult("modules")
    dists, notes = recipe_distributions(spec, source)
    r.notes += notes
    provided_via: dict[str, str] = {}
    for dist in sorted(dists):
        for module in DEPENDS.get(dist, ()):
            provided_via.setdefault(_norm(module), dist)
    required = {m for m, _, req in index.imports if req}
    seen: set[str] = set()
    conditional: dict[str, str] = {}
    for module, where, is_required in index.imports:
        if module in seen:
            continue
        candidates = {_norm(d) for d in IMPORT_TO_DIST.get(module, ())} | {_norm(module)}
        provided = bool(candidates & dists)
        via = next((provided_via[c] for c in candidates if c in provided_via), None)
        if not is_required:
            if module not in required and not provided and not via:
                conditional.setdefault(module, str(where))
            continue
        seen.add(module)
        r.checked += 1
        if provided:
            continue
        if via:
            r.notes.append(f"{module}: via {via}")
        elif module in exempt:
            r.notes.append(f"{module}: {exempt[module]}")
        else:
            r.fail(f"module {module} (imported at {where}) is not provided by the recipe")
    if conditional:
        r.notes.append(
            "not provided, imported only inside functions, try/except ImportError or files reached through "
            "them (needed only if that code runs): " + ", ".join(f"{m} ({w})" for m, w in sorted(conditional.items()))
        )
    return r


def format_report(results: list[Preflight]) -> str:
    width = max([len(p.method) for p in results] + [6])
    lines = [f"{'method':{width}s}  " + "  ".join(f"{c:8s}" for c in CHECKS) + "  commit"]
    for p in results:
        if p.error:
            lines.append(f"{p.method:{width}s}  no: {p.error}")
            continue
        cells = "  ".join(f"{('pass' if p.checks[c].ok else 'FAIL'):8s}" for c in CHECKS)
        lines.append(f"{p.method:{width}s}  {cells}  {p.commit[:7] or '?'}")
    details = [f"  {p.method} {c}: {f}" for p in results for c in CHECKS if c in p.checks for f in p.checks[c].failures]
    return "\n".join(lines + (["", "failed:"] + details if details else []))
