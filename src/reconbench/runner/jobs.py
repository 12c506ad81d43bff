"""Jobs: one (method, object, protocol, seed) each, with a stable key for the results store."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    method: str
    object_id: str
    category: str
    protocol: str
    seed: int = 0

    @property
    def key(self) -> str:
        return f"{self.method}|{self.object_id}|{self.protocol}|{self.seed}"


def plan_jobs(objects, methods: list[str], protocol: str, seeds: list[int]) -> list[Job]:
    """Every (method, object, seed), grouped by object so each ground truth is prepared once."""
    return [Job(m, o.id, o.category, protocol, s) for o in objects for m in methods for s in seeds]
