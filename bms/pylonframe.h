/* SPDX-License-Identifier: MIT */
/* bms/pylonframe.h - the Pylontech-style ("paceic") ASCII framing (YD/T 1363.3)
 * shared by the pylontech, topbms, seplos, pace, eg4-lp4 and daren drivers.
 * bms/PROTOCOLS.md §8.
 *
 *	~ VER ADR CID1 CID2 LENGTH INFO CHKSUM CR
 *	1  2   2   2    2    4    LENID  4    1	(characters)
 *
 * SOI '~' and EOI CR are raw; everything else is ASCII hex, two characters a
 * byte.  LENGTH = LCHKSUM (4 bits) + LENID (12 bits, INFO length in
 * characters); CHKSUM = -(sum of the characters VER..INFO) & 0xFFFF.  CID2 is
 * the command in a request and the return code RTN in a response.
 *
 * Everything here is pure: no globals, no I/O, no allocation.
 */
#ifndef BMS_PYLONFRAME_H
#define BMS_PYLONFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bms.h"

#define BMS_PYLONFRAME_SOI '~'
#define BMS_PYLONFRAME_SOI_KS '>'   /* KS48100 firmware of the Daren BMS (§8) */
#define BMS_PYLONFRAME_EOI '\r'
#define BMS_PYLONFRAME_HEAD 13      /* '~' + VER ADR CID1 CID2 LENGTH */
#define BMS_PYLONFRAME_OVERHEAD 18  /* HEAD + CHKSUM (4) + CR */
#define BMS_PYLONFRAME_CID1_BATTERY 0x46
#define BMS_PYLONFRAME_CID1_4A 0x4A /* EG4 LifePower4, Daren / Basen DR-1363 */
/* Largest INFO (bytes) of a frame that fits in the gateway's rx buffer. */
#define BMS_PYLONFRAME_MAX_INFO ((BMS_RX_CAP - BMS_PYLONFRAME_OVERHEAD) / 2)

/* The link members of a driver on this framing, its addresses lo..hi: no
 * gap floor is documented (3.5 character times), a partial frame is
 * abandoned after 0.2 s. */
#define BMS_PYLONFRAME_LINK(lo, hi) .gap_floor = 0, .interbyte = 0.2, .min_address = (lo), .max_address = (hi)

/* Header of a parsed frame. */
struct bms_pylonframe {
	uint8_t ver, adr, cid1, cid2; /* cid2: command (request) or RTN (response) */
	uint16_t lenid;               /* INFO length in characters */
	size_t ninfo;                 /* INFO length in bytes (lenid / 2) */
};

/* LENGTH word for an INFO of lenid characters (LCHKSUM in the top nibble). */
uint16_t bms_pylonframe_length(uint16_t lenid);
/* CHKSUM of the characters p[0..n). */
uint16_t bms_pylonframe_chksum(const uint8_t *p, size_t n);
/* Value of an ASCII hex digit, -1 if c is none (bms_hexval()). */
static inline int bms_pylonframe_hexval(uint8_t c) { return bms_hexval(c); }
/* Is cid2 a return code (RTN) a BMS sends, rather than a command? */
bool bms_pylonframe_is_rtn(uint8_t cid2);

/* Build a frame into out.  Returns its length or BMS_E_NOSPACE / BMS_E_RANGE
 * (INFO too long for LENID). */
int bms_pylonframe_build(uint8_t *out, size_t cap, uint8_t ver, uint8_t adr, uint8_t cid1,
			 uint8_t cid2, const uint8_t *info, size_t ninfo);
/* The same with another start character (BMS_PYLONFRAME_SOI_KS). */
int bms_pylonframe_build_soi(uint8_t *out, size_t cap, uint8_t soi, uint8_t ver, uint8_t adr, uint8_t cid1,
			     uint8_t cid2, const uint8_t *info, size_t ninfo);

/* Framer: where is the next complete, valid frame in buf?  Resynchronises on
 * '~', checks every character as it arrives (a frame with a stray character
 * is dropped up to it, so a truncated frame followed by a good one costs
 * nothing), LCHKSUM, EOI and CHKSUM.  A valid frame whose CID2 is a command,
 * not a return code (our own request echoed, or another master's request), is
 * skipped. */
enum bms_scan bms_pylonframe_scan(const uint8_t *buf, size_t len, size_t *n);
/* The same for frames starting with any character of sois ("~>": both). */
enum bms_scan bms_pylonframe_scan_sois(const uint8_t *buf, size_t len, size_t *n, const char *sois);

/* Parse and validate a complete frame ('~' or '>' first), hex-decoding INFO
 * into info[0..cap).  BMS_OK, or BMS_E_SHORT (length), BMS_E_HEADER (layout,
 * hex, LCHKSUM), BMS_E_CHECKSUM, BMS_E_NOSPACE (INFO longer than cap). */
int bms_pylonframe_parse(const uint8_t *frame, size_t len, struct bms_pylonframe *f,
			 uint8_t *info, size_t cap);

/* Is a parsed response an answer to our request to `adr`?  BMS_OK;
 * BMS_E_UNEXPECTED for another address, another device type (CID1) or a
 * command; BMS_E_REFUSED when the BMS returned an error code (RTN != 0). */
int bms_pylonframe_check_reply(const struct bms_pylonframe *f, uint8_t adr);
/* The same for device type cid1; with any_adr an answer from any address
 * is taken (`address_any`: packs that answer from another address than the
 * one asked, §8). */
int bms_pylonframe_check_from(const struct bms_pylonframe *f, uint8_t cid1, uint8_t adr, bool any_adr);

/* The common start of a driver's handle(): parse `frame` (as above), then
 * BMS_E_UNEXPECTED unless one of the poll's `nsteps` requests is
 * outstanding, then check_reply() against poll->address. */
int bms_pylonframe_take(const struct bms_poll *poll, int nsteps, const uint8_t *frame, size_t len,
			struct bms_pylonframe *f, uint8_t *info, size_t cap);
/* The same for device type cid1, honouring poll->address_any. */
int bms_pylonframe_take_from(const struct bms_poll *poll, int nsteps, uint8_t cid1, const uint8_t *frame,
			     size_t len, struct bms_pylonframe *f, uint8_t *info, size_t cap);

/* Bounds-checked big-endian reader over a decoded INFO.  A read past the end
 * sets `bad` and returns 0; check `bad` before using what was read. */
struct bms_pylonframe_rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};
void bms_pylonframe_rd_init(struct bms_pylonframe_rd *r, const uint8_t *p, size_t len);
uint8_t bms_pylonframe_u8(struct bms_pylonframe_rd *r);
uint16_t bms_pylonframe_u16(struct bms_pylonframe_rd *r);
int16_t bms_pylonframe_s16(struct bms_pylonframe_rd *r);
uint32_t bms_pylonframe_u24(struct bms_pylonframe_rd *r);
/* n bytes as text into dst[0..cap) (bms_ident_text()); false, and `bad`
 * set, if they are not there. */
bool bms_pylonframe_text(struct bms_pylonframe_rd *r, size_t n, char *dst, size_t cap);
/* Skip n bytes (false, and `bad` set, if they are not there). */
bool bms_pylonframe_skip(struct bms_pylonframe_rd *r, size_t n);
/* Bytes left. */
size_t bms_pylonframe_left(const struct bms_pylonframe_rd *r);
/* The cell block of a 0x42 answer: a count M (one byte), then M cell
 * voltages (mV, two bytes each) into mv[0..M) (room for BMS_LV_MAX_CELLS).
 * M, or BMS_E_SHORT when the INFO ends before M, BMS_E_RANGE for an M
 * beyond BMS_LV_MAX_CELLS; check `bad` for the voltages. */
int bms_pylonframe_cells(struct bms_pylonframe_rd *r, uint16_t *mv);
/* The start of a 0x42 pack record that Pylontech's and TopBMS's share:
 * the cells, the temperatures (raw words, the first BMS_MAX_TEMPS), the
 * current, the voltage, the remaining capacity (each in the dialect's own
 * scale) and the count P of the user-defined items that follow. */
struct bms_pylonframe_analog {
	unsigned ncells, ntemps, p;
	uint16_t cell_mv[BMS_LV_MAX_CELLS];
	uint16_t temp[BMS_MAX_TEMPS];
	int16_t current;
	uint16_t voltage, remain;
};
/* BMS_OK, BMS_E_SHORT (the INFO ends within it) or BMS_E_RANGE (more
 * cells than BMS_LV_MAX_CELLS). */
int bms_pylonframe_analog(struct bms_pylonframe_rd *r, struct bms_pylonframe_analog *a);
/* A counted list (a temperature block, user-defined items): a count N (one
 * byte), then N words (two bytes each), the first max of them into
 * w[0..max).  N; check `bad`. */
unsigned bms_pylonframe_words(struct bms_pylonframe_rd *r, uint16_t *w, unsigned max);

/* The byte before the pack records of a 0x42/0x44 answer is the command
 * value of the request (one record follows) or, in an answer covering
 * several packs, their count.  Returns the 0-based index of the record to
 * decode: 0 when b == cmd or b == 1, want_if_count when b is a larger count
 * that includes it, BMS_E_UNEXPECTED when the pack is not in the answer and
 * BMS_E_RANGE for a count of 0. */
int bms_pylonframe_pack_index(uint8_t b, uint8_t cmd, unsigned want_if_count);

/* Alarm bits of a state byte (00 normal, 01 below the lower limit, 02 above
 * the upper limit, F0 other error; anything else = user defined). */
uint32_t bms_pylonframe_state_alarm(uint8_t state, uint32_t low, uint32_t high, uint32_t other);

/* ---- a paceic protocol as a table of commands (pace, eg4-lp4, daren) ----
 * A poll sends the steps in order: the measurements every poll, the
 * settings commands (struct bms_paceic.settings_steps) in a poll marked
 * settings_due only, of a pack with an identity of its own (has_ident;
 * the first the BMS refuses, does not answer or answers badly ends them,
 * not the poll: bms/PROTOCOLS.md §1.8), the
 * identity commands while bms_ident_due() (an identity command the BMS
 * refuses or does not answer ends the identity part of the poll: see
 * bms_ident_missing(); so a settings step comes before them).  handle() checks an answer against the step
 * outstanding (its device type, the pack's address unless address_any, no
 * error code) and hands its INFO to the step's decoder; BMS_OK moves to
 * the next step. */
struct bms_paceic_step {
	uint8_t cid2;
	bool ident;                 /* an identity command */
	/* its INFO into info[0..16): the length (NULL: no INFO) */
	size_t (*info)(const struct bms_poll *poll, uint8_t *info);
	int (*decode)(struct bms_poll *poll, const uint8_t *info, size_t n);
};
struct bms_paceic {
	uint8_t ver, cid1;
	uint8_t min_address, max_address; /* others: BMS_E_RANGE */
	const char *sois;           /* start characters of answers ("~", "~>") */
	const struct bms_paceic_step *steps;
	uint8_t nsteps;
	uint32_t settings_steps;    /* bit i: step i reads the BMS's own settings */
	/* optional: the start character of the next request (NULL: '~') */
	uint8_t (*soi)(const struct bms_poll *poll);
	/* optional: does this pack have an identity of its own (NULL: yes) */
	bool (*has_ident)(const struct bms_poll *poll);
	/* optional: a frame of the pack (an answer or an error code) came
	 * with start character soi */
	void (*answered)(struct bms_poll *poll, uint8_t soi);
	/* optional: a measurement step failed a try */
	void (*missed)(struct bms_poll *poll);
};
/* The step the poll is at (nsteps when it is complete). */
int bms_paceic_current(const struct bms_paceic *pc, const struct bms_poll *poll);
int bms_paceic_next_request(const struct bms_paceic *pc, struct bms_poll *poll, uint8_t *out, size_t cap);
enum bms_scan bms_paceic_scan(const struct bms_paceic *pc, const struct bms_poll *poll, const uint8_t *buf,
			      size_t len, size_t *n);
int bms_paceic_handle(const struct bms_paceic *pc, struct bms_poll *poll, const uint8_t *frame, size_t len);
bool bms_paceic_timeout(const struct bms_paceic *pc, struct bms_poll *poll);

/* A paceic driver's probe judge (bms.h, "identification"): the default
 * judge, and the answer must carry one of the protocol versions of `vers`
 * (0-terminated; the dialects share CID1 and differ by VER: an answer of
 * another VER is another dialect's).  An error answer names its RTN and
 * VER. */
void bms_paceic_probe_judge(const struct bms_driver *d, const uint8_t *vers, const struct bms_poll *poll,
			    const uint8_t *buf, size_t len, struct bms_probe_result *r);

/* Static wrappers <pfx>_next_request, _scan, _handle, _timeout around the
 * functions above for the protocol table `pc`, for a driver table. */
#define BMS_PACEIC_DRIVER_FUNCS(pfx, pc) \
	static int pfx##_next_request(struct bms_poll *poll, uint8_t *out, size_t cap) \
	{ \
		return bms_paceic_next_request(&(pc), poll, out, cap); \
	} \
	static enum bms_scan pfx##_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n) \
	{ \
		return bms_paceic_scan(&(pc), poll, buf, len, n); \
	} \
	static int pfx##_handle(struct bms_poll *poll, const uint8_t *frame, size_t len) \
	{ \
		return bms_paceic_handle(&(pc), poll, frame, len); \
	} \
	static bool pfx##_timeout(struct bms_poll *poll) \
	{ \
		return bms_paceic_timeout(&(pc), poll); \
	}

#endif
