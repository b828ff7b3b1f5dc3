/*
 * signer_proto.h - the typed messages between the main process and the
 * signer process (ARCHITECTURE.md "Two processes").
 *
 * A message on the socketpair is a frame: 4-byte big-endian length (of what
 * follows, at most MAX_SIGNER_MSG_BYTES), 1-byte message type, then fields.
 * A field is 1-byte tag, 4-byte big-endian length, value. Integers are
 * 8-byte big-endian two's complement. Each message type has a fixed set of
 * allowed tags; unknown tags, repeated single fields, missing required fields,
 * over-long values or too many repeated fields make the decoder refuse the
 * whole message (QERR_PROTO). The decoder is a fuzz target
 * (fuzz/fuzz_signer_proto.c).
 *
 * A CRL of any size crosses the channel as a session of several frames, each
 * answered before the next is sent (docs/internals/crl.md):
 *   CRL_BEGIN   issuer, number, times, distribution point, entry count and
 *               byte length  -> OK (the signer checked and linted the header)
 *   CRL_ENTRIES DER of whole RevokedCertificate entries (at most one frame's
 *               worth each)  -> OK (each entry checked and hashed)
 *   CRL_FINISH               -> OK with the TBSCertList head and tail, the
 *               signature algorithm and the signature
 * The main process keeps the entries and assembles the CRL (pki_crl_wrap);
 * the signer never holds more than one frame. signer_crl_drive() runs a
 * session over any request/answer transport.
 *
 * Decoded structs point into the frame buffer they were decoded from (no
 * copies): they are valid while that buffer lives. Encoders append to a
 * caller-owned qbuf. Any thread; no state.
 */
#ifndef QUILL_SIGNER_PROTO_H
#define QUILL_SIGNER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"

#define SIGNER_MAX_NAMES 100
/* CRL entries per CRL_ENTRIES frame: whole entries, at most this many bytes */
#define SIGNER_CRL_CHUNK_BYTES (MAX_SIGNER_MSG_BYTES - 64u)
#define SIGNER_MAX_URL 512
#define SIGNER_MAX_SERIAL 20
#define SIGNER_MAX_PASSPHRASE 1024
#define SIGNER_MAX_OCSP_ENTRIES 256 /* single responses per SIGN_OCSP message */
#define SIGNER_MAX_OCSP_DER 16384   /* one signed OCSPResponse */

enum signer_msg {
        SMSG_PING = 1,
        SMSG_CREATE_ROOT = 2,    /* req: key_alg, subject -> resp: cert_der, key_id */
        SMSG_CREATE_ISSUING = 3, /* req: issuer, key_alg, subject, urls -> cert_der, key_id */
        SMSG_SIGN_CERT = 4,      /* req: issuer, spki, names, times, serial, profile, urls */
        /* 5 was a one-frame CRL request (at most ~4,000 entries); gone */
        SMSG_INIT = 6,             /* the first message, once: data dir, limits, passphrase */
        SMSG_CREATE_RESPONDER = 7, /* req: issuer, not_before, not_after -> cert_der, key_id */
        SMSG_SIGN_OCSP = 8,        /* req: issuer, responder, this/next update, ocsp entries
                                      -> one OCSPResponse DER per entry, in order */
        SMSG_CRL_BEGIN = 10,       /* req: issuer, crl_number, times, crl_url (the IDP),
                                      entry_count, entries_len */
        SMSG_CRL_ENTRIES = 11,     /* req: entries (DER, whole entries) */
        SMSG_CRL_FINISH = 12,      /* req: nothing -> OK with crl_head, crl_tail, sig_alg,
                                      signature */
        /* the journal (two-phase issuance, signer_journal.c) */
        SMSG_JOURNAL_READ = 20, /* req: cursor? -> OK with jentries, jfiles, cursor? */
        SMSG_JOURNAL_TRIM = 21, /* req: jfiles (name, end) -> OK */
        SMSG_OK = 64,           /* resp: cert_der, key_id; or the CRL parts */
        SMSG_ERROR = 65,        /* resp: code, message (and crl_number) */
};

/* A borrowed byte string (points into a frame). */
struct sbytes {
        const uint8_t *p;
        size_t len;
};

/* One journal record handed back to the main process (SMSG_JOURNAL_READ). */
struct journal_wire {
        struct sbytes file; /* the journal file's name */
        int64_t offset;     /* the record's offset in that file */
        int64_t seq;
        int64_t signed_at;
        struct sbytes serial; /* 1..20 bytes */
        struct sbytes key_id; /* the issuer's key id, 64 hex digits */
        struct sbytes der;
};

/* A journal file and a byte offset in it: in a SMSG_JOURNAL_READ answer, a
 * file read to its end (`end` just past its last intact record; `torn` when
 * bytes follow); in SMSG_JOURNAL_TRIM, a file whose records up to `end` are
 * all stored; as a cursor, where the next page starts. */
#define JFILE_TORN 1u
#define JFILE_BAD_HEADER 2u
struct jfile_wire {
        struct sbytes name;
        int64_t end;
        uint8_t flags;
};

#define SIGNER_MAX_JFILES 4096
#define SIGNER_JOURNAL_PAGE (160u * 1024u) /* record bytes per READ answer (one at least) */

/* One certificate's status for SMSG_SIGN_OCSP. */
enum ocsp_wire_status { OCSP_WIRE_GOOD = 0, OCSP_WIRE_REVOKED = 1 };
struct ocsp_entry_wire {
        struct sbytes serial; /* big-endian magnitude, 1..20 bytes */
        int64_t status;       /* enum ocsp_wire_status */
        int64_t revoked_at;   /* revoked: when */
        int64_t reason;       /* revoked: RFC 5280 CRLReason, 0 = unspecified (omitted) */
};

struct signer_req {
        enum signer_msg type;
        struct sbytes key_alg;    /* "ec256" ... */
        struct sbytes subject;    /* "CN=...,O=..." for CA creation */
        struct sbytes issuer_der; /* issuer certificate (DER) */
        struct sbytes spki_der;   /* subject public key (DER SPKI) */
        struct sbytes names[SIGNER_MAX_NAMES];
        size_t nnames;
        int64_t not_before, not_after;
        struct sbytes serial;
        /* "private", "dv", "ov", "ev", or an issuance profile's wire name
         * ("tlsserver", "shortlived": src/policy/profile.h) */
        struct sbytes profile;
        struct sbytes crl_url, ocsp_url, ca_issuers_url;
        struct sbytes org; /* OV/EV: "O=..\nC=..\nST=..\nL=..", else empty */
        int64_t crl_number;
        int64_t this_update, next_update;
        int64_t entry_count, entries_len; /* CRL_BEGIN: what CRL_ENTRIES will carry */
        struct sbytes entries;            /* CRL_ENTRIES */
        /* SMSG_INIT: what the signer process needs (it has no environment
         * and no configuration file of its own) */
        struct sbytes data_dir;
        int64_t private_max_days, public_max_days;
        int64_t log_level;        /* enum qlog_level */
        /* [validation] allow_private_addresses (tests only): IP addresses of
         * special-purpose blocks may be certified; absent: 0 */
        int64_t allow_private;
        struct sbytes passphrase; /* the CA passphrase; absent when there is none */
        struct sbytes note;       /* why there is none (a file that could not be read) */
        /* SMSG_JOURNAL_READ: where to go on (absent: from the start) */
        struct jfile_wire cursor;
        bool has_cursor;
        /* SMSG_JOURNAL_TRIM: owned by the req (signer_req_clear) */
        struct jfile_wire *jfiles;
        size_t njfiles;
        /* SMSG_SIGN_OCSP (issue 6): the delegated responder certificate whose
         * key (held by this signer) signs, and the statuses to sign */
        struct sbytes responder_der;
        struct ocsp_entry_wire *ocsp; /* owned by the req: signer_req_clear */
        size_t nocsp;
};

struct signer_resp {
        enum signer_msg type; /* SMSG_OK or SMSG_ERROR */
        struct sbytes der;    /* certificate or CRL */
        struct sbytes key_id; /* hex SHA-256 of the new CA's SPKI */
        int64_t code;         /* enum qerr, for SMSG_ERROR */
        struct sbytes message;
        int64_t crl_number; /* SMSG_ERROR crl_number_not_increasing: the signer's high-water
                               mark for the CA (0: absent) */
        /* CRL_FINISH: TBSCertList = crl_head + entries + crl_tail */
        struct sbytes crl_head, crl_tail, sig_alg, signature;
        /* SMSG_JOURNAL_READ answers: owned by the resp when decoded
         * (signer_resp_clear); borrowed when encoded */
        struct journal_wire *jentries;
        size_t njentries;
        struct jfile_wire *jfiles;
        size_t njfiles;
        struct jfile_wire cursor; /* the next page, when has_cursor */
        bool has_cursor;
        /* SMSG_OK to SMSG_SIGN_OCSP: the OCSPResponses, one per entry asked for */
        struct sbytes ocsp[SIGNER_MAX_OCSP_ENTRIES];
        size_t nocsp;
};

/* Encoders: append one whole frame to `out`. false when it does not fit. */
bool signer_encode_req(const struct signer_req *r, struct qbuf *out);
bool signer_encode_resp(const struct signer_resp *r, struct qbuf *out);

/* Decoders take the bytes after the 4-byte length (type + fields). */
enum qerr signer_decode_req(const uint8_t *p, size_t len, struct signer_req *out,
                            struct qerr_info *ei);
enum qerr signer_decode_resp(const uint8_t *p, size_t len, struct signer_resp *out,
                             struct qerr_info *ei);
/* Releases what a decoded request owns (nothing today: decoded requests
 * point into their frame; kept for callers). */
void signer_req_clear(struct signer_req *r);
/* An SMSG_ERROR answer as the error it carries (code and sentence); QERR_OK
 * for SMSG_OK. */
enum qerr signer_resp_error(const struct signer_resp *resp, struct qerr_info *ei);

/* One request frame out, one answer frame in (the answer's bytes after the
 * length go to `answer`). */
typedef enum qerr (*signer_roundtrip_fn)(void *ctx, const struct qbuf *request, struct qbuf *answer,
                                         struct qerr_info *ei);
/* Runs a whole CRL session: `begin` (type CRL_BEGIN; entry_count and
 * entries_len are filled in here) then `entries` (the DER of whole
 * RevokedCertificate entries, `count` of them) in frames, then CRL_FINISH.
 * On success `resp` holds the FINISH answer, pointing into `answer`; on an
 * SMSG_ERROR answer it holds that answer (crl_number_not_increasing carries
 * the signer's mark) and the error is returned. The transport must keep
 * other requests out until it returns. */
enum qerr signer_crl_drive(signer_roundtrip_fn rt, void *ctx, struct signer_req *begin,
                           const uint8_t *entries, size_t entries_len, size_t count,
                           struct qbuf *answer, struct signer_resp *resp, struct qerr_info *ei);
/* Frees what a decoded answer owns (journal entries and files). */
void signer_resp_clear(struct signer_resp *r);

/* Frame I/O on a blocking fd. read_frame fills `frame` (max set by the
 * caller) with the bytes after the length. QERR_SIGNER_UNAVAILABLE on EOF or
 * error, QERR_PROTO on an over-long frame. */
enum qerr signer_write_frame(int fd, const struct qbuf *frame, struct qerr_info *ei);
enum qerr signer_read_frame(int fd, struct qbuf *frame, struct qerr_info *ei);

/* The organisation field of an OV/EV request, "O=..\nC=..\nST=..\nL=..":
 * O, a two-letter C, and ST or L are required (BR 7.1.2.7.4); any other
 * attribute, a repeat, a control character or an over-long value is refused
 * (QERR_SIGNER_REFUSED). Fuzzed with the decoder. */
struct org_subject {
        char o[65], c[3], st[129], l[129];
};
enum qerr signer_parse_org(struct sbytes b, struct org_subject *out, struct qerr_info *ei);

/* Convenience for building requests from C strings. */
struct sbytes sbytes_str(const char *s);
/* Copies an sbytes into a NUL-terminated buffer; false if it does not fit or
 * holds a NUL byte. */
bool sbytes_cstr(struct sbytes b, char *out, size_t outsz);

#endif
