/*
 * Fuzz target: the CLI's file intake (cli/pem.c), the path every --csr,
 * --in, --pubkey, --chain, --import-key ... file takes. The input becomes
 * a file's contents; it is read back with pem_read_file and
 * pem_read_secret (same bytes, NUL after them; over PEM_FILE_MAX refused
 * with CS_ERR_LIMIT) and decoded with pem_decode as each kind. A decoded
 * object is one DER SEQUENCE no longer than the input, and pem_encode's
 * PEM of it decodes to the same DER; pem_decode agrees with
 * certinfo_csr_kind, which commands use to say "a certificate, not a
 * request".
 *
 * Covers: cli/pem.c (pem_read_file, pem_read_secret, pem_free_secret,
 * pem_decode, pem_is_armoured, pem_encode), cli/certinfo.c
 * certinfo_csr_kind, and through them cs_file_read(_secret) and
 * cs_pem_decode.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardsmith/cardsmith.h"

#include "../../cli/certinfo.h"
#include "../../cli/cli.h"
#include "../../cli/pem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct cmd fuzz_cmd = { "fuzz", NULL, 0, "fuzz" };
static struct cli cli;
static char path[64];

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static void
setup(void)
{
	const char *t = getenv("TMPDIR");
	int fd;

	if (cli.ctx != NULL)
		return;
	check(cs_ctx_new(&cli.ctx) == CS_OK);
	cli.cmd = &fuzz_cmd;
	cli.quiet = 1;
	snprintf(path, sizeof(path), "%s/cs-clipem.XXXXXX",
	    t != NULL && *t == '/' && strlen(t) < 40 ? t : "/tmp");
	check((fd = mkstemp(path)) >= 0);
	close(fd);
}

static void
put(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	check(f != NULL);
	check(size == 0 || fwrite(data, 1, size, f) == size);
	check(fclose(f) == 0);
}

static const char *
label(enum cs_pem_kind k)
{
	return k == CS_PEM_CSR ? "CERTIFICATE REQUEST"
	    : k == CS_PEM_CERT ? "CERTIFICATE"
	                       : "PUBLIC KEY";
}

static void
one_kind(enum cs_pem_kind kind, const uint8_t *text, size_t len)
{
	uint8_t *der = NULL, *back = NULL;
	size_t derlen = 0, backlen = 0;
	char *pem = NULL;

	if (!pem_decode(kind, text, len, &der, &derlen)) {
		check(der == NULL && derlen == 0);
		return;
	}
	check(der != NULL && derlen > 0 && derlen <= len && der[0] == 0x30);
	if (kind == CS_PEM_CSR)
		check(certinfo_csr_kind(text, len) == CERTINFO_CSR);
	pem_encode(label(kind), der, derlen, &pem);
	check(pem_is_armoured((const uint8_t *)pem, strlen(pem)));
	check(pem_decode(kind, (const uint8_t *)pem, strlen(pem), &back,
	    &backlen));
	check(backlen == derlen && memcmp(back, der, derlen) == 0);
	cs_free(back);
	free(pem);
	cs_free(der);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int code;

	setup();
	put(data, size);
	code = pem_read_file(&cli, path, &text, &len);
	if (size > PEM_FILE_MAX) {
		check(code != CLI_CONTINUE && text == NULL && len == 0);
		return 0;
	}
	check(code == CLI_CONTINUE && text != NULL && len == size);
	check(text[len] == '\0' && (size == 0 || memcmp(text, data, size) == 0));
	one_kind(CS_PEM_CSR, text, len);
	one_kind(CS_PEM_CERT, text, len);
	one_kind(CS_PEM_PUBKEY, text, len);
	(void)certinfo_csr_kind(text, len);
	free(text);

	text = NULL;
	check(pem_read_secret(&cli, path, &text, &len) == CLI_CONTINUE);
	check(text != NULL && len == size && text[len] == '\0');
	check(size == 0 || memcmp(text, data, size) == 0);
	pem_free_secret(text, len);
	return 0;
}
