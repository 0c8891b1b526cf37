/* SPDX-License-Identifier: MIT */
/* gateway/inverter/inv485.c - an inverter on RS485 (any RS485 protocol of
 * the list; codec.h), bmsgw a slave answering the inverter's polls.
 *
 * The port is a link of its own (a serial device or a TCP serial server,
 * 8N1 at `baud`; wire/link.c: reopened with backoff, the outage logged
 * once) whose owner this is.  Whatever read() returned goes to the request
 * assembly (inv485rx.c), which the codec's framer reads; a good request
 * for us is answered at once from the source as it is at that moment: the
 * answer is queued on the port in the same turn of the loop, well within
 * the 50 ms an inverter waits.  A frame the framer rejects (a bad checksum,
 * a bad length, another device's) gets no answer.  Before the source was
 * ever fresh there is no answer (zeros are never data); while it is stale
 * the answers carry zero current limits and charge and discharge disabled;
 * after failsafe_silence there is no answer at all, so that the inverter
 * falls into its own loss-of-communication mode.
 */
#include <stdio.h>
#include <string.h>

#include "../core/log.h"
#include "invout.h"

static void answer(void *arg, const uint8_t *req, size_t n)
{
	struct inv_out *o = arg;
	const struct inv_485_codec *k = &o->codec->rs485;
	double now = gw_mono();
	if (!k->ours(&o->cfg, req, n))
		return; /* another device's */
	o->received++;
	o->last_seen = now;
	struct inv_battery b;
	bool fresh = inv_source(o, now, &b, true);
	inv_update_state(o, gw_link_is_up(o->rs485.link), fresh, now);
	if (!inv_state_speaks(o->state)) {
		o->rs485.unanswered++;
		return;
	}
	static uint8_t out[INV_485_ANSWER_MAX]; /* the loop's one thread: not on its stack */
	struct inv_encoded e = { 0 }; /* a codec sets what it carries: ccl_only stays false */
	int len = k->answer(&o->cfg, &o->rs485.kept, &b, req, n, out, sizeof(out), &e);
	if (len > 0 && gw_link_append(o->rs485.link, out, (size_t)len) == len) {
		inv_485_rx_sent(&o->rs485.rx, out, (size_t)len); /* an adapter may echo it */
		o->sent++;
		if (e.limits)
			o->told = e;
	}
}

/* ---- the port's owner ---- */

static void rs485_tick(struct inv_out *o, double now);

static void port_up(void *arg)
{
	struct inv_out *o = arg;
	inv_485_rx_reset(&o->rs485.rx);
	rs485_tick(o, gw_mono());
}

static void port_down(void *arg)
{
	struct inv_out *o = arg;
	o->state = INV_DOWN;
}

static void port_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct inv_out *o = arg;
	inv_485_rx_feed(&o->rs485.rx, o->codec->rs485.scan, p, n, answer, o);
}

static void port_nop(void *arg)
{
	(void)arg;
}

static const struct gw_link_owner owner = { port_up, port_down, port_bytes, port_nop, port_nop };

static int rs485_start(struct inv_out *o, char *err, size_t errlen)
{
	struct gw_line line = { o->cfg.baud, 'N', 1 };
	o->rs485.link = gw_link_new_port(o->gw->link_env, o->cfg.port, o->cfg.is_tcp ? o->cfg.tcp_host : NULL,
					 o->cfg.tcp_port, &line);
	if (!o->rs485.link) {
		snprintf(err, errlen, "inverter %s: out of memory", o->cfg.name);
		return -1;
	}
	inv_485_rx_init(&o->rs485.rx);
	gw_link_set_owner(o->rs485.link, &owner, o);
	char addr[80] = "";
	if (o->cfg.address > 0) /* 0: a protocol without addresses */
		snprintf(addr, sizeof(addr), ", address %d%s", o->cfg.address,
			 o->cfg.reply_address >= 0 ? " (replies from a fixed address)" : "");
	gw_info("inverter %s: %s on %s%s, source %s", o->cfg.name, o->codec->name, o->cfg.port, addr, o->cfg.source);
	gw_link_open(o->rs485.link);
	return 0;
}

static void rs485_stop(struct inv_out *o)
{
	gw_link_free(o->rs485.link);
	o->rs485.link = NULL;
}

/* Once a second: the state follows the source between polls too (the
 * status page, the log of a source going stale). */
static void rs485_tick(struct inv_out *o, double now)
{
	struct inv_battery b;
	bool fresh = inv_source(o, now, &b, true);
	inv_update_state(o, gw_link_is_up(o->rs485.link), fresh, now);
}

static void rs485_status(const struct inv_out *o, FILE *out)
{
	const uint32_t *v = o->rs485.rx.count;
	fprintf(out, ",\"answers_sent\":%lu,\"requests\":%lu,\"unanswered\":%lu,\"bad_checksum\":%u,"
		"\"bad_length\":%u,\"echoes\":%u", o->sent, o->received, o->rs485.unanswered, v[INV_SCAN_BAD_CHECKSUM],
		v[INV_SCAN_BAD_LENGTH], o->rs485.rx.echoes);
}

const struct inv_kind inv_kind_rs485 = {
	.start = rs485_start,
	.stop = rs485_stop,
	.tick = rs485_tick,
	.status = rs485_status,
};
