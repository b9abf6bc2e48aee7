/* Card helpers shared by the commands: PIN, management key, messages. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "card.h"
#include "exit.h"
#include "out.h"

#include "banned.h"

void
card_secrets_init(struct card_secrets *cs, const int *force)
{
	memset(cs, 0, sizeof(*cs));
	cs->force = force;
	secret_src_init(&cs->pin, "PIN", "pin");
	secret_src_init(&cs->puk, "PUK", "puk");
	secret_src_init(&cs->new_pin, "new PIN", "new-pin");
	secret_src_init(&cs->new_puk, "new PUK", "new-puk");
	secret_src_init(&cs->mgm, "management key", "mgmt-key");
	secret_src_init(&cs->new_mgm, "new management key", "new-mgmt-key");
	cs->last_try_opt = "--last-try";
}

void
card_secrets_release(struct card_secrets *cs)
{
	secret_src_release(&cs->pin);
	secret_src_release(&cs->puk);
	secret_src_release(&cs->new_pin);
	secret_src_release(&cs->new_puk);
	secret_src_release(&cs->mgm);
	secret_src_release(&cs->new_mgm);
}

static bool
gone(enum cs_err r)
{
	return r == CS_ERR_REMOVED || r == CS_ERR_TRANSPORT ||
	    r == CS_ERR_NO_CARD || r == CS_ERR_TIMEOUT;
}

int
cli_card_fail(struct cli *cli, enum cs_err r, const char *what,
    const char *removed)
{
	const char *detail = cs_strerror(r);

	if (cs_ctx_errcode(cli->ctx) == r && *cs_ctx_errmsg(cli->ctx) != '\0')
		detail = cs_ctx_errmsg(cli->ctx);
	if (gone(r) && removed != NULL)
		return out_failf(cli, r, "%s: %s; %s", what, detail, removed);
	if (r == CS_ERR_ACCESS)
		return out_failf(cli, r,
		    "%s: %s: the card wants the PIN or "
		    "management key first",
		    what, detail);
	return out_failf(cli, r, "%s: %s", what, detail);
}

/* A PIN (or PUK) failure in the words a helpdesk uses. */
static int
pin_fail(struct cli *cli, enum cs_err r, const char *what, int tries)
{
	if (r == CS_ERR_AUTH && tries >= 0)
		return out_failf(cli, r, "wrong %s, %d %s left", what, tries,
		    tries == 1 ? "try" : "tries");
	if (r == CS_ERR_BLOCKED && strcmp(what, "PIN") == 0)
		return out_failf(cli, r,
		    "the PIN is blocked: unblock it with "
		    "'cardsmith pin unblock' (needs the PUK) or reset the card");
	if (r == CS_ERR_BLOCKED)
		return out_failf(cli, r,
		    "the %s is blocked: only 'cardsmith "
		    "reset' can recover the card (keys are lost)",
		    what);
	return cli_card_fail(cli, r, what,
	    "card removed during the operation; nothing was written");
}

int
cli_tries_guard(struct cli *cli, struct card_secrets *cs, uint8_t ref,
    struct secret_src *src)
{
	struct cs_piv_retries rt;
	const char *what = ref == CS_PIV_REF_PUK ? "PUK" : "PIN";
	enum cs_err r = CS_ERR_INTERNAL;

	src->tries = -1;
	/* VERIFY without data (PIN) or metadata: no try is used (§4.4). */
	if ((r = cs_piv_get_retries(cli->card, ref, &rt)) != CS_OK)
		return cli_card_fail(cli, r,
		    ref == CS_PIV_REF_PUK ? "PUK status" : "PIN status",
		    "card removed during the operation; nothing was written");
	if (rt.remaining == 0)
		return pin_fail(cli, CS_ERR_BLOCKED, what, 0);
	if (rt.remaining == 1 && !cs->last_try &&
	    (cs->force == NULL || !*cs->force))
		return out_failf(cli, CS_ERR_CANCELLED,
		    "only 1 %s try left: "
		    "a wrong %s would block it; nothing was tried (add %s%s to "
		    "try anyway)",
		    what, what, cs->force != NULL ? "--force or " : "",
		    cs->last_try_opt);
	src->tries = rt.remaining;
	return CLI_CONTINUE;
}

int
cli_pin_verify(struct cli *cli, struct card_secrets *cs)
{
	struct secret pin;
	enum cs_err r = CS_ERR_INTERNAL;
	int code, tries = -1;

	if (cs->pin_verified)
		return CLI_CONTINUE;
	if ((code = cli_tries_guard(cli, cs, CS_PIV_REF_PIN, &cs->pin)) !=
	    CLI_CONTINUE)
		return code;
	if ((code = secret_get(cli, &cs->pin, false, &pin)) != CLI_CONTINUE)
		return code;
	out_verbose(cli, "verifying the PIN");
	r = cs_piv_verify_pin(cli->card, pin.s, pin.len, &tries);
	if (r == CS_OK)
		r = cs_card_set_pin(cli->card, pin.s, pin.len);
	secret_clear(&pin);
	if (r != CS_OK)
		return pin_fail(cli, r, "PIN", tries);
	cs->pin_verified = true;
	return CLI_CONTINUE;
}

/* pin_fail for callers outside this file (PUK changes, unblock). */
int
cli_pin_fail(struct cli *cli, enum cs_err r, const char *what, int tries)
{
	return pin_fail(cli, r, what, tries);
}

static int
mgm_given(struct cli *cli, struct card_secrets *cs)
{
	struct secret s;
	uint8_t key[SECRET_KEY_MAX], alg = 0;
	size_t len = 0;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	if ((code = secret_get(cli, &cs->mgm, false, &s)) != CLI_CONTINUE)
		return code;
	if (!secret_hex_key(&s, key, &len)) {
		secret_clear(&s);
		return out_failf(cli, CS_ERR_ARG,
		    "the management key must be "
		    "32, 48 or 64 hex digits");
	}
	secret_clear(&s);
	/* Without metadata the length tells (24 bytes: 3DES, as ykman). */
	if (!cs_card_has(cli->card, CS_CAP_METADATA))
		alg = len == 16 ? CS_PIV_ALG_AES128
		    : len == 32 ? CS_PIV_ALG_AES256
		                : CS_PIV_ALG_3DES;
	r = cs_piv_authenticate(cli->card, alg, key, len);
	cs_wipe(key, sizeof(key));
	if (r == CS_ERR_AUTH)
		return out_failf(cli, r,
		    "wrong management key: the card "
		    "refused it");
	if (r != CS_OK)
		return cli_card_fail(cli, r, "management key authentication",
		    "card removed during the operation; nothing was written");
	return CLI_CONTINUE;
}

/* One line on stderr right before the card waits for its button. */
static void
touch_notice(void *arg, uint8_t slot)
{
	struct cli *cli = arg;
	char s[3];

	if (slot == CS_PIV_SLOT_MGM)
		out_notice(cli, "touch the card's button now (management key)");
	else
		out_notice(cli, "touch the card's button now (slot %s)",
		    cli_slot_str(slot, s));
}

void
cli_card_watch_touch(struct cli *cli)
{
	if (cli->card != NULL)
		cs_card_set_touch_fn(cli->card, touch_notice, cli);
}

int
cli_mgm_auth(struct cli *cli, struct card_secrets *cs)
{
	const uint8_t *def;
	bool prot = false;
	size_t len;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	cli_card_watch_touch(cli);
	if (secret_src_given(&cs->mgm))
		return mgm_given(cli, cs);
	if (cs_card_has(cli->card, CS_CAP_PROTECTED_MGM) &&
	    (r = cs_piv_mgm_is_protected(cli->card, &prot)) != CS_OK)
		return cli_card_fail(cli, r, "read admin data",
		    "card removed during the operation; nothing was written");
	if (prot) {
		out_verbose(cli, "using the PIN-protected management key");
		if ((code = cli_pin_verify(cli, cs)) != CLI_CONTINUE)
			return code;
		r = cs_piv_authenticate_protected(cli->card);
		if (r == CS_OK)
			return CLI_CONTINUE;
		if (r != CS_ERR_AUTH && r != CS_ERR_ARG)
			return cli_card_fail(cli, r,
			    "PIN-protected management "
			    "key",
			    "card removed during the operation; "
			    "nothing was written");
		/*
		 * 'mgmt-key set --protect' flags admin data before the card
		 * changes: pulled in between, the default key is still in
		 * force.
		 */
		out_verbose(cli, "the PIN-protected management key does not "
		    "authenticate; trying the default");
	}
	def = cs_piv_default_mgm_key(&len);
	r = cs_piv_authenticate(cli->card, 0, def, len);
	if (r == CS_OK) {
		out_verbose(cli, "using the default management key");
		return CLI_CONTINUE;
	}
	/* CS_ERR_ARG: the card's key is of another length (AES-128/256). */
	if (r != CS_ERR_AUTH && r != CS_ERR_ARG)
		return cli_card_fail(cli, r, "management key authentication",
		    "card removed during the operation; nothing was written");
	if (secret_have_tty()) {
		if ((code = mgm_given(cli, cs)) != CLI_CONTINUE)
			return code;
		return CLI_CONTINUE;
	}
	if (prot)
		return out_failf(cli, CS_ERR_AUTH,
		    "neither the PIN-protected "
		    "management key nor the default one authenticates (an "
		    "interrupted 'mgmt-key set' leaves the new key in its "
		    "--out-key-file): give it with --mgmt-key-fd, "
		    "--mgmt-key-file or --mgmt-key-env");
	return out_failf(cli, CS_ERR_AUTH,
	    "the card's management key is not "
	    "the default and not PIN-protected: give it with --mgmt-key-fd, "
	    "--mgmt-key-file or --mgmt-key-env");
}

int
cli_slot_arg(struct cli *cli, const char *arg, bool allow_f9, uint8_t *slot)
{
	int v;

	if (arg == NULL)
		return out_usage(cli,
		    "%s: --slot is required (9a, 9c, 9d, 9e "
		    "or a retired slot 82..95)",
		    cli->cmd->name);
	v = cs_piv_slot_parse(arg);
	if (v < 0 || v == CS_PIV_SLOT_MGM ||
	    (v == CS_PIV_SLOT_ATTEST && !allow_f9))
		return out_usage(cli,
		    "%s: --slot: '%s' is not a %sslot (9a, "
		    "9c, 9d, 9e, 82..95%s)",
		    cli->cmd->name, arg, allow_f9 ? "" : "key ",
		    allow_f9 ? ", f9" : "");
	*slot = (uint8_t)v;
	return CLI_CONTINUE;
}

const char *
cli_slot_str(uint8_t slot, char buf[3])
{
	snprintf(buf, 3, "%02x", slot);
	return buf;
}

const char *
cli_slot_name(uint8_t slot, char *buf, size_t cap)
{
	switch (slot) {
	case CS_PIV_SLOT_AUTH:
		return "authentication";
	case CS_PIV_SLOT_SIGN:
		return "digital signature";
	case CS_PIV_SLOT_KEYMGMT:
		return "key management";
	case CS_PIV_SLOT_CARDAUTH:
		return "card authentication";
	case CS_PIV_SLOT_ATTEST:
		return "attestation";
	default:
		if (slot >= CS_PIV_SLOT_RETIRED1 &&
		    slot <= CS_PIV_SLOT_RETIRED20) {
			snprintf(buf, cap, "retired %d",
			    slot - CS_PIV_SLOT_RETIRED1 + 1);
			return buf;
		}
		return "unknown";
	}
}

const char *
cli_pin_policy_str(uint8_t v)
{
	static const char *const names[] = { "default", "never", "once",
		"always", "match-once", "match-always" };

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}

const char *
cli_touch_policy_str(uint8_t v)
{
	static const char *const names[] = { "default", "never", "always",
		"cached" };

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}

const char *
cli_origin_str(uint8_t v)
{
	return v == 1 ? "generated" : v == 2 ? "imported" : "unknown";
}

#define ROOTS_FILE "yubico-piv-roots.pem"

const char *
cli_tree_path(const char *rel, char *buf, size_t cap)
{
	static const char *const ups[] = { "/../../", "/../../../" };
	char exe[PATH_MAX];
	char *slash;
	ssize_t n;
	size_t i;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return NULL;
	*slash = '\0';
	for (i = 0; i < sizeof(ups) / sizeof(ups[0]); i++) {
		if (snprintf(buf, cap, "%s%s%s", exe, ups[i], rel) >= (int)cap)
			continue;
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return NULL;
}

/* The shipped roots next to the executable in a source tree. */
static const char *
tree_roots(char *buf, size_t cap)
{
	return cli_tree_path("share/" ROOTS_FILE, buf, cap);
}

int
cli_trust_load(struct cli *cli, const char *path, struct cs_trust **out,
    const char **src)
{
	static char found[PATH_MAX + 64];
	struct cs_trust *t = NULL;
	const char *env = getenv("CARDSMITH_TRUST");
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((r = cs_trust_new(cli->ctx, &t)) != CS_OK)
		return out_fail(cli, r, "trust store");
	if (path != NULL) {
		*src = path;
		r = cs_trust_add_file(t, path, 0);
	} else if (env != NULL && *env != '\0') {
		*src = env;
		r = cs_trust_load_default(t, env);
	} else if (access(CS_DATADIR "/" ROOTS_FILE, R_OK) == 0 ||
	    tree_roots(found, sizeof(found)) == NULL) {
		*src = CS_DATADIR "/" ROOTS_FILE;
		r = cs_trust_load_default(t, NULL);
	} else {
		*src = found;
		r = cs_trust_load_default(t, found);
	}
	if (r == CS_OK && cs_trust_count(t, true) == 0) {
		cs_trust_free(t);
		return out_failf(cli, CS_ERR_ARG,
		    "trust store %s: no root "
		    "certificate (a self-signed CA) in it",
		    *src);
	}
	if (r != CS_OK) {
		cs_trust_free(t);
		return out_fail(cli, r, "trust store");
	}
	*out = t;
	return CLI_CONTINUE;
}

json_t *
cli_retries_json(const struct cs_piv_retries *rt, bool with_verified)
{
	json_t *o = json_object();

	if (o == NULL) {
		out_err("out of memory");
		exit(CLI_EXIT_FAIL);
	}
	out_set(o, "tries_left",
	    rt->remaining >= 0 ? json_integer(rt->remaining) : NULL);
	out_set(o, "tries_total",
	    rt->total >= 0 ? json_integer(rt->total) : NULL);
	out_set(o, "blocked", json_boolean(rt->remaining == 0));
	out_set(o, "default",
	    rt->known_default ? json_boolean(rt->is_default) : NULL);
	if (with_verified)
		out_set(o, "verified", json_boolean(rt->verified));
	return o;
}
