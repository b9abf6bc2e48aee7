/*
 * Self-signed certificates (RFC 5280) for a key on the card, signed on
 * the card: the certificate ykman and yubico-piv-tool put into a slot
 * before a CA has issued one. Subject, key and signature plan are the
 * request's (csr.c); the TBSCertificate is built here.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "piv_int.h"
#include "x509_int.h"

#include "banned.h"

/* Longest self-signed validity (about 100 years). */
#define CSR_DAYS_MAX 36600u

/* Append OpenSSL's i2d output (n bytes at *der, freed here). */
static enum cs_err
put_i2d(struct cs_ctx *ctx, struct cs_buf *b, unsigned char **der, int n)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if (n <= 0 || *der == NULL)
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "DER encoding");
	else if ((r = cs_buf_put(b, *der, (size_t)n)) != CS_OK)
		r = csi_fail(ctx, r, "certificate too large");
	OPENSSL_free(*der);
	*der = NULL;
	return r;
}

/* keyUsage digitalSignature (critical, RFC 5280 §4.2.1.3) and the SKI. */
static enum cs_err
add_cert_exts(struct cs_ctx *ctx, struct csi_csr_parts *p)
{
	const unsigned char *pk = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int pklen = 0;
	ASN1_BIT_STRING *ku = NULL;
	ASN1_OCTET_STRING *ski = NULL;
	X509_PUBKEY *xpk = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	/* RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits */
	if (X509_PUBKEY_set(&xpk, p->pkey) != 1 ||
	    X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, xpk) != 1 ||
	    EVP_Digest(pk, (size_t)pklen, md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    (ski = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(ski, md, (int)mdlen) != 1 ||
	    (ku = ASN1_BIT_STRING_new()) == NULL ||
	    ASN1_BIT_STRING_set_bit(ku, 0, 1) != 1 ||
	    X509V3_add1_i2d(&p->exts, NID_key_usage, ku, 1,
	    X509V3_ADD_APPEND) != 1 ||
	    X509V3_add1_i2d(&p->exts, NID_subject_key_identifier, ski, 0,
	    X509V3_ADD_APPEND) != 1)
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "certificate extensions");
	else
		r = CS_OK;
	X509_PUBKEY_free(xpk);
	ASN1_BIT_STRING_free(ku);
	ASN1_OCTET_STRING_free(ski);
	return r;
}

/* 16 random bytes, positive and without a leading zero (RFC 5280 §4.1.2.2). */
static enum cs_err
put_serial(struct cs_card *card, struct cs_buf *b)
{
	uint8_t sn[16];
	enum cs_err r = CS_ERR_INTERNAL;

	if (RAND_bytes(sn, sizeof(sn)) != 1)
		return csi_fail_ossl(card->ctx, CS_ERR_CRYPTO, "serial");
	sn[0] = (uint8_t)((sn[0] & 0x7F) | 0x40);
	if ((r = cs_tlv_put(b, 0x02, sn, sizeof(sn))) != CS_OK)
		return csi_fail(card->ctx, r, "serial");
	return CS_OK;
}

/* TBSCertificate (RFC 5280 §4.1), v3, issuer = subject. */
static enum cs_err
build_tbs(struct cs_card *card, const struct csi_csr_parts *p, unsigned int days,
    struct cs_buf *tbs)
{
	static const uint8_t v3[] = { 0xA0, 0x03, 0x02, 0x01, 0x02 };
	struct cs_ctx *ctx = card->ctx;
	ASN1_TIME *nb = NULL, *na = NULL;
	unsigned char *d = NULL;
	time_t now = time(NULL);
	size_t top, val, ext;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((nb = X509_time_adj_ex(NULL, 0, 0, &now)) == NULL ||
	    (na = X509_time_adj_ex(NULL, (int)days, 0, &now)) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "validity");
		goto out;
	}
	cs_tlv_open(tbs, &top);
	if ((r = cs_buf_put(tbs, v3, sizeof(v3))) != CS_OK ||
	    (r = put_serial(card, tbs)) != CS_OK ||
	    (r = put_i2d(ctx, tbs, &d, i2d_X509_ALGOR(p->algor, &d))) != CS_OK ||
	    (r = put_i2d(ctx, tbs, &d, i2d_X509_NAME(p->name, &d))) != CS_OK)
		goto out;
	cs_tlv_open(tbs, &val);
	if ((r = put_i2d(ctx, tbs, &d, i2d_ASN1_TIME(nb, &d))) != CS_OK ||
	    (r = put_i2d(ctx, tbs, &d, i2d_ASN1_TIME(na, &d))) != CS_OK ||
	    (r = cs_tlv_close(tbs, 0x30, val)) != CS_OK ||
	    (r = put_i2d(ctx, tbs, &d, i2d_X509_NAME(p->name, &d))) != CS_OK ||
	    (r = put_i2d(ctx, tbs, &d, i2d_PUBKEY(p->pkey, &d))) != CS_OK)
		goto out;
	cs_tlv_open(tbs, &ext);
	if ((r = put_i2d(ctx, tbs, &d, i2d_X509_EXTENSIONS(p->exts,
	    &d))) != CS_OK)
		goto out;
	if ((r = cs_tlv_close(tbs, 0xA3, ext)) != CS_OK ||
	    (r = cs_tlv_close(tbs, 0x30, top)) != CS_OK) {
		r = csi_fail(ctx, r, "certificate too large");
		goto out;
	}
	r = CS_OK;
out:
	OPENSSL_free(d);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return r;
}

/* Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue } */
static enum cs_err
build_cert(struct cs_ctx *ctx, const struct cs_buf *tbs,
    const X509_ALGOR *algor, const ASN1_BIT_STRING *bs, struct cs_buf *out)
{
	unsigned char *d = NULL;
	size_t top;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_tlv_open(out, &top);
	if ((r = cs_buf_put(out, tbs->data, tbs->len)) != CS_OK ||
	    (r = put_i2d(ctx, out, &d, i2d_X509_ALGOR(algor, &d))) != CS_OK ||
	    (r = put_i2d(ctx, out, &d, i2d_ASN1_BIT_STRING(bs, &d))) !=
	    CS_OK)
		return r;
	if ((r = cs_tlv_close(out, 0x30, top)) != CS_OK)
		return csi_fail(ctx, r, "certificate too large");
	return CS_OK;
}

enum cs_err
cs_csr_selfsign(struct cs_card *card, uint8_t slot,
    const struct cs_csr_req *req, unsigned int days, uint8_t **der,
    size_t *len)
{
	struct cs_buf tbs = CS_BUF_INIT(CSI_CSR_DER_MAX);
	struct cs_buf cert = CS_BUF_INIT(CSI_CSR_DER_MAX);
	struct csi_csr_parts p;
	ASN1_BIT_STRING *bs = NULL;
	const unsigned char *q;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&p, 0, sizeof(p));
	if (der == NULL || len == NULL)
		return CS_ERR_ARG;
	*der = NULL;
	*len = 0;
	if (card == NULL || req == NULL)
		return CS_ERR_ARG;
	if (days == 0 || days > CSR_DAYS_MAX)
		return csi_fail(card->ctx, CS_ERR_ARG, "certificate validity "
		    "must be 1 to %u days", CSR_DAYS_MAX);
	if ((r = csi_csr_parts_prepare(card, slot, req, &p)) != CS_OK ||
	    (r = add_cert_exts(card->ctx, &p)) != CS_OK ||
	    (r = build_tbs(card, &p, days, &tbs)) != CS_OK ||
	    (r = csi_csr_card_sign(card, slot, &p.plan, tbs.data, tbs.len, &bs)) !=
	    CS_OK ||
	    (r = build_cert(card->ctx, &tbs, p.algor, bs, &cert)) != CS_OK)
		goto out;
	q = cert.data;
	if ((x = d2i_X509(NULL, &q, (long)cert.len)) == NULL ||
	    q != cert.data + cert.len) {
		r = csi_fail_ossl(card->ctx, CS_ERR_INTERNAL, "self-signed "
		    "certificate does not decode");
		goto out;
	}
	if (X509_verify(x, p.pkey) != 1) {
		r = csi_fail_ossl(card->ctx, CS_ERR_VERIFY, "signature made "
		    "by the card does not verify with the slot's public key "
		    "— wrong key in slot?");
		goto out;
	}
	r = cs_buf_take(&cert, der, len);
out:
	ERR_clear_error();
	X509_free(x);
	ASN1_BIT_STRING_free(bs);
	cs_buf_release(&tbs);
	cs_buf_release(&cert);
	csi_csr_parts_release(&p);
	return r;
}
