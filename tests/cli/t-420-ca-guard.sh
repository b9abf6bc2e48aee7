#!/usr/bin/env bash
# CA guards (issue 12):
# - a missing or empty registry is refused, never recreated;
# - a revoked key is not certified again (never after keyCompromise,
#   otherwise only with --allow-revoked-key); an old registry gets its key
#   hashes backfilled;
# - unsafe CA permissions are refused or warned about;
# - ca init refuses weak passphrases without echoing them.
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

# --- 2. revoked keys --------------------------------------------------------
newkey alice
sign a1 "$T/alice.csr" --out "$T/a1.pem"
check_eq "first certificate for alice's key" 0 "$RC"
A1=$(serial_of "$T/a1.pem")
cs_run "$T/rev" ca revoke --dir "$D" --serial "$A1" --reason keyCompromise
check_eq "revoked for keyCompromise" 0 "$RC"
sign a2 "$T/alice.csr" --out "$T/a2.pem"
check_eq "reissue after keyCompromise refused (exit 6)" 6 "$RC"
check_match "message names the revoked serial and reason" \
	"certified in $A1, revoked for keyCompromise" "$T/a2.err"
check_eq "no certificate written" no "$(yes_no test -e "$T/a2.pem")"
sign a3 "$T/alice.csr" --allow-revoked-key --out "$T/a3.pem"
check_eq "keyCompromise: no override (exit 6)" 6 "$RC"
openssl req -new -key "$T/alice.key" -subj "/CN=Someone Else" \
	-out "$T/alice2.csr" 2>/dev/null
cs_run "$T/a4" ca sign --dir "$D" --profile piv-auth --csr "$T/alice2.csr" \
	--pass-env CSPASS --json
check_eq "same key, other subject and profile: refused (exit 6)" 6 "$RC"
check_match "refused for the key, whatever the profile" "keyCompromise" "$T/a4.out"
newkey erin
sign e1 "$T/erin.csr" --out "$T/e1.pem"
check_eq "a different key is still fine" 0 "$RC"

newkey carol
sign c1 "$T/carol.csr" --out "$T/c1.pem"
C1=$(serial_of "$T/c1.pem")
cs_run "$T/revc" ca revoke --dir "$D" --serial "$C1" --reason superseded
sign c2 "$T/carol.csr" --out "$T/c2.pem"
check_eq "reissue after superseded refused without the override (exit 6)" 6 "$RC"
check_match "message: serial, reason and the override" \
	"certified in $C1, revoked for superseded.*--allow-revoked-key" "$T/c2.err"
sign c3 "$T/carol.csr" --allow-revoked-key --out "$T/c3.pem" --json
check_eq "reissue after superseded allowed with --allow-revoked-key" 0 "$RC"
check_eq "override: issued" software "$(json_get "$T/c3.out" level)"
C3=$(json_get "$T/c3.out" serial)
# Compromise learnt later: the superseded revocation becomes keyCompromise.
cs_run "$T/revc2" ca revoke --dir "$D" --serial "$C1" --reason keyCompromise
check_eq "a revoked certificate can be marked keyCompromise" 0 "$RC"
check_match "the live certificate of that key is named" \
	"certificate $C3 certifies a compromised key and is not revoked" "$T/revc2.err"
sign c4 "$T/carol.csr" --allow-revoked-key
check_eq "then no override helps (exit 6)" 6 "$RC"
check_match "names serial and keyCompromise" "$C1, revoked for keyCompromise" "$T/c4.err"

# A later keyCompromise of one certificate reaches the key's others.
newkey dave
sign d1 "$T/dave.csr" --out "$T/d1.pem"
sign d2 "$T/dave.csr" --out "$T/d2.pem"
D1=$(serial_of "$T/d1.pem")
D2=$(serial_of "$T/d2.pem")
cs_run "$T/revd" ca revoke --dir "$D" --serial "$D1" --reason keyCompromise
check_eq "revoke one of two certificates of a key" 0 "$RC"
check_match "the other certificate of the key is named" \
	"certificate $D2 certifies a compromised key" "$T/revd.err"
sign d3 "$T/dave.csr" --allow-revoked-key
check_eq "later keyCompromise: reissue refused (exit 6)" 6 "$RC"
check_match "names the compromised serial" "$D1" "$T/d3.err"

cs_run "$T/help" help ca sign
check_match "ca sign --help documents --allow-revoked-key" "allow-revoked-key" "$T/help.out"

# An old registry (before key_sha256) migrates and backfills.
cp -a "$D" "$T/old"
sqlite3 "$T/old/registry.db" "DROP INDEX certs_key;
	ALTER TABLE certs DROP COLUMN key_sha256; PRAGMA user_version = 3;" \
	2>"$T/old-sql.err"
check_eq "fixture: registry without key_sha256" 0 \
	"$(sqlite3 "$T/old/registry.db" "SELECT count(*) FROM pragma_table_info('certs') WHERE name = 'key_sha256'")"
cs_run "$T/o-sign" ca sign --dir "$T/old" --profile software \
	--csr "$T/alice.csr" --pass-env CSPASS
check_eq "old registry: compromised key still refused (exit 6)" 6 "$RC"
check_match "old registry: from the backfilled hash" "$A1, revoked for keyCompromise" "$T/o-sign.err"
check_eq "old registry: schema version 4" 4 "$(sqlite3 "$T/old/registry.db" "PRAGMA user_version")"
check_eq "old registry: every stored certificate has its key hash" 0 \
	"$(sqlite3 "$T/old/registry.db" "SELECT count(*) FROM certs WHERE der IS NOT NULL AND (key_sha256 IS NULL OR length(key_sha256) <> 64)")"
check_eq "old registry: index on the key hash" 1 \
	"$(sqlite3 "$T/old/registry.db" "SELECT count(*) FROM sqlite_master WHERE name = 'certs_key'")"
want=$(openssl x509 -in "$T/a1.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
	sha256sum | cut -d' ' -f1)
check_eq "old registry: backfilled value is the SPKI's SHA-256" "$want" \
	"$(sqlite3 "$T/old/registry.db" "SELECT key_sha256 FROM certs WHERE serial = '$A1'")"
cs_run "$T/o-sign2" ca sign --dir "$T/old" --profile software \
	--csr "$T/erin.csr" --pass-env CSPASS
check_eq "old registry: other keys still issue" 0 "$RC"

# --- 3. permissions ---------------------------------------------------------
chmod 777 "$D"
cs_run "$T/p-dir" ca list --dir "$D"
check_eq "0777 CA directory refused" 1 "$RC"
check_match "says what to run" "writable by group or others \(mode 777\): chmod 700 $D\$" "$T/p-dir.err"
chmod 755 "$D"
cs_run "$T/p-dir2" ca list --dir "$D"
check_eq "0755 CA directory: used" 0 "$RC"
check_match "0755 CA directory: warned" "warning: .*readable by group or others \(mode 755\): chmod 700 $D\$" "$T/p-dir2.err"
chmod 700 "$D"
chmod 644 "$D/issuing.key.pem"
cs_run "$T/p-key" ca sign --dir "$D" --profile software --csr "$T/bob.csr" \
	--pass-env CSPASS
check_eq "0644 CA key refused" 1 "$RC"
check_match "says what to run" \
	"CA key $D/issuing.key.pem is readable by group or others \(mode 644\): chmod 600 $D/issuing.key.pem" \
	"$T/p-key.err"
chmod 600 "$D/issuing.key.pem"
cs_run "$T/p-ok" ca list --dir "$D"
check_eq "0700 directory and 0600 files: no warning" "0 0" "$RC $(wc -l <"$T/p-ok.err")"

# --- 4. weak passphrases at init --------------------------------------------
for pw in short-pass aaaaaaaaaaaaaaaa abababababababab abcdefghijklmnop; do
	WEAK=$pw cs_run "$T/weak" ca init --dir "$T/weak-ca" --pass-env WEAK \
		--profiles "$CS_SRC/profiles"
	check_eq "weak passphrase '$pw' refused at init (exit 6)" 6 "$RC"
	check_eq "error text does not contain the passphrase ($pw)" 0 \
		"$(cat "$T/weak.err" "$T/weak.out" | grep -c -- "$pw")"
	check_eq "nothing created for '$pw'" no "$(yes_no test -e "$T/weak-ca")"
done
check_match "the reason is named" "CA passphrase too (short|weak)" "$T/weak.err"
WEAK=aaaaaaaaaaaaaaaa cs_run "$T/weakj" ca init --dir "$T/weak-ca" \
	--pass-env WEAK --json --profiles "$CS_SRC/profiles"
check_eq "weak passphrase: json error code" CS_ERR_POLICY "$(json_get "$T/weakj.out" error.code)"
check_eq "json error without the passphrase" 0 "$(grep -c aaaaaaaaaaaa "$T/weakj.out")"
tap_done
