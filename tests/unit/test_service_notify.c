/*
 * test_service_notify.c - notifications in the service layer: webhooks and
 * contacts (the rules, the sealed secret, events, roles, tenants), and
 * that every event type lands in the outbox of the owning tenant only, in
 * the transaction of its change: certificate.issued, .reissued, .revoked,
 * .revocation_requested, .revocation_failed, .expiring,
 * order.validation_needed, .validation_failed and review.decided; the
 * email row for the tenant's contacts; and the expiry scan (each
 * certificate and threshold once, only the smallest threshold crossed).
 *
 * No DNS here: where an order must fail its validation, its deadline is
 * put in the past and the resolver is a port where nothing answers; where
 * it must stand in review, the test puts it there in the database as a
 * validate job would have. Set-up: service_fixture.h.
 */
#include "service_fixture.h"

#include <jansson.h>

static const char LETTER[] = "%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
static const char SECRET[] = "a-long-webhook-secret-0123456789";

static int64_t hook(struct fx *f, const char *url)
{
        struct webhook_rec w;
        f->cfg.notify_allow_private_addresses = 1;
        OK(service_webhook_create(f->s, url, SECRET, &w, &ei_));
        f->cfg.notify_allow_private_addresses = 0;
        int64_t id = w.id;
        assert_null(w.secret_blob);
        webhook_rec_clear(&w);
        return id;
}

/* Acts as a user key of tenant `t` while `call` runs. */
static struct principal as_user(struct fx *f, int64_t tenant_id, const char *tenant)
{
        struct principal saved = *service_principal(f->s), p = {0};
        p.tenant_id = tenant_id;
        snprintf(p.tenant, sizeof p.tenant, "%s", tenant);
        p.role = ROLE_USER;
        p.key_id = 9;
        snprintf(p.name, sizeof p.name, "key:9:%s", tenant);
        service_set_principal(f->s, &p);
        return saved;
}

static int64_t tenant_b(struct fx *f)
{
        struct tenant_rec t;
        OK(service_tenant_create(f->s, "team-b", &t, &ei_));
        return t.id;
}

static long long queued(struct fx *f, const char *event, int64_t webhook)
{
        return sql_int(f,
                       "SELECT count(*) FROM deliveries WHERE event = '%s' AND webhook_id = %lld",
                       event, (long long)webhook);
}

/* The body of the newest delivery of `event` to `webhook`, parsed. */
static json_t *body_of(struct fx *f, const char *event, int64_t webhook)
{
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(f->db,
                                            "SELECT body FROM deliveries WHERE event = ? AND "
                                            "webhook_id = ? ORDER BY id DESC LIMIT 1",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, event, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, webhook);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        json_error_t je;
        json_t *j =
            json_loadb(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), 0, &je);
        sqlite3_finalize(st);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "type")), event);
        return j;
}

static int64_t json_id(json_t *j, const char *obj)
{
        return (int64_t)json_integer_value(json_object_get(json_object_get(j, obj), "id"));
}

/* ---- webhooks and contacts ---- */

static void test_webhook_rules(void **state)
{
        struct fx *f = *state;
        struct webhook_rec w;
        long long before = state_now(f);
        REFUSED(QERR_WEBHOOK_SECRET_INVALID,
                service_webhook_create(f->s, "https://93.184.215.14/h", "short", &w, &ei_));
        REFUSED(QERR_WEBHOOK_URL_INVALID,
                service_webhook_create(f->s, "http://127.0.0.1:9/h", SECRET, &w, &ei_));
        REFUSED(QERR_WEBHOOK_URL_INVALID,
                service_webhook_create(f->s, "http://[::1]/h", SECRET, &w, &ei_));
        REFUSED(QERR_WEBHOOK_URL_INVALID,
                service_webhook_create(f->s, "ftp://93.184.215.14/", SECRET, &w, &ei_));
        assert_int_equal(state_now(f), before);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM webhooks"), 0);
        /* a public literal needs no switch */
        OK(service_webhook_create(f->s, "https://93.184.215.14/hook?t=x", SECRET, &w, &ei_));
        int64_t id = w.id;
        assert_string_equal(w.url, "https://93.184.215.14/hook?t=x");
        assert_string_equal(w.tenant, "default");
        webhook_rec_clear(&w);
        /* the secret is sealed: not in the database as it is */
        assert_int_equal(sql_int(f,
                                 "SELECT instr(hex(secret_blob), hex('%s')) FROM webhooks WHERE "
                                 "id = %lld",
                                 SECRET, (long long)id),
                         0);
        assert_int_equal(
            sql_int(f, "SELECT hex(substr(secret_blob, 1, 3)) = hex('QS1') FROM webhooks"), 1);
        ASSERT_HISTORY(f, "webhook", id, "->created");
        char why[600];
        last_reason(f, "webhook", id, why, sizeof why);
        assert_null(strstr(why, "t=x")); /* the path and query stay out of the log */
        /* listed without the secret */
        struct webhook_rec *v = NULL;
        size_t n = 0;
        OK(service_webhook_list(f->s, &v, &n, &ei_));
        assert_int_equal(n, 1);
        assert_null(v[0].secret_blob);
        store_free_webhooks(v, n);
        /* at most 20 */
        for (int i = 1; i < 20; i++)
                hook(f, "http://127.0.0.1:9/more");
        REFUSED(QERR_WEBHOOK_LIMIT,
                service_webhook_create(f->s, "https://93.184.215.14/21", SECRET, &w, &ei_));
        OK(service_webhook_delete(f->s, id, NULL, &ei_));
        ASSERT_HISTORY(f, "webhook", id, "->created created>deleted");
        REFUSED(QERR_NOT_FOUND, service_webhook_delete(f->s, id, NULL, &ei_));
        OK(service_webhook_create(f->s, "https://93.184.215.14/21", SECRET, &w, &ei_));
        webhook_rec_clear(&w);
        /* a reviewer has no webhooks */
        struct principal saved = as_user(f, 1, "default"), r = saved;
        r.role = ROLE_REVIEWER;
        service_set_principal(f->s, &r);
        REFUSED(QERR_FORBIDDEN, service_webhook_list(f->s, &v, &n, &ei_));
        service_set_principal(f->s, &saved);
}

static void test_webhooks_of_another_tenant(void **state)
{
        struct fx *f = *state;
        int64_t b = tenant_b(f);
        struct principal saved = as_user(f, b, "team-b");
        int64_t hb = hook(f, "http://127.0.0.1:9/b");
        service_set_principal(f->s, &saved);
        int64_t ha = hook(f, "http://127.0.0.1:9/a");
        /* a user of default sees only its own, and B's is not found (audited) */
        saved = as_user(f, 1, "default");
        struct webhook_rec *v = NULL;
        size_t n = 0;
        OK(service_webhook_list(f->s, &v, &n, &ei_));
        assert_int_equal(n, 1);
        assert_int_equal(v[0].id, ha);
        store_free_webhooks(v, n);
        struct delivery_query q = {.webhook_id = hb, .limit = 10};
        struct delivery_rec *d = NULL;
        bool more = false;
        REFUSED(QERR_NOT_FOUND, service_webhook_deliveries(f->s, &q, &d, &n, &more, &ei_));
        REFUSED(QERR_NOT_FOUND, service_webhook_delete(f->s, hb, NULL, &ei_));
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM events WHERE object_type = 'webhook' AND "
                                 "object_id = %lld AND to_status = 'access_denied' AND "
                                 "tenant_id = %lld",
                                 (long long)hb, (long long)b),
                         2);
        service_set_principal(f->s, &saved);
        /* the local operator (an admin) can */
        q.webhook_id = hb;
        struct principal admin = saved;
        admin.all_tenants = true;
        service_set_principal(f->s, &admin);
        OK(service_webhook_deliveries(f->s, &q, &d, &n, &more, &ei_));
        store_free_deliveries(d, n);
        OK(service_webhook_list(f->s, &v, &n, &ei_));
        assert_int_equal(n, 2);
        store_free_webhooks(v, n);
        service_set_principal(f->s, &saved);
}

static void test_contacts(void **state)
{
        struct fx *f = *state;
        struct tenant_rec t;
        const char *bad[] = {"ops@example.com", "Ops <ops@example.com>"};
        long long before = state_now(f);
        REFUSED(QERR_CONTACT_INVALID, service_contacts_set(f->s, NULL, bad, 2, &t, &ei_));
        const char *many[21];
        for (int i = 0; i < 21; i++)
                many[i] = "x@example.com";
        REFUSED(QERR_CONTACT_INVALID, service_contacts_set(f->s, NULL, many, 21, &t, &ei_));
        assert_int_equal(state_now(f), before);
        const char *good[] = {"ops@example.com", "OPS@example.com", "pki@example.com"};
        OK(service_contacts_set(f->s, NULL, good, 3, &t, &ei_));
        assert_string_equal(t.name, "default");
        ASSERT_HISTORY(f, "contacts", 1, "->updated");
        char **v = NULL;
        size_t n = 0;
        OK(service_contacts_get(f->s, NULL, &v, &n, &t, &ei_));
        assert_int_equal(n, 2); /* the same address twice is kept once */
        assert_string_equal(v[0], "ops@example.com");
        assert_string_equal(v[1], "pki@example.com");
        store_free_strings(v, n);
        /* a user names only its own tenant */
        int64_t b = tenant_b(f);
        struct principal saved = as_user(f, b, "team-b");
        REFUSED(QERR_FORBIDDEN, service_contacts_get(f->s, "default", &v, &n, &t, &ei_));
        OK(service_contacts_get(f->s, "team-b", &v, &n, &t, &ei_));
        assert_int_equal(n, 0);
        store_free_strings(v, n);
        service_set_principal(f->s, &saved);
        struct principal admin = saved;
        admin.all_tenants = true;
        service_set_principal(f->s, &admin);
        OK(service_contacts_set(f->s, "team-b", good + 2, 1, &t, &ei_));
        assert_int_equal(t.id, b);
        REFUSED(QERR_TENANT_UNKNOWN, service_contacts_get(f->s, "nobody", &v, &n, &t, &ei_));
        service_set_principal(f->s, &saved);
}

/* ---- every event, to its owner only ---- */

static void test_certificate_events(void **state)
{
        struct fx *f = *state;
        int64_t b = tenant_b(f);
        struct principal saved = as_user(f, b, "team-b");
        int64_t hb = hook(f, "http://127.0.0.1:9/b");
        service_set_principal(f->s, &saved);
        int64_t ha = hook(f, "http://127.0.0.1:9/a");
        int64_t ha2 = hook(f, "http://127.0.0.1:9/a2");

        struct cert_rec *c = NULL, *r = NULL;
        OK(t_apply(f, "notify.example.com", PROFILE_PRIVATE, NULL, &c, &ei_));
        assert_int_equal(queued(f, "certificate.issued", ha), 1);
        assert_int_equal(queued(f, "certificate.issued", ha2), 1);
        json_t *j = body_of(f, "certificate.issued", ha);
        assert_string_equal(json_string_value(json_object_get(j, "tenant")), "default");
        assert_int_equal(json_id(j, "certificate"), c->id);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "certificate"), "serial")),
            c->serial);
        json_decref(j);
        /* the same bytes for both webhooks */
        assert_int_equal(sql_int(f, "SELECT count(DISTINCT body) FROM deliveries"), 1);

        OK(t_reissue(f, c->id, REISSUE_SAME_CSR, NULL, NULL, &r, &ei_));
        assert_int_equal(queued(f, "certificate.reissued", ha), 1);
        assert_int_equal(queued(f, "certificate.issued", ha), 1); /* a reissue is not an issue */
        j = body_of(f, "certificate.reissued", ha);
        assert_int_equal(json_id(j, "certificate"), r->id);
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(j, "certificate"), "parent_id")),
            c->id);
        json_decref(j);

        struct revoke_out out;
        OK(t_revoke(f, c->id, REASON_SUPERSEDED, NULL, &out, &ei_));
        free(out.revoked);
        /* the original and its reissue */
        assert_int_equal(queued(f, "certificate.revoked", ha), 2);
        j = body_of(f, "certificate.revoked", ha);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "certificate"), "status")),
            "revoked");
        json_decref(j);
        /* tenant B heard nothing of it */
        assert_int_equal(
            sql_int(f, "SELECT count(*) FROM deliveries WHERE webhook_id = %lld", (long long)hb),
            0);
        /* and B's own certificate goes to B only */
        saved = as_user(f, b, "team-b");
        struct cert_rec *cb = NULL;
        OK(t_apply(f, "b.example.com", PROFILE_PRIVATE, NULL, &cb, &ei_));
        service_set_principal(f->s, &saved);
        assert_int_equal(queued(f, "certificate.issued", hb), 1);
        assert_int_equal(queued(f, "certificate.issued", ha), 1);
        j = body_of(f, "certificate.issued", hb);
        assert_string_equal(json_string_value(json_object_get(j, "tenant")), "team-b");
        json_decref(j);
        cert_rec_free(cb);
        cert_rec_free(r);
        cert_rec_free(c);
}

static int64_t order_in_review(struct fx *f, const char *name, struct order_rec **o)
{
        OK(t_order_apply(f, name, PROFILE_DV, "dns", o, &ei_));
        int64_t id = (*o)->id;
        sql_exec(f, "UPDATE orders SET status = 'manual_review' WHERE id = %lld", (long long)id);
        sql_exec(f, "UPDATE jobs SET state = 'done' WHERE order_id = %lld", (long long)id);
        sql_exec(f,
                 "INSERT INTO reviews (order_id, kind, status, detail, created_at) VALUES "
                 "(%lld, 'risk', 'pending', 'unit test', 0)",
                 (long long)id);
        return sql_int(f, "SELECT max(id) FROM reviews");
}

static struct cert_rec *public_cert(struct fx *f, const char *name, const char *profile)
{
        struct cert_rec *c = NULL;
        OK(t_apply(f, name, PROFILE_PRIVATE, NULL, &c, &ei_));
        sql_exec(f, "UPDATE certificates SET profile = '%s' WHERE id = %lld", profile,
                 (long long)c->id);
        return c;
}

static void test_order_and_review_events(void **state)
{
        struct fx *f = *state;
        int64_t h = hook(f, "http://127.0.0.1:9/a");
        /* an order that needs validation: the records to publish are in it */
        struct order_rec *o = NULL;
        OK(t_order_apply(f, "www.example.org", PROFILE_DV, "dns", &o, &ei_));
        assert_int_equal(queued(f, "order.validation_needed", h), 1);
        json_t *j = body_of(f, "order.validation_needed", h);
        json_t *n0 = json_array_get(json_object_get(json_object_get(j, "order"), "names"), 0);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(n0, "challenge"), "record_value")),
            o->names[0].value);
        json_decref(j);
        order_rec_free(o);

        /* review decided: approved, then rejected (told once, as a decision) */
        int64_t rid = order_in_review(f, "paypal.example.org", &o);
        struct review_rec r;
        OK(t_review(f, rid, true, "fine", &r, &ei_));
        review_rec_clear(&r);
        assert_int_equal(queued(f, "review.decided", h), 1);
        j = body_of(f, "review.decided", h);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "review"), "status")), "approved");
        assert_int_equal(json_id(j, "order"), o->id);
        json_decref(j);
        order_rec_free(o);
        rid = order_in_review(f, "bank.example.org", &o);
        OK(t_review(f, rid, false, "phishing", &r, &ei_));
        review_rec_clear(&r);
        assert_int_equal(queued(f, "review.decided", h), 2);
        assert_int_equal(queued(f, "order.validation_failed", h), 0);
        order_rec_free(o);

        /* OV revocation: requested, then the letter rejected: failed */
        struct cert_rec *c = public_cert(f, "ov.example.org", "ov");
        struct revoke_out out;
        OK(t_revoke(f, c->id, REASON_CESSATION, LETTER, &out, &ei_));
        assert_int_equal(queued(f, "certificate.revocation_requested", h), 1);
        j = body_of(f, "certificate.revocation_requested", h);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "certificate"), "status")),
            "revocation_pending");
        assert_non_null(strstr(json_string_value(json_object_get(j, "detail")), "review"));
        json_decref(j);
        OK(t_review(f, out.review_id, false, "not signed", &r, &ei_));
        review_rec_clear(&r);
        assert_int_equal(queued(f, "certificate.revocation_failed", h), 1);
        assert_int_equal(queued(f, "review.decided", h), 3);
        j = body_of(f, "certificate.revocation_failed", h);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "certificate"), "status")),
            "issued");
        assert_non_null(strstr(json_string_value(json_object_get(j, "detail")), "not signed"));
        json_decref(j);
        /* approved this time: revoked */
        OK(t_revoke(f, c->id, REASON_CESSATION, LETTER, &out, &ei_));
        OK(t_review(f, out.review_id, true, NULL, &r, &ei_));
        review_rec_clear(&r);
        assert_int_equal(queued(f, "certificate.revoked", h), 1);
        cert_rec_free(c);

        /* DV revocation: requested, with the proof order to validate */
        c = public_cert(f, "dv.example.org", "dv");
        OK(t_revoke(f, c->id, REASON_KEY_COMPROMISE, NULL, &out, &ei_));
        assert_int_equal(queued(f, "certificate.revocation_requested", h), 3);
        j = body_of(f, "certificate.revocation_requested", h);
        assert_int_equal(json_id(j, "order"), out.proof_order);
        assert_int_equal(json_id(j, "certificate"), c->id);
        json_decref(j);
        assert_int_equal(queued(f, "order.validation_needed", h), 4); /* 3 orders + the proof */
        cert_rec_free(c);
}

static void test_validation_failed(void **state)
{
        struct fx *f = *state;
        int64_t h = hook(f, "http://127.0.0.1:9/a");
        /* nothing answers DNS here: at the deadline the orders fail */
        free(f->cfg.dns_resolver);
        f->cfg.dns_resolver = strdup("127.0.0.1:9");
        f->cfg.dns_timeout_ms = 100;
        f->cfg.dns_retries = 0;
        free(f->cfg.dns_trust_anchor_file);
        f->cfg.dns_trust_anchor_file = strdup("");
        struct order_rec *o = NULL, *v = NULL;
        OK(t_order_apply(f, "late.example.org", PROFILE_DV, "dns", &o, &ei_));
        sql_exec(f, "UPDATE orders SET deadline = 1 WHERE id = %lld", (long long)o->id);
        OK(service_order_validate(f->s, o->id, &v, &ei_));
        assert_int_equal(v->status, ORDER_FAILED);
        assert_int_equal(queued(f, "order.validation_failed", h), 1);
        json_t *j = body_of(f, "order.validation_failed", h);
        json_t *fail = json_object_get(json_object_get(j, "order"), "failure");
        assert_string_equal(json_string_value(json_object_get(fail, "code")), v->failure_code);
        json_decref(j);
        order_rec_free(v);
        order_rec_free(o);
        /* a DV revocation whose proof never arrives: the revocation fails */
        struct cert_rec *c = public_cert(f, "proofless.example.org", "dv");
        struct revoke_out out;
        OK(t_revoke(f, c->id, REASON_SUPERSEDED, NULL, &out, &ei_));
        sql_exec(f, "UPDATE orders SET deadline = 1 WHERE id = %lld", (long long)out.proof_order);
        OK(service_order_validate(f->s, out.proof_order, &v, &ei_));
        assert_int_equal(v->status, ORDER_FAILED);
        order_rec_free(v);
        assert_int_equal(queued(f, "certificate.revocation_failed", h), 1);
        j = body_of(f, "certificate.revocation_failed", h);
        assert_int_equal(json_id(j, "certificate"), c->id);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "certificate"), "status")),
            "issued");
        json_decref(j);
        cert_rec_free(c);
}

static void test_email_rows(void **state)
{
        struct fx *f = *state;
        struct tenant_rec t;
        const char *to[] = {"ops@example.com", "pki@example.com"};
        OK(service_contacts_set(f->s, NULL, to, 2, &t, &ei_));
        struct cert_rec *c = NULL;
        /* no mail server: no email */
        OK(t_apply(f, "mail.example.com", PROFILE_PRIVATE, NULL, &c, &ei_));
        cert_rec_free(c);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries"), 0);
        free(f->cfg.smtp_url);
        f->cfg.smtp_url = strdup("smtp://127.0.0.1:9");
        OK(t_apply(f, "mail2.example.com", PROFILE_PRIVATE, NULL, &c, &ei_));
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM deliveries WHERE channel = 'email' AND "
                                 "recipients = 'ops@example.com,pki@example.com' AND event = "
                                 "'certificate.issued' AND object_id = %lld AND subject LIKE "
                                 "'%%mail2.example.com%%'",
                                 (long long)c->id),
                         1);
        assert_int_equal(
            sql_int(f, "SELECT instr(body, '%s') > 0 FROM deliveries WHERE channel = 'email'",
                    c->serial),
            1);
        cert_rec_free(c);
        /* another tenant's certificate does not mail these contacts */
        int64_t b = tenant_b(f);
        struct principal saved = as_user(f, b, "team-b");
        OK(t_apply(f, "other.example.com", PROFILE_PRIVATE, NULL, &c, &ei_));
        service_set_principal(f->s, &saved);
        cert_rec_free(c);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries"), 1);
}

/* ---- expiry warnings ---- */

static int64_t cert_for_days(struct fx *f, const char *name, long days)
{
        const char *names[] = {name};
        struct apply_req r = {.names = names,
                              .nnames = 1,
                              .key_alg = "ec256",
                              .profile = PROFILE_PRIVATE,
                              .days = days};
        struct cert_rec *c = NULL;
        OK(service_cert_apply(f->s, &r, &c, &ei_));
        int64_t id = c->id;
        cert_rec_free(c);
        return id;
}

static long long warned(struct fx *f, int64_t cert, int days)
{
        return sql_int(f,
                       "SELECT count(*) FROM expiry_warnings WHERE certificate_id = %lld AND days "
                       "= %d",
                       (long long)cert, days);
}

static void test_expiry_scan(void **state)
{
        struct fx *f = *state;
        int64_t h = hook(f, "http://127.0.0.1:9/a");
        int64_t c5 = cert_for_days(f, "five.example.com", 5);
        int64_t c20 = cert_for_days(f, "twenty.example.com", 20);
        int64_t c40 = cert_for_days(f, "forty.example.com", 40);
        int64_t gone = cert_for_days(f, "revoked.example.com", 3);
        struct revoke_out out;
        OK(t_revoke(f, gone, REASON_SUPERSEDED, NULL, &out, &ei_));
        free(out.revoked);
        qtime_t now = qtime_now();
        int sent = -1;
        OK(service_expiry_scan(f->s, now, &sent, &ei_));
        /* only the smallest threshold crossed: 7 days for the 5-day one */
        assert_int_equal(sent, 2);
        assert_int_equal(warned(f, c5, 7), 1);
        assert_int_equal(warned(f, c5, 30), 0);
        assert_int_equal(warned(f, c20, 30), 1);
        assert_int_equal(warned(f, c40, 30), 0);
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM expiry_warnings WHERE certificate_id = "
                                 "%lld",
                                 (long long)gone),
                         0);
        assert_int_equal(queued(f, "certificate.expiring", h), 2);
        json_t *j = body_of(f, "certificate.expiring", h);
        assert_int_equal(json_integer_value(json_object_get(j, "threshold_days")), 7);
        assert_int_equal(json_id(j, "certificate"), c5);
        json_decref(j);
        /* once: scanning again finds nothing new */
        OK(service_expiry_scan(f->s, now, &sent, &ei_));
        assert_int_equal(sent, 0);
        OK(service_expiry_scan(f->s, now + 60, &sent, &ei_));
        assert_int_equal(sent, 0);
        /* four days on: the 5-day certificate crosses 1 day */
        OK(service_expiry_scan(f->s, now + 4 * QTIME_DAY + 3600, &sent, &ei_));
        assert_int_equal(sent, 1);
        assert_int_equal(warned(f, c5, 1), 1);
        /* fourteen days on: 20 -> 7-day warning, 40 -> 30-day warning */
        OK(service_expiry_scan(f->s, now + 14 * QTIME_DAY, &sent, &ei_));
        assert_int_equal(sent, 2);
        assert_int_equal(warned(f, c20, 7), 1);
        assert_int_equal(warned(f, c40, 30), 1);
        OK(service_expiry_scan(f->s, now + 14 * QTIME_DAY, &sent, &ei_));
        assert_int_equal(sent, 0);
        /* a clock set back re-reads nothing */
        OK(service_expiry_scan(f->s, now, &sent, &ei_));
        assert_int_equal(sent, 0);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM expiry_warnings"), 5);
        assert_int_equal(queued(f, "certificate.expiring", h), 5);
        /* issued after the scans, already inside the 30-day window: it gets
         * no 30-day warning (it never crossed it), but the 7-day one when
         * it crosses that */
        int64_t c25 = cert_for_days(f, "late.example.com", 25);
        OK(service_expiry_scan(f->s, now + 14 * QTIME_DAY + 60, &sent, &ei_));
        assert_int_equal(sent, 0);
        OK(service_expiry_scan(f->s, now + 19 * QTIME_DAY, &sent, &ei_));
        assert_int_equal(warned(f, c25, 30), 0);
        assert_int_equal(warned(f, c25, 7), 1);
}

int main(int argc, char **argv)
{
        FIXTURE_SIGNER_MAIN(argc, argv);
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        const struct CMUnitTest tests[] = {
            T(test_webhook_rules),
            T(test_webhooks_of_another_tenant),
            T(test_contacts),
            T(test_certificate_events),
            T(test_order_and_review_events),
            T(test_validation_failed),
            T(test_email_rows),
            T(test_expiry_scan),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
