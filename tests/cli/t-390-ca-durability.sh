#!/usr/bin/env bash
# Durability: `cardsmith ca sign` killed with SIGKILL at random points 50
# times, then `ca reconcile`: no duplicate serial, every certificate that
# was handed out (a complete --out file) is in the registry as delivered
# (or issued, when the kill landed between the write and the registry
# update) with the same bytes, and the database passes PRAGMA
# integrity_check.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=durable-pass
N=${CS_DURABILITY_RUNS:-50}

cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS --profiles "$CS_SRC/profiles"
check_eq "ca init" 0 "$RC"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/k.pem" -subj "/CN=Durable" -out "$T/req.pem" 2>/dev/null
mkdir -p "$T/out"

# Calibrate: how long one issuance takes, so kills land all over it.
start=$(date +%s%N)
"$CS" ca sign --dir "$D" --profile software --csr "$T/req.pem" \
	--pass-env CSPASS --out "$T/out/calib.pem" 2>/dev/null
span=$((($(date +%s%N) - start) / 1000)) # microseconds
[ "$span" -gt 1000 ] || span=1000

killed=0
for i in $(seq 1 "$N"); do
	"$CS" ca sign --dir "$D" --profile software --csr "$T/req.pem" \
		--pass-env CSPASS --out "$T/out/c$i.pem" 2>/dev/null &
	pid=$!
	delay=$((RANDOM * RANDOM % (span + span / 2)))
	sleep "$(printf '0.%06d' "$delay")"
	if kill -9 "$pid" 2>/dev/null; then
		killed=$((killed + 1))
	fi
	wait "$pid" 2>/dev/null
done
echo "# $N runs, SIGKILL delivered to $killed still running (span ${span}us)"

cs_run "$T/rec" ca reconcile --dir "$D" --json
check_eq "reconcile exits 0" 0 "$RC"
check_eq "integrity_check ok" true "$(json_get "$T/rec.out" integrity_ok)"
check_eq "no duplicate serial" 0 "$(json_get "$T/rec.out" duplicates)"
echo "# reconcile voided $(json_get "$T/rec.out" pending_voided) pending reservations"

cs_run "$T/list" ca list --dir "$D" --json
check_eq "list exits 0" 0 "$RC"
python3 - "$T/list.out" >"$T/rows.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for c in d["certificates"]:
    print(c["serial"], c["status"])
PY
check_eq "no row left pending" 0 "$(grep -c ' pending$' "$T/rows.txt")"
check_eq "serials unique in the listing" "$(wc -l <"$T/rows.txt")" \
	"$(cut -d' ' -f1 "$T/rows.txt" | sort -u | wc -l)"

handed=0
missing=0
for f in "$T"/out/*.pem; do
	ser=$(openssl x509 -in "$f" -noout -serial 2>/dev/null | cut -d= -f2)
	[ -n "$ser" ] || continue # partial file: never handed out whole
	handed=$((handed + 1))
	if ! grep -qE "^$ser (issued|delivered)$" "$T/rows.txt"; then
		missing=$((missing + 1))
		echo "# not in the registry as issued or delivered: $ser ($f)"
		continue
	fi
	"$CS" ca show --dir "$D" "$ser" --json >"$T/show.json" 2>/dev/null
	json_get "$T/show.json" pem >"$T/show.pem"
	a=$(openssl x509 -in "$T/show.pem" -outform DER 2>/dev/null | od -An -tx1)
	b=$(openssl x509 -in "$f" -outform DER | od -An -tx1)
	if [ -z "$a" ] || [ "$a" != "$b" ]; then
		missing=$((missing + 1))
		echo "# registry bytes differ for $ser"
	fi
done
echo "# $handed certificates handed out"
check_eq "every handed-out certificate is in the registry" 0 "$missing"
check_eq "some certificates were handed out" 1 "$([ "$handed" -gt 0 ] && echo 1 || echo 0)"

# The CA still works after the crashes.
cs_run "$T/after" ca sign --dir "$D" --profile software --csr "$T/req.pem" \
	--pass-env CSPASS --out "$T/after.pem"
check_eq "issuance works after the crashes" 0 "$RC"
tap_done
