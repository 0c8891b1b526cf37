/* SPDX-License-Identifier: MIT */
/* gateway/wire/canlink.c - the CAN transport of a link: a pack whose port
 * is a CAN bus (a SocketCAN interface, or an slcan adapter) listens to a
 * battery talking to its inverter, and never transmits, unless its
 * protocol needs a request (daly-can): then it sends that pack's read
 * requests and nothing else.
 *
 * The link owns a listening CAN port (can.h, gw_can_new_listener(); its
 * l->tr_data, made at the first open): the
 * driver's bit rate and identifiers (struct bms_can: bitrate,
 * id, mask, ext_id, ext_mask), SocketCAN with that receive
 * filter, an slcan adapter opened listen only (with "O" for a protocol
 * that sends its requests).  Every frame it receives goes to the link's owner as
 * one record (bms.h: BMS_CAN_MAGIC0 ...), whole, as a BLE advertisement
 * goes to victron-ble's framer.  The port reopens itself with the shared
 * backoff (its outage logged once by can.c / socketcan.c / the adapter's
 * serial link): the link is up while the port is, down while it is not
 * (gw_link_lost(): its owner's polls fail "link down"), and never reopens
 * it on its own.  Nothing else is ever written: a write for a listen_only
 * driver (which none asks for) is dropped and logged; a requesting
 * driver's request, one record a frame, goes out as its frames.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/log.h"
#include "can.h"
#include "wire_int.h"

static void cl_up(void *arg)
{
	struct gw_link *l = arg;
	if (l->state != GW_LINK_UP)
		gw_link_up(l);
}

static void cl_down(void *arg)
{
	/* quietly: the port logged the outage, and reopens itself */
	gw_link_lost(arg);
}

/* A frame of the bus, as a record to the link's owner (while the link is
 * up: a frame between a poll's end and the next is dropped by the owner). */
static void cl_frame(void *arg, const struct gw_can_frame *f)
{
	struct gw_link *l = arg;
	uint8_t rec[BMS_CAN_REC_MAX];
	if (l->state != GW_LINK_UP)
		return;
	size_t n = bms_can_record(rec, sizeof(rec), f->id, f->ext, f->rtr, f->dlc, f->data);
	if (n)
		gw_link_bytes(l, rec, n);
}

static const struct gw_can_owner cl_owner = { cl_up, cl_down, cl_frame };

static void cl_open(struct gw_link *l)
{
	struct gw_can *c = l->tr_data;
	if (c) {
		/* the port opens itself again after an outage: up once it is */
		if (gw_can_is_up(c))
			gw_link_up(l);
		else
			gw_link_lost(l);
		return;
	}
	const struct conf_pack *cfg = l->cfg;
	const struct bms_driver *d = cfg ? cfg->driver : NULL;
	if (!d || !d->can) {
		gw_link_failed(l, "open", EINVAL);
		return;
	}
	struct gw_can_filter flt = { d->can->id, d->can->mask, d->can->ext_id, d->can->ext_mask };
	uint32_t rate = cfg->bitrate > 0 ? (uint32_t)cfg->bitrate : d->can->bitrate;
	c = gw_can_new_listener(l->env, cfg->port, cfg->is_slcan, cfg->can_device, rate, &flt, !d->listen_only,
				&cl_owner, l);
	if (!c) {
		gw_link_failed(l, "open", ENOMEM);
		return;
	}
	l->tr_data = c;
	gw_can_open(c);
	if (!gw_can_is_up(c))
		gw_link_lost(l); /* it failed, or opens later: polls fail "link down" until then */
}

/* The link closes (a poller's reopen, a reload): the port stays as it is;
 * release() frees it with the link. */
static void cl_close(struct gw_link *l)
{
	(void)l;
}

/* The driver's requests (a protocol that needs them: never a listen_only
 * one), as records: each one frame, sent whole or dropped (the port counts
 * it; the poll's wait then ends without an answer).  A listening port
 * refuses them all. */
static int cl_write(struct gw_link *l)
{
	const struct conf_pack *cfg = l->cfg;
	size_t off = l->txoff;
	if (!cfg || !cfg->driver || cfg->driver->listen_only) {
		gw_err("link %s: a CAN bus a pack listens to is never written to: %zu bytes dropped", l->port,
		       l->txlen - l->txoff);
		off = l->txlen;
	}
	while (off < l->txlen) {
		size_t n = 0;
		struct bms_can_msg m;
		if (bms_can_scan(l->tx + off, l->txlen - off, &n) != BMS_SCAN_FRAME ||
		    bms_can_parse(l->tx + off, n, &m) != BMS_OK || m.rtr) {
			gw_err("link %s: %zu bytes that are no CAN frame dropped", l->port, l->txlen - off);
			break;
		}
		struct gw_can_frame f = { .id = m.id, .dlc = m.dlc, .ext = m.ext };
		memcpy(f.data, m.data, sizeof(f.data));
		(void)gw_can_send(l->tr_data, &f);
		off += n;
	}
	l->txlen = l->txoff = 0;
	return 0;
}

static void cl_release(struct gw_link *l)
{
	gw_can_free(l->tr_data);
	l->tr_data = NULL;
}

const struct gw_transport gw_transport_can = {
	.name = "can",
	.bms_link = BMS_LINK_WIRE,
	.messages = true,
	.fds = 2, /* the socket or the adapter's serial device, the poll timerfd */
	/* a quiet bus is a silent battery: stale by age, nothing to reopen */
	.silent_reopen = 0,
	.open = cl_open,
	.close = cl_close,
	.write = cl_write,
	.release = cl_release,
};
