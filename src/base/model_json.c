/*
 * model_json.c - the JSON form of the records of model.h: one shape for
 * every front door (the CLI's --json, the REST API, webhooks). See
 * model_json.h. Pure functions over their arguments; any thread.
 */
#include "model_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string of `s`; bytes that are not valid UTF-8 (a file name, a DN of
 * an uploaded certificate) become '?' rather than failing the output. */
json_t *json_of_text(const char *s)
{
        json_t *v = json_string(s);
        if (v || !s)
                return v;
        char *copy = strdup(s);
        if (!copy)
                return NULL;
        for (char *p = copy; *p; p++)
                if ((unsigned char)*p >= 0x80)
                        *p = '?';
        v = json_string(copy);
        free(copy);
        return v;
}

json_t *json_of_time(qtime_t t)
{
        char buf[40];
        return json_string(qtime_fmt(t, buf, sizeof buf));
}

/* Sets o[k] = v (stealing v); clears *ok when either is missing. */
static void jset(json_t *o, const char *k, json_t *v, bool *ok)
{
        if (!v || json_object_set_new(o, k, v) != 0)
                *ok = false;
}

static json_t *jstr_or_null(const char *s)
{
        return s && *s ? json_of_text(s) : json_null();
}

static json_t *jid_or_null(int64_t id)
{
        return id > 0 ? json_integer((json_int_t)id) : json_null();
}

static json_t *jfinish(json_t *o, bool ok)
{
        if (!ok) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static const char *key_protection_name(enum key_protection p)
{
        switch (p) {
        case KEYPROT_DATA_KEY:
                return "data_key";
        case KEYPROT_PASSWORD:
                return "password";
        case KEYPROT_NONE:
        default:
                return "none";
        }
}

/* floor((not_after - now) / 1 day); negative once expired. */
static long long days_left(qtime_t not_after, qtime_t now)
{
        qtime_t diff = not_after - now;
        qtime_t d = diff / QTIME_DAY;
        if (diff % QTIME_DAY != 0 && diff < 0)
                d--;
        return (long long)d;
}

static json_t *names_json(char *const *names, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_of_text(names[i])) != 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

json_t *json_of_cert(const struct cert_rec *c, qtime_t now)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        bool ok = true;
        jset(o, "id", json_integer((json_int_t)c->id), &ok);
        jset(o, "tenant", json_of_text(c->tenant), &ok);
        jset(o, "serial", json_string(c->serial), &ok);
        jset(o, "status", json_string(cert_status_name(cert_effective_status(c, now))), &ok);
        jset(o, "names", names_json(c->names, c->nnames), &ok);
        jset(o, "not_before", json_of_time(c->not_before), &ok);
        jset(o, "not_after", json_of_time(c->not_after), &ok);
        jset(o, "origin", json_string(cert_origin_name(c->origin)), &ok);
        jset(o, "parent_id", jid_or_null(c->parent_id), &ok);
        jset(o, "profile", json_string(cert_profile_name(c->profile)), &ok);
        jset(o, "key_algorithm", json_string(c->key_algorithm), &ok);
        jset(o, "ca_id", c->origin == ORIGIN_UPLOADED ? json_null() : jid_or_null(c->ca_id), &ok);
        /* the CRL partition listing it: null for uploads and for certificates
         * issued before sharding (those are on the CA's unsharded CRL) */
        jset(o, "crl_shard",
             c->origin == ORIGIN_ISSUED && c->crl_shard >= 0 ? json_integer(c->crl_shard)
                                                             : json_null(),
             &ok);
        jset(o, "issuer", jstr_or_null(c->issuer), &ok);
        jset(o, "revoked_at", c->revoked_at ? json_of_time(c->revoked_at) : json_null(), &ok);
        jset(o, "revocation_reason",
             c->revoke_reason >= 0 ? json_string(revoke_reason_name(c->revoke_reason))
                                   : json_null(),
             &ok);
        jset(o, "key_held", json_boolean(c->key_blob != NULL), &ok);
        jset(o, "key_protection", json_string(key_protection_name(c->key_protection)), &ok);
        jset(o, "days_left", json_integer(days_left(c->not_after, now)), &ok);
        return jfinish(o, ok);
}

json_t *json_of_event(const struct event_rec *e)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        bool ok = true;
        jset(o, "id", json_integer((json_int_t)e->id), &ok);
        jset(o, "tenant", json_of_text(e->tenant), &ok);
        jset(o, "object", json_string(e->object_type), &ok);
        jset(o, "object_id", json_integer((json_int_t)e->object_id), &ok);
        jset(o, "at", json_of_time(e->at), &ok);
        jset(o, "actor", json_of_text(e->actor), &ok);
        jset(o, "from", jstr_or_null(e->from_status), &ok);
        jset(o, "to", jstr_or_null(e->to_status), &ok);
        jset(o, "reason", jstr_or_null(e->reason), &ok);
        return jfinish(o, ok);
}

json_t *json_of_events(const struct event_rec *e, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_of_event(&e[i])) != 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

json_t *json_of_ca(const struct ca_rec *c)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        bool ok = true;
        jset(o, "id", json_integer((json_int_t)c->id), &ok);
        jset(o, "parent_id", jid_or_null(c->parent_id), &ok);
        jset(o, "is_root", json_boolean(c->is_root), &ok);
        jset(o, "key_algorithm", json_string(c->key_algorithm), &ok);
        jset(o, "subject", jstr_or_null(c->subject), &ok);
        jset(o, "not_before", json_of_time(c->not_before), &ok);
        jset(o, "not_after", json_of_time(c->not_after), &ok);
        jset(o, "certificate", jstr_or_null(c->cert_pem), &ok);
        return jfinish(o, ok);
}

/* ---- orders and reviews ---- */

static json_t *failure_json(const char *code, const char *msg)
{
        if (!code || !code[0])
                return json_null();
        return json_pack("{s:s,s:s}", "code", code, "message", msg ? msg : "");
}

static json_t *challenge_json(const struct order_name_rec *n)
{
        const char *base = n->name[0] == '*' && n->name[1] == '.' ? n->name + 2 : n->name;
        char rec[QUILL_MAX_NAME_LEN + 32], url[QUILL_MAX_NAME_LEN + 96];
        if (strcmp(n->method, "none") == 0)
                return json_null(); /* private orders: nothing to publish */
        if (strcmp(n->method, "file") == 0) {
                snprintf(url, sizeof url, "http://%s/.well-known/pki-validation/%s.txt", n->name,
                         n->token);
                return json_pack("{s:s,s:s,s:s}", "type", "file", "url", url, "content", n->value);
        }
        snprintf(rec, sizeof rec, "_acme-challenge.%s", base);
        return json_pack("{s:s,s:s,s:s}", "type", "dns", "record_name", rec, "record_value",
                         n->value);
}

/* issue 7: the earlier validation a name reuses, or null */
static json_t *reused_json(const struct order_name_rec *n)
{
        if (!n->reused_from)
                return json_null();
        return json_pack("{s:I,s:o,s:s}", "order_id", (json_int_t)n->reused_order, "validated_at",
                         json_of_time(n->validated_at), "method",
                         n->reused_method[0] ? n->reused_method : n->method);
}

json_t *json_of_order(const struct order_rec *o, qtime_t now)
{
        (void)now;
        json_t *names = json_array();
        for (size_t i = 0; names && i < o->nnames; i++) {
                const struct order_name_rec *n = &o->names[i];
                json_array_append_new(
                    names,
                    json_pack("{s:s,s:s,s:s,s:s,s:s?,s:o,s:o,s:o,s:o}", "name", n->name, "method",
                              n->method, "validation_status", n->validation_status, "caa_status",
                              n->caa_status, "caa_detail", n->caa_detail, "failure",
                              failure_json(n->failure_code, n->failure_message), "challenge",
                              challenge_json(n), "value_expires", json_of_time(n->value_expires),
                              "validation_reused_from", reused_json(n)));
        }
        json_t *cert = o->certificate_id ? json_integer(o->certificate_id) : json_null();
        json_t *out;
        /* purpose: issue, or the proof of control of a revocation or reissue
         * (for those, status "issued" means the proof completed) */
        out = json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:b,s:o}", "id",
                        (json_int_t)o->id, "purpose", o->purpose, "subject_id",
                        (json_int_t)o->subject_id, "status", order_status_name(o->status),
                        "profile", cert_profile_name(o->profile), "key_algorithm", o->key_algorithm,
                        "certificate_id", cert, "failure",
                        failure_json(o->failure_code, o->failure_message), "deadline",
                        json_of_time(o->deadline), "created_at", json_of_time(o->created_at),
                        "names", names ? names : json_array(), "free", o->free_cert, "organization",
                        o->org_info ? json_string(o->org_info) : json_null());
        if (out && (json_object_set_new(out, "tenant", json_of_text(o->tenant)) != 0 ||
                    json_object_set_new(out, "created_by", json_of_text(o->created_by)) != 0 ||
                    json_object_set_new(out, "updated_at", json_of_time(o->updated_at)) != 0)) {
                json_decref(out);
                out = NULL;
        }
        return out;
}

json_t *json_of_review(const struct review_rec *r)
{
        json_t *order = r->order_id ? json_integer(r->order_id) : json_null();
        json_t *rev = r->revocation_id ? json_integer(r->revocation_id) : json_null();
        json_t *out = json_pack("{s:I,s:o,s:o,s:s,s:s,s:s,s:s?,s:s?,s:o,s:o}", "id",
                                (json_int_t)r->id, "order_id", order, "revocation_id", rev, "kind",
                                r->kind, "status", r->status, "detail", r->detail ? r->detail : "",
                                "reviewer", r->reviewer[0] ? r->reviewer : NULL, "reason",
                                r->reason, "created_at", json_of_time(r->created_at), "decided_at",
                                r->decided_at ? json_of_time(r->decided_at) : json_null());
        if (out && (json_object_set_new(out, "tenant", json_of_text(r->tenant)) != 0 ||
                    json_object_set_new(out, "requested_by", json_of_text(r->requested_by)) != 0)) {
                json_decref(out);
                out = NULL;
        }
        return out;
}

json_t *json_of_tenant(const struct tenant_rec *t)
{
        return json_pack("{s:I,s:o,s:o}", "id", (json_int_t)t->id, "name", json_of_text(t->name),
                         "created_at", json_of_time(t->created_at));
}

json_t *json_of_apikey(const struct apikey_rec *k)
{
        return json_pack("{s:I,s:o,s:s,s:o,s:o,s:o,s:o}", "id", (json_int_t)k->id, "tenant",
                         json_of_text(k->tenant), "role", role_name(k->role), "label",
                         json_of_text(k->label), "created_at", json_of_time(k->created_at),
                         "created_by", json_of_text(k->created_by), "revoked_at",
                         k->revoked_at ? json_of_time(k->revoked_at) : json_null());
}

json_t *json_of_blocked_key(const struct blocked_key_rec *k)
{
        char source[48];
        if (!strcmp(k->source, "revocation"))
                snprintf(source, sizeof source, "revocation:%lld", (long long)k->revocation_id);
        else
                snprintf(source, sizeof source, "%s", k->source);
        return json_pack("{s:s,s:o,s:s,s:o}", "spki_sha256", k->spki_sha256, "blocked_at",
                         json_of_time(k->blocked_at), "source", source, "reason",
                         jstr_or_null(k->reason));
}

json_t *json_of_webhook(const struct webhook_rec *w)
{
        return json_pack("{s:I,s:o,s:o,s:o,s:o}", "id", (json_int_t)w->id, "tenant",
                         json_of_text(w->tenant), "url", json_of_text(w->url ? w->url : ""),
                         "created_at", json_of_time(w->created_at), "created_by",
                         json_of_text(w->created_by));
}

json_t *json_of_delivery(const struct delivery_rec *d)
{
        json_t *tries = json_array();
        for (size_t i = 0; tries && i < d->ntries; i++) {
                const struct delivery_try *t = &d->tries[i];
                if (json_array_append_new(
                        tries, json_pack("{s:i,s:o,s:o,s:o,s:I}", "attempt", t->attempt, "at",
                                         json_of_time(t->at), "status_code",
                                         t->status ? json_integer(t->status) : json_null(), "error",
                                         jstr_or_null(t->error), "duration_ms",
                                         (json_int_t)t->duration_ms)) != 0) {
                        json_decref(tries);
                        tries = NULL;
                }
        }
        bool pending = strcmp(d->state, "pending") == 0;
        return json_pack(
            "{s:I,s:s,s:s,s:{s:s,s:I},s:I,s:s,s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "id",
            (json_int_t)d->id, "event", d->event, "channel", d->channel, "object", "type",
            d->object_type, "id", (json_int_t)d->object_id, "webhook_id", (json_int_t)d->webhook_id,
            "state", d->state, "attempts", d->attempts, "last_status_code",
            d->last_status ? json_integer(d->last_status) : json_null(), "last_error",
            jstr_or_null(d->last_error), "created_at", json_of_time(d->created_at),
            "next_attempt_at",
            /* a new one is due at once (0): shown as its creation time */
            pending ? json_of_time(d->next_attempt_at > d->created_at ? d->next_attempt_at
                                                                      : d->created_at)
                    : json_null(),
            "finished_at", d->finished_at ? json_of_time(d->finished_at) : json_null(), "tries",
            tries ? tries : json_array());
}
