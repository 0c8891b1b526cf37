/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_slcan.c - the Lawicel slcan adapter every CAN responder
 * (sim_pylon_can.c, sim_jk_can.c ...) plays on its battery's bus: the
 * host's lines, the adapter's answers to its commands, the lines of the
 * frames it received from the bus.  See sim_slcan.h. */
#include "sim_slcan.h"

#include <stdio.h>
#include <string.h>

void sim_slcan_line(struct sim_reply *reply, char kind, unsigned id, const uint8_t *d, int dlc)
{
	char buf[40];
	int n = kind == 'T' || kind == 'R' ? snprintf(buf, sizeof buf, "%c%08X%d", kind, id, dlc)
					   : snprintf(buf, sizeof buf, "%c%03X%d", kind, id, dlc);
	for (int i = 0; kind != 'r' && kind != 'R' && i < dlc; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%02X", d[i]);
	buf[n++] = '\r';
	sim_reply_add(reply, (const uint8_t *)buf, (size_t)n);
}

void sim_slcan_put16(uint8_t *d, long v)
{
	d[0] = (uint8_t)((unsigned long)v & 0xFF);
	d[1] = (uint8_t)(((unsigned long)v >> 8) & 0xFF);
}

enum sim_scan sim_slcan_scan(const uint8_t *buf, size_t len, size_t *n)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\r' && buf[i] != '\n')
			continue;
		*n = i + 1;
		return i == 0 ? SIM_SCAN_SKIP : SIM_SCAN_FRAME;
	}
	if (len > 64) {
		*n = len; /* no adapter line is this long */
		return SIM_SCAN_BAD;
	}
	return SIM_SCAN_NEED;
}

int sim_slcan_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	struct sim_pack *p = sim_bus_pack(0);
	return p ? p->address : -1;
}

enum sim_resp sim_slcan_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	const char *ans = "\r";
	(void)n;
	switch (req[0]) {
	case 't': case 'T': case 'r': case 'R':
		p->can_heard++; /* never put on the bus, never answered */
		return SIM_RESP_NONE;
	case 'C':
		p->can_open = 0;
		break;
	case 'O':
		p->can_open = 'O';
		break;
	case 'L':
		if (p->no_listen)
			ans = "\a";
		else
			p->can_open = 'L';
		break;
	case 'S':
		p->can_rate = n > 1 ? req[1] : 0;
		break;
	case 'V':
		ans = "V1013\r";
		break;
	case 'N':
		ans = "NSIM0\r";
		break;
	case 'F':
		ans = "F00\r";
		break;
	default:
		ans = "\a";
		break;
	}
	sim_reply_add(reply, (const uint8_t *)ans, strlen(ans));
	return SIM_RESP_OK;
}

void sim_slcan_corrupt(uint8_t *frame, size_t n)
{
	size_t at = frame[0] == 'T' || frame[0] == 'R' ? 9 : 4;
	if (n > at)
		frame[at] = '9';
}
