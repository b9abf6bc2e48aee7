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
 *
 * This file: the verifier object and its trust input (cs_verify_new/free,
 * --chain and --crl reading, anchors, purpose, required policy and
 * sub-level) and what --require-level may name. verify_claim.c reads the
 * leaf's purpose and claims, verify_path.c finds and validates the paths
 * and gives the verdict (cs_verify_cert).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "cardsmith/x509_ossl.h"

#include "verify_int.h"

#include "banned.h"

static const char *const purpose_names[] = {
	[CS_VERIFY_PURPOSE_CLIENT_AUTH] = "client-auth",
	[CS_VERIFY_PURPOSE_SMARTCARD_LOGON] = "smartcard-logon",
	[CS_VERIFY_PURPOSE_CARD_AUTH] = "card-auth",
	[CS_VERIFY_PURPOSE_ANY] = "any",
};

#define PURPOSE_COUNT (sizeof(purpose_names) / sizeof(purpose_names[0]))


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
bool
csa_verify_self_signed(X509 *x)
{
	bool ok;

	ok = X509_NAME_cmp(X509_get_subject_name(x),
	         X509_get_issuer_name(x)) == 0 &&
	    X509_verify(x, X509_get0_pubkey(x)) == 1;
	ERR_clear_error();
	return ok;
}

/* --- reading --chain and --crl: every PEM block, or one DER object --- */

/*
 * One object of --chain or --crl, DER, with where it came from for the
 * messages: PEM block n (1-based) whose BEGIN is on line `line`, or n 0
 * for a DER input, so each type has one decoder.
 */
struct pemblock {
	const char *what; /* "CA chain", "CRL" */
	int n, line;
	const uint8_t *p;
	size_t len;
};

typedef enum cs_err pem_block_fn(struct cs_verifier *v,
    const struct pemblock *b, void *arg);

/* What one input holds, and how its blocks are named in messages. */
struct intake {
	const char *what; /* "CA chain", "CRL" */
	enum cs_pem_kind kind;
	const char *label; /* "a CERTIFICATE", "an X509 CRL" */
	const char *noun; /* "certificate", "CRL" */
	pem_block_fn *fn;
};

/* Why lib's PEM walk refused block b, as a message naming it. */
static enum cs_err
pem_refused(struct cs_verifier *v, const struct intake *in,
    const struct pemblock *b, const struct cs_pem_block *pb, enum cs_err r)
{
	if (r != CS_ERR_MALFORMED && r != CS_ERR_LIMIT)
		return cs_ctx_fail(v->ctx, r, "%s", in->what);
	if (pb->fault == CS_PEM_FAULT_NO_END)
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
		    "%s: PEM block %d (line %d) has no END line", in->what,
		    b->n, b->line);
	return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
	    "%s: PEM block %d (line %d) is corrupt: bad base64, header or END "
	    "line%s%s",
	    in->what, b->n, b->line,
	    pb->fault == CS_PEM_FAULT_BEGIN ? "" : ", or not a ",
	    pb->fault == CS_PEM_FAULT_BEGIN ? "" : in->noun);
}

/* Lines from p up to p + n, for "line L" in messages. */
static int
lines_in(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n, *nl;
	int lines = 0;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p = nl + 1;
	}
	return lines;
}

/*
 * Call in->fn for each PEM block of [p, p + len), walked by lib's PEM
 * codec: every block must have the kind's label and decode. Text outside
 * blocks is skipped, as OpenSSL does. A corrupt block is an error naming
 * it, never the silent end of the file.
 */
static enum cs_err
pem_each(struct cs_verifier *v, const struct intake *in, const uint8_t *p,
    size_t len, void *arg, int *count)
{
	struct pemblock blk;
	struct cs_pem_block pb;
	uint8_t *der = NULL;
	size_t pos = 0, counted = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*count = 0;
	memset(&blk, 0, sizeof(blk));
	blk.what = in->what;
	blk.line = 1;
	while ((r = cs_pem_next_block(in->kind, p, len, &pos, 0, &pb, &der,
	            &blk.len)) != CS_ERR_NOT_FOUND) {
		blk.n++;
		blk.line += lines_in(p + counted, pb.off - counted);
		counted = pb.off;
		if (r != CS_OK)
			return pem_refused(v, in, &blk, &pb, r);
		if (der == NULL)
			return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
			    "%s: PEM block %d (line %d) is a %.40s, not %s",
			    in->what, blk.n, blk.line, pb.label, in->label);
		blk.p = der;
		r = in->fn(v, &blk, arg);
		cs_free(der);
		der = NULL;
		if (r != CS_OK)
			return r;
	}
	*count = blk.n;
	return CS_OK;
}

static enum cs_err
chain_block(struct cs_verifier *v, const struct pemblock *b, void *arg)
{
	STACK_OF(X509) *sk = arg;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	/* Exactly one DER certificate, through the project's one decoder. */
	if ((r = cs_x509_cert_decode(NULL, b->p, b->len, 0, &x)) != CS_OK) {
		if (b->n == 0)
			return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
			    "%s: not a DER certificate (or bytes after it)",
			    b->what);
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

/*
 * The one CRL decoder of ca/: exactly one DER CRL, from a PEM block (lib
 * has checked it already) or the DER input.
 */
static enum cs_err
crl_block(struct cs_verifier *v, const struct pemblock *b, void *arg)
{
	STACK_OF(X509_CRL) *sk = arg;
	const unsigned char *q = b->p;
	X509_CRL *c = NULL;
	bool undecodable;

	if (b->len > (size_t)LONG_MAX ||
	    (c = d2i_X509_CRL(NULL, &q, (long)b->len)) == NULL ||
	    q != b->p + b->len) {
		undecodable = c == NULL;
		X509_CRL_free(c);
		ERR_clear_error();
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED,
		    "%s: not a DER CRL%s", b->what,
		    undecodable ? "" : " (bytes after it)");
	}
	if (!sk_X509_CRL_push(sk, c)) {
		X509_CRL_free(c);
		return cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "%s", b->what);
	}
	return CS_OK;
}

static const struct intake chain_intake = {
	"CA chain", CS_PEM_CERT, "a CERTIFICATE", "certificate", chain_block,
};
static const struct intake crl_intake = {
	"CRL", CS_PEM_CRL, "an X509 CRL", "CRL", crl_block,
};

/*
 * DER: one SEQUENCE filling the input. A certificate or CRL is longer
 * than 127 bytes, so its length is in long form (0x81..0x84 after the
 * 0x30), a byte text never has there; a short form must give the whole
 * input. So a PEM file whose first text line starts with '0' ("0 s:/CN=",
 * as openssl s_client -showcerts prints) is still read as PEM.
 */
static bool
is_der(const uint8_t *p, size_t len)
{
	return len >= 2 && p[0] == 0x30 &&
	    ((p[1] >= 0x81 && p[1] <= 0x84) ||
	        (p[1] < 0x80 && (size_t)p[1] + 2 == len));
}

/*
 * Every PEM block of [p, p + len) through in->fn, or the whole input as
 * one DER object (block 0); *count: the PEM blocks seen (1 for DER).
 */
static enum cs_err
pem_or_der(struct cs_verifier *v, const struct intake *in, const uint8_t *p,
    size_t len, void *arg, int *count)
{
	struct pemblock blk;
	enum cs_err r = CS_ERR_INTERNAL;

	*count = 0;
	if (!is_der(p, len))
		return pem_each(v, in, p, len, arg, count);
	memset(&blk, 0, sizeof(blk));
	blk.what = in->what;
	blk.p = p;
	blk.len = len;
	if ((r = in->fn(v, &blk, arg)) != CS_OK)
		return r;
	*count = 1;
	return CS_OK;
}

static enum cs_err
chain_decode(struct cs_verifier *v, const uint8_t *p, size_t len,
    STACK_OF(X509) * sk)
{
	int n = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (p == NULL || len == 0 || len > CSA_FILE_MAX)
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED, "CA chain: empty");
	if ((r = pem_or_der(v, &chain_intake, p, len, sk, &n)) != CS_OK)
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
	enum cs_err r = CS_ERR_INTERNAL;

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
		    csa_verify_self_signed(x);
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
	X509_CRL *c = NULL;
	int n = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (bytes == NULL || len == 0 || len > CSA_FILE_MAX)
		return cs_ctx_fail(v->ctx, CS_ERR_MALFORMED, "CRL: bad length");
	if ((sk = sk_X509_CRL_new_null()) == NULL)
		return cs_ctx_fail_crypto(v->ctx, CS_ERR_NOMEM, "CRL");
	if ((r = pem_or_der(v, &crl_intake, bytes, len, sk, &n)) != CS_OK)
		goto out;
	if (n == 0) {
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

const struct cs_ca_sublevel *
csa_verify_find_sub(const struct csa_levelmap *m, const char *name)
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
bool
csa_verify_sublevel_conflict(const struct cs_verifier *v, const char *name,
    char *msg, size_t cap)
{
	const struct cs_ca_sublevel *s, *first = NULL;
	const struct vca *by = NULL;
	char a[96], b[96];
	size_t i;

	for (i = 0; i < v->ncas; i++) {
		if (!v->cas[i].mapped ||
		    (s = csa_verify_find_sub(&v->cas[i].map, name)) == NULL)
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
	if (csa_verify_sublevel_conflict(v, name, msg, sizeof(msg)))
		return cs_ctx_fail(v->ctx, CS_ERR_ARG, "%s", msg);
	snprintf(v->sublevel, sizeof(v->sublevel), "%s", name);
	return CS_OK;
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
		    csa_verify_find_sub(&v->cas[i].map, name) != NULL)
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
