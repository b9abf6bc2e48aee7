/*
 * cardsmith relying-party verifier: decides, for a client certificate a
 * gateway or `cardsmith verify` was handed, whether it chains to the CA's
 * own trust chain, carries the required assurance level or sub-level, fits
 * the purpose and is not revoked. Trust comes only from the caller's own
 * chain (cs_verify_add_chain); nothing the client sends is trusted.
 *
 * Split from ca.h (which includes this header) so the CA-side and the
 * relying-party API each stay one readable file.
 */
#ifndef CARDSMITH_VERIFY_H
#define CARDSMITH_VERIFY_H

#include "ca.h"

/* Verifier state: CA certificates, CRLs, level map. Opaque. */
struct cs_verifier;

CS_EXPORT CS_MUST_CHECK enum cs_err cs_verify_new(struct cs_ctx *ctx,
    struct cs_verifier **out);
CS_EXPORT void cs_verify_free(struct cs_verifier *v);
/*
 * Add the relying party's trusted CA certificates (PEM, any number, or one
 * DER); this is the only way certificates join the verifier, and what it
 * is given here it trusts.
 *
 * Input: every PEM block must be a certificate that decodes (else
 * CS_ERR_MALFORMED naming the block and its line), a DER input exactly
 * one certificate. Every one must be a CA certificate (basicConstraints
 * CA:TRUE; keyUsage, if present, with keyCertSign), else CS_ERR_ARG and
 * none of this call's certificates is added.
 *
 * Anchors: a certificate becomes a trust anchor when it is self-signed:
 * its issuer name equals its subject name, it passes as its own issuer
 * (an authorityKeyIdentifier, if present, names its own key) and its
 * signature verifies with its own public key. Every other certificate
 * (issued by another CA, or self-issued under another key) is an
 * untrusted intermediate: it only helps build a path from a leaf to an
 * anchor, and counts only on a path that ends in one. There is no other
 * marking of trust: each self-signed CA certificate given here is an
 * anchor.
 *
 * So callers pass only the relying party's own trust configuration (its
 * --chain file: the CA chain it chose to trust), never certificates that
 * came with the client (a TLS handshake's chain, an attestation chain, a
 * bundle sent along with the leaf): a client could then send a
 * self-signed CA of its own and become its own anchor. Client-supplied
 * certificates go only to cs_verify_cert, which trusts nothing in them.
 *
 * Levels come from the level maps (<arc>.2.1) of an anchor and of the
 * leaf's issuer on a validated path (cs_verify_cert), so they too must
 * come from here. The order of the certificates, and of several calls,
 * does not matter; a certificate given twice counts once.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_verify_add_chain(struct cs_verifier *v,
    const uint8_t *bytes, size_t len);
/*
 * Add CRLs (PEM, any number, or one DER with nothing after it; a corrupt
 * PEM block is CS_ERR_MALFORMED naming it); revocation is then checked:
 * the leaf against a CRL of its issuer (required), each CA certificate of
 * the path against a CRL of its own issuer when one was added.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_verify_add_crl(struct cs_verifier *v,
    const uint8_t *bytes, size_t len);
/*
 * Require this policy OID explicitly (for CAs without the map, e.g.
 * FPKI-style CAs): the leaf must assert it and the path be valid for it.
 * With a required level as well, both must hold; the level is still
 * established only through the level maps (see cs_verify_cert).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_verify_set_policy(struct cs_verifier *v,
    const char *oid);
/*
 * Require sub-level `name` instead of a level: cs_verify_cert then accepts
 * a leaf of that sub-level or of a stricter one (same parent level, both
 * minimums at least as high) as the anchor's level map of the path
 * defines it, and refuses plain hardware-attested. The require argument
 * is ignored. CS_ERR_ARG if the chain added so far defines name with two
 * different parents or minimums (cs_verify_cert refuses then too).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_verify_require_sublevel(
    struct cs_verifier *v, const char *name);

/*
 * What the leaf is accepted for. Every purpose refuses a CA certificate
 * (basicConstraints CA:TRUE or keyUsage keyCertSign). Except for ANY, the
 * keyUsage, if present, must include digitalSignature, and the
 * extendedKeyUsage, if present, the purpose's OID (anyExtendedKeyUsage
 * does not count).
 */
enum cs_verify_purpose {
	CS_VERIFY_PURPOSE_CLIENT_AUTH = 0, /* default: clientAuth, .3.2 */
	CS_VERIFY_PURPOSE_SMARTCARD_LOGON, /* 1.3.6.1.4.1.311.20.2.2 */
	CS_VERIFY_PURPOSE_CARD_AUTH, /* id-PIV-cardAuth 2.16.840.1.101.3.6.8 */
	CS_VERIFY_PURPOSE_ANY, /* any end-entity certificate */
};

/* Default CS_VERIFY_PURPOSE_CLIENT_AUTH. CS_ERR_ARG for an unknown one. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_verify_set_purpose(struct cs_verifier *v,
    enum cs_verify_purpose purpose);
/* "client-auth", "smartcard-logon", "card-auth", "any"; CS_ERR_ARG else. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_verify_purpose_parse(const char *name,
    enum cs_verify_purpose *out);
/* Static string; "unknown" out of range. */
CS_EXPORT const char *cs_verify_purpose_name(enum cs_verify_purpose purpose);

struct cs_verify_result {
	bool accepted;
	/*
	 * Highest level the leaf proves: its OID passed explicit-policy
	 * validation on the validated path, whose anchor's and issuing CA's
	 * level maps agree on it. CS_CA_LEVEL_NONE when none does.
	 */
	enum cs_ca_level level;
	char policy_oid[CS_CA_OID_MAX]; /* the OID that matched, or "" */
	char reason[CS_CA_REASON_MAX];
	char subject[CS_CA_NAME_MAX];
	char issuer[CS_CA_NAME_MAX];
	char serial[CS_CA_SERIAL_MAX];
	/* The leaf's sub-level (level is then its parent); "" for none. */
	char sublevel[CS_CA_SUBLEVEL_NAME_MAX];
	bool level_verified; /* level != CS_CA_LEVEL_NONE, said explicitly */
	/*
	 * Why a higher level the leaf asserts was not verified (e.g. "...
	 * is not valid for the path: a CA in the chain does not assert
	 * it"); "" when nothing it asserts above level was left out.
	 */
	char level_note[CS_CA_REASON_MAX];
};

/*
 * Verify leaf cert (PEM or DER; of PEM only the first certificate, the
 * rest is ignored) at time at (0 = now): chain through CA certificates of
 * cs_verify_add_chain to an anchor (a self-signed leaf is refused, even
 * one the chain lists; every path there is tried, the best verdict wins),
 * the leaf must fit the purpose, revocation via the CRLs. A level (or
 * sub-level) counts on a path only if the anchor's level map defines its
 * OID, the issuing CA's map agrees, the leaf's own certificatePolicies
 * contain the OID and not anyPolicy, and the OID passes explicit-policy
 * validation on the path; so does the cs_verify_set_policy OID. The
 * highest such level is reported (res.level, CS_CA_LEVEL_NONE if none)
 * and must be at least `require`. A sub-level satisfies its parent level
 * and everything below. CS_OK when accepted; CS_ERR_MALFORMED (cert does
 * not decode), CS_ERR_VERIFY (chain, self-signed, signature, expiry,
 * revoked) or CS_ERR_POLICY (level, policy, including a CA of the path
 * not asserting the OID, purpose, CA certificate) with the reason in res
 * and ctx.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_verify_cert(struct cs_verifier *v,
    const uint8_t *cert, size_t len, enum cs_ca_level require, int64_t at,
    struct cs_verify_result *res);

/* --- firmware and key checks (exposed for audits and tests) --- */

/*
 * ROCA (CVE-2017-15361) fingerprint of an RSA modulus (big-endian bytes):
 * true if the modulus has the structure of Infineon RSALib keys.
 */
CS_EXPORT bool cs_ca_roca_is_weak(const uint8_t *modulus, size_t len);

/*
 * Is oid level's own OID in the level map of an anchor added with
 * cs_verify_add_chain? (cardsmith verify allows --policy together with
 * --require-level only then.)
 */
CS_EXPORT bool cs_verify_policy_is_level(const struct cs_verifier *v,
    const char *oid, enum cs_ca_level level);
/*
 * Is name a level name or a sub-level that the level map of an anchor
 * added with cs_verify_add_chain defines? (cardsmith verify treats any
 * other --require-level as a usage error.)
 */
CS_EXPORT bool cs_verify_has_level_name(const struct cs_verifier *v,
    const char *name);
/*
 * The names cs_verify_has_level_name accepts, ", "-separated, into
 * dst[0..cap) (truncated at a name, always NUL-terminated if cap > 0).
 */
CS_EXPORT void cs_verify_level_names(const struct cs_verifier *v, char *dst,
    size_t cap);

#endif
