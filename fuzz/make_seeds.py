#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/seeds/<target>/.

Text targets get the protocol's own messages byte for byte. The state-machine targets and the
line decoder read their input with `arbitrary`, so their seeds are written in its format:
integers little-endian, a derived enum's variant as a u32 scaled by the variant count, an
`Option` as a flag byte, every `Vec` element preceded by a flag byte (odd = one more) and
ended by an even one. Variants are numbered by their position in the Rust enums, which is why
those enums only ever grow at the end.

Run from anywhere: python3 fuzz/make_seeds.py
"""

import os
import shutil

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


# --- the `arbitrary` format -------------------------------------------------------------------

def u8(x):
    return bytes([x])


def u16(x):
    return x.to_bytes(2, "little")


def u32(x):
    return x.to_bytes(4, "little")


def flag(b):
    return b"\x01" if b else b"\x00"


def variant(index, count):
    """The u32 whose scaled value `(x * count) >> 32` is `index` (the middle of its range)."""
    return (((2 * index + 1) << 32) // (2 * count)).to_bytes(4, "little")


def vec(items):
    return b"".join(b"\x01" + item for item in items) + b"\x00"


def byte_vec(data):
    if isinstance(data, str):
        data = data.encode()
    return vec([bytes([b]) for b in data])


def option(item):
    return b"\x00" if item is None else b"\x01" + item


# --- helpers for the messages -----------------------------------------------------------------

def utf16(text):
    return text.encode("utf-16-le")


def leb128(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


CHINESE = ["小明", "老王", "李小龙 2", "飞鸽", "张伟", "王芳", "刘洋", "陈静"]


def long_snapshot(count):
    entries = []
    for i in range(count):
        name = f"{CHINESE[i % len(CHINESE)]}{i}" if i % 2 else f"user{i}"
        ep = f"10.0.{i // 250}.{i % 250 + 1}:{40000 + i}" if i % 3 else f"[2001:db8::{i:x}]:{5000 + i}"
        entries.append(f"{name},{ep};")
    return ("".join(entries) + "end").encode()


# --- the state-machine operations (positions as in core/src/fuzzing/*_ops.rs) -----------------

class Server:
    N = 11

    def login(frm, name, declared):
        return variant(0, Server.N) + u8(frm) + u8(name) + u8(declared)

    def classic_login(frm, name, declared):
        return variant(1, Server.N) + u8(frm) + u8(name) + u8(declared)

    def logout(frm, name, declared):
        return variant(2, Server.N) + u8(frm) + u8(name) + u8(declared)

    def datagram(frm, data):
        return variant(3, Server.N) + u8(frm) + byte_vec(data)

    def open(peer):
        return variant(4, Server.N) + u8(peer)

    def claim(conn, name, declared, split=0):
        return variant(5, Server.N) + u8(conn) + u8(name) + u8(declared) + u8(split)

    def logout_line(conn, name, declared):
        return variant(6, Server.N) + u8(conn) + u8(name) + u8(declared)

    def ping(conn):
        return variant(7, Server.N) + u8(conn)

    def bytes(conn, data):
        return variant(8, Server.N) + u8(conn) + byte_vec(data)

    def close(conn, slow=False):
        return variant(9, Server.N) + u8(conn) + flag(slow)

    def tick(ms):
        return variant(10, Server.N) + u16(ms)


class Client:
    N = 29

    def accept(port):
        return variant(0, Client.N) + u16(port)

    def reject(reason):
        return variant(1, Client.N) + variant(reason, 5)

    def server_datagram(data):
        return variant(2, Client.N) + byte_vec(data)

    def msg(name, source, sid, seq, text, by=None, sealer=None):
        """A `msg` in `name`'s name, sealed by `by` (default: `name`) with its OWN key, its TWIN's,
        or PLAIN (not sealed)."""
        by = name if by is None else by
        sealer = OWN if sealer is None else sealer
        return (variant(3, Client.N) + u8(name) + u8(source) + u8(sid) + u8(seq) + byte_vec(text)
                + u8(by) + variant(sealer, 3))

    def ack(name, source, ours, seq, by=None, sealer=None):
        by = name if by is None else by
        sealer = OWN if sealer is None else sealer
        return variant(4, Client.N) + u8(name) + u8(source) + flag(ours) + u8(seq) + u8(by) + variant(sealer, 3)

    def datagram(source, data):
        return variant(5, Client.N) + u8(source) + byte_vec(data)

    def connected():
        return variant(6, Client.N)

    def snapshot(entries, me_at, split=0):
        listed = vec([u8(n) + u8(ep) for n, ep in entries])
        return variant(7, Client.N) + listed + option(None if me_at is None else u8(me_at)) + u16(split)

    def joined(name, endpoint):
        return variant(8, Client.N) + u8(name) + u8(endpoint)

    def left(name, endpoint):
        return variant(9, Client.N) + u8(name) + u8(endpoint)

    def dialect(name):
        return variant(10, Client.N) + u8(name)

    def pong():
        return variant(11, Client.N)

    def error(reason):
        return variant(12, Client.N) + variant(reason, 8)

    def bytes(data):
        return variant(13, Client.N) + byte_vec(data)

    def tcp_closed():
        return variant(14, Client.N)

    def send(to, text, repeat=1):
        return variant(15, Client.N) + u8(to) + byte_vec(text) + u8(repeat)

    def send_anyone(to, text):
        return variant(16, Client.N) + byte_vec(to) + byte_vec(text)

    def logout():
        return variant(17, Client.N)

    def tick(ms):
        return variant(18, Client.N) + u16(ms)

    def classic_accept(port, from_port=0):
        return variant(19, Client.N) + u16(port) + u16(from_port)

    def classic_presence(logout, name, endpoint, from_port=0):
        return variant(20, Client.N) + flag(logout) + u8(name) + u8(endpoint) + u16(from_port)

    def talk(name, source, time, text):
        return variant(21, Client.N) + u8(name) + u8(source) + byte_vec(time) + byte_vec(text)

    def classic_list(entries, with_me, split=0):
        listed = vec([u8(n) + u8(ep) for n, ep in entries])
        return variant(22, Client.N) + listed + flag(with_me) + u16(split)

    def key(name, twin=False):
        return variant(23, Client.N) + u8(name) + flag(twin)

    def trust(name):
        return variant(24, Client.N) + u8(name)

    def mute(name):
        return variant(25, Client.N) + u8(name)

    def forget(name, twin=False):
        return variant(26, Client.N) + u8(name) + flag(twin)

    def intro(name, endpoint):
        return variant(27, Client.N) + u8(name) + u8(endpoint)

    def relaying(name):
        return variant(28, Client.N) + u8(name)


class Secure:
    """core/src/client/secure/chaos.rs: sides are False (alice) and True (bob)."""
    N = 11

    def seal(side, length=16):
        return variant(0, Secure.N) + flag(side) + u16(length)

    def deliver(pick=0):
        return variant(1, Secure.N) + u16(pick)

    def duplicate(pick=0):
        return variant(2, Secure.N) + u16(pick)

    def lose(pick=0):
        return variant(3, Secure.N) + u16(pick)

    def replay(pick, side):
        return variant(4, Secure.N) + u16(pick) + flag(side)

    def tamper(pick, side, at, xor):
        return variant(5, Secure.N) + u16(pick) + flag(side) + u16(at) + u8(xor)

    def truncate(pick, side, length):
        return variant(6, Secure.N) + u16(pick) + flag(side) + u16(length)

    def garbage(side, data):
        return variant(7, Secure.N) + flag(side) + byte_vec(data)

    def tick(ms):
        return variant(8, Secure.N) + u16(ms)

    def forget(side):
        return variant(9, Secure.N) + flag(side)

    def restart(side):
        return variant(10, Secure.N) + flag(side)


def sealed(kind, body):
    """A sealed datagram's framing around `body` (Noise bytes or ciphertext, not decrypted)."""
    return bytes([kind]) + body


def ops(items):
    """A top-level `Vec<Op>` taken from the rest of the input."""
    return vec(items)


def native(items):
    """A client run against a feige server."""
    return flag(False) + ops(items)


def textbook(items):
    """A client run against a textbook (classic) server."""
    return flag(True) + ops(items)


# Who seals a fuzzed msg/ack (core/src/fuzzing/client_ops.rs, `Sealer`).
OWN, TWIN, PLAIN = range(3)
# Pool indices (core/src/fuzzing/pools.rs).
ALICE, BOB, XIAOMING, LAOWANG, BOB_SMITH, END = range(6)
LO_5000, LO_5001, LAN_5000, V6_5000, MAPPED_5002, LAN_40001, LAN2_5000, V6B_5000 = range(8)
# Reasons by position.
NAME_TAKEN, BAD_NAME, SERVER_FULL, RATE_LIMITED, BAD_REQUEST = range(5)
NO_PENDING, IP_MISMATCH, LINE_TOO_LONG, BAD_LINE, CLAIM_TIMEOUT, IDLE_TIMEOUT, REPLACED, SHUTDOWN = range(8)


def online(name, addr, conn, split=0):
    return [Server.login(addr, name, addr), Server.open(addr), Server.claim(conn, name, addr, split)]


def client_online(peers=((BOB, LAN_5000), (XIAOMING, V6_5000)), split=9):
    """Online with `peers`, then every key line, ours first, as the server sends them."""
    return [
        Client.accept(9001),
        Client.connected(),
        Client.snapshot(list(peers), LO_5000, split),
        Client.key(ALICE),
    ] + [Client.key(n) for n, _ in peers]


SEEDS = {
    "client_datagram": {
        "login": b"login,alice,127.0.0.1:5000",
        "login_crlf": b"login,alice,127.0.0.1:5000\r\n",
        "logout_chinese_v6": "logout,小明,[::1]:6".encode(),
        "login_chinese_lan": "login,李小龙 2,192.168.1.5:40001\n".encode(),
        "login_mapped": b"login,a,[::ffff:127.0.0.1]:5",
        "bad_name": b"login, alice,1.2.3.4:5",
        "extra_field": b"login,alice,1.2.3.4:5,x",
    },
    "server_datagram": {
        "accept": b"Accept,9001",
        "accept_lf": b"Accept,65535\n",
        **{f"reject_{r}": f"Reject,{r}".encode() for r in
           ["name-taken", "bad-name", "server-full", "rate-limited", "bad-request"]},
    },
    "peer_datagram": {
        "msg": "msg,小明,00000000000000ff,3,hi, there\nsecond line\n".encode(),
        "msg_first": b"msg,alice,0123456789abcdef,1,hello",
        "ack_upper": b"ack,bob,00000000000000FF,7\n",
        "ack": "ack,老王,0123456789abcdef,18446744073709551615\r\n".encode(),
        "msg_full": b"msg,bob,0000000000000001,1," + b"x" * (1200 - 27),
    },
    "sealed": {
        "initiation": sealed(0xF5, u32(7) + bytes(range(169))),
        "response": sealed(0xF6, u32(9) + u32(7) + bytes(range(100, 148))),
        "keepalive": sealed(0xF7, u32(7) + (0).to_bytes(8, "little") + bytes(16)),
        "transport": sealed(0xF7, u32(0x100) + (5).to_bytes(8, "little") + bytes(range(60))),
        "transport_full": sealed(0xF7, u32(1) + (2**63).to_bytes(8, "little") + b"\xaa" * 1187),
        "initiation_short": sealed(0xF5, u32(7) + bytes(168)),
        "response_long": sealed(0xF6, u32(9) + u32(7) + bytes(49)),
        "no_tag": sealed(0xF7, u32(7) + bytes(8 + 15)),
        "not_sealed": b"msg,alice,0123456789abcdef,1,hello",
        "utf8_lookalike": "õ小明".encode(),
    },
    "client_line": {
        "claim": b"login,alice,127.0.0.1:5000\n",
        "claim_chinese": "login,小明,[2001:db8::3]:6000\r\n".encode(),
        "logout": "logout,老王,10.0.0.2:40001\n".encode(),
        "ping": b"ping\n",
    },
    "server_line": {
        "snapshot": b"alice,1.2.3.4:5;bob,[::1]:6;end\n",
        "snapshot_keywords": b"login,1.2.3.4:5;end,[::1]:6;pong,1.1.1.1:1;end",
        "snapshot_chinese": long_snapshot(40) + b"\n",
        "join": "login,小明,192.168.1.5:40001\n".encode(),
        "leave": b"logout,bob,[::1]:6\r\n",
        "dialect": "dialect,老王,classic\n".encode(),
        "pong": b"pong\n",
        "error": b"error,idle-timeout\n",
        "empty_snapshot": b"end\n",
    },
    "line_decoder": {
        "lines": u8(32) + vec([byte_vec(b"ping\r\nlogin,a,1.2.3.4:5\nhal") + flag(True),
                               byte_vec(b"f\n") + flag(True)]),
        "limit": u8(4) + vec([byte_vec(b"abcd\r\n") + flag(True),
                              byte_vec(b"abcde\n") + flag(False),
                              byte_vec(b"ok\n") + flag(True)]),
        "undrained": u8(16) + vec([byte_vec(b"ab\ncdefgh") + flag(False),
                                   byte_vec(b"ijklmnopqrstuvwxyz") + flag(False),
                                   byte_vec(b"\n") + flag(True)]),
        "snapshot_chunks": u8(255) + vec([byte_vec(long_snapshot(6)[i:i + 17]) + flag(i % 2 == 0)
                                          for i in range(0, len(long_snapshot(6)), 17)]
                                         + [byte_vec(b"\n") + flag(True)]),
    },
    "snapshot": {
        "plain": b"alice,1.2.3.4:5;bob,[::1]:6;end",
        "long_chinese": long_snapshot(120),
        "repeated_unit": (20000).to_bytes(2, "big") + "小明,192.168.1.5:40001;".encode(),
        "repeated_v6": (5000).to_bytes(2, "big") + b"bob,[2001:db8::1]:6000;",
    },
    "classic": {
        "login": utf16("login,bob,10.0.0.2:43300"),
        "login_chinese": utf16("login,小明,192.168.1.5:43300\r\n"),
        "logout": utf16("logout,老王,[::1]:6"),
        "accept": utf16("Accept,9001"),
        "talk_invariant": utf16("talk,21:05:07,老王,你好, bob"),
        "talk_en_us": utf16("talk,9:05:07 PM,bob,hi, there\r\nsecond line\n"),
        "talk_zh": utf16("talk,下午 9:05:07,小明,😀"),
        "list": leb128(len("alice,1.2.3.4:5;小明,[::1]:6;end".encode()))
        + "alice,1.2.3.4:5;小明,[::1]:6;end".encode(),
        "list_300": leb128(300) + b"".join(
            f"user{i},10.0.0.1:{1000 if i < 13 else 1};".encode() for i in range(10, 26)) + b"end",
        "list_empty": b"\x03end",
        "list_bad_prefix": b"\x80\x80\x80\x80\x80",
    },
    "roundtrip": {
        "mixed": bytes(range(256)),
        "chinese": "小明老王李小龙 2 飞鸽".encode() * 4 + bytes(range(0, 256, 7)),
    },
    "command": {
        "msg_longest": "/msg bob smith hi there\nbob\nbob smith\n小明".encode(),
        "msg_chinese": "  /msg 小明 王 你好, world\r\n小明\n小明 王".encode(),
        "list": b"/list\nbob",
        "quit": b"/quit \n",
        "missing_text": b"/msg bob \nbob",
    },
    "server_ops": {
        "two_users": ops(online(ALICE, LO_5000, 0, 5) + online(XIAOMING, LAN_5000, 1)
                         + [Server.ping(0), Server.logout_line(1, XIAOMING, LAN_5000),
                            Server.tick(1000)]),
        "silent_claim": ops([Server.login(LO_5001, LAOWANG, LO_5001), Server.open(LO_5001),
                             Server.tick(600), Server.ping(0)]),
        "replaced": ops(online(ALICE, LO_5000, 0) + online(ALICE, LO_5000, 1)),
        "udp_logout_and_spoof": ops(online(BOB, LAN_5000, 0)
                                    + [Server.logout(LAN_40001, BOB, LAN_5000),
                                       Server.logout(LAN_5000, BOB, LAN_5000)]),
        "rate_limited_and_full": ops([Server.login(LO_5000, n, LO_5000) for n in range(3)]
                                     + [Server.login(a, n, a) for n, a in
                                        [(BOB_SMITH, LAN_5000), (END, V6_5000), (LAOWANG, LAN_40001)]]),
        "idle_timeout": ops(online(BOB_SMITH, V6_5000, 0) + online(END, LAN_5000, 1)
                            + [Server.tick(40000), Server.ping(1), Server.tick(30000)]),
        "mapped_source": ops(online(BOB, MAPPED_5002, 0) + [Server.close(0, True)]),
        "ip_mismatch": ops([Server.login(LO_5000, ALICE, LO_5000), Server.open(LAN_5000),
                            Server.claim(0, ALICE, LO_5000)]),
        "classic_login": ops([Server.classic_login(LO_5000, XIAOMING, LO_5000),
                              Server.open(LO_5000), Server.tick(600)]),
        "classic_takeover_attempt": ops(online(ALICE, LO_5000, 0)
                                        + [Server.classic_login(LO_5001, ALICE, LO_5000),
                                           Server.open(LO_5001), Server.tick(600),
                                           Server.classic_login(LAN_5000, BOB, LAN_5000),
                                           Server.login(LAN_5000, BOB, LAN_5000),
                                           Server.open(LAN_5000), Server.claim(2, BOB, LAN_5000)]),
        "prefix_limits": ops([Server.login(a, n, a) for n, a in
                              [(ALICE, LAN_5000), (BOB, LAN_5000), (XIAOMING, LAN2_5000),
                               (LAOWANG, LAN2_5000), (BOB_SMITH, V6_5000), (END, V6B_5000)]]
                             + [Server.open(a) for a in
                                [LAN_5000, LAN_5000, LAN_5000, LAN_5000, LAN2_5000, LAN2_5000]]
                             + [Server.classic_login(a, n, a) for n, a in
                                [(ALICE, LO_5000), (BOB, LO_5001), (END, V6B_5000)]]
                             + [Server.tick(10000), Server.logout(LAN_5000, ALICE, LAN_5000)]),
        "garbage": ops([Server.datagram(LO_5000, b"login,a,b,c,d"),
                        Server.datagram(LO_5000, b"hello"),
                        Server.open(LO_5000), Server.bytes(0, b"hello\n"),
                        Server.open(LO_5001), Server.bytes(1, b"x" * 600),
                        Server.tick(11000)]),
    },
    "secure_ops": {
        "chat": ops([Secure.seal(False, 10)] + [Secure.deliver()] * 4
                    + [Secure.seal(True, 20)] + [Secure.deliver()] * 3
                    + [Secure.seal(False, 1171), Secure.deliver()]),
        "simultaneous": ops([Secure.seal(False), Secure.seal(True)] + [Secure.deliver(1)] * 10),
        "lossy": ops([Secure.seal(False), Secure.lose(), Secure.tick(300), Secure.duplicate(),
                      Secure.deliver(), Secure.lose(), Secure.seal(False), Secure.tick(600),
                      Secure.deliver(), Secure.deliver(), Secure.deliver(1), Secure.deliver()]),
        "attacker": ops([Secure.seal(False)] + [Secure.deliver()] * 4
                        + [Secure.replay(0, True), Secure.replay(1, False), Secure.replay(2, True),
                           Secure.tamper(2, True, 20, 1), Secure.tamper(0, True, 100, 0x80),
                           Secure.truncate(1, False, 50),
                           Secure.garbage(True, b"\xf7\x01\x00\x00\x00" + bytes(24)),
                           Secure.garbage(False, b"\xf5"),
                           Secure.seal(True), Secure.deliver()]),
        "rekey": ops([Secure.seal(False)] + [Secure.deliver()] * 4
                     + [Secure.tick(60000), Secure.tick(61000), Secure.seal(False)]
                     + [Secure.deliver()] * 4
                     + [Secure.tick(60000), Secure.seal(True), Secure.deliver()]),
        "restart": ops([Secure.seal(False)] + [Secure.deliver()] * 4
                       + [Secure.restart(True), Secure.seal(False), Secure.deliver(),
                          Secure.tick(2100), Secure.seal(False)] + [Secure.deliver()] * 6),
        "forget_and_stale": ops([Secure.seal(True)] + [Secure.deliver()] * 4
                                + [Secure.forget(False), Secure.replay(0, False),
                                   Secure.seal(False)] + [Secure.deliver()] * 6),
        "give_up": ops([Secure.seal(False)] + [Secure.lose(), Secure.tick(5000)] * 6),
    },
    "client_ops": {
        "chat": native(client_online() + [
            Client.msg(BOB, LAN_5000, 7, 1, "hi, there\n第二行"),
            Client.msg(BOB, LAN_5000, 7, 1, "hi, there\n第二行"),
            Client.send(BOB, "hello 小明"),
            Client.send(BOB, "second"),
            Client.ack(BOB, LO_5001, True, 1),
            Client.joined(LAOWANG, LAN_40001),
            Client.key(LAOWANG),
            Client.send(LAOWANG, "你好"),
            Client.msg(LAOWANG, LAN_40001, 9, 1, "你好, alice"),
            Client.left(LAOWANG, LAN_40001),
            Client.pong(),
            Client.tick(20000),
            Client.logout(),
        ]),
        "rejected": native([Client.reject(NAME_TAKEN)]),
        "login_timeout": native([Client.tick(500), Client.tick(1000), Client.tick(2000),
                              Client.tick(4000), Client.tick(8000)]),
        "refused": native([Client.accept(9001), Client.connected(), Client.error(NO_PENDING)]),
        "replaced": native(client_online() + [Client.send(XIAOMING, "x"), Client.error(REPLACED)]),
        "retransmit_and_fail": native(client_online() + [Client.send(BOB, "are you there?")]
                                   + [Client.tick(300 << i) for i in range(7)]),
        "queue_full": native(client_online() + [Client.send(BOB, f"m{i}") for i in range(5)]),
        "impostors": native(client_online() + [
            Client.send(BOB, "hi"),
            Client.msg(BOB, LO_5001, 1, 1, "another key", sealer=TWIN),
            Client.msg(BOB, V6_5000, 1, 1, "in bob's name", by=XIAOMING),
            Client.msg(BOB, LAN_5000, 1, 1, "plain", sealer=PLAIN),
            Client.msg(LAOWANG, LAN_5000, 1, 1, "not listed"),
            Client.msg(ALICE, LO_5000, 1, 1, "ourselves"),
            Client.ack(BOB, LAN_5000, True, 1, sealer=TWIN),
            Client.ack(BOB, LAN_5000, True, 1, by=XIAOMING),
            Client.ack(BOB, LAN_5000, True, 1, sealer=PLAIN),
            Client.ack(BOB, LAN_5000, False, 1),
            Client.datagram(LAN_5000, b"msg,bob,zz,1,x"),
            Client.datagram(LAN_5000, b"\xf7\x01\x00\x00\x00" + bytes(24)),
            Client.ack(BOB, LAN_5000, True, 1),
        ]),
        "key_change": native(client_online() + [
            Client.msg(BOB, LAN_5000, 3, 1, "old key"),
            Client.send(BOB, "one"),
            Client.key(BOB, True),
            Client.send(BOB, "held"),
            Client.msg(BOB, LAN_5000, 3, 2, "new key, not yet trusted", sealer=TWIN),
            Client.tick(300),
            Client.trust(BOB),
            Client.trust(BOB),
            Client.tick(600),
            Client.ack(BOB, LAN_5000, True, 1, sealer=TWIN),
            Client.ack(BOB, LAN_5000, True, 2, sealer=TWIN),
            Client.key(BOB),
            Client.send(BOB, "back to the first key"),
            Client.trust(XIAOMING),
            Client.trust(LAOWANG),
        ]),
        "no_key": native([Client.accept(9001), Client.connected(),
                          Client.snapshot([(BOB, LAN_5000)], LO_5000),
                          Client.send(BOB, "no key yet"),
                          Client.key(BOB),
                          Client.send(BOB, "now"),
                          Client.ack(BOB, LAN_5000, True, 1)]),
        "muted_peer": native(client_online() + [Client.mute(BOB), Client.send(BOB, "lost")]
                             + [Client.tick(300 << i) for i in range(7)]
                             + [Client.mute(BOB), Client.send(BOB, "heard"),
                                Client.ack(BOB, LAN_5000, True, 2)]),
        "peer_restart": native(client_online() + [
            Client.send(BOB, "one"), Client.ack(BOB, LAN_5000, True, 1),
            Client.forget(BOB),
            Client.send(BOB, "two"), Client.tick(300), Client.tick(600), Client.tick(1200),
            Client.ack(BOB, LAN_5000, True, 2),
            Client.forget(XIAOMING), Client.msg(XIAOMING, V6_5000, 5, 1, "我回来了"),
        ]),
        "paths": native(client_online() + [
            Client.mute(BOB), Client.send(BOB, "through the relay"),
            Client.tick(300), Client.tick(600), Client.tick(1200),
            Client.relaying(BOB), Client.tick(2000),
            Client.ack(BOB, LAN_5000, True, 1),
            Client.mute(BOB), Client.relaying(BOB),
            Client.msg(BOB, LO_5001, 3, 1, "direct again, from elsewhere"),
            Client.send(BOB, "there"), Client.ack(BOB, LO_5001, True, 2),
            Client.intro(XIAOMING, V6_5000), Client.intro(LAOWANG, LAN_40001),
            Client.intro(ALICE, LO_5000),
        ]),
        "no_me_in_snapshot": native([Client.accept(9001), Client.connected(),
                                  Client.snapshot([(BOB, LAN_5000)], None)]),
        "too_long_and_anyone": native(client_online() + [
            Client.send(BOB, "長" * 20, 30),
            Client.send_anyone("bob", ""),
            Client.send_anyone("alice", "self"),
            Client.send_anyone("nobody", "x"),
            Client.dialect(BOB),
            Client.bytes(b"login,bob,10.0.0.2:6000\npong\n"),
        ]),
        "rejoin_moved": native(client_online() + [
            Client.joined(BOB, V6_5000),
            Client.tcp_closed(),
        ]),
        "silent_server": native(client_online() + [Client.tick(30000), Client.tick(30000)]),
        "classic_peer": native(client_online() + [
            Client.dialect(BOB),
            Client.talk(BOB, LAN_5000, "9:05:07 PM", "hi, there"),
            Client.talk(BOB, LAN_40001, "21:05:07", "another port, same IP"),
            Client.talk(XIAOMING, V6_5000, "", "not classic"),
            Client.send(BOB, "你好"),
            Client.send(BOB, "長", 250),
        ]),
        "textbook_server": textbook([
            Client.classic_accept(9001, 55942),
            Client.classic_presence(False, LAOWANG, LAN_40001, 60536),
            Client.connected(),
            Client.classic_list([(BOB, LAN_5000), (XIAOMING, V6_5000), (BOB, LAN_40001)], True, 3),
            Client.tcp_closed(),
            Client.talk(BOB, LAN_5000, "下午 9:05:07", "你好, alice"),
            Client.send(XIAOMING, "hello"),
            Client.classic_presence(True, BOB, LAN_40001),
            Client.classic_presence(True, XIAOMING, LAN_5000),
            Client.tick(60000),
            Client.logout(),
        ]),
        "textbook_rejected": textbook([
            Client.server_datagram("Reject,name-taken".encode("utf-16-le")),
        ]),
        "textbook_no_me": textbook([
            Client.classic_accept(9001), Client.connected(),
            Client.classic_list([(ALICE, LAN_5000)], False),
        ]),
    },
}


def main():
    for target, seeds in SEEDS.items():
        folder = os.path.join(ROOT, target)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        for name, data in seeds.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
