#!/usr/bin/env bash
# MPICH (mpirun.mpich + libmpich.so.12) for the 2-rank tests of SliceLearning.Distributed.
# MPI.NET speaks MPICH's ABI; Open MPI is not supported (see docs/distributed.md).
set -euo pipefail
source "$(dirname "$0")/../data/lib.sh"
apt_install mpich libmpich-dev
command -v mpirun.mpich >/dev/null || { echo "20-mpich: mpirun.mpich missing after installing mpich" >&2; exit 1; }
