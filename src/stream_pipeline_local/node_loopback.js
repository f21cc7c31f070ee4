// Loopback only, for every Node.js server LocalStack starts (kinesis-mock): loaded before the
// program by NODE_OPTIONS=--require <this file>, which the harness sets in LocalStack's
// environment and LocalStack's ShellCommandThread passes on to node (stream_pipeline_local.emulator).
//
// kinesis-mock (npm kinesis-local) has no host option: it calls server.listen(port, callback),
// which Node binds to every interface. Here net.Server.prototype.listen (inherited by http, https
// and tls servers) binds to 127.0.0.1 whenever the caller gave no host or a wildcard (0.0.0.0, ::).
// Pipes, file descriptors, handles and explicit non-wildcard hosts are passed through untouched.
'use strict';

const net = require('net');

const LOOPBACK = '127.0.0.1';
const WILDCARDS = new Set([undefined, null, '', '0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

function isPortLike(value) {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));
}

// The listen() arguments, with the host forced to loopback when it is missing or a wildcard.
function toLoopback(args) {
  const first = args[0];
  if (first !== null && typeof first === 'object') {
    const preBound = ['fd', 'handle', '_handle', 'path'].some((key) => first[key] !== undefined);
    if (preBound || !WILDCARDS.has(first.host)) return args;
    return [{ ...first, host: LOOPBACK, ipv6Only: false }, ...args.slice(1)];
  }
  if (typeof first === 'string' && !isPortLike(first)) return args; // a Unix socket or a Windows pipe
  // listen([port[, host[, backlog]]][, callback])
  const rest = isPortLike(first) ? args.slice(1) : args;
  const port = isPortLike(first) ? Number(first) : 0;
  let host;
  let backlog;
  let callback;
  for (const value of rest) {
    if (typeof value === 'string') host = value;
    else if (typeof value === 'number') backlog = value;
    else if (typeof value === 'function') callback = value;
  }
  if (!WILDCARDS.has(host)) return args;
  const options = { port, host: LOOPBACK };
  if (backlog !== undefined) options.backlog = backlog;
  return callback === undefined ? [options] : [options, callback];
}

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  return listen.apply(this, toLoopback(args));
};

module.exports = { toLoopback };
