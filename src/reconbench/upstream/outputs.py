"""Finding the asset an upstream method wrote (spec `output`).

`output` in a spec: {"path": a glob relative to the job's output folder, "format": obj | ply | glb,
"unpack": "zip" (optional), "member": a glob inside the archive (with unpack)}.

Rules:
- the glob is matched against files only (folders never match);
- no match: `OutputNotFound` (a FileNotFoundError) naming the folder, the glob and the files the method
  did write (the first 20, and how many in all), which usually shows at once what went wrong;
- several matches: `OutputAmbiguous` naming them. Each job starts from an empty folder, so several
  matches mean the spec's glob is too broad (or the method wrote more than one asset): guessing could
  score the wrong file;
- "unpack": "zip": the archive is extracted into `<out>/unpacked/` (emptied first; members that would
  land outside it are refused) and `member` is matched there by the same rules.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath

from reconbench import limits
from reconbench.errors import ReconbenchError
from reconbench.methods.base import MethodSpec
from reconbench.methods.recipe import is_relative

UNPACK_DIR = "unpacked"
LISTED = 20  # files named in an OutputNotFound message


class OutputNotFound(ReconbenchError, FileNotFoundError):
    """The method finished but its declared output is not where the spec says."""

    def __init__(self, method: str, folder: Path, pattern: str, written: list[str]):
        self.method, self.folder, self.pattern, self.written = method, folder, pattern, written
        if written:
            shown = ", ".join(written[:LISTED]) + (
                f", ... ({len(written)} files in all)" if len(written) > LISTED else ""
            )
            what = f"it wrote: {shown}"
        else:
            what = "the folder is empty" if folder.is_dir() else "the folder does not exist"
        super().__init__(f"method {method!r}: no file matches {pattern!r} in {folder}; {what}")


class OutputAmbiguous(ReconbenchError, ValueError):
    """Several files match a method's output glob."""


def discover_output(spec: MethodSpec, out_dir: Path) -> Path:
    """The asset file the method wrote under `out_dir` (see the module docstring for the rules)."""
    out_dir = Path(out_dir)
    output = spec.recipe.output if spec.recipe is not None else None
    if output is None or not output.path:
        raise ValueError(f"method {spec.name!r}: its spec declares no output.path")
    found = _one(spec.name, out_dir, output.path)
    if not output.unpack:
        return found
    if output.unpack != "zip":
        raise ValueError(f"method {spec.name!r}: unknown output.unpack {output.unpack!r} (known: zip)")
    member = output.member
    if not member:
        raise ValueError(f"method {spec.name!r}: output.unpack needs output.member (a glob inside the archive)")
    target = out_dir / UNPACK_DIR
    _unzip(spec.name, found, target)
    return _one(spec.name, target, member)


def _one(method: str, folder: Path, pattern: str) -> Path:
    matches = sorted(p for p in folder.glob(pattern) if p.is_file()) if folder.is_dir() else []
    if not matches:
        raise OutputNotFound(method, folder, pattern, _written(folder))
    if len(matches) > 1:
        raise OutputAmbiguous(
            f"method {method!r}: {len(matches)} files match {pattern!r} in {folder} "
            f"({', '.join(str(p.relative_to(folder)) for p in matches[:LISTED])}); the spec's output.path must name one"
        )
    return matches[0]


def _written(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _unzip(method: str, archive: Path, target: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            for name in names:
                parts = PurePosixPath(name.replace("\\", "/")).parts
                if not is_relative(name) or (parts and parts[0].endswith(":")):  # "C:..." too
                    raise ValueError(f"method {method!r}: archive {archive} has a member outside its folder: {name!r}")
            # zipfile stops each member at its declared size (and fails its CRC check past it), so the sum of the
            # declared sizes bounds what extraction writes: a zip bomb is refused before anything is written.
            total = sum(info.file_size for info in zf.infolist())
            if total > limits.EXTRACTED_BYTES.get():
                raise ValueError(
                    f"method {method!r}: {limits.EXTRACTED_BYTES.exceeded(total, f'archive {archive} unpacks to')}"
                )
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            zf.extractall(target)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"method {method!r}: {archive} is not a valid zip archive ({exc})") from exc


def discover_intermediate_views(spec: MethodSpec, out_dir: Path) -> list[str]:
    """The intermediate multi-view images a two-stage method wrote (spec `intermediate_views.path`, a glob
    under `out_dir`), sorted by name; [] when it declares none or wrote none (stage attribution then says so)."""
    views = spec.recipe.intermediate_views if spec.recipe is not None else None
    pattern = views.path if views is not None else ""
    if not pattern or not Path(out_dir).is_dir():
        return []
    return [str(p) for p in sorted(Path(out_dir).glob(pattern)) if p.is_file()]
