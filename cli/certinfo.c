#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certinfo.h"
#include "out.h"

#include "banned.h"

bool
certinfo_parse(const uint8_t *der, size_t len, struct cs_cert_info *ci,
    char *err, size_t errcap)
{
	struct cs_ctx *scratch = NULL;
	bool ok = false;

	memset(ci, 0, sizeof(*ci));
	err[0] = '\0';
	/* A context of its own, so the reason does not land in cli->ctx. */
	if (cs_ctx_new(&scratch) != CS_OK) {
		snprintf(err, errcap, "out of memory");
		return false;
	}
	if (cs_cert_info_parse(scratch, der, len, 0, ci) == CS_OK)
		ok = true;
	else
		snprintf(err, errcap, "%s", cs_ctx_errmsg(scratch));
	cs_ctx_free(scratch);
	return ok;
}

int
certinfo_same_key(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	bool equal = false;

	if (cs_spki_equal(NULL, a, alen, b, blen, 0, &equal) != CS_OK)
		return -1;
	return equal ? 1 : 0;
}

bool
certinfo_csr_spki(const uint8_t *der, size_t len, uint8_t **spki,
    size_t *spki_len)
{
	uint8_t *k = NULL;
	size_t klen = 0;

	*spki = NULL;
	*spki_len = 0;
	if (cs_csr_get_spki(NULL, der, len, 0, &k, &klen) != CS_OK)
		return false;
	/* Callers free with free() like the rest of their inputs. */
	*spki = xmalloc(klen);
	memcpy(*spki, k, klen);
	*spki_len = klen;
	cs_free(k);
	return true;
}

enum certinfo_kind
certinfo_csr_kind(const uint8_t *text, size_t len)
{
	uint8_t *der = NULL;
	size_t n = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	r = cs_pem_decode(CS_PEM_CSR, text, len, &der, &n);
	cs_free(der);
	if (r != CS_ERR_MALFORMED)
		return CERTINFO_CSR;
	r = cs_pem_decode(CS_PEM_CERT, text, len, &der, &n);
	cs_free(der);
	return r == CS_OK ? CERTINFO_CERT : CERTINFO_OTHER;
}

void
certinfo_time(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "?");
}

void
certinfo_sha256(const struct cs_cert_info *ci, char *buf, size_t cap)
{
	size_t i, o = 0;

	if (cap == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < sizeof(ci->sha256) && o + 3 < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o,
		    i == 0 ? "%02X" : ":%02X", ci->sha256[i]);
}
