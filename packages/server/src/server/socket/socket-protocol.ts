import type { ErrorCode } from '@coser/runtime';
import { CoserError } from '@coser/runtime';
import type { Server, Socket } from 'socket.io';
import { plainRecord } from '../http/api-routes';
import { describeError } from '../http/errors';
import { ownerId, tokenMatches } from '../http/security';
import type { RunScheduler } from '../run-scheduler';
import { previewToPng } from './preview-png';
import { TokenBucket } from './rate-limit';

export interface SocketProtocolOptions {
  scheduler: RunScheduler;
  token: string;
  /** Messages a socket may send per second, and in a burst. */
  messagesPerSecond?: number;
  messageBurst?: number;
  /** Refused messages after which a flooding socket is disconnected. */
  floodDisconnectAfter?: number;
  log: (message: string) => void;
}

type Ack = (answer: Record<string, unknown>) => void;

const KNOWN_EVENTS = new Set(['run:submit', 'run:cancel', 'run:subscribe', 'run:unsubscribe']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function room(runId: string): string {
  return `run:${runId}`;
}

function runIdOf(payload: unknown): string {
  const runId = typeof payload === 'object' && payload !== null ? (payload as { runId?: unknown }).runId : undefined;
  if (typeof runId !== 'string') throw new CoserError('USAGE', 'the message must be { runId }');
  if (!UUID.test(runId)) throw new CoserError('RUN_NOT_FOUND', `no run ${runId.slice(0, 64)}`);
  return runId;
}

/**
 * The socket.io side of the protocol in docs/server.md: token on the handshake, per-socket rate limits, and the
 * `run:*` messages, each answered through its ack (or `server:error` when it has none).
 */
export function attachSocketProtocol(io: Server, options: SocketProtocolOptions): () => void {
  const { scheduler, token, log } = options;
  const perSecond = options.messagesPerSecond ?? 20;
  const burst = options.messageBurst ?? 40;
  const floodLimit = options.floodDisconnectAfter ?? 200;

  io.use((socket, next) => {
    const auth = socket.handshake.auth as Record<string, unknown> | undefined;
    if (!tokenMatches(token, auth?.['token'])) {
      const error = new Error('UNAUTHORIZED') as Error & { data?: unknown };
      error.data = {
        code: 'UNAUTHORIZED',
        message: auth?.['token'] ? 'wrong token' : 'a token is required (auth.token)',
      };
      next(error);
      return;
    }
    socket.data['owner'] = ownerId(token, auth?.['clientKey']);
    next();
  });

  io.on('connection', (socket) => {
    const bucket = new TokenBucket(perSecond, burst);
    let refused = 0;
    socket.use((packet, next) => {
      if (bucket.take()) {
        next();
        return;
      }
      refused += 1;
      if (refused >= floodLimit) {
        log(`socket ${socket.id} disconnected for flooding`);
        socket.disconnect(true);
        return;
      }
      const last = packet[packet.length - 1];
      answerError(
        socket,
        typeof last === 'function' ? (last as Ack) : undefined,
        'RATE_LIMITED',
        'too many messages; slow down',
      );
    });
    socket.onAny((event: unknown) => {
      if (typeof event !== 'string' || !KNOWN_EVENTS.has(event)) {
        socket.emit('server:error', { code: 'USAGE', message: `unknown message ${String(event).slice(0, 64)}` });
      }
    });
    handle(socket, 'run:submit', log, async (payload, reply) => {
      if (typeof payload !== 'object' || payload === null || !('graph' in payload)) {
        throw new CoserError('USAGE', 'run:submit needs { graph, inputs?, set? }');
      }
      const request = payload as { graph: unknown; inputs?: unknown; set?: unknown };
      const { runId, position } = await scheduler.submit(
        socket.data['owner'] as string,
        { graph: request.graph, inputs: plainRecord(request.inputs, 'inputs'), set: plainRecord(request.set, 'set') },
        (id) => void socket.join(room(id)),
      );
      reply({ ok: true, runId, position });
    });
    handle(socket, 'run:cancel', log, async (payload, reply) => {
      const status = await scheduler.cancel(socket.data['owner'] as string, runIdOf(payload));
      reply({ ok: true, status });
    });
    handle(socket, 'run:subscribe', log, async (payload, reply) => {
      const runId = runIdOf(payload);
      const afterValue = (payload as { after?: unknown }).after;
      const after = typeof afterValue === 'number' && Number.isFinite(afterValue) ? afterValue : 0;
      // Join first, then read: an event in between arrives twice (same seq) rather than never.
      await socket.join(room(runId));
      const record = await scheduler.queue.get(runId);
      if (!record) {
        await socket.leave(room(runId));
        throw new CoserError('RUN_NOT_FOUND', `no run ${runId}`);
      }
      reply({ ok: true, status: record.status, events: await scheduler.queue.events(runId, after) });
    });
    handle(socket, 'run:unsubscribe', log, async (payload, reply) => {
      await socket.leave(room(runIdOf(payload)));
      reply({ ok: true });
    });
  });

  return scheduler.addListener((event) => {
    if (event.type !== 'node:preview') {
      io.to(room(event.runId)).emit('run:event', event);
      return;
    }
    previewToPng(event)
      .then((preview) => io.to(room(event.runId)).emit('run:event', preview))
      .catch((error: unknown) => log(`preview of run ${event.runId} not sent: ${String(error)}`));
  });
}

function answerError(socket: Socket, ack: Ack | undefined, code: ErrorCode, message: string, extra = {}): void {
  if (ack) ack({ ok: false, code, message, ...extra });
  else socket.emit('server:error', { code, message });
}

/** Registers a handler that takes (payload, ack?) in any shape a client may send and always answers. */
function handle(
  socket: Socket,
  event: string,
  log: (message: string) => void,
  handler: (payload: unknown, reply: Ack) => Promise<void>,
): void {
  socket.on(event, (...args: unknown[]) => {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as Ack) : undefined;
    const payload = args[0] === last && ack ? undefined : args[0];
    const reply: Ack = (answer) => (ack ? ack(answer) : undefined);
    handler(payload, reply).catch((error: unknown) => {
      const described = describeError(error);
      if (described.code === 'INTERNAL') log(`${event} failed: ${String(error)}`);
      answerError(
        socket,
        ack,
        described.code,
        described.message,
        described.diagnostics ? { diagnostics: described.diagnostics } : {},
      );
    });
  });
}
