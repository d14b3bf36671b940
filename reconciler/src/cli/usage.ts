/** Each command's usage line: the help text and a command's usage errors share it (commands load lazily). */
export const VALIDATE_USAGE = 'torfleet validate [FILE] [--json] [--no-nodes]';
export const PLAN_USAGE = 'torfleet plan [--json]';
export const APPLY_USAGE = 'torfleet apply';
export const RUN_USAGE = 'torfleet run';
export const NODES_USAGE = 'torfleet nodes refresh [--accept-snapshot] | torfleet nodes stats [--json]';
export const GATEWAY_USAGE = 'torfleet gateway [--no-corporate] [--listen IP:PORT]';
