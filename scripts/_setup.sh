# Shared by scripts/run and scripts/test: system libraries Qt needs, then the virtual environment.
# Sourced, not run. Works on a fresh Debian/Ubuntu machine; elsewhere it only checks.

# Qt's runtime libraries (PySide6 wheels link them) -> the Debian package that ships each.
QT_SYSTEM_LIBS="libEGL.so.1:libegl1 libGL.so.1:libgl1 libX11.so.6:libx11-6 libdbus-1.so.3:libdbus-1-3
libfontconfig.so.1:libfontconfig1 libfreetype.so.6:libfreetype6 libglib-2.0.so.0:libglib2.0-0
libxkbcommon.so.0:libxkbcommon0 libX11-xcb.so.1:libx11-xcb1 libxcb-cursor.so.0:libxcb-cursor0"

ensure_system_libs() {
  PATH=$PATH:/sbin:/usr/sbin  # ldconfig lives here; not on a normal user's PATH
  local missing=() entry lib pkg
  for entry in $QT_SYSTEM_LIBS; do
    lib=${entry%%:*}; pkg=${entry##*:}
    ldconfig -p 2>/dev/null | grep -q "$lib" || missing+=("$pkg")
  done
  # Without any font, Qt draws text as empty boxes.
  fc-list 2>/dev/null | grep -q . || missing+=(fonts-dejavu-core)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing system libraries Qt needs: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif command -v apt-get >/dev/null; then
    echo "Qt needs these system packages; install them, then run this again:" >&2
    echo "  sudo apt-get install ${missing[*]}" >&2
    exit 1
  else
    echo "warning: Qt may miss system libraries (${missing[*]} on Debian); install your OS's equivalents" >&2
  fi
}

ensure_venv() {
  local extra=$1
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # pip keeps the llama-cpp-python wheel it compiles (about 6 minutes) in its cache: later installs take seconds.
  .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off -e ".$extra"
}
