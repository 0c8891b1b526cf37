/* SPDX-License-Identifier: MIT */
/* bms/mbmaster.h - the Modbus RTU master of the BMS side: the frames every
 * Modbus protocol shares (daly-modbus builds its requests here), and the
 * register-table protocols (seplos3, eg4-ll, renogy, pace-modbus), each of
 * which is a table of blocks and a decoder (struct bms_mb_proto) that this
 * master polls.  bms/PROTOCOLS.md §18.
 *
 *	request	  <slave> <fc> <start:2> <count:2> <crc:2>	(8 bytes)
 *	answer	  <slave> <fc> <bytes> <data ...> <crc:2>
 *	exception <slave> <fc|0x80> <code> <crc:2>		(5 bytes)
 * Registers big-endian, CRC-16/MODBUS low byte first ("MODBUS over Serial
 * Line V1.02", modbus.org).  FC 0x01 answers coils packed eight to a byte,
 * the lowest coil in bit 0.
 *
 * Everything here is pure: no globals, no I/O, no allocation.
 */
#ifndef BMS_MBMASTER_H
#define BMS_MBMASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bms.h"
#include "bus.h"

#define BMS_MB_REQ_LEN 8
#define BMS_MB_EXC_LEN 5
#define BMS_MB_EXCEPTION 0x80 /* function code | 0x80: an exception answer */

enum {
	BMS_MB_FC_COILS = 0x01,
	BMS_MB_FC_HOLDING = 0x03,
	BMS_MB_FC_INPUT = 0x04,
	BMS_MB_FC_WRITE1 = 0x06,
};

/* The 8-byte frame <addr> <fc> <a:2> <b:2> <crc:2> (a read: a = start, b =
 * count; FC 0x06: a = register, b = value) into out.  BMS_MB_REQ_LEN or
 * BMS_E_NOSPACE. */
int bms_mb_request(uint8_t *out, size_t cap, uint8_t addr, uint8_t fc, uint16_t a, uint16_t b);
/* Data bytes the answer to a read of count registers (coils for FC 0x01)
 * carries. */
size_t bms_mb_data_bytes(uint8_t fc, uint16_t count);
/* Register reg of an answer's data d to a read that starts at start. */
static inline uint16_t bms_mb_reg(const uint8_t *d, uint16_t start, uint16_t reg)
{
	return bms_be16(d + 2u * (uint16_t)(reg - start));
}
static inline int16_t bms_mb_sreg(const uint8_t *d, uint16_t start, uint16_t reg)
{
	return bms_s16(bms_mb_reg(d, start, reg));
}
/* Two registers from reg on, high word first. */
static inline uint32_t bms_mb_reg32(const uint8_t *d, uint16_t start, uint16_t reg)
{
	return (uint32_t)bms_mb_reg(d, start, reg) << 16 | bms_mb_reg(d, start, (uint16_t)(reg + 1));
}

/* n registers from reg on, as text (bms_ident_text()), into dst[0..cap). */
void bms_mb_text(const uint8_t *d, uint16_t start, uint16_t reg, unsigned n, char *dst, size_t cap);

/* The head that buknuwo's and gobel's maps share (bms/base/mbhead.c), of a read
 * from register 0: current (s16 10 mA, poll's sign), voltage (10 mV), SOC
 * and SOH (%, over 100 BMS_E_RANGE), remaining Ah and full Ah at full_reg
 * (10 mAh; full present only when above 0), cycles (register 7). */
int bms_mb_head(struct bms_poll *poll, const uint8_t *d, uint16_t full_reg);
/* The three problem words from register first on, raw, and BMS_AL_OTHER
 * when one has a bit of its mask (their meanings are not published). */
void bms_mb_problems(struct bms_snapshot *s, const uint8_t *d, uint16_t first, const uint16_t mask[3]);
/* When a block of a register-table protocol is read. */
enum bms_mb_when {
	BMS_MB_LIVE = 0,     /* every poll; an exception fails the try */
	BMS_MB_OPTIONAL,     /* every poll; a BMS that answers it with an exception (or,
	                      * never having answered it, not at all) is polled without
	                      * it, and asked again on refresh polls */
	BMS_MB_IDENT,        /* the identity (struct bms_kept.ident): while unknown, and
	                      * on the first poll of a (re)opened link; an exception or
	                      * silence ends it (BMS_IDENT_NONE) */
	BMS_MB_SETTINGS,     /* the BMS's own settings (struct bms_kept.settings, read
	                      * only): only in a poll marked settings_due, after the
	                      * blocks above; an exception, silence or a broken answer
	                      * ends it and the settings blocks after it, never the
	                      * poll (bms/PROTOCOLS.md §1.8) */
};

/* One read of a poll. */
struct bms_mb_block {
	uint8_t fc;          /* BMS_MB_FC_COILS, _HOLDING or _INPUT */
	uint16_t start, count;
	uint8_t when;        /* enum bms_mb_when */
};

/* A register-table protocol.  Blocks are read in order (live ones first,
 * the identity and the settings last, so that a pack that does not answer
 * at all never has its identity marked missing).  At most 16 blocks: struct bms_poll.persist
 * keeps, per optional block i, bit i "refused" and bit 16 + i "answered". */
struct bms_mb_proto {
	const struct bms_mb_block *blocks;
	uint8_t nblocks;
	uint8_t min_address, max_address; /* others: BMS_E_RANGE */
	/* A Bluetooth-only family (BMS_MB_BLE_LINK: the pack has no address):
	 * every request goes to the slave `device`, whatever poll->address, and
	 * an answer is taken from any slave (one BMS on the link: a Renogy Pro
	 * asked at 0xFF answers from 0x30 or 0xFF).  min_address and
	 * max_address are then not used; another slave's frame counts only as
	 * the answer to the read outstanding. */
	bool ble;
	uint8_t device;
	/* Bluetooth only: bytes every request and answer carries before its
	 * Modbus frame (Saihang's A5 A5), outside the CRC; NULL / 0: none. */
	const uint8_t *prefix;
	uint8_t prefix_len;
	/* Decode the data d[0..n) of block i (n = bms_mb_data_bytes() of it)
	 * into poll->snap (or poll->kept.ident, poll->kept.settings): BMS_OK or
	 * a BMS_E_* code (for a settings block: its answer dropped, the poll
	 * goes on). */
	int (*decode)(struct bms_poll *poll, int block, const uint8_t *d, size_t n);
};

/* The link members of a register-table protocol's struct bms_driver, its
 * addresses lo..hi: Modbus RTU's gap of 3.5 character times (no floor
 * documented), a partial frame abandoned after 0.2 s, answers taken from
 * any address (any_address), a second for an answer. */
#define BMS_MB_LINK(lo, hi) \
	.gap_floor = 0, .interbyte = 0.2, .min_address = (lo), .max_address = (hi), .any_address = true, \
	.default_timeout = 1.0
/* The link members of a Bluetooth-only register-table protocol (struct
 * bms_mb_proto.ble): no address, no gap; the notifications of one answer
 * come within milliseconds, a BMS answers within two seconds. */
#define BMS_MB_BLE_LINK BMS_BLE_LINK
/* The addresses of a Modbus RTU slave (0 is the broadcast). */
#define BMS_MB_ADDR_MIN 1
#define BMS_MB_ADDR_MAX 247

/* The members of a struct bms_driver for a register-table protocol.  With
 * a prefix (struct bms_mb_proto.prefix) requests and frames are the prefix
 * and the Modbus frame: scan() looks for the prefix, takes the Modbus frame
 * after it as below and counts the prefix in a frame's (or a skipped
 * frame's) length; handle() checks and strips it. */
int bms_mb_next_request(const struct bms_mb_proto *pr, struct bms_poll *poll, uint8_t *out, size_t cap);
/* Frames: the answer to the outstanding read (or an exception) from the
 * pack's address (any address with poll->address_any), answers of other
 * addresses and other reads (handle() ignores them); the echo of a request
 * is skipped whole, anything else a byte at a time; a frame of the expected
 * header whose CRC fails is BMS_SCAN_BADSUM. */
enum bms_scan bms_mb_scan(const struct bms_mb_proto *pr, const struct bms_poll *poll, const uint8_t *buf,
			  size_t len, size_t *n);
int bms_mb_handle(const struct bms_mb_proto *pr, struct bms_poll *poll, const uint8_t *frame, size_t len);
bool bms_mb_timeout(const struct bms_mb_proto *pr, struct bms_poll *poll);

/* Listen mode (struct bms_listen.hear): the answer ans to the read req
 * heard before it (rn 0: none, the pack's own answer, told by function
 * code and size) decodes every block of the table the read holds whole;
 * the key is the block (BMS_LISTEN_EXTRA + block for the identity and the
 * settings, which only a heard request attributes). */
int bms_mb_hear(const struct bms_mb_proto *pr, struct bms_poll *poll, const uint8_t *req, size_t rn,
		const uint8_t *ans, size_t an);

/* The block the poll is at (pr->nblocks when it is complete). */
int bms_mb_current(const struct bms_mb_proto *pr, const struct bms_poll *poll);
/* The finish() of a protocol whose samples have no cells (Bluetooth LE
 * packs such as buknuwo, pylon-rt): every block read (a block not due
 * counts as read) and a voltage above 0 (all-zero answers are not data).
 * BMS_OK or BMS_E_INVALID. */
int bms_mb_finish_voltage(const struct bms_mb_proto *pr, const struct bms_poll *poll);

/* Static wrappers <pfx>_next_request, _scan, _handle, _timeout around the
 * functions above for the protocol table `proto` (BMS_MB_IO_FUNCS; its
 * driver's finish() is bms_finish_pack, the sample needs a voltage and
 * cells, or its own where its samples have no cells), for a driver table;
 * BMS_MB_DRIVER_FUNCS adds <pfx>_listen (listen mode: bms_mb_hear()),
 * which a Bluetooth-only protocol has not. */
#define BMS_MB_IO_FUNCS(pfx, proto) \
	static int pfx##_next_request(struct bms_poll *poll, uint8_t *out, size_t cap) \
	{ \
		return bms_mb_next_request(&(proto), poll, out, cap); \
	} \
	static enum bms_scan pfx##_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n) \
	{ \
		return bms_mb_scan(&(proto), poll, buf, len, n); \
	} \
	static int pfx##_handle(struct bms_poll *poll, const uint8_t *frame, size_t len) \
	{ \
		return bms_mb_handle(&(proto), poll, frame, len); \
	} \
	static bool pfx##_timeout(struct bms_poll *poll) \
	{ \
		return bms_mb_timeout(&(proto), poll); \
	}
#define BMS_MB_DRIVER_FUNCS(pfx, proto) \
	BMS_MB_IO_FUNCS(pfx, proto) \
	static int pfx##_hear(struct bms_poll *poll, const uint8_t *req, size_t rn, const uint8_t *ans, size_t an) \
	{ \
		return bms_mb_hear(&(proto), poll, req, rn, ans, an); \
	} \
	static const struct bms_listen pfx##_listen = { bms_bus_modbus_at, pfx##_hear };

#endif
