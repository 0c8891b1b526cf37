/* SPDX-License-Identifier: MIT */
/* gateway/core/afile.h - a small file rewritten atomically, off the loop.
 *
 * The content goes to a temporary file in the same directory (a new one
 * of a random name: never one another user planted), is fsync'ed and
 * renamed over the old file, so that a power cut leaves the
 * old content or the new one, never a torn file.  A thread of its own
 * does it: an SD card's fsync can take seconds, and the loop must never
 * wait for it (nor at a reload).  The loop hands over the whole content;
 * a newer content replaces one not yet begun.  Only at the end
 * (gw_afile_free) does the caller wait for the disk. */
#ifndef GATEWAY_CORE_AFILE_H
#define GATEWAY_CORE_AFILE_H

#include <stddef.h>

struct gw_afile;

/* NULL when out of memory. */
struct gw_afile *gw_afile_new(void);
/* Write data (copied) to path, atomically, as soon as the thread can.
 * 0, or -1 with the reason in why (out of memory, no thread). */
int gw_afile_post(struct gw_afile *a, const char *path, const char *data, size_t len, char *why, size_t cap);
/* What became of the writes finished since the last call: 1 written, -1
 * failed (the reason in why), 0 none finished (or one is still going). */
int gw_afile_result(struct gw_afile *a, char *why, size_t cap);
/* Write what is pending, stop the thread, free (NULL is fine).  Waits for
 * the disk.  The outcome of the last write, as gw_afile_result(). */
int gw_afile_free(struct gw_afile *a, char *why, size_t cap);

/* All of data[0..len) written to fd (a short write goes on, EINTR too):
 * 0, or -1 (errno). */
int gw_afile_write_all(int fd, const char *data, size_t len);
/* The temporary file of an atomic rewrite of path: a new file beside it,
 * "PATH.TAG-" and 10 random characters, made by this call alone (O_EXCL:
 * whatever another user put at some name there, a file, a symlink or a
 * directory, is never opened, followed, truncated or removed), with mode
 * less the umask; its name in tmp.  The fd, or -1 with why. */
int gw_afile_open_tmp(const char *path, const char *tag, unsigned mode, char *tmp, size_t tcap, char *why, size_t cap);
/* The end of an atomic rewrite, for a writer of its own (setup's, which
 * sets the mode and group first): fd, the temporary file tmp (from
 * gw_afile_open_tmp) written and fsync'ed (bad: that failed, errno saying
 * why), closed and renamed over path; on a failure tmp is removed, if it
 * is still the file fd wrote.  0, or -1 with the reason in why.  Blocks
 * on the disk: off the loop only. */
int gw_afile_commit(int fd, int bad, const char *tmp, const char *path, char *why, size_t cap);

#endif
