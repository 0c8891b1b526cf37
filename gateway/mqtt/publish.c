/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/publish.c - what the MQTT client publishes: the state and
 * availability of every pack and the bank, the gateway's own state, Home
 * Assistant discovery, and the clean-up of retained topics of units that
 * are gone.
 *
 * Topics (P = topic_prefix; bmsgw-mqtt(7) "TOPICS"):
 *   P/status                 online / offline (will), retained
 *   P/NAME/availability      online / offline by the freshness test of
 *                            Modbus 0x0B, retained
 *   P/NAME/state             the --once JSON of the pack, retained
 *   P/bank/availability, P/bank/state     the bank unit
 *   P/gateway                the gateway's own state (JSON), retained
 * While disconnected nothing is queued; on (re)connect the latest state of
 * every unit is published.  A broker that stops reading gets at most
 * QUEUE_MAX bytes of state before states are skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../ha/discovery.h"
#include "../model/bankstate.h"
#include "../model/json.h"
#include "mqtt.h"
#include "mqtt_int.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

/* The socket's watcher: read always, write while libmosquitto holds
 * something to send (after every publish; the session after its own I/O). */
void mq_set_events(struct gw_mqtt *m)
{
	gw_mqs_watch(&m->sess);
}

/* The slot of pack p (slot i belongs to gw->packs[i]). */
struct mq_pack *mq_slot(struct gw_mqtt *m, const struct gw_pack *p)
{
	for (int i = 0; i < m->gw->npacks; i++)
		if (m->gw->packs[i] == p)
			return &m->packs[i];
	return NULL;
}

/* After the packs changed (start, reload): slot i for gw->packs[i], the
 * slot of a pack of the same name carried over, a new pack's fresh. */
void mq_slots_sync(struct gw_mqtt *m)
{
	static struct mq_pack old[CONF_MAX_PACKS];
	const struct gw *gw = m->gw;
	memcpy(old, m->packs, sizeof(old));
	for (int i = 0; i < gw->npacks; i++) {
		struct mq_pack *s = &m->packs[i];
		const char *name = gw->packs[i]->cfg->name;
		memset(s, 0, sizeof(*s));
		s->avail = -1;
		snprintf(s->name, sizeof(s->name), "%s", name);
		for (int j = 0; j < CONF_MAX_PACKS; j++)
			if (old[j].name[0] && strcmp(old[j].name, name) == 0) {
				*s = old[j];
				break;
			}
	}
	for (int i = gw->npacks; i < CONF_MAX_PACKS; i++)
		memset(&m->packs[i], 0, sizeof(m->packs[i]));
}

/* Publish when connected; `essential` messages (discovery, availability)
 * are always queued, states are skipped while the broker lags. */
bool mq_publish(struct gw_mqtt *m, const char *topic, const char *payload, bool retain, int qos, bool essential)
{
	if (!mq_up(m))
		return false;
	size_t len = strlen(payload);
	if (mq_lag(m) > QUEUE_MAX && !essential) {
		m->skipped++;
		gw_debug("mqtt: %s skipped: the broker is %zu bytes behind", topic, m->queued);
		return false;
	}
	/* counted before the call: libmosquitto writes a message at once when
	 * the socket takes it and then reports a QoS 0 one as published from
	 * inside mosquitto_publish (on_publish), before it returns */
	m->pending++;
	int rc;
	if (!gw_mqs_publish(&m->sess, NULL, topic, payload, len, qos, retain, &rc)) {
		if (m->pending)
			m->pending--;
		gw_debug("mqtt: publish %s: %s", topic, mosquitto_strerror(rc));
		return false;
	}
	m->queued += len + strlen(topic) + 8;
	return true;
}

static void emit_config(void *ctx, const char *topic, const char *payload)
{
	mq_publish(ctx, topic, payload, true, 1, true);
}

/* The JSON of pack p (or the bank) into a malloc'd string without its newline. */
static char *unit_json(struct gw_mqtt *m, const struct gw_pack *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	if (!o)
		return NULL;
	if (p)
		gw_pack_json(o, m->gw, p);
	else
		gw_bank_json(o, m->gw);
	if (fclose(o) != 0) {
		free(buf);
		return NULL;
	}
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return buf;
}

/* P/UNIT/victron of pack p (NULL: the bank), when [mqtt] victron and the
 * unit has what the driver needs (victron.c builds it). */
static void publish_victron(struct gw_mqtt *m, const struct gw_pack *p)
{
	char topic[400];
	char *js = mq_victron_message(m, p, topic, sizeof(topic));
	if (js)
		mq_publish(m, topic, js, false, 0, false);
	free(js);
}

static void publish_state(struct gw_mqtt *m, struct gw_pack *p)
{
	char topic[400];
	snprintf(topic, sizeof(topic), "%s/%s/state", mq_prefix(m), p ? p->cfg->name : "bank");
	char *js = unit_json(m, p);
	if (!js)
		return;
	if (mq_publish(m, topic, js, true, 0, false)) {
		struct mq_pack *s = p ? mq_slot(m, p) : NULL;
		if (s) {
			s->last_state = gw_mono();
			s->state_pending = false;
		} else if (!p) {
			m->bank_last = gw_mono();
			m->bank_pending = false;
		}
		publish_victron(m, p); /* with each state, as its driver expects a steady flow */
	}
	free(js);
}

void mq_publish_avail(struct gw_mqtt *m, const char *name, bool online)
{
	char topic[400];
	snprintf(topic, sizeof(topic), "%s/%s/availability", mq_prefix(m), name);
	mq_publish(m, topic, online ? "online" : "offline", true, 1, true);
}

/* The shape discovery announces for p: cells and temperature sensors. */
static void pack_shape(const struct gw_pack *p, unsigned *ncells, unsigned *ntemps)
{
	*ncells = p->cfg->cells > 0 ? (unsigned)p->cfg->cells : p->have_data ? p->snap.ncells : 0;
	*ntemps = p->have_data ? p->snap.ntemps : 0;
}

static unsigned bank_temps(const struct gw *gw)
{
	return gw_bank_at(gw, gw_mono())->bank.snap.ntemps;
}

static void discover_pack(struct gw_mqtt *m, struct gw_pack *p)
{
	const struct conf *c = m->gw->conf;
	if (!m->cfg.discovery || !mq_up(m))
		return;
	unsigned nc, nt;
	pack_shape(p, &nc, &nt);
	struct mq_pack *s = mq_slot(m, p);
	if (s->disc_sent && p->cfg->cells <= 0) { /* what the pack showed stays announced (mq_polled) */
		nc = nc > s->disc_cells ? nc : s->disc_cells;
		nt = nt > s->disc_temps ? nt : s->disc_temps;
	}
	gw_disc_pack(c, p->cfg, nc, nt, emit_config, m);
	s->disc_cells = nc;
	s->disc_temps = nt;
	s->disc_sent = true;
}

static void discover_all(struct gw_mqtt *m)
{
	struct gw *gw = m->gw;
	const struct conf *c = gw->conf;
	if (!m->cfg.discovery || !mq_up(m))
		return;
	gw_disc_gateway(c, emit_config, m);
	if (c->bank.enabled) {
		m->bank_disc_temps = bank_temps(gw);
		gw_disc_bank(c, m->bank_disc_temps, emit_config, m);
	}
	for (int i = 0; i < gw->npacks; i++)
		discover_pack(m, gw->packs[i]);
}

static void publish_gateway(struct gw_mqtt *m, bool force)
{
	struct gw *gw = m->gw;
	char js[sizeof(m->gw_state)];
	snprintf(js, sizeof(js),
		 "{\"version\":\"%s\",\"started\":\"%s\",\"packs_online\":%d,\"packs_configured\":%d,"
		 "\"modbus_clients\":%d,\"mqtt_reconnects\":%lu,\"reloads\":%lu}",
		 BMSGW_VERSION, m->started, gw_packs_online(gw), gw->npacks, gw->modbus_clients,
		 m->sess.reconnects, gw->reloads);
	if (!force && strcmp(js, m->gw_state) == 0)
		return;
	char topic[300];
	snprintf(topic, sizeof(topic), "%s/gateway", mq_prefix(m));
	if (mq_publish(m, topic, js, true, 1, true))
		memcpy(m->gw_state, js, sizeof(js));
}

/* Availability follows freshness: flip it the moment it changes.  The
 * retained state says it first: a unit back, its new values (a state from
 * before the outage is never shown available); a unit gone, "online":
 * false.  A member of the bank that comes or goes republishes the bank's
 * state at once (its figures, its Victron message), not at the next
 * publish_interval. */
static void update_availability(struct gw_mqtt *m)
{
	struct gw *gw = m->gw;
	bool members = false;
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		int on = gw_pack_online(gw, p);
		if (on == m->packs[i].avail)
			continue;
		if (mq_up(m) && p->have_data && (on ? m->packs[i].state_pending : m->packs[i].avail == 1))
			publish_state(m, p);
		mq_publish_avail(m, p->cfg->name, on);
		if (mq_up(m)) {
			members = members || (m->packs[i].avail >= 0 && gw_pack_feeds_bank(gw, p));
			m->packs[i].avail = on;
		}
	}
	if (gw->conf->bank.enabled) {
		struct gw_unit u = { NULL, true };
		int on = gw_unit_online(gw, &u);
		if (mq_up(m) && (on ? members || (on != m->bank_avail && m->bank_pending) : m->bank_avail == 1))
			publish_state(m, NULL);
		if (on != m->bank_avail) {
			mq_publish_avail(m, "bank", on);
			if (mq_up(m))
				m->bank_avail = on;
		}
	}
}

/* States that wait for publish_interval, once it is over. */
static void publish_due(struct gw_mqtt *m)
{
	struct gw *gw = m->gw;
	double now = gw_mono(), iv = m->cfg.publish_interval;
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		if (m->packs[i].state_pending && now - m->packs[i].last_state >= iv && gw_pack_online(gw, p))
			publish_state(m, p);
	}
	if (m->bank_pending && now - m->bank_last >= iv)
		publish_state(m, NULL);
}

/* Everything, after (re)connecting: the latest state, nothing piled up. */
void mq_publish_all(struct gw_mqtt *m)
{
	struct gw *gw = m->gw;
	char topic[300];
	snprintf(topic, sizeof(topic), "%s/status", mq_prefix(m));
	mq_publish(m, topic, "online", true, 1, true);
	discover_all(m);
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		m->packs[i].avail = -1;
		if (p->have_data && gw_pack_online(gw, p))
			publish_state(m, p);
	}
	m->bank_avail = -1;
	if (gw->conf->bank.enabled) {
		struct gw_unit u = { NULL, true };
		if (gw_unit_online(gw, &u))
			publish_state(m, NULL);
	}
	update_availability(m);
	publish_gateway(m, true);
	mq_set_events(m);
}

/* Once a second: availability, states that waited for publish_interval,
 * the gateway's state when it changed. */
void mq_publish_periodic(struct gw_mqtt *m)
{
	update_availability(m);
	publish_due(m);
	publish_gateway(m, false);
}

/* Is `name` a unit of this configuration ("bank", "gateway" included)? */
static bool configured(const struct gw *gw, const char *name)
{
	if (strcmp(name, "gateway") == 0 || (gw->conf->bank.enabled && strcmp(name, "bank") == 0))
		return true;
	return gw_find_pack(gw, name) != NULL;
}

void mq_clear_topic(struct gw_mqtt *m, const char *topic)
{
	mq_publish(m, topic, "", true, 1, true);
}

/* Does the JSON text name `id` as its via_device ("via_device" : "id",
 * blanks allowed)? */
static bool names_via(const char *js, const char *id)
{
	for (const char *p = strstr(js, "\"via_device\""); p; p = strstr(p + 1, "\"via_device\"")) {
		const char *q = p + strlen("\"via_device\"");
		while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
			q++;
		if (*q++ != ':')
			continue;
		while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
			q++;
		size_t n = strlen(id);
		if (*q == '"' && strncmp(q + 1, id, n) == 0 && q[1 + n] == '"')
			return true;
	}
	return false;
}

/* The retained config at <discovery_prefix>`comp` (/component/node/key/config)
 * of configured unit `name`, key at `key`: an entity it no longer has (a
 * switch or number MQTT may no longer write, a counted SOC's sensor where
 * the unit stopped counting, a limit without [limits])? */
static bool gone_with_conf(struct gw_mqtt *m, const char *comp, const char *name, const char *key)
{
	const struct conf *c = m->gw->conf;
	size_t sl = strlen("/switch/");
	bool sw = strncmp(comp, "/switch/", sl) == 0, num = strncmp(comp, "/number/", sl) == 0;
	const char *ke = strchr(key, '/');
	if (!ke)
		return false;
	if (gw_disc_gone_with_conf(c, name, key, (size_t)(ke - key)))
		return true;
	if (gw_disc_bms_write_key(key, (size_t)(ke - key)) >= 0)
		return false; /* a BMS setting's entity: judged above */
	bool setting = gw_disc_is_setting(key, (size_t)(ke - key));
	const struct gw_pack *p = gw_find_pack(m->gw, name);
	return (sw || num) && !(setting ? gw_disc_settings(c) : sw && p && gw_disc_control(c, p->cfg));
}

/* P/NAME/availability under prefix (ours, or the one before a new site:
 * `gone`, every unit of it): a unit no longer configured has its retained
 * topics cleared.  False: t is not under prefix. */
static bool reconcile_unit(struct gw_mqtt *m, const char *prefix, const char *t, bool gone)
{
	size_t pl = strlen(prefix);
	if (!pl || strncmp(t, prefix, pl) != 0 || t[pl] != '/')
		return false;
	char name[CONF_NAME_MAX + 1];
	const char *n = t + pl + 1, *e = strchr(n, '/');
	if (gone && e && strcmp(e, "/state") == 0) {
		mq_clear_topic(m, t); /* a state the old client sent after the clearing */
		return true;
	}
	if (!e || (size_t)(e - n) >= sizeof(name) || strcmp(e, "/availability") != 0)
		return true;
	memcpy(name, n, (size_t)(e - n));
	name[e - n] = '\0';
	if (!gone && configured(m->gw, name))
		return true;
	char topic[400];
	gw_info("mqtt: clearing the retained topics of unit %s under %s/ (%s)", name, prefix,
		gone ? "the prefix before the site changed" : "no longer configured");
	const char *const leaves[] = { "availability", "state" }; /* victron is never retained */
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		snprintf(topic, sizeof(topic), "%s/%s/%s", prefix, name, leaves[i]);
		mq_clear_topic(m, topic);
	}
	return true;
}

/* A config of the gateway's id before the site changed: cleared. */
static bool reconcile_old_config(struct gw_mqtt *m, const char *t, const char *pl, size_t len)
{
	size_t dl = strlen(m->cfg.discovery_prefix), gl = strlen(m->old_gid);
	if (strncmp(t, m->cfg.discovery_prefix, dl) != 0 || t[dl] != '/')
		return false;
	const char *node = strchr(t + dl + 1, '/');
	if (!node || strncmp(node + 1, m->old_gid, gl) != 0 || node[1 + gl] != '_')
		return false;
	char *payload = strndup(pl, len);
	bool ours = payload && (names_via(payload, m->old_gid) || strstr(payload, m->old_gid));
	free(payload);
	if (!ours)
		return false;
	gw_debug("mqtt: clearing %s (the gateway's id before the site changed)", t);
	mq_clear_topic(m, t);
	return true;
}

void mq_take_old_ids(struct gw_mqtt *m, const struct conf_mqtt *old)
{
	char gid[sizeof(m->old_gid)], og[sizeof(m->old_gid)];
	gw_disc_id(m->cfg.site, m->cfg.client_id, gid, sizeof(gid));
	gw_disc_id(old->site, old->client_id, og, sizeof(og));
	if (strcmp(old->site, m->cfg.site) == 0)
		return; /* another broker or other settings: the same gateway */
	if (strcmp(gid, og) != 0 && strcmp(old->discovery_prefix, m->cfg.discovery_prefix) == 0)
		memcpy(m->old_gid, og, sizeof(og));
	if (strcmp(old->topic_prefix, m->cfg.topic_prefix) != 0 && strcmp(old->host, m->cfg.host) == 0 &&
	    old->port == m->cfg.port)
		memcpy(m->old_prefix, old->topic_prefix, sizeof(m->old_prefix));
}

/* A retained config or availability of a unit this gateway no longer has:
 * clear it.  Configs are matched by the gateway id they name, so those of
 * another bmsgw on the same broker are left alone. */
void mq_reconcile(struct gw_mqtt *m, const struct mosquitto_message *msg)
{
	const struct conf *c = m->gw->conf;
	if (!msg->payloadlen || gw_mono() > m->reconcile_until)
		return;
	const char *t = msg->topic;
	if (reconcile_unit(m, m->cfg.topic_prefix, t, false) || reconcile_unit(m, m->old_prefix, t, true))
		return;
	/* <discovery_prefix>/<component>/bmsgw_<cid>_<NAME>/<key>/config (a
	 * switch config of a pack that may no longer be switched, a settings
	 * entity without [mqtt] control or [limits], are ours to clear too) */
	char gid[160], node_pfx[168];
	gw_disc_gateway_id(c, gid, sizeof(gid));
	snprintf(node_pfx, sizeof(node_pfx), "%s_", gid);
	if (m->old_gid[0] && reconcile_old_config(m, t, (const char *)msg->payload, (size_t)msg->payloadlen))
		return;
	size_t dl = strlen(m->cfg.discovery_prefix);
	if (strncmp(t, m->cfg.discovery_prefix, dl) != 0 || t[dl] != '/')
		return;
	const char *node = strchr(t + dl + 1, '/');
	if (!node)
		return;
	node++;
	const char *end = strchr(node, '/');
	if (!end || strncmp(node, node_pfx, strlen(node_pfx)) != 0)
		return;
	char name[CONF_NAME_MAX + 1];
	const char *n = node + strlen(node_pfx);
	if (end <= n || (size_t)(end - n) >= sizeof(name))
		return;
	memcpy(name, n, (size_t)(end - n));
	name[end - n] = '\0';
	/* ours: the payload names this gateway as its hub */
	char *payload = strndup(msg->payload, (size_t)msg->payloadlen);
	bool ours = payload && names_via(payload, gid);
	free(payload);
	if (!ours)
		return;
	if (configured(m->gw, name)) {
		if (!gone_with_conf(m, t + dl, name, end + 1))
			return;
		gw_debug("mqtt: clearing %s (%s no longer has it)", t, name);
	} else {
		gw_debug("mqtt: clearing %s (unit %s is no longer configured)", t, name);
	}
	mq_clear_topic(m, t);
}

/* A poll of p finished: its state (and the bank's) as publish_interval
 * allows; discovery again when the pack showed more cells or sensors than
 * announced (never for fewer: a pack whose cells come and go, a Leaf
 * whose tester stopped asking, does not announce its entities again at
 * every turn). */
void mq_polled(struct gw_mqtt *m, struct gw_pack *p, bool ok)
{
	struct gw *gw = m->gw;
	struct mq_pack *s = mq_slot(m, p);
	if (ok) {
		double now = gw_mono(), iv = m->cfg.publish_interval;
		if (!mq_up(m) || now - s->last_state < iv)
			s->state_pending = true;
		else
			publish_state(m, p);
		unsigned nc, nt;
		pack_shape(p, &nc, &nt);
		if (mq_up(m) && s->disc_sent && (nc > s->disc_cells || nt > s->disc_temps))
			discover_pack(m, p); /* the pack showed more cells / sensors */
		if (gw_pack_feeds_bank(gw, p)) {
			if (!mq_up(m) || now - m->bank_last < iv)
				m->bank_pending = true;
			else
				publish_state(m, NULL);
			if (mq_up(m) && bank_temps(gw) != m->bank_disc_temps) {
				m->bank_disc_temps = bank_temps(gw);
				gw_disc_bank(gw->conf, m->bank_disc_temps, emit_config, m);
			}
		}
	}
	update_availability(m);
	mq_set_events(m);
}

/* A unit's charge settings were written over MQTT: its state (and the
 * bank's, whose limits follow a pack's) at once, so that the entities show
 * the values in force without waiting for a poll. */
void mq_settings_written(struct gw_mqtt *m, struct gw_pack *p)
{
	if (!mq_up(m))
		return;
	publish_state(m, p);
	if (p && m->gw->conf->bank.enabled && gw_pack_in_bank(m->gw, p))
		publish_state(m, NULL);
	mq_set_events(m);
}

/* The configs and retained topics of a unit that is gone. */
static void clear_unit(struct gw_mqtt *m, const struct conf *oc, const char *name)
{
	char topic[400];
	if (oc->mqtt.discovery)
		gw_disc_clear(oc, name, emit_config, m);
	snprintf(topic, sizeof(topic), "%s/%s/availability", mq_prefix(m), name);
	mq_clear_topic(m, topic);
	snprintf(topic, sizeof(topic), "%s/%s/state", mq_prefix(m), name);
	mq_clear_topic(m, topic);
}

/* After a reload on the same broker (gw->conf is the new configuration,
 * oc the old one; the slots and the backfill's units synced first): clear
 * the topics of removed units and of switches and BMS settings no longer
 * allowed, then
 * announce and publish everything again. */
void mq_reloaded(struct gw_mqtt *m, const struct conf *oc)
{
	struct gw *gw = m->gw;
	for (int i = 0; i < oc->npacks; i++)
		if (!configured(gw, oc->packs[i].name)) {
			gw_info("mqtt: pack %s removed: its entities and topics are cleared", oc->packs[i].name);
			clear_unit(m, oc, oc->packs[i].name);
		}
	if (oc->bank.enabled && !gw->conf->bank.enabled)
		clear_unit(m, oc, "bank");
	else if (oc->mqtt.discovery && oc->bank.enabled && oc->bank.nstrings > gw->conf->bank.nstrings)
		gw_disc_clear_strings(oc, gw->conf->bank.nstrings, emit_config, m);
	for (int i = 0; i < oc->npacks; i++) {
		const struct gw_pack *p = gw_find_pack(gw, oc->packs[i].name);
		if (p && oc->mqtt.discovery && gw_disc_control(oc, &oc->packs[i]) && !gw_disc_control(gw->conf, p->cfg))
			gw_disc_clear_switches(oc, p->cfg->name, emit_config, m);
		uint32_t gone = p ? gw_disc_bms_writes(oc, &oc->packs[i]) & ~gw_disc_bms_writes(gw->conf, p->cfg) : 0;
		if (gone && oc->mqtt.discovery) /* BMS settings no longer allowed, or [mqtt] control off */
			gw_disc_clear_bms_writes(oc, p->cfg->name, gone, emit_config, m);
	}
	for (int i = 0; i < oc->npacks && oc->mqtt.discovery; i++) {
		const struct gw_pack *p = gw_find_pack(gw, oc->packs[i].name);
		if (p && oc->packs[i].soc.count && !p->cfg->soc.count)
			gw_disc_clear_counted(oc, p->cfg->name, emit_config, m);
	}
	if (oc->mqtt.discovery && oc->bank.enabled && gw->conf->bank.enabled && oc->soc.count && !gw->conf->soc.count)
		gw_disc_clear_counted(oc, "bank", emit_config, m);
	if (oc->mqtt.discovery && oc->limits.enabled && !gw->conf->limits.enabled) {
		for (int i = 0; i < gw->npacks; i++)
			gw_disc_clear_limits(oc, gw->packs[i]->cfg->name, emit_config, m);
		if (gw->conf->bank.enabled)
			gw_disc_clear_limits(oc, "bank", emit_config, m);
	}
	if (mq_up(m))
		mq_publish_all(m); /* new packs, new shapes, new settings (cells, names) */
}

/* Every unit and P/status offline (a clean disconnect sends no will). */
void mq_offline(struct gw_mqtt *m)
{
	struct gw *gw = m->gw;
	for (int i = 0; i < gw->npacks; i++)
		mq_publish_avail(m, gw->packs[i]->cfg->name, false);
	if (gw->conf->bank.enabled)
		mq_publish_avail(m, "bank", false);
	char topic[300];
	snprintf(topic, sizeof(topic), "%s/status", mq_prefix(m));
	mq_publish(m, topic, "offline", true, 1, true);
}

static void emit_print(void *ctx, const char *topic, const char *payload)
{
	fprintf(ctx, "%s %s\n", topic, payload);
}

void gw_mqtt_dump(struct gw *gw, FILE *out)
{
	const struct conf *c = gw->conf;
	if (!c->mqtt.discovery) {
		fprintf(out, "# discovery = false: no discovery configs are published\n");
		return;
	}
	gw_disc_gateway(c, emit_print, out);
	if (c->bank.enabled)
		gw_disc_bank(c, bank_temps(gw), emit_print, out);
	for (int i = 0; i < gw->npacks; i++) {
		unsigned nc, nt;
		pack_shape(gw->packs[i], &nc, &nt);
		if (!gw->packs[i]->have_data)
			fprintf(out, "# pack %s did not answer: its cell and temperature sensors appear after its "
				     "first poll\n", gw->packs[i]->cfg->name);
		gw_disc_pack(c, gw->packs[i]->cfg, nc, nt, emit_print, out);
	}
}
