import type { Socket } from 'node:net';
import type { Cancel } from './cancel.js';
import { hopAbortError } from './hop-deadline.js';
import { HopError } from './hop-error.js';

/**
 * The length of the whole frame once `buffered` shows it, or undefined to read on. Throws a DialError when the
 * bytes cannot start a valid frame (so garbage fails at once instead of at the size cap or the deadline).
 */
export type FrameLength = (buffered: Buffer) => number | undefined;

/**
 * Reads one frame of a handshake from `socket`: at most `maxBytes`, until `cancel` is cancelled. Bytes that arrived
 * after the frame belong to the tunnel: they are put back (`unshift`) and the socket is left paused, so the
 * next reader (`pipe`, or `resume` after adding a 'data' listener) gets every byte.
 */
export function readFrame(
  socket: Socket,
  cancel: Cancel,
  what: string,
  maxBytes: number,
  frameLength: FrameLength,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    let stopListening = (): void => undefined;
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onClosed);
      socket.off('close', onClosed);
      socket.off('error', onError);
      stopListening();
      socket.pause();
    };
    const fail = (error: unknown): void => {
      cleanup();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let length: number | undefined;
      try {
        length = frameLength(buffered);
      } catch (error) {
        fail(error);
        return;
      }
      if ((length ?? buffered.length) > maxBytes || (length === undefined && buffered.length >= maxBytes)) {
        fail(new HopError('refused', `${what}: no complete answer within ${maxBytes} bytes`, false));
        return;
      }
      if (length === undefined || buffered.length < length) return;
      cleanup();
      if (buffered.length > length) socket.unshift(buffered.subarray(length));
      resolve(buffered.subarray(0, length));
    };
    const onClosed = (): void => {
      const got = buffered.length === 0 ? 'before answering' : `after ${buffered.length} bytes of its answer`;
      fail(new HopError('refused', `${what}: the proxy closed the connection ${got}`, false));
    };
    const onError = (error: Error): void => {
      fail(new HopError('refused', `${what}: ${error.message}`, false, { cause: error }));
    };
    const onAbort = (): void => {
      fail(hopAbortError(cancel, what));
    };
    if (cancel.cancelled) {
      onAbort();
      return;
    }
    if (socket.destroyed) {
      onClosed();
      return;
    }
    socket.on('data', onData);
    socket.once('end', onClosed);
    socket.once('close', onClosed);
    socket.once('error', onError);
    stopListening = cancel.onCancel(onAbort);
    socket.resume();
  });
}

/** Writes `data` unless the socket is gone (a write error shows up as 'error'/'close' to the reader). */
export function writeHandshake(socket: Socket, data: Buffer | string): void {
  if (!socket.destroyed) socket.write(data);
}
