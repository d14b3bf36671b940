/**
 * The TORFLEET_RUNTIME names. Settings check them without loading any runtime (dockerode stays unloaded for
 * `torfleet gateway` on a laptop); runtime-registry.ts gives each name its factory, and the compiler holds the
 * two together (a name without a factory, or a factory without a name, does not build).
 */
export const RUNTIME_NAMES = ['docker', 'process', 'swarm'] as const;

export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export function isRuntimeName(name: string): name is RuntimeName {
  return (RUNTIME_NAMES as readonly string[]).includes(name);
}
