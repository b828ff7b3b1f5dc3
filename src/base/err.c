/*
 * err.c - the string table behind err.h. Pure data and formatting; any thread.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct qerr_row {
        const char *code;
        int http;
        enum qexit exitc;
        const char *acme;
        const char *msg;
};

static const struct qerr_row rows[QERR__COUNT] = {
#define QERR_ROW(name, code, http, exitc, acme, msg) [QERR_##name] = {code, http, exitc, acme, msg},
    QERR_TABLE(QERR_ROW)
#undef QERR_ROW
};

static const struct qerr_row *row(enum qerr e)
{
        if ((unsigned)e >= QERR__COUNT)
                return &rows[QERR_INTERNAL];
        return &rows[e];
}

const char *qerr_code(enum qerr e)
{
        return row(e)->code;
}

const char *qerr_default_msg(enum qerr e)
{
        return row(e)->msg;
}

const char *qerr_acme_type(enum qerr e)
{
        return row(e)->acme;
}

int qerr_http_status(enum qerr e)
{
        return row(e)->http;
}

enum qexit qerr_exit(enum qerr e)
{
        return row(e)->exitc;
}

enum qerr qerr_from_code(const char *code)
{
        for (int i = 0; i < QERR__COUNT; i++)
                if (code && strcmp(rows[i].code, code) == 0)
                        return (enum qerr)i;
        return QERR__COUNT;
}

enum qerr qerr_set(struct qerr_info *ei, enum qerr e, const char *fmt, ...)
{
        if (!ei)
                return e;
        ei->code = e;
        ei->msg[0] = '\0';
        if (fmt) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(ei->msg, sizeof ei->msg, fmt, ap);
                va_end(ap);
        }
        return e;
}

const char *qerr_message(const struct qerr_info *ei)
{
        if (!ei)
                return "";
        return ei->msg[0] ? ei->msg : qerr_default_msg(ei->code);
}

void qerr_clear(struct qerr_info *ei)
{
        if (ei) {
                ei->code = QERR_OK;
                ei->msg[0] = '\0';
        }
}
