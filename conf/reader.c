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
		conf_bfmt(err, errlen, "%s", msg);
}

/* "[gateway], [pack.NAME], [bank] or [upstream.NAME]" */
static void list_sections(char *buf, size_t cap)
{
	size_t n = 0, all = conf__nsections();
	buf[0] = '\0';
	for (size_t i = 0; i < all && n < cap; i++) {
		const struct conf_section *k = conf__rt_nth(i)->s;
		int r = snprintf(buf + n, cap - n, "%s[%s%s]", i == 0 ? "" : i + 1 == all ? " or " : ", ", k->word,
				 k->named ? ".NAME" : "");
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

/* A new instance of named section r, `nm` (nlen bytes) its name: its index,
 * or -1 after an error. */
static int open_named(struct conf_load *x, const struct conf__rt *r, const char *nm, size_t nlen, int line)
{
	const struct conf_section *k = r->s;
	int *count = FIELD(&x->c, r->count, int *);
	if (!conf__valid_pack_name(nm, nlen)) {
		conf__fail(x, line, x->sect_name, NULL, "invalid %s name \"%.*s\" (expected 1..%d characters of a-z 0-9 _ -)",
			   k->word, (int)nlen, nm, CONF_NAME_MAX - 1);
		return -1;
	}
	/* these name the bank and the gateway in MQTT topics and discovery */
	static const char *const reserved[] = { "bank", "gateway", "status" };
	for (size_t i = 0; k == &conf_sect_pack && i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == nlen && memcmp(nm, reserved[i], nlen) == 0) {
			conf__fail(x, line, x->sect_name, NULL, "\"%s\" is reserved (expected another pack name)",
				   reserved[i]);
			return -1;
		}
	for (int i = 0; i < *count; i++) {
		char *o = conf__obj(&x->c, r, i);
		if (strlen(o + k->name) == nlen && memcmp(o + k->name, nm, nlen) == 0) {
			conf__fail(x, line, x->sect_name, NULL, "duplicate section (first on line %d)",
				   *FIELD(o, k->line, int *));
			return -1;
		}
	}
	if (*count >= k->max) {
		conf__fail(x, line, x->sect_name, NULL, "too many %ss (expected at most %d)", k->word, k->max);
		return -1;
	}
	int idx = (*count)++;
	char *obj = conf__obj(&x->c, r, idx);
	memset(obj, 0, k->size);
	conf__apply_defaults(k, obj);
	memcpy(obj + k->name, nm, nlen);
	obj[k->name + nlen] = '\0';
	return idx;
}

/* Open section r; for a named one `nm` (nlen bytes) is its name.  false after an error. */
static bool open_section(struct conf_load *x, const struct conf__rt *r, const char *nm, size_t nlen, int line)
{
	const struct conf_section *k = r->s;
	int idx = 0;
	if (k->named) {
		idx = open_named(x, r, nm, nlen, line);
		if (idx < 0)
			return false;
	} else if (*FIELD(conf__obj(&x->c, r, 0), k->line, int *)) {
		conf__fail(x, line, x->sect_name, NULL, "duplicate section (first on line %d)",
			   *FIELD(conf__obj(&x->c, r, 0), k->line, int *));
		return false;
	}
	char *obj = conf__obj(&x->c, r, idx);
	*FIELD(obj, k->line, int *) = line;
	x->sect = r;
	x->obj = obj;
	x->seen = conf__seen(x, r, idx);
	if (k->enabled != CONF_NO_FIELD)
		*FIELD(obj, k->enabled, bool *) = true;
	return true;
}

/* A "[...]" line (comments stripped).  false after an error. */
static bool begin_section(struct conf_load *x, const char *p)
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
	conf_bfmt(x->sect_name, sizeof(x->sect_name), "%.*s", (int)len, name);
	if (end[1] != '\0') {
		conf__fail(x, line, x->sect_name, NULL, "unexpected text after ']'");
		return false;
	}
	for (size_t i = 0; i < conf__nsections(); i++) {
		const struct conf__rt *r = conf__rt_nth(i);
		size_t wl = strlen(r->s->word);
		if (len < wl || memcmp(name, r->s->word, wl) != 0)
			continue;
		if (!r->s->named && len == wl)
			return open_section(x, r, NULL, 0, line);
		if (r->s->named && len > wl && name[wl] == '.')
			return open_section(x, r, name + wl + 1, len - wl - 1, line);
	}
	conf__fail(x, line, x->sect_name, NULL, "unknown section (expected %s)", list);
	return false;
}

/* One physical line into buf, without its end of line.  1 = a line,
 * 0 = end of input, -1 = error (recorded). */
static int read_line(struct conf_load *x, char *buf, size_t cap)
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
	struct conf_load *x = stream;
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
		conf__fail(x, x->lineno, !x->sect ? NULL : x->sect_name, NULL,
		     "\"%s\" is not a [section] or key = value line", p);
		return NULL;
	}
	memcpy(str, p, len + 1);
	return str;
}

/* inih's handler, for every key = value line. */
static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_load *x = user;
	char why[CONF_WHY_MAX];
	int line = x->lineno;
	(void)section; /* ours is x->sect_name */

	if (x->failed)
		return 0;
	if (!x->sect) {
		list_sections(why, sizeof(why));
		conf__fail(x, line, NULL, name, "key outside of any section (expected %s above it)", why);
		return 0;
	}
	if (*name == '\0') {
		conf__fail(x, line, x->sect_name, NULL, "missing key name before '='");
		return 0;
	}
	const struct conf_section *s = x->sect->s;
	int i;
	for (i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].name, name) == 0)
			break;
	if (i == s->nkeys) {
		conf__list_keys(s, why, sizeof(why));
		conf__fail(x, line, x->sect_name, name, "unknown key (expected one of %s)", why);
		return 0;
	}
	if (x->seen[i] && s->keys[i].type != KT_FIELDS) { /* fields = may go on over several lines */
		conf__fail(x, line, x->sect_name, name, "duplicate key (first set on line %d)", x->seen[i]);
		return 0;
	}
	if (!x->seen[i])
		x->seen[i] = line;
	if (conf__set_value(&s->keys[i], x->obj, value, why, sizeof(why)) < 0) {
		conf__fail(x, line, x->sect_name, name, "%s", why);
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------ validation */

/* Parse x->fp or x->s into x->c; the first error is in x->msg. */
static void conf_parse(struct conf_load *x)
{
	conf_defaults(&x->c);
	conf_bfmt(x->c.file, sizeof(x->c.file), "%s", x->file);

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
	conf__run_finish(x);
}

static int conf_finish_load(struct conf_load *x, struct conf *c, char *err, size_t errlen)
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
			conf_bfmt(why, sizeof(why), "cannot read %s: %s", path, strerror(errno));
			close(fd);
		}
		conf_bfmt(msg, sizeof(msg), "%s", why);
		set_err(err, errlen, msg);
		return -1;
	}
	struct conf_load *x = calloc(1, sizeof(*x));
	if (!x) {
		fclose(fp);
		conf_bfmt(msg, sizeof(msg), "%s: out of memory", path);
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
		conf_bfmt(msg, sizeof(msg), "%s: no configuration text", name);
		set_err(err, errlen, msg);
		return -1;
	}
	struct conf_load *x = calloc(1, sizeof(*x));
	if (!x) {
		conf_bfmt(msg, sizeof(msg), "%s: out of memory", name);
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
		conf_bfmt(e->message, sizeof(e->message), "%s", x->msg + x->err_at);
		/* a key that is missing is the field to show it on */
		const char *m = e->message;
		if (!e->key[0] && strncmp(m, "missing key \"", 13) == 0 && strchr(m + 13, '"'))
			conf_bfmt(e->key, sizeof(e->key), "%.*s", (int)(strchr(m + 13, '"') - (m + 13)), m + 13);
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
		conf_bfmt(e->message, sizeof(e->message), "%s", err);
	return r;
}
