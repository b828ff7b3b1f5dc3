-- wrk script of bench/ocsp.sh: POSTs one prepared DER OCSPRequest (the file
-- named by $OCSP_REQ) on every request, keep-alive. No per-response Lua
-- callback (it would slow wrk down for both servers); bench/ocsp.sh checks
-- the answer with `openssl ocsp` before and compares bytes per request.
local f = assert(io.open(os.getenv("OCSP_REQ"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
