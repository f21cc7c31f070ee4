"""What the harness's processes listen on, and whether any of it can be reached from another machine.

LocalStack runs Lambda code of whoever can reach its gateway as host processes (our executor), so
every socket of its process tree must be on loopback: LocalStack's gateway, kinesis-mock (node),
DynamoDB Local (java) and the executor's worker processes. :func:`listeners` lists the TCP sockets
in LISTEN and the unconnected UDP sockets of a process and all its descendants; :func:`exposed`
keeps those bound beyond loopback (``0.0.0.0``, ``::``, a LAN address).

psutil reads the sockets (``/proc/net`` and each process's file descriptors on Linux): a
well-kept library that already maps socket inodes to processes, which ``ss -ltnup`` would make us
parse as text.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import psutil

if TYPE_CHECKING:
    from collections.abc import Iterable

    from psutil._ntuples import pconn


@dataclass(frozen=True, order=True)
class Listener:
    """One listening socket: who holds it and where it is bound."""

    pid: int
    process: str
    protocol: str
    """``tcp`` or ``udp``."""
    address: str
    port: int

    @property
    def loopback(self) -> bool:
        return is_loopback(self.address)

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.protocol} {host}:{self.port} {self.process} (pid {self.pid})"


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z; a wildcard or any other address is not."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def of_connections(pid: int, process: str, connections: Iterable[pconn]) -> list[Listener]:
    """The listening sockets among one process's connections: TCP in LISTEN, UDP not connected to a peer."""
    found = []
    for connection in connections:
        # psutil gives an empty tuple, not an address, for a socket not bound or not connected.
        local = cast("tuple[str, int] | tuple[()]", connection.laddr)
        peer = cast("tuple[str, int] | tuple[()]", connection.raddr)
        if not local:
            continue
        if connection.type == socket.SOCK_STREAM and connection.status != psutil.CONN_LISTEN:
            continue
        if connection.type == socket.SOCK_DGRAM and peer:
            continue  # a connected UDP socket takes datagrams from its one peer only
        protocol = "tcp" if connection.type == socket.SOCK_STREAM else "udp"
        found.append(Listener(pid, process, protocol, local[0], local[1]))
    return found


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (LocalStack's children: node, java, the executor's workers)."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def listeners(pid: int) -> list[Listener]:
    """Every listening socket of ``pid`` and its descendants, sorted; processes that end meanwhile are skipped."""
    found: list[Listener] = []
    for process in process_tree(pid):
        try:
            found += of_connections(process.pid, process.name(), process.net_connections(kind="inet"))
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return sorted(set(found))


def exposed(found: Iterable[Listener]) -> list[Listener]:
    """The listeners another machine could reach."""
    return [listener for listener in found if not listener.loopback]
