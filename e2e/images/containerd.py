"""A throwaway containerd (own root, state and socket in a temp folder) to check the archives.

``Containerd`` starts the installed ``containerd`` without its CRI plugin, imports OCI archives
with ``ctr images import`` and runs images with ``ctr run --rm`` (runc, host network), so a
test can prove that an archive is valid and that its entrypoint starts. Needs root.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

CONFIG = """version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{sock}"
"""


class Containerd:
    """``with Containerd() as c: c.load(archive); c.run(ref, "cmd", ...)``."""

    def __init__(self, *, namespace: str = "falcon-images") -> None:
        self.namespace = namespace
        self.dir = Path(tempfile.mkdtemp(prefix="falcon-containerd-"))
        self.sock = self.dir / "containerd.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Containerd:
        for tool in ("containerd", "ctr", "runc"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed (apt-get install containerd runc)")
        config = self.dir / "config.toml"
        config.write_text(CONFIG.format(sock=self.sock))
        log = (self.dir / "containerd.log").open("wb")
        self.proc = subprocess.Popen(
            [
                "containerd",
                "--config",
                str(config),
                "--root",
                str(self.dir / "root"),
                "--state",
                str(self.dir / "state"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while self.ctr("version", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"containerd did not start: see {self.dir / 'containerd.log'}")
            time.sleep(0.3)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run(["umount", "-R", str(self.dir / "root")], capture_output=True, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def ctr(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """``ctr --address SOCK -n NAMESPACE args`` (raises with its output when check fails)."""
        proc = subprocess.run(
            ["ctr", "--address", str(self.sock), "-n", self.namespace, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"ctr {' '.join(args)}: {proc.stderr.strip() or proc.stdout}")
        return proc

    def load(self, archive: Path) -> list[str]:
        """Import archive; return the references containerd now lists."""
        self.ctr("images", "import", str(archive))
        return self.ctr("images", "ls", "-q").stdout.split()

    def run(
        self, ref: str, *args: str, timeout: float = 120, net_host: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``ctr run --rm [--net-host] ref <unique id> args`` (output captured, not checked)."""
        cid = f"falcon-{time.monotonic_ns()}"
        flags = ["--rm", *(["--net-host"] if net_host else [])]
        return self.ctr("run", *flags, ref, cid, *args, check=False, timeout=timeout)

    def start(
        self,
        ref: str,
        *args: str,
        mounts: dict[Path, str] | None = None,
        env: dict[str, str] | None = None,
    ) -> str:
        """Start ``ref args`` in the background on the host network; return the container id.

        ``mounts`` binds host folders read-only at container paths, ``env`` adds environment
        variables; output goes to ``<temp>/<id>.log`` (:meth:`log`).
        """
        cid = f"falcon-{time.monotonic_ns()}"
        flags = ["--detach", "--net-host", "--log-uri", f"file://{self.dir / cid}.log"]
        for src, dst in (mounts or {}).items():
            flags += ["--mount", f"type=bind,src={src},dst={dst},options=rbind:ro"]
        for key, value in (env or {}).items():
            flags += ["--env", f"{key}={value}"]
        self.ctr("run", *flags, ref, cid, *args)
        return cid

    def log(self, cid: str) -> str:
        """What a started container wrote so far."""
        path = self.dir / f"{cid}.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def stop(self, cid: str, *, timeout: float = 60) -> None:
        """SIGTERM the container's task, then SIGKILL after timeout; delete it."""
        self.ctr("task", "kill", "--signal", "SIGTERM", cid, check=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.ctr("task", "ls", check=False).stdout
            if not any(line.startswith(cid) and "RUNNING" in line for line in status.splitlines()):
                break
            time.sleep(0.5)
        else:
            self.ctr("task", "kill", "--signal", "SIGKILL", cid, check=False)
        self.ctr("task", "delete", "--force", cid, check=False)
        self.ctr("containers", "delete", cid, check=False)
