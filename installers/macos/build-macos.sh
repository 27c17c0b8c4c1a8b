#!/usr/bin/env bash
# Build the macOS app and disk image from this checkout (run on a Mac; Apple silicon):
#   dist/Quantdesk.app                         the app (bundle id app.quantdesk.Quantdesk)
#   dist/quantdesk-VERSION-macos-arm64.dmg    a disk image with the app and an Applications link
# llama.cpp is built with Metal inside (GPU on every Apple silicon Mac) and without -mcpu=native,
# so the app runs on M1 as well as on the builder's chip. Each binary is signed with the hardened
# runtime and the app notarized when the signing secrets are set (see below); without them the
# build goes on unsigned, with a warning (Gatekeeper will then ask the person to allow it).
#
#   MACOS_SIGNING_IDENTITY   "Developer ID Application: ... (TEAMID)", in a keychain on the search
#                            list (the release workflow imports it from a .p12 secret)
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD   for notarytool
#
# Written to match installers/build-linux.sh; not run on the Linux machine it was written on
# (no macOS there). The release workflow runs it on a macOS runner.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${QUANTDESK_BUILD_VENV:-build/venv}
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' app/__init__.py)
LLAMA_CPP_VERSION=$(sed -n 's/^LLAMA_CPP_VERSION=//p' scripts/_setup.sh)
APP=dist/Quantdesk.app
DMG=dist/quantdesk-$VERSION-macos-arm64.dmg

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --progress-bar off -q --upgrade pip
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_METAL=ON -DGGML_METAL_EMBED_LIBRARY=ON" \
  "$VENV/bin/python" -m pip install --progress-bar off --no-cache-dir --force-reinstall --no-deps \
  "llama-cpp-python==$LLAMA_CPP_VERSION"
"$VENV/bin/python" -m pip install --progress-bar off -q . "pyinstaller>=6.10,<7" "dmgbuild>=1.6"

rm -rf build/icons && "$VENV/bin/python" installers/render_icons.py build/icons >/dev/null
iconutil -c icns build/icons/quantdesk.iconset -o build/icons/quantdesk.icns

"$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/work installers/quantdesk.spec

if [ -n "${MACOS_SIGNING_IDENTITY:-}" ]; then
  # Inside out, each binary on its own (codesign --deep misses or mis-signs nested code,
  # pyinstaller #8029), then the app.
  # Deepest paths first, so nested code is signed before what contains it.
  find "$APP/Contents" -type f \( -name "*.dylib" -o -name "*.so" -o -perm -u+x \) -print0 |
    xargs -0 file | grep "Mach-O" | cut -d: -f1 | awk -F/ '{print NF, $0}' | sort -rn | cut -d" " -f2- |
    while read -r binary; do
      codesign --force --timestamp --options runtime --sign "$MACOS_SIGNING_IDENTITY" "$binary"
    done
  # Python loads native code at run time (ctypes, llama.cpp's Metal): the hardened runtime
  # needs these exceptions (installers/macos/entitlements.plist).
  codesign --force --timestamp --options runtime --entitlements installers/macos/entitlements.plist \
    --sign "$MACOS_SIGNING_IDENTITY" "$APP"
  codesign --verify --strict --verbose=2 "$APP"
else
  echo "warning: MACOS_SIGNING_IDENTITY not set: the app is not signed or notarized" >&2
fi

rm -f "$DMG"
"$VENV/bin/python" -m dmgbuild -s installers/macos/dmg_settings.py -D app="$APP" "Quantdesk" "$DMG"

if [ -n "${MACOS_SIGNING_IDENTITY:-}" ] && [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] \
   && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
  codesign --force --timestamp --sign "$MACOS_SIGNING_IDENTITY" "$DMG"
  xcrun notarytool submit "$DMG" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
    --password "$APPLE_APP_PASSWORD" --wait
  xcrun stapler staple "$DMG"
else
  echo "warning: notarization skipped (APPLE_ID / APPLE_APP_PASSWORD not set)" >&2
fi
ls -l "$DMG"
