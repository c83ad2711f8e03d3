#!/usr/bin/env bash
# Installs the data sets the samples need. Idempotent: installs only what is missing.
#   bash scripts/get-data.sh
# Fashion-MNIST comes from the Debian package dataset-fashion-mnist and lands in
# /usr/share/datasets/fashion-mnist (a fixed path). Data sets that are not apt packages go to
# $SLICELEARNING_DATA (default: ~/.cache/slicelearning/data).
set -euo pipefail

D="${SLICELEARNING_DATA:-$HOME/.cache/slicelearning/data}"
mkdir -p "$D"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

apt_updated=0
apt_install() {
  # apt_install <package>: apt-get update once per run, then install without recommends.
  if dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; then
    echo "get-data: $1 is already installed"
    return 0
  fi
  if [ "$apt_updated" -eq 0 ]; then
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$1"
}

# Fashion-MNIST (samples/FashionMnistAcquisition).
apt_install dataset-fashion-mnist
FMNIST=/usr/share/datasets/fashion-mnist
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  if [ ! -s "$FMNIST/$f" ]; then
    echo "get-data: $FMNIST/$f is missing after installing dataset-fashion-mnist" >&2
    exit 1
  fi
done
echo "get-data: Fashion-MNIST is in $FMNIST"
echo "get-data: other data sets (none yet) go to $D"
