"""Make pre-fetched weight files appear where upstream code looks for them, then run the upstream command.

Some upstream code reads weights from a fixed path rather than from a cache it can be pointed at
(threestudio: load/zero123/stable_zero123.ckpt in its checkout; OpenAI's clip package: ~/.cache/clip;
LGM: a --resume file path). The runner fetches weights beforehand (spec `weights`); this links them
into place, offline, and then runs the command in this same process (as `python SCRIPT ARGS` would:
as __main__, same argv, the script's folder first on sys.path), so the links exist for it even in a
throw-away container:

    python link_weights.py [--hf REPO_ID FILE DEST]... [--env VARIABLE DEST]... [-- SCRIPT ARGS...]

--hf: a file in the local Hugging Face cache; --env: a file whose path the runner put in VARIABLE.
DEST may start with ~. A link or file at DEST that already resolves to the same file is kept;
anything else there is replaced atomically. Standard library only (plus huggingface_hub for --hf).
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from pathlib import Path


def fail(message: str) -> None:
    print(f"link_weights: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def link(source: Path, dest: Path) -> None:
    if not source.is_file():
        fail(f"weight file {source} not found: were the weights fetched?")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and dest.resolve() == source.resolve():
        return
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(source.resolve())
    os.replace(tmp, dest)
    print(f"link_weights: {dest} -> {source.resolve()}", flush=True)


def hf_file(repo_id: str, filename: str) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        fail("huggingface_hub is not installed in this environment")
    try:
        return Path(hf_hub_download(repo_id=repo_id, filename=filename, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - any failure means the file is not in the local cache
        fail(f"{repo_id}/{filename} is not in the local Hugging Face cache ({type(exc).__name__}: {exc})")


def main(argv: list[str]) -> None:
    own, command = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hf", nargs=3, action="append", default=[], metavar=("REPO_ID", "FILE", "DEST"))
    parser.add_argument("--env", nargs=2, action="append", default=[], metavar=("VARIABLE", "DEST"))
    args = parser.parse_args(own)
    if not args.hf and not args.env:
        fail("nothing to link (give --hf or --env)")
    for variable, dest in args.env:
        value = os.environ.get(variable)
        if not value:
            fail(f"environment variable {variable} is not set: the runner sets it from the spec's weights")
        link(Path(value), Path(dest).expanduser())
    for repo_id, filename, dest in args.hf:
        link(hf_file(repo_id, filename), Path(dest).expanduser())
    if command:
        script = os.path.abspath(command[0])
        sys.argv = list(command)
        sys.path[0] = os.path.dirname(script)
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
