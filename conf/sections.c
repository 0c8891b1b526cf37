/* SPDX-License-Identifier: MIT */
/* conf/sections.c - the sections in force: conf's own (conf.c) and those
 * the rooms above hand down once (conf_use_sections, section.h), in the
 * order every list of them follows; where each instance of each lives in
 * a struct conf (conf's own in their members, the rooms' in struct conf's
 * room area) and where the reader keeps the line of each key it set; the
 * steps after the parse and the parts of the summary, conf's own and the
 * rooms', each list in its order.
 */
#include "conf_int.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct conf__rt rt[CONF_MAX_SECTIONS];
static size_t nrt;
static struct conf__step finish[CONF_MAX_SECTIONS], print[CONF_MAX_SECTIONS];
static size_t nfinish, nprint;
static bool ready;

/* The room area's next free byte, aligned for any struct. */
static size_t align_up(size_t n)
{
	size_t a = alignof(max_align_t);
	return (n + a - 1) / a * a;
}

static int by_list(const void *a, const void *b)
{
	const struct conf__rt *x = a, *y = b;
	return (x->s->list_order > y->s->list_order) - (x->s->list_order < y->s->list_order);
}

static int by_order(const void *a, const void *b)
{
	const struct conf__step *x = a, *y = b;
	if (x->order != y->order)
		return (x->order > y->order) - (x->order < y->order);
	return (x->seq > y->seq) - (x->seq < y->seq); /* stable */
}

/* A room's section placed in the room area (its count first), its seen
 * lines in the load's pool; false with why when it does not fit. */
static bool place_room(const struct conf_section *s, size_t *area, size_t *pool, char *why, size_t wl)
{
	struct conf__rt *r = &rt[nrt];
	int max = s->named ? s->max : 1;
	size_t need = align_up(sizeof(int)) + (size_t)max * align_up(s->size);
	if (*area + need > CONF_ROOM_BYTES || *pool + (size_t)max * (size_t)s->nkeys > CONF_ROOM_SEEN) {
		conf_bfmt(why, wl, "[%s]: no room for %d of %zu bytes and %d keys (CONF_ROOM_BYTES, CONF_ROOM_SEEN)",
			   s->word, max, s->size, s->nkeys);
		return false;
	}
	*r = (struct conf__rt){ .s = s, .own = false, .stride = s->nkeys, .first = 0 };
	r->count = offsetof(struct conf, room) + *area;
	r->obj = r->count + align_up(sizeof(int));
	r->elem = align_up(s->size);
	r->seen = offsetof(struct conf_load, room_seen) + *pool * sizeof(int);
	*area += need;
	*pool += (size_t)max * (size_t)s->nkeys;
	return true;
}

static void add_step(struct conf__step *list, size_t *n, struct conf__step st)
{
	st.seq = (int)*n;
	list[(*n)++] = st;
}

/* The rooms' steps and parts, each list sorted by order (check.c and
 * summary.c run them among conf's own). */
static void steps(void)
{
	nfinish = nprint = 0;
	for (size_t i = 0; i < nrt; i++) {
		const struct conf_section *s = rt[i].s;
		if (rt[i].own)
			continue;
		if (s->finish)
			add_step(finish, &nfinish, (struct conf__step){ .order = s->finish_order, .finish = s->finish });
		if (s->print)
			add_step(print, &nprint, (struct conf__step){ .order = s->print_order, .print = s->print });
	}
	qsort(finish, nfinish, sizeof(finish[0]), by_order);
	qsort(print, nprint, sizeof(print[0]), by_order);
}

int conf_use_sections(const struct conf_section *const *s, size_t n, char *why, size_t wl)
{
	size_t area = 0, pool = 0;
	nrt = 0;
	for (size_t i = 0; i < conf__nown; i++)
		rt[nrt++] = conf__own[i];
	for (size_t i = 0; i < n; i++) {
		if (nrt >= CONF_MAX_SECTIONS) {
			conf_bfmt(why, wl, "more than %d sections", CONF_MAX_SECTIONS);
			return -1;
		}
		for (size_t j = 0; j < nrt; j++)
			if (strcmp(rt[j].s->word, s[i]->word) == 0) {
				conf_bfmt(why, wl, "[%s]: a section given twice", s[i]->word);
				return -1;
			}
		if (!place_room(s[i], &area, &pool, why, wl))
			return -1;
		nrt++;
	}
	qsort(rt, nrt, sizeof(rt[0]), by_list);
	steps();
	ready = true;
	return 0;
}

/* The sections in force: conf's own alone until the rooms' are handed down. */
static void need(void)
{
	char why[160];
	if (!ready)
		(void)conf_use_sections(NULL, 0, why, sizeof(why));
}

size_t conf__nsections(void)
{
	need();
	return nrt;
}

const struct conf__rt *conf__rt_nth(size_t i)
{
	need();
	return i < nrt ? &rt[i] : NULL;
}

const struct conf__rt *conf__rt_of(const struct conf_section *s)
{
	need();
	for (size_t i = 0; i < nrt; i++)
		if (rt[i].s == s)
			return &rt[i];
	return NULL;
}

const struct conf__step *conf__room_steps(bool summary, size_t *n)
{
	need();
	*n = summary ? nprint : nfinish;
	return summary ? print : finish;
}

int conf_count(const struct conf *c, const struct conf_section *s)
{
	const struct conf__rt *r = conf__rt_of(s);
	if (!r)
		return 0;
	return s->named ? *(const int *)(const void *)((const char *)c + r->count) : 1;
}

/* Does c's file have a section of this word? */
static bool written(const struct conf *c, const char *word)
{
	for (size_t i = 0; i < conf__nsections(); i++) {
		const struct conf_section *s = rt[i].s;
		if (strcmp(s->word, word) != 0)
			continue;
		if (s->named)
			return conf_count(c, s) > 0;
		const char *obj = (const char *)c + rt[i].obj;
		return s->enabled != CONF_NO_FIELD ? *(const bool *)(const void *)(obj + s->enabled)
						   : *(const int *)(const void *)(obj + s->line) != 0;
	}
	return false;
}

bool conf_section_on(const struct conf *c, const struct conf_section *s)
{
	const char *obj = conf_obj(c, s, 0);
	if (!obj)
		return false;
	if (s->named)
		return true;
	if (s->enabled != CONF_NO_FIELD)
		return *(const bool *)(const void *)(obj + s->enabled);
	return !s->with || *(const int *)(const void *)(obj + s->line) || written(c, s->with);
}

const void *conf_obj(const struct conf *c, const struct conf_section *s, int i)
{
	const struct conf__rt *r = conf__rt_of(s);
	if (!r || i < 0 || i >= conf_count(c, s))
		return NULL;
	return (const char *)c + r->obj + (size_t)i * r->elem;
}

void *conf__obj(struct conf *c, const struct conf__rt *r, int i)
{
	return (char *)c + r->obj + (size_t)i * r->elem;
}

int *conf__seen(struct conf_load *x, const struct conf__rt *r, int i)
{
	return (int *)(void *)((char *)x + r->seen) + (size_t)i * (size_t)r->stride + r->first;
}

struct conf *conf_loading(struct conf_load *x)
{
	return &x->c;
}

const int *conf_seen(const struct conf_load *x, const struct conf_section *s, int i)
{
	const struct conf__rt *r = conf__rt_of(s);
	return r ? conf__seen((struct conf_load *)(uintptr_t)x, r, i) : NULL;
}

bool conf_failed(const struct conf_load *x)
{
	return x->failed;
}

int conf_key_line(const struct conf_load *x, const struct conf_section *s, int i, int k)
{
	const int *seen = conf_seen(x, s, i);
	const void *obj = conf_obj(&x->c, s, i);
	if (seen && k >= 0 && k < s->nkeys && seen[k])
		return seen[k];
	return obj ? *(const int *)(const void *)((const char *)obj + s->line) : 0;
}

bool conf_listen_user(const struct conf *c, const struct conf_section *self, const char *host, int port, char *who,
		      size_t cap)
{
	for (size_t i = 0; i < conf__nsections(); i++) {
		const struct conf_section *s = rt[i].s;
		if (s == self || !s->about || !conf_section_on(c, s))
			continue;
		for (int n = 0; n < conf_count(c, s); n++)
			for (int k = 0; k < s->nkeys; k++) {
				const char *f = (const char *)conf_obj(c, s, n) + s->keys[k].off;
				int p;
				if (s->keys[k].type != KT_LISTEN)
					continue;
				memcpy(&p, f + CONF_HOST_MAX, sizeof(p));
				if (!conf_listen_clash(host, port, f, p))
					continue;
				conf_bfmt(who, cap, "%s's ([%s%s] %s)", s->about, s->word, s->named ? ".NAME" : "",
					  s->keys[k].name);
				return true;
			}
	}
	return false;
}

bool conf_wire_user(const struct conf *c, const struct conf_section *self, const char *wire, char *who, size_t cap,
		    int *line)
{
	for (size_t i = 0; i < conf__nsections(); i++) {
		const struct conf_section *s = rt[i].s;
		for (int n = 0; s != self && s->wire && conf_section_on(c, s) && n < conf_count(c, s); n++) {
			const char *obj = conf_obj(c, s, n);
			if (strcmp(obj + s->wire, wire) != 0)
				continue;
			if (s->named)
				conf_bfmt(who, cap, "[%s.%s]", s->word, obj + s->name);
			else
				conf_bfmt(who, cap, "[%s]", s->word);
			*line = *(const int *)(const void *)(obj + s->line);
			return true;
		}
	}
	return false;
}
