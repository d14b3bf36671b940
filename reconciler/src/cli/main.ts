#!/usr/bin/env node
// The entry, kept to this: `torfleet gateway` holds V8's optimizing compiler off before any other module is even
// resolved (resolving them is what gets the ESM loader's helpers optimized; startup-compiler.ts), then the commands.
import { holdOptimizingCompiler } from './startup-compiler.js';

if (process.argv[2] === 'gateway') holdOptimizingCompiler(); // released at its first connection
await import('./commands.js');
