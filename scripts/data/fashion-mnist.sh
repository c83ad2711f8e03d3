#!/usr/bin/env bash
# Fashion-MNIST (samples/FashionMnistAcquisition): Debian package dataset-fashion-mnist, fixed path
# /usr/share/datasets/fashion-mnist.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
apt_install dataset-fashion-mnist
FMNIST=/usr/share/datasets/fashion-mnist
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  require_file "$FMNIST/$f" dataset-fashion-mnist
done
echo "get-data: Fashion-MNIST is in $FMNIST"
