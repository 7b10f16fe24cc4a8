"""Programs from Debian's packages that some tests need (graphviz's dot, Chromium).

On their first need the tests install a missing one with apt-get where it can run (as root, or
through sudo without a password), as the KaTeX tests install their npm package, so that the
README's test command passes on a fresh machine.  Where it cannot, the tests fail and say what
to install: nothing is skipped.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess


@functools.cache
def _apt_get() -> list[str] | None:
    """The command that runs apt-get with the rights to install, or None; updates its lists once."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        command = ["apt-get"]
    elif shutil.which("sudo") is not None and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        command = ["sudo", "-n", "apt-get"]
    else:
        return None
    subprocess.run([*command, "update", "-qq"], capture_output=True, timeout=600, check=False)
    return command


def debian_program(program: str, package: str) -> str | None:
    """The path of ``program``, after installing ``package`` if it was missing and apt-get can."""
    found = shutil.which(program)
    if found is not None:
        return found
    apt_get = _apt_get()
    if apt_get is not None:
        subprocess.run([*apt_get, "install", "-y", "-qq", package],
                       capture_output=True, timeout=1200, check=False, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which(program)
