#!/usr/bin/env python3
"""A SASL-enforcing front for a broker that cannot enforce it here (Tansu
with memory storage cannot be given users). It speaks the Kafka protocol
up to authentication, checking credentials for real with scramp (an
independent SCRAM server implementation) or a PLAIN password table, then
pipes every byte to the broker. Requests other than ApiVersions before
authentication close the connection, as a Kafka broker does.

usage: sasl_gateway.py LISTEN_PORT UPSTREAM_PORT MECHANISMS USER:PASSWORD...
MECHANISMS: comma-separated, e.g. PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER.
OAUTHBEARER accepts the one token in $GATEWAY_OAUTHBEARER_TOKEN (RFC 7628:
a wrong one gets the JSON status, then, after the client's %x01, the
failure with a message, as a Kafka broker answers).
Prints "ready" once listening, and one line per authentication outcome.
"""
import asyncio
import os
import struct
import sys

from scramp import ScramException, ScramMechanism

LISTEN, UPSTREAM = int(sys.argv[1]), int(sys.argv[2])
MECHANISMS = sys.argv[3].split(",")
USERS = dict(u.split(":", 1) for u in sys.argv[4:])
SCRAM = {m: ScramMechanism(m) for m in MECHANISMS if m.startswith("SCRAM")}
OAUTH_TOKEN = os.environ.get("GATEWAY_OAUTHBEARER_TOKEN", "")
AUTH = {m: {u: s.make_auth_info(p, iteration_count=4096) for u, p in USERS.items()} for m, s in SCRAM.items()}


def log(*a):
    print(*a, flush=True)


def uvarint(b, at):
    v = shift = 0
    while True:
        x = b[at]
        at += 1
        v |= (x & 0x7F) << shift
        if not x & 0x80:
            return v, at
        shift += 7


def enc_uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def body_start(body, flexible):
    """Skips the request header: key, version, correlation id, client id, tags."""
    at = 8
    n = struct.unpack(">h", body[at:at + 2])[0]
    at += 2 + max(n, 0)
    if flexible:
        count, at = uvarint(body, at)
        for _ in range(count):
            _, at = uvarint(body, at)
            size, at = uvarint(body, at)
            at += size
    return at


def frame(b):
    return struct.pack(">i", len(b)) + b


def sasl_authenticate_response(version, cid, error, message, auth):
    if version >= 2:
        out = struct.pack(">i", cid) + b"\x00" + struct.pack(">h", error)
        out += b"\x00" if message is None else enc_uvarint(len(message) + 1) + message.encode()
        out += enc_uvarint(len(auth) + 1) + auth + struct.pack(">q", 0) + b"\x00"
        return frame(out)
    out = struct.pack(">ih", cid, error)
    out += struct.pack(">h", -1) if message is None else struct.pack(">h", len(message)) + message.encode()
    out += struct.pack(">i", len(auth)) + auth
    if version >= 1:
        out += struct.pack(">q", 0)
    return frame(out)


async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            w.write(data)
            await w.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        w.close()


async def handle(reader, writer):
    log("connection")
    up_r, up_w = await asyncio.open_connection("127.0.0.1", UPSTREAM)
    mechanism, server, plain_done, oauth_refused = None, None, False, False
    try:
        while True:
            size = struct.unpack(">i", await reader.readexactly(4))[0]
            body = await reader.readexactly(size)
            api, version, cid = struct.unpack(">hhi", body[:8])
            if api == 18:  # ApiVersions: the broker's own answer
                up_w.write(frame(body))
                await up_w.drain()
                n = struct.unpack(">i", await up_r.readexactly(4))[0]
                writer.write(frame(await up_r.readexactly(n)))
                await writer.drain()
            elif api == 17:  # SaslHandshake (not flexible)
                at = body_start(body, False)
                n = struct.unpack(">h", body[at:at + 2])[0]
                wanted = body[at + 2:at + 2 + n].decode()
                error = 0 if wanted in MECHANISMS else 33  # UNSUPPORTED_SASL_MECHANISM
                mechanism = wanted if error == 0 else None
                out = struct.pack(">ihi", cid, error, len(MECHANISMS))
                for m in MECHANISMS:
                    out += struct.pack(">h", len(m)) + m.encode()
                writer.write(frame(out))
                await writer.drain()
            elif api == 36 and mechanism:  # SaslAuthenticate
                flexible = version >= 2
                at = body_start(body, flexible)
                if flexible:
                    n, at = uvarint(body, at)
                    n -= 1
                else:
                    n = struct.unpack(">i", body[at:at + 4])[0]
                    at += 4
                auth = body[at:at + n]
                if mechanism == "OAUTHBEARER" and oauth_refused:
                    # The client's lone %x01 after our JSON status.
                    log(f"OAUTHBEARER refused (client answered {auth!r})")
                    writer.write(sasl_authenticate_response(version, cid, 58, "Authentication failed: the OAUTHBEARER token is invalid", b""))
                    await writer.drain()
                    return
                elif mechanism == "OAUTHBEARER":
                    # n,,^Aauth=Bearer <token>^A[key=value^A...]^A
                    gs2, _, rest = auth.partition(b"\x01")
                    pairs = [p for p in rest.split(b"\x01") if p]
                    kv = dict(p.split(b"=", 1) for p in pairs if b"=" in p)
                    well_formed = gs2 == b"n,," and auth.endswith(b"\x01\x01") and len(kv) == len(pairs)
                    ok = well_formed and OAUTH_TOKEN and kv.get(b"auth") == b"Bearer " + OAUTH_TOKEN.encode()
                    log("OAUTHBEARER extensions " + ",".join(f"{k.decode()}={v.decode()}" for k, v in sorted(kv.items()) if k != b"auth"))
                    if ok:
                        log("OAUTHBEARER ok")
                        writer.write(sasl_authenticate_response(version, cid, 0, None, b""))
                        await writer.drain()
                        plain_done = True
                    else:
                        oauth_refused = True
                        status = b'{"status":"invalid_token"}' if well_formed else b'{"status":"invalid_request"}'
                        writer.write(sasl_authenticate_response(version, cid, 0, None, status))
                        await writer.drain()
                elif mechanism == "PLAIN":
                    _, user, password = auth.split(b"\x00", 2)
                    ok = USERS.get(user.decode()) == password.decode()
                    log(f"PLAIN {user.decode()} {'ok' if ok else 'refused'}")
                    writer.write(sasl_authenticate_response(version, cid, 0 if ok else 58, None if ok else "Invalid username or password", b""))
                    await writer.drain()
                    if not ok:
                        return
                    plain_done = True
                elif server is None:
                    users = AUTH[mechanism]
                    server = SCRAM[mechanism].make_server(lambda u: users[u])
                    try:
                        server.set_client_first(auth.decode())
                    except (ScramException, KeyError) as e:
                        log(f"{mechanism} refused at first: {e}")
                        writer.write(sasl_authenticate_response(version, cid, 58, "Authentication failed: unknown user", b""))
                        await writer.drain()
                        return
                    writer.write(sasl_authenticate_response(version, cid, 0, None, server.get_server_first().encode()))
                    await writer.drain()
                else:
                    try:
                        server.set_client_final(auth.decode())
                    except ScramException as e:
                        log(f"{mechanism} refused: {e}")
                        writer.write(sasl_authenticate_response(version, cid, 58, "Authentication failed during authentication due to invalid credentials", b""))
                        await writer.drain()
                        return
                    log(f"{mechanism} ok")
                    writer.write(sasl_authenticate_response(version, cid, 0, None, server.get_server_final().encode()))
                    await writer.drain()
                    plain_done = True
                if plain_done:
                    break
            else:
                log(f"unauthenticated request api {api}: closing")
                return
        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
        up_w.close()


async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    log("ready")
    async with srv:
        await srv.serve_forever()


asyncio.run(main())
