/*
 * journal.h - the on-disk format of the signer's journal (two-phase
 * issuance, issue 7): every certificate the signer signs is appended to a
 * journal file and fsync'd before the signer answers, so a certificate that
 * left the signer can always be found again, whatever happened to the
 * process that asked for it.
 *
 * A journal file (<data>/ca/journal/<name>.jnl, one per signer process) is a
 * 16-byte header, JOURNAL_HEADER, then records:
 *
 *   u32 payload length L (big-endian)
 *   u32 CRC-32C of the length bytes and the payload (big-endian)
 *   payload, L bytes:
 *     u8  record type (1: a certificate)
 *     u64 sequence number (1, 2, ... within the file)
 *     i64 signed at (Unix seconds)
 *     u8  serial length (1..20), serial (big-endian magnitude)
 *     u8  key id length (64), issuer key id (lower-case hex SHA-256 of the
 *         issuing CA's SubjectPublicKeyInfo, the name of its key file)
 *     u32 DER length (1..JOURNAL_MAX_DER), the certificate's DER
 *
 * A process killed while appending leaves at most one torn record, at the
 * end of its file (nobody appends to a file whose writer died): the reader
 * stops at the first record that is short, whose length is out of range, or
 * whose checksum does not match, and ignores the rest. Nothing here does
 * I/O (signer_journal.c reads and writes the files); the parser reads bytes
 * that survived crashes and is a fuzz target (fuzz/fuzz_journal.c).
 *
 * Decoded records point into the caller's buffer. Pure; any thread.
 */
#ifndef QUILL_JOURNAL_H
#define QUILL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"

#define JOURNAL_HEADER "quill-journal-1\n"
#define JOURNAL_HEADER_LEN 16
#define JOURNAL_REC_HEAD 8 /* length + checksum */
#define JOURNAL_MAX_DER 100000u
#define JOURNAL_MAX_SERIAL 20
#define JOURNAL_KEY_ID_LEN 64
#define JOURNAL_TYPE_CERT 1
/* the smallest and largest payloads a valid record can have */
#define JOURNAL_MIN_PAYLOAD (1u + 8u + 8u + 1u + 1u + 1u + JOURNAL_KEY_ID_LEN + 4u + 1u)
#define JOURNAL_MAX_PAYLOAD                                                                        \
        (1u + 8u + 8u + 1u + JOURNAL_MAX_SERIAL + 1u + JOURNAL_KEY_ID_LEN + 4u + JOURNAL_MAX_DER)

struct journal_rec {
        uint64_t seq;
        int64_t signed_at;
        const uint8_t *serial;
        size_t serial_len;
        char key_id[JOURNAL_KEY_ID_LEN + 1];
        const uint8_t *der;
        size_t der_len;
};

enum journal_parse {
        JP_OK,    /* a whole, intact record */
        JP_SHORT, /* fewer bytes than the record needs: a torn tail at the end of a file */
        JP_BAD,   /* not a record: damaged (length out of range, wrong checksum, bad fields) */
};

/* Journal file names: "<20-digit nanoseconds>-<pid>-<8 hex digits>.jnl"
 * (so that names sort by creation time). Anything else in the directory is
 * never read, trimmed or handed out. */
#define JOURNAL_NAME_MAX 63
bool journal_name_ok(const char *name, size_t len);

/* CRC-32C (Castagnoli), the checksum of LevelDB's and ext4's logs. */
uint32_t journal_crc32c(uint32_t crc, const uint8_t *p, size_t len);

/* true when `p` starts with the file header. */
bool journal_header_ok(const uint8_t *p, size_t len);

/* The whole length (head + payload) of the record whose 8-byte head is at
 * `head`; 0 when the length is out of range (the record is damaged). */
size_t journal_record_len(const uint8_t head[JOURNAL_REC_HEAD]);

/* Parses one record at p[0..avail). On JP_OK fills `out` (pointing into p)
 * and *used with the record's length. */
enum journal_parse journal_parse_record(const uint8_t *p, size_t avail, struct journal_rec *out,
                                        size_t *used);

/* Appends one record to `out`; false when a field is out of range or the
 * buffer is full (out unchanged). */
bool journal_encode_record(const struct journal_rec *r, struct qbuf *out);

/* A whole file held in memory (tests, the fuzzer, small tools): calls `fn`
 * for each intact record in order (with its offset) until the first one that
 * is not. */
struct journal_scan {
        bool header_ok;
        size_t records;
        size_t good_end; /* offset just past the last intact record */
        bool torn;       /* bytes follow good_end (a torn or damaged tail) */
};
void journal_scan_buf(const uint8_t *p, size_t len,
                      void (*fn)(const struct journal_rec *r, size_t offset, void *ctx), void *ctx,
                      struct journal_scan *out);

#endif
