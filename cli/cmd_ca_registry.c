/*
 * cardsmith ca revoke, crl, list, show, reconcile: the registry of what
 * the CA issued, and the CRL made from it. The runner opens the CA
 * (NEED_CA; crl also unlocks it, NEED_CA_KEY).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_common.h"
#include "exit.h"
#include "out.h"
#include "outfile.h"
#include "pem.h"

#include "banned.h"

static const struct cli_usage revoke_usage = {
	"(--serial HEX | --card SERIAL) [--reason REASON] [--dir DIR]",
	"Mark a certificate (or every certificate issued for a card) revoked "
	"in the\nregistry; the next 'cardsmith ca crl' lists it. REASON is an "
	"RFC 5280 name:\nunspecified (default), keyCompromise, "
	"affiliationChanged, superseded,\ncessationOfOperation, "
	"certificateHold, privilegeWithdrawn.\n"
	"The revoked certificate's key is not certified again: never after "
	"keyCompromise,\nafter another reason only with 'ca sign "
	"--allow-revoked-key'. keyCompromise\nalso names any other "
	"unrevoked certificate of the same key.",
	"  cardsmith ca revoke --serial 4F2A... --reason keyCompromise",
};

/* REASON and the one of --serial or --card, before the CA is opened. */
static int
revoke_check(struct cli *cli, const char *serial, const char *card,
    const char *reason, uint64_t *cs, int *rs)
{
	int code;

	if ((serial == NULL) == (card == NULL))
		return out_usage(cli, "ca revoke: give --serial or --card");
	if (!ca_parse_u64(card, cs))
		return out_usage(cli, "ca revoke: bad --card serial");
	if (serial != NULL &&
	    (code = ca_check_serial(cli, "--serial", serial)) != CLI_CONTINUE)
		return code;
	if (reason != NULL && cs_ca_reason_parse(reason, rs) != CS_OK)
		return out_usage(cli, "ca revoke: unknown reason '%s'", reason);
	return CLI_CONTINUE;
}

int
ca_revoke(struct cli *cli, int argc, const char **argv)
{
	char *serial = NULL, *card = NULL, *reason = NULL;
	uint64_t cs = 0;
	size_t n = 0;
	int rs = 0, code;
	json_t *doc;
	enum cs_err r = CS_ERR_INTERNAL;
	struct poptOption opts[] = {
		CLI_CA_DIR_OPT(cli),
		{ "serial", '\0', POPT_ARG_STRING, &serial, 0,
		    "certificate serial (hex)", "HEX" },
		{ "card", '\0', POPT_ARG_STRING, &card, 0,
		    "revoke everything issued for this card serial", "SERIAL" },
		{ "reason", '\0', POPT_ARG_STRING, &reason, 0,
		    "RFC 5280 reason name", "REASON" },
		POPT_TABLEEND,
	};

	cli->defer_needs = 1;
	if ((code = cli_parse_noargs(cli, argc, argv, opts, &revoke_usage,
	         NULL)) != CLI_CONTINUE ||
	    (code = revoke_check(cli, serial, card, reason, &cs, &rs)) !=
	        CLI_CONTINUE ||
	    (code = cli_open_needs(cli)) != CLI_CONTINUE)
		goto out;
	if ((r = cs_ca_revoke(cli->ca, serial, cs, rs, 0, &n)) != CS_OK) {
		code = out_fail(cli, r, "ca revoke");
		goto out;
	}
	code = CLI_EXIT_OK;
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "revoked", json_integer((json_int_t)n));
		code = out_emit(cli, doc);
	} else if (!cli->quiet)
		printf("revoked %zu certificate%s\n", n, n == 1 ? "" : "s");
out:
	free(serial);
	free(card);
	free(reason);
	return code;
}

/* --- crl --- */

static const struct cli_usage crl_usage = {
	"[--out FILE] [--days N] [--dir DIR] [--pass-fd FD | --pass-file FILE "
	"| --pass-env NAME]",
	"Write a CRL for each issuing CA (PEM, concatenated) with a new "
	"cRLNumber and\nnextUpdate N days ahead (default 7). Gateways load it "
	"with 'cardsmith verify\n--crl' or ssl_crl / SSLCARevocationFile. "
	"An existing --out file is replaced\natomically (a character device "
	"or FIFO is written to, a symbolic link is\nrefused); --out is "
	"checked before the cRLNumber is spent.",
	"  cardsmith ca crl --out ca.crl.pem",
};

int
ca_crl(struct cli *cli, int argc, const char **argv)
{
	struct cs_ca *ca;
	char *out = NULL, *pem = NULL;
	size_t len = 0;
	int days = 7, code;
	json_t *doc;
	enum cs_err r = CS_ERR_INTERNAL;

	cli->defer_needs = 1;
	{
		struct poptOption opts[] = {
			CLI_CA_DIR_OPT(cli),
			CLI_OUT_OPT(out, "write the CRL here (replaced)"),
			{ "days", '\0', POPT_ARG_INT, &days, 0,
			    "nextUpdate in days (default 7)", "N" },
			CLI_CA_PASS_OPTS(cli),
			POPT_TABLEEND,
		};

		if ((code = cli_parse_noargs(cli, argc, argv, opts,
		         &crl_usage, NULL)) != CLI_CONTINUE)
			goto out;
	}
	if (days <= 0 || days > 3650) {
		code = out_usage(cli, "ca crl: --days must be 1..3650");
		goto out;
	}
	if ((out != NULL &&
	        (code = outfile_preflight(cli, out, OUTFILE_FORCE)) !=
	            CLI_CONTINUE) ||
	    (code = cli_open_needs(cli)) != CLI_CONTINUE)
		goto out;
	ca = cli->ca;
	if ((r = cs_ca_crl(ca, (unsigned int)days, &pem, &len)) != CS_OK) {
		code = out_fail(cli, r, "ca crl");
		goto out;
	}
	if (out != NULL || !cli->json) {
		code = outfile_put(cli, out, pem, OUTFILE_FORCE);
		if (code != CLI_CONTINUE)
			goto out;
	}
	code = CLI_EXIT_OK;
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "out", out_str(out));
		if (out == NULL)
			out_set(doc, "pem", out_str(pem));
		code = out_emit(cli, doc);
	}
out:
	cs_free(pem);
	free(out);
	return code;
}

/* --- list / show --- */

static json_t *
info_json(const struct cs_ca_cert_info *in)
{
	json_t *o = json_object();
	char slot[8];

	if (o == NULL)
		return NULL;
	out_set(o, "serial", out_str(in->serial));
	out_set(o, "status", out_str(cs_ca_status_name(in->status)));
	out_set(o, "level",
	    in->level != CS_CA_LEVEL_NONE ? out_str(cs_ca_level_name(in->level))
	                                  : NULL);
	out_set(o, "profile", out_str(in->profile));
	out_set(o, "subject", in->subject[0] ? out_str(in->subject) : NULL);
	out_set(o, "not_before", json_integer(in->not_before));
	out_set(o, "not_after", json_integer(in->not_after));
	snprintf(slot, sizeof(slot), "%02x", (unsigned int)in->slot & 0xff);
	out_set(o, "slot", in->slot >= 0 ? out_str(slot) : NULL);
	out_set(o, "card_serial",
	    in->has_card_serial ? json_integer((json_int_t)in->card_serial)
	                        : NULL);
	out_set(o, "firmware", in->firmware[0] ? out_str(in->firmware) : NULL);
	out_set(o, "sublevel", in->sublevel[0] ? out_str(in->sublevel) : NULL);
	out_set(o, "revoked_at",
	    in->status == CS_CA_STATUS_REVOKED ? json_integer(in->revoked_at)
	                                       : NULL);
	return o;
}

/* The text table of 'ca list' and 'ca show'. */
#define INFO_ROW "%-32s %-9s %-17s %-10s %-10s %-4s %-16s "

static void
info_header(void)
{
	printf(INFO_ROW "%s\n", "SERIAL", "STATUS", "LEVEL", "EXPIRES", "CARD",
	    "SLOT", "PROFILE", "SUBJECT");
}

static void
info_text(const struct cs_ca_cert_info *in)
{
	char when[32] = "-", card[24] = "-", slot[8] = "-";
	struct tm tm;
	time_t t = (time_t)in->not_after;

	if (in->not_after != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	if (in->has_card_serial)
		snprintf(card, sizeof(card), "%llu",
		    (unsigned long long)in->card_serial);
	if (in->slot >= 0)
		snprintf(slot, sizeof(slot), "%02x",
		    (unsigned int)in->slot & 0xff);
	printf(INFO_ROW, in->serial, cs_ca_status_name(in->status),
	    in->level != CS_CA_LEVEL_NONE ? cs_ca_level_name(in->level) : "-",
	    when, card, slot, in->profile[0] ? in->profile : "-");
	out_safe(stdout, in->subject[0] ? in->subject : "-");
	fputc('\n', stdout);
}

/* What 'ca list' shows beyond the registry's own filter. */
struct list_args {
	json_t *arr; /* --json */
	size_t n; /* rows shown */
	bool card_set;
	uint64_t card; /* --card */
	const char *profile; /* --profile */
	int level; /* --level: enum cs_ca_level, or -1 */
	const char *sublevel; /* --level naming a sub-level */
};

static bool
list_match(const struct list_args *la, const struct cs_ca_cert_info *in)
{
	if (la->card_set &&
	    (!in->has_card_serial || in->card_serial != la->card))
		return false;
	if (la->profile != NULL && strcmp(in->profile, la->profile) != 0)
		return false;
	if (la->level >= 0 && (int)in->level != la->level)
		return false;
	return la->sublevel == NULL || strcmp(in->sublevel, la->sublevel) == 0;
}

static int
list_one(void *arg, const struct cs_ca_cert_info *in)
{
	struct list_args *la = arg;

	if (!list_match(la, in))
		return 0;
	if (la->arr != NULL)
		out_append(la->arr, info_json(in));
	else {
		if (la->n == 0)
			info_header();
		info_text(in);
	}
	la->n++;
	return 0;
}

/* --level: a level name or one of the CA's sub-levels; else usage. */
static int
list_level(struct cli *cli, const struct cs_ca *ca, const char *name,
    struct list_args *la)
{
	const struct cs_ca_sublevel *sub;
	enum cs_ca_level l;
	char names[256];
	size_t k, used = 0;
	int i;

	if (name == NULL)
		return CLI_CONTINUE;
	if (cs_ca_level_parse(name, &l) == CS_OK) {
		la->level = (int)l;
		return CLI_CONTINUE;
	}
	for (k = 0; (sub = cs_ca_sublevel_at(ca, k)) != NULL; k++)
		if (strcmp(sub->name, name) == 0) {
			la->sublevel = sub->name;
			return CLI_CONTINUE;
		}
	names[0] = '\0';
	for (i = CS_CA_LEVEL_SOFTWARE; i < CS_CA_LEVEL_COUNT; i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used,
		    "%s%s", used ? ", " : "",
		    cs_ca_level_name((enum cs_ca_level)i));
	for (k = 0;
	     used < sizeof(names) && (sub = cs_ca_sublevel_at(ca, k)) != NULL;
	     k++)
		used += (size_t)snprintf(names + used, sizeof(names) - used,
		    ", %s", sub->name);
	return out_usage(cli, "ca list: unknown --level '%s' (one of: %s)",
	    name, names);
}

static const struct cli_usage list_usage = {
	"[--expiring DAYS] [--status STATUS] [--card SERIAL] [--profile NAME]"
	"\n       [--level LEVEL] [--dir DIR] [--json]",
	"List the registry, one row per serial: status (pending, issued, "
	"delivered,\nrevoked, void), level, expiry date, card serial and "
	"slot (from the\nattestation; - if none), profile and subject. The "
	"filters combine: --expiring\nshows unrevoked certificates that "
	"expire within DAYS, --card those issued for\nthe card with that "
	"serial, --profile those of one profile, --level those of\none "
	"level (software, hardware-enrolled, hardware-attested) or "
	"sub-level.",
	"  cardsmith ca list --expiring 30 --json\n"
	"  cardsmith ca list --card 12345678 --status issued",
};

int
ca_list(struct cli *cli, int argc, const char **argv)
{
	struct cs_ca *ca;
	struct cs_ca_list_filter f = { 0, -1 };
	struct list_args la;
	char *status = NULL, *card = NULL, *profile = NULL, *level = NULL;
	int days = INT_MIN, code, i;
	json_t *doc = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	cli->defer_needs = 1;
	memset(&la, 0, sizeof(la));
	la.level = -1;
	{
		struct poptOption opts[] = {
			CLI_CA_DIR_OPT(cli),
			{ "expiring", '\0', POPT_ARG_INT, &days, 0,
			    "only certificates expiring within DAYS", "DAYS" },
			{ "status", '\0', POPT_ARG_STRING, &status, 0,
			    "only rows with this status", "STATUS" },
			{ "card", '\0', POPT_ARG_STRING, &card, 0,
			    "only certificates for the card with this serial",
			    "SERIAL" },
			{ "profile", '\0', POPT_ARG_STRING, &profile, 0,
			    "only certificates of this profile", "NAME" },
			{ "level", '\0', POPT_ARG_STRING, &level, 0,
			    "only certificates of this level or sub-level",
			    "LEVEL" },
			POPT_TABLEEND,
		};

		if ((code = cli_parse_noargs(cli, argc, argv, opts,
		         &list_usage, NULL)) != CLI_CONTINUE)
			goto out;
	}
	if (days >= 0)
		f.expiring_before = (int64_t)time(NULL) + (int64_t)days * 86400;
	for (i = 0; status != NULL && i <= CS_CA_STATUS_VOID; i++)
		if (strcmp(status, cs_ca_status_name((enum cs_ca_status)i)) ==
		    0)
			f.status = i;
	if (status != NULL && f.status < 0) {
		code = out_usage(cli,
		    "ca list: unknown --status '%s' (one of: pending, issued, "
		    "delivered, revoked, void)",
		    status);
		goto out;
	}
	if (days != INT_MIN && days < 0) {
		code = out_usage(cli, "ca list: --expiring needs DAYS >= 0");
		goto out;
	}
	if (card != NULL && !ca_parse_u64(card, &la.card)) {
		code = out_usage(cli,
		    "ca list: --card '%.40s' is not a card serial number",
		    card);
		goto out;
	}
	la.card_set = card != NULL;
	la.profile = profile;
	if ((code = cli_open_needs(cli)) != CLI_CONTINUE ||
	    (code = list_level(cli, cli->ca, level, &la)) != CLI_CONTINUE)
		goto out;
	ca = cli->ca;
	if (cli->json && (la.arr = json_array()) == NULL) {
		code = out_fail(cli, CS_ERR_NOMEM, NULL);
		goto out;
	}
	if ((r = cs_ca_list(ca, &f, list_one, &la)) != CS_OK) {
		code = out_fail(cli, r, "ca list");
		goto out;
	}
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "certificates", la.arr);
		la.arr = NULL;
		code = out_emit(cli, doc);
	} else {
		if (la.n == 0)
			out_notice(cli,
			    "no certificate in the registry matches");
		code = CLI_EXIT_OK;
	}
out:
	json_decref(la.arr);
	free(status);
	free(card);
	free(profile);
	free(level);
	return code;
}

static const struct cli_usage show_usage = {
	"(SERIAL | --serial HEX) [--out FILE [--force]] [--dir DIR] [--json]",
	"Show one registry row and its certificate (PEM). --out writes only "
	"the\ncertificate, to FILE (or '-' for standard output), as 'ca sign "
	"--out' would\nhave: this is how a certificate that was issued but "
	"never delivered (see 'ca\nreconcile') is retrieved, and an issued "
	"row becomes delivered once written.",
	"  cardsmith ca show 4F2A...\n"
	"  cardsmith ca show --serial 4F2A... --out cert.pem",
};

/* --out: the certificate alone to its destination; issued -> delivered. */
static int
show_write(struct cli *cli, struct cs_ca *ca, struct cs_ca_cert_info *in,
    const char *out, int force, const char *pem)
{
	int code;

	if (pem == NULL)
		return out_failf(cli, CS_ERR_NOT_FOUND,
		    "ca show: %s holds no certificate (status %s)", in->serial,
		    cs_ca_status_name(in->status));
	if ((code = outfile_put(cli, out, pem,
	         OUTFILE_HINT_FORCE | (force ? OUTFILE_FORCE : 0))) !=
	    CLI_CONTINUE)
		return code;
	if (in->status == CS_CA_STATUS_ISSUED) {
		if (cs_ca_mark_delivered(ca, in->serial) == CS_OK)
			in->status = CS_CA_STATUS_DELIVERED;
		else
			out_err("warning: %s was written but the registry "
			        "could not mark it delivered: %s",
			    in->serial, cs_ctx_errmsg(cli->ctx));
	}
	if (!cli->json)
		out_notice(cli, "wrote certificate %s to %s", in->serial,
		    outfile_name(out));
	return CLI_CONTINUE;
}

int
ca_show(struct cli *cli, int argc, const char **argv)
{
	struct cs_ca_cert_info in;
	struct cs_ca *ca;
	poptContext con = NULL;
	const char *serial;
	char *opt_serial = NULL, *out = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	char *pem = NULL;
	json_t *doc;
	int code, force = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	cli->defer_needs = 1;
	{
		struct poptOption opts[] = {
			CLI_CA_DIR_OPT(cli),
			{ "serial", '\0', POPT_ARG_STRING, &opt_serial, 0,
			    "certificate serial (hex)", "HEX" },
			CLI_OUT_OPT(out, "write the certificate (PEM) to FILE"),
			CLI_FORCE_OPT(force, "replace an existing --out file"),
			POPT_TABLEEND,
		};

		if ((code = cli_parse(cli, argc, argv, opts, &show_usage,
		         &con)) != CLI_CONTINUE)
			goto out;
	}
	serial = opt_serial != NULL ? opt_serial : poptGetArg(con);
	if (serial == NULL) {
		code = out_usage(cli, "ca show: SERIAL missing");
		goto out;
	}
	if ((code = cli_no_args(cli, con)) != CLI_CONTINUE ||
	    (code = ca_check_serial(cli, "SERIAL", serial)) != CLI_CONTINUE ||
	    (code = cli_open_needs(cli)) != CLI_CONTINUE)
		goto out;
	ca = cli->ca;
	if ((r = cs_ca_show(ca, serial, &in, &der, &len)) != CS_OK) {
		code = out_fail(cli, r, "ca show");
		goto out;
	}
	if (der != NULL)
		pem_encode("CERTIFICATE", der, len, &pem);
	if (out != NULL &&
	    (code = show_write(cli, ca, &in, out, force, pem)) != CLI_CONTINUE)
		goto out;
	if (cli->json) {
		doc = info_json(&in);
		out_set(doc, "ok", json_true());
		out_set(doc, "pem", out_str(pem));
		if (out != NULL)
			out_set(doc, "out", out_str(out));
		code = out_emit(cli, doc);
	} else {
		if (out == NULL) {
			info_header();
			info_text(&in);
			if (pem != NULL)
				fputs(pem, stdout);
		}
		code = CLI_EXIT_OK;
	}
out:
	poptFreeContext(con);
	cs_free(der);
	free(pem);
	free(opt_serial);
	free(out);
	return code;
}

static const struct cli_usage reconcile_usage = {
	"[--dir DIR] [--json]",
	"Resolve registry rows a crash left behind: a pending reservation "
	"never stored a\ncertificate, so none was handed out; it becomes "
	"void and its serial is never\nreused. Lists the certificates "
	"that were issued but never delivered (not\nwritten to their --out "
	"or standard output, e.g. a full disk): they are valid\nand kept; "
	"'cardsmith ca show --serial S --out FILE' writes one. Also checks "
	"the\ndatabase (integrity, no duplicate serial). Exit 1 if the check "
	"fails.",
	"  cardsmith ca reconcile --json",
};

/* Undelivered rows shown in text; the rest is counted ("ca list"). */
#define RECONCILE_SHOW_MAX 20

struct undelivered {
	json_t *arr; /* JSON mode */
	size_t n;
};

static int
undelivered_one(void *arg, const struct cs_ca_cert_info *in)
{
	struct undelivered *u = arg;

	if (u->arr != NULL)
		out_append(u->arr, info_json(in));
	else if (u->n < RECONCILE_SHOW_MAX) {
		printf("  %-32s %-16s ", in->serial, in->profile);
		out_safe(stdout, in->subject[0] ? in->subject : "-");
		fputc('\n', stdout);
	}
	u->n++;
	return 0;
}

/* Issued, never marked delivered: list them (they are retrievable). */
static enum cs_err
list_undelivered(struct cs_ca *ca, json_t *arr)
{
	struct cs_ca_list_filter f = { 0, CS_CA_STATUS_ISSUED };
	struct undelivered u = { arr, 0 };
	enum cs_err r = CS_ERR_INTERNAL;

	if (arr == NULL)
		printf("issued but not delivered (get one with 'cardsmith ca "
		       "show --serial SERIAL --out FILE'):\n");
	if ((r = cs_ca_list(ca, &f, undelivered_one, &u)) != CS_OK)
		return r;
	if (arr == NULL && u.n > RECONCILE_SHOW_MAX)
		printf("  ... and %zu more (cardsmith ca list --status "
		       "issued)\n",
		    u.n - RECONCILE_SHOW_MAX);
	return CS_OK;
}

int
ca_reconcile(struct cli *cli, int argc, const char **argv)
{
	struct cs_ca_reconcile_stats st;
	struct cs_ca *ca;
	json_t *doc, *arr = NULL;
	int code;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((code = ca_parse_dir(cli, argc, argv, &reconcile_usage, NULL,
	         NULL)) != CLI_CONTINUE)
		goto out;
	ca = cli->ca;
	if ((r = cs_ca_reconcile(ca, &st)) != CS_OK) {
		code = out_fail(cli, r, "ca reconcile");
		goto out;
	}
	if (!st.integrity_ok || st.duplicates != 0) {
		code = out_failf(cli, CS_ERR_STORE,
		    "ca reconcile: registry "
		    "check failed (integrity %s, %zu duplicate serials)",
		    st.integrity_ok ? "ok" : "BAD", st.duplicates);
		goto out;
	}
	if (cli->json) {
		if ((arr = json_array()) == NULL) {
			code = out_fail(cli, CS_ERR_NOMEM, NULL);
			goto out;
		}
		if (st.issued_undelivered > 0 &&
		    (r = list_undelivered(ca, arr)) != CS_OK) {
			code = out_fail(cli, r, "ca reconcile");
			goto out;
		}
		doc = out_doc_new();
		out_set(doc, "pending_voided",
		    json_integer((json_int_t)st.pending_voided));
		out_set(doc, "issued_undelivered",
		    json_integer((json_int_t)st.issued_undelivered));
		out_set(doc, "duplicates",
		    json_integer((json_int_t)st.duplicates));
		out_set(doc, "integrity_ok", json_boolean(st.integrity_ok));
		out_set(doc, "undelivered", arr);
		arr = NULL;
		code = out_emit(cli, doc);
	} else {
		if (!cli->quiet)
			printf("voided %zu pending reservation%s; %zu issued, "
			       "not marked delivered; integrity ok\n",
			    st.pending_voided,
			    st.pending_voided == 1 ? "" : "s",
			    st.issued_undelivered);
		code = CLI_EXIT_OK;
		if (st.issued_undelivered > 0 &&
		    (r = list_undelivered(ca, NULL)) != CS_OK)
			code = out_fail(cli, r, "ca reconcile");
	}
out:
	json_decref(arr);
	return code;
}
