/*
 * Relying-party verifier, the leaf's side: is it an end-entity
 * certificate fit for the purpose, and which levels does it assert
 * according to the level maps of a path's issuing CA and anchor (claims,
 * with the reason a claim cannot count). No path validation here: that is
 * verify_path.c; the verifier and its trust input are verify.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "verify_int.h"

#include "banned.h"

/* "serverAuth, 1.2.3.4": the EKU entries, short names where known. */
static void
eku_list(const EXTENDED_KEY_USAGE *eku, char *dst, size_t cap)
{
	const ASN1_OBJECT *o;
	char one[CS_CA_OID_MAX];
	size_t n = 0;
	int i, nid, k;

	dst[0] = '\0';
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		o = sk_ASN1_OBJECT_value(eku, i);
		if ((nid = OBJ_obj2nid(o)) != NID_undef)
			snprintf(one, sizeof(one), "%s", OBJ_nid2sn(nid));
		else if (OBJ_obj2txt(one, sizeof(one), o, 1) <= 0)
			snprintf(one, sizeof(one), "?");
		k = snprintf(dst + n, cap - n, "%s%s", i > 0 ? ", " : "", one);
		if (k < 0 || (size_t)k >= cap - n)
			break;
		n += (size_t)k;
	}
	ERR_clear_error();
}

/*
 * Is leaf an end-entity certificate fit for v->purpose? A CA certificate
 * (basicConstraints CA:TRUE, or keyUsage keyCertSign) never is. Other
 * purposes than any: keyUsage, if present, has digitalSignature (TLS and
 * Kerberos PKINIT client keys sign), and extendedKeyUsage, if present,
 * lists the purpose's OID (anyExtendedKeyUsage does not count).
 * CS_ERR_POLICY with the reason in res->reason (not yet in ctx) if not.
 */
enum cs_err
csa_verify_purpose_check(const struct cs_verifier *v, X509 *leaf,
    struct cs_verify_result *res)
{
	static const struct {
		const char *oid, *label;
	} want[] = {
		[CS_VERIFY_PURPOSE_CLIENT_AUTH] = { "1.3.6.1.5.5.7.3.2",
		    "clientAuth" },
		[CS_VERIFY_PURPOSE_SMARTCARD_LOGON] = { OID_MS_SMARTCARD_LOGON,
		    "msSmartcardLogin" },
		[CS_VERIFY_PURPOSE_CARD_AUTH] = { OID_PIV_CARD_AUTH,
		    "id-PIV-cardAuth" },
		[CS_VERIFY_PURPOSE_ANY] = { NULL, NULL },
	};
	const char *pname = cs_verify_purpose_name(v->purpose);
	EXTENDED_KEY_USAGE *eku = NULL;
	char buf[CS_CA_OID_MAX], list[200];
	uint32_t fl, ku;
	bool found = false;
	int i, crit = -1;
	enum cs_err r = CS_ERR_INTERNAL;

	fl = X509_get_extension_flags(leaf);
	ku = X509_get_key_usage(leaf);
	if ((fl & EXFLAG_CA) != 0 || ((fl & EXFLAG_KUSAGE) != 0 &&
	                                  (ku & KU_KEY_CERT_SIGN) != 0)) {
		snprintf(res->reason, sizeof(res->reason),
		    "the certificate is a CA certificate (%s); only an "
		    "end-entity certificate is accepted",
		    (fl & EXFLAG_CA) != 0 ? "basicConstraints CA:TRUE"
		                          : "keyUsage keyCertSign");
		r = CS_ERR_POLICY;
		goto out;
	}
	if (want[v->purpose].oid == NULL) {
		r = CS_OK;
		goto out;
	}
	if ((fl & EXFLAG_KUSAGE) != 0 && (ku & KU_DIGITAL_SIGNATURE) == 0) {
		snprintf(res->reason, sizeof(res->reason),
		    "keyUsage lacks digitalSignature, which purpose %s needs",
		    pname);
		r = CS_ERR_POLICY;
		goto out;
	}
	eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, &crit, NULL);
	if (eku == NULL && crit == -1) {
		r = CS_OK; /* no EKU: any purpose (RFC 5280 4.2.1.12) */
		goto out;
	}
	for (i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_obj2txt(buf, sizeof(buf), sk_ASN1_OBJECT_value(eku, i),
		        1) > 0 &&
		    strcmp(buf, want[v->purpose].oid) == 0)
			found = true;
	if (eku == NULL)
		snprintf(list, sizeof(list), "unreadable");
	else
		eku_list(eku, list, sizeof(list));
	if (!found) {
		snprintf(res->reason, sizeof(res->reason),
		    "extendedKeyUsage (%s) lacks %s (%s), which purpose %s "
		    "needs",
		    list, want[v->purpose].label, want[v->purpose].oid, pname);
		r = CS_ERR_POLICY;
		goto out;
	}
	r = CS_OK;
out:
	ERR_clear_error();
	EXTENDED_KEY_USAGE_free(eku);
	return r;
}

/* --- the leaf's claims --- */

void
csa_verify_leaf_policies(X509 *leaf, struct leafpol *lp)
{
	CERTIFICATEPOLICIES *cp;
	POLICYINFO *pi;
	int i;

	memset(lp, 0, sizeof(*lp));
	if ((cp = X509_get_ext_d2i(leaf, NID_certificate_policies, NULL,
	         NULL)) == NULL) {
		ERR_clear_error();
		return;
	}
	for (i = 0; i < sk_POLICYINFO_num(cp); i++) {
		pi = sk_POLICYINFO_value(cp, i);
		if (OBJ_obj2nid(pi->policyid) == NID_any_policy)
			lp->any = true;
		else if (lp->n == LEAF_POLICIES_MAX)
			lp->many = true;
		else if (OBJ_obj2txt(lp->oid[lp->n], CS_CA_OID_MAX,
		             pi->policyid, 1) > 0 &&
		    strlen(lp->oid[lp->n]) < CS_CA_OID_MAX - 1)
			lp->n++;
	}
	CERTIFICATEPOLICIES_free(cp);
	ERR_clear_error();
}

static bool
leaf_has(const struct leafpol *lp, const char *oid)
{
	size_t i;

	for (i = 0; i < lp->n; i++)
		if (strcmp(lp->oid[i], oid) == 0)
			return true;
	return false;
}

/* Rank for ordering: higher level first, a sub-level before its parent. */
static int
claim_rank(const struct claim *c)
{
	return (int)c->level * 64 +
	    (c->sub.name[0] != '\0' ? 32 + csa_sublevel_weight(&c->sub) : 0);
}

static bool
same_sub(const struct cs_ca_sublevel *a, const struct cs_ca_sublevel *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->oid, b->oid) == 0 &&
	    a->parent == b->parent && a->min_pin_policy == b->min_pin_policy &&
	    a->min_touch_policy == b->min_touch_policy;
}

static void
claim_add(struct claim *cl, size_t *n, enum cs_ca_level lv,
    const struct cs_ca_sublevel *sub, const char *oid, enum claim_kind kind)
{
	size_t i;

	if (*n >= CLAIMS_MAX)
		return;
	for (i = 0; i < *n; i++)
		if (strcmp(cl[i].oid, oid) == 0)
			return; /* the anchor's view came first */
	memset(&cl[*n], 0, sizeof(cl[*n]));
	cl[*n].level = lv;
	if (sub != NULL)
		cl[*n].sub = *sub;
	snprintf(cl[*n].oid, sizeof(cl[*n].oid), "%s", oid);
	cl[*n].kind = kind;
	(*n)++;
}

/*
 * What the leaf asserts that the anchor's map (first) or the issuing CA's
 * map calls a level, sorted best first. Only CLAIM_COUNTS claims can be
 * verified; the others explain why not.
 */
size_t
csa_verify_claims_of(const struct leafpol *lp, const struct vca *iss,
    const struct vca *anc, struct claim *cl)
{
	const struct cs_ca_sublevel *s, *t;
	struct claim tmp;
	size_t n = 0, i, j, k;
	int lv;

	if (lp->any || lp->many)
		return 0;
	for (k = 0; anc->mapped && k < anc->map.nsubs; k++) {
		s = &anc->map.subs[k];
		if (!leaf_has(lp, s->oid))
			continue;
		t = iss->mapped ? csa_verify_find_sub(&iss->map, s->name) : NULL;
		claim_add(cl, &n, s->parent, s, s->oid,
		    !iss->mapped                ? CLAIM_NO_ISSUER_MAP
		        : t != NULL && same_sub(s, t) ? CLAIM_COUNTS
		                                      : CLAIM_DIFFERS);
	}
	for (lv = CS_CA_LEVEL_COUNT - 1; anc->mapped && lv >= 1; lv--)
		if (leaf_has(lp, anc->map.oids[lv]))
			claim_add(cl, &n, (enum cs_ca_level)lv, NULL,
			    anc->map.oids[lv],
			    !iss->mapped ? CLAIM_NO_ISSUER_MAP
			    : strcmp(iss->map.oids[lv], anc->map.oids[lv]) == 0
			        ? CLAIM_COUNTS
			        : CLAIM_DIFFERS);
	/* The issuing CA's own view, where the anchor's map is silent. */
	for (k = 0; iss->mapped && k < iss->map.nsubs; k++)
		if (leaf_has(lp, iss->map.subs[k].oid))
			claim_add(cl, &n, iss->map.subs[k].parent,
			    &iss->map.subs[k], iss->map.subs[k].oid,
			    anc->mapped ? CLAIM_DIFFERS : CLAIM_NO_ANCHOR_MAP);
	for (lv = CS_CA_LEVEL_COUNT - 1; iss->mapped && lv >= 1; lv--)
		if (leaf_has(lp, iss->map.oids[lv]))
			claim_add(cl, &n, (enum cs_ca_level)lv, NULL,
			    iss->map.oids[lv],
			    anc->mapped ? CLAIM_DIFFERS : CLAIM_NO_ANCHOR_MAP);
	/* Insertion sort, stable: best first. */
	for (i = 1; i < n; i++) {
		tmp = cl[i];
		for (j = i; j > 0 && claim_rank(&cl[j - 1]) < claim_rank(&tmp);
		     j--)
			cl[j] = cl[j - 1];
		cl[j] = tmp;
	}
	return n;
}

/* "hardware-attested (policy X)" or "sub-level S (policy X)". */
void
csa_verify_claim_text(const struct claim *c, char *dst, size_t cap)
{
	if (c->sub.name[0] != '\0')
		snprintf(dst, cap, "sub-level %s (policy %s)", c->sub.name,
		    c->oid);
	else
		snprintf(dst, cap, "%s (policy %s)", cs_ca_level_name(c->level),
		    c->oid);
}

/* Why claim c was not verified on the path issuer .. anchor. */
void
csa_verify_claim_why(const struct claim *c, const struct vca *iss,
    const struct vca *anc, char *dst, size_t cap)
{
	char what[CS_CA_OID_MAX + 64];

	csa_verify_claim_text(c, what, sizeof(what));
	switch (c->kind) {
	case CLAIM_COUNTS:
		snprintf(dst, cap,
		    "%s is not valid for the path: a CA in the chain does "
		    "not assert it",
		    what);
		break;
	case CLAIM_NO_ANCHOR_MAP:
		snprintf(dst, cap,
		    "%s is named only by the level map of the issuing CA; "
		    "the trust anchor %.120s carries none",
		    what, anc->name);
		break;
	case CLAIM_NO_ISSUER_MAP:
		snprintf(dst, cap,
		    "%s is in the trust anchor's level map, but the issuing "
		    "CA %.120s carries none",
		    what, iss->name);
		break;
	case CLAIM_DIFFERS:
		snprintf(dst, cap,
		    "%s: the level maps of the issuing CA %.100s and of the "
		    "trust anchor %.100s do not agree on it",
		    what, iss->name, anc->name);
		break;
	}
}
