/*
 * YubiKey PIV attestation: parse the statement a card returns for a slot
 * (ATTEST, INS F9) and the device's F9 certificate, verify the chain to a
 * manufacturer root, and match the attested key.
 *
 * Chain shape (piv-apdu.md §6): statement ← F9 certificate ← [vendor
 * intermediates] ← root. The F9 certificate is often not marked as a CA,
 * so the statement is checked against F9 explicitly (signature, issuer
 * name, validity) and only F9 upwards goes through ordinary X.509 path
 * validation. The non-CA quirk is tolerated at the F9 position only. The
 * vendor intermediates come from the trust store, never from the request.
 *
 * Certificates cross this API as DER or PEM bytes (auto-detected).
 */
#ifndef CARDSMITH_ATTEST_H
#define CARDSMITH_ATTEST_H

#include "common.h"

/* Largest certificate accepted (a YubiKey object holds ~3 KB). */
#define CS_ATTEST_CERT_MAX (16u * 1024u)

/* Trust store of manufacturer roots and untrusted intermediates. Opaque. */
struct cs_trust;

/*
 * ctx (may be NULL) is borrowed, must outlive the store, and receives the
 * error detail of the cs_trust_add* calls. Caller frees with cs_trust_free.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_trust_new(struct cs_ctx *ctx,
    struct cs_trust **out);
CS_EXPORT void cs_trust_free(struct cs_trust *t);

enum cs_trust_flags {
	/* Treat every certificate in the input as an anchor. */
	CS_TRUST_ANCHOR = 1 << 0,
	/* Treat every certificate as an untrusted intermediate. */
	CS_TRUST_INTERMEDIATE = 1 << 1,
};
/*
 * Add the certificates in bytes (PEM with any number of certificates and
 * comment lines, or one DER certificate). Without flags, self-signed CA
 * certificates become anchors and the others intermediates, except the
 * legacy Yubico U2F root, which is held back (an anchor only with
 * CS_ATTEST_ALLOW_U2F_ROOT at verification) however it arrives. Returns
 * CS_ERR_MALFORMED if no certificate is found, CS_ERR_LIMIT for input over
 * 1 MiB, CS_ERR_POLICY for a device's own attestation certificate (an F9
 * or a slot statement: any Yubico device extension, or a "YubiKey PIV
 * Attestation <slot>" subject), which can never be a trust anchor or a
 * trusted intermediate. On failure the store is unchanged.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_trust_add(struct cs_trust *t,
    const uint8_t *bytes, size_t len, unsigned int flags);
/* Same, from a file. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_trust_add_file(struct cs_trust *t,
    const char *path, unsigned int flags);
/*
 * Load the shipped Yubico PIV roots and intermediates from path (NULL: the
 * installed default, CS_DATADIR/yubico-piv-roots.pem; never a path relative
 * to the working directory, which would let its owner pick the anchors).
 * The legacy U2F root is held back unless CS_ATTEST_ALLOW_U2F_ROOT is later
 * passed to cs_attest_verify.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_trust_load_default(struct cs_trust *t,
    const char *path);
/*
 * Is every certificate in bytes (PEM with any number of certificates, or
 * one DER certificate) already in the store, byte for byte (anchors,
 * intermediates or the held-back U2F root)? CS_OK if so; CS_ERR_VERIFY
 * naming the first one that is not, CS_ERR_POLICY if that one is a device
 * attestation certificate (an F9 or a statement, which is never part of a
 * chain), CS_ERR_MALFORMED for empty or undecodable input. For callers
 * handed a "chain" along
 * with an attestation: such certificates are only ever recognised, never
 * added (cs_attest_verify trusts the store alone).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_trust_check_known(
    const struct cs_trust *t, const uint8_t *bytes, size_t len);
/* Anchors (not counting a held-back U2F root) or intermediates loaded. */
CS_EXPORT size_t cs_trust_count(const struct cs_trust *t, bool anchors);

/* What a statement (and its F9 certificate) says. */
struct cs_attest_info {
	int slot; /* from subject "YubiKey PIV Attestation 9a"; -1 if absent */
	bool has_firmware;
	uint8_t firmware[3]; /* .3.3 */
	bool has_serial;
	uint64_t serial; /* .3.7 */
	bool has_policy;
	uint8_t pin_policy, touch_policy; /* .3.8 raw (PIV 1..5 / 1..3) */
	bool has_form_factor;
	uint8_t form_factor; /* .3.9; bit 0x80 = FIPS edition */
	/* From the F9 certificate (only after cs_attest_verify / _parse_f9). */
	bool f9_fips;        /* .3.10 */
	bool f9_cspn;        /* .3.11 on a certificate means CSPN */
	bool has_f9_firmware;
	uint8_t f9_firmware[3];
	uint8_t key_alg;     /* PIV algorithm id of the attested key, 0 unknown */
	char subject[128];   /* statement subject, one-line */
	char issuer[256];    /* statement issuer (= F9 subject) */
	char root[256];      /* subject of the anchor the chain ended in */
	int64_t not_before, not_after; /* statement validity, Unix time */
};

/*
 * Parse a statement's Yubico extensions and subject (no verification).
 * Unknown extensions are ignored; malformed Yubico extensions are
 * CS_ERR_MALFORMED with the OID named in ctx.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_attest_parse(struct cs_ctx *ctx,
    const uint8_t *stmt, size_t stmt_len, struct cs_attest_info *info);

enum cs_attest_flags {
	/* Accept the legacy Yubico U2F root (pathlen 0) as a PIV anchor. */
	CS_ATTEST_ALLOW_U2F_ROOT = 1 << 0,
	/* Skip validity-period checks (for offline audits of old data). */
	CS_ATTEST_NO_TIME = 1 << 1,
};

/*
 * Verify statement stmt against F9 certificate f9 and the trust store at
 * time `at` (Unix seconds; 0 = now), filling info. The depths are fixed:
 * stmt must be issued by f9 (name and signature), and f9 directly by a
 * certificate of the store, whose path to an anchor is validated with the
 * store's intermediates only; nothing the caller supplies besides stmt
 * and f9 takes part. A slot statement in the F9 position is refused. An
 * unknown critical extension on the statement fails (RFC 5280 §4.2).
 * CS_ERR_VERIFY with a precise reason in ctx ("statement signature does
 * not verify with the F9 key", "F9 certificate: its issuer 'CN=…' is not a
 * manufacturer CA in the trust store (no trusted manufacturer root)", "F9
 * certificate: 'CN=YubiKey PIV Attestation 9a' is a slot attestation
 * statement, not a device F9 certificate", "statement issuer does not
 * match the F9 subject", "statement expired", …); CS_ERR_MALFORMED for
 * undecodable input.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_attest_verify(struct cs_ctx *ctx,
    const struct cs_trust *trust, const uint8_t *stmt, size_t stmt_len,
    const uint8_t *f9, size_t f9_len, int64_t at, unsigned int flags,
    struct cs_attest_info *info);

/*
 * Does the statement attest public key spki (DER SubjectPublicKeyInfo, or
 * PEM public key)? CS_OK if the keys are equal, CS_ERR_VERIFY ("attested
 * key differs from the given key") if not.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_attest_match_key(struct cs_ctx *ctx,
    const uint8_t *stmt, size_t stmt_len, const uint8_t *spki,
    size_t spki_len);

/*
 * Extract an attestation embedded in a CSR's extensionRequest (DER or PEM
 * CSR): statement from 1.3.6.1.4.1.41482.3.1 (or the legacy .3.11 used by
 * yubico-piv-tool < 2.7.2), F9 certificate from .3.2. Outputs are DER;
 * caller frees with cs_free. CS_ERR_NOT_FOUND if the CSR carries none.
 * Extraction only: the caller still verifies the CSR signature (proof of
 * possession) and that the CSR key is the attested one
 * (cs_attest_match_key).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_attest_from_csr(struct cs_ctx *ctx,
    const uint8_t *csr, size_t csr_len, uint8_t **stmt, size_t *stmt_len,
    uint8_t **f9, size_t *f9_len);

/* Human names for policy values ("always", "cached"); never NULL. */
CS_EXPORT const char *cs_attest_pin_policy_str(uint8_t v);
CS_EXPORT const char *cs_attest_touch_policy_str(uint8_t v);
/* Form factor name ("USB-A keychain") of v & 0x0f; never NULL. */
CS_EXPORT const char *cs_attest_form_factor_str(uint8_t v);

#endif
