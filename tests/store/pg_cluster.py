#!/usr/bin/env python3
"""A private PostgreSQL cluster for tests: initdb + pg_ctl in a temporary
directory, listening on a free loopback port only, removed at the end.

As root (CI), the cluster runs as the unprivileged user `nobody` (PostgreSQL
refuses to run as root): the data directory is created owned by it.

  pg_cluster.py run -- CMD ARGS...   start, run CMD with ARGUS_TEST_PG_URL
                                     set, stop, remove; CMD's exit status
                                     (1 when the cluster cannot start)

or from Python:  with PgCluster() as pg: pg.url
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile


def _bindir():
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                    key=lambda p: int(p.split("/")[-2]), reverse=True):
        if os.path.exists(os.path.join(d, "initdb")):
            return d
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found: "
                       "install the Debian package postgresql (scripts/setup-deps.sh)")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self, user="argus", fsync=False):
        """fsync=False (tests): commits are not flushed to disk, which is
        faster and changes nothing a test checks; benchmarks pass True."""
        self.user = user
        self.fsync = "on" if fsync else "off"
        self.bindir = _bindir()
        self.root = tempfile.mkdtemp(prefix="argus-pg-")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self.port = None
        self.url = None
        self.as_user = None
        if os.geteuid() == 0:
            self.as_user = "nobody"
            pw = pwd.getpwnam(self.as_user)
            os.chmod(self.root, 0o755)
            os.makedirs(self.data, mode=0o700)
            os.chown(self.data, pw.pw_uid, pw.pw_gid)
            open(self.log, "w").close()
            os.chown(self.log, pw.pw_uid, pw.pw_gid)

    def _run(self, *argv, check=True):
        cmd = [os.path.join(self.bindir, argv[0])] + list(argv[1:])
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--"] + cmd
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           cwd="/")
        if check and r.returncode != 0:
            raise RuntimeError(" ".join(argv[:2]) + " failed:\n" + r.stdout + self._log_tail())
        return r

    def _log_tail(self):
        try:
            with open(self.log) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def start(self):
        self._run("initdb", "-D", self.data, "-U", self.user, "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        for attempt in range(5):
            self.port = _free_port()
            opts = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=%s "
                    "-c max_connections=200" % (self.port, self.data, self.fsync))
            r = self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "-t",
                          "60", "start", check=False)
            if r.returncode == 0:
                self.url = "postgresql://%s@127.0.0.1:%d/postgres" % (self.user, self.port)
                return self
            if "already in use" not in self._log_tail():
                break
        raise RuntimeError("pg_ctl start failed:\n" + r.stdout + self._log_tail())

    def create_database(self, name):
        """Creates database `name` and answers its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return "postgresql://%s@127.0.0.1:%d/%s" % (self.user, self.port, name)

    def query(self, url, sql):
        """The rows of `sql` on the database of `url`, as lists of strings."""
        r = self._run("psql", url, "-At", "-F", "\t", "-c", sql)
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def stop(self, mode="fast"):
        if self.port is not None:
            self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def restart(self):
        opts = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=%s -c max_connections=200"
                % (self.port, self.data, self.fsync))
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "start")

    def close(self):
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()


def main(argv):
    if len(argv) < 3 or argv[1] != "run" or "--" not in argv:
        sys.stderr.write(__doc__)
        return 2
    cmd = argv[argv.index("--") + 1:]
    try:
        pg = PgCluster().__enter__()
    except Exception as e:  # the tests that need it fail, never skip
        sys.stderr.write("FAIL: cannot start a PostgreSQL cluster: %s\n" % e)
        return 1
    try:
        env = dict(os.environ, ARGUS_TEST_PG_URL=pg.url)
        return subprocess.call(cmd, env=env)
    finally:
        pg.__exit__(None, None, None)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
