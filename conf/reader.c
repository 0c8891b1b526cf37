/* SPDX-License-Identifier: MIT */
/* conf/reader.c - reading the file: inih splits it, the schema (conf.c)
 * says what each key and section is.
 *
 * inih r55 (Debian) does not pass line numbers to the handler and does not
 * call it for section headers, so we feed it through our own reader
 * (ini_parse_stream): the reader counts lines, strips comments and leading
 * blanks (no multi-line continuation surprises) and handles the [section]
 * headers itself, so that empty and unknown sections are seen too.  The
 * handler gets the key = value lines.  Checks that need the whole file
 * (required keys, address against the protocol, unit ids, shared wires)
 * run after the parse (check.c).  Everything is loaded into a temporary and
 * copied out only when all of it validated.
 */
#include "conf_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>


static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		conf__bfmt(err, errlen, "%s", msg);
}

/* "[gateway], [pack.NAME], [bank] or [upstream.NAME]" */
static void list_sections(char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < conf__nsect_kinds && n < cap; i++) {
		int r = snprintf(buf + n, cap - n, "%s[%s%s]", i == 0 ? "" : i + 1 == conf__nsect_kinds ? " or " : ", ",
				 conf__sect_kinds[i].word, conf__sect_kinds[i].named ? ".NAME" : "");
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

/* Open section kind k; for a named one `nm` (nlen bytes) is its name.  false after an error. */
static bool open_section(struct load *x, const struct sect_kind *k, const char *nm, size_t nlen, int line)
{
	char *obj = (char *)&x->c + k->obj;
	int idx = 0;
	if (k->named) {
		int *count = FIELD(&x->c, k->count, int *);
		if (!conf__valid_pack_name(nm, nlen)) {
			conf__fail(x, line, x->sect_name, NULL,
			     "invalid %s name \"%.*s\" (expected 1..%d characters of a-z 0-9 _ -)", k->word,
			     (int)nlen, nm, CONF_NAME_MAX - 1);
			return false;
		}
		/* these name the bank and the gateway in MQTT topics and discovery */
		static const char *const reserved[] = { "bank", "gateway", "status" };
		for (size_t r = 0; k->sect == CONF_SEC_PACK && r < sizeof(reserved) / sizeof(reserved[0]); r++)
			if (strlen(reserved[r]) == nlen && memcmp(nm, reserved[r], nlen) == 0) {
				conf__fail(x, line, x->sect_name, NULL, "\"%s\" is reserved (expected another pack "
				     "name)",
				     reserved[r]);
				return false;
			}
		for (int i = 0; i < *count; i++) {
			char *o = obj + (size_t)i * k->size;
			const char *other = FIELD(o, k->name, const char *);
			if (strlen(other) == nlen && memcmp(other, nm, nlen) == 0) {
				conf__fail(x, line, x->sect_name, NULL, "duplicate section (first on line %d)",
				     *FIELD(o, k->line, int *));
				return false;
			}
		}
		if (*count >= k->max) {
			conf__fail(x, line, x->sect_name, NULL, "too many %ss (expected at most %d)", k->word, k->max);
			return false;
		}
		idx = (*count)++;
		obj += (size_t)idx * k->size;
		memset(obj, 0, k->size);
		conf__apply_defaults(k->sect, obj);
		memcpy(FIELD(obj, k->name, char *), nm, nlen);
		FIELD(obj, k->name, char *)[nlen] = '\0';
	} else if (*FIELD(obj, k->line, int *)) {
		conf__fail(x, line, x->sect_name, NULL, "duplicate section (first on line "
		     "%d)", *FIELD(obj, k->line, int *));
		return false;
	}
	*FIELD(obj, k->line, int *) = line;
	x->sect = k->sect;
	x->obj = obj;
	x->seen = FIELD(x, k->seen, int *) + (size_t)idx * K_COUNT;
	if (k->enabled != CONF_NO_FIELD)
		*FIELD(obj, k->enabled, bool *) = true;
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
		conf__fail(x, line, NULL, NULL, "missing ']' in section header (expected %s)", list);
		return false;
	}
	const char *name = p + 1;
	size_t len = (size_t)(end - name);
	conf__bfmt(x->sect_name, sizeof(x->sect_name), "%.*s", (int)len, name);
	if (end[1] != '\0') {
		conf__fail(x, line, x->sect_name, NULL, "unexpected text after ']'");
		return false;
	}
	for (size_t i = 0; i < conf__nsect_kinds; i++) {
		const struct sect_kind *k = &conf__sect_kinds[i];
		size_t wl = strlen(k->word);
		if (len < wl || memcmp(name, k->word, wl) != 0)
			continue;
		if (!k->named && len == wl)
			return open_section(x, k, NULL, 0, line);
		if (k->named && len > wl && name[wl] == '.')
			return open_section(x, k, name + wl + 1, len - wl - 1, line);
	}
	conf__fail(x, line, x->sect_name, NULL, "unknown section (expected %s)", list);
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
				conf__fail(x, x->lineno + 1, NULL, NULL, "read error: %s",
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
				conf__fail(x, x->lineno + 1, NULL, NULL, "line too long (expected at most %zu "
				     "characters)",
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
		conf__fail(x, x->lineno + 1, NULL, NULL, "line too long (expected at most %zu characters)", cap - 2);
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
	conf__rstrip(p);
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
		conf__fail(x, x->lineno, NULL, NULL, "line too long (expected at most %d characters before a comment)",
		     num - 1);
		return NULL;
	}
	if (*p == '[') {
		if (!begin_section(x, p))
			return NULL;
	} else if (*p && !strpbrk(p, "=:")) {
		conf__fail(x, x->lineno, x->sect == CONF_SEC_NONE ? NULL : x->sect_name, NULL,
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
	if (x->sect == CONF_SEC_NONE) {
		list_sections(why, sizeof(why));
		conf__fail(x, line, NULL, name, "key outside of any section (expected %s above it)", why);
		return 0;
	}
	if (*name == '\0') {
		conf__fail(x, line, x->sect_name, NULL, "missing key name before '='");
		return 0;
	}
	size_t i;
	for (i = 0; i < K_COUNT; i++)
		if (conf__keys[i].sect == x->sect && strcmp(conf__keys[i].name, name) == 0)
			break;
	if (i == K_COUNT) {
		conf__list_keys(x->sect, why, sizeof(why));
		conf__fail(x, line, x->sect_name, name, "unknown key (expected one of %s)", why);
		return 0;
	}
	if (x->seen[i] && conf__keys[i].type != KT_FIELDS) { /* fields = may go on over several lines */
		conf__fail(x, line, x->sect_name, name, "duplicate key (first set on line %d)", x->seen[i]);
		return 0;
	}
	if (!x->seen[i])
		x->seen[i] = line;
	if (conf__set_value(&conf__keys[i], x->obj, value, why, sizeof(why)) < 0) {
		conf__fail(x, line, x->sect_name, name, "%s", why);
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------ validation */

/* Parse x->fp or x->s into x->c; the first error is in x->msg. */
static void conf_parse(struct load *x)
{
	conf_defaults(&x->c);
	conf__bfmt(x->c.file, sizeof(x->c.file), "%s", x->file);

	int r = ini_parse_stream(conf_reader, x, conf_handler, x);
	if (x->failed)
		return;
	if (r == -2) {
		conf__fail(x, 0, NULL, NULL, "out of memory");
		return;
	}
	if (r != 0) { /* a line inih refused that our reader let through */
		conf__fail(x, r > 0 ? r : 0, NULL, NULL, "syntax error (expected [section] or key = value)");
		return;
	}
	conf__check(x);
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
	char why[CONF_ERR_MAX - 8];
	int fd = conf_file_open(path, why, sizeof(why)); /* never a FIFO's wait, nor another user's link */
	FILE *fp = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!fp) {
		if (fd >= 0) {
			conf__bfmt(why, sizeof(why), "cannot read %s: %s", path, strerror(errno));
			close(fd);
		}
		conf__bfmt(msg, sizeof(msg), "%s", why);
		set_err(err, errlen, msg);
		return -1;
	}
	struct load *x = calloc(1, sizeof(*x));
	if (!x) {
		fclose(fp);
		conf__bfmt(msg, sizeof(msg), "%s: out of memory", path);
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

static int load_string(const char *text, const char *name, struct conf *c, char *err, size_t errlen,
		       struct conf_error *e)
{
	char msg[CONF_ERR_MAX];
	if (!name)
		name = "(string)";
	if (!text || !c) {
		conf__bfmt(msg, sizeof(msg), "%s: no configuration text", name);
		set_err(err, errlen, msg);
		return -1;
	}
	struct load *x = calloc(1, sizeof(*x));
	if (!x) {
		conf__bfmt(msg, sizeof(msg), "%s: out of memory", name);
		set_err(err, errlen, msg);
		return -1;
	}
	x->file = name;
	x->s = text;
	conf_parse(x);
	if (x->failed && e) {
		e->line = x->err_line;
		memcpy(e->section, x->err_sect, sizeof(e->section));
		memcpy(e->key, x->err_key, sizeof(e->key));
		conf__bfmt(e->message, sizeof(e->message), "%s", x->msg + x->err_at);
		/* a key that is missing is the field to show it on */
		const char *m = e->message;
		if (!e->key[0] && strncmp(m, "missing key \"", 13) == 0 && strchr(m + 13, '"'))
			conf__bfmt(e->key, sizeof(e->key), "%.*s", (int)(strchr(m + 13, '"') - (m + 13)), m + 13);
	}
	int r = conf_finish_load(x, c, err, errlen);
	free(x);
	return r;
}

int conf_load_string(const char *text, const char *name, struct conf *c, char *err, size_t errlen)
{
	return load_string(text, name, c, err, errlen, NULL);
}

int conf_load_string_at(const char *text, const char *name, struct conf *c, struct conf_error *e)
{
	char err[CONF_ERR_MAX];
	if (e)
		memset(e, 0, sizeof(*e));
	int r = load_string(text, name, c, err, sizeof(err), e);
	if (r < 0 && e && !e->message[0])
		conf__bfmt(e->message, sizeof(e->message), "%s", err);
	return r;
}
