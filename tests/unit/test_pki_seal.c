/*
 * test_pki_seal.c - sealing subscriber keys under the data key (AES-256-GCM):
 * round trips of several sizes, the blob layout, fresh nonces, and the
 * refusals: every single-bit change of every byte, a wrong key, a wrong
 * additional-data string, every truncation and an extension. A refusal
 * never writes anything to the output buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pki/pki_seal.h"

static const uint8_t KEY[SEAL_KEY_BYTES] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const char AAD[] = "quill-key:4f2a:CN=Unit Issuing";
static const char PLAIN[] = "-----BEGIN PRIVATE KEY-----\nnot really a key, but secret\n"
                            "-----END PRIVATE KEY-----\n";

#define OVERHEAD (3 + 12 + 16)

/* Seals `len` bytes of `plain`; returns the blob in `out`. */
static void seal(const void *plain, size_t len, const char *aad, struct qbuf *out)
{
        struct qerr_info ei;
        qbuf_init(out, 1 << 20);
        assert_int_equal(pki_seal(KEY, aad, plain, len, out, &ei), QERR_OK);
        assert_int_equal(out->len, len + OVERHEAD);
}

/* Unseals and expects a refusal that leaves the output empty. */
static void refused(const uint8_t key[SEAL_KEY_BYTES], const char *aad, const void *blob,
                    size_t len)
{
        struct qbuf out;
        struct qerr_info ei;
        qbuf_init(&out, 1 << 20);
        /* a damaged blob (internal) or one that does not authenticate
         * (another data key, a changed byte: data_key_wrong) */
        enum qerr rc = pki_unseal(key, aad, blob, len, &out, &ei);
        assert_true(rc == QERR_INTERNAL || rc == QERR_DATA_KEY_WRONG);
        assert_true(strlen(qerr_message(&ei)) > 0);
        assert_int_equal(out.len, 0);
        qbuf_free(&out);
}

static void test_round_trip_sizes(void **state)
{
        (void)state;
        static const size_t sizes[] = {0, 1, 15, 16, 17, sizeof PLAIN - 1, 4096, 65537};
        uint8_t *big = malloc(65537);
        assert_non_null(big);
        for (size_t i = 0; i < 65537; i++)
                big[i] = (uint8_t)(i * 7 + 3);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                struct qbuf blob, back;
                struct qerr_info ei;
                seal(big, sizes[s], AAD, &blob);
                assert_memory_equal(blob.data, "QS1", 3);
                qbuf_init(&back, 1 << 20);
                assert_int_equal(pki_unseal(KEY, AAD, blob.data, blob.len, &back, &ei), QERR_OK);
                assert_int_equal(back.len, sizes[s]);
                if (sizes[s])
                        assert_memory_equal(back.data, big, sizes[s]);
                qbuf_free(&blob);
                qbuf_free(&back);
        }
        free(big);
}

static void test_plaintext_does_not_show(void **state)
{
        (void)state;
        struct qbuf blob;
        seal(PLAIN, sizeof PLAIN - 1, AAD, &blob);
        assert_null(memmem(blob.data, blob.len, "secret", 6));
        assert_null(memmem(blob.data, blob.len, "PRIVATE KEY", 11));
        qbuf_free(&blob);
}

static void test_fresh_nonce_each_time(void **state)
{
        (void)state;
        struct qbuf a, b;
        seal(PLAIN, sizeof PLAIN - 1, AAD, &a);
        seal(PLAIN, sizeof PLAIN - 1, AAD, &b);
        assert_int_equal(a.len, b.len);
        /* nonce (bytes 3..14) and so the ciphertext differ */
        assert_memory_not_equal(a.data + 3, b.data + 3, 12);
        assert_memory_not_equal(a.data + 15, b.data + 15, a.len - 15);
        qbuf_free(&a);
        qbuf_free(&b);
}

static void test_every_byte_is_protected(void **state)
{
        (void)state;
        struct qbuf blob;
        seal(PLAIN, sizeof PLAIN - 1, AAD, &blob);
        uint8_t *copy = malloc(blob.len);
        assert_non_null(copy);
        for (size_t i = 0; i < blob.len; i++) {
                for (int bit = 0; bit < 8; bit++) {
                        memcpy(copy, blob.data, blob.len);
                        copy[i] ^= (uint8_t)(1u << bit);
                        refused(KEY, AAD, copy, blob.len);
                }
        }
        free(copy);
        qbuf_free(&blob);
}

static void test_wrong_key(void **state)
{
        (void)state;
        struct qbuf blob;
        seal(PLAIN, sizeof PLAIN - 1, AAD, &blob);
        for (size_t i = 0; i < SEAL_KEY_BYTES; i++) {
                uint8_t other[SEAL_KEY_BYTES];
                memcpy(other, KEY, sizeof other);
                other[i] ^= 0x80;
                refused(other, AAD, blob.data, blob.len);
        }
        static const uint8_t zero[SEAL_KEY_BYTES];
        refused(zero, AAD, blob.data, blob.len);
        struct qerr_info ei;
        struct qbuf out;
        qbuf_init(&out, 1 << 20);
        assert_int_equal(pki_unseal(zero, AAD, blob.data, blob.len, &out, &ei),
                         QERR_DATA_KEY_WRONG);
        /* the sentence says what to fix */
        assert_non_null(strstr(qerr_message(&ei), "data key"));
        qbuf_free(&out);
        qbuf_free(&blob);
}

static void test_wrong_aad(void **state)
{
        (void)state;
        struct qbuf blob;
        seal(PLAIN, sizeof PLAIN - 1, AAD, &blob);
        /* another certificate row, a prefix, an extension, nothing */
        static const char *const others[] = {
            "quill-key:4f2b:CN=Unit Issuing", "quill-key:4f2a:CN=Unit Issuin",
            "quill-key:4f2a:CN=Unit Issuing ", "", "quill-order-key:1"};
        for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
                refused(KEY, others[i], blob.data, blob.len);
        qbuf_free(&blob);

        /* an empty AAD is bound too */
        seal(PLAIN, sizeof PLAIN - 1, "", &blob);
        struct qbuf out;
        struct qerr_info ei;
        qbuf_init(&out, 1 << 20);
        assert_int_equal(pki_unseal(KEY, "", blob.data, blob.len, &out, &ei), QERR_OK);
        refused(KEY, "x", blob.data, blob.len);
        qbuf_free(&out);
        qbuf_free(&blob);
}

static void test_truncated_and_extended(void **state)
{
        (void)state;
        struct qbuf blob;
        seal(PLAIN, sizeof PLAIN - 1, AAD, &blob);
        for (size_t len = 0; len < blob.len; len++)
                refused(KEY, AAD, blob.data, len);
        uint8_t *longer = malloc(blob.len + 1);
        assert_non_null(longer);
        memcpy(longer, blob.data, blob.len);
        longer[blob.len] = 0;
        refused(KEY, AAD, longer, blob.len + 1);
        free(longer);
        qbuf_free(&blob);

        /* an empty plaintext seals to the bare overhead; one byte less fails */
        seal("", 0, AAD, &blob);
        struct qbuf out;
        struct qerr_info ei;
        qbuf_init(&out, 16);
        assert_int_equal(pki_unseal(KEY, AAD, blob.data, blob.len, &out, &ei), QERR_OK);
        assert_int_equal(out.len, 0);
        refused(KEY, AAD, blob.data, blob.len - 1);
        qbuf_free(&out);
        qbuf_free(&blob);
}

static void test_output_buffer_too_small(void **state)
{
        (void)state;
        struct qbuf small;
        struct qerr_info ei;
        qbuf_init(&small, 20); /* less than the overhead plus the text */
        assert_int_equal(pki_seal(KEY, AAD, PLAIN, sizeof PLAIN - 1, &small, &ei), QERR_INTERNAL);
        qbuf_free(&small);

        struct qbuf blob;
        seal(PLAIN, sizeof PLAIN - 1, AAD, &blob);
        qbuf_init(&small, 8);
        assert_int_equal(pki_unseal(KEY, AAD, blob.data, blob.len, &small, &ei), QERR_INTERNAL);
        assert_int_equal(small.len, 0);
        qbuf_free(&small);
        qbuf_free(&blob);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_round_trip_sizes),
            cmocka_unit_test(test_plaintext_does_not_show),
            cmocka_unit_test(test_fresh_nonce_each_time),
            cmocka_unit_test(test_every_byte_is_protected),
            cmocka_unit_test(test_wrong_key),
            cmocka_unit_test(test_wrong_aad),
            cmocka_unit_test(test_truncated_and_extended),
            cmocka_unit_test(test_output_buffer_too_small),
        };
        return cmocka_run_group_tests_name("pki_seal", tests, NULL, NULL);
}
