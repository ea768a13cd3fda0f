"""gunicorn settings for the verifier (docs/operator.md):

    PROMETHEUS_MULTIPROC_DIR=/run/xinka-verifier/metrics \\
        gunicorn -c python:verifier.gunicorn_config 'verifier:create_app()'

Command-line flags override these defaults (`--bind`, `--workers`, ...).

- Metrics: with `PROMETHEUS_MULTIPROC_DIR` set in the environment, prometheus_client's
  multiprocess mode (verifier/services/metrics.py). The folder is emptied when gunicorn starts
  (files of a previous run would add to this one's counts) and a dead worker's files are marked
  with `child_exit`, as prometheus_client documents.
- Request limits match nginx's (deploy/nginx/xinka-verifier.conf): request line and header
  fields at most 8 KiB, at most 100 header fields; bodies are limited by the app
  (`VERIFY_MAX_BYTES`, `CHECKIN_MAX_BYTES`).
- Access log: one line per request with its status, duration, worker pid and request id (tap
  tokens cut out of the path by the verifier's filter on `gunicorn.access`).
"""
import glob
import os

bind = "127.0.0.1:8000"
workers = 2
threads = 4                 # gthread: a slow client holds a thread, not the whole worker
timeout = 30
graceful_timeout = 30
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
access_log_format = ('%(h)s "%(r)s" %(s)s %(B)s %(M)sms pid %(p)s '
                     'request %({x-request-id}o)s')


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        if server.cfg.workers > 1:
            server.log.warning("PROMETHEUS_MULTIPROC_DIR is not set: with %d workers each "
                               "scrape of /metrics shows one worker's counts",
                               server.cfg.workers)
        return
    os.makedirs(folder, exist_ok=True)
    for stale in glob.glob(os.path.join(folder, "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)
