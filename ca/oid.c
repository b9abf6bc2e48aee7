/*
 * OIDs, in one place. The text parser is strict (OpenSSL alone reads
 * "1..2" as 1.0.2 and "1.2." as 1.2) and every comparison that guards a
 * policy (level, sub-level, extra policy, anyPolicy, the CA's arc) goes
 * through the parsed object, since "1.2.03" and "1.2.3" name one OID; what
 * an administrator writes in a profile must be canonical. The portable
 * limits (every arc below 2^28, at most 63 octets) are what Debian 12's
 * python3-cryptography and Go read.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "ca_int.h"

#include "banned.h"

bool
csa_oid_der_short(const uint8_t *p, size_t n)
{
	uint32_t v = 0;
	size_t i;
	bool start = true;

	if (p == NULL || n == 0 || n > CSA_OID_DER_MAX)
		return false;
	for (i = 0; i < n; i++) {
		/* X.690 8.19.2: bit 8 set on all but a sub-identifier's last
		 * octet, and no leading 0x80 (minimal encoding). */
		if (start && p[i] == 0x80)
			return false;
		if (v > (CSA_OID_ARC_LIMIT - 1) >> 7)
			return false;
		v = v << 7 | (uint32_t)(p[i] & 0x7f);
		if (v >= CSA_OID_ARC_LIMIT)
			return false;
		start = (p[i] & 0x80) == 0;
		if (start)
			v = 0;
	}
	/* The first sub-identifier is 40 * X + Y (8.19.4): below the limit
	 * too, so every arc is. */
	return start;
}

const char *
csa_oid_long_reason(size_t n)
{
	return n > CSA_OID_DER_MAX ? "is over 63 octets"
	                           : "has an arc of 2^28 or more";
}

bool
csa_oid_arcs_short(const ASN1_OBJECT *o)
{
	int n;

	if (o == NULL || (n = OBJ_length(o)) <= 0)
		return false;
	return csa_oid_der_short(OBJ_get0_data(o), (size_t)n);
}

enum cs_err
csa_oid_parse(const char *s, unsigned int flags, char *canon, size_t cap)
{
	ASN1_OBJECT *o = NULL;
	char buf[CS_CA_OID_MAX];
	size_t i, n, arcs = 1;
	int len;
	enum cs_err r = CS_ERR_MALFORMED;

	if (canon != NULL && cap > 0)
		canon[0] = '\0';
	if (s == NULL || (n = strlen(s)) == 0 || n >= CS_CA_OID_MAX)
		return CS_ERR_MALFORMED;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (i == 0 || s[i - 1] == '.' || i + 1 == n)
				return CS_ERR_MALFORMED;
			arcs++;
		} else if (s[i] < '0' || s[i] > '9')
			return CS_ERR_MALFORMED;
	}
	if (arcs < 2 || (o = OBJ_txt2obj(s, 1)) == NULL) {
		ERR_clear_error();
		return CS_ERR_MALFORMED;
	}
	len = OBJ_obj2txt(buf, sizeof(buf), o, 1);
	if (len <= 0 || (size_t)len >= sizeof(buf) ||
	    ((flags & CSA_OID_POLICY) && OBJ_obj2nid(o) == NID_any_policy))
		r = CS_ERR_MALFORMED;
	else if (!(flags & CSA_OID_LONG_ARCS) && !csa_oid_arcs_short(o))
		r = CS_ERR_LIMIT;
	else if (canon != NULL && (size_t)len >= cap)
		r = CS_ERR_MALFORMED;
	else {
		if (canon != NULL)
			memcpy(canon, buf, (size_t)len + 1);
		r = CS_OK;
	}
	ASN1_OBJECT_free(o);
	ERR_clear_error();
	return r;
}

/* s as an object (strict dotted numbers, never a name); NULL if not one. */
static ASN1_OBJECT *
parse(const char *s)
{
	ASN1_OBJECT *o;

	if (csa_oid_parse(s, CSA_OID_LONG_ARCS, NULL, 0) != CS_OK)
		return NULL;
	if ((o = OBJ_txt2obj(s, 1)) == NULL)
		ERR_clear_error();
	return o;
}

bool
csa_oid_canonical(const char *s, char *dst, size_t cap)
{
	return csa_oid_parse(s, CSA_OID_LONG_ARCS, dst, cap) == CS_OK;
}

bool
csa_oid_is_canonical(const char *s)
{
	char buf[CS_CA_OID_MAX];

	return csa_oid_canonical(s, buf, sizeof(buf)) && strcmp(buf, s) == 0;
}

bool
csa_oid_obj_eq(const ASN1_OBJECT *o, const char *s)
{
	ASN1_OBJECT *p;
	bool eq;

	if (o == NULL || (p = parse(s)) == NULL)
		return false;
	eq = OBJ_cmp(o, p) == 0;
	ASN1_OBJECT_free(p);
	return eq;
}

bool
csa_oid_eq(const char *a, const char *b)
{
	ASN1_OBJECT *o = parse(a);
	bool eq = csa_oid_obj_eq(o, b);

	ASN1_OBJECT_free(o);
	return eq;
}

bool
csa_oid_is_any_policy(const char *s)
{
	ASN1_OBJECT *o = parse(s);
	bool any = o != NULL && OBJ_obj2nid(o) == NID_any_policy;

	ASN1_OBJECT_free(o);
	return any;
}

/*
 * X.690 8.19: every arc is base-128 with the high bit set on all but its
 * last octet, so o lies strictly below arc exactly when arc's contents
 * octets are a proper prefix of o's (arc has at least two arcs, so the
 * first octet, 40 * X + Y, is complete in both).
 */
bool
csa_oid_under(const ASN1_OBJECT *o, const char *arc)
{
	ASN1_OBJECT *a;
	const unsigned char *op, *ap;
	size_t on, an;
	bool under;

	if (o == NULL || (a = parse(arc)) == NULL)
		return false;
	on = OBJ_length(o);
	an = OBJ_length(a);
	op = OBJ_get0_data(o);
	ap = OBJ_get0_data(a);
	under = op != NULL && ap != NULL && an > 0 && on > an &&
	    cs_memeq_public(op, ap, an);
	ASN1_OBJECT_free(a);
	return under;
}
