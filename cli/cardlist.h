/*
 * Card names from pcsc-tools' smartcard_list.txt: ATR regular expressions,
 * each followed by TAB-indented description lines.
 */
#ifndef CARDSMITH_CLI_CARDLIST_H
#define CARDSMITH_CLI_CARDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CARDLIST_PATH "/usr/share/pcsc/smartcard_list.txt"
/* Overrides CARDLIST_PATH (tests, or a newer list from pcsc-tools). */
#define CARDLIST_ENV "CARDSMITH_SMARTCARD_LIST"
/* Longer lines are not ATR patterns; descriptions are truncated. */
#define CARDLIST_LINE_MAX 1024

/*
 * Look atr[0..atrlen) up in the list at path and copy the first description
 * line of the first matching entry into name[0..cap) (truncated, always
 * NUL-terminated). Returns false when nothing matches, the file is missing
 * or unreadable, or atrlen is 0 or over CS_ATR_MAX; name is then "".
 */
bool cardlist_lookup_path(const char *path, const uint8_t *atr, size_t atrlen,
    char *name, size_t cap);

/* As cardlist_lookup_path on $CARDSMITH_SMARTCARD_LIST or CARDLIST_PATH. */
bool cardlist_lookup(const uint8_t *atr, size_t atrlen, char *name, size_t cap);

/*
 * Cheap position-by-position pre-check of ATR text s against pattern pat:
 * false only when pat cannot match (never a false "no"). Exposed for tests.
 */
bool cardlist_may_match(const char *pat, const char *s);

#endif
