/* SPDX-License-Identifier: MIT */
/* gateway/wire/can.c - a CAN bus port (see can.h): what both kinds share,
 * and the slcan one.
 *
 * An slcan adapter is a serial link (link.c, 115200 8N1; a USB CDC adapter
 * ignores the rate) whose owner is the port: when the link opens, the
 * adapter is closed, set to the bit rate and opened ("C", "S6", "O"); its
 * replies are parsed by the line codec (slcan.c) fed with whatever read()
 * returned: frames go to the port's owner, acknowledgements are counted,
 * an error (BEL) is logged once until the adapter answers well again.  A
 * frame is written whole or not at all: a line cut in two would garble the
 * next one.
 *
 * A listening port (gw_can_new_listener(), a battery's bus read by a pack)
 * never transmits: gw_can_send() refuses without writing, and the adapter
 * is opened with "L", listen only, which Lawicel's and CanHacker's
 * adapters have (the controller sends no acknowledgement, no error frame).
 * The CANable slcan firmwares have no "L" (an unknown command: BEL) and
 * the Linux slcan driver opens with "O" only; an adapter that refuses "L"
 * is opened with "O" instead, logged once: its controller acknowledges
 * the battery's frames as any node on the bus does, and bmsgw still
 * sends none.  The reply to "L" is the third after the setup (C, S, L):
 * each command gets one, CR or BEL; frames between them are no reply, and
 * what the line held before the setup is drained first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "can.h"
#include "slcan.h"

#define SLCAN_BAUD 115200

struct gw_can {
	struct gw_link_env *env;
	char port[CONF_PORT_MAX];
	bool slcan;
	uint32_t bitrate;
	struct gw_link *link;          /* slcan: the adapter's serial line */
	struct slcan_rx rx;
	bool adapter_error;            /* a BEL was logged; cleared by the next OK */
	bool listen_only;              /* never transmits (gw_can_new_listener()) */
	unsigned setup_replies;        /* replies to the setup commands so far (listen only) */
	bool rerating;                 /* gw_can_set_bitrate(): frames of the old rate until the reply to "C" */
	struct gw_can_sock *sock;      /* SocketCAN */
	bool up;
	const struct gw_can_owner *owner;
	void *arg;
	struct gw_can_stats st;
};

/* ---- what the transports report ---- */

void gw_can_up(struct gw_can *c)
{
	c->up = true;
	c->st.opens++;
	c->owner->up(c->arg);
}

void gw_can_down(struct gw_can *c)
{
	if (!c->up)
		return;
	c->up = false;
	c->owner->down(c->arg);
}

void gw_can_frame_in(struct gw_can *c, const struct gw_can_frame *f)
{
	c->st.rx++;
	c->owner->frame(c->arg, f);
}

/* ---- slcan over a serial link ---- */

static void slcan_up(void *arg)
{
	struct gw_can *c = arg;
	char rate[8];
	int n = slcan_cmd_bitrate(c->bitrate, rate, sizeof(rate));
	slcan_rx_init(&c->rx);
	/* what the line held before (an answer to the last close, frames of a
	 * run before) is no reply to this setup */
	(void)gw_link_drain(c->link);
	/* closed first: an adapter left open by someone else refuses S */
	gw_link_append(c->link, (const uint8_t *)SLCAN_CMD_CLOSE, strlen(SLCAN_CMD_CLOSE));
	if (n > 0)
		gw_link_append(c->link, (const uint8_t *)rate, (size_t)n);
	const char *open = c->listen_only ? SLCAN_CMD_LISTEN : SLCAN_CMD_OPEN;
	gw_link_append(c->link, (const uint8_t *)open, strlen(open));
	c->setup_replies = 0;
	gw_can_up(c);
}

/* Listen only: the third reply of the setup is the one to "L"; a BEL there
 * is an adapter without listen-only mode, opened with "O" instead.  True
 * when the reply was that one (it needs no other handling). */
static bool slcan_setup_reply(struct gw_can *c, bool ok)
{
	if (!c->listen_only || c->setup_replies >= 3)
		return false;
	if (++c->setup_replies < 3)
		return false;
	if (ok)
		return true;
	gw_warn("can %s: the adapter has no listen-only mode (it refused \"L\"): opened with \"O\"; its "
		"controller acknowledges the battery's frames, bmsgw sends none", c->port);
	gw_link_append(c->link, (const uint8_t *)SLCAN_CMD_OPEN, strlen(SLCAN_CMD_OPEN));
	return true;
}

static void slcan_down(void *arg)
{
	gw_can_down(arg);
}

static void slcan_event(struct gw_can *c, const struct slcan_rx_event *ev)
{
	switch (ev->kind) {
	case SLCAN_EV_FRAME:
		if (!c->rerating)
			gw_can_frame_in(c, &ev->frame);
		break;
	case SLCAN_EV_OK:
		c->rerating = false;
		if (slcan_setup_reply(c, true))
			break;
		if (c->adapter_error)
			gw_info("can %s: the adapter accepts commands again", c->port);
		c->adapter_error = false;
		break;
	case SLCAN_EV_ERROR:
		c->rerating = false;
		if (slcan_setup_reply(c, false))
			break;
		c->st.errors++;
		if (!c->adapter_error)
			gw_warn("can %s: the adapter refused a command or a frame (BEL; logged once until it "
				"accepts again)", c->port);
		c->adapter_error = true;
		break;
	case SLCAN_EV_BAD:
	case SLCAN_EV_OVERLONG:
		c->st.errors++;
		break;
	default:
		break; /* transmit acknowledgements, version, serial number, status */
	}
}

static void slcan_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct gw_can *c = arg;
	while (n) {
		struct slcan_rx_event ev;
		size_t used = slcan_rx_feed(&c->rx, p, n, &ev);
		if (ev.kind != SLCAN_EV_NONE)
			slcan_event(c, &ev);
		if (!used)
			break;
		p += used;
		n -= used;
	}
}

static void slcan_nop(void *arg)
{
	(void)arg;
}

static const struct gw_link_owner slcan_owner = { slcan_up, slcan_down, slcan_bytes, slcan_nop, slcan_nop };

static int slcan_send(struct gw_can *c, const struct gw_can_frame *f)
{
	char line[SLCAN_LINE_MAX + 1];
	int n = slcan_encode(f, line, sizeof(line));
	if (n <= 0 || !gw_link_is_up(c->link) || gw_link_room(c->link) < (size_t)n)
		return -1;
	return gw_link_append(c->link, (const uint8_t *)line, (size_t)n) == n ? 0 : -1;
}

/* ---- the port ---- */

static struct gw_can *can_new(struct gw_link_env *env, const char *port, bool slcan, const char *device,
			      uint32_t bitrate, bool listen_only, const struct gw_can_owner *o, void *arg)
{
	struct gw_can *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->env = env;
	snprintf(c->port, sizeof(c->port), "%s", port);
	c->slcan = slcan;
	c->bitrate = bitrate;
	c->listen_only = listen_only;
	c->owner = o;
	c->arg = arg;
	if (slcan) {
		struct gw_line line = { SLCAN_BAUD, 'N', 1 };
		c->link = gw_link_new_port(env, device, NULL, 0, &line);
		if (c->link)
			gw_link_set_owner(c->link, &slcan_owner, c);
	} else {
		c->sock = gw_can_sock_new(env, device, c);
	}
	if (!c->link && !c->sock) {
		free(c);
		return NULL;
	}
	return c;
}

struct gw_can *gw_can_new(struct gw_link_env *env, const char *port, bool slcan, const char *device,
			  uint32_t bitrate, const struct gw_can_owner *o, void *arg)
{
	return can_new(env, port, slcan, device, bitrate, false, o, arg);
}

struct gw_can *gw_can_new_listener(struct gw_link_env *env, const char *port, bool slcan, const char *device,
				   uint32_t bitrate, const struct gw_can_filter *flt, bool transmit,
				   const struct gw_can_owner *o, void *arg)
{
	struct gw_can *c = can_new(env, port, slcan, device, bitrate, !transmit, o, arg);
	if (c && c->sock && flt)
		gw_can_sock_filter(c->sock, flt);
	return c;
}

void gw_can_open(struct gw_can *c)
{
	if (c->slcan)
		gw_link_open(c->link);
	else
		gw_can_sock_open(c->sock);
}

int gw_can_set_bitrate(struct gw_can *c, uint32_t bitrate)
{
	char rate[8];
	int n = slcan_cmd_bitrate(bitrate, rate, sizeof(rate));
	if (!c->slcan || n <= 0)
		return -1; /* a SocketCAN interface's rate is its own (ip link) */
	c->bitrate = bitrate;
	if (!gw_link_is_up(c->link))
		return 0; /* set by the next open's setup */
	gw_link_append(c->link, (const uint8_t *)SLCAN_CMD_CLOSE, strlen(SLCAN_CMD_CLOSE));
	gw_link_append(c->link, (const uint8_t *)rate, (size_t)n);
	const char *open = c->listen_only ? SLCAN_CMD_LISTEN : SLCAN_CMD_OPEN;
	gw_link_append(c->link, (const uint8_t *)open, strlen(open));
	c->setup_replies = 0;
	c->rerating = true;
	return 0;
}

int gw_can_send(struct gw_can *c, const struct gw_can_frame *f)
{
	if (c->listen_only) {
		c->st.dropped++; /* a battery's bus: bmsgw is no node that talks there */
		return -1;
	}
	int rc = c->slcan ? slcan_send(c, f) : gw_can_sock_send(c->sock, f);
	if (rc == 0)
		c->st.tx++;
	else
		c->st.dropped++;
	return rc;
}

bool gw_can_is_up(const struct gw_can *c)
{
	return c->up && (c->slcan ? gw_link_is_up(c->link) : gw_can_sock_is_up(c->sock));
}

void gw_can_stats(const struct gw_can *c, struct gw_can_stats *out)
{
	*out = c->st;
}

void gw_can_free(struct gw_can *c)
{
	if (!c)
		return;
	if (c->link && gw_link_is_up(c->link))
		gw_link_append(c->link, (const uint8_t *)SLCAN_CMD_CLOSE, strlen(SLCAN_CMD_CLOSE));
	gw_link_free(c->link);
	gw_can_sock_free(c->sock);
	free(c);
}
