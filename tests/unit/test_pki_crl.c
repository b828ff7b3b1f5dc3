/*
 * test_pki_crl.c - the direct DER CRL builder (src/pki/pki_crl.c): entries
 * encode and parse back (and nothing else parses), and whole CRLs built from
 * head + entries + tail are what OpenSSL reads: d2i_X509_CRL gives back
 * every entry (serial, date, reason), the signature verifies, and the
 * extensions (AKI, number, critical IDP) are there. For EC, RSA and SM2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/qtime.h"
#include "pki/pki_crl.h"
#include "pki/pki_issue.h"
#include "pki/pki_key.h"
#include "pki/lint_internal.h"
#include "pki/pki_pem.h"

/* ---- entries ---- */

static void roundtrip(const uint8_t *serial, size_t len, int64_t t, int reason)
{
        uint8_t der[PKI_CRL_ENTRY_MAX];
        size_t n = pki_crl_entry_encode(der, serial, len, t, reason);
        assert_true(n > 0 && n <= PKI_CRL_ENTRY_MAX);
        assert_int_equal(pki_der_element_len(der, n), n);
        struct pki_crl_entry e;
        struct qerr_info ei;
        size_t used = 0;
        if (pki_crl_entry_parse(der, n, &used, &e, &ei) != QERR_OK)
                fail_msg("entry (len %zu, t %lld, reason %d) does not parse: %s", len, (long long)t,
                         reason, qerr_message(&ei));
        assert_int_equal(used, n);
        size_t skip = 0;
        while (skip < len && serial[skip] == 0)
                skip++;
        assert_int_equal(e.serial_len, len - skip);
        assert_memory_equal(e.serial, serial + skip, len - skip);
        assert_int_equal(e.revoked_at, t);
        assert_int_equal(e.reason, reason);
        /* and OpenSSL reads the same values */
        const unsigned char *p = der;
        X509_REVOKED *r = d2i_X509_REVOKED(NULL, &p, (long)n);
        assert_non_null(r);
        assert_ptr_equal(p, der + n);
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
        uint8_t back[21];
        int bl = BN_bn2bin(bn, back);
        assert_int_equal(bl, (int)(len - skip));
        assert_memory_equal(back, serial + skip, len - skip);
        assert_int_equal(pki_time_to_unix(X509_REVOKED_get0_revocationDate(r)), t);
        ASN1_ENUMERATED *re = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
        if (reason) {
                assert_non_null(re);
                assert_int_equal(ASN1_ENUMERATED_get(re), reason);
        } else {
                assert_null(re);
        }
        ASN1_ENUMERATED_free(re);
        BN_free(bn);
        X509_REVOKED_free(r);
}

static void test_entry_roundtrip(void **state)
{
        (void)state;
        uint8_t s[21];
        for (size_t len = 1; len <= 20; len++) {
                for (size_t i = 0; i < len; i++)
                        s[i] = (uint8_t)(0x11 * (i + 1) + len);
                s[0] = 0x41;
                roundtrip(s, len, 1700000000, 1);
                s[0] = 0xc1; /* top bit set: INTEGER gets a 0x00 pad */
                roundtrip(s, len, 1700000000, 4);
        }
        /* leading zero bytes are not part of the serial */
        uint8_t z[] = {0, 0, 0x05};
        roundtrip(z, sizeof z, 1700000000, 0);
        /* UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 5.1.2.4) */
        const int64_t times[] = {
            qtime_from_ymd(1950, 1, 1),     qtime_from_ymd(2000, 2, 29) + 12 * 3600 + 34 * 60 + 56,
            qtime_from_ymd(2050, 1, 1) - 1, qtime_from_ymd(2050, 1, 1),
            qtime_from_ymd(2100, 3, 1),     qtime_from_ymd(9999, 12, 31) + 86399};
        for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
                for (int reason = 0; reason <= PKI_CRL_REASON_MAX; reason++)
                        roundtrip(s, 16, times[i], reason);
        uint8_t der[PKI_CRL_ENTRY_MAX];
        s[0] = 0x41;
        assert_int_equal(pki_crl_entry_encode(der, s, 16, qtime_from_ymd(2049, 12, 31), 0),
                         2 + 2 + 16 + 2 + 13);
        assert_int_equal(der[2 + 2 + 16], 0x17);
        assert_int_equal(pki_crl_entry_encode(der, s, 16, qtime_from_ymd(2050, 1, 1), 0),
                         2 + 2 + 16 + 2 + 15);
        assert_int_equal(der[2 + 2 + 16], 0x18);
}

static void test_entry_encode_refuses(void **state)
{
        (void)state;
        uint8_t der[PKI_CRL_ENTRY_MAX];
        uint8_t s[22] = {0x41};
        assert_int_equal(pki_crl_entry_encode(der, s, 0, 1700000000, 0), 0);      /* empty */
        assert_int_equal(pki_crl_entry_encode(der, s + 1, 3, 1700000000, 0), 0);  /* zero */
        assert_int_equal(pki_crl_entry_encode(der, s, 21, 1700000000, 0), 0);     /* > 20 */
        assert_int_equal(pki_crl_entry_encode(der, s, 16, -1000000000000, 0), 0); /* < 1950 */
        assert_int_equal(pki_crl_entry_encode(der, s, 16, 1700000000, 11), 0);    /* reason */
        assert_int_equal(pki_crl_entry_encode(der, s, 16, 1700000000, -1), 0);
}

/* Each row is an entry that is not what the encoder writes. */
static void test_entry_parse_refuses(void **state)
{
        (void)state;
        static const struct {
                const char *why;
                uint8_t der[64];
                size_t len;
        } rows[] = {
            {"empty", {0}, 0},
            {"not a SEQUENCE",
             {0x31, 0x12, 0x02, 0x01, 0x05, 0x17, 0x0d, '2', '3', '1',
              '1',  '1',  '4',  '2',  '2',  '1',  '3',  '2', '0', 'Z'},
             20},
            {"long-form length",
             {0x30, 0x81, 0x12, 0x02, 0x01, 0x05, 0x17, 0x0d, '2', '3', '1',
              '1',  '1',  '4',  '2',  '2',  '1',  '3',  '2',  '0', 'Z'},
             21},
            {"truncated", {0x30, 0x12, 0x02, 0x01, 0x05, 0x17, 0x0d, '2', '3'}, 9},
            {"negative serial",
             {0x30, 0x12, 0x02, 0x01, 0x85, 0x17, 0x0d, '2', '3', '1',
              '1',  '1',  '4',  '2',  '2',  '1',  '3',  '2', '0', 'Z'},
             20},
            {"zero serial",
             {0x30, 0x12, 0x02, 0x01, 0x00, 0x17, 0x0d, '2', '3', '1',
              '1',  '1',  '4',  '2',  '2',  '1',  '3',  '2', '0', 'Z'},
             20},
            {"padded serial",
             {0x30, 0x13, 0x02, 0x02, 0x00, 0x05, 0x17, 0x0d, '2', '3', '1',
              '1',  '1',  '4',  '2',  '2',  '1',  '3',  '2',  '0', 'Z'},
             21},
            {"no seconds",
             {0x30, 0x10, 0x02, 0x01, 0x05, 0x17, 0x0b, '2', '3', '1', '1', '1', '4', '2', '2', '1',
              '3', 'Z'},
             18},
            {"lower-case z",
             {0x30, 0x12, 0x02, 0x01, 0x05, 0x17, 0x0d, '2', '3', '1',
              '1',  '1',  '4',  '2',  '2',  '1',  '3',  '2', '0', 'z'},
             20},
            {"GeneralizedTime before 2050",
             {0x30, 0x14, 0x02, 0x01, 0x05, 0x18, 0x0f, '2', '0', '2', '3',
              '1',  '1',  '1',  '4',  '2',  '2',  '1',  '3', '2', '0', 'Z'},
             22},
            {"February 30",
             {0x30, 0x12, 0x02, 0x01, 0x05, 0x17, 0x0d, '2', '3', '0',
              '2',  '3',  '0',  '2',  '2',  '1',  '3',  '2', '0', 'Z'},
             20},
            {"hour 24",
             {0x30, 0x12, 0x02, 0x01, 0x05, 0x17, 0x0d, '2', '3', '1',
              '1',  '1',  '4',  '2',  '4',  '1',  '3',  '2', '0', 'Z'},
             20},
            {"reason 0 encoded",
             {0x30, 0x20, 0x02, 0x01, 0x05, 0x17, 0x0d, '2',  '3',  '1',  '1',  '1',
              '4',  '2',  '2',  '1',  '3',  '2',  '0',  'Z',  0x30, 0x0c, 0x30, 0x0a,
              0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, 0x00},
             34},
            {"reason 11",
             {0x30, 0x20, 0x02, 0x01, 0x05, 0x17, 0x0d, '2',  '3',  '1',  '1',  '1',
              '4',  '2',  '2',  '1',  '3',  '2',  '0',  'Z',  0x30, 0x0c, 0x30, 0x0a,
              0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, 0x0b},
             34},
            {"critical reasonCode",
             {0x30, 0x23, 0x02, 0x01, 0x05, 0x17, 0x0d, '2',  '3',  '1',  '1',  '1',  '4',
              '2',  '2',  '1',  '3',  '2',  '0',  'Z',  0x30, 0x0f, 0x30, 0x0d, 0x06, 0x03,
              0x55, 0x1d, 0x15, 0x01, 0x01, 0xff, 0x04, 0x03, 0x0a, 0x01, 0x01},
             37},
            {"another extension (invalidityDate OID)",
             {0x30, 0x20, 0x02, 0x01, 0x05, 0x17, 0x0d, '2',  '3',  '1',  '1',  '1',
              '4',  '2',  '2',  '1',  '3',  '2',  '0',  'Z',  0x30, 0x0c, 0x30, 0x0a,
              0x06, 0x03, 0x55, 0x1d, 0x18, 0x04, 0x03, 0x0a, 0x01, 0x01},
             34},
            {"trailing byte inside",
             {0x30, 0x13, 0x02, 0x01, 0x05, 0x17, 0x0d, '2', '3', '1', '1',
              '1',  '4',  '2',  '2',  '1',  '3',  '2',  '0', 'Z', 0x00},
             21},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                struct pki_crl_entry e;
                struct qerr_info ei;
                size_t used = 0;
                enum qerr rc = pki_crl_entry_parse(rows[i].der, rows[i].len, &used, &e, &ei);
                if (rc != QERR_PROTO)
                        fail_msg("row %zu (%s): expected signer_protocol, got %s", i, rows[i].why,
                                 qerr_code(rc));
        }
        /* the control: the same bytes as the first rows, well formed */
        static const uint8_t good[] = {0x30, 0x12, 0x02, 0x01, 0x05, 0x17, 0x0d, '2', '3', '1',
                                       '1',  '1',  '4',  '2',  '2',  '1',  '3',  '2', '0', 'Z'};
        struct pki_crl_entry e;
        struct qerr_info ei;
        size_t used = 0;
        assert_int_equal(pki_crl_entry_parse(good, sizeof good, &used, &e, &ei), QERR_OK);
        assert_int_equal(e.revoked_at, qtime_from_ymd(2023, 11, 14) + 22 * 3600 + 13 * 60 + 20);
}

static void test_der_element_len(void **state)
{
        (void)state;
        static const uint8_t shortf[] = {0x30, 0x02, 0x05, 0x00};
        static const uint8_t longf[] = {0x30, 0x81, 0x80};
        static const uint8_t nonmin[] = {0x30, 0x81, 0x05, 1, 2, 3, 4, 5};
        static const uint8_t lead0[] = {0x30, 0x82, 0x00, 0x90};
        assert_int_equal(pki_der_element_len(shortf, sizeof shortf), 4);
        assert_int_equal(pki_der_element_len(shortf, 3), 0);
        assert_int_equal(pki_der_element_len(longf, sizeof longf), 0); /* content missing */
        assert_int_equal(pki_der_element_len(nonmin, sizeof nonmin), 0);
        assert_int_equal(pki_der_element_len(lead0, sizeof lead0), 0);
        uint8_t big[3 + 200] = {0x30, 0x81, 200};
        assert_int_equal(pki_der_element_len(big, sizeof big), sizeof big);
}

/* ---- whole CRLs ---- */

struct ca {
        X509 *cert;
        EVP_PKEY *key;
};

static struct ca make_ca(enum key_alg alg)
{
        struct ca c = {0};
        struct qerr_info ei;
        assert_int_equal(pki_key_generate(alg, &c.key, &ei), QERR_OK);
        struct ca_params p = {.subject = "CN=Unit CRL CA,O=Quill",
                              .key = c.key,
                              .not_before = qtime_now() - 60,
                              .not_after = qtime_now() + 86400 * 365};
        assert_int_equal(pki_issue_ca(&p, &c.cert, &ei), QERR_OK);
        pki_cert_set_sm2_id(c.cert);
        return c;
}

static void free_ca(struct ca *c)
{
        X509_free(c->cert);
        EVP_PKEY_free(c->key);
}

/* Builds and signs a CRL the way the signer and the service do together. */
static void build(const struct ca *ca, const struct pki_crl_entry *v, size_t n, int64_t number,
                  const char *idp, struct qbuf *crl)
{
        struct qbuf entries, head, tail, alg, prefix, suffix;
        qbuf_init(&entries, 1u << 26);
        qbuf_init(&head, 1u << 16);
        qbuf_init(&tail, 4096);
        qbuf_init(&alg, 256);
        qbuf_init(&prefix, 16);
        qbuf_init(&suffix, 2048);
        for (size_t i = 0; i < n; i++) {
                uint8_t der[PKI_CRL_ENTRY_MAX];
                size_t k = pki_crl_entry_encode(der, v[i].serial, v[i].serial_len, v[i].revoked_at,
                                                v[i].reason);
                assert_true(k > 0);
                assert_true(qbuf_append(&entries, der, k));
        }
        EVP_MD_CTX *md = pki_sign_ctx(ca->key);
        assert_non_null(md);
        qtime_t now = qtime_now();
        struct pki_crl_params p = {.number = number,
                                   .this_update = now,
                                   .next_update = now + 7 * 86400,
                                   .idp_url = idp,
                                   .entries_len = entries.len};
        struct qerr_info ei;
        assert_int_equal(pki_crl_tbs_parts(ca->cert, md, &p, &head, &tail, &alg, &ei), QERR_OK);
        unsigned char sig[1024];
        size_t sl = sizeof sig;
        assert_int_equal(EVP_DigestSignUpdate(md, head.data, head.len), 1);
        if (entries.len)
                assert_int_equal(EVP_DigestSignUpdate(md, entries.data, entries.len), 1);
        assert_int_equal(EVP_DigestSignUpdate(md, tail.data, tail.len), 1);
        assert_int_equal(EVP_DigestSignFinal(md, sig, &sl), 1);
        EVP_MD_CTX_free(md);
        assert_int_equal(pki_crl_verify_parts(ca->cert, head.data, head.len, entries.data,
                                              entries.len, tail.data, tail.len, sig, sl, &ei),
                         QERR_OK);
        /* a flipped bit anywhere in the entries breaks it */
        if (entries.len) {
                entries.data[entries.len / 2] ^= 1;
                assert_int_equal(pki_crl_verify_parts(ca->cert, head.data, head.len, entries.data,
                                                      entries.len, tail.data, tail.len, sig, sl,
                                                      &ei),
                                 QERR_INTERNAL);
                entries.data[entries.len / 2] ^= 1;
        }
        assert_true(pki_crl_wrap(head.len + entries.len + tail.len, alg.data, alg.len, sig, sl,
                                 &prefix, &suffix));
        assert_true(
            qbuf_append(crl, prefix.data, prefix.len) && qbuf_append(crl, head.data, head.len) &&
            qbuf_append(crl, entries.data, entries.len) && qbuf_append(crl, tail.data, tail.len) &&
            qbuf_append(crl, suffix.data, suffix.len));
        qbuf_free(&entries);
        qbuf_free(&head);
        qbuf_free(&tail);
        qbuf_free(&alg);
        qbuf_free(&prefix);
        qbuf_free(&suffix);
}

static X509_CRL *parse(const struct qbuf *der)
{
        const unsigned char *p = der->data;
        X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der->len);
        assert_non_null(crl);
        assert_ptr_equal(p, der->data + der->len);
        return crl;
}

static void check_crl(const struct ca *ca, X509_CRL *crl, const struct pki_crl_entry *v, size_t n,
                      int64_t number, const char *idp)
{
        assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
        assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca->cert)),
                         0);
        EVP_PKEY *pub = X509_get0_pubkey(ca->cert);
        if (pki_key_is_sm2(pub)) {
                /* X509_CRL_verify has no way to pass the SM2 ID; checked by
                 * pki_crl_verify_parts above */
        } else {
                assert_int_equal(X509_CRL_verify(crl, pub), 1);
        }
        STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
        assert_int_equal(rev ? sk_X509_REVOKED_num(rev) : 0, (int)n);
        /* OpenSSL keeps (or sorts) its own order: look each one up */
        for (size_t i = 0; i < n; i++) {
                BIGNUM *bn = BN_bin2bn(v[i].serial, (int)v[i].serial_len, NULL);
                ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, NULL);
                X509_REVOKED *r = NULL;
                assert_int_equal(X509_CRL_get0_by_serial(crl, &r, ai), 1);
                assert_int_equal(pki_time_to_unix(X509_REVOKED_get0_revocationDate(r)),
                                 v[i].revoked_at);
                ASN1_ENUMERATED *re = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
                assert_int_equal(re ? ASN1_ENUMERATED_get(re) : 0, v[i].reason);
                ASN1_ENUMERATED_free(re);
                ASN1_INTEGER_free(ai);
                BN_free(bn);
        }
        int crit = -1;
        ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
        assert_non_null(num);
        assert_int_equal(crit, 0);
        assert_int_equal(ASN1_INTEGER_get(num), number);
        ASN1_INTEGER_free(num);
        AUTHORITY_KEYID *aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
        assert_non_null(aki);
        assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid, X509_get0_subject_key_id(ca->cert)), 0);
        AUTHORITY_KEYID_free(aki);
        ISSUING_DIST_POINT *p =
            X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
        if (!idp) {
                assert_null(p);
                return;
        }
        assert_non_null(p);
        assert_int_equal(crit, 1);
        assert_non_null(p->distpoint);
        assert_int_equal(p->distpoint->type, 0);
        GENERAL_NAMES *full = p->distpoint->name.fullname;
        assert_int_equal(sk_GENERAL_NAME_num(full), 1);
        GENERAL_NAME *g = sk_GENERAL_NAME_value(full, 0);
        assert_int_equal(g->type, GEN_URI);
        assert_string_equal((const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
                            idp);
        assert_int_equal(p->onlyuser, 0);
        assert_null(p->onlysomereasons);
        ISSUING_DIST_POINT_free(p);
        /* OpenSSL's own reading of the IDP: complete scope, no flags */
        assert_int_equal(X509_CRL_get_ext_count(crl), 3);
}

static struct pki_crl_entry *some_entries(size_t n)
{
        static const int reasons[] = {0, 1, 3, 4, 5, 9};
        struct pki_crl_entry *v = calloc(n ? n : 1, sizeof *v);
        assert_non_null(v);
        for (size_t i = 0; i < n; i++) {
                v[i].serial_len = 16;
                for (size_t k = 0; k < 16; k++)
                        v[i].serial[k] = (uint8_t)((i * 2654435761u) >> (k % 4 * 8)) ^ (uint8_t)k;
                v[i].serial[0] = (uint8_t)((v[i].serial[0] & 0x7f) | 0x40);
                v[i].serial[1] = (uint8_t)(i >> 8);
                v[i].serial[2] = (uint8_t)i;
                v[i].serial[3] = (uint8_t)(i >> 16);
                v[i].revoked_at = 1700000000 + (int64_t)i * 37;
                v[i].reason = reasons[i % 6];
        }
        return v;
}

static void one_alg(enum key_alg alg, size_t n)
{
        struct ca ca = make_ca(alg);
        struct pki_crl_entry *v = some_entries(n);
        struct qbuf der;
        qbuf_init(&der, 1u << 26);
        const char *idp = "http://crl.example.com:8080/crl/2/13.crl";
        build(&ca, v, n, 4242, idp, &der);
        X509_CRL *crl = parse(&der);
        check_crl(&ca, crl, v, n, 4242, idp);
        X509_CRL_free(crl);
        /* no entries: no (empty) revokedCertificates, and no IDP asked */
        qbuf_reset(&der);
        build(&ca, NULL, 0, 1, NULL, &der);
        crl = parse(&der);
        check_crl(&ca, crl, NULL, 0, 1, NULL);
        X509_CRL_free(crl);
        qbuf_free(&der);
        free(v);
        free_ca(&ca);
}

static void test_crl_ec256(void **state)
{
        (void)state;
        one_alg(KEYALG_EC256, 2000);
}

static void test_crl_ec384_rsa_sm2(void **state)
{
        (void)state;
        one_alg(KEYALG_EC384, 300);
        one_alg(KEYALG_RSA2048, 300);
        one_alg(KEYALG_SM2, 300);
}

/* Lengths that cross the 1-, 2- and 3-octet length forms of the outer
 * SEQUENCEs (127/128 bytes, 64 KiB) still parse. */
static void test_crl_length_forms(void **state)
{
        (void)state;
        struct ca ca = make_ca(KEYALG_EC256);
        const size_t sizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 1800, 1900, 3500};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                struct pki_crl_entry *v = some_entries(sizes[i]);
                struct qbuf der;
                qbuf_init(&der, 1u << 22);
                build(&ca, v, sizes[i], (int64_t)i + 1, "http://x.example/crl/1/0.crl", &der);
                X509_CRL *crl = parse(&der);
                check_crl(&ca, crl, v, sizes[i], (int64_t)i + 1, "http://x.example/crl/1/0.crl");
                X509_CRL_free(crl);
                qbuf_free(&der);
                free(v);
        }
        free_ca(&ca);
}

static void test_tbs_refuses(void **state)
{
        (void)state;
        struct ca ca = make_ca(KEYALG_EC256);
        EVP_MD_CTX *md = pki_sign_ctx(ca.key);
        struct qbuf h, t, a;
        qbuf_init(&h, 1u << 16);
        qbuf_init(&t, 4096);
        qbuf_init(&a, 256);
        struct qerr_info ei;
        struct pki_crl_params p = {
            .number = 0, .this_update = 1700000000, .next_update = 1700086400};
        assert_int_equal(pki_crl_tbs_parts(ca.cert, md, &p, &h, &t, &a, &ei), QERR_SIGNER_REFUSED);
        p.number = 1;
        p.idp_url = "http://x/crl with space.crl";
        assert_int_equal(pki_crl_tbs_parts(ca.cert, md, &p, &h, &t, &a, &ei), QERR_SIGNER_REFUSED);
        p.idp_url = "ldap://x/crl.crl";
        assert_int_equal(pki_crl_tbs_parts(ca.cert, md, &p, &h, &t, &a, &ei), QERR_SIGNER_REFUSED);
        p.idp_url = "http://x/crl.crl";
        p.next_update = (int64_t)400000 * 86400 * 365;
        assert_int_equal(pki_crl_tbs_parts(ca.cert, md, &p, &h, &t, &a, &ei), QERR_SIGNER_REFUSED);
        EVP_MD_CTX_free(md);
        qbuf_free(&h);
        qbuf_free(&t);
        qbuf_free(&a);
        free_ca(&ca);
}

/* ---- the lint gate (issue 7) ---- */

/* The parts the signer builds for `p` with the CA's own key. */
static void real_parts(const struct ca *ca, const struct pki_crl_params *p, struct qbuf *head,
                       struct qbuf *tail, struct qbuf *alg)
{
        EVP_MD_CTX *md = pki_sign_ctx(ca->key);
        struct qerr_info ei;
        assert_int_equal(pki_crl_tbs_parts(ca->cert, md, p, head, tail, alg, &ei), QERR_OK);
        EVP_MD_CTX_free(md);
}

static void gate_one(enum key_alg alg)
{
        struct ca ca = make_ca(alg);
        unsigned char *ider = NULL;
        int il = i2d_X509(ca.cert, &ider);
        assert_true(il > 0);
        EVP_PKEY *lk = NULL;
        struct qerr_info ei;
        assert_int_equal(pki_lint_key_new(ca.key, &lk, &ei), QERR_OK);
        struct lint_crl_opts lo = {.prev_number = 6,
                                   .private_ca = alg == KEYALG_SM2,
                                   .issuer_der = ider,
                                   .issuer_len = (size_t)il};
        struct pki_lint_gate gate = {.lint_key = lk, .crl = &lo};
        qtime_t now = qtime_now();
        struct pki_crl_params p = {.number = 7,
                                   .this_update = now,
                                   .next_update = now + 7 * 86400,
                                   .idp_url = "http://crl.example.com/crl/2/3.crl",
                                   .entries_len = 12345};
        struct qbuf head, tail, sa;
        qbuf_init(&head, 1u << 16);
        qbuf_init(&tail, 4096);
        qbuf_init(&sa, 256);
        real_parts(&ca, &p, &head, &tail, &sa);
        assert_int_equal(pki_crl_gate_header(ca.cert, &gate, &p, &head, &tail, &sa, &ei), QERR_OK);
        /* the linter sees the number: not above the previous CRL's */
        lo.prev_number = 7;
        assert_int_equal(pki_crl_gate_header(ca.cert, &gate, &p, &head, &tail, &sa, &ei),
                         QERR_LINT_FAILED);
        assert_non_null(strstr(qerr_message(&ei), "e_crl_number_increasing"));
        /* and the times: a rule tighter than the BR's ten days */
        lo.prev_number = -1;
        lo.max_span_seconds = 3600;
        assert_int_equal(pki_crl_gate_header(ca.cert, &gate, &p, &head, &tail, &sa, &ei),
                         QERR_LINT_FAILED);
        assert_non_null(strstr(qerr_message(&ei), "e_crl_update_span"));
        lo.max_span_seconds = 0;
        /* what is linted must be what is signed */
        head.data[head.len / 2] ^= 1;
        assert_int_equal(pki_crl_gate_header(ca.cert, &gate, &p, &head, &tail, &sa, &ei),
                         QERR_INTERNAL);
        head.data[head.len / 2] ^= 1;
        tail.data[tail.len - 1] ^= 1;
        assert_int_equal(pki_crl_gate_header(ca.cert, &gate, &p, &head, &tail, &sa, &ei),
                         QERR_INTERNAL);
        tail.data[tail.len - 1] ^= 1;
        struct pki_crl_params other = p;
        other.entries_len = 12346; /* another list header */
        assert_int_equal(pki_crl_gate_header(ca.cert, &gate, &other, &head, &tail, &sa, &ei),
                         QERR_INTERNAL);
        /* no entries: no list header at all */
        qbuf_reset(&head);
        qbuf_reset(&tail);
        qbuf_reset(&sa);
        p.entries_len = 0;
        real_parts(&ca, &p, &head, &tail, &sa);
        assert_int_equal(pki_crl_gate_header(ca.cert, &gate, &p, &head, &tail, &sa, &ei), QERR_OK);
        /* no gate: never signed */
        assert_int_equal(pki_crl_gate_header(ca.cert, NULL, &p, &head, &tail, &sa, &ei),
                         QERR_INTERNAL);
        qbuf_free(&head);
        qbuf_free(&tail);
        qbuf_free(&sa);
        EVP_PKEY_free(lk);
        OPENSSL_free(ider);
        free_ca(&ca);
}

static void test_gate_header(void **state)
{
        (void)state;
        gate_one(KEYALG_EC256);
        gate_one(KEYALG_RSA2048);
        gate_one(KEYALG_SM2);
}

static void test_gate_entry(void **state)
{
        (void)state;
        const struct {
                int reason;
                const char *check;
        } rows[] = {{0, NULL},
                    {1, NULL},
                    {2, NULL},
                    {9, NULL},
                    {6, "e_crl_reason_certificate_hold"},
                    {8, "e_crl_reason_remove_from_crl"},
                    {10, "e_crl_reason_not_allowed"},
                    {7, "e_crl_reason_not_allowed"}};
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                struct pki_crl_entry e = {.serial = {0x41, 2, 3},
                                          .serial_len = 3,
                                          .revoked_at = 1700000000,
                                          .reason = rows[i].reason};
                struct qerr_info ei;
                enum qerr rc = pki_crl_gate_entry(&e, &ei);
                if (!rows[i].check) {
                        assert_int_equal(rc, QERR_OK);
                        continue;
                }
                assert_int_equal(rc, QERR_LINT_FAILED);
                assert_non_null(strstr(qerr_message(&ei), rows[i].check));
                assert_non_null(strstr(qerr_message(&ei), "410203"));
        }
        /* serials: not zero, at most 20 octets (leading zeros aside) */
        uint8_t s[21] = {0};
        assert_int_equal(lint_crl_entry_check(s, 5, 0), LC_CRL_ENTRY_SERIAL);
        s[20] = 1;
        assert_int_equal(lint_crl_entry_check(s, 21, 0), LC__COUNT);
        s[0] = 1;
        assert_int_equal(lint_crl_entry_check(s, 21, 0), LC_CRL_ENTRY_SERIAL);
}

/* The ids of a report, sorted into one string, with the error count. */
static void ids_of(const struct lint_report *r, char *out, size_t sz)
{
        const char *v[LINT_MAX_FINDINGS];
        size_t n = 0;
        for (size_t i = 0; i < r->n && n < LINT_MAX_FINDINGS; i++)
                v[n++] = r->items[i].id;
        for (size_t i = 1; i < n; i++)
                for (size_t k = i; k > 0 && strcmp(v[k - 1], v[k]) > 0; k--) {
                        const char *t = v[k];
                        v[k] = v[k - 1];
                        v[k - 1] = t;
                }
        size_t used = (size_t)snprintf(out, sz, "%zu:", r->errors);
        for (size_t i = 0; i < n && used < sz; i++)
                used += (size_t)snprintf(out + used, sz - used, "%s ", v[i]);
}

/* lint_crl_der reads canonical entries one by one and OpenSSL the rest;
 * its findings equal those of OpenSSL reading the whole. */
static void same_findings(const struct qbuf *der, const struct lint_crl_opts *lo,
                          const char *want_id)
{
        struct lint_report fast, whole;
        lint_report_init(&fast);
        lint_report_init(&whole);
        struct qerr_info ei;
        assert_int_equal(lint_crl_der(der->data, der->len, lo, &fast, &ei), QERR_OK);
        assert_int_equal(lint_crl_der_whole(der->data, der->len, lo, &whole, &ei), QERR_OK);
        char a[4096], b[4096];
        ids_of(&fast, a, sizeof a);
        ids_of(&whole, b, sizeof b);
        if (strcmp(a, b) != 0)
                fail_msg("fast path %s, OpenSSL %s", a, b);
        if (want_id && !strstr(a, want_id))
                fail_msg("expected %s among %s", want_id, a);
        if (!want_id)
                if (fast.errors)
                        fail_msg("unexpected findings %s", a);
        lint_report_free(&fast);
        lint_report_free(&whole);
}

static void test_lint_fast_path(void **state)
{
        (void)state;
        struct ca ca = make_ca(KEYALG_EC256);
        unsigned char *ider = NULL;
        int il = i2d_X509(ca.cert, &ider);
        struct lint_crl_opts lo = {.prev_number = -1, .issuer_der = ider, .issuer_len = (size_t)il};
        struct pki_crl_entry *v = some_entries(3000);
        struct qbuf der;
        qbuf_init(&der, 1u << 24);
        build(&ca, v, 3000, 77, "http://x.example/crl/1/0.crl", &der);
        same_findings(&der, &lo, NULL);
        /* header findings through the copy without entries */
        lo.prev_number = 77;
        same_findings(&der, &lo, "e_crl_number_increasing");
        lo.prev_number = -1;
        /* entry findings from the entries read one by one */
        const int bad[] = {6, 8, 10};
        const char *ids[] = {"e_crl_reason_certificate_hold", "e_crl_reason_remove_from_crl",
                             "e_crl_reason_not_allowed"};
        for (size_t k = 0; k < 3; k++) {
                v[100 * k + 5].reason = bad[k];
                v[100 * k + 7].reason = bad[k];
                qbuf_reset(&der);
                build(&ca, v, 3000, 78, "http://x.example/crl/1/0.crl", &der);
                same_findings(&der, &lo, ids[k]);
                v[100 * k + 5].reason = 1;
                v[100 * k + 7].reason = 1;
        }
        /* an entry quill never writes (an invalidityDate): OpenSSL reads it */
        qbuf_reset(&der);
        build(&ca, v, 3000, 79, "http://x.example/crl/1/0.crl", &der);
        X509_CRL *crl = parse(&der);
        X509_REVOKED *r = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl), 0);
        ASN1_GENERALIZEDTIME *gt = ASN1_GENERALIZEDTIME_set(NULL, 1700000000);
        assert_int_equal(X509_REVOKED_add1_ext_i2d(r, NID_invalidity_date, gt, 0, 0), 1);
        ASN1_GENERALIZEDTIME_free(gt);
        EVP_MD_CTX *md = pki_sign_ctx(ca.key);
        assert_true(X509_CRL_sign_ctx(crl, md) > 0);
        EVP_MD_CTX_free(md);
        unsigned char *odd = NULL;
        int ol = i2d_X509_CRL(crl, &odd);
        assert_true(ol > 0);
        qbuf_reset(&der);
        assert_true(qbuf_append(&der, odd, (size_t)ol));
        same_findings(&der, &lo, NULL);
        OPENSSL_free(odd);
        X509_CRL_free(crl);
        /* broken framing: both refuse it the same way */
        der.data[1] ^= 0x01;
        struct lint_report rep;
        lint_report_init(&rep);
        struct qerr_info ei;
        assert_int_equal(lint_crl_der(der.data, der.len, &lo, &rep, &ei), QERR_PEM_INVALID);
        lint_report_free(&rep);
        qbuf_free(&der);
        free(v);
        OPENSSL_free(ider);
        free_ca(&ca);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_entry_roundtrip),     cmocka_unit_test(test_entry_encode_refuses),
            cmocka_unit_test(test_entry_parse_refuses), cmocka_unit_test(test_der_element_len),
            cmocka_unit_test(test_crl_ec256),           cmocka_unit_test(test_crl_ec384_rsa_sm2),
            cmocka_unit_test(test_crl_length_forms),    cmocka_unit_test(test_tbs_refuses),
            cmocka_unit_test(test_gate_header),         cmocka_unit_test(test_gate_entry),
            cmocka_unit_test(test_lint_fast_path),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
