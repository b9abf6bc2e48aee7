#!/bin/bash
# ca/ is a layered stack (ca/README.md "Where each thing lives"): no call
# cycle between its objects, and only sign.o touches a CA private key.
# scripts/check-ca-layers.sh reads nm of BUILD/obj/ca/*.o; it is run on
# this build, and on two small objects that break each rule, so a checker
# that saw nothing cannot pass.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
CHECK=$CS_SRC/scripts/check-ca-layers.sh

"$CHECK" "$CS_BUILD" >"$T/out" 2>&1
RC=$?
sed 's/^/# /' "$T/out"
check_eq "the ca/ objects of this build pass" 0 "$RC"
check_match "arrows were found (the objects were read)" \
	'[1-9][0-9]* arrows between' "$T/out"

# ca/README.md draws the same layers: its diagram ("Where each thing
# lives", the first code block) read as "layer N: files", sorted as the
# script sorts them, must be the script's layer lines.
README=$CS_SRC/ca/README.md
sed -n 's/^check-ca-layers: \(layer .*\)$/\1/p' "$T/out" >"$T/layers.obj"
awk '/^## Where each thing lives/ { sec = 1; next }
	sec && /^```/ { if (blk) exit; blk = 1; next }
	blk {
		if ($1 ~ /^[0-9]+$/)
			d = $1
		for (i = 1; i <= NF; i++)
			if ($i ~ /^[a-z0-9_]+\.c$/)
				print d, $i
	}' "$README" | LC_ALL=C sort -k1,1nr -k2,2 |
	awk '$1 != d { if (NR > 1) print line; d = $1; line = "layer " d ":" }
		{ line = line " " $2 }
		END { if (NR > 0) print line }' >"$T/layers.readme"
check_eq "the script printed a layer for every ca/ object" \
	"$(ls "$CS_BUILD"/obj/ca/*.o | wc -l)" \
	"$(sed 's/^layer [0-9]*://' "$T/layers.obj" | wc -w)"
check_eq "ca/README.md's layer diagram is the objects' layers" \
	"$(cat "$T/layers.obj")" "$(cat "$T/layers.readme")"
# ... and its table has a row for every ca/*.c.
missing=
for c in "$CS_SRC"/ca/*.c; do
	grep -qF "| \`$(basename "$c")\` |" "$README" || missing="$missing $(basename "$c")"
done
check_eq "ca/README.md's table lists every ca/*.c" "" "$missing"

# Two objects calling each other, one of them signing.
mkdir -p "$T/bad/obj/ca"
printf 'void lower(void);\nvoid upper(void) { lower(); }\n' >"$T/upper.c"
printf '%s\n' 'void upper(void);' 'int X509_sign(void *, void *, const void *);' \
	'void lower(void) { upper(); (void)X509_sign(0, 0, 0); }' >"$T/lower.c"
if ${CC:-cc} -c -o "$T/bad/obj/ca/upper.o" "$T/upper.c" 2>/dev/null &&
	${CC:-cc} -c -o "$T/bad/obj/ca/lower.o" "$T/lower.c" 2>/dev/null; then
	"$CHECK" "$T/bad" >"$T/bad.out" 2>&1
	RC=$?
	sed 's/^/# /' "$T/bad.out"
	check_eq "a cycle or a signing call outside sign.o fails" 1 "$RC"
	check_match "the cycle is printed" 'cycle between ca/ objects: (upper -> lower -> upper|lower -> upper -> lower)' \
		"$T/bad.out"
	check_match "the fenced call is named" 'lower.o calls X509_sign' \
		"$T/bad.out"
else
	tap_skip "no C compiler for the negative case"
fi
tap_done
