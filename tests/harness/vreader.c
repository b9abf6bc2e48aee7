/*
 * vreader: run a command against an isolated pcscd with virtual cards.
 * The binary behind scripts/with-virtual-reader.sh (same interface):
 *
 *   vreader [--ifd N] [--card CMD] [--card2 CMD] [--no-card] [--wait-card]
 *       [--] COMMAND [ARGS...]
 *
 * Starts a private pcscd + vpcd on free ports, runs the card command (a
 * `sh -c` string; default: the tiny test card) in slot 0 and CMD2 in
 * slot 1, waits until the started cards are present, then runs COMMAND
 * with PCSCLITE_CSOCK_NAME, CS_READER, CS_READER2, CS_VPCD_PORT,
 * CS_VPCD_PORT2 and CS_HARNESS_DIR exported. Exits with COMMAND's status
 * (128+N if it died of signal N); 125 if the harness itself failed, 77 if
 * pcscd or vpcd is not installed. Everything is torn down on exit, on
 * SIGINT/SIGTERM/SIGHUP, and (PR_SET_PDEATHSIG) if vreader is killed.
 *
 * --ifd N (1..8): N cardsmith-ifd readers instead of vpcd (harness.h);
 * CMD and CMD2 are the cards of readers 1 and 2 (CS_IFD_SOCKET set for
 * them; no card by default), and COMMAND also gets CS_IFD_N,
 * CS_IFD_SOCKET_K and CS_READER_K for K = 1..N, so it can insert
 * (`cardsmith-sim --socket $CS_IFD_SOCKET_K`) and remove (end that sim)
 * cards itself. 77 here means pcscd or the driver is missing.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support/harness.h"

#define VR_EXIT_HARNESS 125
#define VR_EXIT_SKIP 77
#define VR_CARD_WAIT_MS 10000u
#define VR_TERM_GRACE_MS 5000

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: with-virtual-reader.sh [--ifd N] [--card CMD] "
	    "[--card2 CMD] [--no-card] [--wait-card] [--] COMMAND [ARGS...]\n");
	exit(2);
}

static void
set_handlers(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn; /* no SA_RESTART: waitpid() sees EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* ifd mode: CS_IFD_N, CS_IFD_SOCKET[_K], CS_READER[_K], CS_READER2. */
static int
export_ifd_env(struct cs_harness *h)
{
	char name[32], v[16];
	int k, n = cs_harness_slots(h);

	snprintf(v, sizeof(v), "%d", n);
	if (setenv("CS_IFD_N", v, 1) != 0 ||
	    setenv("CS_IFD_SOCKET", cs_harness_ifd_socket(h, 0), 1) != 0 ||
	    setenv("CS_READER", cs_harness_reader(h, 0), 1) != 0 ||
	    (n > 1 && setenv("CS_READER2", cs_harness_reader(h, 1), 1) != 0))
		return -1;
	for (k = 1; k <= n; k++) {
		snprintf(name, sizeof(name), "CS_IFD_SOCKET_%d", k);
		if (setenv(name, cs_harness_ifd_socket(h, k - 1), 1) != 0)
			return -1;
		snprintf(name, sizeof(name), "CS_READER_%d", k);
		if (setenv(name, cs_harness_reader(h, k - 1), 1) != 0)
			return -1;
	}
	if (setenv("PCSCLITE_CSOCK_NAME", cs_harness_socket(h), 1) != 0 ||
	    setenv("CS_HARNESS_DIR", cs_harness_dir(h), 1) != 0)
		return -1;
	return 0;
}

static int
export_env(struct cs_harness *h)
{
	char p0[16], p1[16];

	if (cs_harness_is_ifd(h))
		return export_ifd_env(h);

	snprintf(p0, sizeof(p0), "%d", cs_harness_port(h, 0));
	snprintf(p1, sizeof(p1), "%d", cs_harness_port(h, 1));
	if (setenv("PCSCLITE_CSOCK_NAME", cs_harness_socket(h), 1) != 0 ||
	    setenv("CS_READER", cs_harness_reader(h, 0), 1) != 0 ||
	    setenv("CS_READER2", cs_harness_reader(h, 1), 1) != 0 ||
	    setenv("CS_VPCD_PORT", p0, 1) != 0 ||
	    setenv("CS_VPCD_PORT2", p1, 1) != 0 ||
	    setenv("CS_HARNESS_DIR", cs_harness_dir(h), 1) != 0)
		return -1;
	return 0;
}

static pid_t
spawn_command(char **argv)
{
	pid_t pid, parent = getpid();

	fflush(NULL);
	if ((pid = fork()) != 0)
		return pid;
	set_handlers(SIG_DFL);
	/* If vreader is SIGKILLed, the command hears about it too. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(VR_EXIT_HARNESS);
	execvp(argv[0], argv);
	fprintf(stderr, "with-virtual-reader: %s: %s\n", argv[0],
	    strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static unsigned long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long)ts.tv_sec * 1000ul +
	    (unsigned long)ts.tv_nsec / 1000000ul;
}

/*
 * Wait for the command. A signal is passed on; after SIGTERM/SIGHUP the
 * command gets VR_TERM_GRACE_MS before SIGKILL. SIGINT only is passed on
 * (an interactive shell ignores it and carries on).
 */
static int
wait_command(pid_t pid, int *sig_seen)
{
	struct timespec tick = { 0, 20 * 1000000L };
	unsigned long deadline = 0;
	int status, sig;
	pid_t w;

	*sig_seen = 0;
	for (;;) {
		w = waitpid(pid, &status, deadline != 0 ? WNOHANG : 0);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return VR_EXIT_HARNESS;
		if ((sig = got_signal) != 0) {
			got_signal = 0;
			*sig_seen = sig;
			(void)kill(pid, sig);
			if (sig != SIGINT && deadline == 0)
				deadline = now_ms() + VR_TERM_GRACE_MS;
		}
		if (deadline != 0) {
			if (now_ms() > deadline)
				(void)kill(pid, SIGKILL);
			nanosleep(&tick, NULL);
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return VR_EXIT_HARNESS;
}

struct opts {
	const char *card, *card2;
	bool no_card, wait_card;
	int ifd; /* 0: vpcd, else the number of cardsmith-ifd readers */
};

/* 1..CS_HARNESS_IFD_MAX, else -1. */
static int
parse_count(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 ||
	    v > CS_HARNESS_IFD_MAX)
		return -1;
	return (int)v;
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "card", required_argument, NULL, 'c' },
		{ "card2", required_argument, NULL, '2' },
		{ "no-card", no_argument, NULL, 'n' },
		{ "wait-card", no_argument, NULL, 'w' },
		{ "ifd", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	/* "+": options end at COMMAND, whose own options stay its own. */
	while ((ch = getopt_long(argc, argv, "+h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->card = optarg;
			break;
		case '2':
			o->card2 = optarg;
			break;
		case 'n':
			o->no_card = true;
			break;
		case 'w':
			o->wait_card = true;
			break;
		case 'i':
			o->ifd = parse_count(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind >= argc || (o->no_card && o->card != NULL) || o->ifd < 0 ||
	    (o->ifd == 1 && o->card2 != NULL))
		usage();
}

/* Start the cards and wait for them; 0 or an exit status. */
static int
start_cards(struct cs_harness *h, const struct opts *o)
{
	char def[4096], path[4096];
	const char *c0 = o->card;

	/* tinycard speaks only vpcd: an ifd harness has no default card. */
	if (!o->no_card && c0 == NULL && !cs_harness_is_ifd(h)) {
		if (cs_harness_tinycard_cmd(path, sizeof(path), NULL) !=
		        CS_OK ||
		    (size_t)snprintf(def, sizeof(def), "exec %s", path) >=
		        sizeof(def)) {
			fprintf(stderr,
			    "with-virtual-reader: tinycard not "
			    "found (run `make tests`)\n");
			return VR_EXIT_HARNESS;
		}
		c0 = def;
	}
	if (c0 != NULL && cs_harness_start_card(h, 0, c0) != CS_OK)
		return VR_EXIT_HARNESS;
	if (o->card2 != NULL && cs_harness_start_card(h, 1, o->card2) != CS_OK)
		return VR_EXIT_HARNESS;
	/* --wait-card is the default whenever a card was started. */
	if (c0 != NULL &&
	    cs_harness_wait_card(h, 0, true, VR_CARD_WAIT_MS) != CS_OK)
		return VR_EXIT_HARNESS;
	if (o->card2 != NULL &&
	    cs_harness_wait_card(h, 1, true, VR_CARD_WAIT_MS) != CS_OK)
		return VR_EXIT_HARNESS;
	return 0;
}

int
main(int argc, char **argv)
{
	struct cs_harness *h = NULL;
	struct opts o;
	char why[256];
	enum cs_err r;
	int rc = VR_EXIT_HARNESS, sig = 0;
	pid_t pid;

	parse_opts(argc, argv, &o);
	set_handlers(on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (!(o.ifd > 0 ? cs_harness_ifd_available(why, sizeof(why)) :
	        cs_harness_available(why, sizeof(why)))) {
		fprintf(stderr, "with-virtual-reader: %s\n", why);
		return VR_EXIT_SKIP;
	}
	r = o.ifd > 0 ? cs_harness_start_ifd(&h, o.ifd) : cs_harness_start(&h);
	if (r != CS_OK) {
		fprintf(stderr, "with-virtual-reader: harness failed: %s\n",
		    cs_strerror(r));
		return VR_EXIT_HARNESS;
	}
	if ((rc = start_cards(h, &o)) != 0 || (sig = got_signal) != 0)
		goto out;
	if (export_env(h) != 0) {
		rc = VR_EXIT_HARNESS;
		goto out;
	}
	if ((pid = spawn_command(argv + optind)) < 0) {
		rc = VR_EXIT_HARNESS;
		goto out;
	}
	signal(SIGPIPE, SIG_DFL);
	rc = wait_command(pid, &sig);
out:
	cs_harness_stop(h);
	if (rc == 0 && sig != 0)
		rc = 128 + sig;
	return rc;
}
