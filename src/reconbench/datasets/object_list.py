"""Object lists: the exact subset of a dataset to evaluate, optionally renaming objects.

One object per line: `ID` or `ID  NAME_IN_DATASET` (whitespace-separated), optionally followed by
`yaw=DEGREES`; `#` starts a comment. The second column maps a short evaluation name (e.g. SyncDreamer's
`alarm`) to the dataset's own folder name. `yaw` turns the normalised ground truth about the canonical
up axis (+Y; positive turns +X toward -Z) so that a published evaluation's cameras see the object as
its authors' did (SyncDreamer rotates each GSO object by a per-object angle, eval_mesh.py
get_gt_rotate_angle). Shipped lists live in reconbench/lists/ and are named without `.txt`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from reconbench.datasets.base import Dataset, DatasetError, DatasetProblem


class ListEntry(NamedTuple):
    id: str  # the evaluation id (results use it)
    dataset_id: str  # the object's id in the dataset (e.g. a GSO folder name)
    yaw_deg: float = 0.0  # turn of the normalised ground truth about +Y


# An evaluation id names the object's folders in a run (inputs/ID, renders/METHOD/ID...): letters (any
# script), digits, '_', '-', '+', '.', not starting with '.', and no '..'.
_SAFE_ID = re.compile(r"\w[\w.+\-]*")


def check_object_id(object_id: str, where: str) -> str:
    """`object_id` if it is safe as a folder name in a run; DatasetError naming it and `where` if not."""
    if not _SAFE_ID.fullmatch(object_id) or ".." in object_id:
        raise DatasetError(
            f"{where}: object id {object_id!r} is not allowed: an id is used as a folder name in the run, so it may "
            "hold only letters, digits, '_', '-', '+' and '.', must not start with '.' and must not contain '..' or a "
            "path separator"
        )
    return object_id


def shipped_lists() -> list[str]:
    return sorted(p.name[:-4] for p in resources.files("reconbench.lists").iterdir() if p.name.endswith(".txt"))


def read_object_list(name_or_path: str | Path) -> list[ListEntry]:
    """(evaluation id, dataset id, yaw) entries from a list file or the name of a shipped list."""
    path = Path(name_or_path)
    if path.is_file():
        text, where = path.read_text(), str(path)
    elif str(name_or_path) in shipped_lists():
        where = f"shipped list {name_or_path}"
        text = resources.files("reconbench.lists").joinpath(f"{name_or_path}.txt").read_text()
    else:
        raise DatasetError(
            f"{name_or_path}: object list not found (neither a file nor one of: {', '.join(shipped_lists())})"
        )
    entries, seen = [], set()
    for lineno, raw in enumerate(text.splitlines(), 1):
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        fields = [t for t in tokens if "=" not in t]
        options = dict(t.split("=", 1) for t in tokens if "=" in t)
        if not 1 <= len(fields) <= 2 or set(options) - {"yaw"}:
            raise DatasetError(
                f"{where}, line {lineno}: expected 'ID [NAME_IN_DATASET] [yaw=DEGREES]', got {raw.strip()!r}"
            )
        check_object_id(fields[0], f"{where}, line {lineno}")
        try:
            yaw = float(options.get("yaw", 0.0))
        except ValueError:
            raise DatasetError(
                f"{where}, line {lineno}: yaw must be a number of degrees, got {options['yaw']!r}"
            ) from None
        if fields[0] in seen:
            raise DatasetError(f"{where}, line {lineno}: object {fields[0]!r} listed twice")
        seen.add(fields[0])
        entries.append(ListEntry(fields[0], fields[-1], yaw))
    if not entries:
        raise DatasetError(f"{where}: the object list is empty")
    return entries


def apply_object_list(dataset: Dataset, entries: list[ListEntry]) -> Dataset:
    """Keep the listed objects in list order, renamed to their evaluation ids; report missing ones,
    and raise DatasetError when the list selects nothing (a run over no object is an error, not a result)."""
    by_id = {o.id: o for o in dataset.objects}
    objects, problems, missing = [], list(dataset.problems), []
    hint = "map it by adding the dataset's own name as a second column of the list: 'ID  NAME_IN_DATASET'"
    for eval_id, dataset_id, yaw in entries:
        if dataset_id in by_id:
            objects.append(replace(by_id[dataset_id], id=eval_id, yaw_deg=yaw))
        else:
            missing.append(eval_id if eval_id == dataset_id else f"{eval_id} ({dataset_id})")
            problems.append(
                DatasetProblem(
                    Path(dataset_id), f"listed as {eval_id!r} but not found in dataset {dataset.spec!r}; {hint}"
                )
            )
    if not objects:
        have = ", ".join(dataset.ids[:8]) + (", ..." if len(dataset) > 8 else "") if len(dataset) else "no objects"
        raise DatasetError(
            f"the object list selects none of the {len(dataset)} object(s) of {dataset.spec!r} (it has: {have}); "
            f"missing: {', '.join(missing)}. To use other folder names, {hint} (e.g. 'chicken  CHICKEN_NESTING')."
        )
    return Dataset(dataset.spec, dataset.source, tuple(objects), tuple(problems))
