/* gateway/inverter/inv485.c - an inverter on RS485 (codec.h: pylon-rs485),
 * bmsgw a slave answering the inverter's polls.
 *
 * The port is a link of its own (a serial device or a TCP serial server,
 * 8N1 at `baud`; wire/link.c: reopened with backoff, the outage logged
 * once) whose owner this is.  Whatever read() returned goes to the request
 * framer (pylon_rs485.c); a good request for us is answered at once from
 * the source as it is at that moment: the reply is queued on the port in
 * the same turn of the loop, well within the 50 ms an inverter waits.  A
 * bad checksum, a bad LENGTH checksum or another address gets no answer.
 * Before the source was ever fresh there is no answer (zeros are never
 * data); while it is stale the answers carry zero current limits and
 * charge and discharge disabled; after failsafe_silence there is no answer
 * at all, so that the inverter falls into its own loss-of-communication
 * mode.
 */
#include <stdio.h>
#include <string.h>

#include "../core/log.h"
#include "invout.h"

static void answer(struct inv_out *o, const struct pylon485_req *req)
{
	double now = gw_mono();
	if (!o->codec->wants(&o->pc, req))
		return; /* another battery's, or another device type */
	o->received++;
	o->last_seen = now;
	struct inv_battery b;
	bool fresh = inv_source(o, now, &b, true);
	inv_update_state(o, gw_link_is_up(o->link), fresh, now);
	if (!inv_state_speaks(o->state)) {
		o->unanswered++;
		return;
	}
	static uint8_t out[PYLON485_REPLY_MAX]; /* the loop's one thread: not on its stack */
	int n = o->codec->reply(&o->pc, req, &b, out, sizeof(out));
	if (n > 0 && gw_link_append(o->link, out, (size_t)n) == n)
		o->sent++;
}

/* ---- the port's owner ---- */

static void port_up(void *arg)
{
	struct inv_out *o = arg;
	pylon485_framer_init(&o->fr);
	inv_485_tick(o, gw_mono());
}

static void port_down(void *arg)
{
	struct inv_out *o = arg;
	o->state = INV_DOWN;
}

static void port_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct inv_out *o = arg;
	while (n) {
		struct pylon485_req req;
		bool got = false;
		size_t used = pylon485_feed(&o->fr, p, n, &req, &got);
		if (got)
			answer(o, &req);
		if (!used)
			break;
		p += used;
		n -= used;
	}
}

static void port_nop(void *arg)
{
	(void)arg;
}

static const struct gw_link_owner owner = { port_up, port_down, port_bytes, port_nop, port_nop };

int inv_485_start(struct inv_out *o, char *err, size_t errlen)
{
	struct gw_line line = { o->cfg.baud, 'N', 1 };
	o->link = gw_link_new_port(&o->gw->link_env, o->cfg.port, o->cfg.is_tcp ? o->cfg.tcp_host : NULL,
				   o->cfg.tcp_port, &line);
	if (!o->link) {
		snprintf(err, errlen, "inverter %s: out of memory", o->cfg.name);
		return -1;
	}
	o->pc = (struct pylon485_cfg){ .address = (uint8_t)o->cfg.address, .reply_address = o->cfg.reply_address,
				       .ver = o->cfg.ver == CONF_VER_ECHO ? PYLON485_VER_ECHO : o->cfg.ver,
				       .flags = o->cfg.current_unit == CONF_CURRENT_10MA ? PYLON485_CUR_10MA : 0,
				       .battery_name = o->cfg.manufacturer };
	pylon485_framer_init(&o->fr);
	gw_link_set_owner(o->link, &owner, o);
	gw_info("inverter %s: %s on %s, address %d%s, source %s", o->cfg.name, o->codec->name, o->cfg.port,
		o->cfg.address, o->cfg.reply_address >= 0 ? " (replies from a fixed address)" : "", o->cfg.source);
	gw_link_open(o->link);
	return 0;
}

void inv_485_stop(struct inv_out *o)
{
	gw_link_free(o->link);
	o->link = NULL;
}

/* Once a second: the state follows the source between polls too (the
 * status page, the log of a source going stale). */
void inv_485_tick(struct inv_out *o, double now)
{
	struct inv_battery b;
	bool fresh = inv_source(o, now, &b, true);
	inv_update_state(o, gw_link_is_up(o->link), fresh, now);
}

void inv_485_status(const struct inv_out *o, FILE *out)
{
	fprintf(out, ",\"answers_sent\":%lu,\"requests\":%lu,\"unanswered\":%lu,\"bad_checksum\":%u,"
		"\"bad_length\":%u", o->sent, o->received, o->unanswered, o->fr.bad_checksum, o->fr.bad_length);
}
