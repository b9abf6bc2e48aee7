/*
 * Relying-party verifier: what a gateway calls to accept only hardware
 * certificates. Two independent checks must both pass:
 *
 * 1. OpenSSL path validation with explicit policy required
 *    (X509_V_FLAG_EXPLICIT_POLICY | X509_V_FLAG_POLICY_CHECK) for the
 *    level's OID, plus CRL checking when CRLs are loaded.
 * 2. The leaf's own certificatePolicies contains that OID and does not
 *    contain anyPolicy: RFC 5280 6.1 lets anyPolicy in a leaf satisfy any
 *    required policy, so path validation alone would accept a leaf that
 *    claims "anything" (field-notes: what gateways can check).
 *
 * The level → OID map comes from the issuing CA certificate's
 * <arc>.2.1 extension, so no CA directory is needed here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

#include "banned.h"

struct cs_verifier {
	struct cs_ctx *ctx;
	X509_STORE *store;
	STACK_OF(X509) * untrusted;
	STACK_OF(X509) * cas;
	STACK_OF(X509_CRL) * crls;
	char policy[CS_CA_OID_MAX];
};

enum cs_err
cs_verify_new(struct cs_ctx *ctx, struct cs_verifier **out)
{
	struct cs_verifier *v;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "verifier");
	v->ctx = ctx;
	if ((v->store = X509_STORE_new()) == NULL ||
	    (v->untrusted = sk_X509_new_null()) == NULL ||
	    (v->cas = sk_X509_new_null()) == NULL ||
	    (v->crls = sk_X509_CRL_new_null()) == NULL) {
		cs_verify_free(v);
		return cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "verifier");
	}
	*out = v;
	return CS_OK;
}

void
cs_verify_free(struct cs_verifier *v)
{
	if (v == NULL)
		return;
	X509_STORE_free(v->store);
	sk_X509_pop_free(v->untrusted, X509_free);
	sk_X509_pop_free(v->cas, X509_free);
	sk_X509_CRL_pop_free(v->crls, X509_CRL_free);
	free(v);
}

enum cs_err
cs_verify_add_chain(struct cs_verifier *v, const uint8_t *bytes, size_t len)
{
	STACK_OF(X509) *sk = NULL;
	X509 *x;
	int i;
	enum cs_err r;

	if ((r = csa_certs_decode(v->ctx, "CA chain", bytes, len, &sk)) !=
	    CS_OK)
		return r;
	for (i = 0; i < sk_X509_num(sk); i++) {
		x = sk_X509_value(sk, i);
		if (!X509_up_ref(x) || !sk_X509_push(v->cas, x)) {
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "CA chain");
			goto out;
		}
		if (X509_check_issued(x, x) == X509_V_OK) {
			if (!X509_STORE_add_cert(v->store, x)) {
				r = cs_ctx_fail_crypto(v->ctx, CS_ERR_CRYPTO,
				    "CA chain: anchor");
				goto out;
			}
		} else if (!X509_up_ref(x) || !sk_X509_push(v->untrusted, x)) {
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "CA chain");
			goto out;
		}
	}
	r = CS_OK;
out:
	ERR_clear_error();
	sk_X509_pop_free(sk, X509_free);
	return r;
}

enum cs_err
cs_verify_add_crl(struct cs_verifier *v, const uint8_t *bytes, size_t len)
{
	const unsigned char *q = bytes;
	X509_CRL *c;
	BIO *b = NULL;
	int n = 0;
	enum cs_err r = CS_OK;

	if (bytes == NULL || len == 0 || len > CSA_FILE_MAX)
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED, "CRL: bad length");
	if (bytes[0] == 0x30) {
		if ((c = d2i_X509_CRL(NULL, &q, (long)len)) == NULL ||
		    !sk_X509_CRL_push(v->crls, c)) {
			X509_CRL_free(c);
			return cs_ctx_fail_crypto(v->ctx, CS_ERR_MALFORMED,
			    "CRL: not DER");
		}
		return CS_OK;
	}
	if ((b = BIO_new_mem_buf(bytes, (int)len)) == NULL)
		return cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "CRL");
	while ((c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_CRL_push(v->crls, c)) {
			X509_CRL_free(c);
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "CRL");
			break;
		}
		n++;
	}
	ERR_clear_error();
	BIO_free(b);
	if (r == CS_OK && n == 0)
		r = cs_ctx_fail(v->ctx, CS_ERR_MALFORMED, "CRL: none found");
	return r;
}

enum cs_err
cs_verify_set_policy(struct cs_verifier *v, const char *oid)
{
	ASN1_OBJECT *o;

	if (oid == NULL || strlen(oid) >= sizeof(v->policy) ||
	    (o = OBJ_txt2obj(oid, 1)) == NULL) {
		ERR_clear_error();
		return cs_ctx_fail(v->ctx, CS_ERR_ARG,
		    "policy '%.64s' is not an "
		    "OID",
		    oid != NULL ? oid : "");
	}
	ASN1_OBJECT_free(o);
	if (strcmp(oid, "2.5.29.32.0") == 0)
		return cs_ctx_fail(v->ctx, CS_ERR_ARG,
		    "anyPolicy cannot be required");
	snprintf(v->policy, sizeof(v->policy), "%s", oid);
	return CS_OK;
}

static enum cs_err deny(struct cs_verifier *v, struct cs_verify_result *res,
    enum cs_err code, const char *fmt, ...) CS_PRINTF(4, 5);

static enum cs_err
deny(struct cs_verifier *v, struct cs_verify_result *res, enum cs_err code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	res->accepted = false;
	return cs_ctx_fail(v->ctx, code, "%s", res->reason);
}

/* Level map of the CA that issued leaf (by name), if any. */
static bool
issuer_map(const struct cs_verifier *v, const X509 *leaf,
    char oids[][CS_CA_OID_MAX])
{
	const X509 *c;
	int i;

	for (i = 0; i < sk_X509_num(v->cas); i++) {
		c = sk_X509_value(v->cas, i);
		if (X509_NAME_cmp(X509_get_subject_name(c),
		        X509_get_issuer_name(leaf)) == 0 &&
		    csa_levelmap_read(c, oids))
			return true;
	}
	return false;
}

static enum cs_err
path_check(struct cs_verifier *v, X509 *leaf, const char *oid, int64_t at,
    struct cs_verify_result *res)
{
	X509_STORE_CTX *sc = NULL;
	X509_VERIFY_PARAM *pm;
	ASN1_OBJECT *o = NULL;
	unsigned long fl = 0;
	int err;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((sc = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(sc, v->store, leaf, v->untrusted)) {
		r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "verify");
		goto out;
	}
	pm = X509_STORE_CTX_get0_param(sc);
	if (oid != NULL) {
		if ((o = OBJ_txt2obj(oid, 1)) == NULL ||
		    !X509_VERIFY_PARAM_add0_policy(pm, o)) {
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_CRYPTO, "policy");
			goto out;
		}
		o = NULL;
		fl |= X509_V_FLAG_EXPLICIT_POLICY | X509_V_FLAG_POLICY_CHECK;
	}
	if (sk_X509_CRL_num(v->crls) > 0) {
		X509_STORE_CTX_set0_crls(sc, v->crls);
		fl |= X509_V_FLAG_CRL_CHECK;
	}
	X509_VERIFY_PARAM_set_flags(pm, fl);
	if (at != 0)
		X509_VERIFY_PARAM_set_time(pm, (time_t)at);
	if (X509_verify_cert(sc) != 1) {
		err = X509_STORE_CTX_get_error(sc);
		r = deny(v, res, CS_ERR_VERIFY, "chain: %s%s",
		    X509_verify_cert_error_string(err),
		    err == X509_V_ERR_NO_EXPLICIT_POLICY
		        ? " (a CA in the chain "
		          "does not assert the policy)"
		        : "");
		goto out;
	}
	r = CS_OK;
out:
	ERR_clear_error();
	ASN1_OBJECT_free(o);
	X509_STORE_CTX_free(sc);
	return r;
}

/*
 * Which OID the leaf must carry (*need, NULL for none); CS_ERR_POLICY with
 * the reason in res->reason (not yet in ctx) when it cannot pass.
 */
static enum cs_err
policy_need(struct cs_verifier *v, const X509 *leaf, enum cs_ca_level require,
    bool anyp, bool mapped, char oids[][CS_CA_OID_MAX],
    struct cs_verify_result *res, const char **need)
{
	*need = NULL;
	(void)oids;
	if (v->policy[0] != '\0') {
		if (anyp) {
			snprintf(res->reason, sizeof(res->reason),
			    "leaf "
			    "asserts anyPolicy; policy %s must be the leaf's "
			    "own",
			    v->policy);
			return CS_ERR_POLICY;
		}
		if (!csa_has_policy(leaf, v->policy, NULL)) {
			snprintf(res->reason, sizeof(res->reason),
			    "leaf does "
			    "not assert policy %s",
			    v->policy);
			return CS_ERR_POLICY;
		}
		snprintf(res->policy_oid, sizeof(res->policy_oid), "%s",
		    v->policy);
		*need = v->policy;
		return CS_OK;
	}
	if (require == CS_CA_LEVEL_NONE)
		return CS_OK;
	if (anyp) {
		snprintf(res->reason, sizeof(res->reason),
		    "leaf asserts "
		    "anyPolicy, which never satisfies a %s check",
		    cs_ca_level_name(require));
		return CS_ERR_POLICY;
	}
	if (!mapped) {
		snprintf(res->reason, sizeof(res->reason),
		    "the issuing CA "
		    "carries no cardsmith level map; give the policy OID");
		return CS_ERR_POLICY;
	}
	if (res->level < require) {
		snprintf(res->reason, sizeof(res->reason),
		    "leaf is %s%s%s%s; "
		    "%s required",
		    cs_ca_level_name(res->level),
		    res->policy_oid[0] ? " (policy " : "", res->policy_oid,
		    res->policy_oid[0] ? ")" : "", cs_ca_level_name(require));
		return CS_ERR_POLICY;
	}
	*need = res->policy_oid;
	return CS_OK;
}

enum cs_err
cs_verify_cert(struct cs_verifier *v, const uint8_t *cert, size_t len,
    enum cs_ca_level require, int64_t at, struct cs_verify_result *res)
{
	char oids[CS_CA_LEVEL_COUNT][CS_CA_OID_MAX];
	char why[CS_CA_REASON_MAX];
	const char *need = NULL;
	X509 *leaf = NULL;
	bool anyp = false, mapped;
	int i;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(res, 0, sizeof(*res));
	memset(oids, 0, sizeof(oids));
	if ((r = csa_cert_decode(v->ctx, "certificate", cert, len, &leaf)) !=
	    CS_OK) {
		snprintf(res->reason, sizeof(res->reason), "%s",
		    cs_ctx_errmsg(v->ctx));
		return r;
	}
	csa_name_line(X509_get_subject_name(leaf), res->subject,
	    sizeof(res->subject));
	csa_name_line(X509_get_issuer_name(leaf), res->issuer,
	    sizeof(res->issuer));
	csa_serial_hex(X509_get0_serialNumber(leaf), res->serial,
	    sizeof(res->serial));
	mapped = issuer_map(v, leaf, oids);
	for (i = CS_CA_LEVEL_COUNT - 1; i >= 1 && mapped; i--)
		if (oids[i][0] != '\0' && csa_has_policy(leaf, oids[i], NULL)) {
			res->level = (enum cs_ca_level)i;
			snprintf(res->policy_oid, sizeof(res->policy_oid), "%s",
			    oids[i]);
			break;
		}
	(void)csa_has_policy(leaf, NULL, &anyp);
	if ((r = policy_need(v, leaf, require, anyp, mapped, oids, res,
	         &need)) != CS_OK) {
		/* A broken chain is the more basic reason: report it first. */
		snprintf(why, sizeof(why), "%s", res->reason);
		if (path_check(v, leaf, NULL, at, res) != CS_OK)
			r = CS_ERR_VERIFY;
		else
			r = deny(v, res, r, "%s", why);
		goto out;
	}
	if ((r = path_check(v, leaf, need, at, res)) != CS_OK)
		goto out;
	res->accepted = true;
	snprintf(res->reason, sizeof(res->reason), "%s%s%s",
	    need != NULL ? "chain, explicit policy " : "chain valid",
	    need != NULL ? need : "",
	    sk_X509_CRL_num(v->crls) > 0 ? " and CRL ok" : "");
	r = CS_OK;
out:
	X509_free(leaf);
	return r;
}
