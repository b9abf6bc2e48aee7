/* Attestation results as JSON and text (cmd_attest.c; used by inspect). */
#ifndef CARDSMITH_CLI_ATTESTOUT_H
#define CARDSMITH_CLI_ATTESTOUT_H

#include <stdio.h>

#include <jansson.h>

#include "cli.h"

/*
 * Fields of info into obj: serial, firmware, slot, pin_policy,
 * touch_policy, form_factor, fips, cspn, key_algorithm, subject, issuer,
 * root, not_before, not_after.
 */
void attest_info_json(json_t *obj, const struct cs_attest_info *info);
/* The same as "  Label: value" lines on f, each prefixed with indent. */
void attest_info_text(FILE *f, const char *indent,
    const struct cs_attest_info *info);

#endif
