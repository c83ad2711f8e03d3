# Shared helpers for scripts/data/*.sh (sourced, not run).
# D: where data sets that are not apt packages go ($SLICELEARNING_DATA, default ~/.cache/slicelearning/data).
D="${SLICELEARNING_DATA:-$HOME/.cache/slicelearning/data}"
mkdir -p "$D"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# apt_install <package>...: apt-get update once per run, then install what is missing, without recommends.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ -z "${SLICELEARNING_APT_UPDATED:-}" ]; then
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update
    export SLICELEARNING_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
}

# npm_unpack <spec> <folder>: npm pack + tar into $D/<folder> (no dependencies installed), once.
npm_unpack() {
  local spec="$1" dir="$D/$2"
  [ -d "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return 0
  mkdir -p "$D/npm" "$dir"
  local tgz
  tgz=$(npm pack --silent --pack-destination "$D/npm" "$spec" | tail -n 1)
  tar -xzf "$D/npm/$tgz" -C "$dir" --strip-components=1
}

# require_file <path> <what>: fail loudly when an install did not produce a file.
require_file() {
  if [ ! -s "$1" ]; then
    echo "get-data: $1 is missing after installing $2" >&2
    exit 1
  fi
}
