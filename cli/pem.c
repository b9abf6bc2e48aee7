/*
 * Files and PEM for the commands: reading goes through cs_file_read (the
 * one bounded reader; cs_file_read_secret for key files), decoding through
 * cs_pem_decode (the one PEM decoder). Only the PEM writer for output is
 * here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardsmith/file.h"
#include "cardsmith/pem.h"

#include "out.h"
#include "outfile.h"
#include "pem.h"

#include "banned.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * cs_file_read's failure as the commands always reported it: "cannot
 * open|read PATH: why" (CS_ERR_IO, also for a missing file) or "PATH:
 * larger than N bytes" (CS_ERR_LIMIT).
 */
static int
read_fail(struct cli *cli, const char *path, enum cs_err r)
{
	const char *msg = cs_ctx_errmsg(cli->ctx), *why = msg;
	size_t n = strlen(path);

	/* The library says "FILE: why"; the commands name stdin "-". */
	if (strncmp(msg, "/dev/stdin: ", 12) == 0)
		why = msg + 12;
	else if (strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
		why = msg + n + 2;
	if (r == CS_ERR_LIMIT)
		return out_failf(cli, CS_ERR_LIMIT, "%s: larger than %u bytes",
		    path, (unsigned)PEM_FILE_MAX);
	if (r == CS_ERR_NOMEM)
		return out_fail(cli, r, NULL);
	/* open(2) fails for a missing or forbidden file, read(2) else */
	return out_failf(cli, CS_ERR_IO, "cannot %s %s: %s",
	    strcmp(why, strerror(EISDIR)) == 0 ||
	            strcmp(why, strerror(EIO)) == 0
	        ? "read"
	        : "open",
	    path, why);
}

static int
read_any(struct cli *cli, const char *path, bool secret, uint8_t **data,
    size_t *len)
{
	const char *p = strcmp(path, "-") == 0 ? "/dev/stdin" : path;
	enum cs_err r = CS_ERR_INTERNAL;

	*data = NULL;
	*len = 0;
	r = secret ? cs_file_read_secret(cli->ctx, p, PEM_FILE_MAX, data, len)
	           : cs_file_read(cli->ctx, p, PEM_FILE_MAX, data, len);
	if (r != CS_OK)
		return read_fail(cli, path, r);
	return CLI_CONTINUE;
}

int
pem_read_file(struct cli *cli, const char *path, uint8_t **data, size_t *len)
{
	return read_any(cli, path, false, data, len);
}

int
pem_read_secret(struct cli *cli, const char *path, uint8_t **data, size_t *len)
{
	return read_any(cli, path, true, data, len);
}

void
pem_free_secret(uint8_t *data, size_t len)
{
	cs_file_free_secret(data, len);
}

void
pem_encode(const char *label, const uint8_t *der, size_t len, char **pem)
{
	size_t cap, o = 0, i, col = 0;
	uint32_t v;
	char *p;

	cap =
	    2 * (strlen(label) + 32) + (len + 2) / 3 * 4 + (len + 47) / 48 + 8;
	p = xmalloc(cap);
	o += (size_t)snprintf(p + o, cap - o, "-----BEGIN %s-----\n", label);
	for (i = 0; i < len; i += 3) {
		v = (uint32_t)der[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)der[i + 1] << 8;
		if (i + 2 < len)
			v |= der[i + 2];
		p[o++] = b64[v >> 18 & 63];
		p[o++] = b64[v >> 12 & 63];
		p[o++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		p[o++] = i + 2 < len ? b64[v & 63] : '=';
		if ((col += 4) == 64) {
			p[o++] = '\n';
			col = 0;
		}
	}
	if (col != 0)
		p[o++] = '\n';
	snprintf(p + o, cap - o, "-----END %s-----\n", label);
	*pem = p;
}

bool
pem_decode(enum cs_pem_kind kind, const uint8_t *text, size_t len,
    uint8_t **der, size_t *derlen)
{
	*der = NULL;
	*derlen = 0;
	return cs_pem_decode(kind, text, len, der, derlen) == CS_OK;
}

bool
pem_is_armoured(const uint8_t *text, size_t len)
{
	return memmem(text, len, "-----BEGIN ", 11) != NULL;
}

int
pem_write_file(struct cli *cli, const char *path, const char *text, int mode,
    bool force)
{
	return outfile_put(cli, path, text,
	    (mode == 0600 ? OUTFILE_SECRET : 0) | (force ? OUTFILE_FORCE : 0));
}
