import type Docker from 'dockerode';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ProxySpec } from '../plan/plan-types.js';
import { LABEL } from './proxy-runtime.js';
import { configName } from './swarm-service-spec.js';
import { statusOf } from './docker-engine.js';

/** One engine call with a deadline and a typed failure (SwarmRuntime.call). */
export type EngineCall = <T>(what: string, action: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/** A config torfleet made for a proxy: its name and id. */
export interface TorrcConfig {
  readonly name: string;
  readonly id: string;
}

/**
 * The proxies' torrc files as Swarm configs, one per proxy and spec hash (`torfleet-<proxy>-<hash>`):
 * immutable, so a new spec is a new config and the service moves to it. Only configs labelled
 * `torfleet.managed=true` with this instance and the proxy's name are ever read or removed.
 */
export class SwarmConfigs {
  constructor(
    private readonly docker: Docker,
    private readonly instance: string,
    private readonly call: EngineCall,
    private readonly log: Logger,
  ) {}

  /** The config holding this torrc, made unless it is there already with that content. */
  async ensure(spec: ProxySpec, torrc: string): Promise<TorrcConfig> {
    const name = configName(spec.name, spec.specHash);
    const data = Buffer.from(torrc).toString('base64');
    const same = (await this.of(spec.name)).find((config) => config.Spec?.Name === name);
    if (same?.Spec?.Data === data) return { name, id: same.ID };
    // Same spec hash, other content (a torrc option outside the hash): unused, it can be made again.
    if (same) await this.removeConfig(same, spec.name);
    const created = (await this.call(`create config ${name}`, (abortSignal) =>
      this.docker.createConfig({
        abortSignal,
        Name: name,
        Data: data,
        Labels: {
          [LABEL.managed]: 'true',
          [LABEL.instance]: this.instance,
          [LABEL.pool]: spec.pool,
          [LABEL.proxy]: spec.name,
          [LABEL.specHash]: spec.specHash,
        },
      }),
    )) as { id?: string; ID?: string };
    return { name, id: created.id ?? created.ID ?? '' };
  }

  /**
   * Removes the proxy's configs except `keep` (all of them when null). One still in use (a service torfleet
   * did not update) stays, and goes on a later call.
   */
  async prune(proxy: string, keep: string | null): Promise<void> {
    for (const config of await this.of(proxy)) {
      if (config.Spec?.Name === keep) continue;
      try {
        await this.removeConfig(config, proxy);
      } catch (error) {
        this.log.warn('cannot remove an old torrc config yet; a later change of the proxy retries', {
          proxy,
          config: config.Spec?.Name,
          error: errorMessage(error),
        });
      }
    }
  }

  private async of(proxy: string): Promise<Docker.ConfigInfo[]> {
    const configs = await this.call(`list configs of ${proxy}`, (abortSignal) =>
      this.docker.listConfigs({
        abortSignal,
        filters: { label: [`${LABEL.managed}=true`, `${LABEL.instance}=${this.instance}`, `${LABEL.proxy}=${proxy}`] },
      }),
    );
    // The engine filtered by label; checked again, as every object torfleet removes is.
    return configs.filter(
      (config) =>
        config.Spec?.Labels[LABEL.managed] === 'true' &&
        config.Spec.Labels[LABEL.instance] === this.instance &&
        config.Spec.Labels[LABEL.proxy] === proxy,
    );
  }

  private async removeConfig(config: Docker.ConfigInfo, proxy: string): Promise<void> {
    try {
      await this.call(`remove config ${config.Spec?.Name ?? config.ID}`, (abortSignal) =>
        this.docker.getConfig(config.ID).remove({ abortSignal }),
      );
    } catch (error) {
      if (statusOf(error) === 404) return;
      throw error;
    }
    this.log.info('torrc config removed', { proxy, config: config.Spec?.Name });
  }
}
