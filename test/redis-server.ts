// A throwaway Redis for tests: redis-server on 127.0.0.1 at a free port, with nothing saved to
// disk (--save '', --appendonly no) and its working folder in a temp dir removed afterwards.
// restart() kills it (SIGKILL: a crash) and starts a new one on the same port, which holds nothing.
// Where redis-server (or ioredis) is not installed the tests that need it are skipped with a message, except
// under CI (process.env.CI set), where a missing Redis is an error: CI must run them
// (.ci/services/redis.sh installs it).

import { ChildProcess, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { delimiter, join } from "node:path";
import { redisClientInstalled } from "../src/serve/jobs/chunks.js";
import { tempDir } from "./helpers.js";

export interface RedisServer {
  /** redis://127.0.0.1:PORT/0 */
  url: string;
  port: number;
  /** SHUTDOWN NOSAVE, as an operator would stop it cleanly; resolves once the process has exited. */
  shutdown(): Promise<void>;
  /** The running redis-server's process id (a restart changes it). */
  pid(): number;
  /** Kills redis-server (SIGKILL) and starts an empty one on the same port; resolves once it accepts connections. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function findRedisServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter((d) => d !== ""), "/usr/bin", "/usr/local/bin"];
  return dirs.map((d) => join(d, "redis-server")).find((path) => existsSync(path));
}

/** Why the Redis tests are skipped (redis-server, or the ioredis package BullMQ needs, is missing), or
 * false when they run; throws under CI. */
export function redisSkipReason(): string | false {
  const missing = [
    ...(findRedisServer() ? [] : ["redis-server is not installed (apt-get install redis-server, or .ci/services/redis.sh)"]),
    ...(redisClientInstalled() ? [] : ["the ioredis package is not installed (bullmq loads it but does not install it)"]),
  ];
  if (missing.length === 0) return false;
  if (process.env.CI) throw new Error(`CI must run the Redis tests: ${missing.join("; ")}`);
  return missing.join("; ");
}

/** A port free now (the kernel picks it; a race with another process taking it is unlikely enough). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
}

/** redis-server on port, with nothing saved, once it accepts connections. */
async function launch(binary: string, port: number, dir: string): Promise<ChildProcess> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${output}`)), 10_000);
      const read = (chunk: Buffer) => {
        output += chunk;
        if (/ready to accept connections/i.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", read);
      child.stderr!.on("data", read);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return child;
}

export async function startRedis(): Promise<RedisServer> {
  const binary = findRedisServer();
  if (!binary) throw new Error("redis-server is not installed");
  const dir = tempDir("nerkit-redis-");
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = await launch(binary, port, dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async shutdown() {
      const socket = connect(port, "127.0.0.1");
      socket.on("error", () => undefined); // the server closes the connection as it exits
      socket.write("SHUTDOWN NOSAVE\r\n");
      await exited(child);
      socket.destroy();
    },
    pid: () => child.pid!,
    async restart() {
      child.kill("SIGKILL");
      await exited(child);
      child = await launch(binary, port, dir);
    },
    async stop() {
      child.kill("SIGTERM");
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
