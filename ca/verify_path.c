/*
 * Relying-party verifier, the decision: every path from the leaf through
 * the CA certificates to an anchor (bounded), each validated by OpenSSL
 * through exactly its own certificates with explicit policy and the CRLs
 * (revocation), judged against the required level, sub-level, policy and
 * purpose; the best verdict wins (cs_verify_cert). The trust input is
 * verify.c, the leaf's claims verify_claim.c.
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
	enum cs_err r = CS_ERR_INTERNAL;

	memset(pr, 0, sizeof(*pr));
	pr->iss = &v->cas[p->at[0]];
	pr->anc = &v->cas[p->at[p->n - 1]];
	pr->ncl = csa_verify_claims_of(&lc->lp, pr->iss, pr->anc, pr->cl);
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
			csa_verify_claim_why(&pr->cl[i], pr->iss, pr->anc, dst, cap);
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
	    (want = csa_verify_find_sub(&pr->anc->map, v->sublevel)) == NULL) {
		snprintf(res->reason, sizeof(res->reason),
		    "the trust anchor %.200s defines no sub-level %s",
		    pr->anc->name, v->sublevel);
		return CS_ERR_POLICY;
	}
	got = level ? best_claim(pr, lc->require, want) : top;
	if (level && got == NULL) {
		if (top != NULL)
			csa_verify_claim_text(top, have, sizeof(have));
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
	if (csa_verify_self_signed(lc->leaf)) {
		r = deny(v, res, CS_ERR_VERIFY,
		    "the certificate is self-signed; it must be issued by a "
		    "CA certificate of the chain");
		goto out;
	}
	if (v->sublevel[0] != '\0' &&
	    csa_verify_sublevel_conflict(v, v->sublevel, msg, sizeof(msg))) {
		r = deny(v, res, CS_ERR_ARG, "%s", msg);
		goto out;
	}
	lc->require = require;
	lc->at = at;
	lc->purpose = csa_verify_purpose_check(v, lc->leaf, res);
	snprintf(lc->purpose_why, sizeof(lc->purpose_why), "%s", res->reason);
	res->reason[0] = '\0';
	csa_verify_leaf_policies(lc->leaf, &lc->lp);
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
