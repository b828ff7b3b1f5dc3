/*
 * notify_text.c - what is sent for an event (notify.h): the webhook's JSON
 * body, built from the shapes of src/base/model_json.h so that an object
 * looks as the API returns it, and the subject and text of an email. Pure
 * functions over their arguments; any thread.
 */
#include <stdio.h>
#include <string.h>

#include "../base/model_json.h"
#include "notify.h"

static const char *const KNOWN[] = {
    NOTIFY_CERT_ISSUED,
    NOTIFY_ORDER_VALIDATION_NEEDED,
    NOTIFY_ORDER_VALIDATION_FAILED,
    NOTIFY_REVIEW_DECIDED,
    NOTIFY_CERT_REVOCATION_REQUESTED,
    NOTIFY_CERT_REVOKED,
    NOTIFY_CERT_REVOCATION_FAILED,
    NOTIFY_CERT_REISSUED,
    NOTIFY_CERT_EXPIRING,
};

bool notify_event_known(const char *type)
{
        for (size_t i = 0; type && i < sizeof KNOWN / sizeof KNOWN[0]; i++)
                if (strcmp(KNOWN[i], type) == 0)
                        return true;
        return false;
}

static bool put(json_t *o, const char *k, json_t *v)
{
        return v && json_object_set_new(o, k, v) == 0;
}

json_t *notify_payload(const struct notify_event *e)
{
        json_t *o = json_object();
        bool ok = o && put(o, "type", json_string(e->type)) &&
                  put(o, "tenant", json_of_text(e->tenant ? e->tenant : "")) &&
                  put(o, "at", json_of_time(e->at));
        if (ok && e->cert)
                ok = put(o, "certificate", json_of_cert(e->cert, e->at));
        if (ok && e->order)
                ok = put(o, "order", json_of_order(e->order, e->at));
        if (ok && e->review)
                ok = put(o, "review", json_of_review(e->review));
        if (ok && e->threshold_days > 0)
                ok = put(o, "threshold_days", json_integer(e->threshold_days));
        if (ok && e->detail && *e->detail)
                ok = put(o, "detail", json_of_text(e->detail));
        if (!ok) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* ---- email ---- */

static const char *first_name(const struct notify_event *e)
{
        if (e->cert && e->cert->nnames)
                return e->cert->names[0];
        if (e->order && e->order->nnames)
                return e->order->names[0].name;
        return "";
}

static bool cert_block(struct qbuf *t, const struct cert_rec *c, qtime_t now)
{
        char nb[32], na[32];
        bool ok = qbuf_printf(t, "Certificate %lld (tenant %s)\n  Names:   ", (long long)c->id,
                              c->tenant);
        for (size_t i = 0; ok && i < c->nnames; i++)
                ok = qbuf_printf(t, "%s%s", i ? ", " : "", c->names[i]);
        return ok && qbuf_printf(t,
                                 "\n  Serial:  %s\n  Profile: %s\n  Status:  %s\n  Valid:   %s "
                                 "to %s\n",
                                 c->serial, cert_profile_name(c->profile),
                                 cert_status_name(cert_effective_status(c, now)),
                                 qtime_fmt(c->not_before, nb, sizeof nb),
                                 qtime_fmt(c->not_after, na, sizeof na));
}

/* What to publish for each name of an order that waits for validation. */
static bool challenges(struct qbuf *t, const struct order_rec *o)
{
        char exp[32], dl[32];
        bool ok = true;
        for (size_t i = 0; ok && i < o->nnames; i++) {
                const struct order_name_rec *n = &o->names[i];
                if (strcmp(n->validation_status, "pending") != 0)
                        continue;
                if (strcmp(n->method, "file") == 0) {
                        ok = qbuf_printf(t,
                                         "  %s: serve the file\n    "
                                         "http://%s/.well-known/pki-validation/%s.txt\n  "
                                         "  holding exactly this text:\n    %s\n",
                                         n->name, n->name, n->token, n->value);
                } else if (strcmp(n->method, "dns") == 0) {
                        const char *base =
                            n->name[0] == '*' && n->name[1] == '.' ? n->name + 2 : n->name;
                        ok = qbuf_printf(t,
                                         "  %s: publish a TXT record at\n    _acme-challenge.%s\n"
                                         "    with the value:\n    %s\n",
                                         n->name, base, n->value);
                }
        }
        if (ok && o->nnames)
                ok = qbuf_printf(t,
                                 "\nThe values can be used until %s; the order waits for them "
                                 "until %s. quill checks again by itself (or: POST "
                                 "/api/v1/orders/%lld/validate).\n",
                                 qtime_fmt(o->names[0].value_expires, exp, sizeof exp),
                                 qtime_fmt(o->deadline, dl, sizeof dl), (long long)o->id);
        return ok;
}

static bool failure(struct qbuf *t, const struct order_rec *o)
{
        enum qerr code = qerr_from_code(o->failure_code);
        bool ok = qbuf_printf(t, "Order %lld failed: %s.\n\n%s\n", (long long)o->id,
                              o->failure_code[0] ? o->failure_code : "failed",
                              o->failure_message ? o->failure_message : "");
        for (size_t i = 0; ok && i < o->nnames; i++)
                if (o->names[i].failure_code[0])
                        ok = qbuf_printf(
                            t, "\n  %s: %s: %s\n", o->names[i].name, o->names[i].failure_code,
                            o->names[i].failure_message ? o->names[i].failure_message : "");
        if (ok && code < QERR__COUNT)
                ok = qbuf_printf(t, "\nHow to fix it: %s\n", qerr_default_msg(code));
        return ok;
}

bool notify_email_text(const struct notify_event *e, struct qbuf *subject, struct qbuf *text)
{
        const struct cert_rec *c = e->cert;
        const struct order_rec *o = e->order;
        const char *t = e->type;
        long long cid = c ? (long long)c->id : 0, oid = o ? (long long)o->id : 0;
        char when[32];
        bool ok;
        if (!strcmp(t, NOTIFY_CERT_ISSUED)) {
                ok = qbuf_printf(subject, "[quill] Certificate issued: %s (certificate %lld)",
                                 first_name(e), cid) &&
                     qbuf_printf(text, "A certificate was issued.\n\n");
        } else if (!strcmp(t, NOTIFY_CERT_REISSUED)) {
                ok = qbuf_printf(subject, "[quill] Certificate reissued: %s (certificate %lld)",
                                 first_name(e), cid) &&
                     qbuf_printf(text,
                                 "Certificate %lld was reissued as certificate %lld (same "
                                 "names and expiry date).\n\n",
                                 c ? (long long)c->parent_id : 0, cid);
        } else if (!strcmp(t, NOTIFY_CERT_REVOKED)) {
                ok = qbuf_printf(subject, "[quill] Certificate revoked: %s (certificate %lld)",
                                 first_name(e), cid) &&
                     qbuf_printf(text,
                                 "A certificate was revoked (reason %s). Relying parties see it "
                                 "on the CRL and in OCSP answers; replace it where it is "
                                 "installed.\n\n",
                                 c && c->revoke_reason >= 0 ? revoke_reason_name(c->revoke_reason)
                                                            : "unspecified");
        } else if (!strcmp(t, NOTIFY_CERT_REVOCATION_REQUESTED)) {
                ok = qbuf_printf(subject, "[quill] Revocation requested: %s (certificate %lld)",
                                 first_name(e), cid) &&
                     qbuf_printf(text, "A revocation of this certificate was requested; it can "
                                       "no longer be downloaded. It is revoked once what it "
                                       "waits for arrives.\n\n");
        } else if (!strcmp(t, NOTIFY_CERT_REVOCATION_FAILED)) {
                ok = qbuf_printf(subject, "[quill] Revocation failed: %s (certificate %lld)",
                                 first_name(e), cid) &&
                     qbuf_printf(text, "The revocation of this certificate did not complete; "
                                       "the certificate stays valid. A new revocation may be "
                                       "requested.\n\n");
        } else if (!strcmp(t, NOTIFY_CERT_EXPIRING)) {
                ok = qbuf_printf(subject, "[quill] Certificate expires in %d day%s: %s",
                                 e->threshold_days, e->threshold_days == 1 ? "" : "s",
                                 first_name(e)) &&
                     qbuf_printf(text,
                                 "This certificate expires on %s (in %d day%s or less). Apply "
                                 "for a new one (or reissue it while it has more than 30 days "
                                 "left) and install it before then.\n\n",
                                 c ? qtime_fmt(c->not_after, when, sizeof when) : "?",
                                 e->threshold_days, e->threshold_days == 1 ? "" : "s");
        } else if (!strcmp(t, NOTIFY_ORDER_VALIDATION_NEEDED)) {
                ok = qbuf_printf(subject, "[quill] Publish the validation records: %s (order %lld)",
                                 first_name(e), oid) &&
                     qbuf_printf(text,
                                 "Order %lld (%s, tenant %s) waits for proof that you control "
                                 "its names. Publish:\n\n",
                                 oid, o ? o->purpose : "issue", e->tenant ? e->tenant : "") &&
                     (!o || challenges(text, o));
        } else if (!strcmp(t, NOTIFY_ORDER_VALIDATION_FAILED)) {
                ok = qbuf_printf(subject, "[quill] Order failed: %s (order %lld, %s)",
                                 first_name(e), oid, o ? o->failure_code : "") &&
                     (!o || failure(text, o));
        } else if (!strcmp(t, NOTIFY_REVIEW_DECIDED)) {
                const struct review_rec *r = e->review;
                ok = qbuf_printf(subject, "[quill] Review %s: %s", r ? r->status : "decided",
                                 first_name(e)) &&
                     qbuf_printf(text, "Review %lld (%s) was %s by %s%s%s.\n\n",
                                 r ? (long long)r->id : 0, r ? r->kind : "",
                                 r ? r->status : "decided", r ? r->reviewer : "",
                                 r && r->reason ? ": " : "", r && r->reason ? r->reason : "");
        } else {
                ok = qbuf_printf(subject, "[quill] %s", t) && qbuf_printf(text, "%s\n\n", t);
        }
        if (ok && e->detail && *e->detail)
                ok = qbuf_printf(text, "%s\n\n", e->detail);
        if (ok && c)
                ok = cert_block(text, c, e->at);
        if (ok && o && strcmp(t, NOTIFY_ORDER_VALIDATION_NEEDED) &&
            strcmp(t, NOTIFY_ORDER_VALIDATION_FAILED))
                ok = qbuf_printf(text, "%sOrder %lld: %s\n", c ? "\n" : "", oid,
                                 order_status_name(o->status)) &&
                     (o->status != ORDER_PENDING_VALIDATION || challenges(text, o));
        if (ok)
                ok =
                    qbuf_printf(text, "\n-- \nquill, tenant %s, %s (event %s)\n",
                                e->tenant ? e->tenant : "", qtime_fmt(e->at, when, sizeof when), t);
        return ok;
}
