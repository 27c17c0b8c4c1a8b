#!/usr/bin/env bash
# Build the Linux bundle and its installers from this checkout:
#   dist/quantdesk-VERSION-linux-x86_64.tar.gz   a folder with the `quantdesk` executable
#   dist/quantdesk_VERSION_amd64.deb             /opt/quantdesk, /usr/bin/quantdesk, menu entry
# It makes its own virtual environment (build/venv) with the every-CPU llama.cpp engine (built
# once per machine and kept, see scripts/_setup.sh), Quantdesk and PyInstaller, then runs
# installers/quantdesk.spec. Needs Debian/Ubuntu tools: dpkg-deb, objdump (binutils), strip.
# The bundle runs on the glibc of the machine that builds it or newer: build on the oldest
# distribution you support (Debian 12 here: glibc 2.36; see the figure this script prints).
set -euo pipefail
cd "$(dirname "$0")/.."
export VENV=${QUANTDESK_BUILD_VENV:-build/venv}
source scripts/_setup.sh

VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' app/__init__.py)
ARCH=x86_64 DEB_ARCH=amd64
[ "$(uname -m)" = x86_64 ] || { echo "build-linux.sh builds x86-64 bundles only" >&2; exit 1; }
STAGE=build/stage DIST=dist
APP_ID=app.quantdesk.Quantdesk

step() { echo "== $*"; }

step "tools and the libraries the bundle links (for the .deb's Depends)"
ensure_system_libs
# Qt's xcb helper libraries: the bundle carries them (many desktops lack xcb-cursor or
# xcb-icccm), so they must be here to be collected. The Wayland and GL parts come from the host:
# installed so that dpkg can name their packages for the .deb's Depends.
ensure_debian_packages binutils dpkg-dev file \
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
  libxcb-render0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1 \
  libwayland-client0 libwayland-cursor0 libwayland-egl1 libxkbcommon-x11-0 libxcb-glx0 libgl1 libegl1

step "virtual environment $VENV"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
ensure_engine
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q . "pyinstaller>=6.10,<7"

step "icons"
rm -rf build/icons && "$VENV/bin/python" installers/render_icons.py build/icons >/dev/null

step "bundle (PyInstaller onedir)"
"$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath build/dist --workpath build/work installers/quantdesk.spec
BUNDLE=build/dist/quantdesk
# Debug sections only (PyInstaller's strip=True breaks numpy's relocated libraries: the wheels'
# own *.libs folders are left alone). libpython alone drops from 23 MB to 6 MB.
find "$BUNDLE" -type f \( -name "*.so" -o -name "*.so.*" \) -not -path "*.libs/*" -print0 \
  | xargs -0 file | { grep "ELF.*not stripped" || true; } | cut -d: -f1 | xargs -r strip --strip-debug

step "tar.gz"
rm -rf "$STAGE" && mkdir -p "$STAGE" "$DIST"
FOLDER=quantdesk-$VERSION-linux-$ARCH
cp -a "$BUNDLE" "$STAGE/$FOLDER"
mkdir -p "$STAGE/$FOLDER/share/applications" "$STAGE/$FOLDER/share/metainfo"
mkdir -p "$STAGE/$FOLDER/share/icons" && cp -a build/icons/hicolor "$STAGE/$FOLDER/share/icons/"
cp installers/linux/$APP_ID.desktop "$STAGE/$FOLDER/share/applications/"
sed "s/@VERSION@/$VERSION/; s/@DATE@/$(date -u +%F)/" installers/linux/$APP_ID.metainfo.xml \
  > "$STAGE/$FOLDER/share/metainfo/$APP_ID.metainfo.xml"
tar -C "$STAGE" -czf "$DIST/$FOLDER.tar.gz" "$FOLDER"

step ".deb"
ROOT=$STAGE/deb
mkdir -p "$ROOT/opt" "$ROOT/usr/bin" "$ROOT/usr/share/doc/quantdesk" "$ROOT/DEBIAN"
cp -a "$BUNDLE" "$ROOT/opt/quantdesk"
ln -s /opt/quantdesk/quantdesk "$ROOT/usr/bin/quantdesk"
cp -a "$STAGE/$FOLDER/share/." "$ROOT/usr/share/"
printf 'Quantdesk\nLicense: MIT\nBundles Qt (LGPL-3.0), llama.cpp (MIT), Python (PSF) and the Python packages listed in /opt/quantdesk/_internal/*.dist-info.\n' \
  > "$ROOT/usr/share/doc/quantdesk/copyright"
DEPENDS=$("$VENV/bin/python" installers/linux/bundle_facts.py "$BUNDLE" --debian-depends)
cat > "$ROOT/DEBIAN/control" <<CONTROL
Package: quantdesk
Version: $VERSION
Architecture: $DEB_ARCH
Maintainer: The Quantdesk developers <quantdesk@users.noreply.github.com>
Installed-Size: $(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
Depends: $DEPENDS
Section: utils
Priority: optional
Description: Run a local AI model well on the machine you have
 Quantdesk measures your computer's memory, graphics card and processor, recommends
 the GGUF file of a model that fits, downloads it from Hugging Face and opens a chat
 window. Everything runs on your computer with llama.cpp.
CONTROL
# Menus and icon caches are refreshed by the desktop-file-utils and hicolor triggers: no scripts.
dpkg-deb --root-owner-group -Zxz -z6 --build "$ROOT" "$DIST/quantdesk_${VERSION}_$DEB_ARCH.deb" >/dev/null

step "done"
"$VENV/bin/python" installers/linux/bundle_facts.py "$BUNDLE"
echo "bundle: $(du -sm "$BUNDLE" | cut -f1) MB unpacked"
ls -l "$DIST/$FOLDER.tar.gz" "$DIST/quantdesk_${VERSION}_$DEB_ARCH.deb"
