/*
 * Files and PEM for the commands: read an input file whole (bounded),
 * write PEM or text (through outfile.h), and the base64 of RFC 7468.
 */
#ifndef CARDSMITH_CLI_PEM_H
#define CARDSMITH_CLI_PEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* Largest input file read (certificates, CSRs, key files). */
#define PEM_FILE_MAX (1024u * 1024u)

/*
 * Read path ("-" is standard input) into *data (NUL-terminated, caller
 * frees with free). Returns CLI_CONTINUE or an exit code after reporting.
 */
int pem_read_file(struct cli *cli, const char *path, uint8_t **data,
    size_t *len);

/*
 * PEM text of der with label ("CERTIFICATE", "PUBLIC KEY", ...) into
 * *pem (NUL-terminated, caller frees with free).
 */
void pem_encode(const char *label, const uint8_t *der, size_t len, char **pem);

/*
 * The DER inside the first PEM block with label in text, or text itself
 * if it does not look like PEM (taken as DER). *der: caller frees with
 * free. Returns false if a block is found but is not valid base64.
 */
bool pem_decode(const char *label, const uint8_t *text, size_t len,
    uint8_t **der, size_t *derlen);

/*
 * Write text to path through outfile_put (outfile.h): mode 0600 means a
 * secret (OUTFILE_SECRET), force allows replacing an existing regular
 * file. New code calls outfile_put directly. Returns CLI_CONTINUE or an
 * exit code after reporting.
 */
int pem_write_file(struct cli *cli, const char *path, const char *text,
    int mode, bool force);

#endif
