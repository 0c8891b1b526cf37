/* SPDX-License-Identifier: MIT */
/* gateway/web/histreq.c - the history on the page: /api/history (chart
 * columns of one unit over a range) and /api/history.csv (its samples as
 * CSV, streamed in chunks of CSV_ROWS rows).  Nothing waits on the disk on
 * the loop: each query goes to the history's thread and the request is
 * suspended until its answer comes back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../history/history.h"
#include "../model/gw.h"
#include "http_int.h"

#define CSV_ROWS 2000                    /* rows per chunk of a CSV download */
#define CHART_POINTS 500
#define CHART_POINTS_MAX 2000

static void on_answer(void *arg, struct gw_hresult *res)
{
	struct req *r = arg;
	struct gw_http *h = r->h;
	r->q = NULL;
	r->answered = true;
	r->status = res->status;
	snprintf(r->err, sizeof(r->err), "%s", res->err);
	if (res->status == 200) {
		free(r->buf);
		r->buf = res->text;
		r->len = res->len;
		r->off = 0;
		r->eof = res->done;
		r->cursor = res->next;
	} else {
		free(res->text);
		r->fail = true;
	}
	res->text = NULL;
	http_resume(r);
	http_run(h);
}

static ssize_t csv_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct req *r = cls;
	struct gw_http *h = r->h;
	if (h->stopping || r->fail || !gw_history_of(h->gw))
		return MHD_CONTENT_READER_END_WITH_ERROR; /* the client sees a cut transfer */
	if (r->off < r->len) {
		size_t n = r->len - r->off < max ? r->len - r->off : max;
		memcpy(buf, r->buf + r->off, n);
		r->off += n;
		return (ssize_t)n;
	}
	if (r->eof)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (!r->q) {
		r->q = gw_history_csv(gw_history_of(h->gw), r->unit, r->from, r->to, r->step, r->cursor, CSV_ROWS, on_answer,
				      r);
		if (!r->q)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	http_suspend(r);
	return 0;
}

/* unit, range / from / to of a history request; false after an answer */
static bool history_args(struct MHD_Connection *con, struct req *r, enum MHD_Result *rc)
{
	const char *unit = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "unit");
	const char *range = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "range");
	const char *from = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "from");
	const char *to = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "to");
	int64_t now = (int64_t)time(NULL), span = 86400;
	if (!unit || !*unit || strlen(unit) >= sizeof(r->unit)) {
		*rc = http_send_error(con, MHD_HTTP_BAD_REQUEST, true, "unit: a pack name or bank is required");
		return false;
	}
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	if (range && strcmp(range, "all") == 0) {
		span = now; /* from the start of time */
	} else if (range && gw_history_parse_span(range, &span) < 0) {
		*rc = http_send_error(con, MHD_HTTP_BAD_REQUEST, true, "range: \"%s\" is not a duration (24h, 7d, 30d, all)",
				 range);
		return false;
	}
	r->to = now + 1;
	if (to && gw_history_parse_time(to, now, &r->to) < 0) {
		*rc = http_send_error(con, MHD_HTTP_BAD_REQUEST, true, "to: \"%s\" is not a time (unix seconds or ISO 8601)", to);
		return false;
	}
	r->from = r->to - span;
	if (from && gw_history_parse_time(from, now, &r->from) < 0) {
		*rc = http_send_error(con, MHD_HTTP_BAD_REQUEST, true, "from: \"%s\" is not a time (unix seconds or ISO 8601)",
				 from);
		return false;
	}
	if (r->from < 0)
		r->from = 0;
	if (r->to <= r->from) {
		*rc = http_send_error(con, MHD_HTTP_BAD_REQUEST, true, "the range is empty (to must be after from)");
		return false;
	}
	return true;
}

enum MHD_Result http_start_history(struct gw_http *h, struct req *r, bool csv)
{
	struct MHD_Connection *con = r->con;
	if (!gw_history_of(h->gw))
		return http_send_error(con, MHD_HTTP_NOT_FOUND, true, "history is off ([history] file = none)");
	enum MHD_Result rc = MHD_NO;
	if (!history_args(con, r, &rc))
		return rc;
	if (csv) {
		const char *step = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "step");
		if (step && strcmp(step, "0") != 0 && gw_history_parse_span(step, &r->step) < 0)
			return http_send_error(con, MHD_HTTP_BAD_REQUEST, true, "step: \"%s\" is not a duration (e.g. 5m, 1h)",
					  step);
		r->kind = RQ_CSV;
		r->cursor = r->from - 1;
		r->q = gw_history_csv(gw_history_of(h->gw), r->unit, r->from, r->to, r->step, r->cursor, CSV_ROWS, on_answer, r);
	} else {
		const char *pts = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "points");
		long points = CHART_POINTS;
		if (pts) {
			char *end;
			points = strtol(pts, &end, 10);
			if (*end || points < 10 || points > CHART_POINTS_MAX)
				return http_send_error(con, MHD_HTTP_BAD_REQUEST, true, "points: expected 10..%d",
						  CHART_POINTS_MAX);
		}
		const char *cells = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "cells");
		if (cells && strcmp(cells, "0") != 0 && strcmp(cells, "1") != 0)
			return http_send_error(con, MHD_HTTP_BAD_REQUEST, true, "cells: expected 0 or 1");
		r->kind = RQ_CHART;
		r->q = gw_history_chart(gw_history_of(h->gw), r->unit, r->from, r->to, (int)points,
					cells && strcmp(cells, "1") == 0, on_answer, r);
	}
	if (!r->q)
		return MHD_NO;
	http_req_list(h, r);
	http_suspend(r);
	return MHD_YES;
}

enum MHD_Result http_answer_history(struct req *r)
{
	struct MHD_Connection *con = r->con;
	if (r->status != 200)
		return http_send_error(con, (unsigned)r->status, true, "%s", r->err);
	if (r->kind == RQ_CHART) {
		char *text = r->buf;
		r->buf = NULL;
		return http_send_owned(con, MHD_HTTP_OK, "application/json", text, r->len);
	}
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, csv_reader, r,
								      (MHD_ContentReaderFreeCallback)http_req_unref);
	if (!resp)
		return MHD_NO;
	r->refs++;
	http_add_common(resp, "text/csv; charset=utf-8", true);
	char cd[160], day[16];
	time_t t = (time_t)r->from;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	snprintf(cd, sizeof(cd), "attachment; filename=\"bmsgw-%s-%s.csv\"", r->unit, day);
	MHD_add_response_header(resp, "Content-Disposition", cd);
	enum MHD_Result rc = MHD_queue_response(con, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}
