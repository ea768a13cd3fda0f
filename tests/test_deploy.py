"""The deployment recipe (deploy/, docs/operator.md §7) against the code, statically: no
systemd and no container engine run here. Every `flask` command a unit or the compose file
runs is a command of the verifier, every XINKA_ setting is a configuration key, gunicorn is
started with the repository's config module and app factory, every timer has its service, the
container file installs with the script the wheel test runs and does not run as root.
(The nginx site is run for real: tests/ops/test_nginx.py.)"""
import pathlib
import re
import shlex

import pytest
import yaml

from verifier import config

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())
GUNICORN = ["-c", "python:verifier.gunicorn_config"]
EXTRA_KEYS = {"LOG_LEVEL"}               # read by create_app beside config.DEFAULTS


def unit(path):
    """{section: [(key, value)]} of a systemd unit (continuation lines joined)."""
    out, section = {}, None
    text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            out.setdefault(section, [])
            continue
        key, _, value = line.partition("=")
        out[section].append((key.strip(), value.strip()))
    return out


@pytest.fixture(scope="module")
def commands(tmp_path_factory):
    from testkit.verifier import identity_config
    from verifier import create_app
    d = tmp_path_factory.mktemp("deploy")
    app = create_app({"DATABASE_URL": f"sqlite:///{d / 'x.sqlite'}", **identity_config()})
    assert {"db-upgrade", "status-publish", "ban-sweep", "complaints-sweep",
            "audit-verify"} <= set(app.cli.commands)
    return set(app.cli.commands)


def _check_command(argv, commands):
    """A command line of the recipe: flask --app verifier <known command>, or gunicorn with
    the repository's config module and app factory, or a shell (checked by the caller)."""
    exe = pathlib.PurePath(argv[0]).name
    if exe == "flask":
        assert argv[1:3] == ["--app", "verifier"], argv
        assert argv[3] in commands, f"flask {argv[3]}: no such command of the verifier"
    elif exe == "gunicorn":
        assert argv[1:3] == GUNICORN and argv[-1] == "verifier:create_app()", argv
        import verifier.gunicorn_config  # noqa: F401  (the module gunicorn loads)
    return exe


def _check_setting(name):
    if name.startswith("XINKA_"):
        key = name[len("XINKA_"):]
        assert key in config.DEFAULTS or key in EXTRA_KEYS, f"{name}: no such setting"


@pytest.mark.parametrize("path", [p for p in UNITS if p.suffix == ".service"],
                         ids=lambda p: p.name)
def test_each_service_runs_real_commands_with_real_settings(path, commands):
    u = unit(path)
    service = dict(u["Service"])
    assert service["User"] == "xinka" and service["Group"] == "xinka"    # never root
    assert "/etc/xinka/verifier.env" in [v for k, v in u["Service"] if k == "EnvironmentFile"]
    assert service.get("ProtectSystem") == "strict" and service.get("NoNewPrivileges") == "true"
    for key, value in u["Service"]:
        if key == "Environment":
            _check_setting(value.partition("=")[0])
        if key in ("ExecStart", "ExecStartPre"):
            argv = shlex.split(value)
            if _check_command(argv, commands) == "sh":
                script = argv[-1]
                for name in re.findall(r"flask --app verifier ([a-z-]+)", script):
                    assert name in commands, name
    assert any(k == "ExecStart" for k, _ in u["Service"])


def test_the_verifier_unit_serves_with_the_shared_metrics_folder():
    service = dict(unit(DEPLOY / "systemd" / "xinka-verifier.service")["Service"])
    start = shlex.split(service["ExecStart"])
    assert start[0] == "/opt/xinka/venv/bin/gunicorn" and "--workers" in start
    envs = [v for k, v in unit(DEPLOY / "systemd" / "xinka-verifier.service")["Service"]
            if k == "Environment"]
    assert "PROMETHEUS_MULTIPROC_DIR=/run/xinka-verifier/metrics" in envs
    assert service["RuntimeDirectory"] == "xinka-verifier"
    assert "XINKA_PROXY_FIX_X_FOR=1" in envs                  # behind the documented nginx
    assert shlex.split(service["ExecStartPre"])[1:] == ["--app", "verifier", "db-upgrade"]


def test_every_timer_starts_a_service_that_exists():
    timers = [p for p in UNITS if p.suffix == ".timer"]
    assert len(timers) == 6
    for t in timers:
        assert t.with_suffix(".service").exists(), t.name
        assert "Timer" in unit(t) and dict(unit(t)["Install"])["WantedBy"] == "timers.target"


def test_the_partitions_timer_runs_the_command_with_options_it_takes():
    """Daily, `attendance-partitions --ahead 3`: the options parse as the command's own, and
    the operator guide's table of timers names the unit."""
    from verifier.cli.ledger import attendance_partitions
    u = unit(DEPLOY / "systemd" / "xinka-attendance-partitions.service")
    argv = shlex.split(dict(u["Service"])["ExecStart"])
    assert argv[3] == attendance_partitions.name
    ctx = attendance_partitions.make_context(argv[3], argv[4:])
    assert ctx.params == {"ahead": 3}
    timer = dict(unit(DEPLOY / "systemd" / "xinka-attendance-partitions.timer")["Timer"])
    assert timer["OnCalendar"].startswith("*-*-* ") and timer["Persistent"] == "true"
    guide = (ROOT / "docs" / "operator.md").read_text(encoding="utf-8")
    assert "`deploy/systemd/xinka-attendance-partitions.service` / `.timer`" in guide


def test_the_backup_unit_runs_the_operator_guides_backup():
    """The same three commands as docs/operator.md §3's PostgreSQL block, in that order."""
    guide = (ROOT / "docs" / "operator.md").read_text(encoding="utf-8")
    block = re.search(r"```sh postgresql\n(.*?)```", guide, re.S).group(1)
    script = dict(unit(DEPLOY / "systemd" / "xinka-backup.service")["Service"])["ExecStart"]

    def steps(text):
        return re.findall(r"\b(pg_dump|pg_restore|audit-verify)\b", text)
    assert steps(script) == steps(block) == ["pg_dump", "pg_restore", "audit-verify"]


def test_the_container_file_installs_with_the_wheel_tests_script_and_runs_unprivileged():
    lines = re.sub(r"\\\n\s*", " ", (DEPLOY / "container" / "Containerfile").read_text())
    steps = [line.split(None, 1) for line in lines.splitlines()
             if line.strip() and not line.startswith("#")]
    runs = [rest for op, rest in steps if op == "RUN"]
    assert "sh deploy/install-wheel.sh /src /opt/xinka/venv /tmp/dist" in runs
    from tests.test_packaging import INSTALL_SCRIPT
    assert (ROOT / INSTALL_SCRIPT).exists() and INSTALL_SCRIPT == "deploy/install-wheel.sh"
    users = [rest for op, rest in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    (cmd,) = [rest for op, rest in steps if op == "CMD"]
    argv = yaml.safe_load(cmd)                          # the exec form is a JSON array
    assert argv[0] == "gunicorn" and argv[1:3] == GUNICORN
    assert argv[-1] == "verifier:create_app()"
    for op, rest in steps:
        if op == "ENV":
            for name in re.findall(r"([A-Z_]+)=", rest):
                _check_setting(name)


def test_the_compose_file_builds_the_container_and_runs_real_commands(commands):
    path = DEPLOY / "container" / "compose.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    services = spec["services"]
    assert set(services) == {"postgres", "redis", "migrate", "verifier"}
    build = services["migrate"]["build"]
    assert (path.parent / build["context"] / build["dockerfile"]).resolve() == \
        (DEPLOY / "container" / "Containerfile").resolve()
    assert services["migrate"]["command"] == ["flask", "--app", "verifier", "db-upgrade"]
    _check_command(services["migrate"]["command"], commands)
    v = services["verifier"]
    _check_command(v["command"], commands)
    for name in v["environment"]:
        _check_setting(name)
    assert v["environment"]["XINKA_RATE_LIMIT_STORAGE_URI"].startswith("redis://redis:")
    assert v["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "verifier.env" not in {p.name for p in (DEPLOY / "container").iterdir()}


def test_the_nginx_site_proxies_every_public_route_of_the_app(tmp_path):
    """A route the site does not pass on is a page that works on a laptop and 404s in
    production (the bureau console and the complainant's status page once did)."""
    from testkit.verifier import identity_config
    from verifier import create_app
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
                      **identity_config()})
    site = (DEPLOY / "nginx" / "xinka-verifier.conf").read_text(encoding="utf-8")
    proxied = set(re.findall(r"location (?:= )?(/[\w-]*/?)\s*\{\s*proxy_pass", site))
    closed = set(re.findall(r"location (?:= )?(/[\w-]*/?)\s*\{\s*return 404", site))
    assert closed == {"/metrics", "/"}
    for rule in app.url_map.iter_rules():
        first = rule.rule.split("/")[1]
        if first == "metrics":
            continue                    # scraped on 127.0.0.1, never through the proxy
        wanted = {f"/{first}/", f"/{first}"} if "/" in rule.rule[1:] else {f"/{first}"}
        assert wanted & proxied, f"{rule.rule}: no `location` in the nginx site passes it on"
