/*
 * store_sqlite_query.c - building a SELECT from the filters a page asks
 * for (see store_sqlite_int.h, struct sq_where).
 *
 * Why not one statement with "(?1 = 0 OR col = ?1)" for every filter: the
 * planner cannot use an index for a condition that may be switched off at
 * run time, so a keyset page deep in a large tenant scanned from the top
 * (measured: 600 ms at 100,000 certificates, against 1-2 ms with only the
 * active conditions). Conditions are fixed strings of the caller's; values
 * are always bound, never pasted. One thread per builder.
 */
#include <stdio.h>
#include <string.h>

#include "store_sqlite_int.h"

void sqw_init(struct sq_where *w, const char *base)
{
        memset(w, 0, sizeof *w);
        sqw_append(w, base);
}

void sqw_append(struct sq_where *w, const char *text)
{
        size_t n = strlen(text);
        if (w->len + n + 1 > sizeof w->sql) {
                w->overflow = true;
                return;
        }
        memcpy(w->sql + w->len, text, n + 1);
        w->len += n;
}

static void cond(struct sq_where *w, const char *c)
{
        sqw_append(w, w->nconds++ ? " AND " : " WHERE ");
        sqw_append(w, c);
}

static struct sq_bind *next_bind(struct sq_where *w)
{
        if (w->nbinds >= SQW_MAX_BINDS) {
                w->overflow = true;
                return NULL;
        }
        return &w->binds[w->nbinds++];
}

void sqw_raw(struct sq_where *w, const char *c)
{
        cond(w, c);
}

void sqw_int(struct sq_where *w, const char *c, int64_t v)
{
        cond(w, c);
        struct sq_bind *b = next_bind(w);
        if (b) {
                b->text = NULL;
                b->i = v;
        }
}

void sqw_text(struct sq_where *w, const char *c, const char *v)
{
        cond(w, c);
        struct sq_bind *b = next_bind(w);
        if (b)
                b->text = v;
}

void sqw_tail_int(struct sq_where *w, const char *tail, int64_t v)
{
        sqw_append(w, tail);
        struct sq_bind *b = next_bind(w);
        if (b) {
                b->text = NULL;
                b->i = v;
        }
}

enum qerr sqw_prepare(struct store *s, const struct sq_where *w, sqlite3_stmt **st,
                      struct qerr_info *ei)
{
        if (w->overflow)
                return qerr_set(ei, QERR_STORE, "a query grew past its builder's limits");
        enum qerr rc = sq_stmt(s, w->sql, st, ei);
        if (rc != QERR_OK)
                return rc;
        for (int i = 0; i < w->nbinds; i++) {
                if (w->binds[i].text)
                        sqlite3_bind_text(*st, i + 1, w->binds[i].text, -1, SQLITE_TRANSIENT);
                else
                        sqlite3_bind_int64(*st, i + 1, w->binds[i].i);
        }
        return QERR_OK;
}
