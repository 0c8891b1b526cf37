/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_dyness_junior.c - the Dyness Junior box over Bluetooth LE,
 * the BMS side of the FE00 link as a fake BlueZ bridges it to a TCP port
 * (writes to FE01 and FED5 in, notifications of FE02 out).
 *
 * bms/PROTOCOLS.md §82.  On each connection the box answers nothing until
 * it is sent the init AA 55 01 00 00 56 (which it does not answer; the
 * fake writes every characteristic's values to the one port); from then on
 * it answers JBD's reads 0x03 and 0x04 as sim_jbd.c does (§7); a read
 * before the init goes unanswered (silence, not a bad request).  A JBD
 * write (0x5A: factory mode, MOSFETs, settings) or anything else is a bad
 * request.  Encoded in sim_jbd.c; bms/ is deliberately not used.
 */
#include "sim.h"

#include <string.h>

static const uint8_t dj_init[] = { 0xAA, 0x55, 0x01, 0x00, 0x00, 0x56 };

static enum sim_scan dj_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len > 0 && buf[0] == dj_init[0]) {
		size_t k = len < sizeof(dj_init) ? len : sizeof(dj_init);
		if (memcmp(buf, dj_init, k) != 0) {
			*n = 1;
			return SIM_SCAN_BAD;
		}
		if (k < sizeof(dj_init))
			return SIM_SCAN_NEED;
		*n = sizeof(dj_init);
		return SIM_SCAN_FRAME;
	}
	return sim_proto_jbd.scan(buf, len, n);
}

static int dj_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

/* The init opens the box for this connection (the core clears `stream`
 * when a connection ends); then JBD's reads, and nothing else. */
static enum sim_resp dj_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	if (n == sizeof(dj_init) && memcmp(req, dj_init, n) == 0) {
		p->stream = 1;
		return SIM_RESP_NONE;
	}
	if (n < 3 || req[1] != 0xA5 || (req[2] != 0x03 && req[2] != 0x04))
		return SIM_RESP_BAD;
	if (!p->stream)
		return SIM_RESP_NONE; /* not initialised on this connection: silence */
	return sim_proto_jbd.respond(p, req, n, reply);
}

static void dj_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_proto_jbd.view(p, v);
}

static void dj_corrupt(uint8_t *frame, size_t n)
{
	sim_proto_jbd.corrupt(frame, n);
}

const struct sim_proto sim_proto_dyness_junior = {
	.name = "dyness-junior",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = 32,
	.max_temps = 8,
	.scan = dj_scan,
	.address = dj_address,
	.respond = dj_respond,
	.view = dj_view,
	.corrupt = dj_corrupt,
	.ble_name = "R07-A1B2C3",
};
