"""Configuration: defaults, then an optional file (`XINKA_CONFIG`, .json or .py), then
`XINKA_*` environment variables, then the `test_config` mapping given to `create_app`.

Every key is documented in docs/verifier.md.
"""
import json
import os

DEFAULTS = {
    "DATABASE_URL": None,              # None: sqlite file in the instance folder
    "SQLITE_BUSY_TIMEOUT_MS": 10000,
    "AUTHORITY_KEY": None,             # COSE_Key hex, PEM text, or a path to either
    "STATUS_KEY_DIR": None,            # <dir>/<agency id>.pem: keys that sign our status lists
    "STATUS_SIGNING_KEYS": {},         # agency id -> private key object (tests, embedding)
    "STATUS_BASE_URL": "https://v.example.cn",
    "STATUS_TTL_S": 3600,
    "STATUS_VALIDITY_S": 7 * 86400,
    "STATUS_MAX_AGE_S": 0,             # 0: a list is stale once past its own ttl
    "STALE_POLICY": "warn",            # warn | refuse
    "STATUS_CHECK_MS": 500,            # how often a process reads the list version in the db
    "VERIFY_MAX_BYTES": 4096,
    "CHECKIN_MAX_BYTES": 4 * 1024 * 1024,
    "CHECKIN_MAX_ITEMS": 1000,
    "RATE_LIMIT_PER_MIN": 600,         # per client address on public endpoints; 0 = off
    "RATE_LIMIT_STORAGE_URI": "memory://",  # redis://host:6379/0 with several workers
    "PROXY_FIX_X_FOR": 0,              # proxies in front whose X-Forwarded-For is trusted
    "TIMEZONE": "Asia/Shanghai",
    "PERIOD_START_DAY": 1,             # 26: period "2027-02" runs 26 Jan .. 25 Feb
    "FIXED_NOW": 0,                    # tests and replays only: a fixed clock (Unix s)
    "COOKIE_SECURE": False,            # console/employer cookies Secure (also on HTTPS requests)
    "RELOAD_WINDOW_S": 600,            # employer page: the first browser may reload this long
    "REVIEW_WINDOW_S": 7 * 86400,      # a consent view may be reviewed this long
    "VISIT_REVIEW_WINDOW_S": 30 * 86400,   # a verified visit may be reviewed this long
    "SESSION_TTL_S": 8 * 3600,         # console sessions
    "SECRET_KEY": None,                # signs the session cookie; None: <instance>/secret_key
    "STAFF_SCRYPT_N": 2 ** 15,         # console passwords: scrypt cost (>= 2^15 unless TESTING)
    "RECEIPT_SIGNING_KEY": None,       # visit receipts: EC P-256 private key (PEM, path, object)
    "VISIT_MAX_S": 12 * 3600,          # an open visit closes itself this long after arrival
    "HOUSEHOLD_TTL_S": 400 * 86400,    # a household key unused this long expires
    "ID_SEAL_KEYS": {},                # key id -> 64 hex digits: AES-256-GCM, ID numbers at rest
    "ID_SEAL_KEY_ID": None,            # the one that seals new numbers
    "PERSON_HASH_KEYS": {},            # key id -> secret (hex, >= 32 bytes): the person hash
    "PERSON_HASH_KEY_ID": None,        # the current one (the others: lookups during rotation)
    "SERVICE_CATALOGUE": {},           # agency id -> service type codes (default: all known)
    "WORKDAY_YEARS": {},               # year -> {"holidays": [...], "workdays": [...]}: the State
                                       # Council's schedule for a year chinese-calendar lacks
    "FRAUD_THRESHOLDS": {},            # visit fraud signals: late_s, many, days, pattern_min,
                                       # instant_s (services/signals.Thresholds)
    "DISCLOSURE_RETENTION_DAYS": 3 * 365,  # the disclosure log (docs/operator.md "Retention")
    "CITY_FIGURES_MAX_AGE_S": 900,     # the bureau console's stored figures (services/city_figures)
}

_PREFIX = "XINKA_"


def _coerce(key, text):
    default = DEFAULTS.get(key)
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, dict):
        return json.loads(text)
    return text


def load(config, test_config=None, environ=None):
    """Fill the Flask `config` mapping in the documented order."""
    environ = os.environ if environ is None else environ
    config.update(DEFAULTS)
    path = environ.get(_PREFIX + "CONFIG")
    if path:
        if path.endswith(".py"):
            config.from_pyfile(path)
        else:
            with open(path, encoding="utf-8") as f:
                config.update({k.upper(): v for k, v in json.load(f).items()})
    for name, value in environ.items():
        if name.startswith(_PREFIX) and name != _PREFIX + "CONFIG":
            key = name[len(_PREFIX):]
            config[key] = _coerce(key, value)
    if test_config:
        config.update(test_config)
    if config["STALE_POLICY"] not in ("warn", "refuse"):
        raise ValueError("STALE_POLICY must be warn or refuse / 过期策略只能是 warn 或 refuse")
    n = int(config["STAFF_SCRYPT_N"])
    if n & (n - 1) or n < (2 ** 10 if config.get("TESTING") else 2 ** 15):
        raise ValueError("STAFF_SCRYPT_N must be a power of two, at least 32768 (1024 with "
                         "TESTING) / STAFF_SCRYPT_N 须为 2 的幂且不小于 32768（测试时 1024）")
    if int(config["CITY_FIGURES_MAX_AGE_S"]) < 0:
        raise ValueError("CITY_FIGURES_MAX_AGE_S must be 0 or more / 统计数据最长缓存秒数不能为负")
    if int(config["DISCLOSURE_RETENTION_DAYS"]) < 1:
        raise ValueError("DISCLOSURE_RETENTION_DAYS must be at least 1 / 披露记录保存天数至少为 1")
    if not 1 <= int(config["PERIOD_START_DAY"]) <= 28:
        raise ValueError("PERIOD_START_DAY must be 1..28 / 考勤周期起始日须为 1..28")
