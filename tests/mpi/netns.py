"""Bring up `lo` in a fresh network namespace, then exec the command (the MPI launcher).

Run as `unshare --net python tests/mpi/netns.py mpiexec -n 2 ...`: the launcher and its ranks
then see only the loopback interface, so nothing listens on a real network. `lo` is raised with
the SIOCSIFFLAGS ioctl, so no `ip` program (iproute2) is needed.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import sys

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(s, SIOCGIFFLAGS, ifr))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


if __name__ == "__main__":
    loopback_up()
    os.execvp(sys.argv[1], sys.argv[1:])
