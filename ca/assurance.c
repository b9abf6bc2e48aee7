/*
 * Evidence → assurance level. All attestation checks go through the
 * cs_attest_* calls of lib/attest.c; this file adds what only the CA
 * knows: the profile's slots, algorithms and PIN/touch minimums, the
 * firmware advisories, and which level the evidence entitles to.
 *
 * hardware-attested: statement + F9 chain to a trusted manufacturer root,
 *   attested key == CSR key, slot and policies meet the profile, firmware
 *   not denied.
 * hardware-enrolled: CS_CA_ISSUE_ENROLLED from the in-process enrollment
 *   path with the GENERATE response's key == CSR key.
 * software: anything else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cardsmith/x509_ossl.h"

#include "ca_int.h"

#include "banned.h"

/* --- decisions --- */

static enum cs_err refuse(struct cs_ctx *ctx, struct cs_ca_decision *d,
    enum cs_err code, const char *fmt, ...) CS_PRINTF(4, 5);

static enum cs_err
refuse(struct cs_ctx *ctx, struct cs_ca_decision *d, enum cs_err code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	d->level = CS_CA_LEVEL_NONE;
	d->policy_oid[0] = '\0';
	return cs_ctx_fail(ctx, code, "%s", d->reason);
}

static void
warn(struct cs_ca_decision *d, const char *s)
{
	size_t n = strlen(d->warnings);

	snprintf(d->warnings + n, sizeof(d->warnings) - n, "%s%s",
	    n > 0 ? "; " : "", s);
}

static const char *
alg_name(uint32_t a)
{
	switch (a) {
	case CS_CA_ALG_P256:
		return "p256";
	case CS_CA_ALG_P384:
		return "p384";
	case CS_CA_ALG_RSA2048:
		return "rsa2048";
	case CS_CA_ALG_RSA3072:
		return "rsa3072";
	case CS_CA_ALG_RSA4096:
		return "rsa4096";
	case CS_CA_ALG_ED25519:
		return "ed25519";
	default:
		return "unsupported";
	}
}

static unsigned int
fwnum(const uint8_t f[3])
{
	return (unsigned int)f[0] << 16 | (unsigned int)f[1] << 8 | f[2];
}

#define FW(a, b, c) ((unsigned int)(a) << 16 | (unsigned int)(b) << 8 | (c))

/* Apply one rule; CS_OK unless denied. */
static enum cs_err
fw_rule(struct cs_ca *ca, const struct cs_ca_profile_info *pi,
    struct cs_ca_decision *d, uint8_t action, const char *what)
{
	char w[256];

	if (action == CS_CA_FW_DENY)
		return refuse(ca->ctx, d, CS_ERR_POLICY,
		    "%s; profile %s denies it", what, pi->name);
	if (action == CS_CA_FW_WARN) {
		snprintf(w, sizeof(w), "%s", what);
		warn(d, w);
	}
	return CS_OK;
}

static enum cs_err
firmware_rules(struct cs_ca *ca, const struct cs_ca_profile_info *pi,
    struct cs_ca_decision *d, uint32_t alg)
{
	char what[200];
	unsigned int fw;
	bool rsa =
	    (alg &
	        (CS_CA_ALG_RSA2048 | CS_CA_ALG_RSA3072 | CS_CA_ALG_RSA4096)) !=
	    0;
	bool ec = (alg & (CS_CA_ALG_P256 | CS_CA_ALG_P384)) != 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (!d->has_firmware)
		return CS_OK;
	fw = fwnum(d->firmware);
	if (rsa && fw >= FW(4, 2, 0) && fw <= FW(4, 3, 4)) {
		snprintf(what, sizeof(what),
		    "firmware %u.%u.%u generates "
		    "ROCA-weak RSA keys (CVE-2017-15361, YSA-2017-01)",
		    d->firmware[0], d->firmware[1], d->firmware[2]);
		if ((r = fw_rule(ca, pi, d, pi->fw_roca, what)) != CS_OK)
			return r;
	}
	if (ec && fw < FW(5, 7, 0)) {
		snprintf(what, sizeof(what),
		    "firmware %u.%u.%u is affected by "
		    "YSA-2024-03 (ECDSA side channel, fixed in 5.7.0)",
		    d->firmware[0], d->firmware[1], d->firmware[2]);
		if ((r = fw_rule(ca, pi, d, pi->fw_ysa_2024_03, what)) != CS_OK)
			return r;
	}
	if (fw == FW(4, 4, 2) || fw == FW(4, 4, 4)) {
		snprintf(what, sizeof(what),
		    "firmware %u.%u.%u (FIPS series) "
		    "has reduced randomness after power-up (YSA-2019-02, "
		    "fixed in 4.4.5)",
		    d->firmware[0], d->firmware[1], d->firmware[2]);
		if ((r = fw_rule(ca, pi, d, pi->fw_fips_rng, what)) != CS_OK)
			return r;
	}
	return CS_OK;
}

static enum cs_err
gather(struct cs_ca *ca, const struct cs_ca_issue_req *req,
    struct cs_ca_decision *d, struct csa_evidence *ev)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if (req->stmt != NULL) {
		if ((r = csa_evidence_der(ca->ctx, "attestation statement",
		         req->stmt, req->stmt_len, &ev->stmt, &ev->stmt_len)) !=
		    CS_OK)
			return refuse(ca->ctx, d, r, "%s",
			    cs_ctx_errmsg(ca->ctx));
		if (req->f9 == NULL)
			return refuse(ca->ctx, d, CS_ERR_VERIFY,
			    "attestation statement given without the F9 "
			    "certificate (--intermediate)");
		if ((r = csa_evidence_der(ca->ctx, "F9 certificate", req->f9,
		         req->f9_len, &ev->f9, &ev->f9_len)) != CS_OK)
			return refuse(ca->ctx, d, r, "%s",
			    cs_ctx_errmsg(ca->ctx));
		return CS_OK;
	}
	r = cs_attest_from_csr(ca->ctx, req->csr, req->csr_len, &ev->stmt,
	    &ev->stmt_len, &ev->f9, &ev->f9_len);
	if (r == CS_ERR_NOT_FOUND) {
		cs_ctx_clear_error(ca->ctx);
		return CS_OK;
	}
	if (r != CS_OK)
		return refuse(ca->ctx, d, r, "attestation in the CSR: %s",
		    cs_ctx_errmsg(ca->ctx));
	if (ev->f9 == NULL)
		return refuse(ca->ctx, d, CS_ERR_VERIFY,
		    "the CSR embeds an attestation but no F9 certificate");
	return CS_OK;
}

static enum cs_err
spki_of(struct cs_ctx *ctx, X509_REQ *csr, uint8_t **der, size_t *len)
{
	unsigned char *p = NULL;
	int n;

	*der = NULL;
	*len = 0;
	if ((n = i2d_PUBKEY(X509_REQ_get0_pubkey(csr), &p)) <= 0)
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "CSR public key");
	if ((*der = malloc((size_t)n)) == NULL) {
		OPENSSL_free(p);
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "CSR public key");
	}
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	return CS_OK;
}

/* An attested policy and how it ranks against a profile's minimum. */
struct policy_floor {
	const char *what; /* "PIN", "touch" */
	int (*rank)(uint8_t);
	const char *(*str)(uint8_t);
};

static const struct policy_floor pin_floor = {
	"PIN", csa_pin_rank, cs_attest_pin_policy_str,
};
static const struct policy_floor touch_floor = {
	"touch", csa_touch_rank, cs_attest_touch_policy_str,
};

/*
 * The attested policy v (has: the statement carries one) against the
 * profile's minimum min (0: none): below it, or unknown, is refused.
 */
static enum cs_err
check_floor(struct cs_ca *ca, const struct cs_ca_profile_info *pi,
    struct cs_ca_decision *d, const struct policy_floor *f, bool has,
    uint8_t v, uint8_t min)
{
	if (min == 0 || (has && f->rank(v) >= f->rank(min)))
		return CS_OK;
	return refuse(ca->ctx, d, CS_ERR_POLICY,
	    "attested %s policy '%s' is below the profile %s minimum '%s'",
	    f->what, has ? f->str(v) : "unknown", pi->name, f->str(min));
}

static enum cs_err
check_slot(struct cs_ca *ca, const struct cs_ca_profile_info *pi,
    struct cs_ca_decision *d, const char *how)
{
	if (d->slot < 0x80 || d->slot > 0x9f) {
		if (pi->slots != 0)
			return refuse(ca->ctx, d, CS_ERR_POLICY,
			    "profile %s needs the key's slot; none %s",
			    pi->name, how);
		return CS_OK;
	}
	if (pi->slots != 0 &&
	    (pi->slots & ((uint32_t)1 << (d->slot - 0x80))) == 0)
		return refuse(ca->ctx, d, CS_ERR_POLICY,
		    "%s slot %02x is not allowed by profile %s", how, d->slot,
		    pi->name);
	return CS_OK;
}

/*
 * Certificates that come with a request never join the chain: with an F9
 * marked CA:TRUE a genuine slot statement could otherwise pose as an F9
 * and vouch for any key its holder signs for. cs_attest_verify uses the
 * CA's trust store alone, so a chain sent along can only be redundant; what
 * the store lacks is named in a warning, garbage is refused.
 */
static enum cs_err
check_chain_known(struct cs_ca *ca, const struct cs_ca_issue_req *req,
    const struct cs_trust *trust, struct cs_ca_decision *d, bool *ignored)
{
	char w[CS_CA_REASON_MAX];
	enum cs_err r = CS_ERR_INTERNAL;

	*ignored = false;
	if (req->intermediates == NULL)
		return CS_OK;
	r = cs_trust_check_known(trust, req->intermediates,
	    req->intermediates_len);
	if (r == CS_OK)
		return CS_OK;
	if (r != CS_ERR_VERIFY && r != CS_ERR_POLICY)
		return refuse(ca->ctx, d, r, "attestation chain: %s",
		    cs_ctx_errmsg(ca->ctx));
	/* A device certificate was sent along: no CA to trust, so no hint. */
	snprintf(w, sizeof(w), "attestation chain ignored: %s%s",
	    cs_ctx_errmsg(ca->ctx),
	    r == CS_ERR_POLICY
	        ? ""
	        : " (trust a manufacturer's published intermediate with "
	          "'cardsmith ca trust add')");
	warn(d, w);
	*ignored = true;
	cs_ctx_clear_error(ca->ctx);
	return CS_OK;
}

static enum cs_err
attested(struct cs_ca *ca, const struct cs_ca_issue_req *req,
    const struct cs_ca_profile_info *pi, X509_REQ *csr,
    struct cs_ca_decision *d, const struct csa_evidence *ev)
{
	struct cs_attest_info ai;
	const struct cs_trust *trust = NULL;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	uint64_t fs;
	unsigned int flags = 0;
	bool ignored = false;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csa_trust_get(ca, &trust)) != CS_OK)
		goto out;
	if ((r = check_chain_known(ca, req, trust, d, &ignored)) != CS_OK)
		goto out;
	if (req->flags & CS_CA_ISSUE_ATTEST_NO_TIME)
		flags |= CS_ATTEST_NO_TIME;
	if ((r = cs_attest_verify(ca->ctx, trust, ev->stmt, ev->stmt_len,
	         ev->f9, ev->f9_len, req->at, flags, &ai)) != CS_OK) {
		r = refuse(ca->ctx, d, CS_ERR_VERIFY, "attestation: %s%s%s",
		    cs_ctx_errmsg(ca->ctx), ignored ? "; " : "",
		    ignored ? d->warnings : "");
		goto out;
	}
	if ((r = spki_of(ca->ctx, csr, &spki, &spki_len)) != CS_OK)
		goto out;
	if ((r = cs_attest_match_key(ca->ctx, ev->stmt, ev->stmt_len, spki,
	         spki_len)) != CS_OK) {
		r = refuse(ca->ctx, d, CS_ERR_VERIFY,
		    "attestation is for a "
		    "different key than the CSR's (%s)",
		    cs_ctx_errmsg(ca->ctx));
		goto out;
	}
	d->has_card_serial = ai.has_serial;
	d->card_serial = ai.serial;
	d->has_firmware = ai.has_firmware || ai.has_f9_firmware;
	memcpy(d->firmware, ai.has_firmware ? ai.firmware : ai.f9_firmware, 3);
	if (ai.has_policy) {
		d->pin_policy = ai.pin_policy;
		d->touch_policy = ai.touch_policy;
	}
	if (csa_f9_serial(ev->f9, ev->f9_len, &fs) &&
	    (!ai.has_serial || fs != ai.serial)) {
		r = refuse(ca->ctx, d, CS_ERR_VERIFY,
		    "card serial mismatch: "
		    "the statement says %llu, the F9 certificate %llu",
		    (unsigned long long)ai.serial, (unsigned long long)fs);
		goto out;
	}
	if (req->expected_card_serial != 0 &&
	    (!ai.has_serial || ai.serial != req->expected_card_serial)) {
		r = refuse(ca->ctx, d, CS_ERR_VERIFY,
		    "card serial mismatch: "
		    "expected %llu, the attestation says %s%llu",
		    (unsigned long long)req->expected_card_serial,
		    ai.has_serial ? "" : "nothing ",
		    (unsigned long long)ai.serial);
		goto out;
	}
	d->slot = ai.slot;
	if (req->slot >= 0 && req->slot != ai.slot) {
		r = refuse(ca->ctx, d, CS_ERR_POLICY,
		    "attested slot %02x "
		    "differs from the requested slot %02x",
		    ai.slot, req->slot);
		goto out;
	}
	if ((r = check_slot(ca, pi, d, "attested")) != CS_OK)
		goto out;
	if ((r = check_floor(ca, pi, d, &pin_floor, ai.has_policy,
	         ai.pin_policy, pi->min_pin_policy)) != CS_OK ||
	    (r = check_floor(ca, pi, d, &touch_floor, ai.has_policy,
	         ai.touch_policy, pi->min_touch_policy)) != CS_OK)
		goto out;
	snprintf(d->reason, sizeof(d->reason),
	    "attestation verified: card "
	    "%llu, firmware %u.%u.%u, slot %02x, chain to '%s'",
	    (unsigned long long)ai.serial, d->firmware[0], d->firmware[1],
	    d->firmware[2], (unsigned int)ai.slot, ai.root);
	d->proven = CS_CA_LEVEL_HW_ATTESTED;
	r = CS_OK;
out:
	cs_free(spki);
	return r;
}

static enum cs_err
enrolled(struct cs_ca *ca, const struct cs_ca_issue_req *req,
    const struct cs_ca_profile_info *pi, X509_REQ *csr,
    struct cs_ca_decision *d)
{
	EVP_PKEY *k = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	/* exactly one DER SubjectPublicKeyInfo, through lib's one decoder */
	if (req->enrolled_spki == NULL || req->enrolled_spki_len == 0 ||
	    cs_x509_pubkey_decode(NULL, req->enrolled_spki,
	        req->enrolled_spki_len, 0, &k) != CS_OK) {
		ERR_clear_error();
		return refuse(ca->ctx, d, CS_ERR_ARG,
		    "enrollment: no generated public key given");
	}
	if (EVP_PKEY_eq(k, X509_REQ_get0_pubkey(csr)) != 1) {
		EVP_PKEY_free(k);
		ERR_clear_error();
		return refuse(ca->ctx, d, CS_ERR_VERIFY,
		    "enrollment: the key "
		    "the card generated differs from the CSR's key");
	}
	EVP_PKEY_free(k);
	d->slot = req->slot;
	if ((r = check_slot(ca, pi, d, "enrolled")) != CS_OK)
		return r;
	snprintf(d->reason, sizeof(d->reason),
	    "key generated on the card by "
	    "this station (slot %02x), no attestation",
	    (unsigned int)req->slot);
	d->proven = CS_CA_LEVEL_HW_ENROLLED;
	return CS_OK;
}

static enum cs_err
check_key(struct cs_ca *ca, const struct cs_ca_profile_info *pi, X509_REQ *csr,
    struct cs_ca_decision *d, uint32_t *alg)
{
	EVP_PKEY *k = X509_REQ_get0_pubkey(csr);
	unsigned int bits;
	enum cs_err r = CS_ERR_INTERNAL;

	*alg = csa_key_alg(k, &bits);
	if (*alg == 0)
		return refuse(ca->ctx, d, CS_ERR_POLICY,
		    "CSR key (%s, %u "
		    "bits) is not a supported type or size",
		    OBJ_nid2sn(EVP_PKEY_get_base_id(k)), bits);
	if (pi->algs != 0 && (pi->algs & *alg) == 0)
		return refuse(ca->ctx, d, CS_ERR_POLICY,
		    "key algorithm %s is "
		    "not allowed by profile %s",
		    alg_name(*alg), pi->name);
	if (csa_key_is_roca(k) &&
	    (r = fw_rule(ca, pi, d, pi->fw_roca,
	         "RSA key "
	         "has the ROCA fingerprint (CVE-2017-15361)")) != CS_OK)
		return r;
	return CS_OK;
}

/*
 * The most specific sub-level the profile may grant whose minimums the
 * attested policies meet: the highest weight, the earlier-defined one on
 * a tie. NULL for none.
 */
static const struct cs_ca_sublevel *
pick_sublevel(const struct cs_ca *ca, const struct cs_ca_profile_info *pi,
    const struct cs_ca_decision *d)
{
	const struct cs_ca_sublevel *best = NULL, *s;
	size_t i, j;

	for (i = 0; i < ca->nsubs; i++) {
		s = &ca->subs[i];
		for (j = 0; j < pi->nsublevels; j++)
			if (strcmp(pi->sublevels[j], s->name) == 0)
				break;
		if (j == pi->nsublevels ||
		    !csa_sublevel_meets(s, d->pin_policy, d->touch_policy))
			continue;
		if (best == NULL ||
		    csa_sublevel_weight(s) > csa_sublevel_weight(best))
			best = s;
	}
	return best;
}

/*
 * A profile's fixed policy_oid must not claim more than the decided level:
 * the CA's OID of another level, a sub-level OID not granted here, or an
 * extra OID recorded for a higher level (ca init --extra-policy
 * LEVEL=OID). An OID the CA has not recorded counts as hardware-attested.
 */
static enum cs_err
check_policy_oid(struct cs_ca *ca, const struct cs_ca_profile_info *pi,
    struct cs_ca_decision *d)
{
	const char *oid = pi->policy_oid;
	size_t i;

	if (oid[0] == '\0')
		return CS_OK;
	for (i = 1; i < CS_CA_LEVEL_COUNT; i++) {
		if (!csa_oid_eq(oid, ca->oid[i]))
			continue;
		if (i == (size_t)d->level)
			return CS_OK;
		return refuse(ca->ctx, d, CS_ERR_POLICY,
		    "profile %s: policy_oid %s is this CA's %s OID, but the "
		    "certificate is %s",
		    pi->name, oid, cs_ca_level_name((enum cs_ca_level)i),
		    cs_ca_level_name(d->level));
	}
	for (i = 0; i < ca->nsubs; i++) {
		if (!csa_oid_eq(oid, ca->subs[i].oid))
			continue;
		if (d->level == CS_CA_LEVEL_HW_ATTESTED &&
		    strcmp(d->sublevel, ca->subs[i].name) == 0)
			return CS_OK;
		return refuse(ca->ctx, d, CS_ERR_POLICY,
		    "profile %s: policy_oid %s is the OID of sub-level %s, "
		    "which this certificate (%s) was not granted",
		    pi->name, oid, ca->subs[i].name,
		    cs_ca_level_name(d->level));
	}
	for (i = 0; i < ca->nextra; i++) {
		if (!csa_oid_eq(oid, ca->extra[i].oid))
			continue;
		if (ca->extra[i].level <= d->level)
			return CS_OK;
		return refuse(ca->ctx, d, CS_ERR_POLICY,
		    "profile %s: policy_oid %s stands for %s at this CA, but "
		    "the certificate is %s",
		    pi->name, oid, cs_ca_level_name(ca->extra[i].level),
		    cs_ca_level_name(d->level));
	}
	if (d->level < CS_CA_LEVEL_HW_ATTESTED)
		return refuse(ca->ctx, d, CS_ERR_POLICY,
		    "profile %s: policy_oid %s is not recorded for a level at "
		    "this CA (ca init --extra-policy LEVEL=OID) and so counts "
		    "as hardware-attested, but the certificate is %s",
		    pi->name, oid, cs_ca_level_name(d->level));
	return CS_OK;
}

enum cs_err
csa_assess(struct cs_ca *ca, const struct cs_ca_issue_req *req, X509_REQ *csr,
    struct cs_ca_decision *d, struct csa_evidence *ev)
{
	struct csa_profile_view pv;
	const struct cs_ca_profile_info *pi;
	const struct cs_ca_sublevel *sub;
	uint32_t alg;
	size_t n;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(d, 0, sizeof(*d));
	d->slot = -1;
	if (req->profile == NULL)
		return refuse(ca->ctx, d, CS_ERR_ARG, "no profile");
	csa_profile_view(req->profile, &pv);
	pi = pv.info;
	if (csa_profile_check_sublevels(ca, req->profile) != CS_OK)
		return refuse(ca->ctx, d, CS_ERR_POLICY, "%s",
		    cs_ctx_errmsg(ca->ctx));
	if ((r = check_key(ca, pi, csr, d, &alg)) != CS_OK ||
	    (r = gather(ca, req, d, ev)) != CS_OK)
		return r;
	/* A chain is evidence only beside an attestation; never ignored. */
	if (ev->stmt == NULL && req->intermediates != NULL)
		return refuse(ca->ctx, d, CS_ERR_VERIFY,
		    "an attestation chain was given, but no attestation "
		    "(--attestation and --intermediate, or a CSR that embeds "
		    "them)");
	if (ev->stmt != NULL) {
		if ((r = attested(ca, req, pi, csr, d, ev)) != CS_OK ||
		    (r = firmware_rules(ca, pi, d, alg)) != CS_OK)
			return r;
	} else if (req->flags & CS_CA_ISSUE_ENROLLED) {
		if ((r = enrolled(ca, req, pi, csr, d)) != CS_OK)
			return r;
	} else {
		d->proven = CS_CA_LEVEL_SOFTWARE;
		d->slot = req->slot;
		snprintf(d->reason, sizeof(d->reason),
		    "no attestation and "
		    "not generated by this station: software");
	}
	if (d->proven < pi->level)
		return refuse(ca->ctx, d, CS_ERR_POLICY,
		    "profile %s requires "
		    "%s; the evidence proves only %s (%s)",
		    pi->name, cs_ca_level_name(pi->level),
		    cs_ca_level_name(d->proven),
		    d->proven == CS_CA_LEVEL_SOFTWARE
		        ? "no attestation supplied"
		        : "no attestation");
	d->level = d->proven < pi->max_level ? d->proven : pi->max_level;
	snprintf(d->policy_oid, sizeof(d->policy_oid), "%s",
	    pi->policy_oid[0] != '\0' ? pi->policy_oid : ca->oid[d->level]);
	/* Still the leaf's only policy: the sub-level's OID replaces the
	 * level's; verifiers map it back to its parent (ca/README.md). */
	if (d->level == CS_CA_LEVEL_HW_ATTESTED &&
	    (sub = pick_sublevel(ca, pi, d)) != NULL) {
		snprintf(d->sublevel, sizeof(d->sublevel), "%s", sub->name);
		snprintf(d->policy_oid, sizeof(d->policy_oid), "%s", sub->oid);
		n = strlen(d->reason);
		snprintf(d->reason + n, sizeof(d->reason) - n,
		    "; sub-level %s (PIN %s, touch %s)", sub->name,
		    cs_attest_pin_policy_str(d->pin_policy),
		    cs_attest_touch_policy_str(d->touch_policy));
	}
	return check_policy_oid(ca, pi, d);
}

enum cs_err
cs_ca_assess(struct cs_ca *ca, const struct cs_ca_issue_req *req,
    struct cs_ca_decision *d)
{
	struct csa_evidence ev = { NULL, NULL, 0, 0 };
	X509_REQ *csr = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(d, 0, sizeof(*d));
	d->slot = -1;
	if ((r = csa_csr_decode(ca->ctx, req->csr, req->csr_len, &csr)) !=
	    CS_OK) {
		snprintf(d->reason, sizeof(d->reason), "%s",
		    cs_ctx_errmsg(ca->ctx));
		return r;
	}
	r = csa_assess(ca, req, csr, d, &ev);
	csa_evidence_release(&ev);
	X509_REQ_free(csr);
	return r;
}
