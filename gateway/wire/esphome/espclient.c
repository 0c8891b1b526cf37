/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/espclient.c - one ESPHome native API connection to a
 * Bluetooth proxy ([ble_proxy.NAME]), shared by the ble:// links through
 * it (esp_int.h).
 *
 * DOWN -> the name resolved off the loop (core/resolve.c) -> a
 * non-blocking TCP connect -> Noise's handshake (with a key) -> Hello,
 * the password where one is set, DeviceInfo -> READY: the free connection
 * slots subscribed (BluetoothConnectionsFree) and the raw advertisements
 * (flags 1).  Every step has a deadline; any failure ends the session
 * with the reason: every link through the proxy fails with it and reopens
 * with its backoff, its outage covered by the client's (link.c
 * gw_link_close_covered), whose outage is the one line of the log, naming
 * the packs behind the proxy, and its return one more (core/retry.c); the
 * next link that opens after the backoff starts a new session.  While READY a ping
 * every KEEPALIVE s; nothing heard for SILENT s ends the session.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../core/clock.h"
#include "../../core/log.h"
#include "../../core/net.h"
#include "../../core/resolve.h"
#include "../../core/util.h"
#include "esp_int.h"
#include "espcodec.h"

#define SESSION_TIMEOUT 10.0        /* s from the lookup to DeviceInfo */
#define KEEPALIVE 20.0              /* s between our pings */
#define SILENT 60.0                 /* s without a byte from the proxy: gone */
#define TX_MAX (256 * 1024)         /* bytes waiting to be written: the proxy does not read */
#define FRAME_MAX 4096              /* one message we send, framed */

static void client_fail(struct gw_esp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_timer(struct gw_esp *p, double after, bool backoff)
{
	ev_timer_stop(p->env->loop, &p->timer);
	ev_timer_set(&p->timer, after, 0.);
	ev_timer_start(p->env->loop, &p->timer);
	p->backoff = backoff;
}

/* Drop the connection and what belongs to it (not the links). */
static void client_drop(struct gw_esp *p)
{
	struct ev_loop *loop = p->env->loop;
	gw_lookup_cancel(&p->lookup);
	if (p->fd >= 0) {
		ev_io_stop(loop, &p->io);
		close(p->fd);
		p->fd = -1;
	}
	ev_timer_stop(loop, &p->keepalive);
	ev_timer_stop(loop, &p->timer);
	if (p->feeding && p->codec) /* the codec is still running its feed: freed when it returns */
		p->dead_codec = p->codec;
	else
		esp_codec_free(p->codec);
	p->codec = NULL;
	p->txlen = 0;
	p->free_slots = p->limit = -1;
	p->st = ES_DOWN;
}

/* What the log says of a failed session: why, and the packs through the
 * proxy, which wait for it (their links' outages are covered by this line). */
static void client_said(const struct gw_esp *p, char *out, size_t cap)
{
	const struct gw_esp_link *ks[CONF_MAX_PACKS];
	int count = 0;
	for (const struct gw_esp_link *k = p->links; k && count < CONF_MAX_PACKS; k = k->next)
		ks[count++] = k; /* the last to join first: named in the configuration's order below */
	size_t n = (size_t)snprintf(out, cap, "%s", p->why);
	for (int i = count - 1; i >= 0 && n < cap; i--) {
		const struct gw_link *l = ks[i]->l;
		int w = snprintf(out + n, cap - n, "%s%s", i == count - 1 ? count > 1 ? "; its packs " : "; its pack "
									   : ", ", l->cfg ? l->cfg->name : l->port);
		n += w > 0 ? (size_t)w : 0;
	}
	if (count && n < cap)
		snprintf(out + n, cap - n, " wait%s for it", count > 1 ? "" : "s");
}

/* The session failed: logged once an outage, naming its packs, every link
 * told (their outages covered by that line), the backoff started. */
static void client_fail(struct gw_esp *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	client_drop(p);
	char who[CONF_NAME_MAX + 16], said[sizeof(p->why) + 512];
	snprintf(who, sizeof(who), "ble_proxy %s", p->cfg.name);
	client_said(p, said, sizeof(said));
	double after = gw_retry_failed(&p->rt, who, said);
	set_timer(p, after, true);
	char why[sizeof(p->why) + CONF_NAME_MAX + 16];
	snprintf(why, sizeof(why), "proxy %s: %s", p->cfg.name, p->why);
	for (struct gw_esp_link *k = p->links, *next; k; k = next) {
		next = k->next; /* a link may leave */
		if (p->users->fail)
			p->users->fail(k, why);
	}
}

/* Write what is queued; EV_WRITE while some is left. */
static void flush(struct gw_esp *p)
{
	while (p->txlen > 0) {
		ssize_t n = send(p->fd, p->tx, p->txlen, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			client_fail(p, "send: %s", strerror(errno));
			return;
		}
		memmove(p->tx, p->tx + n, p->txlen - (size_t)n);
		p->txlen -= (size_t)n;
	}
	int ev = EV_READ | (p->txlen ? EV_WRITE : 0);
	if (p->io.events != ev) {
		ev_io_stop(p->env->loop, &p->io);
		ev_io_set(&p->io, p->fd, ev);
		ev_io_start(p->env->loop, &p->io);
	}
}

static int queue(struct gw_esp *p, const uint8_t *b, size_t n)
{
	if (p->txlen + n > TX_MAX) {
		client_fail(p, "the proxy takes nothing: %zu bytes wait to be written", p->txlen);
		return -1;
	}
	if (p->txlen + n > p->txcap) {
		size_t cap = p->txcap ? p->txcap : 4096;
		while (cap < p->txlen + n)
			cap *= 2;
		uint8_t *t = realloc(p->tx, cap);
		if (!t) {
			client_fail(p, "out of memory");
			return -1;
		}
		p->tx = t;
		p->txcap = cap;
	}
	memcpy(p->tx + p->txlen, b, n);
	p->txlen += n;
	return 0;
}

int esp_client_send(struct gw_esp *p, unsigned type, const ProtobufCMessage *msg)
{
	if (p->fd < 0 || !p->codec)
		return -1;
	uint8_t frame[FRAME_MAX];
	long n = esp_codec_send(p->codec, type, msg, frame, sizeof(frame));
	if (n < 0) {
		client_fail(p, "message %u does not fit a frame", type);
		return -1;
	}
	if (queue(p, frame, (size_t)n) < 0)
		return -1;
	flush(p);
	return p->fd >= 0 ? 0 : -1;
}

/* Hello, then the password (ESPHome before 2026.1 answers it before
 * anything that follows; a wrong one ends the session), then DeviceInfo. */
static void start_session(struct gw_esp *p)
{
	Esphome__HelloRequest hello = ESPHOME__HELLO_REQUEST__INIT;
	hello.client_info = "bmsgw " BMSGW_VERSION;
	hello.api_version_major = 1;
	hello.api_version_minor = 10;
	p->st = ES_SESSION;
	if (esp_client_send(p, ESP_HELLO_REQ, &hello.base) < 0)
		return;
	if (p->cfg.password[0]) {
		Esphome__AuthenticationRequest auth = ESPHOME__AUTHENTICATION_REQUEST__INIT;
		auth.password = p->cfg.password;
		if (esp_client_send(p, ESP_AUTH_REQ, &auth.base) < 0)
			return;
	}
	Esphome__DeviceInfoRequest info = ESPHOME__DEVICE_INFO_REQUEST__INIT;
	(void)esp_client_send(p, ESP_INFO_REQ, &info.base);
}

/* DeviceInfo: the session is up. */
static void session_ready(struct gw_esp *p, const Esphome__DeviceInfoResponse *m)
{
	snprintf(p->version, sizeof(p->version), "%s", m->esphome_version ? m->esphome_version : "");
	if (!p->name[0])
		snprintf(p->name, sizeof(p->name), "%s", m->name ? m->name : "");
	p->features = m->bluetooth_proxy_feature_flags;
	p->st = ES_READY;
	p->sessions++;
	ev_timer_stop(p->env->loop, &p->timer);
	double out = gw_retry_up(&p->rt);
	if (out >= 0)
		gw_info("ble_proxy %s: back after %.0f s", p->cfg.name, out);
	else
		gw_info("ble_proxy %s: connected to %s (ESPHome %s, API %u.%u)", p->cfg.name, p->name, p->version,
			p->api_major, p->api_minor);
	ev_timer_again(p->env->loop, &p->keepalive);
	Esphome__SubscribeBluetoothConnectionsFreeRequest fr = ESPHOME__SUBSCRIBE_BLUETOOTH_CONNECTIONS_FREE_REQUEST__INIT;
	if (esp_client_send(p, ESP_FREE_SUB, &fr.base) < 0)
		return;
	/* the subscriber of the advertisements is the one API connection the
	 * proxy sends its BLE connections' answers to (esphome bluetooth_proxy
	 * api_connection_): subscribed always, raw where the proxy has them */
	Esphome__SubscribeBluetoothLEAdvertisementsRequest adv = ESPHOME__SUBSCRIBE_BLUETOOTH_LEADVERTISEMENTS_REQUEST__INIT;
	adv.flags = p->features & ESP_FEAT_RAW_ADV ? 1 : 0;
	if (esp_client_send(p, ESP_ADV_SUB, &adv.base) < 0)
		return;
	for (struct gw_esp_link *k = p->links, *next; k && p->st == ES_READY; k = next) {
		next = k->next;
		if (p->users->ready)
			p->users->ready(k);
	}
}

/* u into list[0..*n) (cap entries) unless it is there. */
static void seen_add(char (*list)[37], int *n, int cap, const char *u)
{
	for (int i = 0; i < *n; i++)
		if (strcmp(list[i], u) == 0)
			return;
	if (*n < cap)
		memcpy(list[(*n)++], u, 37);
}

/* The UUID of 2 or 16 bytes at b (little endian) in its full form. */
static void uuid_le(const uint8_t *b, size_t len, char *u, size_t cap)
{
	if (len == 2)
		snprintf(u, cap, "0000%02x%02x-0000-1000-8000-00805f9b34fb", b[1], b[0]);
	else
		snprintf(u, cap, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[15], b[14],
			 b[13], b[12], b[11], b[10], b[9], b[8], b[7], b[6], b[5], b[4], b[3], b[2], b[1], b[0]);
}

/* Service UUIDs of an AD structure of type t (0x02/0x03: 16-bit, 0x06/0x07:
 * 128-bit, little endian), and the UUID service data is under (0x16:
 * 16-bit, 0x21: 128-bit; Bluetooth Core Supplement Part A 1.1, 1.11). */
static void adv_uuids(uint8_t t, const uint8_t *v, size_t n, struct esp_seen *s)
{
	char u[40];
	size_t w = t == 0x02 || t == 0x03 ? 2 : t == 0x06 || t == 0x07 ? 16 : 0;
	for (size_t j = 0; w && j + w <= n; j += w) {
		uuid_le(v + j, w, u, sizeof(u));
		seen_add(s->uuids, &s->nuuids, GW_BLE_MAX_UUIDS, u);
	}
	w = t == 0x16 ? 2 : t == 0x21 ? 16 : 0;
	if (w && n >= w) {
		uuid_le(v, w, u, sizeof(u));
		seen_add(s->sdata, &s->nsdata, GW_BLE_MAX_SDATA, u);
	}
}

static void adv_company(struct esp_seen *s, uint16_t c)
{
	for (int i = 0; i < s->nmfr; i++)
		if (s->companies[i] == c)
			return;
	if (s->nmfr < GW_BLE_MAX_MFR)
		s->companies[s->nmfr++] = c;
}

/* What raw advertising data (AD structures) says of its device, into s:
 * its name (0x08, 0x09), service UUIDs, service data's UUIDs, manufacturer
 * data's companies. */
static void adv_parse(const uint8_t *d, size_t n, struct esp_seen *s)
{
	for (size_t i = 0; i + 1 < n && d[i]; i += (size_t)d[i] + 1) {
		size_t len = d[i];
		if (i + 1 + len > n)
			return; /* a structure cut short: the rest is not read */
		uint8_t t = d[i + 1];
		adv_uuids(t, d + i + 2, len - 1, s);
		if (t == 0xFF && len >= 3)
			adv_company(s, (uint16_t)(d[i + 2] | d[i + 3] << 8));
		if ((t == 0x08 || t == 0x09) && len > 1) {
			size_t m = len - 1 < sizeof(s->name) - 1 ? len - 1 : sizeof(s->name) - 1;
			memcpy(s->name, d + i + 2, m);
			s->name[m] = '\0';
			for (size_t j = 0; j < m; j++)
				if ((unsigned char)s->name[j] < 0x20 || s->name[j] == 0x7f)
					s->name[j] = '?';
		}
	}
}

/* One advertisement: the device noted, a listening link told. */
static void on_advert(struct gw_esp *p, const Esphome__BluetoothLERawAdvertisement *a)
{
	p->adverts++;
	struct esp_seen *s = NULL;
	for (int i = 0; i < p->nseen && !s; i++)
		if (p->seen[i].addr == a->address)
			s = &p->seen[i];
	if (!s) {
		int slot = p->nseen < ESP_SEEN_MAX ? p->nseen++ : 0;
		for (int i = 1; i < p->nseen && p->nseen == ESP_SEEN_MAX; i++) /* the oldest goes */
			if (p->seen[i].at < p->seen[slot].at)
				slot = i;
		s = &p->seen[slot];
		memset(s, 0, sizeof(*s));
		s->addr = a->address;
	}
	s->addr_type = a->address_type;
	s->rssi = a->rssi;
	s->at = gw_mono();
	adv_parse(a->data.data, a->data.len, s);
	for (struct gw_esp_link *k = p->links, *next; k; k = next) {
		next = k->next;
		if (k->addr == a->address && p->users->advert)
			p->users->advert(k, a);
	}
}

/* The message's device address (the Bluetooth messages' field 1), or 0. */
static uint64_t msg_address(unsigned type, const ProtobufCMessage *m)
{
	switch (type) {
	case ESP_CONN_RESP: return ((const Esphome__BluetoothDeviceConnectionResponse *)m)->address;
	case ESP_SERVICES_RESP: return ((const Esphome__BluetoothGATTGetServicesResponse *)m)->address;
	case ESP_SERVICES_DONE: return ((const Esphome__BluetoothGATTGetServicesDoneResponse *)m)->address;
	case ESP_READ_RESP: return ((const Esphome__BluetoothGATTReadResponse *)m)->address;
	case ESP_NOTIFY_DATA: return ((const Esphome__BluetoothGATTNotifyDataResponse *)m)->address;
	case ESP_GATT_ERROR: return ((const Esphome__BluetoothGATTErrorResponse *)m)->address;
	case ESP_WRITE_RESP: return ((const Esphome__BluetoothGATTWriteResponse *)m)->address;
	case ESP_NOTIFY_RESP: return ((const Esphome__BluetoothGATTNotifyResponse *)m)->address;
	default: return 0;
	}
}

/* A message of the session itself; false for the links' ones. */
static bool session_message(struct gw_esp *p, unsigned type, const ProtobufCMessage *m)
{
	switch (type) {
	case ESP_HELLO_RESP: {
		const Esphome__HelloResponse *h = (const void *)m;
		p->api_major = h->api_version_major;
		p->api_minor = h->api_version_minor;
		snprintf(p->name, sizeof(p->name), "%s", h->name ? h->name : "");
		if (h->api_version_major != 1)
			client_fail(p, "API version %u.%u (bmsgw speaks 1.x)", h->api_version_major, h->api_version_minor);
		return true;
	}
	case ESP_AUTH_RESP:
		if (((const Esphome__AuthenticationResponse *)m)->invalid_password)
			client_fail(p, "the proxy refused the password (password_file %s)", p->cfg.password_file);
		return true;
	case ESP_DISCONNECT_REQ: {
		Esphome__DisconnectResponse r = ESPHOME__DISCONNECT_RESPONSE__INIT;
		if (esp_client_send(p, ESP_DISCONNECT_RESP, &r.base) == 0)
			client_fail(p, "the proxy closed the session (it restarts, or another client took it)");
		return true;
	}
	case ESP_PING_REQ: {
		Esphome__PingResponse r = ESPHOME__PING_RESPONSE__INIT;
		(void)esp_client_send(p, ESP_PING_RESP, &r.base);
		return true;
	}
	case ESP_INFO_RESP:
		if (p->st == ES_SESSION)
			session_ready(p, (const void *)m);
		return true;
	case ESP_FREE_RESP: {
		const Esphome__BluetoothConnectionsFreeResponse *f = (const void *)m;
		p->free_slots = (int)f->free;
		p->limit = (int)f->limit;
		p->nalloc = 0;
		for (size_t i = 0; i < f->n_allocated && p->nalloc < (int)(sizeof(p->alloc) / sizeof(p->alloc[0])); i++)
			if (f->allocated[i])
				p->alloc[p->nalloc++] = f->allocated[i];
		if (p->st == ES_READY && p->users->slots)
			p->users->slots(p);
		return true;
	}
	case ESP_RAW_ADV: {
		const Esphome__BluetoothLERawAdvertisementsResponse *r = (const void *)m;
		for (size_t i = 0; i < r->n_advertisements && p->fd >= 0; i++)
			on_advert(p, r->advertisements[i]);
		return true;
	}
	default:
		return type == ESP_PING_RESP || !m;
	}
}

/* The codec's callback: one whole message. */
static void on_message(void *ud, unsigned type, const ProtobufCMessage *m)
{
	struct gw_esp *p = ud;
	if (p->fd < 0 || session_message(p, type, m) || p->st != ES_READY)
		return;
	uint64_t addr = msg_address(type, m);
	for (struct gw_esp_link *k = p->links, *next; k && p->fd >= 0; k = next) {
		next = k->next;
		if (addr && k->addr == addr && k->st != EL_IDLE && p->users->message)
			p->users->message(k, type, m);
	}
}

static void handshake_step(struct gw_esp *p)
{
	if (p->st == ES_HANDSHAKE && esp_codec_ready(p->codec))
		start_session(p);
}

static void on_readable(struct gw_esp *p)
{
	uint8_t buf[4096];
	ssize_t n = recv(p->fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		client_fail(p, "%s", n == 0 ? "the proxy closed the connection" : strerror(errno));
		return;
	}
	p->last_rx = gw_mono();
	char why[200];
	bool hs = p->st == ES_HANDSHAKE;
	struct esp_codec *codec = p->codec;
	p->feeding = true;
	int r = esp_codec_feed(codec, buf, (size_t)n, on_message, p, why, sizeof(why));
	p->feeding = false;
	if (p->dead_codec) { /* the session failed in a message's callback */
		esp_codec_free(p->dead_codec);
		p->dead_codec = NULL;
		return;
	}
	if (r < 0) {
		if (hs)
			p->handshake_failures++;
		client_fail(p, "%s%s", hs ? "handshake: " : "", why);
		return;
	}
	if (p->fd >= 0)
		handshake_step(p);
}

/* Connected: the handshake's first bytes (Noise), or Hello at once. */
static void on_connected(struct gw_esp *p)
{
	int err = 0;
	socklen_t el = sizeof(err);
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err) {
		client_fail(p, "connect to %s port %d: %s", p->cfg.host, p->cfg.port, strerror(err));
		return;
	}
	p->codec = esp_codec_new(p->cfg.have_key ? p->cfg.key : NULL);
	uint8_t first[512];
	long n = p->codec ? esp_codec_start(p->codec, first, sizeof(first)) : -1;
	if (n < 0) {
		client_fail(p, "out of memory");
		return;
	}
	p->st = ES_HANDSHAKE;
	if (n > 0 && queue(p, first, (size_t)n) < 0)
		return;
	flush(p);
	if (p->fd >= 0)
		handshake_step(p);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	struct gw_esp *p = container_of(w, struct gw_esp, io);
	if (p->st == ES_CONNECTING) {
		if (revents & (EV_WRITE | EV_READ))
			on_connected(p);
		return;
	}
	if (revents & EV_WRITE)
		flush(p);
	if (p->fd >= 0 && (revents & EV_READ))
		on_readable(p);
}

static void resolved(void *arg, const struct gw_lookup_result *res)
{
	struct gw_esp *p = arg;
	if (!res->ok) {
		client_fail(p, "cannot resolve %s: %s", p->cfg.host, res->error);
		return;
	}
	bool in_progress = false;
	p->fd = gw_tcp_connect((const struct sockaddr *)&res->addr, res->addrlen, true, &in_progress);
	if (p->fd < 0) {
		client_fail(p, "connect to %s port %d: %s", p->cfg.host, p->cfg.port, strerror(errno));
		return;
	}
	p->st = ES_CONNECTING;
	ev_io_set(&p->io, p->fd, EV_WRITE);
	ev_io_start(p->env->loop, &p->io);
	if (!in_progress)
		on_connected(p);
}

void esp_client_want(struct gw_esp *p)
{
	if (p->st != ES_DOWN || p->backoff)
		return;
	p->st = ES_RESOLVING;
	set_timer(p, SESSION_TIMEOUT, false);
	gw_resolve(p->env->resolver, p->cfg.host, p->cfg.port, resolved, p, &p->lookup);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_esp *p = container_of(w, struct gw_esp, timer);
	if (p->backoff) {
		p->backoff = false;
		if (p->links)
			esp_client_want(p);
		return;
	}
	if (p->st != ES_READY && p->st != ES_DOWN)
		client_fail(p, "no session within %.0f s (%s)", SESSION_TIMEOUT,
			    p->st == ES_RESOLVING ? "resolving the name" : p->st == ES_CONNECTING ? "connecting" :
			    p->st == ES_HANDSHAKE ? "the handshake: is the key right?" : "waiting for the device's answer");
}

static void keepalive_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_esp *p = container_of(w, struct gw_esp, keepalive);
	if (p->st != ES_READY)
		return;
	if (gw_mono() - p->last_rx > SILENT) {
		client_fail(p, "nothing from the proxy for %.0f s", SILENT);
		return;
	}
	Esphome__PingRequest r = ESPHOME__PING_REQUEST__INIT;
	(void)esp_client_send(p, ESP_PING_REQ, &r.base);
}

struct gw_esp *esp_client_get(struct gw_link_env *env, const struct conf_ble_proxy *cfg, const struct esp_users *users)
{
	for (struct gw_esp *p = env->esp; p; p = p->next)
		if (conf_ble_proxy_same(&p->cfg, cfg))
			return p;
	struct gw_esp *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->env = env;
	p->users = users;
	p->cfg = *cfg;
	p->fd = -1;
	p->free_slots = p->limit = -1;
	gw_retry_init(&p->rt);
	ev_init(&p->io, io_cb);
	ev_init(&p->timer, timer_cb);
	ev_init(&p->keepalive, keepalive_cb);
	p->keepalive.repeat = KEEPALIVE;
	p->next = env->esp;
	env->esp = p;
	return p;
}

void esp_client_join(struct gw_esp *p, struct gw_esp_link *k)
{
	k->p = p;
	k->next = p->links;
	p->links = k;
}

/* The last link left: the session ends quietly and the client goes. */
void esp_client_leave(struct gw_esp *p, struct gw_esp_link *k)
{
	for (struct gw_esp_link **pp = &p->links; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	k->next = NULL;
	if (p->links)
		return;
	client_drop(p);
	for (struct gw_esp **pp = &p->env->esp; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p->tx);
	explicit_bzero(&p->cfg, sizeof(p->cfg));
	free(p);
}

const struct esp_seen *esp_client_seen(const struct gw_esp *p, uint64_t addr)
{
	for (int i = 0; i < p->nseen; i++)
		if (p->seen[i].addr == addr)
			return &p->seen[i];
	return NULL;
}
