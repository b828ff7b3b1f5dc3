/*
 * test_journal.c - the signer's journal (two-phase issuance, issue 7): the
 * record format (round trips, CRC-32C, a torn last record at every length,
 * a damaged checksum, bad fields, file names) and the signer's journal in
 * its request handler, run in-process against a temporary key directory:
 * every certificate signed is journaled before the answer, READ hands the
 * records back page by page with where each file ends, a torn tail is
 * ignored, TRIM deletes only files nobody writes and whose records were
 * all acknowledged, and a failed journal write means no certificate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/config.h"
#include "base/qtime.h"
#include "pki/pki_key.h"
#include "signer/journal.h"
#include "signer/signer.h"
#include "signer/signer_internal.h"

#define PASS "unit-test-passphrase"

/* ---- the format ---- */

static const char KEY_ID[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void rec_of(struct journal_rec *r, uint64_t seq, const uint8_t *serial, size_t sl,
                   const uint8_t *der, size_t dl)
{
        memset(r, 0, sizeof *r);
        r->seq = seq;
        r->signed_at = 1780000000 + (int64_t)seq;
        r->serial = serial;
        r->serial_len = sl;
        snprintf(r->key_id, sizeof r->key_id, "%s", KEY_ID);
        r->der = der;
        r->der_len = dl;
}

/* A file image: header, then `n` records with DER bytes of growing size. */
static void build_file(struct qbuf *b, size_t n, size_t *ends)
{
        assert_true(qbuf_append(b, JOURNAL_HEADER, JOURNAL_HEADER_LEN));
        for (size_t i = 0; i < n; i++) {
                uint8_t serial[16], der[300];
                memset(serial, (int)(0x40 + i), sizeof serial);
                memset(der, (int)i, sizeof der);
                struct journal_rec r;
                rec_of(&r, i + 1, serial, sizeof serial, der, 100 + i * 10);
                assert_true(journal_encode_record(&r, b));
                if (ends)
                        ends[i] = b->len;
        }
}

static void count_cb(const struct journal_rec *r, size_t off, void *ctx)
{
        (void)off;
        size_t *n = ctx;
        assert_int_equal(r->seq, *n + 1);
        assert_int_equal(r->der_len, 100 + *n * 10);
        assert_string_equal(r->key_id, KEY_ID);
        (*n)++;
}

static void test_crc32c_known_values(void **state)
{
        (void)state;
        /* the check value of CRC-32C (RFC 3720 B.4, iSCSI) */
        assert_int_equal(journal_crc32c(0, (const uint8_t *)"123456789", 9), 0xE3069283u);
        uint8_t zeros[32] = {0};
        assert_int_equal(journal_crc32c(0, zeros, 32), 0x8A9136AAu);
        /* incremental equals one pass */
        uint32_t a = journal_crc32c(0, (const uint8_t *)"1234", 4);
        assert_int_equal(journal_crc32c(a, (const uint8_t *)"56789", 5), 0xE3069283u);
}

static void test_record_round_trip(void **state)
{
        (void)state;
        struct qbuf b;
        qbuf_init(&b, 1 << 20);
        uint8_t serial[20], der[JOURNAL_MAX_DER];
        for (size_t i = 0; i < sizeof der; i++)
                der[i] = (uint8_t)(i * 7);
        memset(serial, 0x41, sizeof serial);
        static const size_t sizes[] = {1, 2, 500, JOURNAL_MAX_DER};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
                qbuf_reset(&b);
                struct journal_rec r, back;
                rec_of(&r, 7 + k, serial, 1 + k * 6, der, sizes[k]);
                assert_true(journal_encode_record(&r, &b));
                size_t used = 0;
                assert_int_equal(journal_parse_record(b.data, b.len, &back, &used), JP_OK);
                assert_int_equal(used, b.len);
                assert_int_equal(journal_record_len(b.data), b.len);
                assert_int_equal(back.seq, r.seq);
                assert_int_equal(back.signed_at, r.signed_at);
                assert_int_equal(back.serial_len, r.serial_len);
                assert_memory_equal(back.serial, serial, r.serial_len);
                assert_string_equal(back.key_id, KEY_ID);
                assert_int_equal(back.der_len, sizes[k]);
                assert_memory_equal(back.der, der, sizes[k]);
        }
        /* out of range: nothing appended */
        struct journal_rec bad;
        size_t before = b.len;
        rec_of(&bad, 1, serial, 0, der, 10);
        assert_false(journal_encode_record(&bad, &b));
        rec_of(&bad, 1, serial, 21, der, 10);
        assert_false(journal_encode_record(&bad, &b));
        rec_of(&bad, 1, serial, 16, der, JOURNAL_MAX_DER + 1);
        assert_false(journal_encode_record(&bad, &b));
        rec_of(&bad, 1, serial, 16, der, 0);
        assert_false(journal_encode_record(&bad, &b));
        rec_of(&bad, 1, serial, 16, der, 10);
        snprintf(bad.key_id, sizeof bad.key_id, "%s", "ABCDEF");
        assert_false(journal_encode_record(&bad, &b));
        assert_int_equal(b.len, before);
        qbuf_free(&b);
}

/* A crash while appending leaves a prefix of the last record: at every
 * length the earlier records are read, the torn one is ignored. */
static void test_torn_last_record_ignored(void **state)
{
        (void)state;
        struct qbuf b;
        qbuf_init(&b, 1 << 16);
        size_t ends[3];
        build_file(&b, 3, ends);
        for (size_t cut = ends[1]; cut < ends[2]; cut++) {
                struct journal_scan sc;
                size_t n = 0;
                journal_scan_buf(b.data, cut, count_cb, &n, &sc);
                assert_true(sc.header_ok);
                assert_int_equal(n, 2);
                assert_int_equal(sc.records, 2);
                assert_int_equal(sc.good_end, ends[1]);
                assert_int_equal(sc.torn, cut > ends[1]);
                struct journal_rec r;
                size_t used;
                if (cut > ends[1])
                        assert_int_equal(
                            journal_parse_record(b.data + ends[1], cut - ends[1], &r, &used),
                            cut - ends[1] < JOURNAL_REC_HEAD ||
                                    journal_record_len(b.data + ends[1]) != 0
                                ? JP_SHORT
                                : JP_BAD);
        }
        struct journal_scan sc;
        size_t n = 0;
        journal_scan_buf(b.data, b.len, count_cb, &n, &sc);
        assert_int_equal(n, 3);
        assert_false(sc.torn);
        assert_int_equal(sc.good_end, b.len);
        /* zeros after the last record (a file system that extended the file
         * but never wrote it) are a torn tail too */
        uint8_t zeros[64] = {0};
        assert_true(qbuf_append(&b, zeros, sizeof zeros));
        n = 0;
        journal_scan_buf(b.data, b.len, count_cb, &n, &sc);
        assert_int_equal(n, 3);
        assert_true(sc.torn);
        assert_int_equal(sc.good_end, ends[2]);
        qbuf_free(&b);
}

/* Every record carries its checksum: one flipped bit anywhere in a record
 * (its length, checksum or payload) stops the reader there. */
static void test_checksum_per_record(void **state)
{
        (void)state;
        struct qbuf b;
        qbuf_init(&b, 1 << 16);
        size_t ends[3];
        build_file(&b, 3, ends);
        for (size_t at = ends[0]; at < ends[1]; at++) {
                b.data[at] ^= 0x10;
                struct journal_scan sc;
                size_t n = 0;
                journal_scan_buf(b.data, b.len, count_cb, &n, &sc);
                assert_int_equal(n, 1);
                assert_int_equal(sc.good_end, ends[0]);
                assert_true(sc.torn);
                b.data[at] ^= 0x10;
        }
        /* a damaged header: no record is trusted */
        b.data[3] ^= 1;
        struct journal_scan sc;
        journal_scan_buf(b.data, b.len, NULL, NULL, &sc);
        assert_false(sc.header_ok);
        assert_int_equal(sc.records, 0);
        qbuf_free(&b);
}

/* Fields inside an intact frame that are out of range are refused. */
static void test_bad_fields_refused(void **state)
{
        (void)state;
        uint8_t serial[16], der[200];
        memset(serial, 0x41, sizeof serial);
        memset(der, 0x30, sizeof der);
        struct journal_rec r;
        rec_of(&r, 1, serial, sizeof serial, der, sizeof der);
        struct qbuf b;
        qbuf_init(&b, 4096);
        assert_true(journal_encode_record(&r, &b));
        /* offsets in the payload: type 8, seq 9, at 17, serial-len 25 */
        static const struct {
                size_t off;
                uint8_t val;
        } edits[] = {
            {8, 2},     /* unknown record type */
            {25, 0},    /* empty serial */
            {25, 21},   /* serial too long */
            {25, 17},   /* serial length that runs into the key id */
            {42, 63},   /* key id of the wrong length */
            {43, 'G'},  /* key id not lower-case hex */
            {110, 0xff} /* DER length past the record */
        };
        for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
                struct qbuf c;
                qbuf_init(&c, 4096);
                assert_true(qbuf_append(&c, b.data, b.len));
                c.data[edits[i].off] = edits[i].val;
                /* a valid checksum over the edited payload: only the field
                 * checks can refuse it */
                uint32_t crc = journal_crc32c(0, c.data, 4);
                crc = journal_crc32c(crc, c.data + 8, c.len - 8);
                c.data[4] = (uint8_t)(crc >> 24);
                c.data[5] = (uint8_t)(crc >> 16);
                c.data[6] = (uint8_t)(crc >> 8);
                c.data[7] = (uint8_t)crc;
                struct journal_rec back;
                size_t used;
                if (journal_parse_record(c.data, c.len, &back, &used) != JP_BAD)
                        fail_msg("edit %zu (offset %zu) was accepted", i, edits[i].off);
                qbuf_free(&c);
        }
        /* a length below the smallest record or above the largest */
        uint8_t head[8] = {0, 0, 0, 5, 0, 0, 0, 0};
        assert_int_equal(journal_record_len(head), 0);
        head[1] = 0x10;
        assert_int_equal(journal_record_len(head), 0);
        qbuf_free(&b);
}

static void test_file_names(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                bool ok;
        } cases[] = {
            {"01796038733084027311-21725-ad0087a7.jnl", true},
            {"01796038733084027311-1-00000000.jnl", true},
            {"01796038733084027311-4294967295-ffffffff.jnl", true},
            {"1796038733084027311-21725-ad0087a7.jnl", false},  /* 19 digits */
            {"01796038733084027311-21725-AD0087A7.jnl", false}, /* upper case */
            {"01796038733084027311--ad0087a7.jnl", false},      /* no pid */
            {"01796038733084027311-12345678901-ad0087a7.jnl", false},
            {"01796038733084027311-21725-ad0087a7.jnl.tmp", false},
            {".tmp-01796038733084027311-21725-ad0087a7.jnl", false},
            {"../01796038733084027311-21725-ad0087a.jnl", false},
            {"01796038733084027311-21725-ad0087a7.key", false},
            {"", false},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                if (journal_name_ok(cases[i].name, strlen(cases[i].name)) != cases[i].ok)
                        fail_msg("%s: expected %s", cases[i].name, cases[i].ok ? "ok" : "refused");
}

/* ---- the messages ---- */

static void test_journal_messages_round_trip(void **state)
{
        (void)state;
        const char *names[] = {"01796038733084027311-21725-ad0087a7.jnl",
                               "01796038733084027312-21726-ad0087a8.jnl"};
        struct jfile_wire files[2] = {{.name = sbytes_str(names[0]), .end = 16, .flags = 0},
                                      {.name = sbytes_str(names[1]), .end = 9999, .flags = 1}};
        struct signer_req trim = {.type = SMSG_JOURNAL_TRIM, .jfiles = files, .njfiles = 2};
        struct qbuf b;
        qbuf_init(&b, MAX_SIGNER_MSG_BYTES + 8);
        assert_true(signer_encode_req(&trim, &b));
        struct signer_req back;
        struct qerr_info ei;
        assert_int_equal(signer_decode_req(b.data + 4, b.len - 4, &back, &ei), QERR_OK);
        assert_int_equal(back.type, SMSG_JOURNAL_TRIM);
        assert_int_equal(back.njfiles, 2);
        assert_int_equal(back.jfiles[1].end, 9999);
        assert_int_equal(back.jfiles[1].flags, 1);
        assert_memory_equal(back.jfiles[0].name.p, names[0], strlen(names[0]));
        signer_req_clear(&back);
        /* a TRIM without files is refused */
        struct signer_req empty = {.type = SMSG_JOURNAL_TRIM};
        qbuf_reset(&b);
        assert_true(signer_encode_req(&empty, &b));
        assert_int_equal(signer_decode_req(b.data + 4, b.len - 4, &back, &ei), QERR_PROTO);
        /* an answer with records, files and a cursor */
        uint8_t der[300], serial[16];
        memset(der, 0x30, sizeof der);
        memset(serial, 0x41, sizeof serial);
        struct journal_wire e = {.file = sbytes_str(names[0]),
                                 .offset = 16,
                                 .seq = 1,
                                 .signed_at = 1780000000,
                                 .serial = {serial, sizeof serial},
                                 .key_id = sbytes_str(KEY_ID),
                                 .der = {der, sizeof der}};
        struct signer_resp r = {.type = SMSG_OK,
                                .jentries = &e,
                                .njentries = 1,
                                .jfiles = files,
                                .njfiles = 1,
                                .has_cursor = true,
                                .cursor = files[1]};
        qbuf_reset(&b);
        assert_true(signer_encode_resp(&r, &b));
        struct signer_resp rb;
        assert_int_equal(signer_decode_resp(b.data + 4, b.len - 4, &rb, &ei), QERR_OK);
        assert_int_equal(rb.njentries, 1);
        assert_int_equal(rb.jentries[0].der.len, sizeof der);
        assert_int_equal(rb.jentries[0].signed_at, 1780000000);
        assert_int_equal(rb.njfiles, 1);
        assert_true(rb.has_cursor);
        assert_int_equal(rb.cursor.end, 9999);
        signer_resp_clear(&rb);
        /* a record whose DER length disagrees with its field is refused */
        for (size_t i = 0; i + 4 < b.len; i++)
                if (b.data[i] == 28 /* T_JENTRY */ && b.data[i + 5] == strlen(names[0])) {
                        b.data[i + 4] ^= 1; /* the field's length, low byte */
                        break;
                }
        assert_int_equal(signer_decode_resp(b.data + 4, b.len - 4, &rb, &ei), QERR_PROTO);
        qbuf_free(&b);
}

/* ---- the signer's journal ---- */

struct fixture {
        char dir[64];
        struct qconfig cfg;
        struct signer_state *st;
        struct qbuf issuing_der;
};

static struct fixture tmpl; /* one CA pair per run (PBKDF2 is slow under ASan) */

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(p);
}

/* One request through the handler; the decoded answer in *resp (owning
 * `out`'s bytes: the caller frees out and clears resp). */
static enum qerr call(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                      struct signer_resp *resp)
{
        struct qbuf req;
        qbuf_init(&req, MAX_SIGNER_MSG_BYTES + 8);
        qbuf_init(out, MAX_SIGNER_MSG_BYTES + 8);
        assert_true(signer_encode_req(r, &req));
        signer_handle(st, req.data + 4, req.len - 4, out);
        qbuf_free(&req);
        struct qerr_info ei;
        assert_int_equal(signer_decode_resp(out->data + 4, out->len - 4, resp, &ei), QERR_OK);
        return resp->type == SMSG_ERROR ? (enum qerr)resp->code : QERR_OK;
}

static struct signer_state *state_for(const char *dir, const struct qconfig *cfg)
{
        struct signer_config c = {.data_dir = dir,
                                  .private_max_days = cfg->private_max_days,
                                  .public_max_days = cfg->public_max_days,
                                  .passphrase = PASS};
        struct signer_state *st = signer_state_new(&c);
        assert_non_null(st);
        return st;
}

static int group_setup(void **state)
{
        (void)state;
        snprintf(tmpl.dir, sizeof tmpl.dir, "/tmp/quill-journal-XXXXXX");
        assert_non_null(mkdtemp(tmpl.dir));
        config_defaults(&tmpl.cfg);
        struct signer_state *st = state_for(tmpl.dir, &tmpl.cfg);
        struct qbuf out, root;
        struct signer_resp resp;
        struct signer_req r = {.type = SMSG_CREATE_ROOT};
        r.key_alg = sbytes_str("ec384");
        r.subject = sbytes_str("CN=Journal Root");
        assert_int_equal(call(st, &r, &out, &resp), QERR_OK);
        qbuf_init(&root, 65536);
        assert_true(qbuf_append(&root, resp.der.p, resp.der.len));
        qbuf_free(&out);
        struct signer_req i = {.type = SMSG_CREATE_ISSUING};
        i.key_alg = sbytes_str("ec256");
        i.subject = sbytes_str("CN=Journal Issuing");
        i.issuer_der.p = root.data;
        i.issuer_der.len = root.len;
        i.crl_url = sbytes_str("http://127.0.0.1:1/crl/1.crl");
        i.ca_issuers_url = sbytes_str("http://127.0.0.1:1/ca/1.der");
        assert_int_equal(call(st, &i, &out, &resp), QERR_OK);
        qbuf_init(&tmpl.issuing_der, 65536);
        assert_true(qbuf_append(&tmpl.issuing_der, resp.der.p, resp.der.len));
        qbuf_free(&out);
        qbuf_free(&root);
        signer_state_free(st);
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        config_free(&tmpl.cfg);
        qbuf_free(&tmpl.issuing_der);
        nftw(tmpl.dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof *f);
        snprintf(f->dir, sizeof f->dir, "/tmp/quill-journal-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        char cmd[256];
        snprintf(cmd, sizeof cmd, "cp -a %s/ca %s/", tmpl.dir, f->dir);
        assert_int_equal(system(cmd), 0);
        config_defaults(&f->cfg);
        f->st = state_for(f->dir, &f->cfg);
        qbuf_init(&f->issuing_der, 65536);
        assert_true(qbuf_append(&f->issuing_der, tmpl.issuing_der.data, tmpl.issuing_der.len));
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        signer_state_free(f->st);
        config_free(&f->cfg);
        qbuf_free(&f->issuing_der);
        nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

/* Signs a certificate for `name` with serial byte `tag`; its DER in der
 * (may be NULL). */
static enum qerr sign(struct fixture *f, struct signer_state *st, const char *name, uint8_t tag,
                      struct qbuf *der)
{
        EVP_PKEY *k = NULL;
        struct qerr_info ei;
        assert_int_equal(pki_key_generate(KEYALG_EC256, &k, &ei), QERR_OK);
        struct qbuf spki, out;
        qbuf_init(&spki, 8192);
        assert_int_equal(pki_key_spki_der(k, &spki, &ei), QERR_OK);
        uint8_t serial[16];
        memset(serial, tag, sizeof serial);
        serial[0] = 0x41;
        struct signer_req r = {.type = SMSG_SIGN_CERT};
        r.issuer_der.p = f->issuing_der.data;
        r.issuer_der.len = f->issuing_der.len;
        r.spki_der.p = spki.data;
        r.spki_der.len = spki.len;
        r.names[0] = sbytes_str(name);
        r.nnames = 1;
        r.not_before = qtime_now();
        r.not_after = r.not_before + 30 * 86400;
        r.serial.p = serial;
        r.serial.len = sizeof serial;
        r.profile = sbytes_str("private");
        r.crl_url = sbytes_str("http://127.0.0.1:1/crl/2.crl");
        struct signer_resp resp;
        enum qerr rc = call(st, &r, &out, &resp);
        if (rc == QERR_OK && der) {
                qbuf_reset(der);
                assert_true(qbuf_append(der, resp.der.p, resp.der.len));
        }
        qbuf_free(&out);
        qbuf_free(&spki);
        EVP_PKEY_free(k);
        return rc;
}

struct seen {
        size_t n;
        char files[64][64];
        int64_t ends[64];
        uint8_t flags[64];
        size_t nfiles;
        struct qbuf ders; /* the DERs, one after the other */
        size_t der_len[512];
        uint8_t serial_tag[512];
        size_t pages;
};

/* READ until the journal ends, collecting everything. */
static void read_all(struct signer_state *st, struct seen *s)
{
        memset(s, 0, sizeof *s);
        qbuf_init(&s->ders, 1 << 24);
        char cur[64] = "";
        int64_t off = 0;
        for (;;) {
                struct signer_req r = {.type = SMSG_JOURNAL_READ};
                if (cur[0]) {
                        r.has_cursor = true;
                        r.cursor.name = sbytes_str(cur);
                        r.cursor.end = off;
                }
                struct qbuf out;
                struct signer_resp resp;
                assert_int_equal(call(st, &r, &out, &resp), QERR_OK);
                s->pages++;
                assert_true(out.len <= MAX_SIGNER_MSG_BYTES + 4);
                for (size_t i = 0; i < resp.njentries; i++) {
                        assert_true(s->n < 512);
                        assert_true(qbuf_append(&s->ders, resp.jentries[i].der.p,
                                                resp.jentries[i].der.len));
                        s->der_len[s->n] = resp.jentries[i].der.len;
                        s->serial_tag[s->n] = resp.jentries[i].serial.p[1];
                        assert_int_equal(resp.jentries[i].key_id.len, 64);
                        s->n++;
                }
                for (size_t i = 0; i < resp.njfiles; i++) {
                        assert_true(s->nfiles < 64);
                        assert_true(sbytes_cstr(resp.jfiles[i].name, s->files[s->nfiles], 64));
                        s->ends[s->nfiles] = resp.jfiles[i].end;
                        s->flags[s->nfiles] = resp.jfiles[i].flags;
                        s->nfiles++;
                }
                bool more = resp.has_cursor;
                if (more) {
                        assert_true(sbytes_cstr(resp.cursor.name, cur, sizeof cur));
                        off = resp.cursor.end;
                }
                signer_resp_clear(&resp);
                qbuf_free(&out);
                if (!more)
                        break;
                assert_true(s->pages < 100);
        }
}

static size_t files_in(const char *dir)
{
        DIR *d = opendir(dir);
        size_t n = 0;
        struct dirent *e;
        while (d && (e = readdir(d)))
                n += journal_name_ok(e->d_name, strlen(e->d_name));
        if (d)
                closedir(d);
        return n;
}

static void trim(struct signer_state *st, const struct seen *s, size_t i, int64_t end)
{
        struct jfile_wire w = {.name = sbytes_str(s->files[i]), .end = end};
        struct signer_req r = {.type = SMSG_JOURNAL_TRIM, .jfiles = &w, .njfiles = 1};
        struct qbuf out;
        struct signer_resp resp;
        assert_int_equal(call(st, &r, &out, &resp), QERR_OK);
        qbuf_free(&out);
        r.jfiles = NULL;
}

/* Every certificate the signer answers with is in the journal first, as it
 * was answered. */
static void test_every_signature_journaled(void **state)
{
        struct fixture *f = *state;
        struct qbuf der;
        qbuf_init(&der, 65536);
        struct seen s;
        read_all(f->st, &s);
        assert_int_equal(s.n, 0); /* nothing signed, no file */
        qbuf_free(&s.ders);
        size_t at = 0;
        struct qbuf all;
        qbuf_init(&all, 1 << 20);
        for (int i = 0; i < 5; i++) {
                char name[64];
                snprintf(name, sizeof name, "j%d.example.com", i);
                assert_int_equal(sign(f, f->st, name, (uint8_t)(0x10 + i), &der), QERR_OK);
                assert_true(qbuf_append(&all, der.data, der.len));
        }
        /* a refused request journals nothing */
        assert_int_equal(sign(f, f->st, "bad_name.example.com", 0x77, NULL), QERR_NAME_INVALID);
        read_all(f->st, &s);
        assert_int_equal(s.n, 5);
        assert_int_equal(s.nfiles, 1);
        assert_int_equal(s.flags[0], 0);
        assert_int_equal(s.ders.len, all.len);
        assert_memory_equal(s.ders.data, all.data, all.len);
        for (size_t i = 0; i < s.n; i++) {
                assert_int_equal(s.serial_tag[i], 0x10 + i);
                at += s.der_len[i];
        }
        assert_int_equal(at, all.len);
        /* the file is the signer's, mode 0600, in <data>/ca/journal */
        char dir[PATH_MAX + 16], path[PATH_MAX + 96];
        signer_journal_dir(f->st, dir, sizeof dir);
        snprintf(path, sizeof path, "%s/%s", dir, s.files[0]);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        assert_int_equal(sb.st_size, s.ends[0]);
        assert_int_equal(stat(dir, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0700);
        qbuf_free(&s.ders);
        qbuf_free(&all);
        qbuf_free(&der);
}

/* A record torn by a crash at the end of a dead signer's file is ignored;
 * the records before it are read, and the file says it is torn. */
static void test_torn_tail_of_a_dead_signer(void **state)
{
        struct fixture *f = *state;
        struct signer_state *dead = state_for(f->dir, &f->cfg);
        assert_int_equal(sign(f, dead, "a.example.com", 0x21, NULL), QERR_OK);
        assert_int_equal(sign(f, dead, "b.example.com", 0x22, NULL), QERR_OK);
        char path[PATH_MAX + 96], dir[PATH_MAX + 16];
        signer_journal_dir(dead, dir, sizeof dir);
        snprintf(path, sizeof path, "%s/%s", dir, dead->journal.name);
        signer_state_free(dead); /* "dies": its lock goes */
        /* half of a third record */
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        int fd = open(path, O_WRONLY | O_APPEND);
        assert_true(fd >= 0);
        uint8_t part[40];
        memset(part, 0, sizeof part);
        part[2] = 0x02; /* length 512 */
        part[3] = 0x00;
        assert_int_equal(write(fd, part, sizeof part), (ssize_t)sizeof part);
        close(fd);
        struct seen s;
        read_all(f->st, &s);
        assert_int_equal(s.n, 2);
        assert_int_equal(s.nfiles, 1);
        assert_int_equal(s.ends[0], sb.st_size);
        assert_int_equal(s.flags[0], JFILE_TORN);
        /* acknowledged up to the torn record: a dead signer's file goes */
        trim(f->st, &s, 0, s.ends[0]);
        assert_int_equal(files_in(dir), 0);
        qbuf_free(&s.ders);
}

/* TRIM: a live signer's file stays whatever it is told; a dead signer's
 * file goes only when no intact record follows the acknowledged offset;
 * the signer's own file goes when everything in it was acknowledged, and
 * its next certificate starts a new one. */
static void test_trim_only_what_is_acknowledged(void **state)
{
        struct fixture *f = *state;
        char dir[PATH_MAX + 16];
        signer_journal_dir(f->st, dir, sizeof dir);
        struct signer_state *live = state_for(f->dir, &f->cfg);
        assert_int_equal(sign(f, live, "live.example.com", 0x31, NULL), QERR_OK);
        struct signer_state *dead = state_for(f->dir, &f->cfg);
        assert_int_equal(sign(f, dead, "dead1.example.com", 0x32, NULL), QERR_OK);
        assert_int_equal(sign(f, dead, "dead2.example.com", 0x33, NULL), QERR_OK);
        signer_state_free(dead);
        assert_int_equal(sign(f, f->st, "own.example.com", 0x34, NULL), QERR_OK);
        struct seen s;
        read_all(f->st, &s);
        assert_int_equal(s.n, 4);
        assert_int_equal(s.nfiles, 3);
        assert_int_equal(files_in(dir), 3);
        for (size_t i = 0; i < s.nfiles; i++) {
                char path[PATH_MAX + 96];
                snprintf(path, sizeof path, "%s/%s", dir, s.files[i]);
                bool is_live = !strcmp(s.files[i], live->journal.name);
                bool is_own = !strcmp(s.files[i], f->st->journal.name);
                if (!is_live && !is_own) {
                        /* acknowledged only up to its first record: kept */
                        struct stat sb;
                        trim(f->st, &s, i, JOURNAL_HEADER_LEN);
                        assert_int_equal(stat(path, &sb), 0);
                }
                trim(f->st, &s, i, s.ends[i]);
                struct stat sb;
                assert_int_equal(stat(path, &sb) == 0, is_live);
        }
        assert_int_equal(files_in(dir), 1); /* the live one */
        assert_true(f->st->journal.fd < 0);
        /* the next certificate starts a new file */
        assert_int_equal(sign(f, f->st, "own2.example.com", 0x35, NULL), QERR_OK);
        assert_true(f->st->journal.fd >= 0);
        assert_int_equal(files_in(dir), 2);
        /* a live signer that rotated (closed) its file no longer holds it:
         * acknowledged, it goes, and so does ours */
        signer_journal_close(live);
        struct seen s2;
        read_all(f->st, &s2);
        assert_int_equal(s2.nfiles, 2);
        for (size_t i = 0; i < s2.nfiles; i++)
                trim(f->st, &s2, i, s2.ends[i]);
        assert_int_equal(files_in(dir), 0);
        assert_true(f->st->journal.fd < 0);
        signer_state_free(live);
        qbuf_free(&s.ders);
        qbuf_free(&s2.ders);
}

/* The answers are pages of at most SIGNER_JOURNAL_PAGE bytes of records;
 * the cursor goes forward and every record comes once. */
static void test_read_in_pages(void **state)
{
        struct fixture *f = *state;
        /* records written directly (signing hundreds is slow under ASan):
         * a dead signer's file of 300 records of 2 kB */
        char dir[PATH_MAX + 16], path[PATH_MAX + 96];
        signer_journal_dir(f->st, dir, sizeof dir);
        assert_int_equal(mkdir(dir, 0700), 0);
        snprintf(path, sizeof path, "%s/%s", dir, "01700000000000000000-1-00000001.jnl");
        struct qbuf b;
        qbuf_init(&b, 1 << 22);
        assert_true(qbuf_append(&b, JOURNAL_HEADER, JOURNAL_HEADER_LEN));
        uint8_t der[2000];
        for (int i = 0; i < 300; i++) {
                uint8_t serial[16];
                memset(serial, i & 0xff, sizeof serial);
                serial[0] = 0x41;
                memset(der, i & 0xff, sizeof der);
                struct journal_rec r;
                rec_of(&r, (uint64_t)i + 1, serial, sizeof serial, der, sizeof der);
                assert_true(journal_encode_record(&r, &b));
        }
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(b.data, 1, b.len, fp), b.len);
        fclose(fp);
        struct seen s;
        read_all(f->st, &s);
        assert_int_equal(s.n, 300);
        assert_true(s.pages >= 4); /* 600 kB in pages of 160 kB */
        assert_int_equal(s.nfiles, 1);
        assert_int_equal(s.ends[0], (int64_t)b.len);
        for (size_t i = 0; i < s.n; i++) {
                assert_int_equal(s.der_len[i], sizeof der);
                assert_int_equal(s.serial_tag[i], (uint8_t)(i & 0xff));
        }
        qbuf_free(&s.ders);
        qbuf_free(&b);
}

/* No journal, no certificate: a journal that cannot be written refuses
 * the signature (the certificate never leaves the signer). */
static void test_unwritable_journal_refuses(void **state)
{
        struct fixture *f = *state;
        char dir[PATH_MAX + 16];
        signer_journal_dir(f->st, dir, sizeof dir);
        /* a regular file where the journal directory should be */
        FILE *fp = fopen(dir, "w");
        assert_non_null(fp);
        fclose(fp);
        struct qbuf der;
        qbuf_init(&der, 65536);
        enum qerr rc = sign(f, f->st, "nojournal.example.com", 0x41, &der);
        assert_true(rc == QERR_IO || rc == QERR_DISK_FULL);
        assert_int_equal(der.len, 0);
        unlink(dir);
        assert_int_equal(sign(f, f->st, "journal.example.com", 0x42, &der), QERR_OK);
        assert_true(der.len > 0);
        qbuf_free(&der);
}

static int cmp_ptr(const void *a, const void *b)
{
        uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
        return x < y ? -1 : x > y;
}

/* The journal is read inside the signer's system call filter: a child
 * process installs the real filter (signer_sandbox) and reads a journal of
 * 40 files (its list is sorted: glibc's qsort then asks sysconf, i.e.
 * sysinfo, as it does for OpenSSL's sort of a CRL of 128 entries or more),
 * appends, trims; a forbidden call would kill it with SIGSYS. */
static void test_journal_inside_the_filter(void **state)
{
        struct fixture *f = *state;
        for (int i = 0; i < 40; i++) {
                struct signer_state *other = state_for(f->dir, &f->cfg);
                assert_int_equal(sign(f, other, "many.example.com", (uint8_t)i, NULL), QERR_OK);
                signer_state_free(other);
        }
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct qerr_info ei;
                if (signer_sandbox(&ei) != QERR_OK)
                        _exit(2);
                struct seen s;
                read_all(f->st, &s);
                if (s.n != 40 || s.nfiles != 40)
                        _exit(3);
                for (size_t i = 0; i < s.nfiles; i++)
                        trim(f->st, &s, i, s.ends[i]);
                if (sign(f, f->st, "inside.example.com", 0x66, NULL) != QERR_OK)
                        _exit(4);
                void *v[300];
                for (size_t i = 0; i < 300; i++)
                        v[i] = (void *)(uintptr_t)((i * 7919) % 300);
                qsort(v, 300, sizeof v[0], cmp_ptr);
                _exit(0); /* no exit handlers: the sanitizers' need more calls */
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (WIFSIGNALED(st))
                fail_msg("the sandboxed journal reader was killed by signal %d", WTERMSIG(st));
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        char dir[PATH_MAX + 16];
        signer_journal_dir(f->st, dir, sizeof dir);
        assert_int_equal(files_in(dir), 1); /* the 40 trimmed, the child's own new one */
}

/* Malformed journal requests are refused whole. */
static void test_trim_refuses_bad_names(void **state)
{
        struct fixture *f = *state;
        struct jfile_wire w = {.name = sbytes_str("../ca/x.key"), .end = 16};
        struct signer_req r = {.type = SMSG_JOURNAL_TRIM, .jfiles = &w, .njfiles = 1};
        struct qbuf out;
        struct signer_resp resp;
        assert_int_equal(call(f->st, &r, &out, &resp), QERR_PROTO);
        qbuf_free(&out);
        struct signer_req rd = {.type = SMSG_JOURNAL_READ, .has_cursor = true};
        rd.cursor.name = sbytes_str("not-a-journal");
        assert_int_equal(call(f->st, &rd, &out, &resp), QERR_PROTO);
        qbuf_free(&out);
        r.jfiles = NULL;
}

int main(void)
{
        const struct CMUnitTest format[] = {
            cmocka_unit_test(test_crc32c_known_values),
            cmocka_unit_test(test_record_round_trip),
            cmocka_unit_test(test_torn_last_record_ignored),
            cmocka_unit_test(test_checksum_per_record),
            cmocka_unit_test(test_bad_fields_refused),
            cmocka_unit_test(test_file_names),
            cmocka_unit_test(test_journal_messages_round_trip),
        };
        const struct CMUnitTest signer[] = {
            cmocka_unit_test_setup_teardown(test_every_signature_journaled, setup, teardown),
            cmocka_unit_test_setup_teardown(test_torn_tail_of_a_dead_signer, setup, teardown),
            cmocka_unit_test_setup_teardown(test_trim_only_what_is_acknowledged, setup, teardown),
            cmocka_unit_test_setup_teardown(test_read_in_pages, setup, teardown),
            cmocka_unit_test_setup_teardown(test_unwritable_journal_refuses, setup, teardown),
            cmocka_unit_test_setup_teardown(test_trim_refuses_bad_names, setup, teardown),
            cmocka_unit_test_setup_teardown(test_journal_inside_the_filter, setup, teardown),
        };
        int fails = cmocka_run_group_tests_name("journal format", format, NULL, NULL);
        return fails +
               cmocka_run_group_tests_name("signer journal", signer, group_setup, group_teardown);
}
