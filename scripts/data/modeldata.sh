#!/usr/bin/env bash
# R package modeldata (samples/RealDataSlices): customer churn (mlc_churn, 5,000 rows), employee
# attrition (attrition, 1,470 rows) and Amazon fine-food reviews (small_fine_foods, 4,000 train +
# 1,000 test), exported by R to CSV in $SLICELEARNING_DATA/modeldata/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DIR="$D/modeldata"
FILES=(mlc_churn.csv attrition.csv fine_foods_train.csv fine_foods_test.csv)
done_already=1
for f in "${FILES[@]}"; do [ -s "$DIR/$f" ] || done_already=0; done
if [ "$done_already" -eq 1 ]; then
  echo "get-data: modeldata sets are in $DIR"
  exit 0
fi
apt_install r-base-core r-cran-modeldata
mkdir -p "$DIR"
TMP="$DIR/tmp"
rm -rf "$TMP" && mkdir -p "$TMP"
Rscript --vanilla -e '
out <- commandArgs(TRUE)[1]
w <- function(x, f) write.csv(x, file.path(out, f), row.names = FALSE, na = "", fileEncoding = "UTF-8")
data(mlc_churn, package = "modeldata"); w(mlc_churn, "mlc_churn.csv")
data(attrition, package = "modeldata"); w(attrition, "attrition.csv")
data(small_fine_foods, package = "modeldata"); w(training_data, "fine_foods_train.csv"); w(testing_data, "fine_foods_test.csv")
' "$TMP"
for f in "${FILES[@]}"; do require_file "$TMP/$f" r-cran-modeldata; mv "$TMP/$f" "$DIR/$f"; done
rmdir "$TMP"
echo "get-data: modeldata sets are in $DIR ($(for f in "${FILES[@]}"; do echo -n "$f $(($(wc -l < "$DIR/$f") - 1)) lines; "; done))"
