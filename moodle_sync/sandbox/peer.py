"""Which local process holds the other end of a loopback connection (Linux's /proc).

The kill faults (faults.py) SIGKILL the client that made a call, from outside it, as a crash
would: no hook in the client's own code. The client's socket is found in /proc/net/tcp by its
two addresses, then the process holding that socket in /proc/<pid>/fd.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

__all__ = ["Address", "caller_pid"]

Address = tuple[str, int]
PROC = Path("/proc")


def caller_pid(client: Address, server: Address, proc: Path = PROC) -> int | None:
    """The pid of the process whose socket runs from `client` to `server`, or None."""
    inode = _socket_inode(client, server, proc)
    if inode is None:
        return None
    link = f"socket:[{inode}]"
    for pid in (entry for entry in proc.iterdir() if entry.name.isdigit()):
        try:
            if any(os.readlink(fd) == link for fd in (pid / "fd").iterdir()):
                return int(pid.name)
        except OSError:  # gone, or not ours to read
            continue
    return None


def _socket_inode(client: Address, server: Address, proc: Path) -> int | None:
    """The inode of the IPv4 socket (the sandbox listens on IPv4) from `client` to `server`."""
    wanted = (_hex(client), _hex(server))
    try:
        lines = (proc / "net" / "tcp").read_text(encoding="ascii").splitlines()[1:]
    except OSError:
        return None
    for fields in (line.split() for line in lines):
        if (fields[1], fields[2]) == wanted:
            return int(fields[9])
    return None


def _hex(address: Address) -> str:
    """An IPv4 address as /proc/net/tcp prints it: the address word in host order, the port."""
    word = int.from_bytes(socket.inet_aton(address[0]), sys.byteorder)
    return f"{word:08X}:{address[1]:04X}"
