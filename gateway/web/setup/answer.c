/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/answer.c - the setup API's answers: JSON (jansson)
 * with its status, an error with its field, and an answer owed until the
 * worker or a job is done (the client may be gone meanwhile: its wait then
 * only frees the answer). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "setup_int.h"

/* ---------------------------------------------------------- answers */

int setup_answer(struct setup_ctx *x, int status, json_t *obj)
{
	x->a->status = status;
	x->a->json = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!x->a->json) {
		x->a->status = 500;
		x->a->json = strdup("{\"error\":\"out of memory\"}");
	}
	x->a->len = x->a->json ? strlen(x->a->json) : 0;
	return 0;
}

int setup_error(struct setup_ctx *x, int status, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return setup_answer(x, status, json_pack("{s:s}", "error", msg));
}

int setup_field_error(struct setup_ctx *x, int status, const char *sect, const char *key, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return setup_answer(x, status, json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "error", msg, "errors", "section",
						 sect ? sect : "", "key", key ? key : "", "message", msg));
}

json_t *setup_errors_json(const struct conf_error *e, int n)
{
	json_t *a = json_array();
	for (int i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i}", "section", e[i].section, "key", e[i].key,
						   "message", e[i].message, "line", e[i].line));
	return a;
}

struct gw_setup_wait *setup_later(struct setup_ctx *x)
{
	struct gw_setup_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		setup_error(x, 500, "out of memory");
		return NULL;
	}
	w->cb = x->cb;
	w->arg = x->arg;
	*x->wait = w;
	return w;
}

void setup_send(struct gw_setup_wait *w, int status, json_t *obj)
{
	struct gw_setup_answer a = { 0 };
	struct setup_ctx x = { .a = &a };
	setup_answer(&x, status, obj);
	if (w->cb)
		w->cb(w->arg, &a);
	else
		free(a.json);
	free(w);
}

void setup_send_error(struct gw_setup_wait *w, int status, const char *msg)
{
	setup_send(w, status, json_pack("{s:s}", "error", msg));
}

void gw_setup_cancel(struct gw_setup_wait **handle)
{
	struct gw_setup_wait *w = *handle;
	*handle = NULL;
	if (w)
		w->cb = NULL;
}
