/*
 * cardsmith built-in CA: assurance levels from attestation evidence,
 * issuance profiles, pre-issuance lint, a durable registry, revocation and
 * CRLs, and the relying-party verifier a gateway calls.
 *
 * A certificate carries a hardware-issuance policy OID only when the CA has
 * proof that the key was generated on a card and cannot leave it. That rule
 * is enforced here, never in the CLI.
 *
 * Certificates, CSRs, keys and CRLs cross this API as DER or PEM bytes; no
 * OpenSSL or SQLite type appears. Directory layout and OIDs: ca/README.md.
 */
#ifndef CARDSMITH_CA_H
#define CARDSMITH_CA_H

#include "common.h"

/* Longest dotted OID we handle, NUL included. */
#define CS_CA_OID_MAX 128
/* Serial as upper-case hex (128-bit serial: 32 digits), NUL included. */
#define CS_CA_SERIAL_MAX 48
/* Human reasons and warnings, NUL included. */
#define CS_CA_REASON_MAX 512
/* One-line distinguished names, NUL included. */
#define CS_CA_NAME_MAX 256
/* Largest CSR, certificate or profile accepted as input. */
#define CS_CA_INPUT_MAX (256u * 1024u)
/* Sub-level names ("pin-always-touch-always"), NUL included. */
#define CS_CA_SUBLEVEL_NAME_MAX 33
/* Sub-levels one CA defines at most. */
#define CS_CA_SUBLEVEL_MAX 8
/* Subject attributes a profile may take from a CSR (csr_subject). */
#define CS_CA_CSR_SUBJECT_MAX 8
/* Dropped CSR values cs_ca_issue lists at most (the rest are counted). */
#define CS_CA_DROPPED_MAX 32

/* Assurance levels, weakest first (comparisons with < are meaningful). */
enum cs_ca_level {
	CS_CA_LEVEL_NONE = 0, /* nothing proven: never issued */
	CS_CA_LEVEL_SOFTWARE = 1, /* a CSR from anywhere */
	CS_CA_LEVEL_HW_ENROLLED = 2, /* generated on the card by this station */
	CS_CA_LEVEL_HW_ATTESTED = 3, /* manufacturer attestation verified */
};
#define CS_CA_LEVEL_COUNT 4

/* "software", "hardware-enrolled", "hardware-attested" ("none"). */
CS_EXPORT const char *cs_ca_level_name(enum cs_ca_level level);
/* Parse a level name; CS_ERR_ARG if unknown. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_level_parse(const char *name,
    enum cs_ca_level *out);

/* --- the CA directory --- */

/* An open CA directory (config, CA certificates, trust store, registry). */
struct cs_ca;

enum cs_ca_key_type {
	CS_CA_KEY_P256 = 0,
	CS_CA_KEY_P384,
	CS_CA_KEY_RSA2048,
	CS_CA_KEY_RSA3072,
	CS_CA_KEY_RSA4096,
};

enum cs_ca_init_flags {
	/*
	 * Create a second, hardware-only issuing CA: hardware levels are
	 * signed by it and software by the ordinary issuing CA, so a gateway
	 * can also tell them apart by issuer.
	 */
	CS_CA_INIT_HARDWARE_CA = 1 << 0,
	/*
	 * Allow OIDs beyond the portable limits (an arc of 2^28 or more, or
	 * over 63 octets: e.g. a 2.25.<uuid> arc), recorded in ca.cnf;
	 * Go's crypto/x509 and Debian 12's python3-cryptography (ykman)
	 * cannot parse certificates carrying them. Without it such an arc,
	 * extra policy, sub-level OID or profile policy_oid is refused.
	 */
	CS_CA_INIT_LONG_OID_ARCS = 1 << 1,
};

struct cs_ca_init_opts {
	enum cs_ca_key_type key_type;
	/*
	 * Subjects, read by cs_x509_name_parse (x509_ossl.h) as lib/csr.c
	 * reads --subject: RFC 4514 "CN=Root,O=Example,C=DE" (written most
	 * specific first, so stored C, O, CN) or "/C=DE/O=Example/CN=Root"
	 * (stored as written). NULL gives "CN=cardsmith Root CA" etc.
	 */
	const char *root_subject;
	const char *issuing_subject;
	const char *hw_issuing_subject;
	unsigned int root_days; /* 0: 7300 */
	unsigned int issuing_days; /* 0: 3650 */
	/*
	 * Policy arc: an organisation's own arc (e.g. under its IANA PEN,
	 * 1.3.6.1.4.1.<pen>.<n>), the production choice; NULL: a fresh
	 * 1.2.840.113556.1.8000.2554.A.B.C.D.E.F.G from a random v4 UUID
	 * aaaabbbb-cccc-dddd-eeee-ffffffgggggg (Microsoft's GUID-based arc
	 * for unregistered use; every arc below 2^24).
	 */
	const char *arc;
	/*
	 * Further policy OIDs the CA certificates assert, comma separated
	 * (e.g. the FPKI OIDs a profile's policy_oid uses), each "LEVEL=OID"
	 * with the level it stands for (a bare OID: hardware-attested);
	 * recorded in ca.cnf. NULL for none.
	 */
	const char *extra_policies;
	/* Manufacturer roots to trust (PEM path); NULL: the shipped Yubico. */
	const char *roots_path;
	/* Directory of profiles to copy in; NULL: the shipped profiles. */
	const char *profiles_dir;
	unsigned int flags; /* enum cs_ca_init_flags */
	/*
	 * Sub-levels of hardware-attested keyed on the attested PIN/touch
	 * policy, "NAME=pin:P,touch:T[,oid:OID]" (either threshold may be
	 * left out), NULL-terminated; NULL for none. Fixed for the CA's
	 * life: the CA certificates assert their OIDs (default
	 * <arc>.1.1.<n>, n = position from 1) and list them in the level
	 * map. Not with cs_ca_import.
	 */
	const char *const *sublevels;
};

/*
 * A sub-level of hardware-attested: granted when the attested PIN and
 * touch policies meet both minimums (ranked as for min_pin_policy).
 */
struct cs_ca_sublevel {
	char name[CS_CA_SUBLEVEL_NAME_MAX];
	char oid[CS_CA_OID_MAX];
	enum cs_ca_level parent; /* CS_CA_LEVEL_HW_ATTESTED */
	uint8_t min_pin_policy; /* PIV value, 0 = no minimum */
	uint8_t min_touch_policy;
};

/*
 * Shortest passphrase (in characters) cs_ca_init and cs_ca_import accept
 * for a new CA. They also refuse one that uses fewer than 5 different
 * characters, repeats a short sequence ("abcabcabcabc") or is a run of
 * consecutive characters ("abcdefghijkl"): CS_ERR_POLICY, with the kind
 * of weakness (never the passphrase) in ctx. The passphrase alone
 * protects the CA keys in any copy of the CA directory.
 */
#define CS_CA_PASS_MIN 12

/*
 * Create a CA in dir (created with mode 0700; must not exist or be
 * empty): root and issuing CA keys (encrypted at rest with pass), their
 * certificates, the policy arc, the trust store and the registry. pass is
 * borrowed and never stored; a weak one is refused (CS_CA_PASS_MIN)
 * before anything is created. *out: caller closes with cs_ca_close.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_init(struct cs_ctx *ctx,
    const char *dir, const struct cs_ca_init_opts *opts, const char *pass,
    size_t passlen, struct cs_ca **out);

/*
 * Create a CA in dir from an existing issuing CA key and certificate (PEM;
 * key may be encrypted with pass) plus its chain up to a root (PEM, may be
 * NULL if cert is self-signed). The key is re-encrypted with pass. The
 * imported certificate is used as is: unless it asserts the level OIDs
 * (or anyPolicy is avoided), explicit-policy validation of its leaves
 * fails, which ctx reports as a warning via the log.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_import(struct cs_ctx *ctx,
    const char *dir, const struct cs_ca_init_opts *opts, const uint8_t *key,
    size_t keylen, const uint8_t *cert, size_t certlen, const uint8_t *chain,
    size_t chainlen, const char *pass, size_t passlen, struct cs_ca **out);

/*
 * Open an existing CA directory. *out: caller closes with cs_ca_close.
 * Refused: a registry (registry.db) that is missing, empty or lacks its
 * tables (CS_ERR_STORE; it is never recreated, only cs_ca_init and
 * cs_ca_import create one: restore it from a backup); a directory, key,
 * registry or other CA file not owned by the user (or root) or writable
 * by group or others, and a key readable by group or others (CS_ERR_IO,
 * naming the file and the chmod to run). A directory or registry readable
 * by group or others is only warned about (log, CS_LOG_ERR).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_open(struct cs_ctx *ctx,
    const char *dir, struct cs_ca **out);
/* Close (wipes and frees any unlocked key); NULL is accepted. */
CS_EXPORT void cs_ca_close(struct cs_ca *ca);

/*
 * Decrypt the issuing CA keys with pass for the following cs_ca_issue /
 * cs_ca_crl calls (a signing session). CS_ERR_AUTH on a wrong passphrase.
 * The keys live only inside the signer and are wiped by cs_ca_lock or
 * cs_ca_close.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_unlock(struct cs_ca *ca,
    const char *pass, size_t passlen);
CS_EXPORT void cs_ca_lock(struct cs_ca *ca);

/* The policy arc; borrowed, valid until cs_ca_close. */
CS_EXPORT const char *cs_ca_arc(const struct cs_ca *ca);

/* Whether a CA may write OIDs beyond the portable limits. */
enum cs_ca_oid_arcs {
	CS_CA_OID_ARCS_SHORT = 0, /* no: every OID within the limits */
	CS_CA_OID_ARCS_ALLOWED = 1, /* yes: CS_CA_INIT_LONG_OID_ARCS */
	/*
	 * yes: a CA directory from before the option (no
	 * allow_long_oid_arcs in ca.cnf) whose OIDs exceed the limits; it
	 * keeps working, and the operator should be told.
	 */
	CS_CA_OID_ARCS_LEGACY = 2,
};
/*
 * Which of the above; *warning (may be NULL) gets a one-line text for the
 * operator saying what breaks (and for LEGACY how to move to a new CA),
 * NULL for SHORT. The text is static.
 */
CS_EXPORT enum cs_ca_oid_arcs cs_ca_oid_arcs(const struct cs_ca *ca,
    const char **warning);
/* The default policy OID of a level ("<arc>.1.1"); borrowed; "" if none. */
CS_EXPORT const char *cs_ca_level_oid(const struct cs_ca *ca,
    enum cs_ca_level level);
/*
 * Sub-level i (0-based, in definition order) of the CA, NULL past the
 * last one. Borrowed; valid until cs_ca_close.
 */
CS_EXPORT const struct cs_ca_sublevel *cs_ca_sublevel_at(const struct cs_ca *ca,
    size_t i);

/*
 * The CA chain a gateway needs, PEM: issuing CA(s) then root. *pem is
 * NUL-terminated; caller frees with cs_free.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_chain(struct cs_ca *ca, char **pem,
    size_t *pemlen);

/*
 * Add manufacturer root(s) in bytes (PEM or DER) to the CA's attestation
 * trust store (trust/ in the CA directory). *added: certificates added.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_trust_add(struct cs_ca *ca,
    const uint8_t *bytes, size_t len, size_t *added);

/* File names in trust/, NUL included. */
#define CS_CA_TRUST_FILE_MAX 256
#define CS_CA_SHA256_LEN 32

/* How attestation uses a certificate of the trust store. */
enum cs_ca_trust_kind {
	CS_CA_TRUST_ANCHOR = 0, /* self-signed CA: a chain may end here */
	CS_CA_TRUST_INTERMEDIATE, /* not self-signed: never an anchor */
	/* The legacy Yubico U2F root in the shipped file: held back, so it
	 * anchors nothing unless a verifier asks for it explicitly. */
	CS_CA_TRUST_LEGACY,
};

/* "anchor", "intermediate", "legacy-anchor". */
CS_EXPORT const char *cs_ca_trust_kind_name(enum cs_ca_trust_kind kind);

/* One certificate of the trust store. */
struct cs_ca_trust_entry {
	char file[CS_CA_TRUST_FILE_MAX]; /* name in trust/ */
	size_t index; /* 1-based position in that file */
	enum cs_ca_trust_kind kind;
	char subject[CS_CA_NAME_MAX]; /* one line, RFC 2253 */
	char issuer[CS_CA_NAME_MAX];
	uint8_t sha256[CS_CA_SHA256_LEN]; /* of the DER certificate */
	int64_t not_before, not_after; /* Unix time, 0 if undecodable */
};

/* Return non-zero to stop early. e is valid for the call only. */
typedef int cs_ca_trust_fn(void *arg, const struct cs_ca_trust_entry *e);

/*
 * Call fn for each certificate of the trust store (the *.pem files of
 * trust/, the ones attestation loads), files in name order, certificates
 * in file order. A file that holds no certificate, or one that does not
 * decode, is CS_ERR_MALFORMED naming it (attestation would refuse to load
 * the store too). No trust/ directory is an empty store.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_trust_list(struct cs_ca *ca,
    cs_ca_trust_fn *fn, void *arg);

enum cs_ca_trust_remove_flags {
	/* Check and report (fn, *removed) without changing anything. */
	CS_CA_TRUST_DRYRUN = 1 << 0,
	/* Allow removing the last trust anchor. */
	CS_CA_TRUST_LAST_ANCHOR = 1 << 1,
};

/*
 * Remove certificates from the trust store. which is a SHA-256
 * fingerprint (hex, ':' separators allowed, any case; at least 8 digits,
 * a prefix must match one certificate, every copy of which is removed) or
 * the name of a file in trust/ (all its certificates; also a file that
 * does not decode). A file left without certificates is deleted; others
 * are rewritten atomically without the removed blocks (and the comment
 * lines just before them). fn (may be NULL) is called for each removed
 * certificate; *removed counts them. CS_ERR_ARG for a malformed or
 * ambiguous which, CS_ERR_NOT_FOUND if nothing matches, CS_ERR_POLICY if
 * no anchor would remain and flags lacks CS_CA_TRUST_LAST_ANCHOR.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_trust_remove(struct cs_ca *ca,
    const char *which, unsigned int flags, cs_ca_trust_fn *fn, void *arg,
    size_t *removed);

/* --- profiles --- */

/* A parsed issuance profile. Opaque. */
struct cs_ca_profile;

/* What a profile says (for display and tests). */
struct cs_ca_profile_info {
	char name[64];
	enum cs_ca_level level; /* minimum level required */
	enum cs_ca_level max_level; /* highest level the certificate claims */
	uint32_t slots; /* bit i set: slot (0x80 + i) allowed; 0 = any */
	uint32_t algs; /* bit per enum cs_ca_profile_alg; 0 = any */
	uint8_t min_pin_policy; /* PIV value, 0 = no minimum */
	uint8_t min_touch_policy;
	unsigned int validity_days;
	char policy_oid[CS_CA_OID_MAX]; /* override; "" = the CA's level OID */
	bool permanent_identifier; /* card serial as RFC 4043 SAN */
	bool marker; /* non-critical <arc>.2.2 level marker */
	uint8_t fw_roca, fw_ysa_2024_03, fw_fips_rng; /* enum cs_ca_fw_action */
	/* Sub-levels of the CA this profile may grant (by name). */
	char sublevels[CS_CA_SUBLEVEL_MAX][CS_CA_SUBLEVEL_NAME_MAX];
	size_t nsublevels;
	/* SAN types the CSR may supply (enum cs_ca_csr_san bits; 0: none). */
	uint32_t csr_san;
	/*
	 * Subject attributes the CSR may supply to the subject template, by
	 * OpenSSL short name ("O", "OU"); template variable: the name in
	 * lower case (%{o}, %{ou}).
	 */
	char csr_subject[CS_CA_CSR_SUBJECT_MAX][32];
	size_t ncsr_subject;
};

/*
 * SAN types a profile may take from the CSR ([cardsmith] csr_san): each
 * allowed entry is copied into the certificate and the first of each
 * type is the template variable %{email}, %{upn} or %{dns}.
 */
enum cs_ca_csr_san {
	CS_CA_CSR_SAN_EMAIL = 1 << 0, /* rfc822Name */
	CS_CA_CSR_SAN_UPN = 1 << 1, /* otherName 1.3.6.1.4.1.311.20.2.3 */
	CS_CA_CSR_SAN_DNS = 1 << 2, /* dNSName */
};

/* Profile algorithm bits (struct cs_ca_profile_info.algs). */
enum cs_ca_profile_alg {
	CS_CA_ALG_P256 = 1 << 0,
	CS_CA_ALG_P384 = 1 << 1,
	CS_CA_ALG_RSA2048 = 1 << 2,
	CS_CA_ALG_RSA3072 = 1 << 3,
	CS_CA_ALG_RSA4096 = 1 << 4,
	CS_CA_ALG_ED25519 = 1 << 5,
};

/* What a firmware rule does when it matches. */
enum cs_ca_fw_action {
	CS_CA_FW_IGNORE = 0,
	CS_CA_FW_WARN = 1,
	CS_CA_FW_DENY = 2,
};

/*
 * Parse profile text (OpenSSL NCONF: an extension section in X509V3
 * syntax plus a [cardsmith] section). name labels messages. The extension
 * lines are checked by building them against a throw-away certificate.
 * *out: caller frees with cs_ca_profile_free.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_profile_parse(struct cs_ctx *ctx,
    const char *name, const uint8_t *text, size_t len,
    struct cs_ca_profile **out);
/*
 * Load profile `name` for ca: a path if it contains '/' or ends in
 * ".cnf", else <dir>/profiles/<name>.cnf. *out: caller frees.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_profile_load(struct cs_ca *ca,
    const char *name, struct cs_ca_profile **out);
CS_EXPORT void cs_ca_profile_free(struct cs_ca_profile *p);
CS_EXPORT void cs_ca_profile_get_info(const struct cs_ca_profile *p,
    struct cs_ca_profile_info *info);

/* --- CSR intake --- */

struct cs_ca_csr_info {
	char subject[CS_CA_NAME_MAX]; /* one line, RFC 2253 */
	char cn[CS_CA_NAME_MAX]; /* first commonName, "" if none */
	uint32_t alg; /* one enum cs_ca_profile_alg bit, 0 if unsupported */
	unsigned int key_bits;
	bool has_attestation; /* statement embedded (.3.1 or .3.11) */
};

/*
 * Decode a CSR (PEM or DER), check its self-signature and describe it.
 * CS_ERR_MALFORMED if undecodable, CS_ERR_VERIFY if the signature is bad.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_csr_check(struct cs_ctx *ctx,
    const uint8_t *csr, size_t len, struct cs_ca_csr_info *info);

/* --- assurance and issuance --- */

enum cs_ca_issue_flags {
	/* Decide and lint only: nothing is reserved or signed. */
	CS_CA_ISSUE_DRYRUN = 1 << 0,
	/*
	 * Enrollment path only: this station generated the key on the card
	 * in this session and the card returned enrolled_spki. Never set it
	 * for a CSR read from a file (cardsmith ca sign does not).
	 */
	CS_CA_ISSUE_ENROLLED = 1 << 1,
	/* Skip validity checks on the attestation (offline re-issuance). */
	CS_CA_ISSUE_ATTEST_NO_TIME = 1 << 2,
	/*
	 * Certify a key again although a certificate for it was revoked for
	 * a reason other than keyCompromise (e.g. superseded, a card
	 * re-issued with its keys kept). Without it such a key is refused
	 * (CS_ERR_POLICY); a key revoked for keyCompromise is refused always.
	 * Keys are compared by the SHA-256 of their SubjectPublicKeyInfo in
	 * canonical form, across every profile, subject and level; each
	 * override is recorded in the registry's event log.
	 */
	CS_CA_ISSUE_ALLOW_REVOKED_KEY = 1 << 3,
};

struct cs_ca_issue_req {
	/* Profile to apply (borrowed; from cs_ca_profile_load/_parse). */
	const struct cs_ca_profile *profile;
	const uint8_t *csr; /* PEM or DER */
	size_t csr_len;
	/*
	 * Attestation statement and F9 certificate (PEM or DER). NULL: taken
	 * from the CSR's extension request when present.
	 */
	const uint8_t *stmt;
	size_t stmt_len;
	const uint8_t *f9;
	size_t f9_len;
	/*
	 * Manufacturer intermediates sent along (PEM); may be NULL. Never
	 * trusted: verification uses the CA's trust store (trust/) alone,
	 * and the F9 certificate must be issued directly by a certificate
	 * of that store. Certificates here that the store lacks are named
	 * in the decision's warnings; undecodable input is refused.
	 */
	const uint8_t *intermediates;
	size_t intermediates_len;
	/* CS_CA_ISSUE_ENROLLED: SPKI (DER) the GENERATE response returned. */
	const uint8_t *enrolled_spki;
	size_t enrolled_spki_len;
	/* Slot the key lives in; -1: as attested (or the profile's first). */
	int slot;
	/* Card serial the caller expects (e.g. read from the card); 0: any. */
	uint64_t expected_card_serial;
	/* Template variables "name=value", NULL-terminated; may be NULL. */
	const char *const *vars;
	int64_t at; /* issuance time, Unix seconds; 0 = now */
	unsigned int flags; /* enum cs_ca_issue_flags */
};

struct cs_ca_decision {
	enum cs_ca_level proven; /* what the evidence proves */
	enum cs_ca_level level; /* what the certificate claims */
	char policy_oid[CS_CA_OID_MAX];
	int slot; /* attested or requested slot, -1 unknown */
	bool has_card_serial;
	uint64_t card_serial;
	bool has_firmware;
	uint8_t firmware[3];
	uint8_t pin_policy, touch_policy; /* attested, 0 unknown */
	char reason[CS_CA_REASON_MAX]; /* why this level, or why refused */
	char warnings[CS_CA_REASON_MAX]; /* firmware warnings, "; " joined */
	/* Sub-level granted (policy_oid is then its OID); "" for none. */
	char sublevel[CS_CA_SUBLEVEL_NAME_MAX];
};

/*
 * Decide the assurance level for req without issuing. CS_OK with *d
 * filled when the profile's requirement is met; CS_ERR_POLICY (profile
 * demands more than the evidence proves, firmware deny rule, slot or
 * algorithm not allowed), CS_ERR_VERIFY (forged or broken evidence, bad
 * CSR signature) with the precise reason in d->reason and ctx.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_assess(struct cs_ca *ca,
    const struct cs_ca_issue_req *req, struct cs_ca_decision *d);

/* A value the CSR requested that the certificate does not carry. */
struct cs_ca_dropped {
	/* "san.email", "san.upn", "san.dns", "san.uri", "subject.O", ... */
	char field[32];
	/* As requested; control characters and non-UTF-8 bytes as \xNN. */
	char value[CS_CA_NAME_MAX];
	char reason[CS_CA_REASON_MAX]; /* why it was not taken */
};

struct cs_ca_issue_res {
	struct cs_ca_decision decision;
	char serial[CS_CA_SERIAL_MAX]; /* upper-case hex */
	uint8_t *der; /* the certificate; caller frees with cs_free */
	size_t der_len;
	const char *signer; /* "issuing" or "hw-issuing"; static */
	/*
	 * The CSR's requested SAN entries and subject attributes the profile
	 * did not take, each with the reason (also for a dry run); at most
	 * CS_CA_DROPPED_MAX, dropped_more counts the rest. Owned by res,
	 * freed by cs_ca_issue_res_release; NULL when nothing was dropped
	 * or the request was refused.
	 */
	struct cs_ca_dropped *dropped;
	size_t ndropped, dropped_more;
};

/*
 * Assess, reserve a serial (committed), build and lint the certificate,
 * sign it, store the DER (committed) and only then return it. The CA must
 * be unlocked. A failing lint aborts before anything is signed
 * (CS_ERR_POLICY, the findings in ctx). A key that a revoked certificate
 * of this CA certifies is refused before anything is reserved
 * (CS_ERR_POLICY naming the serial and reason; see
 * CS_CA_ISSUE_ALLOW_REVOKED_KEY), and checked again in the storing
 * transaction. res is cleared on entry; release it with
 * cs_ca_issue_res_release.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_issue(struct cs_ca *ca,
    const struct cs_ca_issue_req *req, struct cs_ca_issue_res *res);
CS_EXPORT void cs_ca_issue_res_release(struct cs_ca_issue_res *res);

/*
 * Issue n (1..256) requests with one registry commit for all of them
 * (group commit): each is assessed, linted and signed as by cs_ca_issue,
 * then every signed certificate is stored in one transaction before any
 * is returned. errs[i] is request i's result; res[i] as for cs_ca_issue
 * (release each). *issued: certificates stored. Returns CS_OK unless the
 * batch itself failed (bad n, the commit); then no certificate is
 * returned.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_issue_batch(struct cs_ca *ca,
    const struct cs_ca_issue_req *reqs, size_t n, struct cs_ca_issue_res *res,
    enum cs_err *errs, size_t *issued);

/*
 * Reserve serials n at a time (1..256; default 1): each refill commits n
 * pending rows in one transaction, so batch issuance shares one fsync per
 * n certificates while every serial is still durable before its signing.
 * Serials left unused become void at cs_ca_close (or on reconcile after a
 * crash); none is ever reused.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_set_serial_pool(struct cs_ca *ca,
    size_t n);

/*
 * Record that a certificate reached its destination (issued →
 * delivered): written to the card, or to the file or standard output it
 * was issued for (cardsmith ca sign calls it once the write succeeded,
 * ca show --out once it wrote a certificate still issued). A certificate
 * that stays issued was signed and stored but never handed out: it is
 * valid, cs_ca_show returns it, and reconcile counts it. CS_ERR_NOT_FOUND
 * if serial is not an issued row.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_mark_delivered(struct cs_ca *ca,
    const char *serial);

/* --- lint --- */

enum cs_ca_lint_flags {
	/* The certificate is a CA certificate (basicConstraints CA:TRUE). */
	CS_CA_LINT_CA = 1 << 0,
	/* Accept OIDs beyond the portable limits (CS_CA_INIT_LONG_OID_ARCS). */
	CS_CA_LINT_LONG_OID_ARCS = 1 << 1,
};

/*
 * Lint a certificate (DER or PEM; its signature is not checked) against
 * its issuer (DER or PEM, may be NULL to skip issuer checks). CS_OK if
 * clean; CS_ERR_POLICY with the findings ("; " joined) in findings and
 * ctx otherwise.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_lint(struct cs_ctx *ctx,
    const uint8_t *cert, size_t len, const uint8_t *issuer, size_t ilen,
    unsigned int flags, char *findings, size_t fcap);

/* --- registry --- */

enum cs_ca_status {
	CS_CA_STATUS_PENDING = 0, /* serial reserved, nothing stored yet */
	CS_CA_STATUS_ISSUED, /* signed and stored */
	CS_CA_STATUS_DELIVERED, /* handed out: card, file or stdout */
	CS_CA_STATUS_REVOKED,
	CS_CA_STATUS_VOID, /* reservation abandoned (crash before storing) */
};
/* "pending", "issued", ... */
CS_EXPORT const char *cs_ca_status_name(enum cs_ca_status s);

struct cs_ca_cert_info {
	char serial[CS_CA_SERIAL_MAX];
	enum cs_ca_status status;
	enum cs_ca_level level;
	char profile[64];
	char subject[CS_CA_NAME_MAX];
	int64_t created, not_before, not_after, revoked_at;
	int revoke_reason; /* RFC 5280 CRLReason, -1 if not revoked */
	int slot; /* -1 unknown */
	bool has_card_serial;
	uint64_t card_serial;
	char firmware[16]; /* "5.7.4" or "" */
	char sublevel[CS_CA_SUBLEVEL_NAME_MAX]; /* "" for none */
};

/* Return non-zero to stop the listing early. */
typedef int cs_ca_list_fn(void *arg, const struct cs_ca_cert_info *info);

struct cs_ca_list_filter {
	int64_t expiring_before; /* 0: any; else not_after < this, unrevoked */
	int status; /* -1: any; else enum cs_ca_status */
};

/* Call fn for each registry row matching filter (NULL: all), by serial. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_list(struct cs_ca *ca,
    const struct cs_ca_list_filter *filter, cs_ca_list_fn *fn, void *arg);

/*
 * One row by serial (hex, case-insensitive). *der (may be NULL to skip):
 * the certificate, caller frees; NULL if the row holds none.
 * CS_ERR_NOT_FOUND if no such serial.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_show(struct cs_ca *ca,
    const char *serial, struct cs_ca_cert_info *info, uint8_t **der,
    size_t *derlen);

/* RFC 5280 5.3.1 CRLReason names: "keyCompromise", "superseded", ... */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_reason_parse(const char *name,
    int *reason);

/*
 * Revoke one certificate (serial given) or every unrevoked certificate of
 * a card (serial NULL, card_serial given). *count: rows revoked.
 * CS_ERR_NOT_FOUND if nothing matched. With keyCompromise (1) an already
 * revoked certificate gets that reason too (its revocation date stays);
 * its key is then never certified again (CS_CA_ISSUE_ALLOW_REVOKED_KEY),
 * and each unrevoked certificate that certifies the same key is named in
 * a warning on the log (CS_LOG_ERR); they are not revoked implicitly.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_revoke(struct cs_ca *ca,
    const char *serial, uint64_t card_serial, int reason, int64_t at,
    size_t *count);

/*
 * Produce CRL(s) (PEM; one per issuing CA, concatenated) with a fresh
 * cRLNumber, AKI and nextUpdate = now + days (0: 7). The CA must be
 * unlocked. *pem: caller frees.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_crl(struct cs_ca *ca,
    unsigned int days, char **pem, size_t *pemlen);

struct cs_ca_reconcile_stats {
	size_t pending_voided; /* reservations that never stored a cert */
	/* stored, never marked delivered (cs_ca_list status issued) */
	size_t issued_undelivered;
	bool integrity_ok; /* PRAGMA integrity_check */
	size_t duplicates; /* duplicate serials found (must be 0) */
};

/*
 * Resolve rows a crash left behind: a pending reservation never stored a
 * certificate, so nothing was handed out; it becomes void (the serial is
 * never reused) once the process that reserved it is gone (or, owner
 * unknown, after 10 minutes), never while it may still be issuing. Checks
 * database integrity.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ca_reconcile(struct cs_ca *ca,
    struct cs_ca_reconcile_stats *stats);

/* --- relying-party verifier --- */

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
