"""Real storage faults for readiness tests: tiny tmpfs, loop-mounted ext4, read-only mounts, frozen filesystems.

Each helper undoes itself in `finally` (a lazy unmount if the mount is still busy), so a failing test leaves no mount
behind. They need root (CI runs as root); elsewhere `needs_root` skips with the reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="mounts, fsfreeze and chattr need root (CI runs the suite as root)"
)


def run(*argv: str) -> None:
    """Runs a mount tool; its stderr is the assertion message when it fails."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr.strip()}"


def unmount(point: Path) -> None:
    """Unmounts `point`; lazily when something still holds it (the test's failure is the one to report)."""
    if subprocess.run(["umount", str(point)], capture_output=True, timeout=30, check=False).returncode:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=30, check=False)


@contextmanager
def tmpfs(point: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "40m") mounted at `point`."""
    point.mkdir(parents=True, exist_ok=True)
    run("mount", "-t", "tmpfs", "-o", f"size={size}" + (",ro" if read_only else ""), "tmpfs", str(point))
    try:
        yield point
    finally:
        unmount(point)


@contextmanager
def ext4(point: Path, size_mib: int) -> Iterator[Path]:
    """A fresh ext4 filesystem in a sparse image file, loop-mounted at `point` (the loop device goes on unmount)."""
    image = point.with_suffix(".img")
    with open(image, "wb") as f:
        f.truncate(size_mib * 1024 * 1024)
    run("mkfs.ext4", "-q", "-F", str(image))
    point.mkdir(parents=True, exist_ok=True)
    run("mount", "-o", "loop", str(image), str(point))
    try:
        yield point
    finally:
        unmount(point)
        image.unlink(missing_ok=True)


@contextmanager
def frozen(point: Path, *, at_most: float = 20.0) -> Iterator[None]:
    """`fsfreeze` on the filesystem at `point`; thawed on exit, and by a watchdog after `at_most` s whatever happens
    to this process (a writer blocked on a frozen filesystem cannot be killed)."""
    run("fsfreeze", "-f", str(point))
    watchdog = subprocess.Popen(
        ["sh", "-c", f"sleep {at_most}; fsfreeze -u {point}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield
    finally:
        subprocess.run(["fsfreeze", "-u", str(point)], capture_output=True, timeout=30, check=False)
        os.killpg(watchdog.pid, signal.SIGKILL)
        watchdog.wait(10)


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """`chattr +i`: not even root can write the file until it is lifted (root ignores permission bits)."""
    run("chattr", "+i", str(path))
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, timeout=30, check=False)


def fill(directory: Path) -> Path:
    """Writes a file in `directory` until its filesystem has no space left; returns it (delete it to free the space)."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    block = b"\0" * (1024 * 1024)
    try:
        while True:
            try:
                os.write(fd, block)
            except OSError:
                if len(block) == 512:
                    break
                block = block[: len(block) // 2]
    finally:
        os.close(fd)
    return filler
