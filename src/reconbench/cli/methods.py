"""`reconbench methods`: every method, and whether it can run on this machine (and why not)."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "List every registered method (built-in, upstream adapters, entry-point plug-ins): paradigm, output, input "
    "views, whether it needs a GPU, and whether it runs on this machine, with the reason when it does not. "
    "Nothing is installed or imported from a method's own code."
)
EXAMPLES = """
reconbench methods
reconbench methods -v          # with descriptions and upstream repositories at their pinned commits
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """None of its own: -v prints the details."""


def run(args: argparse.Namespace) -> int:
    from reconbench.registry import availability, get_method, method_names

    specs = [get_method(n) for n in method_names()]
    width = max(len(s.name) for s in specs) + 1
    print(f"{'method':{width}s} {'paradigm':13s} {'output':7s} {'views':9s} {'GPU':4s} {'code':9s} runs here?")
    for spec in specs:
        ok, why = availability(spec)
        views = (
            ",".join(map(str, spec.input_views))
            if len(spec.input_views) < 4
            else f"{min(spec.input_views)}-{max(spec.input_views)}"
        )
        code = "upstream" if spec.is_external else "built-in"
        print(
            f"{spec.name:{width}s} {spec.paradigm:13s} {spec.representation:7s} {views:9s} "
            f"{'yes' if spec.needs_gpu else 'no':4s} {code:9s} {'yes' if ok else 'no: ' + why}"
        )
        if args.verbose:
            print(f"    {spec.description}")
            if spec.recipe is not None:
                print(f"    upstream: {spec.recipe.upstream.repo} @ {spec.recipe.upstream.commit}")
    return 0
