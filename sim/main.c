/*
 * cardsmith-sim: a virtual PIV card (YubiKey 5 flavour) served to pcscd
 * through the vsmartcard vpcd driver, or through cardsmith-ifd (sim/ifd/).
 *
 *   cardsmith-sim {--vpcd-port PORT [--vpcd-host HOST] | --socket PATH}
 *       --state FILE
 *       [--vendor DIR | --no-attestation] [--firmware X.Y.Z] [--serial N]
 *       [--latency none|real] [--touch-delay MS] [--fault SPEC]... [--f9-ca]
 *   cardsmith-sim init-vendor DIR
 *
 * Fault specs: drop-after=N (close the vpcd connection after N APDUs, then
 * reconnect: a pulled and re-inserted card), remove-after=N (the same, then
 * exit: the card stays away), sw=INS:SWHEX (answer every command with that
 * INS with that status word). --touch-delay MS holds the answer of an
 * operation that waits for the card's button (touch policy always or
 * cached) for MS milliseconds, as a user takes to touch it. --f9-ca: a
 * new card's F9 certificate is marked CA:TRUE, pathlen 0 (most fw 5
 * YubiKeys; the default is the 4.3/5.2 shape without basicConstraints).
 * --socket PATH connects to the unix socket of a cardsmith-ifd reader
 * (its reader.conf DEVICENAME) instead of vpcd's TCP port: same framing,
 * same faults and reconnects; the connection is the card being inserted.
 * Runs until SIGINT/SIGTERM.
 */
#include <errno.h>
#include <limits.h>
#include <popt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applet.h"
#include "simcrypto.h"
#include "simcrypto_ext.h"
#include "vpcd.h"

#include "banned.h"

#define PROG "cardsmith-sim"
#define MAX_SW_FAULTS 16
#define EXIT_USAGE 2
#define MAX_OWNED 64
#define TOUCH_DELAY_MAX 60000

struct sw_fault {
	uint8_t ins;
	uint16_t sw;
};

struct sim_opts {
	const char *host, *state, *vendor;
	const char *socket; /* --socket: a cardsmith-ifd reader */
	int port;
	bool no_attest, latency, fw_set, serial_set, f9_ca;
	unsigned long touch_delay; /* ms, 0: none */
	uint8_t fw[3];
	uint32_t serial;
	unsigned long drop_after, remove_after;
	struct sw_fault faults[MAX_SW_FAULTS];
	size_t nfaults;
	char *owned[MAX_OWNED]; /* option strings from popt, freed at exit */
	size_t nowned;
};

struct server {
	struct sim_card *card;
	const struct sim_opts *o;
	bool save_failed;
	bool trace; /* CARDSMITH_SIM_TRACE=1: APDUs to stderr */
	bool redact_resp;
};

static volatile int stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_flag)
		;
}

static bool
parse_ulong(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	*v = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *v <= max;
}

static bool
parse_fw(const char *s, uint8_t fw[3])
{
	unsigned int a, b, c;
	char extra;

	if (sscanf(s, "%u.%u.%u%c", &a, &b, &c, &extra) != 3 || a > 255 ||
	    b > 255 || c > 255)
		return false;
	fw[0] = (uint8_t)a;
	fw[1] = (uint8_t)b;
	fw[2] = (uint8_t)c;
	return true;
}

static bool
parse_fault(struct sim_opts *o, const char *spec)
{
	unsigned int ins, sw;
	char extra;

	if (strncmp(spec, "drop-after=", 11) == 0)
		return parse_ulong(spec + 11, ULONG_MAX, &o->drop_after) &&
		    o->drop_after > 0;
	if (strncmp(spec, "remove-after=", 13) == 0)
		return parse_ulong(spec + 13, ULONG_MAX, &o->remove_after) &&
		    o->remove_after > 0;
	if (strncmp(spec, "sw=", 3) != 0 || o->nfaults >= MAX_SW_FAULTS)
		return false;
	if (sscanf(spec + 3, "%x:%x%c", &ins, &sw, &extra) != 2 ||
	    ins > 0xFF || sw > 0xFFFF)
		return false;
	o->faults[o->nfaults].ins = (uint8_t)ins;
	o->faults[o->nfaults].sw = (uint16_t)sw;
	o->nfaults++;
	return true;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " {--vpcd-port PORT [--vpcd-host HOST] | "
	    "--socket PATH} --state FILE\n"
	    "           [--vendor DIR | --no-attestation] [--firmware X.Y.Z]\n"
	    "           [--serial N] [--latency none|real] [--touch-delay MS]\n"
	    "           [--fault SPEC]... [--f9-ca]\n"
	    "       " PROG " init-vendor DIR\n"
	    "fault SPEC: drop-after=N | remove-after=N | sw=INS:SWHEX\n"
	    "--f9-ca: a new card's F9 certificate is CA:TRUE, pathlen 0\n");
}

enum { OPT_PORT = 1, OPT_HOST, OPT_STATE, OPT_VENDOR, OPT_NOATT, OPT_FW,
	OPT_SERIAL, OPT_LATENCY, OPT_FAULT, OPT_HELP, OPT_TOUCH, OPT_F9CA,
	OPT_SOCKET };

static bool
apply_opt(struct sim_opts *o, int rc, const char *arg)
{
	unsigned long v;

	if (arg == NULL && rc != OPT_NOATT && rc != OPT_F9CA)
		return false;
	switch (rc) {
	case OPT_PORT:
		if (!parse_ulong(arg, 65535, &v) || v == 0)
			return false;
		o->port = (int)v;
		return true;
	case OPT_HOST:
		o->host = arg;
		return true;
	case OPT_STATE:
		o->state = arg;
		return true;
	case OPT_SOCKET:
		o->socket = arg;
		return arg[0] != '\0';
	case OPT_VENDOR:
		o->vendor = arg;
		return true;
	case OPT_NOATT:
		o->no_attest = true;
		return true;
	case OPT_F9CA:
		o->f9_ca = true;
		return true;
	case OPT_FW:
		return (o->fw_set = parse_fw(arg, o->fw));
	case OPT_SERIAL:
		if (!parse_ulong(arg, UINT32_MAX, &v))
			return false;
		o->serial = (uint32_t)v;
		return (o->serial_set = true);
	case OPT_LATENCY:
		if (strcmp(arg, "none") != 0 && strcmp(arg, "real") != 0)
			return false;
		o->latency = strcmp(arg, "real") == 0;
		return true;
	case OPT_FAULT:
		return parse_fault(o, arg);
	case OPT_TOUCH:
		return parse_ulong(arg, TOUCH_DELAY_MAX, &o->touch_delay);
	default:
		return false;
	}
}

static const char *
opt_name(const struct poptOption *opts, int val)
{
	for (; opts->longName != NULL; opts++)
		if (opts->val == val)
			return opts->longName;
	return "?";
}

/* Returns -1 to continue, else an exit code. */
static int
parse_args(int argc, const char **argv, struct sim_opts *o)
{
	struct poptOption opts[] = {
		{ "vpcd-port", 0, POPT_ARG_STRING, NULL, OPT_PORT, NULL, NULL },
		{ "vpcd-host", 0, POPT_ARG_STRING, NULL, OPT_HOST, NULL, NULL },
		{ "state", 0, POPT_ARG_STRING, NULL, OPT_STATE, NULL, NULL },
		{ "socket", 0, POPT_ARG_STRING, NULL, OPT_SOCKET, NULL, NULL },
		{ "vendor", 0, POPT_ARG_STRING, NULL, OPT_VENDOR, NULL, NULL },
		{ "no-attestation", 0, POPT_ARG_NONE, NULL, OPT_NOATT, NULL,
		    NULL },
		{ "firmware", 0, POPT_ARG_STRING, NULL, OPT_FW, NULL, NULL },
		{ "serial", 0, POPT_ARG_STRING, NULL, OPT_SERIAL, NULL, NULL },
		{ "latency", 0, POPT_ARG_STRING, NULL, OPT_LATENCY, NULL,
		    NULL },
		{ "fault", 0, POPT_ARG_STRING, NULL, OPT_FAULT, NULL, NULL },
		{ "touch-delay", 0, POPT_ARG_STRING, NULL, OPT_TOUCH, NULL,
		    NULL },
		{ "f9-ca", 0, POPT_ARG_NONE, NULL, OPT_F9CA, NULL, NULL },
		{ "help", 'h', POPT_ARG_NONE, NULL, OPT_HELP, NULL, NULL },
		POPT_TABLEEND,
	};
	poptContext pc;
	int rc, ret = -1;
	char *arg;

	pc = poptGetContext(PROG, argc, argv, opts, POPT_CONTEXT_POSIXMEHARDER);
	while (ret == -1 && (rc = poptGetNextOpt(pc)) > 0) {
		if (rc == OPT_HELP) {
			usage(stdout);
			ret = 0;
			break;
		}
		arg = poptGetOptArg(pc);
		if (arg != NULL && o->nowned < MAX_OWNED)
			o->owned[o->nowned++] = arg;
		else if (arg != NULL) {
			free(arg);
			arg = NULL;
		}
		if (!apply_opt(o, rc, arg)) {
			fprintf(stderr, PROG ": invalid value for --%s\n",
			    opt_name(opts, rc));
			ret = EXIT_USAGE;
		}
	}
	if (ret == -1 && rc < -1) {
		fprintf(stderr, PROG ": %s: %s\n", poptBadOption(pc, 0),
		    poptStrerror(rc));
		ret = EXIT_USAGE;
	}
	if (ret == -1 && poptPeekArg(pc) != NULL) {
		fprintf(stderr, PROG ": unexpected argument %s\n",
		    poptPeekArg(pc));
		ret = EXIT_USAGE;
	}
	poptFreeContext(pc);
	if (ret == EXIT_USAGE)
		usage(stderr);
	return ret;
}

static void
free_opts(struct sim_opts *o)
{
	size_t i;

	for (i = 0; i < o->nowned; i++)
		free(o->owned[i]);
	o->nowned = 0;
}

static int
check_opts(const struct sim_opts *o)
{
	if ((o->port == 0) == (o->socket == NULL) || o->state == NULL) {
		fprintf(stderr, PROG ": --state and one of --vpcd-port or "
		    "--socket are required\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o->socket != NULL && o->host != NULL) {
		fprintf(stderr, PROG ": --vpcd-host needs --vpcd-port\n");
		return EXIT_USAGE;
	}
	if (o->vendor != NULL && o->no_attest) {
		fprintf(stderr,
		    PROG ": --vendor and --no-attestation exclude each other\n");
		return EXIT_USAGE;
	}
	return -1;
}

/* --- card setup --- */

static bool
issue_f9(struct sim_card *card, const char *vendor, bool f9_ca)
{
	struct sim_device_info dev;
	struct sim_key *key = NULL;
	uint8_t *cert = NULL;
	size_t certlen = 0;
	uint32_t fw = sim_card_fw(card);
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&dev, 0, sizeof(dev));
	dev.fw[0] = (uint8_t)(fw >> 16);
	dev.fw[1] = (uint8_t)(fw >> 8);
	dev.fw[2] = (uint8_t)fw;
	dev.serial = sim_card_serial(card);
	dev.form_factor = 0x01;
	dev.f9_ca = f9_ca;
	if ((r = sim_vendor_issue_f9(vendor, &dev, &key, &cert, &certlen)) !=
	    CS_OK) {
		fprintf(stderr, PROG ": vendor CA %s: %s (%s)\n", vendor,
		    sim_crypto_errmsg(), cs_strerror(r));
		return false;
	}
	r = sim_card_set_attestation(card, key, cert, certlen);
	cs_free(cert);
	if (r != CS_OK) {
		fprintf(stderr, PROG ": cannot install attestation key: %s\n",
		    cs_strerror(r));
		return false;
	}
	return true;
}

static bool
save(struct server *s)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = sim_state_save(s->card, s->o->state)) != CS_OK) {
		fprintf(stderr, PROG ": cannot save state to %s: %s\n",
		    s->o->state, cs_strerror(r));
		s->save_failed = true;
		return false;
	}
	return true;
}

static struct sim_card *
fresh_card(const struct sim_opts *o)
{
	struct sim_card_config cfg;
	struct sim_card *card;

	if (o->vendor == NULL && !o->no_attest) {
		fprintf(stderr, PROG ": %s does not exist: a new card needs "
		    "--vendor DIR (or --no-attestation)\n", o->state);
		return NULL;
	}
	memcpy(cfg.fw, o->fw, sizeof(cfg.fw));
	cfg.serial = o->serial;
	if (sim_card_new(&cfg, &card) != CS_OK) {
		fprintf(stderr, PROG ": out of memory\n");
		return NULL;
	}
	if (o->vendor != NULL && !issue_f9(card, o->vendor, o->f9_ca)) {
		sim_card_free(card);
		return NULL;
	}
	return card;
}

static void
warn_identity(const struct sim_card *card, const struct sim_opts *o)
{
	uint32_t fw = ((uint32_t)o->fw[0] << 16) | ((uint32_t)o->fw[1] << 8) |
	    o->fw[2];

	if ((o->fw_set && fw != sim_card_fw(card)) ||
	    (o->serial_set && o->serial != sim_card_serial(card)))
		fprintf(stderr, PROG ": %s: firmware/serial are those of the "
		    "saved card; --firmware/--serial ignored\n", o->state);
}

static int
open_card(struct server *s)
{
	const struct sim_opts *o = s->o;
	const char *why = "";
	enum cs_err r = CS_ERR_INTERNAL;
	bool dirty = false;

	r = sim_state_load(o->state, &s->card, &why);
	if (r == CS_ERR_NOT_FOUND) {
		if ((s->card = fresh_card(o)) == NULL)
			return 1;
		dirty = true;
	} else if (r != CS_OK) {
		fprintf(stderr, PROG ": state file %s: %s (%s); refusing to "
		    "start (remove it to get a factory-fresh card)\n",
		    o->state, why, cs_strerror(r));
		return 1;
	} else {
		warn_identity(s->card, o);
		if (o->vendor != NULL && !sim_card_has_attestation(s->card)) {
			if (!issue_f9(s->card, o->vendor, o->f9_ca))
				return 1;
			dirty = true;
		}
	}
	sim_card_enable_attestation(s->card, !o->no_attest);
	if (dirty && !save(s))
		return 1;
	return -1;
}

/* --- serving --- */

static void
card_power(void *self, enum sim_vpcd_ctrl what)
{
	struct server *s = self;

	sim_card_power(s->card);
}

static bool
sw_fault(const struct server *s, const uint8_t *cmd, size_t len,
    uint8_t *resp, size_t cap, size_t *resplen)
{
	size_t i;

	if (len < 4 || cap < 2)
		return false;
	for (i = 0; i < s->o->nfaults; i++) {
		if (s->o->faults[i].ins != cmd[1])
			continue;
		resp[0] = (uint8_t)(s->o->faults[i].sw >> 8);
		resp[1] = (uint8_t)s->o->faults[i].sw;
		*resplen = 2;
		return true;
	}
	return false;
}

/* GET/PUT DATA of 5FC109, where ykman keeps the management key. */
static bool
touches_protected(const uint8_t *cmd, size_t len)
{
	static const uint8_t tag[5] = { 0x5C, 0x03, 0x5F, 0xC1, 0x09 };
	size_t i;

	if (len < 4 || (cmd[1] != 0xCB && cmd[1] != 0xDB))
		return false;
	for (i = 4; i + sizeof(tag) <= len && i < 8; i++)
		if (cs_memeq_public(cmd + i, tag, sizeof(tag)))
			return true;
	return false;
}

/* Secrets stay out of the trace (STYLE.md §6). */
static bool
is_secret_cmd(const uint8_t *cmd, size_t len)
{
	return len >= 4 && (cmd[1] == 0x20 || cmd[1] == 0x24 ||
	    cmd[1] == 0x2C || cmd[1] == 0xFF || cmd[1] == 0xFE ||
	    (cmd[1] == 0x87 && cmd[3] == 0x9B) || touches_protected(cmd, len));
}

static void
trace(const char *dir, const uint8_t *p, size_t len, bool redact)
{
	size_t i, n = redact && len > 5 ? 5 : len;

	if (redact && *dir == '<') /* keep only the SW of answers */
		n = len >= 2 ? 0 : len;

	fprintf(stderr, PROG ": %s", dir);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %02X", p[i]);
	if (n < len && *dir == '<')
		fprintf(stderr, " [redacted %zu bytes] %02X %02X", len - 2,
		    p[len - 2], p[len - 1]);
	else if (n < len)
		fprintf(stderr, " [redacted %zu bytes]", len - n);
	fputc('\n', stderr);
}

static void
card_apdu(void *self, const uint8_t *cmd, size_t len, uint8_t *resp,
    size_t cap, size_t *resplen)
{
	struct server *s = self;

	if (s->trace) {
		trace(">", cmd, len, is_secret_cmd(cmd, len));
		/* GET RESPONSE continues whatever the previous answer was */
		if (len < 2 || cmd[1] != 0xC0)
			s->redact_resp = touches_protected(cmd, len) ||
			    (len >= 4 && cmd[1] == 0x87 && cmd[3] == 0x9B);
	}
	if (!sw_fault(s, cmd, len, resp, cap, resplen))
		sim_card_apdu(s->card, cmd, len, resp, cap, resplen);
	if (s->trace)
		trace("<", resp, *resplen, s->redact_resp);
	if (sim_card_take_dirty(s->card))
		(void)save(s);
	if (s->o->latency)
		sleep_ms(sim_card_last_cost_ms(s->card));
	if (s->o->touch_delay > 0 && sim_card_waited_touch(s->card))
		sleep_ms((unsigned int)s->o->touch_delay);
}

static int
serve(struct server *s)
{
	const struct sim_opts *o = s->o;
	struct sim_vpcd_card vc = { s, sim_card_atr, sizeof(sim_card_atr),
		card_power, card_apdu };
	unsigned long drop = o->remove_after > 0 ? o->remove_after :
	    o->drop_after;
	enum cs_err r = CS_ERR_INTERNAL;

	while (!stop_flag) {
		if (o->socket != NULL)
			r = sim_vpcd_serve_socket(o->socket, &vc, &stop_flag,
			    drop);
		else
			r = sim_vpcd_serve(o->host, o->port, &vc, &stop_flag,
			    drop);
		if (stop_flag)
			break;
		sim_card_power(s->card);
		if (r == CS_OK && drop > 0) {
			if (o->remove_after > 0) {
				fprintf(stderr, PROG ": card removed after %lu "
				    "APDUs (fault injection)\n", drop);
				break;
			}
			drop = 0; /* pulled once, then re-inserted */
			sleep_ms(500);
			continue;
		}
		/* reader not there or connection lost: retry */
		sleep_ms(200);
	}
	return s->save_failed ? 1 : 0;
}

static int
init_vendor(int argc, const char **argv)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if (argc != 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((r = sim_vendor_init(argv[2])) != CS_OK) {
		fprintf(stderr, PROG ": init-vendor %s: %s (%s)\n", argv[2],
		    sim_crypto_errmsg(), cs_strerror(r));
		return 1;
	}
	return 0;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
}

int
main(int argc, const char **argv)
{
	struct sim_opts o;
	struct server s;
	int ret;

	memset(&o, 0, sizeof(o));
	memset(&s, 0, sizeof(s));
	o.fw[0] = 5, o.fw[1] = 4, o.fw[2] = 3;
	o.serial = 12345678;
	if (argc >= 2 && strcmp(argv[1], "init-vendor") == 0)
		return init_vendor(argc, argv);
	if ((ret = parse_args(argc, argv, &o)) != -1 ||
	    (ret = check_opts(&o)) != -1) {
		free_opts(&o);
		return ret;
	}
	s.o = &o;
	s.trace = getenv("CARDSMITH_SIM_TRACE") != NULL;
	install_signals();
	if ((ret = open_card(&s)) == -1)
		ret = serve(&s);
	sim_card_free(s.card);
	free_opts(&o);
	return ret;
}
