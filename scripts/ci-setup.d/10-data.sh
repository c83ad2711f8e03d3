#!/usr/bin/env bash
# CI: install every data set the tests use (samples' end-to-end tests run on tiny subsets of them).
set -euo pipefail
bash "$(dirname "$0")/../get-data.sh"
