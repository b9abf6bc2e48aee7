#!/usr/bin/env bash
# Check the layering of ca/ on its compiled objects (ca/README.md "Where
# each thing lives"):
#
#  1. No cycle between the objects of ca/: each undefined symbol of
#     BUILD/obj/ca/X.o that another ca object defines is an arrow X -> Y;
#     the graph must be acyclic (arrows only run down). A cycle is printed.
#  2. The CA private keys have one home: only sign.o may call the OpenSSL
#     functions that decode, encode, generate or use a private key
#     (FENCE below). Any other ca object referencing one is printed.
#
# Without a cycle it also prints each object's layer, the longest path
# from it down to an object that calls no other ca/ object (layer 0):
# "check-ca-layers: layer N: a.c b.c", top layer first, names sorted.
#
# Usage: scripts/check-ca-layers.sh [BUILD]   (default: build)
# Exit 0 when both hold, 1 when not, 2 when the objects are missing.
set -u
build=${1:-build}
objdir="$build/obj/ca"
NM=${NM:-nm}

# Private-key decode, encode, generation and signing. Verifying with a
# public key (X509_verify, X509_REQ_verify, EVP_DigestVerify*) is not here.
FENCE='
PEM_read_bio_PrivateKey PEM_read_PrivateKey PEM_read_bio_PrivateKey_ex
d2i_PrivateKey d2i_PrivateKey_bio d2i_PrivateKey_ex d2i_AutoPrivateKey
d2i_PKCS8PrivateKey_bio d2i_PKCS8_PRIV_KEY_INFO d2i_PKCS8_bio
PEM_read_bio_PKCS8 PEM_read_bio_PKCS8_PRIV_KEY_INFO
PKCS8_decrypt PKCS8_decrypt_ex EVP_PKCS82PKEY EVP_PKCS82PKEY_ex
PEM_write_bio_PrivateKey PEM_write_bio_PKCS8PrivateKey PEM_write_bio_PKCS8
PEM_write_bio_PKCS8_PRIV_KEY_INFO i2d_PrivateKey i2d_PKCS8PrivateKey_bio
EVP_PKEY2PKCS8 PKCS8_set0_pbe PKCS8_encrypt PKCS8_encrypt_ex
OSSL_DECODER_CTX_new_for_pkey OSSL_ENCODER_CTX_new_for_pkey
EVP_PKEY_Q_keygen EVP_PKEY_keygen EVP_PKEY_generate
EVP_PKEY_get1_RSA EVP_PKEY_get1_EC_KEY EVP_PKEY_get0_RSA EVP_PKEY_get0_EC_KEY
EVP_PKEY_get_raw_private_key X509_check_private_key
X509_sign X509_sign_ctx X509_CRL_sign X509_CRL_sign_ctx X509_REQ_sign
X509_REQ_sign_ctx OCSP_basic_sign OCSP_basic_sign_ctx
EVP_DigestSignInit EVP_DigestSignInit_ex EVP_DigestSign EVP_DigestSignFinal
EVP_PKEY_sign EVP_PKEY_sign_init EVP_SignFinal ASN1_item_sign
ASN1_item_sign_ctx
'
KEY_HOME=sign

shopt -s nullglob
objs=("$objdir"/*.o)
if [ ${#objs[@]} -eq 0 ]; then
	echo "check-ca-layers: no objects in $objdir (run make first)" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ca-layers.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# defs: "symbol object"; undefs: "object symbol".
for o in "${objs[@]}"; do
	n=$(basename "$o" .o)
	"$NM" -P "$o" >"$tmp/nm" || {
		echo "check-ca-layers: $NM failed on $o" >&2
		exit 2
	}
	awk -v n="$n" '$2 ~ /^[TDBRCGSVW]$/ { print $1, n }' "$tmp/nm" >>"$tmp/defs"
	awk -v n="$n" '$2 == "U" { print n, $1 }' "$tmp/nm" >>"$tmp/undefs"
done
touch "$tmp/defs" "$tmp/undefs"

fail=0

# 1. The object graph and its cycles.
awk 'NR == FNR { def[$1] = $2; next }
	($2 in def) && def[$2] != $1 { print $1, def[$2] }' \
	"$tmp/defs" "$tmp/undefs" | sort -u >"$tmp/edges"

cycle=$(awk '
	{ adj[$1] = adj[$1] " " $2; node[$1] = 1; node[$2] = 1 }
	function dfs(v,    i, n, w, a, k, s) {
		state[v] = 1
		stack[++depth] = v
		n = split(adj[v], a, " ")
		for (i = 1; i <= n; i++) {
			w = a[i]
			if (state[w] == 1) {
				for (k = depth; k >= 1 && stack[k] != w; k--)
					;
				s = ""
				for (; k <= depth; k++)
					s = s stack[k] " -> "
				print s w
				return 1
			}
			if (state[w] == 0 && dfs(w))
				return 1
		}
		depth--
		state[v] = 2
		return 0
	}
	END {
		for (v in node)
			if (state[v] == 0 && dfs(v))
				exit 0
	}' "$tmp/edges")
if [ -n "$cycle" ]; then
	echo "check-ca-layers: cycle between ca/ objects: $cycle"
	# Name the symbols behind each arrow of the cycle.
	set -- $(echo "$cycle" | sed 's/ -> / /g')
	prev=$1
	shift
	for cur in "$@"; do
		syms=$(awk -v a="$prev" -v b="$cur" 'NR == FNR { def[$1] = $2; next }
			$1 == a && def[$2] == b { printf "%s ", $2 }' \
			"$tmp/defs" "$tmp/undefs")
		echo "  $prev.o -> $cur.o: $syms"
		prev=$cur
	done
	fail=1
else
	echo "check-ca-layers: $(wc -l <"$tmp/edges") arrows between ${#objs[@]} ca/ objects, no cycle"
	# 3. Each object's layer: the longest path from it down to an object
	# that calls no other (layer 0), one line per layer, top first, as
	# ca/README.md draws them (t-470 compares the two).
	for o in "${objs[@]}"; do basename "$o" .o; done >"$tmp/nodes"
	awk 'NR == FNR { node[$1] = 1; next }
		{ adj[$1] = adj[$1] " " $2 }
		function depth(v,    i, n, a, d) {
			if (v in memo)
				return memo[v]
			d = 0
			n = split(adj[v], a, " ")
			for (i = 1; i <= n; i++)
				if (depth(a[i]) + 1 > d)
					d = depth(a[i]) + 1
			memo[v] = d
			return d
		}
		END {
			top = 0
			for (v in node) {
				d = depth(v)
				names[d] = names[d] " " v ".c"
				if (d > top)
					top = d
			}
			for (d = top; d >= 0; d--)
				print d names[d]
		}' "$tmp/nodes" "$tmp/edges" |
		while read -r d rest; do
			printf 'check-ca-layers: layer %s: %s\n' "$d" \
				"$(printf '%s\n' $rest | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
		done
fi

# 2. The CA key fence.
printf '%s\n' $FENCE | sort -u >"$tmp/fence"
awk -v home="$KEY_HOME" 'NR == FNR { f[$1] = 1; next }
	$1 != home && ($2 in f) { print "  " $1 ".o calls " $2 }' \
	"$tmp/fence" "$tmp/undefs" >"$tmp/breach"
if [ -s "$tmp/breach" ]; then
	echo "check-ca-layers: private-key functions outside $KEY_HOME.o:"
	cat "$tmp/breach"
	fail=1
else
	echo "check-ca-layers: private-key functions only in $KEY_HOME.o"
fi
exit $fail
