/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pwrxtreme.c - the PowerXtreme smart BMS over Bluetooth LE,
 * the BMS side of the FFF0 link as a fake BlueZ bridges it to a TCP port
 * (notifications of FFF1 out; nothing is written).
 *
 * bms/PROTOCOLS.md §80.  Its frames are Topband's (sim_topband.c, §34): once
 * a second, unasked, the start byte 0x5E and the 112 hex digits of the
 * 56-byte block with its 16-bit sum; junk=1 puts noise around it; badsum
 * changes the sum's last digit; any request is a bad one.  So this
 * responder is topband's, under its own name and the name a device of it
 * advertises.  Encoded there; bms/ is deliberately not used.
 */
#include "sim.h"

static enum sim_scan px_scan(const uint8_t *buf, size_t len, size_t *n)
{
	return sim_proto_topband.scan(buf, len, n);
}

static int px_address(const uint8_t *req, size_t n)
{
	return sim_proto_topband.address(req, n);
}

static enum sim_resp px_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	return sim_proto_topband.respond(p, req, n, reply);
}

static void px_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_proto_topband.view(p, v);
}

static void px_corrupt(uint8_t *frame, size_t n)
{
	sim_proto_topband.corrupt(frame, n);
}

static enum sim_resp px_emit(struct sim_pack *p, struct sim_reply *reply)
{
	return sim_proto_topband.emit(p, reply);
}

const struct sim_proto sim_proto_pwrxtreme = {
	.name = "pwrxtreme",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = 16,
	.max_temps = 1,
	.scan = px_scan,
	.address = px_address,
	.respond = px_respond,
	.view = px_view,
	.corrupt = px_corrupt,
	.emit = px_emit,
	.emit_ms = 1000,
	.ble_name = "PowerXtreme X20",
};
