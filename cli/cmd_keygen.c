/* cardsmith keygen: generate a key pair on the card. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "cardops.h"
#include "exit.h"
#include "out.h"
#include "outfile.h"
#include "pem.h"

#include "banned.h"

static const struct cli_usage keygen_usage = {
	"--slot SLOT --alg ALG [--pin-policy POLICY] [--touch-policy POLICY] "
	"[--out FILE] [--force]",
	"Generate a key pair in SLOT on the card; the private key never "
	"leaves it. ALG is\np256, p384, rsa2048, rsa3072, rsa4096 or ed25519 "
	"(rsa3072, rsa4096 and ed25519\nneed YubiKey 5.7). The public key is "
	"printed as PEM, or written to --out.\nPIN policy: default, never, "
	"once, always; touch policy: default, never,\nalways, cached. "
	"Needs the management key: the default one, the PIN-protected\none "
	"(then the PIN is asked for), or one given with --mgmt-key-fd/-file/"
	"-env.\nA slot that already holds a key is only replaced after a "
	"yes on the terminal\nor with --force.",
	"  cardsmith keygen --slot 9a --alg p256 --pin-policy once --out "
	"pub.pem",
};

static int
policy_arg(struct cli *cli, const char *opt, const char *v,
    const char *const *names, size_t n, uint8_t *out)
{
	size_t i;

	*out = 0;
	if (v == NULL)
		return CLI_CONTINUE;
	for (i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = (uint8_t)i;
			return CLI_CONTINUE;
		}
	return out_usage(cli, "keygen: %s: '%s' is not a policy", opt, v);
}

/* Is there a key in slot? 1 yes, 0 no, or an exit code (< 0 never). */
static int
slot_in_use(struct cli *cli, uint8_t slot, int *used)
{
	struct cs_piv_key_meta meta;
	uint8_t *der = NULL;
	size_t len = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*used = 0;
	if (cs_card_has(cli->card, CS_CAP_METADATA))
		r = cs_piv_key_metadata(cli->card, slot, &meta, NULL, NULL);
	else {
		/* No metadata: a certificate is the best sign of a key. */
		r = cs_piv_read_cert(cli->card, slot, &der, &len);
		cs_free(der);
	}
	if (r == CS_OK)
		*used = 1;
	else if (r != CS_ERR_NOT_FOUND)
		return cli_card_fail(cli, r, "check the slot",
		    "card removed "
		    "during the operation; nothing was written");
	return CLI_CONTINUE;
}

static const char *
pretty_alg(uint8_t alg)
{
	switch (alg) {
	case CS_PIV_ALG_RSA2048:
		return "RSA-2048";
	case CS_PIV_ALG_RSA3072:
		return "RSA-3072";
	case CS_PIV_ALG_RSA4096:
		return "RSA-4096";
	case CS_PIV_ALG_P256:
		return "P-256";
	case CS_PIV_ALG_P384:
		return "P-384";
	case CS_PIV_ALG_ED25519:
		return "Ed25519";
	default:
		return cs_piv_alg_name(alg) != NULL ? cs_piv_alg_name(alg)
		                                    : "?";
	}
}

struct keygen_opts {
	char *slot, *alg, *pin_policy, *touch_policy, *out;
	int force;
};

static int
emit_key(struct cli *cli, const struct keygen_opts *o,
    const struct cs_piv_keygen *kg, const uint8_t *spki, size_t len,
    int replaced)
{
	json_t *doc = out_doc_new();
	char *pem = NULL, s[3];
	int code;

	pem_encode("PUBLIC KEY", spki, len, &pem);
	cli_slot_str(kg->slot, s);
	out_set(doc, "slot", out_str(s));
	out_set(doc, "algorithm", out_str(cs_piv_alg_name(kg->alg)));
	out_set(doc, "pin_policy", out_str(cli_pin_policy_str(kg->pin_policy)));
	out_set(doc, "touch_policy",
	    out_str(cli_touch_policy_str(kg->touch_policy)));
	out_set(doc, "replaced", json_boolean(replaced));
	code =
	    cardops_put_pem(cli, o->out, o->force, doc, "public_key_pem", pem);
	if (code == CLI_EXIT_OK && !cli->json)
		out_notice(cli, "generated %s key in slot %s",
		    pretty_alg(kg->alg), s);
	free(pem);
	return code;
}

static int
do_keygen(struct cli *cli, struct card_secrets *cs, const struct keygen_opts *o,
    const struct cs_piv_keygen *kg)
{
	uint8_t *spki = NULL;
	size_t len = 0;
	char s[3], q[96];
	enum cs_err r = CS_ERR_INTERNAL;
	int code, used = 0;

	cli_slot_str(kg->slot, s);
	/* Before the slot is touched: generating cannot be undone. */
	if (o->out != NULL &&
	    (code = outfile_preflight(cli, o->out,
	         cardops_out_flags(o->force))) != CLI_CONTINUE)
		return code;
	if ((code = slot_in_use(cli, kg->slot, &used)) != CLI_CONTINUE)
		return code;
	snprintf(q, sizeof(q), "slot %s already holds a key; replace it", s);
	if (used &&
	    (code = secret_destructive(cli, o->force, q)) != CLI_CONTINUE)
		return code;
	if ((code = cli_mgm_auth(cli, cs)) != CLI_CONTINUE)
		return code;
	if (kg->alg == CS_PIV_ALG_RSA2048 || kg->alg == CS_PIV_ALG_RSA3072 ||
	    kg->alg == CS_PIV_ALG_RSA4096)
		out_verbose(cli,
		    "generating %s key on the card (this takes a "
		    "few seconds)...",
		    pretty_alg(kg->alg));
	else
		out_verbose(cli, "generating %s key in slot %s",
		    pretty_alg(kg->alg), s);
	r = cs_piv_generate(cli->card, kg, &spki, &len);
	if (r != CS_OK)
		return cli_card_fail(cli, r, "generate key",
		    "card removed "
		    "during key generation: the slot may hold the new key or "
		    "the old one; check with 'cardsmith inspect'");
	code = emit_key(cli, o, kg, spki, len, used);
	cs_free(spki);
	return code;
}

int
cmd_keygen(struct cli *cli, int argc, const char **argv)
{
	static const char *const pin_names[] = { "default", "never", "once",
		"always" };
	static const char *const touch_names[] = { "default", "never", "always",
		"cached" };
	struct card_secrets cs;
	struct keygen_opts o;
	struct cs_piv_keygen kg;
	int r;

	memset(&o, 0, sizeof(o));
	memset(&kg, 0, sizeof(kg));
	card_secrets_init(&cs, &o.force);
	{
		struct poptOption opts[] = {
			CARDOPS_SLOT_OPT(o.slot,
			    "the slot (9a, 9c, 9d, 9e, 82..95)"),
			{ "alg", 'a', POPT_ARG_STRING, &o.alg, 0,
			    "p256, p384, rsa2048, rsa3072, rsa4096, ed25519",
			    "ALG" },
			{ "pin-policy", '\0', POPT_ARG_STRING, &o.pin_policy, 0,
			    "default, never, once, always", "POLICY" },
			{ "touch-policy", '\0', POPT_ARG_STRING,
			    &o.touch_policy, 0,
			    "default, never, always, cached", "POLICY" },
			CLI_OUT_OPT(o.out,
			    "write the public key (PEM) to FILE"),
			CLI_FORCE_OPT(o.force,
			    "replace a key already in the slot (and --out)"),
			CARD_MGM_POPTS(cs),
			POPT_TABLEEND,
		};

		r = cardops_slot_intake(cli, argc, argv, opts, &keygen_usage,
		    &o.slot, false, &kg.slot);
		if (r != CLI_CONTINUE)
			goto out;
	}
	if ((r = policy_arg(cli, "--pin-policy", o.pin_policy, pin_names, 4,
	         &kg.pin_policy)) != CLI_CONTINUE ||
	    (r = policy_arg(cli, "--touch-policy", o.touch_policy, touch_names,
	         4, &kg.touch_policy)) != CLI_CONTINUE)
		goto out;
	kg.alg = cs_piv_alg_parse(o.alg);
	if (o.alg == NULL || kg.alg == 0 || kg.alg == CS_PIV_ALG_3DES ||
	    kg.alg == CS_PIV_ALG_X25519 ||
	    (kg.alg >= CS_PIV_ALG_AES128 && kg.alg <= CS_PIV_ALG_AES256)) {
		r = out_usage(cli,
		    "keygen: --alg: give p256, p384, rsa2048, "
		    "rsa3072, rsa4096 or ed25519");
		goto out;
	}
	if ((r = cli_open_needs(cli)) == CLI_CONTINUE)
		r = do_keygen(cli, &cs, &o, &kg);
out:
	card_secrets_release(&cs);
	free(o.slot);
	free(o.alg);
	free(o.pin_policy);
	free(o.touch_policy);
	free(o.out);
	return r;
}
