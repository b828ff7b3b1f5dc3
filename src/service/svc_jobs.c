/*
 * svc_jobs.c - the asynchronous work of an order, one step at a time.
 *
 * A "validate" job checks each name that is still pending: its domain
 * control record (DNS TXT or file) and its CAA; then the order goes to
 * review (risk words, organisation) or to issuing. An "issue" job checks CAA
 * again when more than 8 hours passed since (BR 3.2.2.8) and issues.
 * Network I/O happens outside transactions; each state change is written
 * with its event in one transaction. Work that cannot finish yet is retried
 * with backoff until the order's deadline; final failures (a wrong value, a
 * forbidden CAA, a forbidden redirect) fail the order at once with their
 * code: a failed order is never silently retried (RULES.md §2).
 *
 * Called by workers (svc_workers.c) and by `quill order validate`, with the
 * caller's service handle and resolver (one thread).
 */
#include "svc_issue_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "../base/netaddr.h"
#include "../base/log.h"
#include "../base/metrics.h"
#include "../base/testhook.h"
#include "../dns/dns.h"
#include "../policy/policy.h"
#include "../validate/validate.h"

#define CAA_RECHECK_AFTER (8 * 3600)
#define ORG_APPROVAL_DAYS 398 /* BR 4.2.1: reuse of organisation data */
#define RETRY_FIRST 5
#define RETRY_MAX 300

enum step { STEP_DONE, STEP_RETRY, STEP_ISSUE };

static void set_failure(struct order_name_rec *n, enum qerr code, const char *msg);

static const char *caa_method(const char *method)
{
        return strcmp(method, "file") == 0 ? "http-01" : "dns-01";
}

/* CAA for one name; fills the name's caa_status/detail/checked_at. Returns
 * the decision outcome. */
static enum caa_outcome check_caa(struct service *s, struct dns_resolver *dns,
                                  struct order_name_rec *n)
{
        char ids[16][CAA_MAX_NAME];
        const char *idp[16];
        size_t nid = svc_caa_identities(s->cfg, ids, 16);
        for (size_t i = 0; i < nid; i++)
                idp[i] = ids[i];
        struct caa_request req = {.name = n->name,
                                  .identities = idp,
                                  .nidentities = nid,
                                  .account_uri = NULL,
                                  .method = caa_method(n->method),
                                  .climb_past_inapplicable = s->cfg->caa_climb_past_inapplicable};
        struct caa_decision d;
        struct qerr_info ei;
        memset(&d, 0, sizeof d);
        if (caa_check(dns, &req, &d, &ei) != QERR_OK) {
                d.outcome = CAA_LOOKUP_ERROR;
                snprintf(d.reason, sizeof d.reason, "%s", qerr_message(&ei));
        }
        snprintf(n->caa_status, sizeof n->caa_status, "%s",
                 d.outcome == CAA_ALLOWED  ? "allowed"
                 : d.outcome == CAA_DENIED ? "forbidden"
                                           : "error");
        metrics_count("quill_caa_checks_total", "CAA checks of one name, by outcome.", 1, "result",
                      n->caa_status, NULL);
        free(n->caa_detail);
        if (asprintf(&n->caa_detail, "%s%s%s%s%s", d.where[0] ? "at " : "", d.where,
                     d.records[0] ? ": " : "", d.records, "") < 0)
                n->caa_detail = NULL;
        if (n->caa_detail && d.reason[0]) {
                char *full = NULL;
                if (asprintf(&full, "%s%s%s", n->caa_detail, n->caa_detail[0] ? " - " : "",
                             d.reason) >= 0) {
                        free(n->caa_detail);
                        n->caa_detail = full;
                }
        }
        n->caa_checked_at = qtime_now();
        /* the name's failure says what stands in the way: a validation
         * failure first, else the CAA one */
        bool control_ok = !strcmp(n->validation_status, "valid");
        if (d.outcome == CAA_DENIED)
                set_failure(n, QERR_CAA_FORBIDDEN, n->caa_detail);
        else if (d.outcome == CAA_LOOKUP_ERROR && (control_ok || !n->failure_code[0]))
                set_failure(n, QERR_DNS_ERROR, n->caa_detail);
        else if (d.outcome == CAA_ALLOWED && control_ok)
                set_failure(n, QERR_OK, NULL);
        return d.outcome;
}

static void set_failure(struct order_name_rec *n, enum qerr code, const char *msg)
{
        snprintf(n->failure_code, sizeof n->failure_code, "%s", code ? qerr_code(code) : "");
        free(n->failure_message);
        n->failure_message = code ? strdup(msg && *msg ? msg : qerr_default_msg(code)) : NULL;
}

/* Domain control for one pending name. Returns true when the failure is
 * final. */
static bool check_control(struct service *s, struct dns_resolver *dns, struct order_name_rec *n)
{
        /* the test-only list was checked when the configuration was read */
        struct netaddr_list allow;
        struct validate_cfg vc;
        validate_cfg_from_config(s->cfg, dns, &allow, &vc);
        struct validate_result r;
        memset(&r, 0, sizeof r);
        if (qtime_now() > n->value_expires) {
                set_failure(n, QERR_VALIDATION_TIMEOUT,
                            "the validation value expired; apply again for a new one");
                snprintf(n->validation_status, sizeof n->validation_status, "invalid");
                return true;
        }
        if (strcmp(n->method, "file") == 0)
                validate_file(&vc, n->name, n->token, n->value, &r);
        else
                validate_dns(&vc, n->name, n->value, &r);
        metrics_count("quill_validations_total",
                      "Domain-control checks of one name, by method and result.", 1, "method",
                      n->method, "result", r.code == QERR_OK ? "valid" : qerr_code(r.code), NULL);
        if (r.code == QERR_OK) {
                snprintf(n->validation_status, sizeof n->validation_status, "valid");
                n->validated_at = qtime_now();
                set_failure(n, QERR_OK, NULL);
                return false;
        }
        set_failure(n, r.code, r.msg);
        /* A wrong value is shown at once but not final: the record of an
         * earlier order is often still there when a new order is made (the
         * first check runs seconds later), and resolvers cache the old value
         * after it was changed. At the deadline the order fails with
         * validation_mismatch and what was seen. */
        if (r.code == QERR_VALIDATION_MISMATCH)
                r.final = false;
        if (r.final)
                snprintf(n->validation_status, sizeof n->validation_status, "invalid");
        return r.final;
}

/* The words of [risk] words_file, lower-cased (caller frees). -1 when the
 * file cannot be read. */
static long load_words(const struct qconfig *cfg, char ***out)
{
        *out = NULL;
        if (!cfg->risk_words_file || !*cfg->risk_words_file)
                return 0;
        struct qbuf b;
        struct qerr_info ei;
        qbuf_init(&b, 1u << 20);
        if (fs_read_file(cfg->risk_words_file, &b, &ei) != QERR_OK || !b.data) {
                qlog_error("risk words file unreadable", "file=%s", cfg->risk_words_file);
                qbuf_free(&b);
                return -1;
        }
        long n = 0;
        char *save = NULL;
        for (char *line = strtok_r((char *)b.data, "\r\n", &save); line;
             line = strtok_r(NULL, "\r\n", &save)) {
                while (isspace((unsigned char)*line))
                        line++;
                size_t len = strlen(line);
                while (len && isspace((unsigned char)line[len - 1]))
                        line[--len] = 0;
                if (!len || line[0] == '#')
                        continue;
                for (char *p = line; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
                char **v = realloc(*out, (size_t)(n + 1) * sizeof *v);
                if (!v)
                        break;
                *out = v;
                if ((v[n] = strdup(line)))
                        n++;
        }
        qbuf_free(&b);
        return n;
}

static void free_words(char **w, long n)
{
        for (long i = 0; i < n; i++)
                free(w[i]);
        free(w);
}

/* Review state of an order for one kind: 0 none, 1 pending, 2 approved,
 * 3 rejected. */
static int review_state(struct service *s, int64_t order_id, const char *kind)
{
        struct review_rec *v = NULL;
        size_t n = 0;
        struct qerr_info ei;
        int state = 0;
        if (ST(s)->ops->review_for_order(ST(s), order_id, &v, &n, &ei) != QERR_OK)
                return 1; /* unknown: behave as waiting */
        for (size_t i = 0; i < n; i++) {
                if (strcmp(v[i].kind, kind) != 0)
                        continue;
                int st = !strcmp(v[i].status, "approved")   ? 2
                         : !strcmp(v[i].status, "rejected") ? 3
                                                            : 1;
                if (st > state || st == 1)
                        state = st;
        }
        store_free_reviews(v, n);
        return state;
}

static enum qerr to_issuing(struct service *s, struct order_rec *o, enum step *next,
                            const char *why, struct qerr_info *ei)
{
        const char *from = order_status_name(o->status);
        o->status = ORDER_ISSUING;
        o->updated_at = qtime_now();
        enum qerr rc = ST(s)->ops->order_update(ST(s), o, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, o->tenant_id, "order", o->id, from, "issuing", "%s", why);
        if (rc == QERR_OK)
                rc = ST(s)->ops->job_insert(ST(s), "issue", o->id, qtime_now(), ei);
        *next = STEP_ISSUE;
        return rc;
}

/* A DV revocation whose proof of control arrived: revoke (with its reissues)
 * and queue their CRLs, in the caller's transaction. */
static enum qerr complete_revocation(struct service *s, struct order_rec *o, struct qerr_info *ei)
{
        int64_t rev = 0, cert_id = 0;
        int reason = 0;
        struct cert_rec *c = NULL;
        enum qerr rc = ST(s)->ops->revocation_by_order(ST(s), o->id, &rev, &cert_id, &reason, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_get(ST(s), o->tenant_id, cert_id, &c, ei);
        if (rc == QERR_OK)
                rc = svc_revoke_tree(s, c, reason, rev, NULL, NULL, ei);
        if (rc == QERR_OK)
                rc = svc_order_finish(s, o, ORDER_ISSUED, QERR_OK,
                                      "control proved: the certificate is revoked", ei);
        cert_rec_free(c);
        return rc;
}

/* After every name passed: review gates, then issuing (in a transaction). */
static enum qerr gate(struct service *s, struct order_rec *o, enum step *next, struct qerr_info *ei)
{
        char why[600] = "";
        char **words = NULL;
        long nw = load_words(s->cfg, &words);
        bool risky = nw < 0; /* fail safe: without the list, a person looks */
        if (risky)
                snprintf(why, sizeof why, "the risk word list %s could not be read",
                         s->cfg->risk_words_file);
        for (size_t i = 0; i < o->nnames && !risky; i++)
                risky = policy_risk_match(o->names[i].name, (const char *const *)words, (size_t)nw,
                                          why, sizeof why);
        free_words(words, nw);
        bool needs_org = false;
        if (o->profile == PROFILE_OV || o->profile == PROFILE_EV) {
                bool approved = false;
                /* an approval is the reviewed tenant's, and lasts 398 days (the
                 * BR's reuse period for organisation data) */
                enum qerr rc = ST(s)->ops->org_is_approved(
                    ST(s), o->tenant_id, o->org_hash, qtime_now() - ORG_APPROVAL_DAYS * QTIME_DAY,
                    &approved, ei);
                if (rc != QERR_OK)
                        return rc;
                needs_org = !approved;
        }
        const char *kind = NULL;
        int rs = risky ? review_state(s, o->id, "risk") : 2;
        int os = needs_org ? review_state(s, o->id, "organization") : 2;
        if (rs == 3 || os == 3) {
                *next = STEP_DONE; /* the rejection already failed the order */
                return QERR_OK;
        }
        if (rs == 0)
                kind = "risk";
        else if (os == 0 && rs == 2)
                kind = "organization";
        const char *from = order_status_name(o->status);
        if (kind) {
                struct review_rec r = {
                    .order_id = o->id, .created_at = qtime_now(), .tenant_id = o->tenant_id};
                snprintf(r.requested_by, sizeof r.requested_by, "%s", o->created_by);
                snprintf(r.kind, sizeof r.kind, "%s", kind);
                if (!strcmp(kind, "organization"))
                        r.detail = o->org_info;
                else
                        r.detail = why;
                enum qerr rc = ST(s)->ops->review_insert(ST(s), &r, ei);
                o->status = ORDER_MANUAL_REVIEW;
                o->updated_at = qtime_now();
                if (rc == QERR_OK)
                        rc = ST(s)->ops->order_update(ST(s), o, ei);
                if (rc == QERR_OK)
                        rc = svc_event(s, o->tenant_id, "order", o->id, from, "manual_review",
                                       "%s review %lld: %s", kind, (long long)r.id,
                                       strcmp(kind, "risk") ? "organisation details" : why);
                *next = STEP_DONE;
                return rc;
        }
        if (rs == 1 || os == 1) {
                *next = STEP_DONE; /* waiting for a reviewer; approval queues a new job */
                return QERR_OK;
        }
        (void)from;
        return to_issuing(s, o, next, "every name validated", ei);
}

enum qerr svc_order_gate(struct service *s, struct order_rec *o, struct qerr_info *ei)
{
        enum step next = STEP_DONE;
        return gate(s, o, &next, ei);
}

/* The first name whose failure decides the order's code at the deadline. */
static const struct order_name_rec *first_failed(const struct order_rec *o)
{
        for (size_t i = 0; i < o->nnames; i++)
                if (strcmp(o->names[i].validation_status, "valid") != 0 ||
                    strcmp(o->names[i].caa_status, "allowed") != 0)
                        return &o->names[i];
        return NULL;
}

/* Inside a transaction: is the order still in `want`? (Another process may
 * have moved it on, or the applicant cancelled it, while we were out on the
 * network.) */
static bool still(struct service *s, int64_t id, enum order_status want)
{
        struct order_rec *fresh = NULL;
        struct qerr_info ei;
        bool same =
            ST(s)->ops->order_get(ST(s), 0, id, &fresh, &ei) == QERR_OK && fresh->status == want;
        order_rec_free(fresh);
        return same;
}

static enum qerr step_validate(struct service *s, struct dns_resolver *dns, int64_t order_id,
                               enum step *next, struct qerr_info *ei)
{
        struct order_rec *o = NULL;
        enum qerr rc = ST(s)->ops->order_get(ST(s), 0, order_id, &o, ei);
        if (rc != QERR_OK)
                return rc;
        *next = STEP_DONE;
        bool active = o->status == ORDER_PENDING_VALIDATION || o->status == ORDER_VALIDATING;
        if (!active && o->status != ORDER_MANUAL_REVIEW) {
                order_rec_free(o);
                return QERR_OK; /* finished or issuing: nothing to validate */
        }
        /* network checks, outside any transaction; a revocation proof is
         * about control only: CAA governs issuance */
        const bool need_caa = strcmp(o->purpose, "revoke") != 0;
        enum qerr fail = QERR_OK;
        char failmsg[QERR_MSG_MAX] = "";
        bool all_done = true;
        bool fresh[QUILL_MAX_NAMES] = {false}; /* validated by this step: kept for reuse */
        for (size_t i = 0; active && i < o->nnames && fail == QERR_OK; i++) {
                struct order_name_rec *n = &o->names[i];
                bool pending = !strcmp(n->validation_status, "pending");
                if (pending && check_control(s, dns, n)) {
                        fail = qerr_from_code(n->failure_code);
                        snprintf(failmsg, sizeof failmsg, "%s: %s", n->name,
                                 n->failure_message ? n->failure_message : "");
                }
                if (pending && i < QUILL_MAX_NAMES)
                        fresh[i] = !strcmp(n->validation_status, "valid");
                if (fail == QERR_OK && need_caa && strcmp(n->caa_status, "allowed") &&
                    strcmp(n->caa_status, "forbidden")) {
                        enum caa_outcome c = check_caa(s, dns, n);
                        if (c == CAA_DENIED) {
                                fail = QERR_CAA_FORBIDDEN;
                                snprintf(failmsg, sizeof failmsg, "%s: %s", n->name,
                                         n->caa_detail ? n->caa_detail : "");
                        }
                }
                all_done = all_done && !strcmp(n->validation_status, "valid") &&
                           (!need_caa || !strcmp(n->caa_status, "allowed"));
        }
        if (!active)
                all_done = true;
        /* write the results and the transition, unless the order moved on
         * meanwhile (cancelled, or another process validated it) */
        QUILL_TEST_PAUSE("validate_checked");
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        if (!still(s, o->id, o->status)) {
                svc_abort(s, QERR_OK);
                *next = STEP_DONE;
                goto out;
        }
        for (size_t i = 0; rc == QERR_OK && active && i < o->nnames; i++) {
                rc = ST(s)->ops->order_name_update(ST(s), &o->names[i], ei);
                /* issue 7: a domain validation is kept, whatever becomes of
                 * the order (CAA, review): a later order may reuse it */
                if (rc == QERR_OK && i < QUILL_MAX_NAMES && fresh[i])
                        rc = svc_record_validation(s, o, &o->names[i], ei);
        }
        if (rc == QERR_OK && o->status == ORDER_PENDING_VALIDATION) {
                o->status = ORDER_VALIDATING;
                o->updated_at = qtime_now();
                rc = ST(s)->ops->order_update(ST(s), o, ei);
                if (rc == QERR_OK)
                        rc = svc_event(s, o->tenant_id, "order", o->id, "pending_validation",
                                       "validating", "validation started");
        }
        if (rc == QERR_OK && fail != QERR_OK && fail < QERR__COUNT) {
                rc = svc_order_finish(s, o, ORDER_FAILED, fail, failmsg, ei);
        } else if (rc == QERR_OK && all_done && !strcmp(o->purpose, "revoke")) {
                rc = complete_revocation(s, o, ei);
        } else if (rc == QERR_OK && all_done && !strcmp(o->purpose, "reissue")) {
                rc = to_issuing(s, o, next, "every name validated again", ei);
        } else if (rc == QERR_OK && all_done) {
                rc = gate(s, o, next, ei);
        } else if (rc == QERR_OK && qtime_now() >= o->deadline) {
                /* the deadline: the last transient failure of the first
                 * unfinished name says what went wrong */
                const struct order_name_rec *n = first_failed(o);
                enum qerr code = QERR_VALIDATION_TIMEOUT;
                if (n && n->failure_code[0])
                        code = qerr_from_code(n->failure_code);
                else if (n && !strcmp(n->caa_status, "error"))
                        code = QERR_DNS_ERROR;
                if (code >= QERR__COUNT)
                        code = QERR_VALIDATION_TIMEOUT;
                snprintf(failmsg, sizeof failmsg, "%s: not validated before the deadline%s%s",
                         n ? n->name : "?", n && n->failure_message ? "; last attempt: " : "",
                         n && n->failure_message ? n->failure_message
                         : n && n->caa_detail    ? n->caa_detail
                                                 : "");
                rc = svc_order_finish(s, o, ORDER_FAILED, code, failmsg, ei);
        } else if (rc == QERR_OK) {
                *next = STEP_RETRY;
        }
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
out:
        order_rec_free(o);
        return rc;
}

static enum qerr step_issue(struct service *s, struct dns_resolver *dns, int64_t order_id,
                            enum step *next, struct qerr_info *ei)
{
        struct order_rec *o = NULL;
        struct cert_rec *c = NULL;
        enum qerr rc = ST(s)->ops->order_get(ST(s), 0, order_id, &o, ei);
        if (rc != QERR_OK)
                return rc;
        *next = STEP_DONE;
        if (o->status != ORDER_ISSUING) {
                order_rec_free(o);
                return QERR_OK;
        }
        /* CAA again right before signing when the last check is old */
        enum qerr fail = QERR_OK;
        char failmsg[QERR_MSG_MAX] = "";
        bool lookup_error = false, rechecked = false;
        for (size_t i = 0; i < o->nnames && fail == QERR_OK; i++) {
                struct order_name_rec *n = &o->names[i];
                if (qtime_now() - n->caa_checked_at <= CAA_RECHECK_AFTER)
                        continue;
                struct netaddr ipa; /* an IP address (ACME, RFC 8738) has no CAA */
                if (netaddr_parse(n->name, &ipa))
                        continue;
                rechecked = true;
                enum caa_outcome out = check_caa(s, dns, n);
                if (out == CAA_DENIED) {
                        fail = QERR_CAA_FORBIDDEN;
                        snprintf(failmsg, sizeof failmsg, "%s: %s", n->name,
                                 n->caa_detail ? n->caa_detail : "");
                } else if (out == CAA_LOOKUP_ERROR) {
                        lookup_error = true;
                }
        }
        /* The order is read again under the write lock: a cancel or another
         * process that got here first wins. The signature itself happens
         * outside any transaction (two-phase issuance): its reservation, in
         * svc_issue_one, checks once more that the order is issuing and
         * allows one signature in flight per order, so an order gets
         * exactly one certificate. */
        QUILL_TEST_PAUSE("issue_begin");
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        if (!still(s, o->id, ORDER_ISSUING)) {
                svc_abort(s, QERR_OK);
                goto out;
        }
        /* issue 7, BR 4.2.1: the validations (fresh or reused) must still be
         * within the reuse period on the day of issuance */
        struct qerr_info stale;
        if (fail == QERR_OK && svc_validations_fresh(s, o, qtime_now(), &stale) != QERR_OK) {
                fail = stale.code;
                snprintf(failmsg, sizeof failmsg, "%s", qerr_message(&stale));
        }
        for (size_t i = 0; rc == QERR_OK && rechecked && i < o->nnames; i++)
                rc = ST(s)->ops->order_name_update(ST(s), &o->names[i], ei);
        if (rc == QERR_OK && fail != QERR_OK) {
                rc = svc_order_finish(s, o, ORDER_FAILED, fail, failmsg, ei);
        } else if (rc == QERR_OK && lookup_error && qtime_now() >= o->deadline) {
                rc = svc_order_finish(s, o, ORDER_FAILED, QERR_DNS_ERROR,
                                      "the CAA check before signing kept failing until the "
                                      "deadline",
                                      ei);
        } else if (rc == QERR_OK && lookup_error) {
                *next = STEP_RETRY;
        }
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        if (rc != QERR_OK || fail != QERR_OK || lookup_error)
                goto out;

        struct qerr_info why;
        qerr_clear(&why);
        enum qerr irc = svc_issue_order(s, o, &c, &why);
        if (irc == QERR_ORDER_STATE) {
                goto out; /* it moved on meanwhile: nothing was signed */
        } else if (irc == QERR_ISSUE_IN_PROGRESS) {
                /* another process signs for it, or one that died did: a
                 * reconciliation settles the latter; look again later */
                struct qerr_info e2;
                service_reconcile(s, NULL, &e2);
                *next = STEP_RETRY;
                goto out;
        } else if (irc == QERR_SIGNER_UNAVAILABLE || irc == QERR_BUSY || irc == QERR_IO ||
                   irc == QERR_DISK_FULL || irc == QERR_STORE || irc == QERR_SERIAL_TAKEN) {
                /* the service's trouble, not the order's */
                qlog_warn("issuance will be retried", "order=%lld code=%s", (long long)o->id,
                          qerr_code(irc));
                *next = STEP_RETRY;
                goto out;
        }
        /* phase two: store it, with the order, in one transaction */
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto stored;
        struct order_rec *fresh = NULL;
        rc = ST(s)->ops->order_get(ST(s), 0, o->id, &fresh, ei);
        bool wanted = rc == QERR_OK && fresh->status == ORDER_ISSUING && !fresh->certificate_id;
        order_rec_free(fresh);
        if (rc == QERR_OK && irc != QERR_OK) {
                if (wanted)
                        rc = svc_order_finish(s, o, ORDER_FAILED, irc, qerr_message(&why), ei);
        } else if (rc == QERR_OK && !wanted) {
                /* never expected (the reservation checked): stored, and
                 * revoked, so that nothing signed is unknown */
                rc = svc_store_revoked(s, c, REASON_SUPERSEDED, "issued",
                                       "signed for an order that moved on meanwhile", ei);
        } else if (rc == QERR_OK && !strcmp(o->purpose, "reissue")) {
                rc = svc_reissue_complete_tx(s, o->subject_id, c, ei);
                if (rc == QERR_OK) {
                        o->certificate_id = c->id;
                        free(o->key_blob);
                        o->key_blob = NULL;
                        o->key_blob_len = 0;
                        o->key_protection = KEYPROT_NONE;
                        rc = svc_order_finish(s, o, ORDER_ISSUED, QERR_OK,
                                              "reissued certificate issued", ei);
                }
        } else if (rc == QERR_OK) {
                char whytext[128];
                snprintf(whytext, sizeof whytext, "issued for order %lld", (long long)o->id);
                rc = svc_insert_cert(s, c, whytext, ei);
                /* issue 7: signed outside any transaction; its key may have
                 * been blocked meanwhile: then it is stored revoked */
                bool blocked = false;
                if (rc == QERR_OK)
                        rc = svc_key_recheck_tx(s, c, &blocked, ei);
                if (rc == QERR_OK) {
                        o->certificate_id = c->id;
                        /* the key now belongs to the certificate */
                        free(o->key_blob);
                        o->key_blob = NULL;
                        o->key_blob_len = 0;
                        o->key_protection = KEYPROT_NONE;
                        rc = blocked ? svc_order_finish(s, o, ORDER_FAILED, QERR_KEY_BLOCKED,
                                                        "the key was reported compromised while "
                                                        "the certificate was being signed; it was "
                                                        "revoked at once (keyCompromise)",
                                                        ei)
                                     : svc_order_finish(s, o, ORDER_ISSUED, QERR_OK,
                                                        "certificate issued", ei);
                }
        }
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
stored:
        if (rc != QERR_OK && c && rc != QERR_CERT_RECOVERED) {
                /* signed, not stored: reconciliation stores it from the
                 * journal (and the order with it); the job looks again */
                svc_issue_store_failed(s, c->serial, c->tenant_id);
                *next = STEP_RETRY;
        }
out:
        cert_rec_free(c);
        order_rec_free(o);
        return rc;
}

static qtime_t backoff(int attempts)
{
        qtime_t d = RETRY_FIRST;
        for (int i = 1; i < attempts && d < RETRY_MAX; i++)
                d *= 2;
        return d > RETRY_MAX ? RETRY_MAX : d;
}

enum qerr svc_run_job(struct service *s, struct dns_resolver *dns, const struct job_rec *j,
                      struct qerr_info *ei)
{
        enum step next = STEP_DONE;
        enum qerr rc;
        if (!strcmp(j->kind, "crl"))
                rc = svc_crl_job(s, j, ei);
        else if (!strcmp(j->kind, "issue"))
                rc = step_issue(s, dns, j->order_id, &next, ei);
        else if (!strcmp(j->kind, "validate"))
                rc = step_validate(s, dns, j->order_id, &next, ei);
        else /* a kind of a newer quill: left for it, with backoff */
                rc = qerr_set(ei, QERR_INTERNAL, "job kind %s is unknown to this quill", j->kind);
        struct qerr_info e2;
        if (rc != QERR_OK) {
                /* the step could not even be written: try again later */
                qlog_warn("job failed, retrying", "job=%lld kind=%s order=%lld ca=%lld code=%s",
                          (long long)j->id, j->kind, (long long)j->order_id, (long long)j->ca_id,
                          qerr_code(rc));
                ST(s)->ops->job_retry(ST(s), j->id, qtime_now() + backoff(j->attempts),
                                      qerr_code(rc), &e2);
                return rc;
        }
        if (next == STEP_RETRY)
                return ST(s)->ops->job_retry(ST(s), j->id, qtime_now() + backoff(j->attempts), NULL,
                                             ei);
        return ST(s)->ops->job_done(ST(s), j->id, ei);
}

enum qerr service_order_validate(struct service *s, int64_t id, struct order_rec **out,
                                 struct qerr_info *ei)
{
        struct dns_resolver *dns = NULL;
        struct order_rec *o = NULL;
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "validate orders", ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "order", id, ei);
        if (rc == QERR_OK)
                rc = svc_dns_new(s->cfg, NULL, &dns, ei);
        enum step next = STEP_DONE;
        if (rc == QERR_OK)
                rc = step_validate(s, dns, id, &next, ei);
        if (rc == QERR_OK && next == STEP_ISSUE)
                rc = step_issue(s, dns, id, &next, ei);
        dns_resolver_free(dns);
        if (rc == QERR_OK)
                rc = ST(s)->ops->order_get(ST(s), svc_scope(s), id, &o, ei);
        if (rc != QERR_OK)
                return rc;
        *out = o;
        return QERR_OK;
}
