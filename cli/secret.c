/*
 * Secrets from file descriptors, files, environment variables or a no-echo
 * prompt on /dev/tty (STYLE.md sections 6 and 8). Every buffer that held a
 * secret is wiped; messages name the secret ("PIN"), never its value.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cardsmith/hex.h"

#include "exit.h"
#include "out.h"
#include "secret.h"

#include "banned.h"

/* Terminal state to restore if SIGINT/SIGTERM arrives mid-prompt. */
static int tty_fd = -1;
static struct termios tty_saved;
static volatile sig_atomic_t tty_echo_off;

void
secret_src_init(struct secret_src *src, const char *what, const char *opt)
{
	memset(src, 0, sizeof(*src));
	src->what = what;
	src->opt = opt;
	src->fd = -1;
	src->tries = -1;
}

void
secret_src_release(struct secret_src *src)
{
	free(src->file);
	free(src->env);
	src->file = src->env = NULL;
}

bool
secret_src_given(const struct secret_src *src)
{
	return src->fd >= 0 || src->file != NULL || src->env != NULL;
}

void
secret_clear(struct secret *s)
{
	cs_wipe(s->s, sizeof(s->s));
	s->len = 0;
}

int
secret_json_emit(struct cli *cli, json_t *doc, const char *key,
    const char *value)
{
	json_t *j;
	int code;

	if ((j = json_string(value)) == NULL) {
		out_err("out of memory");
		exit(CLI_EXIT_FAIL);
	}
	/* Our reference outlives the document: wipe once it is gone. */
	out_set(doc, key, json_incref(j));
	code = out_emit(cli, doc);
	if (j->refcount == 1)
		cs_wipe((char *)json_string_value(j), json_string_length(j));
	json_decref(j);
	return code;
}

/* Drop one trailing "\n" (or "\r\n"). */
static void
strip_newline(struct secret *s)
{
	if (s->len > 0 && s->s[s->len - 1] == '\n')
		s->len--;
	if (s->len > 0 && s->s[s->len - 1] == '\r')
		s->len--;
	s->s[s->len] = '\0';
}

static bool
has_newline(const struct secret *s)
{
	return memchr(s->s, '\n', s->len) != NULL ||
	    memchr(s->s, '\r', s->len) != NULL;
}

/*
 * One line from fd, a byte at a time so that several secrets can share
 * one pipe (--pin-fd 3 --new-pin-fd 3).
 */
static int
read_fd(struct cli *cli, const struct secret_src *src, struct secret *out)
{
	char c;
	ssize_t n;

	out->len = 0;
	for (;;) {
		n = read(src->fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return out_failf(cli, CS_ERR_IO,
			    "cannot read the %s from file descriptor %d: %s",
			    src->what, src->fd, strerror(errno));
		if (n == 0 || c == '\n')
			break;
		if (out->len >= SECRET_MAX) {
			secret_clear(out);
			return out_failf(cli, CS_ERR_ARG,
			    "the %s from file descriptor %d is longer than %d "
			    "characters",
			    src->what, src->fd, SECRET_MAX);
		}
		out->s[out->len++] = c;
	}
	c = 0;
	strip_newline(out);
	return CLI_CONTINUE;
}

static int
read_file(struct cli *cli, const struct secret_src *src, struct secret *out)
{
	struct stat st;
	char buf[SECRET_MAX + 3];
	ssize_t n;
	size_t got = 0;
	int fd, code = CLI_CONTINUE;

	out->len = 0;
	fd = open(src->file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return out_failf(cli, CS_ERR_IO,
		    "cannot open the %s file %s: %s", src->what, src->file,
		    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		code = out_failf(cli, CS_ERR_ARG,
		    "the %s file %s is not a regular file", src->what,
		    src->file);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		code = out_failf(cli, CS_ERR_ARG,
		    "the %s file %s is not owned by you: refusing it",
		    src->what, src->file);
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		code = out_failf(cli, CS_ERR_ARG,
		    "the %s file %s is readable by group or others (mode %03o):"
		    " chmod 600 it",
		    src->what, src->file, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	/* Read once: the whole file, bounded. */
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			code = out_failf(cli, CS_ERR_IO,
			    "cannot read the %s file %s: %s", src->what,
			    src->file, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > SECRET_MAX) {
		code = out_failf(cli, CS_ERR_ARG, "the %s file %s is too long",
		    src->what, src->file);
		goto out;
	}
	memcpy(out->s, buf, got);
	out->len = got;
	strip_newline(out);
	if (has_newline(out)) {
		code = out_failf(cli, CS_ERR_ARG,
		    "the %s file %s must hold one line", src->what, src->file);
		goto out;
	}
out:
	cs_wipe(buf, sizeof(buf));
	close(fd);
	if (code != CLI_CONTINUE)
		secret_clear(out);
	return code;
}

static int
read_env(struct cli *cli, const struct secret_src *src, struct secret *out)
{
	char *v = getenv(src->env);
	size_t n;

	out->len = 0;
	if (v == NULL)
		return out_failf(cli, CS_ERR_ARG,
		    "the %s variable %s is not set", src->what, src->env);
	n = strlen(v);
	if (n > SECRET_MAX) {
		cs_wipe(v, n);
		unsetenv(src->env);
		return out_failf(cli, CS_ERR_ARG,
		    "the %s in %s is longer than %d characters", src->what,
		    src->env, SECRET_MAX);
	}
	memcpy(out->s, v, n);
	out->s[n] = '\0';
	out->len = n;
	/* The environment block may be the original: wipe it too. */
	cs_wipe(v, n);
	if (unsetenv(src->env) != 0) {
		secret_clear(out);
		return out_failf(cli, CS_ERR_ARG, "cannot unset %s", src->env);
	}
	return CLI_CONTINUE;
}

/* --- terminal --- */

/* Best effort: a failed prompt write is no reason to fail. */
static void
tty_write(int fd, const char *s, size_t n)
{
	ssize_t w = write(fd, s, n);

	(void)w;
}

static void
tty_restore(void)
{
	if (tty_fd >= 0 && tty_echo_off) {
		(void)tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
		tty_echo_off = 0;
	}
}

static void
on_signal(int sig)
{
	tty_restore();
	if (tty_fd >= 0)
		tty_write(tty_fd, "\n", 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
tty_open(void)
{
	int fd;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	/* A background job would stop on SIGTTIN: treat as no terminal. */
	if (tcgetpgrp(fd) != getpgrp()) {
		close(fd);
		return -1;
	}
	return fd;
}

bool
secret_have_tty(void)
{
	int fd = tty_open();

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

enum tty_result {
	TTY_NONE,    /* no terminal, or nothing entered */
	TTY_OK,
	TTY_TOOLONG, /* longer than the buffer: refused, never truncated */
};

/* Read one line from the terminal, echo off unless echo. */
static enum tty_result
tty_line(const char *prompt, bool echo, char *buf, size_t cap, size_t *len)
{
	struct sigaction sa, ign, old_int, old_term, old_hup, old_quit,
	    old_tstp;
	struct termios t;
	enum tty_result res = TTY_NONE;
	bool toolong = false;
	ssize_t n = 0;
	char c;

	*len = 0;
	if ((tty_fd = tty_open()) < 0)
		return TTY_NONE;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGQUIT, &sa, &old_quit);
	/*
	 * A stop while echo is off would resume with echo restored by the
	 * shell and the rest of the secret typed visibly: no job control
	 * during the prompt.
	 */
	sigaction(SIGTSTP, &ign, &old_tstp);
	if (!echo) {
		if (tcgetattr(tty_fd, &tty_saved) != 0)
			goto out;
		t = tty_saved;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		t.c_lflag |= ICANON;
		tty_echo_off = 1;
		if (tcsetattr(tty_fd, TCSAFLUSH, &t) != 0)
			goto out;
	}
	tty_write(tty_fd, prompt, strlen(prompt));
	for (;;) {
		n = read(tty_fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			break;
		if (*len + 1 < cap)
			buf[(*len)++] = c;
		else
			toolong = true; /* keep reading to the end of the line */
	}
	c = 0;
	if (toolong) {
		cs_wipe(buf, cap);
		*len = 0;
		res = TTY_TOOLONG;
	} else {
		buf[*len] = '\0';
		res = n > 0 || *len > 0 ? TTY_OK : TTY_NONE;
	}
	if (!echo)
		tty_write(tty_fd, "\n", 1);
out:
	tty_restore();
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTSTP, &old_tstp, NULL);
	close(tty_fd);
	tty_fd = -1;
	return res;
}

const char *
secret_prompt(const struct secret_src *src, bool again, char *buf, size_t cap)
{
	if (again)
		snprintf(buf, cap, "Repeat %s: ", src->what);
	else if (src->tries >= 0)
		snprintf(buf, cap, "Enter %s (%d %s left): ", src->what,
		    src->tries, src->tries == 1 ? "try" : "tries");
	else
		snprintf(buf, cap, "Enter %s: ", src->what);
	return buf;
}

static int
read_tty(struct cli *cli, const struct secret_src *src, bool confirm,
    struct secret *out)
{
	struct secret again;
	char prompt[96];
	enum tty_result tr;
	int code = CLI_CONTINUE;

	out->len = again.len = 0;
	secret_prompt(src, false, prompt, sizeof(prompt));
	tr = tty_line(prompt, false, out->s, sizeof(out->s), &out->len);
	if (tr == TTY_TOOLONG) {
		code = out_failf(cli, CS_ERR_ARG,
		    "the %s entered is longer than %d characters", src->what,
		    SECRET_MAX);
		goto out;
	}
	if (tr != TTY_OK) {
		code = out_failf(cli, CS_ERR_CANCELLED, "no %s entered",
		    src->what);
		goto out;
	}
	if (!confirm)
		goto out;
	secret_prompt(src, true, prompt, sizeof(prompt));
	if (tty_line(prompt, false, again.s, sizeof(again.s), &again.len) !=
	        TTY_OK ||
	    again.len != out->len ||
	    !cs_memeq_secret(again.s, out->s, out->len))
		code = out_failf(cli, CS_ERR_ARG, "the %s entries differ",
		    src->what);
out:
	secret_clear(&again);
	if (code != CLI_CONTINUE)
		secret_clear(out);
	return code;
}

int
secret_get(struct cli *cli, struct secret_src *src, bool confirm,
    struct secret *out)
{
	int n = (src->fd >= 0) + (src->file != NULL) + (src->env != NULL);

	out->len = 0;
	out->s[0] = '\0';
	if (n > 1)
		return out_usage(cli,
		    "give the %s only once: one of --%s-fd, "
		    "--%s-file or --%s-env",
		    src->what, src->opt, src->opt, src->opt);
	if (src->fd >= 0)
		return read_fd(cli, src, out);
	if (src->file != NULL)
		return read_file(cli, src, out);
	if (src->env != NULL)
		return read_env(cli, src, out);
	if (!secret_have_tty())
		return out_usage(cli,
		    "no %s given: use --%s-fd, --%s-file or "
		    "--%s-env (no terminal to prompt on)",
		    src->what, src->opt, src->opt, src->opt);
	return read_tty(cli, src, confirm, out);
}

bool
secret_hex_key(const struct secret *s, uint8_t *key, size_t *len)
{
	*len = 0;
	if ((s->len != 32 && s->len != 48 && s->len != 64) ||
	    s->s[s->len] != '\0')
		return false;
	/* cs_hex_decode wipes what it wrote on failure and quotes nothing. */
	if (cs_hex_decode(NULL, s->s, key, SECRET_KEY_MAX, len) != CS_OK) {
		cs_wipe(key, SECRET_KEY_MAX);
		*len = 0;
		return false;
	}
	return true;
}

int
secret_confirm(const char *question)
{
	char line[16], prompt[256];
	size_t len;

	if (!secret_have_tty())
		return -1;
	snprintf(prompt, sizeof(prompt), "%s [y/N] ", question);
	if (tty_line(prompt, true, line, sizeof(line), &len) != TTY_OK)
		return 0;
	return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 ||
	    strcmp(line, "yes") == 0;
}

int
secret_destructive(struct cli *cli, bool force, const char *question)
{
	int yes;

	if (force)
		return CLI_CONTINUE;
	yes = secret_confirm(question);
	if (yes < 0)
		return out_usage(cli,
		    "%s: refusing without confirmation: "
		    "add --force (no terminal to ask on)",
		    question);
	if (yes == 0)
		return out_failf(cli, CS_ERR_CANCELLED,
		    "cancelled; nothing "
		    "was changed");
	return CLI_CONTINUE;
}
