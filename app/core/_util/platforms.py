"""One naming of operating systems and CPU types, for hardware reports and engine packs."""

from __future__ import annotations

import platform
import sys


def os_name() -> str:
    """ "linux", "macos", "windows" (or Python's own name for anything else)."""
    return {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)


def cpu_arch() -> str:
    """ "x86_64" or "arm64" under every OS's spelling (AMD64, aarch64, ...)."""
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64", "armv8": "arm64"}.get(
        machine, machine
    )


def platform_tag() -> str:
    """ "linux-x86_64", "windows-x86_64", "macos-arm64": what a release file is built for."""
    return f"{os_name()}-{cpu_arch()}"
