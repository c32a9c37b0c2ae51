"""Filesystems the chaos scenarios put notifbot's database on: a small tmpfs to fill, an ext4 image to turn read-only.

Both need root (mount, losetup). Every step runs a real command and raises FsError with its output on failure;
`close()` always unmounts and detaches, killing nothing (the caller stops its processes first).

Why ext4 for "read-only": Linux refuses `mount -o remount,ro` while any process holds a file open for writing
(EBUSY, and SQLite always does), so a live read-only flip of a tmpfs cannot happen. What does happen in production
is the kernel remounting a filesystem read-only under a running process after an I/O error (ext4
`errors=remount-ro`); ext4's `trigger_fs_error` sysfs knob raises exactly that error on demand. Recovery is what an
operator does: stop the service, unmount, fsck, mount again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from pathlib import Path


class FsError(RuntimeError):
    """A mount, fill or fsck step failed (the message carries the command's output)."""


def _run(*argv: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode not in ok:
        raise FsError(f"{' '.join(argv)}: exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()}")
    return proc


def cannot_mount() -> str | None:
    """Why this process cannot mount filesystems, or None when it can."""
    if os.geteuid() != 0:
        return "needs root (mount, losetup)"
    missing = [t for t in ("mount", "umount") if shutil.which(t) is None]
    return f"missing {', '.join(missing)}" if missing else None


def cannot_use_ext4_image() -> str | None:
    """Why an ext4 image on a loop device cannot be used here, or None."""
    why = cannot_mount()
    if why:
        return why
    missing = [t for t in ("losetup", "mkfs.ext4", "e2fsck") if shutil.which(t) is None]
    if missing:
        return f"missing {', '.join(missing)} (apt-get install e2fsprogs mount)"
    if not Path("/dev/loop-control").exists():
        return "no loop devices (/dev/loop-control)"
    return None


def mount_options(mnt: Path) -> str:
    """The options /proc/mounts shows for `mnt` ('' when it is not a mount point)."""
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[1] == str(mnt):
            return fields[3]
    return ""


def _umount(mnt: Path) -> None:
    if mount_options(mnt):
        proc = subprocess.run(["umount", str(mnt)], capture_output=True, text=True, timeout=60, check=False)
        if proc.returncode != 0:  # something still holds it: detach it anyway so the run never leaks a mount
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=60, check=False)


class Tmpfs:
    """A tmpfs of `size_mib` at `mnt`; `fill()` takes every free byte with a filler file, `free()` gives it back."""

    def __init__(self, mnt: Path, size_mib: int) -> None:
        self.mnt = mnt
        self.size_mib = size_mib
        self.filler = mnt / "filler.bin"

    def __enter__(self) -> Tmpfs:
        self.mnt.mkdir(parents=True, exist_ok=True)
        _run("mount", "-t", "tmpfs", "-o", f"size={self.size_mib}m,mode=0755", "chaos-tmpfs", str(self.mnt))
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        _umount(self.mnt)

    def free_bytes(self) -> int:
        st = os.statvfs(self.mnt)
        return st.f_bavail * st.f_frsize

    def fill(self) -> int:
        """Writes the filler until ENOSPC (1 MiB, then 4 KiB writes); returns the bytes it took."""
        written = 0
        chunk = b"\0" * (1 << 20)
        with open(self.filler, "ab", buffering=0) as f:
            for size in (1 << 20, 4096):
                while True:
                    try:
                        n = f.write(chunk[:size])
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
                    written += n or 0
        return written

    def free(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.filler.unlink()


class Ext4Image:
    """An ext4 filesystem in a file, on a loop device, mounted at `mnt` with errors=remount-ro."""

    OPTIONS = "errors=remount-ro"

    def __init__(self, image: Path, mnt: Path, size_mib: int) -> None:
        self.image, self.mnt, self.size_mib = image, mnt, size_mib
        self.device = ""

    def __enter__(self) -> Ext4Image:
        try:
            with open(self.image, "wb") as f:
                f.truncate(self.size_mib << 20)
            _run("mkfs.ext4", "-q", "-F", str(self.image))
            self.device = _run("losetup", "--find", "--show", str(self.image)).stdout.strip()
            self.mnt.mkdir(parents=True, exist_ok=True)
            self.mount(read_only=False)
        except BaseException:
            self.close()  # no loop device or image left behind by a half-made filesystem
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            _umount(self.mnt)
        finally:
            if self.device:
                subprocess.run(["losetup", "-d", self.device], capture_output=True, timeout=60, check=False)
                self.device = ""
            with contextlib.suppress(FileNotFoundError):
                self.image.unlink()

    def mount(self, *, read_only: bool) -> None:
        _run("mount", "-o", f"{'ro' if read_only else 'rw'},{self.OPTIONS}", self.device, str(self.mnt))

    def remount(self, *, read_only: bool) -> str | None:
        """`mount -o remount,ro|rw` while processes may hold files: None when it worked, else mount's complaint."""
        try:
            _run("mount", "-o", f"remount,{'ro' if read_only else 'rw'}", str(self.mnt))
        except FsError as exc:  # e.g. "mount: /mnt: mount point is busy." plus a dmesg hint
            return str(exc).split(": exit ", 1)[-1].split("\n")[0].rsplit(": ", 1)[-1].strip()
        return None

    def kernel_error(self, message: str = "notifbot chaos: simulated I/O error") -> None:
        """Raises an ext4 error as a failing disk would; with errors=remount-ro the kernel turns the fs read-only."""
        knob = Path("/sys/fs/ext4") / Path(self.device).name / "trigger_fs_error"
        if not knob.exists():
            raise FsError(f"{knob} is missing: this kernel cannot raise an ext4 error on demand")
        knob.write_text(message + "\n")

    def read_only(self) -> bool:
        return "ro" in mount_options(self.mnt).split(",") or "emergency_ro" in mount_options(self.mnt)

    def unmount_and_check(self) -> str:
        """Unmounts and runs e2fsck -fy (what an operator does after the kernel's read-only remount)."""
        _umount(self.mnt)
        proc = _run("e2fsck", "-fy", self.device, ok=(0, 1, 2))
        return f"e2fsck exit {proc.returncode}"
