/* SPDX-License-Identifier: MIT */
/* gateway/wire/slcan.c - the Lawicel slcan line codec: frames to lines and
 * a line parser that tolerates everything an adapter says
 * (gateway/inverter/PROTOCOLS.md §5).  See slcan.h. */
#include "slcan.h"

#include <string.h>

#include "../../bms/bms.h"

/* Lawicel CANUSB: S0..S8 */
static const uint32_t slcan_rates[9] = {
	10000, 20000, 50000, 100000, 125000, 250000, 500000, 800000, 1000000,
};

int slcan_bitrate_code(uint32_t bps)
{
	for (int i = 0; i < 9; i++)
		if (slcan_rates[i] == bps)
			return '0' + i;
	return -1;
}

int slcan_cmd_bitrate(uint32_t bps, char *out, size_t cap)
{
	int code = slcan_bitrate_code(bps);

	if (code < 0 || cap < 3)
		return -1;
	out[0] = 'S';
	out[1] = (char)code;
	out[2] = '\r';
	if (cap > 3)
		out[3] = '\0';
	return 3;
}

static void slcan_put_hex(char *p, uint32_t v, int digits)
{
	bms_put_hex((uint8_t *)p, v, (size_t)digits);
}

int slcan_encode(const struct gw_can_frame *f, char *out, size_t cap)
{
	int idlen = f->ext ? 8 : 3;
	size_t len, k = 0;

	if (f->dlc > GW_CAN_MAX_DLC || f->id > (f->ext ? GW_CAN_MAX_EXT_ID : GW_CAN_MAX_STD_ID))
		return -1;
	len = 1 + (size_t)idlen + 1 + (f->rtr ? 0 : 2u * f->dlc) + 1;
	if (cap < len)
		return -1;
	out[k++] = f->rtr ? (f->ext ? 'R' : 'r') : (f->ext ? 'T' : 't');
	slcan_put_hex(out + k, f->id, idlen);
	k += (size_t)idlen;
	out[k++] = (char)('0' + f->dlc);
	for (unsigned i = 0; !f->rtr && i < f->dlc; i++, k += 2)
		slcan_put_hex(out + k, f->data[i], 2);
	out[k++] = '\r';
	if (cap > len)
		out[len] = '\0';
	return (int)len;
}

void slcan_rx_init(struct slcan_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

/* n hex digits at p (n <= 8); false if one is not a hex digit. */
static bool slcan_hexn(const char *p, size_t n, uint32_t *v)
{
	return bms_hexn((const uint8_t *)p, n, v);
}

/* t/T/r/R line: the frame, an optional 4-digit timestamp after it. */
static bool slcan_parse_frame(const char *l, size_t len, struct slcan_rx_event *ev)
{
	bool ext = l[0] == 'T' || l[0] == 'R', rtr = l[0] == 'r' || l[0] == 'R';
	size_t idlen = ext ? 8 : 3, k = 1 + idlen + 1, rest;
	uint32_t id, v;
	struct gw_can_frame *f = &ev->frame;

	if (len < k || !slcan_hexn(l + 1, idlen, &id) || l[k - 1] < '0' || l[k - 1] > '8')
		return false;
	if (id > (ext ? GW_CAN_MAX_EXT_ID : GW_CAN_MAX_STD_ID))
		return false;
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->ext = ext;
	f->rtr = rtr;
	f->dlc = (uint8_t)(l[k - 1] - '0');
	for (unsigned i = 0; !rtr && i < f->dlc; i++, k += 2) {
		if (k + 2 > len || !slcan_hexn(l + k, 2, &v))
			return false;
		f->data[i] = (uint8_t)v;
	}
	rest = len - k;
	if (rest == 4 && slcan_hexn(l + k, 4, &v)) {
		ev->has_time = true;
		ev->time_ms = (uint16_t)v;
		return true;
	}
	return rest == 0;
}

/* One complete line (terminator stripped) to its event. */
static enum slcan_event slcan_parse_line(struct slcan_rx *rx, struct slcan_rx_event *ev)
{
	const char *l = rx->line;
	size_t len = rx->len;
	uint32_t v;

	if (len == 0)
		return SLCAN_EV_OK;
	switch (l[0]) {
	case 't': case 'T': case 'r': case 'R':
		return slcan_parse_frame(l, len, ev) ? SLCAN_EV_FRAME : SLCAN_EV_BAD;
	case 'z': case 'Z':
		return len == 1 ? SLCAN_EV_TX_ACK : SLCAN_EV_BAD;
	case 'F':
		if (len != 3 || !slcan_hexn(l + 1, 2, &v))
			return SLCAN_EV_BAD;
		ev->status = (uint8_t)v;
		return SLCAN_EV_STATUS;
	case 'V': case 'v': case 'N':
		for (size_t i = 1; i < len; i++)
			if (l[i] < 0x20 || l[i] > 0x7E)
				return SLCAN_EV_BAD;
		memcpy(ev->text, l + 1, len - 1);
		ev->text[len - 1] = '\0';
		return l[0] == 'N' ? SLCAN_EV_SERIAL : SLCAN_EV_VERSION;
	default:
		return SLCAN_EV_BAD;
	}
}

static void slcan_count(struct slcan_rx *rx, enum slcan_event e)
{
	switch (e) {
	case SLCAN_EV_FRAME: rx->frames++; break;
	case SLCAN_EV_OK: rx->oks++; break;
	case SLCAN_EV_ERROR: rx->errors++; break;
	case SLCAN_EV_TX_ACK: rx->acks++; break;
	case SLCAN_EV_VERSION: case SLCAN_EV_SERIAL: case SLCAN_EV_STATUS: rx->replies++; break;
	case SLCAN_EV_BAD: rx->bad++; break;
	case SLCAN_EV_OVERLONG: rx->overlong_lines++; break;
	default: break;
	}
}

size_t slcan_rx_feed(struct slcan_rx *rx, const uint8_t *p, size_t n, struct slcan_rx_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '\a') {
			/* a refused command: a partial line before it is lost */
			if (rx->len || rx->overlong)
				rx->bad++;
			ev->kind = SLCAN_EV_ERROR;
		} else if (c == '\r' || c == '\n') {
			if (c == '\n' && rx->len == 0 && !rx->overlong)
				continue;
			ev->kind = rx->overlong ? SLCAN_EV_OVERLONG : slcan_parse_line(rx, ev);
		} else {
			if (rx->overlong)
				continue;
			if (rx->len >= SLCAN_LINE_MAX - 1)
				rx->overlong = true;
			else
				rx->line[rx->len++] = (char)c;
			continue;
		}
		slcan_count(rx, ev->kind);
		rx->len = 0;
		rx->overlong = false;
		return i + 1;
	}
	return n;
}
