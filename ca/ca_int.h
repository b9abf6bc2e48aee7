/* Internals shared between the files of ca/; never installed. */
#ifndef CARDSMITH_CA_INT_H
#define CARDSMITH_CA_INT_H

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/ca.h"
#include "cardsmith/file.h"

/* Arc suffixes (ca/README.md). */
#define CSA_SUFFIX_ATTESTED ".1.1"
#define CSA_SUFFIX_ENROLLED ".1.2"
#define CSA_SUFFIX_SOFTWARE ".1.3"
#define CSA_SUFFIX_LEVELMAP ".2.1"
#define CSA_SUFFIX_MARKER ".2.2"

#define CSA_PATH_MAX 4096
#define CSA_FILE_MAX (4u * 1024u * 1024u)
#define CSA_POOL_MAX 256

/* Which issuing CA signs. */
enum csa_signer {
	CSA_SIGNER_ISSUING = 0,
	CSA_SIGNER_HW = 1,
};
#define CSA_SIGNER_COUNT 2

struct csa_store;
/* A CA private key; its contents are known to sign.c alone. */
struct csa_key;

/* A registry row to commit after signing. */
struct csa_row {
	const char *serial;
	enum cs_ca_level level;
	enum csa_signer signer;
	const char *profile;
	const char *subject;
	int64_t not_before, not_after;
	int slot;
	bool has_card_serial;
	uint64_t card_serial;
	const char *firmware; /* "5.7.4" or "" */
	const char *sublevel; /* "" for none */
	const uint8_t *stmt, *f9; /* evidence, DER; may be NULL */
	size_t stmt_len, f9_len;
	const char *key_hash; /* csa_key_hash of the certified key */
	bool allow_revoked_key; /* CS_CA_ISSUE_ALLOW_REVOKED_KEY */
};

/* One revoked entry for a CRL. */
typedef enum cs_err csa_revoked_fn(void *arg, const char *serial,
    int64_t revoked_at, int reason);

/* Registry backend (SQLite now; PostgreSQL can implement the same ops). */
struct csa_store_ops {
	/*
	 * Insert n pending rows in one committed transaction; CS_ERR_STORE
	 * (nothing inserted) if any serial is already used.
	 */
	enum cs_err (*reserve)(struct csa_store *, const char *const *serials,
	    size_t n, int64_t now);
	/*
	 * n rows pending → issued with DER and evidence, in one commit;
	 * CS_ERR_POLICY (nothing stored) if a row's key is refused as by
	 * key_check.
	 */
	enum cs_err (*commit)(struct csa_store *, const struct csa_row *rows,
	    const uint8_t *const *ders, const size_t *lens, size_t n,
	    int64_t now);
	/*
	 * CS_ERR_POLICY if a revoked certificate certifies key_hash: always
	 * for keyCompromise, for any other reason unless allow.
	 */
	enum cs_err (
	    *key_check)(struct csa_store *, const char *key_hash, bool allow);
	/* pending → void for n serials (never reused), one transaction. */
	enum cs_err (*abandon)(struct csa_store *, const char *const *serials,
	    size_t n, const char *why, int64_t now);
	enum cs_err (
	    *delivered)(struct csa_store *, const char *serial, int64_t now);
	enum cs_err (*revoke)(struct csa_store *, const char *serial,
	    uint64_t card_serial, int reason, int64_t at, size_t *count);
	enum cs_err (*list)(struct csa_store *,
	    const struct cs_ca_list_filter *, cs_ca_list_fn *, void *);
	enum cs_err (*get)(struct csa_store *, const char *serial,
	    struct cs_ca_cert_info *, uint8_t **der, size_t *derlen);
	enum cs_err (*revoked)(struct csa_store *, enum csa_signer,
	    csa_revoked_fn *, void *);
	enum cs_err (
	    *crl_number)(struct csa_store *, enum csa_signer, uint64_t *n);
	enum cs_err (*reconcile)(struct csa_store *,
	    struct cs_ca_reconcile_stats *, int64_t now);
	void (*close)(struct csa_store *);
};

struct csa_store {
	const struct csa_store_ops *ops;
	struct cs_ctx *ctx;
};

/*
 * Open the SQLite registry at path. create: make a new one (mode 0600;
 * path must not exist), as ca init does; otherwise it must exist and hold
 * the registry tables, and is never recreated.
 */
enum cs_err csa_store_open_sqlite(struct cs_ctx *ctx, const char *path,
    bool create, struct csa_store **out);

#define CSA_EXTRA_MAX 16

/*
 * A further policy OID the CA certificates assert (ca init
 * --extra-policy LEVEL=OID) and the level it stands for: a profile may put
 * it only on certificates of that level or higher.
 */
struct csa_extra {
	char oid[CS_CA_OID_MAX];
	enum cs_ca_level level;
};

struct cs_ca {
	struct cs_ctx *ctx;
	char dir[CSA_PATH_MAX];
	char arc[CS_CA_OID_MAX];
	char oid[CS_CA_LEVEL_COUNT][CS_CA_OID_MAX];
	struct cs_ca_sublevel subs[CS_CA_SUBLEVEL_MAX]; /* from ca.cnf */
	size_t nsubs;
	struct csa_extra extra[CSA_EXTRA_MAX]; /* from ca.cnf */
	size_t nextra;
	enum cs_ca_oid_arcs oid_arcs; /* long OID arcs allowed? (ca.cnf) */
	X509 *root; /* may be NULL for an imported CA without a root */
	X509 *
	    signer_cert[CSA_SIGNER_COUNT]; /* [HW] NULL without --hardware-ca */
	STACK_OF(X509) * extra_chain; /* imported intermediates */
	struct csa_key *signer_key[CSA_SIGNER_COUNT]; /* unlocked (sign.c) */
	struct cs_trust *trust; /* manufacturer roots, loaded lazily */
	/* Serials reserved (committed pending) ahead of use (pool.c). */
	char (*pool)[CS_CA_SERIAL_MAX];
	size_t pool_len, pool_size;
	struct csa_store *store;
};

/*
 * Layers, bottom up (ca/README.md "Where each thing lives"): a file calls
 * only files listed above it; scripts/check-ca-layers.sh checks the
 * object graph for cycles.
 */

/* --- level.c: level names (public), cs_ca_arc, cs_ca_level_oid --- */

/* --- list.c: comma-separated lists --- */
/* Longest list csa_list_each reads (with its NUL). */
#define CSA_LIST_MAX 256
/* One item of a list, trimmed and NUL-terminated; fn may modify it. */
typedef enum cs_err csa_item_fn(char *item, void *arg);
/*
 * Call fn for each comma-separated item of s, spaces and tabs around it
 * dropped, empty items skipped; the first error of fn is returned. s of
 * CSA_LIST_MAX characters or more: CS_ERR_LIMIT "WHAT too long".
 */
enum cs_err csa_list_each(struct cs_ctx *ctx, const char *what, const char *s,
    csa_item_fn *fn, void *arg);

/* --- io.c: files of the CA directory --- */
/* Write atomically (temp file + rename) with mode; excl: fail if exists. */
enum cs_err csa_write_file(struct cs_ctx *ctx, const char *path, const void *p,
    size_t len, int mode, bool excl);
enum cs_err csa_path(struct cs_ctx *ctx, char *dst, size_t cap, const char *dir,
    const char *name);
/* Create dir 0700; an existing one must be empty. */
enum cs_err csa_make_dir(struct cs_ctx *ctx, const char *dir);
bool csa_file_exists(const char *p);
enum cs_err csa_copy_file(struct cs_ctx *ctx, const char *src, const char *dst);
/* Copy a memory BIO's contents into a NUL-terminated string (cs_free). */
enum cs_err csa_bio_take(struct cs_ctx *ctx, BIO *b, char **pem,
    size_t *pemlen);

/* --- certutil.c: certificate helpers --- */
/* Decode one certificate, PEM (first block) or DER. */
enum cs_err csa_cert_decode(struct cs_ctx *ctx, const char *what,
    const uint8_t *p, size_t len, X509 **out);
/*
 * Every CERTIFICATE block of a PEM bundle (other blocks skipped; a corrupt
 * one is CS_ERR_MALFORMED), or one DER certificate, into *out.
 */
enum cs_err csa_certs_decode(struct cs_ctx *ctx, const char *what,
    const uint8_t *p, size_t len, STACK_OF(X509) * *out);
void csa_name_line(const X509_NAME *n, char *dst, size_t cap);
void csa_serial_hex(const ASN1_INTEGER *s, char *dst, size_t cap);
int64_t csa_asn1_time(const ASN1_TIME *t);
/* Does x's certificatePolicies list oid (dotted)? anyp: set if anyPolicy. */
bool csa_has_policy(const X509 *x, const char *oid, bool *anyp);
/* Algorithm bit (enum cs_ca_profile_alg) and size of a public key. */
uint32_t csa_key_alg(const EVP_PKEY *k, unsigned int *bits);
/* Add certificatePolicies listing the comma-separated OIDs. */
enum cs_err csa_add_policies(struct cs_ctx *ctx, X509 *x, const char *list);

/* --- levelmap.c: the level map extension (<arc>.2.1) --- */
enum cs_err csa_levelmap_ext(struct cs_ctx *ctx, const struct cs_ca *ca,
    X509_EXTENSION **out);
/*
 * A CA certificate's level map (ca/README.md "OIDs"): the one extension
 * <arc>.2.1 whose levels are <arc>.1.3, .1.2 and .1.1, plus sub-levels.
 */
struct csa_levelmap {
	char arc[CS_CA_OID_MAX]; /* named by the extension OID */
	char oids[CS_CA_LEVEL_COUNT][CS_CA_OID_MAX]; /* [NONE] is "" */
	struct cs_ca_sublevel subs[CS_CA_SUBLEVEL_MAX];
	size_t nsubs;
};
/* x's level map; false (m zeroed) if it carries no valid one. */
bool csa_levelmap_get(const X509 *x, struct csa_levelmap *m);
/* Fill oids[level] from x's level map; false if x carries none. */
bool csa_levelmap_read(const X509 *x, char oids[][CS_CA_OID_MAX]);
/* The sub-level entries of x's level map (at most cap); *n: how many. */
void csa_levelmap_subs(const X509 *x, struct cs_ca_sublevel *subs, size_t cap,
    size_t *n);

/* --- config.c: the CA's OIDs and ca.cnf --- */
/* Parse and store the arc (canonical); false if it is no usable OID. */
bool csa_config_set_arc(struct cs_ca *ca, const char *s);
/* The three level OIDs under ca->arc. */
void csa_config_set_oids(struct cs_ca *ca);
/* Refuse OIDs beyond the portable limits unless allowed (init, import). */
enum cs_err csa_config_check_oids(struct cs_ca *ca, bool allow);
/* ca init --sublevel specs / --extra-policy text into ca. */
enum cs_err csa_config_set_sublevels(struct cs_ca *ca,
    const char *const *specs);
enum cs_err csa_config_set_extra(struct cs_ca *ca, const char *text,
    enum cs_err code);
/* Comma-separated policy OIDs a CA certificate asserts (sw, hw levels). */
enum cs_err csa_config_policies(struct cs_ca *ca, bool sw, bool hw, char *dst,
    size_t cap);
enum cs_err csa_config_write(struct cs_ca *ca, bool hw);
enum cs_err csa_config_read(struct cs_ca *ca);

/* --- trust.c: manufacturer roots, loaded once --- */
/*
 * Lend the CA's manufacturer trust store (loaded on first use, kept until
 * close or a change through cs_ca_trust_add/remove). The caller must not
 * free it or keep it past the next ca call.
 */
enum cs_err csa_trust_get(struct cs_ca *ca, const struct cs_trust **out);

/* --- sign.c: the CA private keys, nowhere else --- */
void csa_key_free(struct csa_key *k);
enum cs_err csa_key_generate(struct cs_ctx *ctx, enum cs_ca_key_type type,
    struct csa_key **out);
/* Decrypt a PEM private key (pass may be NULL for a clear key). */
enum cs_err csa_key_decode(struct cs_ctx *ctx, const char *what,
    const uint8_t *p, size_t len, const char *pass, size_t passlen,
    struct csa_key **out);
/* Write k to dir/name, PKCS#8 encrypted under pass (0600, O_EXCL). */
enum cs_err csa_key_write(struct cs_ctx *ctx, const char *dir, const char *name,
    const struct csa_key *k, const char *pass, size_t passlen);
/* Is k the private key of cert? */
bool csa_key_matches(const struct csa_key *k, X509 *cert);
enum cs_err csa_key_set_pubkey(struct cs_ctx *ctx, const struct csa_key *k,
    X509 *x);
/* Sign a CA certificate x with k (ca init). */
enum cs_err csa_key_sign_cert(struct cs_ctx *ctx, const struct csa_key *k,
    X509 *x);
/* Is the issuing CA s unlocked (cs_ca_unlock)? */
bool csa_sign_ready(const struct cs_ca *ca, enum csa_signer s);
/* Sign the to-be-signed certificate x with issuing CA s; DER (free). */
enum cs_err csa_sign_cert(struct cs_ca *ca, enum csa_signer s, X509 *x,
    uint8_t **der, size_t *len);
/* Sign crl with issuing CA s. */
enum cs_err csa_sign_crl(struct cs_ca *ca, enum csa_signer s, X509_CRL *crl);

/* --- pool.c: serials reserved ahead of use --- */
/* Take a reserved serial (refilling the pool) and set it in x. */
enum cs_err csa_pool_take(struct cs_ca *ca, X509 *x, int64_t now, char *hex,
    size_t cap);
/* Void the serials still in the pool (called on close). */
void csa_pool_release(struct cs_ca *ca);

/* --- ca.c: the handle --- */
enum cs_err csa_ca_new(struct cs_ctx *ctx, const char *dir, struct cs_ca **out);
/* create: ca init makes the registry; every later open needs it there. */
enum cs_err csa_ca_open_store(struct cs_ca *ca, bool create);

/* --- profile.c --- */
struct csa_profile_view {
	const struct cs_ca_profile_info *info;
	const char *subject_tmpl; /* NULL: the CSR's subject */
	const char *san_tmpl; /* X509V3 SAN syntax with ${vars}; may be NULL */
	const char *ext_section;
	void *conf; /* CONF * */
};
void csa_profile_view(const struct cs_ca_profile *p,
    struct csa_profile_view *v);
/*
 * Parse NCONF text (a profile, ca.cnf) without $var/$ENV:: expansion or
 * .include/.pragma: those are refused naming the line. what labels
 * messages ("profile NAME", a path). *out: caller frees with NCONF_free.
 */
enum cs_err csa_conf_parse(struct cs_ctx *ctx, const char *what,
    const uint8_t *text, size_t len, CONF **out);
/* CS_ERR_POLICY unless ca defines every sub-level p names. */
enum cs_err csa_profile_check_sublevels(struct cs_ca *ca,
    const struct cs_ca_profile *p);

/* --- template.c: subject and SAN templates --- */
#define CSA_OID_PERMANENT_ID "1.3.6.1.5.5.7.8.3"
#define CSA_TMPL_OUT_MAX 1024
#define CSA_VARS_MAX 48
#define CSA_VARS_STORE_MAX 4096

struct csa_var {
	const char *name;
	size_t nlen;
	const char *value;
	bool given; /* by the caller (--var), not taken from the CSR */
};

struct csa_vars {
	struct csa_var v[CSA_VARS_MAX];
	size_t n;
	char
	    store[CSA_VARS_STORE_MAX]; /* names and values taken from the CSR */
	size_t used;
	char card[24], slot[12];
	const struct csa_profile_view *pv;
	GENERAL_NAMES *take; /* the CSR's SAN entries the profile allows */
	struct cs_ca_issue_res *res; /* where dropped values are listed */
};

enum csa_tmpl_mode {
	CSA_TMPL_SUBJECT, /* escape the name separators */
	CSA_TMPL_SAN, /* refuse values that could add entries */
};

/*
 * The variables of one issuance: req's --var values, the card serial and
 * slot, and the CSR subject and SAN values the profile pv takes (dropped
 * ones listed in res). Release with csa_vars_release.
 */
enum cs_err csa_vars_build(struct cs_ctx *ctx,
    const struct cs_ca_issue_req *req, X509_REQ *csr,
    const struct cs_ca_decision *d, const struct csa_profile_view *pv,
    struct cs_ca_issue_res *res, struct csa_vars *vs);
void csa_vars_release(struct csa_vars *vs);
/* Expand ${name} in template t (profile pname) for mode into out. */
enum cs_err csa_tmpl_expand(struct cs_ctx *ctx, const char *pname,
    const char *t, const struct csa_vars *vs, enum csa_tmpl_mode mode,
    char *out, size_t cap);

/* --- roca.c --- */
/* Is k an RSA key with the ROCA fingerprint? */
bool csa_key_is_roca(const EVP_PKEY *k);

/* --- evidence.c: CSR and attestation intake --- */
/* Decoded CSR (PEM or DER) with a verified signature. */
enum cs_err csa_csr_decode(struct cs_ctx *ctx, const uint8_t *p, size_t len,
    X509_REQ **out);
struct csa_evidence {
	uint8_t *stmt, *f9; /* DER, owned */
	size_t stmt_len, f9_len;
};
void csa_evidence_release(struct csa_evidence *ev);
/* A certificate (PEM or DER) as DER in *der (cs_free). */
enum cs_err csa_evidence_der(struct cs_ctx *ctx, const char *what,
    const uint8_t *p, size_t len, uint8_t **der, size_t *derlen);
/* The card serial in a Yubico F9 certificate; false if none. */
bool csa_f9_serial(const uint8_t *f9, size_t len, uint64_t *serial);

/* --- assurance.c: evidence and profile to a level --- */
enum cs_err csa_assess(struct cs_ca *ca, const struct cs_ca_issue_req *req,
    X509_REQ *csr, struct cs_ca_decision *d, struct csa_evidence *ev);

/* --- lint.c --- */
/* Lint x (to be signed by issuer); findings "; "-joined. */
enum cs_err csa_lint(struct cs_ctx *ctx, const X509 *x, const X509 *issuer,
    unsigned int flags, char *findings, size_t fcap);

/* --- sublevel.c --- */
/* Strength of a PIV PIN / touch policy value (0 = none or unknown). */
int csa_pin_rank(uint8_t v);
int csa_touch_rank(uint8_t v);
/* [a-z0-9-], 1..32 characters, not a level name. */
bool csa_sublevel_name_ok(const char *s);
/* "NAME=pin:P,touch:T[,oid:OID]"; out->oid "" when not given. */
enum cs_err csa_sublevel_parse(struct cs_ctx *ctx, const char *spec,
    struct cs_ca_sublevel *out);
/* The same with the name apart (ca.cnf [sublevels] NAME = value). */
enum cs_err csa_sublevel_parse_value(struct cs_ctx *ctx, const char *name,
    const char *value, struct cs_ca_sublevel *out);
/* "pin:P,touch:T,oid:OID" as ca.cnf stores it. */
void csa_sublevel_text(const struct cs_ca_sublevel *s, char *dst, size_t cap);
/* Do attested policies pin/touch meet s's minimums? */
bool csa_sublevel_meets(const struct cs_ca_sublevel *s, uint8_t pin,
    uint8_t touch);
/* Does a leaf of sub-level have satisfy a requirement for want? */
bool csa_sublevel_covers(const struct cs_ca_sublevel *have,
    const struct cs_ca_sublevel *want);
/* How specific s is (sum of its minimums' ranks). */
int csa_sublevel_weight(const struct cs_ca_sublevel *s);

/* --- store.c helpers --- */
const char *csa_status_db(enum cs_ca_status s);
/* Hex SHA-256 of a canonical SubjectPublicKeyInfo, NUL included. */
#define CSA_KEY_HASH_MAX 65
/*
 * SHA-256 of k's SubjectPublicKeyInfo DER in canonical form (EC: named
 * curve, uncompressed point; RSA-PSS: as rsaEncryption), so one key has
 * one hash however a CSR encodes it. false if k cannot be encoded.
 */
bool csa_key_hash(EVP_PKEY *k, char hex[CSA_KEY_HASH_MAX]);

/* --- oid.c: parsing, portable limits, comparison as parsed objects --- */
/*
 * Portable limits for every OID the CA writes (ca/README.md "OIDs"): each
 * sub-identifier below 2^28, i.e. at most four base-128 octets (Debian 12's
 * python3-cryptography 38 with rust-asn1 0.12 reads no more; Go's
 * crypto/x509 stops at 2^31), and at most 63 content octets in all
 * (rust-asn1's OID buffer). A parser that rejects one OID rejects the
 * whole certificate.
 */
#define CSA_OID_ARC_LIMIT (UINT32_C(1) << 28)
#define CSA_OID_DER_MAX 63

enum csa_oid_flags {
	CSA_OID_LONG_ARCS = 1 << 0, /* accept OIDs beyond the limits above */
	CSA_OID_POLICY = 1 << 1, /* a specific policy: never anyPolicy */
};
/*
 * Are the content octets p[0..n) of an OBJECT IDENTIFIER (X.690 8.19)
 * well formed and within the portable limits? Pure; never fails.
 */
bool csa_oid_der_short(const uint8_t *p, size_t n);
/* The same for a parsed object. */
bool csa_oid_arcs_short(const ASN1_OBJECT *o);
/*
 * Why n content octets of a parsed OID fail csa_oid_der_short: "is over
 * 63 octets" or "has an arc of 2^28 or more". Static text.
 */
const char *csa_oid_long_reason(size_t n);
/*
 * Parse dotted-decimal OID text strictly (two or more arcs of digits, no
 * empty arc: OpenSSL alone reads "1..2" as 1.0.2) and write its canonical
 * spelling (leading zeros dropped) to canon (may be NULL). CS_OK;
 * CS_ERR_LIMIT beyond the portable limits without CSA_OID_LONG_ARCS;
 * CS_ERR_MALFORMED for anything else that is not an OID of fewer than
 * CS_CA_OID_MAX characters (or that does not fit cap).
 */
enum cs_err csa_oid_parse(const char *s, unsigned int flags, char *canon,
    size_t cap);

/* The canonical dotted form of s into dst; false if s is not an OID. */
bool csa_oid_canonical(const char *s, char *dst, size_t cap);
/* Is s an OID written canonically (no leading zeros, empty arcs...)? */
bool csa_oid_is_canonical(const char *s);
/* Do a and b (dotted) name the same OID? False if either is not one. */
bool csa_oid_eq(const char *a, const char *b);
/* Is o the OID s (dotted)? False if s is not one. */
bool csa_oid_obj_eq(const ASN1_OBJECT *o, const char *s);
/* Is s (dotted, any spelling) anyPolicy (2.5.29.32.0)? */
bool csa_oid_is_any_policy(const char *s);
/* Is o strictly below arc (dotted)? */
bool csa_oid_under(const ASN1_OBJECT *o, const char *arc);

/* A YubiKey firmware advisory and what a profile's rule does about it. */
struct csa_fw_advisory {
	const char *text; /* "generates ROCA-weak RSA keys (...)", after a version */
	uint8_t action; /* enum cs_ca_fw_action of the profile */
};

/*
 * The advisories (fwrule.c) firmware fw falls under for an RSA and/or an
 * EC key, with pi's action for each; the first max go into out. Returns
 * how many there are.
 */
size_t csa_fw_advisories(const uint8_t fw[3], bool rsa, bool ec,
    const struct cs_ca_profile_info *pi, struct csa_fw_advisory *out,
    size_t max);

#endif
