/*
 * Bounded whole-file reading: the project's one reader for input files
 * (certificates, requests, chains, profiles, CA keys).
 */
#ifndef CARDSMITH_FILE_H
#define CARDSMITH_FILE_H

#include "common.h"

/*
 * Read all of path, at most max bytes. The file is opened O_RDONLY |
 * O_CLOEXEC | O_NOCTTY and read to end of file, so pipes, FIFOs and
 * /dev/stdin work as well as regular files; a directory is CS_ERR_IO.
 * Errors, with the detail in ctx (may be NULL):
 *   CS_ERR_NOT_FOUND  path does not exist (ENOENT): "path: strerror"
 *   CS_ERR_IO         any other open or read error: "path: strerror"
 *   CS_ERR_LIMIT      more than max bytes: "path: larger than N bytes"
 *   CS_ERR_NOMEM, CS_ERR_ARG (NULL pointers)
 * On CS_OK *out holds *outlen bytes followed by one NUL that *outlen does
 * not count (so text can be parsed as a string; an empty file gives
 * *outlen 0 and a non-NULL *out). Caller frees *out with free() (or
 * cs_free). On failure *out is NULL and *outlen 0.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_file_read(struct cs_ctx *ctx,
    const char *path, size_t max, uint8_t **out, size_t *outlen);

/*
 * cs_file_read for secrets (private keys, PIN files): same arguments,
 * errors and result, but every intermediate buffer (read chunks, the
 * storage left behind when the buffer grows, the partial contents on an
 * error path) is wiped with OPENSSL_cleanse before it is freed or goes
 * out of scope. Caller releases *out with cs_file_free_secret(*out,
 * *outlen).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_file_read_secret(struct cs_ctx *ctx,
    const char *path, size_t max, uint8_t **out, size_t *outlen);

/*
 * The same loop for a descriptor the caller opened (e.g. with O_NOFOLLOW):
 * append everything readable from fd to b, at most b->max bytes in all.
 * CS_ERR_IO "name: strerror" with errno kept when read(2) fails,
 * CS_ERR_LIMIT "name: larger than N bytes" (N = b->max); the read chunk
 * is wiped when b is a secret buffer. fd is left open.
 */
struct cs_buf;
CS_EXPORT CS_MUST_CHECK enum cs_err cs_file_read_fd(struct cs_ctx *ctx,
    int fd, const char *name, struct cs_buf *b);

/*
 * Wipe the len bytes of p (a result of cs_file_read_secret), then free
 * p; NULL is accepted.
 */
CS_EXPORT void cs_file_free_secret(uint8_t *p, size_t len);

#endif
