/*
 * PIV algorithms and slots: the algorithm table (ids, names, sizes),
 * algorithm and slot name parsing, public keys from the card's 7F49 TLVs
 * as DER SubjectPublicKeyInfo, and what the card signs for each algorithm
 * (RFC 8017 EMSA-PKCS1-v1_5 block, truncated EC digest, Ed25519 message).
 * The key operations themselves are in piv_key.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "piv_int.h"

#include "banned.h"

static const struct csi_piv_alg algs[] = {
	{ CS_PIV_ALG_3DES, "3des", "tdes", 24, 's', NULL },
	{ CS_PIV_ALG_AES128, "aes128", NULL, 16, 's', NULL },
	{ CS_PIV_ALG_AES192, "aes192", NULL, 24, 's', NULL },
	{ CS_PIV_ALG_AES256, "aes256", NULL, 32, 's', NULL },
	{ CS_PIV_ALG_RSA1024, "rsa1024", NULL, 128, 'r', NULL },
	{ CS_PIV_ALG_RSA2048, "rsa2048", NULL, 256, 'r', NULL },
	{ CS_PIV_ALG_RSA3072, "rsa3072", NULL, 384, 'r', NULL },
	{ CS_PIV_ALG_RSA4096, "rsa4096", NULL, 512, 'r', NULL },
	{ CS_PIV_ALG_P256, "p256", "eccp256", 32, 'e', "P-256" },
	{ CS_PIV_ALG_P384, "p384", "eccp384", 48, 'e', "P-384" },
	{ CS_PIV_ALG_ED25519, "ed25519", NULL, 32, 'd', NULL },
	{ CS_PIV_ALG_X25519, "x25519", NULL, 32, 'x', NULL },
};

const struct csi_piv_alg *
csi_piv_alg_find(uint8_t id)
{
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].id == id)
			return &algs[i];
	return NULL;
}

const struct csi_piv_alg *
csi_piv_key_alg(uint8_t id)
{
	const struct csi_piv_alg *a = csi_piv_alg_find(id);

	return a != NULL && a->kind != 's' ? a : NULL;
}

uint8_t
cs_piv_alg_parse(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcasecmp(s, algs[i].name) == 0 ||
		    (algs[i].alias != NULL && strcasecmp(s, algs[i].alias) == 0))
			return algs[i].id;
	return 0;
}

const char *
cs_piv_alg_name(uint8_t alg)
{
	const struct csi_piv_alg *a = csi_piv_alg_find(alg);

	return a != NULL ? a->name : NULL;
}

bool
csi_piv_is_key_slot(uint8_t slot)
{
	return slot == CS_PIV_SLOT_AUTH || slot == CS_PIV_SLOT_SIGN ||
	    slot == CS_PIV_SLOT_KEYMGMT || slot == CS_PIV_SLOT_CARDAUTH ||
	    slot == CS_PIV_SLOT_ATTEST ||
	    (slot >= CS_PIV_SLOT_RETIRED1 && slot <= CS_PIV_SLOT_RETIRED20);
}

int
cs_piv_slot_parse(const char *s)
{
	static const struct {
		const char *name;
		int slot;
	} names[] = {
		{ "auth", CS_PIV_SLOT_AUTH },
		{ "sign", CS_PIV_SLOT_SIGN },
		{ "keymgmt", CS_PIV_SLOT_KEYMGMT },
		{ "cardauth", CS_PIV_SLOT_CARDAUTH },
		{ "attest", CS_PIV_SLOT_ATTEST },
		{ "mgm", CS_PIV_SLOT_MGM },
	};
	char *end;
	unsigned long v;
	size_t i;

	if (s == NULL || s[0] == '\0')
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].slot;
	if (strncasecmp(s, "retired", 7) == 0) {
		v = strtoul(s + 7, &end, 10);
		if (s[7] < '1' || s[7] > '9' || *end != '\0' || v < 1 ||
		    v > 20)
			return -1;
		return CS_PIV_SLOT_RETIRED1 + (int)v - 1;
	}
	if (strlen(s) != 2 || s[0] == '+' || s[0] == '-' || s[0] == ' ')
		return -1;
	v = strtoul(s, &end, 16);
	if (*end != '\0' || (!csi_piv_is_key_slot((uint8_t)v) && v != CS_PIV_SLOT_MGM))
		return -1;
	return (int)v;
}

/* --- public keys from the card's 7F49 TLVs --- */

static enum cs_err
pkey_to_spki(struct cs_ctx *ctx, EVP_PKEY *pk, uint8_t **spki, size_t *len)
{
	unsigned char *p;
	int n;

	if ((n = i2d_PUBKEY(pk, NULL)) <= 0)
		return csi_fail_ossl(ctx, CS_ERR_CRYPTO, "public key: encode");
	if ((*spki = p = malloc((size_t)n)) == NULL)
		return csi_fail(ctx, CS_ERR_NOMEM, "public key: out of memory");
	if (i2d_PUBKEY(pk, &p) != n) {
		free(*spki);
		*spki = NULL;
		return csi_fail_ossl(ctx, CS_ERR_CRYPTO, "public key: encode");
	}
	*len = (size_t)n;
	return CS_OK;
}

static enum cs_err
fromdata(struct cs_ctx *ctx, const char *type, OSSL_PARAM_BLD *bld,
    EVP_PKEY **pk)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "public key from card: not a valid %s key", type);
	else
		r = CS_OK;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(pctx);
	return r;
}

static enum cs_err
rsa_pub(struct cs_ctx *ctx, const struct csi_piv_alg *a, const struct cs_cur *pub,
    EVP_PKEY **pk)
{
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *n = NULL, *e = NULL;
	struct cs_cur nv, ev;
	enum cs_err r = CS_ERR_INTERNAL;

	if (cs_tlv_find(pub, 0x81, &nv) != CS_OK ||
	    cs_tlv_find(pub, 0x82, &ev) != CS_OK ||
	    cs_cur_len(&ev) == 0 || cs_cur_len(&ev) > 8) {
		r = csi_fail(ctx, CS_ERR_MALFORMED,
		    "RSA public key: modulus (81) or exponent (82) missing");
		goto out;
	}
	if ((n = BN_bin2bn(cs_cur_ptr(&nv), (int)cs_cur_len(&nv), NULL)) ==
	    NULL ||
	    (e = BN_bin2bn(cs_cur_ptr(&ev), (int)cs_cur_len(&ev), NULL)) ==
	    NULL || (bld = OSSL_PARAM_BLD_new()) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "RSA public key");
		goto out;
	}
	if ((size_t)BN_num_bytes(n) != a->size || !BN_is_odd(e)) {
		r = csi_fail(ctx, CS_ERR_MALFORMED,
		    "RSA public key: %d-byte modulus, %s expected",
		    BN_num_bytes(n), a->name);
		goto out;
	}
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1) {
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "RSA public key");
		goto out;
	}
	r = fromdata(ctx, "RSA", bld, pk);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return r;
}

static enum cs_err
ec_pub(struct cs_ctx *ctx, const struct csi_piv_alg *a, const struct cs_cur *pt,
    EVP_PKEY **pk)
{
	OSSL_PARAM_BLD *bld = NULL;
	uint8_t first = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (cs_cur_len(pt) != 1 + 2 * a->size ||
	    cs_cur_peek_u8(pt, &first) != CS_OK || first != 0x04)
		return csi_fail(ctx, CS_ERR_MALFORMED,
		    "EC public key: not an uncompressed %s point", a->group);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    a->group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    cs_cur_ptr(pt), cs_cur_len(pt)) != 1) {
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "EC public key");
		goto out;
	}
	r = fromdata(ctx, "EC", bld, pk);
out:
	OSSL_PARAM_BLD_free(bld);
	return r;
}

enum cs_err
csi_piv_spki_from_tlv(struct cs_ctx *ctx, uint8_t alg,
    const struct cs_cur *pub, uint8_t **spki, size_t *len)
{
	const struct csi_piv_alg *a = csi_piv_key_alg(alg);
	EVP_PKEY *pk = NULL;
	struct cs_cur pt;
	enum cs_err r = CS_ERR_INTERNAL;

	*spki = NULL;
	*len = 0;
	if (a == NULL)
		return csi_fail(ctx, CS_ERR_UNSUPPORTED,
		    "public key: unknown algorithm %02x", alg);
	if (a->kind == 'r')
		r = rsa_pub(ctx, a, pub, &pk);
	else if (cs_tlv_find(pub, 0x86, &pt) != CS_OK)
		r = csi_fail(ctx, CS_ERR_MALFORMED,
		    "public key: point (tag 86) missing");
	else if (a->kind == 'e')
		r = ec_pub(ctx, a, &pt, &pk);
	else if (cs_cur_len(&pt) != a->size)
		r = csi_fail(ctx, CS_ERR_MALFORMED,
		    "%s public key: %zu bytes", a->name, cs_cur_len(&pt));
	else if ((pk = EVP_PKEY_new_raw_public_key(a->kind == 'd' ?
	    EVP_PKEY_ED25519 : EVP_PKEY_X25519, NULL, cs_cur_ptr(&pt),
	    cs_cur_len(&pt))) == NULL)
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED, "%s public key",
		    a->name);
	else
		r = CS_OK;
	if (r == CS_OK)
		r = pkey_to_spki(ctx, pk, spki, len);
	EVP_PKEY_free(pk);
	return r;
}

/* --- what the card signs --- */

struct digest_info {
	const char *name;
	size_t len;
	uint8_t prefix[19]; /* RFC 8017 §9.2 note 1 */
};

static const struct digest_info digest_infos[] = {
	{ "sha256", 32, { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,
	    0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
	    0x20 } },
	{ "sha384", 48, { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,
	    0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
	    0x30 } },
	{ "sha512", 64, { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,
	    0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
	    0x40 } },
};

/* RFC 8017 §9.2 EMSA-PKCS1-v1_5: 00 01 FF.. 00 DigestInfo, k bytes. */
static enum cs_err
emsa_pkcs1(struct cs_ctx *ctx, const char *name, const uint8_t *digest,
    size_t dlen, size_t k, struct cs_buf *em)
{
	const struct digest_info *di = NULL;
	size_t i, tlen, ps;
	enum cs_err r = CS_ERR_INTERNAL;

	for (i = 0; i < sizeof(digest_infos) / sizeof(digest_infos[0]); i++)
		if (name != NULL && strcasecmp(name, digest_infos[i].name) == 0)
			di = &digest_infos[i];
	if (di == NULL || dlen != di->len)
		return csi_fail(ctx, CS_ERR_ARG, "RSA signature: digest must be "
		    "sha256, sha384 or sha512 of the matching length");
	tlen = sizeof(di->prefix) + dlen;
	if (k < tlen + 11)
		return csi_fail(ctx, CS_ERR_ARG,
		    "RSA signature: key too short for %s", di->name);
	ps = k - tlen - 3;
	if ((r = cs_buf_put_u8(em, 0x00)) != CS_OK ||
	    (r = cs_buf_put_u8(em, 0x01)) != CS_OK)
		return r;
	for (i = 0; i < ps && r == CS_OK; i++)
		r = cs_buf_put_u8(em, 0xFF);
	if (r != CS_OK || (r = cs_buf_put_u8(em, 0x00)) != CS_OK ||
	    (r = cs_buf_put(em, di->prefix, sizeof(di->prefix))) != CS_OK ||
	    (r = cs_buf_put(em, digest, dlen)) != CS_OK)
		return r;
	return CS_OK;
}

enum cs_err
csi_piv_sign_input(struct cs_ctx *ctx, const struct csi_piv_alg *a, const char *dname,
    const uint8_t *digest, size_t dlen, struct cs_buf *in)
{
	if (a->kind == 'r')
		return emsa_pkcs1(ctx, dname, digest, dlen, a->size, in);
	if (a->kind == 'e') {
		/* FIPS 186-4 §6.4: the leftmost field-size bytes */
		return cs_buf_put(in, digest, dlen < a->size ? dlen : a->size);
	}
	if (a->kind == 'd')
		return cs_buf_put(in, digest, dlen);
	return csi_fail(ctx, CS_ERR_ARG, "%s keys cannot sign", a->name);
}
