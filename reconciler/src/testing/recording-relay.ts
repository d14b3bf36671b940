import { connect } from 'node:net';
import { ScriptedPeer } from './scripted-peer.js';

/** A TCP relay in front of `backendPort` that records every byte its clients send: what a proxy was shown. */
export interface RecordingRelay {
  readonly peer: ScriptedPeer;
  /** Per connection, the bytes from the client, as latin1 text. */
  readonly sent: string[];
}

export async function startRecordingRelay(backendPort: number): Promise<RecordingRelay> {
  const sent: string[] = [];
  const peer = await ScriptedPeer.start((client) => {
    const index = sent.push('') - 1;
    const record = (chunk: Buffer): void => {
      sent[index] = `${sent[index] ?? ''}${chunk.toString('latin1')}`;
    };
    const backend = connect({ host: '127.0.0.1', port: backendPort });
    backend.on('error', () => client.destroy());
    client.on('error', () => backend.destroy());
    client.on('close', () => backend.destroy());
    backend.on('close', () => client.destroy());
    client.on('data', record);
    client.pipe(backend);
    backend.pipe(client);
  });
  return { peer, sent };
}
