/*
 * signer_proto.c - frame encoding and strict decoding; see signer_proto.h.
 */
#include "signer_proto.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum tag {
        T_KEY_ALG = 1,
        T_SUBJECT,
        T_ISSUER,
        T_SPKI,
        T_NAME, /* repeated */
        T_NOT_BEFORE,
        T_NOT_AFTER,
        T_SERIAL,
        T_PROFILE,
        T_CRL_URL,
        T_OCSP_URL,
        T_CAISSUERS_URL,
        T_CRL_NUMBER,
        T_THIS_UPDATE,
        T_NEXT_UPDATE,
        T_ENTRY, /* repeated: serial-len(1) serial revoked_at(8) reason(8) */
        T_DER,
        T_KEY_ID,
        T_CODE,
        T_MESSAGE,
        T_ORG, /* OV/EV subject: "O=..\nC=..\nST=..\nL=.." */
        T_DATA_DIR,
        T_PRIVATE_MAX_DAYS,
        T_PUBLIC_MAX_DAYS,
        T_PASSPHRASE,
        T_NOTE, /* why there is no passphrase */
        T_LOG_LEVEL,
        T_ALLOW_PRIVATE, /* INIT, optional: [validation] allow_private_addresses (tests) */
        T__MAX           /* at most 32: tag sets are 32-bit masks */
};

/* Which tags each request type may carry, and which it must. */
#define B(t) (1u << (t))
static const struct {
        uint32_t allowed, required;
} req_tags[] = {
    [SMSG_PING] = {0, 0},
    [SMSG_CREATE_ROOT] = {B(T_KEY_ALG) | B(T_SUBJECT), B(T_KEY_ALG) | B(T_SUBJECT)},
    [SMSG_CREATE_ISSUING] = {B(T_KEY_ALG) | B(T_SUBJECT) | B(T_ISSUER) | B(T_CRL_URL) |
                                 B(T_CAISSUERS_URL),
                             B(T_KEY_ALG) | B(T_SUBJECT) | B(T_ISSUER)},
    [SMSG_SIGN_CERT] = {B(T_ISSUER) | B(T_SPKI) | B(T_NAME) | B(T_NOT_BEFORE) | B(T_NOT_AFTER) |
                            B(T_SERIAL) | B(T_PROFILE) | B(T_CRL_URL) | B(T_OCSP_URL) |
                            B(T_CAISSUERS_URL) | B(T_ORG),
                        B(T_ISSUER) | B(T_SPKI) | B(T_NAME) | B(T_NOT_BEFORE) | B(T_NOT_AFTER) |
                            B(T_SERIAL) | B(T_PROFILE)},
    [SMSG_SIGN_CRL] = {B(T_ISSUER) | B(T_CRL_NUMBER) | B(T_THIS_UPDATE) | B(T_NEXT_UPDATE) |
                           B(T_ENTRY),
                       B(T_ISSUER) | B(T_CRL_NUMBER) | B(T_THIS_UPDATE) | B(T_NEXT_UPDATE)},
    [SMSG_INIT] = {B(T_DATA_DIR) | B(T_PRIVATE_MAX_DAYS) | B(T_PUBLIC_MAX_DAYS) | B(T_PASSPHRASE) |
                       B(T_NOTE) | B(T_LOG_LEVEL) | B(T_ALLOW_PRIVATE),
                   B(T_DATA_DIR) | B(T_PRIVATE_MAX_DAYS) | B(T_PUBLIC_MAX_DAYS) | B(T_LOG_LEVEL)},
};
_Static_assert(T__MAX <= 32, "tag sets are 32-bit masks");

static const uint32_t max_len[T__MAX] = {
    [T_KEY_ALG] = 16,
    [T_SUBJECT] = 1024,
    [T_ISSUER] = 16384,
    [T_SPKI] = 4096,
    [T_NAME] = 253,
    [T_NOT_BEFORE] = 8,
    [T_NOT_AFTER] = 8,
    [T_SERIAL] = 20,
    [T_PROFILE] = 16,
    [T_CRL_URL] = 512,
    [T_OCSP_URL] = 512,
    [T_CAISSUERS_URL] = 512,
    [T_CRL_NUMBER] = 8,
    [T_THIS_UPDATE] = 8,
    [T_NEXT_UPDATE] = 8,
    [T_ENTRY] = 1 + 20 + 16,
    [T_DER] = 200000,
    [T_KEY_ID] = 64,
    [T_CODE] = 8,
    [T_MESSAGE] = 1024,
    [T_ORG] = 512,
    [T_DATA_DIR] = 4095,
    [T_PRIVATE_MAX_DAYS] = 8,
    [T_PUBLIC_MAX_DAYS] = 8,
    [T_PASSPHRASE] = SIGNER_MAX_PASSPHRASE,
    [T_NOTE] = 512,
    [T_LOG_LEVEL] = 8,
    [T_ALLOW_PRIVATE] = 8,
};

static void put_u32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_i64(uint8_t *p, int64_t v)
{
        uint64_t u = (uint64_t)v;
        for (int i = 7; i >= 0; i--, u >>= 8)
                p[i] = (uint8_t)u;
}

static int64_t get_i64(const uint8_t *p)
{
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
                u = u << 8 | p[i];
        return (int64_t)u;
}

static bool field(struct qbuf *out, enum tag t, const void *p, size_t len)
{
        uint8_t h[5];
        if (len > max_len[t])
                return false;
        h[0] = (uint8_t)t;
        put_u32(h + 1, (uint32_t)len);
        return qbuf_append(out, h, 5) && qbuf_append(out, p, len);
}

static bool field_bytes(struct qbuf *out, enum tag t, struct sbytes b)
{
        return b.p == NULL || field(out, t, b.p, b.len);
}

static bool field_i64(struct qbuf *out, enum tag t, int64_t v)
{
        uint8_t b[8];
        put_i64(b, v);
        return field(out, t, b, 8);
}

/* Starts a frame: reserves the length, writes the type. */
static size_t frame_begin(struct qbuf *out, enum signer_msg type, bool *ok)
{
        size_t start = out->len;
        uint8_t h[5] = {0, 0, 0, 0, (uint8_t)type};
        *ok = qbuf_append(out, h, 5);
        return start;
}

static bool frame_end(struct qbuf *out, size_t start, bool ok)
{
        if (!ok || out->len - start - 4 > MAX_SIGNER_MSG_BYTES) {
                out->len = start;
                return false;
        }
        put_u32(out->data + start, (uint32_t)(out->len - start - 4));
        return true;
}

bool signer_encode_req(const struct signer_req *r, struct qbuf *out)
{
        bool ok;
        size_t start = frame_begin(out, r->type, &ok);
        uint32_t allowed =
            (size_t)r->type < sizeof req_tags / sizeof req_tags[0] ? req_tags[r->type].allowed : 0;
        if (allowed & B(T_KEY_ALG))
                ok = ok && field_bytes(out, T_KEY_ALG, r->key_alg);
        if (allowed & B(T_SUBJECT))
                ok = ok && field_bytes(out, T_SUBJECT, r->subject);
        if (allowed & B(T_ISSUER))
                ok = ok && field_bytes(out, T_ISSUER, r->issuer_der);
        if (allowed & B(T_SPKI))
                ok = ok && field_bytes(out, T_SPKI, r->spki_der);
        for (size_t i = 0; ok && (allowed & B(T_NAME)) && i < r->nnames; i++)
                ok = field_bytes(out, T_NAME, r->names[i]);
        if (allowed & B(T_NOT_BEFORE))
                ok = ok && field_i64(out, T_NOT_BEFORE, r->not_before) &&
                     field_i64(out, T_NOT_AFTER, r->not_after);
        if (allowed & B(T_SERIAL))
                ok = ok && field_bytes(out, T_SERIAL, r->serial);
        if (allowed & B(T_PROFILE))
                ok = ok && field_bytes(out, T_PROFILE, r->profile);
        if (allowed & B(T_CRL_URL))
                ok = ok && field_bytes(out, T_CRL_URL, r->crl_url);
        if (allowed & B(T_OCSP_URL))
                ok = ok && field_bytes(out, T_OCSP_URL, r->ocsp_url);
        if (allowed & B(T_CAISSUERS_URL))
                ok = ok && field_bytes(out, T_CAISSUERS_URL, r->ca_issuers_url);
        if ((allowed & B(T_ORG)) && r->org.len)
                ok = ok && field_bytes(out, T_ORG, r->org);
        if (allowed & B(T_CRL_NUMBER))
                ok = ok && field_i64(out, T_CRL_NUMBER, r->crl_number) &&
                     field_i64(out, T_THIS_UPDATE, r->this_update) &&
                     field_i64(out, T_NEXT_UPDATE, r->next_update);
        if (allowed & B(T_DATA_DIR))
                ok = ok && field_bytes(out, T_DATA_DIR, r->data_dir) &&
                     field_i64(out, T_PRIVATE_MAX_DAYS, r->private_max_days) &&
                     field_i64(out, T_PUBLIC_MAX_DAYS, r->public_max_days) &&
                     field_i64(out, T_LOG_LEVEL, r->log_level);
        if ((allowed & B(T_PASSPHRASE)) && r->passphrase.len)
                ok = ok && field_bytes(out, T_PASSPHRASE, r->passphrase);
        if ((allowed & B(T_NOTE)) && r->note.len)
                ok = ok && field_bytes(out, T_NOTE, r->note);
        if ((allowed & B(T_ALLOW_PRIVATE)) && r->allow_private)
                ok = ok && field_i64(out, T_ALLOW_PRIVATE, r->allow_private);
        for (size_t i = 0; ok && (allowed & B(T_ENTRY)) && i < r->nentries; i++) {
                const struct crl_entry_wire *e = &r->entries[i];
                uint8_t buf[1 + 20 + 16];
                if (e->serial.len == 0 || e->serial.len > 20) {
                        ok = false;
                        break;
                }
                buf[0] = (uint8_t)e->serial.len;
                memcpy(buf + 1, e->serial.p, e->serial.len);
                put_i64(buf + 1 + e->serial.len, e->revoked_at);
                put_i64(buf + 9 + e->serial.len, e->reason);
                ok = field(out, T_ENTRY, buf, 17 + e->serial.len);
        }
        return frame_end(out, start, ok);
}

bool signer_encode_resp(const struct signer_resp *r, struct qbuf *out)
{
        bool ok;
        size_t start = frame_begin(out, r->type, &ok);
        if (r->type == SMSG_OK) {
                ok = ok && field_bytes(out, T_DER, r->der) && field_bytes(out, T_KEY_ID, r->key_id);
        } else {
                ok = ok && field_i64(out, T_CODE, r->code) &&
                     field_bytes(out, T_MESSAGE, r->message);
                if (r->crl_number)
                        ok = ok && field_i64(out, T_CRL_NUMBER, r->crl_number);
        }
        return frame_end(out, start, ok);
}

/* Walks the fields of a frame body, calling `fn` for each. Enforces
 * allowed tags, lengths, and no repeats of single fields. */
typedef enum qerr (*field_fn)(void *ctx, enum tag t, const uint8_t *v, uint32_t len,
                              struct qerr_info *ei);

static enum qerr walk(const uint8_t *p, size_t len, uint32_t allowed, uint32_t required,
                      uint32_t repeatable, field_fn fn, void *ctx, struct qerr_info *ei)
{
        uint32_t seen = 0;
        size_t off = 0;
        while (off < len) {
                if (len - off < 5)
                        return qerr_set(ei, QERR_PROTO, "truncated field header at %zu", off);
                uint8_t t = p[off];
                uint32_t flen = get_u32(p + off + 1);
                off += 5;
                if (t == 0 || t >= T__MAX || !(allowed & B(t)))
                        return qerr_set(ei, QERR_PROTO, "field %u not allowed here", t);
                if ((seen & B(t)) && !(repeatable & B(t)))
                        return qerr_set(ei, QERR_PROTO, "field %u repeated", t);
                if (flen > max_len[t] || flen > len - off)
                        return qerr_set(ei, QERR_PROTO, "field %u too long", t);
                seen |= B(t);
                enum qerr rc = fn(ctx, (enum tag)t, p + off, flen, ei);
                if (rc != QERR_OK)
                        return rc;
                off += flen;
        }
        if ((seen & required) != required)
                return qerr_set(ei, QERR_PROTO, "required field missing");
        return QERR_OK;
}

static enum qerr need8(uint32_t len, struct qerr_info *ei)
{
        return len == 8 ? QERR_OK : qerr_set(ei, QERR_PROTO, "integer field must be 8 bytes");
}

static enum qerr req_field(void *ctx, enum tag t, const uint8_t *v, uint32_t len,
                           struct qerr_info *ei)
{
        struct signer_req *r = ctx;
        struct sbytes b = {v, len};
        switch (t) {
        case T_KEY_ALG:
                r->key_alg = b;
                break;
        case T_SUBJECT:
                r->subject = b;
                break;
        case T_ISSUER:
                r->issuer_der = b;
                break;
        case T_SPKI:
                r->spki_der = b;
                break;
        case T_NAME:
                if (r->nnames >= SIGNER_MAX_NAMES)
                        return qerr_set(ei, QERR_PROTO, "too many names");
                if (len == 0)
                        return qerr_set(ei, QERR_PROTO, "empty name");
                r->names[r->nnames++] = b;
                break;
        case T_SERIAL:
                if (len == 0)
                        return qerr_set(ei, QERR_PROTO, "empty serial");
                r->serial = b;
                break;
        case T_PROFILE:
                r->profile = b;
                break;
        case T_CRL_URL:
                r->crl_url = b;
                break;
        case T_OCSP_URL:
                r->ocsp_url = b;
                break;
        case T_CAISSUERS_URL:
                r->ca_issuers_url = b;
                break;
        case T_ORG:
                r->org = b;
                break;
        case T_DATA_DIR:
                if (len == 0)
                        return qerr_set(ei, QERR_PROTO, "empty data directory");
                r->data_dir = b;
                break;
        case T_PASSPHRASE:
                r->passphrase = b;
                break;
        case T_NOTE:
                r->note = b;
                break;
        case T_PRIVATE_MAX_DAYS:
        case T_PUBLIC_MAX_DAYS:
        case T_LOG_LEVEL:
        case T_ALLOW_PRIVATE:
        case T_NOT_BEFORE:
        case T_NOT_AFTER:
        case T_CRL_NUMBER:
        case T_THIS_UPDATE:
        case T_NEXT_UPDATE: {
                enum qerr rc = need8(len, ei);
                if (rc != QERR_OK)
                        return rc;
                int64_t x = get_i64(v);
                if (t == T_PRIVATE_MAX_DAYS)
                        r->private_max_days = x;
                else if (t == T_PUBLIC_MAX_DAYS)
                        r->public_max_days = x;
                else if (t == T_LOG_LEVEL)
                        r->log_level = x;
                else if (t == T_ALLOW_PRIVATE)
                        r->allow_private = x;
                else if (t == T_NOT_BEFORE)
                        r->not_before = x;
                else if (t == T_NOT_AFTER)
                        r->not_after = x;
                else if (t == T_CRL_NUMBER)
                        r->crl_number = x;
                else if (t == T_THIS_UPDATE)
                        r->this_update = x;
                else
                        r->next_update = x;
                break;
        }
        case T_ENTRY: {
                if (r->nentries >= SIGNER_MAX_CRL_ENTRIES)
                        return qerr_set(ei, QERR_PROTO, "too many CRL entries");
                if (len < 1 || v[0] == 0 || v[0] > 20 || len != 17u + v[0])
                        return qerr_set(ei, QERR_PROTO, "bad CRL entry");
                if (r->nentries % 64 == 0) {
                        struct crl_entry_wire *ne =
                            realloc(r->entries, (r->nentries + 64) * sizeof *ne);
                        if (!ne)
                                return qerr_set(ei, QERR_NOMEM, NULL);
                        r->entries = ne;
                }
                struct crl_entry_wire *e = &r->entries[r->nentries++];
                e->serial.p = v + 1;
                e->serial.len = v[0];
                e->revoked_at = get_i64(v + 1 + v[0]);
                e->reason = get_i64(v + 9 + v[0]);
                break;
        }
        default:
                return qerr_set(ei, QERR_PROTO, "unexpected field");
        }
        return QERR_OK;
}

enum qerr signer_decode_req(const uint8_t *p, size_t len, struct signer_req *out,
                            struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        if (len < 1)
                return qerr_set(ei, QERR_PROTO, "empty message");
        uint8_t type = p[0];
        if (type < SMSG_PING || type > SMSG_INIT)
                return qerr_set(ei, QERR_PROTO, "unknown request type %u", type);
        out->type = (enum signer_msg)type;
        enum qerr rc = walk(p + 1, len - 1, req_tags[type].allowed, req_tags[type].required,
                            B(T_NAME) | B(T_ENTRY), req_field, out, ei);
        if (rc != QERR_OK)
                signer_req_clear(out);
        return rc;
}

static enum qerr resp_field(void *ctx, enum tag t, const uint8_t *v, uint32_t len,
                            struct qerr_info *ei)
{
        struct signer_resp *r = ctx;
        struct sbytes b = {v, len};
        switch (t) {
        case T_DER:
                r->der = b;
                break;
        case T_KEY_ID:
                r->key_id = b;
                break;
        case T_CODE:
                if (need8(len, ei) != QERR_OK)
                        return QERR_PROTO;
                r->code = get_i64(v);
                break;
        case T_MESSAGE:
                r->message = b;
                break;
        case T_CRL_NUMBER:
                if (need8(len, ei) != QERR_OK)
                        return QERR_PROTO;
                r->crl_number = get_i64(v);
                break;
        default:
                return qerr_set(ei, QERR_PROTO, "unexpected field");
        }
        return QERR_OK;
}

enum qerr signer_decode_resp(const uint8_t *p, size_t len, struct signer_resp *out,
                             struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        if (len < 1)
                return qerr_set(ei, QERR_PROTO, "empty message");
        out->type = (enum signer_msg)p[0];
        if (p[0] == SMSG_OK)
                return walk(p + 1, len - 1, B(T_DER) | B(T_KEY_ID), 0, 0, resp_field, out, ei);
        if (p[0] == SMSG_ERROR) {
                enum qerr rc = walk(p + 1, len - 1, B(T_CODE) | B(T_MESSAGE) | B(T_CRL_NUMBER),
                                    B(T_CODE), 0, resp_field, out, ei);
                if (rc == QERR_OK && (out->code <= 0 || out->code >= QERR__COUNT))
                        return qerr_set(ei, QERR_PROTO, "unknown error code");
                return rc;
        }
        return qerr_set(ei, QERR_PROTO, "unknown response type %u", p[0]);
}

void signer_req_clear(struct signer_req *r)
{
        free(r->entries);
        r->entries = NULL;
        r->nentries = 0;
}

enum qerr signer_write_frame(int fd, const struct qbuf *frame, struct qerr_info *ei)
{
        const uint8_t *p = frame->data;
        size_t len = frame->len;
        while (len) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return qerr_set(ei, QERR_SIGNER_UNAVAILABLE,
                                        "the signer channel is closed (%s)", strerror(errno));
                p += n;
                len -= (size_t)n;
        }
        return QERR_OK;
}

static bool read_full(int fd, uint8_t *p, size_t len)
{
        while (len) {
                ssize_t n = read(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return false;
                p += n;
                len -= (size_t)n;
        }
        return true;
}

enum qerr signer_read_frame(int fd, struct qbuf *frame, struct qerr_info *ei)
{
        uint8_t h[4];
        qbuf_reset(frame);
        if (!read_full(fd, h, 4))
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE, "the signer channel closed");
        uint32_t len = get_u32(h);
        if (len == 0 || len > MAX_SIGNER_MSG_BYTES || len > frame->max)
                return qerr_set(ei, QERR_PROTO, "frame length %u out of range", len);
        uint8_t *tmp = malloc(len);
        if (!tmp)
                return qerr_set(ei, QERR_NOMEM, NULL);
        bool ok = read_full(fd, tmp, len) && qbuf_append(frame, tmp, len);
        OPENSSL_cleanse(tmp, len); /* an INIT frame holds the passphrase */
        free(tmp);
        if (!ok)
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE, "the signer channel closed mid-frame");
        return QERR_OK;
}

struct sbytes sbytes_str(const char *s)
{
        struct sbytes b = {(const uint8_t *)s, s ? strlen(s) : 0};
        return b;
}

bool sbytes_cstr(struct sbytes b, char *out, size_t outsz)
{
        if (b.len >= outsz || (b.len && memchr(b.p, 0, b.len)))
                return false;
        if (b.len)
                memcpy(out, b.p, b.len);
        out[b.len] = 0;
        return true;
}

/* ---- the OV/EV organisation field ---- */

static bool org_value_ok(const char *v)
{
        for (const unsigned char *p = (const unsigned char *)v; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

/* "O=..\nC=..\nST=..\nL=.." -> fields; OV/EV need O, a two-letter C and
 * ST or L (BR 7.1.2.7.4); nothing else is accepted. */
enum qerr signer_parse_org(struct sbytes b, struct org_subject *out, struct qerr_info *ei)
{
        char text[513];
        memset(out, 0, sizeof *out);
        if (!sbytes_cstr(b, text, sizeof text))
                return qerr_set(ei, QERR_SIGNER_REFUSED, "the organisation is malformed");
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                if (!eq)
                        return qerr_set(ei, QERR_SIGNER_REFUSED, "the organisation is malformed");
                *eq = 0;
                const char *v = eq + 1;
                char *dst;
                size_t max;
                if (!strcmp(line, "O")) {
                        dst = out->o;
                        max = sizeof out->o;
                } else if (!strcmp(line, "C")) {
                        dst = out->c;
                        max = sizeof out->c;
                } else if (!strcmp(line, "ST")) {
                        dst = out->st;
                        max = sizeof out->st;
                } else if (!strcmp(line, "L")) {
                        dst = out->l;
                        max = sizeof out->l;
                } else {
                        return qerr_set(ei, QERR_SIGNER_REFUSED,
                                        "subject attribute %.8s is not allowed", line);
                }
                if (dst[0] || strlen(v) >= max || !org_value_ok(v))
                        return qerr_set(ei, QERR_SIGNER_REFUSED,
                                        "subject attribute %.8s is repeated, too long or not "
                                        "printable",
                                        line);
                memcpy(dst, v, strlen(v) + 1);
        }
        if (!out->o[0] || strlen(out->c) != 2 || (!out->st[0] && !out->l[0]))
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "an OV/EV subject needs O, a two-letter C, and ST or L");
        return QERR_OK;
}
