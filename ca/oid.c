/*
 * OIDs compared as OIDs. OpenSSL's text parser accepts several spellings
 * of one object identifier ("1.2.03", "1.2.3.", "1..2" = 1.0.2), so two
 * strings that differ may name the same OID: every comparison that guards
 * a policy (level, sub-level, extra policy, anyPolicy, the CA's arc) goes
 * through the parsed object (OBJ_txt2obj with no_name = 1, then OBJ_cmp),
 * and what an administrator writes in a profile must be canonical.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "ca_int.h"

#include "banned.h"

/* s as an object (dotted numbers only, never a name); NULL if not one. */
static ASN1_OBJECT *
parse(const char *s)
{
	ASN1_OBJECT *o;

	if (s == NULL || *s == '\0' || strlen(s) >= CS_CA_OID_MAX)
		return NULL;
	if ((o = OBJ_txt2obj(s, 1)) == NULL)
		ERR_clear_error();
	return o;
}

bool
csa_oid_canonical(const char *s, char *dst, size_t cap)
{
	ASN1_OBJECT *o = parse(s);
	int n;

	if (cap > 0)
		dst[0] = '\0';
	if (o == NULL)
		return false;
	n = OBJ_obj2txt(dst, (int)cap, o, 1);
	ASN1_OBJECT_free(o);
	ERR_clear_error();
	if (n <= 0 || (size_t)n >= cap) {
		if (cap > 0)
			dst[0] = '\0';
		return false;
	}
	return true;
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
