/*
 * The level map extension (<arc>.2.1, ca/README.md "OIDs"): written into
 * the CA certificates, read back bound to its arc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

#include "banned.h"

/* --- level map: SEQUENCE OF SEQUENCE { UTF8String, OBJECT IDENTIFIER } --- */

/* Append a copy of v as an ASN1_TYPE of type to seq; 1 on success. */
static int
push_value(STACK_OF(ASN1_TYPE) * seq, int type, const void *v)
{
	ASN1_TYPE *t = ASN1_TYPE_new();

	if (t == NULL || v == NULL || !ASN1_TYPE_set1(t, type, v) ||
	    !sk_ASN1_TYPE_push(seq, t)) {
		ASN1_TYPE_free(t);
		return 0;
	}
	return 1;
}

/* Append a UTF8String, INTEGER or OBJECT IDENTIFIER to seq; 1 on success. */
static int
push_utf8(STACK_OF(ASN1_TYPE) * seq, const char *v)
{
	ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
	int ok;

	ok = s != NULL && ASN1_STRING_set(s, v, -1) &&
	    push_value(seq, V_ASN1_UTF8STRING, s);
	ASN1_UTF8STRING_free(s);
	return ok;
}

static int
push_int(STACK_OF(ASN1_TYPE) * seq, long v)
{
	ASN1_INTEGER *i = ASN1_INTEGER_new();
	int ok;

	ok = i != NULL && ASN1_INTEGER_set(i, v) &&
	    push_value(seq, V_ASN1_INTEGER, i);
	ASN1_INTEGER_free(i);
	return ok;
}

static int
push_oid(STACK_OF(ASN1_TYPE) * seq, const char *oid)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int ok;

	ok = push_value(seq, V_ASN1_OBJECT, o);
	ASN1_OBJECT_free(o);
	return ok;
}

/*
 * One level map entry: SEQUENCE { UTF8String name, OBJECT IDENTIFIER }
 * for a level; a sub-level adds { UTF8String parent, INTEGER min PIN
 * policy, INTEGER min touch policy } (readers that know only levels skip
 * entries that do not have exactly two elements).
 */
static int
push_entry(STACK_OF(ASN1_TYPE) * outer, const char *name, const char *oid,
    const struct cs_ca_sublevel *sub)
{
	STACK_OF(ASN1_TYPE) *inner = NULL;
	ASN1_TYPE *seq = NULL;
	ASN1_STRING *der = NULL;
	unsigned char *p = NULL;
	int len, ok = 0;

	if ((inner = sk_ASN1_TYPE_new_null()) == NULL ||
	    !push_utf8(inner, name) || !push_oid(inner, oid) ||
	    (sub != NULL &&
	        (!push_utf8(inner, cs_ca_level_name(sub->parent)) ||
	            !push_int(inner, sub->min_pin_policy) ||
	            !push_int(inner, sub->min_touch_policy))))
		goto out;
	if ((len = i2d_ASN1_SEQUENCE_ANY(inner, &p)) <= 0 ||
	    (der = ASN1_STRING_new()) == NULL ||
	    !ASN1_STRING_set(der, p, len) || (seq = ASN1_TYPE_new()) == NULL)
		goto out;
	ASN1_TYPE_set(seq, V_ASN1_SEQUENCE, der);
	der = NULL;
	if (!sk_ASN1_TYPE_push(outer, seq))
		goto out;
	seq = NULL;
	ok = 1;
out:
	OPENSSL_free(p);
	ASN1_STRING_free(der);
	ASN1_TYPE_free(seq);
	sk_ASN1_TYPE_pop_free(inner, ASN1_TYPE_free);
	return ok;
}

enum cs_err
csa_levelmap_ext(struct cs_ctx *ctx, const struct cs_ca *ca,
    X509_EXTENSION **out)
{
	STACK_OF(ASN1_TYPE) *outer = NULL;
	ASN1_OCTET_STRING *os = NULL;
	ASN1_OBJECT *id = NULL;
	unsigned char *p = NULL;
	char oid[CS_CA_OID_MAX];
	int len, i;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	snprintf(oid, sizeof(oid), "%.118s%s", ca->arc, CSA_SUFFIX_LEVELMAP);
	if ((outer = sk_ASN1_TYPE_new_null()) == NULL) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "level map");
		goto out;
	}
	for (i = CS_CA_LEVEL_COUNT - 1; i >= 1; i--)
		if (!push_entry(outer, cs_ca_level_name((enum cs_ca_level)i),
		        ca->oid[i], NULL)) {
			r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "level map");
			goto out;
		}
	for (i = 0; (size_t)i < ca->nsubs; i++)
		if (!push_entry(outer, ca->subs[i].name, ca->subs[i].oid,
		        &ca->subs[i])) {
			r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "level map");
			goto out;
		}
	if ((len = i2d_ASN1_SEQUENCE_ANY(outer, &p)) <= 0 ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, p, len) ||
	    (id = OBJ_txt2obj(oid, 1)) == NULL ||
	    (*out = X509_EXTENSION_create_by_OBJ(NULL, id, 0, os)) == NULL) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "level map");
		goto out;
	}
	r = CS_OK;
out:
	OPENSSL_free(p);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(id);
	sk_ASN1_TYPE_pop_free(outer, ASN1_TYPE_free);
	return r;
}

/* Copy a UTF8String element into dst; false if it is not one or too long. */
static bool
entry_utf8(const STACK_OF(ASN1_TYPE) * inner, int i, char *dst, size_t cap)
{
	const ASN1_TYPE *a = sk_ASN1_TYPE_value(inner, i);
	int n;

	if (a == NULL || a->type != V_ASN1_UTF8STRING ||
	    (n = ASN1_STRING_length(a->value.utf8string)) < 0 ||
	    (size_t)n >= cap)
		return false;
	memcpy(dst, ASN1_STRING_get0_data(a->value.utf8string), (size_t)n);
	dst[n] = '\0';
	return strlen(dst) == (size_t)n;
}

static bool
entry_oid(const STACK_OF(ASN1_TYPE) * inner, int i, char *dst, size_t cap)
{
	const ASN1_TYPE *b = sk_ASN1_TYPE_value(inner, i);

	return b != NULL && b->type == V_ASN1_OBJECT &&
	    OBJ_obj2txt(dst, (int)cap, b->value.object, 1) > 0 &&
	    strlen(dst) < cap - 1;
}

static bool
entry_small(const STACK_OF(ASN1_TYPE) * inner, int i, uint8_t *v)
{
	const ASN1_TYPE *c = sk_ASN1_TYPE_value(inner, i);
	long l;

	if (c == NULL || c->type != V_ASN1_INTEGER ||
	    (l = ASN1_INTEGER_get(c->value.integer)) < 0 || l > 255)
		return false;
	*v = (uint8_t)l;
	return true;
}

/*
 * One entry of a level map into m: a level (exactly once each, its OID
 * the one the arc gives it) or a sub-level (name and OID unique, parent
 * a level). False for anything else: the map is then not read at all.
 */
static bool
map_entry(const char *arc, const STACK_OF(ASN1_TYPE) * inner,
    struct csa_levelmap *m, bool seen[CS_CA_LEVEL_COUNT])
{
	static const char *const suffix[CS_CA_LEVEL_COUNT] = { "",
		CSA_SUFFIX_SOFTWARE, CSA_SUFFIX_ENROLLED, CSA_SUFFIX_ATTESTED };
	struct cs_ca_sublevel s;
	char name[64], oid[CS_CA_OID_MAX], bound[CS_CA_OID_MAX];
	enum cs_ca_level lv;
	size_t k;
	int n;

	if (sk_ASN1_TYPE_num(inner) == 2) {
		if (!entry_utf8(inner, 0, name, sizeof(name)) ||
		    !entry_oid(inner, 1, oid, sizeof(oid)) ||
		    cs_ca_level_parse(name, &lv) != CS_OK || seen[lv])
			return false;
		n = snprintf(bound, sizeof(bound), "%s%s", arc, suffix[lv]);
		if (n < 0 || (size_t)n >= sizeof(bound) ||
		    strcmp(oid, bound) != 0)
			return false;
		seen[lv] = true;
		snprintf(m->oids[lv], CS_CA_OID_MAX, "%s", oid);
		return true;
	}
	memset(&s, 0, sizeof(s));
	if (sk_ASN1_TYPE_num(inner) != 5 ||
	    !entry_utf8(inner, 0, s.name, sizeof(s.name)) ||
	    !csa_sublevel_name_ok(s.name) ||
	    !entry_oid(inner, 1, s.oid, sizeof(s.oid)) ||
	    !entry_utf8(inner, 2, name, sizeof(name)) ||
	    cs_ca_level_parse(name, &s.parent) != CS_OK ||
	    !entry_small(inner, 3, &s.min_pin_policy) ||
	    !entry_small(inner, 4, &s.min_touch_policy) ||
	    m->nsubs >= CS_CA_SUBLEVEL_MAX)
		return false;
	for (k = 0; k < m->nsubs; k++)
		if (strcmp(m->subs[k].name, s.name) == 0 ||
		    strcmp(m->subs[k].oid, s.oid) == 0)
			return false;
	m->subs[m->nsubs++] = s;
	return true;
}

/* Extension e as the level map of arc; false if it is not a valid one. */
static bool
map_parse(X509_EXTENSION *e, const char *arc, struct csa_levelmap *m)
{
	STACK_OF(ASN1_TYPE) *outer = NULL, *inner = NULL;
	const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(e);
	const unsigned char *p = ASN1_STRING_get0_data(os), *q;
	const ASN1_TYPE *t;
	bool seen[CS_CA_LEVEL_COUNT] = { false };
	bool ok = false;
	size_t k;
	int i, lv, len = ASN1_STRING_length(os);

	memset(m, 0, sizeof(*m));
	snprintf(m->arc, sizeof(m->arc), "%s", arc);
	if (p == NULL || len <= 0 ||
	    (outer = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len)) == NULL ||
	    p != ASN1_STRING_get0_data(os) + len)
		goto out;
	for (i = 0; i < sk_ASN1_TYPE_num(outer); i++) {
		t = sk_ASN1_TYPE_value(outer, i);
		if (t->type != V_ASN1_SEQUENCE)
			goto out;
		q = ASN1_STRING_get0_data(t->value.sequence);
		inner = d2i_ASN1_SEQUENCE_ANY(NULL, &q,
		    ASN1_STRING_length(t->value.sequence));
		if (inner == NULL ||
		    q !=
		        ASN1_STRING_get0_data(t->value.sequence) +
		            ASN1_STRING_length(t->value.sequence) ||
		    !map_entry(arc, inner, m, seen))
			goto out;
		sk_ASN1_TYPE_pop_free(inner, ASN1_TYPE_free);
		inner = NULL;
	}
	for (lv = CS_CA_LEVEL_SOFTWARE; lv < CS_CA_LEVEL_COUNT; lv++)
		if (!seen[lv])
			goto out;
	/* A sub-level never reuses a level's OID. */
	for (k = 0; k < m->nsubs; k++)
		for (lv = CS_CA_LEVEL_SOFTWARE; lv < CS_CA_LEVEL_COUNT; lv++)
			if (strcmp(m->subs[k].oid, m->oids[lv]) == 0)
				goto out;
	ok = true;
out:
	sk_ASN1_TYPE_pop_free(inner, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(outer, ASN1_TYPE_free);
	if (!ok)
		memset(m, 0, sizeof(*m));
	return ok;
}

/*
 * The level map is the extension <arc>.2.1 that names its own arc: its
 * level OIDs must be <arc>.1.3, .1.2 and .1.1 (ca/README.md "OIDs"), so
 * a map can only ever speak for the arc of its extension OID. Extensions
 * that merely end in .2.1 but are no such map are someone else's and
 * ignored; two valid maps in one certificate are ambiguous: none.
 */
bool
csa_levelmap_get(const X509 *x, struct csa_levelmap *m)
{
	struct csa_levelmap one;
	X509_EXTENSION *e;
	char id[CS_CA_OID_MAX];
	size_t idl, sl = strlen(CSA_SUFFIX_LEVELMAP);
	int i, n = X509_get_ext_count(x), found = 0;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < n; i++) {
		e = X509_get_ext(x, i);
		if (OBJ_obj2txt(id, sizeof(id), X509_EXTENSION_get_object(e),
		        1) <= 0 ||
		    (idl = strlen(id)) >= sizeof(id) - 1 || idl <= sl ||
		    strcmp(id + idl - sl, CSA_SUFFIX_LEVELMAP) != 0)
			continue;
		id[idl - sl] = '\0'; /* the arc: at least two arcs remain */
		if (strchr(id, '.') == NULL || !map_parse(e, id, &one))
			continue;
		if (found++ == 0)
			*m = one;
	}
	ERR_clear_error();
	if (found != 1) {
		memset(m, 0, sizeof(*m));
		return false;
	}
	return true;
}

bool
csa_levelmap_read(const X509 *x, char oids[][CS_CA_OID_MAX])
{
	struct csa_levelmap m;
	int lv;

	if (!csa_levelmap_get(x, &m))
		return false;
	for (lv = CS_CA_LEVEL_SOFTWARE; lv < CS_CA_LEVEL_COUNT; lv++)
		snprintf(oids[lv], CS_CA_OID_MAX, "%s", m.oids[lv]);
	return true;
}

void
csa_levelmap_subs(const X509 *x, struct cs_ca_sublevel *subs, size_t cap,
    size_t *n)
{
	struct csa_levelmap m;
	size_t k;

	*n = 0;
	if (!csa_levelmap_get(x, &m))
		return;
	for (k = 0; k < m.nsubs && k < cap; k++)
		subs[k] = m.subs[k];
	*n = k;
}
