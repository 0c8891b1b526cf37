/* SPDX-License-Identifier: MIT */
/* conf/values.c - one parser per key type (enum conf_type): the text of a
 * value in, a field of a section's struct out, or the problem for the
 * message.  expect_text() says what each type accepts; conf__set_value() picks the
 * parser by the key's type; the defaults of a section are its keys' default
 * texts through the same parsers.  Hosts, ports and networks are in
 * address.c, the text helpers both use in text.c.
 */
#include "conf_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bms/bms.h"

static const int std_bauds[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600};
#define NBAUDS (sizeof(std_bauds) / sizeof(std_bauds[0]))

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

void conf_list_words(const char *const *w, char *buf, size_t cap)
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

void conf__list_protocols(char *buf, size_t cap)
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

void conf__list_protocols_with(char *buf, size_t cap, bool (*has)(const struct bms_driver *d))
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; bms_drivers[i] && n < cap; i++) {
		if (!has(bms_drivers[i]))
			continue;
		int r = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", bms_drivers[i]->name);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

void conf__list_keys(const struct conf_section *s, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; i < s->nkeys && n < cap; i++) {
		int r = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", s->keys[i].name);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

void conf__list_bauds(char *buf, size_t cap)
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


/* What the key types whose text takes no parameter accept. */
static const char *const fixed_expect[] = {
	[KT_BOOL] = "true, false, yes, no, on, off, 1 or 0",
	[KT_LISTEN] = "HOST:PORT, [IPV6]:PORT or PORT",
	[KT_PORT] = "a device path /dev/..., tcp://HOST:PORT, ble://AA:BB:CC:DD:EE:FF, or a CAN interface "
	            "such as can0 or slcan:///dev/ttyACM0 (pylon-can)",
	[KT_KEY] = "32 hex digits (16 bytes)",
	[KT_PIN] = "the PIN or password the BMS's app asks for (1..32 printable characters without blanks)",
	[KT_ADAPTER] = "a local Bluetooth adapter such as hci0, or the NAME of a [ble_proxy.NAME]",
	[KT_KEY32] = "32 bytes in base64 (44 characters ending in =)",
	[KT_NAMES] = "pack names separated by commas",
	[KT_STRINGS] = "pack names joined by + (in series), strings separated by commas (in parallel), e.g. a+b+c+d, e+f+g+h",
	[KT_NAME] = "a pack name or bank",
	[KT_HOST] = "a host name or address",
	[KT_TOPIC] = "MQTT topic levels such as site/cabin/bmsgw, without + # or empty levels",
	[KT_NETS] = "addresses or networks separated by commas, e.g. 127.0.0.1, 192.168.1.0/24, ::1",
	[KT_PATHTEXT] = "the port of a configured pack (/dev/... or tcp://HOST:PORT)",
	[KT_DEVICE] = "a serial device path /dev/...",
	[KT_URL] = "http://, https:// (a POST: ntfy, a webhook), smtp://HOST[:PORT] or smtps://HOST[:PORT] (e-mail)",
	[KT_LINE] = "1..255 printable ASCII characters",
	[KT_FIELDS] = "bmsgw's field:the message's key pairs separated by commas, e.g. voltage:v, soc:soc",
	[KT_HOSTS] = "host names separated by commas, e.g. bmsgw.example.net, *.home.arpa (every name under it), "
	             "or * (every name)",
};

/* What key k accepts, for messages: "a whole number 0..10", "one of cdab, abcd" ... */
static void expect_text(const struct conf_key *k, char *buf, size_t cap)
{
	char list[CONF_EXP_MAX];
	const char *unit = k->unit;
	if (k->expect) {
		conf_bfmt(buf, cap, "%s", k->expect);
		return;
	}
	if ((size_t)k->type < sizeof(fixed_expect) / sizeof(fixed_expect[0]) && fixed_expect[k->type]) {
		conf_bfmt(buf, cap, "%s", fixed_expect[k->type]);
		return;
	}
	switch (k->type) {
	case KT_INT:
		conf_bfmt(buf, cap, "a whole number %.0f..%.0f", k->min, k->max);
		return;
	case KT_DOUBLE:
		conf_bfmt(buf, cap, "%s %s %g and <= "
		     "%g", unit ? unit : "seconds", k->above ? ">" : ">=", k->min, k->max);
		return;
	case KT_WORD:
		conf_list_words(k->words, list, sizeof(list));
		conf_bfmt(buf, cap, "one of %s", list);
		return;
	case KT_PROTOCOL:
		conf__list_protocols(list, sizeof(list));
		conf_bfmt(buf, cap, "one of %s", list);
		return;
	case KT_BAUD:
		conf__list_bauds(list, sizeof(list));
		conf_bfmt(buf, cap, "one of %s", list);
		return;
	case KT_RANGE:
		conf_bfmt(buf, cap, "FIRST-LAST register offsets within %.0f..%.0f", k->min, k->max);
		return;
	case KT_PATH:
		conf_bfmt(buf, cap, "an absolute file path%s", k->flags & CONF_KF_NONE_SAID ? " or none" : "");
		return;
	case KT_IDENT:
		conf_bfmt(buf, cap, "1..%d characters of A-Z a-z 0-9 _ -", CONF_ID_MAX - 1);
		return;
	case KT_TEXT:
		conf_bfmt(buf, cap, "1..%d printable characters without spaces", CONF_ID_MAX - 1);
		return;
	case KT_TABLE:
		conf_bfmt(buf, cap, "1..%d x:fraction points separated by commas (x: %s %g..%g, strictly ascending or "
		     "descending; fractions 0..1, at least one of them 1%s)", CONF_TABLE_MAX, unit ? unit : "?",
		     k->min, k->max, k->def && !k->def[0] ? "; or nothing for no table" : "");
		return;
	case KT_LABEL:
		conf_bfmt(buf, cap, "%.0f..%.0f printable ASCII characters", k->min, k->max);
		return;
	case KT_FLAGS:
		conf_list_words(k->words, list, sizeof(list));
		conf_bfmt(buf, cap, "none, or some of %s separated by commas", list);
		return;
	case KT_VER:
		conf_bfmt(buf, cap, "a hex byte 0x%02X..0x%02X, or echo", (unsigned)k->min, (unsigned)k->max);
		return;
	default:
		break;
	}
	conf_bfmt(buf, cap, "?");
}

/* The parsers of conf__set_value(), one per key type: v (not empty) into the
 * field; 0, or -1 with the problem in why.  `exp` says what k accepts. */
#define SETTER_ARGS const struct conf_key *k, char *field, const char *v, const char *exp, char *why, size_t wl

static int set_int(SETTER_ARGS)
{
	long n;
	int r = conf__parse_long(v, &n);
	if (r == -1) {
		conf_bfmt(why, wl, "\"%s\" is not a number (expected %s%s)", v, exp, conf__comment_hint(v));
		return -1;
	}
	if (r == -2 || n < k->min || n > k->max) {
		conf_bfmt(why, wl, "%s is out of range (expected %s)", v, exp);
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
		conf_bfmt(why, wl, "\"%s\" is not a number (expected %s%s)", v, exp, conf__comment_hint(v));
		return -1;
	}
	if (r == -2 || (k->above ? d <= k->min : d < k->min) || d > k->max) {
		conf_bfmt(why, wl, "%s is out of range (expected %s)", v, exp);
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
	conf_bfmt(why, wl, "\"%s\" is not a boolean (expected %s%s)", v, exp, conf__comment_hint(v));
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
	conf_bfmt(why, wl, "\"%s\" is not valid (expected %s%s)", v, exp, conf__comment_hint(v));
	return -1;
}

/* field: a listen_host[CONF_HOST_MAX] followed by its int listen_port */
_Static_assert(offsetof(struct conf_gateway, listen_port) == offsetof(struct conf_gateway, listen_host) + CONF_HOST_MAX,
               "KT_LISTEN: the port follows the host");
static int set_listen(SETTER_ARGS)
{
	(void)k;
	char host[CONF_HOST_MAX], w[CONF_EXP_MAX];
	int port;
	if (conf_parse_hostport(v, true, host, &port, w, sizeof(w)) < 0) {
		conf_bfmt(why, wl, "\"%s\": %s (expected %s%s)", v, w, exp, conf__comment_hint(v));
		return -1;
	}
	conf_bfmt(field, CONF_HOST_MAX, "%s", host);
	memcpy(field + CONF_HOST_MAX, &port, sizeof(port));
	return 0;
}


static int set_nets(SETTER_ARGS)
{
	(void)k;
	struct conf_nets *nets = (struct conf_nets *)(void *)field;
	if (strlen(v) >= sizeof(nets->text)) {
		conf_bfmt(why, wl, "too long (expected %s)", exp);
		return -1;
	}
	char buf[CONF_PORT_MAX];
	conf_bfmt(buf, sizeof(buf), "%s", v);
	memset(nets, 0, sizeof(*nets));
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		conf__rstrip(t);
		if (!*t)
			continue;
		if (nets->n >= CONF_MAX_NETS) {
			conf_bfmt(why, wl, "more than %d entries", CONF_MAX_NETS);
			return -1;
		}
		if (conf__parse_net(t, &nets->net[nets->n]) < 0) {
			conf_bfmt(why, wl, "\"%s\" is not an address or network (expected "
			     "%s%s)", t, exp, conf__comment_hint(t));
			return -1;
		}
		nets->n++;
	}
	if (!nets->n) {
		conf_bfmt(why, wl, "no address (expected %s)", exp);
		return -1;
	}
	conf_bfmt(nets->text, sizeof(nets->text), "%s", v);
	return 0;
}

/* a port string as a pack gives it (its section's checks compare it with the packs') */
static int set_pathtext(SETTER_ARGS)
{
	(void)k;
	struct conf_pack tmp;
	memset(&tmp, 0, sizeof(tmp));
	if (conf__set_port(&tmp, v, why, wl) < 0)
		return -1;
	(void)exp;
	conf_bfmt(field, CONF_PORT_MAX, "%s", tmp.port);
	return 0;
}

static int set_protocol(SETTER_ARGS)
{
	(void)k;
	const struct bms_driver *drv = bms_find(v);
	if (!drv) {
		conf_bfmt(why, wl, "unknown protocol \"%s\" (expected %s)", v, exp);
		return -1;
	}
	*(const struct bms_driver **)(void *)field = drv;
	return 0;
}

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
		/* a secret: never the value (a typo'd key is nearly the key) */
		conf_bfmt(why, wl, "the value (%zu characters) is not a key (expected %s, as the vendor's app shows it%s)",
			   n, exp, n == 32 ? ": not all hex digits" : n < 32 ? ": too short" : ": too long");
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

/* A PIN: printable, no blanks, not a comment's start; its form by protocol
 * later (check.c).  A secret: the message never repeats the value. */
static int set_pin(SETTER_ARGS)
{
	(void)k;
	size_t n = strlen(v);
	bool ok = n >= 1 && n <= CONF_PIN_MAX && v[0] != ';' && v[0] != '#';
	for (size_t i = 0; ok && i < n; i++)
		ok = v[i] > 0x20 && v[i] < 0x7F;
	if (!ok) {
		conf_bfmt(why, wl, "the value (%zu characters) is not a PIN (expected %s; the value is not repeated "
			   "here)", n, exp);
		return -1;
	}
	conf_bfmt(field, CONF_PIN_MAX + 1, "%s", v);
	return 0;
}

_Static_assert(offsetof(struct conf_ble_proxy, key) == offsetof(struct conf_ble_proxy, have_key) + 1,
	       "KT_KEY32: key follows have_key");
/* A secret: the message never repeats the value. */
static int set_key32(SETTER_ARGS)
{
	(void)k;
	size_t n = strlen(v);
	uint8_t out[32];
	/* 32 bytes are 44 characters of base64 with one '=' of padding */
	if (n != 44 || conf_b64_decode(v, n, out, sizeof(out)) != 32) {
		conf_bfmt(why, wl, "the value (%zu characters) is not a key (expected %s, as the device's "
		     "api: encryption: key: holds it)", n, exp);
		return -1;
	}
	*(bool *)(void *)field = true;
	memcpy(field + 1, out, 32);
	explicit_bzero(out, sizeof(out));
	return 0;
}

static int set_adapter(SETTER_ARGS)
{
	(void)k;
	size_t n = strlen(v);
	bool ok = n > 0 && n < CONF_NAME_MAX;
	for (const char *q = v; ok && *q; q++)
		ok = isalnum((unsigned char)*q) || *q == '_' || *q == '-';
	if (!ok) {
		conf_bfmt(why, wl, "\"%s\" is not an adapter name (expected %s, as bluetoothctl list or hciconfig "
		     "shows it)", v, exp);
		return -1;
	}
	conf_bfmt(field, CONF_ID_MAX, "%s", v);
	return 0;
}

/* conf__set_port() fills port, is_tcp, tcp_host and tcp_port of the struct conf_pack */
static int set_port_key(SETTER_ARGS)
{
	(void)exp;
	return conf__set_port((struct conf_pack *)(void *)(field - k->off), v, why, wl);
}

static int set_baud(SETTER_ARGS)
{
	(void)k;
	long n;
	int r = conf__parse_long(v, &n);
	if (r == -1) {
		conf_bfmt(why, wl, "\"%s\" is not a number (expected %s%s)", v, exp, conf__comment_hint(v));
		return -1;
	}
	for (size_t i = 0; r == 0 && i < NBAUDS; i++) {
		if (n == std_bauds[i]) {
			*(int *)(void *)field = (int)n;
			return 0;
		}
	}
	conf_bfmt(why, wl, "%s is not a standard rate (expected %s)", v, exp);
	return -1;
}

bool conf_baud_ok(long n)
{
	for (size_t i = 0; i < NBAUDS; i++)
		if (n == std_bauds[i])
			return true;
	return false;
}

static int set_names(SETTER_ARGS)
{
	(void)k;
	if (strlen(v) >= CONF_PORT_MAX) {
		conf_bfmt(why, wl, "too long (expected %s)", exp);
		return -1;
	}
	conf_bfmt(field, CONF_PORT_MAX, "%s", v);
	return 0;
}

static int set_name(SETTER_ARGS)
{
	(void)k;
	if (strcmp(v, "bank") != 0 && !conf__valid_pack_name(v, strlen(v))) {
		conf_bfmt(why, wl, "\"%s\" is not a name (expected %s)", v, exp);
		return -1;
	}
	conf_bfmt(field, CONF_NAME_MAX, "%s", v);
	return 0;
}

static int set_host(SETTER_ARGS)
{
	(void)k;
	char h[CONF_HOST_MAX];
	bool v6 = v[0] == '[';
	size_t len = strlen(v);
	if (v6 && (len < 3 || v[len - 1] != ']')) {
		conf_bfmt(why, wl, "\"%s\": missing ']' (expected [IPV6] or %s)", v, exp);
		return -1;
	}
	conf_bfmt(h, sizeof(h), "%.*s", (int)(v6 ? len - 2 : len), v6 ? v + 1 : v);
	if (conf__check_host(h, v6, why, wl) < 0)
		return -1;
	conf_bfmt(field, CONF_HOST_MAX, "%s", h);
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
		conf_bfmt(why, wl, "\"%s\" is not a range (expected %s%s)", v, exp, conf__comment_hint(v));
		return -1;
	}
	if (a < k->min || b > k->max || a > b) {
		conf_bfmt(why, wl, "%s is out of range (expected %s, FIRST <= LAST)", v, exp);
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
		conf_bfmt(why, wl, "too long (expected %s, at most %zu characters)", exp, cap - 1);
		return -1;
	}
	for (const char *p = v; *p; p++)
		if (iscntrl((unsigned char)*p) || isspace((unsigned char)*p)) {
			conf_bfmt(why, wl, "\"%s\" contains a space or control character (expected %s%s)", v, exp,
			     conf__comment_hint(v));
			return -1;
		}
	return 0;
}

static int set_path(SETTER_ARGS)
{
	if (text_fits(v, CONF_PORT_MAX, exp, why, wl) < 0)
		return -1;
	if (v[0] != '/' && !((k->flags & CONF_KF_NONE) && strcmp(v, "none") == 0)) {
		conf_bfmt(why, wl, "\"%s\" is not an absolute path (expected %s)", v, exp);
		return -1;
	}
	conf_bfmt(field, CONF_PORT_MAX, "%s", v);
	return 0;
}

static int set_topic(SETTER_ARGS)
{
	(void)k;
	if (text_fits(v, CONF_TOPIC_MAX, exp, why, wl) < 0)
		return -1;
	if (strpbrk(v, "+#") || v[0] == '/' || v[0] == '$' || v[strlen(v) - 1] == '/' || strstr(v, "//")) {
		conf_bfmt(why, wl, "\"%s\" is not a topic prefix (expected %s, not starting with $)", v, exp);
		return -1;
	}
	conf_bfmt(field, CONF_TOPIC_MAX, "%s", v);
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
		conf_bfmt(why, wl, "\"%s\" is not valid (expected %s)", v, exp);
		return -1;
	}
	conf_bfmt(field, CONF_ID_MAX, "%s", v);
	return 0;
}

static int set_text(SETTER_ARGS)
{
	(void)k;
	if (text_fits(v, CONF_ID_MAX, exp, why, wl) < 0)
		return -1;
	conf_bfmt(field, CONF_ID_MAX, "%s", v);
	return 0;
}

/* One "x:fraction" point of a table; false if it is not two numbers. */
static bool parse_point(char *item, double *x, double *y)
{
	char *colon = strchr(item, ':');
	if (!colon)
		return false;
	*colon = '\0';
	char *xs = conf__rstrip(item), *ys = colon + 1;
	while (isspace((unsigned char)*ys))
		ys++;
	return parse_double(xs, x) == 0 && parse_double(ys, y) == 0;
}

/* One point into t after the checks of its own and against the point before. */
static int add_point(const struct conf_key *k, struct conf_table *t, const char *item, double x, double y,
                     const char *exp, char *why, size_t wl)
{
	if (t->n >= CONF_TABLE_MAX) {
		conf_bfmt(why, wl, "more than %d points (expected %s)", CONF_TABLE_MAX, exp);
		return -1;
	}
	if (x < k->min || x > k->max) {
		conf_bfmt(why, wl, "\"%s\": %g is out of range (expected %s)", item, x, exp);
		return -1;
	}
	if (y < 0 || y > 1) {
		conf_bfmt(why, wl, "\"%s\": the fraction %g is out of range (expected %s)", item, y, exp);
		return -1;
	}
	if (t->n >= 1 && (x == t->x[t->n - 1] ||
	                  (t->n >= 2 && (x > t->x[t->n - 1]) != (t->x[1] > t->x[0])))) {
		conf_bfmt(why, wl, "\"%s\": %g does not continue the order of the points before it (expected "
		     "%s)", item,
		     x, exp);
		return -1;
	}
	t->x[t->n] = x;
	t->y[t->n] = y;
	t->n++;
	return 0;
}

static int set_table(SETTER_ARGS)
{
	struct conf_table t;
	char buf[CONF_LINE_BUF], *item = buf;
	bool full = false, more = true;
	memset(&t, 0, sizeof(t));
	conf_bfmt(buf, sizeof(buf), "%s", v); /* a value is shorter than a line */
	while (more) {
		char *comma = strchr(item, ','), copy[CONF_LINE_BUF];
		double x, y;
		more = comma != NULL;
		if (more)
			*comma = '\0';
		while (isspace((unsigned char)*item))
			item++;
		conf_bfmt(copy, sizeof(copy), "%s", conf__rstrip(item));
		if (!*item) {
			conf_bfmt(why, wl, "\"%s\": a point is missing between two commas or at an end (expected "
			     "%s)", v, exp);
			return -1;
		}
		if (!parse_point(item, &x, &y)) {
			conf_bfmt(why, wl, "\"%s\" is not an x:fraction point (expected "
			     "%s%s)", copy, exp, conf__comment_hint(copy));
			return -1;
		}
		if (add_point(k, &t, copy, x, y, exp, why, wl) < 0)
			return -1;
		full = full || y == 1;
		if (more)
			item = comma + 1;
	}
	if (!full) {
		conf_bfmt(why, wl, "no point has the fraction 1: the full current is never allowed (expected "
		     "%s)", exp);
		return -1;
	}
	memcpy(field, &t, sizeof(t));
	return 0;
}

/* an output's port: text only; its section's checks read it once they know its kind (the row says
 * what it accepts) */
static int set_outport(SETTER_ARGS)
{
	(void)k;
	if (text_fits(v, CONF_PORT_MAX, exp, why, wl) < 0)
		return -1;
	conf_bfmt(field, CONF_PORT_MAX, "%s", v);
	return 0;
}

static int set_device(SETTER_ARGS)
{
	(void)k;
	if (text_fits(v, CONF_PORT_MAX, exp, why, wl) < 0)
		return -1;
	if (v[0] != '/' || v[1] == '\0') {
		conf_bfmt(why, wl, "\"%s\" is not an absolute device path (expected %s)", v, exp);
		return -1;
	}
	conf_bfmt(field, CONF_PORT_MAX, "%s", v);
	return 0;
}

/* an mqtt-json pack's field map (bms/jsonmap.h): the text, and the map parsed */
static int set_fields(SETTER_ARGS)
{
	(void)k;
	struct conf_fields *f = (void *)field;
	size_t had = strlen(f->text);
	if (had + 2 + strlen(v) >= sizeof(f->text)) {
		conf_bfmt(why, wl, "too long (expected %s, at most %zu characters in all)", exp, sizeof(f->text) - 1);
		return -1;
	}
	/* a fields = line after another adds its pairs */
	char err[160];
	if (bms_jsonmap_add(v, &f->map, err, sizeof(err)) < 0) {
		conf_bfmt(why, wl, "%s (expected %s)", err, exp);
		return -1;
	}
	conf_bfmt(f->text + had, sizeof(f->text) - had, "%s%s", had ? ", " : "", v);
	return 0;
}

static int set_label(SETTER_ARGS)
{
	size_t n = strlen(v);
	if (n < k->min || n > k->max) {
		conf_bfmt(why, wl, "\"%s\" has %zu characters (expected %s)", v, n, exp);
		return -1;
	}
	for (const char *p = v; *p; p++)
		if (*p < 0x20 || *p > 0x7E) {
			conf_bfmt(why, wl, "\"%s\" holds a character that is not printable ASCII (expected "
			     "%s)", v, exp);
			return -1;
		}
	conf_bfmt(field, CONF_ID_MAX, "%s", v);
	return 0;
}

/* Comma-separated words as bits: word i is bit i; "none" alone is 0. */
static int set_flags(SETTER_ARGS)
{
	char buf[CONF_LINE_BUF];
	int bits = 0;
	conf_bfmt(buf, sizeof(buf), "%s", v);
	if (strcasecmp(conf__rstrip(buf), "none") == 0) {
		*(int *)(void *)field = 0;
		return 0;
	}
	for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		while (*w == ' ' || *w == '\t')
			w++;
		conf__rstrip(w);
		int i = 0;
		while (k->words[i] && strcasecmp(w, k->words[i]) != 0)
			i++;
		if (!k->words[i]) {
			conf_bfmt(why, wl, "\"%s\" is not valid (expected %s%s)", w, exp, conf__comment_hint(v));
			return -1;
		}
		bits |= 1 << i;
	}
	*(int *)(void *)field = bits;
	return 0;
}

/* A hex byte "0xNN" within min..max, or "echo". */
static int set_ver(SETTER_ARGS)
{
	char *end;
	if (strcasecmp(v, "echo") == 0) {
		*(int *)(void *)field = CONF_VER_ECHO;
		return 0;
	}
	bool hex = v[0] == '0' && (v[1] == 'x' || v[1] == 'X') && isxdigit((unsigned char)v[2]);
	errno = 0;
	long n = hex ? strtol(v + 2, &end, 16) : 0;
	if (!hex || *end != '\0' || errno) {
		conf_bfmt(why, wl, "\"%s\" is not a hex byte (expected %s%s)", v, exp, conf__comment_hint(v));
		return -1;
	}
	if (n < k->min || n > k->max) {
		conf_bfmt(why, wl, "%s is out of range (expected %s)", v, exp);
		return -1;
	}
	*(int *)(void *)field = (int)n;
	return 0;
}

/* An empty value of a key whose default is "" (an optional table, an
 * optional address): none. */
static int set_none(const struct conf_key *k, char *field, char *why, size_t wl)
{
	if (k->type == KT_TABLE) {
		memset(field, 0, sizeof(struct conf_table));
		return 0;
	}
	if (k->type == KT_INT || k->type == KT_FLAGS) {
		*(int *)(void *)field = -1;
		return 0;
	}
	if (k->type == KT_DOUBLE) {
		*(double *)(void *)field = -1;
		return 0;
	}
	if (k->type == KT_KEY32) { /* no key: the plaintext API */
		memset(field, 0, 1 + 32);
		return 0;
	}
	conf_bfmt(why, wl, "internal error: no empty value for this key type");
	return -1;
}

/* A URL (url.c). */
static int set_url(SETTER_ARGS)
{
	(void)k;
	if (conf_url_parse((struct conf_url *)(void *)field, v, why, wl) < 0) {
		conf_bfmt(why + strlen(why), wl - strlen(why), " (expected %s)", exp);
		return -1;
	}
	return 0;
}

/* A type of the row's own (section.h: struct conf_custom). */
static int set_custom(SETTER_ARGS)
{
	if (!k->custom || k->custom->parse(field, v, why, wl) < 0) {
		if (!k->custom)
			conf_bfmt(why, wl, "internal error: no parser");
		conf_bfmt(why + strlen(why), wl - strlen(why), " (expected %s)", exp);
		return -1;
	}
	return 0;
}

/* A line of printable ASCII, spaces allowed. */
static int set_line(SETTER_ARGS)
{
	(void)k;
	if (strlen(v) >= CONF_PORT_MAX) {
		conf_bfmt(why, wl, "too long (expected %s)", exp);
		return -1;
	}
	for (const char *p = v; *p; p++)
		if (*p < 0x20 || *p > 0x7E) {
			conf_bfmt(why, wl, "\"%s\" holds a character that is not printable ASCII (expected %s)", v, exp);
			return -1;
		}
	conf_bfmt(field, CONF_PORT_MAX, "%s", v);
	return 0;
}

#define HOST_IS_ADDRESS "is an address: every address is answered, list names only"

/* One name of a KT_HOSTS list (n bytes): NULL, or why it is none. */
static const char *host_entry_bad(const char *t, size_t n)
{
	const char *colon = memchr(t, ':', n);
	if (t[0] == '[' || (colon && memchr(colon + 1, ':', n - (size_t)(colon - t) - 1)))
		return HOST_IS_ADDRESS;
	if (colon)
		return "has a port: list the name alone (the port is not judged)";
	if (n == 1 && t[0] == '*')
		return NULL;
	if (n > 2 && t[0] == '*' && t[1] == '.')
		t += 2, n -= 2;
	if (n && t[n - 1] == '.')
		n--; /* a fully qualified name's root */
	if (!n || n > 253)
		return "is not a host name";
	bool label = false, digits = true;
	for (size_t i = 0; i < n; i++) {
		bool dot = t[i] == '.';
		if ((dot && !label) || (!dot && !isalnum((unsigned char)t[i]) && t[i] != '-' && t[i] != '_'))
			return "is not a host name";
		label = !dot;
		digits = digits && (dot || isdigit((unsigned char)t[i]));
	}
	if (!label)
		return "is not a host name";
	return digits ? HOST_IS_ADDRESS : NULL;
}

/* Host names (or *.DOMAIN, or *) separated by commas and blanks. */
static int set_hosts(SETTER_ARGS)
{
	(void)k;
	if (strlen(v) >= CONF_PORT_MAX) {
		conf_bfmt(why, wl, "too long (expected %s)", exp);
		return -1;
	}
	for (const char *p = v; *p;) {
		p += strspn(p, ", \t");
		size_t n = strcspn(p, ", \t");
		const char *bad = n ? host_entry_bad(p, n) : NULL;
		if (bad) {
			conf_bfmt(why, wl, "\"%.*s\" %s (expected %s)", (int)n, p, bad, exp);
			return -1;
		}
		p += n;
	}
	conf_bfmt(field, CONF_PORT_MAX, "%s", v);
	return 0;
}

int conf__set_value(const struct conf_key *k, void *obj, const char *v, char *why, size_t wl)
{
	static int (*const setters[])(SETTER_ARGS) = {
		[KT_INT] = set_int,           [KT_DOUBLE] = set_double, [KT_BOOL] = set_bool,
		[KT_WORD] = set_word,         [KT_LISTEN] = set_listen, [KT_PROTOCOL] = set_protocol,
		[KT_PORT] = set_port_key,     [KT_BAUD] = set_baud,     [KT_NAMES] = set_names,
		[KT_STRINGS] = set_names,
		[KT_NAME] = set_name,         [KT_HOST] = set_host,     [KT_RANGE] = set_range,
		[KT_PATH] = set_path,         [KT_TOPIC] = set_topic,   [KT_IDENT] = set_ident,
		[KT_TEXT] = set_text,         [KT_NETS] = set_nets,     [KT_PATHTEXT] = set_pathtext,
		[KT_KEY] = set_key,           [KT_ADAPTER] = set_adapter, [KT_TABLE] = set_table,
		[KT_OUTPORT] = set_outport,   [KT_DEVICE] = set_device, [KT_LABEL] = set_label,
		[KT_FLAGS] = set_flags,       [KT_VER] = set_ver,       [KT_KEY32] = set_key32,
		[KT_URL] = set_url,           [KT_LINE] = set_line,     [KT_CUSTOM] = set_custom,
		[KT_FIELDS] = set_fields,     [KT_HOSTS] = set_hosts,   [KT_PIN] = set_pin,
	};
	char exp[CONF_EXP_MAX];
	expect_text(k, exp, sizeof(exp));
	if (*v == '\0' && k->def && !k->def[0])
		return set_none(k, (char *)obj + k->off, why, wl);
	if (*v == '\0' && k == &conf__keys[K_LISTEN]) {
		/* [gateway] listen = (empty): no Modbus TCP server on 502 */
		char *f = (char *)obj + k->off;
		int off = 0;
		f[0] = '\0';
		memcpy(f + CONF_HOST_MAX, &off, sizeof(off));
		return 0;
	}
	if (*v == '\0') {
		conf_bfmt(why, wl, "empty value (expected %s)", exp);
		return -1;
	}
	if ((size_t)k->type >= sizeof(setters) / sizeof(setters[0]) || !setters[k->type]) {
		conf_bfmt(why, wl, "internal error: bad key type");
		return -1;
	}
	return setters[k->type](k, (char *)obj + k->off, v, exp, why, wl);
}


bool conf__valid_pack_name(const char *s, size_t len)
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

/* "host:port", with brackets around an IPv6 host. */
void conf_fmt_hostport(char *buf, size_t cap, const char *host, int port)
{
	if (strchr(host, ':'))
		conf_bfmt(buf, cap, "[%s]:%d", host, port);
	else
		conf_bfmt(buf, cap, "%s:%d", host, port);
}

int conf_pack_by_name(const struct conf *c, const char *name, size_t len)
{
	for (int i = 0; i < c->npacks; i++)
		if (strlen(c->packs[i].name) == len && memcmp(c->packs[i].name, name, len) == 0)
			return i;
	return -1;
}

/* Defaults of every key of one section that has a fixed default. */
void conf__apply_defaults(const struct conf_section *s, void *obj)
{
	char why[CONF_WHY_MAX];
	for (int i = 0; i < s->nkeys; i++)
		if (s->keys[i].def)
			(void)conf__set_value(&s->keys[i], obj, s->keys[i].def, why, sizeof(why));
}

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < conf__nsections(); i++) {
		const struct conf__rt *r = conf__rt_nth(i);
		if (!r->s->named)
			conf__apply_defaults(r->s, conf__obj(c, r, 0));
	}
}
