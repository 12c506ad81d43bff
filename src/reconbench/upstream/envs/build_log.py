"""The build log: every command of a build and its output appended to the environment's build.log, kept whether
the build succeeds or fails. Every command is an argv list run with `subprocess` (never a shell string)."""

from __future__ import annotations

import datetime as _dt
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from reconbench.errors import ReconbenchError


class EnvironmentBuildError(ReconbenchError):
    """Building an environment failed; the message names the method, the failing command and the build log."""


def host_environment() -> dict[str, str]:
    """This process's environment minus what would point another interpreter at our Python
    (PYTHONHOME, PYTHONPATH): the base of every build and run command's environment."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}


class BuildLog:
    """Appends every command and its output to build.log; echo=True also streams it to stderr."""

    def __init__(self, path: Path, *, echo: bool = False, method: str = "", backend: str = "") -> None:
        self.path = Path(path)
        self.echo = echo
        self.method = method
        self.backend = backend

    def note(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(text.rstrip("\n") + "\n")
        if self.echo:
            print(text, file=sys.stderr, flush=True)  # noqa: T201  (the build's own output, as asked: install -v)

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> int:
        """Run one command, its output appended to the log; a non-zero exit raises EnvironmentBuildError
        (check=True)."""
        argv = [str(a) for a in argv]
        stamp = _dt.datetime.now().isoformat(timespec="seconds")
        self.note(f"\n==> [{stamp}] $ {shlex.join(argv)}" + (f"   (cwd: {cwd})" if cwd else ""))
        full_env = {
            **host_environment(),
            "GIT_TERMINAL_PROMPT": "0",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                cwd=str(cwd) if cwd else None,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            self.note(f"<== could not start: {exc}")
            if check:
                raise EnvironmentBuildError(
                    f"building the {self.backend} environment of method {self.method!r} failed: could not run "
                    f"`{shlex.join(argv)}`: {exc}; build log: {self.path}"
                ) from None
            return 127
        assert proc.stdout is not None
        with open(self.path, "ab") as log:
            for line in iter(proc.stdout.readline, b""):
                log.write(line)
                log.flush()
                if self.echo:
                    sys.stderr.write(line.decode(errors="replace"))
                    sys.stderr.flush()
        rc = proc.wait()
        self.note(f"<== exit {rc} in {time.monotonic() - start:.1f} s")
        if rc != 0 and check:
            raise EnvironmentBuildError(
                f"building the {self.backend} environment of method {self.method!r} failed: "
                f"`{shlex.join(argv)}` exited with status {rc}"
                + (f" (cwd {cwd})" if cwd else "")
                + f"; build log: {self.path}\n--- last lines of the log ---\n{self.tail()}"
            )
        return rc

    def tail(self, n: int = 20) -> str:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])
