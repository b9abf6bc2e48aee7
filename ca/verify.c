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
 * by itself or a stricter one. A required level is only ever met through
 * that map: an issuer without one (a foreign CA, even one asserting
 * anyPolicy) cannot establish a level, whatever policy OID is also given.
 *
 * Trust comes only from cs_verify_add_chain: self-signed CA certificates
 * there are the anchors. The certificate being verified is never trusted
 * itself: it must not be self-signed or a CA certificate, and its
 * keyUsage/extendedKeyUsage must fit the purpose (client-auth by default).
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
	enum cs_verify_purpose purpose;
};

static const char *const purpose_names[] = {
	[CS_VERIFY_PURPOSE_CLIENT_AUTH] = "client-auth",
	[CS_VERIFY_PURPOSE_SMARTCARD_LOGON] = "smartcard-logon",
	[CS_VERIFY_PURPOSE_CARD_AUTH] = "card-auth",
	[CS_VERIFY_PURPOSE_ANY] = "any",
};

#define PURPOSE_COUNT (sizeof(purpose_names) / sizeof(purpose_names[0]))
#define OID_MS_SMARTCARD_LOGON "1.3.6.1.4.1.311.20.2.2"
#define OID_PIV_CARD_AUTH "2.16.840.1.101.3.6.8"

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

/* Signed by its own key (not merely self-issued: same name, other key). */
static bool
self_signed(X509 *x)
{
	bool ok;

	ok = X509_NAME_cmp(X509_get_subject_name(x),
	         X509_get_issuer_name(x)) == 0 &&
	    X509_verify(x, X509_get0_pubkey(x)) == 1;
	ERR_clear_error();
	return ok;
}

/* --- reading --chain and --crl: every PEM block, or one DER object --- */

/* A decoded PEM block: what it is, where it is, its DER. */
struct pemblock {
	const char *what; /* "CA chain", "CRL" */
	int n, line; /* 1-based: block number, line of its BEGIN */
	const char *label;
	const unsigned char *der;
	long len;
};

typedef enum cs_err pem_block_fn(struct cs_verifier *v,
    const struct pemblock *b, void *arg);

static const uint8_t *
line_end(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl + 1 : end;
}

static bool
line_is(const uint8_t *p, const uint8_t *e, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(e - p) >= n && cs_memeq_public(p, prefix, n);
}

/*
 * Call fn for each PEM block of [p, p + len): a line starting with
 * "-----BEGIN " opens one, which must end at its "-----END " line and
 * decode; text outside blocks is skipped, as OpenSSL does. A corrupt
 * block is an error naming it, never the silent end of the file.
 */
static enum cs_err
pem_each(struct cs_verifier *v, const char *what, const uint8_t *p,
    size_t len, pem_block_fn *fn, void *arg, int *count)
{
	const uint8_t *end = p + len, *ls = p, *le, *bs;
	struct pemblock blk;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	BIO *b = NULL;
	int line = 1;
	enum cs_err r = CS_ERR_INTERNAL;

	*count = 0;
	memset(&blk, 0, sizeof(blk));
	blk.what = what;
	while (ls < end) {
		le = line_end(ls, end);
		if (!line_is(ls, le, "-----BEGIN ")) {
			ls = le;
			line++;
			continue;
		}
		bs = ls;
		blk.n++;
		blk.line = line;
		while (!line_is(ls, le, "-----END ")) {
			ls = le;
			line++;
			if (ls >= end) {
				r = cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
				    "%s: PEM block %d (line %d) has no END line",
				    what, blk.n, blk.line);
				goto out;
			}
			le = line_end(ls, end);
		}
		if ((b = BIO_new_mem_buf(bs, (int)(le - bs))) == NULL) {
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "%s", what);
			goto out;
		}
		if (!PEM_read_bio(b, &name, &header, &data, &dlen) ||
		    header[0] != '\0' || dlen <= 0) {
			r = cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
			    "%s: PEM block %d (line %d) is corrupt: bad "
			    "base64, header or END line",
			    what, blk.n, blk.line);
			goto out;
		}
		blk.label = name;
		blk.der = data;
		blk.len = dlen;
		if ((r = fn(v, &blk, arg)) != CS_OK)
			goto out;
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
		BIO_free(b);
		b = NULL;
		ls = le;
		line++;
	}
	*count = blk.n;
	r = CS_OK;
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(b);
	ERR_clear_error();
	return r;
}

static enum cs_err
chain_block(struct cs_verifier *v, const struct pemblock *b, void *arg)
{
	STACK_OF(X509) *sk = arg;
	const unsigned char *q = b->der;
	X509 *x;

	if (strcmp(b->label, PEM_STRING_X509) != 0 &&
	    strcmp(b->label, PEM_STRING_X509_OLD) != 0)
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
		    "%s: PEM block %d (line %d) is a %.40s, not a "
		    "CERTIFICATE",
		    b->what, b->n, b->line, b->label);
	if ((x = d2i_X509(NULL, &q, b->len)) == NULL || q != b->der + b->len) {
		X509_free(x);
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
		    "%s: PEM block %d (line %d) is not a valid certificate",
		    b->what, b->n, b->line);
	}
	if (!sk_X509_push(sk, x)) {
		X509_free(x);
		return cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "%s", b->what);
	}
	return CS_OK;
}

static enum cs_err
crl_block(struct cs_verifier *v, const struct pemblock *b, void *arg)
{
	STACK_OF(X509_CRL) *sk = arg;
	const unsigned char *q = b->der;
	X509_CRL *c;

	if (strcmp(b->label, PEM_STRING_X509_CRL) != 0)
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
		    "%s: PEM block %d (line %d) is a %.40s, not an X509 CRL",
		    b->what, b->n, b->line, b->label);
	if ((c = d2i_X509_CRL(NULL, &q, b->len)) == NULL ||
	    q != b->der + b->len) {
		X509_CRL_free(c);
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
		    "%s: PEM block %d (line %d) is not a valid CRL", b->what,
		    b->n, b->line);
	}
	if (!sk_X509_CRL_push(sk, c)) {
		X509_CRL_free(c);
		return cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "%s", b->what);
	}
	return CS_OK;
}

/* DER: one object filling the input exactly. */
static bool
is_der(const uint8_t *p, size_t len)
{
	return len >= 2 && p[0] == 0x30;
}

static enum cs_err
chain_decode(struct cs_verifier *v, const uint8_t *p, size_t len,
    STACK_OF(X509) * sk)
{
	const unsigned char *q = p;
	X509 *x;
	int n = 0;
	enum cs_err r;

	if (p == NULL || len == 0 || len > CSA_FILE_MAX)
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED, "CA chain: empty");
	if (is_der(p, len)) {
		if ((x = d2i_X509(NULL, &q, (long)len)) == NULL ||
		    q != p + len) {
			X509_free(x);
			ERR_clear_error();
			return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
			    "CA chain: not a DER certificate (or bytes after "
			    "it)");
		}
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			return cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM,
			    "CA chain");
		}
		return CS_OK;
	}
	if ((r = pem_each(v, "CA chain", p, len, chain_block, sk, &n)) !=
	    CS_OK)
		return r;
	if (n == 0)
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
		    "CA chain: no certificate");
	return CS_OK;
}

enum cs_err
cs_verify_add_chain(struct cs_verifier *v, const uint8_t *bytes, size_t len)
{
	STACK_OF(X509) *sk = NULL;
	char name[CS_CA_NAME_MAX];
	X509 *x;
	int i;
	enum cs_err r;

	if ((sk = sk_X509_new_null()) == NULL)
		return cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "CA chain");
	if ((r = chain_decode(v, bytes, len, sk)) != CS_OK)
		goto out;
	/* All or nothing: refuse before any certificate joins the store. */
	for (i = 0; i < sk_X509_num(sk); i++) {
		x = sk_X509_value(sk, i);
		if (X509_check_ca(x) != 1) {
			csa_name_line(X509_get_subject_name(x), name,
			    sizeof(name));
			r = cs_ctx_fail(v->ctx, CS_ERR_ARG,
			    "CA chain: certificate %d (%.200s) is not a CA "
			    "certificate (basicConstraints CA:TRUE and, with "
			    "keyUsage, keyCertSign); the chain holds CA "
			    "certificates only",
			    i + 1, name);
			goto out;
		}
	}
	for (i = 0; i < sk_X509_num(sk); i++) {
		x = sk_X509_value(sk, i);
		if (!X509_up_ref(x) || !sk_X509_push(v->cas, x)) {
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "CA chain");
			goto out;
		}
		if (X509_check_issued(x, x) == X509_V_OK && self_signed(x)) {
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
	STACK_OF(X509_CRL) *sk = NULL;
	const unsigned char *q = bytes;
	X509_CRL *c = NULL;
	int n = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (bytes == NULL || len == 0 || len > CSA_FILE_MAX)
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED, "CRL: bad length");
	if ((sk = sk_X509_CRL_new_null()) == NULL)
		return cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "CRL");
	if (is_der(bytes, len)) {
		if ((c = d2i_X509_CRL(NULL, &q, (long)len)) == NULL ||
		    q != bytes + len) {
			r = cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
			    "CRL: not a DER CRL%s",
			    c != NULL ? " (bytes after it)" : "");
			goto out;
		}
		if (!sk_X509_CRL_push(sk, c)) {
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "CRL");
			goto out;
		}
		c = NULL;
	} else if ((r = pem_each(v, "CRL", bytes, len, crl_block, sk, &n)) !=
	    CS_OK)
		goto out;
	else if (n == 0) {
		r = cs_ctx_fail(v->ctx, CS_ERR_MALFORMED, "CRL: none found");
		goto out;
	}
	/* All or nothing, as for the chain. */
	while (sk_X509_CRL_num(sk) > 0) {
		c = sk_X509_CRL_shift(sk);
		if (!sk_X509_CRL_push(v->crls, c)) {
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "CRL");
			goto out;
		}
		c = NULL;
	}
	r = CS_OK;
out:
	ERR_clear_error();
	X509_CRL_free(c);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return r;
}

enum cs_err
cs_verify_set_policy(struct cs_verifier *v, const char *oid)
{
	char canon[CS_CA_OID_MAX];

	/* Compared as text later: keep the canonical spelling ("1.01"). */
	if (oid == NULL || strlen(oid) >= sizeof(v->policy) ||
	    csa_oid_parse(oid, CSA_OID_LONG_ARCS, canon, sizeof(canon)) !=
	        CS_OK)
		return cs_ctx_fail(v->ctx, CS_ERR_ARG,
		    "policy '%.64s' is not an OID", oid != NULL ? oid : "");
	if (csa_oid_is_any_policy(canon))
		return cs_ctx_fail(v->ctx, CS_ERR_ARG,
		    "anyPolicy cannot be required");
	snprintf(v->policy, sizeof(v->policy), "%s", canon);
	return CS_OK;
}

enum cs_err
cs_verify_set_purpose(struct cs_verifier *v, enum cs_verify_purpose purpose)
{
	if ((unsigned int)purpose >= PURPOSE_COUNT)
		return cs_ctx_fail(v->ctx, CS_ERR_ARG, "purpose %d unknown",
		    (int)purpose);
	v->purpose = purpose;
	return CS_OK;
}

enum cs_err
cs_verify_purpose_parse(const char *name, enum cs_verify_purpose *out)
{
	size_t i;

	*out = CS_VERIFY_PURPOSE_CLIENT_AUTH;
	for (i = 0; name != NULL && i < PURPOSE_COUNT; i++)
		if (strcmp(name, purpose_names[i]) == 0) {
			*out = (enum cs_verify_purpose)i;
			return CS_OK;
		}
	return CS_ERR_ARG;
}

const char *
cs_verify_purpose_name(enum cs_verify_purpose purpose)
{
	if ((unsigned int)purpose >= PURPOSE_COUNT)
		return "unknown";
	return purpose_names[purpose];
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
 * With CRLs, every certificate of the path is checked against a CRL from
 * its issuer (X509_V_FLAG_CRL_CHECK_ALL); the leaf must have one, a CA
 * certificate whose issuer gave none is not checked (ca/README.md).
 */
static int
crl_cb(int ok, X509_STORE_CTX *sc)
{
	if (!ok &&
	    X509_STORE_CTX_get_error(sc) == X509_V_ERR_UNABLE_TO_GET_CRL &&
	    X509_STORE_CTX_get_error_depth(sc) > 0) {
		X509_STORE_CTX_set_error(sc, X509_V_OK);
		return 1;
	}
	return ok;
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
		X509_STORE_CTX_set_verify_cb(sc, crl_cb);
		fl |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	}
	X509_VERIFY_PARAM_set_flags(pm, fl);
	if (at != 0)
		X509_VERIFY_PARAM_set_time(pm, (time_t)at);
	if (X509_verify_cert(sc) != 1) {
		err = X509_STORE_CTX_get_error(sc);
		/* Checked last: the chain is sound, the policy is not met. */
		if (err == X509_V_ERR_NO_EXPLICIT_POLICY)
			r = deny(v, res, CS_ERR_POLICY,
			    "policy %s is not valid for the path: a CA in the "
			    "chain does not assert it",
			    oid != NULL ? oid : "");
		else
			r = deny(v, res, CS_ERR_VERIFY, "chain: %s",
			    X509_verify_cert_error_string(err));
		goto out;
	}
	/*
	 * Element 0 is the leaf. A chain of one is a leaf that is itself an
	 * anchor: it vouches for nothing but itself.
	 */
	chain = X509_STORE_CTX_get0_chain(sc);
	if (sk_X509_num(chain) < 2) {
		r = deny(v, res, CS_ERR_VERIFY,
		    "chain: the certificate is itself a trust anchor; it "
		    "must be issued by a CA certificate of the chain");
		goto out;
	}
	if (issuer != NULL) {
		if (!X509_up_ref(sk_X509_value(chain, 1))) {
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "verify");
			goto out;
		}
		*issuer = sk_X509_value(chain, 1);
	}
	r = CS_OK;
out:
	ERR_clear_error();
	ASN1_OBJECT_free(o);
	X509_STORE_CTX_free(sc);
	return r;
}

/*
 * The CA certificate of the chain that most likely issued leaf: names/key
 * identifiers match and the leaf's signature verifies with its key. Only
 * a prediction of what path validation will choose, so that one
 * validation with the explicit policy usually suffices; cs_verify_cert
 * checks it against the chain OpenSSL built. Caller frees the result.
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
		    X509_up_ref(c)) {
			ERR_clear_error();
			return c;
		}
	}
	ERR_clear_error();
	return NULL;
}

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
static enum cs_err
purpose_check(const struct cs_verifier *v, X509 *leaf,
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
	const char *pname = purpose_names[v->purpose];
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

/*
 * Which OIDs path validation must find explicitly: need[0] and need[1]
 * (NULL for none), copies in v/lvl. CS_ERR_POLICY with the reason in
 * res->reason (not yet in ctx) when the leaf cannot pass.
 *
 * A required level (or sub-level) is met only through the level map of
 * the issuing CA (mapped, m): without one the level cannot be
 * established, whatever policy OID is also required. The level's OID must
 * then be valid for the path, and a policy OID set with
 * cs_verify_set_policy too (two validations when they differ).
 */
static enum cs_err
policy_need(struct cs_verifier *v, const X509 *leaf, enum cs_ca_level require,
    bool anyp, bool mapped, const struct lmap *m, struct cs_verify_result *res,
    char lvl[CS_CA_OID_MAX], const char *need[2])
{
	bool level = require != CS_CA_LEVEL_NONE || v->sublevel[0] != '\0';
	const char *what = v->sublevel[0] != '\0' ? v->sublevel
	                                          : cs_ca_level_name(require);
	enum cs_err r;

	need[0] = need[1] = NULL;
	lvl[0] = '\0';
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
	}
	if (level) {
		if (anyp) {
			snprintf(res->reason, sizeof(res->reason),
			    "leaf asserts anyPolicy, which never satisfies a "
			    "%s check",
			    what);
			return CS_ERR_POLICY;
		}
		if (!mapped) {
			snprintf(res->reason, sizeof(res->reason),
			    "the issuing CA %.200s carries no cardsmith level "
			    "map, so the level cannot be established; %s "
			    "required%s",
			    res->issuer, what,
			    v->policy[0] != '\0'
			        ? ""
			        : " (require the policy OID alone instead)");
			return CS_ERR_POLICY;
		}
		if (v->sublevel[0] != '\0') {
			if ((r = sublevel_need(v, m, res)) != CS_OK)
				return r;
		} else if (res->level < require && v->policy[0] != '\0') {
			/* A policy never lifts the level the map gives. */
			snprintf(res->reason, sizeof(res->reason),
			    "leaf asserts policy %s but is %s per the issuing "
			    "CA's level map; %s required",
			    v->policy, cs_ca_level_name(res->level),
			    cs_ca_level_name(require));
			return CS_ERR_POLICY;
		} else if (res->level < require) {
			snprintf(res->reason, sizeof(res->reason),
			    "leaf is %s%s%s%s; "
			    "%s required",
			    cs_ca_level_name(res->level),
			    res->policy_oid[0] ? " (policy " : "",
			    res->policy_oid, res->policy_oid[0] ? ")" : "",
			    cs_ca_level_name(require));
			return CS_ERR_POLICY;
		}
		snprintf(lvl, CS_CA_OID_MAX, "%s", res->policy_oid);
		need[0] = lvl;
	}
	if (v->policy[0] != '\0') {
		snprintf(res->policy_oid, sizeof(res->policy_oid), "%s",
		    v->policy);
		if (need[0] == NULL)
			need[0] = v->policy;
		else if (strcmp(need[0], v->policy) != 0)
			need[1] = v->policy;
	}
	return CS_OK;
}

/*
 * Level and required OIDs as the issuer CA certificate sees the leaf
 * (issuer NULL: none known). Resets what an earlier call put in res.
 */
static enum cs_err
assess(struct cs_verifier *v, X509 *leaf, X509 *issuer,
    enum cs_ca_level require, struct cs_verify_result *res,
    char lvl[CS_CA_OID_MAX], const char *need[2])
{
	struct lmap m;
	bool anyp = false, mapped;

	memset(&m, 0, sizeof(m));
	res->level = CS_CA_LEVEL_NONE;
	res->sublevel[0] = '\0';
	res->policy_oid[0] = '\0';
	if ((mapped = issuer != NULL && issuer_map(issuer, &m)))
		leaf_level(leaf, &m, res);
	(void)csa_has_policy(leaf, NULL, &anyp);
	return policy_need(v, leaf, require, anyp, mapped, &m, res, lvl, need);
}

/* Both NULL, or the same certificate. */
static bool
same_cert(const X509 *a, const X509 *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return X509_cmp(a, b) == 0;
}

enum cs_err
cs_verify_cert(struct cs_verifier *v, const uint8_t *cert, size_t len,
    enum cs_ca_level require, int64_t at, struct cs_verify_result *res)
{
	char why[CS_CA_REASON_MAX], lvl[CS_CA_OID_MAX], first[CS_CA_OID_MAX];
	const char *need[2] = { NULL, NULL };
	X509 *leaf = NULL, *issuer = NULL, *chosen = NULL;
	bool fit = false; /* end entity fit for the purpose */
	enum cs_err r = CS_ERR_INTERNAL, rc;

	memset(res, 0, sizeof(*res));
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
	/* Even one the chain lists: a certificate never vouches for itself. */
	if (self_signed(leaf)) {
		r = deny(v, res, CS_ERR_VERIFY,
		    "the certificate is self-signed; it must be issued by a "
		    "CA certificate of the chain");
		goto out;
	}
	issuer = find_issuer(v, leaf);
	if ((r = purpose_check(v, leaf, res)) == CS_OK &&
	    (r = assess(v, leaf, issuer, require, res, lvl, need)) != CS_OK)
		fit = true;
	if (r != CS_OK) {
		/* A broken chain is the more basic reason: report it first. */
		snprintf(why, sizeof(why), "%s", res->reason);
		if ((rc = path_check(v, leaf, NULL, at, res, &chosen)) != CS_OK) {
			r = rc;
			goto out;
		}
		if (!fit || same_cert(chosen, issuer)) {
			r = deny(v, res, r, "%s", why);
			goto out;
		}
		/* Predicted the wrong issuer: judge by the chosen one. */
		X509_free(issuer);
		issuer = chosen;
		chosen = NULL;
		if ((r = assess(v, leaf, issuer, require, res, lvl, need)) !=
		    CS_OK) {
			snprintf(why, sizeof(why), "%s", res->reason);
			r = deny(v, res, r, "%s", why);
			goto out;
		}
	}
	/* One validation: chain, CRL and, when a level is required, policy. */
	snprintf(first, sizeof(first), "%s", need[0] != NULL ? need[0] : "");
	if ((r = path_check(v, leaf, need[0], at, res, &chosen)) != CS_OK)
		goto out;
	/*
	 * The level map that counts is that of the issuer OpenSSL chose
	 * (e.g. the valid one of two certificates for the same CA key). The
	 * choice does not depend on the policy, so one more validation for
	 * its OIDs settles it.
	 */
	if (!same_cert(chosen, issuer)) {
		if ((r = assess(v, leaf, chosen, require, res, lvl, need)) !=
		    CS_OK) {
			snprintf(why, sizeof(why), "%s", res->reason);
			r = deny(v, res, r, "%s", why);
			goto out;
		}
		if (strcmp(first, need[0] != NULL ? need[0] : "") != 0 &&
		    (r = path_check(v, leaf, need[0], at, res, NULL)) != CS_OK)
			goto out;
	}
	if (need[1] != NULL &&
	    (r = path_check(v, leaf, need[1], at, res, NULL)) != CS_OK)
		goto out;
	res->accepted = true;
	snprintf(res->reason, sizeof(res->reason), "%s%s%s%s%s",
	    need[0] != NULL ? "chain, explicit policy " : "chain valid",
	    need[0] != NULL ? need[0] : "", need[1] != NULL ? " and " : "",
	    need[1] != NULL ? need[1] : "",
	    sk_X509_CRL_num(v->crls) > 0 ? " and CRL ok" : "");
	r = CS_OK;
out:
	X509_free(chosen);
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

bool
cs_verify_has_level_name(const struct cs_verifier *v, const char *name)
{
	struct cs_ca_sublevel subs[CS_CA_SUBLEVEL_MAX];
	enum cs_ca_level lv;
	size_t n, k;
	int i;

	if (name == NULL)
		return false;
	if (cs_ca_level_parse(name, &lv) == CS_OK)
		return true;
	for (i = 0; i < sk_X509_num(v->cas); i++) {
		n = 0;
		csa_levelmap_subs(sk_X509_value(v->cas, i), subs,
		    CS_CA_SUBLEVEL_MAX, &n);
		for (k = 0; k < n; k++)
			if (strcmp(subs[k].name, name) == 0)
				return true;
	}
	return false;
}

/* Is name an item of the ", "-separated list? */
static bool
name_listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || (p >= list + 2 && p[-2] == ',')) &&
		    (p[n] == '\0' || p[n] == ','))
			return true;
		p += n;
	}
	return false;
}

void
cs_verify_level_names(const struct cs_verifier *v, char *dst, size_t cap)
{
	struct cs_ca_sublevel subs[CS_CA_SUBLEVEL_MAX];
	size_t n, k, used = 0;
	int i, lv, w;

	if (cap == 0)
		return;
	dst[0] = '\0';
	for (lv = CS_CA_LEVEL_SOFTWARE; lv < CS_CA_LEVEL_COUNT; lv++) {
		w = snprintf(dst + used, cap - used, "%s%s", used ? ", " : "",
		    cs_ca_level_name((enum cs_ca_level)lv));
		if (w < 0 || (size_t)w >= cap - used) {
			dst[used] = '\0';
			return;
		}
		used += (size_t)w;
	}
	for (i = 0; i < sk_X509_num(v->cas); i++) {
		n = 0;
		csa_levelmap_subs(sk_X509_value(v->cas, i), subs,
		    CS_CA_SUBLEVEL_MAX, &n);
		for (k = 0; k < n; k++) {
			/* Once each, though the root and issuing CA repeat. */
			if (name_listed(dst, subs[k].name))
				continue;
			w = snprintf(dst + used, cap - used, ", %s",
			    subs[k].name);
			if (w < 0 || (size_t)w >= cap - used) {
				dst[used] = '\0';
				return;
			}
			used += (size_t)w;
		}
	}
}
