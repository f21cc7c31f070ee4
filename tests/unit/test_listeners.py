"""Loopback only: the listener census of a process tree, and the Node preload that keeps kinesis-mock
on 127.0.0.1. The real LocalStack tree is checked by tests/integration/test_listeners.py."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from typing import TYPE_CHECKING

import psutil
import pytest
from psutil._ntuples import addr, pconn

from stream_pipeline_local.emulator import node_options
from stream_pipeline_local.install import NODE_LOOPBACK
from stream_pipeline_local.listeners import Listener, exposed, is_loopback, listeners, of_connections

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # what java's dual-stack socket shows once bound to 127.0.0.1
        ("0.0.0.0", False),  # noqa: S104 - the wildcard is the case under test
        ("::", False),
        ("::ffff:0.0.0.0", False),
        ("10.0.0.5", False),
        ("fe80::1%eth0", False),
        ("", False),
        ("localhost", False),  # a name is not an address: never trusted
    ],
)
def test_only_loopback_addresses_are_loopback(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_only_listening_sockets_count() -> None:
    tcp, udp, v4, v6 = socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.AF_INET, socket.AF_INET6
    connections = [
        pconn(3, v4, tcp, addr("0.0.0.0", 4566), (), psutil.CONN_LISTEN),  # noqa: S104
        pconn(4, v4, tcp, addr("127.0.0.1", 50000), addr("127.0.0.1", 4566), psutil.CONN_ESTABLISHED),
        pconn(5, v6, udp, addr("::", 5353), (), psutil.CONN_NONE),
        pconn(6, v4, udp, addr("0.0.0.0", 40000), addr("10.0.0.2", 53), psutil.CONN_NONE),  # noqa: S104
        pconn(7, v4, tcp, (), (), psutil.CONN_CLOSE),
    ]
    found = of_connections(42, "python", connections)  # type: ignore[arg-type]  # () is psutil's "no address"
    assert found == [
        Listener(42, "python", "tcp", "0.0.0.0", 4566),  # noqa: S104
        Listener(42, "python", "udp", "::", 5353),
    ]
    assert [str(listener) for listener in exposed(found)] == [
        "tcp 0.0.0.0:4566 python (pid 42)",
        "udp [::]:5353 python (pid 42)",
    ]


TREE = textwrap.dedent(
    """
    import socket, subprocess, sys, time
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.bind(("127.0.0.1", 0)); listening.listen()
    client = socket.create_connection(listening.getsockname())  # connected, not listening: not counted
    child = None
    if sys.argv[1] == "parent":
        child = subprocess.Popen([sys.executable, "-c", sys.argv[2], "child", sys.argv[2]], stdout=sys.stdout)
        time.sleep(0.3)
    else:
        datagrams = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        datagrams.bind(("::1", 0))
    print(sys.argv[1], listening.getsockname()[1], flush=True)
    time.sleep(30)
    """
)


@pytest.fixture
def tree() -> Iterator[tuple[subprocess.Popen[str], dict[str, int]]]:
    """A parent listening on TCP 127.0.0.1 whose child listens on TCP 127.0.0.1 and UDP ::1."""
    parent = subprocess.Popen([sys.executable, "-c", TREE, "parent", TREE], stdout=subprocess.PIPE, text=True)
    ports: dict[str, int] = {}
    try:
        assert parent.stdout is not None
        for _ in range(2):
            role, port = parent.stdout.readline().split()
            ports[role] = int(port)
        yield parent, ports
    finally:
        for child in psutil.Process(parent.pid).children(recursive=True):
            child.kill()
        parent.kill()
        parent.wait(timeout=10)
        if parent.stdout is not None:
            parent.stdout.close()


def test_the_census_walks_the_whole_process_tree(tree: tuple[subprocess.Popen[str], dict[str, int]]) -> None:
    parent, ports = tree
    (child,) = psutil.Process(parent.pid).children()
    found = listeners(parent.pid)
    tcp = {(listener.pid, listener.port) for listener in found if listener.protocol == "tcp"}
    assert tcp == {(parent.pid, ports["parent"]), (child.pid, ports["child"])}
    (udp,) = [listener for listener in found if listener.protocol == "udp"]
    assert (udp.pid, udp.address) == (child.pid, "::1")
    assert exposed(found) == []


NODE = shutil.which("node")
NODE_PROBE = """
const net = require('net');
const calls = [];
net.Server.prototype.listen = function recorder(...args) {
  calls.push(args.map((a) => (typeof a === 'function' ? '<callback>' : a)));
  return this;
};
require(process.argv[1]);
const noop = () => {};
const server = () => net.createServer();
server().listen(4567, noop);                          // kinesis-mock: port and callback, no host
server().listen('4568');
server().listen(0, '0.0.0.0', 511, noop);
server().listen(0, '::', noop);
server().listen({ port: 1234, host: '::', exclusive: true }, noop);
server().listen({ port: 1235 });
server().listen();
server().listen(noop);
server().listen(80, '10.1.2.3');                       // an explicit address is the caller's choice
server().listen(81, 'localhost');
server().listen('/tmp/a.sock', noop);                  // pipes and handles have no host
server().listen({ fd: 7 });
require('http').createServer().listen(0);             // http, https and tls servers inherit listen
process.stdout.write(JSON.stringify(calls));
"""


@pytest.mark.skipif(NODE is None, reason="node is needed for kinesis-mock and for this test")
def test_the_node_preload_binds_every_wildcard_listen_to_loopback() -> None:
    result = subprocess.run(
        [str(NODE), "-e", NODE_PROBE, str(NODE_LOOPBACK)], capture_output=True, text=True, check=True, timeout=30
    )
    loopback = {"host": "127.0.0.1"}
    assert json.loads(result.stdout) == [
        [{"port": 4567, **loopback}, "<callback>"],
        [{"port": 4568, **loopback}],
        [{"port": 0, **loopback, "backlog": 511}, "<callback>"],
        [{"port": 0, **loopback}, "<callback>"],
        [{"port": 1234, **loopback, "exclusive": True, "ipv6Only": False}, "<callback>"],
        [{"port": 1235, **loopback, "ipv6Only": False}],
        [{"port": 0, **loopback}],
        [{"port": 0, **loopback}, "<callback>"],
        [80, "10.1.2.3"],
        [81, "localhost"],
        ["/tmp/a.sock", "<callback>"],  # noqa: S108 - a socket path node is handed, not opened
        [{"fd": 7}],
        [{"port": 0, **loopback}],
    ]


GUARD = """
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function guard(options, ...rest) {
  if (!options || options.host !== '127.0.0.1') throw new Error('not bound to loopback: ' + JSON.stringify(options));
  return listen.call(this, options, ...rest);
};
"""


@pytest.mark.skipif(NODE is None, reason="node is needed for kinesis-mock and for this test")
def test_a_real_node_server_under_the_harness_node_options_listens_on_loopback(tmp_path: Path) -> None:
    """The whole chain as LocalStack starts node: our NODE_OPTIONS in the environment, a server that names no
    host. A guard loaded before the preload refuses any listen that reaches it without 127.0.0.1, so a broken
    preload fails this test without ever binding a wildcard."""
    guard = tmp_path / "guard.js"
    guard.write_text(GUARD)
    script = "const s = require('net').createServer(); s.listen(0, () => console.log(s.address().port));"
    # The guard first: the preload, loaded after it, wraps it, as it wraps Node's own listen in LocalStack.
    env = {"PATH": os.environ["PATH"], "NODE_OPTIONS": f'--require "{guard}" {node_options(NODE_LOOPBACK)}'}
    command = [str(NODE), "-e", f"{script} setTimeout(() => {{}}, 30000);"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as node:
        try:
            assert node.stdout is not None
            line = node.stdout.readline()
            assert line.strip().isdigit(), node.stderr.read() if node.stderr else line
            port = int(line)
            deadline = time.monotonic() + 10
            found: list[Listener] = []
            while not found and time.monotonic() < deadline:
                found = [listener for listener in listeners(node.pid) if listener.port == port]
            assert [(listener.address, listener.protocol) for listener in found] == [("127.0.0.1", "tcp")]
        finally:
            node.kill()
