/*
 * signer_ocsp.c - OCSP in the signer process (issue 6): delegated
 * responder certificates and batches of pre-signed responses.
 *
 * SMSG_CREATE_RESPONDER makes a responder key of the issuing CA's kind (the
 * same curve for EC and SM2, RSA 2048 under an RSA CA: thousands of
 * responses are signed per refresh), keeps it in this process's memory only
 * (never in a file: a new signer process makes new responders, and the
 * service notices), and has the issuing CA sign its certificate through the
 * lint gate (pki_issue_responder, role LINT_ROLE_OCSP_RESPONDER). What the
 * signer checks: the issuer is an issuing CA whose key it holds; notBefore
 * near now; a validity between MIN_RESPONDER_SPAN and MAX_RESPONDER_SPAN,
 * within the issuer's.
 *
 * SMSG_SIGN_OCSP signs one OCSPResponse per entry (pki_ocsp_sign, each
 * linted before it leaves). What the signer checks, whatever the main
 * process asks: the responder certificate was issued by the issuer (its
 * signature verifies), has id-kp-OCSPSigning, and its key is one this
 * process made; thisUpdate near now; nextUpdate - thisUpdate between 8
 * hours and 10 days (BR 4.9.10) and not past the responder's notAfter;
 * serials positive without a leading zero byte; revocation reasons allowed
 * by BR 7.2.2; revocation times not in the future. The signer cannot know
 * whether a certificate is really good: that fact is the service's, as the
 * names of a certificate are.
 *
 * Single-threaded (the signer process).
 */
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/qtime.h"
#include "../pki/pki_issue.h"
#include "../pki/pki_key.h"
#include "../pki/pki_ocsp.h"
#include "../pki/pki_pem.h"
#include "signer_internal.h"

#define MIN_RESPONDER_SPAN ((qtime_t)12 * 3600)
#define MAX_RESPONDER_SPAN (30 * QTIME_DAY)
#define MIN_OCSP_SPAN ((qtime_t)8 * 3600) /* BR 4.9.10 */
#define MAX_OCSP_SPAN (10 * QTIME_DAY)    /* BR 4.9.10 */

bool signer_is_responder_key(const struct signer_state *st, const char *id)
{
        for (size_t i = 0; i < st->nresponders; i++)
                if (strcmp(st->responders[i].id, id) == 0)
                        return true;
        return false;
}

static EVP_PKEY *responder_key(const struct signer_state *st, const char *id)
{
        for (size_t i = 0; i < st->nresponders; i++)
                if (strcmp(st->responders[i].id, id) == 0)
                        return st->responders[i].key;
        return NULL;
}

/* Keeps `k` (taking it); the oldest responder key goes when full. */
static void keep_responder(struct signer_state *st, EVP_PKEY *k, const char *id)
{
        if (st->nresponders == MAX_RESPONDER_KEYS) {
                EVP_PKEY_free(st->responders[0].key);
                memmove(st->responders, st->responders + 1,
                        (MAX_RESPONDER_KEYS - 1) * sizeof st->responders[0]);
                st->nresponders--;
        }
        snprintf(st->responders[st->nresponders].id, sizeof st->responders[0].id, "%s", id);
        st->responders[st->nresponders++].key = k;
}

static bool is_self_issued(X509 *x)
{
        return X509_check_issued(x, x) == X509_V_OK;
}

/* The issuing CA and its key; never a root (responders serve the
 * certificates of issuing CAs). */
static enum qerr load_issuing(struct signer_state *st, struct sbytes der, X509 **issuer,
                              EVP_PKEY **key, struct qerr_info *ei)
{
        enum qerr rc = signer_load_issuer(st, der, issuer, ei);
        if (rc != QERR_OK)
                return rc;
        if (is_self_issued(*issuer)) {
                X509_free(*issuer);
                *issuer = NULL;
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "OCSP responders answer for issuing CAs, not for a root");
        }
        rc = signer_issuer_key(st, *issuer, key, ei);
        if (rc != QERR_OK) {
                X509_free(*issuer);
                *issuer = NULL;
        }
        return rc;
}

/* The responder key of the issuer's kind. */
static enum qerr new_responder_key(EVP_PKEY *issuer_key, EVP_PKEY **out, struct qerr_info *ei)
{
        char kind[16];
        enum qerr rc = pki_key_describe(issuer_key, kind, ei);
        if (rc != QERR_OK)
                return rc;
        enum key_alg alg;
        if (!strncmp(kind, "rsa", 3))
                alg = KEYALG_RSA2048;
        else if (!key_alg_from_name(kind, &alg))
                return qerr_set(ei, QERR_KEY_UNSUPPORTED,
                                "no OCSP responder key for an issuing CA key of kind %s", kind);
        return pki_key_generate(alg, out, ei);
}

static enum qerr respond_der(X509 *x, const char *key_id, struct qbuf *out, struct qerr_info *ei)
{
        struct qbuf der;
        qbuf_init(&der, 64 * 1024);
        enum qerr rc = pki_cert_der(x, &der, ei);
        if (rc == QERR_OK) {
                struct signer_resp r = {.type = SMSG_OK};
                r.der.p = der.data;
                r.der.len = der.len;
                r.key_id = sbytes_str(key_id);
                if (!signer_encode_resp(&r, out))
                        rc = qerr_set(ei, QERR_INTERNAL, "response too large");
        }
        qbuf_free(&der);
        return rc;
}

enum qerr signer_create_responder(struct signer_state *st, const struct signer_req *r,
                                  struct qbuf *out, struct qerr_info *ei)
{
        X509 *issuer = NULL, *x = NULL;
        EVP_PKEY *ikey = NULL, *k = NULL;
        enum qerr rc = load_issuing(st, r->issuer_der, &issuer, &ikey, ei);
        if (rc != QERR_OK)
                return rc;
        qtime_t now = qtime_now();
        qtime_t issuer_end = (qtime_t)pki_time_to_unix(X509_get0_notAfter(issuer));
        if (r->not_before < now - MAX_BACKDATE || r->not_before > now + MAX_FORWARD ||
            r->not_after < r->not_before + MIN_RESPONDER_SPAN ||
            r->not_after > r->not_before + MAX_RESPONDER_SPAN || r->not_after > issuer_end) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                              "an OCSP responder certificate starts near now and lasts between "
                              "12 hours and 30 days, within its issuing CA's validity");
                goto out;
        }
        if ((rc = new_responder_key(ikey, &k, ei)) != QERR_OK)
                goto out;
        struct lint_cert_opts lo = {
            .profile = pki_key_is_sm2(ikey) ? PROFILE_PRIVATE : PROFILE_DV,
            .role = LINT_ROLE_OCSP_RESPONDER,
            .issuer_der = r->issuer_der.p,
            .issuer_len = r->issuer_der.len,
        };
        struct pki_lint_gate gate = {.cert = &lo};
        if ((rc = signer_gate_key(st, ikey, &gate.lint_key, ei)) != QERR_OK)
                goto out;
        struct responder_params rp = {
            .key = k, .not_before = r->not_before, .not_after = r->not_after, .lint = &gate};
        if ((rc = pki_issue_responder(issuer, ikey, &rp, &x, ei)) != QERR_OK)
                goto out;
        char id[65];
        if ((rc = pki_key_id(k, id, ei)) != QERR_OK)
                goto out;
        if ((rc = respond_der(x, id, out, ei)) != QERR_OK)
                goto out;
        char serial[64];
        pki_cert_serial_hex(x, serial, sizeof serial);
        keep_responder(st, k, id);
        k = NULL;
        qlog_info("OCSP responder created", "serial=%s key_id=%.16s not_after=%lld", serial, id,
                  (long long)r->not_after);
out:
        EVP_PKEY_free(k);
        X509_free(x);
        X509_free(issuer);
        return rc;
}

/* The responder certificate: issued by `issuer` (signature checked), for
 * OCSP signing, with a key this process made. */
static enum qerr load_responder(const struct signer_state *st, struct sbytes der, X509 *issuer,
                                X509 **out, EVP_PKEY **key, struct qerr_info *ei)
{
        const unsigned char *p = der.p;
        X509 *x = d2i_X509(NULL, &p, (long)der.len);
        enum qerr rc = QERR_OK;
        char id[65];
        if (x)
                pki_cert_set_sm2_id(x); /* an SM2 signature verifies with the ID it was made with */
        if (!x || p != der.p + der.len) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED, "the responder certificate does not parse");
        } else if (X509_check_issued(issuer, x) != X509_V_OK ||
                   X509_verify(x, X509_get0_pubkey(issuer)) != 1) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                              "the responder certificate was not issued by this issuing CA");
        } else if (!(X509_get_extended_key_usage(x) & XKU_OCSP_SIGN) ||
                   (X509_get_extension_flags(x) & EXFLAG_CA)) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                              "the responder certificate is not an OCSP signing certificate");
        } else if (pki_key_id(X509_get0_pubkey(x), id, ei) != QERR_OK ||
                   !(*key = responder_key(st, id))) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                              "this signer holds no key for that OCSP responder certificate (a "
                              "restarted signer makes new responders)");
        }
        ERR_clear_error();
        if (rc != QERR_OK) {
                X509_free(x);
                return rc;
        }
        *out = x;
        return QERR_OK;
}

static enum qerr check_times(const struct signer_req *r, X509 *responder, struct qerr_info *ei)
{
        qtime_t now = qtime_now();
        qtime_t rb = (qtime_t)pki_time_to_unix(X509_get0_notBefore(responder));
        qtime_t ra = (qtime_t)pki_time_to_unix(X509_get0_notAfter(responder));
        if (r->this_update < now - MAX_BACKDATE || r->this_update > now + MAX_FORWARD)
                return qerr_set(ei, QERR_SIGNER_REFUSED, "thisUpdate is too far from now");
        /* this_update is near now: the sums below cannot overflow */
        if (r->next_update < r->this_update + MIN_OCSP_SPAN ||
            r->next_update > r->this_update + MAX_OCSP_SPAN)
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "nextUpdate - thisUpdate must be between 8 hours and 10 days "
                                "(BR 4.9.10)");
        if (rb > now || ra < r->next_update)
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the responder certificate is not valid now or ends before "
                                "nextUpdate");
        return QERR_OK;
}

static enum qerr check_entry(const struct ocsp_entry_wire *e, qtime_t now, struct qerr_info *ei)
{
        if (e->serial.len == 0 || e->serial.len > 20 || (e->serial.p[0] & 0x80) ||
            e->serial.p[0] == 0)
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "an OCSP serial must be 1-20 bytes, positive, without a leading "
                                "zero byte");
        if (e->status == OCSP_WIRE_GOOD)
                return e->revoked_at == 0 && e->reason == 0
                           ? QERR_OK
                           : qerr_set(ei, QERR_SIGNER_REFUSED,
                                      "a good status carries no revocation");
        if (e->revoked_at <= 0 || e->revoked_at > now + MAX_FORWARD)
                return qerr_set(ei, QERR_SIGNER_REFUSED, "the revocation time is not plausible");
        return signer_check_reason(e->reason, ei);
}

enum qerr signer_sign_ocsp(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                           struct qerr_info *ei)
{
        X509 *issuer = NULL, *responder = NULL;
        EVP_PKEY *ikey = NULL, *rkey = NULL;
        struct qbuf ders;
        size_t offs[SIGNER_MAX_OCSP_ENTRIES + 1];
        qbuf_init(&ders, MAX_SIGNER_MSG_BYTES);
        if (r->nocsp == 0 || r->nocsp > SIGNER_MAX_OCSP_ENTRIES)
                return qerr_set(ei, QERR_SIGNER_REFUSED, "between 1 and %d OCSP entries",
                                SIGNER_MAX_OCSP_ENTRIES);
        enum qerr rc = load_issuing(st, r->issuer_der, &issuer, &ikey, ei);
        if (rc != QERR_OK)
                return rc;
        if ((rc = load_responder(st, r->responder_der, issuer, &responder, &rkey, ei)) != QERR_OK)
                goto out;
        if ((rc = check_times(r, responder, ei)) != QERR_OK)
                goto out;
        qtime_t now = qtime_now();
        for (size_t i = 0; i < r->nocsp; i++)
                if ((rc = check_entry(&r->ocsp[i], now, ei)) != QERR_OK)
                        goto out;
        bool sm2 = pki_key_is_sm2(rkey);
        for (size_t i = 0; i < r->nocsp; i++) {
                const struct ocsp_entry_wire *e = &r->ocsp[i];
                struct pki_ocsp_item it = {
                    .serial = e->serial.p,
                    .serial_len = e->serial.len,
                    .revoked = e->status == OCSP_WIRE_REVOKED,
                    .revoked_at = e->revoked_at,
                    .reason = (int)e->reason,
                };
                offs[i] = ders.len;
                rc = pki_ocsp_sign(issuer, responder, rkey, r->this_update, r->next_update, &it,
                                   sm2, &ders, ei);
                if (rc == QERR_INTERNAL && ders.len + SIGNER_MAX_OCSP_DER > ders.max)
                        rc = qerr_set(ei, QERR_INTERNAL,
                                      "the OCSP batch does not fit one message; send fewer "
                                      "entries");
                if (rc != QERR_OK)
                        goto out;
        }
        offs[r->nocsp] = ders.len;
        struct signer_resp resp = {.type = SMSG_OK, .nocsp = r->nocsp};
        for (size_t i = 0; i < r->nocsp; i++) {
                resp.ocsp[i].p = ders.data + offs[i];
                resp.ocsp[i].len = offs[i + 1] - offs[i];
        }
        if (!signer_encode_resp(&resp, out))
                rc = qerr_set(ei, QERR_INTERNAL,
                              "the OCSP batch does not fit one message; send fewer entries");
out:
        qbuf_free(&ders);
        X509_free(responder);
        X509_free(issuer);
        return rc;
}
