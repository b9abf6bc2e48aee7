#!/usr/bin/env bash
# --out of every command that writes a file (keygen, cert export, attest
# --out/--f9-out, csr, ca chain, ca crl) goes through one helper: a new
# file is created with mode 0644; an existing file is refused without
# --force (ca chain/crl replace it, as documented) and replaced with it; a
# symbolic link and a directory are refused and left alone; a character
# device (a private one made with mknod, then /dev/null) and a FIFO are
# written through and stay what they are; /dev/stdout works.
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

tap_done
