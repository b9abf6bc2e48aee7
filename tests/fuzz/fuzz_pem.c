/*
 * Fuzz target: PEM/DER input of certificates, requests and public keys.
 * The input is offered to cs_pem_decode as each kind. On success the DER
 * must be one object of the kind: decoding it again (DER path) gives the
 * same bytes, and cs_pem_encode then cs_pem_decode round-trips to the same
 * bytes. On failure the out-params stay cleared. The input is also offered
 * to cs_pem_encode directly: it may succeed only on DER of the kind, which
 * then decodes to itself.
 *
 * The input is also walked as a bundle with cs_pem_next for each kind:
 * every block handed out is one object of the kind, the position only
 * moves forward within the input, the walk ends at CS_ERR_NOT_FOUND with
 * the position at the end or at an error with the position unchanged,
 * and a first block found this way is what cs_pem_decode finds too.
 *
 * The strict walk cs_pem_next_block stops at every block: each one's
 * offset lies in [previous position, input end) and starts "-----BEGIN ",
 * a block of the kind decodes to one object of it, another label yields
 * no DER, and on an error the position stays and a fault is named.
 *
 * Covers: cs_pem_decode (DER check, PEM block search with labels, headers,
 * several blocks, CRLF), cs_pem_encode, cs_pem_next, cs_pem_next_block.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardsmith/cardsmith.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static bool
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool
decode_err_ok(enum cs_err r)
{
	return r == CS_ERR_MALFORMED || r == CS_ERR_LIMIT || r == CS_ERR_NOMEM;
}

/* der decodes (DER path) to itself and survives encode → decode. */
static void
round_trip(enum cs_pem_kind kind, const uint8_t *der, size_t len)
{
	uint8_t *again = NULL, *back = NULL;
	size_t againlen = 0, backlen = 0, pemlen = 0;
	char *pem = NULL;

	check(cs_pem_decode(kind, der, len, &again, &againlen) == CS_OK);
	check(same(der, len, again, againlen));
	check(cs_pem_encode(kind, der, len, &pem, &pemlen) == CS_OK);
	check(pem != NULL && pemlen > 0 && strlen(pem) == pemlen);
	check(strncmp(pem, "-----BEGIN ", 11) == 0);
	check(cs_pem_decode(kind, (const uint8_t *)pem, pemlen, &back,
	    &backlen) == CS_OK);
	check(same(der, len, back, backlen));
	cs_free(again);
	cs_free(back);
	cs_free(pem);
}

static void
one_kind(enum cs_pem_kind kind, const uint8_t *data, size_t size)
{
	uint8_t *der = NULL;
	size_t len = 0, pemlen = 0;
	char *pem = NULL;
	enum cs_err r;

	r = cs_pem_decode(kind, data, size, &der, &len);
	if (r == CS_OK) {
		check(der != NULL && len > 0 && len <= size && der[0] == 0x30);
		round_trip(kind, der, len);
	} else {
		check(decode_err_ok(r));
		check(der == NULL && len == 0);
	}
	cs_free(der);
	der = NULL;
	len = 0;

	r = cs_pem_encode(kind, data, size, &pem, &pemlen);
	if (r == CS_OK) {
		check(pem != NULL && strlen(pem) == pemlen);
		/* Only DER of the kind encodes, and it decodes to itself. */
		check(cs_pem_decode(kind, data, size, &der, &len) == CS_OK);
		check(same(data, size, der, len));
		cs_free(der);
		der = NULL;
		check(cs_pem_decode(kind, (const uint8_t *)pem, pemlen, &der,
		    &len) == CS_OK);
		check(same(data, size, der, len));
	} else {
		check(decode_err_ok(r));
		check(pem == NULL && pemlen == 0);
	}
	cs_free(der);
	cs_free(pem);
}

/* Walk data as a bundle of blocks of the kind. */
static void
walk(enum cs_pem_kind kind, const uint8_t *data, size_t size)
{
	uint8_t *der = NULL, *first = NULL;
	size_t len = 0, pos = 0, before, firstlen = 0;
	unsigned int blocks = 0;
	enum cs_err r;

	for (;;) {
		before = pos;
		r = cs_pem_next(kind, data, size, &pos, &der, &len);
		if (r != CS_OK)
			break;
		check(der != NULL && len > 0 && der[0] == 0x30);
		check(pos > before && pos <= size);
		round_trip(kind, der, len);
		if (blocks++ == 0) {
			first = der;
			firstlen = len;
		} else
			cs_free(der);
		der = NULL;
		/* a block takes at least its BEGIN and END lines */
		check(blocks <= size / 20);
	}
	check(der == NULL && len == 0);
	if (r == CS_ERR_NOT_FOUND)
		check(pos == size);
	else {
		check(decode_err_ok(r));
		check(pos == before);
	}
	if (first != NULL) {
		/* cs_pem_decode finds the same block, unless data is DER */
		check(cs_pem_decode(kind, data, size, &der, &len) == CS_OK);
		check(same(first, firstlen, der, len) ||
		    same(data, size, der, len));
		cs_free(der);
		cs_free(first);
	}
}

/* Walk data strictly, block by block, as cs_verify's intake does. */
static void
walk_blocks(enum cs_pem_kind kind, const uint8_t *data, size_t size)
{
	struct cs_pem_block blk;
	uint8_t *der = NULL;
	size_t len = 0, pos = 0, before;
	unsigned int blocks = 0;
	enum cs_err r;

	for (;;) {
		before = pos;
		r = cs_pem_next_block(kind, data, size, &pos, 0, &blk, &der,
		    &len);
		if (r != CS_OK)
			break;
		check(blk.off >= before && blk.off < pos && pos <= size);
		check(size - blk.off >= 11 &&
		    memcmp(data + blk.off, "-----BEGIN ", 11) == 0);
		check(strlen(blk.label) <= CS_PEM_LABEL_MAX);
		check(blk.fault == CS_PEM_FAULT_NONE);
		if (der != NULL) {
			check(len > 0 && der[0] == 0x30);
			round_trip(kind, der, len);
		} else
			check(len == 0);
		cs_free(der);
		der = NULL;
		check(++blocks <= size / 20);
	}
	check(der == NULL && len == 0);
	if (r == CS_ERR_NOT_FOUND)
		check(pos == size);
	else {
		check(decode_err_ok(r));
		check(pos == before);
		if (r == CS_ERR_MALFORMED)
			check(blk.fault != CS_PEM_FAULT_NONE);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[1];
	static uint8_t sentinel;
	uint8_t *der = &sentinel;
	size_t len = 1;

	/* A NULL pointer with size 0 would be CS_ERR_ARG, not a parse. */
	if (data == NULL)
		data = empty;
	one_kind(CS_PEM_CSR, data, size);
	one_kind(CS_PEM_CERT, data, size);
	one_kind(CS_PEM_PUBKEY, data, size);
	one_kind(CS_PEM_CRL, data, size);
	walk(CS_PEM_CSR, data, size);
	walk(CS_PEM_CERT, data, size);
	walk(CS_PEM_PUBKEY, data, size);
	walk(CS_PEM_CRL, data, size);
	walk_blocks(CS_PEM_CERT, data, size);
	walk_blocks(CS_PEM_CRL, data, size);
	/* An unknown kind is refused with the out-params cleared. */
	check(cs_pem_decode((enum cs_pem_kind)(CS_PEM_CRL + 1), data, size, &der, &len) ==
	    CS_ERR_ARG);
	check(der == NULL && len == 0);
	return 0;
}
