/* cardsmith readers: PC/SC readers, whether a card is in each, its ATR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cardlist.h"
#include "cli.h"
#include "exit.h"
#include "out.h"

#include "banned.h"

#define CARD_NAME_MAX 256

static const struct cli_usage readers_usage = {
	"[--json] [--reader NAME]",
	"List the PC/SC readers pcscd knows, one line each: whether a card is "
	"in it,\nthe card's ATR and, if pcsc-tools' smartcard_list.txt knows "
	"the ATR, the card's\nname. A card another program holds exclusively "
	"is shown as \"in use\". No reader\nat all is not an error. If pcscd "
	"cannot be reached the exit status is 3.",
	"  cardsmith readers\n"
	"  Yubico YubiKey OTP+FIDO+CCID 00 00: card present; ATR 3B FD 13 00 "
	"00 81 31 FE\n  15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40; Yubico "
	"YubiKey 5 NFC (PKI)\n\n"
	"  cardsmith readers --json --reader yubikey",
};

/* Case-insensitive substring, as cs_pcsc_pick matches --reader. */
static int
name_matches(const char *name, const char *match)
{
	size_t n, m, i;

	if (match == NULL || *match == '\0')
		return 1;
	n = strlen(name);
	m = strlen(match);
	for (i = 0; m <= n && i <= n - m; i++)
		if (strncasecmp(name + i, match, m) == 0)
			return 1;
	return 0;
}

static const char *
card_name(const struct cs_reader_info *ri, char *buf, size_t cap)
{
	if (!ri->card_present || ri->atr_len == 0)
		return NULL;
	return cardlist_lookup(ri->atr, ri->atr_len, buf, cap) ? buf : NULL;
}

static json_t *
reader_json(const struct cs_reader_info *ri)
{
	char atr[OUT_HEX_MAX(CS_ATR_MAX)], name[CARD_NAME_MAX];
	json_t *o;

	if ((o = json_object()) == NULL) {
		out_err("out of memory");
		exit(CLI_EXIT_FAIL);
	}
	out_hex(atr, sizeof(atr), ri->atr, ri->atr_len, 0);
	out_set(o, "name", out_str(ri->name));
	out_set(o, "card_present", json_boolean(ri->card_present));
	out_set(o, "atr", ri->atr_len > 0 ? out_str(atr) : NULL);
	out_set(o, "card_name", out_str(card_name(ri, name, sizeof(name))));
	out_set(o, "in_use", json_boolean(ri->in_use));
	out_set(o, "mute", json_boolean(ri->mute));
	return o;
}

static void
reader_text(const struct cs_reader_info *ri)
{
	char atr[OUT_HEX_MAX(CS_ATR_MAX)], name[CARD_NAME_MAX];
	const char *cname;

	out_safe(stdout, ri->name);
	if (!ri->card_present) {
		fputs(": no card\n", stdout);
		return;
	}
	fputs(": card present", stdout);
	if (ri->in_use)
		fputs(" (in use)", stdout);
	if (ri->mute)
		fputs(" (mute)", stdout);
	if (ri->atr_len > 0) {
		out_hex(atr, sizeof(atr), ri->atr, ri->atr_len, 1);
		printf("; ATR %s", atr);
	}
	if ((cname = card_name(ri, name, sizeof(name))) != NULL) {
		fputs("; ", stdout);
		out_safe(stdout, cname);
	}
	fputc('\n', stdout);
}

static int
list_readers(struct cli *cli, const char *match)
{
	struct cs_reader_info *list = NULL;
	json_t *doc = NULL, *arr = NULL;
	size_t n = 0, i, shown = 0;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	if ((r = cs_pcsc_list(cli->ctx, &list, &n)) != CS_OK) {
		code = out_fail(cli, r, "list readers");
		goto out;
	}
	if (cli->json) {
		doc = out_doc_new();
		if ((arr = json_array()) == NULL) {
			code = out_fail(cli, CS_ERR_NOMEM, NULL);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (!name_matches(list[i].name, match))
			continue;
		shown++;
		if (cli->json)
			out_append(arr, reader_json(&list[i]));
		else
			reader_text(&list[i]);
	}
	if (shown == 0 && match != NULL && *match != '\0') {
		json_decref(arr);
		arr = NULL;
		code = out_failf(cli, CS_ERR_NO_CARD,
		    "no reader name contains '%s'", match);
		goto out;
	}
	if (cli->json) {
		out_set(doc, "readers", arr);
		arr = NULL;
		code = out_emit(cli, doc);
		doc = NULL;
	} else {
		if (n == 0)
			out_notice(cli, "no smart card readers found");
		code = CLI_EXIT_OK;
	}
out:
	json_decref(arr);
	json_decref(doc);
	cs_free(list);
	return code;
}

int
cmd_readers(struct cli *cli, int argc, const char **argv)
{
	char *match = NULL;
	struct poptOption opts[] = {
		{ "reader", 'r', POPT_ARG_STRING, &match, 0,
		    "only readers whose name contains NAME (any case)",
		    "NAME" },
		POPT_TABLEEND,
	};
	int r;

	if ((r = cli_parse_noargs(cli, argc, argv, opts, &readers_usage,
	         NULL)) == CLI_CONTINUE)
		r = list_readers(cli, match);
	free(match);
	return r;
}
