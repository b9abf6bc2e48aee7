/*
 * Isolated PC/SC test harness: a private pcscd (systemd socket activation
 * on a socket in a private temp dir) with the vsmartcard vpcd driver on two
 * free TCP ports, giving readers "Virtual PCD 00 00" (slot 0, PORT) and
 * "Virtual PCD 00 01" (slot 1, PORT+1). Cards are programs that connect to
 * vpcd as TCP clients (tests/harness/tinycard, cardsmith-sim).
 *
 * See ../shared/reference/pcsc-harness.md for the measured facts.
 *
 * libpcsclite reads PCSCLITE_CSOCK_NAME once per process and caches it, so
 * a process runs one harness at a time (a second cs_harness_start while one
 * is live is CS_ERR_ARG), and a harness started after an earlier one was
 * stopped re-creates the earlier temp dir so the socket path stays the
 * same. Simplest: one harness per test program, in the group setup.
 *
 * Where the kernel allows it (root), pcscd runs in a private mount
 * namespace with its own /run and an empty USB driver directory: it never
 * touches a system pcscd's /run/pcscd files and never grabs real USB
 * readers. Otherwise it runs plainly (see cs_harness_isolated).
 *
 * cardsmith-ifd mode (cs_harness_start_ifd): instead of vpcd, the private
 * pcscd loads build/lib/libcardsmith-ifd.so with 1..CS_HARNESS_IFD_MAX
 * readers "cardsmith virtual reader K" (K = slot + 1), each listening on
 * the unix socket <dir>/readerK.sock (cs_harness_ifd_socket). A card is
 * `cardsmith-sim --socket PATH`; its connection is the card inserted. No
 * TCP ports are involved, so nothing can collide with another harness.
 *
 * Harness functions print diagnostics to stderr (test support code).
 *
 * Environment knobs:
 *   CS_HARNESS_DEBUG=1         pcscd -a -d (APDU + debug log in pcscd.log)
 *   CS_HARNESS_KEEP=1          keep the temp dir (reader.conf, pcscd.log)
 *   CS_HARNESS_PORT=P          first try on ports P/P+1, unchecked
 *   CS_HARNESS_NO_NAMESPACE=1  never use a private mount namespace
 *   CS_IFD_LIB=/abs/path.so    the cardsmith-ifd driver to load
 */
#ifndef CS_TEST_HARNESS_H
#define CS_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "cardsmith/common.h"

#define CS_HARNESS_SLOTS 2
#define CS_HARNESS_VPCD_LIB "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
#define CS_HARNESS_PCSCD "/usr/sbin/pcscd"
#define CS_HARNESS_IFD_MAX 8
#define CS_HARNESS_IFD_NAME "cardsmith virtual reader"
#define CS_HARNESS_IFD_SO "libcardsmith-ifd.so"

struct cs_harness;

/*
 * True if pcscd and the vpcd driver are installed. If not, why (may be
 * NULL) names what is missing; tests then exit 77 (skip).
 */
bool cs_harness_available(char *why, size_t cap);

/*
 * Start a private pcscd and wait (<= 5 s per try, up to 5 tries on other
 * ports) until both virtual readers are listed. Sets PCSCLITE_CSOCK_NAME
 * in this process's environment. Caller frees *out with cs_harness_stop.
 */
CS_MUST_CHECK enum cs_err cs_harness_start(struct cs_harness **out);

/*
 * True if pcscd is installed and the cardsmith-ifd driver is found
 * (cs_harness_ifd_lib). If not, why (may be NULL) names what is missing.
 */
bool cs_harness_ifd_available(char *why, size_t cap);

/*
 * The absolute path of the driver: $CS_IFD_LIB, else
 * $CS_BUILD/lib/libcardsmith-ifd.so, else BUILD/lib/ next to this
 * program's build tree. CS_ERR_NOT_FOUND, CS_ERR_LIMIT.
 */
CS_MUST_CHECK enum cs_err cs_harness_ifd_lib(char *path, size_t cap);

/*
 * Start a private pcscd with nreaders (1..CS_HARNESS_IFD_MAX)
 * cardsmith-ifd readers and wait (<= 5 s) until all are listed. Slots are
 * 0..nreaders-1. Otherwise as cs_harness_start (one harness per process,
 * PCSCLITE_CSOCK_NAME set). Caller frees *out with cs_harness_stop.
 */
CS_MUST_CHECK enum cs_err cs_harness_start_ifd(struct cs_harness **out,
    int nreaders);

/* The unix socket of slot's reader (ifd mode; else ""); borrowed. */
const char *cs_harness_ifd_socket(const struct cs_harness *h, int slot);
/* Number of slots: CS_HARNESS_SLOTS (vpcd) or the ifd reader count. */
int cs_harness_slots(const struct cs_harness *h);
/* True for a harness started by cs_harness_start_ifd. */
bool cs_harness_is_ifd(const struct cs_harness *h);

/*
 * Run `sh -c shell_cmd` as the card of slot (0 or 1; ifd mode: any slot),
 * in its own process group, with CS_HARNESS_DIR and PCSCLITE_CSOCK_NAME
 * set, and CS_VPCD_PORT (vpcd) or CS_IFD_SOCKET and CS_IFD_READER (ifd:
 * the socket path and the reader number slot + 1). It dies with this
 * process (PR_SET_PDEATHSIG). A running card in that slot is stopped
 * first.
 */
CS_MUST_CHECK enum cs_err cs_harness_start_card(struct cs_harness *h, int slot,
    const char *shell_cmd);

/*
 * Wait until pcscd sees a card in slot's reader (present) or none
 * (!present). CS_ERR_TIMEOUT after timeout_ms; CS_ERR_NO_CARD at once if
 * the slot's card program exits while waiting for present.
 */
CS_MUST_CHECK enum cs_err cs_harness_wait_card(struct cs_harness *h, int slot,
    bool present, unsigned int timeout_ms);

/*
 * Stop slot's card program (SIGTERM to its process group, SIGKILL after
 * 2 s) and reap it. Returns its wait status, or -1 if none was running.
 */
int cs_harness_stop_card(struct cs_harness *h, int slot);

/*
 * Reap slot's card if it has exited; true if it has (status in *status,
 * may be NULL).
 */
bool cs_harness_card_exited(struct cs_harness *h, int slot, int *status);

/*
 * Reader name of slot ("Virtual PCD 00 00", ifd mode: the name pcscd gave,
 * "cardsmith virtual reader 3 02 00"); borrowed from h.
 */
const char *cs_harness_reader(const struct cs_harness *h, int slot);
/* vpcd TCP port of slot; -1 in ifd mode. */
int cs_harness_port(const struct cs_harness *h, int slot);
/* The private temp dir (reader.conf, pcscd.log, socket); borrowed. */
const char *cs_harness_dir(const struct cs_harness *h);
/* The private pcscd socket path; borrowed. */
const char *cs_harness_socket(const struct cs_harness *h);
/* Process id of the private pcscd. */
int cs_harness_pcscd_pid(const struct cs_harness *h);
/* True if pcscd runs in a private mount namespace. */
bool cs_harness_isolated(const struct cs_harness *h);

/*
 * Write the shell-quoted path of the tiny test card followed by args (a
 * shell fragment, may be NULL) into buf: $CS_BUILD/tests/harness/tinycard,
 * else next to this program's build tree. CS_ERR_LIMIT if it does not fit,
 * CS_ERR_NOT_FOUND if the binary is absent.
 */
CS_MUST_CHECK enum cs_err cs_harness_tinycard_cmd(char *buf, size_t cap,
    const char *args);

/* Stop the cards and pcscd, reap them, remove the temp dir. NULL is ok. */
void cs_harness_stop(struct cs_harness *h);

#endif
