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
