/*
 * PKCS#10 requests (RFC 2986) whose signature is made on the card, and the
 * parts (subject, key, signature plan, card signature) that the
 * self-signed certificates of csr_selfsign.c share. The to-be-signed bytes are built
 * here with OpenSSL; only their digest (for Ed25519 the bytes themselves)
 * goes to the card through cs_piv_sign, and the result is checked against
 * the public key before anything is handed back.
 *
 * The subject and subjectAltName parsers live in x509_name.c, the PEM
 * codec in pem.c, self-signed certificates in csr_selfsign.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "piv_int.h"
#include "x509_int.h"

#include "banned.h"

/* piv-apdu.md §6.6: .3.1 since yubico-piv-tool 2.7.2, .3.11 before. */
#define OID_ATTEST_STMT "1.3.6.1.4.1.41482.3.1"
#define OID_ATTEST_STMT_LEGACY "1.3.6.1.4.1.41482.3.11"
#define OID_ATTEST_F9 "1.3.6.1.4.1.41482.3.2"

/* --- key, algorithm and the parts shared by requests and certificates --- */

void
csi_csr_parts_release(struct csi_csr_parts *p)
{
	X509_NAME_free(p->name);
	EVP_PKEY_free(p->pkey);
	sk_X509_EXTENSION_pop_free(p->exts, X509_EXTENSION_free);
	X509_ALGOR_free(p->algor);
	memset(p, 0, sizeof(*p));
}

static const char *
digest_pick(const char *want, const char *dflt, int *idx)
{
	static const char *const names[] = { "sha256", "sha384", "sha512" };
	size_t i;

	if (want == NULL)
		want = dflt;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(want, names[i]) == 0) {
			*idx = (int)i;
			return names[i];
		}
	return NULL;
}

static enum cs_err
plan_key(struct cs_ctx *ctx, EVP_PKEY *pkey, const char *digest,
    struct csi_csr_sig_plan *sp)
{
	static const int rsa_nids[] = { NID_sha256WithRSAEncryption,
		NID_sha384WithRSAEncryption, NID_sha512WithRSAEncryption };
	static const int ec_nids[] = { NID_ecdsa_with_SHA256,
		NID_ecdsa_with_SHA384, NID_ecdsa_with_SHA512 };
	char group[64] = "";
	int bits = EVP_PKEY_get_bits(pkey), idx = 0;
	size_t glen = 0;

	memset(sp, 0, sizeof(*sp));
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		sp->alg = bits == 1024 ? CS_PIV_ALG_RSA1024 :
		    bits == 2048 ? CS_PIV_ALG_RSA2048 :
		    bits == 3072 ? CS_PIV_ALG_RSA3072 :
		    bits == 4096 ? CS_PIV_ALG_RSA4096 : 0;
		sp->digest = digest_pick(digest, "sha256", &idx);
		sp->sig_nid = rsa_nids[idx];
		sp->ptype = V_ASN1_NULL;
		sp->rsa_len = (size_t)bits / 8;
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group),
		    &glen) != 1)
			group[0] = '\0';
		sp->alg = OBJ_sn2nid(group) == NID_X9_62_prime256v1 ?
		    CS_PIV_ALG_P256 : OBJ_sn2nid(group) == NID_secp384r1 ?
		    CS_PIV_ALG_P384 : 0;
		sp->digest = digest_pick(digest, sp->alg == CS_PIV_ALG_P384 ?
		    "sha384" : "sha256", &idx);
		sp->sig_nid = ec_nids[idx];
		sp->ptype = V_ASN1_UNDEF;
		break;
	case EVP_PKEY_ED25519:
		/* RFC 8410 §6: no digest, no parameters */
		sp->alg = CS_PIV_ALG_ED25519;
		sp->sig_nid = NID_ED25519;
		sp->ptype = V_ASN1_UNDEF;
		return CS_OK;
	default:
		break;
	}
	ERR_clear_error();
	if (sp->alg == 0)
		return csi_fail(ctx, CS_ERR_UNSUPPORTED, "public key is not "
		    "a PIV signing key (RSA 1024-4096, P-256, P-384, Ed25519)");
	if (sp->digest == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "digest \"%s\": use sha256, "
		    "sha384 or sha512", digest);
	return CS_OK;
}

static enum cs_err
parse_spki(struct cs_ctx *ctx, const uint8_t *spki, size_t len,
    EVP_PKEY **out)
{
	const unsigned char *p = spki;

	*out = NULL;
	if (len == 0 || len > CSI_CSR_DER_MAX ||
	    (*out = d2i_PUBKEY(NULL, &p, (long)len)) == NULL)
		return csi_fail_ossl(ctx, CS_ERR_MALFORMED, "public key: not "
		    "a DER SubjectPublicKeyInfo");
	if (p != spki + len) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return csi_fail(ctx, CS_ERR_MALFORMED, "public key: trailing "
		    "bytes after the SubjectPublicKeyInfo");
	}
	return CS_OK;
}

/* The slot's public key: from the caller, else from GET METADATA. */
static enum cs_err
slot_pubkey(struct cs_card *card, uint8_t slot, const struct cs_csr_req *req,
    EVP_PKEY **out)
{
	struct cs_piv_key_meta meta;
	uint8_t *spki = NULL;
	size_t len = 0;
	char s[3];
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (req->spki != NULL)
		return parse_spki(card->ctx, req->spki, req->spki_len, out);
	r = cs_piv_key_metadata(card, slot, &meta, &spki, &len);
	if (r == CS_ERR_UNSUPPORTED && (req->flags & CS_CSR_ATTEST) != 0)
		return CS_OK; /* taken from the attestation statement */
	if (r == CS_ERR_UNSUPPORTED)
		r = csi_fail(card->ctx, r, "slot %s: the card cannot report "
		    "the public key (no GET METADATA); pass the key from "
		    "generation", csi_piv_slot_str(slot, s));
	if (r == CS_OK)
		r = parse_spki(card->ctx, spki, len, out);
	cs_free(spki);
	return r;
}

static enum cs_err
push_octet_ext(struct cs_ctx *ctx, STACK_OF(X509_EXTENSION) *exts,
    const char *oid, const uint8_t *der, size_t len)
{
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((obj = OBJ_txt2obj(oid, 1)) == NULL ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(os, der, (int)len) != 1 ||
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) == NULL ||
	    sk_X509_EXTENSION_push(exts, ext) <= 0)
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "extension %s", oid);
	else {
		ext = NULL; /* the stack owns it */
		r = CS_OK;
	}
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return r;
}

/*
 * ATTEST the slot and read F9, embed both (piv-apdu.md §6.6). Without a
 * key yet (no metadata), the key is taken from the statement, as
 * yubico-piv-tool does; otherwise the statement must certify that key.
 */
static enum cs_err
add_attestation(struct cs_card *card, uint8_t slot, unsigned int flags,
    struct csi_csr_parts *p)
{
	uint8_t *stmt = NULL, *f9 = NULL;
	size_t stmt_len = 0, f9_len = 0;
	const unsigned char *q;
	X509 *x = NULL;
	EVP_PKEY *k;
	char s[3];
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_piv_attest(card, slot, &stmt, &stmt_len)) != CS_OK ||
	    (r = cs_piv_read_cert(card, CS_PIV_SLOT_ATTEST, &f9,
	    &f9_len)) != CS_OK)
		goto out;
	q = stmt;
	if ((x = d2i_X509(NULL, &q, (long)stmt_len)) == NULL ||
	    (k = X509_get0_pubkey(x)) == NULL) {
		r = csi_fail_ossl(card->ctx, CS_ERR_MALFORMED, "attestation "
		    "of slot %s: no public key", csi_piv_slot_str(slot, s));
		goto out;
	}
	if (p->pkey == NULL) {
		if (EVP_PKEY_up_ref(k) != 1) {
			r = csi_fail_ossl(card->ctx, CS_ERR_CRYPTO, "key");
			goto out;
		}
		p->pkey = k;
	} else if (EVP_PKEY_eq(p->pkey, k) != 1) {
		r = csi_fail(card->ctx, CS_ERR_VERIFY, "attestation of slot "
		    "%s certifies a different key than the request's",
		    csi_piv_slot_str(slot, s));
		goto out;
	}
	if ((r = push_octet_ext(card->ctx, p->exts,
	    (flags & CS_CSR_ATTEST_LEGACY_OID) != 0 ? OID_ATTEST_STMT_LEGACY :
	    OID_ATTEST_STMT, stmt, stmt_len)) != CS_OK ||
	    (r = push_octet_ext(card->ctx, p->exts, OID_ATTEST_F9, f9,
	    f9_len)) != CS_OK)
		goto out;
	r = CS_OK;
out:
	ERR_clear_error();
	X509_free(x);
	cs_free(stmt);
	cs_free(f9);
	return r;
}

enum cs_err
csi_csr_parts_prepare(struct cs_card *card, uint8_t slot,
    const struct cs_csr_req *req, struct csi_csr_parts *p)
{
	GENERAL_NAMES *gens = NULL;
	unsigned int known = CS_CSR_ATTEST | CS_CSR_ATTEST_LEGACY_OID;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(p, 0, sizeof(*p));
	if ((req->flags & ~known) != 0 ||
	    (req->flags & (CS_CSR_ATTEST | CS_CSR_ATTEST_LEGACY_OID)) ==
	    CS_CSR_ATTEST_LEGACY_OID)
		return csi_fail(card->ctx, CS_ERR_ARG, "CSR: bad flags 0x%x "
		    "(the legacy OID flag needs CS_CSR_ATTEST)", req->flags);
	if ((r = cs_x509_name_parse(card->ctx, req->subject, &p->name)) != CS_OK ||
	    (r = cs_x509_san_parse(card->ctx, req->sans, &gens)) != CS_OK ||
	    (r = slot_pubkey(card, slot, req, &p->pkey)) != CS_OK)
		goto out;
	if ((p->exts = sk_X509_EXTENSION_new_null()) == NULL ||
	    (gens != NULL && X509V3_add1_i2d(&p->exts, NID_subject_alt_name,
	    gens, 0, X509V3_ADD_APPEND) != 1)) {
		r = csi_fail_ossl(card->ctx, CS_ERR_CRYPTO, "subjectAltName");
		goto out;
	}
	if ((req->flags & CS_CSR_ATTEST) != 0 &&
	    (r = add_attestation(card, slot, req->flags, p)) != CS_OK)
		goto out;
	if ((r = plan_key(card->ctx, p->pkey, req->digest, &p->plan)) !=
	    CS_OK)
		goto out;
	if ((p->algor = X509_ALGOR_new()) == NULL ||
	    X509_ALGOR_set0(p->algor, OBJ_nid2obj(p->plan.sig_nid),
	    p->plan.ptype, NULL) != 1) {
		r = csi_fail_ossl(card->ctx, CS_ERR_CRYPTO, "signature "
		    "algorithm");
		goto out;
	}
	r = CS_OK;
out:
	GENERAL_NAMES_free(gens);
	if (r != CS_OK)
		csi_csr_parts_release(p);
	return r;
}

/* --- signing on the card --- */

/* signatureValue as a BIT STRING with no unused bits (X.690 §8.6). */
static enum cs_err
sig_bitstring(struct cs_ctx *ctx, const uint8_t *sig, size_t len,
    ASN1_BIT_STRING **out)
{
	struct cs_buf b = CS_BUF_INIT(CSI_CSR_DER_MAX);
	const unsigned char *p;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((r = cs_tlv_put_hdr(&b, 0x03, len + 1)) != CS_OK ||
	    (r = cs_buf_put_u8(&b, 0x00)) != CS_OK ||
	    (r = cs_buf_put(&b, sig, len)) != CS_OK) {
		r = csi_fail(ctx, r, "signature too long");
		goto out;
	}
	p = b.data;
	if ((*out = d2i_ASN1_BIT_STRING(NULL, &p, (long)b.len)) == NULL)
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "signature BIT STRING");
out:
	cs_buf_release(&b);
	return r;
}

static enum cs_err
explain_sign_failure(struct cs_card *card, enum cs_err r)
{
	char msg[CSI_ERRMSG_MAX];

	/* with a cached PIN, piv already VERIFYed: then it is touch */
	if (r != CS_ERR_ACCESS || card->pin_cached)
		return r;
	snprintf(msg, sizeof(msg), "%s", cs_ctx_errmsg(card->ctx));
	return csi_fail(card->ctx, r, "%s; verify the PIN first (keys with "
	    "PIN policy always, e.g. slot 9c, need it cached with "
	    "cs_card_set_pin)", msg);
}

enum cs_err
csi_csr_card_sign(struct cs_card *card, uint8_t slot,
    const struct csi_csr_sig_plan *sp, const uint8_t *tbs, size_t tbslen,
    ASN1_BIT_STRING **out)
{
	uint8_t md[EVP_MAX_MD_SIZE], pad[512], *sig = NULL;
	unsigned int mdlen = 0;
	size_t siglen = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (sp->digest == NULL) {
		r = cs_piv_sign(card, slot, sp->alg, NULL, tbs, tbslen, &sig,
		    &siglen);
	} else if (EVP_Digest(tbs, tbslen, md, &mdlen,
	    EVP_get_digestbyname(sp->digest), NULL) != 1) {
		r = csi_fail_ossl(card->ctx, CS_ERR_CRYPTO, "%s", sp->digest);
	} else {
		r = cs_piv_sign(card, slot, sp->alg, sp->digest, md, mdlen,
		    &sig, &siglen);
	}
	if (r != CS_OK) {
		r = explain_sign_failure(card, r);
		goto out;
	}
	/* RFC 8017 §8.2.1: an RSA signature is exactly k octets */
	if (sp->rsa_len != 0 && siglen < sp->rsa_len &&
	    sp->rsa_len <= sizeof(pad)) {
		memset(pad, 0, sp->rsa_len - siglen);
		memcpy(pad + sp->rsa_len - siglen, sig, siglen);
		r = sig_bitstring(card->ctx, pad, sp->rsa_len, out);
	} else
		r = sig_bitstring(card->ctx, sig, siglen, out);
out:
	cs_free(sig);
	return r;
}

/* Copy OpenSSL-allocated DER into memory the caller frees with cs_free. */
static enum cs_err
take_der(struct cs_ctx *ctx, const unsigned char *der, int n, uint8_t **out,
    size_t *len)
{
	if (n <= 0 || der == NULL)
		return csi_fail_ossl(ctx, CS_ERR_CRYPTO, "DER encoding");
	if ((*out = malloc((size_t)n)) == NULL)
		return csi_fail(ctx, CS_ERR_NOMEM, "out of memory");
	memcpy(*out, der, (size_t)n);
	*len = (size_t)n;
	return CS_OK;
}

enum cs_err
cs_csr_build(struct cs_card *card, uint8_t slot, const struct cs_csr_req *req,
    uint8_t **der, size_t *len)
{
	struct csi_csr_parts p;
	X509_REQ *x = NULL;
	ASN1_BIT_STRING *bs = NULL;
	unsigned char *tbs = NULL, *enc = NULL;
	int tbslen, n;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&p, 0, sizeof(p));
	if (der == NULL || len == NULL)
		return CS_ERR_ARG;
	*der = NULL;
	*len = 0;
	if (card == NULL || req == NULL)
		return CS_ERR_ARG;
	if ((r = csi_csr_parts_prepare(card, slot, req, &p)) != CS_OK)
		goto out;
	if ((x = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(x, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(x, p.name) != 1 ||
	    X509_REQ_set_pubkey(x, p.pkey) != 1 ||
	    (sk_X509_EXTENSION_num(p.exts) > 0 &&
	    X509_REQ_add_extensions(x, p.exts) != 1) ||
	    X509_REQ_set1_signature_algo(x, p.algor) != 1 ||
	    (tbslen = i2d_re_X509_REQ_tbs(x, &tbs)) <= 0) {
		r = csi_fail_ossl(card->ctx, CS_ERR_CRYPTO, "CSR: cannot "
		    "assemble the request");
		goto out;
	}
	if ((r = csi_csr_card_sign(card, slot, &p.plan, tbs, (size_t)tbslen, &bs)) !=
	    CS_OK)
		goto out;
	X509_REQ_set0_signature(x, bs);
	bs = NULL;
	if (X509_REQ_verify(x, p.pkey) != 1) {
		r = csi_fail_ossl(card->ctx, CS_ERR_VERIFY, "signature made "
		    "by the card does not verify with the slot's public key "
		    "— wrong key in slot?");
		goto out;
	}
	n = i2d_X509_REQ(x, &enc);
	r = take_der(card->ctx, enc, n, der, len);
out:
	ERR_clear_error();
	OPENSSL_free(tbs);
	OPENSSL_free(enc);
	ASN1_BIT_STRING_free(bs);
	X509_REQ_free(x);
	csi_csr_parts_release(&p);
	return r;
}

/*
 * What cs_csr_build would refuse before it touches the card: the same
 * parsers, so the CLI can report a typo as a usage error without a PIN.
 */
enum cs_err
cs_csr_check(struct cs_ctx *ctx, const struct cs_csr_req *req)
{
	X509_NAME *name = NULL;
	GENERAL_NAMES *gens = NULL;
	int idx;
	enum cs_err r = CS_ERR_INTERNAL;

	if (req == NULL)
		return CS_ERR_ARG;
	if ((r = cs_x509_name_parse(ctx, req->subject, &name)) != CS_OK ||
	    (r = cs_x509_san_parse(ctx, req->sans, &gens)) != CS_OK)
		goto out;
	if (req->digest != NULL &&
	    digest_pick(req->digest, "sha256", &idx) == NULL) {
		r = csi_fail(ctx, CS_ERR_ARG, "digest \"%s\": use sha256, "
		    "sha384 or sha512", req->digest);
		goto out;
	}
	r = CS_OK;
out:
	ERR_clear_error();
	X509_NAME_free(name);
	GENERAL_NAMES_free(gens);
	return r;
}
