#!/usr/bin/env bash
# cardsmith batch refuses before anything is written: a bad roster (its
# problems with line numbers; no --out or --secrets-out file created, no
# card touched), an existing --secrets-out (O_EXCL), no --secrets-out at
# all. --max-cards 3 stops after 3 cards although more rows and cards wait.
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
check_rc "ca init" 0
for k in 1 2 3 4; do
	cs_ifd_insert $k --serial $((7100 + k)) || tap_fail "insert card $k"
done

cat >bad.csv <<'C'
id,cn,email,profile_set
ok1,Good Row,good@example.org,default
bad2,Bad Mail,not-an-address,default
ok1,Duplicate,dup@example.org,default
C
cs_do bad batch --dir ca bad.csv --out bad.jsonl --secrets-out bad.sec \
	--pass-env CSPASS
check_eq "bad roster refused (nonzero exit)" yes "$([ "$RC" -ne 0 ] && echo yes)"
check_match "problem at line 3 named" 'bad.csv:3: email' "$LAST.err"
check_match "duplicate id at line 4 named" 'bad.csv:4: .*id' "$LAST.err"
check_match "says nothing was written" 'nothing was written' "$LAST.err"
check_eq "no --out file" no "$([ -e bad.jsonl ] && echo yes || echo no)"
check_eq "no --secrets-out file" no "$([ -e bad.sec ] && echo yes || echo no)"
cs_do ins1 --json inspect --reader "$(cs_ifd_reader 1)" --no-attest
check_eq "card untouched: no enrollment in the registry" 0 \
	"$(sqlite3 ca/registry.db 'SELECT count(*) FROM enrollments' 2>/dev/null || echo 0)"


{
	echo "id,cn,email,profile_set"
	for i in $(seq 1 8); do
		printf 'm%d,Max %d,max%d@example.org,default\n' "$i" "$i" "$i"
	done
} >roster.csv

echo old >exists.sec
cs_do excl batch --dir ca roster.csv --out e.jsonl --secrets-out exists.sec \
	--pass-env CSPASS
check_eq "existing --secrets-out refused" yes "$([ "$RC" -ne 0 ] && echo yes)"
check_match "... saying it must be new" 'must be a new file' "$LAST.err"
check_eq "... left as it was" old "$(cat exists.sec)"
check_eq "... and no --out file" no "$([ -e e.jsonl ] && echo yes || echo no)"

cs_do nosec batch --dir ca roster.csv --out n.jsonl --pass-env CSPASS
check_rc "no --secrets-out: usage error" 2
check_match "... the PUKs must reach someone" 'must reach someone' "$LAST.err"
check_eq "... no --out file" no "$([ -e n.jsonl ] && echo yes || echo no)"

cs_do max batch --dir ca roster.csv --out max.jsonl --secrets-out max.sec \
	--pass-env CSPASS --max-cards 3 --timeout 60
check_rc "--max-cards 3 exits 0" 0
check_eq "3 card lines" 3 "$(grep -c '"row"' max.jsonl)"
check_eq "summary: 3 cards, 5 rows left, stopped by max-cards" "3 3 5 max-cards" \
	"$(tail -1 max.jsonl | jq -r '.summary | "\(.cards) \(.done) \(.rows_left) \(.stopped)"')"
check_eq "3 secrets lines" 3 "$(wc -l <max.sec)"
check_eq "secrets file mode 0600" 600 "$(stat -c %a max.sec)"
check_eq "3 enrollments in the registry" 3 \
	"$(sqlite3 ca/registry.db "SELECT count(*) FROM enrollments WHERE state = 'done'")"
tap_done
