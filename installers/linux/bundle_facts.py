"""What a built Linux bundle needs from the machine it runs on.

    python installers/linux/bundle_facts.py BUNDLE_DIR [--debian-depends]

Reads every ELF file of the bundle (the dynamic section and the symbol versions, with binutils'
objdump) and prints:
- the oldest glibc it runs on: the newest GLIBC_x.y symbol version any file requires;
- the host libraries it needs (those it does not carry), and with --debian-depends the Debian
  packages that ship them on the build machine (`dpkg -S`), for the .deb's Depends line.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
# The C library itself and the loader: covered by the glibc version, not a package per library.
GLIBC_LIBS = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "libpthread.so.0",
    "librt.so.1",
    "libutil.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
    "libresolv.so.2",
}


def elf_files(bundle: Path) -> list[Path]:
    files = []
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == ELF_MAGIC:
                    files.append(path)
    return files


def _objdump(path: Path) -> str:
    return subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True).stdout


def needed_and_glibc(files: list[Path]) -> tuple[set[str], tuple[int, int]]:
    needed: set[str] = set()
    newest = (2, 0)
    for path in files:
        text = _objdump(path)
        needed.update(re.findall(r"^\s+NEEDED\s+(\S+)", text, re.M))
        for major, minor in re.findall(r"\bGLIBC_(\d+)\.(\d+)\b", text):
            newest = max(newest, (int(major), int(minor)))
    return needed, newest


def host_libraries(bundle: Path) -> tuple[list[str], str]:
    """(sonames the bundle needs from the host, oldest glibc like '2.34')."""
    files = elf_files(bundle)
    carried = {path.name for path in bundle.rglob("*.so*")}
    needed, newest = needed_and_glibc(files)
    host = sorted(name for name in needed if name not in carried and name not in GLIBC_LIBS)
    return host, f"{newest[0]}.{newest[1]}"


def debian_packages(sonames: list[str]) -> list[str]:
    """The Debian package shipping each library here (libc6 excluded: versioned separately)."""
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    packages = set()
    for soname in sonames:
        match = re.search(rf"^\s+{re.escape(soname)} \(libc6,x86-64\) => (\S+)", cache, re.M)
        if not match:
            raise SystemExit(f"the bundle needs {soname}, which this build machine lacks")
        owner = subprocess.run(
            ["dpkg", "-S", str(Path(match.group(1)).resolve())], capture_output=True, text=True
        )
        if owner.returncode != 0:  # the path through a symlinked /lib
            owner = subprocess.run(["dpkg", "-S", match.group(1)], capture_output=True, text=True)
        package = owner.stdout.split(":")[0].strip()
        if owner.returncode != 0 or not package:
            raise SystemExit(f"no Debian package owns {match.group(1)} (needed: {soname})")
        packages.add(package)
    return sorted(packages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument(
        "--debian-depends", action="store_true", help="print the .deb's Depends value only"
    )
    args = parser.parse_args()
    host, glibc = host_libraries(args.bundle)
    if args.debian_depends:
        print(", ".join([f"libc6 (>= {glibc})", *debian_packages(host)]))
        return
    print(f"oldest glibc: {glibc}")
    print("host libraries: " + " ".join(host))


if __name__ == "__main__":
    main()
