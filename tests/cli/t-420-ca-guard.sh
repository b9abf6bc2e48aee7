#!/usr/bin/env bash
# CA guards (issue 12):
# - a missing or empty registry is refused, never recreated.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=guard-test-passphrase

newkey() { # newkey NAME: EC key NAME.key and CSR NAME.csr (CN=NAME)
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1.key" -subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null
}
sign() { # sign PREFIX CSR [ARGS...]: ca sign --profile software into D
	local p=$1 csr=$2
	shift 2
	cs_run "$T/$p" ca sign --dir "$D" --profile software --csr "$csr" \
		--pass-env CSPASS "$@"
}
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
nothing_there() { # nothing_there DIR: no registry file of any kind
	[ ! -e "$1/registry.db" ] && [ ! -e "$1/registry.db-wal" ] &&
		[ ! -e "$1/registry.db-shm" ] && echo yes || echo no
}
yes_no() { "$@" && echo yes || echo no; }

cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS --profiles "$CS_SRC/profiles"
check_eq "ca init" 0 "$RC"
newkey bob
sign b1 "$T/bob.csr" --out "$T/b1.pem"
check_eq "a first certificate" 0 "$RC"

# --- 1. missing or empty registry ------------------------------------------
cp -a "$D" "$T/gone"
rm -f "$T/gone/registry.db" "$T/gone/registry.db-wal" "$T/gone/registry.db-shm"
cs_run "$T/g-sign" ca sign --dir "$T/gone" --profile software \
	--csr "$T/bob.csr" --pass-env CSPASS --out "$T/g.pem"
check_eq "registry deleted: ca sign refuses" 1 "$RC"
check_match "ca sign: names the file and the recovery" \
	"registry $T/gone/registry.db is missing: restore it from your backup" "$T/g-sign.err"
check_eq "no doubled directory in the message" 1 "$(grep -o -- "$T/gone" "$T/g-sign.err" | wc -l)"
cs_run "$T/g-crl" ca crl --dir "$T/gone" --pass-env CSPASS --out "$T/g-crl.pem"
check_eq "registry deleted: ca crl refuses" 1 "$RC"
check_match "ca crl: message" "registry.db is missing" "$T/g-crl.err"
cs_run "$T/g-list" ca list --dir "$T/gone" --json
check_eq "registry deleted: ca list refuses" 1 "$RC"
check_eq "ca list: json error" CS_ERR_STORE "$(json_get "$T/g-list.out" error.code)"
check_eq "registry deleted: nothing created" yes "$(nothing_there "$T/gone")"
check_eq "no certificate, no CRL" no "$(yes_no test -e "$T/g.pem" -o -e "$T/g-crl.pem")"

cp -a "$D" "$T/empty"
rm -f "$T/empty/registry.db-wal" "$T/empty/registry.db-shm"
: >"$T/empty/registry.db"
for c in sign crl list; do
	case $c in
	sign) args=(--profile software --csr "$T/bob.csr" --pass-env CSPASS) ;;
	crl) args=(--pass-env CSPASS --out "$T/e-crl.pem") ;;
	*) args=() ;;
	esac
	cs_run "$T/e-$c" ca "$c" --dir "$T/empty" "${args[@]}"
	check_eq "registry truncated to 0 bytes: ca $c refuses" 1 "$RC"
	check_match "ca $c: names the empty file" \
		"registry $T/empty/registry.db is empty \(0 bytes\): restore it" "$T/e-$c.err"
done
check_eq "truncated registry left at 0 bytes" 0 "$(stat -c %s "$T/empty/registry.db")"
check_eq "no WAL created" no "$(yes_no test -e "$T/empty/registry.db-wal")"

cp -a "$D" "$T/nowal"
rm -f "$T/nowal/registry.db-wal" "$T/nowal/registry.db-shm"
cs_run "$T/w-list" ca list --dir "$T/nowal" --json
check_eq "a deleted WAL is fine" 0 "$RC"

tap_done
