/*
 * PEM <-> DER (include/cardsmith/pem.h): the project's one PEM codec,
 * for one object (cs_pem_decode) or a bundle (cs_pem_next).
 * OpenSSL's PEM reader finds the blocks; every DER object is checked to be
 * exactly one well-formed object of the expected kind before it is
 * accepted or armoured.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "internal.h"
#include "x509_int.h"

#include "banned.h"

struct pem_kind {
	const char *label;
	const char *alt; /* older label accepted on input, or NULL */
	const ASN1_ITEM *(*item)(void);
};

static const struct pem_kind *
pem_kind(enum cs_pem_kind kind)
{
	static const struct pem_kind kinds[] = {
		{ PEM_STRING_X509_REQ, PEM_STRING_X509_REQ_OLD,
		    X509_REQ_it },
		{ PEM_STRING_X509, PEM_STRING_X509_OLD, X509_it },
		{ PEM_STRING_PUBLIC, NULL, X509_PUBKEY_it },
		{ PEM_STRING_X509_CRL, NULL, X509_CRL_it },
	};

	switch (kind) {
	case CS_PEM_CSR:
	case CS_PEM_CERT:
	case CS_PEM_PUBKEY:
	case CS_PEM_CRL:
		return &kinds[kind];
	default:
		return NULL;
	}
}

/* Is label the kind's label, or its older one? */
static bool
label_is(const struct pem_kind *k, const char *label)
{
	return strcmp(label, k->label) == 0 ||
	    (k->alt != NULL && strcmp(label, k->alt) == 0);
}

/* A copy of [p, p + n) in *der (the caller frees it) and *len. */
static enum cs_err
der_copy(const uint8_t *p, size_t n, uint8_t **der, size_t *len)
{
	if ((*der = malloc(n)) == NULL)
		return CS_ERR_NOMEM;
	memcpy(*der, p, n);
	*len = n;
	return CS_OK;
}

/* Is der exactly one well-formed object of the kind? */
static bool
der_is(const struct pem_kind *k, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	ASN1_VALUE *v;
	bool ok;

	if (len == 0 || len > CS_PEM_IN_MAX)
		return false;
	v = ASN1_item_d2i(NULL, &p, (long)len, k->item());
	ok = v != NULL && p == der + len;
	ASN1_item_free(v, k->item());
	ERR_clear_error();
	return ok;
}

/*
 * Is der exactly one definite-length SEQUENCE? Enough for a caller that
 * decodes the object itself right after (csi_pem_decode_shallow): a full
 * der_is would decode it twice, and for a request or certificate the
 * public key decode dominates the cost of issuing.
 */
static bool
der_is_seq(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	long n = 0;
	int tag = 0, cls = 0, ret;

	if (len == 0 || len > CS_PEM_IN_MAX)
		return false;
	ret = ASN1_get_object(&p, &n, &tag, &cls, (long)len);
	ERR_clear_error();
	return ret == V_ASN1_CONSTRUCTED && tag == V_ASN1_SEQUENCE &&
	    cls == V_ASN1_UNIVERSAL && n >= 0 &&
	    (size_t)(p - der) + (size_t)n == len;
}

enum cs_err
cs_pem_encode(enum cs_pem_kind kind, const uint8_t *der, size_t len,
    char **pem, size_t *pemlen)
{
	const struct pem_kind *k = pem_kind(kind);
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	enum cs_err r = CS_ERR_INTERNAL;

	if (pem == NULL || pemlen == NULL)
		return CS_ERR_ARG;
	*pem = NULL;
	*pemlen = 0;
	if (k == NULL || der == NULL)
		return CS_ERR_ARG;
	if (len > CS_PEM_IN_MAX)
		return CS_ERR_LIMIT;
	if (!der_is(k, der, len))
		return CS_ERR_MALFORMED;
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio(bio, k->label, "", der, (long)len) <= 0 ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0) {
		r = CS_ERR_NOMEM;
		goto out;
	}
	if ((*pem = malloc((size_t)n + 1)) == NULL) {
		r = CS_ERR_NOMEM;
		goto out;
	}
	memcpy(*pem, data, (size_t)n);
	(*pem)[n] = '\0';
	*pemlen = (size_t)n;
	r = CS_OK;
out:
	ERR_clear_error();
	BIO_free(bio);
	return r;
}

/*
 * The next block of bio labelled for k: CS_OK with its DER in *der (the
 * caller frees it), CS_ERR_NOT_FOUND when no block follows. A block of
 * the label with headers or contents that are not exactly one object of
 * the kind is skipped with skip_bad, else CS_ERR_MALFORMED; text OpenSSL
 * cannot read as PEM (bad base64, no END line) is CS_ERR_MALFORMED.
 */
static enum cs_err
next_block(const struct pem_kind *k, BIO *bio, bool skip_bad, bool shallow,
    uint8_t **der, size_t *len)
{
	char *name = NULL, *hdr = NULL;
	unsigned char *data = NULL;
	unsigned long e;
	long n = 0;
	bool mine;
	enum cs_err r = CS_ERR_MALFORMED;

	ERR_clear_error();
	while (PEM_read_bio(bio, &name, &hdr, &data, &n) == 1) {
		mine = label_is(k, name);
		if (mine && hdr[0] == '\0' &&
		    (shallow ? der_is_seq(data, (size_t)n) :
				     der_is(k, data, (size_t)n))) {
			r = der_copy(data, (size_t)n, der, len);
			goto out;
		}
		if (mine && !skip_bad)
			goto out;
		OPENSSL_free(name);
		OPENSSL_free(hdr);
		OPENSSL_free(data);
		name = hdr = NULL;
		data = NULL;
	}
	/* The reader stops at "no start line" once the input is used up. */
	e = ERR_peek_last_error();
	if (e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
		r = CS_ERR_NOT_FOUND;
out:
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	OPENSSL_free(data);
	ERR_clear_error();
	return r;
}

/* First PEM block labelled for k whose contents decode as k. */
static enum cs_err
pem_find(const struct pem_kind *k, const uint8_t *in, size_t inlen,
    bool shallow, uint8_t **der, size_t *len)
{
	BIO *bio;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((bio = BIO_new_mem_buf(in, (int)inlen)) == NULL)
		return CS_ERR_NOMEM;
	r = next_block(k, bio, true, shallow, der, len);
	BIO_free(bio);
	return r == CS_ERR_NOT_FOUND ? CS_ERR_MALFORMED : r;
}

enum cs_err
cs_pem_next(enum cs_pem_kind kind, const uint8_t *in, size_t inlen,
    size_t *pos, uint8_t **der, size_t *len)
{
	const struct pem_kind *k = pem_kind(kind);
	BIO *bio;
	size_t left;
	enum cs_err r = CS_ERR_INTERNAL;

	if (der == NULL || len == NULL)
		return CS_ERR_ARG;
	*der = NULL;
	*len = 0;
	if (k == NULL || in == NULL || pos == NULL || *pos > inlen)
		return CS_ERR_ARG;
	if (inlen > CS_PEM_IN_MAX)
		return CS_ERR_LIMIT;
	if ((left = inlen - *pos) == 0)
		return CS_ERR_NOT_FOUND;
	if ((bio = BIO_new_mem_buf(in + *pos, (int)left)) == NULL)
		return CS_ERR_NOMEM;
	r = next_block(k, bio, false, false, der, len);
	/* what the reader consumed: up to the END line of the block */
	if (r == CS_OK)
		*pos += left - (size_t)BIO_ctrl_pending(bio);
	else if (r == CS_ERR_NOT_FOUND)
		*pos = inlen;
	BIO_free(bio);
	return r;
}

static enum cs_err
pem_decode(enum cs_pem_kind kind, const uint8_t *in, size_t inlen,
    bool shallow, uint8_t **der, size_t *len)
{
	const struct pem_kind *k = pem_kind(kind);

	if (der == NULL || len == NULL)
		return CS_ERR_ARG;
	*der = NULL;
	*len = 0;
	if (k == NULL || in == NULL)
		return CS_ERR_ARG;
	if (inlen > CS_PEM_IN_MAX)
		return CS_ERR_LIMIT;
	if (inlen > 0 && in[0] == 0x30 &&
	    (shallow ? der_is_seq(in, inlen) : der_is(k, in, inlen))) {
		return der_copy(in, inlen, der, len);
	}
	return pem_find(k, in, inlen, shallow, der, len);
}

enum cs_err
cs_pem_decode(enum cs_pem_kind kind, const uint8_t *in, size_t inlen,
    uint8_t **der, size_t *len)
{
	return pem_decode(kind, in, inlen, false, der, len);
}

enum cs_err
csi_pem_decode_shallow(enum cs_pem_kind kind, const uint8_t *in,
    size_t inlen, uint8_t **der, size_t *len)
{
	return pem_decode(kind, in, inlen, true, der, len);
}

/* --- strict walk, block by block (cs_pem_next_block) --- */

/* Offset just past the line that starts at at (its '\n', or inlen). */
static size_t
line_end(const uint8_t *in, size_t inlen, size_t at)
{
	const uint8_t *nl = memchr(in + at, '\n', inlen - at);

	return nl != NULL ? (size_t)(nl - in) + 1 : inlen;
}

static bool
line_is(const uint8_t *in, size_t at, size_t end, const char *prefix)
{
	size_t n = strlen(prefix);

	return end - at >= n && cs_memeq_public(in + at, prefix, n);
}

/*
 * The label of the "-----BEGIN LABEL-----" line [at, end) into label
 * (CS_PEM_LABEL_MAX + 1 bytes), as OpenSSL's reader takes it: trailing
 * white space dropped. False if the line does not end in "-----": the
 * reader would skip it as text, where a strict walk calls it corrupt.
 */
static bool
begin_label(const uint8_t *in, size_t at, size_t end, char *label)
{
	static const char open[] = "-----BEGIN ", close[] = "-----";
	size_t s = at + sizeof(open) - 1, n;

	while (end > s && (in[end - 1] == '\n' || in[end - 1] == '\r' ||
	                      in[end - 1] == ' ' || in[end - 1] == '\t'))
		end--;
	if (end - s < sizeof(close) - 1 ||
	    !cs_memeq_public(in + end - (sizeof(close) - 1), close,
	        sizeof(close) - 1))
		return false;
	n = end - s - (sizeof(close) - 1);
	if (n > CS_PEM_LABEL_MAX)
		n = CS_PEM_LABEL_MAX;
	memcpy(label, in + s, n);
	label[n] = '\0';
	return true;
}

/*
 * The one block [p, p + n) (BEGIN line to END line) of k's label through
 * OpenSSL's reader: no headers and exactly one DER object of the kind.
 */
static enum cs_err
block_read(const struct pem_kind *k, const uint8_t *p, size_t n,
    struct cs_pem_block *blk, uint8_t **der, size_t *len)
{
	char *name = NULL, *hdr = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	BIO *bio;
	enum cs_err r = CS_ERR_MALFORMED;

	if (n > CS_PEM_IN_MAX)
		return CS_ERR_LIMIT;
	if ((bio = BIO_new_mem_buf(p, (int)n)) == NULL)
		return CS_ERR_NOMEM;
	ERR_clear_error();
	if (PEM_read_bio(bio, &name, &hdr, &data, &dlen) != 1 ||
	    hdr[0] != '\0')
		blk->fault = CS_PEM_FAULT_ARMOUR;
	else if (!der_is(k, data, (size_t)dlen))
		blk->fault = CS_PEM_FAULT_CONTENT;
	else
		r = der_copy(data, (size_t)dlen, der, len);
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	OPENSSL_free(data);
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

enum cs_err
cs_pem_next_block(enum cs_pem_kind kind, const uint8_t *in, size_t inlen,
    size_t *pos, unsigned int flags, struct cs_pem_block *blk,
    uint8_t **der, size_t *len)
{
	const struct pem_kind *k = pem_kind(kind);
	size_t at, le = inlen, end, ee = inlen;
	bool named;
	enum cs_err r = CS_ERR_INTERNAL;

	if (der == NULL || len == NULL)
		return CS_ERR_ARG;
	*der = NULL;
	*len = 0;
	if (k == NULL || in == NULL || pos == NULL || blk == NULL ||
	    flags != 0 || *pos > inlen)
		return CS_ERR_ARG;
	/* No bound on inlen: only one block at a time reaches the reader. */
	memset(blk, 0, sizeof(*blk));
	for (at = *pos; at < inlen; at = le)
		if (line_is(in, at, le = line_end(in, inlen, at),
		        "-----BEGIN "))
			break;
	if (at == inlen) {
		*pos = inlen;
		return CS_ERR_NOT_FOUND;
	}
	blk->off = at;
	named = begin_label(in, at, le, blk->label);
	for (end = le; end < inlen; end = ee)
		if (line_is(in, end, ee = line_end(in, inlen, end),
		        "-----END "))
			break;
	if (end == inlen) {
		blk->fault = CS_PEM_FAULT_NO_END;
		return CS_ERR_MALFORMED;
	}
	end = ee;
	if (!named) {
		blk->fault = CS_PEM_FAULT_BEGIN;
		return CS_ERR_MALFORMED;
	}
	/* Another kind's block is named, not read: the caller decides. */
	if (label_is(k, blk->label))
		r = block_read(k, in + at, end - at, blk, der, len);
	else
		r = CS_OK;
	if (r == CS_OK)
		*pos = end;
	return r;
}
