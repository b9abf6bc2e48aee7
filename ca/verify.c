/*
 * Relying-party verifier: what a gateway calls to accept only hardware
 * certificates (ca/README.md "Verifier").
 *
 * Trust comes only from cs_verify_add_chain: its self-signed CA
 * certificates are the anchors. The certificate being verified is never
 * trusted itself: it must not be self-signed or a CA certificate, and its
 * keyUsage/extendedKeyUsage must fit the purpose (client-auth by default).
 *
 * A level is reported, and a required one met, only when all of this
 * holds on one validated path (leaf, issuing CA, ..., anchor):
 *
 * 1. The anchor carries a level map (<arc>.2.1, bound to its arc: see
 *    csa_levelmap_get) and so does the issuing CA, and the issuing CA's
 *    map says the same for that level: the same OID, for a sub-level the
 *    same entry (parent, minimums, OID). Names (--require-level) are
 *    resolved in the anchor's map only.
 * 2. The leaf's own certificatePolicies contains the OID and not
 *    anyPolicy: RFC 5280 6.1 lets anyPolicy in a leaf satisfy any
 *    required policy, so path validation alone would accept a leaf that
 *    claims "anything".
 * 3. OpenSSL path validation with explicit policy
 *    (X509_V_FLAG_EXPLICIT_POLICY | X509_V_FLAG_POLICY_CHECK) finds the
 *    OID valid for the path. Every level the leaf claims goes into one
 *    user-initial-policy-set; which of them are valid is read from the
 *    resulting policy tree, so the common case costs one validation.
 *
 * Which path: every path from the leaf through the CA certificates to an
 * anchor is tried (bounded), each validated through exactly its own
 * certificates, and the best verdict wins; the CA certificates are kept
 * in a canonical order, so nothing depends on the order of --chain.
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

#define VERIFY_CAS_MAX 1024 /* CA certificates in a verifier */
#define VERIFY_DEPTH_MAX 8 /* CA certificates on one path */
#define VERIFY_PATHS_MAX 8 /* paths tried for one certificate */
#define VERIFY_STEPS_MAX 64 /* issuers followed in one path search */
#define LEAF_POLICIES_MAX 16 /* more: no level is read from the leaf */

/* One CA certificate of the chain. */
struct vca {
	X509 *x;
	char name[CS_CA_NAME_MAX]; /* subject, one line */
	bool anchor; /* self-signed */
	bool mapped; /* carries a valid level map */
	struct csa_levelmap map;
};

struct cs_verifier {
	struct cs_ctx *ctx;
	X509_STORE *store; /* the anchors, to name a failure of any path */
	struct vca *cas; /* canonical order (X509_cmp), no duplicates */
	size_t ncas;
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

enum cs_err
cs_verify_new(struct cs_ctx *ctx, struct cs_verifier **out)
{
	struct cs_verifier *v;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "verifier");
	v->ctx = ctx;
	if ((v->store = X509_STORE_new()) == NULL ||
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
	size_t i;

	if (v == NULL)
		return;
	X509_STORE_free(v->store);
	for (i = 0; i < v->ncas; i++)
		X509_free(v->cas[i].x);
	free(v->cas);
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

/* --- the chain --- */

static int
vca_cmp(const void *a, const void *b)
{
	return X509_cmp(((const struct vca *)a)->x, ((const struct vca *)b)->x);
}

static bool
have_ca(const struct cs_verifier *v, const X509 *x)
{
	size_t i;

	for (i = 0; i < v->ncas; i++)
		if (X509_cmp(v->cas[i].x, x) == 0)
			return true;
	return false;
}

enum cs_err
cs_verify_add_chain(struct cs_verifier *v, const uint8_t *bytes, size_t len)
{
	STACK_OF(X509) *sk = NULL;
	struct vca *grown, *c;
	char name[CS_CA_NAME_MAX];
	size_t want;
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
	want = v->ncas + (size_t)sk_X509_num(sk);
	if (want > VERIFY_CAS_MAX) {
		r = cs_ctx_fail(v->ctx, CS_ERR_LIMIT,
		    "CA chain: more than %d CA certificates", VERIFY_CAS_MAX);
		goto out;
	}
	if ((grown = realloc(v->cas, want * sizeof(*grown))) == NULL) {
		r = cs_ctx_fail(v->ctx, CS_ERR_NOMEM, "CA chain");
		goto out;
	}
	v->cas = grown;
	for (i = 0; i < sk_X509_num(sk); i++) {
		x = sk_X509_value(sk, i);
		if (have_ca(v, x))
			continue; /* given twice: one path, not two */
		c = &v->cas[v->ncas];
		memset(c, 0, sizeof(*c));
		if (!X509_up_ref(x)) {
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "CA chain");
			goto out;
		}
		c->x = x;
		v->ncas++;
		csa_name_line(X509_get_subject_name(x), c->name,
		    sizeof(c->name));
		c->anchor = X509_check_issued(x, x) == X509_V_OK &&
		    self_signed(x);
		c->mapped = csa_levelmap_get(x, &c->map);
		if (c->anchor && X509_STORE_add_cert(v->store, x) != 1) {
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM,
			    "CA chain");
			goto out;
		}
	}
	/* Canonical order: the path search never sees the file's order. */
	qsort(v->cas, v->ncas, sizeof(*v->cas), vca_cmp);
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

static const struct cs_ca_sublevel *
find_sub(const struct csa_levelmap *m, const char *name)
{
	size_t k;

	for (k = 0; k < m->nsubs; k++)
		if (strcmp(m->subs[k].name, name) == 0)
			return &m->subs[k];
	return NULL;
}

/* "hardware-attested, pin:always" (parent and minimums), for messages. */
static void
sub_minimums(const struct cs_ca_sublevel *s, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s%s%s%s%s%s", cs_ca_level_name(s->parent),
	    s->min_pin_policy != 0 ? ", pin:" : "",
	    s->min_pin_policy != 0
	        ? cs_attest_pin_policy_str(s->min_pin_policy)
	        : "",
	    s->min_touch_policy != 0 ? ", touch:" : "",
	    s->min_touch_policy != 0
	        ? cs_attest_touch_policy_str(s->min_touch_policy)
	        : "",
	    s->min_pin_policy == 0 && s->min_touch_policy == 0
	        ? ", no minimums"
	        : "");
}

/*
 * Does the chain define sub-level name in two ways (parent or minimums;
 * the OID is each CA's own)? Then a requirement by that name has no one
 * meaning: the message into msg, true.
 */
static bool
sublevel_conflict(const struct cs_verifier *v, const char *name, char *msg,
    size_t cap)
{
	const struct cs_ca_sublevel *s, *first = NULL;
	const struct vca *by = NULL;
	char a[96], b[96];
	size_t i;

	for (i = 0; i < v->ncas; i++) {
		if (!v->cas[i].mapped ||
		    (s = find_sub(&v->cas[i].map, name)) == NULL)
			continue;
		if (first == NULL) {
			first = s;
			by = &v->cas[i];
		} else if (s->parent != first->parent ||
		    s->min_pin_policy != first->min_pin_policy ||
		    s->min_touch_policy != first->min_touch_policy) {
			sub_minimums(first, a, sizeof(a));
			sub_minimums(s, b, sizeof(b));
			snprintf(msg, cap,
			    "sub-level %s means two things in the CA chain: "
			    "%.100s (%s) and %.100s (%s); require it of a "
			    "chain that defines it once",
			    name, by->name, a, v->cas[i].name, b);
			return true;
		}
	}
	return false;
}

enum cs_err
cs_verify_require_sublevel(struct cs_verifier *v, const char *name)
{
	char msg[CS_CA_REASON_MAX];

	if (name == NULL || !csa_sublevel_name_ok(name))
		return cs_ctx_fail(v->ctx, CS_ERR_ARG,
		    "'%.40s' is not a sub-level name",
		    name != NULL ? name : "");
	if (sublevel_conflict(v, name, msg, sizeof(msg)))
		return cs_ctx_fail(v->ctx, CS_ERR_ARG, "%s", msg);
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

/* --- the leaf's claims --- */

/* The leaf's certificatePolicies, as canonical dotted text. */
struct leafpol {
	char oid[LEAF_POLICIES_MAX][CS_CA_OID_MAX];
	size_t n;
	bool any; /* anyPolicy: never a level */
	bool many; /* more than LEAF_POLICIES_MAX: no level is read */
};

static void
leaf_policies(X509 *leaf, struct leafpol *lp)
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

/* Why a level the leaf asserts counts, or does not. */
enum claim_kind {
	CLAIM_COUNTS, /* anchor's and issuer's maps agree: path decides */
	CLAIM_NO_ANCHOR_MAP, /* only the issuing CA's map has it */
	CLAIM_NO_ISSUER_MAP, /* only the anchor's map has it */
	CLAIM_DIFFERS, /* the two maps define it differently */
};

/* A level or sub-level the leaf asserts, per the path's level maps. */
struct claim {
	enum cs_ca_level level;
	struct cs_ca_sublevel sub; /* sub.name[0] == '\0': the level itself */
	char oid[CS_CA_OID_MAX];
	enum claim_kind kind;
	bool valid; /* explicit-policy validation passed for oid */
};

#define CLAIMS_MAX (CS_CA_LEVEL_COUNT + 2 * CS_CA_SUBLEVEL_MAX)

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
static size_t
claims_of(const struct leafpol *lp, const struct vca *iss,
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
		t = iss->mapped ? find_sub(&iss->map, s->name) : NULL;
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
static void
claim_text(const struct claim *c, char *dst, size_t cap)
{
	if (c->sub.name[0] != '\0')
		snprintf(dst, cap, "sub-level %s (policy %s)", c->sub.name,
		    c->oid);
	else
		snprintf(dst, cap, "%s (policy %s)", cs_ca_level_name(c->level),
		    c->oid);
}

/* Why claim c was not verified on the path issuer .. anchor. */
static void
claim_why(const struct claim *c, const struct vca *iss, const struct vca *anc,
    char *dst, size_t cap)
{
	char what[CS_CA_OID_MAX + 64];

	claim_text(c, what, sizeof(what));
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

/* --- paths --- */

/* CA certificates above the leaf, issuer first, anchor last. */
struct vpath {
	size_t n;
	size_t at[VERIFY_DEPTH_MAX]; /* indexes into v->cas */
};

struct search {
	const struct cs_verifier *v;
	X509 *leaf;
	struct vpath cur, *out;
	size_t nout;
	unsigned int steps;
};

static bool
on_path(const struct vpath *p, size_t i)
{
	size_t k;

	for (k = 0; k < p->n; k++)
		if (p->at[k] == i)
			return true;
	return false;
}

/* Every path from x up to an anchor, depth first in canonical order. */
static void
search_from(struct search *s, X509 *x)
{
	const struct vca *c;
	size_t i;

	for (i = 0; i < s->v->ncas && s->nout < VERIFY_PATHS_MAX; i++) {
		c = &s->v->cas[i];
		if (on_path(&s->cur, i) ||
		    X509_check_issued(c->x, x) != X509_V_OK ||
		    X509_cmp(c->x, s->leaf) == 0)
			continue;
		if (s->steps++ >= VERIFY_STEPS_MAX)
			return;
		s->cur.at[s->cur.n++] = i;
		if (c->anchor)
			s->out[s->nout++] = s->cur;
		else if (s->cur.n < VERIFY_DEPTH_MAX)
			search_from(s, c->x);
		s->cur.n--;
	}
}

static size_t
paths_of(const struct cs_verifier *v, X509 *leaf, struct vpath *out)
{
	struct search s;

	memset(&s, 0, sizeof(s));
	s.v = v;
	s.leaf = leaf;
	s.out = out;
	search_from(&s, leaf);
	return s.nout;
}

/* The path OpenSSL built (chain[0] is the leaf) in terms of v->cas. */
static bool
path_of_chain(const struct cs_verifier *v, STACK_OF(X509) * chain,
    struct vpath *p)
{
	int i, n = sk_X509_num(chain);
	size_t k;

	memset(p, 0, sizeof(*p));
	if (n < 2 || n - 1 > VERIFY_DEPTH_MAX)
		return false;
	for (i = 1; i < n; i++) {
		for (k = 0; k < v->ncas; k++)
			if (X509_cmp(v->cas[k].x, sk_X509_value(chain, i)) == 0)
				break;
		if (k == v->ncas)
			return false;
		p->at[p->n++] = k;
	}
	return v->cas[p->at[p->n - 1]].anchor;
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

/* Is chain (leaf first) exactly leaf + the certificates of p? */
static bool
chain_is(STACK_OF(X509) * chain, const struct cs_verifier *v,
    const struct vpath *p)
{
	size_t k;

	if (chain == NULL || (size_t)sk_X509_num(chain) != p->n + 1)
		return false;
	for (k = 0; k < p->n; k++)
		if (sk_X509_value(chain, (int)k + 1) != v->cas[p->at[k]].x)
			return false;
	return true;
}

/*
 * Validate leaf through exactly the CA certificates of p (NULL: any path
 * OpenSSL builds from the whole chain), with explicit policy for the n
 * OIDs of set (none: no policy check) and the CRLs. CS_OK: valid, and
 * valid[i] says whether set[i] is in the valid policy tree; CS_ERR_POLICY:
 * valid but for explicit policy, i.e. no OID of set is; CS_ERR_VERIFY:
 * why says what failed. *built (may be NULL): the path, caller frees.
 */
static enum cs_err
validate(struct cs_verifier *v, X509 *leaf, const struct vpath *p,
    const char *const *set, size_t n, int64_t at, bool *valid, char *why,
    size_t cap, STACK_OF(X509) * *built)
{
	STACK_OF(X509) *un = NULL, *tr = NULL;
	STACK_OF(X509_POLICY_NODE) * nodes;
	const ASN1_OBJECT *got;
	ASN1_OBJECT *objs[CLAIMS_MAX + 1];
	X509_STORE_CTX *sc = NULL;
	X509_VERIFY_PARAM *pm;
	X509 *x;
	unsigned long fl = 0;
	size_t i, k;
	int j, err;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(objs, 0, sizeof(objs));
	if (built != NULL)
		*built = NULL;
	if (n > CLAIMS_MAX + 1)
		return cs_ctx_fail(v->ctx, CS_ERR_INTERNAL, "verify: OIDs");
	for (i = 0; i < n; i++)
		valid[i] = false;
	if ((un = sk_X509_new_null()) == NULL ||
	    (tr = sk_X509_new_null()) == NULL) {
		r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "verify");
		goto out;
	}
	/* The path's certificates, or (NULL) every intermediate, in order. */
	for (k = 0; k < (p != NULL ? p->n : v->ncas); k++) {
		x = v->cas[p != NULL ? p->at[k] : k].x;
		if (p == NULL && v->cas[k].anchor)
			continue;
		if (!sk_X509_push(p != NULL && k + 1 == p->n ? tr : un, x)) {
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "verify");
			goto out;
		}
	}
	if ((sc = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(sc, v->store, leaf, un)) {
		r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "verify");
		goto out;
	}
	if (p != NULL)
		X509_STORE_CTX_set0_trusted_stack(sc, tr);
	pm = X509_STORE_CTX_get0_param(sc);
	for (i = 0; i < n; i++) {
		if ((objs[i] = OBJ_txt2obj(set[i], 1)) == NULL ||
		    !X509_VERIFY_PARAM_add0_policy(pm, objs[i])) {
			ASN1_OBJECT_free(objs[i]);
			r = cs_ctx_fail_crypto(v->ctx, CS_ERR_CRYPTO, "policy");
			goto out;
		}
	}
	if (n > 0)
		fl |= X509_V_FLAG_EXPLICIT_POLICY | X509_V_FLAG_POLICY_CHECK;
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
		if (err != X509_V_ERR_NO_EXPLICIT_POLICY || n == 0) {
			snprintf(why, cap, "chain: %s",
			    X509_verify_cert_error_string(err));
			r = CS_ERR_VERIFY;
			goto out;
		}
		/* Policy is checked last: all else passed, no OID of set. */
		r = CS_ERR_POLICY;
	} else {
		/* Which OIDs of the set are valid (RFC 5280 6.1.5 (g)). */
		nodes = n > 0 ? X509_policy_tree_get0_user_policies(
		                    X509_STORE_CTX_get0_policy_tree(sc))
		              : NULL;
		for (j = 0; j < sk_X509_POLICY_NODE_num(nodes); j++) {
			got = X509_policy_node_get0_policy(
			    sk_X509_POLICY_NODE_value(nodes, j));
			for (i = 0; got != NULL && i < n; i++)
				if (OBJ_cmp(got, objs[i]) == 0)
					valid[i] = true;
		}
		r = CS_OK;
	}
	/*
	 * The maps judged are those of p: a chain OpenSSL shortened (an
	 * anchor that also issued an earlier certificate) is another path,
	 * tried on its own.
	 */
	if (p != NULL && !chain_is(X509_STORE_CTX_get0_chain(sc), v, p)) {
		snprintf(why, cap, "chain: not through the path planned");
		r = CS_ERR_VERIFY;
		goto out;
	}
	if (built != NULL &&
	    (*built = X509_STORE_CTX_get1_chain(sc)) == NULL) {
		r = cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "verify");
		goto out;
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(sc);
	sk_X509_free(un);
	sk_X509_free(tr);
	return r;
}

/* --- judging one path --- */

/* What one path gives: its chain verdict and the leaf's claims on it. */
struct pathres {
	enum cs_err chain; /* CS_OK or CS_ERR_VERIFY */
	char why[CS_CA_REASON_MAX]; /* chain failure */
	const struct vca *iss, *anc;
	struct claim cl[CLAIMS_MAX];
	size_t ncl;
	bool policy_valid; /* v->policy, if set, valid for the path */
};

/* The inputs every path is judged against. */
struct leafcase {
	X509 *leaf;
	struct leafpol lp;
	enum cs_ca_level require;
	enum cs_err purpose; /* CS_OK or CS_ERR_POLICY (why: purpose_why) */
	char purpose_why[CS_CA_REASON_MAX];
	bool policy_own; /* the leaf asserts v->policy (and no anyPolicy) */
	int64_t at;
};

static enum cs_err
eval_path(struct cs_verifier *v, const struct leafcase *lc,
    const struct vpath *p, struct pathres *pr)
{
	const char *set[CLAIMS_MAX + 1];
	bool valid[CLAIMS_MAX + 1];
	size_t n = 0, i, k, pol = CLAIMS_MAX + 1;
	enum cs_err r;

	memset(pr, 0, sizeof(*pr));
	pr->iss = &v->cas[p->at[0]];
	pr->anc = &v->cas[p->at[p->n - 1]];
	pr->ncl = claims_of(&lc->lp, pr->iss, pr->anc, pr->cl);
	for (i = 0; i < pr->ncl; i++)
		if (pr->cl[i].kind == CLAIM_COUNTS)
			set[n++] = pr->cl[i].oid;
	if (lc->policy_own) {
		for (i = 0; i < n && strcmp(set[i], v->policy) != 0; i++)
			;
		if (i == n)
			set[n++] = v->policy;
		pol = i;
	}
	r = validate(v, lc->leaf, p, set, n, lc->at, valid, pr->why,
	    sizeof(pr->why), NULL);
	if (r == CS_ERR_VERIFY) {
		pr->chain = CS_ERR_VERIFY;
		return CS_OK;
	}
	if (r != CS_OK && r != CS_ERR_POLICY)
		return r;
	pr->chain = CS_OK;
	for (i = 0; i < pr->ncl; i++) {
		for (k = 0; k < n; k++)
			if (strcmp(set[k], pr->cl[i].oid) == 0)
				pr->cl[i].valid = valid[k] &&
				    pr->cl[i].kind == CLAIM_COUNTS;
	}
	pr->policy_valid = pol < n && valid[pol];
	return CS_OK;
}

/* The best verified claim that meets want (NULL: any), or NULL. */
static const struct claim *
best_claim(const struct pathres *pr, enum cs_ca_level require,
    const struct cs_ca_sublevel *want)
{
	size_t i;

	for (i = 0; i < pr->ncl; i++) {
		const struct claim *c = &pr->cl[i];

		if (!c->valid)
			continue;
		if (want != NULL ? c->sub.name[0] != '\0' &&
		            csa_sublevel_covers(&c->sub, want)
		                 : c->level >= require)
			return c;
	}
	return NULL;
}

/* Why the best unverified claim ranked above got (NULL: any) was not. */
static void
level_note(const struct pathres *pr, const struct claim *got, char *dst,
    size_t cap)
{
	size_t i;

	dst[0] = '\0';
	for (i = 0; i < pr->ncl && &pr->cl[i] != got; i++)
		if (!pr->cl[i].valid) {
			claim_why(&pr->cl[i], pr->iss, pr->anc, dst, cap);
			return;
		}
}

static void
set_level(struct cs_verify_result *res, const struct claim *c)
{
	res->level = c != NULL ? c->level : CS_CA_LEVEL_NONE;
	res->level_verified = c != NULL;
	snprintf(res->sublevel, sizeof(res->sublevel), "%s",
	    c != NULL ? c->sub.name : "");
	snprintf(res->policy_oid, sizeof(res->policy_oid), "%s",
	    c != NULL ? c->oid : "");
}

/*
 * The verdict of one path into res (subject, issuer and serial already
 * there): CS_OK accepted, CS_ERR_VERIFY, CS_ERR_POLICY; reason in
 * res->reason only (the caller records the winner in ctx).
 */
static enum cs_err
judge(const struct cs_verifier *v, const struct leafcase *lc,
    const struct pathres *pr, struct cs_verify_result *res)
{
	const struct cs_ca_sublevel *want = NULL;
	const struct claim *got, *top;
	bool level = lc->require != CS_CA_LEVEL_NONE || v->sublevel[0] != '\0';
	const char *what = v->sublevel[0] != '\0'
	    ? v->sublevel
	    : cs_ca_level_name(lc->require);
	char have[CS_CA_OID_MAX + 64], note[CS_CA_REASON_MAX];

	res->accepted = false;
	set_level(res, NULL);
	res->level_note[0] = '\0';
	if (pr->chain != CS_OK) {
		snprintf(res->reason, sizeof(res->reason), "%s", pr->why);
		return CS_ERR_VERIFY;
	}
	top = best_claim(pr, CS_CA_LEVEL_NONE, NULL);
	set_level(res, top);
	if (lc->purpose != CS_OK) {
		snprintf(res->reason, sizeof(res->reason), "%s",
		    lc->purpose_why);
		return CS_ERR_POLICY;
	}
	if (v->policy[0] != '\0' && !pr->policy_valid) {
		if (lc->lp.any)
			snprintf(res->reason, sizeof(res->reason),
			    "leaf asserts anyPolicy; policy %s must be the "
			    "leaf's own",
			    v->policy);
		else if (!lc->policy_own)
			snprintf(res->reason, sizeof(res->reason),
			    "leaf does not assert policy %s", v->policy);
		else
			snprintf(res->reason, sizeof(res->reason),
			    "policy %s is not valid for the path: a CA in the "
			    "chain does not assert it",
			    v->policy);
		return CS_ERR_POLICY;
	}
	if (level && lc->lp.any) {
		snprintf(res->reason, sizeof(res->reason),
		    "leaf asserts anyPolicy, which never satisfies a %s check",
		    what);
		return CS_ERR_POLICY;
	}
	if (level && (!pr->iss->mapped || !pr->anc->mapped)) {
		snprintf(res->reason, sizeof(res->reason),
		    "the %s %.200s carries no cardsmith level map, so the "
		    "level cannot be established; %s required%s",
		    !pr->iss->mapped ? "issuing CA" : "trust anchor",
		    !pr->iss->mapped ? pr->iss->name : pr->anc->name, what,
		    v->policy[0] != '\0'
		        ? ""
		        : " (require the policy OID alone instead)");
		return CS_ERR_POLICY;
	}
	if (v->sublevel[0] != '\0' &&
	    (want = find_sub(&pr->anc->map, v->sublevel)) == NULL) {
		snprintf(res->reason, sizeof(res->reason),
		    "the trust anchor %.200s defines no sub-level %s",
		    pr->anc->name, v->sublevel);
		return CS_ERR_POLICY;
	}
	got = level ? best_claim(pr, lc->require, want) : top;
	if (level && got == NULL) {
		if (top != NULL)
			claim_text(top, have, sizeof(have));
		else
			snprintf(have, sizeof(have), "none");
		level_note(pr, top, note, sizeof(note));
		snprintf(res->reason, sizeof(res->reason),
		    "leaf is %.150s%s%.280s; %s%s required", have,
		    note[0] ? "; " : "",
		    note, want != NULL ? "sub-level " : "", what);
		return CS_ERR_POLICY;
	}
	set_level(res, got);
	level_note(pr, got, res->level_note, sizeof(res->level_note));
	if (v->policy[0] != '\0')
		snprintf(res->policy_oid, sizeof(res->policy_oid), "%s",
		    v->policy);
	res->accepted = true;
	snprintf(res->reason, sizeof(res->reason), "%s%s%s%s%s%s",
	    got != NULL || v->policy[0] != '\0' ? "chain, explicit policy "
	                                        : "chain valid",
	    got != NULL ? got->oid : "",
	    got != NULL && v->policy[0] != '\0' &&
	            strcmp(got->oid, v->policy) != 0
	        ? " and "
	        : "",
	    v->policy[0] != '\0' &&
	            (got == NULL || strcmp(got->oid, v->policy) != 0)
	        ? v->policy
	        : "",
	    sk_X509_CRL_num(v->crls) > 0 ? " and CRL ok" : "",
	    got == NULL && res->level_note[0] != '\0'
	        ? "; no cardsmith level verified"
	        : "");
	return CS_OK;
}

/*
 * Is verdict a (r) better than b (rb)? Accepted, then refused for
 * policy, then for the chain; then the higher verified level.
 */
static bool
better(enum cs_err r, const struct cs_verify_result *a, enum cs_err rb,
    const struct cs_verify_result *b)
{
	static const int order[] = { [CS_OK] = 3, [CS_ERR_POLICY] = 2,
		[CS_ERR_VERIFY] = 1 };
	int x = (size_t)r < sizeof(order) / sizeof(*order) ? order[r] : 0;
	int y = (size_t)rb < sizeof(order) / sizeof(*order) ? order[rb] : 0;

	if (x != y)
		return x > y;
	if (r == CS_ERR_VERIFY)
		return false; /* the first reason stands */
	/* Of two acceptances or refusals, the one that verified more. */
	if (a->level != b->level)
		return a->level > b->level;
	return a->sublevel[0] != '\0' && b->sublevel[0] == '\0';
}

enum cs_err
cs_verify_cert(struct cs_verifier *v, const uint8_t *cert, size_t len,
    enum cs_ca_level require, int64_t at, struct cs_verify_result *res)
{
	struct vpath paths[VERIFY_PATHS_MAX];
	struct cs_verify_result one;
	struct leafcase *lc = NULL;
	struct pathres *pr = NULL;
	STACK_OF(X509) *built = NULL;
	char msg[CS_CA_REASON_MAX];
	size_t np, i;
	bool anyp = false;
	enum cs_err r = CS_ERR_INTERNAL, rbest = CS_ERR_INTERNAL, rone;

	memset(res, 0, sizeof(*res));
	if ((lc = calloc(1, sizeof(*lc))) == NULL ||
	    (pr = calloc(1, sizeof(*pr))) == NULL) {
		r = cs_ctx_fail(v->ctx, CS_ERR_NOMEM, "verify");
		snprintf(res->reason, sizeof(res->reason), "%s",
		    cs_ctx_errmsg(v->ctx));
		goto out;
	}
	if ((r = csa_cert_decode(v->ctx, "certificate", cert, len,
	         &lc->leaf)) != CS_OK) {
		snprintf(res->reason, sizeof(res->reason), "%s",
		    cs_ctx_errmsg(v->ctx));
		goto out;
	}
	csa_name_line(X509_get_subject_name(lc->leaf), res->subject,
	    sizeof(res->subject));
	csa_name_line(X509_get_issuer_name(lc->leaf), res->issuer,
	    sizeof(res->issuer));
	csa_serial_hex(X509_get0_serialNumber(lc->leaf), res->serial,
	    sizeof(res->serial));
	/* Even one the chain lists: a certificate never vouches for itself. */
	if (self_signed(lc->leaf)) {
		r = deny(v, res, CS_ERR_VERIFY,
		    "the certificate is self-signed; it must be issued by a "
		    "CA certificate of the chain");
		goto out;
	}
	if (v->sublevel[0] != '\0' &&
	    sublevel_conflict(v, v->sublevel, msg, sizeof(msg))) {
		r = deny(v, res, CS_ERR_ARG, "%s", msg);
		goto out;
	}
	lc->require = require;
	lc->at = at;
	lc->purpose = purpose_check(v, lc->leaf, res);
	snprintf(lc->purpose_why, sizeof(lc->purpose_why), "%s", res->reason);
	res->reason[0] = '\0';
	leaf_policies(lc->leaf, &lc->lp);
	if (v->policy[0] != '\0') {
		(void)csa_has_policy(lc->leaf, NULL, &anyp);
		lc->policy_own = !anyp &&
		    csa_has_policy(lc->leaf, v->policy, NULL);
	}
	if ((np = paths_of(v, lc->leaf, paths)) == 0) {
		/* No path in the chain: let OpenSSL name the failure. */
		if ((r = validate(v, lc->leaf, NULL, NULL, 0, at, NULL, msg,
		         sizeof(msg), &built)) != CS_OK) {
			if (r == CS_ERR_VERIFY)
				r = deny(v, res, r, "%s", msg);
			goto out;
		}
		if (!path_of_chain(v, built, &paths[0])) {
			r = deny(v, res, CS_ERR_VERIFY,
			    "chain: the certificate must be issued by a CA "
			    "certificate of the chain, through it to an "
			    "anchor");
			goto out;
		}
		np = 1;
	}
	/* Every path; the best verdict wins, the first on a tie. */
	for (i = 0; i < np; i++) {
		if ((r = eval_path(v, lc, &paths[i], pr)) != CS_OK)
			goto out;
		one = *res;
		rone = judge(v, lc, pr, &one);
		if (i == 0 || better(rone, &one, rbest, res)) {
			*res = one;
			rbest = rone;
		}
	}
	r = rbest;
	if (r != CS_OK)
		(void)cs_ctx_fail(v->ctx, r, "%s", res->reason);
out:
	sk_X509_pop_free(built, X509_free);
	if (lc != NULL)
		X509_free(lc->leaf);
	free(lc);
	free(pr);
	return r;
}

/* --- what --require-level may name: the anchors' level maps --- */

bool
cs_verify_policy_is_level(const struct cs_verifier *v, const char *oid,
    enum cs_ca_level level)
{
	size_t i;

	if (oid == NULL || (unsigned int)level >= CS_CA_LEVEL_COUNT ||
	    level == CS_CA_LEVEL_NONE)
		return false;
	for (i = 0; i < v->ncas; i++)
		if (v->cas[i].anchor && v->cas[i].mapped &&
		    csa_oid_eq(v->cas[i].map.oids[level], oid))
			return true;
	return false;
}

bool
cs_verify_has_level_name(const struct cs_verifier *v, const char *name)
{
	enum cs_ca_level lv;
	size_t i;

	if (name == NULL)
		return false;
	if (cs_ca_level_parse(name, &lv) == CS_OK)
		return true;
	for (i = 0; i < v->ncas; i++)
		if (v->cas[i].anchor && v->cas[i].mapped &&
		    find_sub(&v->cas[i].map, name) != NULL)
			return true;
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
	const struct csa_levelmap *m;
	size_t k, i, used = 0;
	int lv, w;

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
	for (i = 0; i < v->ncas; i++) {
		if (!v->cas[i].anchor || !v->cas[i].mapped)
			continue;
		m = &v->cas[i].map;
		for (k = 0; k < m->nsubs; k++) {
			/* Once each, though several anchors may define it. */
			if (name_listed(dst, m->subs[k].name))
				continue;
			w = snprintf(dst + used, cap - used, ", %s",
			    m->subs[k].name);
			if (w < 0 || (size_t)w >= cap - used) {
				dst[used] = '\0';
				return;
			}
			used += (size_t)w;
		}
	}
}
