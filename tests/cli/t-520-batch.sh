#!/usr/bin/env bash
# cardsmith batch through cardsmith-ifd: a roster of 20 rows over 4 readers,
# cards inserted one after another by the test (each removed once its
# JSON line is written, the next inserted) -> 20 lines, the summary,
# distinct certificate serials, PINs and PUKs only in --secrets-out (0600).
# A rerun of the same roster issues nothing and reports every row skipped.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_ifd
	cs_tmpdir
	cs_with_ifd 4 -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
CSPASS=batch-ca-passphrase
export CSPASS

cs_do init ca init --dir ca --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots vendor/root.pem
check_rc "ca init trusting the sim's vendor root" 0

{
	echo "id,cn,email,profile_set"
	for i in $(seq 1 20); do
		printf 'r%02d,User %d,user%d@example.org,default\n' "$i" "$i" "$i"
	done
} >roster.csv

# Lines of FILE naming card SERIAL.
lines_for() { grep -c "\"card_serial\":$2[,}]" "$1" 2>/dev/null; }

# feed OUT FIRST N: insert N cards (serials FIRST..) over the 4 readers,
# each replaced by the next once its result line is in OUT.
feed() {
	local out=$1 s=$2 n=$3 k i end=$(($2 + $3)) t
	declare -A inr
	for k in 1 2 3 4; do
		[ $s -lt $end ] || break
		rm -f "card$k.state"
		cs_ifd_insert $k --serial $s || tap_fail "insert card $s"
		inr[$k]=$s
		s=$((s + 1))
	done
	for t in $(seq 1 3000); do
		[ ${#inr[@]} -gt 0 ] || break
		for k in "${!inr[@]}"; do
			[ "$(lines_for "$out" "${inr[$k]}")" -ge 1 ] || continue
			cs_ifd_remove $k
			unset "inr[$k]"
			if [ $s -lt $end ]; then
				rm -f "card$k.state"
				cs_ifd_insert $k --serial $s ||
					tap_fail "insert card $s"
				inr[$k]=$s
				s=$((s + 1))
			fi
		done
		sleep 0.2
	done
}

setsid "$CS" batch --dir ca roster.csv --out res.jsonl \
	--secrets-out secrets.txt --pass-env CSPASS --readers all \
	--timeout 120 >b1.out 2>b1.err </dev/null &
bpid=$!
feed res.jsonl 7000 20
rc=0
wait $bpid || rc=$?
check_eq "batch exits 0" 0 "$rc"
check_eq "20 card lines" 20 "$(grep -c '"row"' res.jsonl)"
check_eq "20 rows done" 20 "$(grep -c '"status":"done"' res.jsonl)"
check_eq "every line is JSON" 21 "$(jq -c . res.jsonl | wc -l)"
check_eq "summary: 20 cards, 20 done, nothing left" "20 20 0 0 complete" \
	"$(tail -1 res.jsonl | jq -r '.summary | "\(.cards) \(.done) \(.failed) \(.rows_left) \(.stopped)"')"
check_eq "20 distinct rows" 20 "$(jq -r 'select(.row) | .row' res.jsonl | sort -u | wc -l)"
check_eq "20 distinct cards" 20 "$(jq -r 'select(.row) | .card_serial' res.jsonl | sort -u | wc -l)"
check_eq "60 distinct certificate serials" 60 \
	"$(jq -r 'select(.row) | .certs[]' res.jsonl | sort -u | wc -l)"
check_match "human summary on stderr" 'batch complete: 20 card\(s\): 20 enrolled' b1.err
check_empty "nothing on stdout" b1.out

# Secrets: 0600, one line per card, in no other output.
check_eq "secrets file mode 0600" 600 "$(stat -c %a secrets.txt)"
check_eq "one secrets line per card" 20 "$(grep -c '^row=r[0-9]* card=[0-9]* pin=[0-9]\{8\} puk=[0-9]\{8\}$' secrets.txt)"
leak=0
while read -r _ _ p q; do
	for v in "${p#pin=}" "${q#puk=}"; do
		if grep -q -- "$v" res.jsonl b1.out b1.err; then leak=$((leak + 1)); fi
	done
done <secrets.txt
check_eq "no PIN or PUK in the results, stdout or stderr" 0 "$leak"

cs_do issued ca list --dir ca --json
ncert=$(jq '[.. | objects | select(has("serial") and has("status"))] | length' "$LAST.out" 2>/dev/null)

# Rerun: nothing issued, every row skipped, no card needed.
cs_do rerun batch --dir ca roster.csv --out res2.jsonl \
	--secrets-out secrets2.txt --pass-env CSPASS --timeout 5
check_rc "rerun of the same roster exits 0" 0
check_eq "rerun: 20 rows skipped" 20 "$(grep -c '"status":"skipped"' res2.jsonl)"
check_eq "rerun: summary nothing enrolled" "0 20 0" \
	"$(tail -1 res2.jsonl | jq -r '.summary | "\(.done) \(.skipped) \(.rows_left)"')"
cs_do issued2 ca list --dir ca --json
check_eq "rerun: no certificate issued" "$ncert" \
	"$(jq '[.. | objects | select(has("serial") and has("status"))] | length' "$LAST.out" 2>/dev/null)"
check_eq "rerun: no secrets written" 0 "$(wc -c <secrets2.txt)"

# A card of this batch inserted again: skipped, not re-used for a row.
cat roster.csv >roster3.csv
echo "r21,User 21,user21@example.org,default" >>roster3.csv
setsid "$CS" batch --dir ca roster3.csv --out res3.jsonl \
	--secrets-out secrets3.txt --pass-env CSPASS --max-cards 1 \
	--timeout 60 >b3.out 2>b3.err </dev/null &
bpid=$!
rm -f card1.state
cs_ifd_insert 1 --serial 7019
for _ in $(seq 300); do
	grep -q '"summary"' res3.jsonl 2>/dev/null && break
	sleep 0.2
done
wait $bpid
check_eq "card of another roster's row refused" refused \
	"$(jq -r 'select(.row == null and .summary == null) | .status' res3.jsonl)"
check_match "... with the reason" 'card 7019 belongs to row r20 of another roster' res3.jsonl
check_eq "... and nothing enrolled" "1 0 1" \
	"$(tail -1 res3.jsonl | jq -r '.summary | "\(.cards) \(.done) \(.refused)"')"
check_eq "no secrets for a refused card" 0 "$(wc -c <secrets3.txt)"
tap_done
