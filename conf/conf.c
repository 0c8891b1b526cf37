/* conf/conf.c - the configuration file: inih splits it, one table validates it.
 *
 * inih r55 (Debian) does not pass line numbers to the handler and does not
 * call it for section headers, so we feed it through our own reader
 * (ini_parse_stream): the reader counts lines, strips comments and leading
 * blanks (no multi-line continuation surprises) and handles the [section]
 * headers itself, so that empty and unknown sections are seen too.  The
 * handler gets the key = value lines.  Checks that need the whole file
 * (required keys, address against the protocol, unit ids, shared wires)
 * run after the parse.  Everything is loaded into a temporary and copied
 * out only when all of it validated.
 */
#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ini.h>

#include "../bms/bms.h"

#define CONF_BASE_MAX (65535 - 125 + 1) /* the 125-register map must fit */
#define CONF_LINE_BUF 1024              /* longest physical line we read */
#define CONF_EXP_MAX 256                /* one "expected ..." text or list */
#define CONF_WHY_MAX 1024               /* one problem text */
#define CONF_ERR_MAX 1280               /* one whole message */

enum conf_sect { SEC_NONE = 0, SEC_GATEWAY, SEC_PACK, SEC_BANK, SEC_UPSTREAM, SEC_MQTT, SEC_TUNNEL, SEC_HTTP,
		 SEC_HISTORY, SEC_BLE };

enum conf_type {
	KT_INT,      /* int, min..max */
	KT_DOUBLE,   /* double, min..max (or > min when `above`) */
	KT_BOOL,     /* bool */
	KT_WORD,     /* enum stored as int: index in words[] */
	KT_LISTEN,   /* listen_host + listen_port */
	KT_PROTOCOL, /* driver via bms_find() */
	KT_PORT,     /* port, is_tcp, tcp_host, tcp_port */
	KT_BAUD,     /* int, one of the standard rates */
	KT_NAMES,    /* text: a list of pack names, resolved after the parse */
	KT_NAME,     /* text: one name ([a-z0-9_-]), resolved after the parse */
	KT_HOST,     /* text: a host name or address */
	KT_RANGE,    /* two ints: FIRST-LAST register offsets */
	KT_PATH,     /* text: an absolute file path */
	KT_TOPIC,    /* text: MQTT topic levels, no wildcards */
	KT_IDENT,    /* text: [A-Za-z0-9_-] (an MQTT client id) */
	KT_TEXT,     /* text: printable, no spaces (a user name) */
	KT_NETS,     /* struct conf_nets: addresses or CIDR networks, comma separated */
	KT_PATHTEXT, /* text: a port string as another section wrote it */
	KT_KEY,      /* 16 bytes as 32 hex digits (have_key + key) */
	KT_ADAPTER,  /* text: a Bluetooth adapter name, hci0 ... */
};

/* Index of every key in conf_keys[] (and in the per-section "seen" lines). */
enum {
	K_LISTEN, K_BASE, K_FLOAT_ORDER, K_MAX_CLIENTS, K_IDLE_TIMEOUT, K_STALE_AFTER,
	K_STALE_POLICY, K_LOG_LEVEL, K_STATE_FILE, K_CONTROL_CLIENTS,
	K_PROTOCOL, K_PORT, K_BAUD, K_ADDRESS, K_UNIT_ID, K_POLL_INTERVAL, K_TIMEOUT,
	K_RETRIES, K_GAP, K_CELLS, K_INVERT_CURRENT, K_CONTROL, K_CONTROL_TIMEOUT, K_KEY,
	K_BANK_UNIT_ID, K_BANK_PACKS, K_BANK_DEVIATION,
	K_UP_HOST, K_UP_PORT, K_UP_UNIT_ID, K_UP_BASE, K_UP_SOURCE, K_UP_INTERVAL, K_UP_TIMEOUT,
	K_UP_REGISTERS,
	K_MQ_HOST, K_MQ_PORT, K_MQ_CLIENT_ID, K_MQ_USERNAME, K_MQ_PASSWORD_FILE, K_MQ_TLS, K_MQ_CA_FILE,
	K_MQ_CERT_FILE, K_MQ_KEY_FILE, K_MQ_TOPIC_PREFIX, K_MQ_DISCOVERY, K_MQ_DISCOVERY_PREFIX,
	K_MQ_PUBLISH_INTERVAL, K_MQ_CELLS, K_MQ_KEEPALIVE, K_MQ_CONTROL,
	K_TU_PORT, K_TU_LISTEN, K_TU_CLIENTS, K_TU_IDLE_TIMEOUT,
	K_HT_LISTEN, K_HT_CLIENTS, K_HT_MAX_CLIENTS,
	K_HI_FILE, K_HI_INTERVAL, K_HI_RETENTION, K_HI_RAW_DAYS,
	K_BLE_ADAPTER, K_BLE_CONNECT_TIMEOUT,
	K_COUNT
};

struct conf_key {
	enum conf_sect sect;
	const char *name;
	enum conf_type type;
	double min, max;           /* KT_INT, KT_DOUBLE */
	bool above;                /* KT_DOUBLE: value must be > min */
	const char *const *words;  /* KT_WORD: accepted words, index = stored value */
	size_t off;                /* in the section's struct (conf_gateway, conf_pack ...) */
	const char *def;           /* default as text, NULL = none or computed */
};

static const char *const float_words[] = {"cdab", "abcd", NULL};
static const char *const stale_words[] = {"exception", "flag", NULL};
static const char *const level_words[] = {"error", "warn", "info", "debug", NULL};
static const char *const cells_words[] = {"disabled", "enabled", "off", NULL};

_Static_assert(sizeof(enum reg_float_order) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_stale_policy) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_log_level) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_mqtt_cells) == sizeof(int), "enum stored as int");

#define GW(f) offsetof(struct conf_gateway, f)
#define PK(f) offsetof(struct conf_pack, f)
#define BK(f) offsetof(struct conf_bank, f)
#define UP(f) offsetof(struct conf_upstream, f)
#define MQ(f) offsetof(struct conf_mqtt, f)
#define TU(f) offsetof(struct conf_tunnel, f)
#define HT(f) offsetof(struct conf_http, f)
#define HI(f) offsetof(struct conf_history, f)
#define BL(f) offsetof(struct conf_ble, f)

/* The schema of the configuration file (README.md "Configuration",
 * bmsgw.ini(5) = conf/bmsgw.ini.5), defaults included. */
static const struct conf_key conf_keys[K_COUNT] = {
	[K_LISTEN] = {SEC_GATEWAY, "listen", KT_LISTEN, 0, 0, false, NULL, GW(listen_host), "0.0.0.0:502"},
	[K_BASE] = {SEC_GATEWAY, "base", KT_INT, 0, CONF_BASE_MAX, false, NULL, GW(base), "290"},
	[K_FLOAT_ORDER] = {SEC_GATEWAY, "float_order", KT_WORD, 0, 0, false, float_words, GW(float_order), "cdab"},
	[K_MAX_CLIENTS] = {SEC_GATEWAY, "max_clients", KT_INT, 1, 10000, false, NULL, GW(max_clients), "64"},
	[K_IDLE_TIMEOUT] = {SEC_GATEWAY, "idle_timeout", KT_DOUBLE, 0, 86400, true, NULL, GW(idle_timeout), "300"},
	[K_STALE_AFTER] = {SEC_GATEWAY, "stale_after", KT_DOUBLE, 0, 86400, true, NULL, GW(stale_after), "30"},
	[K_STALE_POLICY] = {SEC_GATEWAY, "stale_policy", KT_WORD, 0, 0, false, stale_words, GW(stale_policy), "exception"},
	[K_LOG_LEVEL] = {SEC_GATEWAY, "log_level", KT_WORD, 0, 0, false, level_words, GW(log_level), "info"},
	[K_STATE_FILE] = {SEC_GATEWAY, "state_file", KT_PATH, 0, 0, false, NULL, GW(state_file), NULL},
	[K_CONTROL_CLIENTS] = {SEC_GATEWAY, "control_clients", KT_NETS, 0, 0, false, NULL, GW(control_clients), NULL},

	[K_PROTOCOL] = {SEC_PACK, "protocol", KT_PROTOCOL, 0, 0, false, NULL, PK(driver), NULL},
	[K_PORT] = {SEC_PACK, "port", KT_PORT, 0, 0, false, NULL, PK(port), NULL},
	[K_BAUD] = {SEC_PACK, "baud", KT_BAUD, 0, 0, false, NULL, PK(baud), NULL},
	[K_ADDRESS] = {SEC_PACK, "address", KT_INT, 0, 255, false, NULL, PK(address), NULL},
	[K_UNIT_ID] = {SEC_PACK, "unit_id", KT_INT, 1, 247, false, NULL, PK(unit_id), NULL},
	[K_POLL_INTERVAL] = {SEC_PACK, "poll_interval", KT_DOUBLE, 0.2, 86400, false, NULL, PK(poll_interval), "5"},
	[K_TIMEOUT] = {SEC_PACK, "timeout", KT_DOUBLE, 0, 60, true, NULL, PK(timeout), "1.0"},
	[K_RETRIES] = {SEC_PACK, "retries", KT_INT, 0, 10, false, NULL, PK(retries), "2"},
	[K_GAP] = {SEC_PACK, "gap", KT_DOUBLE, 0, 10, false, NULL, PK(gap), NULL},
	[K_CELLS] = {SEC_PACK, "cells", KT_INT, 0, 32, false, NULL, PK(cells), "0"},
	[K_INVERT_CURRENT] = {SEC_PACK, "invert_current", KT_BOOL, 0, 0, false, NULL, PK(invert_current), "false"},
	[K_CONTROL] = {SEC_PACK, "control", KT_BOOL, 0, 0, false, NULL, PK(control), "false"},
	[K_CONTROL_TIMEOUT] = {SEC_PACK, "control_timeout", KT_DOUBLE, 0.5, 60, false, NULL, PK(control_timeout), "3"},
	[K_KEY] = {SEC_PACK, "key", KT_KEY, 0, 0, false, NULL, PK(have_key), NULL},

	[K_BANK_UNIT_ID] = {SEC_BANK, "unit_id", KT_INT, 1, 247, false, NULL, BK(unit_id), "100"},
	[K_BANK_PACKS] = {SEC_BANK, "packs", KT_NAMES, 0, 0, false, NULL, BK(packs_text), NULL},
	[K_BANK_DEVIATION] = {SEC_BANK, "max_deviation", KT_DOUBLE, 0, 100, true, NULL, BK(max_deviation), "1.0"},

	[K_UP_HOST] = {SEC_UPSTREAM, "host", KT_HOST, 0, 0, false, NULL, UP(host), NULL},
	[K_UP_PORT] = {SEC_UPSTREAM, "port", KT_INT, 1, 65535, false, NULL, UP(port), "502"},
	[K_UP_UNIT_ID] = {SEC_UPSTREAM, "unit_id", KT_INT, 0, 255, false, NULL, UP(unit_id), "1"},
	[K_UP_BASE] = {SEC_UPSTREAM, "base", KT_INT, 0, 65535, false, NULL, UP(base), NULL},
	[K_UP_SOURCE] = {SEC_UPSTREAM, "source", KT_NAME, 0, 0, false, NULL, UP(source), NULL},
	[K_UP_INTERVAL] = {SEC_UPSTREAM, "interval", KT_DOUBLE, 0.2, 86400, false, NULL, UP(interval), "5"},
	[K_UP_TIMEOUT] = {SEC_UPSTREAM, "timeout", KT_DOUBLE, 0, 60, true, NULL, UP(timeout), "2"},
	[K_UP_REGISTERS] = {SEC_UPSTREAM, "registers", KT_RANGE, 0, 124, false, NULL, UP(reg_first), "0-124"},

	[K_MQ_HOST] = {SEC_MQTT, "host", KT_HOST, 0, 0, false, NULL, MQ(host), NULL},
	[K_MQ_PORT] = {SEC_MQTT, "port", KT_INT, 1, 65535, false, NULL, MQ(port), "1883"},
	[K_MQ_CLIENT_ID] = {SEC_MQTT, "client_id", KT_IDENT, 0, 0, false, NULL, MQ(client_id), NULL},
	[K_MQ_USERNAME] = {SEC_MQTT, "username", KT_TEXT, 0, 0, false, NULL, MQ(username), NULL},
	[K_MQ_PASSWORD_FILE] = {SEC_MQTT, "password_file", KT_PATH, 0, 0, false, NULL, MQ(password_file), NULL},
	[K_MQ_TLS] = {SEC_MQTT, "tls", KT_BOOL, 0, 0, false, NULL, MQ(tls), "false"},
	[K_MQ_CA_FILE] = {SEC_MQTT, "ca_file", KT_PATH, 0, 0, false, NULL, MQ(ca_file), NULL},
	[K_MQ_CERT_FILE] = {SEC_MQTT, "cert_file", KT_PATH, 0, 0, false, NULL, MQ(cert_file), NULL},
	[K_MQ_KEY_FILE] = {SEC_MQTT, "key_file", KT_PATH, 0, 0, false, NULL, MQ(key_file), NULL},
	[K_MQ_TOPIC_PREFIX] = {SEC_MQTT, "topic_prefix", KT_TOPIC, 0, 0, false, NULL, MQ(topic_prefix), "bmsgw"},
	[K_MQ_DISCOVERY] = {SEC_MQTT, "discovery", KT_BOOL, 0, 0, false, NULL, MQ(discovery), "true"},
	[K_MQ_DISCOVERY_PREFIX] = {SEC_MQTT, "discovery_prefix", KT_TOPIC, 0, 0, false, NULL, MQ(discovery_prefix), "homeassistant"},
	[K_MQ_PUBLISH_INTERVAL] = {SEC_MQTT, "publish_interval", KT_DOUBLE, 0, 86400, false, NULL, MQ(publish_interval), "0"},
	[K_MQ_CELLS] = {SEC_MQTT, "cells", KT_WORD, 0, 0, false, cells_words, MQ(cells), "disabled"},
	[K_MQ_KEEPALIVE] = {SEC_MQTT, "keepalive", KT_INT, 5, 3600, false, NULL, MQ(keepalive), "30"},
	[K_MQ_CONTROL] = {SEC_MQTT, "control", KT_BOOL, 0, 0, false, NULL, MQ(control), "false"},

	[K_TU_PORT] = {SEC_TUNNEL, "port", KT_PATHTEXT, 0, 0, false, NULL, TU(port), NULL},
	[K_TU_LISTEN] = {SEC_TUNNEL, "listen", KT_LISTEN, 0, 0, false, NULL, TU(listen_host), NULL},
	[K_TU_CLIENTS] = {SEC_TUNNEL, "clients", KT_NETS, 0, 0, false, NULL, TU(clients), NULL},
	[K_TU_IDLE_TIMEOUT] = {SEC_TUNNEL, "idle_timeout", KT_DOUBLE, 0, 86400, true, NULL, TU(idle_timeout), "300"},

	[K_HT_LISTEN] = {SEC_HTTP, "listen", KT_LISTEN, 0, 0, false, NULL, HT(listen_host), "0.0.0.0:8080"},
	[K_HT_CLIENTS] = {SEC_HTTP, "clients", KT_NETS, 0, 0, false, NULL, HT(clients), NULL},
	[K_HT_MAX_CLIENTS] = {SEC_HTTP, "max_clients", KT_INT, 1, 1000, false, NULL, HT(max_clients), "32"},

	[K_HI_FILE] = {SEC_HISTORY, "file", KT_PATH, 0, 0, false, NULL, HI(file), NULL},
	[K_HI_INTERVAL] = {SEC_HISTORY, "interval", KT_DOUBLE, 1, 86400, false, NULL, HI(interval), "60"},
	[K_HI_RETENTION] = {SEC_HISTORY, "retention", KT_DOUBLE, 0, 3650, true, NULL, HI(retention), "180"},
	[K_HI_RAW_DAYS] = {SEC_HISTORY, "raw_days", KT_DOUBLE, 0, 3650, false, NULL, HI(raw_days), "7"},
	[K_BLE_ADAPTER] = {SEC_BLE, "adapter", KT_ADAPTER, 0, 0, false, NULL, BL(adapter), NULL},
	[K_BLE_CONNECT_TIMEOUT] = {SEC_BLE, "connect_timeout", KT_DOUBLE, 10, 120, false, NULL, BL(connect_timeout), "20"},
};

static const int std_bauds[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600};
#define NBAUDS (sizeof(std_bauds) / sizeof(std_bauds[0]))

/* State of one load. */
struct load {
	const char *file;           /* name for messages */
	FILE *fp;                   /* input: a file ... */
	const char *s;              /* ... or the rest of a string */
	int lineno;                 /* lines handed out so far */

	enum conf_sect sect;        /* section being read */
	char sect_name[64];         /* its name without brackets, for messages */
	void *obj;                  /* the struct of the section being read */
	int *seen;                  /* line of each key set in this section, 0 = unset */
	int gw_seen[K_COUNT];
	int pack_seen[CONF_MAX_PACKS][K_COUNT];
	int bank_seen[K_COUNT];
	int up_seen[CONF_MAX_UPSTREAMS][K_COUNT];
	int mqtt_seen[K_COUNT];
	int tunnel_seen[CONF_MAX_TUNNELS][K_COUNT];
	int http_seen[K_COUNT];
	int history_seen[K_COUNT];
	int ble_seen[K_COUNT];

	bool failed;
	char msg[CONF_ERR_MAX];     /* the first error */
	struct conf c;              /* what we are building */
};

/* snprintf into a fixed buffer where cutting a long message short is fine
 * (vsnprintf: the compiler's truncation warnings do not apply). */
__attribute__((format(printf, 3, 4)))
static void bfmt(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	if (cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

/* Record the first error: "FILE:LINE: [sect] key: problem".  line 0 leaves
 * out the line, sect/key NULL leave out those parts. */
__attribute__((format(printf, 5, 6)))
static void fail(struct load *x, int line, const char *sect, const char *key, const char *fmt, ...)
{
	if (x->failed)
		return;
	x->failed = true;
	size_t n = 0, cap = sizeof(x->msg);
	int r;
	if (line > 0)
		r = snprintf(x->msg, cap, "%s:%d: ", x->file, line);
	else
		r = snprintf(x->msg, cap, "%s: ", x->file);
	n = r > 0 && (size_t)r < cap ? (size_t)r : cap - 1;
	if (sect || key) {
		r = snprintf(x->msg + n, cap - n, "%s%s%s%s%s: ", sect ? "[" : "", sect ? sect : "",
		             sect ? "]" : "", sect && key ? " " : "", key ? key : "");
		n += r > 0 && (size_t)r < cap - n ? (size_t)r : cap - n - 1;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->msg + n, cap - n, fmt, ap);
	va_end(ap);
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		bfmt(err, errlen, "%s", msg);
}

static char *rstrip(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* ------------------------------------------------------------------ values */

static bool valid_pack_name(const char *s, size_t len);
_Static_assert(offsetof(struct conf_upstream, reg_last) == offsetof(struct conf_upstream, reg_first) + sizeof(int),
               "KT_RANGE stores two adjacent ints");

/* 0 ok, -1 not a number, -2 out of the range of long. */
static int parse_long(const char *s, long *out)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (end == s || *end != '\0')
		return -1;
	if (errno == ERANGE)
		return -2;
	*out = n;
	return 0;
}

/* 0 ok, -1 not a (finite) number, -2 overflow or underflow. */
static int parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (end == s || *end != '\0' || isnan(d))
		return -1;
	if (errno == ERANGE || isinf(d))
		return -2;
	*out = d;
	return 0;
}

/* A hint when a value holds '#': only " ;" starts a comment after a value. */
static const char *comment_hint(const char *v)
{
	return strchr(v, '#') ? "; comments after a value start with \" ;\"" : "";
}

static bool is_ipv4_like(const char *h)
{
	for (; *h; h++)
		if (!isdigit((unsigned char)*h) && *h != '.')
			return false;
	return true;
}

/* A host name or address as written (no brackets); 0 or -1 with why. */
static int check_host(const char *h, bool v6, char *why, size_t wl)
{
	if (*h == '\0') {
		bfmt(why, wl, "missing host");
		return -1;
	}
	if (strlen(h) >= CONF_HOST_MAX) {
		bfmt(why, wl, "host is longer than %d characters", CONF_HOST_MAX - 1);
		return -1;
	}
	unsigned char buf[sizeof(struct in6_addr)];
	if (v6) {
		char a[CONF_HOST_MAX];
		bfmt(a, sizeof(a), "%s", h);
		char *pct = strchr(a, '%'); /* fe80::1%eth0 */
		if (pct)
			*pct = '\0';
		if (inet_pton(AF_INET6, a, buf) != 1 || (pct && pct[1] == '\0')) {
			bfmt(why, wl, "\"%s\" is not an IPv6 address", h);
			return -1;
		}
		return 0;
	}
	if (strchr(h, ':')) {
		bfmt(why, wl, "an IPv6 address needs brackets, as in [%s]:PORT", h);
		return -1;
	}
	if (is_ipv4_like(h)) {
		if (inet_pton(AF_INET, h, buf) != 1) {
			bfmt(why, wl, "\"%s\" is not an IPv4 address", h);
			return -1;
		}
		return 0;
	}
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_') {
			bfmt(why, wl, "\"%s\" is not a host name or address", h);
			return -1;
		}
	return 0;
}

static int parse_portnum(const char *s, int *port, char *why, size_t wl)
{
	long n;
	if (*s == '\0') {
		bfmt(why, wl, "missing port number");
		return -1;
	}
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p)) {
			bfmt(why, wl, "port \"%s\" is not a number", s);
			return -1;
		}
	if (parse_long(s, &n) < 0 || n < 1 || n > 65535) {
		bfmt(why, wl, "port %s is out of range 1..65535", s);
		return -1;
	}
	*port = (int)n;
	return 0;
}

/* HOST:PORT or [V6]:PORT; with `any`, also :PORT and PORT (host 0.0.0.0). */
static int parse_hostport(const char *v, bool any, char *host, int *port, char *why, size_t wl)
{
	char h[CONF_LINE_BUF];
	const char *ps;
	bool v6 = false;

	if (any && *v && strspn(v, "0123456789") == strlen(v)) {
		bfmt(host, CONF_HOST_MAX, "0.0.0.0");
		return parse_portnum(v, port, why, wl);
	}
	if (*v == '[') {
		const char *rb = strchr(v, ']');
		if (!rb) {
			bfmt(why, wl, "missing ']' after the IPv6 address");
			return -1;
		}
		if (rb[1] != ':') {
			bfmt(why, wl, "missing ':PORT' after ']'");
			return -1;
		}
		bfmt(h, sizeof(h), "%.*s", (int)(rb - v - 1), v + 1);
		ps = rb + 2;
		v6 = true;
	} else {
		const char *colon = strrchr(v, ':');
		if (!colon) {
			bfmt(why, wl, "missing ':PORT'");
			return -1;
		}
		bfmt(h, sizeof(h), "%.*s", (int)(colon - v), v);
		ps = colon + 1;
		if (any && h[0] == '\0')
			bfmt(h, sizeof(h), "0.0.0.0");
	}
	if (check_host(h, v6, why, wl) < 0 || parse_portnum(ps, port, why, wl) < 0)
		return -1;
	memcpy(host, h, strlen(h) + 1); /* check_host(): shorter than CONF_HOST_MAX */
	return 0;
}

static void list_words(const char *const *w, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; w[i] && n < cap; i++) {
		int r = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", w[i]);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

static void list_protocols(char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; bms_drivers[i] && n < cap; i++) {
		int r = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", bms_drivers[i]->name);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

static void list_keys(enum conf_sect sect, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < K_COUNT && n < cap; i++) {
		if (conf_keys[i].sect != sect)
			continue;
		int r = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", conf_keys[i].name);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

static void list_bauds(char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < NBAUDS && n < cap; i++) {
		int r = snprintf(buf + n, cap - n, "%s%d", i ? ", " : "", std_bauds[i]);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

/* The port key: /dev/... or tcp://HOST:PORT. */
static int set_port(struct conf_pack *p, const char *v, char *why, size_t wl)
{
	if (strlen(v) >= CONF_PORT_MAX) {
		bfmt(why, wl, "too long (expected at most %d characters)", CONF_PORT_MAX - 1);
		return -1;
	}
	for (const char *q = v; *q; q++)
		if (isspace((unsigned char)*q) || iscntrl((unsigned char)*q)) {
			bfmt(why, wl, "\"%s\" contains a space (expected /dev/..., tcp://HOST:PORT or ble://MAC%s)",
			         v, comment_hint(v));
			return -1;
		}
	if (strncmp(v, "tcp://", 6) == 0) {
		char host[CONF_HOST_MAX], w[CONF_EXP_MAX];
		int port;
		if (parse_hostport(v + 6, false, host, &port, w, sizeof(w)) < 0) {
			bfmt(why, wl, "\"%s\": %s (expected tcp://HOST:PORT)", v, w);
			return -1;
		}
		p->is_tcp = true;
		bfmt(p->tcp_host, sizeof(p->tcp_host), "%s", host);
		p->tcp_port = port;
	} else if (strncmp(v, "ble://", 6) == 0) {
		char mac[18];
		if (!conf_parse_mac(v + 6, mac)) {
			bfmt(why, wl, "\"%s\": \"%s\" is not a Bluetooth address (expected ble://AA:BB:CC:DD:EE:FF, "
			     "six hex bytes)", v, v + 6);
			return -1;
		}
		p->is_tcp = false;
		p->is_ble = true;
		memcpy(p->ble_addr, mac, sizeof(mac));
		p->tcp_host[0] = '\0';
		p->tcp_port = 0;
		bfmt(p->port, sizeof(p->port), "ble://%s", mac);
		return 0;
	} else if (v[0] == '/' && v[1] != '\0') {
		p->is_tcp = false;
		p->tcp_host[0] = '\0';
		p->tcp_port = 0;
	} else {
		bfmt(why, wl, "\"%s\" is %s (expected a device path /dev/..., tcp://HOST:PORT or "
		     "ble://AA:BB:CC:DD:EE:FF)", v,
		         strstr(v, "://") ? "not a supported address" : "not an absolute device path");
		return -1;
	}
	bfmt(p->port, sizeof(p->port), "%s", v);
	return 0;
}

/* What key k accepts, for messages: "a whole number 0..10", "one of cdab, abcd" ... */
static void expect_text(const struct conf_key *k, char *buf, size_t cap)
{
	char list[CONF_EXP_MAX];
	switch (k->type) {
	case KT_INT:
		bfmt(buf, cap, "a whole number %.0f..%.0f", k->min, k->max);
		return;
	case KT_DOUBLE:
		bfmt(buf, cap, "seconds %s %g and <= %g", k->above ? ">" : ">=", k->min, k->max);
		return;
	case KT_BOOL:
		bfmt(buf, cap, "true, false, yes, no, on, off, 1 or 0");
		return;
	case KT_WORD:
		list_words(k->words, list, sizeof(list));
		bfmt(buf, cap, "one of %s", list);
		return;
	case KT_LISTEN:
		bfmt(buf, cap, "HOST:PORT, [IPV6]:PORT or PORT");
		return;
	case KT_PROTOCOL:
		list_protocols(list, sizeof(list));
		bfmt(buf, cap, "one of %s", list);
		return;
	case KT_PORT:
		bfmt(buf, cap, "a device path /dev/..., tcp://HOST:PORT or ble://AA:BB:CC:DD:EE:FF");
		return;
	case KT_KEY:
		bfmt(buf, cap, "32 hex digits (16 bytes)");
		return;
	case KT_ADAPTER:
		bfmt(buf, cap, "a Bluetooth adapter name such as hci0");
		return;
	case KT_BAUD:
		list_bauds(list, sizeof(list));
		bfmt(buf, cap, "one of %s", list);
		return;
	case KT_NAMES:
		bfmt(buf, cap, "pack names separated by commas");
		return;
	case KT_NAME:
		bfmt(buf, cap, "a pack name or bank");
		return;
	case KT_HOST:
		bfmt(buf, cap, "a host name or address");
		return;
	case KT_RANGE:
		bfmt(buf, cap, "FIRST-LAST register offsets within %.0f..%.0f", k->min, k->max);
		return;
	case KT_PATH:
		bfmt(buf, cap, "an absolute file path%s", k->sect == SEC_GATEWAY ? " or none" : "");
		return;
	case KT_TOPIC:
		bfmt(buf, cap, "MQTT topic levels such as site/cabin/bmsgw, without + # or empty levels");
		return;
	case KT_IDENT:
		bfmt(buf, cap, "1..%d characters of A-Z a-z 0-9 _ -", CONF_ID_MAX - 1);
		return;
	case KT_TEXT:
		bfmt(buf, cap, "1..%d printable characters without spaces", CONF_ID_MAX - 1);
		return;
	case KT_NETS:
		bfmt(buf, cap, "addresses or networks separated by commas, e.g. 127.0.0.1, 192.168.1.0/24, ::1");
		return;
	case KT_PATHTEXT:
		bfmt(buf, cap, "the port of a configured pack (/dev/... or tcp://HOST:PORT)");
		return;
	}
	bfmt(buf, cap, "?");
}

/* The parsers of set_value(), one per key type: v (not empty) into the
 * field; 0, or -1 with the problem in why.  `exp` says what k accepts. */
#define SETTER_ARGS const struct conf_key *k, char *field, const char *v, const char *exp, char *why, size_t wl

static int set_int(SETTER_ARGS)
{
	long n;
	int r = parse_long(v, &n);
	if (r == -1) {
		bfmt(why, wl, "\"%s\" is not a number (expected %s%s)", v, exp, comment_hint(v));
		return -1;
	}
	if (r == -2 || n < k->min || n > k->max) {
		bfmt(why, wl, "%s is out of range (expected %s)", v, exp);
		return -1;
	}
	*(int *)(void *)field = (int)n;
	return 0;
}

static int set_double(SETTER_ARGS)
{
	double d;
	int r = parse_double(v, &d);
	if (r == -1) {
		bfmt(why, wl, "\"%s\" is not a number (expected %s%s)", v, exp, comment_hint(v));
		return -1;
	}
	if (r == -2 || (k->above ? d <= k->min : d < k->min) || d > k->max) {
		bfmt(why, wl, "%s is out of range (expected %s)", v, exp);
		return -1;
	}
	*(double *)(void *)field = d;
	return 0;
}

static int set_bool(SETTER_ARGS)
{
	(void)k;
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*(bool *)(void *)field = strcasecmp(v, yes[i]) == 0;
			return 0;
		}
	}
	bfmt(why, wl, "\"%s\" is not a boolean (expected %s%s)", v, exp, comment_hint(v));
	return -1;
}

static int set_word(SETTER_ARGS)
{
	for (int i = 0; k->words[i]; i++) {
		if (strcasecmp(v, k->words[i]) == 0) {
			*(int *)(void *)field = i;
			return 0;
		}
	}
	bfmt(why, wl, "\"%s\" is not valid (expected %s%s)", v, exp, comment_hint(v));
	return -1;
}

/* field: a listen_host[CONF_HOST_MAX] followed by its int listen_port */
_Static_assert(offsetof(struct conf_gateway, listen_port) == offsetof(struct conf_gateway, listen_host) + CONF_HOST_MAX,
               "KT_LISTEN: the port follows the host");
_Static_assert(offsetof(struct conf_tunnel, listen_port) == offsetof(struct conf_tunnel, listen_host) + CONF_HOST_MAX,
               "KT_LISTEN: the port follows the host");
static int set_listen(SETTER_ARGS)
{
	(void)k;
	char host[CONF_HOST_MAX], w[CONF_EXP_MAX];
	int port;
	if (parse_hostport(v, true, host, &port, w, sizeof(w)) < 0) {
		bfmt(why, wl, "\"%s\": %s (expected %s%s)", v, w, exp, comment_hint(v));
		return -1;
	}
	bfmt(field, CONF_HOST_MAX, "%s", host);
	memcpy(field + CONF_HOST_MAX, &port, sizeof(port));
	return 0;
}

/* One address or network: "192.168.1.0/24", "10.0.0.7", "fe80::/10", "[::1]". */
static int parse_net(const char *item, struct conf_net *n)
{
	char a[CONF_HOST_MAX];
	bfmt(a, sizeof(a), "%s", item);
	char *slash = strchr(a, '/');
	long plen = -1;
	if (slash) {
		*slash = '\0';
		if (parse_long(slash + 1, &plen) < 0)
			return -1;
	}
	char *h = a;
	size_t hl = strlen(h);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		h++;
	}
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, h, n->addr) == 1 && is_ipv4_like(h)) {
		n->family = AF_INET;
		if (plen < 0)
			plen = 32;
		if (plen > 32)
			return -1;
	} else if (inet_pton(AF_INET6, h, n->addr) == 1) {
		n->family = AF_INET6;
		if (plen < 0)
			plen = 128;
		if (plen > 128)
			return -1;
	} else {
		return -1;
	}
	n->prefix = (int)plen;
	/* clear the host bits, so that 192.168.1.7/24 means the network */
	int bytes = n->family == AF_INET ? 4 : 16;
	for (int i = 0; i < bytes; i++) {
		int keep = n->prefix - 8 * i;
		n->addr[i] &= (unsigned char)(keep >= 8 ? 0xFF : keep <= 0 ? 0 : (0xFF << (8 - keep)) & 0xFF);
	}
	return 0;
}

static int set_nets(SETTER_ARGS)
{
	(void)k;
	struct conf_nets *nets = (struct conf_nets *)(void *)field;
	if (strlen(v) >= sizeof(nets->text)) {
		bfmt(why, wl, "too long (expected %s)", exp);
		return -1;
	}
	char buf[CONF_PORT_MAX];
	bfmt(buf, sizeof(buf), "%s", v);
	memset(nets, 0, sizeof(*nets));
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		rstrip(t);
		if (!*t)
			continue;
		if (nets->n >= CONF_MAX_NETS) {
			bfmt(why, wl, "more than %d entries", CONF_MAX_NETS);
			return -1;
		}
		if (parse_net(t, &nets->net[nets->n]) < 0) {
			bfmt(why, wl, "\"%s\" is not an address or network (expected %s%s)", t, exp, comment_hint(t));
			return -1;
		}
		nets->n++;
	}
	if (!nets->n) {
		bfmt(why, wl, "no address (expected %s)", exp);
		return -1;
	}
	bfmt(nets->text, sizeof(nets->text), "%s", v);
	return 0;
}

bool conf_nets_match(const struct conf_nets *nets, const void *sa_)
{
	const struct sockaddr *sa = sa_;
	unsigned char a[16];
	int fam;
	if (sa->sa_family == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)sa_)->sin_addr, 4);
		fam = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)sa_)->sin6_addr.s6_addr;
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
		if (memcmp(b, mapped, 12) == 0) { /* an IPv4 client of a [::] listener */
			memcpy(a, b + 12, 4);
			fam = AF_INET;
		} else {
			memcpy(a, b, 16);
			fam = AF_INET6;
		}
	} else {
		return false;
	}
	for (int i = 0; i < nets->n; i++) {
		const struct conf_net *n = &nets->net[i];
		if (n->family != fam)
			continue;
		int bits = n->prefix, j = 0;
		bool ok = true;
		for (; bits >= 8 && ok; bits -= 8, j++)
			ok = a[j] == n->addr[j];
		if (ok && bits > 0)
			ok = (a[j] & (unsigned char)(0xFF << (8 - bits))) == n->addr[j];
		if (ok)
			return true;
	}
	return false;
}

/* the tunnel's port: a port string as a pack gives it (checked against them later) */
static int set_pathtext(SETTER_ARGS)
{
	(void)k;
	struct conf_pack tmp;
	memset(&tmp, 0, sizeof(tmp));
	if (set_port(&tmp, v, why, wl) < 0)
		return -1;
	(void)exp;
	bfmt(field, CONF_PORT_MAX, "%s", tmp.port);
	return 0;
}

static int set_protocol(SETTER_ARGS)
{
	(void)k;
	const struct bms_driver *drv = bms_find(v);
	if (!drv) {
		bfmt(why, wl, "unknown protocol \"%s\" (expected %s)", v, exp);
		return -1;
	}
	*(const struct bms_driver **)(void *)field = drv;
	return 0;
}

bool conf_parse_mac(const char *s, char canon[18])
{
	static const char hex[] = "0123456789ABCDEF";
	char out[18];
	if (!s || strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (i % 3 == 2) {
			if (ch != ':' && ch != '-')
				return false;
			out[i] = ':';
			continue;
		}
		if (!isxdigit(ch))
			return false;
		out[i] = hex[isdigit(ch) ? ch - '0' : toupper(ch) - 'A' + 10];
	}
	out[17] = '\0';
	memcpy(canon, out, sizeof(out));
	return true;
}

/* field: have_key followed by key[16] */
_Static_assert(offsetof(struct conf_pack, key) == offsetof(struct conf_pack, have_key) + 1, "KT_KEY: key follows have_key");
static int set_key(SETTER_ARGS)
{
	(void)k;
	unsigned char key[16];
	size_t n = strlen(v);
	bool ok = n == 32;
	for (size_t i = 0; ok && i < n; i++)
		ok = isxdigit((unsigned char)v[i]);
	if (!ok) {
		bfmt(why, wl, "\"%s\" is not a key (expected %s, as the vendor's app shows it%s)", v, exp,
		     n == 32 ? "" : n < 32 ? ": too short" : ": too long");
		return -1;
	}
	for (size_t i = 0; i < 16; i++) {
		char b[3] = { v[2 * i], v[2 * i + 1], 0 };
		key[i] = (unsigned char)strtoul(b, NULL, 16);
	}
	*(bool *)(void *)field = true;
	memcpy(field + 1, key, sizeof(key));
	return 0;
}

static int set_adapter(SETTER_ARGS)
{
	(void)k;
	size_t n = strlen(v);
	bool ok = n > 0 && n < 16;
	for (const char *q = v; ok && *q; q++)
		ok = isalnum((unsigned char)*q) || *q == '_' || *q == '-';
	if (!ok) {
		bfmt(why, wl, "\"%s\" is not an adapter name (expected %s, as bluetoothctl list or hciconfig "
		     "shows it)", v, exp);
		return -1;
	}
	bfmt(field, CONF_ID_MAX, "%s", v);
	return 0;
}

/* set_port() fills port, is_tcp, tcp_host and tcp_port of the struct conf_pack */
static int set_port_key(SETTER_ARGS)
{
	(void)exp;
	return set_port((struct conf_pack *)(void *)(field - k->off), v, why, wl);
}

static int set_baud(SETTER_ARGS)
{
	(void)k;
	long n;
	int r = parse_long(v, &n);
	if (r == -1) {
		bfmt(why, wl, "\"%s\" is not a number (expected %s%s)", v, exp, comment_hint(v));
		return -1;
	}
	for (size_t i = 0; r == 0 && i < NBAUDS; i++) {
		if (n == std_bauds[i]) {
			*(int *)(void *)field = (int)n;
			return 0;
		}
	}
	bfmt(why, wl, "%s is not a standard rate (expected %s)", v, exp);
	return -1;
}

static int set_names(SETTER_ARGS)
{
	(void)k;
	if (strlen(v) >= CONF_PORT_MAX) {
		bfmt(why, wl, "too long (expected %s)", exp);
		return -1;
	}
	bfmt(field, CONF_PORT_MAX, "%s", v);
	return 0;
}

static int set_name(SETTER_ARGS)
{
	(void)k;
	if (strcmp(v, "bank") != 0 && !valid_pack_name(v, strlen(v))) {
		bfmt(why, wl, "\"%s\" is not a name (expected %s)", v, exp);
		return -1;
	}
	bfmt(field, CONF_NAME_MAX, "%s", v);
	return 0;
}

static int set_host(SETTER_ARGS)
{
	(void)k;
	char h[CONF_HOST_MAX];
	bool v6 = v[0] == '[';
	size_t len = strlen(v);
	if (v6 && (len < 3 || v[len - 1] != ']')) {
		bfmt(why, wl, "\"%s\": missing ']' (expected [IPV6] or %s)", v, exp);
		return -1;
	}
	bfmt(h, sizeof(h), "%.*s", (int)(v6 ? len - 2 : len), v6 ? v + 1 : v);
	if (check_host(h, v6, why, wl) < 0)
		return -1;
	bfmt(field, CONF_HOST_MAX, "%s", h);
	return 0;
}

static int set_range(SETTER_ARGS)
{
	long a, b;
	char *end;
	errno = 0;
	a = strtol(v, &end, 10);
	if (end != v && *end == '-') {
		const char *q = end + 1;
		b = strtol(q, &end, 10);
		if (end == q)
			b = -1;
	} else {
		b = a;
	}
	if (errno || *end != '\0' || end == v) {
		bfmt(why, wl, "\"%s\" is not a range (expected %s%s)", v, exp, comment_hint(v));
		return -1;
	}
	if (a < k->min || b > k->max || a > b) {
		bfmt(why, wl, "%s is out of range (expected %s, FIRST <= LAST)", v, exp);
		return -1;
	}
	((int *)(void *)field)[0] = (int)a;
	((int *)(void *)field)[1] = (int)b;
	return 0;
}

/* Text a field of `cap` bytes can hold; "" when it fits, else why not. */
static int text_fits(const char *v, size_t cap, const char *exp, char *why, size_t wl)
{
	if (strlen(v) >= cap) {
		bfmt(why, wl, "too long (expected %s, at most %zu characters)", exp, cap - 1);
		return -1;
	}
	for (const char *p = v; *p; p++)
		if (iscntrl((unsigned char)*p) || isspace((unsigned char)*p)) {
			bfmt(why, wl, "\"%s\" contains a space or control character (expected %s%s)", v, exp,
			     comment_hint(v));
			return -1;
		}
	return 0;
}

static int set_path(SETTER_ARGS)
{
	if (text_fits(v, CONF_PORT_MAX, exp, why, wl) < 0)
		return -1;
	if (v[0] != '/' && !((k->sect == SEC_GATEWAY || k->sect == SEC_HISTORY) && strcmp(v, "none") == 0)) {
		bfmt(why, wl, "\"%s\" is not an absolute path (expected %s)", v, exp);
		return -1;
	}
	bfmt(field, CONF_PORT_MAX, "%s", v);
	return 0;
}

static int set_topic(SETTER_ARGS)
{
	(void)k;
	if (text_fits(v, CONF_TOPIC_MAX, exp, why, wl) < 0)
		return -1;
	if (strpbrk(v, "+#") || v[0] == '/' || v[0] == '$' || v[strlen(v) - 1] == '/' || strstr(v, "//")) {
		bfmt(why, wl, "\"%s\" is not a topic prefix (expected %s, not starting with $)", v, exp);
		return -1;
	}
	bfmt(field, CONF_TOPIC_MAX, "%s", v);
	return 0;
}

static int set_ident(SETTER_ARGS)
{
	(void)k;
	size_t n = strlen(v);
	bool ok = n > 0 && n < CONF_ID_MAX;
	for (const char *p = v; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || *p == '_' || *p == '-';
	if (!ok) {
		bfmt(why, wl, "\"%s\" is not valid (expected %s)", v, exp);
		return -1;
	}
	bfmt(field, CONF_ID_MAX, "%s", v);
	return 0;
}

static int set_text(SETTER_ARGS)
{
	(void)k;
	if (text_fits(v, CONF_ID_MAX, exp, why, wl) < 0)
		return -1;
	bfmt(field, CONF_ID_MAX, "%s", v);
	return 0;
}

/* Parse value v of key k into obj (the section's struct: conf_gateway,
 * conf_pack ...).  0, or -1 with the problem in why. */
static int set_value(const struct conf_key *k, void *obj, const char *v, char *why, size_t wl)
{
	static int (*const setters[])(SETTER_ARGS) = {
		[KT_INT] = set_int,           [KT_DOUBLE] = set_double, [KT_BOOL] = set_bool,
		[KT_WORD] = set_word,         [KT_LISTEN] = set_listen, [KT_PROTOCOL] = set_protocol,
		[KT_PORT] = set_port_key,     [KT_BAUD] = set_baud,     [KT_NAMES] = set_names,
		[KT_NAME] = set_name,         [KT_HOST] = set_host,     [KT_RANGE] = set_range,
		[KT_PATH] = set_path,         [KT_TOPIC] = set_topic,   [KT_IDENT] = set_ident,
		[KT_TEXT] = set_text,         [KT_NETS] = set_nets,     [KT_PATHTEXT] = set_pathtext,
		[KT_KEY] = set_key,           [KT_ADAPTER] = set_adapter,
	};
	char exp[CONF_EXP_MAX];
	expect_text(k, exp, sizeof(exp));
	if (*v == '\0') {
		bfmt(why, wl, "empty value (expected %s)", exp);
		return -1;
	}
	if ((size_t)k->type >= sizeof(setters) / sizeof(setters[0]) || !setters[k->type]) {
		bfmt(why, wl, "internal error: bad key type");
		return -1;
	}
	return setters[k->type](k, (char *)obj + k->off, v, exp, why, wl);
}

/* Defaults of every key of one section that has a fixed default. */
static void apply_defaults(enum conf_sect sect, void *obj)
{
	char why[CONF_WHY_MAX];
	for (size_t i = 0; i < K_COUNT; i++)
		if (conf_keys[i].sect == sect && conf_keys[i].def)
			(void)set_value(&conf_keys[i], obj, conf_keys[i].def, why, sizeof(why));
}

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	apply_defaults(SEC_GATEWAY, &c->gw);
	apply_defaults(SEC_BANK, &c->bank);
	apply_defaults(SEC_MQTT, &c->mqtt);
	apply_defaults(SEC_HTTP, &c->http);
	apply_defaults(SEC_HISTORY, &c->history);
	apply_defaults(SEC_BLE, &c->ble);
}

/* --------------------------------------------------------------- parsing */

static bool valid_pack_name(const char *s, size_t len)
{
	if (len < 1 || len >= CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* Every kind of section.  A single one ([gateway], [bank]) is one struct
 * in struct conf with an `int line` (0 = not seen yet); a named one
 * ([pack.NAME], [upstream.NAME]) is an array of structs with a name and a
 * line, and a count.  The "seen" lines of its keys are in struct load. */
static const struct sect_kind {
	const char *word;          /* "gateway" or, named, "pack" for [pack.NAME] */
	enum conf_sect sect;
	bool named;
	int max;                   /* named: at most this many */
	size_t obj;                /* offset in struct conf: the struct, or the array */
	size_t size;               /* named: element size */
	size_t count;              /* named: offset of the count in struct conf */
	size_t name, line;         /* offsets in the struct of its name (named) and line */
	size_t seen;               /* offset in struct load of its seen lines (named: [max][K_COUNT]) */
} sect_kinds[] = {
	{ "gateway", SEC_GATEWAY, false, 1, offsetof(struct conf, gw), 0, 0, 0,
	  offsetof(struct conf_gateway, line), offsetof(struct load, gw_seen) },
	{ "pack", SEC_PACK, true, CONF_MAX_PACKS, offsetof(struct conf, packs), sizeof(struct conf_pack),
	  offsetof(struct conf, npacks), offsetof(struct conf_pack, name), offsetof(struct conf_pack, line),
	  offsetof(struct load, pack_seen) },
	{ "bank", SEC_BANK, false, 1, offsetof(struct conf, bank), 0, 0, 0, offsetof(struct conf_bank, line),
	  offsetof(struct load, bank_seen) },
	{ "upstream", SEC_UPSTREAM, true, CONF_MAX_UPSTREAMS, offsetof(struct conf, upstreams),
	  sizeof(struct conf_upstream), offsetof(struct conf, nupstreams), offsetof(struct conf_upstream, name),
	  offsetof(struct conf_upstream, line), offsetof(struct load, up_seen) },
	{ "mqtt", SEC_MQTT, false, 1, offsetof(struct conf, mqtt), 0, 0, 0, offsetof(struct conf_mqtt, line),
	  offsetof(struct load, mqtt_seen) },
	{ "tunnel", SEC_TUNNEL, true, CONF_MAX_TUNNELS, offsetof(struct conf, tunnels), sizeof(struct conf_tunnel),
	  offsetof(struct conf, ntunnels), offsetof(struct conf_tunnel, name), offsetof(struct conf_tunnel, line),
	  offsetof(struct load, tunnel_seen) },
	{ "http", SEC_HTTP, false, 1, offsetof(struct conf, http), 0, 0, 0, offsetof(struct conf_http, line),
	  offsetof(struct load, http_seen) },
	{ "history", SEC_HISTORY, false, 1, offsetof(struct conf, history), 0, 0, 0,
	  offsetof(struct conf_history, line), offsetof(struct load, history_seen) },
	{ "ble", SEC_BLE, false, 1, offsetof(struct conf, ble), 0, 0, 0, offsetof(struct conf_ble, line),
	  offsetof(struct load, ble_seen) },
};
#define NSECT_KINDS (sizeof(sect_kinds) / sizeof(sect_kinds[0]))

/* "[gateway], [pack.NAME], [bank] or [upstream.NAME]" */
static void list_sections(char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < NSECT_KINDS && n < cap; i++) {
		int r = snprintf(buf + n, cap - n, "%s[%s%s]", i == 0 ? "" : i + 1 == NSECT_KINDS ? " or " : ", ",
				 sect_kinds[i].word, sect_kinds[i].named ? ".NAME" : "");
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

#define FIELD(base, off, type) ((type)(void *)((char *)(base) + (off)))

/* Open section kind k; for a named one `nm` (nlen bytes) is its name.  false after an error. */
static bool open_section(struct load *x, const struct sect_kind *k, const char *nm, size_t nlen, int line)
{
	char *obj = (char *)&x->c + k->obj;
	int idx = 0;
	if (k->named) {
		int *count = FIELD(&x->c, k->count, int *);
		if (!valid_pack_name(nm, nlen)) {
			fail(x, line, x->sect_name, NULL,
			     "invalid %s name \"%.*s\" (expected 1..%d characters of a-z 0-9 _ -)", k->word,
			     (int)nlen, nm, CONF_NAME_MAX - 1);
			return false;
		}
		/* these name the bank and the gateway in MQTT topics and discovery */
		static const char *const reserved[] = { "bank", "gateway", "status" };
		for (size_t r = 0; k->sect == SEC_PACK && r < sizeof(reserved) / sizeof(reserved[0]); r++)
			if (strlen(reserved[r]) == nlen && memcmp(nm, reserved[r], nlen) == 0) {
				fail(x, line, x->sect_name, NULL, "\"%s\" is reserved (expected another pack name)",
				     reserved[r]);
				return false;
			}
		for (int i = 0; i < *count; i++) {
			char *o = obj + (size_t)i * k->size;
			const char *other = FIELD(o, k->name, const char *);
			if (strlen(other) == nlen && memcmp(other, nm, nlen) == 0) {
				fail(x, line, x->sect_name, NULL, "duplicate section (first on line %d)",
				     *FIELD(o, k->line, int *));
				return false;
			}
		}
		if (*count >= k->max) {
			fail(x, line, x->sect_name, NULL, "too many %ss (expected at most %d)", k->word, k->max);
			return false;
		}
		idx = (*count)++;
		obj += (size_t)idx * k->size;
		memset(obj, 0, k->size);
		apply_defaults(k->sect, obj);
		memcpy(FIELD(obj, k->name, char *), nm, nlen);
		FIELD(obj, k->name, char *)[nlen] = '\0';
	} else if (*FIELD(obj, k->line, int *)) {
		fail(x, line, x->sect_name, NULL, "duplicate section (first on line %d)", *FIELD(obj, k->line, int *));
		return false;
	}
	*FIELD(obj, k->line, int *) = line;
	x->sect = k->sect;
	x->obj = obj;
	x->seen = FIELD(x, k->seen, int *) + (size_t)idx * K_COUNT;
	if (k->sect == SEC_BANK)
		x->c.bank.enabled = true;
	if (k->sect == SEC_MQTT)
		x->c.mqtt.enabled = true;
	if (k->sect == SEC_HTTP)
		x->c.http.enabled = true;
	return true;
}

/* A "[...]" line (comments stripped).  false after an error. */
static bool begin_section(struct load *x, const char *p)
{
	int line = x->lineno;
	char list[CONF_EXP_MAX];
	list_sections(list, sizeof(list));
	const char *end = strchr(p, ']');
	if (!end) {
		fail(x, line, NULL, NULL, "missing ']' in section header (expected %s)", list);
		return false;
	}
	const char *name = p + 1;
	size_t len = (size_t)(end - name);
	bfmt(x->sect_name, sizeof(x->sect_name), "%.*s", (int)len, name);
	if (end[1] != '\0') {
		fail(x, line, x->sect_name, NULL, "unexpected text after ']'");
		return false;
	}
	for (size_t i = 0; i < NSECT_KINDS; i++) {
		const struct sect_kind *k = &sect_kinds[i];
		size_t wl = strlen(k->word);
		if (len < wl || memcmp(name, k->word, wl) != 0)
			continue;
		if (!k->named && len == wl)
			return open_section(x, k, NULL, 0, line);
		if (k->named && len > wl && name[wl] == '.')
			return open_section(x, k, name + wl + 1, len - wl - 1, line);
	}
	fail(x, line, x->sect_name, NULL, "unknown section (expected %s)", list);
	return false;
}

/* One physical line into buf, without its end of line.  1 = a line,
 * 0 = end of input, -1 = error (recorded). */
static int read_line(struct load *x, char *buf, size_t cap)
{
	size_t n;
	if (x->fp) {
		errno = 0;
		if (!fgets(buf, (int)cap, x->fp)) {
			if (ferror(x->fp)) {
				fail(x, x->lineno + 1, NULL, NULL, "read error: %s",
				     strerror(errno ? errno : EIO));
				return -1;
			}
			return 0;
		}
		n = strlen(buf);
		if (n > 0 && buf[n - 1] == '\n') {
			buf[--n] = '\0';
		} else {
			int ch = getc(x->fp);
			if (ch != EOF) {
				fail(x, x->lineno + 1, NULL, NULL, "line too long (expected at most %zu characters)",
				     cap - 2);
				return -1;
			}
		}
		return 1;
	}
	if (!x->s || *x->s == '\0')
		return 0;
	const char *nl = strchr(x->s, '\n');
	n = nl ? (size_t)(nl - x->s) : strlen(x->s);
	if (n >= cap - 1) {
		fail(x, x->lineno + 1, NULL, NULL, "line too long (expected at most %zu characters)", cap - 2);
		return -1;
	}
	memcpy(buf, x->s, n);
	buf[n] = '\0';
	x->s = nl ? nl + 1 : x->s + n;
	return 1;
}

/* Drop comments the way inih does: a line starting with ';' or '#', and
 * from a ';' that follows a blank. */
static void strip_comment(char *p)
{
	if (*p == ';' || *p == '#') {
		*p = '\0';
		return;
	}
	for (char *q = p; *q; q++) {
		if (*q == ';' && q > p && isspace((unsigned char)q[-1])) {
			*q = '\0';
			break;
		}
	}
	rstrip(p);
}

/* inih's ini_reader: hand out one line at a time, cleaned up; section
 * headers are handled here.  NULL ends the parse (end of input or the
 * first error). */
static char *conf_reader(char *str, int num, void *stream)
{
	struct load *x = stream;
	char buf[CONF_LINE_BUF];

	if (x->failed || read_line(x, buf, sizeof(buf)) <= 0)
		return NULL;
	x->lineno++;
	char *p = buf;
	if (x->lineno == 1 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (isspace((unsigned char)*p))
		p++; /* no leading blanks: inih would take the line as a continuation */
	strip_comment(p);
	size_t len = strlen(p);
	if (num < 1 || len > (size_t)num - 1) {
		fail(x, x->lineno, NULL, NULL, "line too long (expected at most %d characters before a comment)",
		     num - 1);
		return NULL;
	}
	if (*p == '[') {
		if (!begin_section(x, p))
			return NULL;
	} else if (*p && !strpbrk(p, "=:")) {
		fail(x, x->lineno, x->sect == SEC_NONE ? NULL : x->sect_name, NULL,
		     "\"%s\" is not a [section] or key = value line", p);
		return NULL;
	}
	memcpy(str, p, len + 1);
	return str;
}

/* inih's handler, for every key = value line. */
static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct load *x = user;
	char why[CONF_WHY_MAX];
	int line = x->lineno;
	(void)section; /* ours is x->sect_name */

	if (x->failed)
		return 0;
	if (x->sect == SEC_NONE) {
		list_sections(why, sizeof(why));
		fail(x, line, NULL, name, "key outside of any section (expected %s above it)", why);
		return 0;
	}
	if (*name == '\0') {
		fail(x, line, x->sect_name, NULL, "missing key name before '='");
		return 0;
	}
	size_t i;
	for (i = 0; i < K_COUNT; i++)
		if (conf_keys[i].sect == x->sect && strcmp(conf_keys[i].name, name) == 0)
			break;
	if (i == K_COUNT) {
		list_keys(x->sect, why, sizeof(why));
		fail(x, line, x->sect_name, name, "unknown key (expected one of %s)", why);
		return 0;
	}
	if (x->seen[i]) {
		fail(x, line, x->sect_name, name, "duplicate key (first set on line %d)", x->seen[i]);
		return 0;
	}
	x->seen[i] = line;
	if (set_value(&conf_keys[i], x->obj, value, why, sizeof(why)) < 0) {
		fail(x, line, x->sect_name, name, "%s", why);
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------ validation */

static int key_line(const struct load *x, int i, int key)
{
	int l = x->pack_seen[i][key];
	return l ? l : x->c.packs[i].line;
}

/* "jbd, daly, ..." : the protocols that have a Bluetooth LE mode */
static void list_ble_protocols(char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; bms_drivers[i] && n < cap; i++) {
		const struct bms_driver *d = bms_drivers[i];
		if (!d->ble_gatt && !d->ble_company)
			continue;
		int r = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", d->name);
		if (r < 0)
			break;
		n += (size_t)r;
	}
	if (!n)
		bfmt(buf, cap, "none in this build");
}

/* A pack's port against its protocol's transports, baud and key.  false after an error. */
static bool check_ble_pack(struct load *x, int i, const char *sect)
{
	struct conf_pack *p = &x->c.packs[i];
	const int *seen = x->pack_seen[i];
	const struct bms_driver *d = p->driver;
	char list[CONF_EXP_MAX];
	list_ble_protocols(list, sizeof(list));
	if (p->is_ble) {
#ifndef HAVE_SYSTEMD
		fail(x, seen[K_PORT], sect, "port", "%s: built without Bluetooth support (bmsgw reaches BlueZ "
		     "through libsystemd's D-Bus library; this build has none: expected a serial or tcp:// port)",
		     p->port);
		return false;
#endif
		if (!d->ble_gatt && !d->ble_company) {
			fail(x, seen[K_PORT], sect, "port", "protocol %s is not spoken over Bluetooth LE (expected a "
			     "/dev/... or tcp:// port, or a protocol with a Bluetooth mode: %s)", d->name, list);
			return false;
		}
		if (seen[K_BAUD]) {
			fail(x, seen[K_BAUD], sect, "baud", "a Bluetooth link (%s) has no baud rate (expected no baud "
			     "key)", p->port);
			return false;
		}
	} else if (d->ble_only) {
		fail(x, seen[K_PORT], sect, "port", "protocol %s exists only over Bluetooth LE (expected port = "
		     "ble://AA:BB:CC:DD:EE:FF)", d->name);
		return false;
	}
	if (d->ble_company && !seen[K_KEY]) {
		fail(x, p->line, sect, NULL, "missing key \"key\" (protocol %s decrypts the device's "
		     "advertisements: expected key = its 32 hex digit advertisement key)", d->name);
		return false;
	}
	if (seen[K_KEY] && !d->ble_company) {
		fail(x, seen[K_KEY], sect, "key", "protocol %s takes no key (expected no key: only protocols read "
		     "from advertisements, such as victron-ble, have one)", d->name);
		return false;
	}
	return true;
}

/* Per pack: required keys, computed defaults, address against the protocol. */
static void finish_pack(struct load *x, int i)
{
	struct conf_pack *p = &x->c.packs[i];
	const int *seen = x->pack_seen[i];
	char sect[CONF_NAME_MAX + 8];
	bfmt(sect, sizeof(sect), "pack.%s", p->name);

	if (!seen[K_PROTOCOL]) {
		char list[CONF_EXP_MAX];
		list_protocols(list, sizeof(list));
		fail(x, p->line, sect, NULL, "missing key \"protocol\" (expected protocol = one of %s)", list);
		return;
	}
	if (!seen[K_PORT]) {
		fail(x, p->line, sect, NULL, "missing key \"port\" (expected port = /dev/..., tcp://HOST:PORT or "
		     "ble://AA:BB:CC:DD:EE:FF)");
		return;
	}
	const struct bms_driver *d = p->driver;
	if (!check_ble_pack(x, i, sect))
		return;
	if (!seen[K_BAUD])
		p->baud = d->default_baud;
	if (seen[K_ADDRESS] && d->max_address == 0) {
		fail(x, seen[K_ADDRESS], sect, "address", "protocol %s has no bus address (expected no address key)",
		     d->name);
		return;
	}
	if (!seen[K_ADDRESS])
		p->address = d->max_address ? d->min_address : 0;
	if (d->max_address != 0 && (p->address > d->max_address || p->address < d->min_address)) {
		fail(x, seen[K_ADDRESS], sect, "address", "%d is out of range for protocol %s (expected %d..%d)",
		     p->address, d->name, d->min_address, d->max_address);
		return;
	}
	if (d->max_address != 0 && d->address_ok && !d->address_ok((uint8_t)p->address)) {
		fail(x, seen[K_ADDRESS] ? seen[K_ADDRESS] : p->line, sect, "address",
		     "%d (0x%02X) is not an address protocol %s can use (expected a valid %s address in %d..%d)",
		     p->address, p->address, d->name, d->name, d->min_address, d->max_address);
		return;
	}
	if (!seen[K_TIMEOUT] && d->default_timeout > 0)
		p->timeout = d->default_timeout;
	if (!seen[K_GAP])
		p->gap = -1; /* derived from the baud rate (may come from another pack of the port) */
	if (p->control && !d->control_request) {
		fail(x, seen[K_CONTROL], sect, "control",
		     "protocol %s has no MOSFET control documented well enough to use (expected false; "
		     "control exists for daly, daly-modbus, jbd, jk and jk-pb)", d->name);
		return;
	}
	if (!seen[K_UNIT_ID])
		p->unit_id = i + 1;
}

/* bits per character on the wire (8N1) and Modbus RTU's inter-frame silence */
#define CHAR_BITS 10.0
#define T35_CHARS 3.5

double conf_pack_gap(const struct conf_pack *p, bool write)
{
	const struct bms_driver *d = p->driver;
	double floor = d->gap_floor;
	if (write && d->control_gap_floor > floor)
		floor = d->control_gap_floor;
	if (p->gap >= 0)
		return write && floor > p->gap ? floor : p->gap;
	if (p->is_ble)
		return floor; /* no baud rate, no character time: the protocol's floor only */
	double t35 = T35_CHARS * CHAR_BITS / (p->baud > 0 ? p->baud : d->default_baud);
	return t35 > floor ? t35 : floor;
}

/* `gap` is a property of the wire: given on one pack of a port, it holds for
 * every pack of that port (check_packs() refused different values). */
static void share_gaps(struct load *x)
{
	for (int i = 0; i < x->c.npacks; i++) {
		struct conf_pack *p = &x->c.packs[i];
		for (int j = 0; j < x->c.npacks && p->gap < 0; j++)
			if (x->c.packs[j].gap >= 0 && strcmp(p->port, x->c.packs[j].port) == 0)
				p->gap = x->c.packs[j].gap;
	}
}

/* Between packs: unique unit ids, one serial setting and distinct addresses per wire. */
static void check_packs(struct load *x, int i)
{
	const struct conf_pack *p = &x->c.packs[i];
	const int *seen = x->pack_seen[i];
	char sect[CONF_NAME_MAX + 8];
	bfmt(sect, sizeof(sect), "pack.%s", p->name);

	for (int j = 0; j < i && !x->failed; j++) {
		const struct conf_pack *q = &x->c.packs[j];
		if (p->unit_id == q->unit_id) {
			fail(x, key_line(x, i, K_UNIT_ID), sect, "unit_id",
			     "%d%s is already used by [pack.%s] (line %d) (expected a unique unit id 1..247)",
			     p->unit_id, seen[K_UNIT_ID] ? "" : " (default: the pack's position)", q->name,
			     key_line(x, j, K_UNIT_ID));
			return;
		}
		if (strcmp(p->port, q->port) != 0)
			continue;
		if (p->is_ble) {
			fail(x, key_line(x, i, K_PORT), sect, "port",
			     "%s is already used by [pack.%s] (line %d) (expected one pack per Bluetooth device)",
			     p->port, q->name, key_line(x, j, K_PORT));
			return;
		}
		if (!p->is_tcp && p->baud != q->baud) {
			fail(x, key_line(x, i, K_BAUD), sect, "baud",
			     "%d%s differs from %d of [pack.%s] (line %d) on the same port %s "
			     "(expected one serial setting per wire)",
			     p->baud, seen[K_BAUD] ? "" : " (protocol default)", q->baud, q->name,
			     key_line(x, j, K_BAUD), p->port);
			return;
		}
		if (seen[K_GAP] && x->pack_seen[j][K_GAP] && p->gap != q->gap) {
			fail(x, key_line(x, i, K_GAP), sect, "gap",
			     "%g differs from %g of [pack.%s] (line %d) on the same port %s "
			     "(expected one gap per wire)",
			     p->gap, q->gap, q->name, key_line(x, j, K_GAP), p->port);
			return;
		}
		const struct bms_driver *nd = p->driver->max_address == 0 ? p->driver
		                              : q->driver->max_address == 0 ? q->driver : NULL;
		if (nd) {
			fail(x, key_line(x, i, K_PORT), sect, "port",
			     "%s is already used by [pack.%s] (line %d) and protocol %s has no bus address "
			     "(expected one pack on this port)",
			     p->port, q->name, key_line(x, j, K_PORT), nd->name);
			return;
		}
		if (p->address == q->address) {
			fail(x, key_line(x, i, K_ADDRESS), sect, "address",
			     "%d is already used by [pack.%s] (line %d) on the same port %s "
			     "(expected a distinct address per wire)",
			     p->address, q->name, key_line(x, j, K_ADDRESS), p->port);
			return;
		}
	}
}

static int pack_by_name(const struct conf *c, const char *name, size_t len)
{
	for (int i = 0; i < c->npacks; i++)
		if (strlen(c->packs[i].name) == len && memcmp(c->packs[i].name, name, len) == 0)
			return i;
	return -1;
}

/* [bank]: resolve `packs`, check the unit id against the packs'. */
static void finish_bank(struct load *x)
{
	struct conf_bank *b = &x->c.bank;
	int pl = x->bank_seen[K_BANK_PACKS] ? x->bank_seen[K_BANK_PACKS] : b->line;
	b->npacks = 0;
	if (b->packs_text[0] == '\0') {
		for (int i = 0; i < x->c.npacks; i++)
			b->pack_idx[b->npacks++] = i;
	} else {
		const char *p = b->packs_text;
		while (*p) {
			while (*p == ',' || isspace((unsigned char)*p))
				p++;
			if (!*p)
				break;
			size_t n = strcspn(p, ", \t");
			int idx = pack_by_name(&x->c, p, n);
			if (idx < 0) {
				fail(x, pl, "bank", "packs", "no [pack.%.*s] section (expected names of configured packs)",
				     (int)n, p);
				return;
			}
			for (int j = 0; j < b->npacks; j++)
				if (b->pack_idx[j] == idx) {
					fail(x, pl, "bank", "packs", "%.*s is listed twice", (int)n, p);
					return;
				}
			b->pack_idx[b->npacks++] = idx;
			p += n;
		}
		if (b->npacks == 0) {
			fail(x, pl, "bank", "packs", "empty list (expected pack names, or no key for all packs)");
			return;
		}
	}
	for (int i = 0; i < x->c.npacks; i++)
		if (x->c.packs[i].unit_id == b->unit_id) {
			fail(x, x->bank_seen[K_BANK_UNIT_ID] ? x->bank_seen[K_BANK_UNIT_ID] : b->line, "bank", "unit_id",
			     "%d is already the unit id of [pack.%s] (line %d)%s", b->unit_id, x->c.packs[i].name,
			     key_line(x, i, K_UNIT_ID), x->bank_seen[K_BANK_UNIT_ID] ? "" : " (100 is the bank's default)");
			return;
		}
}

/* [upstream.NAME]: required keys, the source, the register window. */
static void finish_upstream(struct load *x, int i)
{
	struct conf_upstream *u = &x->c.upstreams[i];
	const int *seen = x->up_seen[i];
	char sect[CONF_NAME_MAX + 12];
	bfmt(sect, sizeof(sect), "upstream.%s", u->name);
	if (!seen[K_UP_HOST]) {
		fail(x, u->line, sect, NULL, "missing key \"host\" (expected host = the Modbus TCP server to push to)");
		return;
	}
	if (!seen[K_UP_SOURCE]) {
		fail(x, u->line, sect, NULL, "missing key \"source\" (expected source = a pack name or bank)");
		return;
	}
	if (strcmp(u->source, "bank") == 0) {
		if (!x->c.bank.enabled) {
			fail(x, seen[K_UP_SOURCE], sect, "source", "bank, but there is no [bank] section");
			return;
		}
		u->source_pack = CONF_BANK_SOURCE;
	} else {
		u->source_pack = pack_by_name(&x->c, u->source, strlen(u->source));
		if (u->source_pack < 0) {
			fail(x, seen[K_UP_SOURCE], sect, "source", "no [pack.%s] section (expected a pack name or bank)",
			     u->source);
			return;
		}
	}
	u->base_set = seen[K_UP_BASE] != 0;
	if (!u->base_set)
		u->base = x->c.gw.base + u->reg_first;
	if (u->base + (u->reg_last - u->reg_first) > 65535) {
		fail(x, seen[K_UP_BASE] ? seen[K_UP_BASE] : seen[K_UP_REGISTERS], sect, "base",
		     "%d + %d registers runs past 65535", u->base, u->reg_last - u->reg_first + 1);
		return;
	}
}

/* [tunnel.NAME]: a configured wire, an address of its own, an allowlist. */
static void finish_tunnel(struct load *x, int i)
{
	struct conf_tunnel *t = &x->c.tunnels[i];
	const int *seen = x->tunnel_seen[i];
	char sect[CONF_NAME_MAX + 8];
	bfmt(sect, sizeof(sect), "tunnel.%s", t->name);
	static const struct { int key; const char *what; } req[] = {
		{ K_TU_PORT, "port = the port of the wire to lend, as a [pack.*] section gives it" },
		{ K_TU_LISTEN, "listen = HOST:PORT for the PC tool" },
		{ K_TU_CLIENTS, "clients = the addresses allowed to connect" },
	};
	for (size_t k = 0; k < sizeof(req) / sizeof(req[0]); k++)
		if (!seen[req[k].key]) {
			fail(x, t->line, sect, NULL, "missing key \"%s\" (expected %s)", conf_keys[req[k].key].name,
			     req[k].what);
			return;
		}
	int j = 0;
	while (j < x->c.npacks && strcmp(x->c.packs[j].port, t->port) != 0)
		j++;
	if (j == x->c.npacks) {
		fail(x, seen[K_TU_PORT], sect, "port", "%s is not the port of any [pack.*] section", t->port);
		return;
	}
	if (x->c.packs[j].is_ble) {
		fail(x, seen[K_TU_PORT], sect, "port", "%s is a Bluetooth device (expected a serial or tcp:// wire: "
		     "a vendor's PC tool talks to a wire)", t->port);
		return;
	}
	if (t->listen_port == x->c.gw.listen_port &&
	    (strcmp(t->listen_host, x->c.gw.listen_host) == 0 || strcmp(t->listen_host, "0.0.0.0") == 0 ||
	     strcmp(x->c.gw.listen_host, "0.0.0.0") == 0)) {
		fail(x, seen[K_TU_LISTEN], sect, "listen", "port %d is the Modbus server's (expected another port)",
		     t->listen_port);
		return;
	}
	for (int k = 0; k < i; k++) {
		const struct conf_tunnel *o = &x->c.tunnels[k];
		if (strcmp(o->port, t->port) == 0) {
			fail(x, seen[K_TU_PORT], sect, "port", "%s is already lent by [tunnel.%s] (line %d)", t->port,
			     o->name, o->line);
			return;
		}
		if (o->listen_port == t->listen_port) {
			fail(x, seen[K_TU_LISTEN], sect, "listen", "port %d is already used by [tunnel.%s] (line %d)",
			     t->listen_port, o->name, o->line);
			return;
		}
	}
}

/* The file a key names must be readable (checked at load, so that --check
 * and a reload catch it). */
static bool readable(struct load *x, int key, const char *sect, const char *path)
{
	if (access(path, R_OK) == 0)
		return true;
	fail(x, x->mqtt_seen[key], sect, conf_keys[key].name, "cannot read %s: %s", path, strerror(errno));
	return false;
}

/* [mqtt]: required host, computed defaults, TLS files, the password. */
static void finish_mqtt(struct load *x)
{
	struct conf_mqtt *m = &x->c.mqtt;
	const int *seen = x->mqtt_seen;
	const char *sect = "mqtt";
	if (!seen[K_MQ_HOST]) {
		fail(x, m->line, sect, NULL, "missing key \"host\" (expected host = the MQTT broker's name or address)");
		return;
	}
	if (!seen[K_MQ_PORT] && m->tls)
		m->port = 8883;
	if (!seen[K_MQ_CLIENT_ID]) {
		/* bmsgw-<hostname>, in the characters a client id may hold */
		char h[CONF_ID_MAX] = "";
		if (gethostname(h, sizeof(h) - 1) != 0 || !h[0])
			bfmt(h, sizeof(h), "host");
		h[sizeof(h) - 1] = '\0';
		for (char *p = h; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
				*p = '-';
		bfmt(m->client_id, sizeof(m->client_id), "bmsgw-%.*s", CONF_ID_MAX - 7, h);
	}
	if (!m->tls) {
		static const int tls_keys[] = { K_MQ_CA_FILE, K_MQ_CERT_FILE, K_MQ_KEY_FILE };
		for (size_t i = 0; i < sizeof(tls_keys) / sizeof(tls_keys[0]); i++)
			if (seen[tls_keys[i]]) {
				fail(x, seen[tls_keys[i]], sect, conf_keys[tls_keys[i]].name,
				     "is for TLS (expected tls = true with it)");
				return;
			}
	}
	if (!seen[K_MQ_CERT_FILE] != !seen[K_MQ_KEY_FILE]) {
		int k = seen[K_MQ_CERT_FILE] ? K_MQ_CERT_FILE : K_MQ_KEY_FILE;
		fail(x, seen[k], sect, conf_keys[k].name, "needs %s too (a client certificate and its key)",
		     k == K_MQ_CERT_FILE ? "key_file" : "cert_file");
		return;
	}
	if ((seen[K_MQ_CA_FILE] && !readable(x, K_MQ_CA_FILE, sect, m->ca_file)) ||
	    (seen[K_MQ_CERT_FILE] && !readable(x, K_MQ_CERT_FILE, sect, m->cert_file)) ||
	    (seen[K_MQ_KEY_FILE] && !readable(x, K_MQ_KEY_FILE, sect, m->key_file)))
		return;
	if (seen[K_MQ_PASSWORD_FILE]) {
		if (!seen[K_MQ_USERNAME]) {
			fail(x, seen[K_MQ_PASSWORD_FILE], sect, "password_file",
			     "a password needs a user name (expected username = ... too)");
			return;
		}
		FILE *f = fopen(m->password_file, "r");
		if (!f) {
			fail(x, seen[K_MQ_PASSWORD_FILE], sect, "password_file", "cannot read %s: %s",
			     m->password_file, strerror(errno));
			return;
		}
		char line[CONF_HOST_MAX + 2] = "";
		bool got = fgets(line, sizeof(line), f) != NULL;
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		if (!got || !line[0] || strlen(line) >= sizeof(m->password)) {
			fail(x, seen[K_MQ_PASSWORD_FILE], sect, "password_file",
			     "%s: the first line must hold the password (1..%d characters)", m->password_file,
			     (int)sizeof(m->password) - 1);
			return;
		}
		memcpy(m->password, line, strlen(line) + 1);
	}
}

/* [http] and [history]: history is kept with either section, unless file = none. */
static void finish_http(struct load *x)
{
	struct conf_history *h = &x->c.history;
	const struct conf_http *w = &x->c.http;
	h->enabled = (w->enabled || h->line) && strcmp(h->file, "none") != 0;
	if (h->line && h->raw_days > h->retention) {
		fail(x, x->history_seen[K_HI_RAW_DAYS], "history", "raw_days",
		     "%g is longer than retention = %g (expected at most the days history is kept)", h->raw_days,
		     h->retention);
		return;
	}
	if (w->enabled && x->c.gw.listen_port == w->listen_port &&
	    (strcmp(x->c.gw.listen_host, w->listen_host) == 0 || strcmp(w->listen_host, "0.0.0.0") == 0 ||
	     strcmp(w->listen_host, "::") == 0 || strcmp(x->c.gw.listen_host, "0.0.0.0") == 0 ||
	     strcmp(x->c.gw.listen_host, "::") == 0)) {
		fail(x, x->http_seen[K_HT_LISTEN] ? x->http_seen[K_HT_LISTEN] : w->line, "http", "listen",
		     "port %d is the Modbus server's (expected another port)", w->listen_port);
		return;
	}
}

/* Parse x->fp or x->s into x->c; the first error is in x->msg. */
static void conf_parse(struct load *x)
{
	conf_defaults(&x->c);
	bfmt(x->c.file, sizeof(x->c.file), "%s", x->file);

	int r = ini_parse_stream(conf_reader, x, conf_handler, x);
	if (x->failed)
		return;
	if (r == -2) {
		fail(x, 0, NULL, NULL, "out of memory");
		return;
	}
	if (r != 0) { /* a line inih refused that our reader let through */
		fail(x, r > 0 ? r : 0, NULL, NULL, "syntax error (expected [section] or key = value)");
		return;
	}
	if (x->c.npacks == 0) {
		fail(x, 0, NULL, NULL, "no [pack.*] section (expected at least one battery pack)");
		return;
	}
	for (int i = 0; i < x->c.npacks && !x->failed; i++)
		finish_pack(x, i);
	for (int i = 1; i < x->c.npacks && !x->failed; i++)
		check_packs(x, i);
	share_gaps(x);
	for (int i = 0; i < x->c.npacks; i++)
		if (x->c.packs[i].is_ble)
			bfmt(x->c.packs[i].ble_adapter, CONF_ID_MAX, "%s", x->c.ble.adapter);
	if (x->c.bank.enabled && !x->failed)
		finish_bank(x);
	for (int i = 0; i < x->c.nupstreams && !x->failed; i++)
		finish_upstream(x, i);
	if (x->c.mqtt.enabled && !x->failed)
		finish_mqtt(x);
	for (int i = 0; i < x->c.ntunnels && !x->failed; i++)
		finish_tunnel(x, i);
	if (!x->failed)
		finish_http(x);
}

static int conf_finish_load(struct load *x, struct conf *c, char *err, size_t errlen)
{
	if (x->failed) {
		set_err(err, errlen, x->msg);
		return -1;
	}
	memcpy(c, &x->c, sizeof(*c));
	set_err(err, errlen, "");
	return 0;
}

int conf_load_file(const char *path, struct conf *c, char *err, size_t errlen)
{
	char msg[CONF_ERR_MAX];
	if (!path || !c) {
		set_err(err, errlen, "conf_load_file: no file name");
		return -1;
	}
	FILE *fp = fopen(path, "r");
	if (!fp) {
		bfmt(msg, sizeof(msg), "%s: cannot open: %s", path, strerror(errno));
		set_err(err, errlen, msg);
		return -1;
	}
	struct load *x = calloc(1, sizeof(*x));
	if (!x) {
		fclose(fp);
		bfmt(msg, sizeof(msg), "%s: out of memory", path);
		set_err(err, errlen, msg);
		return -1;
	}
	x->file = path;
	x->fp = fp;
	conf_parse(x);
	fclose(fp);
	int r = conf_finish_load(x, c, err, errlen);
	free(x);
	return r;
}

int conf_load_string(const char *text, const char *name, struct conf *c, char *err, size_t errlen)
{
	char msg[CONF_ERR_MAX];
	if (!name)
		name = "(string)";
	if (!text || !c) {
		bfmt(msg, sizeof(msg), "%s: no configuration text", name);
		set_err(err, errlen, msg);
		return -1;
	}
	struct load *x = calloc(1, sizeof(*x));
	if (!x) {
		bfmt(msg, sizeof(msg), "%s: out of memory", name);
		set_err(err, errlen, msg);
		return -1;
	}
	x->file = name;
	x->s = text;
	conf_parse(x);
	int r = conf_finish_load(x, c, err, errlen);
	free(x);
	return r;
}

/* --------------------------------------------------------------- summary */

/* "host:port", with brackets around an IPv6 host. */
static void fmt_hostport(char *buf, size_t cap, const char *host, int port)
{
	if (strchr(host, ':'))
		bfmt(buf, cap, "[%s]:%d", host, port);
	else
		bfmt(buf, cap, "%s:%d", host, port);
}

/* Where a pack is: "tcp 192.168.1.50:8899" or "/dev/ttyUSB0 @ 9600 8N1". */
static void fmt_link(char *buf, size_t cap, const struct conf_pack *p)
{
	if (p->is_tcp) {
		char hp[CONF_HOST_MAX + 16];
		fmt_hostport(hp, sizeof(hp), p->tcp_host, p->tcp_port);
		bfmt(buf, cap, "tcp %s", hp);
	} else if (p->is_ble) {
		bfmt(buf, cap, "ble %s", p->ble_addr);
	} else {
		bfmt(buf, cap, "%s @ %d 8N1", p->port, p->baud);
	}
}

/* words[i], or "?" for a value outside the table. */
static const char *word_at(const char *const *words, int i)
{
	for (int j = 0; words[j]; j++)
		if (j == i)
			return words[j];
	return "?";
}

void conf_print_summary(const struct conf *c, FILE *out)
{
	const struct conf_gateway *g = &c->gw;
	char hp[CONF_HOST_MAX + 16], link[CONF_PORT_MAX + 32];
	int nwires = 0;

	for (int i = 0; i < c->npacks; i++) {
		int j = 0;
		while (j < i && strcmp(c->packs[j].port, c->packs[i].port) != 0)
			j++;
		nwires += j == i;
	}

	fmt_hostport(hp, sizeof(hp), g->listen_host, g->listen_port);
	fprintf(out, "configuration %s: %d pack%s on %d wire%s\n", c->file, c->npacks,
	        c->npacks == 1 ? "" : "s", nwires, nwires == 1 ? "" : "s");
	fprintf(out, "gateway\n");
	fprintf(out, "  listen        %s (Modbus TCP, at most %d clients, idle timeout %g s)\n", hp,
	        g->max_clients, g->idle_timeout);
	fprintf(out, "  registers     base %d (holding registers %d..%d), floats %s (%s)\n", g->base, g->base,
	        g->base + 124, word_at(float_words, (int)g->float_order),
	        g->float_order == REG_FLOAT_CDAB ? "low word first" : "high word first");
	fprintf(out, "  stale after   %g s: %s\n", g->stale_after,
	        g->stale_policy == CONF_STALE_EXCEPTION ? "exception 0x0B"
	                                                : "flag (last values, online=0, failure=1)");
	fprintf(out, "  log level     %s\n", word_at(level_words, (int)g->log_level));
	fprintf(out, "  control from  %s\n", g->control_clients.n ? g->control_clients.text
	                                   : "nobody (control_clients is empty: every write is refused)");
	fprintf(out, "  state file    %s\n", strcmp(g->state_file, "none") == 0 ? "none (energy counters kept in memory only)"
	                                   : g->state_file[0] ? g->state_file
	                                   : "automatic ($STATE_DIRECTORY/state, else /var/lib/bmsgw/state)");

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
		fprintf(out, "  %-*s  unit %3d  %-12s %-*s  address %-3d  poll %g s  timeout %g s  retries %d",
		        wname, p->name, p->unit_id, p->driver ? p->driver->name : "?", wlink, link, p->address,
		        p->poll_interval, p->timeout, p->retries);
		if (p->cells)
			fprintf(out, "  cells %d (forced)", p->cells);
		if (p->invert_current)
			fprintf(out, "  current inverted");
		if (p->control)
			fprintf(out, "  MOSFET control (timeout %g s)", p->control_timeout);
		if (p->is_tcp && p->driver && p->baud != p->driver->default_baud)
			fprintf(out, "  (baud %d: the serial server's line rate, for the gap)", p->baud);
		fputc('\n', out);
	}
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
		/* the silence before each request: the wire's own, or its `gap` */
		double g0 = conf_pack_gap(p, false);
		fprintf(out, "; gap %.1f ms%s", g0 * 1000,
		        p->gap >= 0 ? " (gap key)"
		        : p->is_ble ? " (Bluetooth: no baud rate, the protocol's floor only)"
		        : p->driver && g0 > p->driver->gap_floor ? " (3.5 characters)" : " (protocol floor)");
		fputc('\n', out);
	}
	int nble = 0;
	for (int i = 0; i < c->npacks; i++)
		nble += c->packs[i].is_ble;
	if (nble || c->ble.line) {
		fprintf(out, "bluetooth (BlueZ over D-Bus)\n  adapter       %s; connect timeout %g s; one connection "
		        "attempt at a time\n", c->ble.adapter[0] ? c->ble.adapter : "BlueZ's default (the first adapter)",
		        c->ble.connect_timeout);
		for (int i = 0; i < c->npacks; i++) {
			const struct conf_pack *p = &c->packs[i];
			if (!p->is_ble)
				continue;
			fprintf(out, "  %s %s: %s\n", p->ble_addr, p->name,
			        p->driver && p->driver->ble_company
			        ? "read from its advertisements (no connection; discovery runs while bmsgw does)"
			        : "connected (GATT notifications), reconnected with backoff");
		}
	}
	if (c->bank.enabled) {
		const struct conf_bank *b = &c->bank;
		fprintf(out, "bank\n  unit %d (also units 0 and 255): ", b->unit_id);
		for (int i = 0; i < b->npacks; i++)
			fprintf(out, "%s%s", i ? ", " : "", c->packs[b->pack_idx[i]].name);
		fprintf(out, "; a pack departing by more than %g V from the others is flagged\n", b->max_deviation);
	}
	if (c->mqtt.enabled) {
		const struct conf_mqtt *m = &c->mqtt;
		fmt_hostport(hp, sizeof(hp), m->host, m->port);
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
			fprintf(out, "  discovery     %s/<component>/bmsgw_%s_<pack>/<key>/config (cells: %s)\n",
			        m->discovery_prefix, m->client_id, word_at(cells_words, (int)m->cells));
		else
			fprintf(out, "  discovery     off\n");
		if (m->publish_interval > 0)
			fprintf(out, "  publish       at most every %g s", m->publish_interval);
		else
			fprintf(out, "  publish       after every good poll");
		fprintf(out, "; keepalive %d s; MOSFET commands %s\n", m->keepalive, m->control ? "on" : "off");
	}
	if (c->ntunnels)
		fprintf(out, "maintenance tunnels (raw TCP to a wire; its polling pauses while a tool is connected)\n");
	for (int i = 0; i < c->ntunnels; i++) {
		const struct conf_tunnel *t = &c->tunnels[i];
		fmt_hostport(hp, sizeof(hp), t->listen_host, t->listen_port);
		fprintf(out, "  %s: %s -> %s, clients %s, idle timeout %g s\n", t->name, hp, t->port, t->clients.text,
		        t->idle_timeout);
	}
	if (c->http.enabled) {
		const struct conf_http *w = &c->http;
		fmt_hostport(hp, sizeof(hp), w->listen_host, w->listen_port);
		fprintf(out, "http\n  listen        %s (status page, /api/state, /metrics; read-only), at most %d "
		        "connections, clients %s\n", hp, w->max_clients, w->clients.n ? w->clients.text : "any");
	}
	if (c->history.enabled) {
		const struct conf_history *h = &c->history;
		fprintf(out, "history\n  file          %s\n", h->file[0] ? h->file
		        : "automatic ($STATE_DIRECTORY/history.db, else /var/lib/bmsgw/history.db)");
		fprintf(out, "  samples       every %g s, kept %g days at every sample, then 15-minute rows up to "
		        "%g days\n", h->interval, h->raw_days, h->retention);
	} else if (c->history.line) {
		fprintf(out, "history\n  off (file = none)\n");
	}
	if (c->nupstreams)
		fprintf(out, "upstreams (Modbus TCP push, FC16)\n");
	for (int i = 0; i < c->nupstreams; i++) {
		const struct conf_upstream *u = &c->upstreams[i];
		fmt_hostport(hp, sizeof(hp), u->host, u->port);
		fprintf(out, "  %s: %s unit %d, registers %d..%d of %s%s -> addresses %d..%d, every %g s "
		        "(timeout %g s); a stale source pushes only its failure flag\n",
		        u->name, hp, u->unit_id, u->reg_first, u->reg_last,
		        u->source_pack == CONF_BANK_SOURCE ? "the bank" : "pack ", 
		        u->source_pack == CONF_BANK_SOURCE ? "" : u->source, u->base,
		        u->base + u->reg_last - u->reg_first, u->interval, u->timeout);
	}
}
