"""A throw-away PostgreSQL cluster (Debian's package) on 127.0.0.1 for tests and benches.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user and
every server command runs through `runuser -u postgres`."""
import glob
import os
import shutil
import subprocess
import tempfile

from hardware.sim.ports import free_port



def find_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return found[-1] if found else shutil.which(name)


class Cluster:
    def __init__(self):
        self.dir = None
        self.port = None

    def _run(self, args, **kw):
        if os.geteuid() == 0:
            args = ["runuser", "-u", "postgres", "--"] + args
        return subprocess.run(args, check=True, capture_output=True, text=True, **kw)

    def start(self):
        initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("PostgreSQL is not installed (initdb/pg_ctl not found)")
        self.dir = tempfile.mkdtemp(prefix="xinka-pg-")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = os.path.join(self.dir, "data")
        self._run([initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                   "--no-sync", "--locale=C"])
        self.port = free_port()
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                "-c shared_buffers=128MB")
        self._run([pg_ctl, "-D", data, "-o", opts, "-l", os.path.join(self.dir, "log"), "-w",
                   "-t", "60", "start"])
        return self

    def url(self, db="postgres"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def admin(self, sql):
        import psycopg
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def stop(self):
        if self.dir is None:
            return
        try:
            self._run([find_bin("pg_ctl"), "-D", os.path.join(self.dir, "data"), "-m",
                       "immediate", "-w", "stop"])
        except (subprocess.CalledProcessError, FileNotFoundError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
