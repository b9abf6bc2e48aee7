/*
 * Shared by cmd_enroll.c and cmd_batch.c.
 */
#ifndef CARDSMITH_CLI_ENROLL_COMMON_H
#define CARDSMITH_CLI_ENROLL_COMMON_H

#include "cardsmith/enroll.h"

#include "cli.h"

/*
 * Load profile set name into *set: a path if name has a '/' or ends in
 * .cnf, else <ca_dir>/profile-sets/NAME.cnf, the installed
 * profiles/sets/NAME.cnf or the source tree's. Returns CLI_CONTINUE or
 * the exit code (reported, "enroll: ...").
 */
int enroll_load_set(struct cli *cli, const char *name,
    struct cs_profileset *set);

#endif
