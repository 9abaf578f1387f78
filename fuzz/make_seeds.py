#!/usr/bin/env python3
"""Writes the hand-made seed inputs into fuzz/seeds/<target>/ (realistic bodies, stored
sessions, options objects and URLs). The checked-in corpus (fuzz/corpus/) is what
`cargo fuzz cmin` kept of these seeds plus what the documented runs found."""
import json, os, hashlib

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "seeds")

def put(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)

bodies = [
    {"accessToken": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "refreshToken": "r-1", "expiresIn": 7200},
    {"accessToken": "a", "expiresIn": "3600"},
    {"accessToken": "tok\u00e9\U0001F600\"\\\n", "refreshToken": "", "expiresIn": -5},
    {"accessToken": "", "refreshToken": "r"},
    {"accessToken": 5},
    {"code": 40101, "message": "token expired"},
    {"code": 0, "data": {"accessToken": "A2", "refreshToken": "R2", "expiresIn": 1e300, "code": 0}},
    {"data": {"code": "40301"}},
    {"t": "short", "r": "rot", "e": 0.5},
    {"a": {"b": {"c": "deep-token"}, "r": "deep-refresh"}, "expiresIn": "  42 "},
    {"accessToken": "x", "accessToken2": "y", "expiresIn": "1e3"},
    {"errcode": "E_TOKEN", "accessToken": "ignored"},
]
texts = [json.dumps(b, ensure_ascii=False) for b in bodies] + [
    '{"accessToken":"a","accessToken":"b"}', "not json", "", "null", "[]", '"tok"',
    '{"accessToken":"\\ud83d\\ude00\\u0000"}', '{"expiresIn":Infinity}', "{" * 70 + "}" * 70,
    '{"code":1e21,"accessToken":"z"}', '{"code":true}', '{"code":-0}',
]

# stored: cfg clock text
stored = [
    '{"accessToken":"A","refreshToken":"R","expiresAt":1700000060000,"lifetime":7200000}',
    '{"accessToken":"A","refreshToken":null,"expiresAt":null,"lifetime":null}',
    '{"accessToken":"A","refreshToken":"R","expiresAt":1,"lifetime":2}',
    '{"accessToken":"A"}', '{"accessToken":""}', '{"accessToken":1}', '{"accessToken":"A","refreshToken":3}',
    '{"accessToken":"A","expiresAt":-1}', '{"accessToken":"A","expiresAt":1e300}', '{"accessToken":"A","lifetime":{}}',
    "", "null", "{", "[]", '"A"', "undefined", '{"accessToken":"A","expiresAt":"1700000000000"}',
    '{"accessToken":"A","refreshToken":"","expiresAt":0}', '{"accessToken":"A","accessToken":""}',
]
for i, s in enumerate(stored):
    for cfg, clock in [(0, 1), (64, 1), (32, 0), (i * 7 % 256, i % 4)]:
        put("stored", bytes([cfg, clock]) + s.encode())

# auth_body: cfg mode s1 s2 s3 body1 \0 body2 \0 code   (status bytes: 0=200 1=401 2=403 3=500)
for i, b1 in enumerate(texts):
    b2 = texts[(i * 5 + 3) % len(texts)]
    for cfg, mode, s1, s2, s3, code in [(0, 0, 0, 0, 1, ""), (0, 1, 0, 0, 1, ""), (1, 0, 0, 0, 0, "40101"),
                                        (9, 1, 0, 0, 0, "40101"), (17, 0, 2, 0, 0, "40301"), (2, 1, 3, 0, 1, "7"),
                                        (4, 0, 0, 0, 1, ""), (6, 1, 0, 0, 1, ""), (32, 0, 0, 0, 1, "")]:
        put("auth_body", bytes([cfg, mode, s1, s2, s3]) + b1.encode() + b"\0" + b2.encode() + b"\0" + code.encode())

# config: options objects
configs = [
    {}, {"baseURL": "https://api.example.com"}, {"baseURL": "http://127.0.0.1:3000", "timeout": 5000},
    {"baseURL": {"develop": "http://dev.local", "trial": "https://t.com", "release": "https://r.com"}, "env": "trial"},
    {"baseURL": "https://a.com", "login": {"url": "/auth/login", "method": "POST"}, "refresh": False},
    {"refresh": {"url": "/auth/refresh", "method": "POST", "field": "rt"}},
    {"tokenFields": {"accessToken": "data.token", "refreshToken": "data.rt", "expiresIn": "data.ttl"}},
    {"expiredWhen": {"status": [401, "419"], "code": [40101, "E1"]}, "loginRequiredWhen": {"status": [403], "code": []}},
    {"envelope": {"code": "code", "message": "msg", "data": "data", "success": [0, "ok"]}},
    {"envelope": True}, {"envelope": None}, {"refreshLeeway": 30.5, "timeout": 1e300, "checkSession": True},
    {"allowedOrigins": ["https://x.com/a", "HTTPS://Y.com:443", "http://[::1]:8080"]},
    {"baseURL": "http://api.com"}, {"baseURL": "ftp://a.com"}, {"timeout": 0}, {"env": "prod"},
    {"baseURL": "https://user:secret-pw@api.test/v1?key=SECRET", "storageKey": "k", "authHeader": "X-Token", "authScheme": ""},
    {"login": {"url": "http://evil.com/l"}, "baseURL": "https://a.com"}, {"allowedOrigins": ["nope-secret-origin"]},
]
for c in configs:
    put("config", json.dumps(c))
for t in ["[]", "nope", "null", '{"baseURL":3}', '{"timeout":-1}', '{"expiredWhen":{"status":["x"]}}']:
    put("config", t)

# url: "url" (joined to https://api.test) or "base\0url"
urls = ["https://api.test/x", "/x", "x?q=1", "HTTPS://API.Test:443/a", "http://a.com:8080?x", "https://user:pw@a.com/",
        "http://[::1]:3000/x", "https://a.com:/x", "//evil.com/x", "ftp://x", "https://evil.com\\@api.test/x",
        "https://api.test\\@evil.com", "https://a b.com", "https://a.com:99999", "https://[zz]", "x?next=http://b",
        "https://api.test#@evil.com", "https://evil.com%2F@api.test", "http://127.0.0.1/", "https://app.localhost:1/",
        "https://xn--nxasmq6b.com/", "https://0x7f.1/", "https://api.test.:443/", "https://a_b~c.test/", "@evil.com/x"]
for u in urls:
    put("url", u)
for b, u in [("https://api.test/v1/", "/users"), ("https://api.test", "https://other.test/x"), ("", "/x"),
             ("http://localhost:3000", "x"), ("https://api.test?q", "@evil.com"), ("https://evil.com@api.test", "x"),
             ("https://", "x"), ("https://api.test:8443", "a//b")]:
    put("url", b + "\0" + u)

# session: ops (op, arg[, status]) ... 0xFF then a NUL-separated pool of texts
import random
rnd = random.Random(6)
pool_sets = [
    [json.dumps(bodies[0]), json.dumps({"accessToken": "A2", "refreshToken": "R2", "expiresIn": 1}), "40101", "request:fail timeout"],
    ['{"accessToken":"S","refreshToken":"SR","expiresAt":1500,"lifetime":1000}', json.dumps(bodies[6]), "0", "7"],
    ["garbage", '{"code":40101}', json.dumps(bodies[1]), "E_TOKEN"],
]
scripts = [
    [(12, 1), (0, 0), (3, 0), (4, 0, 0), (1, 1, 1), (4, 0, 0), (0, 0), (9, 0)],
    [(12, 0), (0, 0), (0, 1), (1, 0, 1), (4, 0, 0), (1, 1, 0), (10, 2), (7, 0), (3, 0), (4, 0, 0)],
    [(0, 0), (12, 0), (11, 0), (1, 0, 0), (8, 0), (0, 2), (6, 1), (10, 3), (5, 0), (9, 0), (7, 0), (3, 1)],
]
for cfg in [0, 1, 9, 17, 32, 64]:
    for k, sc in enumerate(scripts):
        for pool in pool_sets:
            ops = bytes([cfg]) + b"".join(bytes(t) for t in sc)
            put("session", ops + b"\xff" + "\0".join(pool).encode())
for _ in range(40):
    ops = bytes([rnd.randrange(256)]) + bytes(rnd.randrange(256) for _ in range(rnd.randrange(4, 60)))
    put("session", ops.replace(b"\xff", b"\x00") + b"\xff" + "\0".join(rnd.choice(pool_sets)).encode())
