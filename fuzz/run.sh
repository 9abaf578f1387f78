#!/bin/sh
# The documented fuzzing run (docs/FUZZING.md): one target at a time, one job, one worker,
# 1,000,000 inputs each, then a corpus minimization into fuzz/corpus/<target>/.
# Usage: fuzz/run.sh [target...]   (default: all five). Needs nightly and cargo-fuzz.
set -eu
cd "$(dirname "$0")"
RUNS=${RUNS:-1000000}
TARGETS=${*:-url config stored auth_body session}
mkdir -p logs
for t in $TARGETS; do
  MAXLEN=4096
  case $t in
    stored|auth_body|session) dict=dicts/json.dict ;;
    config) dict=dicts/config.dict ;;
    url) dict=dicts/url.dict ;;
  esac
  work=work/$t
  mkdir -p "$work" corpus/$t
  start=$(date -u +%s)
  # Which core was fuzzed (other engineers commit to src/core while this runs).
  echo "$t: src/core $(git log -1 --format=%h -- ../src/core)$(git diff --quiet -- ../src/core || echo ' + uncommitted changes')" >> logs/core.txt
  # New inputs go to $work; the checked-in corpus (and seeds, when present) are read too.
  cargo +nightly fuzz run -O "$t" "$work" corpus/$t $( [ -d seeds/$t ] && echo seeds/$t ) -- \
    -runs="$RUNS" -max_len="$MAXLEN" -jobs=1 -workers=1 -dict="$dict" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 >"logs/$t.out" 2>&1 || true
  end=$(date -u +%s)
  mv fuzz-0.log "logs/$t.log" 2>/dev/null || true
  echo "$t: $((end - start)) s" | tee -a logs/times.txt
  grep -E "DONE|number_of_executed_units|panicked|SUMMARY|Test unit written" "logs/$t.log" | tail -6
done
