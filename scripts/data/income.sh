#!/usr/bin/env bash
# Income survey (samples/IncomeWorkflow): kernlab::income (8,993 rows, 14 categorical columns, an
# Adult-like marketing survey), exported by R to $SLICELEARNING_DATA/income/income.csv.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
OUT="$D/income/income.csv"
if [ -s "$OUT" ]; then
  echo "get-data: income survey is in $OUT"
  exit 0
fi
apt_install r-base-core r-cran-kernlab
mkdir -p "$D/income"
TMP="$OUT.tmp"
Rscript --vanilla -e 'data(income, package = "kernlab"); write.csv(income, commandArgs(TRUE)[1], row.names = FALSE, na = "", fileEncoding = "UTF-8")' "$TMP"
require_file "$TMP" "r-cran-kernlab"
mv "$TMP" "$OUT"
echo "get-data: income survey is in $OUT ($(($(wc -l < "$OUT") - 1)) rows)"
