/*
 * Issuance: assess → build the to-be-signed certificate → lint → reserve
 * the serial (committed) → sign → store the DER (committed) → hand out.
 *
 * The CA keys stay in sign.c: the to-be-signed certificate goes there
 * (csa_sign_cert) and comes back as DER.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cardsmith/x509_ossl.h"

#include "ca_int.h"

#include "banned.h"

static enum cs_err
add_nid(struct cs_ctx *ctx, X509 *x, X509V3_CTX *v3, int nid, const char *v)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, v);

	if (e == NULL || !X509_add_ext(x, e, -1)) {
		X509_EXTENSION_free(e);
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "extension %s",
		    OBJ_nid2sn(nid));
	}
	X509_EXTENSION_free(e);
	return CS_OK;
}

static enum cs_err
add_permanent_id(struct cs_ctx *ctx, GENERAL_NAMES *gens, uint64_t serial)
{
	unsigned char der[64];
	char digits[24];
	ASN1_OBJECT *oid = NULL;
	ASN1_STRING *seq = NULL;
	ASN1_TYPE *val = NULL;
	GENERAL_NAME *g = NULL;
	size_t n;
	enum cs_err r = CS_ERR_INTERNAL;

	/* RFC 4043: PermanentIdentifier ::= SEQUENCE { identifierValue
	 * UTF8String OPTIONAL, assigner OID OPTIONAL } */
	snprintf(digits, sizeof(digits), "%llu", (unsigned long long)serial);
	n = strlen(digits);
	der[0] = 0x30;
	der[1] = (unsigned char)(n + 2);
	der[2] = 0x0c;
	der[3] = (unsigned char)n;
	memcpy(der + 4, digits, n);
	if ((oid = OBJ_txt2obj(CSA_OID_PERMANENT_ID, 1)) == NULL ||
	    (seq = ASN1_STRING_new()) == NULL ||
	    !ASN1_STRING_set(seq, der, (int)(n + 4)) ||
	    (val = ASN1_TYPE_new()) == NULL)
		goto fail;
	ASN1_TYPE_set(val, V_ASN1_SEQUENCE, seq);
	seq = NULL;
	if ((g = GENERAL_NAME_new()) == NULL ||
	    !GENERAL_NAME_set0_othername(g, oid, val))
		goto fail;
	oid = NULL;
	val = NULL;
	if (!sk_GENERAL_NAME_push(gens, g))
		goto fail;
	return CS_OK;
fail:
	r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "permanentIdentifier");
	GENERAL_NAME_free(g);
	ASN1_TYPE_free(val);
	ASN1_STRING_free(seq);
	ASN1_OBJECT_free(oid);
	return r;
}

static enum cs_err
add_san(struct cs_ca *ca, X509 *x, X509V3_CTX *v3,
    const struct csa_profile_view *pv, const struct cs_ca_decision *d,
    const struct csa_vars *vs)
{
	char text[CSA_TMPL_OUT_MAX];
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *g, *dup = NULL;
	X509_EXTENSION *e = NULL;
	bool pid = pv->info->permanent_identifier && d->has_card_serial &&
	    d->proven == CS_CA_LEVEL_HW_ATTESTED;
	int crit = X509_NAME_entry_count(X509_get_subject_name(x)) == 0;
	int i, j;
	enum cs_err r = CS_ERR_INTERNAL;

	if (pv->san_tmpl == NULL && !pid && sk_GENERAL_NAME_num(vs->take) <= 0)
		return CS_OK;
	if (pv->san_tmpl != NULL) {
		if ((r = csa_tmpl_expand(ca->ctx, pv->info->name, pv->san_tmpl,
		         vs, CSA_TMPL_SAN, text, sizeof(text))) != CS_OK)
			return r;
		if ((e = X509V3_EXT_conf_nid(NULL, v3, NID_subject_alt_name,
		         text)) == NULL ||
		    (gens = X509V3_EXT_d2i(e)) == NULL) {
			r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_POLICY,
			    "profile %s: "
			    "subjectAltName '%.80s'",
			    pv->info->name, text);
			goto out;
		}
	} else if ((gens = GENERAL_NAMES_new()) == NULL) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_NOMEM, "subjectAltName");
		goto out;
	}
	/* The CSR's entries the profile allows, once each. */
	for (i = 0; i < sk_GENERAL_NAME_num(vs->take); i++) {
		g = sk_GENERAL_NAME_value(vs->take, i);
		for (j = 0; j < sk_GENERAL_NAME_num(gens); j++)
			if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(gens, j),
			        g) == 0)
				break;
		if (j < sk_GENERAL_NAME_num(gens))
			continue;
		if ((dup = GENERAL_NAME_dup(g)) == NULL ||
		    !sk_GENERAL_NAME_push(gens, dup)) {
			GENERAL_NAME_free(dup);
			r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_NOMEM,
			    "subjectAltName");
			goto out;
		}
	}
	if (pid &&
	    (r = add_permanent_id(ca->ctx, gens, d->card_serial)) != CS_OK)
		goto out;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, crit,
	        X509V3_ADD_REPLACE) != 1) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO,
		    "subjectAltName");
		goto out;
	}
	r = CS_OK;
out:
	GENERAL_NAMES_free(gens);
	X509_EXTENSION_free(e);
	return r;
}

static enum cs_err
add_marker(struct cs_ca *ca, X509 *x, enum cs_ca_level level)
{
	char oid[CS_CA_OID_MAX];
	const char *name = cs_ca_level_name(level);
	unsigned char der[64];
	size_t n = strlen(name);
	ASN1_OCTET_STRING *os = NULL;
	ASN1_OBJECT *o = NULL;
	X509_EXTENSION *e = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	snprintf(oid, sizeof(oid), "%.118s%s", ca->arc, CSA_SUFFIX_MARKER);
	der[0] = 0x0c; /* UTF8String level name */
	der[1] = (unsigned char)n;
	memcpy(der + 2, name, n);
	if ((o = OBJ_txt2obj(oid, 1)) == NULL ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, der, (int)(n + 2)) ||
	    (e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os)) == NULL ||
	    !X509_add_ext(x, e, -1))
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO,
		    "marker extension");
	else
		r = CS_OK;
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
	return r;
}

static enum cs_err
set_validity(struct cs_ca *ca, X509 *x, const X509 *signer, int64_t at,
    unsigned int days)
{
	ASN1_TIME *nb = NULL, *na = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((nb = ASN1_TIME_adj(NULL, (time_t)at, 0, -300)) == NULL ||
	    (na = ASN1_TIME_adj(NULL, (time_t)at, (int)days, 0)) == NULL) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "validity");
		goto out;
	}
	/* Never outlive or predate the issuing CA. */
	if (ASN1_TIME_compare(nb, X509_get0_notBefore(signer)) < 0)
		X509_set1_notBefore(x, X509_get0_notBefore(signer));
	else
		X509_set1_notBefore(x, nb);
	if (ASN1_TIME_compare(na, X509_get0_notAfter(signer)) > 0)
		X509_set1_notAfter(x, X509_get0_notAfter(signer));
	else
		X509_set1_notAfter(x, na);
	r = CS_OK;
out:
	ERR_clear_error();
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return r;
}

static enum cs_err
set_subject(struct cs_ca *ca, X509 *x, X509_REQ *csr,
    const struct csa_profile_view *pv, const struct csa_vars *vs)
{
	char text[CSA_TMPL_OUT_MAX];
	X509_NAME *n = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (pv->subject_tmpl == NULL) {
		if (!X509_set_subject_name(x, X509_REQ_get_subject_name(csr)))
			return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO,
			    "subject");
		return CS_OK;
	}
	if ((r = csa_tmpl_expand(ca->ctx, pv->info->name, pv->subject_tmpl, vs,
	         CSA_TMPL_SUBJECT, text, sizeof(text))) != CS_OK ||
	    (r = cs_x509_name_parse(ca->ctx, text, &n)) != CS_OK)
		return r;
	if (!X509_set_subject_name(x, n))
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "subject");
	X509_NAME_free(n);
	return r;
}

static enum cs_err
new_serial(struct cs_ca *ca, X509 *x, char *hex, size_t cap)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	/* 128 bits from the CSPRNG; top bits 01 keep it positive and 127
	 * bits long, leaving 126 random bits (CA/B BR 7.1: >= 64). */
	if (RAND_bytes(b, sizeof(b)) != 1)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "serial");
	b[0] = (unsigned char)((b[0] & 0x3f) | 0x40);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "serial");
	else {
		csa_serial_hex(X509_get0_serialNumber(x), hex, cap);
		r = CS_OK;
	}
	BN_free(bn);
	return r;
}

/*
 * The extensions under the CA's arc (level map, marker) are the CA's
 * alone: a profile line "<arc>.2.2 = ASN1:UTF8String:..." must not forge a
 * level marker.
 */
static enum cs_err
check_arc_exts(struct cs_ca *ca, const X509 *x, const char *pname)
{
	char oid[CS_CA_OID_MAX];
	const ASN1_OBJECT *o;
	int i;

	/* Compared as OIDs: ca.cnf may spell the arc non-canonically. */
	for (i = 0; i < X509_get_ext_count(x); i++) {
		o = X509_EXTENSION_get_object(X509_get_ext(x, i));
		if (!csa_oid_under(o, ca->arc))
			continue;
		if (OBJ_obj2txt(oid, sizeof(oid), o, 1) <= 0)
			snprintf(oid, sizeof(oid), "?");
		ERR_clear_error();
		return cs_ctx_fail(ca->ctx, CS_ERR_POLICY,
		    "profile %s: extension %s is under the CA's arc "
		    "and set by the CA only",
		    pname, oid);
	}
	return CS_OK;
}

static enum cs_err
build_tbs(struct cs_ca *ca, const struct cs_ca_issue_req *req, X509_REQ *csr,
    const struct cs_ca_decision *d, const X509 *signer, int64_t at,
    struct cs_ca_issue_res *res, X509 **out)
{
	struct csa_profile_view pv;
	struct csa_vars vs;
	X509V3_CTX v3;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	csa_profile_view(req->profile, &pv);
	if ((r = csa_vars_build(ca->ctx, req, csr, d, &pv, res, &vs)) != CS_OK)
		goto out;
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(signer)) ||
	    !X509_set_pubkey(x, X509_REQ_get0_pubkey(csr))) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "certificate");
		goto out;
	}
	if ((r = set_subject(ca, x, csr, &pv, &vs)) != CS_OK ||
	    (r = set_validity(ca, x, signer, at, pv.info->validity_days)) !=
	        CS_OK)
		goto out;
	X509V3_set_ctx(&v3, (X509 *)signer, x, csr, NULL, 0);
	X509V3_set_nconf(&v3, pv.conf);
	if (!X509V3_EXT_add_nconf(pv.conf, &v3, pv.ext_section, x)) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_POLICY,
		    "profile %s: [%s]", pv.info->name, pv.ext_section);
		goto out;
	}
	if ((r = check_arc_exts(ca, x, pv.info->name)) != CS_OK)
		goto out;
	if ((X509_get_ext_by_NID(x, NID_subject_key_identifier, -1) < 0 &&
	        (r = add_nid(ca->ctx, x, &v3, NID_subject_key_identifier,
	             "hash")) != CS_OK) ||
	    (X509_get_ext_by_NID(x, NID_authority_key_identifier, -1) < 0 &&
	        (r = add_nid(ca->ctx, x, &v3, NID_authority_key_identifier,
	             "keyid:always")) != CS_OK) ||
	    (r = csa_add_policies(ca->ctx, x, d->policy_oid)) != CS_OK ||
	    (r = add_san(ca, x, &v3, &pv, d, &vs)) != CS_OK ||
	    (pv.info->marker && (r = add_marker(ca, x, d->level)) != CS_OK))
		goto out;
	*out = x;
	x = NULL;
	r = CS_OK;
out:
	csa_vars_release(&vs);
	X509_free(x);
	return r;
}

void
cs_ca_issue_res_release(struct cs_ca_issue_res *res)
{
	if (res == NULL)
		return;
	cs_free(res->der);
	free(res->dropped);
	memset(res, 0, sizeof(*res));
}

static void
fw_text(const struct cs_ca_decision *d, char *dst, size_t cap)
{
	if (d->has_firmware)
		snprintf(dst, cap, "%u.%u.%u", d->firmware[0], d->firmware[1],
		    d->firmware[2]);
	else
		dst[0] = '\0';
}

/* A signed certificate waiting for its registry commit. */
struct signed_cert {
	struct csa_row row;
	struct csa_evidence ev;
	char subject[CS_CA_NAME_MAX], fw[16], profile[64];
	char sublevel[CS_CA_SUBLEVEL_NAME_MAX];
	char key_hash[CSA_KEY_HASH_MAX];
};

/*
 * A key once revoked stays refused whatever the profile, subject or
 * level of the new request (keyCompromise always, other reasons without
 * CS_CA_ISSUE_ALLOW_REVOKED_KEY); checked before a serial is reserved,
 * and again when the row is stored.
 */
static enum cs_err
check_key(struct cs_ca *ca, const struct cs_ca_issue_req *req, X509_REQ *csr,
    char hex[CSA_KEY_HASH_MAX])
{
	if (!csa_key_hash(X509_REQ_get0_pubkey(csr), hex))
		return cs_ctx_fail(ca->ctx, CS_ERR_CRYPTO,
		    "CSR public key: cannot encode it");
	return ca->store->ops->key_check(ca->store, hex,
	    (req->flags & CS_CA_ISSUE_ALLOW_REVOKED_KEY) != 0);
}

/*
 * Everything up to and including the signature: assess, build, lint,
 * take a reserved serial, sign. On success res->der is set and *sc holds
 * the row to commit (its evidence owned by sc).
 */
static enum cs_err
issue_one(struct cs_ca *ca, const struct cs_ca_issue_req *req,
    struct cs_ca_issue_res *res, struct signed_cert *sc)
{
	struct csa_evidence ev = { NULL, NULL, 0, 0 };
	struct cs_ca_decision *d = &res->decision;
	struct cs_ca_profile_info pi;
	X509_REQ *csr = NULL;
	X509 *x = NULL;
	enum csa_signer s = CSA_SIGNER_ISSUING;
	char findings[CS_CA_REASON_MAX];
	int64_t now = req->at != 0 ? req->at : (int64_t)time(NULL);
	enum cs_err r = CS_ERR_INTERNAL;

	memset(res, 0, sizeof(*res));
	memset(sc, 0, sizeof(*sc));
	if ((r = csa_csr_decode(ca->ctx, req->csr, req->csr_len, &csr)) !=
	    CS_OK) {
		snprintf(d->reason, sizeof(d->reason), "%s",
		    cs_ctx_errmsg(ca->ctx));
		goto out;
	}
	if ((r = check_key(ca, req, csr, sc->key_hash)) != CS_OK ||
	    (r = csa_assess(ca, req, csr, d, &ev)) != CS_OK)
		goto out;
	if (d->level >= CS_CA_LEVEL_HW_ENROLLED &&
	    ca->signer_cert[CSA_SIGNER_HW] != NULL)
		s = CSA_SIGNER_HW;
	/* A placeholder serial of full size for the lint; the reserved one
	 * replaces it only when we are about to sign. */
	if ((r = build_tbs(ca, req, csr, d, ca->signer_cert[s], now, res,
	         &x)) != CS_OK ||
	    (r = new_serial(ca, x, res->serial, sizeof(res->serial))) != CS_OK)
		goto out;
	if ((r = csa_lint(ca->ctx, x, ca->signer_cert[s],
	         ca->oid_arcs != CS_CA_OID_ARCS_SHORT ? CS_CA_LINT_LONG_OID_ARCS
	                                              : 0,
	         findings, sizeof(findings))) != CS_OK) {
		snprintf(d->reason, sizeof(d->reason), "lint: %.500s",
		    findings);
		goto out;
	}
	if (req->flags & CS_CA_ISSUE_DRYRUN) {
		res->serial[0] = '\0'; /* nothing reserved */
		r = CS_OK;
		goto out;
	}
	if (!csa_sign_ready(ca, s)) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "CA is locked (no "
		    "passphrase given)");
		goto out;
	}
	cs_ca_profile_get_info(req->profile, &pi);
	if ((r = csa_pool_take(ca, x, now, res->serial, sizeof(res->serial))) !=
	    CS_OK)
		goto out;
	if ((r = csa_sign_cert(ca, s, x, &res->der, &res->der_len)) != CS_OK) {
		const char *one[1] = { res->serial };

		(void)ca->store->ops->abandon(ca->store, one, 1,
		    "signing failed", now);
		goto out;
	}
	csa_name_line(X509_get_subject_name(x), sc->subject,
	    sizeof(sc->subject));
	fw_text(d, sc->fw, sizeof(sc->fw));
	snprintf(sc->profile, sizeof(sc->profile), "%s", pi.name);
	snprintf(sc->sublevel, sizeof(sc->sublevel), "%s", d->sublevel);
	sc->ev = ev;
	memset(&ev, 0, sizeof(ev));
	sc->row = (struct csa_row){ res->serial, d->level, s, sc->profile,
		sc->subject, csa_asn1_time(X509_get0_notBefore(x)),
		csa_asn1_time(X509_get0_notAfter(x)), d->slot,
		d->has_card_serial, d->card_serial, sc->fw, sc->sublevel,
		sc->ev.stmt, sc->ev.f9, sc->ev.stmt_len, sc->ev.f9_len,
		sc->key_hash,
		(req->flags & CS_CA_ISSUE_ALLOW_REVOKED_KEY) != 0 };
	res->signer = s == CSA_SIGNER_HW ? "hw-issuing" : "issuing";
	r = CS_OK;
out:
	if (r != CS_OK) {
		cs_free(res->der);
		res->der = NULL;
		res->der_len = 0;
		free(res->dropped);
		res->dropped = NULL;
		res->ndropped = res->dropped_more = 0;
		if (d->reason[0] == '\0')
			snprintf(d->reason, sizeof(d->reason), "%s",
			    cs_ctx_errmsg(ca->ctx));
	}
	csa_evidence_release(&ev);
	X509_free(x);
	X509_REQ_free(csr);
	return r;
}

enum cs_err
cs_ca_issue(struct cs_ca *ca, const struct cs_ca_issue_req *req,
    struct cs_ca_issue_res *res)
{
	struct signed_cert sc;
	const uint8_t *der;
	int64_t now = req->at != 0 ? req->at : (int64_t)time(NULL);
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = issue_one(ca, req, res, &sc)) != CS_OK || res->der == NULL)
		goto out;
	sc.row.serial = res->serial;
	der = res->der;
	if ((r = ca->store->ops->commit(ca->store, &sc.row, &der, &res->der_len,
	         1, now)) != CS_OK) {
		/* Not stored, so never handed out; reconcile voids the row. */
		cs_free(res->der);
		res->der = NULL;
		res->der_len = 0;
		snprintf(res->decision.reason, sizeof(res->decision.reason),
		    "%s", cs_ctx_errmsg(ca->ctx));
	}
out:
	csa_evidence_release(&sc.ev);
	return r;
}

enum cs_err
cs_ca_issue_batch(struct cs_ca *ca, const struct cs_ca_issue_req *reqs,
    size_t n, struct cs_ca_issue_res *res, enum cs_err *errs, size_t *issued)
{
	struct signed_cert *sc = NULL;
	struct csa_row *rows = NULL;
	const uint8_t **ders = NULL;
	size_t *lens = NULL, *idx = NULL, i, k = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*issued = 0;
	if (n == 0 || n > CSA_POOL_MAX)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG, "batch of %zu (1..%d)",
		    n, CSA_POOL_MAX);
	if ((sc = calloc(n, sizeof(*sc))) == NULL ||
	    (rows = calloc(n, sizeof(*rows))) == NULL ||
	    (ders = calloc(n, sizeof(*ders))) == NULL ||
	    (lens = calloc(n, sizeof(*lens))) == NULL ||
	    (idx = calloc(n, sizeof(*idx))) == NULL) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_NOMEM, "batch");
		goto out;
	}
	for (i = 0; i < n; i++) {
		errs[i] = issue_one(ca, &reqs[i], &res[i], &sc[i]);
		if (errs[i] != CS_OK || res[i].der == NULL)
			continue;
		sc[i].row.serial = res[i].serial;
		rows[k] = sc[i].row;
		ders[k] = res[i].der;
		lens[k] = res[i].der_len;
		idx[k++] = i;
	}
	r = CS_OK;
	if (k > 0 &&
	    (r = ca->store->ops->commit(ca->store, rows, ders, lens, k,
	         (int64_t)time(NULL))) != CS_OK)
		for (i = 0; i < k; i++) {
			errs[idx[i]] = r;
			cs_free(res[idx[i]].der);
			res[idx[i]].der = NULL;
			res[idx[i]].der_len = 0;
		}
	else
		*issued = k;
out:
	for (i = 0; sc != NULL && i < n; i++)
		csa_evidence_release(&sc[i].ev);
	free(sc);
	free(rows);
	free(ders);
	free(lens);
	free(idx);
	return r;
}
