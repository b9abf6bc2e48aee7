#!/usr/bin/env bash
# cardsmith batch stopped from outside: SIGINT while two cards are being
# enrolled finishes both and stops (summary "interrupted", the other rows
# left pending); SIGKILL of the whole batch at varying points, then reruns
# with the earlier secrets (--secrets-in) -> every row done exactly once,
# one current enrollment per card, each card's three certificates.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_ifd
	cs_tmpdir
	cs_with_ifd 2 -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
CSPASS=batch-ca-passphrase
export CSPASS

cs_do init ca init --dir ca --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots vendor/root.pem
check_rc "ca init" 0
{
	echo "id,cn,email,profile_set"
	for i in 1 2 3 4; do
		printf 'i%d,Int %d,int%d@example.org,default\n' "$i" "$i" "$i"
	done
} >int.csv

cs_ifd_insert 1 --serial 7201 || tap_fail "insert card 1"
cs_ifd_insert 2 --serial 7202 || tap_fail "insert card 2"
setsid "$CS" batch --dir ca int.csv --out int.jsonl --secrets-out int.sec \
	--pass-env CSPASS --timeout 60 >int.out 2>int.err </dev/null &
bpid=$!
for _ in $(seq 200); do
	[ "$(grep -c 'card inserted, enrolling' int.err 2>/dev/null)" -ge 2 ] && break
	sleep 0.05
done
kill -INT $bpid
rc=0
wait $bpid || rc=$?
check_eq "SIGINT: batch exits 0" 0 "$rc"
check_eq "SIGINT: both cards in progress finished" 2 "$(grep -c '"status":"done"' int.jsonl)"
check_eq "SIGINT: summary interrupted, 2 rows left" "interrupted 2" \
	"$(tail -1 int.jsonl | jq -r '.summary | "\(.stopped) \(.rows_left)"')"
cs_ifd_remove 1
cs_ifd_remove 2

# SIGKILL at varying points; the same two cards stay in their readers.
{
	echo "id,cn,email,profile_set"
	echo "k1,Kill 1,kill1@example.org,default"
	echo "k2,Kill 2,kill2@example.org,default"
} >kill.csv
rm -f card1.state card2.state
cs_ifd_insert 1 --serial 7301 || tap_fail "insert card 7301"
cs_ifd_insert 2 --serial 7302 || tap_fail "insert card 7302"
: >all.sec
for i in 1 2 3 4; do
	setsid "$CS" batch --dir ca kill.csv --out kill$i.jsonl \
		--secrets-out kill$i.sec --secrets-in all.sec \
		--pass-env CSPASS --timeout 60 >kill$i.out 2>kill$i.err \
		</dev/null &
	bpid=$!
	# Kill while the workers run: once a row is bound, at a varying point.
	for _ in $(seq 400); do
		[ -n "$(sqlite3 ca/registry.db "SELECT 1 FROM batch_rows WHERE row_id LIKE 'k%' AND state = 'bound' LIMIT 1" 2>/dev/null)" ] && break
		kill -0 $bpid 2>/dev/null || break
		sleep 0.02
	done
	sleep "$((i / 3)).$((RANDOM % 10))"
	kill -KILL -- -$bpid 2>/dev/null
	wait $bpid 2>/dev/null
	cat kill$i.sec >>all.sec
	echo "# kill $i: rows $(sqlite3 ca/registry.db "SELECT row_id || '=' || state FROM batch_rows WHERE row_id LIKE 'k%'" | tr '\n' ' ')enrollments $(sqlite3 ca/registry.db "SELECT card_serial || '=' || state FROM enrollments WHERE card_serial > 7300" | tr '\n' ' ')"
done
cs_do final batch --dir ca kill.csv --out final.jsonl --secrets-out final.sec \
	--secrets-in all.sec --pass-env CSPASS --timeout 30
check_rc "rerun after the kills exits 0" 0
echo "# after the kills: $(jq -r "select(.row) | \"\\(.row)=\\(.status)\"" final.jsonl kill*.jsonl 2>/dev/null | tr "\n" " ")"
check_eq "rerun: no row left" 0 "$(tail -1 final.jsonl | jq .summary.rows_left)"
check_eq "every row done once" "done done" \
	"$(sqlite3 ca/registry.db "SELECT state FROM batch_rows WHERE row_id IN ('k1','k2') ORDER BY row_id" | tr '\n' ' ' | sed 's/ $//')"
check_eq "two cards, each bound once" "7301 7302" \
	"$(sqlite3 ca/registry.db "SELECT card_serial FROM batch_rows WHERE row_id IN ('k1','k2') ORDER BY card_serial" | tr '\n' ' ' | sed 's/ $//')"
check_eq "one done enrollment per card" "1 1" \
	"$(for c in 7301 7302; do sqlite3 ca/registry.db "SELECT count(*) FROM enrollments WHERE card_serial = $c AND current = 1 AND state = 'done'"; done | tr '\n' ' ' | sed 's/ $//')"
for c in 7301 7302; do
	row=$(sqlite3 ca/registry.db "SELECT row_id FROM batch_rows WHERE card_serial = $c")
	certs=$(sqlite3 ca/registry.db "SELECT certs FROM batch_rows WHERE card_serial = $c")
	check_eq "card $c: three certificates recorded" 3 "$(echo "$certs" | tr ',' '\n' | grep -c .)"
	pin=$(grep "^row=$row card=$c " all.sec final.sec | tail -1 | sed 's/.* pin=\([0-9]*\) .*/\1/')
	k=$((c - 7300))
	export "PIN_$c=$pin"
	cs_do pin$c pin verify --reader "$(cs_ifd_reader $k)" --pin-env "PIN_$c"
	check_rc "card $c: the PIN in the secrets files works" 0
done
tap_done
