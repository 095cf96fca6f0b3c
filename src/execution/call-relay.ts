/**
 * The relay of a worker's task calls: a body running in a worker that calls another task sends
 * the call to the controller's thread, which submits it as the body's own call and posts the
 * answer back (DESIGN.md §2: workers never schedule).
 * @module
 */
import { issueNow } from "../context/call-pacer.js";
import { RuntimeSystemError } from "../errors.js";
import { alwaysClones } from "./batched-post.js";
import type { Job, PooledWorker } from "./pooled-worker.js";
import type { SubCall } from "./protocol.js";
import type { Wire } from "./serialization.js";

/**
 * Submits call `callId` (an encoded {@link SubCall}) that `job`'s body on `worker` made, and
 * replies to the worker with its outcome; `job` is `undefined` when the attempt has stopped, and
 * the call fails. The pool has lent the body's slot as the call came: the slot is taken back
 * once the body awaits no more calls, if it is still on `worker`.
 */
export function relayCall(
  wire: Wire,
  worker: PooledWorker,
  job: Job | undefined,
  callId: number,
  payload: unknown,
): void {
  const reply = (ok: boolean, data: unknown) =>
    worker.handle.post({ t: "reply", call: callId, ok, payload: data }, alwaysClones(data));
  if (job === undefined) {
    reply(
      false,
      wire.encodeError(new RuntimeSystemError("The attempt that made this call was stopped.")),
    );
    return;
  }
  const done = () => {
    if (--job.waitingCalls === 0 && job.worker === worker) worker.active++;
  };
  // Paced as an inline body's calls are (call-pacer.ts): a worker's burst of calls is decoded
  // and issued over several turns, not in the one that received it.
  const channel = job.request.channel;
  const issue = () => channel.submit(wire.decode(payload) as SubCall);
  (channel.pacer?.call(issue) ?? issueNow(issue)).then(
    (value) => {
      done();
      let data: unknown;
      try {
        data = wire.encode(value);
      } catch (error) {
        reply(false, wire.encodeError(error));
        return;
      }
      reply(true, data);
    },
    (error) => {
      done();
      reply(false, wire.encodeError(error));
    },
  );
}
