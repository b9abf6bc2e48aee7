/*
 * Internals of the relying-party verifier shared by verify.c (the
 * verifier and its trust input), verify_claim.c (what the leaf is and
 * asserts) and verify_path.c (paths, validation, the verdict). Not for
 * any other file of ca/.
 */
#ifndef CA_VERIFY_INT_H
#define CA_VERIFY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "ca_int.h"

#define VERIFY_CAS_MAX 1024 /* CA certificates in a verifier */
#define VERIFY_DEPTH_MAX 8 /* CA certificates on one path */
#define VERIFY_PATHS_MAX 8 /* paths tried for one certificate */
#define VERIFY_STEPS_MAX 64 /* issuers followed in one path search */
#define LEAF_POLICIES_MAX 16 /* more: no level is read from the leaf */
#define OID_MS_SMARTCARD_LOGON "1.3.6.1.4.1.311.20.2.2"
#define OID_PIV_CARD_AUTH "2.16.840.1.101.3.6.8"

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

/* The leaf's certificatePolicies, as canonical dotted text. */
struct leafpol {
	char oid[LEAF_POLICIES_MAX][CS_CA_OID_MAX];
	size_t n;
	bool any; /* anyPolicy: never a level */
	bool many; /* more than LEAF_POLICIES_MAX: no level is read */
};

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

/* verify.c */

/* Signed by its own key (not merely self-issued: same name, other key). */
bool csa_verify_self_signed(X509 *x);
/* Sub-level name in level map m, or NULL. Borrowed from m. */
const struct cs_ca_sublevel *csa_verify_find_sub(const struct csa_levelmap *m,
    const char *name);
/*
 * Does the chain define sub-level name in two ways? Then the message is
 * in msg and the result true.
 */
bool csa_verify_sublevel_conflict(const struct cs_verifier *v, const char *name,
    char *msg, size_t cap);

/* verify_claim.c */

/*
 * Is leaf an end-entity certificate fit for v->purpose? CS_ERR_POLICY
 * with the reason in res->reason (not in ctx) if not.
 */
enum cs_err csa_verify_purpose_check(const struct cs_verifier *v, X509 *leaf,
    struct cs_verify_result *res);
/* The leaf's certificatePolicies into *lp (cleared first). */
void csa_verify_leaf_policies(X509 *leaf, struct leafpol *lp);
/*
 * What the leaf asserts that the anchor's or issuing CA's level map calls
 * a level, best first, into cl[0..CLAIMS_MAX); returns how many.
 */
size_t csa_verify_claims_of(const struct leafpol *lp, const struct vca *iss,
    const struct vca *anc, struct claim *cl);
/* "hardware-attested (policy X)" or "sub-level S (policy X)". */
void csa_verify_claim_text(const struct claim *c, char *dst, size_t cap);
/* Why claim c was not verified on the path iss .. anc. */
void csa_verify_claim_why(const struct claim *c, const struct vca *iss,
    const struct vca *anc, char *dst, size_t cap);

#endif
