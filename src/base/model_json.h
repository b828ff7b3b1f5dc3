/*
 * model_json.h - records (model.h) as JSON objects (jansson), in the shapes
 * of the public contract: `quill ... --json`, the REST API /api/v1 and
 * webhook bodies all use these, so a certificate looks the same everywhere.
 *
 * Every function returns a new reference (the caller owns it; NULL only
 * when memory ran out). Strings that are not valid UTF-8 (a DN of an
 * uploaded certificate) have their odd bytes replaced by '?'. Any thread.
 */
#ifndef QUILL_MODEL_JSON_H
#define QUILL_MODEL_JSON_H

#include <jansson.h>

#include "model.h"

/* A JSON string of `s`; bytes that are not valid UTF-8 become '?'. */
json_t *json_of_text(const char *s);
/* RFC 3339 UTC ("2026-11-30T10:00:00Z") */
json_t *json_of_time(qtime_t t);
json_t *json_of_cert(const struct cert_rec *c, qtime_t now);
json_t *json_of_events(const struct event_rec *e, size_t n);
json_t *json_of_event(const struct event_rec *e);
json_t *json_of_ca(const struct ca_rec *c);
json_t *json_of_order(const struct order_rec *o, qtime_t now);
json_t *json_of_review(const struct review_rec *r);
json_t *json_of_tenant(const struct tenant_rec *t);
/* an API key as listed: never the secret */
json_t *json_of_apikey(const struct apikey_rec *k);
/* {"spki_sha256","blocked_at","source","reason"}: source is "manual",
 * "key_proof" or "revocation:<id>"; reason null when none (issue 7). */
json_t *json_of_blocked_key(const struct blocked_key_rec *k);
/* a webhook as listed: never its secret */
json_t *json_of_webhook(const struct webhook_rec *w);
/* a delivery of the log, with its attempts (never the body sent) */
json_t *json_of_delivery(const struct delivery_rec *d);

#endif
