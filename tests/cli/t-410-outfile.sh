#!/usr/bin/env bash
# --out of every command that writes a file (keygen, cert export, attest
# --out/--f9-out, csr, ca sign, ca show, ca chain, ca crl) goes through one
# helper: a new file is created with mode 0644; an existing file is refused
# without --force (ca chain/crl replace it, as documented) and replaced
# with it; a symbolic link and a directory are refused and left alone; a
# character device (a private one made with mknod, then /dev/null) and a
# FIFO are written through and stay what they are; /dev/stdout works.
# Then ca sign: an --out that cannot be written issues nothing (registry
# unchanged) and a later sign works; a write that fails after signing
# (/dev/full, a full tmpfs, standard output on /dev/full) leaves an
# "issued" row that ca reconcile lists and `ca show --serial S --out F`
# retrieves; a normal sign ends "delivered".
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	cs_with_sim -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
umask 022
PIN=123456
CSPASS=outfile-ca-pass
export PIN CSPASS
ROOT=no
[ "$(id -u)" = 0 ] && ROOT=yes
CATPID=

is_pem() { grep -q -- '-----BEGIN ' "$1" 2>/dev/null && echo pem || echo not-pem; }
kind() { # what a path is, without following a final symbolic link
	if [ -L "$1" ]; then echo link
	elif [ -c "$1" ]; then echo chardev
	elif [ -p "$1" ]; then echo fifo
	elif [ -d "$1" ]; then echo dir
	elif [ -f "$1" ]; then echo file
	else echo none; fi
}
rows() { "$CS" ca list --dir ca --json 2>/dev/null | python3 -c \
	'import json,sys; print(len(json.load(sys.stdin)["certificates"]))'; }
status_of() { "$CS" ca show --dir ca --serial "$1" --json 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }
stop_cat() {
	if [ -n "$CATPID" ]; then
		kill "$CATPID" 2>/dev/null
		wait "$CATPID" 2>/dev/null
		CATPID=
	fi
}
trap 'stop_cat; _cs_cleanup' EXIT

# run_out NAME OUT [ARGS...]: the command in CMD with --out OUT ARGS.
run_out() {
	local name=$1 out=$2
	shift 2
	cs_do "$name" "${CMD[@]}" "$OUTOPT" "$out" "$@"
}

# matrix LABEL FORCE: the destination cases for the command in CMD.
# FORCE: yes (the command has --force), always (replaces by design).
matrix() {
	local l=$1 force=$2 d="$CS_T/m-$1" fo=()
	[ "$force" = yes ] && fo=(--force)
	mkdir -p "$d"

	run_out "$l-new" "$d/new.pem"
	check_rc "$l: new file: exit 0" 0
	check_eq "$l: new file holds PEM, mode 644" "pem 644" \
		"$(is_pem "$d/new.pem") $(stat -c %a "$d/new.pem" 2>/dev/null)"

	echo old >"$d/old.pem"
	if [ "$force" = always ]; then
		run_out "$l-old" "$d/old.pem"
		check_rc "$l: existing file replaced (documented): exit 0" 0
	else
		run_out "$l-old" "$d/old.pem"
		check_rc "$l: existing file without --force: exit 1" 1
		check_match "$l: says it exists and names --force" \
			'old\.pem: exists; add --force to replace it' "$LAST.err"
		check_eq "$l: existing file unchanged" old "$(cat "$d/old.pem")"
		run_out "$l-oldf" "$d/old.pem" --force
		check_rc "$l: --force: exit 0" 0
	fi
	check_eq "$l: replaced by a regular PEM file" "file pem" \
		"$(kind "$d/old.pem") $(is_pem "$d/old.pem")"
	check_eq "$l: no temporary file left" "" \
		"$(find "$d" -name '.*' -type f)"

	echo precious >"$d/target"
	ln -s "$d/target" "$d/link"
	run_out "$l-link" "$d/link" "${fo[@]}"
	check_rc "$l: symbolic link refused: exit 1" 1
	check_match "$l: names the link and its target" \
		"link: is a symbolic link to $d/target" "$LAST.err"
	check_eq "$l: still a link to its target; target unchanged" \
		"link $d/target precious" \
		"$(kind "$d/link") $(readlink "$d/link") $(cat "$d/target")"
	LINK_OK=$([ "$(kind "$d/link")" = link ] && echo yes || echo no)

	mkdir "$d/dir"
	run_out "$l-dir" "$d/dir" "${fo[@]}"
	check_rc "$l: directory refused: exit 1" 1
	check_match "$l: says it is a directory" 'dir: is a directory' "$LAST.err"
	check_eq "$l: still an empty directory" "dir 0" \
		"$(kind "$d/dir") $(ls -A "$d/dir" 2>/dev/null | wc -l)"

	mkfifo "$d/fifo"
	timeout 30 cat "$d/fifo" >"$d/fifo.got" 2>/dev/null &
	CATPID=$!
	run_out "$l-fifo" "$d/fifo" "${fo[@]}"
	check_rc "$l: FIFO written through: exit 0" 0
	# Reaped here, its pid is never signalled again (it may be reused).
	if [ "$RC" = 0 ]; then
		wait "$CATPID" 2>/dev/null
		CATPID=
	fi
	stop_cat
	check_eq "$l: FIFO still a FIFO; the reader got PEM" "fifo pem" \
		"$(kind "$d/fifo") $(is_pem "$d/fifo.got")"

	# A private character device first: if it were replaced, the real
	# /dev/null would be too, so that case is then not run at all.
	local dev_ok=yes
	if [ "$ROOT" = yes ] && mknod "$d/null" c 1 3 2>/dev/null; then
		run_out "$l-dev" "$d/null" "${fo[@]}"
		check_rc "$l: private character device: exit 0" 0
		check_eq "$l: still the character device 1,3" "chardev 1,3" \
			"$(kind "$d/null") $(stat -c '%t,%T' "$d/null" 2>/dev/null)"
		[ "$(kind "$d/null")" = chardev ] || dev_ok=no
	fi
	if [ "$dev_ok" = yes ]; then
		run_out "$l-devnull" /dev/null "${fo[@]}"
		check_rc "$l: --out /dev/null: exit 0" 0
		check_eq "$l: /dev/null still a character device" chardev \
			"$(kind /dev/null)"
	else
		tap_fail "$l: --out /dev/null (not run: the private device was replaced)"
	fi
}

# --- a CA and a card with keys and a certificate -------------------------
cs_do init ca init --dir ca --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots "$CS_SRC/share/yubico-piv-roots.pem"
check_rc "ca init" 0
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout sw.key -subj "/CN=Out File" -out sw.csr 2>/dev/null
check_eq "a software CSR" pem "$(is_pem sw.csr)"
cs_do kg9a keygen --slot 9a --alg p256 --out pub9a.pem
check_rc "keygen 9a" 0
cs_do csr9a csr --slot 9a --subject "CN=Slot 9a" --pin-env PIN --out csr9a.pem
check_rc "csr 9a" 0
cs_do sign9a ca sign --dir ca --profile software --csr csr9a.pem \
	--pass-env CSPASS --out cert9a.pem
check_rc "ca sign for 9a" 0
cs_do imp9a cert import --slot 9a --in cert9a.pem
check_rc "cert import 9a" 0

# --- the destination matrix, command by command --------------------------
OUTOPT=--out
CMD=(keygen --slot 9e --alg p256)
matrix keygen yes
CMD=(cert export --slot 9a)
matrix cert-export yes
CMD=(attest --slot 9e)
matrix attest yes
CMD=(csr --slot 9e --subject "CN=Matrix" --pin-env PIN)
matrix csr yes
CMD=(ca sign --dir ca --profile software --csr sw.csr --pass-env CSPASS)
matrix ca-sign yes
SER=$(openssl x509 -in cert9a.pem -noout -serial | cut -d= -f2)
CMD=(ca show --dir ca --serial "$SER")
matrix ca-show yes
CMD=(ca crl --dir ca --pass-env CSPASS)
matrix ca-crl always
CMD=(ca chain --dir ca)
matrix ca-chain always
CHAIN_LINK_OK=$LINK_OK
# --f9-out goes through the same helper (the statement to a private
# character device as root, so that no run can ever replace /dev/null).
NUL=/dev/null
[ "$ROOT" = yes ] && mknod p-null c 1 3 2>/dev/null && NUL=$CS_T/p-null
OUTOPT=--f9-out
CMD=(attest --slot 9e --out "$NUL")
matrix attest-f9 yes

# /dev/stdout names this process's standard output, never a file to
# replace (run only if ca chain left a link alone: /dev/stdout is one).
if [ "$CHAIN_LINK_OK" = yes ]; then
	cs_do stdout ca chain --dir ca --out /dev/stdout
	check_rc "ca chain --out /dev/stdout: exit 0" 0
	check_eq "the chain went to standard output" pem "$(is_pem "$LAST.out")"
	check_eq "/dev/stdout is still a link" link "$(kind /dev/stdout)"
else
	tap_fail "ca chain --out /dev/stdout (not run: links are replaced)"
fi

# --- ca sign: the output is checked before a serial is reserved ----------
SIGN=(ca sign --dir ca --profile software --csr sw.csr --pass-env CSPASS)
mkdir -p s
echo keep >s/exists.pem
n0=$(rows)
cs_do s-exists "${SIGN[@]}" --out s/exists.pem
check_rc "ca sign over an existing file: exit 1" 1
check_match "ca sign: nothing was done" 'exists; add --force to replace it; nothing was done' "$LAST.err"
cs_do s-nodir "${SIGN[@]}" --out s/nodir/c.pem
check_rc "ca sign into a missing directory: exit 1" 1
check_match "ca sign: names the missing directory" 's/nodir/c.pem: its directory does not exist' "$LAST.err"
cs_do s-link "${SIGN[@]}" --out m-keygen/link
check_rc "ca sign onto a symbolic link: exit 1" 1
# An unwritable directory: read-only for root (a private mount namespace),
# mode 0555 for anyone else.
mkdir -p s/ro
if [ "$ROOT" = yes ]; then
	if unshare -m true 2>/dev/null; then
		RC=0
		LAST=$CS_T/s-ro
		unshare -m sh -c 'mount --bind -o ro "$0" "$0" && exec "$@"' \
			"$CS_T/s/ro" "$CS" "${SIGN[@]}" --out "$CS_T/s/ro/c.pem" \
			>"$LAST.out" 2>"$LAST.err" </dev/null || RC=$?
		check_rc "ca sign into a read-only directory: exit 1" 1
		check_match "ca sign: says why" 'cannot create a file in .*: Read-only file system; nothing was done' "$LAST.err"
	else
		tap_skip "ca sign into a read-only directory" "no mount namespace"
	fi
else
	chmod 0555 s/ro
	cs_do s-ro "${SIGN[@]}" --out s/ro/c.pem
	chmod 0755 s/ro
	check_rc "ca sign into an unwritable directory: exit 1" 1
fi
check_eq "refused outputs added no registry row" "$n0" "$(rows)"
check_eq "the existing file is untouched" keep "$(cat s/exists.pem)"
cs_do s-force "${SIGN[@]}" --out s/exists.pem --force
check_rc "ca sign --force replaces it" 0
check_eq "... with the certificate" pem "$(is_pem s/exists.pem)"
cs_do s-ok "${SIGN[@]}" --out s/ok.pem --json
check_rc "a later sign works" 0
OKSER=$(json_get "$LAST.out" serial)
check_eq "a written certificate is delivered" delivered "$(status_of "$OKSER")"
"$CS" ca list --dir ca --json >s/list.json
check_eq "ca list --json shows it delivered" delivered "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print([c["status"] for c in d["certificates"] if c["serial"] == sys.argv[2]][0])
' s/list.json "$OKSER")"
cs_do s-stdout "${SIGN[@]}"
check_eq "printed to standard output: delivered" delivered \
	"$(status_of "$(openssl x509 -in "$LAST.out" -noout -serial | cut -d= -f2)")"

# --- ca sign: the write fails after signing -------------------------------
# undelivered NAME DEST: the last run failed writing to DEST after signing.
undelivered() {
	local name=$1 dest=$2 ser
	check_rc "$name: exit 1" 1
	check_match "$name: says issued, not written, and how to get it" \
		"certificate [0-9A-F]+ was issued but not written to $dest: .*; get it with 'cardsmith ca show --serial [0-9A-F]+ --out " "$LAST.err"
	ser=$(sed -n 's/.*certificate \([0-9A-F]*\) was issued.*/\1/p' "$LAST.err" | head -1)
	check_eq "$name: the row is there, issued" issued "$(status_of "$ser")"
	cs_do "$name-rec" ca reconcile --dir ca --json
	check_eq "$name: ca reconcile lists it" yes "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("yes" if sys.argv[2] in [c["serial"] for c in d["undelivered"]] else "no")
' "$LAST.out" "$ser" 2>/dev/null)"
	cs_do "$name-rect" ca reconcile --dir ca
	check_match "$name: and in text" "^  $ser " "$LAST.out"
	cs_do "$name-show" ca show --dir ca --serial "$ser" --out "s/$name.pem"
	check_rc "$name: ca show --serial --out retrieves it" 0
	check_eq "$name: the retrieved certificate has that serial" "$ser" \
		"$(openssl x509 -in "s/$name.pem" -noout -serial 2>/dev/null | cut -d= -f2)"
	check_eq "$name: retrieved, it is delivered" delivered "$(status_of "$ser")"
	cs_do "$name-rec2" ca reconcile --dir ca --json
	check_eq "$name: no longer listed" no "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("yes" if sys.argv[2] in [c["serial"] for c in d["undelivered"]] else "no")
' "$LAST.out" "$ser" 2>/dev/null)"
}

n1=$(rows)
cs_do s-full "${SIGN[@]}" --out /dev/full
undelivered dev-full /dev/full
check_eq "dev-full: exactly one row was added" $((n1 + 1)) "$(rows)"

RC=0
LAST=$CS_T/s-stdfull
setsid -w "$CS" "${SIGN[@]}" >/dev/full 2>"$LAST.err" </dev/null || RC=$?
undelivered stdout-full "standard output"

if [ "$ROOT" = yes ] && unshare -m true 2>/dev/null; then
	# A file system that fills up: the preflight passes (an empty file
	# fits), the certificate does not.
	mkdir -p s/full
	RC=0
	LAST=$CS_T/s-tmpfs
	unshare -m sh -c 'mount -t tmpfs -o size=4k tmpfs "$0" &&
		{ dd if=/dev/zero of="$0/fill" bs=1k count=64 2>/dev/null; true; } &&
		exec "$@"' "$CS_T/s/full" "$CS" "${SIGN[@]}" \
		--out "$CS_T/s/full/c.pem" >"$LAST.out" 2>"$LAST.err" </dev/null ||
		RC=$?
	check_match "full-disk: no space left" 'No space left on device' "$LAST.err"
	undelivered full-disk "$CS_T/s/full/c.pem"
else
	tap_skip "ca sign onto a full file system" "needs root and unshare"
fi

# With --json, standard output is the document's alone: --out - is usage.
n1=$(rows)
for c in "ca chain --dir ca" "ca crl --dir ca --pass-env CSPASS" \
	"${SIGN[*]}"; do
	# shellcheck disable=SC2086
	cs_do json-stdout --json $c --out -
	check_rc "--json with --out - ($c): usage (exit 2)" 2
	check_eq "... stdout holds one JSON document" CS_ERR_ARG \
		"$(json_get "$LAST.out" error.code)"
done
check_eq "... and ca sign reserved nothing" "$n1" "$(rows)"

tap_done
