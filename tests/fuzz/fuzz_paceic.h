/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_paceic.h - what the targets of the paceic ASCII drivers
 * (fuzz_pace.c ...) share: whole polls of a "paceic" ASCII driver (VER, CID1 and
 * start character of its own), driven the way gateway/poll/poller.c drives
 * it (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	address (any byte: invalid ones must fail cleanly)
 *	byte 1	bit 6 set: cells_forced = bits 0..5, else 0; bit 7
 *		poll.settings_due on every poll (the BMS's own settings, where
 *		the driver has a settings step)
 *	byte 2	bit 0 invert_current, bits 2..3 retries, bit 5 refresh on
 *		every poll, bit 6 the first poll is the first of a new link
 *		(the identity asked even if known), bit 7 address_any
 *	byte 3	(FUZZ_GROUP only) bits 0..3 position (0: none), bit 4 with a
 *		group for the other packs' records
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	a synthesised frame with a correct checksum: the next
 *			byte K picks the start character (bit 0: FUZZ_SOI2),
 *			another address (bit 1: address + 1), a return code
 *			(bit 2: 04), the device type (bit 3: CID1 0x46 instead
 *			of FUZZ_CID1), the next byte L the INFO length, and the
 *			L bytes after it the INFO; the frame arrives as one
 *			read.  A mutator cannot forge the checksums, so this
 *			reaches the decoders with arbitrary INFO.
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 *
 * The including file defines, before including this:
 *	FUZZ_DRIVER	the driver table
 *	FUZZ_VER	VER of its requests
 *	FUZZ_CID1	CID1 of its requests and answers
 *	FUZZ_SOI2	another start character its answers may have ('~' if none)
 *	FUZZ_NEVER	BMS_HAS_* bits the protocol never reports
 *	fuzz_addr_ok(a)	is a a valid address
 *	fuzz_request(s, cid2, info, n)	check a request's command and INFO
 * and FUZZ_GROUP when the driver takes `position`.
 */
#ifndef TESTS_FUZZ_PACEIC_H
#define TESTS_FUZZ_PACEIC_H

#include "fuzz_drive.h"

static int pz_hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* requests are upper-case */
}

static unsigned pz_byte(const uint8_t *p)
{
	int h = pz_hex(p[0]), l = pz_hex(p[1]);
	REQUIRE(h >= 0 && l >= 0);
	return (unsigned)(h << 4 | l);
}

static void pz_put(uint8_t *p, unsigned v, int digits)
{
	static const char h[] = "0123456789ABCDEF";
	for (int i = 0; i < digits; i++)
		p[i] = (uint8_t)h[(v >> (4 * (digits - 1 - i))) & 0xF];
}

/* A request is a well-formed frame: SOI VER ADR CID1 CID2 LENGTH INFO CHKSUM CR. */
static void pz_check_request(const struct fd *s, const uint8_t *req, int n)
{
	unsigned sum = 0;
	uint8_t info[32];

	REQUIRE(n >= 18 && n % 2 == 0);
	REQUIRE((req[0] == '~' || req[0] == FUZZ_SOI2) && req[n - 1] == '\r');
	for (int i = 1; i < n - 5; i++)
		sum += req[i];
	REQUIRE((pz_byte(req + n - 5) << 8 | pz_byte(req + n - 3)) == ((~sum + 1) & 0xFFFF));
	REQUIRE(pz_byte(req + 1) == FUZZ_VER);
	REQUIRE(pz_byte(req + 3) == s->address);
	REQUIRE(pz_byte(req + 5) == FUZZ_CID1);
	unsigned length = pz_byte(req + 9) << 8 | pz_byte(req + 11), lenid = length & 0xFFF;
	REQUIRE(lenid == (unsigned)n - 18);
	unsigned ls = (lenid & 0xF) + ((lenid >> 4) & 0xF) + ((lenid >> 8) & 0xF);
	REQUIRE(length >> 12 == ((~ls + 1) & 0xF));
	REQUIRE(lenid / 2 <= sizeof(info));
	for (unsigned i = 0; i < lenid / 2; i++)
		info[i] = (uint8_t)pz_byte(req + 13 + 2 * i);
	fuzz_request(s, pz_byte(req + 7), info, lenid / 2);
}

static void pz_check_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 18 && (f[0] == '~' || f[0] == FUZZ_SOI2) && f[n - 1] == '\r');
}

static void pz_check_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0.0f && sn->soh <= 100.0f);
	if (sn->ntemps)
		REQUIRE(sn->present & BMS_HAS_TEMPS);
}

/* The settings shown are only keys the driver announces, read only in a
 * poll marked due, each inside its field's range. */
static void pz_check_handled(const struct fd *s, int rc, size_t n)
{
	(void)rc;
	(void)n;
	fd_check_due_settings(s, -50.0f, 150.0f, 0.0f, 655.35f); /* pace: a 0 s delay is a reading */
}

static size_t pz_config(struct fd *s, const uint8_t *d, size_t size)
{
#ifdef FUZZ_GROUP
	const size_t need = 4;
#else
	const size_t need = 3;
#endif
	if (size < need)
		return 0;
	fd_rack_config(s, d);
	s->settings_due = (d[1] & 0x80) != 0;
#ifdef FUZZ_GROUP
	s->position = d[3] & 0x0F;
	s->group = (d[3] & 0x10) != 0;
#endif
	return need;
}

/* E == 0xFF: a frame with a correct checksum built from the input. */
static size_t pz_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	uint8_t f[18 + 2 * 255];
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail < 2)
		return avail;
	uint8_t k = p[0], l = p[1];
	size_t used = 2, n = l < avail - used ? l : avail - used;
	f[0] = (k & 1) ? FUZZ_SOI2 : '~';
	pz_put(f + 1, FUZZ_VER, 2);
	pz_put(f + 3, (k & 2) ? (uint8_t)(s->address + 1) : s->address, 2);
	pz_put(f + 5, (k & 8) ? 0x46 : FUZZ_CID1, 2);
	pz_put(f + 7, (k & 4) ? 0x04 : 0x00, 2);
	unsigned lenid = (unsigned)(2 * n), ls = (lenid & 0xF) + ((lenid >> 4) & 0xF) + ((lenid >> 8) & 0xF);
	pz_put(f + 9, (((~ls + 1) & 0xF) << 12) | lenid, 4);
	for (size_t i = 0; i < n; i++)
		pz_put(f + 13 + 2 * i, p[used + i], 2);
	unsigned sum = 0;
	for (size_t i = 1; i < 13 + 2 * n; i++)
		sum += f[i];
	pz_put(f + 13 + 2 * n, (~sum + 1) & 0xFFFF, 4);
	f[17 + 2 * n] = '\r';
	fd_bytes(s, f, 18 + 2 * n);
	return used + n;
}

static const struct fd_target pz_target = {
	.drv = &FUZZ_DRIVER,
	.config = pz_config,
	.event = pz_event,
	.addr_ok = fuzz_addr_ok,
	.request = pz_check_request,
	.max_cells = BMS_MAX_CELLS,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = BMS_MAX_RAW_ALARMS,
	.max_state = 2,
	.never = FUZZ_NEVER,
	.snap = pz_check_snap,
	.frame = pz_check_frame,
	.handled = pz_check_handled,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT) |
	       FD_RC(BMS_E_HEADER) | FD_RC(BMS_E_REFUSED),
	.step = FD_STEP_ON,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS,
	.ok_volts = true,
	.forced_at_most = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fd_run(&pz_target, data, size);
}

#endif
