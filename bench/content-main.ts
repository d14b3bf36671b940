/** The content jobs bench alone: `npx tsc -p tsconfig.json && node dist/bench/content-main.js`. */
import { benchContent } from './content/content-bench.js';

await benchContent();
