/* cardsmith ca … and cardsmith verify: the CA and relying-party commands. */
#ifndef CARDSMITH_CLI_CMD_CA_H
#define CARDSMITH_CLI_CMD_CA_H

#include "cli.h"

int cmd_ca(struct cli *cli, int argc, const char **argv);
int cmd_verify(struct cli *cli, int argc, const char **argv);

#endif
