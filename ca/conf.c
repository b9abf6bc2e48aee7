/*
 * Reading NCONF text (profiles, ca.cnf) as one self-contained file: no
 * variable expansion and no .include/.pragma, checked on the text before
 * NCONF sees it (csa_conf_parse). What the sections mean is profile.c's
 * and ca.c's business.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/conf.h>
#include <openssl/err.h>

#include "ca_int.h"

#include "banned.h"

/*
 * NCONF reads two things from outside the text: "$name", "${sect::name}"
 * and "$ENV::NAME" are expanded (a profile line "subject =
 * CN=$ENV::CA_PASS" copied the CA passphrase into a certificate), and
 * ".include" / ".pragma" lines pull in files and change the syntax. A
 * profile or ca.cnf is one self-contained file, so both are refused here,
 * naming the line, before NCONF sees the text.
 *
 * The scan follows NCONF's own reading (crypto/conf/conf_def.c): physical
 * lines end at "\n" (a "\r" before it is dropped); a line ending in one
 * backslash continues on the next; a logical line whose first non-blank
 * character is '#' is a comment. Comment lines are blanked (line numbers
 * kept) and any '$' elsewhere is refused, even quoted, escaped or in a
 * trailing comment, so the text NCONF parses holds no '$' at all.
 */
struct conf_scan {
	struct cs_ctx *ctx;
	const char *what; /* "profile NAME" or a path */
	char *out; /* the cleaned text */
	size_t olen;
	unsigned long line; /* first physical line of the logical line */
};

static enum cs_err
scan_logical(struct conf_scan *sc, const char *acc, size_t alen, size_t ostart,
    unsigned long nphys)
{
	const char *key, *eq, *p;
	size_t i, klen;

	for (i = 0; i < alen && (acc[i] == ' ' || acc[i] == '\t'); i++)
		;
	if (i < alen && acc[i] == '#') {
		/* Blank the comment, keep its newlines for line numbers. */
		sc->olen = ostart;
		for (; nphys > 0; nphys--)
			sc->out[sc->olen++] = '\n';
		return CS_OK;
	}
	if ((p = memchr(acc, '$', alen)) != NULL)
		return cs_ctx_fail(sc->ctx, CS_ERR_MALFORMED,
		    "%s: syntax error at line %lu: '$' outside a comment; "
		    "variables ($name, $ENV::NAME) are never expanded here, "
		    "write the value itself",
		    sc->what, sc->line);
	key = acc + i;
	eq = memchr(key, '=', alen - i);
	klen = eq != NULL ? (size_t)(eq - key) : alen - i;
	for (i = 0; i + 1 < klen; i++)
		if (key[i] == '.' &&
		    ((klen - i >= 8 && strncmp(key + i, ".include", 8) == 0) ||
		        (klen - i >= 7 && strncmp(key + i, ".pragma", 7) == 0)))
			return cs_ctx_fail(sc->ctx, CS_ERR_MALFORMED,
			    "%s: syntax error at line %lu: .include and "
			    ".pragma are not allowed (the file must be "
			    "self-contained)",
			    sc->what, sc->line);
	return CS_OK;
}

static enum cs_err
scan_conf(struct conf_scan *sc, const uint8_t *text, size_t len)
{
	char *acc = NULL;
	size_t i = 0, e, alen = 0, ostart = 0;
	unsigned long phys = 0, nphys = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((acc = malloc(len + 1)) == NULL)
		return cs_ctx_fail(sc->ctx, CS_ERR_NOMEM, "%s", sc->what);
	/* NCONF drops a UTF-8 byte order mark; so do we. */
	if (len >= 3 && text[0] == 0xef && text[1] == 0xbb && text[2] == 0xbf)
		i = 3;
	while (i < len) {
		for (e = i; e < len && text[e] != '\n'; e++)
			if ((text[e] < 0x20 && text[e] != '\t' &&
			        !(text[e] == '\r' && e + 1 < len &&
			            text[e + 1] == '\n')) ||
			    text[e] == 0x7f) {
				r = cs_ctx_fail(sc->ctx, CS_ERR_MALFORMED,
				    "%s: line %lu: control character 0x%02x",
				    sc->what, phys + 1, text[e]);
				goto out;
			}
		phys++;
		if (nphys++ == 0) {
			sc->line = phys;
			ostart = sc->olen;
		}
		/* The physical line, without its "\r", goes out as is. */
		memcpy(sc->out + sc->olen, text + i, e - i);
		sc->olen += e - i;
		if (sc->olen > ostart && sc->out[sc->olen - 1] == '\r')
			sc->olen--;
		sc->out[sc->olen++] = '\n';
		memcpy(acc + alen, text + i, e - i);
		alen += e - i;
		if (alen > 0 && acc[alen - 1] == '\r')
			alen--;
		i = e < len ? e + 1 : e;
		if (alen > 0 && acc[alen - 1] == '\\' &&
		    (alen == 1 || acc[alen - 2] != '\\') && i < len) {
			alen--; /* continued on the next line */
			continue;
		}
		if ((r = scan_logical(sc, acc, alen, ostart, nphys)) != CS_OK)
			goto out;
		alen = 0;
		nphys = 0;
	}
	if (nphys > 0 &&
	    (r = scan_logical(sc, acc, alen, ostart, nphys)) != CS_OK)
		goto out;
	r = CS_OK;
out:
	free(acc);
	return r;
}

enum cs_err
csa_conf_parse(struct cs_ctx *ctx, const char *what, const uint8_t *text,
    size_t len, CONF **out)
{
	struct conf_scan sc = { ctx, what, NULL, 0, 0 };
	CONF *conf = NULL;
	BIO *b = NULL;
	long eline = -1;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (text == NULL || len == 0 || len > CS_CA_INPUT_MAX ||
	    memchr(text, '\0', len) != NULL)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED, "%s: bad text", what);
	/* Never longer than the input plus a final newline. */
	if ((sc.out = malloc(len + 1)) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "%s", what);
	if ((r = scan_conf(&sc, text, len)) != CS_OK)
		goto out;
	if (memchr(sc.out, '$', sc.olen) != NULL) {
		r = cs_ctx_fail(ctx, CS_ERR_INTERNAL, "%s: '$' left", what);
		goto out;
	}
	if ((conf = NCONF_new(NULL)) == NULL ||
	    (b = BIO_new_mem_buf(sc.out, (int)sc.olen)) == NULL) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "%s", what);
		goto out;
	}
	if (NCONF_load_bio(conf, b, &eline) <= 0) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_MALFORMED,
		    "%s: syntax error at line %ld", what, eline);
		goto out;
	}
	*out = conf;
	conf = NULL;
	r = CS_OK;
out:
	ERR_clear_error();
	BIO_free(b);
	NCONF_free(conf);
	free(sc.out);
	return r;
}
