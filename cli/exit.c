#include "exit.h"

#include "banned.h"

/*
 * The documented table (doc/cardsmith.1, EXIT STATUS). Codes not listed
 * here are "operation failed". Usage errors never come from the library;
 * the CLI returns CLI_EXIT_USAGE itself.
 */
static const struct {
	enum cs_err err;
	enum cli_exit code;
} exit_map[] = {
	{ CS_OK, CLI_EXIT_OK },
	{ CS_ERR_NO_CARD, CLI_EXIT_NODEV },
	{ CS_ERR_TRANSPORT, CLI_EXIT_NODEV },
	{ CS_ERR_REMOVED, CLI_EXIT_NODEV },
	{ CS_ERR_TIMEOUT, CLI_EXIT_NODEV },
	{ CS_ERR_AUTH, CLI_EXIT_AUTH },
	{ CS_ERR_BLOCKED, CLI_EXIT_AUTH },
	{ CS_ERR_VERIFY, CLI_EXIT_VERIFY },
	{ CS_ERR_POLICY, CLI_EXIT_POLICY },
};

int
cli_exit_code(enum cs_err err)
{
	size_t i;

	for (i = 0; i < sizeof(exit_map) / sizeof(exit_map[0]); i++)
		if (exit_map[i].err == err)
			return exit_map[i].code;
	return CLI_EXIT_FAIL;
}
