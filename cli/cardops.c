/* Command plumbing shared by the card commands (cardops.h). */
#include <stdio.h>

#include "card.h"
#include "cardops.h"
#include "exit.h"
#include "out.h"
#include "outfile.h"

#include "banned.h"

int
cardops_group(struct cli *cli, const struct cmd *subs, int argc,
    const char **argv)
{
	const struct cmd *sub = cli_find_sub(subs, argc, argv);

	if (sub == NULL)
		return cli_group_usage(cli, subs, argc, argv);
	return cli_run_sub(cli, sub, argc, argv);
}

int
cardops_parse(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage)
{
	poptContext con = NULL;
	int r;

	if ((r = cli_parse(cli, argc, argv, opts, usage, &con)) == CLI_CONTINUE)
		r = cli_no_args(cli, con);
	poptFreeContext(con);
	return r;
}

int
cardops_slot_intake(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage, char *const *arg,
    bool allow_f9, uint8_t *slot)
{
	int r;

	/* Usage errors are reported as such, before any card is looked for. */
	cli->defer_needs = 1;
	if ((r = cardops_parse(cli, argc, argv, opts, usage)) == CLI_CONTINUE)
		r = cli_slot_arg(cli, *arg, allow_f9, slot);
	return r;
}

unsigned int
cardops_out_flags(int force)
{
	return OUTFILE_HINT_FORCE | (force ? OUTFILE_FORCE : 0);
}

int
cardops_put_pem(struct cli *cli, const char *out, int force, json_t *doc,
    const char *key, const char *pem)
{
	int code;

	if (out != NULL &&
	    (code = outfile_put(cli, out, pem, cardops_out_flags(force))) !=
	        CLI_CONTINUE) {
		json_decref(doc);
		return code;
	}
	if (cli->json) {
		out_set(doc, key, out_str(pem));
		return out_emit(cli, doc);
	}
	json_decref(doc);
	if (out == NULL)
		fputs(pem, stdout);
	return CLI_EXIT_OK;
}

int
cardops_key_matches(struct cli *cli, const uint8_t *stmt, size_t len,
    const uint8_t *spki, size_t spki_len)
{
	enum cs_err r = CS_ERR_INTERNAL;

	r = cs_attest_match_key(cli->ctx, stmt, len, spki, spki_len);
	return r == CS_OK ? 1 : r == CS_ERR_VERIFY ? 0 : -1;
}
