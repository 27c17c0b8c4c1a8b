# Shared by scripts/run, scripts/test and installers/build-linux.sh: system libraries Qt needs,
# then the virtual environment ($VENV, .venv unless set). Sourced, not run. Works on a fresh
# Debian/Ubuntu machine; elsewhere it only checks.
VENV=${VENV:-.venv}

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

# The engine we ship: llama.cpp built for every CPU (ggml picks the best variant at start), with
# GPU engines as loadable libraries. pip's default build runs only on CPUs like the builder's.
LLAMA_CPP_VERSION=0.3.36
# Release builds add GPU engines with QUANTDESK_ENGINE_CMAKE_EXTRA (e.g. "-DGGML_VULKAN=ON",
# .github/workflows/release.yml); each set of options is cached apart.
LLAMA_CPP_CMAKE_EXTRA=${QUANTDESK_ENGINE_CMAKE_EXTRA:-}
# GGML_RPC: the backend that puts layers on other computers (`quantdesk worker`, Settings ->
# Other computers); a loadable library like the others.
LLAMA_CPP_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DGGML_RPC=ON $LLAMA_CPP_CMAKE_EXTRA"
LLAMA_CPP_FLAVOR=$(echo "$LLAMA_CPP_CMAKE_EXTRA" | tr -c 'A-Za-z0-9\n' '-' | tr -s '-' | sed 's/^-//; s/-$//')
# Built once per machine, then reused: kept inside pip's cache folder (so it lives as long as
# pip's cache does), but not in pip's wheel cache itself, which doesn't tell builds with other
# CMake options apart and would hand back a native build.
engine_wheels() {
  echo "${QUANTDESK_ENGINE_WHEELS:-$("$VENV"/bin/python -m pip cache dir 2>/dev/null || echo "$HOME/.cache/pip")/quantdesk-engine/ggml-dl-rpc-$LLAMA_CPP_VERSION${LLAMA_CPP_FLAVOR:+-$LLAMA_CPP_FLAVOR}}"
}

ensure_engine() {
  local ENGINE_WHEELS
  ENGINE_WHEELS=$(engine_wheels)
  if [ -z "$LLAMA_CPP_FLAVOR" ] && ls "$VENV"/lib/python3*/site-packages/bin/libggml-cpu-x64* >/dev/null 2>&1 \
     && ls "$VENV"/lib/python3*/site-packages/bin/libggml-rpc* >/dev/null 2>&1 \
     && [ "$("$VENV"/bin/python -m pip show llama-cpp-python 2>/dev/null | sed -n 's/^Version: //p')" = "$LLAMA_CPP_VERSION" ]; then
    return 0
  fi
  if ! ls "$ENGINE_WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl >/dev/null 2>&1; then
    echo "Building llama.cpp for every CPU (once per machine; about 15 minutes on 2 cores)..."
    mkdir -p "$ENGINE_WHEELS"
    CMAKE_ARGS="$LLAMA_CPP_CMAKE_ARGS" "$VENV"/bin/python -m pip wheel --disable-pip-version-check \
      --no-cache-dir --no-deps --progress-bar off -w "$ENGINE_WHEELS" "llama-cpp-python==$LLAMA_CPP_VERSION"
  fi
  "$VENV"/bin/python -m pip install --disable-pip-version-check --progress-bar off \
    --force-reinstall --no-deps "$ENGINE_WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl
}

ensure_venv() {
  local extra=$1
  [ -x "$VENV"/bin/python ] || python3 -m venv "$VENV"
  ensure_engine
  "$VENV"/bin/python -m pip install --disable-pip-version-check --progress-bar off -e ".$extra"
}

# Debian packages by name: installed when root with apt-get, else listed for the person to install.
ensure_debian_packages() {
  local missing=() pkg
  command -v dpkg-query >/dev/null || return 0
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${missing[*]}"
    local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends)
    { "${install[@]}" "${missing[@]}" || { apt-get update -qq && "${install[@]}" "${missing[@]}"; }; } \
      >/dev/null 2>&1 || { echo "could not install ${missing[*]}" >&2; return 1; }
  else
    echo "warning: missing Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    return 1
  fi
}
