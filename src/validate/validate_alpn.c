/*
 * validate_alpn.c - ACME tls-alpn-01 (RFC 8737, BR 3.2.2.4.20), for DNS
 * names and IP addresses (RFC 8738 section 6).
 *
 * The applicant's TLS server, asked on port 443 for the ALPN protocol
 * "acme-tls/1" with the name as SNI, must answer with a self-signed
 * certificate whose only subjectAltName is the name and whose critical
 * id-pe-acmeIdentifier extension holds SHA-256 of the key authorization.
 *
 * Addresses: as for the file method (validate_addr.c), the name is looked
 * up through the caller's resolver and only the public addresses found are
 * connected to, by address: no other lookup happens. An IP address
 * identifier is connected to directly (after the same check), with its
 * reverse-mapping name as SNI. The addresses are tried in turn until one
 * accepts the TCP connection; what that server answers decides.
 *
 * The handshake is driven on a non-blocking socket with poll(), so that the
 * whole check (connect and handshake) ends by c->timeout_ms. The peer
 * certificate is never verified against a trust store (it is self-signed);
 * the checks of RFC 8737 section 3 are validate_alpn_check_cert, which
 * takes outside DER and is fuzzed.
 *
 * Sentences name the name, the address and the port; nothing the server
 * sent is repeated except the subjectAltName entry it carries (escaped and
 * cut), which says which name the server answered for.
 *
 * Memory: nothing allocated here outlives a call (SSL_CTX and SSL are per
 * call). Threads: any thread, one call at a time per resolver. Needs
 * SIGPIPE ignored (quill's main does it), as every socket writer here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/netaddr.h"
#include "validate.h"
#include "validate_int.h"

#define KEY_AUTHZ_MAX 1024 /* "token.thumbprint" is about 90 characters */

/* ---------------------------------------------------------------- the certificate */

static bool cert_invalid(struct validate_result *out, const char *name, const char *why)
{
        char n[URL_SHOW + 4];
        val_set_result(out, QERR_TLS_ALPN_CERT_INVALID, true,
                       "The tls-alpn-01 certificate for %s %s; RFC 8737 asks for a certificate "
                       "whose only subjectAltName is the name being validated, with a critical "
                       "acmeIdentifier extension holding the SHA-256 digest of the key "
                       "authorization. Let the ACME client make it.",
                       val_show_str(name, n, sizeof n), why);
        return false;
}

/* The one subjectAltName entry must be `name` (a dNSName) or `ip` (an
 * iPAddress of iplen bytes, when iplen > 0). */
static bool check_san(X509 *x, const char *name, const uint8_t *ip, size_t iplen,
                      struct validate_result *out)
{
        int idx = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
        if (idx < 0)
                return cert_invalid(out, name, "has no subjectAltName extension");
        if (X509_get_ext_by_NID(x, NID_subject_alt_name, idx) >= 0)
                return cert_invalid(out, name, "has two subjectAltName extensions");
        int crit = 0;
        GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
        if (!gens) {
                ERR_clear_error();
                return cert_invalid(out, name,
                                    "has a subjectAltName extension that does not "
                                    "decode");
        }
        bool ok = false;
        char why[URL_SHOW + 96], got[URL_SHOW + 4];
        int n = sk_GENERAL_NAME_num(gens);
        if (n != 1) {
                snprintf(why, sizeof why, "has %d subjectAltName entries, not exactly one", n);
                goto out;
        }
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, 0);
        if (iplen == 0 && g->type == GEN_DNS) {
                const ASN1_IA5STRING *s = g->d.dNSName;
                size_t len = (size_t)ASN1_STRING_length(s);
                const uint8_t *p = ASN1_STRING_get0_data(s);
                ok = len == strlen(name) && memchr(p, 0, len) == NULL &&
                     strncasecmp((const char *)p, name, len) == 0;
                if (!ok)
                        snprintf(why, sizeof why, "names the dNSName \"%s\" instead",
                                 val_show_bytes(p, len, got, sizeof got));
        } else if (iplen > 0 && g->type == GEN_IPADD) {
                const ASN1_OCTET_STRING *s = g->d.iPAddress;
                size_t len = (size_t)ASN1_STRING_length(s);
                const uint8_t *p = ASN1_STRING_get0_data(s);
                ok = len == iplen && memcmp(p, ip, iplen) == 0;
                if (!ok && (len == 4 || len == 16)) {
                        char t[INET6_ADDRSTRLEN];
                        inet_ntop(len == 4 ? AF_INET : AF_INET6, p, t, sizeof t);
                        snprintf(why, sizeof why, "names the iPAddress %s instead", t);
                } else if (!ok) {
                        snprintf(why, sizeof why, "has an iPAddress entry of %zu bytes", len);
                }
        } else {
                snprintf(why, sizeof why, "has a subjectAltName entry of another type (%s)",
                         g->type == GEN_DNS     ? "a dNSName, where an iPAddress is needed"
                         : g->type == GEN_IPADD ? "an iPAddress, where a dNSName is needed"
                                                : "neither dNSName nor iPAddress");
        }
out:
        GENERAL_NAMES_free(gens);
        if (!ok)
                return cert_invalid(out, name, why);
        return true;
}

/* The acmeIdentifier extension: once, critical, OCTET STRING of 32 bytes
 * equal to `digest`. */
static void check_acme_id(X509 *x, const char *name, const uint8_t digest[32],
                          struct validate_result *out)
{
        ASN1_OBJECT *oid = OBJ_txt2obj(VALIDATE_ACME_ID_OID, 1);
        if (!oid) {
                val_set_result(out, QERR_NOMEM, false, "Out of memory.");
                return;
        }
        int idx = X509_get_ext_by_OBJ(x, oid, -1);
        int again = idx >= 0 ? X509_get_ext_by_OBJ(x, oid, idx) : -1;
        ASN1_OBJECT_free(oid);
        if (idx < 0) {
                cert_invalid(out, name, "has no acmeIdentifier extension (1.3.6.1.5.5.7.1.31)");
                return;
        }
        if (again >= 0) {
                cert_invalid(out, name, "has two acmeIdentifier extensions");
                return;
        }
        X509_EXTENSION *ext = X509_get_ext(x, idx);
        if (X509_EXTENSION_get_critical(ext) != 1) {
                cert_invalid(out, name, "has an acmeIdentifier extension that is not critical");
                return;
        }
        const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
        const uint8_t *p = ASN1_STRING_get0_data(v);
        int len = ASN1_STRING_length(v);
        /* DER: OCTET STRING (0x04), length 32 (0x20), the digest */
        if (len != 34 || p[0] != 0x04 || p[1] != 0x20) {
                cert_invalid(out, name,
                             "has an acmeIdentifier extension that is not the DER OCTET STRING "
                             "of a 32-byte SHA-256 digest");
                return;
        }
        char n[URL_SHOW + 4];
        if (CRYPTO_memcmp(p + 2, digest, 32) != 0) {
                val_set_result(out, QERR_VALIDATION_MISMATCH, true,
                               "The tls-alpn-01 certificate for %s holds a digest in its "
                               "acmeIdentifier extension that is not SHA-256 of this challenge's "
                               "key authorization (perhaps an earlier challenge's); let the ACME "
                               "client answer this challenge.",
                               val_show_str(name, n, sizeof n));
                return;
        }
        val_set_result(out, QERR_OK, true,
                       "The tls-alpn-01 certificate for %s holds the key authorization's digest.",
                       val_show_str(name, n, sizeof n));
}

/* The checks on a parsed certificate. */
static void check_x509(X509 *x, const char *name, const uint8_t digest[32],
                       struct validate_result *out)
{
        struct netaddr a;
        uint8_t ip[16];
        size_t iplen = 0;
        if (netaddr_parse(name, &a)) {
                iplen = a.family == NETADDR_V4 ? 4 : 16;
                memcpy(ip, a.b, iplen);
        }
        if (check_san(x, name, ip, iplen, out))
                check_acme_id(x, name, digest, out);
}

void validate_alpn_check_cert(const uint8_t *der, size_t len, const char *name,
                              const uint8_t digest[32], struct validate_result *out)
{
        memset(out, 0, sizeof *out);
        if (!der || len == 0 || len > VALIDATE_MAX_ALPN_CERT) {
                cert_invalid(out, name, "is empty or too large");
                return;
        }
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (!x || p != der + len) {
                ERR_clear_error();
                X509_free(x);
                cert_invalid(out, name, "is not one DER certificate");
                return;
        }
        check_x509(x, name, digest, out);
        X509_free(x);
}

/* ---------------------------------------------------------------- the connection */

/* "192.0.2.1:443" or "[2001:db8::1]:443". */
static const char *addr_port(int family, const uint8_t *b, long port, char *out, size_t outsz)
{
        char t[INET6_ADDRSTRLEN];
        inet_ntop(family, b, t, sizeof t);
        snprintf(out, outsz, family == AF_INET6 ? "[%s]:%ld" : "%s:%ld", t, port);
        return out;
}

/* Waits for `events` on fd until `deadline`; false on timeout or error. */
static bool wait_fd(int fd, short events, long deadline)
{
        for (;;) {
                long left = deadline - val_now_ms();
                if (left <= 0)
                        return false;
                struct pollfd p = {.fd = fd, .events = events};
                int r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
                if (r > 0)
                        return true;
                if (r < 0 && errno != EINTR)
                        return false;
        }
}

/* A non-blocking TCP connection to one address, by `deadline`: the fd, or
 * -1 with `why` set (an errno sentence, or "timed out"). */
static int connect_one(int family, const uint8_t *b, long port, long deadline, char *why,
                       size_t whysz)
{
        struct sockaddr_storage ss;
        socklen_t sl;
        memset(&ss, 0, sizeof ss);
        if (family == AF_INET) {
                struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
                a4->sin_family = AF_INET;
                a4->sin_port = htons((uint16_t)port);
                memcpy(&a4->sin_addr, b, 4);
                sl = sizeof *a4;
        } else {
                struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
                a6->sin6_family = AF_INET6;
                a6->sin6_port = htons((uint16_t)port);
                memcpy(&a6->sin6_addr, b, 16);
                sl = sizeof *a6;
        }
        int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                snprintf(why, whysz, "%s", strerror(errno));
                return -1;
        }
        if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
                return fd;
        if (errno != EINPROGRESS) {
                snprintf(why, whysz, "%s", strerror(errno));
                close(fd);
                return -1;
        }
        if (!wait_fd(fd, POLLOUT, deadline)) {
                snprintf(why, whysz, "timed out");
                close(fd);
                return -1;
        }
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
                snprintf(why, whysz, "%s", strerror(err ? err : errno));
                close(fd);
                return -1;
        }
        return fd;
}

/* The handshake on `fd` with ALPN acme-tls/1 and SNI `sni`; then the
 * protocol and certificate checks. */
static void handshake(const struct validate_cfg *c, int fd, const char *name, const char *sni,
                      const char *where, const uint8_t digest[32], long deadline,
                      struct validate_result *out)
{
        static const unsigned char alpn[] = "\x0a" VALIDATE_ALPN_PROTO;
        char n[URL_SHOW + 4];
        val_show_str(name, n, sizeof n);
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        SSL *ssl = NULL;
        X509 *peer = NULL;
        if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            !(ssl = SSL_new(ctx)) || SSL_set_fd(ssl, fd) != 1 ||
            SSL_set_tlsext_host_name(ssl, sni) != 1 ||
            SSL_set_alpn_protos(ssl, alpn, sizeof alpn - 1) != 0) {
                val_set_result(out, QERR_INTERNAL, false,
                               "The TLS client for the tls-alpn-01 validation of %s could not be "
                               "set up.",
                               n);
                goto out;
        }
        SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
        SSL_set_connect_state(ssl);
        for (;;) {
                ERR_clear_error();
                int r = SSL_do_handshake(ssl);
                if (r == 1)
                        break;
                int e = SSL_get_error(ssl, r);
                bool more = (e == SSL_ERROR_WANT_READ && wait_fd(fd, POLLIN, deadline)) ||
                            (e == SSL_ERROR_WANT_WRITE && wait_fd(fd, POLLOUT, deadline));
                if (more)
                        continue;
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                        val_set_unreachable_as(out, c, QERR_TLS_ALPN_UNREACHABLE, false,
                                               "The TLS server of %s at %s did not complete the "
                                               "handshake within %ld ms.",
                                               n, where, c->timeout_ms);
                        goto out;
                }
                unsigned long le = ERR_peek_error();
                char reason[160];
                if (le)
                        snprintf(reason, sizeof reason, "%s",
                                 ERR_reason_error_string(le) ? ERR_reason_error_string(le)
                                                             : "a TLS error");
                else
                        snprintf(reason, sizeof reason, "the connection was closed");
                ERR_clear_error();
                val_set_result(out, QERR_TLS_ALPN_HANDSHAKE, false,
                               "The TLS handshake with %s at %s for the tls-alpn-01 validation "
                               "failed (%s); the server must speak TLS 1.2 or later and answer "
                               "the ALPN protocol acme-tls/1 with the validation certificate.",
                               n, where, reason);
                goto out;
        }
        const unsigned char *sel = NULL;
        unsigned int sellen = 0;
        SSL_get0_alpn_selected(ssl, &sel, &sellen);
        if (sellen != strlen(VALIDATE_ALPN_PROTO) ||
            memcmp(sel, VALIDATE_ALPN_PROTO, sellen) != 0) {
                char got[64];
                if (sellen)
                        snprintf(got, sizeof got, "the protocol \"%s\"",
                                 val_show_bytes(sel, sellen, (char[48]){0}, 48));
                else
                        snprintf(got, sizeof got, "no protocol");
                val_set_result(out, QERR_TLS_ALPN_NOT_NEGOTIATED, false,
                               "The TLS server of %s at %s selected %s instead of acme-tls/1; "
                               "it must answer the tls-alpn-01 challenge (RFC 8737) with the "
                               "validation certificate.",
                               n, where, got);
                goto out;
        }
        peer = SSL_get1_peer_certificate(ssl);
        if (!peer) {
                cert_invalid(out, name, "was not sent");
                goto out;
        }
        check_x509(peer, name, digest, out);
out:
        X509_free(peer);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        ERR_clear_error();
}

void validate_tls_alpn(const struct validate_cfg *c, const char *name, const char *key_authz,
                       struct validate_result *out)
{
        char shown[URL_SHOW + 4];
        memset(out, 0, sizeof *out);
        long port = c->tls_alpn_port > 0 ? c->tls_alpn_port : 443;
        if (strncmp(name, "*.", 2) == 0) {
                val_set_result(out, QERR_POLICY_DENIED, true,
                               "%s is a wildcard name: wildcard names can only be validated by "
                               "dns-01 (a TXT record at _acme-challenge.<name>), never by "
                               "tls-alpn-01 (RFC 8737 section 3).",
                               val_show_str(name, shown, sizeof shown));
                return;
        }
        struct addrset addrs;
        struct netaddr ip;
        bool literal = netaddr_parse(name, &ip);
        if (!literal && !val_name_chars_ok(name, NAME_MAX_LEN, false)) {
                val_set_result(out, QERR_NAME_INVALID, true,
                               "\"%s\" is not a host name a tls-alpn-01 validation can connect to.",
                               val_show_str(name, shown, sizeof shown));
                return;
        }
        size_t kl = key_authz ? strlen(key_authz) : 0;
        if (kl == 0 || kl > KEY_AUTHZ_MAX) {
                val_set_result(out, QERR_INTERNAL, true, "The key authorization is malformed.");
                return;
        }
        uint8_t digest[32];
        unsigned int dl = 0;
        if (EVP_Digest(key_authz, kl, digest, &dl, EVP_sha256(), NULL) != 1 || dl != 32) {
                val_set_result(out, QERR_INTERNAL, false, "SHA-256 is not available.");
                return;
        }

        /* SNI: the name, or the reverse-mapping name of an IP address */
        char sni[NETADDR_REVERSE_MAX];
        if (literal) {
                netaddr_reverse_name(&ip, sni, sizeof sni);
                addrs.n = 0;
                val_addrset_add(&addrs, ip.family == NETADDR_V4 ? AF_INET : AF_INET6, ip.b);
        } else {
                snprintf(sni, sizeof sni, "%s", name);
        }
        if (!literal && strlen(name) >= sizeof sni) {
                val_set_result(out, QERR_NAME_INVALID, true,
                               "\"%s\" is too long to be sent as a TLS server name.",
                               val_show_str(name, shown, sizeof shown));
                return;
        }
        char what[URL_SHOW + 64];
        snprintf(what, sizeof what, "The tls-alpn-01 certificate of %s (port %ld)",
                 val_show_str(name, shown, sizeof shown), port);
        if (!literal && !val_resolve_host(c, name, what, &addrs, QERR_TLS_ALPN_UNREACHABLE, out))
                return;
        if (!val_keep_public(c, &addrs, what, false, QERR_TLS_ALPN_UNREACHABLE, out))
                return;

        long deadline = val_now_ms() + c->timeout_ms;
        char why[160] = "", where[INET6_ADDRSTRLEN + 16] = "";
        for (size_t i = 0; i < addrs.n; i++) {
                addr_port(addrs.family[i], addrs.addr[i], port, where, sizeof where);
                int fd =
                    connect_one(addrs.family[i], addrs.addr[i], port, deadline, why, sizeof why);
                if (fd < 0)
                        continue;
                handshake(c, fd, name, sni, where, digest, deadline, out);
                close(fd);
                OPENSSL_cleanse(digest, sizeof digest);
                return;
        }
        OPENSSL_cleanse(digest, sizeof digest);
        char more[64] = "";
        if (addrs.n > 1)
                snprintf(more, sizeof more, " (the last of %zu addresses tried)", addrs.n);
        val_set_unreachable_as(out, c, QERR_TLS_ALPN_UNREACHABLE, false,
                               "The tls-alpn-01 validation of %s could not connect to %s%s: %s; "
                               "check that the TLS server is up and reachable on port %ld.",
                               val_show_str(name, shown, sizeof shown), where, more, why, port);
}
