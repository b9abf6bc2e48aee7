/*
 * Files and PEM for the commands: read an input file whole (bounded, via
 * cs_file_read), decode it (cs_pem_decode), write PEM or text (through
 * outfile.h).
 */
#ifndef CARDSMITH_CLI_PEM_H
#define CARDSMITH_CLI_PEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardsmith/pem.h"

#include "cli.h"

/* Largest input file read (certificates, CSRs, key files). */
#define PEM_FILE_MAX (1024u * 1024u)

/*
 * Read path ("-" is standard input) into *data (NUL-terminated, caller
 * frees with free). Returns CLI_CONTINUE or an exit code after reporting:
 * "cannot open|read PATH: why" (CS_ERR_IO) or "PATH: larger than N bytes"
 * (CS_ERR_LIMIT).
 */
int pem_read_file(struct cli *cli, const char *path, uint8_t **data,
    size_t *len);

/*
 * As pem_read_file for a file holding a secret (a CA key): no copy of it
 * is left unwiped on any path. Release *data with pem_free_secret.
 */
int pem_read_secret(struct cli *cli, const char *path, uint8_t **data,
    size_t *len);
void pem_free_secret(uint8_t *data, size_t len);

/*
 * PEM text of der with label ("CERTIFICATE", "PUBLIC KEY", ...) into
 * *pem (NUL-terminated, caller frees with free).
 */
void pem_encode(const char *label, const uint8_t *der, size_t len, char **pem);

/*
 * The DER of kind in a file's bytes (cs_pem_decode: exactly one DER object
 * of the kind, or the first PEM block of it). *der: caller frees with
 * free. Returns false, *der NULL, if it is neither.
 */
bool pem_decode(enum cs_pem_kind kind, const uint8_t *text, size_t len,
    uint8_t **der, size_t *derlen);

/* Does text contain a PEM block ("-----BEGIN ") at all? */
bool pem_is_armoured(const uint8_t *text, size_t len);

/*
 * Write text to path through outfile_put (outfile.h): mode 0600 means a
 * secret (OUTFILE_SECRET), force allows replacing an existing regular
 * file. New code calls outfile_put directly. Returns CLI_CONTINUE or an
 * exit code after reporting.
 */
int pem_write_file(struct cli *cli, const char *path, const char *text,
    int mode, bool force);

#endif
