/**
 * One worker as the pool sees it, whatever it runs on: a worker thread or a child process. Both
 * carry the same messages (protocol.ts) and report how they ended.
 * @module
 */
import type { ChildProcess, fork as Fork } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type Batch, BatchedPost } from "./batched-post.js";
import type { FromWorker, ToWorker } from "./protocol.js";
import { takeSpareThread } from "./spare-thread.js";
import { stderrTailBytes } from "./worker-death.js";

/** Where a pool's workers run. */
export type WorkerKind = "thread" | "process";

/** How a worker ended. */
export interface WorkerExit {
  /** The exit code, or `null` when killed by a signal. */
  readonly code: number | null;
  /** The signal that killed a child process, e.g. `"SIGKILL"`. */
  readonly signal: NodeJS.Signals | null;
  /** An error the worker reported as it died (an uncaught error, `ERR_WORKER_OUT_OF_MEMORY`). */
  readonly error: Error | undefined;
  /** Whether the pool asked for it (terminate), as opposed to a crash. */
  readonly requested: boolean;
  /** The end of a process worker's stderr (where V8 prints its out-of-memory marker). */
  readonly stderrTail?: string;
}

/** What a worker is started with. */
export interface WorkerSpec {
  readonly kind: WorkerKind;
  /** Added to the host's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Heap limit in MiB (`resourceLimits` for threads, `--max-old-space-size` for processes). */
  readonly heapLimitMb: number | undefined;
}

/** A started worker. */
export interface WorkerHandle {
  /** The worker thread's id, or the child process's pid: what its lane is named by. */
  readonly id: number;
  /**
   * Sends `message`; messages that follow another in the same turn leave together at its end
   * (batched-post.ts). `safe`: the message's payload always survives copying, so it may wait.
   */
  post(message: ToWorker, safe: boolean): void;
  /** Kills it: `terminate()` for a thread, SIGKILL for a process. */
  terminate(): void;
  /** Whether it keeps the host process alive. */
  setRef(ref: boolean): void;
}

/** Callbacks of a started worker. */
export interface WorkerEvents {
  message(message: FromWorker): void;
  exit(exit: WorkerExit): void;
  /** A message from a worker thread could not be received (too deep, too big to decode). */
  messageError?(error: Error): void;
}

/** The worker program: dist's entry, also when the engine itself runs from `src/` (tests). */
export const workerEntryUrl: URL = import.meta.url.endsWith(".ts")
  ? new URL("../../dist/execution/worker-entry.js", import.meta.url)
  : new URL("./worker-entry.js", import.meta.url);

/** Starts a worker. */
export function startWorker(spec: WorkerSpec, events: WorkerEvents): WorkerHandle {
  return spec.kind === "thread" ? startThread(spec, events) : startProcess(spec, events);
}

function startThread(spec: WorkerSpec, events: WorkerEvents): WorkerHandle {
  const env = { ...process.env, ...spec.env };
  const spare = spec.heapLimitMb === undefined ? takeSpareThread(env) : undefined;
  const worker =
    spare?.worker ??
    new Worker(workerEntryUrl, {
      env,
      ...(spec.heapLimitMb === undefined
        ? {}
        : { resourceLimits: { maxOldGenerationSizeMb: spec.heapLimitMb } }),
    });
  if (spare !== undefined && spare.early.length > 0) {
    // After the caller holds the handle, as a new thread's first message would come.
    queueMicrotask(() => {
      for (const message of spare.early) receive(message, events);
    });
  }
  let requested = false;
  let error: Error | undefined;
  worker.on("message", (message: FromWorker | Batch<FromWorker>) => receive(message, events));
  worker.on("messageerror", (e) => events.messageError?.(e));
  worker.on("error", (e) => {
    error = e;
  });
  worker.on("exit", (code) => events.exit({ code, signal: null, error, requested }));
  return {
    id: worker.threadId,
    post: batched((message) => worker.postMessage(message)),
    terminate: () => {
      requested = true;
      void worker.terminate();
    },
    // Held once asked to stop, until its exit is seen (a message already on its way, such as
    // `ready` from a thread stopped while it started, must not let the process exit before).
    setRef: (ref) => (ref || requested ? worker.ref() : worker.unref()),
  };
}

function startProcess(spec: WorkerSpec, events: WorkerEvents): WorkerHandle {
  // Required here, not imported: a run whose workers are all threads never loads child_process.
  const { fork } = createRequire(import.meta.url)("node:child_process") as { fork: typeof Fork };
  const child: ChildProcess = fork(fileURLToPath(workerEntryUrl), [], {
    env: { ...process.env, ...spec.env },
    execArgv: spec.heapLimitMb === undefined ? [] : [`--max-old-space-size=${spec.heapLimitMb}`],
    serialization: "advanced",
    stdio: ["ignore", "inherit", "pipe", "ipc"],
  });
  let requested = false;
  let error: Error | undefined;
  const stderr = keepStderrTail(child);
  child.on("message", (message) => receive(message as FromWorker | Batch<FromWorker>, events));
  child.on("error", (e) => {
    error = e;
  });
  child.on("exit", (code, signal) =>
    stderr.drained(() =>
      events.exit({ code, signal, error, requested, stderrTail: stderr.tail() }),
    ),
  );
  return {
    id: child.pid ?? -1,
    post: batched((message) => {
      if (child.connected) child.send(message);
    }),
    terminate: () => {
      requested = true;
      child.kill("SIGKILL");
    },
    setRef: (ref) => {
      const channel = child.channel as { ref(): void; unref(): void } | undefined | null;
      if (ref || requested) {
        child.ref();
        channel?.ref();
      } else {
        child.unref();
        channel?.unref();
      }
    },
  };
}

/** A handle's `post`: batched per turn of the controller's event loop (its microtasks). */
function batched(
  send: (message: ToWorker | Batch<ToWorker>) => void,
): (message: ToWorker, safe: boolean) => void {
  const sender = new BatchedPost<ToWorker>({ send, atTurnEnd: queueMicrotask });
  return (message, safe) => sender.post(message, safe);
}

/** Hands a worker's message, or each message of its batch, to the pool. */
function receive(message: FromWorker | Batch<FromWorker>, events: WorkerEvents): void {
  if (message.t !== "batch") {
    events.message(message);
    return;
  }
  for (const one of message.messages) events.message(one);
}

/** How long an exited worker's last stderr bytes are awaited (a grandchild may hold the pipe). */
const stderrDrainMs = 200;

/** Passes a child's stderr through to ours and keeps its last bytes. */
function keepStderrTail(child: ChildProcess) {
  let tail = "";
  const stream = child.stderr;
  stream?.on("data", (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString("utf8")).slice(-stderrTailBytes);
  });
  // The pipe must not keep this process alive once the worker is unref'd.
  (stream as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    tail: () => tail,
    /** Calls `then` once the pipe has ended, or after {@link stderrDrainMs}. */
    drained(then: () => void): void {
      if (stream === null || stream.readableEnded || stream.destroyed) {
        then();
        return;
      }
      let done = false;
      const once = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        then();
      };
      const timer = setTimeout(once, stderrDrainMs);
      stream.once("end", once);
      stream.once("close", once);
    },
  };
}
