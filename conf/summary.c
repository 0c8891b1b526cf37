/* SPDX-License-Identifier: MIT */
/* conf/summary.c - what bmsgw --check prints: the configuration as it was
 * loaded, with every default filled in and every derived value (wires,
 * gaps, register ranges) worked out, one part per section.
 */
#include "conf_int.h"

#include <string.h>

#include "../bms/bms.h"


/* Where a pack is: "tcp 192.168.1.50:8899" or "/dev/ttyUSB0 @ 9600 8N1". */
static void fmt_link(char *buf, size_t cap, const struct conf_pack *p)
{
	if (p->is_tcp) {
		char hp[CONF_HOST_MAX + 16];
		conf_fmt_hostport(hp, sizeof(hp), p->tcp_host, p->tcp_port);
		conf_bfmt(buf, cap, "tcp %s", hp);
	} else if (p->is_ble) {
		conf_bfmt(buf, cap, "ble %s", p->ble_addr);
	} else if (p->is_mqtt) {
		char hp[CONF_HOST_MAX + 16];
		conf_fmt_hostport(hp, sizeof(hp), p->broker.host, p->broker.port);
		conf_bfmt(buf, cap, "mqtt %s on %s%s", p->topic, hp, p->broker.tls ? " (TLS)" : "");
	} else if (p->is_can) {
		conf_bfmt(buf, cap, "%s %s (%s, %u kbit/s, %s)", p->is_slcan ? "slcan" : "can", p->can_device,
		     p->is_slcan ? "serial CAN adapter" : "SocketCAN", (unsigned)(p->bitrate / 1000),
		     p->driver && !p->driver->listen_only ? "its read requests only" : "listen only");
	} else {
		conf_bfmt(buf, cap, "%s @ %d 8N1", p->port, p->baud);
	}
}

/* [gateway] listen = (empty): no server on 502, and the section that serves
 * the map instead, if one does (section.h: serves_map). */
static void print_listen_off(const struct conf *c, FILE *out)
{
	const struct conf_section *s, *by = NULL;
	for (int i = 0; !by && (s = conf_section_nth(i)); i++)
		if (s->serves_map && conf_section_on(c, s))
			by = s;
	fprintf(out, "  listen        off (no Modbus TCP server on 502%s%s%s)\n", by ? "; [" : "", by ? by->word : "",
	        by ? "] serves the map" : "");
}

/* The first line and [gateway]. */
static void print_gateway(const struct conf *c, FILE *out)
{
	const struct conf_gateway *g = &c->gw;
	char hp[CONF_HOST_MAX + 16];
	int nwires = 0;

	for (int i = 0; i < c->npacks; i++) {
		int j = 0;
		while (j < i && strcmp(c->packs[j].port, c->packs[i].port) != 0)
			j++;
		nwires += j == i;
	}

	conf_fmt_hostport(hp, sizeof(hp), g->listen_host, g->listen_port);
	fprintf(out, "configuration %s: %d pack%s on %d wire%s\n", c->file, c->npacks,
	        c->npacks == 1 ? "" : "s", nwires, nwires == 1 ? "" : "s");
	fprintf(out, "gateway\n");
	if (g->site[0])
		fprintf(out, "  site          %s (/metrics label site=\"%s\", /api/state, MQTT topic prefix default, "
		        "Home Assistant names)\n", g->site, g->site);
	if (g->listen_port)
		fprintf(out, "  listen        %s (Modbus TCP, at most %d clients, idle timeout %g s)\n", hp,
		        g->max_clients, g->idle_timeout);
	else
		print_listen_off(c, out);
	fprintf(out, "  registers     base %d (holding registers %d..%d), floats %s (%s)\n", g->base, g->base,
	        g->base + REG_MAP_SIZE - 1, conf_key_word(&conf__keys[K_FLOAT_ORDER], (int)g->float_order),
	        g->float_order == REG_FLOAT_CDAB ? "low word first" : "high word first");
	fprintf(out, "  stale after   %g s: %s\n", g->stale_after,
	        g->stale_policy == CONF_STALE_EXCEPTION ? "exception 0x0B"
	                                                : "flag (last values, online=0, failure=1)");
	fprintf(out, "  log level     %s\n", conf_key_word(&conf__keys[K_LOG_LEVEL], (int)g->log_level));
	fprintf(out, "  control from  %s\n", g->control_clients.n ? g->control_clients.text
	                                   : "nobody (control_clients is empty: every write is refused)");
	fprintf(out, "  state file    %s\n", strcmp(g->state_file, "none") == 0 ? "none (energy counters kept in memory only)"
	                                   : g->state_file[0] ? g->state_file
	                                   : "automatic ($STATE_DIRECTORY/state, else /var/lib/bmsgw/state)");
}

/* One line per [pack.*], in columns. */
static void print_packs(const struct conf *c, FILE *out)
{
	char link[CONF_PORT_MAX + 32];
	int wname = 4, wlink = 4;
	for (int i = 0; i < c->npacks; i++) {
		int n = (int)strlen(c->packs[i].name);
		wname = n > wname ? n : wname;
		fmt_link(link, sizeof(link), &c->packs[i]);
		n = (int)strlen(link);
		wlink = n > wlink ? n : wlink;
	}
	fprintf(out, "packs\n");
	for (int i = 0; i < c->npacks; i++) {
		const struct conf_pack *p = &c->packs[i];
		fmt_link(link, sizeof(link), p);
		fprintf(out, "  %-*s  unit %3d  %-12s %-*s  address %-3d", wname, p->name, p->unit_id,
		        p->driver ? p->driver->name : "?", wlink, link, p->address);
		if (p->listen)
			fprintf(out, "  listens: another master polls this bus, nothing is written%s",
			        p->takeover_after > 0 ? "" : " (never taken over)");
		else
			fprintf(out, "  poll %g s  timeout %g s  retries %d", p->poll_interval, p->timeout, p->retries);
		if (p->listen && p->takeover_after > 0)
			fprintf(out, " until no master is heard for %g s (then polled every %g s)", p->takeover_after,
			        p->poll_interval);
		if (p->cells)
			fprintf(out, "  cells %d (forced)", p->cells);
		if (p->invert_current)
			fprintf(out, "  current inverted");
		if (p->position)
			fprintf(out, "  position %d in the answer for all", p->position);
		if (p->address_any)
			fprintf(out, "  answers from any address");
		if (p->control)
			fprintf(out, "  MOSFET control (timeout %g s)", p->control_timeout);
		if (p->is_tcp && p->driver && p->baud != p->driver->default_baud)
			fprintf(out, "  (baud %d: the serial server's line rate, for the gap)", p->baud);
		fputc('\n', out);
	}
}

/* One line per wire: its packs and the silence before each request. */
static void print_wires(const struct conf *c, FILE *out)
{
	char link[CONF_PORT_MAX + 32];
	fprintf(out, "wires\n");
	for (int i = 0; i < c->npacks; i++) {
		const struct conf_pack *p = &c->packs[i];
		int j = 0, n = 0;
		while (j < i && strcmp(c->packs[j].port, p->port) != 0)
			j++;
		if (j < i)
			continue; /* listed with the first pack on this port */
		for (j = i; j < c->npacks; j++)
			n += strcmp(c->packs[j].port, p->port) == 0;
		fmt_link(link, sizeof(link), p);
		fprintf(out, "  %s: ", link);
		for (j = i; j < c->npacks; j++)
			if (strcmp(c->packs[j].port, p->port) == 0)
				fprintf(out, "%s%s", j == i ? "" : ", ", c->packs[j].name);
		if (n > 1)
			fprintf(out, " (shared by %d packs, polled in turn)", n);
		if (p->is_mqtt) {
			fprintf(out, "; subscribed as %s-in-%s, nothing published (a poll waits for the next message; "
				"stale after %g s without a good one)\n", p->broker.client_id, p->name,
				p->stale_after > 0 ? p->stale_after : c->gw.stale_after);
			continue;
		}
		if (p->is_can) {
			fprintf(out, "%s\n", p->driver && !p->driver->listen_only
				? "; bmsgw sends only the protocol's read requests (a poll asks, then waits for the answers)"
				: "; bmsgw sends no frame (the battery talks, a poll listens for a whole cycle)");
			continue;
		}
		/* the silence before each request: the wire's own, or its `gap` */
		double g0 = conf_pack_gap(p, false);
		fprintf(out, "; gap %.1f ms%s", g0 * 1000,
		        p->gap >= 0 ? " (gap key)"
		        : p->is_ble ? " (Bluetooth: no baud rate, the protocol's floor only)"
		        : p->driver && g0 > p->driver->gap_floor ? " (3.5 characters)" : " (protocol floor)");
		fputc('\n', out);
	}
}

/* [ble] and the Bluetooth packs, when there are any. */
static void print_ble(const struct conf *c, FILE *out)
{
	int nble = 0;
	for (int i = 0; i < c->npacks; i++)
		nble += c->packs[i].is_ble;
	if (!nble && !c->ble.line && !c->nble_proxies)
		return;
	fprintf(out, "bluetooth (BlueZ over D-Bus)\n  adapter       %s; connect timeout %g s; one connection "
	        "attempt at a time; at most %d connections per local adapter (more packs take turns)\n",
	        c->ble.adapter[0] ? c->ble.adapter : "BlueZ's default (the first adapter)", c->ble.connect_timeout,
	        c->ble.max_connections);
	for (int i = 0; i < c->npacks; i++) {
		const struct conf_pack *p = &c->packs[i];
		if (!p->is_ble)
			continue;
		const struct bms_ble_pin *pin = p->driver && p->driver->ble ? p->driver->ble->pin : NULL;
		char pt[160] = ""; /* whether a PIN is sent: never the PIN */
		if (pin && (p->pin[0] || pin->dflt))
			conf_bfmt(pt, sizeof(pt), "; its %s %s once a connection, a refused one tried again after %.0f s "
				   "at the soonest", pin->name, p->pin[0] ? "(pin, set) sent" : "(the maker's default: no pin "
				   "set) sent", BMS_AUTH_RETRY_S);
		fprintf(out, "  %s %s%s%s: %s%s\n", p->ble_addr, p->name, p->via_proxy ? " through proxy " : "",
		        p->via_proxy ? p->proxy.name : "",
		        p->driver && p->driver->ble && p->driver->ble->company
		        ? "read from its advertisements (no connection; discovery runs while bmsgw does)"
		        : "connected (GATT notifications), reconnected with backoff", pt);
	}
	for (int i = 0; i < c->nble_proxies; i++) {
		const struct conf_ble_proxy *p = &c->ble_proxies[i];
		fprintf(out, "  proxy %s: ESPHome native API at %s port %d, %s\n", p->name, p->host, p->port,
		        p->have_key ? "encrypted (Noise, the key's fingerprint in /api/config)"
		        : p->password[0] ? "plaintext with a password" : "plaintext");
	}
}

static void print_bank(const struct conf *c, FILE *out)
{
	const struct conf_bank *b = &c->bank;
	if (!b->enabled)
		return;
	fprintf(out, "bank\n  unit %d (also units 0 and 255): ", b->unit_id);
	if (b->nstrings) {
		fprintf(out, "%d strings in parallel: ", b->nstrings);
		for (int s = 0; s < b->nstrings; s++)
			for (int k = 0; k < b->string_len[s]; k++)
				fprintf(out, "%s%s", k ? "+" : s ? ", " : "",
					c->packs[b->pack_idx[b->string_first[s] + k]].name);
		fprintf(out, "; a string departing by more than %g V from the others is flagged", b->max_deviation);
		if (b->max_current_deviation >= 0)
			fprintf(out, ", a member's current departing by more than %g A from its string's\n",
				b->max_current_deviation);
		else
			fprintf(out, ", a member's current departing by more than 5 %% of the string's rating "
				"(at least 2 A) from its string's\n");
	} else {
		for (int i = 0; i < b->npacks; i++)
			fprintf(out, "%s%s", i ? ", " : "", c->packs[b->pack_idx[i]].name);
		fprintf(out, "; a pack departing by more than %g V from the others is flagged\n", b->max_deviation);
	}
	if (b->shunt_idx >= 0)
		fprintf(out, "  shunt %s: the bank's current, power and SOC while it is fresh, else the packs'\n",
			c->packs[b->shunt_idx].name);
}

static void print_mqtt(const struct conf *c, FILE *out)
{
	const struct conf_mqtt *m = &c->mqtt;
	char hp[CONF_HOST_MAX + 16];
	if (!m->enabled)
		return;
	conf_fmt_hostport(hp, sizeof(hp), m->host, m->port);
	fprintf(out, "mqtt\n  broker        %s", hp);
	if (m->tls)
		fprintf(out, " (TLS, %s%s%s%s)", m->ca_file[0] ? "CA " : "system CAs", m->ca_file,
		        m->cert_file[0] ? ", client certificate " : "", m->cert_file);
	fprintf(out, ", client id %s", m->client_id);
	if (m->username[0])
		fprintf(out, ", user %s%s%s", m->username, m->password_file[0] ? ", password from " : "",
		        m->password_file);
	fprintf(out, "\n  topics        %s/status, %s/<pack>/state and /availability, %s/bank/..., "
	        "%s/gateway\n", m->topic_prefix, m->topic_prefix, m->topic_prefix, m->topic_prefix);
	if (m->discovery)
		fprintf(out, "  discovery     %s/<component>/bmsgw_%s%s%s_<pack>/<key>/config (cells: %s)\n",
		        m->discovery_prefix, m->site, m->site[0] ? "_" : "", m->client_id,
		        conf_key_word(&conf__keys[K_MQ_CELLS], (int)m->cells));
	else
		fprintf(out, "  discovery     off\n");
	if (m->publish_interval > 0)
		fprintf(out, "  publish       at most every %g s", m->publish_interval);
	else
		fprintf(out, "  publish       after every good poll");
	fprintf(out, "; keepalive %d s; MOSFET commands %s\n", m->keepalive, m->control ? "on" : "off");
	if (m->victron)
		fprintf(out, "  victron       %s/<pack>/victron and %s/bank/victron (venus-os_dbus-mqtt-battery's JSON)\n",
		        m->topic_prefix, m->topic_prefix);
	if (m->backfill)
		fprintf(out, "  backfill      after an outage, the history samples missed on %s/<unit>/history, "
		        "at most %d a second\n", m->topic_prefix, m->backfill_rate);
}



/* conf's parts of the summary, by their order (sections.c adds the rooms'
 * sections' own at theirs, section.h). */
#define PART(o, f) { .order = o, .print = f }
static const struct conf__step own[] = {
	PART(10, print_gateway), PART(20, print_packs), PART(30, print_wires), PART(40, print_ble),
	PART(50, print_bank), PART(60, print_mqtt),
	PART(100, conf__print_limits), PART(110, conf__print_soc),
	PART(170, conf__print_health),
};

/* conf's parts and the rooms' sections' (sections.c), by order; conf's
 * first at one order. */
void conf_print_summary(const struct conf *c, FILE *out)
{
	size_t n, i = 0, j = 0, nown = sizeof(own) / sizeof(own[0]);
	const struct conf__step *room = conf__room_steps(true, &n);
	while (i < nown || j < n)
		if (j >= n || (i < nown && own[i].order <= room[j].order))
			own[i++].print(c, out);
		else
			room[j++].print(c, out);
}
