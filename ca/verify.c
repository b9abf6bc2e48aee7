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
 * <arc>.2.1 extension, so no CA directory is needed here; the issuing CA
 * is the one path validation chose (two CAs may share a name). Sub-levels of
 * hardware-attested are listed there with their parent and PIN/touch
 * minimums: a sub-level leaf satisfies its parent (and the OID checked is
 * the sub-level's, which the CA asserts), and a required sub-level is met
 * by itself or a stricter one.
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
	char sublevel[CS_CA_SUBLEVEL_NAME_MAX]; /* required, "" for none */
};

/* The issuing CA's level map: level OIDs and sub-levels. */
struct lmap {
	char oids[CS_CA_LEVEL_COUNT][CS_CA_OID_MAX];
	struct cs_ca_sublevel subs[CS_CA_SUBLEVEL_MAX];
	size_t nsubs;
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
	if (csa_oid_is_any_policy(oid))
		return cs_ctx_fail(v->ctx, CS_ERR_ARG,
		    "anyPolicy cannot be required");
	snprintf(v->policy, sizeof(v->policy), "%s", oid);
	return CS_OK;
}

enum cs_err
cs_verify_require_sublevel(struct cs_verifier *v, const char *name)
{
	if (name == NULL || !csa_sublevel_name_ok(name))
		return cs_ctx_fail(v->ctx, CS_ERR_ARG,
		    "'%.40s' is not a sub-level name",
		    name != NULL ? name : "");
	snprintf(v->sublevel, sizeof(v->sublevel), "%s", name);
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

/* Level map of the CA certificate that issued the leaf, if any. */
static bool
issuer_map(const X509 *issuer, struct lmap *m)
{
	if (issuer == NULL || !csa_levelmap_read(issuer, m->oids))
		return false;
	csa_levelmap_subs(issuer, m->subs, CS_CA_SUBLEVEL_MAX, &m->nsubs);
	return true;
}

/* The leaf's level (and sub-level) from the policies it asserts. */
static void
leaf_level(const X509 *leaf, const struct lmap *m, struct cs_verify_result *res)
{
	size_t k;
	int i;

	/* A sub-level OID names its parent level too (ca/README.md). */
	for (k = 0; k < m->nsubs; k++)
		if (csa_has_policy(leaf, m->subs[k].oid, NULL)) {
			res->level = m->subs[k].parent;
			snprintf(res->sublevel, sizeof(res->sublevel), "%s",
			    m->subs[k].name);
			snprintf(res->policy_oid, sizeof(res->policy_oid), "%s",
			    m->subs[k].oid);
			return;
		}
	for (i = CS_CA_LEVEL_COUNT - 1; i >= 1; i--)
		if (m->oids[i][0] != '\0' &&
		    csa_has_policy(leaf, m->oids[i], NULL)) {
			res->level = (enum cs_ca_level)i;
			snprintf(res->policy_oid, sizeof(res->policy_oid), "%s",
			    m->oids[i]);
			return;
		}
}

static const struct cs_ca_sublevel *
find_sub(const struct lmap *m, const char *name)
{
	size_t k;

	for (k = 0; k < m->nsubs; k++)
		if (strcmp(m->subs[k].name, name) == 0)
			return &m->subs[k];
	return NULL;
}

/* A required sub-level: the leaf's must be it or stricter. */
static enum cs_err
sublevel_need(const struct cs_verifier *v, const struct lmap *m,
    struct cs_verify_result *res)
{
	const struct cs_ca_sublevel *want, *have;

	if ((want = find_sub(m, v->sublevel)) == NULL) {
		snprintf(res->reason, sizeof(res->reason),
		    "the issuing CA defines no sub-level %s", v->sublevel);
		return CS_ERR_POLICY;
	}
	have = res->sublevel[0] != '\0' ? find_sub(m, res->sublevel) : NULL;
	if (have == NULL || !csa_sublevel_covers(have, want)) {
		snprintf(res->reason, sizeof(res->reason),
		    "leaf is %s%s%s%s%s%s; sub-level %s required",
		    cs_ca_level_name(res->level), have != NULL ? " " : "",
		    have != NULL ? have->name : "",
		    res->policy_oid[0] ? " (policy " : "", res->policy_oid,
		    res->policy_oid[0] ? ")" : "", v->sublevel);
		return CS_ERR_POLICY;
	}
	return CS_OK;
}

/*
 * Validate the path (explicit policy oid unless NULL). *issuer (may be
 * NULL): the validated chain's certificate above the leaf, caller frees.
 */
static enum cs_err
path_check(struct cs_verifier *v, X509 *leaf, const char *oid, int64_t at,
    struct cs_verify_result *res, X509 **issuer)
{
	STACK_OF(X509) *chain;
	X509_STORE_CTX *sc = NULL;
	X509_VERIFY_PARAM *pm;
	ASN1_OBJECT *o = NULL;
	unsigned long fl = 0;
	int err;
	enum cs_err r = CS_ERR_INTERNAL;

	if (issuer != NULL)
		*issuer = NULL;
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
	/* Element 0 is the leaf; a self-signed leaf has no element 1. */
	chain = X509_STORE_CTX_get0_chain(sc);
	if (issuer != NULL && sk_X509_num(chain) > 1 &&
	    X509_up_ref(sk_X509_value(chain, 1)))
		*issuer = sk_X509_value(chain, 1);
	r = CS_OK;
out:
	ERR_clear_error();
	ASN1_OBJECT_free(o);
	X509_STORE_CTX_free(sc);
	return r;
}

/*
 * The CA certificate of --chain that issued leaf: names/key identifiers
 * match and the leaf's signature verifies with its key. That pins the
 * level map to the CA that really signed the leaf (two cardsmith CAs may
 * share a name) at the cost of one signature check, so a single path
 * validation with the explicit policy suffices. Caller frees the result.
 */
static X509 *
find_issuer(const struct cs_verifier *v, X509 *leaf)
{
	X509 *c;
	int i;

	for (i = 0; i < sk_X509_num(v->cas); i++) {
		c = sk_X509_value(v->cas, i);
		if (X509_check_issued(c, leaf) == X509_V_OK &&
		    X509_verify(leaf, X509_get0_pubkey(c)) == 1 &&
		    X509_up_ref(c))
			return c;
	}
	ERR_clear_error();
	return NULL;
}

/*
 * Which OID the leaf must carry (*need, NULL for none); CS_ERR_POLICY with
 * the reason in res->reason (not yet in ctx) when it cannot pass.
 */
static enum cs_err
policy_need(struct cs_verifier *v, const X509 *leaf, enum cs_ca_level require,
    bool anyp, bool mapped, const struct lmap *m, struct cs_verify_result *res,
    const char **need)
{
	enum cs_err r;

	*need = NULL;
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
		/* A policy names what the leaf must assert; it never lifts
		 * a required level the issuing CA's map says is not met. */
		if (mapped && require != CS_CA_LEVEL_NONE &&
		    res->level < require) {
			snprintf(res->reason, sizeof(res->reason),
			    "leaf asserts policy %s but is %s per the issuing "
			    "CA's level map; %s required",
			    v->policy, cs_ca_level_name(res->level),
			    cs_ca_level_name(require));
			return CS_ERR_POLICY;
		}
		snprintf(res->policy_oid, sizeof(res->policy_oid), "%s",
		    v->policy);
		*need = v->policy;
		return CS_OK;
	}
	if (require == CS_CA_LEVEL_NONE && v->sublevel[0] == '\0')
		return CS_OK;
	if (anyp) {
		snprintf(res->reason, sizeof(res->reason),
		    "leaf asserts "
		    "anyPolicy, which never satisfies a %s check",
		    v->sublevel[0] != '\0' ? v->sublevel
		                           : cs_ca_level_name(require));
		return CS_ERR_POLICY;
	}
	if (!mapped) {
		snprintf(res->reason, sizeof(res->reason),
		    "the issuing CA "
		    "carries no cardsmith level map; give the policy OID");
		return CS_ERR_POLICY;
	}
	if (v->sublevel[0] != '\0') {
		if ((r = sublevel_need(v, m, res)) != CS_OK)
			return r;
	} else if (res->level < require) {
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
	struct lmap m;
	char why[CS_CA_REASON_MAX];
	const char *need = NULL;
	X509 *leaf = NULL, *issuer = NULL;
	bool anyp = false, mapped;
	enum cs_err r = CS_ERR_INTERNAL, rc;

	memset(res, 0, sizeof(*res));
	memset(&m, 0, sizeof(m));
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
	issuer = find_issuer(v, leaf);
	if ((mapped = issuer != NULL && issuer_map(issuer, &m)))
		leaf_level(leaf, &m, res);
	(void)csa_has_policy(leaf, NULL, &anyp);
	if ((r = policy_need(v, leaf, require, anyp, mapped, &m, res, &need)) !=
	    CS_OK) {
		/* A broken chain is the more basic reason: report it first. */
		snprintf(why, sizeof(why), "%s", res->reason);
		if ((rc = path_check(v, leaf, NULL, at, res, NULL)) == CS_OK)
			r = deny(v, res, r, "%s", why);
		else
			r = rc;
		goto out;
	}
	/* One validation: chain, CRL and, when a level is required, policy. */
	if ((r = path_check(v, leaf, need, at, res, NULL)) != CS_OK)
		goto out;
	res->accepted = true;
	snprintf(res->reason, sizeof(res->reason), "%s%s%s",
	    need != NULL ? "chain, explicit policy " : "chain valid",
	    need != NULL ? need : "",
	    sk_X509_CRL_num(v->crls) > 0 ? " and CRL ok" : "");
	r = CS_OK;
out:
	X509_free(issuer);
	X509_free(leaf);
	return r;
}

bool
cs_verify_policy_is_level(const struct cs_verifier *v, const char *oid,
    enum cs_ca_level level)
{
	char oids[CS_CA_LEVEL_COUNT][CS_CA_OID_MAX];
	int i;

	if (oid == NULL || (unsigned int)level >= CS_CA_LEVEL_COUNT ||
	    level == CS_CA_LEVEL_NONE)
		return false;
	for (i = 0; i < sk_X509_num(v->cas); i++) {
		memset(oids, 0, sizeof(oids));
		if (csa_levelmap_read(sk_X509_value(v->cas, i), oids) &&
		    csa_oid_eq(oids[level], oid))
			return true;
	}
	return false;
}
