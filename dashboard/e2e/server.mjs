// Starts and stops real `storeplane` processes for the browser tests: `serve` with the
// built-in simulated cluster, or `sim` on its own with `serve --kubeconfig` pointed at it.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = process.env.STOREPLANE_BIN;
if (!BIN) throw new Error("set STOREPLANE_BIN to the storeplane binary");

const started = new Set();

/** Runs `storeplane args...` and resolves once `ready` matches its output. */
function run(args, ready, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, {
      env: { ...process.env, STOREPLANE_LOG: "warn", RUST_LOG: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    started.add(child);
    let output = "";
    if (ready === null) {
      resolve({ child, match: null, output: () => output });
    }
    const timer =
      ready === null ? undefined : setTimeout(() => reject(new Error(`storeplane ${args[0]} did not start:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = ready?.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, output: () => output });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => {
      output += chunk;
      if (process.env.E2E_VERBOSE) process.stderr.write(chunk);
    });
    child.on("exit", (code) => {
      started.delete(child);
      clearTimeout(timer);
      if (ready && !ready.exec(output)) reject(new Error(`storeplane ${args[0]} exited (${code}):\n${output}`));
    });
  });
}

/** `storeplane serve` on a free port (or `port`) with its own data directory, managing
 * the built-in simulated cluster unless `args` name a kubeconfig. */
export async function serve({ args = [], dataDir, port = 0 } = {}) {
  if (!args.includes("--kubeconfig") && !args.includes("--sim")) args = ["--sim", ...args];
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "storeplane-e2e-"));
  const { child, match } = await run(
    ["serve", "--data-dir", dir, "--listen", `127.0.0.1:${port}`, ...args],
    /(http:\/\/127\.0\.0\.1:(\d+))\/login\?token=\S+/,
  );
  return {
    url: match[1],
    port: Number(match[2]),
    loginLink: match[0],
    dataDir: dir,
    stop: () => stop(child),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `storeplane sim` on a free port, writing a kubeconfig `serve --kubeconfig` can use. */
export async function sim({ args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "storeplane-sim-"));
  const kubeconfig = join(dir, "kubeconfig.yaml");
  const { child } = await run(["sim", "--listen", "127.0.0.1:0", "--kubeconfig-out", kubeconfig, ...args], null);
  // The kubeconfig appears once the simulator listens; it names the port.
  let url = null;
  for (let i = 0; i < 200 && !url; i += 1) {
    if (existsSync(kubeconfig)) url = /server: (http:\/\/\S+?)\/?$/m.exec(readFileSync(kubeconfig, "utf8"))?.[1] ?? null;
    if (!url) await new Promise((r) => setTimeout(r, 100));
  }
  if (!url) throw new Error("storeplane sim wrote no kubeconfig");
  return {
    url,
    kubeconfig,
    setFaults: async (faults) => {
      const reply = await fetch(`${url}/kube-sim/faults`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(faults),
      });
      if (!reply.ok) throw new Error(`kube-sim refused the faults: ${reply.status} ${await reply.text()}`);
    },
    stop: () => stop(child),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Stops every process still running (on failure). */
export async function stopAll() {
  await Promise.all([...started].map(stop));
}
