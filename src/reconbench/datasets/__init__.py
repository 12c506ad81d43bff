"""Datasets: turn files on disk (or the built-in generator) into objects with a ground-truth mesh.

A dataset is chosen by a spec string (spec.py): `procedural`, `folder:PATH`, `gso:PATH`,
`omniobject3d:PATH`, `objaverse:PATH`, or `images:PATH` (photos without ground truth); sources.py
describes each. An optional object list (object_list.py) fixes the exact subset.
"""

from reconbench.datasets.base import Dataset, DatasetError, DatasetObject, DatasetProblem
from reconbench.datasets.object_list import apply_object_list, read_object_list
from reconbench.datasets.sources import SOURCES
from reconbench.datasets.spec import open_dataset, parse_spec

__all__ = [
    "Dataset",
    "DatasetError",
    "DatasetObject",
    "DatasetProblem",
    "SOURCES",
    "apply_object_list",
    "open_dataset",
    "parse_spec",
    "read_object_list",
]
