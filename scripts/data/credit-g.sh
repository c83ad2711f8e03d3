#!/usr/bin/env bash
# German credit, credit-g (samples/RealDataSlices): the ARFF file shipped in Debian's weka package
# (1,000 rows, 20 attributes + class good/bad). The .deb is unpacked into $SLICELEARNING_DATA/weka
# (no Java or Weka installed); the file is copied to $SLICELEARNING_DATA/credit-g/credit-g.arff.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
OUT="$D/credit-g/credit-g.arff"
if [ -s "$OUT" ]; then
  echo "get-data: credit-g is in $OUT"
  exit 0
fi
mkdir -p "$D/credit-g" "$D/weka"
SYS=/usr/share/doc/weka/examples/credit-g.arff
if [ -s "$SYS" ]; then
  cp "$SYS" "$OUT.tmp"
else
  if [ -z "${SLICELEARNING_APT_UPDATED:-}" ] && ! apt-cache show weka >/dev/null 2>&1; then
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update
    export SLICELEARNING_APT_UPDATED=1
  fi
  (cd "$D/weka" && apt-get download weka)
  deb=$(ls -t "$D"/weka/weka_*.deb | head -n 1)
  dpkg-deb -x "$deb" "$D/weka/root"
  src="$D/weka/root/usr/share/doc/weka/examples/credit-g.arff"
  [ -s "$src" ] || src="$src.gz"
  case "$src" in *.gz) gunzip -c "$src" > "$OUT.tmp" ;; *) cp "$src" "$OUT.tmp" ;; esac
  rm -rf "$D/weka/root" "$deb"
fi
require_file "$OUT.tmp" weka
mv "$OUT.tmp" "$OUT"
echo "get-data: credit-g is in $OUT ($(grep -c '^[^%@]' "$OUT") data lines)"
