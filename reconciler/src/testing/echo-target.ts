import type { Socket } from 'node:net';
import { ScriptedPeer } from './scripted-peer.js';

export const TARGET_BANNER = 'hello from the target\n';

/** A target that greets each connection with `TARGET_BANNER`, then echoes what it gets. */
export function startEchoTarget(): Promise<ScriptedPeer> {
  return ScriptedPeer.start((socket: Socket) => {
    socket.write(TARGET_BANNER);
    socket.pipe(socket);
  });
}

/** Resumes `socket` and reads until `marker` shows (or fails after `timeoutMs`): what a tunnel carried. */
export function readUntil(socket: Socket, marker: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      finish();
      reject(
        new Error(`no ${JSON.stringify(marker)} within ${timeoutMs} ms; got ${JSON.stringify(text.slice(0, 200))}`),
      );
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (!text.includes(marker)) return;
      finish();
      resolve(text);
    };
    const onClose = (): void => {
      finish();
      reject(new Error(`closed before ${JSON.stringify(marker)}; got ${JSON.stringify(text.slice(0, 200))}`));
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.resume();
  });
}
