#!/usr/bin/env bash
# Benchmarks. Each figure is measured next to a reference measured in the
# same run on the same machine, and reported as a ratio.
#
#   apdu_rtt: APDU round trip through pcscd + vpcd to cardsmith-sim
#             (latency model none) vs the same loop against the minimal test
#             card (the harness's own floor: pcscd + vpcd + TCP).
#   ca.sh:    CA issuance vs `openssl ca -batch`, verification vs
#             `openssl verify` (see bench/ca.sh).
#
# Usage: bench/run.sh [BUILD]
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
export CS_BUILD="$build" CS_SRC="$top" PATH="$build/bin:$PATH"
n=${BENCH_APDUS:-3000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rtt() { # card-command → JSON line
	"$top/scripts/with-virtual-reader.sh" --card "$1" -- \
		"$build/bench/apdu_rtt" "" "$n" 2>&1 | tail -1
}
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

echo "== APDU round trip through pcscd + vpcd ($n GET VERSION commands)"
floor=$(rtt "$build/tests/harness/tinycard")
echo "tiny test card (floor): $floor"
if [ -x "$build/bin/cardsmith-sim" ]; then
	"$build/bin/cardsmith-sim" init-vendor "$tmp/vendor" >/dev/null
	sim=$(rtt "cardsmith-sim --vpcd-port \$CS_VPCD_PORT --state $tmp/card.state --vendor $tmp/vendor --latency none")
	echo "cardsmith-sim:          $sim"
	python3 - "$floor" "$sim" <<'PY'
import json, sys
f, s = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"median {s['median_us']/1000:.3f} ms (target <= 0.200 ms); "
      f"ratio sim/floor {s['median_us']/f['median_us']:.2f}")
PY
fi

echo
echo "== CA issuance and relying-party verification (bench/ca.sh)"
"$top/bench/ca.sh" "$build"
