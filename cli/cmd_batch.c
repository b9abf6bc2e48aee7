/*
 * cardsmith batch: provision the cards of a roster over up to 8 readers
 * (issue 10), each card through cs_enroll_card.
 *
 * One process per card in progress, forked by a parent that only waits
 * for cards (cs_pcsc_watch), writes the JSON lines and reaps workers.
 * Processes rather than threads: a worker that crashes or hangs on a
 * dead card takes nothing else with it, and every worker has its own
 * cs_ca (SQLite connection) as SQLite wants, opened after the fork; the
 * serial pool and the batch_rows bind already cope with several writers.
 * The parent reads the CA passphrase once, checks it by unlocking its
 * own cs_ca, and the workers inherit it in memory.
 *
 * Crash safety: the worker binds its card to a row in the registry (one
 * transaction) before anything is written to the card, and writes the
 * row's new PIN and PUK to --secrets-out (fsynced) before the enrollment
 * starts. A rerun skips done rows, resumes a bound row when its card
 * comes back (cs_enroll_card continues), and gives pending rows to new
 * cards.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cardsmith/batch.h"
#include "cardsmith/pcsc.h"
#include "cardsmith/piv.h"
#include "cardsmith/roster.h"

#include "ca_common.h"
#include "enroll_common.h"
#include "exit.h"
#include "out.h"
#include "secret.h"

#include "banned.h"

/* Readers one batch drives. */
#define BATCH_READERS_MAX 8
/* How long one wait for cards blocks before the signal flag is checked. */
#define BATCH_WAIT_MS 500u

static const struct cli_usage batch_usage = {
	"--dir CA_DIR ROSTER.csv --out RESULTS.jsonl --secrets-out FILE\n"
	"        [--readers all|LIST] [--jobs N] [--pass-env NAME]\n"
	"        [--max-cards N] [--timeout SECONDS] [--secrets-in FILE]",
	"Provision the cards of a roster (CSV with a header row: id, cn, email,"
	"\nprofile_set; optional subject, serial). The roster is checked first:"
	"\na bad one is refused with line-numbered problems and nothing is "
	"written.\nThen batch waits for cards in the chosen readers (--readers"
	" all, or a\ncomma-separated list of reader numbers or name parts), "
	"binds each newly\ninserted card to the next pending row (recorded in "
	"the registry before the\ncard changes) and enrolls it in a worker "
	"process of its own, up to --jobs\nat once. Each card gets a random "
	"8-digit PIN and PUK, written with the row\nid and card serial to "
	"--secrets-out (created new, mode 0600; required)\nbefore the card "
	"changes; never to standard output, the results or a log.\n\n"
	"One JSON line per card goes to --out (appended, fsynced per line): "
	"row,\ncard_serial, certs, status (done, resumed, skipped, refused, "
	"failed),\nerror; then {\"summary\":{...}}; a human summary goes to "
	"standard error.\nRunning it again on the same roster skips done rows "
	"and resumes half-done\nones when their card is inserted again (give "
	"the earlier secrets file with\n--secrets-in when the PIN was already "
	"changed). A card bound or enrolled\nfor another row is refused and "
	"the next card awaited. The run ends when no\nrow is left to do, after"
	" --max-cards cards, after --timeout seconds without\na card, or on "
	"SIGINT/SIGTERM (cards in progress are finished first).\nExit 0 if no "
	"card failed, 1 if one did.",
	"  cardsmith batch --dir /srv/ca staff.csv --out staff.jsonl \\\n"
	"      --secrets-out staff.secrets --pass-env CA_PASS --readers all",
};

enum reader_state {
	RD_IDLE = 0,   /* waiting for a card */
	RD_BUSY,       /* a worker has the card */
	RD_WAIT_REMOVE /* done with the card: wait until it is taken out */
};

struct rd {
	struct cs_pcsc_watch_reader w;
	enum reader_state st;
	pid_t pid;
	int resfd; /* read end of the worker's result pipe */
};

/* What a worker sends back (one write on a pipe, under PIPE_BUF). */
struct result {
	char id[CS_ROSTER_ID_MAX + 1];
	bool have_card;
	uint64_t card;
	char status[16];
	char certs[512];
	char error[200];
};

struct batch {
	struct cli *cli;
	char *out_path, *secrets_out, *secrets_in, *readers;
	int jobs, max_cards, timeout;
	char digest[CS_BATCH_DIGEST_HEX];
	struct secret pass;
	int outfd, secfd;
	struct rd rd[BATCH_READERS_MAX];
	size_t nrd;
	size_t cards, done, skipped, refused, failed;
	bool tty; /* standard error is a terminal: a live status line */
};

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* --- the results file --- */

/* One JSON line, written and fsynced (a crash keeps every line before). */
static void
write_line(struct batch *b, json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT);
	size_t n;

	json_decref(doc);
	if (s == NULL) {
		out_err("batch: out of memory");
		return;
	}
	n = strlen(s);
	s[n] = '\n';
	if (write(b->outfd, s, n + 1) != (ssize_t)(n + 1) ||
	    fsync(b->outfd) != 0)
		out_err("batch: --out %s: %s", b->out_path, strerror(errno));
	free(s);
}

static json_t *
certs_array(const char *certs)
{
	json_t *a = json_array();
	char buf[sizeof(((struct result *)0)->certs)];
	char *p, *save = NULL;

	if (a == NULL)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", certs);
	for (p = strtok_r(buf, ",", &save); p != NULL;
	     p = strtok_r(NULL, ",", &save))
		out_append(a, out_str(p));
	return a;
}

static void
result_line(struct batch *b, const struct result *res, const char *reader)
{
	json_t *doc = json_object();

	if (doc == NULL)
		return;
	out_set(doc, "row", res->id[0] != '\0' ? out_str(res->id) : NULL);
	out_set(doc, "card_serial",
	    res->have_card ? json_integer((json_int_t)res->card) : NULL);
	out_set(doc, "reader", reader != NULL ? out_str(reader) : NULL);
	out_set(doc, "status", out_str(res->status));
	out_set(doc, "certs", certs_array(res->certs));
	out_set(doc, "error",
	    res->error[0] != '\0' ? out_str(res->error) : NULL);
	write_line(b, doc);
}

/* --- the roster --- */

static void
problem(void *arg, unsigned long line, const char *reason)
{
	const char *path = arg;

	out_err("batch: %s:%lu: %s", path, line, reason);
}

/* "CN=" and cn with the RFC 4514 specials escaped, into dst. */
static bool
cn_subject(const char *cn, char *dst, size_t cap)
{
	size_t o = 0;
	const char *p;

	if (cap < 4)
		return false;
	memcpy(dst, "CN=", 3);
	o = 3;
	for (p = cn; *p != '\0'; p++) {
		bool esc = strchr(",+\"\\<>;=", *p) != NULL ||
		    (p == cn && (*p == '#' || *p == ' ')) ||
		    (p[1] == '\0' && *p == ' ');

		if (o + 3 >= cap)
			return false;
		if (esc)
			dst[o++] = '\\';
		dst[o++] = *p;
	}
	dst[o] = '\0';
	return true;
}

/*
 * Check the roster fully (problems with their lines, nothing written on
 * failure) and every row's profile set.
 */
static int
roster_check(struct batch *b, const char *path)
{
	struct cli *cli = b->cli;
	struct cs_roster *ro = NULL;
	struct cs_roster_row row;
	struct cs_profileset set;
	char last[CS_PROFILESET_NAME_MAX] = "";
	enum cs_err r = CS_ERR_INTERNAL;
	int code = CLI_CONTINUE;

	if ((r = cs_roster_open(cli->ctx, path, 0, &ro)) != CS_OK)
		return out_fail(cli, r, "batch: roster");
	r = cs_roster_check(cli->ctx, ro, problem, (void *)path, NULL, NULL);
	cs_roster_close(ro);
	ro = NULL;
	if (r != CS_OK)
		return out_failf(cli, r,
		    "batch: roster refused (%s); nothing was written",
		    cs_ctx_errmsg(cli->ctx));
	if ((r = cs_roster_open(cli->ctx, path, 0, &ro)) != CS_OK)
		return out_fail(cli, r, "batch: roster");
	while ((r = cs_roster_next(cli->ctx, ro, &row)) == CS_OK) {
		if (strcmp(last, row.profile_set) == 0)
			continue;
		if ((code = enroll_load_set(cli, row.profile_set, &set)) !=
		    CLI_CONTINUE) {
			out_err("batch: %s:%lu: profile set %s; nothing was "
			        "written",
			    path, row.line, row.profile_set);
			goto out;
		}
		snprintf(last, sizeof(last), "%s", row.profile_set);
	}
	if (r != CS_ERR_NOT_FOUND)
		code = out_fail(cli, r, "batch: roster");
out:
	cs_roster_close(ro);
	return code;
}

/* Record every row (pending unless known) and report the done ones. */
static int
roster_load(struct batch *b, const char *path, size_t *todo)
{
	struct cli *cli = b->cli;
	struct cs_roster *ro = NULL;
	struct cs_roster_row row;
	struct cs_batch_row br, cur;
	struct result res;
	enum cs_err r = CS_ERR_INTERNAL;
	int code = CLI_CONTINUE;

	*todo = 0;
	if ((r = cs_roster_open(cli->ctx, path, 0, &ro)) != CS_OK)
		return out_fail(cli, r, "batch: roster");
	while ((r = cs_roster_next(cli->ctx, ro, &row)) == CS_OK) {
		memset(&br, 0, sizeof(br));
		snprintf(br.roster, sizeof(br.roster), "%s", b->digest);
		snprintf(br.id, sizeof(br.id), "%s", row.id);
		br.seq = (int64_t)row.line;
		if (row.subject != NULL)
			snprintf(br.subject, sizeof(br.subject), "%s",
			    row.subject);
		else if (!cn_subject(row.cn, br.subject, sizeof(br.subject))) {
			code = out_failf(cli, CS_ERR_LIMIT,
			    "batch: %s:%lu: cn too long", path, row.line);
			goto out;
		}
		snprintf(br.email, sizeof(br.email), "%s", row.email);
		snprintf(br.profile_set, sizeof(br.profile_set), "%s",
		    row.profile_set);
		br.has_want = row.has_serial;
		br.want_serial = row.serial;
		if ((r = cs_batch_add(cli->ca, &br)) != CS_OK ||
		    (r = cs_batch_get(cli->ca, b->digest, br.id, &cur)) !=
		        CS_OK) {
			code = out_fail(cli, r, "batch: registry");
			goto out;
		}
		if (cur.state != CS_BATCH_DONE) {
			(*todo)++;
			continue;
		}
		/* Done by an earlier run: one line, nothing touched. */
		memset(&res, 0, sizeof(res));
		snprintf(res.id, sizeof(res.id), "%s", cur.id);
		res.have_card = cur.bound;
		res.card = cur.card_serial;
		snprintf(res.status, sizeof(res.status), "skipped");
		snprintf(res.certs, sizeof(res.certs), "%s", cur.certs);
		result_line(b, &res, NULL);
		b->skipped++;
	}
	if (r != CS_ERR_NOT_FOUND)
		code = out_fail(cli, r, "batch: roster");
out:
	cs_roster_close(ro);
	return code;
}

/* --- secrets --- */

/*
 * The PIN and PUK an earlier run wrote for row id and card into
 * --secrets-in ("row=ID card=N pin=P puk=Q" lines); false if none.
 */
static bool
earlier_secrets(const struct batch *b, const char *id, uint64_t card,
    char pin[9], char puk[9])
{
	char line[256], want[128];
	bool found = false;
	FILE *f;
	int n;

	if (b->secrets_in == NULL ||
	    (f = fopen(b->secrets_in, "re")) == NULL)
		return false;
	n = snprintf(want, sizeof(want), "row=%s card=%llu pin=", id,
	    (unsigned long long)card);
	while (n > 0 && fgets(line, sizeof(line), f) != NULL) {
		char *p, *q;

		if (strncmp(line, want, (size_t)n) != 0)
			continue;
		p = line + n;
		if ((q = strstr(p, " puk=")) == NULL || q - p != 8 ||
		    strlen(q + 5) < 8)
			continue;
		memcpy(pin, p, 8);
		pin[8] = '\0';
		memcpy(puk, q + 5, 8);
		puk[8] = '\0';
		found = true; /* the last line wins: the latest attempt */
	}
	cs_wipe(line, sizeof(line));
	fclose(f);
	return found;
}

static bool
write_secrets(const struct batch *b, const char *id, uint64_t card,
    const char *pin, const char *puk)
{
	char line[160];
	int n;
	bool ok;

	n = snprintf(line, sizeof(line), "row=%s card=%llu pin=%s puk=%s\n",
	    id, (unsigned long long)card, pin, puk);
	/* One write on an O_APPEND file: lines of workers never mix. */
	ok = n > 0 && (size_t)n < sizeof(line) &&
	    write(b->secfd, line, (size_t)n) == (ssize_t)n &&
	    fsync(b->secfd) == 0;
	cs_wipe(line, sizeof(line));
	return ok;
}

/* --- a worker: one card --- */

static void
fail_res(struct result *res, const char *status, struct cs_ctx *ctx,
    const char *what)
{
	snprintf(res->status, sizeof(res->status), "%s", status);
	snprintf(res->error, sizeof(res->error), "%s%s%s", what,
	    ctx != NULL ? ": " : "", ctx != NULL ? cs_ctx_errmsg(ctx) : "");
}

static void
worker(struct batch *b, const char *reader, struct result *res)
{
	struct cli *cli = b->cli;
	struct cs_ctx *ctx = cli->ctx;
	struct cs_transport *t = NULL;
	struct cs_card *card = NULL;
	struct cs_card_info info;
	struct cs_ca *ca = NULL;
	struct cs_batch_row row;
	struct cs_profileset set;
	struct cs_enroll_record rec;
	struct cs_enroll_req req;
	struct cs_enroll_result er;
	enum cs_batch_how how = CS_BATCH_NEW;
	char pin[9], puk[9], certs[sizeof(res->certs)];
	bool earlier = false;
	size_t nsl = 0, i, o = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(pin, 0, sizeof(pin));
	memset(puk, 0, sizeof(puk));
	memset(&er, 0, sizeof(er));
	if ((r = cs_pcsc_open(ctx, reader, CS_PCSC_EXCLUSIVE, &t)) != CS_OK) {
		fail_res(res, "failed", ctx, "open the card");
		goto out;
	}
	if ((r = cs_card_open(ctx, t, CS_CARD_EXCLUSIVE, &card)) != CS_OK) {
		cs_transport_close(t);
		fail_res(res, "failed", ctx, "open the card");
		goto out;
	}
	cs_card_get_info(card, &info);
	if (!info.has_serial) {
		fail_res(res, "refused", NULL, "the card has no serial number");
		goto out;
	}
	res->have_card = true;
	res->card = info.serial;
	if ((r = cs_ca_open(ctx, cli->ca_dir, &ca)) != CS_OK ||
	    (r = cs_ca_unlock(ca, b->pass.s, b->pass.len)) != CS_OK) {
		fail_res(res, "failed", ctx, "open the CA");
		goto out;
	}
	/* The binding, committed before anything is written to the card. */
	if ((r = cs_batch_bind(ca, b->digest, info.serial, &row, &how)) !=
	    CS_OK) {
		fail_res(res, "refused", ctx, "bind");
		goto out;
	}
	snprintf(res->id, sizeof(res->id), "%s", row.id);
	if (how == CS_BATCH_ALREADY) {
		snprintf(res->status, sizeof(res->status), "skipped");
		snprintf(res->certs, sizeof(res->certs), "%s", row.certs);
		goto out;
	}
	if (enroll_load_set(cli, row.profile_set, &set) != CLI_CONTINUE) {
		fail_res(res, "failed", NULL, "profile set");
		goto finish;
	}
	/*
	 * A resumed card whose PIN was changed needs the PIN and PUK the
	 * earlier run wrote; before that point fresh ones are fine.
	 */
	if (how == CS_BATCH_RESUME &&
	    cs_enroll_state_get(ca, info.serial, &rec, NULL, 0, &nsl) == CS_OK &&
	    rec.state >= CS_ENROLL_ST_PIN) {
		if (!earlier_secrets(b, row.id, info.serial, pin, puk)) {
			fail_res(res, "failed", NULL,
			    "resuming needs the PIN and PUK of the earlier run "
			    "(--secrets-in FILE)");
			goto finish;
		}
		earlier = true;
	}
	if (!earlier) {
		if (cs_enroll_random_digits(NULL, pin, 8) != CS_OK ||
		    cs_enroll_random_digits(NULL, puk, 8) != CS_OK) {
			fail_res(res, "failed", NULL, "no randomness");
			goto finish;
		}
		if (!write_secrets(b, row.id, info.serial, pin, puk)) {
			fail_res(res, "failed", NULL,
			    "cannot write --secrets-out; the card was not "
			    "changed");
			goto finish;
		}
	}
	memset(&req, 0, sizeof(req));
	req.set = &set;
	req.subject = row.subject;
	req.email = row.email[0] != '\0' ? row.email : NULL;
	if (earlier) {
		req.pin = pin;
		req.pin_len = 8;
	}
	req.new_pin = pin;
	req.new_pin_len = 8;
	req.puk = puk;
	req.puk_len = 8;
	r = cs_enroll_card(ctx, ca, card, &req, &er);
	if (r != CS_OK) {
		fail_res(res, "failed", ctx, "enroll");
		goto finish;
	}
	certs[0] = '\0';
	for (i = 0; i < er.nslots; i++) {
		int n = snprintf(certs + o, sizeof(certs) - o, "%s%s",
		    i > 0 ? "," : "", er.slots[i].serial);

		if (n < 0 || (size_t)n >= sizeof(certs) - o)
			break;
		o += (size_t)n;
	}
	snprintf(res->certs, sizeof(res->certs), "%s", certs);
	snprintf(res->status, sizeof(res->status), "%s",
	    er.already ? "skipped"
	               : (how == CS_BATCH_RESUME || er.resumed) ? "resumed"
	                                                        : "done");
finish:
	if (cs_batch_finish(ca, b->digest, row.id,
	        strcmp(res->status, "failed") == 0 ? CS_BATCH_FAILED
	                                           : CS_BATCH_DONE,
	        res->certs, res->error) != CS_OK &&
	    strcmp(res->status, "failed") != 0)
		fail_res(res, "failed", ctx, "record the outcome");
out:
	cs_wipe(pin, sizeof(pin));
	cs_wipe(puk, sizeof(puk));
	cs_card_close(card);
	cs_ca_close(ca);
}

/* Fork a worker for reader k; the parent keeps the pipe's read end. */
static bool
start_worker(struct batch *b, struct rd *rd)
{
	struct result res;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return false;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (pid == 0) {
		/* The child: the parent finishes on SIGINT, not the child. */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		close(p[0]);
		memset(&res, 0, sizeof(res));
		worker(b, rd->w.name, &res);
		secret_clear(&b->pass);
		if (write(p[1], &res, sizeof(res)) != (ssize_t)sizeof(res))
			_exit(2);
		/* Not exit(): the parent's registry handle is not ours. */
		_exit(0);
	}
	close(p[1]);
	rd->pid = pid;
	rd->resfd = p[0];
	rd->st = RD_BUSY;
	return true;
}

static void
count(struct batch *b, const struct result *res)
{
	if (strcmp(res->status, "failed") == 0)
		b->failed++;
	else if (strcmp(res->status, "refused") == 0)
		b->refused++;
	else if (strcmp(res->status, "skipped") == 0)
		b->skipped++;
	else
		b->done++;
}

/* The live per-reader status, redrawn in place on a terminal. */
static void
draw_status(const struct batch *b)
{
	static const char *const names[] = { "waiting", "enrolling",
		"remove card" };
	size_t i;

	if (!b->tty || b->cli->quiet)
		return;
	fputs("\r\033[K", stderr);
	for (i = 0; i < b->nrd; i++)
		fprintf(stderr, "%s[%zu: %s]", i > 0 ? " " : "", i + 1,
		    names[b->rd[i].st]);
	fprintf(stderr, "  %zu done, %zu failed", b->done, b->failed);
	fflush(stderr);
}

static void
status_line(const struct batch *b, const struct rd *rd,
    const struct result *res)
{
	if (b->cli->quiet)
		return;
	if (b->tty)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "cardsmith: batch: %s: card %llu: row %s: %s%s%s\n",
	    rd->w.name, (unsigned long long)res->card,
	    res->id[0] != '\0' ? res->id : "-", res->status,
	    res->error[0] != '\0' ? ": " : "", res->error);
	fflush(stderr);
}

/* Collect a finished worker (block: wait for it). */
static void
reap(struct batch *b, struct rd *rd, bool block)
{
	struct result res;
	int status = 0;
	pid_t w;

	w = waitpid(rd->pid, &status, block ? 0 : WNOHANG);
	if (w == 0 || (w < 0 && errno == EINTR))
		return;
	memset(&res, 0, sizeof(res));
	if (read(rd->resfd, &res, sizeof(res)) != (ssize_t)sizeof(res)) {
		memset(&res, 0, sizeof(res));
		snprintf(res.status, sizeof(res.status), "failed");
		snprintf(res.error, sizeof(res.error),
		    "worker ended without a result (%s %d); rerun to resume",
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status)
		                        : WEXITSTATUS(status));
	}
	res.id[sizeof(res.id) - 1] = '\0';
	res.status[sizeof(res.status) - 1] = '\0';
	res.certs[sizeof(res.certs) - 1] = '\0';
	res.error[sizeof(res.error) - 1] = '\0';
	close(rd->resfd);
	rd->resfd = -1;
	rd->pid = 0;
	rd->st = RD_WAIT_REMOVE;
	result_line(b, &res, rd->w.name);
	status_line(b, rd, &res);
	count(b, &res);
}

/* --- readers --- */

static bool
reader_chosen(const char *list, size_t idx, const char *name)
{
	char buf[1024], *p, *save = NULL;
	char *end;
	unsigned long k;

	if (list == NULL || strcmp(list, "all") == 0)
		return true;
	snprintf(buf, sizeof(buf), "%s", list);
	for (p = strtok_r(buf, ",", &save); p != NULL;
	     p = strtok_r(NULL, ",", &save)) {
		errno = 0;
		k = strtoul(p, &end, 10);
		if (*p != '\0' && *end == '\0' && errno == 0) {
			if (k == idx + 1)
				return true;
		} else if (strcasestr(name, p) != NULL)
			return true;
	}
	return false;
}

/* Append the chosen readers not watched yet; false if pcscd fails. */
static bool
add_readers(struct batch *b)
{
	struct cs_reader_info *list = NULL;
	size_t n = 0, i, j;

	if (cs_pcsc_list(b->cli->ctx, &list, &n) != CS_OK)
		return false;
	for (i = 0; i < n && b->nrd < BATCH_READERS_MAX; i++) {
		if (!reader_chosen(b->readers, i, list[i].name))
			continue;
		for (j = 0; j < b->nrd; j++)
			if (strcmp(b->rd[j].w.name, list[i].name) == 0)
				break;
		if (j < b->nrd)
			continue;
		/* A reader plugged in during the run is used too. */
		memset(&b->rd[b->nrd], 0, sizeof(b->rd[b->nrd]));
		snprintf(b->rd[b->nrd].w.name, sizeof(b->rd[b->nrd].w.name),
		    "%s", list[i].name);
		b->rd[b->nrd].resfd = -1;
		b->nrd++;
	}
	cs_free(list);
	return true;
}

static int
pick_readers(struct batch *b)
{
	struct cli *cli = b->cli;
	struct cs_reader_info *list = NULL;
	size_t n = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	/* pcscd's own error first, then the chosen ones. */
	if ((r = cs_pcsc_list(cli->ctx, &list, &n)) != CS_OK)
		return out_fail(cli, r, "batch: readers");
	cs_free(list);
	if (!add_readers(b) || b->nrd == 0)
		return out_failf(cli, CS_ERR_NO_CARD,
		    "batch: no reader matches --readers %s",
		    b->readers != NULL ? b->readers : "all");
	return CLI_CONTINUE;
}

/* --- the run --- */

static size_t
busy(const struct batch *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->nrd; i++)
		n += b->rd[i].st == RD_BUSY;
	return n;
}

/* Rows still to do (pending or bound and unfinished) per the registry. */
static size_t
rows_left(struct batch *b)
{
	size_t c[CS_BATCH_STATE_COUNT];

	if (cs_batch_counts(b->cli->ca, b->digest, c) != CS_OK)
		return 1;
	return c[CS_BATCH_PENDING] + c[CS_BATCH_BOUND];
}

static const char *
run_loop(struct batch *b)
{
	struct cs_pcsc_watch_reader wr[BATCH_READERS_MAX];
	struct cs_pcsc_watch *w = NULL;
	const char *why = "complete";
	bool added = false, failed = false;
	time_t last = time(NULL);
	size_t i, jobs = b->jobs > 0 ? (size_t)b->jobs : b->nrd;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_pcsc_watch_open(b->cli->ctx, &w)) != CS_OK) {
		(void)out_fail(b->cli, r, "batch: wait for cards");
		return "error";
	}
	for (;;) {
		for (i = 0; i < b->nrd; i++)
			if (b->rd[i].st == RD_BUSY)
				reap(b, &b->rd[i], false);
		if (busy(b) == 0) {
			if (stop_flag) {
				why = failed ? "error" : "interrupted";
				break;
			}
			if (b->max_cards > 0 &&
			    b->cards >= (size_t)b->max_cards) {
				why = "max-cards";
				break;
			}
			if (rows_left(b) == 0) {
				why = "complete";
				break;
			}
			if (b->timeout > 0 &&
			    time(NULL) - last >= (time_t)b->timeout) {
				why = "timeout";
				break;
			}
		}
		for (i = 0; i < b->nrd; i++)
			wr[i] = b->rd[i].w;
		r = cs_pcsc_watch_wait(w, wr, b->nrd, BATCH_WAIT_MS, &added);
		if (r != CS_OK && r != CS_ERR_TIMEOUT) {
			(void)out_fail(b->cli, r, "batch: wait for cards");
			failed = true;
			stop_flag = 1;
			continue;
		}
		if (added)
			add_readers(b);
		for (i = 0; i < b->nrd; i++) {
			struct rd *rd = &b->rd[i];

			rd->w.present = wr[i].present;
			if (!rd->w.present && rd->st == RD_WAIT_REMOVE)
				rd->st = RD_IDLE;
			if (!rd->w.present || rd->st != RD_IDLE || stop_flag ||
			    busy(b) >= jobs ||
			    (b->max_cards > 0 &&
			        b->cards >= (size_t)b->max_cards))
				continue;
			if (!start_worker(b, rd)) {
				out_err("batch: cannot start a worker: %s",
				    strerror(errno));
				stop_flag = 1;
				continue;
			}
			b->cards++;
			last = time(NULL);
			if (!b->cli->quiet)
				fprintf(stderr,
				    "%scardsmith: batch: %s: card inserted, "
				    "enrolling\n",
				    b->tty ? "\r\033[K" : "", rd->w.name);
		}
		draw_status(b);
	}
	for (i = 0; i < b->nrd; i++)
		if (b->rd[i].st == RD_BUSY)
			reap(b, &b->rd[i], true);
	cs_pcsc_watch_close(w);
	return why;
}

static void
summary(struct batch *b, const char *why)
{
	json_t *doc = json_object(), *s = json_object();
	size_t left = rows_left(b);

	if (doc != NULL && s != NULL) {
		out_set(s, "cards", json_integer((json_int_t)b->cards));
		out_set(s, "done", json_integer((json_int_t)b->done));
		out_set(s, "skipped", json_integer((json_int_t)b->skipped));
		out_set(s, "refused", json_integer((json_int_t)b->refused));
		out_set(s, "failed", json_integer((json_int_t)b->failed));
		out_set(s, "rows_left", json_integer((json_int_t)left));
		out_set(s, "stopped", out_str(why));
		out_set(doc, "summary", s);
		write_line(b, doc);
	}
	if (b->tty && !b->cli->quiet)
		fputs("\r\033[K", stderr);
	if (!b->cli->quiet)
		fprintf(stderr,
		    "cardsmith: batch %s: %zu card(s): %zu enrolled, %zu "
		    "skipped, %zu refused, %zu failed; %zu row(s) left\n",
		    why, b->cards, b->done, b->skipped, b->refused, b->failed,
		    left);
}

static int
open_files(struct batch *b)
{
	b->secfd = open(b->secrets_out,
	    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (b->secfd < 0)
		return out_failf(b->cli, CS_ERR_IO,
		    "batch: --secrets-out %s: %s (it must be a new file)",
		    b->secrets_out, strerror(errno));
	b->outfd = open(b->out_path,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (b->outfd < 0) {
		int e = errno;

		close(b->secfd);
		b->secfd = -1;
		(void)unlink(b->secrets_out);
		return out_failf(b->cli, CS_ERR_IO, "batch: --out %s: %s",
		    b->out_path, strerror(e));
	}
	return CLI_CONTINUE;
}

static int
run_batch(struct batch *b, const char *roster)
{
	struct cli *cli = b->cli;
	struct sigaction sa;
	size_t todo = 0;
	const char *why;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	if (b->out_path == NULL)
		return out_usage(cli, "batch: --out RESULTS.jsonl is required");
	if (b->secrets_out == NULL)
		return out_usage(cli,
		    "batch: --secrets-out FILE is required: the cards' PINs "
		    "and PUKs must reach someone; nothing was written");
	if (b->jobs < 0 || b->jobs > BATCH_READERS_MAX || b->max_cards < 0 ||
	    b->timeout < 0)
		return out_usage(cli,
		    "batch: --jobs is 1..8, --max-cards and --timeout not "
		    "negative");
	if (access(b->secrets_out, F_OK) == 0)
		return out_failf(cli, CS_ERR_IO,
		    "batch: --secrets-out %s exists (it must be a new file); "
		    "nothing was written",
		    b->secrets_out);
	/* The roster before anything: a bad one leaves no trace. */
	if ((code = cli_open_needs(cli)) != CLI_CONTINUE ||
	    (code = roster_check(b, roster)) != CLI_CONTINUE)
		return code;
	if ((r = cs_batch_roster_digest(cli->ctx, roster, b->digest)) != CS_OK)
		return out_fail(cli, r, "batch: roster");
	if ((code = secret_get(cli, &cli->ca_pass, false, &b->pass)) !=
	    CLI_CONTINUE)
		return code;
	if ((r = cs_ca_unlock(cli->ca, b->pass.s, b->pass.len)) != CS_OK)
		return out_fail(cli, r, "unlock CA");
	cs_ca_lock(cli->ca);
	if ((code = pick_readers(b)) != CLI_CONTINUE ||
	    (code = open_files(b)) != CLI_CONTINUE)
		return code;
	if ((code = roster_load(b, roster, &todo)) != CLI_CONTINUE)
		return code;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	b->tty = isatty(STDERR_FILENO) == 1;
	why = todo > 0 ? run_loop(b) : "complete";
	summary(b, why);
	if (strcmp(why, "error") == 0)
		return CLI_EXIT_FAIL;
	return b->failed > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int
cmd_batch(struct cli *cli, int argc, const char **argv)
{
	struct batch b;
	char *roster = NULL;
	int r;

	memset(&b, 0, sizeof(b));
	b.cli = cli;
	b.outfd = b.secfd = -1;
	struct poptOption opts[] = {
		CLI_CA_DIR_OPT(cli),
		CLI_OUT_OPT(b.out_path,
		    "one JSON line per card and a summary (appended)"),
		{ "secrets-out", '\0', POPT_ARG_STRING, &b.secrets_out, 0,
		    "the rows' PINs and PUKs (created new, mode 0600)", "FILE" },
		{ "secrets-in", '\0', POPT_ARG_STRING, &b.secrets_in, 0,
		    "an earlier run's --secrets-out, to resume cards", "FILE" },
		{ "readers", '\0', POPT_ARG_STRING, &b.readers, 0,
		    "all (default) or reader numbers / name parts, "
		    "comma-separated",
		    "LIST" },
		{ "jobs", 'j', POPT_ARG_INT, &b.jobs, 0,
		    "cards enrolled at once (default: one per reader)", "N" },
		{ "max-cards", '\0', POPT_ARG_INT, &b.max_cards, 0,
		    "stop after N cards", "N" },
		{ "timeout", '\0', POPT_ARG_INT, &b.timeout, 0,
		    "stop after SECONDS without a new card", "SECONDS" },
		CLI_CA_PASS_OPTS(cli),
		POPT_TABLEEND,
	};

	cli->defer_needs = 1;
	cli->defer_unlock = 1;
	if ((r = cli_parse_arg(cli, argc, argv, opts, &batch_usage,
	         "batch: the roster (CSV) is required", &roster)) ==
	    CLI_CONTINUE)
		r = run_batch(&b, roster);
	secret_clear(&b.pass);
	if (b.outfd >= 0)
		close(b.outfd);
	if (b.secfd >= 0)
		close(b.secfd);
	free(roster);
	free(b.out_path);
	free(b.secrets_out);
	free(b.secrets_in);
	free(b.readers);
	return r;
}
