#!/usr/bin/env bash
# Installs the data sets the samples and tests need. Idempotent: installs only what is missing.
#   bash scripts/get-data.sh                 # every data set
#   bash scripts/get-data.sh fashion-mnist   # only the named ones (scripts/data/<name>.sh)
# apt data sets land at their packages' fixed paths; the rest go to $SLICELEARNING_DATA
# (default: ~/.cache/slicelearning/data).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ "$#" -eq 0 ]; then
  set -- $(for f in "$here"/data/*.sh; do b=$(basename "$f" .sh); [ "$b" = lib ] || echo "$b"; done)
fi
for name in "$@"; do
  script="$here/data/$name.sh"
  if [ ! -f "$script" ]; then
    echo "get-data: unknown data set '$name'; known: $(ls "$here/data" | sed -n 's/\.sh$//p' | grep -v '^lib$' | tr '\n' ' ')" >&2
    exit 2
  fi
  echo "== get-data: $name"
  bash "$script"
done
