/**
 * True when node's command line (`execArgv`) or NODE_OPTIONS gives a flag matching `pattern`: where the user sizes
 * or tunes V8 themselves, the gateway's own settings (gateway-heap.ts, startup-compiler.ts) stand back.
 */
export function nodeFlagGiven(pattern: RegExp, execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((arg) => pattern.test(arg)) || (nodeOptions !== undefined && pattern.test(nodeOptions));
}
