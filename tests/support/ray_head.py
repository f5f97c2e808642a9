"""A real Ray head for tests: loopback only, its own temp dir, token auth with a throwaway token,
no usage stats, stopped by its process id (never `ray stop`, which would stop other people's)."""

import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from paths import ROOT, SUPPORT
from web_helpers import free_port

RAY = Path(sys.executable).parent / "ray"


def ray_env(token: str) -> dict[str, str]:
    return {
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
        # Workers import the test fakes (CrashOnceEmbedder...) by module name.
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(SUPPORT)]),
        # A Ray client left in the test process after `ray.shutdown` (a Ray Data thread of a
        # cancelled build outlives it) retries the head for this long once the head is stopped,
        # then exits the whole process with status 1 (Ray's default is 60 s: one CI run died so,
        # 62 s after this module's head stopped, in another module's test).
        "RAY_gcs_rpc_server_reconnect_timeout_s": "3600",
    }


@contextmanager
def ray_head(temp_dir: Path, num_cpus: int = 2, timeout: float = 120.0):
    """Yield (address, env): the env a driver needs to connect."""
    token = secrets.token_hex(16)
    env = ray_env(token)
    port = free_port()
    cmd = [str(RAY), "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port),
           "--num-cpus", str(num_cpus), "--include-dashboard", "false", "--disable-usage-stats",
           "--temp-dir", str(temp_dir), "--object-store-memory", str(300 * 1024 * 1024),
           "--dashboard-agent-listen-port", str(free_port()), "--dashboard-agent-grpc-port", str(free_port()),
           "--metrics-export-port", str(free_port()), "--runtime-env-agent-port", str(free_port()),
           "--dashboard-port", str(free_port())]
    log = open(temp_dir.parent / f"ray-head-{port}.log", "w")
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while b"Ray runtime started" not in Path(log.name).read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray head did not start: {Path(log.name).read_text()[-3000:]}")
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", env
    finally:
        # `ray start --block` stops its own children on SIGTERM; the group kill is the backstop
        # for anything it left (the group is ours: start_new_session above).
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log.close()
