/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_daly_can.c - a Daly Smart BMS on its CAN port, as a
 * Lawicel slcan adapter on that bus delivers it to a host (bms/PROTOCOLS.md
 * §41): Daly's UART protocol in CAN frames.  The adapter side: sim_slcan.c.
 *
 * A request of the host is an extended data frame 0x18 cmd 01 40 (cmd 0x90
 * ... 0x98, board 1, host 0x40), while the channel is open for sending
 * ("O": a listen-only channel puts nothing on the bus); the BMS answers each
 * UART answer frame of sim_daly.c's (the same pack, the same values) as one
 * frame 0x18 cmd 40 01 with its 8 data bytes, within 20 ms (the answer goes
 * out with the next emit, so the pack's faults apply to it).  A request
 * with data that is not all 0 (a write) is not answered.  Every transmit
 * line is counted in can_frames_heard as for the other CAN responders, and
 * every one that is not such a read request in the pack's writes.
 */
#include "sim_slcan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DC_ID(cmd, dst, src) (0x18000000u | (unsigned)(cmd) << 16 | (unsigned)(dst) << 8 | (unsigned)(src))

static enum sim_resp dc_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	char line[32];
	if (req[0] != 'T' || n < 11 || n - 1 > sizeof(line) - 1)
		return sim_slcan_respond(p, req, n, reply);
	memcpy(line, req, n - 1);
	line[n - 1] = 0;
	char idtxt[9] = { 0 };
	memcpy(idtxt, line + 1, 8);
	unsigned id = (unsigned)strtoul(idtxt, NULL, 16);
	int dlc = line[9] - '0';
	unsigned cmd = (id >> 16) & 0xFF;
	bool zero = dlc == 8 && strlen(line) == 26 && strspn(line + 10, "0") == 16;
	enum sim_resp res = sim_slcan_respond(p, req, n, reply); /* counted */
	bool read = id == DC_ID(cmd, 0x01, 0x40) && cmd >= 0x90 && cmd <= 0x98 && zero;
	if (!read)
		p->writes++; /* anything but a read request (`state`: writes) */
	else if (p->can_open == 'O')
		p->can_pending = (int)cmd;
	return res;
}

static enum sim_resp dc_emit(struct sim_pack *p, struct sim_reply *reply)
{
	if (!p->can_pending || p->can_open != 'O')
		return SIM_RESP_NONE;
	uint8_t uart[13] = { 0xA5, 0x40, (uint8_t)p->can_pending, 0x08 };
	unsigned sum = 0;
	for (int i = 0; i < 12; i++)
		sum += uart[i];
	uart[12] = (uint8_t)sum;
	p->can_pending = 0;
	static struct sim_reply r;
	memset(&r, 0, sizeof r);
	if (sim_proto_daly.respond(p, uart, sizeof uart, &r) != SIM_RESP_OK)
		return SIM_RESP_NONE;
	size_t off = 0;
	for (int i = 0; i < r.nframes; i++) {
		const uint8_t *f = r.buf + off;
		if (r.frame_end[i] - off == 13)
			sim_slcan_line(reply, 'T', DC_ID(f[2], 0x40, 0x01), f + 4, 8);
		off = r.frame_end[i];
	}
	return reply->nframes ? SIM_RESP_OK : SIM_RESP_NONE;
}

/* What it puts on the bus is what the UART protocol gives. */
static void dc_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_proto_daly.view(p, v);
}

const struct sim_proto sim_proto_daly_can = {
	.name = "daly-can",
	.default_baud = 115200, /* the adapter's serial line */
	.addr_min = 1,
	.addr_max = 1, /* board 1 */
	.max_cells = SIM_LV_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = dc_respond,
	.view = dc_view,
	.corrupt = sim_slcan_corrupt,
	.emit = dc_emit,
	.emit_ms = 20,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
};
