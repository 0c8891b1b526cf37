/* SPDX-License-Identifier: MIT */
/* bms/bus.h - a bus heard whole: the frames of another master and of every
 * pack that answers it (listen mode, bms/PROTOCOLS.md §39).
 *
 * A listener sees both directions of an RS485 line: the master's requests
 * and the packs' answers, back to back, often without a gap between them.
 * Each family cuts that stream by its frames' own lengths and checksums
 * (struct bms_listen.at) and says what each frame is: a request to an
 * address, an answer from one, an answer that carries no address (JK-PB's
 * 300-byte record, attributed by the acknowledgement after it), or that
 * acknowledgement.  bms_bus_scan() is the framer the gateway runs, with the
 * scan() contract of bms.h.  Pure: no I/O, no globals, every length checked.
 */
#ifndef BMS_BUS_H
#define BMS_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bms.h"

/* What one frame on the bus is (struct bms_bus_frame.kind). */
enum bms_bus_kind {
	BMS_BUS_REQUEST = 0, /* the master asks the pack at addr */
	BMS_BUS_ANSWER,      /* the pack at addr answers (or refuses) */
	BMS_BUS_ANON,        /* an answer without an address: the next BMS_BUS_ACK says whose */
	BMS_BUS_ACK,         /* the acknowledgement from addr that closes an anonymous answer */
};

struct bms_bus_frame {
	enum bms_bus_kind kind;
	uint8_t addr;
	size_t len;
};

/* The last request heard (the one an answer is paired with): a Modbus
 * answer is told from a request of the same length by it. */
struct bms_bus_ctx {
	bool have_req;
	uint8_t addr, fc;         /* Modbus: its slave and function code */
	size_t answer_len;        /* Modbus FC 01-04: the answer it asks for (0: unknown) */
};

/* A frame at buf[0]?  BMS_BUS_FOUND: the family's whole frame, proved by
 * its checksum, *f filled; BMS_BUS_PART: one has begun (its header is
 * whole and fits) and more bytes are needed; BMS_BUS_NONE: none starts
 * there; BMS_BUS_BAD: a frame whose header leaves no doubt (the answer
 * the request just heard asks for, a JK-PB record, a paceic frame) is
 * whole but its checksum fails (none starts there either; counted). */
enum { BMS_BUS_NONE = 0, BMS_BUS_FOUND = 1, BMS_BUS_PART = 2, BMS_BUS_BAD = 3 };
typedef int bms_bus_at(const struct bms_bus_ctx *ctx, const uint8_t *buf, size_t len, struct bms_bus_frame *f);

/* The families (struct bms_listen.at): Modbus RTU (requests FC 01-06,
 * 0F, 10; answers and exceptions), paceic ('~' or '>' ... CR: a command
 * is a request, an RTN an answer; the ADR is the pack's either way), and
 * JK-PB (Modbus plus the 300-byte 55 AA EB 90 record, sum8, anonymous;
 * the FC 16 acknowledgement of a 0x16xx trigger is its ACK). */
int bms_bus_modbus_at(const struct bms_bus_ctx *ctx, const uint8_t *buf, size_t len, struct bms_bus_frame *f);
int bms_bus_paceic_at(const struct bms_bus_ctx *ctx, const uint8_t *buf, size_t len, struct bms_bus_frame *f);
int bms_bus_jkpb_at(const struct bms_bus_ctx *ctx, const uint8_t *buf, size_t len, struct bms_bus_frame *f);

/* The bus framer of family `at`: a frame at buf[0] (BMS_SCAN_FRAME, *f
 * and *n set), bytes before the next frame (BMS_SCAN_SKIP; BMS_SCAN_BADSUM,
 * *n = 1, where a frame failed its checksum: BMS_BUS_BAD), or
 * BMS_SCAN_NEED (a frame may be arriving; at most max bytes are kept:
 * beyond, the oldest are skipped). */
#define BMS_BUS_MAX 4096
enum bms_scan bms_bus_scan(bms_bus_at *at, const struct bms_bus_ctx *ctx, const uint8_t *buf, size_t len,
			   struct bms_bus_frame *f, size_t *n);
/* What a request frame tells about its answer (ctx for the next scan). */
void bms_bus_note_request(struct bms_bus_ctx *ctx, const uint8_t *req, size_t n);

/* ---- pairing: which answer goes with which request -----------------------
 * Fed every frame of the bus in order: a request is kept until an answer
 * from its address comes (the request is then that answer's); an answer
 * from an address no request went to is the pack's own (rn 0: a master's
 * own data); an anonymous answer waits for the acknowledgement that names
 * its address, or takes the one that came just before it (a JK-PB sends
 * its record and its acknowledgement in either order). */
#define BMS_BUS_REQ_MAX 300
#define BMS_BUS_ANON_MAX 320
struct bms_bus_pairer {
	struct bms_bus_ctx ctx;   /* for bms_bus_scan() */
	uint8_t req[BMS_BUS_REQ_MAX];
	size_t reqlen;
	uint8_t req_addr;
	uint8_t anon[BMS_BUS_ANON_MAX];
	size_t anonlen;
	bool acked;               /* an acknowledgement closed nothing: the anonymous */
	uint8_t ack_addr;         /* answer right after it is ack_addr's (JK-PB sends either first) */
};
/* An answer and what it pairs with (pointers into the frame and the pairer). */
struct bms_bus_answer {
	uint8_t addr;
	const uint8_t *req;       /* the request to addr before it, NULL: none (rn 0) */
	size_t rn;
	const uint8_t *ans;
	size_t an;
};
enum { BMS_BUS_NOTHING = 0, BMS_BUS_ASKED, BMS_BUS_ANSWERED };
/* Frame f (its bytes b): BMS_BUS_ASKED for a request, BMS_BUS_ANSWERED with
 * *a filled for a complete answer, BMS_BUS_NOTHING otherwise. */
int bms_bus_pair(struct bms_bus_pairer *pr, const struct bms_bus_frame *f, const uint8_t *b, struct bms_bus_answer *a);
void bms_bus_pair_reset(struct bms_bus_pairer *pr);

/* ---- a driver in listen mode (struct bms_driver.listen) -------------------
 * The gateway frames the bus with `at`, pairs each answer with the request
 * to the same address heard just before it (none: the pack put it on the
 * bus by itself, as a Seplos V3 or JK-PB master does with its own data;
 * an anonymous answer goes to the address of the acknowledgement after
 * it), and hands the pair to hear() of the pack at that address, on a
 * poll begun as for a poll of its own (bms_poll_begin(), the identity
 * marked not to be asked).  Keys: what hear() decoded.  A listening
 * pack's poll is complete when every key below BMS_LISTEN_EXTRA the
 * master asked in its last round for the pack has been heard again, or
 * when the master comes round to a key heard already; then finish() and
 * the plausibility table judge it like any poll. */
#define BMS_LISTEN_KEYS 32
#define BMS_LISTEN_EXTRA 16 /* keys from here on: read now and then (settings, identity) */
struct bms_listen {
	bms_bus_at *at;
	/* Decode the answer ans[0..an) of the pack at poll->address to the
	 * request req[0..rn) (rn 0: none heard before it) into poll->snap
	 * (or poll->kept).  The key of what it decoded (0 ..
	 * BMS_LISTEN_KEYS - 1), BMS_E_UNEXPECTED for an answer it does not
	 * read (ignored), another negative BMS_E_* for a bad one. */
	int (*hear)(struct bms_poll *poll, const uint8_t *req, size_t rn, const uint8_t *ans, size_t an);
};

/* Is request a (an bytes) the same as request b?  (NULL: the same bytes.) */
typedef bool bms_listen_same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
/* paceic: the same ADR, CID1, CID2 and INFO (a master may write another VER). */
bool bms_listen_same_paceic(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
/* hear() of a driver whose requests are its poll's (bms/base/listen.c): the
 * step whose request is the one heard (`same`) takes the answer, through
 * the driver's scan() and handle(); the key is the step (BMS_LISTEN_EXTRA
 * + step for an identity command).  An answer with no request before it
 * is not one of these packs'. */
int bms_listen_replay(const struct bms_driver *d, bms_listen_same *same, struct bms_poll *poll, const uint8_t *req,
		      size_t rn, const uint8_t *ans, size_t an);
/* The hear() and struct bms_listen <pfx>_listen of such a driver. */
#define BMS_LISTEN_REPLAY(pfx, drv, at_fn, same_fn) \
	static int pfx##_hear(struct bms_poll *poll, const uint8_t *req, size_t rn, const uint8_t *ans, size_t an) \
	{ \
		return bms_listen_replay(&(drv), (same_fn), poll, req, rn, ans, an); \
	} \
	static const struct bms_listen pfx##_listen = { (at_fn), pfx##_hear };

#endif
