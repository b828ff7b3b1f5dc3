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
 * Decoded structs point into the frame buffer they were decoded from (no
 * copies): they are valid while that buffer lives. Encoders append to a
 * caller-owned qbuf. Any thread; no state.
 */
#ifndef QUILL_SIGNER_PROTO_H
#define QUILL_SIGNER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"

#define SIGNER_MAX_NAMES 100
#define SIGNER_MAX_CRL_ENTRIES 10000
#define SIGNER_MAX_URL 512
#define SIGNER_MAX_SERIAL 20
#define SIGNER_MAX_PASSPHRASE 1024

enum signer_msg {
        SMSG_PING = 1,
        SMSG_CREATE_ROOT = 2,    /* req: key_alg, subject -> resp: cert_der, key_id */
        SMSG_CREATE_ISSUING = 3, /* req: issuer, key_alg, subject, urls -> cert_der, key_id */
        SMSG_SIGN_CERT = 4,      /* req: issuer, spki, names, times, serial, profile, urls */
        SMSG_SIGN_CRL = 5,       /* req: issuer, crl_number, times, entries */
        SMSG_INIT = 6,           /* the first message, once: data dir, limits, passphrase */
        SMSG_OK = 64,            /* resp: cert_der / crl_der, key_id */
        SMSG_ERROR = 65,         /* resp: code, message */
};

/* A borrowed byte string (points into a frame). */
struct sbytes {
        const uint8_t *p;
        size_t len;
};

struct crl_entry_wire {
        struct sbytes serial; /* big-endian magnitude, 1..20 bytes */
        int64_t revoked_at;
        int64_t reason; /* RFC 5280 CRLReason, 0 = unspecified (omitted) */
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
        struct crl_entry_wire *entries; /* owned by the req: signer_req_clear */
        size_t nentries;
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
};

struct signer_resp {
        enum signer_msg type; /* SMSG_OK or SMSG_ERROR */
        struct sbytes der;    /* certificate or CRL */
        struct sbytes key_id; /* hex SHA-256 of the new CA's SPKI */
        int64_t code;         /* enum qerr, for SMSG_ERROR */
        struct sbytes message;
        int64_t crl_number; /* SMSG_ERROR crl_number_not_increasing: the signer's high-water
                               mark for the CA (0: absent) */
};

/* Encoders: append one whole frame to `out`. false when it does not fit. */
bool signer_encode_req(const struct signer_req *r, struct qbuf *out);
bool signer_encode_resp(const struct signer_resp *r, struct qbuf *out);

/* Decoders take the bytes after the 4-byte length (type + fields). */
enum qerr signer_decode_req(const uint8_t *p, size_t len, struct signer_req *out,
                            struct qerr_info *ei);
enum qerr signer_decode_resp(const uint8_t *p, size_t len, struct signer_resp *out,
                             struct qerr_info *ei);
void signer_req_clear(struct signer_req *r);

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
