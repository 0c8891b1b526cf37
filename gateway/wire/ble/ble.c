/* gateway/wire/ble/ble.c - the Bluetooth LE transport: BlueZ through its D-Bus API
 * (sd-bus, libsystemd), on the daemon's libev loop.
 *
 * One client (struct gw_ble) per process, shared by every ble:// link, made
 * when the first one opens.  sd-bus is driven the way sd_bus_get_fd(3)
 * describes: an ev_io on sd_bus_get_fd() for sd_bus_get_events(), an
 * ev_timer at sd_bus_get_timeout() (absolute CLOCK_MONOTONIC microseconds,
 * UINT64_MAX = none), both re-armed from an ev_prepare before every loop
 * iteration, and sd_bus_process() until it returns 0.  Every method call is
 * asynchronous with its own timeout (sd_bus_call_async): nothing here waits.
 * sd_bus_open_system() honours DBUS_SYSTEM_BUS_ADDRESS (sd_bus_default(3)),
 * which is how the tests put a fake BlueZ in front of it.
 *
 * BlueZ's objects (org.bluez.Adapter1, Device1, GattService1,
 * GattCharacteristic1; bluez doc/org.bluez.*.rst) are mirrored from
 * GetManagedObjects and kept current from InterfacesAdded/Removed and
 * PropertiesChanged.  A connected link (a driver with ble_gatt):
 *
 *   find the device (discovery with Transport=le only while BlueZ does not
 *   know it) -> wait for the adapter's connection slot (one Connect at a
 *   time per adapter: many controllers take one LE Create Connection at a
 *   time, bluez#631) -> Device1.Connect (timeout [ble] connect_timeout) ->
 *   ServicesResolved -> the first of the driver's GATT layouts whose
 *   characteristics are there (notify side: Flags notify or indicate; write
 *   side: write-without-response preferred, WriteValue type "command", else
 *   "request") -> StartNotify -> up: every PropertiesChanged Value of the
 *   notify characteristic goes to the poller as bytes (the framers
 *   reassemble), every request is one WriteValue.
 *
 * An advertisement link (a driver with ble_company) never connects: while
 * one is configured discovery runs (Transport=le, DuplicateData), and each
 * ManufacturerData[company] the device's PropertiesChanged carries is handed
 * over as a BMS_ADV record.
 *
 * Anything that goes wrong -- the bus, BlueZ gone, no adapter or one powered
 * off, an unknown device, Connect refused (org.bluez.Error.InProgress ...)
 * or timing out, Connected turning false, the device removed
 * (InterfacesRemoved) -- closes that link with the reason (link.c logs the
 * outage once and retries with its backoff, 1 s doubling to 30 s); its
 * packs go stale as usual and nothing else waits.
 */
#ifdef HAVE_SYSTEMD

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "ble.h"
#include "../../core/clock.h"
#include "../../core/log.h"
#include "../../core/util.h"
#include "../wire.h"

#define BLUEZ "org.bluez"
#define IF_ADAPTER "org.bluez.Adapter1"
#define IF_DEVICE "org.bluez.Device1"
#define IF_SERVICE "org.bluez.GattService1"
#define IF_CHAR "org.bluez.GattCharacteristic1"
#define IF_PROPS "org.freedesktop.DBus.Properties"
#define IF_OM "org.freedesktop.DBus.ObjectManager"

#define USEC 1000000ULL
#define CALL_TIMEOUT (10 * USEC)    /* GetManagedObjects, StartNotify, discovery */
#define WRITE_TIMEOUT (5 * USEC)    /* one WriteValue */
#define FIND_TIMEOUT 20.0           /* s of discovery for a device BlueZ does not know */

/* ------------------------------------------------------------ objects */

enum { OBJ_ADAPTER = 1, OBJ_DEVICE = 2, OBJ_SERVICE = 4, OBJ_CHAR = 8 };
enum { CF_READ = 1, CF_WRITE = 2, CF_WWR = 4, CF_NOTIFY = 8, CF_INDICATE = 16 };

struct ble_mfr {
	uint16_t company;
	uint8_t len;
	uint8_t data[64];
};

/* One BlueZ object, the properties bmsgw uses. */
struct ble_obj {
	struct ble_obj *next;
	struct gw_ble *m;               /* the client that mirrors it */
	char *path;
	unsigned ifs;                   /* OBJ_* */
	/* Adapter1 */
	bool powered;
	/* discovery we run on this adapter */
	bool disc_on, disc_busy;        /* started; a Start/Stop is in flight */
	sd_bus_slot *disc_slot;
	struct gw_ble_link *connecting; /* holds the adapter's connection slot */
	/* Device1 */
	char address[18];
	char name[64];
	bool connected, resolved, paired, have_rssi;
	int rssi;
	bool seen;                      /* --ble-scan: reported during this scan */
	int nuuids;
	char uuids[GW_BLE_MAX_UUIDS][37];
	int nmfr;
	struct ble_mfr mfr[GW_BLE_MAX_MFR];
	/* GattService1 / GattCharacteristic1 */
	char uuid[37];
	unsigned flags;                 /* CF_* */
	unsigned mtu;
};

/* ------------------------------------------------------------ links */

enum ble_state {
	BL_IDLE,        /* closed */
	BL_WAIT,        /* waiting for BlueZ's objects */
	BL_FIND,        /* discovery: BlueZ does not know the device */
	BL_QUEUED,      /* waiting for the adapter's connection slot */
	BL_CONNECTING,  /* Connect() in flight */
	BL_RESOLVING,   /* connected, waiting for ServicesResolved */
	BL_NOTIFY,      /* StartNotify() in flight */
	BL_UP,          /* notifications flow */
	BL_ADV_START,   /* advertisements: waiting for discovery to run */
	BL_ADV,         /* advertisements flow */
};

struct gw_ble_link {
	struct gw_ble *m;
	struct gw_link *l;
	struct gw_ble_link *next;
	enum ble_state st;
	bool adv;                       /* an advertisement driver: no connection */
	unsigned long queued;           /* order in the adapter's queue */
	char adapter[96];               /* its adapter's path while open */
	char dev[128];                  /* the device's path while known */
	char notify[192], write[192];   /* the characteristics chosen */
	bool write_cmd;                 /* WriteValue type "command" */
	int layout;                     /* index of the driver's GATT layout in use */
	unsigned mtu;
	sd_bus_slot *call;              /* Connect / StartNotify in flight */
	ev_timer timer;                 /* find / resolve deadline */
};

struct gw_ble {
	struct ev_loop *loop;
	sd_bus *bus;
	ev_io io;
	ev_timer timer;
	ev_prepare prep;
	bool ready;                     /* BlueZ's objects are mirrored */
	bool dead;                      /* the connection failed inside sd_bus_process() */
	char dead_why[160];
	sd_bus_slot *objects_call;      /* GetManagedObjects in flight */
	struct ble_obj *objs;
	struct gw_ble_link *links;
	unsigned long queue_seq;
	bool processing;
	/* --ble-scan */
	const char *scan_adapter;       /* non-NULL while scanning */
	char scan_path[96];
	bool scan_started, scan_failed;
	char scan_error[320];
};

static void link_fail(struct gw_ble_link *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void link_advance(struct gw_ble_link *b);
static void disc_update(struct gw_ble *m, struct ble_obj *ad);
static void queue_kick(struct gw_ble *m, struct ble_obj *ad);

static struct ble_obj *obj_find(struct gw_ble *m, const char *path)
{
	for (struct ble_obj *o = m->objs; o; o = o->next)
		if (strcmp(o->path, path) == 0)
			return o;
	return NULL;
}

static struct ble_obj *obj_get(struct gw_ble *m, const char *path)
{
	struct ble_obj *o = obj_find(m, path);
	if (o)
		return o;
	o = calloc(1, sizeof(*o));
	if (!o || !(o->path = strdup(path))) {
		free(o);
		return NULL;
	}
	o->m = m;
	o->next = m->objs;
	m->objs = o;
	return o;
}

static void obj_free(struct ble_obj *o)
{
	sd_bus_slot_unref(o->disc_slot);
	free(o->path);
	free(o);
}

static void objs_clear(struct gw_ble *m)
{
	while (m->objs) {
		struct ble_obj *o = m->objs;
		m->objs = o->next;
		obj_free(o);
	}
}

/* p is path or below it ("/org/bluez/hci0" holds "/org/bluez/hci0/dev_..."). */
static bool under(const char *p, const char *path)
{
	size_t n = strlen(path);
	return strncmp(p, path, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

/* The adapter a link uses: the named one, else BlueZ's default (the first
 * Adapter1 in path order, as bluetoothctl and bleak pick it). */
static struct ble_obj *adapter_find(struct gw_ble *m, const char *name)
{
	struct ble_obj *best = NULL;
	for (struct ble_obj *o = m->objs; o; o = o->next) {
		if (!(o->ifs & OBJ_ADAPTER))
			continue;
		const char *base = strrchr(o->path, '/');
		if (name && name[0]) {
			if (base && strcmp(base + 1, name) == 0)
				return o;
		} else if (!best || strcmp(o->path, best->path) < 0) {
			best = o;
		}
	}
	return best;
}

static struct ble_obj *device_find(struct gw_ble *m, const char *adapter, const char *address)
{
	for (struct ble_obj *o = m->objs; o; o = o->next)
		if ((o->ifs & OBJ_DEVICE) && strcasecmp(o->address, address) == 0 && under(o->path, adapter))
			return o;
	return NULL;
}

/* ------------------------------------------------------------ properties */

static int skip_variant(sd_bus_message *msg)
{
	return sd_bus_message_skip(msg, "v");
}

static int read_bool(sd_bus_message *msg, bool *out)
{
	int v = 0, r = sd_bus_message_read(msg, "v", "b", &v);
	if (r >= 0)
		*out = v != 0;
	return r;
}

static int read_str(sd_bus_message *msg, char *out, size_t cap)
{
	const char *s = NULL;
	int r = sd_bus_message_read(msg, "v", "s", &s);
	if (r >= 0 && s)
		snprintf(out, cap, "%s", s);
	return r;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* An "ay" inside a variant: *p points into the message, *n its length. */
static int read_bytes_variant(sd_bus_message *msg, const void **p, size_t *n)
{
	int r = sd_bus_message_enter_container(msg, 'v', "ay");
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	r = sd_bus_message_read_array(msg, 'y', p, n);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

static int read_uuids(sd_bus_message *msg, struct ble_obj *o)
{
	int r = sd_bus_message_enter_container(msg, 'v', "as");
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	r = sd_bus_message_enter_container(msg, 'a', "s");
	if (r < 0)
		return r;
	o->nuuids = 0;
	const char *s;
	while ((r = sd_bus_message_read(msg, "s", &s)) > 0)
		if (o->nuuids < GW_BLE_MAX_UUIDS) {
			snprintf(o->uuids[o->nuuids], sizeof(o->uuids[0]), "%s", s);
			lower(o->uuids[o->nuuids++]);
		}
	if (r < 0)
		return r;
	if ((r = sd_bus_message_exit_container(msg)) < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

static int read_flags(sd_bus_message *msg, struct ble_obj *o)
{
	static const struct { const char *n; unsigned f; } names[] = {
		{ "read", CF_READ }, { "write", CF_WRITE }, { "write-without-response", CF_WWR },
		{ "notify", CF_NOTIFY }, { "indicate", CF_INDICATE },
	};
	int r = sd_bus_message_enter_container(msg, 'v', "as");
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	if ((r = sd_bus_message_enter_container(msg, 'a', "s")) < 0)
		return r;
	o->flags = 0;
	const char *s;
	while ((r = sd_bus_message_read(msg, "s", &s)) > 0)
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(s, names[i].n) == 0)
				o->flags |= names[i].f;
	if (r < 0)
		return r;
	if ((r = sd_bus_message_exit_container(msg)) < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

/* ManufacturerData a{qv} (v = ay): the device's records, replaced whole. */
static int read_mfr(sd_bus_message *msg, struct ble_obj *o)
{
	int r = sd_bus_message_enter_container(msg, 'v', "a{qv}");
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	if ((r = sd_bus_message_enter_container(msg, 'a', "{qv}")) < 0)
		return r;
	o->nmfr = 0;
	while ((r = sd_bus_message_enter_container(msg, 'e', "qv")) > 0) {
		uint16_t company = 0;
		const void *p = NULL;
		size_t n = 0;
		if ((r = sd_bus_message_read(msg, "q", &company)) < 0 || (r = read_bytes_variant(msg, &p, &n)) < 0)
			return r;
		if (o->nmfr < GW_BLE_MAX_MFR) {
			struct ble_mfr *e = &o->mfr[o->nmfr++];
			e->company = company;
			e->len = (uint8_t)(n > sizeof(e->data) ? sizeof(e->data) : n);
			if (e->len)
				memcpy(e->data, p, e->len);
		}
		if ((r = sd_bus_message_exit_container(msg)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	if ((r = sd_bus_message_exit_container(msg)) < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

/* What a PropertiesChanged or an object's properties said, for the caller. */
struct changes {
	bool connected, resolved, powered, mfr, value, rssi;
	const void *value_p;
	size_t value_n;
};

/* An a{sv} of interface `iface` into o; *ch notes what was in it. */
static int read_props(sd_bus_message *msg, struct ble_obj *o, const char *iface, struct changes *ch)
{
	int r = sd_bus_message_enter_container(msg, 'a', "{sv}");
	if (r < 0)
		return r;
	bool is_adapter = strcmp(iface, IF_ADAPTER) == 0, is_dev = strcmp(iface, IF_DEVICE) == 0;
	bool is_svc = strcmp(iface, IF_SERVICE) == 0, is_char = strcmp(iface, IF_CHAR) == 0;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		const char *key;
		if ((r = sd_bus_message_read(msg, "s", &key)) < 0)
			return r;
		if (is_adapter && strcmp(key, "Powered") == 0) {
			r = read_bool(msg, &o->powered);
			ch->powered = true;
		} else if (is_dev && strcmp(key, "Address") == 0) {
			r = read_str(msg, o->address, sizeof(o->address));
		} else if (is_dev && strcmp(key, "Name") == 0) {
			r = read_str(msg, o->name, sizeof(o->name));
		} else if (is_dev && strcmp(key, "Connected") == 0) {
			r = read_bool(msg, &o->connected);
			ch->connected = true;
		} else if (is_dev && strcmp(key, "ServicesResolved") == 0) {
			r = read_bool(msg, &o->resolved);
			ch->resolved = true;
		} else if (is_dev && strcmp(key, "Paired") == 0) {
			r = read_bool(msg, &o->paired);
		} else if (is_dev && strcmp(key, "RSSI") == 0) {
			int16_t v = 0;
			r = sd_bus_message_read(msg, "v", "n", &v);
			o->rssi = v;
			o->have_rssi = true;
			ch->rssi = true;
		} else if (is_dev && strcmp(key, "UUIDs") == 0) {
			r = read_uuids(msg, o);
		} else if (is_dev && strcmp(key, "ManufacturerData") == 0) {
			r = read_mfr(msg, o);
			ch->mfr = true;
		} else if ((is_svc || is_char) && strcmp(key, "UUID") == 0) {
			r = read_str(msg, o->uuid, sizeof(o->uuid));
			lower(o->uuid);
		} else if (is_char && strcmp(key, "Flags") == 0) {
			r = read_flags(msg, o);
		} else if (is_char && strcmp(key, "MTU") == 0) {
			uint16_t v = 0;
			r = sd_bus_message_read(msg, "v", "q", &v);
			o->mtu = v;
		} else if (is_char && strcmp(key, "Value") == 0) {
			r = read_bytes_variant(msg, &ch->value_p, &ch->value_n);
			ch->value = r >= 0;
		} else {
			r = skip_variant(msg);
		}
		if (r < 0)
			return r;
		if ((r = sd_bus_message_exit_container(msg)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

static unsigned iface_bit(const char *iface)
{
	return strcmp(iface, IF_ADAPTER) == 0 ? OBJ_ADAPTER : strcmp(iface, IF_DEVICE) == 0 ? OBJ_DEVICE
	     : strcmp(iface, IF_SERVICE) == 0 ? OBJ_SERVICE : strcmp(iface, IF_CHAR) == 0 ? OBJ_CHAR : 0;
}

/* One object's a{sa{sv}} (GetManagedObjects, InterfacesAdded). */
static int read_object(struct gw_ble *m, sd_bus_message *msg, const char *path, struct ble_obj **out)
{
	int r = sd_bus_message_enter_container(msg, 'a', "{sa{sv}}");
	if (r < 0)
		return r;
	struct ble_obj *o = NULL;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sa{sv}")) > 0) {
		const char *iface;
		if ((r = sd_bus_message_read(msg, "s", &iface)) < 0)
			return r;
		unsigned bit = iface_bit(iface);
		if (bit && strncmp(path, "/org/bluez/", 11) == 0) {
			if (!o && !(o = obj_get(m, path)))
				return -ENOMEM;
			o->ifs |= bit;
			struct changes ch;
			memset(&ch, 0, sizeof(ch));
			r = read_props(msg, o, iface, &ch);
		} else {
			r = sd_bus_message_skip(msg, "a{sv}");
		}
		if (r < 0)
			return r;
		if ((r = sd_bus_message_exit_container(msg)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	*out = o;
	return sd_bus_message_exit_container(msg);
}

/* ------------------------------------------------------------ calls */

/* An asynchronous method call on BlueZ with its own timeout. */
static int call(struct gw_ble *m, sd_bus_slot **slot, const char *path, const char *iface, const char *member,
		sd_bus_message_handler_t cb, void *ud, uint64_t usec, const char *types, ...)
{
	sd_bus_message *msg = NULL;
	int r = sd_bus_message_new_method_call(m->bus, &msg, BLUEZ, path, iface, member);
	if (r >= 0 && types) {
		va_list ap;
		va_start(ap, types);
		r = sd_bus_message_appendv(msg, types, ap);
		va_end(ap);
	}
	if (r >= 0) {
		if (cb)
			r = sd_bus_call_async(m->bus, slot, msg, cb, ud, usec);
		else if ((r = sd_bus_message_set_expect_reply(msg, 0)) >= 0)
			r = sd_bus_send(m->bus, msg, NULL);
	}
	sd_bus_message_unref(msg);
	return r;
}

/* "org.bluez.Error.InProgress: Operation already in progress" */
static const char *err_text(const sd_bus_error *e, char *buf, size_t cap)
{
	if (e && sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY))
		snprintf(buf, cap, "no answer from BlueZ in time");
	else if (e && e->message && e->message[0])
		snprintf(buf, cap, "%s: %s", e->name ? e->name : "error", e->message);
	else
		snprintf(buf, cap, "%s", e && e->name ? e->name : "failed");
	return buf;
}

/* ------------------------------------------------------------ the loop glue */

static void bus_close(struct gw_ble *m, const char *why);

static void bus_run(struct gw_ble *m)
{
	if (!m->bus || m->processing)
		return;
	m->processing = true;
	for (;;) {
		int r = sd_bus_process(m->bus, NULL);
		if (r < 0) {
			m->dead = true;
			snprintf(m->dead_why, sizeof(m->dead_why), "the D-Bus system bus connection failed: %s",
				 strerror(-r));
			break;
		}
		if (r == 0 || m->dead)
			break;
	}
	m->processing = false;
	if (m->dead)
		bus_close(m, m->dead_why);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	bus_run(container_of(w, struct gw_ble, io));
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	bus_run(container_of(w, struct gw_ble, timer));
}

/* Before the loop sleeps: the descriptor's events and the next timeout as
 * sd-bus wants them now. */
static void prep_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)revents;
	struct gw_ble *m = container_of(w, struct gw_ble, prep);
	if (!m->bus)
		return;
	int fd = sd_bus_get_fd(m->bus), ev = sd_bus_get_events(m->bus);
	if (fd < 0 || ev < 0) {
		bus_close(m, "the D-Bus system bus connection closed");
		return;
	}
	int want = (ev & POLLIN ? EV_READ : 0) | (ev & POLLOUT ? EV_WRITE : 0);
	if (!ev_is_active(&m->io) || m->io.fd != fd || m->io.events != want) {
		ev_io_stop(loop, &m->io);
		if (want) {
			ev_io_set(&m->io, fd, want);
			ev_io_start(loop, &m->io);
		}
	}
	uint64_t until = UINT64_MAX;
	ev_timer_stop(loop, &m->timer);
	if (sd_bus_get_timeout(m->bus, &until) >= 0 && until != UINT64_MAX) {
		uint64_t now = gw_mono_usec();
		double after = until > now ? (double)(until - now) / 1e6 : 0.;
		ev_timer_set(&m->timer, after, 0.);
		ev_timer_start(loop, &m->timer);
	}
}

/* ------------------------------------------------------------ signals */

static struct gw_ble_link *link_by_dev(struct gw_ble *m, const char *path, struct gw_ble_link *after)
{
	for (struct gw_ble_link *b = after ? after->next : m->links; b; b = b->next)
		if (b->st != BL_IDLE && strcmp(b->dev, path) == 0)
			return b;
	return NULL;
}

/* A device's manufacturer data reached us: each advertisement link of it
 * gets the record of its company as a BMS_ADV record. */
static void adv_feed(struct gw_ble *m, const struct ble_obj *dev)
{
	for (struct gw_ble_link *b = m->links; b; b = b->next) {
		if (b->st != BL_ADV || !under(dev->path, b->adapter) ||
		    strcasecmp(dev->address, b->l->cfg->ble_addr) != 0)
			continue;
		uint16_t company = b->l->cfg->driver->ble_company;
		for (int i = 0; i < dev->nmfr; i++) {
			if (dev->mfr[i].company != company)
				continue;
			uint8_t rec[BMS_ADV_HDR + sizeof(dev->mfr[i].data)];
			rec[0] = BMS_ADV_MAGIC0;
			rec[1] = BMS_ADV_MAGIC1;
			rec[2] = (uint8_t)(company & 0xFF);
			rec[3] = (uint8_t)(company >> 8);
			rec[4] = dev->mfr[i].len;
			memcpy(rec + BMS_ADV_HDR, dev->mfr[i].data, dev->mfr[i].len);
			gw_link_bytes(b->l, rec, BMS_ADV_HDR + (size_t)dev->mfr[i].len);
		}
	}
}

static void device_gone(struct gw_ble *m, const char *path, const char *why)
{
	struct gw_ble_link *b;
	while ((b = link_by_dev(m, path, NULL)) != NULL) {
		b->dev[0] = '\0'; /* nothing to disconnect */
		link_fail(b, "%s", why);
	}
}

static void adapter_down(struct gw_ble *m, struct ble_obj *ad, const char *why)
{
	ad->disc_on = false;
	for (struct gw_ble_link *b = m->links; b; b = b->next)
		if (b->st != BL_IDLE && strcmp(b->adapter, ad->path) == 0) {
			b->dev[0] = '\0';
			link_fail(b, "%s", why);
		}
	if (m->scan_adapter && strcmp(m->scan_path, ad->path) == 0) {
		m->scan_failed = true;
		snprintf(m->scan_error, sizeof(m->scan_error), "%s", why);
	}
}

static int on_props_changed(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble *m = ud;
	const char *path = sd_bus_message_get_path(msg), *iface = NULL;
	if (!path || !m->ready || sd_bus_message_read(msg, "s", &iface) < 0)
		return 0;
	unsigned bit = iface_bit(iface);
	struct ble_obj *o = bit ? obj_find(m, path) : NULL;
	if (!o)
		return 0;
	struct changes ch;
	memset(&ch, 0, sizeof(ch));
	if (read_props(msg, o, iface, &ch) < 0)
		return 0;
	if (bit == OBJ_CHAR && ch.value) {
		for (struct gw_ble_link *b = m->links; b; b = b->next)
			if (b->st == BL_UP && strcmp(b->notify, path) == 0) {
				gw_link_bytes(b->l, ch.value_p, ch.value_n);
				break;
			}
		return 0;
	}
	if (bit == OBJ_ADAPTER && ch.powered && !o->powered) {
		char why[160];
		snprintf(why, sizeof(why), "adapter %s was powered off", strrchr(o->path, '/') + 1);
		adapter_down(m, o, why);
		return 0;
	}
	if (bit != OBJ_DEVICE)
		return 0;
	if (m->scan_adapter && (ch.rssi || ch.mfr))
		o->seen = true;
	if (ch.mfr)
		adv_feed(m, o);
	if (ch.connected && !o->connected) {
		struct gw_ble_link *b = link_by_dev(m, path, NULL);
		for (; b; b = link_by_dev(m, path, b))
			if (b->st == BL_RESOLVING || b->st == BL_NOTIFY || b->st == BL_UP) {
				link_fail(b, "disconnected (the BMS, or the radio, dropped the connection)");
				break;
			}
	}
	if (ch.resolved && o->resolved) {
		for (struct gw_ble_link *b = m->links; b; b = b->next)
			if (b->st == BL_RESOLVING && strcmp(b->dev, path) == 0) {
				link_advance(b);
				break;
			}
	}
	return 0;
}

static int on_ifaces_added(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble *m = ud;
	const char *path = NULL;
	struct ble_obj *o = NULL;
	if (!m->ready || sd_bus_message_read(msg, "o", &path) < 0 || read_object(m, msg, path, &o) < 0 || !o)
		return 0;
	if (!(o->ifs & OBJ_DEVICE))
		return 0;
	if (m->scan_adapter)
		o->seen = true;
	/* a device we were looking for */
	for (struct gw_ble_link *b = m->links; b; b = b->next)
		if (b->st == BL_FIND && under(path, b->adapter) && strcasecmp(o->address, b->l->cfg->ble_addr) == 0) {
			ev_timer_stop(m->loop, &b->timer);
			link_advance(b);
			break;
		}
	if (o->nmfr)
		adv_feed(m, o);
	return 0;
}

static int on_ifaces_removed(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble *m = ud;
	const char *path = NULL, *iface;
	if (!m->ready || sd_bus_message_read(msg, "o", &path) < 0)
		return 0;
	struct ble_obj *o = obj_find(m, path);
	if (!o || sd_bus_message_enter_container(msg, 'a', "s") < 0)
		return 0;
	unsigned gone = 0;
	while (sd_bus_message_read(msg, "s", &iface) > 0)
		gone |= iface_bit(iface);
	if (gone & OBJ_DEVICE)
		device_gone(m, path, "the device was removed from BlueZ");
	if (gone & OBJ_ADAPTER) {
		char why[160];
		snprintf(why, sizeof(why), "adapter %s was removed", strrchr(path, '/') + 1);
		adapter_down(m, o, why);
	}
	o->ifs &= ~gone;
	if (o->ifs)
		return 0;
	/* drop it and everything below it */
	for (struct ble_obj **pp = &m->objs; *pp;) {
		if (under((*pp)->path, path)) {
			struct ble_obj *dead = *pp;
			*pp = dead->next;
			obj_free(dead);
		} else {
			pp = &(*pp)->next;
		}
	}
	return 0;
}

static void fail_all(struct gw_ble *m, const char *why)
{
	for (struct gw_ble_link *b = m->links; b; b = b->next)
		if (b->st != BL_IDLE) {
			b->dev[0] = '\0';
			link_fail(b, "%s", why);
		}
	if (m->scan_adapter) {
		m->scan_failed = true;
		snprintf(m->scan_error, sizeof(m->scan_error), "%s", why);
	}
}

static void objects_request(struct gw_ble *m);

/* bluetoothd started or stopped */
static int on_owner_changed(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble *m = ud;
	const char *name, *old, *nw;
	if (sd_bus_message_read(msg, "sss", &name, &old, &nw) < 0 || strcmp(name, BLUEZ) != 0)
		return 0;
	if (old && old[0]) {
		m->ready = false;
		m->objects_call = sd_bus_slot_unref(m->objects_call);
		fail_all(m, "BlueZ (bluetoothd) stopped");
		objs_clear(m);
	}
	if (nw && nw[0])
		objects_request(m);
	return 0;
}

/* ------------------------------------------------------------ BlueZ's objects */

static int on_objects(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble *m = ud;
	m->objects_call = sd_bus_slot_unref(m->objects_call);
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	if (e) {
		char t[200], why[260];
		if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
		    sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
			snprintf(why, sizeof(why), "BlueZ is not running (no org.bluez on the system bus; "
				 "systemctl start bluetooth)");
		else
			snprintf(why, sizeof(why), "BlueZ's objects: %s", err_text(e, t, sizeof(t)));
		fail_all(m, why);
		return 0;
	}
	objs_clear(m);
	int r = sd_bus_message_enter_container(msg, 'a', "{oa{sa{sv}}}");
	while (r > 0 && (r = sd_bus_message_enter_container(msg, 'e', "oa{sa{sv}}")) > 0) {
		const char *path;
		struct ble_obj *o = NULL;
		if ((r = sd_bus_message_read(msg, "o", &path)) < 0 || (r = read_object(m, msg, path, &o)) < 0)
			break;
		r = sd_bus_message_exit_container(msg);
	}
	if (r < 0) {
		char why[160];
		snprintf(why, sizeof(why), "BlueZ's objects: bad answer: %s", strerror(-r));
		objs_clear(m);
		fail_all(m, why);
		return 0;
	}
	m->ready = true;
	for (struct gw_ble_link *b = m->links; b; b = b->next)
		if (b->st == BL_WAIT)
			link_advance(b);
	if (m->scan_adapter) {
		struct ble_obj *ad = adapter_find(m, m->scan_adapter);
		if (!ad) {
			m->scan_failed = true;
			snprintf(m->scan_error, sizeof(m->scan_error), "%s", m->scan_adapter[0]
				 ? "no such Bluetooth adapter (bluetoothctl list shows them)"
				 : "no Bluetooth adapter (bluetoothctl list shows none)");
		} else if (!ad->powered) {
			m->scan_failed = true;
			snprintf(m->scan_error, sizeof(m->scan_error), "adapter %s is powered off (bluetoothctl power on)",
				 strrchr(ad->path, '/') + 1);
		} else {
			snprintf(m->scan_path, sizeof(m->scan_path), "%s", ad->path);
			disc_update(m, ad);
		}
	}
	return 0;
}

static void objects_request(struct gw_ble *m)
{
	if (m->objects_call || m->ready || !m->bus)
		return;
	int r = call(m, &m->objects_call, "/", IF_OM, "GetManagedObjects", on_objects, m, CALL_TIMEOUT, NULL);
	if (r < 0) {
		char why[160];
		snprintf(why, sizeof(why), "GetManagedObjects: %s", strerror(-r));
		fail_all(m, why);
	}
}

/* ------------------------------------------------------------ the bus */

static int bus_open(struct gw_ble *m, char *why, size_t wl)
{
	if (m->bus)
		return 0;
	sd_bus *bus = NULL;
	int r = sd_bus_open_system(&bus);
	if (r < 0) {
		snprintf(why, wl, "cannot reach the D-Bus system bus: %s", strerror(-r));
		return -1;
	}
	m->bus = bus;
	m->dead = false;
	static const char *const rules[] = {
		"type='signal',interface='" IF_PROPS "',member='PropertiesChanged',path_namespace='/org/bluez'",
		"type='signal',sender='" BLUEZ "',interface='" IF_OM "',member='InterfacesAdded'",
		"type='signal',sender='" BLUEZ "',interface='" IF_OM "',member='InterfacesRemoved'",
		"type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
		"member='NameOwnerChanged',arg0='" BLUEZ "'",
	};
	static const sd_bus_message_handler_t cbs[] = { on_props_changed, on_ifaces_added, on_ifaces_removed,
							on_owner_changed };
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && r >= 0; i++)
		r = sd_bus_add_match_async(bus, NULL, rules[i], cbs[i], NULL, m);
	if (r < 0) {
		snprintf(why, wl, "D-Bus: cannot watch BlueZ's signals: %s", strerror(-r));
		m->bus = sd_bus_flush_close_unref(bus);
		return -1;
	}
	ev_prepare_start(m->loop, &m->prep);
	objects_request(m);
	return 0;
}

static void bus_close(struct gw_ble *m, const char *why)
{
	if (!m->bus || m->processing)
		return;
	m->ready = false;
	m->objects_call = sd_bus_slot_unref(m->objects_call);
	fail_all(m, why);
	for (struct ble_obj *o = m->objs; o; o = o->next)
		o->disc_slot = sd_bus_slot_unref(o->disc_slot);
	objs_clear(m);
	ev_io_stop(m->loop, &m->io);
	ev_timer_stop(m->loop, &m->timer);
	ev_prepare_stop(m->loop, &m->prep);
	m->bus = sd_bus_close_unref(m->bus);
}

static struct gw_ble *ble_new(struct ev_loop *loop)
{
	struct gw_ble *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->loop = loop;
	ev_init(&m->io, io_cb);
	ev_init(&m->timer, timer_cb);
	ev_prepare_init(&m->prep, prep_cb);
	return m;
}

void gw_ble_free(struct gw_ble *m)
{
	if (!m)
		return;
	for (struct ble_obj *o = m->objs; o; o = o->next)
		o->disc_slot = sd_bus_slot_unref(o->disc_slot);
	objs_clear(m);
	ev_io_stop(m->loop, &m->io);
	ev_timer_stop(m->loop, &m->timer);
	ev_prepare_stop(m->loop, &m->prep);
	m->objects_call = sd_bus_slot_unref(m->objects_call);
	/* the Disconnect()s and StopDiscovery()s sent at close go out now: the
	 * local bus daemon reads them at once (nothing waits for BlueZ) */
	if (m->bus)
		m->bus = sd_bus_flush_close_unref(m->bus);
	free(m);
}

/* ------------------------------------------------------------ discovery */

static bool disc_wanted(struct gw_ble *m, struct ble_obj *ad)
{
	if (m->scan_adapter && strcmp(m->scan_path, ad->path) == 0)
		return true;
	for (struct gw_ble_link *b = m->links; b; b = b->next)
		if ((b->st == BL_FIND || b->st == BL_ADV_START || b->st == BL_ADV) && strcmp(b->adapter, ad->path) == 0)
			return true;
	return false;
}

static int on_disc(sd_bus_message *msg, void *ud, sd_bus_error *ret_error);

static int on_filter(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct ble_obj *ad = ud;
	ad->disc_slot = sd_bus_slot_unref(ad->disc_slot);
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	if (e)
		gw_debug("ble: SetDiscoveryFilter on %s: %s", ad->path, e->message ? e->message : e->name);
	/* the filter only narrows what BlueZ reports: start either way */
	sd_bus *bus = sd_bus_message_get_bus(msg);
	sd_bus_message *call_msg = NULL;
	int r = sd_bus_message_new_method_call(bus, &call_msg, BLUEZ, ad->path, IF_ADAPTER, "StartDiscovery");
	if (r >= 0)
		r = sd_bus_call_async(bus, &ad->disc_slot, call_msg, on_disc, ad, CALL_TIMEOUT);
	sd_bus_message_unref(call_msg);
	if (r < 0)
		ad->disc_busy = false;
	return 0;
}

static int on_disc(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct ble_obj *ad = ud;
	struct gw_ble *m = ad->m;
	ad->disc_slot = sd_bus_slot_unref(ad->disc_slot);
	ad->disc_busy = false;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	bool starting = !ad->disc_on;
	if (e && !sd_bus_error_has_name(e, "org.bluez.Error.InProgress")) {
		char t[200];
		err_text(e, t, sizeof(t));
		if (starting) {
			char why[260];
			snprintf(why, sizeof(why), "discovery on %s: %s", strrchr(ad->path, '/') + 1, t);
			ad->disc_busy = true; /* no new attempt while the links that wanted it fail */
			for (struct gw_ble_link *b = m->links; b; b = b->next)
				if ((b->st == BL_ADV_START || b->st == BL_FIND) && strcmp(b->adapter, ad->path) == 0)
					link_fail(b, "%s", why);
			ad->disc_busy = false;
			if (m->scan_adapter && strcmp(m->scan_path, ad->path) == 0) {
				m->scan_failed = true;
				snprintf(m->scan_error, sizeof(m->scan_error), "%s", why);
			}
			return 0;
		}
		gw_debug("ble: StopDiscovery on %s: %s", ad->path, t);
	}
	ad->disc_on = starting;
	if (starting) {
		if (m->scan_adapter && strcmp(m->scan_path, ad->path) == 0)
			m->scan_started = true;
		for (struct gw_ble_link *b = m->links; b; b = b->next)
			if (b->st == BL_ADV_START && strcmp(b->adapter, ad->path) == 0) {
				b->st = BL_ADV;
				gw_link_up(b->l);
			}
	}
	disc_update(m, ad); /* wanted changed meanwhile? */
	return 0;
}

/* Start or stop discovery on adapter ad as the links (and a scan) want it. */
static void disc_update(struct gw_ble *m, struct ble_obj *ad)
{
	if (!m->bus || ad->disc_busy || !ad->powered)
		return;
	bool want = disc_wanted(m, ad);
	int r = 0;
	if (want && !ad->disc_on) {
		ad->disc_busy = true;
		/* LE only, every advertisement (DuplicateData: a ManufacturerData
		 * change signal per advertisement, BlueZ >= 5.47) */
		r = call(m, &ad->disc_slot, ad->path, IF_ADAPTER, "SetDiscoveryFilter", on_filter, ad, CALL_TIMEOUT,
			 "a{sv}", 2, "Transport", "s", "le", "DuplicateData", "b", 1);
	} else if (!want && ad->disc_on) {
		ad->disc_busy = true;
		r = call(m, &ad->disc_slot, ad->path, IF_ADAPTER, "StopDiscovery", on_disc, ad, CALL_TIMEOUT, NULL);
	} else if (want && ad->disc_on) {
		for (struct gw_ble_link *b = m->links; b; b = b->next)
			if (b->st == BL_ADV_START && strcmp(b->adapter, ad->path) == 0) {
				b->st = BL_ADV;
				gw_link_up(b->l);
			}
	}
	if (r < 0) {
		ad->disc_busy = false;
		gw_debug("ble: discovery on %s: %s", ad->path, strerror(-r));
	}
}

/* ------------------------------------------------------------ one link */

static void link_fail(struct gw_ble_link *b, const char *fmt, ...)
{
	char why[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	gw_link_close(b->l, why); /* calls ble_close() */
}

static void timer_link_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_ble_link *b = container_of(w, struct gw_ble_link, timer);
	if (b->st == BL_FIND)
		link_fail(b, "device %s not found within %.0f s of discovery (out of range, switched off, or "
			  "connected to another device such as a phone)", b->l->cfg->ble_addr, FIND_TIMEOUT);
	else if (b->st == BL_RESOLVING)
		link_fail(b, "connected, but BlueZ did not resolve the GATT services within %g s",
			  b->l->env->ble_connect_timeout);
}

/* The characteristics of the first of the driver's layouts from b->layout
 * on that the device has (b->layout set to it), or false. */
static bool pick_chars(struct gw_ble_link *b)
{
	struct gw_ble *m = b->m;
	const struct bms_gatt *g0 = b->l->cfg->driver->ble_gatt, *g = g0;
	for (int k = 0; g && g->service && k < b->layout; k++)
		g++;
	for (; g && g->service; g++) {
		struct ble_obj *notify = NULL, *write = NULL;
		int best = -1;
		for (struct ble_obj *s = m->objs; s; s = s->next) {
			if (!(s->ifs & OBJ_SERVICE) || !under(s->path, b->dev) || strcasecmp(s->uuid, g->service) != 0)
				continue;
			for (struct ble_obj *c = m->objs; c; c = c->next)
				if ((c->ifs & OBJ_CHAR) && under(c->path, s->path) && strcasecmp(c->uuid, g->notify) == 0 &&
				    (c->flags & (CF_NOTIFY | CF_INDICATE)) && !notify)
					notify = c;
			for (struct ble_obj *c = m->objs; c; c = c->next) {
				if (!(c->ifs & OBJ_CHAR) || !under(c->path, s->path) || strcasecmp(c->uuid, g->write) != 0 ||
				    !(c->flags & (CF_WRITE | CF_WWR)))
					continue;
				/* write without response first; of two with the same UUID
				 * (JK's new module) the one that is not the notifier */
				int score = (c->flags & CF_WWR ? 2 : 0) + (c != notify);
				if (score > best) {
					best = score;
					write = c;
				}
			}
			if (notify && write)
				break;
		}
		if (notify && write) {
			snprintf(b->notify, sizeof(b->notify), "%s", notify->path);
			snprintf(b->write, sizeof(b->write), "%s", write->path);
			b->write_cmd = (write->flags & CF_WWR) != 0;
			b->mtu = write->mtu;
			b->layout = (int)(g - g0);
			gw_debug("link %s: GATT service %s: notify %s, write %s (%s)", b->l->port, g->service,
				 notify->path, write->path, b->write_cmd ? "command" : "request");
			return true;
		}
	}
	return false;
}

static void start_notify(struct gw_ble_link *b);

static int on_notify(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble_link *b = ud;
	b->call = sd_bus_slot_unref(b->call);
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	if (e) {
		char t[200];
		const struct bms_gatt *g = b->l->cfg->driver->ble_gatt;
		if ((sd_bus_error_has_name(e, "org.bluez.Error.NotPermitted") ||
		     sd_bus_error_has_name(e, "org.bluez.Error.NotSupported")) && g[b->layout + 1].service) {
			/* newer firmware refuses the old layout's notifier (Daly FFF1): the next layout */
			gw_debug("link %s: StartNotify on %s: %s; trying the next GATT layout", b->l->port, b->notify,
				 err_text(e, t, sizeof(t)));
			b->layout++;
			start_notify(b);
			return 0;
		}
		link_fail(b, "StartNotify on %s: %s", b->notify, err_text(e, t, sizeof(t)));
		return 0;
	}
	b->st = BL_UP;
	gw_link_up(b->l);
	return 0;
}

/* Connected and resolved: the characteristics, then notifications. */
static void start_notify(struct gw_ble_link *b)
{
	if (!pick_chars(b)) {
		const struct bms_gatt *g = b->l->cfg->driver->ble_gatt;
		link_fail(b, "no GATT layout of protocol %s on the device (service %s with notify %s and write %s%s); "
			  "a stale GATT cache is cleared with bluetoothctl remove %s", b->l->cfg->driver->name,
			  g ? g->service : "?", g ? g->notify : "?", g ? g->write : "?",
			  g && g[1].service ? ", or the other layouts" : "", b->l->cfg->ble_addr);
		return;
	}
	b->st = BL_NOTIFY;
	int r = call(b->m, &b->call, b->notify, IF_CHAR, "StartNotify", on_notify, b, CALL_TIMEOUT, NULL);
	if (r < 0)
		link_fail(b, "StartNotify: %s", strerror(-r));
}

static int on_connect(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble_link *b = ud;
	struct gw_ble *m = b->m;
	b->call = sd_bus_slot_unref(b->call);
	struct ble_obj *ad = obj_find(m, b->adapter);
	if (ad && ad->connecting == b)
		ad->connecting = NULL;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	if (e) {
		char t[200];
		err_text(e, t, sizeof(t));
		if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY))
			link_fail(b, "no connection within %g s (connect_timeout)", b->l->env->ble_connect_timeout);
		else if (sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
			 sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_METHOD) ||
			 sd_bus_error_has_name(e, "org.bluez.Error.DoesNotExist")) {
			b->dev[0] = '\0';
			link_fail(b, "BlueZ no longer knows device %s (%s)", b->l->cfg->ble_addr, t);
		} else if (sd_bus_error_has_name(e, "org.bluez.Error.InProgress"))
			link_fail(b, "connect: BlueZ says a connection attempt is already in progress (%s)", t);
		else
			link_fail(b, "connect: %s", t);
	} else {
		b->st = BL_RESOLVING;
		struct ble_obj *dev = obj_find(m, b->dev);
		if (dev && dev->resolved) {
			start_notify(b);
		} else {
			ev_timer_set(&b->timer, b->l->env->ble_connect_timeout, 0.);
			ev_timer_start(m->loop, &b->timer);
		}
	}
	if (ad)
		queue_kick(m, ad);
	return 0;
}

/* The adapter's connection slot is free: the link that queued first connects. */
static void queue_kick(struct gw_ble *m, struct ble_obj *ad)
{
	while (!ad->connecting) {
		struct gw_ble_link *next = NULL;
		for (struct gw_ble_link *b = m->links; b; b = b->next)
			if (b->st == BL_QUEUED && strcmp(b->adapter, ad->path) == 0 && (!next || b->queued < next->queued))
				next = b;
		if (!next)
			return;
		struct ble_obj *dev = obj_find(m, next->dev);
		if (!dev) {
			next->st = BL_WAIT;
			link_advance(next);
			continue;
		}
		next->st = BL_CONNECTING;
		ad->connecting = next;
		gw_debug("link %s: Connect %s", next->l->port, next->dev);
		uint64_t usec = (uint64_t)(next->l->env->ble_connect_timeout * (double)USEC);
		int r = call(m, &next->call, next->dev, IF_DEVICE, "Connect", on_connect, next, usec, NULL);
		if (r < 0) {
			ad->connecting = NULL;
			link_fail(next, "Connect: %s", strerror(-r));
		}
	}
}

/* Take the link as far as BlueZ's mirrored state allows. */
static void link_advance(struct gw_ble_link *b)
{
	struct gw_ble *m = b->m;
	const struct conf_pack *cfg = b->l->cfg;
	if (!m->ready) {
		b->st = BL_WAIT;
		objects_request(m);
		return;
	}
	struct ble_obj *ad = adapter_find(m, cfg->ble_adapter);
	if (!ad) {
		if (cfg->ble_adapter[0])
			link_fail(b, "no Bluetooth adapter %s (bluetoothctl list shows the adapters)", cfg->ble_adapter);
		else
			link_fail(b, "no Bluetooth adapter (bluetoothctl list shows none)");
		return;
	}
	snprintf(b->adapter, sizeof(b->adapter), "%s", ad->path);
	if (!ad->powered) {
		link_fail(b, "adapter %s is powered off (bluetoothctl power on)", strrchr(ad->path, '/') + 1);
		return;
	}
	if (b->adv) {
		b->st = BL_ADV_START;
		disc_update(m, ad);
		return;
	}
	struct ble_obj *dev = device_find(m, ad->path, cfg->ble_addr);
	if (!dev) {
		if (b->st != BL_FIND) {
			gw_debug("link %s: BlueZ does not know the device: discovery", b->l->port);
			b->st = BL_FIND;
			ev_timer_set(&b->timer, FIND_TIMEOUT, 0.);
			ev_timer_start(m->loop, &b->timer);
		}
		disc_update(m, ad);
		return;
	}
	ev_timer_stop(m->loop, &b->timer);
	snprintf(b->dev, sizeof(b->dev), "%s", dev->path);
	if (b->st == BL_FIND) {
		b->st = BL_WAIT;
		disc_update(m, ad); /* nobody else may want it */
	}
	if (b->st == BL_RESOLVING) {
		ev_timer_stop(m->loop, &b->timer);
		start_notify(b);
		return;
	}
	if (dev->connected && dev->resolved) {
		/* BlueZ kept (or re-made) the connection: no Connect needed */
		start_notify(b);
		return;
	}
	b->st = BL_QUEUED;
	b->queued = ++m->queue_seq;
	queue_kick(m, ad);
}

/* ------------------------------------------------------------ the transport */

static void ble_open(struct gw_link *l)
{
	struct gw_link_env *env = l->env;
	char why[200];
	if (!env->ble && !(env->ble = ble_new(env->loop))) {
		gw_link_close(l, "out of memory");
		return;
	}
	struct gw_ble *m = env->ble;
	if (!l->ble) {
		struct gw_ble_link *b = calloc(1, sizeof(*b));
		if (!b) {
			gw_link_close(l, "out of memory");
			return;
		}
		b->m = m;
		b->l = l;
		b->adv = l->cfg->driver->ble_company != 0;
		ev_init(&b->timer, timer_link_cb);
		b->next = m->links;
		m->links = b;
		l->ble = b;
	}
	if (bus_open(m, why, sizeof(why)) < 0) {
		gw_link_close(l, why);
		return;
	}
	l->state = GW_LINK_CONNECTING;
	struct gw_ble_link *b = l->ble;
	b->st = BL_WAIT;
	b->layout = 0;
	b->dev[0] = b->notify[0] = b->write[0] = '\0';
	link_advance(b);
}

/* Release what the link holds at BlueZ: the call in flight, the adapter's
 * connection slot, the connection itself, discovery nobody wants any more. */
static void ble_close(struct gw_link *l)
{
	struct gw_ble_link *b = l->ble;
	if (!b || b->st == BL_IDLE)
		return;
	struct gw_ble *m = b->m;
	enum ble_state was = b->st;
	b->st = BL_IDLE;
	b->call = sd_bus_slot_unref(b->call);
	ev_timer_stop(m->loop, &b->timer);
	struct ble_obj *ad = b->adapter[0] ? obj_find(m, b->adapter) : NULL;
	if (m->bus && b->dev[0] && obj_find(m, b->dev) &&
	    (was == BL_CONNECTING || was == BL_RESOLVING || was == BL_NOTIFY || was == BL_UP)) {
		/* also cancels a connection attempt in progress */
		(void)call(m, NULL, b->dev, IF_DEVICE, "Disconnect", NULL, NULL, 0, NULL);
	}
	b->dev[0] = b->notify[0] = b->write[0] = '\0';
	if (ad) {
		if (ad->connecting == b) {
			ad->connecting = NULL;
			queue_kick(m, ad);
		}
		disc_update(m, ad);
	}
}

static void unlink_ble(struct gw_link *l)
{
	struct gw_ble_link *b = l->ble;
	if (!b)
		return;
	for (struct gw_ble_link **pp = &b->m->links; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	free(b);
	l->ble = NULL;
}

static int on_write(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	(void)ud;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	if (e) {
		char t[200];
		gw_debug("ble: WriteValue %s: %s", sd_bus_message_get_path(msg) ? sd_bus_message_get_path(msg) : "",
			 err_text(e, t, sizeof(t)));
	}
	return 0;
}

/* One request: WriteValue(bytes, {"type": "command" | "request"}), in
 * pieces of the ATT MTU less 3 for a write without response. */
static int ble_write(struct gw_link *l)
{
	struct gw_ble_link *b = l->ble;
	if (!b || b->st != BL_UP || !b->m->bus) {
		l->txlen = l->txoff = 0;
		return 0;
	}
	size_t off = l->txoff, end = l->txlen;
	size_t piece = b->write_cmd && b->mtu > 3 ? b->mtu - 3 : end - off;
	int r = 0;
	while (off < end && r >= 0) {
		size_t n = end - off < piece ? end - off : piece;
		sd_bus_message *msg = NULL;
		r = sd_bus_message_new_method_call(b->m->bus, &msg, BLUEZ, b->write, IF_CHAR, "WriteValue");
		if (r >= 0)
			r = sd_bus_message_append_array(msg, 'y', l->tx + off, n);
		if (r >= 0)
			r = sd_bus_message_append(msg, "a{sv}", 1, "type", "s", b->write_cmd ? "command" : "request");
		if (r >= 0)
			r = sd_bus_call_async(b->m->bus, NULL, msg, on_write, NULL, WRITE_TIMEOUT);
		sd_bus_message_unref(msg);
		off += n;
	}
	l->txlen = l->txoff = 0;
	if (r < 0) {
		char why[160];
		snprintf(why, sizeof(why), "WriteValue: %s", strerror(-r));
		gw_link_close(l, why);
		return -1;
	}
	return 0;
}

/* Notifications come as signals, never pile up in a descriptor: nothing to drain. */
static size_t ble_drain(struct gw_link *l)
{
	(void)l;
	return 0;
}

const struct gw_transport gw_transport_ble = {
	.name = "ble",
	.bms_link = BMS_LINK_BLE,
	.fds = 1, /* the poll timerfd; the one D-Bus socket is counted once (daemon.c) */
	.silent_reopen = 3,
	.silent_why = "no notification from the BMS for 3 polls; reconnecting",
	.open = ble_open,
	.close = ble_close,
	.release = unlink_ble,
	.write = ble_write,
	.drain = ble_drain,
};

/* ------------------------------------------------------------ --ble-scan */

static void scan_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

static int cmp_seen(const void *a, const void *b)
{
	const struct ble_obj *x = *(const struct ble_obj *const *)a, *y = *(const struct ble_obj *const *)b;
	int rx = x->have_rssi ? x->rssi : -1000, ry = y->have_rssi ? y->rssi : -1000;
	return rx != ry ? ry - rx : strcmp(x->address, y->address);
}

int gw_ble_scan(struct ev_loop *loop, const char *adapter, double seconds, FILE *out)
{
	struct gw_ble *m = ble_new(loop);
	char why[200];
	if (!m) {
		fprintf(stderr, "bmsgw: --ble-scan: out of memory\n");
		return 1;
	}
	m->scan_adapter = adapter ? adapter : "";
	if (bus_open(m, why, sizeof(why)) < 0) {
		fprintf(stderr, "bmsgw: --ble-scan: %s\n", why);
		gw_ble_free(m);
		return 1;
	}
	ev_timer t;
	ev_timer_init(&t, scan_timer_cb, 0.05, 0.);
	/* until discovery runs (or fails): BlueZ's objects, the filter, StartDiscovery */
	double deadline = gw_mono() + 2 * (double)CALL_TIMEOUT / USEC + 1;
	while (!m->scan_started && !m->scan_failed && m->bus && gw_mono() < deadline) {
		ev_timer_set(&t, 0.05, 0.);
		ev_timer_start(loop, &t);
		ev_run(loop, EVRUN_ONCE);
		ev_timer_stop(loop, &t);
	}
	if (!m->scan_started) {
		fprintf(stderr, "bmsgw: --ble-scan: %s\n", m->scan_failed ? m->scan_error
			: !m->bus ? "the D-Bus system bus connection closed" : "BlueZ did not start discovery in time");
		gw_ble_free(m);
		return 1;
	}
	fprintf(stderr, "bmsgw: scanning on %s for %g s ...\n", strrchr(m->scan_path, '/') + 1, seconds);
	ev_timer_set(&t, seconds, 0.);
	ev_timer_start(loop, &t);
	while (ev_is_active(&t) && !m->scan_failed && m->bus)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
	int rc = 0;
	if (m->scan_failed || !m->bus) {
		fprintf(stderr, "bmsgw: --ble-scan: %s\n", m->scan_failed ? m->scan_error : "the D-Bus connection closed");
		rc = 1;
	}
	/* the list */
	size_t n = 0, cap = 0;
	struct ble_obj **v = NULL;
	for (struct ble_obj *o = m->objs; o; o = o->next) {
		if (!(o->ifs & OBJ_DEVICE) || !o->seen || !under(o->path, m->scan_path))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct ble_obj **nv = realloc(v, nc * sizeof(*nv));
			if (!nv)
				break;
			v = nv;
			cap = nc;
		}
		v[n++] = o;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_seen);
	fprintf(out, "%-17s  %4s  %-24s  %-12s  %s\n", "ADDRESS", "RSSI", "NAME", "PROTOCOL", "NOTES");
	for (size_t i = 0; i < n; i++) {
		const struct ble_obj *o = v[i];
		struct gw_ble_seen s;
		memset(&s, 0, sizeof(s));
		snprintf(s.address, sizeof(s.address), "%s", o->address);
		snprintf(s.name, sizeof(s.name), "%s", o->name);
		s.have_rssi = o->have_rssi;
		s.rssi = o->rssi;
		s.paired = o->paired;
		s.nuuids = o->nuuids;
		memcpy(s.uuids, o->uuids, sizeof(s.uuids));
		s.nmfr = o->nmfr;
		for (int k = 0; k < o->nmfr; k++)
			s.companies[k] = o->mfr[k].company;
		struct gw_ble_guess g;
		gw_ble_classify(&s, &g);
		char rssi[8] = "-";
		if (o->have_rssi)
			snprintf(rssi, sizeof(rssi), "%d", o->rssi);
		fprintf(out, "%-17s  %4s  %-24s  %-12s  %s%s%s\n", o->address, rssi, o->name[0] ? o->name : "-",
			g.protocol ? g.protocol : "-", g.protocol ? g.why : "",
			g.pairing && !o->paired ? "; not paired: newer firmware needs bluetoothctl pair " : "",
			g.pairing && !o->paired ? o->address : (g.protocol && o->paired ? "; paired" : ""));
	}
	fprintf(out, "%zu device(s)\n", n);
	fflush(out);
	free(v);
	/* stop our discovery; the message goes out when the bus is flushed */
	m->scan_adapter = NULL;
	struct ble_obj *ad = m->bus ? obj_find(m, m->scan_path) : NULL;
	if (ad && ad->disc_on && m->bus)
		(void)call(m, NULL, ad->path, IF_ADAPTER, "StopDiscovery", NULL, NULL, 0, NULL);
	gw_ble_free(m);
	return rc;
}

#endif /* HAVE_SYSTEMD */
