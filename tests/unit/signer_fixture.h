/*
 * signer_fixture.h - what test_signer.c and test_signer_crl.c share: a root
 * and an issuing CA made once per run through the request handler (PBKDF2
 * at 600,000 iterations is slow under the sanitizers) and copied into each
 * test's temporary data directory, a handler state for it, and one-request
 * helpers (signer_handle runs in-process: no fork needed, it is the signer
 * process's loop body).
 *
 * Memory: the fixture owns what it opens (teardown frees it). One thread.
 */
#ifndef QUILL_TEST_SIGNER_FIXTURE_H
#define QUILL_TEST_SIGNER_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "base/qtime.h"
#include "pki/pki_key.h"
#include "signer/signer.h"
#include "signer/signer_internal.h"

#define PASS "unit-test-passphrase"

struct fixture {
        char dir[64];
        struct qconfig cfg;
        struct signer_state *st;
        struct qbuf root_der, issuing_der;
};

static inline int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(p);
}

/* Sends one request to the handler; returns the response code (QERR_OK for
 * SMSG_OK) and copies the DER, if any, into der. */
static inline enum qerr call(struct signer_state *st, const struct signer_req *r, struct qbuf *der,
                             char *msg, size_t msgsz)
{
        struct qbuf req, out;
        qbuf_init(&req, MAX_SIGNER_MSG_BYTES + 8);
        qbuf_init(&out, MAX_SIGNER_MSG_BYTES + 8);
        assert_true(signer_encode_req(r, &req));
        signer_handle(st, req.data + 4, req.len - 4, &out);
        struct signer_resp resp;
        struct qerr_info ei;
        assert_int_equal(signer_decode_resp(out.data + 4, out.len - 4, &resp, &ei), QERR_OK);
        enum qerr rc = QERR_OK;
        if (resp.type == SMSG_ERROR) {
                rc = (enum qerr)resp.code;
                if (msg)
                        sbytes_cstr(resp.message, msg, msgsz);
        } else if (der) {
                qbuf_reset(der);
                qbuf_append(der, resp.der.p, resp.der.len);
        }
        qbuf_free(&req);
        qbuf_free(&out);
        return rc;
}

/* A handler state for the fixture's directory with `pass` (NULL: none). */
static inline struct signer_state *state_with(const struct fixture *f, const char *pass,
                                              const char *note)
{
        struct signer_config c = {.data_dir = f->dir,
                                  .private_max_days = f->cfg.private_max_days,
                                  .public_max_days = f->cfg.public_max_days,
                                  .passphrase = pass,
                                  .note = note};
        struct signer_state *st = signer_state_new(&c);
        assert_non_null(st);
        return st;
}

/* One CA pair (made once per run: PBKDF2 at 600,000 iterations is slow
 * under the sanitizers), copied into each test's directory. */
static struct fixture tmpl;

static inline int group_setup(void **state)
{
        (void)state;
        snprintf(tmpl.dir, sizeof tmpl.dir, "/tmp/quill-signer-XXXXXX");
        assert_non_null(mkdtemp(tmpl.dir));
        config_defaults(&tmpl.cfg);
        struct signer_state *st = state_with(&tmpl, PASS, NULL);
        qbuf_init(&tmpl.root_der, 65536);
        qbuf_init(&tmpl.issuing_der, 65536);
        struct signer_req r = {.type = SMSG_CREATE_ROOT};
        r.key_alg = sbytes_str("ec384");
        r.subject = sbytes_str("CN=Unit Root");
        assert_int_equal(call(st, &r, &tmpl.root_der, NULL, 0), QERR_OK);
        struct signer_req i = {.type = SMSG_CREATE_ISSUING};
        i.key_alg = sbytes_str("ec256");
        i.subject = sbytes_str("CN=Unit Issuing");
        i.issuer_der.p = tmpl.root_der.data;
        i.issuer_der.len = tmpl.root_der.len;
        i.crl_url = sbytes_str("http://127.0.0.1:1/crl/1.crl");
        i.ca_issuers_url = sbytes_str("http://127.0.0.1:1/ca/1.der");
        assert_int_equal(call(st, &i, &tmpl.issuing_der, NULL, 0), QERR_OK);
        signer_state_free(st);
        return 0;
}

static inline int group_teardown(void **state)
{
        (void)state;
        config_free(&tmpl.cfg);
        qbuf_free(&tmpl.root_der);
        qbuf_free(&tmpl.issuing_der);
        nftw(tmpl.dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

static inline int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof *f);
        snprintf(f->dir, sizeof f->dir, "/tmp/quill-signer-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        char cmd[256];
        snprintf(cmd, sizeof cmd, "cp -a %s/ca %s/", tmpl.dir, f->dir);
        assert_int_equal(system(cmd), 0);
        config_defaults(&f->cfg);
        f->st = state_with(f, PASS, NULL);
        qbuf_init(&f->root_der, 65536);
        qbuf_init(&f->issuing_der, 65536);
        assert_true(qbuf_append(&f->root_der, tmpl.root_der.data, tmpl.root_der.len));
        assert_true(qbuf_append(&f->issuing_der, tmpl.issuing_der.data, tmpl.issuing_der.len));
        *state = f;
        return 0;
}

static inline int teardown(void **state)
{
        struct fixture *f = *state;
        signer_state_free(f->st);
        config_free(&f->cfg);
        qbuf_free(&f->root_der);
        qbuf_free(&f->issuing_der);
        nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

static inline void call_resp(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                             struct signer_resp *resp)
{
        struct qbuf req;
        qbuf_init(&req, MAX_SIGNER_MSG_BYTES + 8);
        assert_true(signer_encode_req(r, &req));
        qbuf_reset(out);
        signer_handle(st, req.data + 4, req.len - 4, out);
        struct qerr_info ei;
        assert_int_equal(signer_decode_resp(out->data + 4, out->len - 4, resp, &ei), QERR_OK);
        qbuf_free(&req);
}

static inline void issuing_key_id(const struct fixture *f, char id[65])
{
        const unsigned char *p = f->issuing_der.data;
        X509 *x = d2i_X509(NULL, &p, (long)f->issuing_der.len);
        assert_non_null(x);
        struct qerr_info ei;
        assert_int_equal(pki_key_id(X509_get0_pubkey(x), id, &ei), QERR_OK);
        X509_free(x);
}

static inline int64_t read_mark_file(const struct fixture *f)
{
        char id[65], path[512];
        issuing_key_id(f, id);
        snprintf(path, sizeof path, "%s/ca/%s.crlnumber", f->dir, id);
        FILE *fp = fopen(path, "r");
        assert_non_null(fp);
        long long v = -1;
        assert_int_equal(fscanf(fp, "%lld", &v), 1);
        fclose(fp);
        return (int64_t)v;
}

#endif
