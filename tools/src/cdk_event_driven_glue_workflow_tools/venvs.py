"""One venv per Glue runtime, outside any repository, in which a job of that Glue version runs.

``python_for(runtime)`` returns the interpreter of
``<cache>/runtimes/glue-<version>/`` (``sparkconf.cache_dir()``), creating it the first time
from the runtime's pinned requirements (``runtime_locks/glue-<version>.txt``, installed with
``--require-hashes``): the pyspark and boto3/botocore that AWS Glue provides for that version.
A venv whose lock changed since it was built is rebuilt. Creation is serialized by a lock
file, so parallel test workers and runners share one venv.

The venv's Python is ``python<major.minor>`` of the runtime when the machine has it on
``PATH``, else the Python that runs these tools: :func:`python_note` says so plainly.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

from .runtimes import GlueRuntime
from .sparkconf import cache_dir


def home(runtime: GlueRuntime) -> pathlib.Path:
    return cache_dir() / "runtimes" / f"glue-{runtime.glue_version}"


def find_python(version: str) -> str | None:
    """An interpreter of Python ``version`` (major.minor) that runs: the one running these
    tools, ``python<version>`` on PATH, or a pyenv installation of it (pyenv's shim of a
    version that is not selected does not run, so the installation is looked up directly)."""
    if ".".join(map(str, sys.version_info[:2])) == version:
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    pyenv = pathlib.Path(os.environ.get("PYENV_ROOT", pathlib.Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        installed = sorted(pyenv.glob(f"{version}.*"), key=lambda p: [int(x) for x in p.name.split(".") if x.isdigit()])
        candidates += [str(p / "bin" / f"python{version}") for p in reversed(installed)]
    for candidate in filter(None, candidates):
        try:
            done = subprocess.run([candidate, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
                                  capture_output=True, text=True, timeout=60)
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


def base_python(runtime: GlueRuntime) -> str:
    """The runtime's own Python when this machine has it, else the one running the tools."""
    return find_python(runtime.python) or sys.executable


def python_note(runtime: GlueRuntime) -> str | None:
    """What the local runtime cannot match, or None."""
    if find_python(runtime.python):
        return None
    here = ".".join(map(str, sys.version_info[:2]))
    return (f"Glue {runtime.glue_version} runs Python {runtime.python}; this machine has no Python {runtime.python}, "
            f"so its job runs on Python {here} here")


def python_for(runtime: GlueRuntime) -> pathlib.Path:
    """The interpreter of the runtime's venv, built (or rebuilt) as needed."""
    folder = home(runtime)
    python = folder / "bin" / "python"
    want = hashlib.sha256(runtime.lock_file.read_bytes()).hexdigest()
    stamp = folder / ".lock.sha256"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(folder.parent / f".glue-{runtime.glue_version}.lock"):
        if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == want:
            return python
        shutil.rmtree(folder, ignore_errors=True)
        _run([base_python(runtime), "-m", "venv", str(folder)])
        _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
              "--require-hashes", "-r", str(runtime.lock_file)])
        stamp.write_text(want, encoding="utf-8")
    return python


@contextlib.contextmanager
def _exclusive(path: pathlib.Path):
    with open(path, "w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"building a Glue runtime venv failed: {' '.join(command)}\n{done.stdout[-2000:]}"
                           f"\n{done.stderr[-4000:]}")
