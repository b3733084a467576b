"use strict";
// Preloaded into the AWSGuard pack (NODE_OPTIONS=--require): refuses every outgoing TCP connection
// that is not to the loopback interface and says so on stderr, so that the benchmark cannot reach
// AWS or anything else even if a policy tried to.
const net = require("net");

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "::ffff:127.0.0.1"]);
const originalConnect = net.Socket.prototype.connect;

function target(args) {
    let first = args[0];
    if (Array.isArray(first)) {
        first = first[0];  // net's internal normalized arguments
    }
    if (first !== null && typeof first === "object") {
        return { path: first.path, host: first.host === undefined ? "localhost" : String(first.host) };
    }
    if (typeof first === "string" && isNaN(Number(first))) {
        return { path: first };
    }
    return { host: typeof args[1] === "string" ? args[1] : "localhost" };
}

net.Socket.prototype.connect = function (...args) {
    const { path, host } = target(args);
    if (!path && !LOOPBACK.has(host) && !host.startsWith("127.")) {
        process.stderr.write(`netguard: blocked a connection to ${host}\n`);
        const socket = this;
        process.nextTick(() => socket.destroy(new Error(`netguard: connection to ${host} blocked`)));
        return this;
    }
    return originalConnect.apply(this, args);
};
