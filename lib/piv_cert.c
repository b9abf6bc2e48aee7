/*
 * PIV data objects (§5), certificate objects with their gzip compression
 * (§5.2 CertInfo) and the CHUID written before the first certificate
 * (§5.3). The command plumbing is in piv.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "piv_int.h"
#include "x509_int.h"

#include "banned.h"

/* Largest certificate after inflating (bounds a zip bomb). */
#define CERT_INFLATE_MAX (CS_PIV_OBJ_MAX * 4)
#define ZCHUNK 4096

/* §5.2 CertInfo (tag 71): bit 0x01 gzip, 0x80 as OpenSC also accepts. */
#define CERTINFO_GZIP 0x01
#define CERTINFO_ALT 0x80

/* §5.3: FASC-N of a non-federal issuer, agency code 9999. */
static const uint8_t fascn_9999[25] = {
	0xD4, 0xE7, 0x39, 0xDA, 0x73, 0x9C, 0xED, 0x39, 0xCE, 0x73, 0x9D,
	0x83, 0x68, 0x58, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0xC8, 0x42,
	0x10, 0xC3, 0xEB,
};
static const char chuid_expiry[] = "20300101";

/* --- data objects --- */

uint32_t
cs_piv_cert_object(uint8_t slot)
{
	switch (slot) {
	case CS_PIV_SLOT_AUTH:
		return 0x5FC105;
	case CS_PIV_SLOT_SIGN:
		return 0x5FC10A;
	case CS_PIV_SLOT_KEYMGMT:
		return 0x5FC10B;
	case CS_PIV_SLOT_CARDAUTH:
		return 0x5FC101;
	case CS_PIV_SLOT_ATTEST:
		return CSI_PIV_OBJ_ATTEST;
	default:
		if (slot >= CS_PIV_SLOT_RETIRED1 &&
		    slot <= CS_PIV_SLOT_RETIRED20)
			return 0x5FC10D + (uint32_t)(slot - CS_PIV_SLOT_RETIRED1);
		return 0;
	}
}

enum cs_err
cs_piv_read_object(struct cs_card *card, uint32_t tag, uint8_t **val,
    size_t *len)
{
	struct cs_buf v = CS_BUF_INIT(CS_PIV_OBJ_MAX);
	enum cs_err r = CS_ERR_INTERNAL;

	*val = NULL;
	*len = 0;
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	if ((r = csi_piv_get_data(card, tag, &v)) != CS_OK)
		goto out;
	r = cs_buf_take(&v, val, len);
out:
	csi_piv_end(card);
	cs_buf_release(&v);
	return r;
}

enum cs_err
cs_piv_write_object(struct cs_card *card, uint32_t tag, const uint8_t *val,
    size_t len)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if (len > 0 && val == NULL)
		return csi_fail(card->ctx, CS_ERR_ARG, "write object: no data");
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	r = csi_piv_put_data(card, tag, val, len, false);
	csi_piv_end(card);
	return r;
}

/* --- certificates (§5.2) --- */

/* RFC 1950/1952 stream (auto-detected) into out, at most out->max. */
static enum cs_err
inflate_cert(struct cs_ctx *ctx, const struct cs_cur *in, struct cs_buf *out)
{
	z_stream zs;
	uint8_t chunk[ZCHUNK];
	size_t have;
	int zr = Z_OK;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&zs, 0, sizeof(zs));
	if (cs_cur_len(in) > UINT32_MAX)
		return CS_ERR_LIMIT;
	zs.next_in = cs_cur_ptr(in);
	zs.avail_in = (uInt)cs_cur_len(in);
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return csi_fail(ctx, CS_ERR_NOMEM, "inflate: init failed");
	while (zr != Z_STREAM_END) {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			r = csi_fail(ctx, CS_ERR_MALFORMED,
			    "compressed certificate: %s",
			    zs.msg != NULL ? zs.msg : "bad or truncated data");
			goto out;
		}
		have = sizeof(chunk) - zs.avail_out;
		if (cs_buf_put(out, chunk, have) != CS_OK) {
			r = csi_fail(ctx, CS_ERR_LIMIT,
			    "compressed certificate inflates beyond %zu bytes",
			    out->max);
			goto out;
		}
		if (zr == Z_OK && have == 0 && zs.avail_in == 0) {
			r = csi_fail(ctx, CS_ERR_TRUNCATED,
			    "compressed certificate is truncated");
			goto out;
		}
	}
	if (zs.avail_in != 0) {
		r = csi_fail(ctx, CS_ERR_MALFORMED,
		    "compressed certificate: data after the stream");
		goto out;
	}
	r = CS_OK;
out:
	inflateEnd(&zs);
	return r;
}

/* gzip (RFC 1952) of in, as yubico-piv-tool -K GZIP writes it. */
static enum cs_err
deflate_cert(struct cs_ctx *ctx, const uint8_t *in, size_t len,
    struct cs_buf *out)
{
	z_stream zs;
	uint8_t chunk[ZCHUNK];
	int zr = Z_OK;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&zs, 0, sizeof(zs));
	if (len > UINT32_MAX)
		return CS_ERR_LIMIT;
	if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return csi_fail(ctx, CS_ERR_NOMEM, "deflate: init failed");
	zs.next_in = in;
	zs.avail_in = (uInt)len;
	while (zr != Z_STREAM_END) {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zr = deflate(&zs, Z_FINISH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			r = csi_fail(ctx, CS_ERR_INTERNAL, "deflate failed");
			goto out;
		}
		if (cs_buf_put(out, chunk, sizeof(chunk) - zs.avail_out) !=
		    CS_OK) {
			r = csi_fail(ctx, CS_ERR_LIMIT,
			    "compressed certificate too large");
			goto out;
		}
	}
	r = CS_OK;
out:
	deflateEnd(&zs);
	return r;
}

/* Split a certificate container: 70 cert, 71 info, (72 MSCUID), FE. */
static enum cs_err
parse_cert_obj(struct cs_ctx *ctx, const char *what, const struct cs_cur *obj,
    struct cs_cur *cert, uint8_t *info)
{
	struct cs_cur c = *obj, v;
	uint32_t tag, seen = 0, bit;
	enum cs_err r = CS_ERR_INTERNAL;

	*info = 0;
	cs_cur_init(cert, NULL, 0);
	while (!cs_cur_is_empty(&c)) {
		if ((r = cs_tlv_get(&c, &tag, &v)) != CS_OK)
			return csi_fail(ctx, r, "%s: bad TLV in certificate "
			    "object", what);
		switch (tag) {
		case 0x70:
			bit = 1;
			*cert = v;
			break;
		case 0x71:
			bit = 2;
			break;
		case 0x72: /* MSCUID, SP 800-73-4 part 1 table 10 */
			bit = 4;
			break;
		case 0xFE:
			bit = 8;
			break;
		default:
			return csi_fail(ctx, CS_ERR_MALFORMED,
			    "%s: unexpected tag %X in certificate object",
			    what, (unsigned)tag);
		}
		if ((seen & bit) != 0)
			return csi_fail(ctx, CS_ERR_MALFORMED,
			    "%s: tag %X twice in certificate object", what,
			    (unsigned)tag);
		seen |= bit;
		if (tag == 0x71 && (cs_cur_len(&v) != 1 ||
		    cs_cur_get_u8(&v, info) != CS_OK))
			return csi_fail(ctx, CS_ERR_MALFORMED,
			    "%s: CertInfo (tag 71) is not one byte", what);
	}
	if (cs_cur_is_empty(cert))
		return csi_fail(ctx, CS_ERR_NOT_FOUND, "%s has no certificate",
		    what);
	return CS_OK;
}

enum cs_err
cs_piv_read_cert(struct cs_card *card, uint8_t slot, uint8_t **der,
    size_t *len)
{
	struct cs_buf obj = CS_BUF_INIT(CS_PIV_OBJ_MAX);
	struct cs_buf plain = CS_BUF_INIT(CERT_INFLATE_MAX);
	struct cs_cur c, cert;
	char what[16], s[3];
	uint32_t tag = cs_piv_cert_object(slot);
	uint8_t info = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*der = NULL;
	*len = 0;
	snprintf(what, sizeof(what), "slot %s", csi_piv_slot_str(slot, s));
	if (tag == 0)
		return csi_fail(card->ctx, CS_ERR_ARG,
		    "%s holds no certificate", what);
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	if ((r = csi_piv_get_data(card, tag, &obj)) != CS_OK) {
		if (r == CS_ERR_NOT_FOUND)
			r = csi_fail(card->ctx, r, "%s has no certificate",
			    what);
		goto out;
	}
	cs_buf_cur(&obj, &c);
	if ((r = parse_cert_obj(card->ctx, what, &c, &cert, &info)) != CS_OK)
		goto out;
	if ((info & (CERTINFO_GZIP | CERTINFO_ALT)) != 0) {
		if ((r = inflate_cert(card->ctx, &cert, &plain)) != CS_OK)
			goto out;
		r = cs_buf_take(&plain, der, len);
	} else
		r = cs_cur_dup(&cert, der, len);
out:
	csi_piv_end(card);
	cs_buf_release(&obj);
	cs_buf_release(&plain);
	return r;
}

/* DER of a certificate given as DER or PEM; checks that it parses. */
static enum cs_err
cert_to_der(struct cs_ctx *ctx, const uint8_t *in, size_t len,
    struct cs_buf *der)
{
	static const char pem[] = "-----BEGIN";
	const unsigned char *p = in;
	X509 *x = NULL;
	BIO *bio = NULL;
	unsigned char *enc = NULL;
	int n;
	enum cs_err r = CS_ERR_INTERNAL;

	if (len > CS_PIV_OBJ_MAX * 4 || len > 0x7FFFFFFF)
		return csi_fail(ctx, CS_ERR_LIMIT, "certificate too large");
	if (len >= sizeof(pem) - 1 &&
	    cs_memeq_public(in, pem, sizeof(pem) - 1)) {
		if ((bio = BIO_new_mem_buf(in, (int)len)) == NULL ||
		    (x = PEM_read_bio_X509(bio, NULL, csi_pem_no_password, NULL)) ==
		    NULL) {
			r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
			    "certificate: bad PEM");
			goto out;
		}
	} else if ((x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != in + len) {
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "certificate: not one DER X.509 certificate");
		goto out;
	}
	if (bio == NULL) {
		/* DER in: store the caller's bytes exactly */
		r = cs_buf_put(der, in, len);
	} else if ((n = i2d_X509(x, &enc)) <= 0) {
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "certificate: encode");
		goto out;
	} else
		r = cs_buf_put(der, enc, (size_t)n);
	if (r != CS_OK)
		r = csi_fail(ctx, r, "certificate too large");
out:
	OPENSSL_free(enc);
	X509_free(x);
	BIO_free(bio);
	return r;
}

/* §5.3 CHUID: 9999 FASC-N, random v4 GUID, expiry, empty signature. */
static enum cs_err
write_chuid(struct cs_card *card)
{
	struct cs_buf b = CS_BUF_INIT(128);
	uint8_t guid[16];
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csi_piv_random(card, guid, sizeof(guid))) != CS_OK)
		goto out;
	guid[6] = (uint8_t)((guid[6] & 0x0F) | 0x40); /* RFC 4122 v4 */
	guid[8] = (uint8_t)((guid[8] & 0x3F) | 0x80);
	if ((r = cs_tlv_put(&b, 0x30, fascn_9999, sizeof(fascn_9999))) !=
	    CS_OK ||
	    (r = cs_tlv_put(&b, 0x34, guid, sizeof(guid))) != CS_OK ||
	    (r = cs_tlv_put(&b, 0x35, chuid_expiry,
	    sizeof(chuid_expiry) - 1)) != CS_OK ||
	    (r = cs_tlv_put(&b, 0x3E, NULL, 0)) != CS_OK ||
	    (r = cs_tlv_put(&b, 0xFE, NULL, 0)) != CS_OK)
		goto out;
	r = csi_piv_put_data(card, CSI_PIV_OBJ_CHUID, b.data, b.len, false);
out:
	cs_buf_release(&b);
	return r;
}

/* OpenSC derives the token serial from the CHUID; keep one that exists. */
static enum cs_err
ensure_chuid(struct cs_card *card)
{
	struct cs_buf v = CS_BUF_INIT(CS_PIV_OBJ_MAX);
	enum cs_err r = CS_ERR_INTERNAL;

	r = csi_piv_get_data(card, CSI_PIV_OBJ_CHUID, &v);
	cs_buf_release(&v);
	if (r == CS_ERR_NOT_FOUND)
		return write_chuid(card);
	return r;
}

enum cs_err
cs_piv_write_cert(struct cs_card *card, uint8_t slot, const uint8_t *cert,
    size_t len, unsigned int flags)
{
	struct cs_buf der = CS_BUF_INIT(CS_PIV_OBJ_MAX * 4);
	struct cs_buf gz = CS_BUF_INIT(CS_PIV_OBJ_MAX);
	struct cs_buf obj = CS_BUF_INIT(CS_PIV_OBJ_MAX);
	bool compress = (flags & CS_PIV_CERT_COMPRESS) != 0;
	const struct cs_buf *body;
	uint32_t tag = cs_piv_cert_object(slot);
	char s[3];
	bool began = false;
	enum cs_err r = CS_ERR_INTERNAL;

	if (tag == 0 || cert == NULL || (flags & ~CS_PIV_CERT_COMPRESS) != 0) {
		r = csi_fail(card->ctx, CS_ERR_ARG,
		    "write certificate: bad slot %s or arguments",
		    csi_piv_slot_str(slot, s));
		goto out;
	}
	if ((r = cert_to_der(card->ctx, cert, len, &der)) != CS_OK)
		goto out;
	if (compress &&
	    (r = deflate_cert(card->ctx, der.data, der.len, &gz)) != CS_OK)
		goto out;
	body = compress ? &gz : &der;
	if ((r = cs_tlv_put(&obj, 0x70, body->data, body->len)) != CS_OK ||
	    (r = cs_tlv_put_u8(&obj, 0x71, compress ? CERTINFO_GZIP : 0)) !=
	    CS_OK ||
	    (r = cs_tlv_put(&obj, 0xFE, NULL, 0)) != CS_OK) {
		r = csi_fail(card->ctx, r,
		    "slot %s: certificate of %zu bytes does not fit%s",
		    csi_piv_slot_str(slot, s), der.len,
		    compress ? "" : " (try compression)");
		goto out;
	}
	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	began = true;
	if ((r = csi_piv_put_data(card, tag, obj.data, obj.len, false)) !=
	    CS_OK)
		goto out;
	if (slot != CS_PIV_SLOT_ATTEST)
		r = ensure_chuid(card);
out:
	if (began)
		csi_piv_end(card);
	cs_buf_release(&der);
	cs_buf_release(&gz);
	cs_buf_release(&obj);
	return r;
}

enum cs_err
cs_piv_delete_cert(struct cs_card *card, uint8_t slot)
{
	uint32_t tag = cs_piv_cert_object(slot);
	char s[3];
	enum cs_err r = CS_ERR_INTERNAL;

	if (tag == 0)
		return csi_fail(card->ctx, CS_ERR_ARG,
		    "delete certificate: bad slot %s",
		    csi_piv_slot_str(slot, s));
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	/* §4.3: an empty 53 deletes the object */
	r = csi_piv_put_data(card, tag, NULL, 0, false);
	csi_piv_end(card);
	return r;
}
