/*
 * PEM <-> DER (include/cardsmith/pem.h): the project's one PEM codec.
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
	};

	switch (kind) {
	case CS_PEM_CSR:
	case CS_PEM_CERT:
	case CS_PEM_PUBKEY:
		return &kinds[kind];
	default:
		return NULL;
	}
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

/* First PEM block labelled for k whose contents decode as k. */
static enum cs_err
pem_find(const struct pem_kind *k, const uint8_t *in, size_t inlen,
    uint8_t **der, size_t *len)
{
	BIO *bio = NULL;
	char *name = NULL, *hdr = NULL;
	unsigned char *data = NULL;
	long n = 0;
	enum cs_err r = CS_ERR_MALFORMED;

	if ((bio = BIO_new_mem_buf(in, (int)inlen)) == NULL)
		return CS_ERR_NOMEM;
	while (PEM_read_bio(bio, &name, &hdr, &data, &n) == 1) {
		if ((strcmp(name, k->label) == 0 || (k->alt != NULL &&
		    strcmp(name, k->alt) == 0)) && hdr[0] == '\0' &&
		    der_is(k, data, (size_t)n)) {
			if ((*der = malloc((size_t)n)) == NULL) {
				r = CS_ERR_NOMEM;
				break;
			}
			memcpy(*der, data, (size_t)n);
			*len = (size_t)n;
			r = CS_OK;
			break;
		}
		OPENSSL_free(name);
		OPENSSL_free(hdr);
		OPENSSL_free(data);
		name = hdr = NULL;
		data = NULL;
	}
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	OPENSSL_free(data);
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

enum cs_err
cs_pem_decode(enum cs_pem_kind kind, const uint8_t *in, size_t inlen,
    uint8_t **der, size_t *len)
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
	if (inlen > 0 && in[0] == 0x30 && der_is(k, in, inlen)) {
		if ((*der = malloc(inlen)) == NULL)
			return CS_ERR_NOMEM;
		memcpy(*der, in, inlen);
		*len = inlen;
		return CS_OK;
	}
	return pem_find(k, in, inlen, der, len);
}
