// Waits until host:port accepts a TCP connection, then writes the time it
// took to $GITHUB_OUTPUT. Inputs arrive as INPUT_* variables, as on GitHub.
"use strict";
const fs = require("fs");
const net = require("net");

const input = (name, fallback) => {
  const value = process.env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`];
  return value === undefined || value === "" ? fallback : value;
};

const host = input("host", "127.0.0.1");
const port = Number(input("port", ""));
const timeout = Number(input("timeout-seconds", "30")) * 1000;
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.log(`::error::port must be a number from 1 to 65535, got '${input("port", "")}'`);
  process.exit(1);
}

const started = Date.now();
const attempt = () => {
  const socket = net.connect({ host, port });
  socket.setTimeout(1000);
  socket.once("connect", () => {
    socket.destroy();
    const waited = Date.now() - started;
    console.log(`${host}:${port} accepted a connection after ${waited} ms`);
    if (process.env.GITHUB_OUTPUT) {
      fs.appendFileSync(process.env.GITHUB_OUTPUT, `waited-ms=${waited}\n`);
    }
  });
  const retry = () => {
    socket.destroy();
    if (Date.now() - started >= timeout) {
      console.log(`::error::${host}:${port} did not accept a connection within ${timeout / 1000} s`);
      process.exit(1);
    }
    setTimeout(attempt, 200);
  };
  socket.once("error", retry);
  socket.once("timeout", retry);
};
attempt();
