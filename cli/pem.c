#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "outfile.h"
#include "pem.h"

#include "banned.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
pem_read_file(struct cli *cli, const char *path, uint8_t **data, size_t *len)
{
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, code = CLI_CONTINUE;

	*data = NULL;
	*len = 0;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return out_failf(cli, CS_ERR_IO, "cannot open %s: %s", path,
		    strerror(errno));
	buf = xmalloc(PEM_FILE_MAX + 1);
	for (;;) {
		n = read(fd, buf + got, PEM_FILE_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			code = out_failf(cli, CS_ERR_IO, "cannot read %s: %s",
			    path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > PEM_FILE_MAX) {
			code = out_failf(cli, CS_ERR_LIMIT,
			    "%s: larger than %u bytes", path,
			    (unsigned)PEM_FILE_MAX);
			goto out;
		}
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	buf = NULL;
out:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return code;
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

static int
b64val(char c)
{
	const char *q;

	if (c == '\0' || (q = strchr(b64, c)) == NULL)
		return -1;
	return (int)(q - b64);
}

bool
pem_decode(const char *label, const uint8_t *text, size_t len, uint8_t **der,
    size_t *derlen)
{
	char begin[96], end[96];
	const char *s = (const char *)text, *b, *e;
	uint8_t *out;
	uint32_t acc = 0;
	size_t o = 0, i;
	int nbits = 0, v, pad = 0;

	*der = NULL;
	*derlen = 0;
	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	/* text is NUL-terminated by pem_read_file; len bounds it anyway */
	if (memchr(text, '\0', len) != NULL || (b = strstr(s, begin)) == NULL) {
		out = xmalloc(len);
		memcpy(out, text, len);
		*der = out;
		*derlen = len;
		return true;
	}
	b += strlen(begin);
	if ((e = strstr(b, end)) == NULL)
		return false;
	out = xmalloc((size_t)(e - b) / 4 * 3 + 3);
	for (i = 0; b + i < e; i++) {
		char c = b[i];

		if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64val(c)) < 0) {
			free(out);
			return false;
		}
		acc = acc << 6 | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			out[o++] = (uint8_t)(acc >> nbits);
		}
	}
	if (pad > 2 || o == 0) {
		free(out);
		return false;
	}
	*der = out;
	*derlen = o;
	return true;
}

int
pem_write_file(struct cli *cli, const char *path, const char *text, int mode,
    bool force)
{
	return outfile_put(cli, path, text,
	    (mode == 0600 ? OUTFILE_SECRET : 0) | (force ? OUTFILE_FORCE : 0));
}
