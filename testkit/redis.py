"""A throw-away Redis server (Debian's `redis-server`) on 127.0.0.1 for the rate-limit tests,
like testkit/pg.py's PostgreSQL: no persistence, its own folder, stopped by the test."""
import shutil
import subprocess
import tempfile
import time

from hardware.sim.ports import free_port


class RedisServer:
    def __init__(self):
        self.dir = None
        self.port = None
        self.proc = None

    def start(self):
        exe = shutil.which("redis-server")
        if not exe:
            raise RuntimeError("redis-server is not installed (Debian package redis-server)")
        self.dir = tempfile.mkdtemp(prefix="xinka-redis-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--daemonize", "no",
             "--logfile", f"{self.dir}/redis.log"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)
        deadline = time.monotonic() + 30
        while True:                        # up when it answers PING (as pg_ctl -w waits)
            try:
                if client.ping():
                    break
            except redis.exceptions.ConnectionError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        client.close()
        return self

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
