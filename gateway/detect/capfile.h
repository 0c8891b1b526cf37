/* SPDX-License-Identifier: MIT */
/* gateway/detect/capfile.h - the capture file of `bmsgw --capture` (bmsgw(8)
 * "CAPTURING A PORT"): what was heard on a port, and the read requests sent
 * with --probe, with their times, as text a user can send and read.
 * `bmsgw-sim --replay FILE` plays it back (tests/sim/README.md).
 *
 *	# comment lines start with '#'
 *	bmsgw-capture 1                 the first line that is not a comment
 *	port /dev/ttyUSB0               the header, before the first record:
 *	baud 9600                       the rate (0: a TCP serial server's own)
 *	mode listen | probe             nothing sent, or --probe's reads
 *	protocol lifepower              --probe's protocol (mode probe only)
 *	started 2026-11-24T01:02:03Z    the wall clock at time 0
 *	0.000000 tx 7E 01 01 00 FE 0D   records: seconds since the start,
 *	0.061250 rx 7E 01 01 58 ...     tx (sent) or rx (heard), the bytes
 *
 * Pure: text in, struct out (the reader), and one line out (the writer); no
 * I/O.  Every number and length of the text is checked.
 */
#ifndef GATEWAY_DETECT_CAPFILE_H
#define GATEWAY_DETECT_CAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAPFILE_MAGIC "bmsgw-capture 1"
#define CAPFILE_MAX_RECORD 4096     /* bytes of one record */
#define CAPFILE_MAX_RECORDS 200000  /* records of one file */
#define CAPFILE_MAX_BYTES (8u << 20) /* bytes of all records */
#define CAPFILE_MAX_LINE (16 + 3 * CAPFILE_MAX_RECORD) /* the longest line the writer makes */
#define CAPFILE_TEXT 128

struct capfile_rec {
	double t;          /* s since the start, >= 0, never less than the one before */
	bool sent;         /* tx: bmsgw sent it; rx: heard */
	size_t off, len;   /* its bytes: data[off .. off + len) */
};

struct capfile {
	char port[CAPFILE_TEXT];
	char protocol[CAPFILE_TEXT]; /* "" in listen mode */
	char started[CAPFILE_TEXT];
	int baud;
	bool probe;                  /* mode probe */
	size_t nrec;
	struct capfile_rec *rec;
	uint8_t *data;
	size_t ndata;
};

/* Parse text[0..len) into *cf (allocated: capfile_free()).  0, or -1 with
 * why ("line 7: ...") and *cf empty. */
int capfile_parse(const char *text, size_t len, struct capfile *cf, char *why, size_t cap);
void capfile_free(struct capfile *cf);

/* One record line ("0.061250 rx 7E 01 ...\n") into out[0..cap): its length,
 * or 0 when it does not fit (cap >= CAPFILE_MAX_LINE always does) or the
 * record is empty or longer than CAPFILE_MAX_RECORD. */
size_t capfile_line(char *out, size_t cap, double t, bool sent, const uint8_t *p, size_t n);

#endif
