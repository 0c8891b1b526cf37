/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_mbslave.h - the Modbus RTU slave the simulated register-table
 * BMSs share (seplos3, eg4-ll, renogy, pace-modbus): request framing, CRC,
 * and reads served from a register image, each protocol giving only its
 * readable ranges and the image of a pack.
 *
 *	request   <slave> <fc> <start:2> <count:2> <crc:2>
 *	answer    <slave> <fc> <bytes> <data> <crc:2>
 *	exception <slave> <fc|0x80> <code> <crc:2>
 * CRC-16/MODBUS, low byte first ("MODBUS over Serial Line V1.02",
 * modbus.org); registers big-endian; coils (FC 0x01) eight to a byte, the
 * lowest in bit 0.  A read outside every range of its function code gets
 * exception 02 (illegal data address), another function code exception 01;
 * so does a read that starts at a pack's `refuse` register.
 * Answers carry the pack's address, or its `reply_adr`.  Like every
 * responder, it does not use bms/.
 */
#ifndef BMSGW_SIM_MBSLAVE_H
#define BMSGW_SIM_MBSLAVE_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

#define SIM_MB_REQ_LEN 8
#define SIM_MB_MAX_READ 125  /* registers a read may ask for */
#define SIM_MB_MAX_COILS 2000 /* coils a read may ask for */
#define SIM_MB_RANGE_MAX 256 /* registers (coils) of one range at most */

/* A range a read may fall in: function code 0x01, 0x03 or 0x04, and the
 * registers (or coils) start .. start + count - 1. */
struct sim_mb_range {
	uint8_t fc;
	uint16_t start, count;
};

/* A simulated register-table BMS. */
struct sim_mb_slave {
	const struct sim_mb_range *ranges;
	int nranges;
	/* The values of range i for pack p into v[0..count) (coils: 0 or 1). */
	void (*image)(const struct sim_pack *p, int i, uint16_t *v);
	/* 1 + the range of the BMS's own settings, which a pack with
	 * `nosettings` does not answer; 0: none. */
	int settings;
};

uint16_t sim_mb_crc(const uint8_t *b, size_t n);
/* Appends the CRC of f[0..n) at f[n], returns n + 2. */
size_t sim_mb_put_crc(uint8_t *f, size_t n);
/* sim_proto.scan, .address and .respond for a slave whose addresses are
 * addr_min..addr_max. */
enum sim_scan sim_mb_scan(const uint8_t *buf, size_t len, size_t *n, int addr_min, int addr_max);
int sim_mb_address(const uint8_t *req, size_t n);
enum sim_resp sim_mb_respond(const struct sim_mb_slave *s, struct sim_pack *p, const uint8_t *req, size_t n,
                             struct sim_reply *reply);
/* Static <pfx>_scan and <pfx>_respond for a struct sim_proto: the slave
 * `slave` at the addresses lo..hi. */
#define SIM_MB_FUNCS(pfx, slave, lo, hi) \
	static enum sim_scan pfx##_scan(const uint8_t *buf, size_t len, size_t *n) \
	{ \
		return sim_mb_scan(buf, len, n, (lo), (hi)); \
	} \
	static enum sim_resp pfx##_respond(struct sim_pack *p, const uint8_t *req, size_t n, \
	                                   struct sim_reply *reply) \
	{ \
		return sim_mb_respond(&(slave), p, req, n, reply); \
	}

/* A Bluetooth-only register-table BMS (bms_mb_proto.ble): one BMS on the
 * link, asked at one slave id.  A request to any slave is taken, for the
 * pack (sim_proto.address: 1, the one pack's); the answer carries the slave
 * asked, or the pack's reply_adr. */
enum sim_scan sim_mb_ble_scan(const uint8_t *buf, size_t len, size_t *n);
int sim_mb_ble_address(const uint8_t *req, size_t n);
enum sim_resp sim_mb_ble_respond(const struct sim_mb_slave *s, struct sim_pack *p, const uint8_t *req, size_t n,
                                 struct sim_reply *reply);
/* Static <pfx>_respond for a struct sim_proto of a Bluetooth-only slave
 * (.scan = sim_mb_ble_scan, .address = sim_mb_ble_address). */
#define SIM_MB_BLE_FUNCS(pfx, slave) \
	static enum sim_resp pfx##_respond(struct sim_pack *p, const uint8_t *req, size_t n, \
	                                   struct sim_reply *reply) \
	{ \
		return sim_mb_ble_respond(&(slave), p, req, n, reply); \
	}

/* A Bluetooth-only slave whose frames carry a prefix (bms_mb_proto.prefix,
 * Saihang's A5 A5) pr[0..pl): requests are the prefix and the 8-byte read,
 * every answer (exceptions too) the prefix and the Modbus frame, the CRC
 * over the Modbus frame alone. */
enum sim_scan sim_mb_ble_prefix_scan(const uint8_t *pr, size_t pl, const uint8_t *buf, size_t len, size_t *n);
enum sim_resp sim_mb_ble_prefix_respond(const struct sim_mb_slave *s, const uint8_t *pr, size_t pl,
                                        struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply);
/* Static <pfx>_scan, <pfx>_address and <pfx>_respond for such a slave,
 * its prefix the array `prefix`. */
#define SIM_MB_BLE_PREFIX_FUNCS(pfx, slave, prefix) \
	static enum sim_scan pfx##_scan(const uint8_t *buf, size_t len, size_t *n) \
	{ \
		return sim_mb_ble_prefix_scan((prefix), sizeof(prefix), buf, len, n); \
	} \
	static int pfx##_address(const uint8_t *req, size_t n) \
	{ \
		(void)req; \
		return n < sizeof(prefix) + SIM_MB_REQ_LEN ? -1 : 1; \
	} \
	static enum sim_resp pfx##_respond(struct sim_pack *p, const uint8_t *req, size_t n, \
	                                   struct sim_reply *reply) \
	{ \
		return sim_mb_ble_prefix_respond(&(slave), (prefix), sizeof(prefix), p, req, n, reply); \
	}

/* Text into count registers from v[0] on, two characters each, high byte
 * first, padded with NULs. */
void sim_mb_text(uint16_t *v, unsigned count, const char *text);
/* The pack's first min(ncells, max) cells in mV, at least lo, into mv[],
 * their count into *n; returns the pack voltage in 10 mV: their sum,
 * rounded. */
unsigned sim_mb_cells(const struct sim_pack *p, int max, long lo, unsigned *mv, int *n);
/* The pack's current in 10 mA, + = charging, as an s16 carries it. */
long sim_mb_current_ca(const struct sim_pack *p);
/* v clamped to lo..hi. */
long sim_mb_clamp(long v, long lo, long hi);

#endif
