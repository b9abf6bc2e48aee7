/*
 * cardsmith exit codes. Append only: scripts depend on these numbers, and
 * doc/cardsmith.1 (EXIT STATUS) documents each one.
 */
#ifndef CARDSMITH_CLI_EXIT_H
#define CARDSMITH_CLI_EXIT_H

#include "cardsmith/common.h"

enum cli_exit {
	CLI_EXIT_OK = 0, /* success */
	CLI_EXIT_FAIL = 1, /* operation failed (anything not below) */
	CLI_EXIT_USAGE = 2, /* bad option, unknown command */
	CLI_EXIT_NODEV = 3, /* no reader or card; transport failure */
	CLI_EXIT_AUTH = 4, /* PIN/PUK/management key wrong or blocked */
	CLI_EXIT_VERIFY = 5, /* signature, attestation or chain invalid */
	CLI_EXIT_POLICY = 6, /* refused by CA policy */
	/* append only */
};

/* Exit code for a library result (STYLE.md section 8); CS_OK gives 0. */
int cli_exit_code(enum cs_err err);

#endif
